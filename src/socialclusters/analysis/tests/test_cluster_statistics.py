"""Cluster statistics: hand-computed values from Eurostat-format files, properties, and a slow reference."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from socialclusters.analysis.cluster_statistics import (
    RegionSectorPanel,
    cluster_statistics,
    herfindahl_hirschman_index,
    hoover_index,
    krugman_index,
    location_quotient,
    locational_gini,
    panels_from_long,
    star_ratings,
    strong_clusters,
)
from socialclusters.analysis.eurostat import classify_geo_codes, read_eurostat_tsv

# --- a complete region x sector table in Eurostat's format, computed by hand ------------------------------

# Regional employment (thousands) as nama_10r_3empers publishes it: four NUTS 3 regions of one country,
# plus the rows an importer must not mistake for regions (extra-regio, the EU aggregate) and a second
# unit that the importer filters out. 2020 has a confidential cell.
EMPLOYMENT_TSV = (
    "freq,unit,wstatus,nace_r2,geo\\TIME_PERIOD\t2020 \t2021 \n"
    "A,PC,EMP,C10,FR101\t40.0 \t40.0 \n"
    "A,THS,EMP,C10,EU27_2020\t900.0 \t910.0 p\n"
    "A,THS,EMP,C10,FR101\t40 \t40 p\n"
    "A,THS,EMP,C10,FR102\t10 \t10 \n"
    "A,THS,EMP,C10,FR103\t: c\t5 \n"
    "A,THS,EMP,C10,FR104\t25 \t25 \n"
    "A,THS,EMP,C10,FRZZZ\t: \t: \n"
    "A,THS,EMP,J62,FR101\t10 \t10 \n"
    "A,THS,EMP,J62,FR102\t60 b\t60 b\n"
    "A,THS,EMP,J62,FR103\t5 \t5 \n"
    "A,THS,EMP,J62,FR104\t25 \t25 \n"
    "A,THS,EMP,Q88,FR101\t50 \t50 \n"
    "A,THS,EMP,Q88,FR102\t30 \t30 \n"
    "A,THS,EMP,Q88,FR103\t40 \t40 \n"
    "A,THS,EMP,Q88,FR104\t100 e\t100 bp\n"
)
# Local units (SBS, indicator V11210) for the same regions and sectors.
ESTABLISHMENTS_TSV = (
    "freq,indic_sb,nace_r2,geo\\TIME_PERIOD\t2020 \t2021 \n"
    "A,V11210,C10,FR101\t8 \t8 \n"
    "A,V11210,C10,FR102\t2 \t2 \n"
    "A,V11210,C10,FR103\t1 \t1 \n"
    "A,V11210,C10,FR104\t6 \t6 \n"
    "A,V11210,J62,FR101\t3 \t3 \n"
    "A,V11210,J62,FR102\t12 \t12 \n"
    "A,V11210,J62,FR103\t2 \t2 \n"
    "A,V11210,J62,FR104\t5 \t5 \n"
    "A,V11210,Q88,FR101\t20 \t20 \n"
    "A,V11210,Q88,FR102\t12 \t12 \n"
    "A,V11210,Q88,FR103\t10 \t10 \n"
    "A,V11210,Q88,FR104\t30 \t30 \n"
)


def nuts3_only(long: pd.DataFrame) -> pd.DataFrame:
    """What the importer does: keep NUTS 3 regions, and say what it left out."""
    geo = classify_geo_codes(long["geo"])
    keep = (geo["kind"] == "nuts") & (geo["level"] == 3)
    return long[keep.to_numpy()]


def test_statistics_of_a_eurostat_table_match_values_computed_by_hand():
    employment_long = read_eurostat_tsv(io.StringIO(EMPLOYMENT_TSV), where={"unit": {"THS"}})
    left_out = classify_geo_codes(employment_long["geo"].unique())
    assert dict(zip(left_out["code"], left_out["kind"], strict=True)) == {
        "EU27_2020": "aggregate", "FR101": "nuts", "FR102": "nuts", "FR103": "nuts", "FR104": "nuts",
        "FRZZZ": "extra_regio",
    }
    employment = RegionSectorPanel.from_long(nuts3_only(employment_long), fill_value=np.nan)
    establishments = RegionSectorPanel.from_long(read_eurostat_tsv(io.StringIO(ESTABLISHMENTS_TSV)))
    assert list(employment.regions) == ["FR101", "FR102", "FR103", "FR104"]
    assert list(employment.sectors) == ["C10", "J62", "Q88"]
    assert list(employment.periods) == ["2020", "2021"]

    # 2021. Region totals 100, 100, 50, 150; sector totals C10 80, J62 100, Q88 220; grand total 400.
    lq = location_quotient(employment.frame("2021"))
    expected = {
        ("FR101", "C10"): (40 / 100) / (80 / 400),  # exactly 2.0: the specialisation star's boundary
        ("FR101", "J62"): (10 / 100) / (100 / 400),
        ("FR101", "Q88"): (50 / 100) / (220 / 400),
        ("FR102", "J62"): (60 / 100) / (100 / 400),
        ("FR103", "Q88"): (40 / 50) / (220 / 400),
        ("FR104", "C10"): (25 / 150) / (80 / 400),
        ("FR104", "Q88"): (100 / 150) / (220 / 400),
    }
    for (region, sector), value in expected.items():
        assert lq.loc[region, sector] == pytest.approx(value, rel=1e-12)
    assert lq.loc["FR101", "C10"] == pytest.approx(2.0, rel=1e-12)

    # Size: top 10% per sector, the 90th percentile of four values at rank 2.7.
    #   C10 5, 10, 25, 40 -> 35.5; J62 5, 10, 25, 60 -> 49.5; Q88 30, 40, 50, 100 -> 85.
    # Focus: the 12 regional shares sorted, rank 9.9 lies between 0.6 and 2/3 -> 0.66.
    stars = star_ratings(employment.frame("2021"))
    assert stars.size.stack()[lambda s: s].index.tolist() == [("FR101", "C10"), ("FR102", "J62"), ("FR104", "Q88")]
    assert stars.specialisation.stack()[lambda s: s].index.tolist() == [("FR101", "C10"), ("FR102", "J62")]
    assert stars.focus.stack()[lambda s: s].index.tolist() == [("FR103", "Q88"), ("FR104", "Q88")]
    assert stars.stars.to_dict("index") == {
        "FR101": {"C10": 2, "J62": 0, "Q88": 0},
        "FR102": {"C10": 0, "J62": 2, "Q88": 0},
        "FR103": {"C10": 0, "J62": 0, "Q88": 1},
        "FR104": {"C10": 0, "J62": 0, "Q88": 2},
    }

    # Strong clusters, per sector: LQ >= its 75th percentile (rank 2.25) and >= 1, employment and local
    # units above their 25th percentiles (rank 0.75).
    #   C10: LQ 0.5, 0.5, 0.833, 2.0 -> 1.125; jobs -> 8.75; units 1, 2, 6, 8 -> 1.75: FR101.
    #   J62: LQ 0.4, 0.4, 0.667, 2.4 -> 1.1; jobs -> 8.75; units 2, 3, 5, 12 -> 2.75: FR102.
    #   Q88: LQ 0.545, 0.909, 1.212, 1.455 -> 1.273 and jobs 30, 40, 50, 100 -> 37.5 would make FR103
    #   strong, but its 10 local units are not above 10, 12, 20, 30 -> 11.5.
    strong = strong_clusters(employment.frame("2021"), establishments.frame("2021"))
    assert strong.stack()[lambda s: s].index.tolist() == [("FR101", "C10"), ("FR102", "J62")]
    more_units = establishments.frame("2021")
    more_units.loc["FR103", "Q88"] = 14.0  # now above 12, 14, 20, 30 -> 13.5
    assert strong_clusters(employment.frame("2021"), more_units).loc["FR103", "Q88"]

    # 2020: FR103's C10 is confidential, so it is left out of the totals (FR103 45, C10 75, all 395)
    # and its own quotient is NaN.
    both_years = location_quotient(employment)
    assert np.isnan(both_years.frame("2020").loc["FR103", "C10"])
    assert both_years.frame("2020").loc["FR101", "C10"] == pytest.approx((40 / 100) / (75 / 395), rel=1e-12)
    assert both_years.frame("2021").equals(lq)

    # The panel gives each year the figures of that year's table.
    panel_result = cluster_statistics(employment, establishments)
    assert panel_result.strong.frame("2021").equals(strong)
    assert panel_result.stars.stars.frame("2021").equals(stars.stars)
    assert not panel_result.strong.frame("2020").loc["FR103", "C10"]


# --- strategies ------------------------------------------------------------------------------------------

whole_numbers = st.integers(0, 10**6).map(float)
cell_values = st.one_of(st.just(0.0), whole_numbers, st.floats(1e-3, 1e6))


@st.composite
def cubes(draw, elements=cell_values, max_regions=8, max_sectors=6, max_periods=3):  # type: ignore[no-untyped-def]
    shape = (draw(st.integers(1, max_regions)), draw(st.integers(1, max_sectors)), draw(st.integers(1, max_periods)))
    return draw(arrays(np.float64, shape, elements=elements))


def everything(employment, establishments):  # type: ignore[no-untyped-def]
    """Every statistic of a table, as one dict of arrays (cells (R, S, T), per region or sector (., T))."""
    result = cluster_statistics(employment, establishments)
    return {
        "lq": result.location_quotient,
        "size": result.stars.size,
        "specialisation": result.stars.specialisation,
        "focus": result.stars.focus,
        "strong": result.strong,
        "krugman": result.krugman,
        "herfindahl_hirschman": result.herfindahl_hirschman,
        "hoover": result.hoover,
        "locational_gini": result.locational_gini,
    }


PER_REGION = ("krugman", "herfindahl_hirschman")
PER_SECTOR = ("hoover", "locational_gini")


# --- properties ------------------------------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(table=cubes())
def test_share_weighted_location_quotients_average_to_one_in_every_region(table):
    lq = location_quotient(table)
    sector_total = table.sum(axis=0, keepdims=True)
    with np.errstate(invalid="ignore"):  # an all-zero period has no shares
        sector_share = sector_total / table.sum(axis=(0, 1), keepdims=True)
    weighted = np.where(sector_total > 0, lq * sector_share, 0.0).sum(axis=1)  # (regions, periods)
    has_jobs = table.sum(axis=1) > 0
    np.testing.assert_allclose(weighted[has_jobs], 1.0, rtol=1e-9)
    assert np.isnan(lq.sum(axis=1)[~has_jobs]).all()


@settings(max_examples=50, deadline=None)
@given(table=cubes())
def test_indices_stay_in_their_ranges(table):
    region_has_jobs = table.sum(axis=1) > 0
    sector_has_jobs = table.sum(axis=0) > 0
    ranges = [
        (krugman_index(table), region_has_jobs, 0.0, 2.0),
        (krugman_index(table, reference="rest"), None, 0.0, 2.0),
        (hoover_index(table), sector_has_jobs, 0.0, 1.0),
        (hoover_index(table, by="region"), region_has_jobs, 0.0, 1.0),
        (herfindahl_hirschman_index(table), region_has_jobs, 0.0, 1.0),
        (herfindahl_hirschman_index(table, by="sector"), sector_has_jobs, 0.0, 1.0),
        (locational_gini(table), sector_has_jobs, 0.0, 1.0),
    ]
    for values, defined, low, high in ranges:
        finite = values[~np.isnan(values)]
        assert ((finite >= low) & (finite <= high)).all()
        if defined is not None:
            assert np.array_equal(~np.isnan(values), defined)
    # HHI is at least 1/n: its lowest value is an even spread.
    sectors = table.shape[1]
    assert (herfindahl_hirschman_index(table)[region_has_jobs] >= 1 / sectors - 1e-12).all()


@settings(max_examples=40, deadline=None)
@given(table=cubes(elements=whole_numbers, max_regions=10), data=st.data())
def test_permuting_regions_or_sectors_permutes_every_result(table, data):
    establishments = np.ceil(table / 7)
    regions = np.array(data.draw(st.permutations(range(table.shape[0]))), dtype=np.intp)
    sectors = np.array(data.draw(st.permutations(range(table.shape[1]))), dtype=np.intp)
    straight = everything(table, establishments)
    permuted = everything(table[regions][:, sectors], establishments[regions][:, sectors])
    for name, values in straight.items():
        expected = values[regions] if name in PER_REGION else values[sectors] if name in PER_SECTOR else (
            values[regions][:, sectors]
        )
        if values.dtype == bool:
            assert np.array_equal(permuted[name], expected), name
        else:
            # Whole numbers sum exactly in any order; only the Gini's trapezoids may round differently.
            np.testing.assert_allclose(permuted[name], expected, rtol=1e-12, atol=1e-12, err_msg=name)


@settings(max_examples=40, deadline=None)
@given(table=cubes(elements=whole_numbers), factor=st.floats(1e-3, 1e3), power=st.integers(-10, 10))
def test_scaling_a_table_changes_no_quotient_star_or_index(table, factor, power):
    establishments = np.ceil(table / 5)
    straight = everything(table, establishments)
    # Any factor leaves the quotients and indices unchanged up to rounding...
    scaled = everything(table * factor, establishments)
    for name in ("lq", *PER_REGION, *PER_SECTOR):
        np.testing.assert_allclose(scaled[name], straight[name], rtol=1e-9, atol=1e-12, err_msg=name)
    # ...and a power of two, which scales floats exactly, leaves every flag exactly as it was (with any
    # other factor a value lying exactly on a percentile could round to either side of it).
    exact = everything(table * 2.0**power, establishments * 2.0**power)
    for name in ("size", "specialisation", "focus", "strong"):
        assert np.array_equal(exact[name], straight[name]), name


@settings(max_examples=40, deadline=None)
@given(table=cubes(max_periods=4))
def test_a_panel_gives_each_period_the_figures_of_its_own_table(table):
    establishments = np.floor(table / 3)
    together = everything(table, establishments)
    for period in range(table.shape[2]):
        alone = everything(table[:, :, period], establishments[:, :, period])
        for name, values in together.items():
            if values.dtype == bool:
                assert np.array_equal(values[..., period], alone[name]), name
            else:
                np.testing.assert_allclose(values[..., period], alone[name], rtol=1e-13, atol=1e-15, err_msg=name)


@settings(max_examples=40, deadline=None)
@given(table=cubes(), region=st.integers(0, 8), sector=st.integers(0, 6))
def test_an_empty_region_or_sector_gets_nan_and_changes_nothing_else(table, region, sector):
    establishments = np.ceil(table / 4)
    count_r, count_s, _ = table.shape
    region, sector = min(region, count_r), min(sector, count_s)
    straight = everything(table, establishments)

    with_region = everything(np.insert(table, region, 0.0, axis=0), np.insert(establishments, region, 0.0, axis=0))
    assert np.isnan(with_region["lq"][region]).all()
    assert not with_region["size"][region].any()
    assert not with_region["strong"][region].any()
    assert np.isnan(with_region["krugman"][region]).all()
    for name, values in with_region.items():
        rest = values if name in PER_SECTOR else np.delete(values, region, axis=0)
        np.testing.assert_allclose(rest, straight[name], rtol=1e-12, atol=1e-12, err_msg=name)

    with_sector = everything(np.insert(table, sector, 0.0, axis=1), np.insert(establishments, sector, 0.0, axis=1))
    assert np.isnan(with_sector["lq"][:, sector]).all()
    assert np.isnan(with_sector["hoover"][sector]).all()
    assert np.isnan(with_sector["locational_gini"][sector]).all()
    for name, values in with_sector.items():
        rest = values if name in PER_REGION else np.delete(values, sector, axis=0 if name in PER_SECTOR else 1)
        np.testing.assert_allclose(rest, straight[name], rtol=1e-12, atol=1e-12, err_msg=name)


@settings(max_examples=50, deadline=None)
@given(table=cubes(elements=whole_numbers), data=st.data())
def test_a_missing_cell_counts_as_zero_for_every_other_cell(table, data):
    region = data.draw(st.integers(0, table.shape[0] - 1))
    sector = data.draw(st.integers(0, table.shape[1] - 1))
    missing, zero = table.copy(), table.copy()
    missing[region, sector, :] = np.nan
    zero[region, sector, :] = 0.0
    with_nan, with_zero = everything(missing, np.ceil(zero / 3)), everything(zero, np.ceil(zero / 3))
    assert np.isnan(with_nan["lq"][region, sector]).all()
    with_zero["lq"][region, sector] = np.nan
    for name, values in with_nan.items():
        np.testing.assert_array_equal(values, with_zero[name], err_msg=name)


# --- against a slow, loop-by-loop reading of the published rules -------------------------------------------


def slow_statistics(table: np.ndarray, establishments: np.ndarray) -> dict[str, np.ndarray]:
    """One region, sector and period at a time, with numpy's own quantile (linear interpolation)."""
    count_r, count_s, count_t = table.shape
    out = {name: np.zeros((count_r, count_s, count_t), dtype=bool) for name in ("size", "focus", "strong")}
    out["lq"] = np.full(table.shape, np.nan)
    out["locational_gini"] = np.full((count_s, count_t), np.nan)
    for t in range(count_t):
        e = table[:, :, t]
        region_total, sector_total, total = e.sum(axis=1), e.sum(axis=0), e.sum()
        for r in range(count_r):
            for s in range(count_s):
                if region_total[r] > 0 and sector_total[s] > 0:
                    out["lq"][r, s, t] = (e[r, s] / region_total[r]) / (sector_total[s] / total)
        shares = [e[r, s] / region_total[r] for r in range(count_r) for s in range(count_s) if e[r, s] > 0]
        for s in range(count_s):
            ranked = [r for r in range(count_r) if e[r, s] > 0]
            if not ranked:
                continue
            size_cut = np.quantile(e[ranked, s], 0.9)
            lq_cut = np.quantile(out["lq"][ranked, s, t], 0.75)
            jobs_cut = np.quantile(e[ranked, s], 0.25)
            units_cut = np.quantile(establishments[ranked, s, t], 0.25)
            for r in ranked:
                out["size"][r, s, t] = e[r, s] >= size_cut
                out["focus"][r, s, t] = e[r, s] / region_total[r] >= np.quantile(shares, 0.9)
                lq = out["lq"][r, s, t]
                out["strong"][r, s, t] = (
                    lq >= lq_cut and lq >= 1 and e[r, s] > jobs_cut and establishments[r, s, t] > units_cut
                )
            # Localisation curve: regions by ascending LQ (empty regions weigh nothing), trapezoids.
            order = sorted(range(count_r), key=lambda r: np.nan_to_num(out["lq"][r, s, t]))
            x_prev = y_prev = area = 0.0
            for r in order:
                x = x_prev + region_total[r] / total
                y = y_prev + e[r, s] / sector_total[s]
                area += (x - x_prev) * (y + y_prev)
                x_prev, y_prev = x, y
            out["locational_gini"][s, t] = 1 - area
    return out


