"""Spatial concentrations: where social economy organisations crowd together, and hot spots of regions.

Pure numpy, scipy, scikit-learn and shapely 2: no Django here. Two kinds of *candidate* territorial
clusters come out of this module:

- :func:`find_concentrations`: dense groups of organisations found from their coordinates (DBSCAN on
  great-circle distances);
- :func:`getis_ord_gi_star`: regions whose value, together with their neighbours', is unusually high
  (hot spots) or low (cold spots), with the neighbours from :func:`neighbours_from_polygons`.

Both are statistical patterns, not clusters in the working group's sense (organisations that cooperate,
with or without a cluster organisation). The platform lists them as candidates for the secretariat to
review and never publishes one as a cluster without that review.

:func:`project_laea` and :func:`areas_km2` give equal-area coordinates and areas (ETRS89-LAEA, the
projection of EPSG:3035) for densities.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse
import shapely
from scipy import stats

__all__ = [
    "EARTH_RADIUS_KM",
    "CandidateConcentrations",
    "areas_km2",
    "find_concentrations",
    "getis_ord_gi_star",
    "neighbours_from_polygons",
    "project_laea",
]

# Mean Earth radius (IUGG), the radius of the sphere that great-circle distances are measured on.
EARTH_RADIUS_KM = 6371.0088

# GRS 1980, the ellipsoid of ETRS89, and the parameters of EPSG:3035 (ETRS89-extended / LAEA Europe).
_GRS80_A = 6_378_137.0
_GRS80_F = 1 / 298.257222101
_LAEA_LAT0, _LAEA_LON0 = 52.0, 10.0
_LAEA_FALSE_EASTING, _LAEA_FALSE_NORTHING = 4_321_000.0, 3_210_000.0


# --- equal-area projection --------------------------------------------------------------------------------


def _authalic_q(sin_lat: Any, e: float) -> Any:
    """Snyder's q (Map Projections — A Working Manual, 1987, eq. 3-12)."""
    e_sin = e * sin_lat
    return (1 - e * e) * (sin_lat / (1 - e_sin * e_sin) - np.log((1 - e_sin) / (1 + e_sin)) / (2 * e))


