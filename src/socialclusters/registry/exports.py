"""CSV and GeoJSON downloads of filtered organisation and cluster lists, written as a stream.

The querysets come from ``selectors`` (the same filters as the pages and the JSON API); rows are read
with ``QuerySet.iterator(chunk_size=CHUNK_SIZE)`` and serialised as they arrive, so a download of tens
of thousands of organisations never holds the list in memory. The web layer wraps the chunks in a
``StreamingHttpResponse``; a command can write them to a file.

Stable contract:

- CSV: UTF-8, a header row, one row per record, the column order of ``ORGANISATION_COLUMNS`` /
  ``CLUSTER_COLUMNS`` (new columns are only ever added at the end). Empty cells mean "not known";
  booleans are ``true``/``false``; dates are ISO 8601; lists are joined with ``"; "``. A text cell
  that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a
  carriage return) gets a leading apostrophe.
- GeoJSON (RFC 7946): a FeatureCollection of points in WGS 84, longitude first. Records without a
  point are left out; the top-level members ``count`` (features written) and ``without_location``
  (records left out) say how many of each there are.

Where a cluster is drawn: at the mean of the label points of the NUTS regions it covers (GISCO's label
points lie inside their region, unlike the centroid of a concave or multi-part region); when it covers
no region with a label point, at its managing organisation's coordinates; otherwise it has no point.
Each cluster feature says which rule placed it in ``location_method`` (``regions`` or
``managing_organisation``).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from socialclusters.registry.models import Cluster, Organisation, Region, SourceRecord

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
CHUNK_SIZE = 2000
# Lines of CSV (or features of GeoJSON) joined into one chunk of the response.
LINES_PER_CHUNK = 200
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    """One column of a download: its header and how to read its value from a record."""

    name: str
    value: Callable[[Any], Any]


def _joined(values: Iterable[Any]) -> str:
    return "; ".join(str(v) for v in values if v not in (None, ""))


def _sources(instance: Organisation | Cluster) -> str:
    return _joined(str(record.source) for record in instance.source_records.all())


ORGANISATION_COLUMNS: tuple[Column, ...] = (
    Column("id", lambda o: o.pk),
    Column("name", lambda o: o.name),
    Column("alt_names", lambda o: _joined(o.alt_names or [])),
    Column("kind", lambda o: o.kind),
    Column("kind_label", lambda o: str(o.get_kind_display())),
    Column("social_economy", lambda o: o.is_social_economy),
    Column("legal_form", lambda o: o.legal_form.label if o.legal_form else None),
    Column("legal_form_uri", lambda o: o.legal_form.uri if o.legal_form else None),
    Column("primary_nace", lambda o: o.primary_nace_id),
    Column("address", lambda o: o.address),
    Column("postcode", lambda o: o.postcode),
    Column("city", lambda o: o.city),
    Column("country", lambda o: o.country_id),
    Column("latitude", lambda o: o.latitude),
    Column("longitude", lambda o: o.longitude),
    Column("nuts3", lambda o: o.region.code if o.region else None),
    Column("nuts2", lambda o: o.nuts2 or None),
    Column("nuts_version", lambda o: o.region.version if o.region else None),
    Column("region_reason", lambda o: o.region_reason),
    Column("status", lambda o: o.status),
    Column("founded", lambda o: o.founded),
    Column("dissolved", lambda o: o.dissolved),
    Column("website", lambda o: o.website),
    Column("is_illustrative", lambda o: o.is_illustrative),
    Column("sources", _sources),
)
ORGANISATION_FEATURE_PROPERTIES = (
    "id", "name", "kind", "kind_label", "social_economy", "city", "country", "nuts3", "nuts2",
    "primary_nace", "status", "is_illustrative",
)


def cluster_location(cluster: Cluster) -> tuple[float, float, str] | None:
    """``(longitude, latitude, method)`` where the cluster is drawn, or None (see the module's rule)."""
    points = [(r.label_lon, r.label_lat) for r in cluster.regions.all()
              if r.label_lon is not None and r.label_lat is not None]
    if points:
        lon = sum(p[0] for p in points) / len(points)
        lat = sum(p[1] for p in points) / len(points)
        return round(lon, 6), round(lat, 6), "regions"
    manager = cluster.managing_organisation
    if manager is not None and manager.longitude is not None and manager.latitude is not None:
        return manager.longitude, manager.latitude, "managing_organisation"
    return None


def _location_part(cluster: Cluster, index: int) -> Any:
    location = cluster_location(cluster)
    return None if location is None else location[index]


CLUSTER_COLUMNS: tuple[Column, ...] = (
    Column("id", lambda c: c.pk),
    Column("name", lambda c: c.name),
    Column("kind", lambda c: c.kind),
    Column("kind_label", lambda c: str(c.get_kind_display())),
    Column("type_as_described", lambda c: c.type_as_described),
    Column("country", lambda c: c.country_id),
    Column("city", lambda c: c.city),
    Column("regions", lambda c: _joined(r.code for r in c.regions.all())),
    Column("sectors", lambda c: _joined(s.code for s in c.sectors.all())),
    Column("themes", lambda c: _joined(c.themes or [])),
    Column("managing_organisation_id", lambda c: c.managing_organisation_id),
    Column("managing_organisation", lambda c: c.managing_organisation.name if c.managing_organisation else None),
    Column("member_count", lambda c: getattr(c, "member_count", None)),
    Column("members_count_stated", lambda c: c.members_count_stated),
    Column("founded_year", lambda c: c.founded_year),
    Column("website", lambda c: c.website),
    Column("label", lambda c: c.label),
    Column("publication_status", lambda c: c.publication_status),
    Column("is_illustrative", lambda c: c.is_illustrative),
    Column("longitude", lambda c: _location_part(c, 0)),
    Column("latitude", lambda c: _location_part(c, 1)),
    Column("location_method", lambda c: _location_part(c, 2)),
    Column("sources", _sources),
)
CLUSTER_FEATURE_PROPERTIES = (
    "id", "name", "kind", "kind_label", "country", "city", "regions", "member_count", "publication_status",
    "is_illustrative", "location_method",
)


# --- querysets ready for streaming ------------------------------------------------------------


def _with_sources(queryset: QuerySet[Any]) -> QuerySet[Any]:
    return queryset.prefetch_related(
        Prefetch("source_records", queryset=SourceRecord.objects.select_related("source").order_by("pk"))
    )


def organisations_for_export(queryset: QuerySet[Organisation]) -> QuerySet[Organisation]:
    """A filtered organisation list (``selectors.organisation_list``) with what the columns read."""
    return _with_sources(queryset.select_related("country", "region", "primary_nace", "legal_form"))


def clusters_for_export(queryset: QuerySet[Cluster]) -> QuerySet[Cluster]:
    """A filtered cluster list (``selectors.cluster_list``) with what the columns and the location read."""
    return _with_sources(
        queryset.select_related("country", "managing_organisation").prefetch_related("regions", "sectors")
    )


# --- CSV ----------------------------------------------------------------------------------------


class _Echo:
    """A file-like object whose ``write`` returns the line, so ``csv.writer`` can feed a generator."""

    def write(self, value: str) -> str:
        return value


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _batched(lines: Iterator[str]) -> Iterator[str]:
    batch: list[str] = []
    for line in lines:
        batch.append(line)
        if len(batch) >= LINES_PER_CHUNK:
            yield "".join(batch)
            batch = []
    if batch:
        yield "".join(batch)


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    r"""The header, then each row, one CSV line apiece: the one place where the project writes CSV.

    RFC 4180 as Python's ``csv`` writes it (comma, double quotes around cells that need them, CRLF after
    every line, None as an empty cell, booleans as ``true``/``false``, dates in ISO 8601). A text cell that a
    spreadsheet would take for a formula (it starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return)
    gets a leading apostrophe, since names and answers come from users. ``"".join(csv_lines(...))`` is the whole
    file.

    >>> list(csv_lines(["code", "name"], [["FR101", "Paris"], ["BE100", 'Bruxelles, "la" capitale'], [1, None]]))
    ['code,name\r\n', 'FR101,Paris\r\n', 'BE100,"Bruxelles, ""la"" capitale"\r\n', '1,\r\n']
    """
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([_csv_cell(cell) for cell in row])


def csv_chunks(queryset: QuerySet[Any], columns: tuple[Column, ...]) -> Iterator[str]:
    """The header row, then one row per record, read ``CHUNK_SIZE`` records at a time."""
    rows = ([column.value(record) for column in columns] for record in queryset.iterator(chunk_size=CHUNK_SIZE))
    return _batched(csv_lines([column.name for column in columns], rows))


def organisations_csv(queryset: QuerySet[Organisation]) -> Iterator[str]:
    return csv_chunks(organisations_for_export(queryset), ORGANISATION_COLUMNS)


def clusters_csv(queryset: QuerySet[Cluster]) -> Iterator[str]:
    return csv_chunks(clusters_for_export(queryset), CLUSTER_COLUMNS)


# --- GeoJSON ------------------------------------------------------------------------------------


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _properties(record: Any, columns: tuple[Column, ...], names: tuple[str, ...]) -> dict[str, Any]:
    by_name = {column.name: column for column in columns}
    return {name: _json_value(by_name[name].value(record)) for name in names}


def _feature_collection(features: Iterator[dict[str, Any]], *, count: int, without_location: int) -> Iterator[str]:
    # The counts come first so that a reader can size its work before the features arrive.
    head = json.dumps({"type": "FeatureCollection", "count": count, "without_location": without_location})
    yield head[:-1] + ', "features": ['

    def lines() -> Iterator[str]:
        for index, feature in enumerate(features):
            prefix = "" if index == 0 else ","
            yield prefix + json.dumps(feature, ensure_ascii=False, separators=(",", ":")) + "\n"

    yield from _batched(lines())
    yield "]}\n"


def organisations_geojson(queryset: QuerySet[Organisation]) -> Iterator[str]:
    """A FeatureCollection of the organisations that have coordinates; the others are counted."""
    placed = queryset.filter(latitude__isnull=False, longitude__isnull=False)
    count = placed.count()
    without_location = queryset.filter(Q(latitude__isnull=True) | Q(longitude__isnull=True)).count()

    def features() -> Iterator[dict[str, Any]]:
        for org in organisations_for_export(placed).iterator(chunk_size=CHUNK_SIZE):
            yield {
                "type": "Feature",
                "id": org.pk,
                "geometry": {"type": "Point", "coordinates": [org.longitude, org.latitude]},
                "properties": _properties(org, ORGANISATION_COLUMNS, ORGANISATION_FEATURE_PROPERTIES),
            }

    return _feature_collection(features(), count=count, without_location=without_location)


def clusters_geojson(queryset: QuerySet[Cluster]) -> Iterator[str]:
    """A FeatureCollection of the clusters that can be placed (see the module's rule); the others are counted."""
    region_point = Exists(
        Region.objects.filter(clusters=OuterRef("pk"), label_lon__isnull=False, label_lat__isnull=False)
    )
    manager_point = Q(managing_organisation__longitude__isnull=False, managing_organisation__latitude__isnull=False)
    count = queryset.filter(region_point | manager_point).count()
    without_location = queryset.count() - count

    def features() -> Iterator[dict[str, Any]]:
        for cluster in clusters_for_export(queryset).iterator(chunk_size=CHUNK_SIZE):
            location = cluster_location(cluster)
            if location is None:
                continue
            yield {
                "type": "Feature",
                "id": cluster.pk,
                "geometry": {"type": "Point", "coordinates": [location[0], location[1]]},
                "properties": _properties(cluster, CLUSTER_COLUMNS, CLUSTER_FEATURE_PROPERTIES),
            }

    return _feature_collection(features(), count=count, without_location=without_location)