@settings(max_examples=40, deadline=None)
@given(table=cubes(elements=st.one_of(st.just(0.0), st.integers(1, 50).map(float)), max_regions=12))
def test_matches_a_slow_reading_of_the_rules(table):
    establishments = np.ceil(table / 4)
    fast = everything(table, establishments)
    slow = slow_statistics(table, establishments)
    np.testing.assert_allclose(fast["lq"], slow["lq"], rtol=1e-12)
    np.testing.assert_allclose(fast["locational_gini"], slow["locational_gini"], atol=1e-12)
    for name in ("size", "focus", "strong"):
        assert np.array_equal(fast[name], slow[name]), name


# --- forms, scopes and details -------------------------------------------------------------------------------


def test_every_form_gives_the_same_numbers():
    values = np.array([[30.0, 10.0, 0.0], [10.0, 50.0, 5.0]])
    frame = pd.DataFrame(values, index=["FR101", "FR102"], columns=["C10", "J62", "Q88"])
    panel = RegionSectorPanel(values[:, :, None], frame.index, frame.columns, pd.Index(["2021"]))
    from_frame, from_array, from_panel = location_quotient(frame), location_quotient(values), location_quotient(panel)
    assert isinstance(from_frame, pd.DataFrame)
    assert list(from_frame.index) == ["FR101", "FR102"]
    assert isinstance(from_array, np.ndarray)
    assert from_array.shape == (2, 3)
    assert isinstance(from_panel, RegionSectorPanel)
    assert from_panel.shape == (2, 3, 1)
    np.testing.assert_array_equal(from_frame.to_numpy(), from_array)
    np.testing.assert_array_equal(from_panel.values[:, :, 0], from_array)
    by_region = krugman_index(panel)
    assert isinstance(by_region, pd.DataFrame)
    assert list(by_region.columns) == ["2021"]
    assert krugman_index(values[:, :, None]).shape == (2, 1)
    assert hoover_index(frame).index.tolist() == ["C10", "J62", "Q88"]


