"""Pages of the mapping app: the full-screen map, and the secretariat's review of candidate concentrations.

The page is rendered on the server from the same selector as ``/api/v1/map/layer`` (legend and mapped
table), so it reads without JavaScript and for screen readers; ``static/socialclusters/js/atlas.js`` then
draws the interactive map from the API and keeps the view in the URL.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from socialclusters.errors import ValidationError
from socialclusters.mapping import selectors, services
from socialclusters.mapping.models import CandidateStatus
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



@access(Audience.SECRETARIAT)
def candidates(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in {"", *CandidateStatus.values}:
        status = ""
    return render(request, "mapping/candidates.html", {
        "candidates": selectors.candidate_concentrations(status=status).prefetch_related("organisations")[:200],
        "status": status,
        "statuses": CandidateStatus.choices,
    })


@require_POST
@access(Audience.SECRETARIAT, back="mapping:candidates")
def candidate_review(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        candidate = services.review_candidate(user=request.user, candidate_id=pk,  # type: ignore[arg-type]
                                              decision=request.POST.get("decision", ""),
                                              note=request.POST.get("note", ""))
    except ValidationError as exc:
        messages.error(request, f"{exc.field}: {exc.message}" if exc.field else exc.message)
        return redirect(f"{reverse('mapping:candidates')}#candidate-{pk}")
    messages.success(request, _("Recorded: %(label)s — %(status)s.") % {
        "label": candidate.label, "status": candidate.get_status_display()})
    return redirect(reverse("mapping:candidates"))
