"""The registry's JSON API: the JSON twin of every registry page, downloads, and the edit workflow.

Every operation reads through ``registry.selectors`` and writes through ``registry.services``; this
module only turns query strings into filters and records into documented JSON. Each operation's
description says who may use it (``auth.PUBLIC``, ``auth.SIGNED_IN``, ``auth.SECRETARIAT``); the
authorisation matrix in ``tests/test_authorisation.py`` proves it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from typing import Any, Literal

from django.db.models import F
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control
from ninja import P, PathEx, Query, QueryEx, Router, Status

from socialclusters.accounts.models import User
from socialclusters.analysis import charts
from socialclusters.api.auth import PUBLIC, SECRETARIAT, SIGNED_IN, require_secretariat, session_auth
from socialclusters.api.errors import AUTH_ERRORS, PUBLIC_ERRORS, WORKFLOW_ERRORS
from socialclusters.api.schemas import (
    MAX_ID,
    ChangeListQuery,
    ChangeOut,
    ClusterChangeIn,
    ClusterDetailOut,
    ClusterFilterQuery,
    ClusterItem,
    ClusterListQuery,
    CountryOut,
    DuplicateOut,
    ListOut,
    OrganisationChangeIn,
    OrganisationDetailOut,
    OrganisationFilterQuery,
    OrganisationItem,
    OrganisationListQuery,
    OverviewOut,
    PagedListOut,
    PageQuery,
    RegionDetailOut,
    RegionListQuery,
    RegionMapQuery,
    RegionOut,
    ReturnIn,
    SectorOut,
    SectorQuery,
)
from socialclusters.errors import ValidationError
from socialclusters.registry import exports, selectors, services
from socialclusters.registry.models import (
    MEMBER_TYPE_OF_KIND,
    Cluster,
    Country,
    DuplicateCandidate,
    MemberType,
    Organisation,
    ProfileChange,
    Region,
    Sector,
    Source,
    SourceRecord,
    UrbanRuralType,
)

router = Router()

MEMBER_TYPE: dict[str, MemberType] = {kind.value: member_type for kind, member_type in MEMBER_TYPE_OF_KIND.items()}
ObjectId = PathEx[int, P(ge=1, le=MAX_ID, description="The object's id.")]
# Browsers and proxies may keep the region map for this long, then revalidate with the ETag.
REGION_MAP_MAX_AGE = 600
# Boundaries are the heavy columns of a region (and of its parent, which the selector joins).
WITHOUT_GEOMETRY = ("geometry", "geometry_simplified", "parent__geometry", "parent__geometry_simplified")


# --- lists with page numbers ------------------------------------------------------------------


class OrganisationListOut(PagedListOut[OrganisationItem]):
    """One page of the organisation directory."""


class ClusterListOut(PagedListOut[ClusterItem]):
    """One page of the cluster list."""


class ChangeListOut(PagedListOut[ChangeOut]):
    """One page of profile changes."""


class DuplicateListOut(PagedListOut[DuplicateOut]):
    """One page of likely duplicates to review."""


class RegionListOut(ListOut[RegionOut]):
    """NUTS regions (without geometry)."""


class SectorListOut(ListOut[SectorOut]):
    """NACE Rev. 2 codes."""


class CountryListOut(ListOut[CountryOut]):
    """Countries."""


def _user(request: HttpRequest) -> User | None:
    """The signed-in user, or None for an anonymous visitor (what the selectors expect)."""
    user = request.user
    return user if isinstance(user, User) and user.is_authenticated else None


def _paged(page: selectors.Page, item: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    return {
        "count": page.count,
        "page": page.number,
        "page_size": page.page_size,
        "pages": page.pages,
        "items": [item(obj) for obj in page.items],
    }


# --- serialisers (explicit, so that no field reads the database) -----------------------------


def _country_ref(country: Country | None) -> dict[str, Any] | None:
    if country is None:
        return None
    return {"code": country.code, "nuts_code": country.nuts_code, "name": country.name}


def _sector_ref(sector: Sector) -> dict[str, Any]:
    return {"code": sector.code, "label": sector.label, "level": sector.level}


def _region_ref(region: Region) -> dict[str, Any]:
    return {"code": region.code, "name": region.name_latn, "level": region.level, "version": region.version}


def _point(lon: float | None, lat: float | None) -> dict[str, float] | None:
    return None if lon is None or lat is None else {"longitude": lon, "latitude": lat}


def _source(source: Source) -> dict[str, Any]:
    return {
        "kind": source.kind, "name": source.name, "version": source.version, "url": source.url,
        "publisher": source.publisher, "licence": source.licence,
    }


def _provenance(record: SourceRecord) -> dict[str, Any]:
    return {
        "source": _source(record.source), "external_id": record.external_id, "line": record.line,
        "url": record.url, "recorded_at": record.recorded_at,
    }


def _organisation_item(org: Organisation) -> dict[str, Any]:
    return {
        "id": org.pk,
        "name": org.name,
        "kind": org.kind,
        "kind_label": str(org.get_kind_display()),
        "is_social_economy": org.is_social_economy,
        "legal_form": org.legal_form.label if org.legal_form else None,
        "primary_nace": org.primary_nace_id,
        "city": org.city,
        "country": org.country_id,
        "nuts3": org.region.code if org.region else None,
        "nuts2": org.nuts2 or None,
        "latitude": org.latitude,
        "longitude": org.longitude,
        "status": org.status,
        "website": org.website,
        "is_illustrative": org.is_illustrative,
    }


def _organisation_detail(org: Organisation, visible_cluster_ids: set[int]) -> dict[str, Any]:
    region = org.region
    return {
        **_organisation_item(org),
        "alt_names": [str(name) for name in org.alt_names or []],
        "legal_form": {"code": org.legal_form.code, "label": org.legal_form.label, "uri": org.legal_form.uri}
        if org.legal_form else None,
        "legal_form_raw": org.legal_form_raw,
        "primary_nace": _sector_ref(org.primary_nace) if org.primary_nace else None,
        "secondary_nace": [_sector_ref(s) for s in org.secondary_nace.all()],
        "address": {"address": org.address, "postcode": org.postcode, "city": org.city},
        "country": _country_ref(org.country),
        "coordinates": None if org.latitude is None or org.longitude is None
        else {"longitude": org.longitude, "latitude": org.latitude, "confidence": org.geocode_confidence},
        "region": None if region is None else {
            "code": region.code, "name": region.name_latn, "level": region.level, "version": region.version,
            "nuts2": org.nuts2 or region.code[:4], "method": org.region_method,
        },
        "region_reason": None if region is not None else (org.region_reason or "not placed in a region yet"),
        "size_band": org.size_band,
        "founded": org.founded,
        "dissolved": org.dissolved,
        "flags": [str(flag) for flag in org.flags or []],
        "created_at": org.created_at,
        "updated_at": org.updated_at,
        "memberships": [
            {
                "cluster": {"id": m.cluster.pk, "name": m.cluster.name},
                "role": m.role,
                "role_label": str(m.get_role_display()),
                "committed": m.committed,
                "since": m.since,
                "until": m.until,
                "is_illustrative": m.is_illustrative,
            }
            for m in org.memberships.all()
            if m.cluster_id in visible_cluster_ids
        ],
        "sources": [_provenance(r) for r in org.source_records.all()],
    }


def _cluster_item(cluster: Cluster) -> dict[str, Any]:
    manager = cluster.managing_organisation
    # Lists annotate the count (selectors.cluster_list); a detail counts its prefetched memberships.
    member_count = getattr(cluster, "member_count", None)
    if member_count is None:
        member_count = sum(1 for m in cluster.memberships.all() if m.until is None)
    return {
        "id": cluster.pk,
        "name": cluster.name,
        "kind": cluster.kind,
        "kind_label": str(cluster.get_kind_display()),
        "country": cluster.country_id,
        "city": cluster.city,
        "managing_organisation": {"id": manager.pk, "name": manager.name} if manager else None,
        "member_count": member_count,
        "founded_year": cluster.founded_year,
        "label": cluster.label,
        "publication_status": cluster.publication_status,
        "is_illustrative": cluster.is_illustrative,
    }


def _cluster_detail(cluster: Cluster) -> dict[str, Any]:
    members: dict[str, list[dict[str, Any]]] = {
        "business": [], "research": [], "public": [], "civil_society": [], "unclassified": []
    }
    for m in cluster.memberships.all():
        member_type = MEMBER_TYPE.get(m.organisation.kind)
        members[member_type.value if member_type else "unclassified"].append({
            "organisation": {"id": m.organisation.pk, "name": m.organisation.name},
            "kind": m.organisation.kind,
            "member_type": member_type,
            "country": m.organisation.country_id,
            "role": m.role,
            "committed": m.committed,
            "since": m.since,
            "until": m.until,
            "current": m.until is None,
            "is_illustrative": m.is_illustrative,
        })
    admission = selectors.admission_checks(cluster)
    return {
        **_cluster_item(cluster),
        "type_as_described": cluster.type_as_described,
        "description": cluster.description,
        "themes": [str(theme) for theme in cluster.themes or []],
        "sectors": [_sector_ref(s) for s in cluster.sectors.all()],
        "regions": [_region_ref(r) for r in cluster.regions.all()],
        "declared_member_types": [str(t) for t in cluster.declared_member_types or []],
        "members_count_stated": cluster.members_count_stated,
        "management_fte": None if cluster.management_fte is None else float(cluster.management_fte),
        "website": cluster.website,
        "website_in_english": cluster.website_in_english,
        "public_support": cluster.public_support,
        "receives_public_support": cluster.receives_public_support,
        "tracks_impact": cluster.tracks_impact,
        "member_type_counts": selectors.cluster_member_types(cluster),
        "members_by_type": members,
        "admission": {
            "status": admission.status,
            "passed": admission.passed,
            "exempt": admission.exempt,
            "exemption_reason": admission.exemption_reason,
            "checks": [
                {"code": c.code, "label": c.label, "passed": c.passed, "detail": c.detail} for c in admission.checks
            ],
        },
        "has_illustrative_members": any(m.is_illustrative for m in cluster.memberships.all()),
        "sources": [_provenance(r) for r in cluster.source_records.all()],
    }


def _region_out(region: Region, organisation_count: int) -> dict[str, Any]:
    return {
        **_region_ref(region),
        "name_native": region.name_native,
        "parent": region.parent.code if region.parent else None,
        "country": region.country_id,
        "urban_rural": region.urban_rural,
        "urban_rural_label": str(UrbanRuralType(region.urban_rural).label) if region.urban_rural else None,
        "coastal_type": region.coastal_type,
        "mountain_type": region.mountain_type,
        "label_point": _point(region.label_lon, region.label_lat),
        "organisation_count": organisation_count,
    }


def _change_out(change: ProfileChange) -> dict[str, Any]:
    target = change.target
    return {
        "id": change.pk,
        "target": {"type": "cluster" if change.cluster_id else "organisation", "id": target.pk, "name": target.name},
        "data": change.data,
        "status": change.status,
        "status_label": str(change.get_status_display()),
        "author": change.author.get_username(),
        "created_at": change.created_at,
        "submitted_at": change.submitted_at,
        "decided_at": change.decided_at,
        "decided_by": change.decided_by.get_username() if change.decided_by else None,
        "return_reason": change.return_reason,
    }


def _duplicate_out(pair: DuplicateCandidate) -> dict[str, Any]:
    return {
        "id": pair.pk,
        "first": {"id": pair.first.pk, "name": pair.first.name},
        "first_country": pair.first.country_id,
        "second": {"id": pair.second.pk, "name": pair.second.name} if pair.second else None,
        "second_country": pair.second.country_id if pair.second else None,
        "second_name": pair.second_name,
        "reason": pair.reason,
        "score": pair.score,
        "status": pair.status,
    }


# --- downloads --------------------------------------------------------------------------------


CSV = exports.CSV_CONTENT_TYPE
GEOJSON = "application/geo+json"


def _download(chunks: Iterator[str], *, content_type: str, name: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(chunks, content_type=content_type)
    extension = "csv" if content_type == CSV else "geojson"
    filename = f"socialclusters-{name}-{timezone.localdate().isoformat()}.{extension}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _csv_doc(what: str, columns: tuple[exports.Column, ...]) -> dict[str, Any]:
    header = ",".join(column.name for column in columns)
    return {"responses": {200: {
        "description": f"{what} as CSV (UTF-8, header row, stable column order: `{header}`), streamed.",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }}}


def _geojson_doc(what: str, properties: tuple[str, ...]) -> dict[str, Any]:
    return {"responses": {200: {
        "description": f"{what} as a GeoJSON FeatureCollection of points (WGS 84), streamed. Feature "
        f"properties: {', '.join(properties)}. `count` is the number of features; `without_location` the "
        "number of matching records left out because they have no point.",
        "content": {GEOJSON: {"schema": {
            "type": "object",
            "required": ["type", "count", "without_location", "features"],
            "properties": {
                "type": {"type": "string", "enum": ["FeatureCollection"]},
                "count": {"type": "integer", "description": "Features in the collection."},
                "without_location": {"type": "integer", "description": "Matching records without a point."},
                "features": {"type": "array", "items": {"type": "object"}},
            },
        }}},
    }}}


# --- overview ---------------------------------------------------------------------------------


@router.get("/overview", response={200: OverviewOut}, tags=["overview"], summary="What the registry holds",
            description="The home page's counts. " + PUBLIC)
def overview(request: HttpRequest) -> dict[str, Any]:
    data = selectors.overview()
    return {
        "organisations": data.organisations,
        "social_economy": data.social_economy,
        "placed": data.placed,
        "clusters": data.clusters,
        "countries": data.countries,
        "by_family": [{"kind": k, "label": label, "count": n} for k, label, n in data.by_family],
        "by_country": [{"code": c, "name": name, "count": n} for c, name, n in data.by_country],
        "by_cluster_kind": [{"kind": k, "label": label, "count": n} for k, label, n in data.by_cluster_kind],
    }


OVERVIEW_CHARTS = {"country": "Organisations by country", "family": "Organisations by kind",
                   "cluster_kind": "Published clusters by kind"}
ChartBy = Literal["country", "family", "cluster_kind"]
CHART_BY = P(description="What the bars count: organisations by `country` or by `family` (kind), or published "
                         "clusters by `cluster_kind`.")


def _overview_chart(request: HttpRequest, by: str, fmt: str) -> HttpResponse:
    data = selectors.overview()
    rows = {"country": data.by_country, "family": data.by_family, "cluster_kind": data.by_cluster_kind}[by]
    base = data.clusters if by == "cluster_kind" else data.organisations
    body = charts.bar_chart([label for _key, label, _n in rows], [n for _key, _label, n in rows],
                            title=str(OVERVIEW_CHARTS[by]), n=base, source="socialclusters registry", fmt=fmt)
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    response = HttpResponse(body, content_type=charts.CONTENT_TYPES[fmt])
    response["ETag"] = etag
    response["Content-Disposition"] = f'inline; filename="overview-{by}.{fmt}"'
    return get_conditional_response(request, etag=etag, response=response) or response


@router.get("/overview/chart.svg", response=PUBLIC_ERRORS, tags=["overview", "downloads"],
            summary="A chart of the home page (SVG)",
            description="The home page's bar chart as a vector image for reports, with its base and source. " + PUBLIC,
            openapi_extra={"responses": {200: {"content": {"image/svg+xml": {"schema": {"type": "string"}}}}}})
def overview_chart_svg(request: HttpRequest, by: QueryEx[ChartBy, CHART_BY] = "country") -> HttpResponse:
    return _overview_chart(request, by, "svg")


@router.get("/overview/chart.png", response=PUBLIC_ERRORS, tags=["overview", "downloads"],
            summary="A chart of the home page (PNG)",
            description="The home page's bar chart as a picture, with its base and source. " + PUBLIC,
            openapi_extra={"responses": {200: {"content": {"image/png": {"schema": {"type": "string"}}}}}})
def overview_chart_png(request: HttpRequest, by: QueryEx[ChartBy, CHART_BY] = "country") -> HttpResponse:
    return _overview_chart(request, by, "png")


# --- organisations ----------------------------------------------------------------------------


def _organisation_filters(request: HttpRequest, query: OrganisationFilterQuery) -> selectors.OrganisationFilters:
    # Membership of a draft cluster is not public: filtering by a cluster one cannot see is refused.
    if query.cluster is not None and not selectors.visible_clusters(_user(request)).filter(pk=query.cluster).exists():
        raise ValidationError(f"no published cluster with id {query.cluster}", field="cluster")
    return query.to_filters()


@router.get("/organisations", response={200: OrganisationListOut, **PUBLIC_ERRORS}, tags=["organisations"],
            summary="The organisation directory", description="Organisations matching every filter, by name. "
            + PUBLIC)
def list_organisations(request: HttpRequest, query: Query[OrganisationListQuery]) -> dict[str, Any]:
    qs = selectors.organisation_list(_organisation_filters(request, query))
    return _paged(selectors.paginate(qs, page=query.page, page_size=query.page_size), _organisation_item)


@router.get("/organisations.csv", response=PUBLIC_ERRORS, tags=["organisations", "downloads"],
            summary="The organisation directory as CSV",
            description="Every organisation matching the filters (no pages). " + PUBLIC,
            openapi_extra=_csv_doc("Organisations", exports.ORGANISATION_COLUMNS))
def organisations_csv(request: HttpRequest, query: Query[OrganisationFilterQuery]) -> StreamingHttpResponse:
    qs = selectors.organisation_list(_organisation_filters(request, query))
    return _download(exports.organisations_csv(qs), content_type=CSV, name="organisations")


@router.get("/organisations.geojson", response=PUBLIC_ERRORS, tags=["organisations", "downloads"],
            summary="The organisation directory as GeoJSON",
            description="Every organisation matching the filters that has coordinates. " + PUBLIC,
            openapi_extra=_geojson_doc("Organisations", exports.ORGANISATION_FEATURE_PROPERTIES))
def organisations_geojson(request: HttpRequest, query: Query[OrganisationFilterQuery]) -> StreamingHttpResponse:
    qs = selectors.organisation_list(_organisation_filters(request, query))
    return _download(exports.organisations_geojson(qs), content_type=GEOJSON, name="organisations")


@router.get("/organisations/{id}", response={200: OrganisationDetailOut, **PUBLIC_ERRORS}, tags=["organisations"],
            summary="One organisation", description="The organisation's page as JSON, with its sources. " + PUBLIC)
def get_organisation(request: HttpRequest, id: ObjectId) -> dict[str, Any]:
    org = selectors.organisation_detail(id)
    cluster_ids = {m.cluster_id for m in org.memberships.all()}
    visible = set(selectors.visible_clusters(_user(request)).filter(pk__in=cluster_ids).values_list("pk", flat=True)) \
        if cluster_ids else set()
    return _organisation_detail(org, visible)


# --- clusters ---------------------------------------------------------------------------------


@router.get("/clusters", response={200: ClusterListOut, **PUBLIC_ERRORS}, tags=["clusters"],
            summary="The cluster list",
            description="Published clusters matching every filter, by name; drafts too for the secretariat and for "
            "the clusters a signed-in manager runs. " + PUBLIC)
def list_clusters(request: HttpRequest, query: Query[ClusterListQuery]) -> dict[str, Any]:
    qs = selectors.cluster_list(query.to_filters(), user=_user(request))
    return _paged(selectors.paginate(qs, page=query.page, page_size=query.page_size), _cluster_item)


@router.get("/clusters.csv", response=PUBLIC_ERRORS, tags=["clusters", "downloads"],
            summary="The cluster list as CSV", description="Every visible cluster matching the filters. " + PUBLIC,
            openapi_extra=_csv_doc("Clusters", exports.CLUSTER_COLUMNS))
def clusters_csv(request: HttpRequest, query: Query[ClusterFilterQuery]) -> StreamingHttpResponse:
    qs = selectors.cluster_list(query.to_filters(), user=_user(request))
    return _download(exports.clusters_csv(qs), content_type=CSV, name="clusters")


@router.get("/clusters.geojson", response=PUBLIC_ERRORS, tags=["clusters", "downloads"],
            summary="The cluster list as GeoJSON",
            description="Every visible cluster matching the filters that can be placed: at the mean of the label "
            "points of the NUTS regions it covers, else at its managing organisation's point (the feature's "
            "`location_method` says which). " + PUBLIC,
            openapi_extra=_geojson_doc("Clusters", exports.CLUSTER_FEATURE_PROPERTIES))
def clusters_geojson(request: HttpRequest, query: Query[ClusterFilterQuery]) -> StreamingHttpResponse:
    qs = selectors.cluster_list(query.to_filters(), user=_user(request))
    return _download(exports.clusters_geojson(qs), content_type=GEOJSON, name="clusters")


@router.get("/clusters/{id}", response={200: ClusterDetailOut, **PUBLIC_ERRORS}, tags=["clusters"],
            summary="One cluster",
            description="The cluster's page as JSON: members by type, sectors, regions, admission checks, sources. "
            "A draft is found only by the secretariat and the cluster's managers (404 for others). " + PUBLIC)
def get_cluster(request: HttpRequest, id: ObjectId) -> dict[str, Any]:
    return _cluster_detail(selectors.cluster_detail(id, user=_user(request)))


# --- regions and reference lists ----------------------------------------------------------------


@router.get("/regions", response={200: RegionListOut, **PUBLIC_ERRORS}, tags=["regions"],
            summary="NUTS 2021 regions", description="Regions without geometry, by code. " + PUBLIC)
def list_regions(request: HttpRequest, query: Query[RegionListQuery]) -> dict[str, Any]:
    regions = list(selectors.regions(level=query.level, country=query.country, parent=query.parent)
                   .defer(*WITHOUT_GEOMETRY))
    counts = {level: selectors.organisation_counts_by_region(level=level) for level in {r.level for r in regions}}
    return {"count": len(regions), "items": [_region_out(r, counts[r.level].get(r.code, 0)) for r in regions]}


@router.get("/regions.geojson", response=PUBLIC_ERRORS, tags=["regions"],
            summary="NUTS 2021 regions as a GeoJSON map layer",
            description="Simplified boundaries of one NUTS level, with organisation counts. Cache-friendly: "
            "`Cache-Control` and `ETag` are set and `If-None-Match` gets 304 Not Modified. " + PUBLIC,
            openapi_extra={"responses": {
                200: {
                    "description": "A GeoJSON FeatureCollection of (multi)polygons (WGS 84); properties `code`, "
                    "`name`, `level`, `urban_rural`, `organisation_count`.",
                    "content": {GEOJSON: {"schema": {
                        "type": "object",
                        "required": ["type", "features"],
                        "properties": {
                            "type": {"type": "string", "enum": ["FeatureCollection"]},
                            "features": {"type": "array", "items": {"type": "object"}},
                        },
                    }}},
                },
                304: {"description": "Not modified since the ETag given in `If-None-Match`."},
            }})
def regions_geojson(request: HttpRequest, query: Query[RegionMapQuery]) -> HttpResponse:
    regions = (
        selectors.regions(level=query.level, country=query.country)
        .annotate(map_geometry=Coalesce(F("geometry_simplified"), F("geometry")))
        .defer(*WITHOUT_GEOMETRY)
    )
    counts = selectors.organisation_counts_by_region(level=query.level)
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": region.code,
                "geometry": region.map_geometry,
                "properties": {
                    "code": region.code,
                    "name": region.name_latn,
                    "level": region.level,
                    "urban_rural": region.urban_rural,
                    "organisation_count": counts.get(region.code, 0),
                },
            }
            for region in regions
        ],
    }
    body = json.dumps(collection, ensure_ascii=False, separators=(",", ":")).encode()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    response = HttpResponse(body, content_type=GEOJSON)
    response["ETag"] = etag
    patch_cache_control(response, public=True, max_age=REGION_MAP_MAX_AGE)
    return get_conditional_response(request, etag=etag, response=response) or response


@router.get("/regions/{code}", response={200: RegionDetailOut, **PUBLIC_ERRORS}, tags=["regions"],
            summary="One NUTS 2021 region", description="The region's page as JSON, with its boundary. " + PUBLIC)
def get_region(
    request: HttpRequest,
    code: PathEx[str, P(min_length=2, max_length=5, pattern=r"^[A-Za-z]{2}[A-Za-z0-9]{0,3}$",
                        description="NUTS 2021 code (FR, FR1, FR10, FR101).")],
    detail: QueryEx[Literal["simplified", "full"], P(description="`full` for the stored 1:60 million boundary.")]
    = "simplified",
) -> dict[str, Any]:
    region = selectors.region_detail(code)
    geometry = region.geometry if detail == "full" else (region.geometry_simplified or region.geometry)
    return {
        **_region_out(region, selectors.region_organisation_count(region)),
        "parent_region": _region_ref(region.parent) if region.parent else None,
        "country_detail": _country_ref(region.country),
        "geometry_detail": detail,
        "geometry": geometry,
    }


@router.get("/sectors", response={200: SectorListOut, **PUBLIC_ERRORS}, tags=["reference data"],
            summary="NACE Rev. 2 codes", description="Sections, divisions, groups and classes, by code. " + PUBLIC)
def list_sectors(request: HttpRequest, query: Query[SectorQuery]) -> dict[str, Any]:
    sectors = list(selectors.sectors(level=query.level or ""))
    return {
        "count": len(sectors),
        "items": [{**_sector_ref(s), "parent": s.parent_id, "section": s.section} for s in sectors],
    }


@router.get("/countries", response={200: CountryListOut}, tags=["reference data"],
            summary="Countries", description="ISO 3166 countries with their NUTS code and organisation count. "
            + PUBLIC)
def list_countries(request: HttpRequest) -> dict[str, Any]:
    countries = list(selectors.countries())
    return {
        "count": len(countries),
        "items": [
            {
                "code": c.code, "nuts_code": c.nuts_code, "name": c.name, "alpha3": c.alpha3, "is_eu": c.is_eu,
                "organisation_count": getattr(c, "organisation_count", 0),
            }
            for c in countries
        ],
    }


# --- the edit workflow (signed in) --------------------------------------------------------------


@router.get("/changes", response={200: ChangeListOut, **AUTH_ERRORS}, auth=session_auth, tags=["workflow"],
            summary="Profile changes",
            description="For the secretariat: the changes waiting for validation, oldest first. For everyone else: "
            "their own changes, newest first. " + SIGNED_IN)
def list_changes(request: HttpRequest, query: Query[ChangeListQuery]) -> dict[str, Any]:
    user = request.auth  # type: ignore[attr-defined]
    qs = selectors.pending_changes() if user.is_secretariat else selectors.changes_by(user)
    qs = qs.select_related("author", "decided_by")
    return _paged(selectors.paginate(qs, page=query.page, page_size=query.page_size), _change_out)


@router.post("/clusters/{id}/changes", response={201: ChangeOut, **WORKFLOW_ERRORS}, auth=session_auth,
             tags=["workflow"], summary="Propose a change to a cluster",
             description="The cluster's managers and the secretariat. A draft cluster changes at once; a published "
             "one's change waits for the secretariat (status `submitted`). Others get 403. " + SIGNED_IN)
def propose_cluster_change(request: HttpRequest, id: ObjectId, payload: ClusterChangeIn) -> Status[dict[str, Any]]:
    cluster = selectors.cluster_detail(id, user=request.auth)  # type: ignore[attr-defined]
    change = services.propose_change(
        user=request.auth, target=cluster, data=payload.model_dump(mode="json", exclude_unset=True)  # type: ignore[attr-defined]
    )
    return Status(201, _change_out(change))


@router.post("/organisations/{id}/changes", response={201: ChangeOut, **WORKFLOW_ERRORS}, auth=session_auth,
             tags=["workflow"], summary="Propose a change to an organisation",
             description="The organisation's managers and the secretariat; the change waits for the secretariat "
             "unless the secretariat makes it. Others get 403. " + SIGNED_IN)
def propose_organisation_change(
    request: HttpRequest, id: ObjectId, payload: OrganisationChangeIn
) -> Status[dict[str, Any]]:
    organisation = selectors.organisation_detail(id)
    change = services.propose_change(
        user=request.auth, target=organisation, data=payload.model_dump(mode="json", exclude_unset=True)  # type: ignore[attr-defined]
    )
    return Status(201, _change_out(change))


@router.post("/changes/{id}/validate", response={200: ChangeOut, **WORKFLOW_ERRORS}, auth=session_auth,
             tags=["workflow"], summary="Validate a submitted change",
             description="The values reach the profile and the author is told. 409 when the change is not waiting "
             "for validation. " + SECRETARIAT)
def validate_change(request: HttpRequest, id: ObjectId) -> dict[str, Any]:
    change = services.validate_change(user=request.auth, change=selectors.profile_change(id))  # type: ignore[attr-defined]
    return _change_out(selectors.profile_change(change.pk))


@router.post("/changes/{id}/return", response={200: ChangeOut, **WORKFLOW_ERRORS}, auth=session_auth,
             tags=["workflow"], summary="Return a submitted change with a reason",
             description="The profile stays as it was and the author is told why. 409 when the change is not "
             "waiting for validation. " + SECRETARIAT)
def return_change(request: HttpRequest, id: ObjectId, payload: ReturnIn) -> dict[str, Any]:
    change = services.return_change(
        user=request.auth, change=selectors.profile_change(id), reason=payload.reason  # type: ignore[attr-defined]
    )
    return _change_out(selectors.profile_change(change.pk))


@router.get("/duplicates", response={200: DuplicateListOut, **AUTH_ERRORS}, auth=session_auth, tags=["workflow"],
            summary="Likely duplicates to review", description="Open pairs, most similar first. " + SECRETARIAT)
def list_duplicates(request: HttpRequest, query: Query[PageQuery]) -> dict[str, Any]:
    require_secretariat(request)
    page = selectors.paginate(selectors.open_duplicates(), page=query.page, page_size=query.page_size)
    return _paged(page, _duplicate_out)
