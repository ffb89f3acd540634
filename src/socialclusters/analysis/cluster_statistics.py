"""Cluster statistics on region x sector tables: location quotients, star ratings, strong clusters, indices.

Pure numpy and pandas: no Django here. ``mapping`` computes its regional statistics with these functions,
and ``benchmarks/bench_cluster_statistics.py`` compares them with a plain pandas group-by version of the
same formulas.

The tables
----------
Every function takes employment (or organisations, or jobs) by region and sector in one of three forms,
and answers in the same form:

- a :class:`pandas.DataFrame` with regions as the index and sectors as the columns (one period);
- a :class:`RegionSectorPanel`: a region x sector x period cube with its labels, built from a long table
  with :meth:`RegionSectorPanel.from_long` (for example the output of
  :func:`socialclusters.analysis.eurostat.read_eurostat_tsv`);
- a numpy array of shape ``(regions, sectors)`` or ``(regions, sectors, periods)``.

Periods never mix: totals, percentiles and indices are computed for each period on its own, all periods
at once (the work is vectorised over the period axis, not looped).

Rules that every caller can rely on
-----------------------------------
- Values must be finite and non-negative. NaN marks a missing cell (Eurostat's ``:``, a confidential
  value): it is left out of every total, sum and percentile, as if it were zero, and its own cell-level
  results are NaN (location quotient) or False (stars, strong clusters).
- A region whose total is zero has NaN location quotients, no stars, no strong clusters, and NaN
  region-level indices (Krugman, Herfindahl-Hirschman by region). A sector whose total is zero has NaN
  location quotients and NaN sector-level indices (Hoover, locational Gini, Herfindahl-Hirschman by
  sector). Adding an empty region or sector to a table changes no other result.
- Labels must be unique; permuting regions or sectors permutes every result the same way.
- Multiplying a table by a positive constant changes no location quotient, star or index (up to
  rounding: a value lying exactly on a percentile may then fall on either side of it).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import numpy as np
import pandas as pd

__all__ = [
    "ClusterStatistics",
    "RegionSectorPanel",
    "StarRatings",
    "cluster_statistics",
    "herfindahl_hirschman_index",
    "hoover_index",
    "krugman_index",
    "location_quotient",
    "locational_gini",
    "panels_from_long",
    "star_ratings",
    "strong_clusters",
]

Scope = Literal["sector", "all"]
Table = Any  # pandas.DataFrame | RegionSectorPanel | numpy.ndarray: the forms listed in the module docstring


# --- the 3-D table ----------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class RegionSectorPanel:
    """A region x sector x period table with its labels.

    Attributes
    ----------
    values : numpy.ndarray, shape (regions, sectors, periods)
        The numbers (float for inputs; bool or int for some results, such as stars).
    regions, sectors, periods : pandas.Index
        Labels of the three axes, each unique.

    Examples
    --------
    >>> long = pd.DataFrame({
    ...     "geo": ["AT11", "AT11", "AT12", "AT12"], "nace_r2": ["C10", "C10", "C10", "C10"],
    ...     "time": ["2020", "2021", "2020", "2021"], "value": [10.0, 12.0, 30.0, 31.0],
    ... })
    >>> panel = RegionSectorPanel.from_long(long)
    >>> panel.shape
    (2, 1, 2)
    >>> panel.frame("2021")
    nace_r2   C10
    geo
    AT11     12.0
    AT12     31.0
    """

    values: np.ndarray
    regions: pd.Index
    sectors: pd.Index
    periods: pd.Index

    def __post_init__(self) -> None:
        values = np.asarray(self.values)
        if values.ndim != 3:
            raise ValueError(f"values must be three-dimensional (regions, sectors, periods), got shape {values.shape}")
        object.__setattr__(self, "values", values)
        for axis, attribute in enumerate(("regions", "sectors", "periods")):
            labels = pd.Index(getattr(self, attribute))
            if len(labels) != values.shape[axis]:
                raise ValueError(
                    f"{attribute} has {len(labels)} labels but values has {values.shape[axis]} along axis {axis}"
                )
            _check_unique(labels, attribute)
            object.__setattr__(self, attribute, labels)

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(regions, sectors, periods)``."""
        return self.values.shape  # type: ignore[return-value]

    @classmethod
    def from_long(
        cls,
        frame: pd.DataFrame,
        *,
        region: str = "geo",
        sector: str = "nace_r2",
        period: str = "time",
        value: str = "value",
        fill_value: float = 0.0,
    ) -> RegionSectorPanel:
        """Build a panel from a long table with one row per region, sector and period.

        See :func:`panels_from_long`, which builds several panels (employment, establishments…) from one
        table in one pass.
        """
        return panels_from_long(
            frame, region=region, sector=sector, period=period, values=[value], fill_value=fill_value
        )[value]

    def frame(self, period: Hashable) -> pd.DataFrame:
        """The regions x sectors table of one period."""
        if period not in self.periods:
            raise KeyError(f"period {period!r} is not in this panel, whose periods are {list(self.periods)}")
        position = self.periods.get_loc(period)
        return pd.DataFrame(self.values[:, :, position], index=self.regions, columns=self.sectors)

    def to_long(self, name: str = "value") -> pd.DataFrame:
        """One row per region, sector and period, in the panel's order (regions vary slowest)."""
        count_r, count_s, count_t = self.shape
        names = [self.regions.name or "region", self.sectors.name or "sector", self.periods.name or "period"]
        return pd.DataFrame({
            names[0]: np.repeat(self.regions.to_numpy(), count_s * count_t),
            names[1]: np.tile(np.repeat(self.sectors.to_numpy(), count_t), count_r),
            names[2]: np.tile(self.periods.to_numpy(), count_r * count_s),
            name: self.values.reshape(-1),
        })