def test_inputs_are_never_written_to():
    values = np.array([[30.0, np.nan], [10.0, 50.0]])
    frozen = values.copy()
    cluster_statistics(values, values)
    np.testing.assert_array_equal(values, frozen)


def test_size_scope_all_ranks_every_cell_together():
    jobs = pd.DataFrame({"C10": [100.0, 90.0, 1.0, 1.0], "J62": [2.0, 3.0, 4.0, 5.0]}, index=list("ABCD"))
    by_sector = star_ratings(jobs, size_share=0.25).size
    overall = star_ratings(jobs, size_share=0.25, size_scope="all").size
    assert by_sector["J62"].tolist() == [False, False, False, True]  # the largest J62 cell, though small
    assert overall["J62"].tolist() == [False] * 4
    assert overall["C10"].tolist() == [True, True, False, False]


def test_focus_scope_sector_ranks_shares_within_each_sector():
    jobs = pd.DataFrame({"C10": [90.0, 10.0, 50.0, 50.0], "J62": [10.0, 90.0, 50.0, 50.0]}, index=list("ABCD"))
    per_sector = star_ratings(jobs, focus_share=0.3, focus_scope="sector").focus
    assert per_sector["C10"].tolist() == [True, False, False, False]
    assert per_sector["J62"].tolist() == [False, True, False, False]


