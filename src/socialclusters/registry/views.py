"""Pages of the registry: home, directories, organisation, cluster and region pages, and the
manager's and secretariat's workflow pages.

Views are thin: they read through ``selectors``, write through ``services``, and declare their
audience with ``socialclusters.web.access`` (which also turns domain errors into responses).
Every public page has a JSON twin under /api/v1/ built from the same selector.
"""

from __future__ import annotations

import datetime
from collections import OrderedDict
from decimal import Decimal
from typing import Any, cast
from urllib.parse import urlencode

from django.contrib import messages
from django.core import exceptions as django_exceptions
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from socialclusters import errors
from socialclusters.mapping import selectors as map_selectors
from socialclusters.registry import selectors, services
from socialclusters.registry.forms import (
    HTML_PAGE_SIZE,
    ClusterFilterForm,
    ClusterProfileForm,
    DuplicateDecisionForm,
    OrganisationFilterForm,
    OrganisationProfileForm,
    ProfileForm,
    ReturnChangeForm,
)
from socialclusters.registry.models import (
    MEMBER_TYPE_OF_KIND,
    ChangeStatus,
    Cluster,
    DuplicateCandidate,
    MemberType,
    Organisation,
    OrganisationKind,
    ProfileChange,
    Region,
)
from socialclusters.web import Audience, access, form_errors

# --- helpers --------------------------------------------------------------------------------

# In SVG units; the chart scales to its column, so these also set the text's relative size.
CHART_WIDTH = 480
CHART_LABEL_WIDTH = 200
CHART_VALUE_WIDTH = 48
CHART_BAR_HEIGHT = 22
CHART_GAP = 7


def bar_chart(rows: list[tuple[str, str, int]]) -> dict[str, Any]:
    """Geometry of a horizontal bar chart drawn as inline SVG (no script, no library)."""
    largest = max((count for _code, _label, count in rows), default=0) or 1
    room = CHART_WIDTH - CHART_LABEL_WIDTH - CHART_VALUE_WIDTH
    bars = []
    for index, (code, label, count) in enumerate(rows):
        y = index * (CHART_BAR_HEIGHT + CHART_GAP)
        width = max(1, round(room * count / largest)) if count else 0
        bars.append({
            "code": code, "label": label, "count": count, "y": y, "text_y": y + round(CHART_BAR_HEIGHT * 0.72),
            "width": width, "value_x": CHART_LABEL_WIDTH + width + 6,
        })
    height = max(1, len(rows) * (CHART_BAR_HEIGHT + CHART_GAP) - CHART_GAP)
    return {"bars": bars, "width": CHART_WIDTH, "height": height, "bar_x": CHART_LABEL_WIDTH,
            "label_x": CHART_LABEL_WIDTH - 8, "bar_height": CHART_BAR_HEIGHT, "track_width": room}


def _page_links(query_items: list[tuple[str, str]], page: selectors.Page) -> dict[str, str]:
    links = {}
    if page.has_previous:
        links["previous"] = "?" + urlencode([*query_items, ("page", page.number - 1)])
    if page.has_next:
        links["next"] = "?" + urlencode([*query_items, ("page", page.number + 1)])
    return links


def _check_page(page: selectors.Page) -> None:
    if page.number > page.pages:
        raise Http404(_("There is no page %(number)d.") % {"number": page.number})


def _page_number(request: HttpRequest) -> int:
    try:
        number = int(request.GET.get("page", "1"))
    except ValueError:
        raise Http404(_("Page numbers are whole numbers.")) from None
    if number < 1:
        raise Http404(_("Page numbers start at 1."))
    return number


def _wants_fragment(request: HttpRequest) -> bool:
    """htmx asks for the result list only, except when restoring a page from history."""
    htmx: Any = getattr(request, "htmx", None)  # django-htmx's HtmxDetails when its middleware ran
    return bool(htmx) and not htmx.history_restore_request


def _render_list(request: HttpRequest, full: str, fragment: str, context: dict[str, Any]) -> HttpResponse:
    response = render(request, fragment if _wants_fragment(request) else full, context)
    # The same address answers with a fragment or a page: caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


def _display(model_field: models.Field, value: Any) -> str:
    """A stored or proposed value as a person reads it (choices by label, empty as a dash)."""
    if value is None or value in ("", []):
        return "—"
    choices = dict(model_field.flatchoices) if model_field.choices else {}
    items = value if isinstance(value, list) else [value]
    shown = []
    for item in items:
        if item in choices:
            shown.append(str(choices[item]))
        elif isinstance(item, bool):
            shown.append(_("Yes") if item else _("No"))
        elif isinstance(item, datetime.date | Decimal | float | int):
            shown.append(str(formats.localize(item)))
        else:
            shown.append(str(item))
    return ", ".join(shown)


