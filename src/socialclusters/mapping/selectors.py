"""Reads of the mapping app: regional statistics, the map's indicator layers, geometry and region profiles.

Every map layer is a value per NUTS region of one level, with its quantile classes, its base (how many
regions have a value) and its source, so the map, its table, its CSV and its static image all say the same
thing. Two kinds of sources feed the layers:

- the **registry** itself (organisations, social economy organisations by family, clusters and their
  members, placed in NUTS 3 regions and rolled up by code prefix);
- imported **regional statistics** (``RegionalStatistic``: employment by region and sector from Eurostat),
  from which location quotients and the European Cluster Observatory's stars are computed in ``analysis``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import shapely
from django.db.models import Count, F, Max, Min, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from socialclusters.analysis import choropleth
from socialclusters.analysis.cluster_statistics import location_quotient, star_ratings
from socialclusters.analysis.concentrations import getis_ord_gi_star, neighbours_from_polygons
from socialclusters.errors import NotFound, ValidationError
from socialclusters.mapping.models import Measure, RegionalStatistic
from socialclusters.registry.exports import cluster_location
from socialclusters.registry.models import (
    NUTS_VERSION,
    SOCIAL_ECONOMY_KINDS,
    Cluster,
    Membership,
    Organisation,
    OrganisationKind,
    PublicationStatus,
    Region,
)

LEVELS = (0, 1, 2, 3)
COUNT_INDICATORS = frozenset({"organisations", "se_organisations", "clusters", "cluster_members"})
INTEGER_INDICATORS = COUNT_INDICATORS | {"stars"}
SE_FAMILIES = tuple(kind.value for kind in OrganisationKind if kind in SOCIAL_ECONOMY_KINDS)
REGISTRY_SOURCE = "socialclusters registry"
# Eurostat's A*10 breakdown (nama_10r_3empers, nama_10r_2emhrw): a partition of the economy. "C" is part of
# "B-E", so it is mapped against the partition's totals but is not one of its columns.
A10 = ("A", "B-E", "F", "G-I", "J", "K", "L", "M_N", "O-Q", "R-U")
# Fixed classes for Getis–Ord Gi* z-scores: cold and hot spots at the 99 % and 95 % levels (two-sided normal).
HOT_SPOT_BREAKS = (-np.inf, -2.576, -1.960, 1.960, 2.576, np.inf)
HOT_SPOT_COLOURS = ("#2166ac", "#92c5de", "#f7f7f7", "#f4a582", "#b2182b")  # ColorBrewer RdBu, diverging
HOT_SPOT_LABELS = (_("cold spot (99 %)"), _("cold spot (95 %)"), _("not significant"), _("hot spot (95 %)"),
                   _("hot spot (99 %)"))


@dataclass(frozen=True)
class Indicator:
    key: str
    label: Any
    unit: Any
    description: Any
    needs_sector: bool = False  # a NACE code or aggregate from the imported statistics
    needs_year: bool = False
    has_family: bool = False  # a social economy family may narrow it
    from_statistics: bool = False  # computed from imported regional statistics (not the registry)


INDICATORS: dict[str, Indicator] = {indicator.key: indicator for indicator in (
    Indicator("organisations", _("Organisations in the registry"), _("organisations"),
              _("Organisations of every kind placed in the region.")),
    Indicator("se_organisations", _("Social economy organisations"), _("organisations"),
              _("Cooperatives, mutuals, associations, foundations, social enterprises and other social economy "
                "entities placed in the region; choose a family to map one of them."), has_family=True),
    Indicator("se_share", _("Social economy share of organisations"), "%",
              _("Social economy organisations as a percentage of all organisations placed in the region."),
              has_family=True),
    Indicator("se_lq", _("Social economy location quotient"), _("quotient"),
              _("The region's share of social economy organisations against the share over all regions: "
                "above 1, the social economy weighs more here than on average. With a NACE section, among "
                "organisations of that section only.")),
    Indicator("clusters", _("Clusters"), _("clusters"),
              _("Published clusters covering the region (or, without stated regions, in its country).")),
    Indicator("cluster_members", _("Cluster members"), _("organisations"),
              _("Current members of clusters placed in the region.")),
    Indicator("se_share_in_clusters", _("Social economy share of cluster members"), "%",
              _("Social economy organisations among the current cluster members placed in the region.")),
    Indicator("hot_spots", _("Hot spots of social economy organisations"), _("Gi* z-score"),
              _("Getis–Ord Gi* over neighbouring regions: where social economy organisations gather more (hot) or "
                "less (cold) than chance would put them. Candidates for the secretariat's review, not clusters.")),
    Indicator("employment", _("Employment"), _("as published"),
              _("Employment in the chosen sector and year, from the imported regional statistics."),
              needs_sector=True, needs_year=True, from_statistics=True),
    Indicator("lq", _("Location quotient"), _("quotient"),
              _("Employment location quotient of the chosen sector and year: (E_rs / E_r) / (E_s / E)."),
              needs_sector=True, needs_year=True, from_statistics=True),
    Indicator("stars", _("Cluster stars"), _("stars (0–3)"),
              _("The European Cluster Observatory's size, specialisation and focus stars of the chosen sector "
                "and year."), needs_sector=True, needs_year=True, from_statistics=True),
)}


@dataclass(frozen=True)
class LayerQuery:
    """What a map layer shows; every field is checked by :func:`layer_query`."""

    level: int = 2
    indicator: str = "se_organisations"
    family: str = ""
    sector: str = ""
    year: int | None = None
    urban_rural: int | None = None
    classes: int = 5


@dataclass
class MapLayer:
    query: LayerQuery
    indicator: Indicator
    codes: list[str]
    names: list[str]
    values: list[float | None]
    classes: list[int]
    breaks: list[float]
    legend: list[str]
    method: str  # "quantiles" or "fixed"
    source: str
    note: str = ""
    extra: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def colours(self) -> list[str]:
        """The fill of each class: diverging blue to red for hot spots, the sequential ramp otherwise."""
        if self.indicator.key == "hot_spots":
            return list(HOT_SPOT_COLOURS)
        return choropleth.class_colours(len(self.legend))

    @property
    def n(self) -> int:
        return sum(value is not None for value in self.values)

    def rows(self) -> list[dict[str, Any]]:
        return [
            {"code": code, "name": name, "value": value, "class": cls,
             **{key: column[i] for key, column in self.extra.items()}}
            for i, (code, name, value, cls) in enumerate(zip(self.codes, self.names, self.values, self.classes,
                                                             strict=True))
        ]


# --- statistics ---------------------------------------------------------------------------------------------


def regional_statistics(
    *,
    measure: str | None = None,
    year: int | None = None,
    dataset: str | None = None,
    nuts_version: str = NUTS_VERSION,
    level: int | None = None,
) -> QuerySet[RegionalStatistic]:
    """Statistics of one NUTS version (never mixed), optionally of one measure, year, dataset or level."""
    stats = RegionalStatistic.objects.filter(region__version=nuts_version).select_related("region", "source")
    if measure is not None:
        stats = stats.filter(measure=measure)
    if year is not None:
        stats = stats.filter(year=year)
    if dataset is not None:
        stats = stats.filter(source__name=dataset)
    if level is not None:
        stats = stats.filter(region__level=level)
    return stats


def statistics_frame(**filters: object) -> pd.DataFrame:
    """The same statistics as a long DataFrame (region, sector_code, year, measure, unit, value, flags, source)."""
    columns = ["region__code", "sector_code", "year", "measure", "unit", "value", "flags", "source__name",
               "source__version"]
    frame = pd.DataFrame.from_records(list(regional_statistics(**filters).values_list(*columns)),  # type: ignore[arg-type]
                                      columns=columns)
    return frame.rename(columns={"region__code": "region", "source__name": "source",
                                 "source__version": "source_version"})


def statistics_options(*, level: int | None = None) -> dict[str, Any]:
    """Which sectors and years the imported employment statistics offer (for the indicator picker)."""
    stats = RegionalStatistic.objects.filter(region__version=NUTS_VERSION, measure=Measure.EMPLOYMENT)
    if level is not None:
        stats = stats.filter(region__level=level)
    sectors = sorted(set(stats.values_list("sector_code", flat=True).distinct()))
    years = sorted(set(stats.values_list("year", flat=True).distinct()), reverse=True)
    return {"sectors": [code for code in sectors if code != "TOTAL"], "years": years}


# --- layers ---------------------------------------------------------------------------------------------------


def layer_query(  # noqa: PLR0912 - one check per parameter, each with its own message
    *, level: Any = 2, indicator: Any = "se_organisations", family: Any = "", sector: Any = "", year: Any = None,
    urban_rural: Any = None, classes: Any = 5,
) -> LayerQuery:
    """Check a layer request; a bad value raises ValidationError naming the parameter."""
    try:
        level = int(level)
    except (TypeError, ValueError):
        raise ValidationError(f"expected a NUTS level 0 to 3, got {level!r}", field="level") from None
    if level not in LEVELS:
        raise ValidationError(f"expected a NUTS level 0 to 3, got {level}", field="level")
    if indicator not in INDICATORS:
        raise ValidationError(f"unknown indicator {indicator!r}; choose one of: {', '.join(INDICATORS)}",
                              field="indicator")
    spec = INDICATORS[indicator]
    family = family or ""
    if family and (not spec.has_family or family not in SE_FAMILIES):
        raise ValidationError(f"expected a social economy family ({', '.join(SE_FAMILIES)}) for this indicator, "
                              f"got {family!r}", field="family")
    sector = (sector or "").strip()
    if spec.needs_sector and not sector:
        raise ValidationError("choose a sector (a NACE code or aggregate of the imported statistics)", field="sector")
    if year in (None, ""):
        year = None
    else:
        try:
            year = int(year)
        except (TypeError, ValueError):
            raise ValidationError(f"expected a year, got {year!r}", field="year") from None
    if spec.needs_year and year is None:
        raise ValidationError("choose a year of the imported statistics", field="year")
    if urban_rural in (None, ""):
        urban_rural = None
    else:
        try:
            urban_rural = int(urban_rural)
        except (TypeError, ValueError):
            urban_rural = -1
        if urban_rural not in (1, 2, 3):
            raise ValidationError("expected 1 (predominantly urban), 2 (intermediate) or 3 (predominantly rural)",
                                  field="urban_rural")
    try:
        classes = int(classes)
    except (TypeError, ValueError):
        classes = 0
    if not 2 <= classes <= len(choropleth.SEQUENTIAL):
        raise ValidationError(f"expected 2 to {len(choropleth.SEQUENTIAL)} classes", field="classes")
    return LayerQuery(level=level, indicator=indicator, family=family, sector=sector, year=year,
                      urban_rural=urban_rural, classes=classes)


def map_layer(query: LayerQuery) -> MapLayer:
    """The values, classes and legend of one indicator over every region of one level."""
    spec = INDICATORS[query.indicator]
    regions = _regions(query.level)
    codes = list(regions.index)
    note = ""
    extra: dict[str, list[Any]] = {}
    if spec.from_statistics:
        series, source, note, extra = _statistics_layer(query, regions)
    else:
        series, source = _registry_layer(query, regions), f"{REGISTRY_SOURCE} (NUTS {NUTS_VERSION})"
    if query.urban_rural is not None and query.level == 3:
        series = series.where(regions["urban_rural"] == query.urban_rural)
    values = series.reindex(codes).to_numpy(dtype=float)
    if query.indicator == "hot_spots":
        breaks = np.asarray(HOT_SPOT_BREAKS)
        classes = choropleth.classify(values, breaks)
        legend, method = [str(label) for label in HOT_SPOT_LABELS], "fixed"
    elif query.indicator == "stars":
        breaks = np.array([0.0, 0.5, 1.5, 2.5, 3.0])
        classes = choropleth.classify(values, breaks)
        legend, method = ["0", "1", "2", "3"], "fixed"
    else:
        breaks = _breaks(values, query.classes)
        classes = choropleth.classify(values, breaks)
        counts = query.indicator in COUNT_INDICATORS or (query.indicator == "employment" and
                                                             bool(np.all(np.mod(values[np.isfinite(values)], 1) == 0)))
        legend, method = choropleth.class_labels(breaks, integer=counts), "quantiles"
    return MapLayer(
        query=query, indicator=spec, codes=codes, names=list(regions["name"]),
        values=[None if not np.isfinite(v) else int(v) if query.indicator in INTEGER_INDICATORS
                else round(float(v), 6) for v in values],
        classes=[int(c) for c in classes], breaks=[float(b) for b in breaks if np.isfinite(b)],
        legend=legend, method=method, source=source, note=note, extra=extra,
    )


def _breaks(values: np.ndarray, classes: int) -> np.ndarray:
    """Quantile breaks; where many regions are at zero (counts), the quantiles of the positive values above a
    class that starts at zero, so the zeros do not swallow every class."""
    finite = values[np.isfinite(values)]
    positive = finite[finite > 0]
    if finite.size and positive.size and (finite == 0).mean() > 1 / classes and (finite >= 0).all():
        return np.unique(np.concatenate([[0.0], choropleth.quantile_breaks(positive, max(1, classes - 1))]))
    return choropleth.quantile_breaks(values, classes)


def data_signature() -> str:
    """Changes whenever what the map shows may change: registry records, memberships, statistics or regions."""
    parts: list[Any] = [queryset.aggregate(n=Count("id"), last=Max("updated_at"), top=Max("id"))
                        for queryset in (Organisation.objects.all(), Cluster.objects.all())]
    parts += [queryset.aggregate(n=Count("id"), top=Max("id"))
              for queryset in (Membership.objects.all(), RegionalStatistic.objects.all())]
    parts.append(regions_signature())
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:24]


def regions_signature(level: int | None = None) -> tuple[Any, ...]:
    """Changes when ``refdata load`` changes the NUTS regions (of ``level``, or of every level and version).

    One aggregate query, however many regions. A reload updates changed regions in place (same primary keys),
    so the ids alone would not show it; it also records the files' modification time on the regions' source
    (``retrieved_at``), which changes with the files. The ids show regions added or deleted.
    """
    regions = Region.objects.all() if level is None else Region.objects.filter(version=NUTS_VERSION, level=level)
    found = regions.aggregate(n=Count("id"), first=Min("id"), last=Max("id"), from_source=Max("source_id"),
                              retrieved=Max("source__retrieved_at"))
    return tuple(found[key] for key in ("n", "first", "last", "from_source", "retrieved"))


def _regions(level: int) -> pd.DataFrame:
    rows = Region.objects.filter(version=NUTS_VERSION, level=level).order_by("code").values_list(
        "code", "name_latn", "urban_rural", "country_id")
    return pd.DataFrame.from_records(list(rows), columns=["code", "name", "urban_rural", "country"]).set_index("code")


def _placed_organisations(query: LayerQuery) -> QuerySet[Organisation]:
    placed = Organisation.objects.filter(region__version=NUTS_VERSION)
    if query.urban_rural is not None:
        placed = placed.filter(region__urban_rural=query.urban_rural)
    return placed


def registry_counts(level: int, *, urban_rural: int | None = None, by_section: bool = False) -> pd.DataFrame:
    """Counts from the registry by region of ``level``: organisations, social economy ones by family, clusters.

    Organisations are placed in NUTS 3 regions and rolled up by code prefix. Columns: ``organisations``,
    ``se_organisations``, one ``se_<family>`` per family, ``clusters``, ``cluster_members`` and
    ``se_cluster_members``. With ``by_section`` the index is (region, NACE section) and only the organisation
    columns are given. The secretariat's ``registry-statistics`` command stores the same counts as regional
    statistics.
    """
    query = LayerQuery(level=level, urban_rural=urban_rural)
    keys = ["region__code", "kind"] + (["nace_section"] if by_section else [])
    grouped = _placed_organisations(query).values_list(*keys).annotate(n=Count("id")).order_by()
    frame = pd.DataFrame.from_records(list(grouped), columns=["region", "kind", *keys[2:], "n"])
    frame["region"] = frame["region"].str[: level + 2]
    index = ["region", "nace_section"] if by_section else ["region"]
    columns = ["organisations", "se_organisations", *(f"se_{family}" for family in SE_FAMILIES)]
    if frame.empty:
        counts = pd.DataFrame(columns=columns, dtype=float,
                              index=pd.MultiIndex.from_arrays([[], []], names=index) if by_section else pd.Index([]))
    else:
        frame["se"] = frame["kind"].isin(SE_FAMILIES)
        counts = frame.groupby(index)["n"].sum().to_frame("organisations")
        counts["se_organisations"] = frame[frame["se"]].groupby(index)["n"].sum()
        for family in SE_FAMILIES:
            counts[f"se_{family}"] = frame[frame["kind"] == family].groupby(index)["n"].sum()
        counts = counts.fillna(0)
    if by_section:
        return counts
    members = _cluster_members(query)
    counts = counts.join(members, how="outer").join(_cluster_counts(level), how="outer")
    return counts.fillna(0)


def _cluster_members(query: LayerQuery) -> pd.DataFrame:
    current = Membership.objects.filter(
        until__isnull=True, cluster__publication_status=PublicationStatus.PUBLISHED,
        organisation__region__version=NUTS_VERSION,
    )
    if query.urban_rural is not None:
        current = current.filter(organisation__region__urban_rural=query.urban_rural)
    rows = current.values_list("organisation__region__code", "organisation__kind").annotate(n=Count("id")).order_by()
    frame = pd.DataFrame.from_records(list(rows), columns=["region", "kind", "n"])
    if frame.empty:
        return pd.DataFrame(columns=["cluster_members", "se_cluster_members"])
    frame["region"] = frame["region"].str[: query.level + 2]
    result = frame.groupby("region")["n"].sum().to_frame("cluster_members")
    result["se_cluster_members"] = frame[frame["kind"].isin(SE_FAMILIES)].groupby("region")["n"].sum()
    return result.fillna(0)


def _cluster_counts(level: int) -> pd.DataFrame:
    """Published clusters per region: by the regions they cover, else by their country (at level 0)."""
    published = Cluster.objects.filter(publication_status=PublicationStatus.PUBLISHED)
    covered = published.filter(regions__version=NUTS_VERSION, regions__level__gte=level).values_list(
        "pk", "regions__code")
    pairs = {(pk, code[: level + 2]) for pk, code in covered}
    if level == 0:
        uncovered = published.filter(regions__isnull=True, country__isnull=False).annotate(
            nuts=F("country__nuts_code")).values_list("pk", "nuts")
        pairs |= {(pk, code) for pk, code in uncovered if code}
    frame = pd.DataFrame(sorted(pairs), columns=["cluster", "region"])
    return frame.groupby("region").size().to_frame("clusters")


def _registry_layer(query: LayerQuery, regions: pd.DataFrame) -> pd.Series:  # noqa: PLR0911 - one per indicator
    level, key = query.level, query.indicator
    if key == "se_lq":
        return _se_location_quotient(query)
    counts = registry_counts(level, urban_rural=query.urban_rural).reindex(regions.index).fillna(0)
    family_column = f"se_{query.family}" if query.family else "se_organisations"
    if key == "organisations":
        return counts["organisations"]
    if key == "se_organisations":
        return counts[family_column]
    if key == "se_share":
        return (counts[family_column] / counts["organisations"] * 100).where(counts["organisations"] > 0)
    if key == "clusters":
        return counts["clusters"]
    if key == "cluster_members":
        return counts["cluster_members"]
    if key == "se_share_in_clusters":
        return (counts["se_cluster_members"] / counts["cluster_members"] * 100).where(counts["cluster_members"] > 0)
    if key == "hot_spots":
        return _hot_spots(counts["se_organisations"], regions)
    raise AssertionError(key)  # pragma: no cover - INDICATORS and this function list the same keys


def _se_location_quotient(query: LayerQuery) -> pd.Series:
    """LQ of social economy organisations, all sectors or within one NACE section."""
    counts = registry_counts(query.level, urban_rural=query.urban_rural, by_section=bool(query.sector))
    if query.sector:
        if counts.empty:
            return pd.Series(dtype=float)
        counts = counts.xs(query.sector, level="nace_section") if query.sector in counts.index.get_level_values(
            "nace_section") else counts.iloc[0:0].droplevel("nace_section")
    table = pd.DataFrame({"se": counts["se_organisations"],
                          "other": counts["organisations"] - counts["se_organisations"]})
    if table.empty:
        return pd.Series(dtype=float)
    return location_quotient(table.astype(float))["se"]


def _hot_spots(values: pd.Series, regions: pd.DataFrame) -> pd.Series:
    geometries = region_shapes(int(len(str(regions.index[0])) - 2)) if len(regions) else {}
    shapes = [geometries.get(code) for code in regions.index]
    if len(shapes) < 3:
        return pd.Series(np.nan, index=regions.index)
    neighbours = neighbours_from_polygons(np.asarray(shapes, dtype=object))
    result = getis_ord_gi_star(values.reindex(regions.index).fillna(0).to_numpy(dtype=float), neighbours)
    return pd.Series(result["gi_star"].to_numpy(), index=regions.index)


def _statistics_layer(
    query: LayerQuery, regions: pd.DataFrame
) -> tuple[pd.Series, str, str, dict[str, list[Any]]]:
    stats = RegionalStatistic.objects.filter(
        region__version=NUTS_VERSION, region__level=query.level, measure=Measure.EMPLOYMENT, year=query.year or 0,
    ).values_list("region__code", "sector_code", "value", "unit", "source__name", "source__version")
    frame = pd.DataFrame.from_records(list(stats), columns=["region", "sector", "value", "unit", "source", "version"])
    if frame.empty:
        empty = pd.Series(np.nan, index=regions.index)
        return empty, "", str(_("No employment statistics for this level and year: import them with "
                                "socialclusters fetch-statistics or import-statistics.")), {}
    # One unit (the most common) so that thousands and persons are never added together.
    unit = frame["unit"].mode().iloc[0]
    frame = frame[frame["unit"] == unit]
    source = ", ".join(sorted({f"{name} ({version})" for name, version in zip(frame["source"], frame["version"],
                                                                              strict=True)}))
    matrix = frame.pivot_table(index="region", columns="sector", values="value", aggfunc="sum")
    if query.sector not in matrix.columns:
        raise ValidationError(f"the statistics of {query.year} have no sector {query.sector!r} at NUTS {query.level}; "
                              f"available: {', '.join(sorted(matrix.columns))}", field="sector")
    if query.indicator == "employment":
        return matrix[query.sector], f"{source}; {unit}", "", {}
    grid_columns = _partition(list(matrix.columns))
    grid = matrix[grid_columns]
    if query.indicator == "lq":
        totals = matrix["TOTAL"] if "TOTAL" in matrix.columns else grid.sum(axis=1, min_count=1)
        table = pd.DataFrame({"sector": matrix[query.sector], "rest": totals - matrix[query.sector]})
        return location_quotient(table.clip(lower=0))["sector"], source, "", {}
    if query.sector not in grid_columns:
        raise ValidationError(f"stars are computed on a partition of the economy ({', '.join(grid_columns)}); "
                              f"{query.sector!r} is not one of its sectors", field="sector")
    stars = star_ratings(grid)
    extra = {
        "size": stars.size[query.sector].reindex(regions.index).fillna(False).astype(bool).tolist(),
        "specialisation": stars.specialisation[query.sector].reindex(regions.index).fillna(False).astype(bool)
        .tolist(),
        "focus": stars.focus[query.sector].reindex(regions.index).fillna(False).astype(bool).tolist(),
    }
    return stars.stars[query.sector].astype(float), source, "", extra


def _partition(sectors: list[str]) -> list[str]:
    """The sectors that partition the economy: the A*10 breakdown when present, else the NACE sections."""
    if all(code in sectors for code in A10):
        return list(A10)
    sections = [code for code in sectors if len(code) == 1 and code.isalpha()]
    if sections:
        return sections
    return [code for code in sectors if code != "TOTAL"]


# --- geometry -------------------------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _geometry_payload(level: int, signature: tuple[Any, ...]) -> tuple[bytes, str]:
    regions = Region.objects.filter(version=NUTS_VERSION, level=level).order_by("code").values_list(
        "code", "name_latn", "urban_rural", "geometry_simplified", "label_lon", "label_lat")
    features = [
        {"type": "Feature", "id": code,
         "properties": {"name": name, "urban_rural": urban_rural, "label": [lon, lat]},
         "geometry": choropleth.quantise(geometry)}
        for code, name, urban_rural, geometry, lon, lat in regions if geometry
    ]
    body = json.dumps({"type": "FeatureCollection", "nuts_version": NUTS_VERSION, "level": level,
                       "features": features}, separators=(",", ":")).encode()
    return body, hashlib.sha256(body).hexdigest()[:32]


def map_geometry(level: int) -> tuple[bytes, str]:
    """Compact GeoJSON of every region of ``level`` (simplified, quantised to ~100 m) and its ETag.

    Built once per reference-data load and kept in memory: the regions only change with ``refdata load``.
    """
    if level not in LEVELS:
        raise ValidationError(f"expected a NUTS level 0 to 3, got {level}", field="level")
    return _geometry_payload(level, regions_signature(level))


@lru_cache(maxsize=8)
def _shapes_cached(level: int, signature: tuple[Any, ...]) -> dict[str, shapely.Geometry]:
    regions = Region.objects.filter(version=NUTS_VERSION, level=level).values_list("code", "geometry_simplified")
    return {code: shapely.geometry.shape(geometry) for code, geometry in regions if geometry}


def region_shapes(level: int) -> dict[str, shapely.Geometry]:
    """Shapely polygons of every region of ``level`` by code (simplified), kept while the regions do not change."""
    return _shapes_cached(level, regions_signature(level))


def layer_shapes(layer: MapLayer) -> list[shapely.Geometry | None]:
    shapes = region_shapes(layer.query.level)
    return [shapes.get(code) for code in layer.codes]


# --- points ---------------------------------------------------------------------------------------------------

POINT_KINDS = ("organisations", "se_organisations", "clusters")


def map_points(kind: str, *, zoom: int) -> list[dict[str, Any]]:
    """Organisations or clusters as points, gathered into grid cells where they would overlap at ``zoom``.

    A cell holding one point is that point (with its name and link); a cell holding several is one marker
    with their count, placed at their mean position.
    """
    if kind not in POINT_KINDS:
        raise ValidationError(f"expected one of {', '.join(POINT_KINDS)}, got {kind!r}", field="kind")
    if not 0 <= zoom <= 18:
        raise ValidationError(f"expected a zoom level from 0 to 18, got {zoom}", field="zoom")
    if kind == "clusters":
        published = Cluster.objects.filter(publication_status=PublicationStatus.PUBLISHED).select_related(
            "managing_organisation").prefetch_related("regions")
        rows = [(c.pk, c.name, c.kind, *location[:2]) for c in published
                if (location := cluster_location(c)) is not None]
    else:
        organisations = Organisation.objects.filter(latitude__isnull=False, longitude__isnull=False)
        if kind == "se_organisations":
            organisations = organisations.filter(kind__in=SE_FAMILIES)
        rows = list(organisations.values_list("pk", "name", "kind", "longitude", "latitude"))  # type: ignore[arg-type]
    if not rows:
        return []
    ids, names, kinds, lon, lat = zip(*rows, strict=True)
    # About 40 screen pixels per cell: 360° spans 256 · 2^zoom pixels.
    cells = choropleth.grid_aggregate(lon, lat, cell=360.0 / (256 * 2**zoom) * 40)
    return [
        {"lon": round(float(row.lon), 5), "lat": round(float(row.lat), 5), "count": int(row.count),
         **({"id": ids[int(row.first)], "name": names[int(row.first)], "kind": kinds[int(row.first)]}
            if row.count == 1 else {})}
        for row in cells.itertuples()
    ]


# --- regions --------------------------------------------------------------------------------------------------


def region_profile(code: str, *, year: int | None = None, top: int = 5) -> dict[str, Any]:
    """What the map's region panel and the region page show: identity, registry counts, top sectors by LQ."""
    region = Region.objects.filter(version=NUTS_VERSION, code=code).select_related("country").first()
    if region is None:
        raise NotFound(f"no NUTS {NUTS_VERSION} region {code!r}")
    counts = registry_counts(region.level)
    row = counts.loc[region.code] if region.code in counts.index else pd.Series(dtype=float)

    def count(column: str) -> int:
        return int(row.get(column, 0) or 0)

    clusters = Cluster.objects.filter(publication_status=PublicationStatus.PUBLISHED).filter(
        Q(regions__code__startswith=region.code) | Q(regions__isnull=True, country__nuts_code=region.code)
    ).distinct().order_by("name")
    return {
        "code": region.code, "name": region.name_latn, "name_native": region.name_native, "level": region.level,
        "country": region.country.code, "nuts_version": region.version,
        "urban_rural": region.urban_rural,
        "urban_rural_label": str(region.get_urban_rural_display()) if region.urban_rural else "",
        "organisations": count("organisations"), "se_organisations": count("se_organisations"),
        "se_by_family": {family: count(f"se_{family}") for family in SE_FAMILIES},
        "cluster_members": count("cluster_members"), "se_cluster_members": count("se_cluster_members"),
        "clusters": [{"id": c.pk, "name": c.name, "kind": c.kind} for c in clusters[:20]],
        "cluster_count": clusters.count(),
        "top_sectors": top_sectors(region, year=year, top=top),
    }


