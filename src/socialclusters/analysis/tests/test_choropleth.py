"""Class breaks, classification, quantised geometry, point aggregation and static maps."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from socialclusters.analysis import charts, choropleth

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@given(st.lists(finite, min_size=1, max_size=200), st.integers(min_value=1, max_value=7))
@settings(max_examples=150, deadline=None)
def test_every_value_falls_in_a_class_whose_limits_hold_it(values, classes):
    breaks = choropleth.quantile_breaks(values, classes)
    assigned = choropleth.classify(values, breaks)
    assert breaks[0] == pytest.approx(min(values))
    assert breaks[-1] == pytest.approx(max(values))
    assert np.all(np.diff(breaks) > 0)
    assert len(breaks) <= classes + 1
    for value, cls in zip(values, assigned, strict=True):
        assert 0 <= cls <= max(0, len(breaks) - 2)
        if len(breaks) > 1:
            assert breaks[cls] - 1e-9 <= value <= breaks[cls + 1] + 1e-9


@given(st.lists(st.integers(min_value=-10**6, max_value=10**6), min_size=10, max_size=200, unique=True))
@settings(max_examples=100, deadline=None)
def test_quantile_classes_hold_about_as_many_values(values):
    breaks = choropleth.quantile_breaks(values, 5)
    counts = np.bincount(choropleth.classify(values, breaks), minlength=5)
    assert counts.max() - counts.min() <= len(values) / 5 + 2


def test_missing_values_have_no_class_and_ties_merge_classes():
    assert choropleth.classify([np.nan, 1.0], [0.0, 2.0]).tolist() == [-1, 0]
    assert choropleth.quantile_breaks([3, 3, 3]).tolist() == [3.0]
    assert choropleth.quantile_breaks([np.nan, np.inf]).tolist() == []
    with pytest.raises(ValueError, match="classes"):
        choropleth.quantile_breaks([1, 2], 9)


def test_integer_labels_do_not_overlap():
    # Integer counts with fractional quantiles: (1, 2.8] holds 2, (2.8, 4.6] holds 3 and 4.
    assert choropleth.class_labels([0, 1, 2.8, 4.6], integer=True) == ["0 – 1", "2", "3 – 4"]
    assert choropleth.class_labels([0.0, 0.25, 1.0]) == ["0 – 0.25", "0.25 – 1"]


def test_quantise_keeps_rings_closed_and_valid():
    ring = [[0.00012, 0.00049], [1.00001, 0.0], [1.0, 1.0004], [0.0, 1.0], [0.00012, 0.00049]]
    polygon = choropleth.quantise({"type": "MultiPolygon", "coordinates": [[ring]]})
    out = polygon["coordinates"][0][0]
    assert out[0] == out[-1]
    assert all(round(x, 3) == x and round(y, 3) == y for x, y in out)
    assert shapely.geometry.shape(polygon).is_valid
    with pytest.raises(ValueError, match="geometry"):
        choropleth.quantise({"type": "Point", "coordinates": [0, 0]})


def test_grid_aggregate_counts_every_point_once():
    rng = np.random.default_rng(1)
    lon, lat = rng.uniform(-10, 30, 5000), rng.uniform(35, 60, 5000)
    lon[7] = np.nan
    cells = choropleth.grid_aggregate(lon, lat, cell=2.0)
    assert cells["count"].sum() == 4999
    assert (cells["count"].diff().dropna() <= 0).all()
    with pytest.raises(ValueError, match="cell"):
        choropleth.grid_aggregate([0], [0], cell=0)
    with pytest.raises(ValueError, match="lat"):
        choropleth.grid_aggregate([0, 1], [0], cell=1)


def test_static_map_is_deterministic_and_carries_its_legend():
    shapes = [shapely.box(0, 40, 1, 41), shapely.box(1, 40, 2, 41), None]
    first = choropleth.render_map(shapes, [0, 1, -1], legend=["0 – 1", "2 – 5"], title="Test", n=2,
                                  source="unit test", highlight=[1], fmt="svg")
    second = choropleth.render_map(shapes, [0, 1, -1], legend=["0 – 1", "2 – 5"], title="Test", n=2,
                                   source="unit test", highlight=[1], fmt="svg")
    assert first == second
    for text in (b"2 \xe2\x80\x93 5", b"no data", b"n = 2"):
        assert text in first
    with pytest.raises(ValueError, match="classes"):
        choropleth.render_map(shapes, [0], legend=["a"], title="t")
    with pytest.raises(ValueError, match="colours"):
        choropleth.render_map(shapes[:1], [0], legend=["a"], title="t", colours=["#fff", "#000"])


def test_charts_name_their_base_and_refuse_bad_arguments():
    svg = charts.stacked_bar_chart(["Q1"], {"agree": [2], "disagree": [0]}, title="Likert", n=2, source="survey")
    assert b"n = 2" in svg
    assert b"Source: survey" in svg
    with pytest.raises(ValueError, match="fmt"):
        charts.bar_chart(["a"], [1], title="t", fmt="gif")
    with pytest.raises(ValueError, match="values"):
        charts.bar_chart(["a", "b"], [1], title="t")
    with pytest.raises(ValueError, match="series"):
        charts.line_chart([2020, 2021], {"jobs": [1]}, title="t")