def panels_from_long(
    frame: pd.DataFrame,
    *,
    region: str = "geo",
    sector: str = "nace_r2",
    period: str = "time",
    values: Sequence[str] = ("value",),
    fill_value: float = 0.0,
) -> dict[str, RegionSectorPanel]:
    """Build one :class:`RegionSectorPanel` per value column of a long table, sharing its labels.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per region, sector and period.
    region, sector, period : str
        Names of the label columns. Labels are sorted in the panels (kept in order of first appearance
        when they cannot be compared, such as a mix of numbers and strings).
    values : sequence of str
        Names of the numeric columns, one panel each (for example ``["employment", "establishments"]``).
    fill_value : float, default 0.0
        Value of the cells that have no row in ``frame``. Zero suits registers and complete statistical
        tables (Eurostat writes a row for every published series); pass NaN to mark absent cells missing.

    Returns
    -------
    dict of str to RegionSectorPanel

    Raises
    ------
    ValueError
        If a column is absent, a label is missing (NaN or None), a region, sector and period appear in
        more than one row, or a value column holds something other than numbers.

    Examples
    --------
    >>> long = pd.DataFrame({"geo": ["B", "A", "A"], "nace": ["x", "x", "y"], "year": [2021, 2021, 2021],
    ...                      "jobs": [5.0, 1.0, 2.0], "firms": [1.0, 1.0, 1.0]})
    >>> panels = panels_from_long(long, sector="nace", period="year", values=["jobs", "firms"])
    >>> panels["jobs"].frame(2021)
    nace    x    y
    geo
    A     1.0  2.0
    B     5.0  0.0
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame, not {type(frame).__name__}")
    if isinstance(values, str):
        raise TypeError("values must be a sequence of column names, not a single string")
    for argument, column in [("region", region), ("sector", sector), ("period", period)] + [
        ("values", column) for column in values
    ]:
        if column not in frame.columns:
            raise ValueError(f"frame has no column {column!r} (given as {argument})")
    if not isinstance(fill_value, int | float) or isinstance(fill_value, bool):
        raise ValueError(f"fill_value must be a number or NaN, got {fill_value!r}")

    codes, labels = [], []
    for argument, column in (("region", region), ("sector", sector), ("period", period)):
        column_codes, uniques = _factorize(frame[column])
        if (column_codes < 0).any():
            row = frame.index[int(np.flatnonzero(column_codes < 0)[0])]
            raise ValueError(f"column {column!r} (given as {argument}) has a missing label in row {row!r}")
        codes.append(column_codes.astype(np.int64))
        labels.append(pd.Index(uniques, name=column))
    count_r, count_s, count_t = (len(axis_labels) for axis_labels in labels)
    # Cells are stored period-major, (periods, sectors, regions), the layout the statistics work in;
    # the panel shows them as a (regions, sectors, periods) view.
    flat = (codes[2] * count_s + codes[1]) * count_r + codes[0]
    size = count_r * count_s * count_t
    if len(flat) and np.bincount(flat, minlength=size).max() > 1:
        duplicated = frame.duplicated(subset=[region, sector, period], keep=False).to_numpy()
        first = frame.loc[duplicated, [region, sector, period]].iloc[0]
        raise ValueError(
            f"region {first[region]!r}, sector {first[sector]!r}, period {first[period]!r} appear in "
            f"{int(duplicated.sum())} rows that share their labels; each cell needs exactly one row"
        )
    panels = {}
    for column in values:
        try:
            numbers = frame[column].to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"column {column!r} (given in values) must hold numbers: {exc}") from exc
        cells = np.full(size, float(fill_value))
        cells[flat] = numbers
        cube = cells.reshape(count_t, count_s, count_r).transpose(2, 1, 0)
        panels[column] = RegionSectorPanel(cube, labels[0], labels[1], labels[2])
    return panels


def _factorize(column: pd.Series) -> tuple[np.ndarray, Any]:
    """Integer codes and sorted unique labels (in first-seen order when the labels cannot be sorted)."""
    # pandas 3 hashes a plain object array about twice as fast as its own string column.
    values = column if isinstance(column.dtype, pd.CategoricalDtype) else column.to_numpy()
    try:
        return pd.factorize(values, sort=True)
    except TypeError:  # labels of mixed types, such as 2020 and "2020"
        return pd.factorize(values)


# --- checking and shaping inputs ----------------------------------------------------------------------


def _check_unique(labels: pd.Index, what: str) -> None:
    if not labels.is_unique:
        repeated = labels[labels.duplicated()].unique()
        raise ValueError(f"{what} must be unique, but {list(repeated[:5])!r} appear more than once")


@dataclass(frozen=True)
class _Grid:
    """An input table as a float64 cube, and how to give results back in the input's form.

    The cube is laid out period-major, ``(periods, sectors, regions)`` and C-contiguous, so that the sums
    and sorts over regions (per sector and period) and over all cells of a period run over contiguous
    memory. Results are handed back as transposed views, ``(regions, sectors, periods)``, without copying.
    """

    values: np.ndarray  # (T, S, R)
    kind: Literal["frame", "array2", "array3", "panel"]
    regions: pd.Index
    sectors: pd.Index
    periods: pd.Index

    def where(self, index: tuple[int, int, int]) -> str:
        period, sector, region = index
        place = f"region {self.regions[region]!r}, sector {self.sectors[sector]!r}"
        return place if self.kind in ("frame", "array2") else f"{place}, period {self.periods[period]!r}"

    def cells(self, result: np.ndarray) -> Any:
        """Give back a (T, S, R) result in the input's form."""
        if self.kind == "frame":
            return pd.DataFrame(result[0].T, index=self.regions, columns=self.sectors)
        if self.kind == "array2":
            return result[0].T
        if self.kind == "array3":
            return result.transpose(2, 1, 0)
        return RegionSectorPanel(result.transpose(2, 1, 0), self.regions, self.sectors, self.periods)

    def per_region(self, result: np.ndarray, name: str) -> Any:
        """Give back a (T, R) result: one value per region and period."""
        return self._per_axis(result, self.regions, name)

    def per_sector(self, result: np.ndarray, name: str) -> Any:
        """Give back a (T, S) result: one value per sector and period."""
        return self._per_axis(result, self.sectors, name)

    def _per_axis(self, result: np.ndarray, labels: pd.Index, name: str) -> Any:
        if self.kind == "frame":
            return pd.Series(result[0], index=labels, name=name)
        if self.kind == "array2":
            return result[0]
        if self.kind == "array3":
            return result.T
        return pd.DataFrame(result.T, index=labels, columns=self.periods)

    def same_layout(self, other: _Grid, name: str, reference: str) -> None:
        if other.kind != self.kind or other.values.shape != self.values.shape:
            shape, other_shape = self.values.shape[::-1], other.values.shape[::-1]
            raise ValueError(
                f"{name} must have the same form and shape as {reference}: got a {other.kind} of shape"
                f" {other_shape} against a {self.kind} of shape {shape} (regions, sectors, periods)"
            )
        for attribute in ("regions", "sectors", "periods"):
            if not getattr(self, attribute).equals(getattr(other, attribute)):
                raise ValueError(
                    f"{name} must have the same {attribute} as {reference}, in the same order"
                    " (reindex one table like the other first)"
                )


