"""Pages of cooperation: profiles, procurement opportunities, interests, inbox, contracts, procurement
figures, suggestions, cross-border flows, and the secretariat's review queue and matchmaking settings.

Views are thin: they read through ``selectors``, write through ``services``, and declare their audience
with ``socialclusters.web.access``. Every public page has a JSON twin under /api/v1/cooperation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRefresh

from socialclusters.analysis import charts
from socialclusters.cooperation import events, selectors, services
from socialclusters.cooperation.forms import (
    AnswerForm,
    ContractForm,
    EventForm,
    InterestForm,
    LevelForm,
    OpportunityForm,
    ProfileForm,
    RegistrationForm,
    ReviewForm,
    SettingsForm,
    SuggestionFilterForm,
)
from socialclusters.cooperation.models import (
    CooperationProfile,
    Event,
    InboxMessage,
    MatchingSettings,
    MeetingRequest,
    Participant,
    ProcurementOpportunity,
    ScheduleBuild,
    SuggestionOptOut,
)
from socialclusters.errors import NotFound, PermissionDenied, ValidationError
from socialclusters.registry.models import Cluster, Organisation
from socialclusters.tasks import TaskState
from socialclusters.web import Audience, access, form_errors


def _organisations(request: HttpRequest) -> list[Organisation]:
    return services.managed_organisations(request.user)  # type: ignore[arg-type]


def _user(request: HttpRequest) -> Any:
    return request.user if request.user.is_authenticated else None


# --- public lists and pages -------------------------------------------------------------------------------


@access(Audience.PUBLIC)
def home(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind", "")
    country = request.GET.get("country", "")[:2]
    section = request.GET.get("section", "")[:1]
    q = request.GET.get("q", "")[:200]
    raw_cluster = request.GET.get("cluster", "")
    cluster = int(raw_cluster) if raw_cluster.isdigit() and len(raw_cluster) < 19 else None  # a bigint has 19 digits
    cluster_obj = Cluster.objects.filter(pk=cluster).first() if cluster else None
    return render(request, "cooperation/home.html", {
        "profiles": selectors.profile_list(kind=kind, country=country, section=section, q=q, cluster=cluster)[:100],
        # A cluster's page of profiles is about its profiles: the buyers' opportunities are not the cluster's.
        "opportunities": [] if cluster else selectors.opportunity_list(country=country, section=section, q=q)[:100],
        "filters": {"kind": kind, "country": country, "section": section, "q": q}, "cluster": cluster_obj,
    })


@access(Audience.PUBLIC)
def profile_detail(request: HttpRequest, pk: int) -> HttpResponse:
    profile = selectors.profile_detail(pk, user=_user(request))
    user = _user(request)
    can_manage = services.manages_profile(user, profile)
    interest_form = None
    if user is not None:
        organisations = [o for o in _organisations(request) if o.pk != profile.organisation_id]
        if organisations:
            interest_form = InterestForm()
            interest_form.set_organisations(organisations)
    return render(request, "cooperation/profile_detail.html", {
        "profile": profile, "can_manage": can_manage, "expired": selectors.is_expired(profile),
        "following": selectors.is_following(user, profile=profile), "interest_form": interest_form,
        "interests": profile.interests.select_related("organisation") if can_manage else [],
    })


def _profile_form(request: HttpRequest, profile: CooperationProfile | None) -> HttpResponse:
    organisations = _organisations(request)
    if profile is not None and profile.organisation not in organisations:
        organisations.append(profile.organisation)
    clusters = services.managed_clusters(request.user)  # type: ignore[arg-type]
    if profile is not None and profile.cluster is not None and profile.cluster not in clusters:
        clusters.append(profile.cluster)
    if not organisations:
        messages.info(request, _("You manage no organisation yet: ask the secretariat to link you to yours."))
        return redirect("cooperation:mine")
    initial = {}
    if profile is not None:
        initial = {"organisation": profile.organisation_id, "kind": profile.kind, "seeking": profile.seeking,
                   "title": profile.title, "description": profile.description,
                   "sectors": ", ".join(s.code for s in profile.sectors.all()),
                   "regions": ", ".join(r.code for r in profile.regions.all()), "languages": profile.languages,
                   "cross_border": profile.cross_border, "deadline": profile.deadline,
                   "cluster": profile.cluster_id}
    form = ProfileForm(request.POST or None, initial=initial)
    form.set_choices(organisations, clusters)
    if request.method == "POST" and form.is_valid():
        with form_errors(form):
            chosen = form.cleaned_data["organisation"]
            organisation = next((o for o in organisations if o.pk == chosen), None)
            saved = services.save_profile(user=request.user, organisation=organisation,  # type: ignore[arg-type]
                                          data=form.data_for_service(), profile=profile)
            messages.success(request, _("The profile is saved."))
            return redirect("cooperation:profile_detail", pk=saved.pk)
    return render(request, "cooperation/form.html", {
        "form": form, "title": _("Edit the profile") if profile else _("New cooperation profile"),
        "submit": _("Save"),
    })


@access(Audience.SIGNED_IN)
def profile_new(request: HttpRequest) -> HttpResponse:
    return _profile_form(request, None)


@access(Audience.SIGNED_IN)
def profile_edit(request: HttpRequest, pk: int) -> HttpResponse:
    profile = selectors.profile_detail(pk, user=_user(request))
    if not services.manages_profile(request.user, profile):  # type: ignore[arg-type]
        raise PermissionDenied(_("only the profile's managers may edit it"))
    return _profile_form(request, profile)


@require_POST
@access(Audience.SIGNED_IN, back="cooperation:mine")
def profile_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    profile = selectors.profile_detail(pk, user=_user(request))
    user = request.user
    if action == "publish":
        profile = services.publish_profile(user=user, profile=profile)  # type: ignore[arg-type]
        messages.success(request, _("Published.") if profile.status == "published"
                         else _("Sent to the secretariat for review."))
    elif action == "renew":
        services.renew_profile(user=user, profile=profile)  # type: ignore[arg-type]
        messages.success(request, _("Renewed."))
    elif action == "withdraw":
        services.withdraw_profile(user=user, profile=profile)  # type: ignore[arg-type]
        messages.success(request, _("Withdrawn."))
        return redirect("cooperation:mine")
    elif action == "follow":
        following = services.toggle_follow(user=user, profile=profile)  # type: ignore[arg-type]
        messages.success(request, _("You follow this profile.") if following else _("You no longer follow it."))
    else:
        raise Http404
    return redirect("cooperation:profile_detail", pk=profile.pk)


@require_POST
@access(Audience.SIGNED_IN)
def profile_interest(request: HttpRequest, pk: int) -> HttpResponse:
    profile = selectors.profile_detail(pk, user=_user(request))
    return _interest(request, profile=profile)


def _interest(request: HttpRequest, *, profile: CooperationProfile | None = None,
              opportunity: ProcurementOpportunity | None = None) -> HttpResponse:
    organisations = _organisations(request)
    form = InterestForm(request.POST)
    form.set_organisations(organisations)
    if form.is_valid():
        with form_errors(form):
            organisation = next(o for o in organisations if o.pk == form.cleaned_data["organisation"])
            interest = services.express_interest(user=request.user, organisation=organisation,  # type: ignore[arg-type]
                                                 message=form.cleaned_data["message"], profile=profile,
                                                 opportunity=opportunity)
            messages.success(request, _("Your interest is sent; you will be told of the answer."))
            return redirect("cooperation:interest_detail", pk=interest.pk)
    return render(request, "cooperation/form.html", {"form": form, "title": _("Express interest"),
                                                     "submit": _("Send")}, status=400)


@access(Audience.PUBLIC)
def opportunity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    opportunity = selectors.opportunity_detail(pk, user=_user(request))
    user = _user(request)
    interest_form = None
    if user is not None:
        organisations = [o for o in _organisations(request) if o.pk != opportunity.buyer_id]
        if organisations:
            interest_form = InterestForm()
            interest_form.set_organisations(organisations)
    can_manage = services.manages(user, opportunity.buyer)
    return render(request, "cooperation/opportunity_detail.html", {
        "opportunity": opportunity, "can_manage": can_manage, "interest_form": interest_form,
        "following": selectors.is_following(user, opportunity=opportunity),
        "interests": opportunity.interests.select_related("organisation") if can_manage else [],
    })


@access(Audience.SIGNED_IN)
def opportunity_new(request: HttpRequest) -> HttpResponse:
    organisations = _organisations(request)
    if not organisations:
        messages.info(request, _("You manage no organisation yet: ask the secretariat to link you to yours."))
        return redirect("cooperation:mine")
    form = OpportunityForm(request.POST or None)
    form.set_organisations(organisations)
    if request.method == "POST" and form.is_valid():
        with form_errors(form):
            buyer = next(o for o in organisations if o.pk == form.cleaned_data["organisation"])
            opportunity = services.create_opportunity(user=request.user, buyer=buyer,  # type: ignore[arg-type]
                                                      data=form.cleaned_data)
            return redirect("cooperation:opportunity_detail", pk=opportunity.pk)
    return render(request, "cooperation/form.html", {"form": form, "title": _("New procurement opportunity"),
                                                     "submit": _("Publish")})


@access(Audience.SIGNED_IN)
def opportunity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    opportunity = selectors.opportunity_detail(pk, user=_user(request))
    if not services.manages(request.user, opportunity.buyer):  # type: ignore[arg-type]
        raise PermissionDenied(_("only the buyer's managers may edit this opportunity"))
    fields = ("title", "description", "starts_on", "ends_on", "deadline", "value_band", "social_clauses",
              "how_to_answer", "languages", "cross_border")
    initial = {name: getattr(opportunity, name) for name in fields} | {
        "organisation": opportunity.buyer_id, "sector": opportunity.sector_id or "",
        "region": opportunity.region.code if opportunity.region else ""}
    form = OpportunityForm(request.POST or None, initial=initial)
    # The buyer is fixed: the field shows it and accepts nothing else.
    form.set_organisations([opportunity.buyer])
    if request.method == "POST" and form.is_valid():
        with form_errors(form):
            services.update_opportunity(user=request.user, opportunity=opportunity,  # type: ignore[arg-type]
                                        data=form.cleaned_data)
            messages.success(request, _("The opportunity is saved."))
            return redirect("cooperation:opportunity_detail", pk=pk)
    return render(request, "cooperation/form.html", {"form": form, "title": _("Edit the opportunity"),
                                                     "submit": _("Save")})


@require_POST
@access(Audience.SIGNED_IN)
def opportunity_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    opportunity = selectors.opportunity_detail(pk, user=_user(request))
    if action == "close":
        services.close_opportunity(user=request.user, opportunity=opportunity)  # type: ignore[arg-type]
        messages.success(request, _("Closed."))
    elif action == "withdraw":
        services.withdraw_opportunity(user=request.user, opportunity=opportunity)  # type: ignore[arg-type]
        messages.success(request, _("Withdrawn."))
        return redirect("cooperation:mine")
    elif action == "follow":
        following = services.toggle_follow(user=request.user, opportunity=opportunity)  # type: ignore[arg-type]
        messages.success(request, _("You follow this opportunity.") if following
                         else _("You no longer follow it."))
    elif action == "interest":
        return _interest(request, opportunity=opportunity)
    else:
        raise Http404
    return redirect("cooperation:opportunity_detail", pk=pk)


# --- interests, inbox, my cooperation ---------------------------------------------------------------------


@access(Audience.SIGNED_IN)
def interest_detail(request: HttpRequest, pk: int) -> HttpResponse:
    view = selectors.interest_detail(pk, user=request.user)  # type: ignore[arg-type]
    return render(request, "cooperation/interest_detail.html", {"view": view, "form": AnswerForm()})


@require_POST
@access(Audience.SIGNED_IN)
def interest_answer(request: HttpRequest, pk: int) -> HttpResponse:
    view = selectors.interest_detail(pk, user=request.user)  # type: ignore[arg-type]
    form = AnswerForm(request.POST)
    if form.is_valid():
        with form_errors(form):
            services.answer_interest(user=request.user, interest=view.interest,  # type: ignore[arg-type]
                                     accept=form.cleaned_data["decision"] == "accept",
                                     answer=form.cleaned_data["answer"])
            return redirect("cooperation:interest_detail", pk=pk)
    return render(request, "cooperation/interest_detail.html", {"view": view, "form": form}, status=400)


@access(Audience.SIGNED_IN)
def inbox(request: HttpRequest) -> HttpResponse:
    items = list(selectors.inbox(request.user)[:200])  # type: ignore[arg-type]
    response = render(request, "cooperation/inbox.html", {"items": items})
    InboxMessage.objects.filter(pk__in=[m.pk for m in items if not m.read]).update(read=True)
    return response


@access(Audience.SIGNED_IN)
def mine(request: HttpRequest) -> HttpResponse:
    organisations = _organisations(request)
    opted_out = set(SuggestionOptOut.objects.filter(organisation__in=organisations).values_list(
        "organisation_id", flat=True))
    return render(request, "cooperation/mine.html", {
        "profiles": selectors.profiles_of(request.user),  # type: ignore[arg-type]
        "opportunities": selectors.opportunities_of(request.user),  # type: ignore[arg-type]
        "interests": selectors.interests_involving(request.user)[:100],  # type: ignore[arg-type]
        "organisations": [(o, o.pk in opted_out) for o in organisations],
    })


@require_POST
@access(Audience.SIGNED_IN, back="cooperation:mine")
def opt_out(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = get_object_or_404(Organisation, pk=pk)
    opted = services.set_opt_out(user=request.user, organisation=organisation,  # type: ignore[arg-type]
                                 opted_out=request.POST.get("opted_out") == "1")
    messages.success(request, _("%(name)s will no longer be suggested.") % {"name": organisation.name} if opted
                     else _("%(name)s can be suggested again.") % {"name": organisation.name})
    return redirect("cooperation:mine")


# --- contracts and procurement figures --------------------------------------------------------------------


@access(Audience.SIGNED_IN)
def contract_new(request: HttpRequest) -> HttpResponse:
    form = ContractForm(request.POST or None, initial=request.GET.dict() if request.method == "GET" else None)
    if request.method == "POST" and form.is_valid():
        with form_errors(form):
            services.record_contract(user=request.user, data=form.cleaned_data)  # type: ignore[arg-type]
            messages.success(request, _("The contract is recorded."))
            return redirect("cooperation:procurement")
    return render(request, "cooperation/form.html", {"form": form, "title": _("Record a contract"),
                                                     "submit": _("Record")})


@access(Audience.PUBLIC)
def procurement(request: HttpRequest) -> HttpResponse:
    form = LevelForm(request.GET or None)
    level = form.cleaned_data.get("level") if form.is_valid() else None
    level = 2 if level in (None, "") else level
    by_region = selectors.procurement_by_region(level)
    names = selectors.region_names(list(by_region))
    return render(request, "cooperation/procurement.html", {
        "form": form, "level": level,
        "by_region": [(code, names.get(code, ""), row) for code, row in by_region.items()],
        "by_sector": selectors.procurement_by_sector().items(),
        "by_cluster": selectors.procurement_by_cluster().items(),
    })


# --- suggestions ------------------------------------------------------------------------------------------


def suggestion_target(params: dict[str, str], user: Any) -> dict[str, Any]:
    """The organisation, profile or opportunity named in the query string (shared with the API)."""
    def number(name: str) -> int | None:
        value = params.get(name)
        if not value:
            return None
        try:
            return int(value)
        except ValueError:
            raise ValidationError(_("a whole number is required"), field=name) from None

    if (pk := number("profile")) is not None:
        return {"profile": selectors.profile_detail(pk, user=user)}
    if (pk := number("opportunity")) is not None:
        return {"opportunity": selectors.opportunity_detail(pk, user=user)}
    if (pk := number("organisation")) is not None:
        organisation = Organisation.objects.filter(pk=pk).first()
        if organisation is None:
            raise ValidationError(_("no organisation %(pk)d") % {"pk": pk}, field="organisation")
        return {"organisation": organisation}
    raise ValidationError(_("say whom the suggestions are for: organisation, profile or opportunity"),
                          field="organisation")


@access(Audience.PUBLIC)
def suggestions(request: HttpRequest) -> HttpResponse:
    form = SuggestionFilterForm(request.GET)
    results, target, error = None, {}, ""
    if form.is_valid():
        try:
            target = suggestion_target(request.GET.dict(), _user(request))
            data = form.cleaned_data
            filters = selectors.SuggestionFilters(family=data["family"] or "any",
                                                  other_countries=data["other_countries"],
                                                  area=data["area"] or "any", cluster=data["cluster"])
            results = selectors.suggestions(**target, filters=filters)
        except ValidationError as exc:
            error = exc.message
    hidden = {key: request.GET[key] for key in ("organisation", "profile", "opportunity") if request.GET.get(key)}
    return render(request, "cooperation/suggestions.html", {"form": form, "results": results, "target": target,
                                                            "error": error, "hidden": hidden},
                  status=400 if error or not form.is_valid() else 200)


# --- cross-border -----------------------------------------------------------------------------------------


@access(Audience.PUBLIC)
def cross_border(request: HttpRequest) -> HttpResponse:
    return render(request, "cooperation/cross_border.html", {"flows": selectors.cross_border_flows()})


@access(Audience.PUBLIC)
def cross_border_chart(request: HttpRequest, fmt: str) -> HttpResponse:
    if fmt not in charts.CONTENT_TYPES:
        raise Http404
    flows = [f for f in selectors.cross_border_flows() if f["to"]]
    labels = [f"{f['from']} → {f['to']}" for f in flows]
    series: dict[str, Sequence[float]] = {_("Interests"): [f["interests"] for f in flows],
                                          _("Accepted"): [f["accepted"] for f in flows],
                                          _("Contracts"): [f["contracts"] for f in flows]}
    body = charts.stacked_bar_chart(labels, series, title=_("Cooperation across borders, by pair of countries"),
                                    n=sum(f["interests"] + f["contracts"] for f in flows),
                                    source=_("socialclusters cooperation records"), percent=False, fmt=fmt)
    return HttpResponse(body, content_type=charts.CONTENT_TYPES[fmt])


# --- secretariat ------------------------------------------------------------------------------------------


@access(Audience.SECRETARIAT)
def review_queue(request: HttpRequest) -> HttpResponse:
    return render(request, "cooperation/review_queue.html", {"profiles": selectors.review_queue(),
                                                             "form": ReviewForm()})


@require_POST
@access(Audience.SECRETARIAT, back="cooperation:review_queue")
def profile_review(request: HttpRequest, pk: int) -> HttpResponse:
    profile = get_object_or_404(CooperationProfile, pk=pk)
    form = ReviewForm(request.POST)
    if form.is_valid():
        with form_errors(form):
            services.review_profile(user=request.user, profile=profile,  # type: ignore[arg-type]
                                    approve=form.cleaned_data["decision"] == "approve",
                                    reason=form.cleaned_data["reason"])
            messages.success(request, _("Done."))
            return redirect("cooperation:review_queue")
    return render(request, "cooperation/review_queue.html", {"profiles": selectors.review_queue(), "form": form},
                  status=400)


@access(Audience.SECRETARIAT)
def matching_settings(request: HttpRequest) -> HttpResponse:
    current = services.matching_settings()
    form = SettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        with form_errors(form):
            data = form.cleaned_data
            services.update_matching_settings(
                user=request.user,  # type: ignore[arg-type]
                weights={name: data[name] for name in MatchingSettings.WEIGHT_FIELDS},
                review_before_publication=data["review_before_publication"],
                profile_lifetime_days=data["profile_lifetime_days"])
            messages.success(request, _("The matchmaking settings are saved."))
            return redirect("cooperation:settings")
    return render(request, "cooperation/form.html", {"form": form, "title": _("Matchmaking settings"),
                                                     "submit": _("Save"),
                                                     "lead": _("Each weight says how much one reason counts in a "
                                                               "suggestion's score; only their proportions matter.")})


# --- learning pairs ---------------------------------------------------------------------------------------


def learning_for(params: dict[str, str]) -> selectors.LearningPairs | None:
    """Learning pairs for ``region`` (a NUTS 2 or 3 code) or ``cluster`` (a number); None when neither."""
    if params.get("cluster"):
        try:
            pk = int(params["cluster"])
        except ValueError:
            raise ValidationError(_("a whole number is required"), field="cluster") from None
        return selectors.learning_pairs_for_cluster(pk)
    if params.get("region"):
        return selectors.learning_pairs_for_region(params["region"][:5])
    return None


@access(Audience.PUBLIC)
def learning(request: HttpRequest) -> HttpResponse:
    error, pairs = "", None
    try:
        pairs = learning_for(request.GET.dict())
    except ValidationError as exc:
        error = exc.message
    return render(request, "cooperation/learning.html", {
        "pairs": pairs, "error": error, "region": request.GET.get("region", ""),
        "cluster": request.GET.get("cluster", "")}, status=400 if error else 200)


# --- events -----------------------------------------------------------------------------------------------


@access(Audience.PUBLIC)
def event_list(request: HttpRequest) -> HttpResponse:
    return render(request, "cooperation/event_list.html", {
        "events": Event.objects.all()[:100], "can_create": events.can_organise(_user(request))})


@access(Audience.SIGNED_IN)
def event_new(request: HttpRequest) -> HttpResponse:
    if not events.can_organise(request.user):  # type: ignore[arg-type]
        raise PermissionDenied(_("only cluster managers and the secretariat organise events"))
    form = EventForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with form_errors(form):
            event = events.create_event(user=request.user, data=form.cleaned_data)  # type: ignore[arg-type]
            return redirect("cooperation:event_detail", pk=event.pk)
    return render(request, "cooperation/form.html", {"form": form, "title": _("New event"), "submit": _("Create")})


def _registration_form(request: HttpRequest, event: Event, data: Any = None) -> RegistrationForm:
    form = RegistrationForm(data)
    organisation_field = form.fields["organisation"]
    slots_field = form.fields["available_slots"]
    assert isinstance(organisation_field, forms.ChoiceField)
    assert isinstance(slots_field, forms.ChoiceField)
    organisation_field.choices = [("", _("Myself")), *((o.pk, o.name) for o in _organisations(request))]
    times = events.slot_times(event)
    slots_field.choices = [
        (i, f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}") for i, (start, end) in enumerate(times)]
    return form


@access(Audience.PUBLIC)
def event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    event = events.event_detail(pk)
    me = events.participant_of(request.user, event)  # type: ignore[arg-type]
    context: dict[str, Any] = {"event": event, "me": me, "participants": event.participants.count(),
                               "can_organise": events.can_organise(_user(request), event)}
    if request.user.is_authenticated and me is None and event.scheduled_at is None:
        context["form"] = _registration_form(request, event, None)
        context["form"].initial = {"available_slots": list(range(event.slots))}
    if me is not None:
        context["suggested"] = events.suggested_participants(me)
        context["sent"] = {r.invitee_id: r for r in me.requests_sent.all()}
        context["received"] = me.requests_received.select_related("requester__user", "requester__organisation")
    if context["can_organise"]:
        context["accepted"] = event.meeting_requests.filter(status="accepted").count()
        context.update(_build_context(event, "detail"))
    return render(request, "cooperation/event_detail.html", context)


@require_POST
@access(Audience.SIGNED_IN)
def event_register(request: HttpRequest, pk: int) -> HttpResponse:
    event = events.event_detail(pk)
    form = _registration_form(request, event, request.POST)
    if form.is_valid():
        with form_errors(form):
            organisation = Organisation.objects.filter(pk=form.cleaned_data["organisation"]).first() \
                if form.cleaned_data["organisation"] else None
            events.register(user=request.user, event=event, organisation=organisation,  # type: ignore[arg-type]
                            available_slots=form.cleaned_data["available_slots"])
            messages.success(request, _("You are registered."))
            return redirect("cooperation:event_detail", pk=pk)
    return render(request, "cooperation/form.html", {"form": form, "title": _("Register"), "submit": _("Register")},
                  status=400)


@require_POST
@access(Audience.SIGNED_IN)
def event_request(request: HttpRequest, pk: int) -> HttpResponse:
    event = events.event_detail(pk)
    try:
        invitee = int(request.POST.get("invitee", ""))
    except ValueError:
        raise ValidationError(_("choose another participant"), field="invitee") from None
    events.request_meeting(user=request.user, event=event, invitee_id=invitee,  # type: ignore[arg-type]
                           message=request.POST.get("message", ""))
    messages.success(request, _("Your request is sent."))
    return redirect("cooperation:event_detail", pk=pk)


@require_POST
@access(Audience.SIGNED_IN)
def event_answer(request: HttpRequest, pk: int, request_pk: int) -> HttpResponse:
    meeting = get_object_or_404(MeetingRequest, pk=request_pk, event_id=pk)
    events.answer_meeting(user=request.user, meeting=meeting,  # type: ignore[arg-type]
                          accept=request.POST.get("decision") == "accept")
    return redirect("cooperation:event_detail", pk=pk)


@require_POST
@access(Audience.SIGNED_IN, back="cooperation:event_detail")
def event_schedule(request: HttpRequest, pk: int) -> HttpResponse:
    build = events.build_schedule(user=request.user, event=events.event_detail(pk))  # type: ignore[arg-type]
    if build.pending:
        messages.info(request, _("The schedule is queued: this page shows its progress."))
    elif build.state == TaskState.FAILED:
        messages.error(request, _("The schedule could not be built: %(error)s") % {"error": build.error})
    else:
        build.event.refresh_from_db()
        messages.success(request, _("The schedule is built (%(status)s); everyone got their agenda.")
                         % {"status": build.event.schedule_status})
    return redirect("cooperation:event_print", pk=pk)


# The pages that show a build's state, by the name the status fragment is given in its address.
BUILD_PAGES = {"detail": "cooperation:event_detail", "print": "cooperation:event_print"}


def _build_context(event: Event, page: str) -> dict[str, Any]:
    """What the organiser's pages show of the latest build: its state while under way, its error if it failed."""
    build = events.latest_build(event)
    if build is None or build.state == TaskState.DONE:
        return {}
    return {"build": build, "build_page": page, "build_page_url": reverse(BUILD_PAGES[page], kwargs={"pk": event.pk})}