def test_a_cell_with_missing_establishments_cannot_be_strong():
    jobs = pd.DataFrame({"C10": [40.0, 10.0, 30.0, 20.0], "J62": [10.0, 40.0, 20.0, 30.0]}, index=list("ABCD"))
    firms = pd.DataFrame({"C10": [np.nan, 1.0, 3.0, 2.0], "J62": [1.0, 4.0, 2.0, 3.0]}, index=jobs.index)
    strong = strong_clusters(jobs, firms)
    assert not strong.loc["A", "C10"]
    assert strong.loc["B", "J62"]


def test_krugman_against_the_rest_is_nan_for_a_lone_region():
    jobs = pd.DataFrame({"C10": [5.0, 0.0], "J62": [5.0, 0.0]}, index=["A", "B"])
    rest = krugman_index(jobs, reference="rest")
    assert np.isnan(rest["A"])
    assert np.isnan(rest["B"])


def test_panel_helpers():
    long = pd.DataFrame({
        "geo": ["B", "A", "A", "B"], "nace": ["x", "x", "y", "y"], "year": [2021, 2021, 2021, 2022],
        "jobs": [5.0, 1.0, 2.0, 7.0],
    })
    panel = RegionSectorPanel.from_long(long, sector="nace", period="year", value="jobs")
    assert panel.shape == (2, 2, 2)
    assert panel.frame(2022).loc["B", "y"] == 7.0
    assert panel.frame(2022).loc["A", "x"] == 0.0
    back = panel.to_long("jobs")
    assert list(back.columns) == ["geo", "nace", "year", "jobs"]
    assert len(back) == 8
    assert back["jobs"].sum() == 15.0
    assert RegionSectorPanel.from_long(long, sector="nace", period="year", value="jobs", fill_value=np.nan).frame(
        2022
    ).isna().sum().sum() == 3
    with pytest.raises(KeyError, match="period 2030 is not in this panel"):
        panel.frame(2030)


