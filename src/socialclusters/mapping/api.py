"""The map's API (paths under /map): geometry, indicator layers and their twins, points, region profiles.

The map page is built from these operations only, so anything it shows can be fetched by a program.
Geometry, layers and images are kept in memory (``MEMO``) and answer with an ``ETag`` (``If-None-Match`` gives 304) and
gzip when the client accepts it; a layer's cache key includes a signature of the data, so an import or an
edit shows on the next request.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
import time
from collections import OrderedDict
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.translation import get_language
from ninja import Field, P, PathEx, Query, QueryEx, Router, Schema

from socialclusters.analysis import charts, choropleth
from socialclusters.api.auth import PUBLIC, SECRETARIAT, require_secretariat, session_auth
from socialclusters.api.errors import AUTH_ERRORS, PUBLIC_ERRORS
from socialclusters.errors import ValidationError
from socialclusters.mapping import selectors
from socialclusters.registry.exports import CSV_CONTENT_TYPE, csv_lines

router = Router(tags=["map"])

GEOJSON = "application/geo+json"
LAYER_MAX_AGE = 60
GEOMETRY_MAX_AGE = 24 * 3600
SIGNATURE_SECONDS = 5  # how long a data signature is trusted before the tables are asked again
MAX_COMPARED = 5

LEVEL = "NUTS level: 0 (countries) to 3 (small regions)."
CODE = "A NUTS 2021 code of any level (FR, FR1, FR10, FR101)."
YEAR = "A year of the imported statistics for the top sectors (default: the latest)."
HIGHLIGHT = "NUTS codes to outline, separated by commas (the selected and compared regions)."
LAYER_PARAMETERS = """
- `level`: NUTS level 0 (countries) to 3 (small regions); default 2.
- `indicator`: one of the keys of `/map/indicators`; default `se_organisations`.
- `family`: a social economy family (cooperative, mutual, association, foundation, social_enterprise,
  other_se) for `se_organisations` and `se_share`.
- `sector`, `year`: for the indicators computed from imported statistics (`employment`, `lq`, `stars`); for
  `se_lq`, `sector` may be a NACE section letter.
- `urban_rural`: 1 (predominantly urban), 2 (intermediate) or 3 (predominantly rural): counts only
  organisations placed in NUTS 3 regions of that type; at level 3 other regions show no value.
- `classes`: number of quantile classes, 2 to 7; default 5.
"""


class _Memo:
    """Answers kept in this process, least recently used out: no pickling on the hot path.

    Keys include the data signature, so a change in the registry or the statistics is seen by every process
    within ``SIGNATURE_SECONDS``, however many workers serve the API.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[Any, Any] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self.lock:
            value = self.items.get(key)
            if value is not None:
                self.items.move_to_end(key)
            return value

    def set(self, key: Any, value: Any) -> None:
        with self.lock:
            self.items[key] = value
            while len(self.items) > self.size:
                self.items.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.items.clear()


MEMO = _Memo(96)
_signature_state: dict[str, Any] = {"value": None, "at": 0.0}


def forget() -> None:
    """Drop every kept answer and the data signature (after an import, or between tests)."""
    MEMO.clear()
    _signature_state.update(value=None, at=0.0)


def _signature() -> str:
    now = time.monotonic()
    if _signature_state["value"] is None or now - _signature_state["at"] > SIGNATURE_SECONDS:
        _signature_state.update(value=selectors.data_signature(), at=now)
    return str(_signature_state["value"])


def _geometry(level: int) -> tuple[bytes, str]:
    key = ("geometry", level, _signature())
    found = MEMO.get(key)
    if found is None:
        found = selectors.map_geometry(level)
        MEMO.set(key, found)
    return found  # type: ignore[no-any-return]


def _respond(request: HttpRequest, body: bytes, *, content_type: str, etag: str, max_age: int,
             filename: str = "") -> HttpResponse:
    quoted = f'"{etag}"'
    accepts_gzip = "gzip" in request.headers.get("Accept-Encoding", "")
    if accepts_gzip and len(body) > 1024 and not content_type.startswith("image/png"):
        response = HttpResponse(_gzipped(body, etag), content_type=content_type)
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(body, content_type=content_type)
    response["ETag"] = quoted
    if filename:
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    patch_cache_control(response, public=True, max_age=max_age)
    patch_vary_headers(response, ["Accept-Encoding", "Accept-Language"])
    return get_conditional_response(request, etag=quoted, response=response) or response


