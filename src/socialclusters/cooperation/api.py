"""API operations of cooperation and matchmaking (mounted at /api/v1/; paths start with /cooperation).

The JSON twin of every cooperation page, built from the same selectors, and the same writes as the
pages through the same services. Each operation's description says who may use it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest, StreamingHttpResponse
from ninja import Field, P, PathEx, Query, QueryEx, Router, Schema, Status

from socialclusters.api.auth import PUBLIC, SECRETARIAT, SIGNED_IN, require_secretariat, session_auth
from socialclusters.api.errors import AUTH_ERRORS, PUBLIC_ERRORS, WORKFLOW_ERRORS
from socialclusters.api.schemas import MAX_ID
from socialclusters.cooperation import selectors, services
from socialclusters.cooperation.models import (
    CooperationProfile,
    MatchingSettings,
    ProcurementOpportunity,
)
from socialclusters.cooperation.views import learning_for, suggestion_target
from socialclusters.errors import NotFound, ValidationError
from socialclusters.registry.models import Organisation

router = Router(tags=["cooperation"])
MAX_ITEMS = 500


ObjectId = PathEx[int, P(ge=1, le=MAX_ID, description="The object's id.")]
COUNTRY = "ISO 3166-1 alpha-2 code (FR) of the owner's or buyer's country; empty for every country."
SECTION = "NACE Rev. 2 section letter (Q); empty for every sector."
SEARCH = "Text to look for in the title, the description or the organisation's name; empty for no search."


class CooperationOrganisationRef(Schema):
    id: int = Field(description="The organisation's id.")
    name: str = Field(description="The organisation's name.")
    country: str | None = Field(description="ISO 3166-1 alpha-2 code of its country, if known.")


class CooperationClusterRef(Schema):
    id: int = Field(description="The cluster's id.")
    name: str = Field(description="The cluster's name.")


class CooperationProfileOut(Schema):
    id: int = Field(description="The profile's id.")
    kind: str = Field(description="`offer` or `request`.")
    title: str = Field(description="Short title.")
    description: str = Field(description="What is offered or requested.")
    organisation: CooperationOrganisationRef = Field(
        description="The owner (for a cluster's profile, the cluster organisation that runs the cluster).")
    cluster: CooperationClusterRef | None = Field(description="The cluster it speaks for, if any.")
    seeking: list[str] = Field(description="Partners sought: partners, suppliers, buyers, investors, knowledge.")
    sectors: list[str] = Field(description="NACE codes.")
    regions: list[str] = Field(description="NUTS 2021 codes.")
    languages: list[str] = Field(description="Two-letter language codes.")
    cross_border: bool = Field(description="Whether partners from other countries are welcome.")
    deadline: dt.date | None = Field(description="Date by which answers are wanted, if any.")
    expires_on: dt.date | None = Field(description="Date the published profile expires, if published.")
    status: str = Field(description="`draft`, `submitted`, `published`, `returned` or `withdrawn`.")


class CooperationProfileFields(Schema):
    kind: Literal["offer", "request"] = Field(description="`offer` or `request`.")
    title: str = Field(max_length=200, description="Short title, at most 200 characters.")
    description: str = Field(max_length=5000, description="What is offered or requested, at most 5000 characters.")
    seeking: list[str] = Field(default_factory=list, description="partners, suppliers, buyers, investors, knowledge")
    sectors: list[str] = Field(default_factory=list, description="NACE codes")
    regions: list[str] = Field(default_factory=list, description="NUTS 2021 codes")
    languages: list[str] = Field(default_factory=list, description="two-letter language codes")
    cross_border: bool = Field(False, description="Whether partners from other countries are welcome.")
    deadline: dt.date | None = Field(None, description="Date by which answers are wanted (optional).")
    cluster: int | None = Field(None, ge=1, le=MAX_ID,
                                description="Publish on behalf of this published cluster (its managers only); the "
                                "profile then belongs to the cluster organisation that runs it.")


class CooperationProfileIn(CooperationProfileFields):
    organisation: int | None = Field(None, ge=1, le=MAX_ID,
                                     description="The organisation the profile is for (one you manage); may be left "
                                     "out when `cluster` is given.")


class CooperationOpportunityOut(Schema):
    id: int = Field(description="The opportunity's id.")
    title: str = Field(description="Short title.")
    description: str = Field(description="What the buyer wants to buy.")
    buyer: CooperationOrganisationRef = Field(description="The buying organisation.")
    sector: str | None = Field(description="NACE code, if given.")
    region: str | None = Field(description="NUTS 2021 code of the place of performance, if given.")
    starts_on: dt.date | None = Field(description="Start of the contract, if known.")
    ends_on: dt.date | None = Field(description="End of the contract, if known.")
    deadline: dt.date = Field(description="Date by which offers must be sent.")
    value_band: str = Field(description="lt10k, 10k-50k, 50k-250k, 250k-1m or gt1m (euros).")
    social_clauses: list[str] = Field(description="Social clauses of the contract.")
    how_to_answer: str = Field(description="How suppliers should answer.")
    languages: list[str] = Field(description="Two-letter language codes of accepted answers.")
    cross_border: bool = Field(description="Whether suppliers from other countries are welcome.")
    status: str = Field(description="`open`, `closed` (no more answers) or `withdrawn` (called off).")


class CooperationOpportunityFields(Schema):
    title: str = Field(max_length=200, description="Short title, at most 200 characters.")
    description: str = Field(max_length=5000, description="What you want to buy, at most 5000 characters.")
    sector: str = Field("", description="NACE code (optional).")
    region: str = Field("", description="NUTS 2021 code of the place of performance (optional).")
    starts_on: dt.date | None = Field(None, description="Start of the contract (optional).")
    ends_on: dt.date | None = Field(None, description="End of the contract (optional).")
    deadline: dt.date = Field(description="Date by which offers must be sent.")
    value_band: str = Field(description="lt10k, 10k-50k, 50k-250k, 250k-1m or gt1m")
    social_clauses: list[str] = Field(default_factory=list, description="Social clauses of the contract.")
    how_to_answer: str = Field(max_length=2000, description="How suppliers should answer, at most 2000 characters.")
    languages: list[str] = Field(default_factory=list, description="Two-letter language codes of accepted answers.")
    cross_border: bool = Field(False, description="Whether suppliers from other countries are welcome.")


class CooperationOpportunityIn(CooperationOpportunityFields):
    organisation: int = Field(ge=1, le=MAX_ID, description="The buyer (an organisation you manage).")


class CooperationInterestIn(Schema):
    organisation: int = Field(ge=1, le=MAX_ID,
                              description="The organisation expressing interest (one you manage).")
    message: str = Field(max_length=3000, description="Your message to the owner, at most 3000 characters.")


class CooperationAnswerIn(Schema):
    accept: bool = Field(description="`true` to accept (both sides then see each other's contacts), `false` to "
                         "decline.")
    answer: str = Field("", max_length=3000, description="Your reply, at most 3000 characters (optional).")


class CooperationInterestOut(Schema):
    id: int = Field(description="The interest's id.")
    organisation: CooperationOrganisationRef = Field(description="The organisation that expressed interest.")
    profile: int | None = Field(description="The profile's id, when the interest is in a profile.")
    opportunity: int | None = Field(description="The opportunity's id, when the interest is in an opportunity.")
    message: str = Field(description="The interested organisation's message.")
    status: str = Field(description="`pending`, `accepted` or `declined`.")
    answer: str = Field(description="The owner's reply.")
    contacts: list[dict[str, str]] | None = Field(description="Both sides' contact details, once accepted.")


class CooperationContractIn(Schema):
    buyer: int = Field(ge=1, le=MAX_ID, description="The buying organisation's id.")
    supplier: int = Field(ge=1, le=MAX_ID, description="The supplying organisation's id.")
    value_band: str = Field(description="lt10k, 10k-50k, 50k-250k, 250k-1m or gt1m")
    signed_on: dt.date = Field(description="Date the contract was signed.")
    social_clauses_met: list[str] = Field(default_factory=list, description="Social clauses the supplier met.")
    sector: str = Field("", description="NACE code (optional).")
    cluster: int | None = Field(None, ge=1, le=MAX_ID, description="The cluster that brokered it (optional).")
    interest: int | None = Field(None, ge=1, le=MAX_ID,
                                 description="The expression of interest it came from (optional).")


class CooperationSettingsIn(Schema):
    offer_answers_request: float = Field(ge=0, le=100, description="Weight of \"an offer answers a request\".")
    similar_activity: float = Field(ge=0, le=100, description="Weight of similar activities.")
    sectors: float = Field(ge=0, le=100, description="Weight of complementary or same sectors.")
    region: float = Field(ge=0, le=100, description="Weight of the same or a neighbouring region.")
    cross_border: float = Field(ge=0, le=100, description="Weight of the cross-border wish.")
    pairing: float = Field(ge=0, le=100, description="Weight of a social economy and traditional enterprise pairing.")
    shared_cluster: float = Field(ge=0, le=100, description="Weight of a shared cluster.")
    language: float = Field(ge=0, le=100, description="Weight of a shared working language.")
    review_before_publication: bool = Field(description="Whether the secretariat reviews profiles before publication.")
    profile_lifetime_days: int = Field(ge=7, le=1100, description="Days a published profile lasts before renewal.")


class CooperationSettingsOut(CooperationSettingsIn):
    updated_by: str | None = Field(description="User name of whoever changed the settings last, if anyone.")
    updated_at: dt.datetime = Field(description="When the settings were changed last.")
    changes: int = Field(description="How many changes the settings' history holds (the admin shows each one).")


class CooperationPersonOut(Schema):
    participant: int = Field(description="The participant's id at this event.")
    name: str = Field(description="The person's name (or user name).")
    organisation: CooperationOrganisationRef | None = Field(
        description="The organisation the person represents, if any.")
    label: str = Field(description="Name and organisation, as printed.")


class CooperationMeetingOut(Schema):
    slot: int = Field(description="Slot number, from 1.")
    start: dt.datetime = Field(description="When the slot starts.")
    end: dt.datetime = Field(description="When the slot ends.")
    table: int = Field(description="Table number, from 1.")
    first: CooperationPersonOut = Field(description="The person who asked for the meeting.")
    second: CooperationPersonOut = Field(description="The person who accepted it.")


class CooperationScheduleBuildOut(Schema):
    id: int = Field(description="The build's id.")
    state: Literal["queued", "running", "done", "failed"] = Field(
        description="`queued` (waiting for a worker), `running`, `done` (the schedule below is its result) or "
        "`failed` (see `error`; any earlier schedule stays).")
    progress: str = Field(description="The step under way while queued or running; empty once ended.")
    error: str = Field(description="Why the build failed; empty otherwise.")
    created_at: dt.datetime = Field(description="When the build was asked for.")
    started_at: dt.datetime | None = Field(description="When a worker started it.")
    finished_at: dt.datetime | None = Field(description="When it ended.")


class CooperationScheduleOut(Schema):
    event: int = Field(description="The event's id.")
    status: str = Field(description="`optimal`, `feasible`, or empty while the schedule is not built.")
    gap: float | None = Field(description="Relative gap to the best possible number of meetings, when not proven "
                              "optimal.")
    scheduled_at: dt.datetime | None = Field(description="When the schedule was last built.")
    count: int = Field(description="Number of meetings.")
    items: list[CooperationMeetingOut] = Field(description="Every meeting, by slot then table.")
    build: CooperationScheduleBuildOut | None = Field(
        description="The latest build of the schedule (null if none was asked for): poll this path while it is "
        "`queued` or `running`.")


class CooperationReviewIn(Schema):
    approve: bool = Field(description="`true` publishes the profile; `false` returns it to its managers.")
    reason: str = Field("", max_length=2000, description="Why it is returned (required when returning), at most "
                        "2000 characters.")


class CooperationOptOutIn(Schema):
    opted_out: bool = Field(description="`true`: never suggest the organisation, nor suggest partners to it; "
                            "`false`: allow suggestions again.")


class CooperationOptOutOut(Schema):
    organisation: int = Field(description="The organisation's id.")
    opted_out: bool = Field(description="Whether it is now left out of suggestions.")


class CooperationRegistrationIn(Schema):
    organisation: int | None = Field(None, ge=1, le=MAX_ID,
                                     description="The organisation you represent (one you manage); none for yourself.")
    available_slots: list[int] = Field(description="Slot numbers you can attend, from 1.")


class CooperationMeetingRequestIn(Schema):
    invitee: int = Field(ge=1, le=MAX_ID, description="The participant's id (from `/people`).")
    message: str = Field("", max_length=500, description="A short message, at most 500 characters (optional).")


class CooperationMeetingAnswerIn(Schema):
    accept: bool = Field(description="`true` to accept the meeting, `false` to decline it.")


class CooperationPeopleOut(Schema):
    count: int = Field(description="Number of other participants.")
    items: list[dict[str, Any]] = Field(description="The other participants, best first, each with its `score`.")
    sent: list[dict[str, Any]] = Field(description="Meeting requests you sent, with their status.")
    received: list[dict[str, Any]] = Field(description="Meeting requests you received, with their status.")


class CooperationListOut(Schema):
    count: int = Field(description="Number of items (the list holds at most 500).")
    items: list[Any] = Field(description="The items.")


class CooperationSuggestionQuery(Schema):
    organisation: int | None = Field(None, ge=1, le=MAX_ID, description="Suggest partners for this organisation.")
    profile: int | None = Field(None, ge=1, le=MAX_ID, description="Suggest partners for this profile.")
    opportunity: int | None = Field(None, ge=1, le=MAX_ID, description="Suggest suppliers for this opportunity.")
    family: Literal["any", "social_economy", "traditional"] = Field(
        "any", description="Only social economy organisations, only traditional ones, or any.")
    other_countries: bool = Field(False, description="Only organisations from other countries.")
    area: Literal["any", "rural", "urban"] = Field("any", description="Only rural or only urban regions, or any.")
    cluster: int | None = Field(None, ge=1, le=MAX_ID, description="Only members of this cluster.")


def _text(value: str, limit: int) -> str:
    # PostgreSQL refuses NUL in text: a filter never needs one, so it is dropped rather than sent.
    return value.replace("\x00", "")[:limit]


def _user(request: HttpRequest) -> Any:
    return request.user if request.user.is_authenticated else None


def _org(org: Organisation) -> dict[str, Any]:
    return {"id": org.pk, "name": org.name, "country": org.country_id}


def _profile_out(p: CooperationProfile) -> dict[str, Any]:
    return {"id": p.pk, "kind": p.kind, "title": p.title, "description": p.description,
            "organisation": _org(p.organisation),
            "cluster": {"id": p.cluster.pk, "name": p.cluster.name} if p.cluster else None, "seeking": p.seeking,
            "sectors": [s.code for s in p.sectors.all()], "regions": [r.code for r in p.regions.all()],
            "languages": p.languages, "cross_border": p.cross_border, "deadline": p.deadline,
            "expires_on": p.expires_on, "status": p.status}


def _opportunity_out(o: ProcurementOpportunity) -> dict[str, Any]:
    return {"id": o.pk, "title": o.title, "description": o.description, "buyer": _org(o.buyer),
            "sector": o.sector_id, "region": o.region.code if o.region else None, "starts_on": o.starts_on,
            "ends_on": o.ends_on, "deadline": o.deadline, "value_band": o.value_band,
            "social_clauses": o.social_clauses, "how_to_answer": o.how_to_answer, "languages": o.languages,
            "cross_border": o.cross_border, "status": o.status}


def _interest_out(view: selectors.InterestView) -> dict[str, Any]:
    i = view.interest
    return {"id": i.pk, "organisation": _org(i.organisation), "profile": i.profile_id,
            "opportunity": i.opportunity_id, "message": i.message, "status": i.status, "answer": i.answer,
            "contacts": view.contacts}


def _organisation_for(request: HttpRequest, pk: int) -> Organisation:
    organisation = Organisation.objects.filter(pk=pk).first()
    if organisation is None:
        raise NotFound(f"no organisation {pk}", field="organisation")
    return organisation


# --- profiles -------------------------------------------------------------------------------------------


@router.get("/cooperation/profiles", response={200: CooperationListOut, **PUBLIC_ERRORS},
            summary="Offers and requests",
            description="Published profiles that have not expired, newest first (at most 500). " + PUBLIC)
def list_profiles(request: HttpRequest, *,
                  kind: QueryEx[str, P(description="`offer` or `request`; empty for both.")] = "",
                  country: QueryEx[str, P(description=COUNTRY)] = "",
                  section: QueryEx[str, P(description=SECTION)] = "",
                  q: QueryEx[str, P(description=SEARCH)] = "",
                  cluster: QueryEx[int | None, P(ge=1, le=MAX_ID, description="Only profiles published on behalf "
                                                   "of this cluster (its id); empty for all.")] = None,
                  ) -> dict[str, Any]:
    qs = selectors.profile_list(kind=_text(kind, 200), country=_text(country, 2), section=_text(section, 1),
                                q=_text(q, 200), cluster=cluster)
    items = [_profile_out(p) for p in qs.prefetch_related("regions")[:MAX_ITEMS]]
    return {"count": qs.count(), "items": items}


@router.get("/cooperation/profiles/{id}", response={200: CooperationProfileOut, **PUBLIC_ERRORS},
            summary="One profile",
            description="A published profile; drafts and returned ones only for their managers and the "
            "secretariat. " + PUBLIC)
def get_profile(request: HttpRequest, id: ObjectId) -> dict[str, Any]:
    return _profile_out(selectors.profile_detail(id, user=_user(request)))


@router.post("/cooperation/profiles", response={201: CooperationProfileOut, **WORKFLOW_ERRORS},
             auth=session_auth, summary="Create a draft profile",
             description="For an organisation you manage, or on behalf of a cluster you manage (`cluster`). "
             + SIGNED_IN)
def create_profile(request: HttpRequest, payload: CooperationProfileIn) -> Status[dict[str, Any]]:
    data = payload.model_dump()
    organisation = _organisation_for(request, data["organisation"]) if data["organisation"] else None
    profile = services.save_profile(user=request.auth, organisation=organisation, data=data)  # type: ignore[attr-defined]
    return Status(201, _profile_out(profile))


@router.put("/cooperation/profiles/{id}", response={200: CooperationProfileOut, **WORKFLOW_ERRORS},
            auth=session_auth, summary="Change a profile",
            description="Replaces every field, with the checks of a new profile; a published profile stays "
            "published and its followers are told. Its managers (a cluster's profile: the cluster's managers). "
            + SIGNED_IN)
def update_profile(request: HttpRequest, id: ObjectId, payload: CooperationProfileFields) -> dict[str, Any]:
    profile = selectors.profile_detail(id, user=request.auth)  # type: ignore[attr-defined]
    services.save_profile(user=request.auth, organisation=profile.organisation,  # type: ignore[attr-defined]
                          data=payload.model_dump(), profile=profile)
    return _profile_out(selectors.profile_detail(id, user=request.auth))  # type: ignore[attr-defined]


@router.post("/cooperation/profiles/{id}/renew", response={200: CooperationProfileOut, **WORKFLOW_ERRORS},
             auth=session_auth, summary="Renew a published profile",
             description="Public for the secretariat's lifetime again from today. Its managers. " + SIGNED_IN)
def renew_profile(request: HttpRequest, id: ObjectId) -> dict[str, Any]:
    profile = selectors.profile_detail(id, user=request.auth)  # type: ignore[attr-defined]
    return _profile_out(services.renew_profile(user=request.auth, profile=profile))  # type: ignore[attr-defined]


@router.post("/cooperation/profiles/{id}/withdraw", response={200: CooperationProfileOut, **WORKFLOW_ERRORS},
             auth=session_auth, summary="Withdraw a profile",
             description="It leaves the public lists; followers are told. Its managers. " + SIGNED_IN)
def withdraw_profile(request: HttpRequest, id: ObjectId) -> dict[str, Any]:
    profile = selectors.profile_detail(id, user=request.auth)  # type: ignore[attr-defined]
    return _profile_out(services.withdraw_profile(user=request.auth, profile=profile))  # type: ignore[attr-defined]


@router.post("/cooperation/profiles/{id}/publish", response={200: CooperationProfileOut, **WORKFLOW_ERRORS},
             auth=session_auth, summary="Publish a profile",
             description="Published at once, or `submitted` for the secretariat's "
             "review when it reviews profiles first. The organisation's managers. " + SIGNED_IN)
def publish_profile(request: HttpRequest, id: ObjectId) -> dict[str, Any]:
    profile = selectors.profile_detail(id, user=request.auth)  # type: ignore[attr-defined]
    return _profile_out(services.publish_profile(user=request.auth, profile=profile))  # type: ignore[attr-defined]


@router.post("/cooperation/profiles/{id}/interests", response={201: CooperationInterestOut, **WORKFLOW_ERRORS},
             auth=session_auth, summary="Express interest in a profile",
             description="On behalf of an organisation you manage; the owner is told. " + SIGNED_IN)
def profile_interest(request: HttpRequest, id: ObjectId, payload: CooperationInterestIn) -> Status[dict[str, Any]]:
    profile = selectors.profile_detail(id, user=request.auth)  # type: ignore[attr-defined]
    organisation = _organisation_for(request, payload.organisation)
    interest = services.express_interest(user=request.auth, organisation=organisation,  # type: ignore[attr-defined]
                                         message=payload.message, profile=profile)
    return Status(201, _interest_out(selectors.interest_detail(interest.pk, user=request.auth)))  # type: ignore[attr-defined]


# --- opportunities --------------------------------------------------------------------------------------


@router.get("/cooperation/opportunities", response={200: CooperationListOut, **PUBLIC_ERRORS},
            summary="Procurement opportunities", description="Open opportunities by deadline. " + PUBLIC)
def list_opportunities(request: HttpRequest, country: QueryEx[str, P(description=COUNTRY)] = "",
                       section: QueryEx[str, P(description=SECTION)] = "",
                       q: QueryEx[str, P(description=SEARCH)] = "") -> dict[str, Any]:
    qs = selectors.opportunity_list(country=_text(country, 2), section=_text(section, 1), q=_text(q, 200))
    return {"count": qs.count(), "items": [_opportunity_out(o) for o in qs[:MAX_ITEMS]]}


@router.get("/cooperation/opportunities/{id}", response={200: CooperationOpportunityOut, **PUBLIC_ERRORS},
            summary="One procurement opportunity", description=PUBLIC)
def get_opportunity(request: HttpRequest, id: ObjectId) -> dict[str, Any]:
    return _opportunity_out(selectors.opportunity_detail(id, user=_user(request)))


@router.post("/cooperation/opportunities", response={201: CooperationOpportunityOut, **WORKFLOW_ERRORS},
             auth=session_auth, summary="Publish a procurement opportunity",
             description="As a buyer you manage. " + SIGNED_IN)
def create_opportunity(request: HttpRequest, payload: CooperationOpportunityIn) -> Status[dict[str, Any]]:
    data = payload.model_dump()
    buyer = _organisation_for(request, data["organisation"])
    opportunity = services.create_opportunity(user=request.auth, buyer=buyer, data=data)  # type: ignore[attr-defined]
    return Status(201, _opportunity_out(opportunity))


@router.put("/cooperation/opportunities/{id}", response={200: CooperationOpportunityOut, **WORKFLOW_ERRORS},
            auth=session_auth, summary="Change a procurement opportunity",
            description="Replaces every field of an open opportunity, with the checks of a new one (a deadline "
            "already passed may be kept, not set); followers are told. The buyer's managers. " + SIGNED_IN)
def update_opportunity(request: HttpRequest, id: ObjectId, payload: CooperationOpportunityFields) -> dict[str, Any]:
    opportunity = selectors.opportunity_detail(id, user=request.auth)  # type: ignore[attr-defined]
    services.update_opportunity(user=request.auth, opportunity=opportunity,  # type: ignore[attr-defined]
                                data=payload.model_dump())
    return _opportunity_out(selectors.opportunity_detail(id, user=request.auth))  # type: ignore[attr-defined]


@router.post("/cooperation/opportunities/{id}/close", response={200: CooperationOpportunityOut, **WORKFLOW_ERRORS},
             auth=session_auth, summary="Close a procurement opportunity",
             description="No more answers are taken; it stays public for the record. Followers and organisations "
             "waiting for an answer are told. The buyer's managers. " + SIGNED_IN)
def close_opportunity(request: HttpRequest, id: ObjectId) -> dict[str, Any]:
    opportunity = selectors.opportunity_detail(id, user=request.auth)  # type: ignore[attr-defined]
    return _opportunity_out(services.close_opportunity(user=request.auth, opportunity=opportunity))  # type: ignore[attr-defined]


@router.post("/cooperation/opportunities/{id}/withdraw",
             response={200: CooperationOpportunityOut, **WORKFLOW_ERRORS}, auth=session_auth,
             summary="Withdraw a procurement opportunity",
             description="The purchase is called off: only the buyer's managers and the secretariat still see it. "
             "Followers and organisations waiting for an answer are told. The buyer's managers. " + SIGNED_IN)
def withdraw_opportunity(request: HttpRequest, id: ObjectId) -> dict[str, Any]:
    opportunity = selectors.opportunity_detail(id, user=request.auth)  # type: ignore[attr-defined]
    return _opportunity_out(services.withdraw_opportunity(user=request.auth, opportunity=opportunity))  # type: ignore[attr-defined]


@router.post("/cooperation/opportunities/{id}/interests", response={201: CooperationInterestOut, **WORKFLOW_ERRORS},
             auth=session_auth, summary="Express interest in an opportunity", description=SIGNED_IN)
def opportunity_interest(request: HttpRequest, id: ObjectId, payload: CooperationInterestIn) -> Status[dict[str, Any]]:
    opportunity = selectors.opportunity_detail(id, user=request.auth)  # type: ignore[attr-defined]
    organisation = _organisation_for(request, payload.organisation)
    interest = services.express_interest(user=request.auth, organisation=organisation,  # type: ignore[attr-defined]
                                         message=payload.message, opportunity=opportunity)
    return Status(201, _interest_out(selectors.interest_detail(interest.pk, user=request.auth)))  # type: ignore[attr-defined]


# --- interests, inbox -----------------------------------------------------------------------------------


@router.get("/cooperation/interests", response={200: CooperationListOut, **AUTH_ERRORS}, auth=session_auth,
            summary="Interests sent and received",
            description="Those of the organisations you manage (the secretariat: all). " + SIGNED_IN)
def list_interests(request: HttpRequest) -> dict[str, Any]:
    qs = selectors.interests_involving(request.auth)  # type: ignore[attr-defined]
    items = [_interest_out(selectors.interest_detail(i.pk, user=request.auth)) for i in qs[:MAX_ITEMS]]  # type: ignore[attr-defined]
    return {"count": qs.count(), "items": items}


@router.get("/cooperation/interests/{id}", response={200: CooperationInterestOut, **AUTH_ERRORS}, auth=session_auth,
            summary="One expression of interest", description="Contact details appear once accepted. " + SIGNED_IN)
def get_interest(request: HttpRequest, id: ObjectId) -> dict[str, Any]:
    return _interest_out(selectors.interest_detail(id, user=request.auth))  # type: ignore[attr-defined]


@router.post("/cooperation/interests/{id}/answer", response={200: CooperationInterestOut, **WORKFLOW_ERRORS},
             auth=session_auth, summary="Accept or decline an interest",
             description="The managers of the profile's or opportunity's organisation. " + SIGNED_IN)
def answer_interest(request: HttpRequest, id: ObjectId, payload: CooperationAnswerIn) -> dict[str, Any]:
    view = selectors.interest_detail(id, user=request.auth)  # type: ignore[attr-defined]
    services.answer_interest(user=request.auth, interest=view.interest, accept=payload.accept,  # type: ignore[attr-defined]
                             answer=payload.answer)
    return _interest_out(selectors.interest_detail(id, user=request.auth))  # type: ignore[attr-defined]


@router.get("/cooperation/inbox", response={200: CooperationListOut, **AUTH_ERRORS}, auth=session_auth,
            summary="Your inbox",
            description="Every step of your cooperations, newest first (at most 500). " + SIGNED_IN)
def get_inbox(request: HttpRequest) -> dict[str, Any]:
    qs = selectors.inbox(request.auth)  # type: ignore[attr-defined]
    items = [{"id": m.pk, "subject": m.subject, "body": m.body, "link": m.link, "created_at": m.created_at,
              "read": m.read} for m in qs[:MAX_ITEMS]]
    return {"count": qs.count(), "items": items}


@router.put("/cooperation/organisations/{id}/opt-out", response={200: CooperationOptOutOut, **WORKFLOW_ERRORS},
            auth=session_auth, summary="Opt an organisation out of suggestions, or back in",
            description="An organisation that opted out is never suggested and gets no suggestions. Its managers. "
            + SIGNED_IN)
def opt_out(request: HttpRequest, id: ObjectId, payload: CooperationOptOutIn) -> dict[str, Any]:
    organisation = _organisation_for(request, id)
    opted = services.set_opt_out(user=request.auth, organisation=organisation,  # type: ignore[attr-defined]
                                 opted_out=payload.opted_out)
    return {"organisation": organisation.pk, "opted_out": opted}


# --- contracts and figures ------------------------------------------------------------------------------


@router.post("/cooperation/contracts", response={201: dict[str, Any], **WORKFLOW_ERRORS},
             auth=session_auth, summary="Record a contract",
             description="The buyer's or the supplier's managers. " + SIGNED_IN)
def create_contract(request: HttpRequest, payload: CooperationContractIn) -> Status[dict[str, Any]]:
    contract = services.record_contract(user=request.auth, data=payload.model_dump())  # type: ignore[attr-defined]
    return Status(201, {"id": contract.pk, "buyer": contract.buyer_id, "supplier": contract.supplier_id,
                        "value_band": contract.value_band, "signed_on": contract.signed_on.isoformat()})


@router.get("/cooperation/procurement/regions", response={200: dict[str, dict[str, Any]], **PUBLIC_ERRORS},
            summary="Procurement by the supplier's region",
            description="Contracts, social economy ↔ traditional counts and value floors (euros) by NUTS region "
            "of `level` 0 to 3. " + PUBLIC)
def procurement_regions(request: HttpRequest,
                        level: QueryEx[int, P(ge=0, le=3, description="NUTS level, 0 to 3.")] = 2,
                        ) -> dict[str, dict[str, Any]]:
    return selectors.procurement_by_region(level)


@router.get("/cooperation/procurement/sectors", response={200: dict[str, dict[str, Any]], **PUBLIC_ERRORS},
            summary="Procurement by NACE section", description=PUBLIC)
def procurement_sectors(request: HttpRequest) -> dict[str, dict[str, Any]]:
    return selectors.procurement_by_sector()


@router.get("/cooperation/procurement/clusters", response={200: dict[str, dict[str, Any]], **PUBLIC_ERRORS},
            summary="Procurement by cluster", description="Published clusters only. " + PUBLIC)
def procurement_clusters(request: HttpRequest) -> dict[str, dict[str, Any]]:
    return selectors.procurement_by_cluster()


@router.get("/cooperation/cross-border", response={200: CooperationListOut, **PUBLIC_ERRORS},
            summary="Cooperation across borders", description="By pair of countries. " + PUBLIC)
def cross_border(request: HttpRequest) -> dict[str, Any]:
    flows = selectors.cross_border_flows()
    return {"count": len(flows), "items": flows}


@router.get("/cooperation/suggestions", response={200: CooperationListOut, **PUBLIC_ERRORS},
            summary="Suggested partners",
            description="The top 10 partners of an `organisation`, a `profile` or an `opportunity`, with their "
            "score and reasons; organisations that opted out are never suggested. " + PUBLIC)
def suggestions(request: HttpRequest, query: Query[CooperationSuggestionQuery]) -> dict[str, Any]:
    params = {key: str(value) for key, value in query.model_dump().items() if value is not None}
    target = suggestion_target(params, _user(request))
    filters = selectors.SuggestionFilters(family=query.family, other_countries=query.other_countries,
                                          area=query.area, cluster=query.cluster)
    results = selectors.suggestions(**target, filters=filters)
    items = [{"organisation": _org(s.organisation), "score": round(s.score, 4), "reasons": s.reasons,
              "profiles": [p.pk for p in s.profiles]} for s in results]
    return {"count": len(items), "items": items}


# --- secretariat ----------------------------------------------------------------------------------------


@router.get("/cooperation/review", response={200: CooperationListOut, **AUTH_ERRORS}, auth=session_auth,
            summary="Profiles waiting for review", description=SECRETARIAT)
def review_queue(request: HttpRequest) -> dict[str, Any]:
    require_secretariat(request)
    qs = selectors.review_queue().prefetch_related("sectors", "regions")
    return {"count": qs.count(), "items": [_profile_out(p) for p in qs[:MAX_ITEMS]]}


@router.post("/cooperation/review/{id}", response={200: CooperationProfileOut, **WORKFLOW_ERRORS},
             auth=session_auth, summary="Publish or return a profile waiting for review",
             description="The profile's managers are told (with the reason when returned). " + SECRETARIAT)
def review_profile(request: HttpRequest, id: ObjectId, payload: CooperationReviewIn) -> dict[str, Any]:
    require_secretariat(request)
    profile = selectors.profile_detail(id, user=request.auth)  # type: ignore[attr-defined]
    services.review_profile(user=request.auth, profile=profile, approve=payload.approve,  # type: ignore[attr-defined]
                            reason=payload.reason)
    return _profile_out(selectors.profile_detail(id, user=request.auth))  # type: ignore[attr-defined]


def _settings_out(settings: MatchingSettings) -> dict[str, Any]:
    return {**{name: getattr(settings, name) for name in MatchingSettings.WEIGHT_FIELDS},
            "review_before_publication": settings.review_before_publication,
            "profile_lifetime_days": settings.profile_lifetime_days,
            "updated_by": settings.updated_by.get_username() if settings.updated_by else None,
            "updated_at": settings.updated_at, "changes": settings.history.count()}  # type: ignore[attr-defined]


@router.get("/cooperation/settings", response={200: CooperationSettingsOut, **AUTH_ERRORS}, auth=session_auth,
            summary="Matchmaking settings", description="The weights and the review rule. " + SECRETARIAT)
def get_settings(request: HttpRequest) -> dict[str, Any]:
    require_secretariat(request)
    return _settings_out(services.matching_settings())


@router.put("/cooperation/settings", response={200: CooperationSettingsOut, **AUTH_ERRORS}, auth=session_auth,
            summary="Change the matchmaking settings",
            description="Every weight from 0 to 100, not all 0 (only their proportions matter); the change is kept "
            "in the settings' history with your name, as on the page, and suggestions use it at once. "
            + SECRETARIAT)
def put_settings(request: HttpRequest, payload: CooperationSettingsIn) -> dict[str, Any]:
    require_secretariat(request)
    data = payload.model_dump()
    settings = services.update_matching_settings(
        user=request.auth,  # type: ignore[attr-defined]
        weights={name: data[name] for name in MatchingSettings.WEIGHT_FIELDS},
        review_before_publication=data["review_before_publication"],
        profile_lifetime_days=data["profile_lifetime_days"])
    return _settings_out(settings)


@router.get("/cooperation/learning", response={200: dict[str, Any], **PUBLIC_ERRORS}, summary="Learning pairs",
            description="For `region` (a NUTS 2 or 3 code) or `cluster` (a number): the most similar and the most "
            "complementary places, with scores, reasons and a link to compare them. " + PUBLIC)
def learning(request: HttpRequest, region: QueryEx[str, P(description="A NUTS 2 or 3 code.")] = "",
             cluster: QueryEx[str, P(description="A cluster's id.")] = "") -> dict[str, Any]:
    pairs = learning_for({"region": _text(region, 5), "cluster": _text(cluster, 20)})
    if pairs is None:
        raise ValidationError("give a region or a cluster", field="region")
    return {"target": pairs.target, "name": pairs.target_name, "kind": pairs.kind, "places": pairs.places,
            "similar": pairs.similar, "complementary": pairs.complementary}


# --- events ---------------------------------------------------------------------------------------------


def _event_out(event: Any) -> dict[str, Any]:
    return {"id": event.pk, "title": event.title, "venue": event.venue, "first_slot_at": event.first_slot_at,
            "slot_minutes": event.slot_minutes, "slots": event.slots, "tables": event.tables,
            "participants": event.participants.count(), "scheduled": event.scheduled_at is not None,
            "schedule_status": event.schedule_status, "schedule_gap": event.schedule_gap}


@router.get("/cooperation/events", response={200: CooperationListOut, **PUBLIC_ERRORS},
            summary="Partnering events",
            description=PUBLIC)
def list_events(request: HttpRequest) -> dict[str, Any]:
    from socialclusters.cooperation.models import Event

    items = [_event_out(e) for e in Event.objects.all()[:MAX_ITEMS]]
    return {"count": len(items), "items": items}


@router.get("/cooperation/events/{id}", response={200: dict[str, Any], **PUBLIC_ERRORS}, summary="One event",
            description=PUBLIC)
def get_event(request: HttpRequest, id: ObjectId) -> dict[str, Any]:
    from socialclusters.cooperation import events

    return _event_out(events.event_detail(id))


@router.get("/cooperation/events/{id}/agenda", response={200: CooperationListOut, **AUTH_ERRORS}, auth=session_auth,
            summary="Your agenda at an event", description="Registered participants. " + SIGNED_IN)
def event_agenda(request: HttpRequest, id: ObjectId) -> dict[str, Any]:
    from socialclusters.cooperation import events
    from socialclusters.cooperation.views import _agenda_rows

    event = events.event_detail(id)
    me = events.participant_of(request.auth, event)  # type: ignore[attr-defined]
    if me is None:
        raise NotFound("you are not registered for this event")
    rows = _agenda_rows(me)
    return {"count": len(rows), "items": rows}


def _schedule_of(request: HttpRequest, id: int) -> Any:
    from socialclusters.cooperation import events
    from socialclusters.errors import PermissionDenied

    event = events.event_detail(id)
    if not events.can_organise(request.auth, event):  # type: ignore[attr-defined]
        raise PermissionDenied("only the organiser and the secretariat see the whole schedule")
    return event


@router.get("/cooperation/events/{id}/schedule", response={200: CooperationScheduleOut, **AUTH_ERRORS},
            auth=session_auth, summary="An event's schedule",
            description="The printable schedule as data: every meeting with its slot, times, table and both "
            "people. The event's organiser and the secretariat. " + SIGNED_IN)
def event_schedule(request: HttpRequest, id: ObjectId) -> dict[str, Any]:
    from socialclusters.cooperation import events

    event = _schedule_of(request, id)
    rows = events.schedule_rows(event)
    build = events.latest_build(event)
    return {"event": event.pk, "status": event.schedule_status, "gap": event.schedule_gap,
            "scheduled_at": event.scheduled_at, "count": len(rows), "items": rows,
            "build": None if build is None else {
                "id": build.pk, "state": build.state, "progress": build.progress, "error": build.error,
                "created_at": build.created_at, "started_at": build.started_at, "finished_at": build.finished_at}}


def _schedule_csv_doc() -> dict[str, Any]:
    from socialclusters.cooperation.events import SCHEDULE_CSV_COLUMNS

    return {"responses": {200: {
        "description": "The schedule as CSV (UTF-8, header row, stable column order: "
        f"`{','.join(SCHEDULE_CSV_COLUMNS)}`), by slot then table.",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }}}


@router.get("/cooperation/events/{id}/schedule.csv", response=AUTH_ERRORS, auth=session_auth,
            summary="An event's schedule (CSV)",
            description="The same meetings as `/cooperation/events/{id}/schedule`, one a line. The event's "
            "organiser and the secretariat. " + SIGNED_IN, openapi_extra=_schedule_csv_doc())
def event_schedule_csv(request: HttpRequest, id: ObjectId) -> StreamingHttpResponse:
    from socialclusters.cooperation import events

    event = _schedule_of(request, id)
    response = StreamingHttpResponse(events.schedule_csv(event), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="socialclusters-schedule-{event.pk}.csv"'
    return response


# --- a participant's side, and the organiser's build --------------------------------------------------------


def _me_at(request: HttpRequest, event: Any) -> Any:
    from socialclusters.cooperation import events

    me = events.participant_of(request.auth, event)  # type: ignore[attr-defined]
    if me is None:
        raise NotFound("you are not registered for this event")
    return me


def _request_out(meeting: Any) -> dict[str, Any]:
    from socialclusters.cooperation.events import person_summary

    return {"id": meeting.pk, "requester": person_summary(meeting.requester),
            "invitee": person_summary(meeting.invitee), "message": meeting.message, "status": meeting.status}


@router.get("/cooperation/events/{id}/people", response={200: CooperationPeopleOut, **AUTH_ERRORS},
            auth=session_auth, summary="People to meet at an event, best first",
            description="For a registered participant, as on the event's page: the other participants ranked by the "
            "matchmaker's score of their organisations (those that opted out are left out), and the meeting "
            "requests you sent and received. " + SIGNED_IN)
def event_people(request: HttpRequest, id: ObjectId) -> dict[str, Any]:
    from socialclusters.cooperation import events
    from socialclusters.cooperation.events import person_summary

    me = _me_at(request, events.event_detail(id))
    people = [person_summary(p) | {"score": round(score, 4)} for p, score in events.suggested_participants(me, k=500)]
    sent = [_request_out(m) for m in me.requests_sent.select_related(
        "requester__user", "requester__organisation", "invitee__user", "invitee__organisation")]
    received = [_request_out(m) for m in me.requests_received.select_related(
        "requester__user", "requester__organisation", "invitee__user", "invitee__organisation")]
    return {"count": len(people), "items": people, "sent": sent, "received": received}


@router.post("/cooperation/events/{id}/registrations", response={201: CooperationPersonOut, **WORKFLOW_ERRORS},
             auth=session_auth, summary="Register for an event",
             description="With the slots you can attend (registering again changes them), until the schedule is "
             "built. " + SIGNED_IN)
def event_register(request: HttpRequest, id: ObjectId, payload: CooperationRegistrationIn) -> Status[dict[str, Any]]:
    from socialclusters.cooperation import events
    from socialclusters.cooperation.events import person_summary

    event = events.event_detail(id)
    organisation = _organisation_for(request, payload.organisation) if payload.organisation else None
    participant = events.register(user=request.auth, event=event, organisation=organisation,  # type: ignore[attr-defined]
                                  available_slots=[slot - 1 for slot in payload.available_slots])
    return Status(201, person_summary(participant))


@router.post("/cooperation/events/{id}/requests", response={201: dict[str, Any], **WORKFLOW_ERRORS},
             auth=session_auth, summary="Ask a participant to meet",
             description="The person invited is told and answers. Registered participants. " + SIGNED_IN)
def event_request(request: HttpRequest, id: ObjectId, payload: CooperationMeetingRequestIn) -> Status[dict[str, Any]]:
    from socialclusters.cooperation import events

    event = events.event_detail(id)
    meeting = events.request_meeting(user=request.auth, event=event, invitee_id=payload.invitee,  # type: ignore[attr-defined]
                                     message=payload.message)
    return Status(201, _request_out(meeting))


@router.post("/cooperation/events/{id}/requests/{request_id}/answer", response={200: dict[str, Any], **WORKFLOW_ERRORS},
             auth=session_auth, summary="Accept or decline a meeting request",
             description="The person invited. " + SIGNED_IN)
def event_answer(request: HttpRequest, id: ObjectId,
                 request_id: PathEx[int, P(ge=1, le=MAX_ID, description="The meeting request's id.")],
                 payload: CooperationMeetingAnswerIn) -> dict[str, Any]:
    from socialclusters.cooperation import events
    from socialclusters.cooperation.models import MeetingRequest

    meeting = MeetingRequest.objects.filter(pk=request_id, event_id=id).select_related(
        "event", "requester__user", "invitee__user", "requester__organisation", "invitee__organisation").first()
    if meeting is None:
        raise NotFound(f"no meeting request {request_id} at event {id}", field="request_id")
    return _request_out(events.answer_meeting(user=request.auth, meeting=meeting,  # type: ignore[attr-defined]
                                              accept=payload.accept))


@router.post("/cooperation/events/{id}/schedule",
             response={200: CooperationScheduleOut, 202: CooperationScheduleOut, **WORKFLOW_ERRORS},
             auth=session_auth, summary="Build the schedule",
             description="Queues the building of the schedule as a background task: it places every accepted request "
             "(a proven optimum, or the best in 60 seconds), replaces any earlier schedule and sends each participant "
             "their agenda; registrations and requests then close. 200 when the build has already ended (`done`, or "
             "`failed` with its `error`, as with the immediate task backend), with the schedule; 202 while it is "
             "queued or running, with its `build` state (follow it with GET on the same path). 409 when no request "
             "is accepted or while another build is under way. The event's organiser and the secretariat. "
             + SIGNED_IN)
def event_build(request: HttpRequest, id: ObjectId) -> Status[dict[str, Any]]:
    from socialclusters.cooperation import events

    event = _schedule_of(request, id)
    build = events.build_schedule(user=request.auth, event=event)  # type: ignore[attr-defined]
    return Status(202 if build.pending else 200, event_schedule(request, id))