@pytest.mark.parametrize(
    ("frame", "keywords", "error", "message"),
    [
        (pd.DataFrame({"geo": ["A", "A"], "nace_r2": ["x", "x"], "time": ["1", "1"], "value": [1.0, 2.0]}), {},
         ValueError, "region 'A', sector 'x', period '1' appear in 2 rows"),
        (pd.DataFrame({"geo": ["A", None], "nace_r2": ["x", "x"], "time": ["1", "1"], "value": [1.0, 2.0]}), {},
         ValueError, "column 'geo' .given as region. has a missing label"),
        (pd.DataFrame({"geo": ["A"], "nace_r2": ["x"], "time": ["1"], "value": ["many"]}), {},
         ValueError, "column 'value' .given in values. must hold numbers"),
        (pd.DataFrame({"geo": ["A"], "nace_r2": ["x"], "time": ["1"]}), {},
         ValueError, "frame has no column 'value' .given as values."),
        (pd.DataFrame({"geo": ["A"], "nace_r2": ["x"], "time": ["1"], "value": [1.0]}), {"values": "value"},
         TypeError, "values must be a sequence of column names"),
        ([[1.0]], {}, TypeError, "frame must be a pandas DataFrame"),
    ],
)
def test_panels_from_long_names_the_problem(frame, keywords, error, message):
    with pytest.raises(error, match=message):
        panels_from_long(frame, **keywords)