def _gzipped(body: bytes, etag: str) -> bytes:
    key = ("gzip", etag)
    packed = MEMO.get(key)
    if packed is None:
        packed = gzip.compress(body, compresslevel=6, mtime=0)
        MEMO.set(key, packed)
    return bytes(packed)


class LayerParams(Schema):
    level: int = Field(2, description="NUTS level: 0 (countries) to 3 (small regions).")
    indicator: str = Field("se_organisations", description="An indicator key of `/map/indicators`.")
    family: str = Field("", description="A social economy family, for `se_organisations` and `se_share`.")
    sector: str = Field("", description="A NACE code or aggregate of the imported statistics (a section letter "
                                        "for `se_lq`).")
    year: int | None = Field(None, description="A year of the imported statistics.")
    urban_rural: int | None = Field(None, description="1 predominantly urban, 2 intermediate, 3 predominantly rural.")
    classes: int = Field(5, description="Number of quantile classes, 2 to 7.")


def _query(params: LayerParams) -> selectors.LayerQuery:
    return selectors.layer_query(**params.dict())


def _layer(query: selectors.LayerQuery) -> tuple[selectors.MapLayer, str]:
    key = ("layer", query, _signature(), get_language())
    cached = MEMO.get(key)
    if cached is None:
        layer = selectors.map_layer(query)
        cached = (layer, hashlib.sha256(json.dumps(_layer_json(layer), sort_keys=True).encode()).hexdigest()[:32])
        MEMO.set(key, cached)
    return cached  # type: ignore[no-any-return]


def _layer_json(layer: selectors.MapLayer) -> dict[str, Any]:
    return {
        "indicator": layer.indicator.key, "label": str(layer.indicator.label), "unit": str(layer.indicator.unit),
        "description": str(layer.indicator.description),
        "level": layer.query.level, "family": layer.query.family, "sector": layer.query.sector,
        "year": layer.query.year, "urban_rural": layer.query.urban_rural,
        "nuts_version": selectors.NUTS_VERSION,
        "classes": {"method": layer.method, "breaks": layer.breaks, "labels": layer.legend,
                    "colours": layer.colours},
        "n": layer.n, "count": len(layer.codes), "source": layer.source, "note": layer.note,
        "items": layer.rows(),
    }


def _title(layer: selectors.MapLayer) -> str:
    parts = [str(layer.indicator.label)]
    if layer.query.family:
        parts.append(layer.query.family.replace("_", " "))
    if layer.query.sector:
        parts.append(f"NACE {layer.query.sector}")
    if layer.query.year:
        parts.append(str(layer.query.year))
    parts.append(f"NUTS {layer.query.level}")
    return " · ".join(parts)


@router.get("/map/indicators", summary="What the map can show",
            description="Every indicator with its label, unit, description and the parameters it needs, the "
                        "sectors and years of the imported employment statistics, and the class scheme. " + PUBLIC)
def map_indicators(request: HttpRequest) -> dict[str, Any]:
    options = selectors.statistics_options()
    return {
        "indicators": [
            {"key": spec.key, "label": str(spec.label), "unit": str(spec.unit), "description": str(spec.description),
             "needs_sector": spec.needs_sector, "needs_year": spec.needs_year, "has_family": spec.has_family,
             "from_statistics": spec.from_statistics}
            for spec in selectors.INDICATORS.values()
        ],
        "families": list(selectors.SE_FAMILIES),
        "levels": list(selectors.LEVELS),
        "statistics": options,
        "class_scheme": "quantiles: each class holds about the same number of regions with a value; where many "
                        "regions have none, the first class starts at zero",
    }


@router.get("/map/geometry", response=PUBLIC_ERRORS, summary="Region boundaries for the map",
            description="Every NUTS 2021 region of one level as a compact GeoJSON FeatureCollection: boundaries "
                        "simplified per level and rounded to 0.001° (about 100 m), with the region's name, "
                        "urban-rural type and label point. Cached; answers 304 to `If-None-Match`. " + PUBLIC)