def _member_type_choices(model_field: models.Field) -> models.Field:
    # declared_member_types is a JSON list of MemberType values: show their labels.
    model_field = model_field.clone()
    model_field.choices = MemberType.choices
    return model_field


def change_diff(change: ProfileChange) -> list[dict[str, str]]:
    """Each proposed field with the profile's current value beside it."""
    target = change.target
    rows = []
    for name, proposed in change.data.items():
        model_field = target._meta.get_field(name)
        assert isinstance(model_field, models.Field)  # proposals name the profile's own fields, not relations
        if name == "declared_member_types":
            model_field = _member_type_choices(model_field)
        current = getattr(target, name)
        try:
            proposed_value = model_field.to_python(proposed)
        except django_exceptions.ValidationError:  # shown as stored when it no longer fits the field
            proposed_value = proposed
        rows.append({
            "name": name,
            "label": str(model_field.verbose_name),
            "current": _display(model_field, current),
            "proposed": _display(model_field, proposed_value),
        })
    return rows


def map_context(*, region: Region | None, lat: float | None, lon: float | None, label: str) -> dict[str, Any] | None:
    """What the small map draws, and the same facts as a sentence for people who cannot see it."""
    if region is None and (lat is None or lon is None):
        return None
    sentences = []
    if region is not None:
        sentences.append(_("Region %(code)s %(name)s (NUTS level %(level)d).")
                         % {"code": region.code, "name": region.name_latn, "level": region.level})
    if lat is not None and lon is not None:
        sentences.append(_("Point at latitude %(lat)s, longitude %(lon)s.")
                         % {"lat": formats.localize(round(lat, 4)), "lon": formats.localize(round(lon, 4))})
    return {"region": region, "lat": lat, "lon": lon, "label": label, "caption": " ".join(sentences)}


# --- public pages ---------------------------------------------------------------------------


@access(Audience.PUBLIC)
def home(request: HttpRequest) -> HttpResponse:
    data = selectors.overview()
    return render(request, "registry/home.html", {
        "overview": data,
        "country_chart": bar_chart(data.by_country),
        "family_chart": bar_chart(data.by_family),
    })


@access(Audience.PUBLIC)
def organisation_list(request: HttpRequest) -> HttpResponse:
    form = OrganisationFilterForm(request.GET, user=request.user)
    page = None
    if form.is_valid():
        with form_errors(form):
            page = selectors.paginate(selectors.organisation_list(form.filters()), page=form.page_number(),
                                      page_size=HTML_PAGE_SIZE)
            _check_page(page)
    elif "page" in form.errors:
        raise Http404(_("Page numbers are whole numbers from 1."))
    query_items = form.query_items() if form.is_valid() else []
    return _render_list(request, "registry/organisation_list.html", "registry/_organisation_results.html", {
        "form": form,
        "page": page,
        "query": urlencode(query_items),
        "page_links": _page_links(query_items, page) if page else {},
    })


@access(Audience.PUBLIC)
def organisation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = selectors.organisation_detail(pk)
    memberships = list(organisation.memberships.all())
    visible = set(
        selectors.visible_clusters(request.user)  # type: ignore[arg-type]
        .filter(pk__in=[m.cluster_id for m in memberships]).values_list("pk", flat=True)
    )
    return render(request, "registry/organisation_detail.html", {
        "organisation": organisation,
        "memberships": [m for m in memberships if m.cluster_id in visible],
        "source_records": organisation.source_records.all(),
        "map": map_context(region=organisation.region, lat=organisation.latitude, lon=organisation.longitude,
                           label=organisation.name),
        "can_edit": selectors.can_edit_organisation(request.user, organisation),  # type: ignore[arg-type]
    })


@access(Audience.PUBLIC)
def cluster_list(request: HttpRequest) -> HttpResponse:
    form = ClusterFilterForm(request.GET, user=request.user)
    page = None
    if form.is_valid():
        with form_errors(form):
            page = selectors.paginate(selectors.cluster_list(form.filters(), user=request.user),  # type: ignore[arg-type]
                                      page=form.page_number(), page_size=HTML_PAGE_SIZE)
            _check_page(page)
    elif "page" in form.errors:
        raise Http404(_("Page numbers are whole numbers from 1."))
    query_items = form.query_items() if form.is_valid() else []
    return _render_list(request, "registry/cluster_list.html", "registry/_cluster_results.html", {
        "form": form,
        "page": page,
        "query": urlencode(query_items),
        "page_links": _page_links(query_items, page) if page else {},
    })


