"""Social economy indicators: shares in clusters, location quotients, presence in clusters, density."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from socialclusters.analysis.cluster_statistics import RegionSectorPanel, strong_clusters
from socialclusters.analysis.social_economy import (
    social_economy_density,
    social_economy_location_quotient,
    social_economy_presence,
    social_economy_share,
)


def test_share_of_social_economy_members_in_each_cluster():
    memberships = pd.DataFrame({
        "cluster": ["PTCE Pays de Lorient", "PTCE Pays de Lorient", "Klaster Dolny Śląsk", "PTCE Pays de Lorient",
                    "Klaster Dolny Śląsk"],
        "social_economy": [True, True, False, False, False],
        "jobs": [12.0, 3.0, 40.0, 85.0, 0.0],
    })
    counted = social_economy_share(memberships["cluster"], memberships["social_economy"])
    assert counted.index.name == "cluster"
    assert counted.loc["PTCE Pays de Lorient", "members"] == 3
    assert counted.loc["PTCE Pays de Lorient", "social_economy_members"] == 2
    assert counted.loc["PTCE Pays de Lorient", "share"] == pytest.approx(2 / 3)
    assert counted.loc["Klaster Dolny Śląsk", "share"] == 0.0
    weighted = social_economy_share(memberships["cluster"], memberships["social_economy"], weights=memberships["jobs"])
    assert weighted.loc["PTCE Pays de Lorient", "share"] == pytest.approx(15 / 100)
    no_jobs = social_economy_share(["A"], [True], weights=[0.0])
    assert np.isnan(no_jobs.loc["A", "share"])


@pytest.mark.parametrize(
    ("arguments", "keywords", "error", "message"),
    [
        ((["A", "B"], [True]), {}, ValueError, "same length"),
        ((["A", None], [True, False]), {}, ValueError, "clusters has a missing value at position 1"),
        ((["A"], ["yes"]), {}, ValueError, "is_social_economy must hold booleans"),
        ((["A"], [True]), {"weights": [-1.0]}, ValueError, "weights must be finite and not negative"),
        ((["A"], [True]), {"weights": [1.0, 2.0]}, ValueError, "weights must have one entry per membership"),
        (("AB", [True, False]), {}, TypeError, "clusters must be a sequence"),
        (([["A"]], [[True]]), {}, ValueError, "clusters must be one-dimensional"),
    ],
)
def test_share_arguments_are_named(arguments, keywords, error, message):
    with pytest.raises(error, match=message):
        social_economy_share(*arguments, **keywords)


TOTAL = pd.DataFrame({"Q88": [100.0, 100.0, 0.0], "C10": [100.0, 200.0, 0.0]}, index=["FR101", "ITC11", "ES300"])
SOCIAL = pd.DataFrame({"Q88": [40.0, 5.0, 0.0], "C10": [5.0, 0.0, 0.0]}, index=TOTAL.index)


def test_social_economy_location_quotients_by_cell_region_and_sector():
    # 50 of 500 organisations are social economy: 10% overall.
    cells = social_economy_location_quotient(SOCIAL, TOTAL)
    assert cells.loc["FR101", "Q88"] == pytest.approx(0.40 / 0.10)
    assert cells.loc["ITC11", "C10"] == 0.0
    assert np.isnan(cells.loc["ES300"]).all()  # no organisations at all: undefined, not zero
    regions = social_economy_location_quotient(SOCIAL, TOTAL, by="region")
    assert regions["FR101"] == pytest.approx((45 / 200) / 0.10)
    assert np.isnan(regions["ES300"])
    sectors = social_economy_location_quotient(SOCIAL, TOTAL, by="sector")
    assert sectors["Q88"] == pytest.approx((45 / 200) / 0.10)
    assert sectors["C10"] == pytest.approx((5 / 300) / 0.10)
    none_at_all = social_economy_location_quotient(SOCIAL * 0, TOTAL)
    assert np.isnan(none_at_all.to_numpy()).all()


@settings(max_examples=60, deadline=None)
@given(
    total=arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 5), st.integers(1, 3)),
                 elements=st.integers(0, 1000).map(float)),
    data=st.data(),
)
def test_region_quotients_weighted_by_size_average_to_one(total, data):
    fraction = data.draw(arrays(np.float64, total.shape, elements=st.floats(0, 1)))
    social = np.floor(total * fraction)
    quotient = social_economy_location_quotient(social, total, by="region")  # (regions, periods)
    region_total = total.sum(axis=1)
    has_social = social.sum(axis=(0, 1)) > 0
    with np.errstate(invalid="ignore", divide="ignore"):  # an empty period has no weights
        weighted = np.where(region_total > 0, quotient * region_total / total.sum(axis=(0, 1)), 0.0).sum(axis=0)
    np.testing.assert_allclose(weighted[has_social], 1.0, rtol=1e-9)
    assert np.isnan(quotient[:, ~has_social]).all()


def test_social_economy_cannot_exceed_the_total():
    exceeding = r"social_economy cannot exceed total, but does at region 'ITC11', sector 'C10'"
    with pytest.raises(ValueError, match=exceeding):
        social_economy_location_quotient(SOCIAL.assign(C10=[5.0, 201.0, 0.0]), TOTAL)
    with pytest.raises(ValueError, match="social_economy must have the same sectors as total"):
        social_economy_location_quotient(SOCIAL.rename(columns={"C10": "C11"}), TOTAL)
    with pytest.raises(ValueError, match="by must be one of"):
        social_economy_location_quotient(SOCIAL, TOTAL, by="country")


def test_presence_in_traditional_clusters_by_region():
    jobs = pd.DataFrame({"C10": [40.0, 10.0, 30.0, 20.0], "J62": [10.0, 40.0, 20.0, 30.0]},
                        index=["FR101", "FR102", "FR103", "FR104"])
    firms = jobs / 10
    strong = strong_clusters(jobs, firms)  # FR101's C10 and FR102's J62
    social = pd.DataFrame({"C10": [3.0, 1.0, 0.0, 0.0], "J62": [0.0, 0.0, 2.0, 0.0]}, index=jobs.index)
    presence = social_economy_presence(strong, social)
    assert presence.loc["FR101"].to_dict() == {
        "clusters": 1, "clusters_with_social_economy": 1, "presence_share": 1.0,
        "social_economy_in_clusters": 3.0, "social_economy": 3.0, "share_in_clusters": 1.0,
    }
    assert presence.loc["FR102", "clusters_with_social_economy"] == 0
    assert presence.loc["FR102", "share_in_clusters"] == 0.0
    assert np.isnan(presence.loc["FR103", "presence_share"])  # no traditional cluster
    assert np.isnan(presence.loc["FR104", "share_in_clusters"])  # no social economy


def test_presence_over_several_periods_has_a_row_per_region_and_period():
    clusters = RegionSectorPanel(np.array([[[True, False]], [[False, True]]]), pd.Index(["A", "B"], name="geo"),
                                 pd.Index(["C10"]), pd.Index(["2020", "2021"], name="time"))
    social = RegionSectorPanel(np.array([[[2.0, 2.0]], [[0.0, 1.0]]]), clusters.regions, clusters.sectors,
                               clusters.periods)
    presence = social_economy_presence(clusters, social)
    assert presence.index.names == ["geo", "time"]
    assert presence["clusters_with_social_economy"].to_dict() == {
        ("A", "2020"): 1, ("A", "2021"): 0, ("B", "2020"): 0, ("B", "2021"): 1,
    }
    with pytest.raises(ValueError, match="clusters must be a table of booleans"):
        social_economy_presence(social, social)


def test_density_per_area_and_per_inhabitant():
    counts = pd.Series({"FR101": 120, "FRK26": 45, "ES300": 3})
    density = social_economy_density(
        counts,
        area_km2=pd.Series({"FR101": 120.0, "FRK26": 4_500.0, "ES300": 0.0}),
        population=pd.Series({"FR101": 2_000_000, "FRK26": 300_000}),
    )
    assert density.loc["FR101", "per_1000_km2"] == pytest.approx(1000.0)
    assert density.loc["FRK26", "per_100k_inhabitants"] == pytest.approx(15.0)
    assert np.isnan(density.loc["ES300", "per_1000_km2"])  # zero area
    assert np.isnan(density.loc["ES300", "per_100k_inhabitants"])  # absent from the population
    only_area = social_economy_density(counts, area_km2=pd.Series({"FR101": 1.0}))
    assert list(only_area.columns) == ["organisations", "per_1000_km2"]


@pytest.mark.parametrize(
    ("arguments", "keywords", "error", "message"),
    [
        ((pd.Series({"A": 1}),), {}, ValueError, "give area_km2, population or both"),
        (({"A": 1},), {"area_km2": pd.Series({"A": 1.0})}, TypeError, "organisations must be a pandas Series"),
        ((pd.Series({"A": -1}),), {"area_km2": pd.Series({"A": 1.0})}, ValueError, "organisations must be finite"),
        ((pd.Series({"A": 1}),), {"population": pd.Series({"A": "many"})}, ValueError, "population must hold numbers"),
        ((pd.Series([1, 2], index=["A", "A"]),), {"area_km2": pd.Series({"A": 1.0})}, ValueError, "repeated regions"),
    ],
)
def test_density_arguments_are_named(arguments, keywords, error, message):
    with pytest.raises(error, match=message):
        social_economy_density(*arguments, **keywords)