def map_geometry(request: HttpRequest, level: QueryEx[int, P(description=LEVEL)] = 2) -> HttpResponse:
    body, etag = _geometry(level)
    return _respond(request, body, content_type=GEOJSON, etag=etag, max_age=GEOMETRY_MAX_AGE)


@router.get("/map/layer", response=PUBLIC_ERRORS, summary="An indicator over every region of a level",
            description="The value, class and name of every region, the legend (breaks, labels, colours), the "
                        "base `n` (regions with a value) and the source." + LAYER_PARAMETERS + PUBLIC)
def map_layer(request: HttpRequest, params: Query[LayerParams]) -> HttpResponse:
    layer, etag = _layer(_query(params))
    body = MEMO.get(("layer.json", etag))
    if body is None:
        body = json.dumps(_layer_json(layer), ensure_ascii=False, separators=(",", ":")).encode()
        MEMO.set(("layer.json", etag), body)
    return _respond(request, body, content_type="application/json", etag=etag, max_age=LAYER_MAX_AGE)


@router.get("/map/layer.geojson", response=PUBLIC_ERRORS, summary="A layer with its boundaries (GeoJSON)",
            description="The map layer as one GeoJSON FeatureCollection: each region's boundary with its value "
                        "and class; the legend in the collection's `legend` member." + LAYER_PARAMETERS + PUBLIC)
def map_layer_geojson(request: HttpRequest, params: Query[LayerParams]) -> HttpResponse:
    layer, layer_etag = _layer(_query(params))
    geometry_body, geometry_etag = _geometry(layer.query.level)
    etag = hashlib.sha256(f"{layer_etag}{geometry_etag}".encode()).hexdigest()[:32]
    key = ("layer.geojson", etag)
    body = MEMO.get(key)
    if body is None:
        geometry = json.loads(geometry_body)
        rows = {row["code"]: row for row in layer.rows()}
        for feature in geometry["features"]:
            row = rows.get(feature["id"], {})
            feature["properties"].update({"code": feature["id"], "value": row.get("value"),
                                          "class": row.get("class", -1)})
        description = _layer_json(layer)
        description.pop("items")
        geometry["legend"] = description
        body = json.dumps(geometry, ensure_ascii=False, separators=(",", ":")).encode()
        MEMO.set(key, body)
    return _respond(request, body, content_type=GEOJSON, etag=etag, max_age=LAYER_MAX_AGE,
                    filename=f"{layer.query.indicator}-nuts{layer.query.level}.geojson")


def _class_label(layer: selectors.MapLayer, cls: int) -> str:
    return str(layer.legend[cls]) if cls >= 0 else ""  # a region without a value is in no class


@router.get("/map/layer.csv", response=PUBLIC_ERRORS, summary="A layer as a table (CSV)",
            description="The mapped table: code, name, value, class and class label of every region, with the "
                        "source and base in the last two columns." + LAYER_PARAMETERS + PUBLIC)
def map_layer_csv(request: HttpRequest, params: Query[LayerParams]) -> HttpResponse:
    layer, etag = _layer(_query(params))
    extra = list(layer.extra)
    header = ["nuts_code", "name", layer.indicator.key, "class", "class_label", *extra, "n", "source"]
    rows = ([row["code"], row["name"], row["value"], row["class"], _class_label(layer, row["class"]),
             *[row[key] for key in extra], layer.n, layer.source] for row in layer.rows())
    return _respond(request, "".join(csv_lines(header, rows)).encode(), content_type=CSV_CONTENT_TYPE, etag=etag,
                    max_age=LAYER_MAX_AGE, filename=f"{layer.query.indicator}-nuts{layer.query.level}.csv")