def _members_by_type(cluster: Cluster) -> list[dict[str, Any]]:
    groups: OrderedDict[str, dict[str, Any]] = OrderedDict(
        (t.value, {"code": t.value, "label": t.label, "members": []}) for t in MemberType
    )
    groups["other"] = {"code": "other", "label": _("Other or not yet known"), "members": []}
    for membership in cluster.memberships.all():
        if membership.until is not None:
            continue
        # The stored kind is a plain str equal to (and hashing as) its OrganisationKind member.
        member_type = MEMBER_TYPE_OF_KIND.get(cast(OrganisationKind, membership.organisation.kind), "other")
        groups[member_type]["members"].append(membership)
    return [group for group in groups.values() if group["members"]]


@access(Audience.PUBLIC)
def cluster_detail(request: HttpRequest, pk: int) -> HttpResponse:
    cluster = selectors.cluster_detail(pk, user=request.user)  # type: ignore[arg-type]
    user = request.user
    pending = 0
    can_edit = selectors.can_edit_cluster(user, cluster)  # type: ignore[arg-type]
    if can_edit:
        pending = cluster.profile_changes.filter(status=ChangeStatus.SUBMITTED).count()
    return render(request, "registry/cluster_detail.html", {
        "cluster": cluster,
        "admission": selectors.admission_checks(cluster),
        "member_types": [
            (MemberType(code).label, count) for code, count in selectors.cluster_member_types(cluster).items()
        ],
        "member_groups": _members_by_type(cluster),
        "former_members": [m for m in cluster.memberships.all() if m.until is not None],
        "source_records": cluster.source_records.all(),
        "can_edit": can_edit,
        "pending_changes": pending,
        "history_url": reverse("admin:registry_cluster_history", args=[cluster.pk])
        if user.is_authenticated and user.is_secretariat else "",  # type: ignore[union-attr]
    })


@access(Audience.PUBLIC)
def region_detail(request: HttpRequest, code: str) -> HttpResponse:
    region = selectors.region_detail(code)
    page = selectors.paginate(
        selectors.organisation_list(selectors.OrganisationFilters(nuts=region.code)),
        page=_page_number(request), page_size=HTML_PAGE_SIZE,
    )
    _check_page(page)
    ancestors: list[Region] = []
    parent = region.parent
    while parent is not None:
        ancestors.insert(0, parent)
        parent = parent.parent
    return render(request, "registry/region_detail.html", {
        "region": region,
        "ancestors": ancestors,
        "children": region.children.order_by("code"),
        "clusters": selectors.visible_clusters(request.user).filter(regions__code__startswith=region.code)  # type: ignore[arg-type]
        .distinct().order_by("name"),
        "page": page,
        "page_links": _page_links([], page),
        "map": map_context(region=region, lat=None, lon=None, label=region.name_latn),
        # The region's place in the statistics: the map app's selectors, shared with the map's panel.
        "top_sectors": map_selectors.top_sectors(region),
        "comparable": map_selectors.comparable_regions(region.code),
        "has_series": not map_selectors.region_time_series(region.code).empty,
    })


# --- managers -------------------------------------------------------------------------------


@access(Audience.SIGNED_IN)
def my_profiles(request: HttpRequest) -> HttpResponse:
    user = request.user
    return render(request, "registry/my_profiles.html", {
        "clusters": user.managed_clusters.select_related("country").order_by("name"),  # type: ignore[union-attr]
        "organisations": user.managed_organisations.select_related("country").order_by("name"),  # type: ignore[union-attr]
        "changes": [
            {"change": change, "diff": change_diff(change)}
            for change in selectors.changes_by(user).order_by("-created_at")[:100]  # type: ignore[arg-type]
        ],
    })


def _edit_profile(request: HttpRequest, target: Cluster | Organisation, form_class: type[ProfileForm],
                  detail_url: str) -> HttpResponse:
    if request.method == "POST":
        form = form_class(request.POST, instance=target)
        if form.is_valid():
            with form_errors(form):
                change = services.propose_change(user=request.user, target=target,  # type: ignore[arg-type]
                                                 data=form.proposed_values())
                if change.status == ChangeStatus.VALIDATED:
                    messages.success(request, _("Your change is saved and public."))
                    return redirect(detail_url)
                messages.success(request, _("Your change was sent to the secretariat for validation."))
                return redirect("my_profiles")
    else:
        form = form_class(instance=target)
    return render(request, "registry/profile_edit.html", {
        "form": form, "target": target, "detail_url": detail_url,
        "is_cluster": isinstance(target, Cluster),
    })