@access(Audience.SIGNED_IN)
def event_schedule_status(request: HttpRequest, pk: int, build_pk: int) -> HttpResponse:
    """The state of a queued or running schedule build, polled by the event's pages (htmx) until it ends."""
    event = events.event_detail(pk)
    if not events.can_organise(request.user, event):  # type: ignore[arg-type]
        raise PermissionDenied(_("only the organiser follows the building of the schedule"))
    build = get_object_or_404(ScheduleBuild, pk=build_pk, event=event)
    page = request.GET.get("page", "")
    if page not in BUILD_PAGES:
        page = "print"
    if not request.htmx:  # type: ignore[attr-defined]
        return redirect(BUILD_PAGES[page], pk=pk)
    if not build.pending:
        return HttpResponseClientRefresh()  # the page reloads to show the schedule or the error
    if request.GET.get("seen") == f"{build.state}:{build.progress}":
        return HttpResponse(status=204)  # nothing new: htmx keeps the block as it is
    return render(request, "cooperation/_build_status.html", {
        "event": event, "build": build, "build_page": page,
        "build_page_url": reverse(BUILD_PAGES[page], kwargs={"pk": event.pk})})


def _agenda_rows(participant: Participant) -> list[dict[str, Any]]:
    times = events.slot_times(participant.event)
    rows = []
    for meeting in events.agenda(participant).select_related(
            "request__requester__user", "request__invitee__user", "request__requester__organisation",
            "request__invitee__organisation").order_by("slot"):
        other = meeting.request.invitee if meeting.request.requester_id == participant.pk else meeting.request.requester
        rows.append({"start": times[meeting.slot][0], "end": times[meeting.slot][1], "table": meeting.table + 1,
                     "with": other.organisation.name if other.organisation else other.user.get_username()})
    return rows


@access(Audience.SIGNED_IN)
def event_agenda(request: HttpRequest, pk: int) -> HttpResponse:
    event = events.event_detail(pk)
    me = events.participant_of(request.user, event)  # type: ignore[arg-type]
    if me is None:
        raise NotFound(_("you are not registered for this event"))
    return render(request, "cooperation/event_agenda.html", {"event": event, "rows": _agenda_rows(me)})


@access(Audience.SIGNED_IN)
def event_agenda_ics(request: HttpRequest, pk: int) -> HttpResponse:
    event = events.event_detail(pk)
    me = events.participant_of(request.user, event)  # type: ignore[arg-type]
    if me is None:
        raise NotFound(_("you are not registered for this event"))
    response = HttpResponse(events.agenda_ics(me), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="agenda-{event.pk}.ics"'
    return response


@access(Audience.SIGNED_IN)
def event_print(request: HttpRequest, pk: int) -> HttpResponse:
    event = events.event_detail(pk)
    if not events.can_organise(request.user, event):  # type: ignore[arg-type]
        raise PermissionDenied(_("only the organiser prints the schedule"))
    return render(request, "cooperation/event_print.html", {"event": event, "rows": events.schedule_rows(event),
                                                            **_build_context(event, "print")})