def _image(request: HttpRequest, query: selectors.LayerQuery, fmt: str, highlight: str) -> HttpResponse:
    layer, layer_etag = _layer(query)
    marked = {code.strip().upper() for code in highlight.split(",") if code.strip()}
    etag = hashlib.sha256(f"{layer_etag}{fmt}{sorted(marked)}".encode()).hexdigest()[:32]
    key = ("image", etag)
    body = MEMO.get(key)
    if body is None:
        body = choropleth.render_map(
            selectors.layer_shapes(layer), layer.classes, legend=layer.legend, title=_title(layer), n=layer.n,
            source=f"{layer.source} · © EuroGeographics for the administrative boundaries",
            highlight=[i for i, code in enumerate(layer.codes) if code in marked], colours=layer.colours, fmt=fmt,
        )
        MEMO.set(key, body)
    return _respond(request, body, content_type=charts.CONTENT_TYPES[fmt], etag=etag, max_age=LAYER_MAX_AGE,
                    filename=f"{layer.query.indicator}-nuts{layer.query.level}.{fmt}")


@router.get("/map/layer.png", response=PUBLIC_ERRORS, summary="A layer as a static map (PNG)",
            description="The map view drawn on the server for reports, with its legend, base and source. "
                        "`highlight` outlines regions (comma-separated codes)." + LAYER_PARAMETERS + PUBLIC,
            openapi_extra={"responses": {200: {"content": {"image/png": {"schema": {"type": "string"}}}}}})
def map_layer_png(request: HttpRequest, params: Query[LayerParams],
                  highlight: QueryEx[str, P(description=HIGHLIGHT)] = "") -> HttpResponse:
    return _image(request, _query(params), "png", highlight)


@router.get("/map/layer.svg", response=PUBLIC_ERRORS, summary="A layer as a static map (SVG)",
            description="As `/map/layer.png`, as a vector image." + LAYER_PARAMETERS + PUBLIC,
            openapi_extra={"responses": {200: {"content": {"image/svg+xml": {"schema": {"type": "string"}}}}}})
def map_layer_svg(request: HttpRequest, params: Query[LayerParams],
                  highlight: QueryEx[str, P(description=HIGHLIGHT)] = "") -> HttpResponse:
    return _image(request, _query(params), "svg", highlight)


@router.get("/map/points", response=PUBLIC_ERRORS, summary="Organisations or clusters as map points",
            description="Points gathered into grid cells of about 40 screen pixels at the given zoom: a cell "
                        "with one point gives its `id`, `name` and `kind`; a cell with several gives their "
                        "`count` at their mean position. `kind`: organisations, se_organisations or clusters "
                        "(published only). " + PUBLIC)
def map_points(
    request: HttpRequest,
    kind: QueryEx[Literal["organisations", "se_organisations", "clusters"], P(description="What to show.")]
    = "clusters",
    zoom: QueryEx[int, P(description="The map's zoom level, 0 to 18: cells shrink as it grows.")] = 4,
) -> HttpResponse:
    key = ("points", kind, zoom, _signature())
    body = MEMO.get(key)
    if body is None:
        points = selectors.map_points(kind, zoom=zoom)
        body = json.dumps({"kind": kind, "zoom": zoom, "count": len(points), "items": points},
                          ensure_ascii=False, separators=(",", ":")).encode()
        MEMO.set(key, body)
    etag = hashlib.sha256(body).hexdigest()[:32]
    return _respond(request, body, content_type="application/json", etag=etag, max_age=LAYER_MAX_AGE)


@router.get("/map/regions/{code}", response={200: dict[str, Any], **PUBLIC_ERRORS},
            summary="A region's panel on the map",
            description="Name, level, urban-rural type, registry counts (social economy organisations by family, "
                        "cluster members), clusters, and the top sectors by employment location quotient with "
                        "their stars (when statistics are imported; `year` picks one). " + PUBLIC)
def map_region(request: HttpRequest, code: PathEx[str, P(description=CODE)],
               year: QueryEx[int | None, P(description=YEAR)] = None) -> dict[str, Any]:
    profile = selectors.region_profile(code.upper(), year=year)
    profile["comparable"] = selectors.comparable_regions(profile["code"])
    return profile


@router.get("/map/compare", response={200: dict[str, Any], **PUBLIC_ERRORS}, summary="Regions side by side",
            description=f"Up to {MAX_COMPARED} regions' panels (`codes`: comma-separated NUTS codes), in the "
                        "order given. " + PUBLIC)