def _as_grid(matrix: Table, name: str) -> _Grid:
    if isinstance(matrix, RegionSectorPanel):
        values = _as_numbers(matrix.values, name)
        grid = _Grid(_period_major(values), "panel", matrix.regions, matrix.sectors, matrix.periods)
    elif isinstance(matrix, pd.DataFrame):
        _check_unique(matrix.index, f"{name}'s index (its regions)")
        _check_unique(matrix.columns, f"{name}'s columns (its sectors)")
        values = _as_numbers(matrix, name)[:, :, np.newaxis]
        grid = _Grid(_period_major(values), "frame", matrix.index, matrix.columns, pd.RangeIndex(1))
    elif isinstance(matrix, pd.Series | Mapping | str | bytes) or np.isscalar(matrix):
        raise TypeError(
            f"{name} must be a regions x sectors DataFrame, a RegionSectorPanel or a 2-D or 3-D array,"
            f" not {type(matrix).__name__}"
        )
    else:
        values = _as_numbers(matrix, name)
        if values.ndim not in (2, 3):
            raise ValueError(
                f"{name} must be two-dimensional (regions, sectors) or three-dimensional (regions, sectors,"
                f" periods), got an array of shape {values.shape}"
            )
        kind: Literal["array2", "array3"] = "array2" if values.ndim == 2 else "array3"
        if values.ndim == 2:
            values = values[:, :, np.newaxis]
        grid = _Grid(_period_major(values), kind, *(pd.RangeIndex(size) for size in values.shape))
    infinite = np.isinf(grid.values)
    if infinite.any():
        first = tuple(int(i) for i in np.argwhere(infinite)[0])
        raise ValueError(f"{name} has an infinite value at {grid.where(first)}")  # type: ignore[arg-type]
    negative = grid.values < 0
    if negative.any():
        first = tuple(int(i) for i in np.argwhere(negative)[0])
        raise ValueError(
            f"{name} must not be negative, but has {float(grid.values[first])!r} at {grid.where(first)}"  # type: ignore[arg-type]
            f" ({int(negative.sum())} negative value(s))"
        )
    return grid


def _period_major(values: np.ndarray) -> np.ndarray:
    """(R, S, T) to a C-contiguous (T, S, R) cube; free for panels built by :func:`panels_from_long`."""
    return np.ascontiguousarray(values.transpose(2, 1, 0))


def _as_numbers(raw: Any, name: str) -> np.ndarray:
    try:
        if isinstance(raw, pd.DataFrame):
            return raw.to_numpy(dtype=np.float64, na_value=np.nan)
        return np.asarray(raw, dtype=np.float64)  # no copy: inputs are never written to
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must hold numbers (NaN for a missing cell): {exc}") from exc


def _check_share(value: Any, name: str, *, closed: bool = False) -> float:
    low_ok = (lambda v: v >= 0) if closed else (lambda v: v > 0)
    high_ok = (lambda v: v <= 1) if closed else (lambda v: v < 1)
    if (
        not isinstance(value, int | float | np.number)
        or isinstance(value, bool)
        or not math.isfinite(value)
        or not (low_ok(value) and high_ok(value))
    ):
        bounds = "between 0 and 1 inclusive" if closed else "strictly between 0 and 1"
        raise ValueError(f"{name} must be a number {bounds}, got {value!r}")
    return float(value)


def _check_non_negative(value: Any, name: str) -> float:
    if (
        not isinstance(value, int | float | np.number)
        or isinstance(value, bool)
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(f"{name} must be a finite number of at least 0, got {value!r}")
    return float(value)


def _check_choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(repr(c) for c in choices)}, got {value!r}")
    return str(value)


# --- shared computation ----------------------------------------------------------------------------------


def _quantile_of_sorted(sorted_values: np.ndarray, q: float) -> np.ndarray:
    """Quantile ``q`` along the last axis of rows sorted ascending with NaN (left out) at the end.

    Linear interpolation between the two nearest ranks, ``x[k] + (x[k+1] - x[k]) * frac`` with
    ``k + frac = (n - 1) q``: numpy's and pandas' default, and d3's ``quantile`` used by the US Cluster
    Mapping code. NaN where a row has no value.
    """
    count = np.count_nonzero(~np.isnan(sorted_values), axis=-1)
    position = (np.maximum(count, 1) - 1) * q
    low = np.floor(position).astype(np.intp)
    high = np.minimum(low + 1, np.maximum(count - 1, 0))
    fraction = position - low
    lower = np.take_along_axis(sorted_values, low[..., np.newaxis], axis=-1)[..., 0]
    upper = np.take_along_axis(sorted_values, high[..., np.newaxis], axis=-1)[..., 0]
    result = lower + (upper - lower) * fraction
    result[count == 0] = np.nan
    return result


