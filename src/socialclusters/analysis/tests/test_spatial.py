"""assign_points: which polygon each point falls in, checked against shapely one point at a time."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from socialclusters.analysis.spatial import PointAssignment, assign_points

coordinates = st.floats(min_value=-20, max_value=20, allow_nan=False, allow_infinity=False)


@st.composite
def boxes(draw, min_size: int = 1, max_size: int = 12):  # type: ignore[no-untyped-def]
    """Axis-aligned boxes anywhere in [-20, 20]², overlapping or not."""
    count = draw(st.integers(min_size, max_size))
    result = []
    for _ in range(count):
        x, y = draw(coordinates), draw(coordinates)
        width = draw(st.floats(min_value=0.01, max_value=15))
        height = draw(st.floats(min_value=0.01, max_value=15))
        result.append(shapely.box(x, y, x + width, y + height))
    return result


@st.composite
def disjoint_polygons(draw):  # type: ignore[no-untyped-def]
    """Triangles and boxes in separate cells of a grid, so no two share a point."""
    cells = draw(st.lists(st.tuples(st.integers(-8, 7), st.integers(-4, 3)), min_size=1, max_size=15, unique=True))
    polygons = []
    for column, row in cells:
        x0, y0 = column * 20.0 + 1, row * 20.0 + 1  # each cell is 20° wide; keep a 1° margin
        corners = draw(st.lists(st.tuples(st.floats(0, 18), st.floats(0, 18)), min_size=3, max_size=3))
        triangle = shapely.Polygon([(x0 + dx, y0 + dy) for dx, dy in corners])
        polygon = triangle if triangle.area > 1e-3 else shapely.box(x0, y0, x0 + 5, y0 + 5)
        polygons.append(polygon)
    return polygons


def reference_assignment(lon: np.ndarray, lat: np.ndarray, polygons: list[shapely.Geometry]) -> np.ndarray:
    """The rule written out slowly: the lowest index of a polygon the point intersects, else -1."""
    expected = np.full(len(lon), -1)
    for position, (x, y) in enumerate(zip(lon, lat, strict=True)):
        hits = [number for number, polygon in enumerate(polygons) if polygon.intersects(shapely.Point(x, y))]
        if hits and -180 <= x <= 180 and -90 <= y <= 90:
            expected[position] = min(hits)
    return expected


@settings(deadline=None)  # the first example pays shapely's start-up; later ones take milliseconds
@given(polygons=disjoint_polygons())
def test_a_polygons_representative_point_is_assigned_to_it(polygons):
    points = shapely.point_on_surface(polygons)  # shapely's representative_point, vectorised
    result = assign_points(shapely.get_x(points), shapely.get_y(points), polygons)
    assert list(result.index) == list(range(len(polygons)))
    assert not result.nearest.any()
    assert list(result.distance) == [0.0] * len(polygons)


@settings(max_examples=60, deadline=None)
@given(
    polygons=boxes(),
    lon=arrays(np.float64, st.integers(0, 40), elements=coordinates),
    data=st.data(),
)
def test_matches_shapely_point_by_point(polygons, lon, data):
    lat = data.draw(arrays(np.float64, lon.shape, elements=coordinates))
    result = assign_points(lon, lat, polygons)
    assert list(result.index) == list(reference_assignment(lon, lat, polygons))


@settings(deadline=None)
@given(
    lon=arrays(np.float64, st.integers(1, 30), elements=st.floats(allow_nan=True, allow_infinity=True)),
    data=st.data(),
)
def test_missing_or_out_of_range_coordinates_get_minus_one(lon, data):
    lat = data.draw(arrays(np.float64, lon.shape, elements=st.floats(allow_nan=True, allow_infinity=True)))
    world = [shapely.box(-1e300, -1e300, 1e300, 1e300)]
    result = assign_points(lon, lat, world)
    with np.errstate(invalid="ignore"):
        usable = (np.abs(lon) <= 180) & (np.abs(lat) <= 90)
    assert list(result.index) == [0 if ok else -1 for ok in usable]


@settings(deadline=None)
@given(
    polygons=boxes(),
    lon=arrays(np.float64, st.integers(1, 40), elements=coordinates),
    data=st.data(),
)
def test_permuting_points_permutes_results(polygons, lon, data):
    lat = data.draw(arrays(np.float64, lon.shape, elements=coordinates))
    permutation = np.array(data.draw(st.permutations(range(lon.size))), dtype=np.intp)
    straight = assign_points(lon, lat, polygons, nearest_within=1.0)
    permuted = assign_points(lon[permutation], lat[permutation], polygons, nearest_within=1.0)
    assert list(permuted.index) == list(straight.index[permutation])
    assert list(permuted.nearest) == list(straight.nearest[permutation])


@settings(deadline=None)
@given(polygons=boxes(), data=st.data())
def test_nearest_within_assigns_only_close_points_outside(polygons, data):
    lon = data.draw(arrays(np.float64, 20, elements=coordinates))
    lat = data.draw(arrays(np.float64, 20, elements=coordinates))
    result = assign_points(lon, lat, polygons, nearest_within=2.0)
    inside = assign_points(lon, lat, polygons)
    points = shapely.points(lon, lat)
    for position in range(lon.size):
        gaps = shapely.distance(points[position], polygons)
        if inside.index[position] >= 0:
            assert (result.index[position], result.nearest[position]) == (inside.index[position], False)
        elif gaps.min() < 2.0:
            assert result.nearest[position]
            assert result.index[position] == int(np.flatnonzero(gaps == gaps.min())[0])
            assert result.distance[position] == pytest.approx(gaps.min())
        else:
            assert (result.index[position], result.nearest[position]) == (-1, False)
            assert np.isnan(result.distance[position])


def test_a_point_on_a_shared_border_gets_exactly_the_lower_index():
    left, right = shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)
    assert list(assign_points([1.0, 1.0], [0.5, 1.0], [left, right]).index) == [0, 0]
    assert list(assign_points([1.0], [0.5], [right, left]).index) == [0]


def test_a_point_in_a_hole_is_outside():
    ring = shapely.Polygon([(0, 0), (10, 0), (10, 10), (0, 10)], holes=[[(4, 4), (6, 4), (6, 6), (4, 6)]])
    assert list(assign_points([5.0, 2.0], [5.0, 2.0], [ring]).index) == [-1, 0]


def test_multipolygons_missing_and_empty_polygons():
    islands = shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(5, 5, 6, 6)])
    polygons = [None, shapely.Polygon(), islands]
    result = assign_points([0.5, 5.5, 3.0], [0.5, 5.5, 3.0], polygons, nearest_within=5)
    assert list(result.index) == [2, 2, 2]
    assert list(result.nearest) == [False, False, True]


def test_a_prebuilt_tree_gives_the_same_answer():
    polygons = [shapely.box(0, 0, 1, 1), shapely.box(0.5, 0, 2, 1)]
    lon, lat = [0.25, 0.75, 1.5, 3], [0.5, 0.5, 0.5, 0.5]
    from_tree = assign_points(lon, lat, shapely.STRtree(polygons))
    assert list(from_tree.index) == list(assign_points(lon, lat, polygons).index) == [0, 0, 1, -1]


def test_empty_inputs_give_empty_answers():
    result = assign_points([], [], [shapely.box(0, 0, 1, 1)])
    assert isinstance(result, PointAssignment)
    assert len(result) == 0
    assert result.index.dtype == np.int64
    assert list(assign_points([0.5], [0.5], []).index) == [-1]


def test_lists_with_none_read_as_missing():
    assert list(assign_points([0.5, None], [0.5, 0.5], [shapely.box(0, 0, 1, 1)]).index) == [0, -1]


BOX = shapely.box(0, 0, 1, 1)


@pytest.mark.parametrize(
    ("arguments", "keywords", "error", "message"),
    [
        (([1, 2], [1], [BOX]), {}, ValueError, "lon and lat must have the same length"),
        (([[1, 2]], [[1, 2]], [BOX]), {}, ValueError, "lon must be one-dimensional"),
        (([1], ["north"], [BOX]), {}, ValueError, "lat must be numbers"),
        (([1], [1], [BOX]), {"nearest_within": -1}, ValueError, "nearest_within must be a positive"),
        (([1], [1], [BOX]), {"nearest_within": float("nan")}, ValueError, "nearest_within"),
        (([1], [1], [BOX]), {"nearest_within": True}, ValueError, "nearest_within"),
        (([1], [1], [BOX, "FR101"]), {}, TypeError, r"polygons\[1\] is a str"),
        (([1], [1], BOX), {}, TypeError, "polygons must be a sequence"),
    ],
)
def test_bad_arguments_are_named(arguments, keywords, error, message):
    with pytest.raises(error, match=message):
        assign_points(*arguments, **keywords)