def map_compare(request: HttpRequest, codes: QueryEx[str, P(description="NUTS codes, separated by commas.")],
                year: QueryEx[int | None, P(description=YEAR)] = None) -> dict[str, Any]:
    wanted = list(dict.fromkeys(code.strip().upper() for code in codes.split(",") if code.strip()))
    if not wanted:
        raise ValidationError("give one or more NUTS codes, separated by commas", field="codes")
    if len(wanted) > MAX_COMPARED:
        raise ValidationError(f"compare at most {MAX_COMPARED} regions at a time, got {len(wanted)}", field="codes")
    return {"count": len(wanted), "items": [selectors.region_profile(code, year=year) for code in wanted]}


def _employment_chart(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    profile = selectors.region_profile(code.upper())
    series = selectors.region_time_series(profile["code"])
    if series.empty:
        raise ValidationError(f"no employment statistics for {profile['code']}: import them first", field="code")
    columns = [c for c in series.columns if c != "TOTAL"][:8] or list(series.columns)
    body = charts.line_chart(
        [int(year) for year in series.index], {c: series[c].tolist() for c in columns},
        title=f"Employment by sector · {profile['code']} {profile['name']}", source="Eurostat regional statistics",
        fmt=fmt,
    )
    etag = hashlib.sha256(body).hexdigest()[:32]
    return _respond(request, body, content_type=charts.CONTENT_TYPES[fmt], etag=etag, max_age=LAYER_MAX_AGE,
                    filename=f"employment-{profile['code']}.{fmt}")


@router.get("/map/regions/{code}/employment.svg", response=PUBLIC_ERRORS, summary="A region's employment chart (SVG)",
            description="Employment by sector over the years of the imported statistics. " + PUBLIC,
            openapi_extra={"responses": {200: {"content": {"image/svg+xml": {"schema": {"type": "string"}}}}}})
def map_region_employment_svg(request: HttpRequest, code: PathEx[str, P(description=CODE)]) -> HttpResponse:
    return _employment_chart(request, code, "svg")


@router.get("/map/regions/{code}/employment.png", response=PUBLIC_ERRORS, summary="A region's employment chart (PNG)",
            description="As the SVG chart, as a picture. " + PUBLIC,
            openapi_extra={"responses": {200: {"content": {"image/png": {"schema": {"type": "string"}}}}}})
def map_region_employment_png(request: HttpRequest, code: PathEx[str, P(description=CODE)]) -> HttpResponse:
    return _employment_chart(request, code, "png")


@router.get("/map/candidates", response={200: dict[str, Any], **AUTH_ERRORS}, auth=session_auth,
            summary="Candidate concentrations to review",
            description="Concentrations of social economy organisations found by `detect-concentrations` "
                        "(density and hot spots), with their status and review; `status` filters (proposed, "
                        "accepted, dismissed). Candidates, never clusters, until the secretariat accepts one. "
                        + SECRETARIAT)
def map_candidates(
    request: HttpRequest,
    status: QueryEx[Literal["", "proposed", "accepted", "dismissed"], P(description="Only candidates with "
                                                                                    "this status.")] = "",
) -> dict[str, Any]:
    require_secretariat(request)
    candidates = selectors.candidate_concentrations(status=status).prefetch_related("organisations")
    items = [
        {"id": c.pk, "method": c.method, "label": c.label, "region": c.region.code if c.region else None,
         "centroid": [c.centroid_lon, c.centroid_lat] if c.centroid_lon is not None else None,
         "radius_km": c.radius_km, "organisations": c.organisation_count, "score": round(c.score, 4),
         "organisation_ids": sorted(o.pk for o in c.organisations.all()), "parameters": c.parameters,
         "detected_at": c.detected_at.isoformat(), "status": c.status,
         "reviewed_by": c.reviewed_by.get_username() if c.reviewed_by else None,
         "reviewed_at": c.reviewed_at.isoformat() if c.reviewed_at else None, "review_note": c.review_note,
         "cluster": c.cluster_id}
        for c in candidates
    ]
    return {"count": len(items), "items": items}
