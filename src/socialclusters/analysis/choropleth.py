"""Choropleth maps: class breaks, compact geometry, point aggregation and static map images.

The interactive map (Leaflet in the browser) and the static exports (PNG and SVG for reports) share these
functions, so a region falls in the same class on screen and on paper.

Class scheme: **quantiles**. Each class holds about the same number of regions with a value, which
suits the skewed counts and quotients of regional statistics (a few large regions would flatten an
equal-interval scale). Ties and small samples can merge classes; the breaks returned are the distinct
ones actually used.

Examples
--------
>>> quantile_breaks([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], classes=5).tolist()
[1.0, 2.8, 4.6, 6.4, 8.2, 10.0]
>>> classify([1, 5, 10, float("nan")], [1.0, 2.8, 4.6, 6.4, 8.2, 10.0]).tolist()
[0, 2, 4, -1]
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import shapely

from socialclusters.analysis import charts

# Sequential, colour-blind safe and printable in grey (light to dark): ColorBrewer's "YlGnBu" ramp values.
SEQUENTIAL = ("#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494", "#081d58", "#04112f")
NO_DATA = "#d9d9d9"
# Hatching for printing without colour: one density per class.
CLASS_HATCHES = ("", "..", "//", "xx", "\\\\\\\\", "++", "**")


def quantile_breaks(values: Sequence[float] | np.ndarray | pd.Series, classes: int = 5) -> np.ndarray:
    """Class limits at the quantiles of the finite values: ``classes + 1`` numbers or fewer when tied.

    Parameters
    ----------
    values : array-like of float
        NaN and infinite values are left out.
    classes : int, default 5
        Wanted number of classes, from 1 to 7 (the colour ramp's length).

    Returns
    -------
    ndarray of float
        Increasing distinct limits, from the minimum to the maximum; empty when no value is finite, one
        number when all values are equal.

    Examples
    --------
    >>> quantile_breaks([0, 0, 0, 0, 0, 0, 7]).tolist()
    [0.0, 7.0]
    >>> quantile_breaks([]).tolist()
    []
    """
    if not 1 <= int(classes) <= len(SEQUENTIAL):
        raise ValueError(f"classes: expected 1 to {len(SEQUENTIAL)}, got {classes}")
    array = np.asarray(values, dtype=float)
    finite = array[np.isfinite(array)]
    if finite.size == 0:
        return np.array([], dtype=float)
    breaks = np.quantile(finite, np.linspace(0.0, 1.0, int(classes) + 1))
    return np.unique(np.round(breaks, 12))


def classify(values: Sequence[float] | np.ndarray | pd.Series, breaks: Sequence[float] | np.ndarray) -> np.ndarray:
    """The class (0 = lowest) of each value for the given limits; -1 for a missing value.

    Each class includes its upper limit; the lowest also includes its lower limit. With a single limit
    (every value equal) every finite value is class 0.

    Examples
    --------
    >>> classify([0, 3, 7], [0.0, 7.0]).tolist()
    [0, 0, 0]
    """
    array = np.asarray(values, dtype=float)
    limits = np.asarray(breaks, dtype=float)
    result = np.full(array.shape, -1, dtype=int)
    finite = np.isfinite(array)
    if limits.size <= 1:
        result[finite] = 0
        return result
    # searchsorted on the inner limits, right-closed classes: (b0, b1], (b1, b2], … with b0 in class 0.
    found = np.searchsorted(limits[1:-1], array[finite], side="left")
    result[finite] = np.clip(found, 0, limits.size - 2)
    return result


def class_labels(breaks: Sequence[float] | np.ndarray, *, decimals: int = 2, integer: bool = False) -> list[str]:
    """Readable ranges for a legend: ``["0 – 1.5", "1.5 – 3", …]``.

    With ``integer`` (counts) the classes are written as the whole numbers they hold: the upper limit is
    included, so the next class starts one above it.

    Examples
    --------
    >>> class_labels([0.0, 1.5, 3.0])
    ['0 – 1.5', '1.5 – 3']
    >>> class_labels([0, 1, 2, 6, 349], integer=True)
    ['0 – 1', '2', '3 – 6', '7 – 349']
    >>> class_labels([4.0])
    ['4']
    """
    limits = [float(b) for b in breaks]
    if len(limits) == 1:
        return [_format(limits[0], decimals)]
    labels = []
    for index, (low, high) in enumerate(itertools.pairwise(limits)):
        if integer:
            start = math.floor(low) if index == 0 else math.floor(low) + 1
            end = math.floor(high)
            labels.append(f"{start:,}" if start >= end else f"{start:,} – {end:,}")
        else:
            labels.append(f"{_format(low, decimals)} – {_format(high, decimals)}")
    return labels


def class_colours(count: int) -> list[str]:
    """``count`` colours spread over the sequential ramp, light to dark.

    Examples
    --------
    >>> class_colours(2)
    ['#ffffcc', '#04112f']
    """
    if count <= 0:
        return []
    if count == 1:
        return [SEQUENTIAL[3]]
    positions = np.linspace(0, len(SEQUENTIAL) - 1, count).round().astype(int)
    return [SEQUENTIAL[p] for p in positions]


def quantise(geometry: dict[str, Any] | None, decimals: int = 3) -> dict[str, Any] | None:
    """A GeoJSON Polygon or MultiPolygon with coordinates rounded to ``decimals`` places.

    Three decimals of a degree are about 100 m, far below what a 1:60 million boundary can show. Points
    that collapse onto their predecessor are dropped; a ring reduced below four points keeps its original
    coordinates (rounded), so no region disappears.

    Examples
    --------
    >>> quantise({"type": "Polygon", "coordinates": [[[0.00011, 0], [1, 0], [1.00001, 0], [1, 1], [0, 0]]]})
    {'type': 'Polygon', 'coordinates': [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]]}
    """
    if geometry is None:
        return None
    kind = geometry.get("type")
    if kind == "Polygon":
        return {"type": kind, "coordinates": [_ring(ring, decimals) for ring in geometry["coordinates"]]}
    if kind == "MultiPolygon":
        return {"type": kind, "coordinates": [[_ring(ring, decimals) for ring in polygon]
                                              for polygon in geometry["coordinates"]]}
    raise ValueError(f"geometry: expected a Polygon or MultiPolygon, got {kind!r}")


def _ring(ring: Sequence[Sequence[float]], decimals: int) -> list[list[float]]:
    rounded = [[round(float(x), decimals), round(float(y), decimals)] for x, y, *_ in ring]
    kept = [rounded[0]]
    for point in rounded[1:]:
        if point != kept[-1]:
            kept.append(point)
    return kept if len(kept) >= 4 else rounded


def grid_aggregate(
    lon: Sequence[float] | np.ndarray, lat: Sequence[float] | np.ndarray, *, cell: float
) -> pd.DataFrame:
    """Points gathered into square cells of ``cell`` degrees: one row per occupied cell.

    The map shows a cell as one marker with its count where points would overlap, and single points as
    themselves, so the map stays readable at every zoom level.

    Returns
    -------
    DataFrame with columns ``lon``, ``lat`` (mean position of the cell's points), ``count`` and ``first``
    (the index of one point of the cell, to label single points), sorted by decreasing count.

    Examples
    --------
    >>> grid_aggregate([2.35, 2.36, 13.4], [48.85, 48.86, 52.5], cell=1.0)[["count", "first"]].values.tolist()
    [[2, 0], [1, 2]]
    """
    if not cell > 0:
        raise ValueError(f"cell: expected a positive size in degrees, got {cell}")
    x = np.asarray(lon, dtype=float)
    y = np.asarray(lat, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"lat: expected {x.shape[0]} values, as many as lon, got {y.shape[0]}")
    keep = np.isfinite(x) & np.isfinite(y)
    index = np.flatnonzero(keep)
    frame = pd.DataFrame({
        "cx": np.floor(x[keep] / cell).astype(np.int64), "cy": np.floor(y[keep] / cell).astype(np.int64),
        "lon": x[keep], "lat": y[keep], "first": index,
    })
    grouped = frame.groupby(["cx", "cy"], sort=False).agg(
        lon=("lon", "mean"), lat=("lat", "mean"), count=("lon", "size"), first=("first", "min")
    )
    return grouped.sort_values(["count", "first"], ascending=[False, True]).reset_index(drop=True)


def render_map(
    geometries: Sequence[shapely.Geometry | None],
    classes: Sequence[int] | np.ndarray,
    *,
    legend: Sequence[str],
    title: str,
    n: int | None = None,
    source: str | None = None,
    highlight: Sequence[int] = (),
    colours: Sequence[str] | None = None,
    fmt: str = "svg",
) -> bytes:
    """A static choropleth: each geometry filled with its class colour and hatching, with a legend.

    Parameters
    ----------
    geometries : sequence of shapely (Multi)Polygons in longitude/latitude
    classes : class of each geometry (:func:`classify`), -1 for no data
    legend : label of each class (:func:`class_labels`)
    title, n, source : as in :mod:`socialclusters.analysis.charts`
    highlight : indices of geometries to outline (selected or compared regions)
    colours : fill of each class; by default the sequential ramp (:func:`class_colours`)
    fmt : {"svg", "png"}

    Examples
    --------
    >>> square = shapely.box(0, 0, 1, 1)
    >>> render_map([square], [0], legend=["1 – 2"], title="Test", fmt="svg")[:5]
    b'<?xml'
    """
    import matplotlib.pyplot as plt
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Patch, PathPatch
    from matplotlib.path import Path as MplPath

    charts.check_format(fmt)
    codes = np.asarray(classes, dtype=int)
    if codes.shape[0] != len(geometries):
        raise ValueError(f"classes: expected {len(geometries)} values, one per geometry, got {codes.shape[0]}")
    colours = list(colours) if colours is not None else class_colours(len(legend))
    if len(colours) != len(legend):
        raise ValueError(f"colours: expected {len(legend)} colours, one per class, got {len(colours)}")
    with charts.style():
        figure, axes = plt.subplots(figsize=(8.0, 7.0))
        for class_index in range(-1, len(legend)):
            patches = [
                PathPatch(_mpl_path(geometries[int(i)], MplPath))
                for i in np.flatnonzero(codes == class_index) if geometries[int(i)] is not None
            ]
            if not patches:
                continue
            colour = NO_DATA if class_index < 0 else colours[class_index]
            hatch = "" if class_index < 0 else CLASS_HATCHES[class_index % len(CLASS_HATCHES)]
            axes.add_collection(PatchCollection(patches, facecolor=colour, edgecolor="#ffffff", linewidth=0.25,
                                                hatch=hatch))
        outlined = [PathPatch(_mpl_path(geometries[i], MplPath)) for i in highlight if geometries[i] is not None]
        if outlined:
            axes.add_collection(PatchCollection(outlined, facecolor="none", edgecolor="#d55e00", linewidth=1.4))
        bounds = _bounds([g for g in geometries if g is not None])
        if bounds is not None:
            axes.set_xlim(bounds[0], bounds[2])
            axes.set_ylim(bounds[1], bounds[3])
        # Plate carrée stretched by the cosine of the middle latitude: shapes look right at European latitudes.
        middle = 50.0 if bounds is None else (bounds[1] + bounds[3]) / 2
        axes.set_aspect(1 / max(0.2, math.cos(math.radians(middle))))
        axes.set_axis_off()
        axes.set_title(title, loc="left", fontsize=11)
        handles = [Patch(facecolor=colours[i], edgecolor="#666666", hatch=CLASS_HATCHES[i % len(CLASS_HATCHES)],
                         label=label) for i, label in enumerate(legend)]
        handles.append(Patch(facecolor=NO_DATA, edgecolor="#666666", label="no data"))
        axes.legend(handles=handles, loc="upper left", fontsize=7.5, frameon=True, title="Quantile classes",
                    title_fontsize=8)
        charts.footer(figure, n, source)
        return charts.render(figure, fmt)


def _bounds(geometries: list[shapely.Geometry]) -> tuple[float, float, float, float] | None:
    if not geometries:
        return None
    boxes = shapely.bounds(np.asarray(geometries, dtype=object))
    # Clip to mainland Europe and its islands when the layer spans outermost regions far away (Réunion,
    # Canary Islands): a continental view is what a report wants; the regions stay in the table.
    xmin, ymin = np.nanmin(boxes[:, 0]), np.nanmin(boxes[:, 1])
    xmax, ymax = np.nanmax(boxes[:, 2]), np.nanmax(boxes[:, 3])
    return (max(xmin, -25.0), max(ymin, 27.0), min(xmax, 45.0), min(ymax, 72.0))


def _mpl_path(geometry: shapely.Geometry, path_class: Any) -> Any:
    polygons = getattr(geometry, "geoms", [geometry])
    vertices: list[Any] = []
    codes: list[int] = []
    for polygon in polygons:
        for ring in [polygon.exterior, *polygon.interiors]:
            coordinates = np.asarray(ring.coords)[:, :2]
            vertices.extend(coordinates.tolist())
            codes.extend([path_class.MOVETO] + [path_class.LINETO] * (len(coordinates) - 2) + [path_class.CLOSEPOLY])
    return path_class(vertices, codes)


def _format(value: float, decimals: int) -> str:
    text = f"{value:,.{decimals}f}".rstrip("0").rstrip(".")
    return text if text not in {"-0", ""} else "0"

