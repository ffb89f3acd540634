"""Pages of the mapping app: the full-screen map of social economy clusters.

The page is rendered on the server from the same selector as ``/api/v1/map/layer`` (legend and mapped
table), so it reads without JavaScript and for screen readers; ``static/socialclusters/js/atlas.js`` then
draws the interactive map from the API and keeps the view in the URL.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from socialclusters.errors import ValidationError
from socialclusters.mapping import selectors
from socialclusters.registry.models import UrbanRuralType
from socialclusters.web import Audience, access

LAYER_FIELDS = ("level", "indicator", "family", "sector", "year", "urban_rural", "classes")


@access(Audience.PUBLIC)
def map_page(request: HttpRequest) -> HttpResponse:
    wanted: dict[str, Any] = {name: request.GET[name] for name in LAYER_FIELDS if request.GET.get(name)}
    error = None
    try:
        query = selectors.layer_query(**wanted)
    except ValidationError as exc:
        error = exc
        query = selectors.layer_query()
    layer = selectors.map_layer(query)
    ranked = sorted(layer.rows(), key=lambda row: (row["value"] is None, -(row["value"] or 0), row["code"]))
    options = selectors.statistics_options()
    return render(request, "mapping/map.html", {
        "layer": layer,
        "query": query,
        "rows": ranked,
        "legend": list(zip(layer.legend, layer.colours, strict=True)),
        "error": error,
        "indicators": selectors.INDICATORS.values(),
        "families": selectors.SE_FAMILIES,
        "levels": selectors.LEVELS,
        "sectors": options["sectors"],
        "years": options["years"],
        "urban_rural_types": UrbanRuralType.choices,
        "points": request.GET.get("points", "clusters"),
        "state": request.GET.urlencode(),
    })

