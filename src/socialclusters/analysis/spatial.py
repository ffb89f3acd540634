"""Spatial assignment of points (longitude, latitude) to polygons such as NUTS regions.

Pure numpy and shapely 2: no Django here. The registry builds its NUTS 3 index on top of this module
(``socialclusters.registry.geo``), and ``benchmarks/bench_point_assignment.py`` compares it with
geopandas' spatial join.

Rules that every caller can rely on:

- A point lying inside or on the boundary of one or more polygons gets the **lowest** polygon index
  among them. A point on a border shared by two regions therefore gets exactly one region, and
  polygons that overlap (the 1:60 million NUTS polygons overlap slightly in Belgium) give a
  deterministic answer.
- A point with a missing (NaN) coordinate, or with a longitude outside [-180, 180] or a latitude outside
  [-90, 90], gets ``-1``.
- With ``nearest_within``, a point outside every polygon but closer than that distance to one of them
  gets the nearest polygon (the lowest index among equally near ones), and is flagged in ``nearest``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

__all__ = ["PointAssignment", "assign_points"]


@dataclass(frozen=True)
class PointAssignment:
    """Result of :func:`assign_points`, one entry per input point.

    Attributes
    ----------
    index : numpy.ndarray of int64
        Index of the polygon each point was assigned to, ``-1`` where none.
    nearest : numpy.ndarray of bool
        True where the point lies outside every polygon and was assigned to the nearest one
        (only with ``nearest_within``).
    distance : numpy.ndarray of float64
        Distance to the assigned polygon in the coordinates' units: ``0.0`` for points inside a polygon,
        the gap for points assigned by ``nearest_within``, NaN where the point was not assigned.
    """

    index: np.ndarray
    nearest: np.ndarray
    distance: np.ndarray

    def __len__(self) -> int:
        return len(self.index)


def _as_coordinate_array(values: Any, name: str) -> np.ndarray:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numbers (NaN or None for missing values): {exc}") from exc
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got an array of shape {array.shape}")
    return array


def _as_polygon_array(polygons: Any) -> np.ndarray:
    if isinstance(polygons, shapely.STRtree):
        return np.asarray(polygons.geometries)
    if isinstance(polygons, shapely.Geometry | str | bytes):
        raise TypeError("polygons must be a sequence of shapely geometries (or a shapely.STRtree), not a single value")
    array = np.asarray(polygons, dtype=object)
    if array.ndim != 1:
        raise ValueError(f"polygons must be one-dimensional, got an array of shape {array.shape}")
    not_geometries = [i for i, geometry in enumerate(array) if geometry is not None
                      and not isinstance(geometry, shapely.Geometry)]
    if not_geometries:
        first = not_geometries[0]
        raise TypeError(
            f"polygons[{first}] is a {type(array[first]).__name__}, not a shapely geometry"
            f" ({len(not_geometries)} such item(s))"
        )
    return array


def assign_points(
    lon: Sequence[float] | np.ndarray,
    lat: Sequence[float] | np.ndarray,
    polygons: Sequence[shapely.Geometry | None] | np.ndarray | shapely.STRtree,
    *,
    nearest_within: float | None = None,
) -> PointAssignment:
    """Assign each point to the polygon that contains it.

    Parameters
    ----------
    lon, lat : array-like of float, one-dimensional, same length
        Point coordinates in the polygons' coordinate system (WGS 84 degrees for GISCO's EPSG:4326
        files). NaN or None marks a missing coordinate.
    polygons : sequence of shapely geometries, or shapely.STRtree
        The polygons (Polygon or MultiPolygon; ``None`` or empty entries never match). Given an
        ``STRtree``, its geometries are used, so a caller that keeps a tree also keeps their order.
    nearest_within : float, optional
        Assign points that fall outside every polygon to the nearest polygon closer than this distance,
        in the same units as the coordinates. With WGS 84 degrees, 0.1 is about 11 km north-south and
        7 km east-west at 50° N. Useful because coarse (1:60 million) coastlines leave coastal towns in the sea.

    Returns
    -------
    PointAssignment
        ``index`` (polygon index or -1), ``nearest`` (assigned by ``nearest_within``) and ``distance``.

    Raises
    ------
    ValueError
        If ``lon`` and ``lat`` are not one-dimensional numbers of the same length, or ``nearest_within``
        is not a positive finite number.
    TypeError
        If ``polygons`` holds something other than shapely geometries.

    Notes
    -----
    A point on a polygon's boundary counts as inside it ("intersects"), and the lowest polygon index wins,
    so a point on a border shared by two regions gets exactly one of them. Out-of-range or missing
    coordinates give -1.

    The work is vectorised: points are sorted by longitude once, each polygon takes the slice of points
    inside its bounding box with two binary searches, and ``shapely.intersects_xy`` tests them against the
    prepared polygon without creating point objects. Polygons are visited in index order and skip points
    already assigned, which is what makes the lowest index win.

    Examples
    --------
    Two unit squares side by side; the second point lies on their shared edge and goes to the lower index.

    >>> from shapely import box
    >>> squares = [box(0, 0, 1, 1), box(1, 0, 2, 1)]
    >>> result = assign_points([0.5, 1.0, 1.5, 5.0, float("nan")], [0.5, 0.5, 0.5, 5.0, 0.5], squares)
    >>> result.index
    array([ 0,  0,  1, -1, -1])

    A point just outside the squares is assigned to the nearest one when it is close enough.

    >>> result = assign_points([2.05, 3.0], [0.5, 0.5], squares, nearest_within=0.1)
    >>> result.index, result.nearest
    (array([ 1, -1]), array([ True, False]))
    >>> result.distance
    array([0.05,  nan])
    """
    lon_array = _as_coordinate_array(lon, "lon")
    lat_array = _as_coordinate_array(lat, "lat")
    if lon_array.shape != lat_array.shape:
        raise ValueError(
            f"lon and lat must have the same length, got {lon_array.size} longitudes and {lat_array.size} latitudes"
        )
    if nearest_within is not None and not (
        isinstance(nearest_within, int | float | np.number)
        and not isinstance(nearest_within, bool)
        and math.isfinite(nearest_within)
        and nearest_within > 0
    ):
        raise ValueError(f"nearest_within must be a positive finite distance or None, got {nearest_within!r}")
    polygon_array = _as_polygon_array(polygons)

    count = lon_array.size
    index = np.full(count, -1, dtype=np.int64)
    nearest = np.zeros(count, dtype=bool)
    distance = np.full(count, np.nan, dtype=np.float64)

    # NaN fails every comparison, so this one mask rejects both missing and out-of-range coordinates.
    with np.errstate(invalid="ignore"):
        usable = (lon_array >= -180.0) & (lon_array <= 180.0) & (lat_array >= -90.0) & (lat_array <= 90.0)
    usable_positions = np.flatnonzero(usable)
    if usable_positions.size == 0 or polygon_array.size == 0:
        return PointAssignment(index=index, nearest=nearest, distance=distance)

    order = np.argsort(lon_array[usable_positions])
    positions = usable_positions[order]
    present = ~shapely.is_missing(polygon_array)
    present[present] = ~shapely.is_empty(polygon_array[present])
    sorted_index = _containing_polygons(lon_array[positions], lat_array[positions], polygon_array, present)

    index[positions] = sorted_index
    distance[positions[sorted_index >= 0]] = 0.0

    if nearest_within is not None:
        outside = positions[sorted_index < 0]
        if outside.size:
            near_index, near_distance = _nearest_polygons(
                lon_array[outside], lat_array[outside], polygon_array, present, float(nearest_within)
            )
            found = near_index >= 0
            index[outside[found]] = near_index[found]
            nearest[outside[found]] = True
            distance[outside[found]] = near_distance[found]
    return PointAssignment(index=index, nearest=nearest, distance=distance)


def _containing_polygons(
    sorted_lon: np.ndarray, sorted_lat: np.ndarray, polygons: np.ndarray, present: np.ndarray
) -> np.ndarray:
    """Lowest index of a polygon containing each point (points sorted by longitude), -1 if none."""
    found = np.full(sorted_lon.size, -1, dtype=np.int64)
    bounds = np.full((polygons.size, 4), np.nan)
    if present.any():
        bounds[present] = shapely.bounds(polygons[present])
    starts = np.searchsorted(sorted_lon, bounds[:, 0], side="left")
    stops = np.searchsorted(sorted_lon, bounds[:, 2], side="right")
    for polygon_number in np.flatnonzero(present):
        start, stop = starts[polygon_number], stops[polygon_number]
        if start >= stop:
            continue
        _, min_lat, _, max_lat = bounds[polygon_number]
        slab_lat = sorted_lat[start:stop]
        candidates = np.flatnonzero((slab_lat >= min_lat) & (slab_lat <= max_lat))
        candidates += start
        # Visiting polygons in index order and skipping assigned points makes the lowest index win.
        candidates = candidates[found[candidates] < 0]
        if candidates.size == 0:
            continue
        polygon = polygons[polygon_number]
        shapely.prepare(polygon)
        inside = shapely.intersects_xy(polygon, sorted_lon[candidates], sorted_lat[candidates])
        found[candidates[inside]] = polygon_number
    return found


def _nearest_polygons(
    lon: np.ndarray, lat: np.ndarray, polygons: np.ndarray, present: np.ndarray, max_distance: float
) -> tuple[np.ndarray, np.ndarray]:
    """Index of (and distance to) the nearest polygon within ``max_distance`` of each point, -1 if none."""
    polygon_numbers = np.flatnonzero(present)
    tree = shapely.STRtree(polygons[polygon_numbers])
    # all_matches keeps every equally near polygon so that the lowest index can win, as it does inside.
    (point_hits, tree_hits), gaps = tree.query_nearest(
        shapely.points(lon, lat), max_distance=max_distance, return_distance=True, all_matches=True
    )
    unset = np.iinfo(np.int64).max
    best = np.full(lon.size, unset, dtype=np.int64)
    np.minimum.at(best, point_hits, polygon_numbers[tree_hits])
    gap = np.full(lon.size, np.nan)
    gap[point_hits] = gaps  # equally near polygons share one gap, so whichever write lands is right
    best[best == unset] = -1
    return best, gap
