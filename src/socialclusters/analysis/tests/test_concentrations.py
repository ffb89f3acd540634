"""Spatial concentrations: equal-area projection, contiguity, Getis-Ord Gi* and DBSCAN concentrations."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.sparse
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from socialclusters.analysis.concentrations import (
    EARTH_RADIUS_KM,
    areas_km2,
    find_concentrations,
    getis_ord_gi_star,
    neighbours_from_polygons,
    project_laea,
)

# --- projection and areas ----------------------------------------------------------------------------------


def test_the_projection_centre_maps_to_the_false_origin_and_nan_stays_nan():
    x, y = project_laea([10.0, np.nan], [52.0, 50.0])
    assert x[0] == pytest.approx(4_321_000.0, abs=1e-6)
    assert y[0] == pytest.approx(3_210_000.0, abs=1e-6)
    assert np.isnan(x[1])
    assert np.isnan(y[1])
    with pytest.raises(ValueError, match="lon and lat must have the same shape"):
        project_laea([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="lat must be between -90 and 90"):
        project_laea([1.0], [91.0])


def ellipsoid_band_area_km2(west: float, south: float, east: float, north: float) -> float:
    """Exact area of a longitude-latitude rectangle on GRS 1980 (Snyder 1987, eq. 3-12 and 14-19)."""
    a, f = 6_378_137.0, 1 / 298.257222101
    e = math.sqrt(2 * f - f * f)

    def q(latitude: float) -> float:
        s = math.sin(math.radians(latitude))
        return (1 - e * e) * (s / (1 - (e * s) ** 2) - math.log((1 - e * s) / (1 + e * s)) / (2 * e))

    return a * a / 2 * math.radians(east - west) * (q(north) - q(south)) / 1e6


@pytest.mark.parametrize(
    ("west", "south", "east", "north"),
    [(0, 0, 1, 1), (5, 50, 6, 51), (-61.8, 15.8, -61.0, 16.5), (55.2, -21.4, 55.9, -20.8), (20, 69, 30, 71)],
)
def test_areas_are_true_ellipsoidal_areas(west, south, east, north):
    # From the equator to Lapland, and Guadeloupe and Réunion far from the projection's centre.
    area = areas_km2([shapely.box(west, south, east, north)])[0]
    assert area == pytest.approx(ellipsoid_band_area_km2(west, south, east, north), rel=1e-5)


def test_missing_and_empty_geometries_have_no_area():
    areas = areas_km2([None, shapely.Polygon(), shapely.box(0, 0, 1, 1)])
    assert np.isnan(areas[:2]).all()
    assert areas[2] > 0
    with pytest.raises(TypeError, match=r"geometries\[1\] is a str"):
        areas_km2([shapely.box(0, 0, 1, 1), "FR101"])
    with pytest.raises(ValueError, match="densify_degrees"):
        areas_km2([shapely.box(0, 0, 1, 1)], densify_degrees=0)


# --- contiguity ------------------------------------------------------------------------------------------


def grid_of_squares(columns: int, rows: int) -> list[shapely.Polygon]:
    return [shapely.box(c, r, c + 1, r + 1) for r in range(rows) for c in range(columns)]


def test_queen_contiguity_on_a_grid():
    neighbours = neighbours_from_polygons(grid_of_squares(3, 3))
    assert isinstance(neighbours, scipy.sparse.csr_array)
    counts = np.diff(neighbours.indptr).reshape(3, 3)
    np.testing.assert_array_equal(counts, [[3, 5, 3], [5, 8, 5], [3, 5, 3]])
    dense = neighbours.toarray()
    assert (dense == dense.T).all()
    assert not dense.diagonal().any()


def test_overlapping_polygons_neighbour_each_other_only_with_intersects():
    overlapping = [shapely.box(0, 0, 1.01, 1), shapely.box(1, 0, 2, 1), None, shapely.Polygon()]
    assert neighbours_from_polygons(overlapping).toarray()[0, 1] == 1
    assert neighbours_from_polygons(overlapping, predicate="touches").toarray()[0, 1] == 0
    assert neighbours_from_polygons(overlapping).toarray()[2:].sum() == 0
    assert neighbours_from_polygons([]).shape == (0, 0)
    with pytest.raises(ValueError, match="predicate must be"):
        neighbours_from_polygons(overlapping, predicate="within")
    with pytest.raises(TypeError, match="geometries must be a sequence"):
        neighbours_from_polygons(shapely.box(0, 0, 1, 1))


# --- Getis-Ord Gi* ------------------------------------------------------------------------------------------


def test_gi_star_on_a_chain_computed_by_hand():
    # Values 1, 2, 3, 4, 10 in a row: mean 4, S = sqrt(130/5 - 16) = sqrt(10). With binary weights a
    # region at an end has W = 2 (itself and one neighbour), a middle one W = 3, and the denominator is
    # sqrt(10) * sqrt((5 W - W^2) / 4) = sqrt(15) for both.
    result = getis_ord_gi_star(pd.Series([1.0, 2.0, 3.0, 4.0, 10.0], index=list("abcde")),
                               [[1], [0, 2], [1, 3], [2, 4], [3]])
    expected = np.array([(1 + 2 - 8), (1 + 2 + 3 - 12), (2 + 3 + 4 - 12), (3 + 4 + 10 - 12), (4 + 10 - 8)])
    np.testing.assert_allclose(result["gi_star"], expected / math.sqrt(15), rtol=1e-12)
    assert result.index.tolist() == list("abcde")
    assert result["neighbours"].tolist() == [1, 2, 2, 2, 1]
    np.testing.assert_allclose(result["p_value"], 2 * (1 - 0.5 * (1 + np.vectorize(math.erf)(
        np.abs(expected / math.sqrt(15)) / math.sqrt(2)))), rtol=1e-9)
    assert result["kind"].tolist() == [""] * 5  # none significant at 5% with five regions


def test_a_block_of_high_values_is_a_hot_spot_and_its_opposite_a_cold_spot():
    values = np.full((7, 7), 10.0)
    values[:3, :3] = 40.0
    values[4:, 4:] = 0.0
    result = getis_ord_gi_star(values.ravel(), neighbours_from_polygons(grid_of_squares(7, 7)))
    kinds = result["kind"].to_numpy().reshape(7, 7)
    assert kinds[1, 1] == "hot"
    assert kinds[5, 5] == "cold"
    assert kinds[3, 3] == ""
    corrected = getis_ord_gi_star(values.ravel(), neighbours_from_polygons(grid_of_squares(7, 7)), correction="fdr_bh")
    assert (corrected["p_value"] >= result["p_value"] - 1e-15).all()


def slow_gi_star(values: np.ndarray, adjacency: np.ndarray) -> np.ndarray:
    """Ord and Getis (1995) written out region by region, binary weights with the region itself."""
    n = len(values)
    mean = values.sum() / n
    s = math.sqrt((values**2).sum() / n - mean**2)
    z = np.empty(n)
    for i in range(n):
        w = [1.0 if (j == i or adjacency[i, j]) else 0.0 for j in range(n)]
        sum_w = sum(w)
        num = sum(w[j] * values[j] for j in range(n)) - mean * sum_w
        den = s * math.sqrt((n * sum(v * v for v in w) - sum_w**2) / (n - 1))
        z[i] = num / den if den > 0 else math.nan  # a neighbourhood that is the whole map
    return z


@st.composite
def neighbourhoods(draw):  # type: ignore[no-untyped-def]
    count = draw(st.integers(4, 12))
    upper = draw(arrays(np.bool_, (count, count)))
    adjacency = np.triu(upper, 1)
    adjacency = adjacency | adjacency.T
    values = draw(arrays(np.float64, count, elements=st.floats(0, 1000), unique=True))
    return values, adjacency


def fully_connected(adjacency: np.ndarray) -> np.ndarray:
    return adjacency.sum(axis=1) == len(adjacency) - 1


@settings(max_examples=60, deadline=None)
@given(case=neighbourhoods())
def test_gi_star_matches_the_formula_written_out(case):
    values, adjacency = case
    result = getis_ord_gi_star(values, adjacency.astype(int))
    whole_map = fully_connected(adjacency)
    assert np.isnan(result["gi_star"][whole_map]).all()
    np.testing.assert_allclose(result["gi_star"][~whole_map], slow_gi_star(values, adjacency)[~whole_map],
                               rtol=1e-7, atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(case=neighbourhoods(), data=st.data())
def test_row_standardising_and_permuting_regions_change_nothing_but_the_order(case, data):
    values, adjacency = case
    binary = getis_ord_gi_star(values, scipy.sparse.csr_array(adjacency.astype(float)))
    row = getis_ord_gi_star(values, adjacency.astype(float), weights="row")
    np.testing.assert_allclose(row["gi_star"], binary["gi_star"], rtol=1e-9, atol=1e-12)
    order = np.array(data.draw(st.permutations(range(len(values)))), dtype=np.intp)
    permuted = getis_ord_gi_star(values[order], adjacency[np.ix_(order, order)].astype(int))
    np.testing.assert_allclose(permuted["gi_star"], binary["gi_star"].to_numpy()[order], rtol=1e-9, atol=1e-12)


def test_islands_and_degenerate_maps():
    values = np.array([1.0, 2.0, 3.0, 10.0])
    islands = getis_ord_gi_star(values, [[], [], [], []])
    np.testing.assert_allclose(islands["gi_star"], (values - values.mean()) / values.std(), rtol=1e-12)
    assert np.isnan(getis_ord_gi_star([5.0, 5.0, 5.0], [[1], [0, 2], [1]])["gi_star"]).all()
    diagonal_ignored = getis_ord_gi_star(values, np.eye(4))
    np.testing.assert_allclose(diagonal_ignored["gi_star"], islands["gi_star"], rtol=1e-12)


@pytest.mark.parametrize(
    ("arguments", "keywords", "error", "message"),
    [
        (([1.0, 2.0], [[1], [0]]), {}, ValueError, "at least 3 regions"),
        (([1.0, np.nan, 3.0], [[], [], []]), {}, ValueError, "position 1 is nan"),
        (([1.0, 2.0, 3.0], [[1], [0]]), {}, ValueError, "one neighbour list per value"),
        (([1.0, 2.0, 3.0], [[1], [5], []]), {}, ValueError, r"neighbours\[1\] holds 5"),
        (([1.0, 2.0, 3.0], [[1], "0", []]), {}, TypeError, r"neighbours\[1\] must be a list"),
        (([1.0, 2.0, 3.0], np.ones((2, 2))), {}, ValueError, "neighbours must be 3 x 3"),
        (([1.0, 2.0, 3.0], -np.ones((3, 3))), {}, ValueError, "negative weights"),
        (([1.0, 2.0, 3.0], "queen"), {}, TypeError, "neighbours must be a scipy sparse matrix"),
        (([1.0, 2.0, 3.0], [[], [], []]), {"weights": "distance"}, ValueError, "weights must be"),
        (([1.0, 2.0, 3.0], [[], [], []]), {"alpha": 1.0}, ValueError, "alpha must be"),
        (([1.0, 2.0, 3.0], [[], [], []]), {"correction": "bonferroni"}, ValueError, "correction must be"),
        ((["a", "b", "c"], [[], [], []]), {}, ValueError, "values must be numbers"),
    ],
)
def test_gi_star_arguments_are_named(arguments, keywords, error, message):
    with pytest.raises(error, match=message):
        getis_ord_gi_star(*arguments, **keywords)


# --- concentrations of organisations -------------------------------------------------------------------------


def scatter(rng: np.random.Generator, lon: float, lat: float, count: int, radius_km: float):  # type: ignore[no-untyped-def]
    """Points within ``radius_km`` of a place (small-distance approximation)."""
    distance = radius_km * np.sqrt(rng.random(count))
    angle = rng.uniform(0, 2 * np.pi, count)
    dlat = np.degrees(distance * np.sin(angle) / EARTH_RADIUS_KM)
    dlon = np.degrees(distance * np.cos(angle) / (EARTH_RADIUS_KM * np.cos(np.radians(lat))))
    return lon + dlon, lat + dlat


def test_two_dense_groups_are_found_and_the_scattered_rest_is_left_out():
    rng = np.random.default_rng(7)
    lyon = scatter(rng, 4.835, 45.764, 30, 2.0)
    lille = scatter(rng, 3.057, 50.629, 12, 1.0)
    scattered = (rng.uniform(-5, 15, 40), rng.uniform(40, 55, 40))
    lon = np.concatenate([lyon[0], lille[0], scattered[0], [np.nan]])
    lat = np.concatenate([lyon[1], lille[1], scattered[1], [45.0]])
    found = find_concentrations(lon, lat, eps_km=1.5, min_organisations=5)
    assert len(found) == 2
    assert found.summary["organisations"].tolist() == [30, 12]
    lyon_label, lille_label = found.summary.index.tolist()
    assert (found.labels[:30] == lyon_label).all()
    assert (found.labels[30:42] == lille_label).all()
    assert (found.labels[42:] == -1).all()
    centre = found.summary.loc[lyon_label]
    assert centre["centroid_lon"] == pytest.approx(4.835, abs=0.01)
    assert centre["centroid_lat"] == pytest.approx(45.764, abs=0.01)
    assert 1.0 < centre["radius_km"] <= 2.0 + 1e-6


def test_distances_are_great_circle_distances_even_across_the_antimeridian():
    # 0.02 degrees of longitude apart at the equator: 2.2 km, though the longitudes differ by 359.98.
    found = find_concentrations([179.99, -179.99, 179.995], [0.0, 0.0, 0.001], eps_km=2.5, min_organisations=2)
    assert found.labels.tolist() == [0, 0, 0]
    assert abs(found.summary.loc[0, "centroid_lon"]) == pytest.approx(179.998, abs=0.01)
    # Réunion, 9,000 km from the centre of Europe's projections: a 1 km step is still a 1 km step.
    step = np.degrees(1.0 / EARTH_RADIUS_KM)
    found = find_concentrations([55.45, 55.45, 55.45], [-20.9, -20.9 + step, -20.9 + 2 * step],
                                eps_km=1.01, min_organisations=2)
    assert found.labels.tolist() == [0, 0, 0]
    assert found.summary.loc[0, "radius_km"] == pytest.approx(1.0, rel=1e-3)
    apart = find_concentrations([55.45, 55.45], [-20.9, -20.9 + step], eps_km=0.99, min_organisations=2)
    assert apart.labels.tolist() == [-1, -1]


def test_nothing_to_find():
    none_at_all = find_concentrations([], [], eps_km=1.0, min_organisations=2)
    assert none_at_all.labels.shape == (0,)
    assert list(none_at_all.summary.columns) == ["organisations", "centroid_lon", "centroid_lat", "radius_km"]
    assert len(none_at_all) == 0
    lonely = find_concentrations([0.0, 10.0, None], [0.0, 10.0, 1.0], eps_km=1.0, min_organisations=2)
    assert lonely.labels.tolist() == [-1, -1, -1]


@pytest.mark.parametrize(
    ("arguments", "keywords", "error", "message"),
    [
        (([1.0, 2.0], [1.0]), {}, ValueError, "lon and lat must have the same length"),
        (([1.0], [95.0]), {}, ValueError, "lat within"),
        (([[1.0]], [[1.0]]), {}, ValueError, "lon must be one-dimensional"),
        ((["east"], [1.0]), {}, ValueError, "lon must be numbers"),
        (([1.0], [1.0]), {"eps_km": 0}, ValueError, "eps_km must be a positive number"),
        (([1.0], [1.0]), {"eps_km": float("inf")}, ValueError, "eps_km"),
        (([1.0], [1.0]), {"min_organisations": 1}, ValueError, "min_organisations must be a whole number of at least"),
        (([1.0], [1.0]), {"min_organisations": 2.5}, ValueError, "min_organisations"),
    ],
)
def test_concentration_arguments_are_named(arguments, keywords, error, message):
    parameters = {"eps_km": 1.0, "min_organisations": 2} | keywords
    with pytest.raises(error, match=message):
        find_concentrations(*arguments, **parameters)