def top_sectors(region: Region, *, year: int | None = None, top: int = 5) -> list[dict[str, Any]]:
    """The region's sectors with the highest employment location quotients, with their stars."""
    years = statistics_options(level=region.level)["years"]
    if not years:
        return []
    chosen: int = year if year is not None and year in years else int(years[0])
    stats = RegionalStatistic.objects.filter(
        region__version=NUTS_VERSION, region__level=region.level, measure=Measure.EMPLOYMENT, year=chosen,
    ).values_list("region__code", "sector_code", "value", "unit")
    frame = pd.DataFrame.from_records(list(stats), columns=["region", "sector", "value", "unit"])
    frame = frame[frame["unit"] == frame["unit"].mode().iloc[0]]
    matrix = frame.pivot_table(index="region", columns="sector", values="value", aggfunc="sum")
    grid = matrix[_partition(list(matrix.columns))]
    if region.code not in grid.index:
        return []
    lq = location_quotient(grid).loc[region.code]
    stars = star_ratings(grid)
    ranked = lq.dropna().sort_values(ascending=False).head(top)
    return [
        {"sector": sector, "year": chosen, "lq": round(float(value), 3),
         "employment": float(grid.at[region.code, sector]),
         "stars": int(stars.stars.at[region.code, sector]),
         "size": bool(stars.size.at[region.code, sector]),
         "specialisation": bool(stars.specialisation.at[region.code, sector]),
         "focus": bool(stars.focus.at[region.code, sector])}
        for sector, value in ranked.items()
    ]