@access(Audience.SIGNED_IN)
def cluster_edit(request: HttpRequest, pk: int) -> HttpResponse:
    cluster = selectors.cluster_detail(pk, user=request.user)  # type: ignore[arg-type]
    if not selectors.can_edit_cluster(request.user, cluster):  # type: ignore[arg-type]
        raise errors.PermissionDenied(f"{request.user} does not manage '{cluster}'")
    return _edit_profile(request, cluster, ClusterProfileForm, reverse("cluster_detail", args=[pk]))


@access(Audience.SIGNED_IN)
def organisation_edit(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = selectors.organisation_detail(pk)
    if not selectors.can_edit_organisation(request.user, organisation):  # type: ignore[arg-type]
        raise errors.PermissionDenied(f"{request.user} does not manage '{organisation}'")
    return _edit_profile(request, organisation, OrganisationProfileForm, reverse("organisation_detail", args=[pk]))


# --- secretariat ----------------------------------------------------------------------------


def _return_form(change_pk: int, data: Any = None) -> ReturnChangeForm:
    return ReturnChangeForm(data, auto_id=f"id_%s_{change_pk}")


def _render_queue(request: HttpRequest, bound: ReturnChangeForm | None = None, bound_pk: int | None = None,
                  status: int = 200) -> HttpResponse:
    changes = [
        {
            "change": change,
            "diff": change_diff(change),
            "return_form": bound if change.pk == bound_pk and bound is not None else _return_form(change.pk),
        }
        for change in selectors.pending_changes()
    ]
    return render(request, "registry/validation_queue.html", {"changes": changes}, status=status)


@access(Audience.SECRETARIAT)
def validation_queue(request: HttpRequest) -> HttpResponse:
    return _render_queue(request)


def _submitted_change(pk: int) -> ProfileChange:
    return get_object_or_404(ProfileChange.objects.select_related("author", "cluster", "organisation"), pk=pk)


@require_POST
@access(Audience.SECRETARIAT, back="validation_queue")
def change_validate(request: HttpRequest, pk: int) -> HttpResponse:
    change = services.validate_change(user=request.user, change=_submitted_change(pk))  # type: ignore[arg-type]
    messages.success(request, _("Change to “%(target)s” validated; its author is told by email.")
                     % {"target": change.target})
    return redirect("validation_queue")


@require_POST
@access(Audience.SECRETARIAT, back="validation_queue")
def change_return(request: HttpRequest, pk: int) -> HttpResponse:
    change = _submitted_change(pk)
    form = _return_form(pk, request.POST)
    if form.is_valid():
        with form_errors(form):
            services.return_change(user=request.user, change=change,  # type: ignore[arg-type]
                                   reason=form.cleaned_data["reason"])
            messages.success(request, _("Change to “%(target)s” returned to its author.") % {"target": change.target})
            return redirect("validation_queue")
    return _render_queue(request, bound=form, bound_pk=pk, status=400)


@access(Audience.SECRETARIAT)
def duplicate_list(request: HttpRequest) -> HttpResponse:
    page = selectors.paginate(selectors.open_duplicates(), page=_page_number(request), page_size=HTML_PAGE_SIZE)
    if page.count:
        _check_page(page)
    return render(request, "registry/duplicates.html", {"page": page, "page_links": _page_links([], page)})


@require_POST
@access(Audience.SECRETARIAT, back="duplicate_list")
def duplicate_decide(request: HttpRequest, pk: int) -> HttpResponse:
    candidate = get_object_or_404(DuplicateCandidate, pk=pk)
    form = DuplicateDecisionForm(request.POST)
    if not form.is_valid():
        raise errors.ValidationError(_("Choose “merge” or “not duplicates”."), field="decision")
    merge = form.cleaned_data["decision"] == "merge"
    first_name = candidate.first.name
    second_name = candidate.second.name if candidate.second else candidate.second_name
    services.decide_duplicate(user=request.user, candidate=candidate, merge=merge)  # type: ignore[arg-type]
    if merge:
        messages.success(request, _("“%(second)s” merged into “%(first)s”.") % {"first": first_name,
                                                                             "second": second_name})
    else:
        messages.success(request, _("“%(first)s” and “%(second)s” recorded as different organisations.")
                         % {"first": first_name, "second": second_name})
    return redirect("duplicate_list")