class _Computation:
    """Totals, shares and sorted values of one table, each computed once and shared by the statistics.

    Arrays are in the grid's (periods, sectors, regions) layout; totals keep their summed axes as length 1.
    """

    def __init__(self, grid: _Grid) -> None:
        self.grid = grid
        self.missing = np.isnan(grid.values)
        self.has_missing = bool(self.missing.any())
        # Never written to: without missing cells this is the caller's array itself.
        self.cells = np.where(self.missing, 0.0, grid.values) if self.has_missing else grid.values
        self.region_total = self.cells.sum(axis=1, keepdims=True)  # (T, 1, R)
        self.sector_total = self.cells.sum(axis=2, keepdims=True)  # (T, S, 1)
        self.total = self.sector_total.sum(axis=1, keepdims=True)  # (T, 1, 1)
        self.positive = self.cells > 0
        self._sorted: dict[tuple[str, str], np.ndarray] = {}

    @cached_property
    def share_in_region(self) -> np.ndarray:
        """E_rs / E_r: the sector's share of the region's total (missing cells count as zero)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.cells / self.region_total

    @cached_property
    def sector_share(self) -> np.ndarray:
        """E_s / E: the sector's share of the grand total, shape (T, S, 1)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.sector_total / self.total

    @cached_property
    def region_share(self) -> np.ndarray:
        """E_r / E: the region's share of the grand total, shape (T, 1, R)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.region_total / self.total

    @cached_property
    def location_quotient(self) -> np.ndarray:
        # (E_rs / E_r) / (E_s / E). Zero totals give 0/0 = NaN without special cases: a zero region total
        # makes the share NaN, and a zero sector total makes both the share and the sector share zero.
        with np.errstate(divide="ignore", invalid="ignore"):
            quotient = self.share_in_region / self.sector_share
        if self.has_missing:
            quotient[self.missing] = np.nan
        return quotient

    def sorted_positive(self, key: str, values: np.ndarray, scope: str) -> np.ndarray:
        """``values`` of the cells with positive employment, sorted per sector and period or per period."""
        if (key, scope) not in self._sorted:
            masked = np.where(self.positive, values, np.nan)  # a fresh C-contiguous (T, S, R) array
            if scope == "all":  # rows are periods, members every region-sector cell of the period
                masked = masked.reshape(masked.shape[0], -1)
            masked.sort(axis=-1)  # rows are (period, sector), members the regions; NaN sorts last
            self._sorted[key, scope] = masked
        return self._sorted[key, scope]

    def threshold(self, key: str, values: np.ndarray, scope: str, q: float) -> np.ndarray:
        """Quantile ``q`` of ``values`` over the positive cells, shaped to broadcast against the cube."""
        quantile = _quantile_of_sorted(self.sorted_positive(key, values, scope), q)
        return quantile[:, :, np.newaxis] if scope == "sector" else quantile[:, np.newaxis, np.newaxis]


# --- location quotients -------------------------------------------------------------------------------------


def location_quotient(matrix: Table) -> Any:
    r"""Location quotient of every region and sector.

    .. math:: LQ_{rs} = \frac{E_{rs} / E_r}{E_s / E}

    where :math:`E_{rs}` is employment (or organisations, jobs…) of sector *s* in region *r*,
    :math:`E_r` the region's total, :math:`E_s` the sector's total over all regions and :math:`E` the grand
    total, all within one period. An LQ above 1 means the sector weighs more in the region than in the
    whole territory of the table (Isard, *Methods of Regional Analysis*, MIT Press, 1960; the European
    Cluster Observatory's "specialisation" measure).

    Parameters
    ----------
    matrix : DataFrame (regions x sectors), RegionSectorPanel or array of shape (R, S) or (R, S, T)
        Non-negative numbers; NaN marks a missing cell.

    Returns
    -------
    Same form as ``matrix``, of float
        NaN for missing cells, for every cell of a region whose total is zero and for every cell of a
        sector whose total is zero (0/0: the quotient is undefined there, not zero). Missing cells are left
        out of the totals.

    Raises
    ------
    ValueError
        If ``matrix`` holds negative, infinite or non-numeric values, repeats a label, or has the wrong
        number of dimensions.
    TypeError
        If ``matrix`` is not one of the accepted forms.

    Notes
    -----
    The share-weighted mean of a region's quotients is exactly 1: :math:`\sum_s (E_s/E)\,LQ_{rs} = 1`.
    Scaling the whole table leaves every quotient unchanged.

    Examples
    --------
    Region FR101 has 80% of its jobs in C10, which has 50% of all jobs: its LQ is 0.8 / 0.5 = 1.6. The
    empty region and the empty sector get NaN.

    >>> jobs = pd.DataFrame({"C10": [40.0, 10.0, 0.0], "J62": [10.0, 40.0, 0.0], "B05": [0.0, 0.0, 0.0]},
    ...                     index=["FR101", "FR102", "FR103"])
    >>> location_quotient(jobs)
           C10  J62  B05
    FR101  1.6  0.4  NaN
    FR102  0.4  1.6  NaN
    FR103  NaN  NaN  NaN
    """
    grid = _as_grid(matrix, "matrix")
    return grid.cells(_Computation(grid).location_quotient)


# --- star ratings -------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class StarRatings:
    """Result of :func:`star_ratings`: one table per criterion, in the form of the input.

    Attributes
    ----------
    size, specialisation, focus : bool tables
        Whether each region-sector cell earns the size, specialisation and focus star.
    stars : int8 table
        The number of stars, 0 to 3.
    """

    size: Any
    specialisation: Any
    focus: Any
    stars: Any


def _star_arrays(
    computation: _Computation,
    *,
    size_share: float,
    specialisation_min: float,
    focus_share: float,
    size_scope: str,
    focus_scope: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    cells, positive = computation.cells, computation.positive
    size_threshold = computation.threshold("employment", cells, size_scope, 1.0 - size_share)
    size = positive & (cells >= size_threshold)
    with np.errstate(invalid="ignore"):
        specialisation = computation.location_quotient >= specialisation_min
    share = computation.share_in_region
    focus_threshold = computation.threshold("share_in_region", share, focus_scope, 1.0 - focus_share)
    focus = positive & (share >= focus_threshold)
    return size, specialisation, focus


def star_ratings(
    matrix: Table,
    *,
    size_share: float = 0.10,
    specialisation_min: float = 2.0,
    focus_share: float = 0.10,
    size_scope: Scope = "sector",
    focus_scope: Scope = "all",
) -> StarRatings:
    r"""The European Cluster Observatory's size, specialisation and focus stars.

    A region-sector cell (a "regional cluster" in the Observatory's words, with sectors standing for its
    cluster categories) earns:

    - the **size** star if its employment is in the top ``size_share`` (10%) of the cells of the same
      sector in the table: :math:`E_{rs} \geq Q_{1-\text{size\_share}}\{E_{r's} : E_{r's} > 0\}`;
    - the **specialisation** star if its location quotient (:func:`location_quotient`) is at least
      ``specialisation_min`` (2);
    - the **focus** star if the sector's share of the region's employment, :math:`E_{rs}/E_r`, is in the
      top ``focus_share`` (10%) of all region-sector cells of the table.

    Parameters
    ----------
    matrix : DataFrame (regions x sectors), RegionSectorPanel or array of shape (R, S) or (R, S, T)
        Employment; non-negative, NaN for a missing cell.
    size_share : float, default 0.10
        Share of the cells that earn the size star, strictly between 0 and 1.
    specialisation_min : float, default 2.0
        Lowest location quotient that earns the specialisation star.
    focus_share : float, default 0.10
        Share of the cells that earn the focus star, strictly between 0 and 1.
    size_scope : {"sector", "all"}, default "sector"
        Rank employment among the cells of the same sector (the Observatory's rule) or among all cells.
    focus_scope : {"all", "sector"}, default "all"
        Rank the regional share among all cells or among the cells of the same sector.

    Returns
    -------
    StarRatings
        ``size``, ``specialisation``, ``focus`` (bool) and ``stars`` (int8, 0-3), each in the form of
        ``matrix``.

    Raises
    ------
    ValueError
        As :func:`location_quotient`, or if a parameter is out of range.

    Notes
    -----
    Sources, and how far each default could be checked:

    - European Cluster Observatory (European Commission), "Evaluation of regional cluster strength",
      methodology page at www.clusterobservatory.eu (index.php?id=49), written for its mapping of the EU-27
      and Iceland, Israel, Norway, Switzerland and Turkey; cited as European Commission (2011) by later
      work. It assigns "0, 1, 2 or 3 stars" for size, specialisation and focus. **Size** is verified there
      word for word: "whether a cluster is in the top 10% of all clusters in Europe within the same cluster
      category in terms of the number of employees" — hence ``size_scope="sector"``.
    - **Specialisation**: the same page defines the measure as the location quotient; the copy we could
      read breaks off before its threshold. "The measure needs to be at least 2 to receive a star" is
      quoted from that methodology (European Commission, 2011) in a 2013 SciTePress paper
      (scitepress.org/PublishedPapers/2013/45487).
    - **Focus**: the page motivates it as "the extent to which the locality (the region) is geared towards
      and focused upon production in the relevant industries", measured by the cluster's share of the
      region's employment. Its threshold is **not verified**: both copies we could read break off just
      before it. The 10% default, ranked over all cells, follows the usual description of the method;
      check it against the Observatory's publication before relying on the focus star.

    Only cells with positive employment are ranked, and only they can earn the size or focus star (a
    missing or zero cell is not a cluster). "Top 10%" means at or above the 90th percentile of the ranked
    values, with linear interpolation between ranks. The Observatory worked with 259 regions, mostly NUTS 2,
    and cluster categories built from 4-digit industries; on NUTS 3 regions and NACE divisions the stars
    describe a finer grid and are not comparable with its published maps.

    Examples
    --------
    With four regions the top quarter is used instead of the top 10%, so that each criterion picks
    something: A is the largest C10 cluster (size) and specialised in it (LQ 2.8); B's J62 is the
    largest J62 cluster and 90% of B's jobs (focus); D is small but specialised in C10.

    >>> jobs = pd.DataFrame({"C10": [80.0, 20.0, 10.0, 6.0], "J62": [20.0, 180.0, 90.0, 4.0]},
    ...                     index=["A", "B", "C", "D"])
    >>> ratings = star_ratings(jobs, size_share=0.25, focus_share=0.25)
    >>> ratings.stars
       C10  J62
    A    2    0
    B    0    2
    C    0    1
    D    1    0
    >>> ratings.focus
         C10    J62
    A  False  False
    B  False   True
    C  False   True
    D  False  False
    """
    size_share = _check_share(size_share, "size_share")
    focus_share = _check_share(focus_share, "focus_share")
    specialisation_min = _check_non_negative(specialisation_min, "specialisation_min")
    size_scope = _check_choice(size_scope, "size_scope", ("sector", "all"))  # type: ignore[assignment]
    focus_scope = _check_choice(focus_scope, "focus_scope", ("sector", "all"))  # type: ignore[assignment]
    grid = _as_grid(matrix, "matrix")
    size, specialisation, focus = _star_arrays(
        _Computation(grid),
        size_share=size_share,
        specialisation_min=specialisation_min,
        focus_share=focus_share,
        size_scope=size_scope,
        focus_scope=focus_scope,
    )
    return _star_ratings_result(grid, size, specialisation, focus)


def _star_ratings_result(grid: _Grid, size: np.ndarray, specialisation: np.ndarray, focus: np.ndarray) -> StarRatings:
    stars = size.astype(np.int8) + specialisation.astype(np.int8) + focus.astype(np.int8)
    return StarRatings(grid.cells(size), grid.cells(specialisation), grid.cells(focus), grid.cells(stars))


# --- strong clusters ------------------------------------------------------------------------------------------


def _strong_arrays(
    computation: _Computation,
    establishments: np.ndarray,
    *,
    lq_percentile: float,
    min_lq: float,
    employment_percentile: float,
    establishment_percentile: float,
) -> np.ndarray:
    lq = computation.location_quotient
    lq_threshold = computation.threshold("location_quotient", lq, "sector", lq_percentile)
    employment_threshold = computation.threshold("employment", computation.cells, "sector", employment_percentile)
    establishment_threshold = computation.threshold(
        "establishments", establishments, "sector", establishment_percentile
    )
    with np.errstate(invalid="ignore"):
        return (
            computation.positive
            & (lq >= lq_threshold)
            & (lq >= min_lq)
            & (computation.cells > employment_threshold)
            & (establishments > establishment_threshold)
        )


def strong_clusters(
    employment: Table,
    establishments: Table,
    *,
    lq_percentile: float = 0.75,
    min_lq: float = 1.0,
    employment_percentile: float = 0.25,
    establishment_percentile: float = 0.25,
) -> Any:
    r"""The US Cluster Mapping Project's strong clusters.

    A region-sector cell is a strong cluster when, among the regions with positive employment in that
    sector and period,

    - its location quotient is at or above the ``lq_percentile`` (75th) percentile and at least ``min_lq``
      (1): :math:`LQ_{rs} \geq Q_{0.75}(LQ_{\cdot s})` and :math:`LQ_{rs} \geq 1`;
    - its employment is above the ``employment_percentile`` (25th) percentile:
      :math:`E_{rs} > Q_{0.25}(E_{\cdot s})`;
    - its number of establishments is above the ``establishment_percentile`` (25th) percentile:
      :math:`N_{rs} > Q_{0.25}(N_{\cdot s})`.

    Parameters
    ----------
    employment, establishments : DataFrame, RegionSectorPanel or array, same form, shape and labels
        Employment decides the location quotients and which regions are ranked; establishments (local
        units, enterprises) only enter their own percentile. Non-negative, NaN for a missing cell.
    lq_percentile, employment_percentile, establishment_percentile : float
        Percentiles as fractions between 0 and 1.
    min_lq : float, default 1.0
        Lowest location quotient of a strong cluster, whatever the percentile.

    Returns
    -------
    bool table in the form of ``employment``

    Raises
    ------
    ValueError
        As :func:`location_quotient` for either table, if their shapes or labels differ, or if a
        parameter is out of range.

    Notes
    -----
    Delgado, M., Porter, M. E. and Stern, S. (2014), "Clusters, convergence, and economic performance",
    *Research Policy* 43(10), 1785-1799, and (2016), "Defining clusters of related industries", *Journal
    of Economic Geography* 16(1), 1-38, underlie the US Cluster Mapping Project (clustermapping.us). The
    rule and its thresholds are taken from the project's own open-source code (github.com/clustermapping/
    cmp, ``data/processing/cluster_calcs_reducer.js``, ``strong_b``): ``lq >= top_lq_quartile && emp >
    bottom_emp_quartile && est > bottom_est_quartile && lq >= 1``, with the quartiles taken by d3's
    ``quantile`` (linear interpolation, as here) over the regions with positive employment in the same
    cluster, year and region type. There the sectors are the traded clusters and regions one of the
    US region types; here they are whatever the table holds (NUTS 3 regions and NACE divisions, say).

    A cell whose establishments are missing (NaN) is ranked for employment and location quotient but
    cannot be strong.

    Examples
    --------
    >>> jobs = pd.DataFrame({"C10": [40.0, 10.0, 30.0, 20.0], "J62": [10.0, 40.0, 20.0, 30.0]},
    ...                     index=["A", "B", "C", "D"])
    >>> firms = pd.DataFrame({"C10": [4.0, 1.0, 3.0, 2.0], "J62": [1.0, 4.0, 2.0, 3.0]}, index=jobs.index)
    >>> strong_clusters(jobs, firms)
         C10    J62
    A   True  False
    B  False   True
    C  False  False
    D  False  False
    """
    lq_percentile = _check_share(lq_percentile, "lq_percentile", closed=True)
    employment_percentile = _check_share(employment_percentile, "employment_percentile", closed=True)
    establishment_percentile = _check_share(establishment_percentile, "establishment_percentile", closed=True)
    min_lq = _check_non_negative(min_lq, "min_lq")
    grid = _as_grid(employment, "employment")
    establishment_grid = _as_grid(establishments, "establishments")
    grid.same_layout(establishment_grid, "establishments", "employment")
    strong = _strong_arrays(
        _Computation(grid),
        establishment_grid.values,
        lq_percentile=lq_percentile,
        min_lq=min_lq,
        employment_percentile=employment_percentile,
        establishment_percentile=establishment_percentile,
    )
    return grid.cells(strong)


# --- specialisation and concentration indices ------------------------------------------------------------


def _krugman_array(computation: _Computation, reference: str) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        if reference == "all":
            elsewhere = computation.sector_share
        else:
            elsewhere = (computation.sector_total - computation.cells) / (computation.total - computation.region_total)
        index = np.abs(computation.share_in_region - elsewhere).sum(axis=1)
    return np.clip(index, 0.0, 2.0)


def krugman_index(matrix: Table, *, reference: Literal["all", "rest"] = "all") -> Any:
    r"""Krugman dissimilarity (specialisation) index of every region.

    .. math:: K_r = \sum_s \left| \frac{E_{rs}}{E_r} - \frac{E_s}{E} \right| \in [0, 2]

    0 when the region's sector mix equals the reference's, 2 when the two share no sector
    (Krugman, P., *Geography and Trade*, MIT Press, 1991).

    Parameters
    ----------
    matrix : DataFrame (regions x sectors), RegionSectorPanel or array of shape (R, S) or (R, S, T)
    reference : {"all", "rest"}, default "all"
        Compare each region with all regions of the table (itself included), or with the rest of them:
        :math:`(E_s - E_{rs}) / (E - E_r)`.

    Returns
    -------
    Per region: a Series (DataFrame input), a DataFrame regions x periods (panel), or an array of shape
    (R,) or (R, T). NaN for a region whose total is zero (and, with ``reference="rest"``, for the only
    region with employment).

    Examples
    --------
    >>> jobs = pd.DataFrame({"C10": [40.0, 10.0, 0.0], "J62": [10.0, 40.0, 50.0]}, index=["FR101", "FR102", "FR103"])
    >>> krugman_index(jobs)
    FR101    0.933333
    FR102    0.266667
    FR103    0.666667
    Name: krugman, dtype: float64
    >>> krugman_index(jobs, reference="rest")
    FR101    1.4
    FR102    0.4
    FR103    1.0
    Name: krugman, dtype: float64
    """
    reference = _check_choice(reference, "reference", ("all", "rest"))  # type: ignore[assignment]
    grid = _as_grid(matrix, "matrix")
    return grid.per_region(_krugman_array(_Computation(grid), reference), "krugman")


def _hoover_array(computation: _Computation, by: str) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        if by == "sector":
            gaps = computation.cells / computation.sector_total - computation.region_share
            index = 0.5 * np.abs(gaps).sum(axis=2)
        else:
            index = 0.5 * np.abs(computation.share_in_region - computation.sector_share).sum(axis=1)
    return np.clip(index, 0.0, 1.0)


def hoover_index(matrix: Table, *, by: Literal["sector", "region"] = "sector") -> Any:
    r"""Hoover coefficient of localisation (by sector) or of specialisation (by region).

    .. math::
        H_s = \tfrac12 \sum_r \left| \frac{E_{rs}}{E_s} - \frac{E_r}{E} \right| \in [0, 1]
        \qquad
        H_r = \tfrac12 \sum_s \left| \frac{E_{rs}}{E_r} - \frac{E_s}{E} \right| \in [0, 1]

    :math:`H_s` is the share of the sector's employment that would have to move for the sector to be spread
    like total employment: 0 when it is, close to 1 when it sits in a region with a tiny share of all
    jobs (Hoover, E. M., "The measurement of industrial localization", *Review of Economics and
    Statistics* 18(4), 1936, 162-171). :math:`H_r` is half the Krugman index.

    Parameters
    ----------
    matrix : DataFrame (regions x sectors), RegionSectorPanel or array of shape (R, S) or (R, S, T)
    by : {"sector", "region"}, default "sector"

    Returns
    -------
    Per sector (or region): a Series, a DataFrame x periods, or an array of shape (S,) or (S, T). NaN for a
    sector (region) whose total is zero.

    Examples
    --------
    >>> jobs = pd.DataFrame({"C10": [40.0, 10.0, 0.0], "J62": [10.0, 40.0, 50.0]}, index=["FR101", "FR102", "FR103"])
    >>> hoover_index(jobs)
    C10    0.466667
    J62    0.233333
    Name: hoover, dtype: float64
    """
    by = _check_choice(by, "by", ("sector", "region"))  # type: ignore[assignment]
    grid = _as_grid(matrix, "matrix")
    index = _hoover_array(_Computation(grid), by)
    return grid.per_sector(index, "hoover") if by == "sector" else grid.per_region(index, "hoover")


def _herfindahl_array(computation: _Computation, by: str) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        if by == "region":
            index = np.square(computation.share_in_region).sum(axis=1)
        else:
            index = np.square(computation.cells / computation.sector_total).sum(axis=2)
    return np.clip(index, 0.0, 1.0)


def herfindahl_hirschman_index(matrix: Table, *, by: Literal["region", "sector"] = "region") -> Any:
    r"""Herfindahl-Hirschman concentration index of each region's sectors (or each sector's regions).

    .. math::
        HHI_r = \sum_s \left(\frac{E_{rs}}{E_r}\right)^2 \in (0, 1]
        \qquad
        HHI_s = \sum_r \left(\frac{E_{rs}}{E_s}\right)^2 \in (0, 1]

    1 when all of a region's employment is in one sector (all of a sector's in one region); :math:`1/n`
    when it is spread evenly over *n* (Hirschman, A. O., *National Power and the Structure of Foreign
    Trade*, 1945; Herfindahl, O. C., *Concentration in the Steel Industry*, 1950; Hirschman, "The
    paternity of an index", *American Economic Review* 54(5), 1964, 761).

    Parameters
    ----------
    matrix : DataFrame (regions x sectors), RegionSectorPanel or array of shape (R, S) or (R, S, T)
    by : {"region", "sector"}, default "region"

    Returns
    -------
    Per region (or sector), as :func:`krugman_index`. NaN where the total is zero.

    Examples
    --------
    >>> jobs = pd.DataFrame({"C10": [40.0, 10.0, 0.0], "J62": [10.0, 40.0, 50.0]}, index=["FR101", "FR102", "FR103"])
    >>> herfindahl_hirschman_index(jobs)
    FR101    0.68
    FR102    0.68
    FR103    1.00
    Name: herfindahl_hirschman, dtype: float64
    """
    by = _check_choice(by, "by", ("region", "sector"))  # type: ignore[assignment]
    grid = _as_grid(matrix, "matrix")
    index = _herfindahl_array(_Computation(grid), by)
    name = "herfindahl_hirschman"
    return grid.per_region(index, name) if by == "region" else grid.per_sector(index, name)


def _gini_array(computation: _Computation) -> np.ndarray:
    count_t, count_s, count_r = computation.cells.shape
    # Regions with no employment (NaN LQ) have no weight on the curve; missing cells count as zero.
    key = np.nan_to_num(computation.location_quotient, nan=0.0)
    order = np.argsort(key, axis=-1)  # per (period, sector), over contiguous regions
    # Gather through flat indices: each row's region order, offset to its period (for E_r / E) or to its
    # own row (for the LQ); cheaper than take_along_axis over a broadcast array.
    x = np.take(computation.region_share.reshape(-1), order + (np.arange(count_t) * count_r)[:, None, None])
    quotient = np.take(key.reshape(-1), order + (np.arange(count_t * count_s) * count_r).reshape(count_t, count_s, 1))
    y = quotient * x  # E_rs / E_s = LQ_rs * E_r / E
    cumulative = np.cumsum(y, axis=-1)
    # Twice the area between the diagonal and the localisation curve, by trapezoids.
    gini = 1.0 - (x * (2.0 * cumulative - y)).sum(axis=-1)
    gini[computation.sector_total[:, :, 0] == 0] = np.nan
    return np.clip(gini, 0.0, 1.0)


def locational_gini(matrix: Table) -> Any:
    r"""Locational Gini coefficient of every sector.

    Regions are ordered by the sector's location quotient, ascending; the localisation curve plots the
    cumulated share of total employment, :math:`X_k = \sum_{j \le k} E_j/E`, against the cumulated share of
    the sector's employment, :math:`Y_k = \sum_{j \le k} E_{js}/E_s`, and

    .. math:: G_s = 1 - \sum_k (X_k - X_{k-1})(Y_k + Y_{k-1}) \in [0, 1)

    is twice the area between the curve and the diagonal: 0 when the sector is spread like total
    employment, approaching 1 when it is concentrated in regions with little employment (Krugman, P.,
    *Geography and Trade*, MIT Press, 1991; Audretsch, D. B. and Feldman, M. P., "R&D spillovers and the
    geography of innovation and production", *American Economic Review* 86(3), 1996, 630-640).

    Parameters
    ----------
    matrix : DataFrame (regions x sectors), RegionSectorPanel or array of shape (R, S) or (R, S, T)

    Returns
    -------
    Per sector, as :func:`hoover_index`. NaN for a sector whose total is zero.

    Examples
    --------
    C10's regions in LQ order are FR103 (LQ 0), FR102 (0.6) and FR101 (2.4), each with a third of all
    jobs and 0%, 20% and 80% of C10's: G = 1 - (0 + 0.2 + 1.2) / 3 = 0.533.

    >>> jobs = pd.DataFrame({"C10": [40.0, 10.0, 0.0], "J62": [10.0, 40.0, 50.0]}, index=["FR101", "FR102", "FR103"])
    >>> locational_gini(jobs)
    C10    0.533333
    J62    0.266667
    Name: locational_gini, dtype: float64
    """
    grid = _as_grid(matrix, "matrix")
    return grid.per_sector(_gini_array(_Computation(grid)), "locational_gini")


# --- everything at once ---------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ClusterStatistics:
    """Result of :func:`cluster_statistics`, each table in the form of the input.

    Attributes
    ----------
    location_quotient : float table
    stars : StarRatings
    strong : bool table, or None when no establishments were given
    krugman, herfindahl_hirschman : per region
    hoover, locational_gini : per sector
    """

    location_quotient: Any
    stars: StarRatings
    strong: Any
    krugman: Any
    hoover: Any
    herfindahl_hirschman: Any
    locational_gini: Any


def cluster_statistics(
    employment: Table,
    establishments: Table | None = None,
    *,
    size_share: float = 0.10,
    specialisation_min: float = 2.0,
    focus_share: float = 0.10,
    size_scope: Scope = "sector",
    focus_scope: Scope = "all",
    lq_percentile: float = 0.75,
    min_lq: float = 1.0,
    employment_percentile: float = 0.25,
    establishment_percentile: float = 0.25,
    krugman_reference: Literal["all", "rest"] = "all",
) -> ClusterStatistics:
    """Location quotients, stars, strong clusters and indices in one pass over the tables.

    Gives exactly what :func:`location_quotient`, :func:`star_ratings`, :func:`strong_clusters`,
    :func:`krugman_index`, :func:`hoover_index` (by sector), :func:`herfindahl_hirschman_index` (by region)
    and :func:`locational_gini` give with the same parameters, but computes the totals, shares and
    sorted employment once for all of them. This is what the regional statistics pages use.

    Parameters
    ----------
    employment : DataFrame (regions x sectors), RegionSectorPanel or array of shape (R, S) or (R, S, T)
    establishments : same form as ``employment``, optional
        Without it, ``strong`` is None.
    size_share, specialisation_min, focus_share, size_scope, focus_scope
        As in :func:`star_ratings`.
    lq_percentile, min_lq, employment_percentile, establishment_percentile
        As in :func:`strong_clusters`.
    krugman_reference : {"all", "rest"}
        As ``reference`` in :func:`krugman_index`.

    Returns
    -------
    ClusterStatistics

    Examples
    --------
    >>> jobs = pd.DataFrame({"C10": [40.0, 10.0, 0.0], "J62": [10.0, 40.0, 50.0]}, index=["FR101", "FR102", "FR103"])
    >>> result = cluster_statistics(jobs)
    >>> result.location_quotient.round(3)
           C10  J62
    FR101  2.4  0.3
    FR102  0.6  1.2
    FR103  0.0  1.5
    >>> result.stars.specialisation["C10"].tolist(), result.strong is None
    ([True, False, False], True)
    """
    size_share = _check_share(size_share, "size_share")
    focus_share = _check_share(focus_share, "focus_share")
    specialisation_min = _check_non_negative(specialisation_min, "specialisation_min")
    size_scope = _check_choice(size_scope, "size_scope", ("sector", "all"))  # type: ignore[assignment]
    focus_scope = _check_choice(focus_scope, "focus_scope", ("sector", "all"))  # type: ignore[assignment]
    lq_percentile = _check_share(lq_percentile, "lq_percentile", closed=True)
    employment_percentile = _check_share(employment_percentile, "employment_percentile", closed=True)
    establishment_percentile = _check_share(establishment_percentile, "establishment_percentile", closed=True)
    min_lq = _check_non_negative(min_lq, "min_lq")
    krugman_reference = _check_choice(  # type: ignore[assignment]
        krugman_reference, "krugman_reference", ("all", "rest")
    )
    grid = _as_grid(employment, "employment")
    computation = _Computation(grid)
    strong = None
    if establishments is not None:
        establishment_grid = _as_grid(establishments, "establishments")
        grid.same_layout(establishment_grid, "establishments", "employment")
        strong = grid.cells(
            _strong_arrays(
                computation,
                establishment_grid.values,
                lq_percentile=lq_percentile,
                min_lq=min_lq,
                employment_percentile=employment_percentile,
                establishment_percentile=establishment_percentile,
            )
        )
    size, specialisation, focus = _star_arrays(
        computation,
        size_share=size_share,
        specialisation_min=specialisation_min,
        focus_share=focus_share,
        size_scope=size_scope,
        focus_scope=focus_scope,
    )
    return ClusterStatistics(
        location_quotient=grid.cells(computation.location_quotient),
        stars=_star_ratings_result(grid, size, specialisation, focus),
        strong=strong,
        krugman=grid.per_region(_krugman_array(computation, krugman_reference), "krugman"),
        hoover=grid.per_sector(_hoover_array(computation, "sector"), "hoover"),
        herfindahl_hirschman=grid.per_region(_herfindahl_array(computation, "region"), "herfindahl_hirschman"),
        locational_gini=grid.per_sector(_gini_array(computation), "locational_gini"),
    )
