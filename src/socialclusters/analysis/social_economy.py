"""Social economy indicators: its share of cluster members, its location quotient, presence and density.

Pure numpy and pandas: no Django here. The tables are the region x sector tables of
:mod:`socialclusters.analysis.cluster_statistics` (a DataFrame, a :class:`RegionSectorPanel` or an array),
and the same rules hold: non-negative numbers, NaN for a missing cell (left out of the totals), zero
totals give NaN rather than a number that means nothing.

"Social economy" counts whatever the caller counts — organisations or jobs of cooperatives, mutuals,
associations, foundations, social enterprises and other social economy entities (the families of the
registry) — as long as ``social_economy`` and ``total`` count the same thing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from socialclusters.analysis.cluster_statistics import Table, _as_grid, _check_choice, _Grid

__all__ = [
    "social_economy_density",
    "social_economy_location_quotient",
    "social_economy_presence",
    "social_economy_share",
]


def social_economy_share(
    clusters: Sequence[Any] | np.ndarray | pd.Series,
    is_social_economy: Sequence[bool] | np.ndarray | pd.Series,
    *,
    weights: Sequence[float] | np.ndarray | pd.Series | None = None,
) -> pd.DataFrame:
    r"""Share of social economy members in each cluster.

    .. math:: \text{share}_c = \frac{\sum_{m \in c,\ m \in SE} w_m}{\sum_{m \in c} w_m}

    over the memberships *m* of cluster *c*, with weight :math:`w_m = 1` (members) unless ``weights`` are
    given (jobs, turnover…).

    Parameters
    ----------
    clusters : array-like
        The cluster of each membership, one entry per member of a cluster (a member of two clusters has
        two entries).
    is_social_economy : array-like of bool
        Whether each membership's member is a social economy organisation.
    weights : array-like of float, optional
        A non-negative weight per membership.

    Returns
    -------
    pandas.DataFrame
        Indexed by cluster (sorted), with columns ``members`` (number of memberships),
        ``social_economy_members``, ``weight`` and ``social_economy_weight`` (equal to the counts without
        ``weights``) and ``share`` (NaN for a cluster whose weights are all zero).

    Raises
    ------
    ValueError
        If the inputs differ in length, a cluster is missing, ``is_social_economy`` is not boolean, or a
        weight is negative or not finite.

    Examples
    --------
    >>> shares = social_economy_share(["PTCE Lyon", "PTCE Lyon", "PTCE Lyon", "Klaster"], [True, False, True, False])
    >>> shares[["members", "social_economy_members", "share"]]
               members  social_economy_members     share
    Klaster          1                       0  0.000000
    PTCE Lyon        3                       2  0.666667

    Weighted by jobs, the two social economy members hold 15 of the cluster's 115 jobs:

    >>> social_economy_share(["PTCE Lyon"] * 3, [True, False, True], weights=[5, 100, 10])["share"].round(3)
    PTCE Lyon    0.13
    Name: share, dtype: float64
    """
    cluster_values = _one_dimensional(clusters, "clusters")
    flags = _one_dimensional(is_social_economy, "is_social_economy")
    if len(flags) != len(cluster_values):
        raise ValueError(
            f"clusters and is_social_economy must have the same length, got {len(cluster_values)} and {len(flags)}"
        )
    if flags.dtype != bool:
        if not all(isinstance(flag, bool | np.bool_) for flag in flags):
            raise ValueError("is_social_economy must hold booleans (True or False) only")
        flags = flags.astype(bool)
    if weights is None:
        weight_values = np.ones(len(cluster_values))
    else:
        weight_values = _one_dimensional(weights, "weights")
        if len(weight_values) != len(cluster_values):
            raise ValueError(
                f"weights must have one entry per membership ({len(cluster_values)}), got {len(weight_values)}"
            )
        try:
            weight_values = weight_values.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"weights must be numbers: {exc}") from exc
        if not np.isfinite(weight_values).all() or (weight_values < 0).any():
            raise ValueError("weights must be finite and not negative")
    codes, labels = pd.factorize(cluster_values, sort=True)
    if (codes < 0).any():
        raise ValueError(f"clusters has a missing value at position {int(np.flatnonzero(codes < 0)[0])}")
    count = len(labels)
    members = np.bincount(codes, minlength=count)
    social = np.bincount(codes, weights=flags.astype(np.float64), minlength=count).astype(np.int64)
    weight = np.bincount(codes, weights=weight_values, minlength=count)
    social_weight = np.bincount(codes, weights=weight_values * flags, minlength=count)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = social_weight / weight
    return pd.DataFrame(
        {
            "members": members,
            "social_economy_members": social,
            "weight": weight,
            "social_economy_weight": social_weight,
            "share": share,
        },
        index=pd.Index(labels, name=getattr(clusters, "name", None)),
    )


def _one_dimensional(values: Any, name: str) -> np.ndarray:
    if isinstance(values, str | bytes):
        raise TypeError(f"{name} must be a sequence, not a single string")
    array = values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    return array


def _social_economy_grids(social_economy: Table, total: Table) -> tuple[_Grid, _Grid]:
    social = _as_grid(social_economy, "social_economy")
    everything = _as_grid(total, "total")
    everything.same_layout(social, "social_economy", "total")
    with np.errstate(invalid="ignore"):
        exceeding = social.values > everything.values
    if exceeding.any():
        first = tuple(int(i) for i in np.argwhere(exceeding)[0])
        raise ValueError(
            f"social_economy cannot exceed total, but does at {everything.where(first)}:"  # type: ignore[arg-type]
            f" {float(social.values[first])!r} > {float(everything.values[first])!r} ({int(exceeding.sum())} cell(s));"
            " both must count the same thing (organisations, or jobs)"
        )
    return social, everything


def social_economy_location_quotient(
    social_economy: Table,
    total: Table,
    *,
    by: Literal["cell", "region", "sector"] = "cell",
) -> Any:
    r"""Location quotient of the social economy: its weight in a place against its weight overall.

    .. math::
        LQ^{SE}_{rs} = \frac{SE_{rs} / T_{rs}}{SE / T}
        \qquad
        LQ^{SE}_{r} = \frac{SE_{r} / T_{r}}{SE / T}
        \qquad
        LQ^{SE}_{s} = \frac{SE_{s} / T_{s}}{SE / T}

    where :math:`SE_{rs}` counts social economy organisations (or jobs) of sector *s* in region *r*,
    :math:`T_{rs}` all organisations (or jobs) there, and sums over an index are written by dropping it.
    It is the ordinary location quotient with the social economy as the "sector" and the cell, region or
    sector as the "region": above 1, the social economy weighs more there than in the whole table.

    Parameters
    ----------
    social_economy, total : DataFrame (regions x sectors), RegionSectorPanel or array, same form and labels
        Counts, with ``social_economy <= total`` in every cell. NaN marks a missing cell.
    by : {"cell", "region", "sector"}, default "cell"

    Returns
    -------
    For ``"cell"``, a table in the form of the inputs; for ``"region"`` or ``"sector"``, one value per
    region or sector (a Series for DataFrames, a DataFrame x periods for panels, an array for arrays).
    NaN where the denominator's total is zero, and everywhere in a period without social economy.

    Raises
    ------
    ValueError
        As :func:`~socialclusters.analysis.cluster_statistics.location_quotient`, if the tables differ in
        shape or labels, or if a social economy count exceeds the total.

    Notes
    -----
    Weighted by each place's share of the total, the quotients average to 1:
    :math:`\sum_r (T_r/T)\,LQ^{SE}_r = 1`.

    Examples
    --------
    One organisation in ten is social economy overall; in FR101's Q88 (social work) four in ten are.

    >>> total = pd.DataFrame({"Q88": [100.0, 100.0], "C10": [100.0, 200.0]}, index=["FR101", "ITC11"])
    >>> social = pd.DataFrame({"Q88": [40.0, 5.0], "C10": [5.0, 0.0]}, index=total.index)
    >>> social_economy_location_quotient(social, total)
           Q88  C10
    FR101  4.0  0.5
    ITC11  0.5  0.0
    >>> social_economy_location_quotient(social, total, by="region")
    FR101    2.250000
    ITC11    0.166667
    Name: social_economy_location_quotient, dtype: float64
    """
    by = _check_choice(by, "by", ("cell", "region", "sector"))  # type: ignore[assignment]
    social, everything = _social_economy_grids(social_economy, total)
    social_cells = np.nan_to_num(social.values, nan=0.0)
    total_cells = np.nan_to_num(everything.values, nan=0.0)
    name = "social_economy_location_quotient"
    with np.errstate(divide="ignore", invalid="ignore"):
        # Grids are (periods, sectors, regions); ``overall`` is SE / T per period.
        overall = social_cells.sum(axis=(1, 2)) / total_cells.sum(axis=(1, 2))
        if by == "cell":
            quotient = (social.values / everything.values) / overall[:, np.newaxis, np.newaxis]
            return everything.cells(quotient)
        if by == "region":
            quotient = (social_cells.sum(axis=1) / total_cells.sum(axis=1)) / overall[:, np.newaxis]
            return everything.per_region(quotient, name)
        quotient = (social_cells.sum(axis=2) / total_cells.sum(axis=2)) / overall[:, np.newaxis]
        return everything.per_sector(quotient, name)


def social_economy_presence(clusters: Table, social_economy: Table) -> pd.DataFrame:
    """Presence of the social economy in each region's traditional clusters.

    Parameters
    ----------
    clusters : bool table (DataFrame, RegionSectorPanel or array, regions x sectors)
        Which region-sector cells are traditional clusters: for example the result of
        :func:`~socialclusters.analysis.cluster_statistics.strong_clusters`, or
        ``star_ratings(...).stars >= 2``.
    social_economy : table of the same form and labels
        Social economy organisations (or jobs) by region and sector. NaN cells count as zero.

    Returns
    -------
    pandas.DataFrame
        One row per region (per region and period, as a ``(region, period)`` MultiIndex, for 3-D inputs),
        with columns

        - ``clusters``: the region's traditional clusters;
        - ``clusters_with_social_economy``: those of them with social economy (a positive count);
        - ``presence_share``: the ratio of the two, NaN for a region without clusters;
        - ``social_economy_in_clusters`` and ``social_economy``: social economy in the clusters and in the
          whole region;
        - ``share_in_clusters``: the ratio of the two, NaN for a region without social economy.

    Raises
    ------
    ValueError
        If ``clusters`` holds anything but booleans (or 0 and 1), or the tables differ in shape or labels.

    Examples
    --------
    >>> strong = pd.DataFrame({"C10": [True, False], "J62": [True, False], "Q88": [False, False]},
    ...                       index=["FR101", "ITC11"])
    >>> social = pd.DataFrame({"C10": [3.0, 0.0], "J62": [0.0, 2.0], "Q88": [5.0, 4.0]}, index=strong.index)
    >>> social_economy_presence(strong, social)[["clusters", "clusters_with_social_economy", "share_in_clusters"]]
           clusters  clusters_with_social_economy  share_in_clusters
    FR101         2                             1              0.375
    ITC11         0                             0              0.000
    """
    cluster_grid = _as_grid(clusters, "clusters")
    if not np.isin(cluster_grid.values, (0.0, 1.0)).all():
        raise ValueError("clusters must be a table of booleans (True where a cell is a traditional cluster)")
    social = _as_grid(social_economy, "social_economy")
    cluster_grid.same_layout(social, "social_economy", "clusters")
    is_cluster = cluster_grid.values.astype(bool)
    counts = np.nan_to_num(social.values, nan=0.0)
    # Grids are (periods, sectors, regions); sum over sectors to get (periods, regions).
    in_region = is_cluster.sum(axis=1)
    with_social = (is_cluster & (counts > 0)).sum(axis=1)
    social_in_clusters = np.where(is_cluster, counts, 0.0).sum(axis=1)
    social_total = counts.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        columns = {
            "clusters": in_region,
            "clusters_with_social_economy": with_social,
            "presence_share": with_social / in_region,
            "social_economy_in_clusters": social_in_clusters,
            "social_economy": social_total,
            "share_in_clusters": social_in_clusters / social_total,
        }
    if cluster_grid.kind in ("frame", "array2"):
        return pd.DataFrame({name: values[0] for name, values in columns.items()}, index=cluster_grid.regions)
    index = pd.MultiIndex.from_product(
        [cluster_grid.regions, cluster_grid.periods],
        names=[cluster_grid.regions.name or "region", cluster_grid.periods.name or "period"],
    )
    return pd.DataFrame({name: values.T.reshape(-1) for name, values in columns.items()}, index=index)


def social_economy_density(
    organisations: pd.Series,
    *,
    area_km2: pd.Series | None = None,
    population: pd.Series | None = None,
) -> pd.DataFrame:
    r"""Density of social economy organisations: per 1,000 km² and per 100,000 inhabitants.

    .. math::
        \text{per\_1000\_km2}_r = 1000 \frac{N_r}{A_r}
        \qquad
        \text{per\_100k\_inhabitants}_r = 100\,000 \frac{N_r}{P_r}

    Parameters
    ----------
    organisations : pandas.Series
        Social economy organisations per region (indexed by region code).
    area_km2 : pandas.Series, optional
        Land area per region in km² (for example
        :func:`socialclusters.analysis.concentrations.areas_km2` of the GISCO polygons).
    population : pandas.Series, optional
        Inhabitants per region (Eurostat ``demo_r_pjangrp3``, say).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``organisations``, with ``organisations`` and, for each denominator given,
        ``per_1000_km2`` or ``per_100k_inhabitants``. Regions absent from a denominator, or where it is
        zero, get NaN.

    Raises
    ------
    ValueError
        If no denominator is given, or a series holds negative or non-numeric values.

    Examples
    --------
    >>> counts = pd.Series({"FR101": 120, "FRK26": 45})
    >>> social_economy_density(counts, area_km2=pd.Series({"FR101": 105.4, "FRK26": 4_500.0}),
    ...                        population=pd.Series({"FR101": 2_133_111, "FRK26": 299_000}))
           organisations  per_1000_km2  per_100k_inhabitants
    FR101            120   1138.519924              5.625586
    FRK26             45     10.000000             15.050167
    """
    counts = _non_negative_series(organisations, "organisations")
    if area_km2 is None and population is None:
        raise ValueError("give area_km2, population or both: a density needs a denominator")
    result = pd.DataFrame({"organisations": organisations}, index=organisations.index)
    for argument, series, column, scale in (
        ("area_km2", area_km2, "per_1000_km2", 1_000.0),
        ("population", population, "per_100k_inhabitants", 100_000.0),
    ):
        if series is None:
            continue
        denominator = _non_negative_series(series, argument).reindex(organisations.index)
        with np.errstate(divide="ignore", invalid="ignore"):
            density = scale * counts.to_numpy() / denominator.to_numpy()
        density[~np.isfinite(density)] = np.nan
        result[column] = density
    return result


def _non_negative_series(series: Any, name: str) -> pd.Series:
    if not isinstance(series, pd.Series):
        raise TypeError(f"{name} must be a pandas Series indexed by region, not {type(series).__name__}")
    if not series.index.is_unique:
        raise ValueError(f"{name} has repeated regions in its index")
    try:
        numbers = series.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must hold numbers: {exc}") from exc
    if (numbers < 0).any() or np.isinf(numbers).any():
        raise ValueError(f"{name} must be finite and not negative")
    return numbers