def region_time_series(code: str) -> pd.DataFrame:
    """Employment by year and sector of one region (rows: years; columns: sectors), from imported statistics."""
    frame = statistics_frame(measure=Measure.EMPLOYMENT)
    frame = frame[frame["region"] == code]
    if frame.empty:
        return pd.DataFrame()
    frame = frame[frame["unit"] == frame["unit"].mode().iloc[0]]
    return frame.pivot_table(index="year", columns="sector_code", values="value", aggfunc="sum").sort_index()


def comparable_regions(code: str, *, count: int = 5) -> list[dict[str, Any]]:
    """Regions of the same level most like this one: same urban-rural type first, then the closest share of
    social economy organisations and number of organisations (registry figures, available everywhere)."""
    region = Region.objects.filter(version=NUTS_VERSION, code=code).first()
    if region is None:
        raise NotFound(f"no NUTS {NUTS_VERSION} region {code!r}")
    counts = registry_counts(region.level)
    if region.code not in counts.index:
        return []
    regions = _regions(region.level)
    table = counts.reindex(regions.index).fillna(0)
    share = (table["se_organisations"] / table["organisations"]).where(table["organisations"] > 0)
    size = np.log1p(table["organisations"])
    distance = ((share - share[region.code]).abs() / (share.std() or 1)) + ((size - size[region.code]).abs()
                                                                            / (size.std() or 1))
    same_type = regions["urban_rural"] == region.urban_rural
    ranked = pd.DataFrame({"distance": distance, "same_type": same_type}).drop(index=region.code).dropna()
    ranked = ranked.sort_values(["same_type", "distance"], ascending=[False, True]).head(count)
    return [
        {"code": other, "name": regions.at[other, "name"],
         "organisations": int(table.at[other, "organisations"]),
         "se_share": None if pd.isna(share[other]) else round(float(share[other]) * 100, 1),
         "same_urban_rural_type": bool(row.same_type)}
        for other, row in ranked.iterrows()
    ]


# --- candidate territorial clusters ---------------------------------------------------------------------------


def candidate_concentrations(*, status: str = "") -> QuerySet[Any]:
    """Candidate concentrations for the secretariat's review, awaiting review first, strongest first."""
    from socialclusters.mapping.models import CandidateConcentration

    candidates = CandidateConcentration.objects.select_related("region", "reviewed_by", "cluster")
    if status:
        candidates = candidates.filter(status=status)
    return candidates.order_by("status", "-score", "pk")