TABLE = pd.DataFrame({"C10": [1.0, 2.0], "J62": [3.0, 4.0]}, index=["A", "B"])


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: location_quotient(TABLE.assign(C10=[1.0, -2.0])), ValueError,
         r"matrix must not be negative, but has -2.0 at region 'B', sector 'C10'"),
        (lambda: location_quotient(TABLE.assign(J62=[np.inf, 1.0])), ValueError,
         "matrix has an infinite value at region 'A', sector 'J62'"),
        (lambda: location_quotient(np.zeros((2, 2, 2)) - 1), ValueError, "period 0"),
        (lambda: location_quotient(TABLE.assign(C10=["a", "b"])), ValueError, "matrix must hold numbers"),
        (lambda: location_quotient(TABLE.rename(index={"B": "A"})), ValueError,
         r"matrix's index .its regions. must be"),
        (lambda: location_quotient(np.ones(3)), ValueError, "must be two-dimensional"),
        (lambda: location_quotient(TABLE["C10"]), TypeError, "matrix must be a regions x sectors DataFrame"),
        (lambda: star_ratings(TABLE, size_share=0), ValueError, "size_share must be a number strictly between"),
        (lambda: star_ratings(TABLE, focus_share=1.5), ValueError, "focus_share"),
        (lambda: star_ratings(TABLE, specialisation_min=np.nan), ValueError, "specialisation_min"),
        (lambda: star_ratings(TABLE, size_scope="region"), ValueError, "size_scope must be one of"),
        (lambda: star_ratings(TABLE, size_share=True), ValueError, "size_share"),
        (lambda: strong_clusters(TABLE, TABLE.iloc[:1]), ValueError,
         "establishments must have the same form and shape"),
        (lambda: strong_clusters(TABLE, TABLE.rename(columns={"J62": "J63"})), ValueError,
         "establishments must have the same sectors as employment"),
        (lambda: strong_clusters(TABLE, TABLE.to_numpy()), ValueError, "establishments must have the same form"),
        (lambda: strong_clusters(TABLE, TABLE, lq_percentile=1.2), ValueError, "lq_percentile"),
        (lambda: strong_clusters(TABLE, TABLE, min_lq=-1), ValueError, "min_lq must be a finite number"),
        (lambda: krugman_index(TABLE, reference="nation"), ValueError, "reference must be one of"),
        (lambda: hoover_index(TABLE, by="cell"), ValueError, "by must be one of"),
        (lambda: cluster_statistics(TABLE, krugman_reference="x"), ValueError, "krugman_reference"),
    ],
)
def test_bad_arguments_are_named(call, error, message):
    with pytest.raises(error, match=message):
        call()