def project_laea(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """Project WGS 84 / ETRS89 longitudes and latitudes to ETRS89-LAEA (EPSG:3035) metres.

    Lambert azimuthal equal-area on the GRS 1980 ellipsoid, centred at 52° N 10° E, false easting
    4,321,000 m and northing 3,210,000 m: the projection Eurostat and the EEA use for European statistics
    (Snyder, J. P., *Map Projections — A Working Manual*, USGS Professional Paper 1395, 1987, pp. 187-190;
    IOGP, *Coordinate Conversions and Transformations including Formulas*, Guidance Note 7-2, method
    EPSG:9820). Areas are true everywhere; shapes and distances stretch away from the centre (by about
    3% 3,000 km away).

    Parameters
    ----------
    lon, lat : array-like of float, same shape
        Degrees. NaN gives NaN.

    Returns
    -------
    (x, y) : two numpy arrays of float, metres (easting, northing)

    Raises
    ------
    ValueError
        If the shapes differ or a latitude is outside [-90, 90].

    Examples
    --------
    The worked example of IOGP's guidance note (50° N 5° E):

    >>> x, y = project_laea([5.0], [50.0])
    >>> print(f"{x[0]:.2f} {y[0]:.2f}")
    3962799.45 2999718.85
    """
    lon_array = np.asarray(lon, dtype=np.float64)
    lat_array = np.asarray(lat, dtype=np.float64)
    if lon_array.shape != lat_array.shape:
        raise ValueError(f"lon and lat must have the same shape, got {lon_array.shape} and {lat_array.shape}")
    with np.errstate(invalid="ignore"):
        if (np.abs(lat_array) > 90).any():
            raise ValueError("lat must be between -90 and 90 degrees")
    e = math.sqrt(2 * _GRS80_F - _GRS80_F**2)
    q_pole = _authalic_q(np.float64(1.0), e)
    lat0 = math.radians(_LAEA_LAT0)
    q0 = _authalic_q(np.float64(math.sin(lat0)), e)
    beta0 = math.asin(q0 / q_pole)
    radius_q = _GRS80_A * math.sqrt(q_pole / 2)
    d = _GRS80_A * (math.cos(lat0) / math.sqrt(1 - (e * math.sin(lat0)) ** 2)) / (radius_q * math.cos(beta0))

    beta = np.arcsin(np.clip(_authalic_q(np.sin(np.radians(lat_array)), e) / q_pole, -1.0, 1.0))
    delta_lon = np.radians(lon_array - _LAEA_LON0)
    with np.errstate(divide="ignore", invalid="ignore"):
        b = radius_q * np.sqrt(
            2 / (1 + math.sin(beta0) * np.sin(beta) + math.cos(beta0) * np.cos(beta) * np.cos(delta_lon))
        )
    x = _LAEA_FALSE_EASTING + b * d * np.cos(beta) * np.sin(delta_lon)
    y = _LAEA_FALSE_NORTHING + (b / d) * (
        math.cos(beta0) * np.sin(beta) - math.sin(beta0) * np.cos(beta) * np.cos(delta_lon)
    )
    return x, y


def areas_km2(
    geometries: Sequence[shapely.Geometry | None] | np.ndarray, *, densify_degrees: float = 0.05
) -> np.ndarray:
    """Area of each (longitude, latitude) polygon in km², on the GRS 1980 ellipsoid.

    The polygons' edges are first cut into pieces of at most ``densify_degrees``, then projected with
    :func:`project_laea` (an equal-area projection), whose planar areas are true areas.

    Parameters
    ----------
    geometries : sequence of shapely geometries
        Polygons or multipolygons in WGS 84 / ETRS89 degrees (GISCO's EPSG:4326 files). None or empty
        entries give NaN.
    densify_degrees : float, default 0.05
        Longest edge, in degrees, before projecting; edges straight in degrees are curved in the
        projection.

    Returns
    -------
    numpy.ndarray of float

    Notes
    -----
    The area is that of the polygon as drawn: generalised boundaries misstate small regions. On GISCO's
    1:60 million NUTS 3 polygons Paris (FR101) comes out at 39 km² against 105 km², Luxembourg at 2,829 km²
    against 2,586 km²; use the 1:1 million files (or official land areas) for densities.

    Examples
    --------
    A one-degree square on the equator covers about 12,308 km²:

    >>> areas_km2([shapely.box(0, 0, 1, 1)]).round(0)
    array([12308.])
    """
    array = _geometry_array(geometries, "geometries")
    if not (isinstance(densify_degrees, int | float) and math.isfinite(densify_degrees) and densify_degrees > 0):
        raise ValueError(f"densify_degrees must be a positive number of degrees, got {densify_degrees!r}")
    areas = np.full(array.size, np.nan)
    present = ~(shapely.is_missing(array) | shapely.is_empty(array)) if array.size else np.zeros(0, dtype=bool)
    if present.any():
        dense = shapely.segmentize(array[present], densify_degrees)

        def to_laea(coordinates: np.ndarray) -> np.ndarray:
            x, y = project_laea(coordinates[:, 0], coordinates[:, 1])
            return np.column_stack([x, y])

        areas[present] = shapely.area(shapely.transform(dense, to_laea)) / 1e6
    return areas


def _geometry_array(geometries: Any, name: str) -> np.ndarray:
    if isinstance(geometries, shapely.Geometry | str | bytes):
        raise TypeError(f"{name} must be a sequence of shapely geometries, not a single value")
    array = np.asarray(geometries, dtype=object)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got an array of shape {array.shape}")
    for position, geometry in enumerate(array):
        if geometry is not None and not isinstance(geometry, shapely.Geometry):
            raise TypeError(f"{name}[{position}] is a {type(geometry).__name__}, not a shapely geometry")
    return array


# --- neighbours and Getis-Ord Gi* ----------------------------------------------------------------------


def neighbours_from_polygons(
    geometries: Sequence[shapely.Geometry | None] | np.ndarray,
    *,
    predicate: Literal["intersects", "touches"] = "intersects",
) -> scipy.sparse.csr_array:
    """Contiguity neighbours of polygons: which pairs share at least a point.

    Parameters
    ----------
    geometries : sequence of shapely geometries
        Region polygons (NUTS 3 from GISCO, say). None or empty entries have no neighbours.
    predicate : {"intersects", "touches"}, default "intersects"
        ``"intersects"`` makes polygons that share a boundary point or overlap neighbours ("queen"
        contiguity, and robust to the slight overlaps of generalised boundaries: the 1:60 million NUTS
        polygons overlap in Belgium). ``"touches"`` requires a shared boundary and no shared interior.

    Returns
    -------
    scipy.sparse.csr_array of int8, shape (n, n)
        Symmetric, 1 where two polygons are neighbours, zero diagonal. Row *i*'s column indices are
        region *i*'s neighbour list (``neighbours[[i]].indices`` or ``neighbours.indices[
        neighbours.indptr[i]:neighbours.indptr[i + 1]]``).

    Examples
    --------
    A row of three unit squares: the middle one has two neighbours.

    >>> squares = [shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1), shapely.box(2, 0, 3, 1)]
    >>> neighbours_from_polygons(squares).toarray()
    array([[0, 1, 0],
           [1, 0, 1],
           [0, 1, 0]], dtype=int8)
    """
    if predicate not in ("intersects", "touches"):
        raise ValueError(f"predicate must be 'intersects' or 'touches', got {predicate!r}")
    array = _geometry_array(geometries, "geometries")
    count = array.size
    present = np.flatnonzero(~(shapely.is_missing(array) | shapely.is_empty(array))) if count else np.zeros(0, int)
    if present.size == 0:
        return scipy.sparse.csr_array((count, count), dtype=np.int8)
    tree = shapely.STRtree(array[present])
    query, hits = tree.query(array[present], predicate=predicate)
    rows, columns = present[query], present[hits]
    distinct = rows != columns
    rows, columns = rows[distinct], columns[distinct]
    matrix = scipy.sparse.csr_array(
        (np.ones(rows.size, dtype=np.int8), (rows, columns)), shape=(count, count), dtype=np.int8
    )
    matrix.sum_duplicates()
    matrix.data[:] = 1
    return matrix


def _as_neighbour_matrix(neighbours: Any, count: int) -> scipy.sparse.csr_array:
    if scipy.sparse.issparse(neighbours) or (isinstance(neighbours, np.ndarray) and neighbours.ndim == 2):
        matrix = scipy.sparse.csr_array(neighbours)
    elif isinstance(neighbours, Sequence) and not isinstance(neighbours, str | bytes):
        if len(neighbours) != count:
            raise ValueError(f"neighbours must hold one neighbour list per value ({count}), got {len(neighbours)}")
        rows, columns = [], []
        for row, listed in enumerate(neighbours):
            if isinstance(listed, str | bytes) or not isinstance(listed, Iterable):
                raise TypeError(f"neighbours[{row}] must be a list of value positions, not {type(listed).__name__}")
            for column in listed:
                if isinstance(column, bool) or not isinstance(column, int | np.integer) or not 0 <= column < count:
                    raise ValueError(
                        f"neighbours[{row}] holds {column!r}, which is not a position from 0 to {count - 1}"
                    )
                rows.append(row)
                columns.append(int(column))
        coordinates = (np.array(rows, dtype=np.intp), np.array(columns, dtype=np.intp))
        matrix = scipy.sparse.csr_array((np.ones(len(rows)), coordinates), shape=(count, count))
    else:
        raise TypeError(
            "neighbours must be a scipy sparse matrix, a square numpy array or a sequence of neighbour lists,"
            f" not {type(neighbours).__name__}"
        )
    if matrix.shape != (count, count):
        raise ValueError(f"neighbours must be {count} x {count} (one row and column per value), got {matrix.shape}")
    if matrix.nnz and (matrix.data < 0).any():
        raise ValueError("neighbours must not hold negative weights")
    return matrix


def getis_ord_gi_star(
    values: Sequence[float] | np.ndarray | pd.Series,
    neighbours: Any,
    *,
    weights: Literal["binary", "row"] = "binary",
    alpha: float = 0.05,
    correction: Literal["none", "fdr_bh"] = "none",
) -> pd.DataFrame:
    r"""Getis-Ord :math:`G_i^*` hot spots: regions whose neighbourhood's values are unusually high or low.

    For region *i*, with weights :math:`w_{ij}` over its neighbours **and itself** (:math:`w_{ii} > 0`:
    that is the star), the statistic is the z-score

    .. math::
        G_i^* = \frac{\sum_j w_{ij} x_j - \bar x \sum_j w_{ij}}
                     {S \sqrt{\left(n \sum_j w_{ij}^2 - (\sum_j w_{ij})^2\right) / (n - 1)}},
        \qquad
        \bar x = \frac1n \sum_j x_j, \quad S = \sqrt{\frac1n \sum_j x_j^2 - \bar x^2}

    (Getis, A. and Ord, J. K., "The analysis of spatial association by use of distance statistics",
    *Geographical Analysis* 24(3), 1992, 189-206; Ord, J. K. and Getis, A., "Local spatial
    autocorrelation statistics: distributional issues and an application", *Geographical Analysis*
    27(4), 1995, 286-306, whose standardised form this is). Under the null hypothesis of no spatial
    association it is approximately standard normal; the p-values here are two-sided normal ones.

    Parameters
    ----------
    values : array-like of float
        One value per region (organisations per 100,000 inhabitants, say). A Series keeps its index in
        the result.
    neighbours : scipy sparse matrix, square array, or sequence of neighbour lists
        Who neighbours whom, for example :func:`neighbours_from_polygons`; any non-zero entry counts as a
        neighbour, the diagonal is ignored (the region itself is always included).
    weights : {"binary", "row"}, default "binary"
        ``"binary"``: weight 1 for the region and each neighbour. ``"row"``: the same weights divided by
        their row sum (1 + number of neighbours). Both give the **same** :math:`G_i^*`: the z-score does
        not change when a row of weights is multiplied by a constant. The option exists so that results
        can be matched against tools that row-standardise.
    alpha : float, default 0.05
        Significance level for the ``kind`` column.
    correction : {"none", "fdr_bh"}, default "none"
        ``"fdr_bh"`` adjusts the p-values for testing every region at once (Benjamini-Hochberg false
        discovery rate, through :func:`scipy.stats.false_discovery_control`) before comparing them with
        ``alpha``. Neighbouring statistics are correlated, so even the adjusted figures are indicative.

    Returns
    -------
    pandas.DataFrame
        One row per value, with ``gi_star`` (the z-score), ``p_value`` (adjusted with ``fdr_bh``),
        ``neighbours`` (their number, the region itself excluded) and ``kind``: ``"hot"`` (significant and
        positive), ``"cold"`` (significant and negative) or ``""``. ``gi_star`` is NaN when every value is
        equal, or when a region neighbours every other region (its neighbourhood is then the whole map).

    Raises
    ------
    ValueError
        If a value is missing or not finite, there are fewer than 3 values, the neighbours do not match
        the values, or a parameter is out of range.

    Notes
    -----
    Regions without neighbours (islands) are their own neighbourhood: :math:`G_i^* = (x_i - \bar x)/S`.
    Hot spots are candidates for the secretariat's review, not clusters.

    Examples
    --------
    Five regions in a row; the last one's neighbourhood (itself and the fourth) adds up to 14 against an
    expected 2 x 4 = 8:

    >>> chain = [[1], [0, 2], [1, 3], [2, 4], [3]]
    >>> result = getis_ord_gi_star([1.0, 2.0, 3.0, 4.0, 10.0], chain)
    >>> result["gi_star"].round(4).tolist()
    [-1.291, -1.5492, -0.7746, 1.291, 1.5492]
    """
    if weights not in ("binary", "row"):
        raise ValueError(f"weights must be 'binary' or 'row', got {weights!r}")
    if correction not in ("none", "fdr_bh"):
        raise ValueError(f"correction must be 'none' or 'fdr_bh', got {correction!r}")
    if not (isinstance(alpha, int | float) and not isinstance(alpha, bool) and 0 < alpha < 1):
        raise ValueError(f"alpha must be a number strictly between 0 and 1, got {alpha!r}")
    index = values.index if isinstance(values, pd.Series) else None
    try:
        x = np.asarray(values.to_numpy() if isinstance(values, pd.Series) else values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"values must be numbers: {exc}") from exc
    if x.ndim != 1:
        raise ValueError(f"values must be one-dimensional, got shape {x.shape}")
    count = x.size
    if count < 3:
        raise ValueError(f"values must hold at least 3 regions, got {count}")
    if not np.isfinite(x).all():
        position = int(np.flatnonzero(~np.isfinite(x))[0])
        raise ValueError(
            f"values must all be finite numbers, but position {position} is {float(x[position])!r};"
            " drop or fill missing regions (and their rows and columns of neighbours) first"
        )
    adjacency = _as_neighbour_matrix(neighbours, count)
    adjacency = (adjacency != 0).astype(np.float64)
    adjacency.setdiag(0)
    adjacency.eliminate_zeros()
    neighbour_count = np.diff(adjacency.indptr)
    w = adjacency + scipy.sparse.identity(count, format="csr")
    if weights == "row":
        w = scipy.sparse.csr_array(scipy.sparse.diags_array(1.0 / np.asarray(w.sum(axis=1)).ravel()) @ w)

    mean = float(x.mean())
    spread = float(x.std())  # S above: the population standard deviation
    weight_sum = np.asarray(w.sum(axis=1)).ravel()
    weight_square_sum = np.asarray(w.multiply(w).sum(axis=1)).ravel()
    numerator = w @ x - mean * weight_sum
    variance_part = (count * weight_square_sum - weight_sum**2) / (count - 1)
    # No variance: all values equal, or a neighbourhood that is the whole map (zero up to rounding).
    degenerate = (variance_part <= 1e-10 * count * weight_square_sum) | (np.ptp(x) == 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(degenerate, np.nan, numerator / (spread * np.sqrt(np.maximum(variance_part, 0.0))))
    p = 2 * stats.norm.sf(np.abs(z))
    if correction == "fdr_bh":
        finite = ~np.isnan(p)
        adjusted = np.full(count, np.nan)
        if finite.any():
            adjusted[finite] = stats.false_discovery_control(p[finite], method="bh")
        p = adjusted
    significant = p < alpha
    kind = np.where(significant & (z > 0), "hot", np.where(significant & (z < 0), "cold", ""))
    return pd.DataFrame(
        {"gi_star": z, "p_value": p, "neighbours": neighbour_count, "kind": kind},
        index=index if index is not None else pd.RangeIndex(count),
    )


# --- concentrations of organisations ----------------------------------------------------------------------


@dataclass(frozen=True)
class CandidateConcentrations:
    """Result of :func:`find_concentrations`.

    Attributes
    ----------
    labels : numpy.ndarray of int64
        For each organisation, the number of its concentration, or -1 (not in any, or no coordinates).
    summary : pandas.DataFrame
        One row per concentration (indexed by its number), with ``organisations``, ``centroid_lon``,
        ``centroid_lat`` (the spherical mean of its members) and ``radius_km`` (the great-circle distance
        from the centroid to its farthest member), largest first.
    """

    labels: np.ndarray
    summary: pd.DataFrame

    def __len__(self) -> int:
        return len(self.summary)


def find_concentrations(
    lon: Sequence[float] | np.ndarray,
    lat: Sequence[float] | np.ndarray,
    *,
    eps_km: float,
    min_organisations: int,
) -> CandidateConcentrations:
    """Find concentrations of organisations from their coordinates: candidate territorial clusters.

    DBSCAN (Ester, M., Kriegel, H.-P., Sander, J. and Xu, X., "A density-based algorithm for discovering
    clusters in large spatial databases with noise", *KDD-96*, 226-231) through
    :class:`sklearn.cluster.DBSCAN`: an organisation with at least ``min_organisations`` organisations
    (itself included) within ``eps_km`` is a core of a concentration; concentrations are the cores that
    reach one another through such neighbourhoods, with the organisations they reach.

    Parameters
    ----------
    lon, lat : array-like of float, one-dimensional, same length
        WGS 84 degrees. NaN (or None) marks a missing coordinate: that organisation gets -1.
    eps_km : float
        Neighbourhood radius in kilometres (a few km for a town, 20-50 km for a territory).
    min_organisations : int
        Organisations (at least 2) needed within ``eps_km`` for a core.

    Returns
    -------
    CandidateConcentrations
        ``labels`` per organisation and a ``summary`` per concentration.

    Raises
    ------
    ValueError
        If the coordinates differ in length, are out of range, or a parameter is not positive.

    Notes
    -----
    Distances are great-circle distances (haversine, on a sphere of radius :data:`EARTH_RADIUS_KM`),
    searched with a ball tree. We chose them over a projection because the platform covers the
    outermost regions (Réunion, Guadeloupe, the Canaries, the Azores), thousands of kilometres from
    the centre of any European projection, where projected distances would be wrong by tens of percent;
    the sphere's error against the ellipsoid stays below 0.5%.

    Which concentration a border organisation (one within reach of two) joins depends on the input
    order; cores and the number of concentrations do not. A concentration is a statistical pattern: the
    platform shows it as a candidate for the secretariat to review, never as a cluster.

    Examples
    --------
    Five organisations within a kilometre of each other in Lyon, two in Lille, one with no coordinates:

    >>> lon = [4.835, 4.836, 4.838, 4.840, 4.842, 3.057, 3.060, float("nan")]
    >>> lat = [45.764, 45.766, 45.763, 45.765, 45.767, 50.629, 50.631, float("nan")]
    >>> found = find_concentrations(lon, lat, eps_km=1.0, min_organisations=4)
    >>> found.labels
    array([ 0,  0,  0,  0,  0, -1, -1, -1])
    >>> found.summary.round(3)
                   organisations  centroid_lon  centroid_lat  radius_km
    concentration
    0                          5         4.838        45.765      0.369
    """
    from sklearn.cluster import DBSCAN

    lon_array = _coordinates(lon, "lon")
    lat_array = _coordinates(lat, "lat")
    if lon_array.shape != lat_array.shape:
        raise ValueError(
            f"lon and lat must have the same length, got {lon_array.size} longitudes and {lat_array.size} latitudes"
        )
    if not (isinstance(eps_km, int | float) and not isinstance(eps_km, bool) and math.isfinite(eps_km) and eps_km > 0):
        raise ValueError(f"eps_km must be a positive number of kilometres, got {eps_km!r}")
    if (
        isinstance(min_organisations, bool)
        or not isinstance(min_organisations, int | np.integer)
        or min_organisations < 2
    ):
        raise ValueError(f"min_organisations must be a whole number of at least 2, got {min_organisations!r}")
    present = ~(np.isnan(lon_array) | np.isnan(lat_array))
    if (np.abs(lon_array[present]) > 180).any() or (np.abs(lat_array[present]) > 90).any():
        raise ValueError("lon must be within [-180, 180] and lat within [-90, 90] degrees")

    labels = np.full(lon_array.size, -1, dtype=np.int64)
    positions = np.flatnonzero(present)
    if positions.size:
        radians = np.radians(np.column_stack([lat_array[positions], lon_array[positions]]))
        model = DBSCAN(
            eps=eps_km / EARTH_RADIUS_KM, min_samples=int(min_organisations), metric="haversine", algorithm="ball_tree"
        )
        labels[positions] = model.fit_predict(radians)
    return CandidateConcentrations(labels=labels, summary=_summarise(labels, lon_array, lat_array))


def _coordinates(values: Any, name: str) -> np.ndarray:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numbers (NaN or None for a missing coordinate): {exc}") from exc
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got an array of shape {array.shape}")
    return array


def _summarise(labels: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> pd.DataFrame:
    members = labels >= 0
    columns = ["organisations", "centroid_lon", "centroid_lat", "radius_km"]
    if not members.any():
        nothing = pd.Index([], dtype=np.int64, name="concentration")
        empty = pd.DataFrame({column: [] for column in columns}, index=nothing)
        return empty.astype({"organisations": np.int64})
    label = labels[members]
    phi, lam = np.radians(lat[members]), np.radians(lon[members])
    unit = np.column_stack([np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)])
    count = int(label.max()) + 1
    organisations = np.bincount(label, minlength=count)
    summed = np.column_stack([np.bincount(label, weights=unit[:, axis], minlength=count) for axis in range(3)])
    centre = summed / np.linalg.norm(summed, axis=1, keepdims=True)
    centroid_lat = np.degrees(np.arcsin(np.clip(centre[:, 2], -1.0, 1.0)))
    centroid_lon = np.degrees(np.arctan2(centre[:, 1], centre[:, 0]))
    # Great-circle distance from each member to its centroid, by the angle between unit vectors.
    cosine = np.clip(np.einsum("ij,ij->i", unit, centre[label]), -1.0, 1.0)
    distance = EARTH_RADIUS_KM * np.arccos(cosine)
    radius = np.zeros(count)
    np.maximum.at(radius, label, distance)
    summary = pd.DataFrame(
        {
            "organisations": organisations,
            "centroid_lon": centroid_lon,
            "centroid_lat": centroid_lat,
            "radius_km": radius,
        },
        index=pd.Index(np.arange(count), name="concentration"),
    )
    return summary.sort_values("organisations", ascending=False, kind="stable")
