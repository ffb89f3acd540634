"""API operations of the working group (mounted at /api/v1/; paths start with /workinggroup).

The JSON twins of the working group's pages, built from the same selectors: calls, the secretariat's
applications dashboard and selection runs, a reviewer's assignments, the members' area, and an applicant's
own application (their personal data download, through the private link's token).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, P, PathEx, Query, Router, Schema, Status

from socialclusters.api.auth import PUBLIC, SECRETARIAT, SIGNED_IN, require_secretariat, session_auth
from socialclusters.api.errors import AUTH_ERRORS, PUBLIC_ERRORS, WORKFLOW_ERRORS
from socialclusters.api.schemas import MAX_ID
from socialclusters.errors import NotFound, ValidationError
from socialclusters.workinggroup import selectors, services
from socialclusters.workinggroup.models import (
    Application,
    Call,
    ContinuationDecision,
    Meeting,
    SelectionDecision,
    SelectionRun,
)

router = Router(tags=["working group"])

CallSlug = PathEx[str, P(max_length=80, description="The call's slug, as in its page's address.")]
MeetingId = PathEx[int, P(ge=1, le=MAX_ID, description="The meeting's id.")]
ContributionId = PathEx[int, P(ge=1, le=MAX_ID, description="The contribution's id.")]
PrivateToken = PathEx[str, P(max_length=400, description="The token of the private link emailed to the applicant.")]


class MeetingOut(Schema):
    title: str = Field(description="The meeting's title.")
    date: datetime.date = Field(description="Its (first) day.")
    end_date: datetime.date | None = Field(description="Its last day, for meetings over several days (null: one day).")
    place: str = Field(description="Where it takes place.")
    constitutive: bool = Field(
        description="Whether it is the group's constitutive meeting (availability for it counts in the selection).")


class CriterionOut(Schema):
    key: str = Field(description="The criterion's key in a review's scores.")
    label: str = Field(description="The criterion as reviewers see it.")
    max: int = Field(description="The highest score of the criterion.")


class CallOut(Schema):
    slug: str = Field(description="The call's identifier in addresses.")
    title: str = Field(description="The call's title.")
    description: str = Field(description="What the group will do (plain text).")
    eligibility: str = Field(description="Who may apply (plain text).")
    deadline: datetime.datetime = Field(description="The deadline in UTC.")
    deadline_local: str = Field(description="The deadline in the call's time zone, ISO 8601 with its offset.")
    time_zone: str = Field(description="The IANA time zone of the deadline.")
    open: bool = Field(description="Whether applications are accepted now.")
    seats_min: int = Field(description="The fewest members the group will have.")
    seats_max: int = Field(description="The most members the group will have.")
    expertise_areas: list[str] = Field(description="The expertise areas applicants may declare.")
    required_areas: list[str] = Field(description="The areas the group must cover (at least one member each).")
    stakeholder_types: list[str] = Field(description="The stakeholder types the call looks for.")
    languages: list[str] = Field(description="The working languages applicants may declare.")
    max_per_country: int | None = Field(description="The most members from one country (null: no limit).")
    motivation_min_length: int = Field(description="The shortest accepted motivation, in characters.")
    cv_max_bytes: int = Field(description="The largest accepted CV (PDF), in bytes.")
    retention_days: int = Field(
        description="Days after the decision after which applications not selected are anonymised.")
    privacy_notice: str = Field(description="What is done with applicants' personal data.")
    rubric: list[CriterionOut] = Field(description="The review rubric: the criteria reviewers score.")
    planned_meetings: list[MeetingOut] = Field(
        description="The meetings planned when the call was published (applicants give their availability).")
    published: bool = Field(description="Whether the call is public (always true except for the secretariat).")


class CallListOut(Schema):
    count: int = Field(description="How many calls are listed.")
    items: list[CallOut] = Field(description="The calls.")


class ReviewOut(Schema):
    reviewer: str = Field(description="The reviewer's user name.")
    conflict_of_interest: bool = Field(
        description="Whether the reviewer declared a conflict of interest (their scores then do not count).")
    conflict_note: str = Field(description="The reviewer's explanation of the conflict.")
    scores: dict[str, int] = Field(description="Score per rubric criterion key.")
    total: int | None = Field(description="Sum of the scores (null: not scored yet).")
    note: str = Field(description="The reviewer's note for the secretariat.")
    reviewed_at: datetime.datetime | None = Field(description="When the review was last saved (null: not yet).")


class ApplicationOut(Schema):
    id: int = Field(description="The application's id.")
    name: str = Field(description="The applicant's name.")
    email: str = Field(description="The applicant's email address.")
    organisation_name: str = Field(description="The applicant's organisation as they typed it.")
    organisation_id: int | None = Field(description="The registry's organisation, when the name matched one.")
    country: str | None = Field(description="ISO 3166 alpha-2 code of the applicant's country.")
    stakeholder_type: str = Field(description="The applicant's stakeholder type.")
    expertise_areas: list[str] = Field(description="The expertise areas the applicant declared.")
    languages: list[str] = Field(description="The working languages the applicant declared.")
    available_meetings: list[datetime.date] = Field(
        description="The days of the planned meetings the applicant can attend.")
    available_constitutive: bool = Field(description="Whether the applicant can attend the constitutive meeting.")
    gender: str = Field(description="`woman`, `man`, `another` or empty (not said).")
    has_cv: bool = Field(description="Whether a CV (PDF) was uploaded.")
    submitted_at: datetime.datetime = Field(description="When the application was first submitted.")
    lock: str = Field(
        description="`in` (always selected), `out` (never selected) or empty (free), as set on the selection page.")
    outcome: str = Field(description="`selected`, `reserve`, `not_selected` or empty (not decided yet).")
    reserve_rank: int | None = Field(description="The place on the reserve list (null: not on it).")
    score_percent: float | None = Field(description="Mean of the reviewers' totals as a share of the rubric's "
                                        "maximum (conflicts excluded), 0-100.")
    reviews: list[ReviewOut] = Field(description="The reviews of the application.")


class ApplicationListOut(Schema):
    count: int = Field(description="How many applications match.")
    items: list[ApplicationOut] = Field(description="The applications, best score first.")


class ApplicationFilter(Schema):
    q: str = Field("", max_length=200, description="Words in the name, organisation or email.")
    country: str = Field("", max_length=2, description="ISO country code.")
    area: str = Field("", max_length=120, description="An expertise area of the call.")
    stakeholder_type: str = Field("", max_length=30, description="A stakeholder type.")
    reviewed: str = Field("", pattern="^(|yes|no)$", description="`yes`: scored at least once; `no`: not yet.")


class OwnApplicationOut(Schema):
    call: str = Field(description="The slug of the call applied to.")
    name: str = Field(description="The applicant's name.")
    email: str = Field(description="The applicant's email address.")
    organisation_name: str = Field(description="The applicant's organisation as they typed it.")
    country: str | None = Field(description="ISO 3166 alpha-2 code of the applicant's country.")
    stakeholder_type: str = Field(description="The applicant's stakeholder type.")
    expertise_areas: list[str] = Field(description="The expertise areas the applicant declared.")
    languages: list[str] = Field(description="The working languages the applicant declared.")
    available_meetings: list[datetime.date] = Field(
        description="The days of the planned meetings the applicant can attend.")
    motivation: str = Field(description="The applicant's motivation.")
    gender: str = Field(description="`woman`, `man`, `another` or empty (not said).")
    has_cv: bool = Field(description="Whether a CV (PDF) is held.")
    consent: bool = Field(description="Whether the applicant consented to the processing of their data.")
    consented_at: datetime.datetime | None = Field(description="When they consented.")
    submitted_at: datetime.datetime = Field(description="When the application was first submitted.")
    updated_at: datetime.datetime = Field(description="When it was last changed.")
    outcome: str = Field(description="`selected`, `reserve`, `not_selected`, or empty until the decision is sent.")
    editable_until: datetime.datetime = Field(
        description="The call's deadline (UTC): the application can be edited until then.")


class AssignmentOut(Schema):
    id: int = Field(description="The assignment's id.")
    call: str = Field(description="The slug of the call.")
    applicant: str = Field(description="The applicant's name.")
    conflict_of_interest: bool = Field(description="Whether the reviewer declared a conflict of interest.")
    scores: dict[str, int] = Field(description="Score per rubric criterion key.")
    total: int | None = Field(description="Sum of the scores (null: not scored yet).")
    reviewed_at: datetime.datetime | None = Field(description="When the review was last saved (null: not yet).")


class AssignmentListOut(Schema):
    count: int = Field(description="How many assignments the caller has.")
    items: list[AssignmentOut] = Field(description="The assignments.")


class GroupMemberOut(Schema):
    name: str = Field(description="The member's name.")
    organisation_name: str = Field(description="The member's organisation.")
    country: str | None = Field(description="ISO 3166 alpha-2 code of the member's country.")
    expertise_areas: list[str] = Field(description="The member's expertise areas.")
    call: str = Field(description="The slug of the call that constituted the group.")


class GroupMemberListOut(Schema):
    count: int = Field(description="How many members are listed.")
    items: list[GroupMemberOut] = Field(description="The members.")


class RunOut(Schema):
    id: int = Field(description="The run's id.")
    created_at: datetime.datetime = Field(description="When the run was queued.")
    state: str = Field(description="`queued`, `running`, `done` or `failed` (the run is a background task).")
    progress: str = Field(description="The step under way while the run is queued or running (empty after).")
    error: str = Field(description="Why the run failed (empty unless `state` is `failed`).")
    started_at: datetime.datetime | None = Field(description="When a worker started the run (null: still queued).")
    finished_at: datetime.datetime | None = Field(description="When the run ended (null: not yet).")
    status: str = Field(description="Once done: `optimal` (proven), `feasible` (time limit: see `gap`) or "
                        "`infeasible`; empty before.")
    parameters: dict[str, Any] = Field(description="The rules, weights and locks the run was given.")
    result: dict[str, Any] = Field(description="Once done: selected ids, reserve, objective and its breakdown, "
                                   "what each member adds, why strong applicants were left out, binding "
                                   "constraints, and the greedy pick's objective for comparison.")
    decided: bool = Field(description="Whether the final decision was recorded from this run.")


class WeightsIn(Schema):
    score: float = Field(1.0, ge=0, le=1000, description="Weight of the review scores.")
    area: float = Field(25.0, ge=0, le=1000, description="Weight of each expertise area covered.")
    stakeholder_type: float = Field(20.0, ge=0, le=1000, description="Weight of each stakeholder type covered.")
    country: float = Field(10.0, ge=0, le=1000, description="Weight of each country covered.")
    gender_imbalance: float = Field(10.0, ge=0, le=1000, description="Penalty per person of gender imbalance.")


class RulesIn(Schema):
    seats_min: int | None = Field(None, ge=1, le=500, description="Default: the call's.")
    seats_max: int | None = Field(None, ge=1, le=500, description="Default: the call's.")
    max_per_country: int | None = Field(None, ge=1, le=500, description="Default: the call's.")
    required_areas: list[str] | None = Field(None, description="Default: the call's required areas.")
    require_available: bool | None = Field(None, description="Default: yes when the call plans a constitutive "
                                           "meeting.")
    weights: WeightsIn | None = Field(None, description="Default: the standard weights.")
    time_limit: float = Field(20.0, gt=0, le=120, description="Seconds.")


def _call_out(call: Call) -> dict[str, Any]:
    return {
        "slug": call.slug, "title": call.title, "description": call.description, "eligibility": call.eligibility,
        "deadline": call.deadline, "deadline_local": call.local_deadline.isoformat(), "time_zone": call.time_zone,
        "open": call.is_open(), "seats_min": call.seats_min, "seats_max": call.seats_max,
        "expertise_areas": call.expertise_areas, "required_areas": call.required_areas,
        "stakeholder_types": call.stakeholder_types, "languages": call.languages,
        "max_per_country": call.max_per_country, "motivation_min_length": call.motivation_min_length,
        "cv_max_bytes": call.cv_max_bytes, "retention_days": call.retention_days,
        "privacy_notice": call.privacy_notice, "rubric": call.rubric, "published": call.published,
        "planned_meetings": [{"title": m.title, "date": m.date, "end_date": m.end_date, "place": m.place,
                              "constitutive": m.constitutive} for m in call.planned_meetings.all()],
    }


@router.get("/workinggroup/calls", response={200: CallListOut}, summary="Calls for expressions of interest",
            description="Published calls, latest deadline first (unpublished ones too for the secretariat). " + PUBLIC)
def list_calls(request: HttpRequest) -> dict[str, Any]:
    calls = [_call_out(c) for c in selectors.visible_calls(request.user)]
    return {"count": len(calls), "items": calls}


@router.get("/workinggroup/calls/{slug}", response={200: CallOut, **PUBLIC_ERRORS}, summary="One call",
            description="The call page as JSON. " + PUBLIC)
def get_call(request: HttpRequest, slug: CallSlug) -> dict[str, Any]:
    return _call_out(selectors.call_detail(slug, request.user))


@router.get("/workinggroup/calls/{slug}/applications", response={200: ApplicationListOut, **AUTH_ERRORS},
            auth=session_auth, summary="Applications with their reviews",
            description="The secretariat's dashboard as JSON, best score first, with the same filters. " + SECRETARIAT)
def list_applications(request: HttpRequest, slug: CallSlug, filters: Query[ApplicationFilter]) -> dict[str, Any]:
    require_secretariat(request)
    call = selectors.call_for_secretariat(slug)
    rows = selectors.application_rows(call, q=filters.q, country=filters.country, area=filters.area,
                                      stakeholder_type=filters.stakeholder_type, reviewed=filters.reviewed)
    items = []
    for row in rows:
        a = row.application
        items.append({
            "id": a.pk, "name": a.name, "email": a.email, "organisation_name": a.organisation_name,
            "organisation_id": a.organisation_id, "country": a.country_id, "stakeholder_type": a.stakeholder_type,
            "expertise_areas": a.expertise_areas, "languages": a.languages,
            "available_meetings": [m.date for m in a.available_meetings.all()],
            "available_constitutive": row.available_constitutive, "gender": a.gender, "has_cv": bool(a.cv),
            "submitted_at": a.submitted_at, "lock": a.lock, "outcome": a.outcome, "reserve_rank": a.reserve_rank,
            "score_percent": row.percent,
            "reviews": [{"reviewer": r.reviewer.get_username(), "conflict_of_interest": r.conflict_of_interest,
                         "conflict_note": r.conflict_note, "scores": r.scores, "total": r.total, "note": r.note,
                         "reviewed_at": r.reviewed_at} for r in row.reviews],
        })
    return {"count": len(items), "items": items}


def _run_out(run: SelectionRun) -> dict[str, Any]:
    return {"id": run.pk, "created_at": run.created_at, "state": run.state, "progress": run.progress,
            "error": run.error, "started_at": run.started_at, "finished_at": run.finished_at,
            "status": run.status, "parameters": run.parameters, "result": run.result,
            "decided": SelectionDecision.objects.filter(run=run).exists()}


@router.get("/workinggroup/calls/{slug}/selection", response={200: RunOut, **AUTH_ERRORS}, auth=session_auth,
            summary="The latest selection run",
            description="The selection page's latest run as JSON, whatever its state: poll it to follow a queued "
            "run. " + SECRETARIAT)
def get_selection(request: HttpRequest, slug: CallSlug) -> dict[str, Any]:
    require_secretariat(request)
    run = selectors.latest_run(selectors.call_for_secretariat(slug))
    if run is None:
        raise NotFound("no selection has been run for this call yet")
    return _run_out(run)


@router.post("/workinggroup/calls/{slug}/selection", response={201: RunOut, 202: RunOut, **WORKFLOW_ERRORS},
             auth=session_auth, summary="Run the selection",
             description="Queues the CP-SAT selection with the call's rules (or those given) and the locks set on "
             "the selection page, as a background task, and keeps the run: 201 when it has already ended (`done` or "
             "`failed`, as with the immediate task backend), 202 while it is queued or running (follow it with "
             "GET on the same path). 409 once the decision is recorded or while another run is under way. "
             + SECRETARIAT)
def run_selection(request: HttpRequest, slug: CallSlug, payload: RulesIn) -> Status:
    require_secretariat(request)
    call = selectors.call_for_secretariat(slug)
    defaults = services.default_rules(call)
    low = payload.seats_min or defaults.seats[0]
    high = payload.seats_max or defaults.seats[1]
    if low > high:
        raise ValidationError("seats_min cannot be above seats_max", field="seats_max")
    rules = services.SelectionRules(
        seats=(low, high),
        required_areas=tuple(payload.required_areas if payload.required_areas is not None else defaults.required_areas),
        max_per_country=payload.max_per_country or defaults.max_per_country,
        require_available=defaults.require_available if payload.require_available is None
        else payload.require_available,
        weights=services.analysis.Weights(**(payload.weights.dict() if payload.weights else {})),
        time_limit=payload.time_limit)
    run = services.run_selection(user=request.auth, call=call, rules=rules)  # type: ignore[attr-defined]
    return Status(202 if run.pending else 201, _run_out(run))


@router.get("/workinggroup/reviews", response={200: AssignmentListOut, **AUTH_ERRORS}, auth=session_auth,
            summary="My review assignments", description="The reviewer's page as JSON. " + SIGNED_IN)
def list_reviews(request: HttpRequest) -> dict[str, Any]:
    items = [{"id": a.pk, "call": a.application.call.slug, "applicant": a.application.name,
              "conflict_of_interest": a.conflict_of_interest, "scores": a.scores, "total": a.total,
              "reviewed_at": a.reviewed_at} for a in selectors.assignments_for(request.auth)]  # type: ignore[attr-defined]
    return {"count": len(items), "items": items}


@router.get("/workinggroup/members", response={200: GroupMemberListOut, **AUTH_ERRORS}, auth=session_auth,
            summary="The members of the working group",
            description="The members' area as JSON. Working-group members and the secretariat (others: 403).")
def list_members(request: HttpRequest) -> dict[str, Any]:
    items = [{"name": a.name, "organisation_name": a.organisation_name, "country": a.country_id,
              "expertise_areas": a.expertise_areas, "call": a.call.slug} for a in selectors.members(request.auth)]  # type: ignore[attr-defined]
    return {"count": len(items), "items": items}


@router.get("/workinggroup/applications/{token}", response={200: OwnApplicationOut, **PUBLIC_ERRORS},
            summary="My application (personal data download)",
            description="Everything held about an applicant, for whoever has the private link's token (the "
            "applicant). " + PUBLIC)
def get_own_application(request: HttpRequest, token: PrivateToken) -> dict[str, Any]:
    a: Application = services.application_from_token(token)
    return {
        "call": a.call.slug, "name": a.name, "email": a.email, "organisation_name": a.organisation_name,
        "country": a.country_id, "stakeholder_type": a.stakeholder_type, "expertise_areas": a.expertise_areas,
        "languages": a.languages, "available_meetings": [m.date for m in a.available_meetings.all()],
        "motivation": a.motivation, "gender": a.gender, "has_cv": bool(a.cv), "consent": a.consent,
        "consented_at": a.consented_at, "submitted_at": a.submitted_at, "updated_at": a.updated_at,
        "outcome": a.outcome if a.notified_at else "", "editable_until": a.call.deadline,
    }


class MeetingItemOut(Schema):
    id: int = Field(description="The meeting's id.")
    call: str = Field(description="The slug of the group's call.")
    title: str = Field(description="The meeting's title.")
    webinar: bool = Field(description="Whether it is a webinar (guests may be invited).")
    format: str = Field(description="`physical`, `online` or `hybrid`.")
    starts_at: datetime.datetime = Field(description="When it starts (UTC).")
    ends_at: datetime.datetime = Field(description="When it ends (UTC).")
    time_zone: str = Field(description="The IANA time zone of the meeting's place.")
    place: str = Field(description="Where it takes place.")
    online_url: str = Field(description="Where to join online (empty for meetings in person).")
    agenda: list[str] = Field(description="The agenda items, in order.")
    description: str = Field(description="Practical details (plain text).")
    documents: list[str] = Field(description="Download addresses of the meeting's documents.")
    registered: list[str] = Field(description="Registered members (user names).")
    attended: list[str] = Field(description="Members recorded as present.")


class MeetingListOut(Schema):
    count: int = Field(description="How many meetings are listed.")
    items: list[MeetingItemOut] = Field(description="The meetings, soonest first.")


def _meeting_out(meeting: Meeting) -> dict[str, Any]:
    from django.urls import reverse

    registrations = list(meeting.registrations.select_related("user"))
    return {
        "id": meeting.pk, "call": meeting.call.slug, "title": meeting.title, "webinar": meeting.webinar,
        "format": meeting.format, "starts_at": meeting.starts_at, "ends_at": meeting.ends_at,
        "time_zone": meeting.time_zone, "place": meeting.place, "online_url": meeting.online_url,
        "agenda": meeting.agenda, "description": meeting.description,
        "documents": [reverse("workinggroup:meeting_document", args=[d.pk]) for d in meeting.documents.all()],
        "registered": [r.user.get_username() for r in registrations],
        "attended": [r.user.get_username() for r in registrations if r.attended],
    }


@router.get("/workinggroup/meetings", response={200: MeetingListOut, **AUTH_ERRORS}, auth=session_auth,
            summary="Meetings of my groups",
            description="The meetings page as JSON: the meetings of the groups the caller belongs to (all of them "
            "for the secretariat). " + SIGNED_IN)
def list_meetings(request: HttpRequest) -> dict[str, Any]:
    items = [_meeting_out(m) for m in selectors.meetings_for(request.auth)]  # type: ignore[attr-defined]
    return {"count": len(items), "items": items}


@router.get("/workinggroup/meetings/{id}", response={200: MeetingItemOut, **AUTH_ERRORS}, auth=session_auth,
            summary="One meeting", description="The meeting page as JSON (404 outside the caller's groups). "
            + SIGNED_IN)
def get_meeting(request: HttpRequest, id: MeetingId) -> dict[str, Any]:
    return _meeting_out(selectors.meeting_detail(request.auth, id))  # type: ignore[attr-defined]


class ContributionOut(Schema):
    id: int = Field(description="The contribution's id.")
    url: str = Field(description="The contribution's stable page, to cite.")
    call: str = Field(description="The slug of the group's call.")
    title: str = Field(description="The contribution's title.")
    status: str = Field(description="`draft`, `submitted`, `returned` or `validated`.")
    themes: list[str] = Field(description="The group's questions or themes it answers.")
    authors: list[str] = Field(description="Its authors.")
    validated_at: datetime.datetime | None = Field(
        description="When the secretariat validated it (null: not validated).")
    version: int | None = Field(description="The number of its current version (null: no text yet).")
    text: str = Field(description="The text of its current version.")


class ContributionListOut(Schema):
    count: int = Field(description="How many contributions are listed.")
    items: list[ContributionOut] = Field(description="The contributions.")


def _contribution_out(contribution: Any) -> dict[str, Any]:
    current = contribution.current
    return {"id": contribution.pk, "url": contribution.get_absolute_url(), "call": contribution.call.slug,
            "title": contribution.title, "status": contribution.status,
            "themes": [t.title for t in contribution.themes.all()],
            "authors": [a.get_full_name() or a.get_username() for a in contribution.authors.all()],
            "validated_at": contribution.validated_at, "version": current.number if current else None,
            "text": current.text if current else ""}


@router.get("/workinggroup/contributions", response={200: ContributionListOut},
            summary="Written contributions",
            description="Validated contributions (citable evidence), plus every contribution of the caller's groups "
            "for their members and the secretariat. " + PUBLIC)
def list_contributions(request: HttpRequest) -> dict[str, Any]:
    items = [_contribution_out(c) for c in selectors.contributions_for(request.user)]
    return {"count": len(items), "items": items}


@router.get("/workinggroup/contributions/{id}", response={200: ContributionOut, **PUBLIC_ERRORS},
            summary="One contribution", description="The contribution page as JSON (drafts: 404 outside the group). "
            + PUBLIC)
def get_contribution(request: HttpRequest, id: ContributionId) -> dict[str, Any]:
    return _contribution_out(selectors.contribution_detail(request.user, id))


class MilestoneOut(Schema):
    title: str = Field(description="The milestone's title.")
    kind: str = Field(description="`constitutive`, `workshop`, `plenary_report`, `continuation` or `other`.")
    due_date: datetime.date = Field(description="When it is due.")
    status: str = Field(description="`planned`, `in_progress` or `done`.")
    late: bool = Field(description="Whether it is past due and not done.")


class ContinuationOut(Schema):
    decision: str = Field(description="`continue`, `continue_changed` or `end`.")
    decided_on: datetime.date = Field(description="The day of the decision.")
    reasons: str = Field(description="The reasons for the decision.")


class WorkplanOut(Schema):
    call: str = Field(description="The slug of the group's call.")
    milestones: list[MilestoneOut] = Field(description="The work plan's milestones, in date order.")
    continuation: ContinuationOut | None = Field(
        description="The decision on the group's continuation (null: not decided yet).")


@router.get("/workinggroup/calls/{slug}/workplan", response={200: WorkplanOut, **AUTH_ERRORS}, auth=session_auth,
            summary="The group's work plan",
            description="The work plan page as JSON: milestones and the continuation decision. The group's members "
            "and the secretariat (404 for others).")
def get_workplan(request: HttpRequest, slug: CallSlug) -> dict[str, Any]:
    from django.utils import timezone

    call = selectors.group_call(request.auth, slug)  # type: ignore[attr-defined]
    today = timezone.localdate()
    decision = ContinuationDecision.objects.filter(call=call).first()
    return {
        "call": call.slug,
        "milestones": [{"title": m.title, "kind": m.kind, "due_date": m.due_date, "status": m.status,
                        "late": m.is_late(today)} for m in selectors.milestones(call)],
        "continuation": {"decision": decision.decision, "decided_on": decision.decided_on,
                         "reasons": decision.reasons} if decision else None,
    }
