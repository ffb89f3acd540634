"""Reads of the working group: calls, applications with their review scores, reviewers' lists, selection runs,
and the applicants table the selection works on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from socialclusters.errors import NotFound, PermissionDenied
from socialclusters.tasks import TaskState
from socialclusters.workinggroup.models import (
    ActionItem,
    Application,
    Call,
    Contribution,
    ContributionStatus,
    Meeting,
    Milestone,
    Outcome,
    ReviewerAssignment,
    SelectionRun,
    Theme,
)

if TYPE_CHECKING:
    from socialclusters.accounts.models import User


def visible_calls(user: Any) -> QuerySet[Call]:
    calls = Call.objects.prefetch_related("planned_meetings")
    if getattr(user, "is_secretariat", False):
        return calls
    return calls.filter(published=True)


def call_detail(slug: str, user: Any) -> Call:
    call = visible_calls(user).filter(slug=slug).first()
    if call is None:
        raise NotFound(_("There is no call at this address."))
    return call


def call_for_secretariat(slug: str) -> Call:
    call = Call.objects.prefetch_related("planned_meetings", "templates").filter(slug=slug).first()
    if call is None:
        raise NotFound(_("There is no call at this address."))
    return call


@dataclass
class ApplicationRow:
    application: Application
    reviews: list[ReviewerAssignment]
    mean_total: float | None  # mean of the reviewers' totals (conflicts excluded), None when unscored
    percent: float | None  # the same as a share of the rubric's maximum, 0–100
    available_constitutive: bool


def _scored(assignments: list[ReviewerAssignment]) -> list[int]:
    return [a.total for a in assignments if a.total is not None and not a.conflict_of_interest]


def application_rows(call: Call, *, q: str = "", country: str = "", area: str = "", stakeholder_type: str = "",
                     outcome: str | None = None, reviewed: str = "", order: str = "score") -> list[ApplicationRow]:
    """The secretariat's dashboard: applications with their reviews, filtered and ordered."""
    applications = (call.applications.filter(anonymised_at__isnull=True).select_related("country", "organisation")
                    .prefetch_related(Prefetch("assignments", queryset=ReviewerAssignment.objects.select_related(
                        "reviewer")), "available_meetings"))
    if q:
        applications = applications.filter(Q(name__icontains=q) | Q(organisation_name__icontains=q)
                                           | Q(email__icontains=q))
    if country:
        applications = applications.filter(country_id=country.upper())
    if stakeholder_type:
        applications = applications.filter(stakeholder_type=stakeholder_type)
    if outcome is not None:
        applications = applications.filter(outcome=outcome)
    constitutive = call.planned_meetings.filter(constitutive=True).first()
    maximum = call.rubric_max or 1
    rows = []
    for application in applications:
        if area and area not in application.expertise_areas:
            continue
        reviews = list(application.assignments.all())
        totals = _scored(reviews)
        if reviewed == "yes" and not totals:
            continue
        if reviewed == "no" and totals:
            continue
        mean = sum(totals) / len(totals) if totals else None
        rows.append(ApplicationRow(
            application=application, reviews=reviews, mean_total=mean,
            percent=round(100 * mean / maximum, 1) if mean is not None else None,
            available_constitutive=constitutive is None or constitutive in application.available_meetings.all(),
        ))
    if order == "score":
        rows.sort(key=lambda r: (r.percent is None, -(r.percent or 0), r.application.submitted_at))
    return rows


def applicants_frame(call: Call) -> pd.DataFrame:
    """The call's applications as the table ``analysis.selection`` reads; unscored applications score 0."""
    rows = application_rows(call, order="submitted")
    return pd.DataFrame({
        "id": [r.application.pk for r in rows],
        "score": [r.percent or 0.0 for r in rows],
        "country": [r.application.country_id or "??" for r in rows],
        "stakeholder_type": [r.application.stakeholder_type for r in rows],
        "areas": [list(r.application.expertise_areas) for r in rows],
        "gender": [r.application.gender for r in rows],
        "available": [r.available_constitutive for r in rows],
    }, columns=["id", "score", "country", "stakeholder_type", "areas", "gender", "available"])


def assignments_for(user: User) -> QuerySet[ReviewerAssignment]:
    """What a reviewer has to score: assignments on applications that still exist."""
    return (ReviewerAssignment.objects.filter(reviewer=user, application__anonymised_at__isnull=True)
            .select_related("application", "application__call", "application__country"))


def assignment_for(user: User, pk: int) -> ReviewerAssignment:
    assignment = assignments_for(user).filter(pk=pk).first()
    if assignment is None:
        raise NotFound(_("No such review is assigned to you."))
    return assignment


def can_read_application(user: Any, application: Application) -> bool:
    if getattr(user, "is_secretariat", False):
        return True
    return bool(user.is_authenticated and application.assignments.filter(reviewer=user).exists())


def latest_run(call: Call, *, done: bool = False) -> SelectionRun | None:
    """The call's latest selection run (``done``: the latest finished one, whose result can be decided on)."""
    runs = SelectionRun.objects.filter(call=call)
    if done:
        runs = runs.filter(state=TaskState.DONE)
    return runs.order_by("-created_at", "-pk").first()


def run_summary(run: SelectionRun) -> dict[str, Any]:
    """A run's result with the applications' names put next to their ids, for the page."""
    result = run.result
    ids: set[int] = set(result.get("selected", [])) | set(result.get("reserve", []))
    ids |= {row["id"] for row in result.get("left_out", [])}
    names = dict(Application.objects.filter(pk__in=ids).values_list("pk", "name"))
    name = names.get
    return {
        "run": run,
        "contributions": [{**row, "name": name(row["id"], "?")} for row in result.get("contributions", [])],
        "left_out": [{**row, "name": name(row["id"], "?")} for row in result.get("left_out", [])],
        "reserve": [{"id": pk, "name": name(pk, "?"), "rank": n} for n, pk in enumerate(result.get("reserve", []), 1)],
        "binding": result.get("binding", []),
        "greedy": result.get("greedy", {}),
    }


def members(user: Any) -> QuerySet[Application]:
    """The members' area: who is in the group. Members and the secretariat only."""
    from socialclusters.accounts.models import Role

    if not (getattr(user, "is_secretariat", False) or getattr(user, "role", None) == Role.MEMBER):
        raise PermissionDenied(_("The members' area is for the working group's members."))
    return (Application.objects.filter(outcome=Outcome.SELECTED, anonymised_at__isnull=True,
                                       call__decision__isnull=False)
            .select_related("call", "country", "organisation").order_by("call__deadline", "name"))


def call_counts(call: Call) -> dict[str, Any]:
    counts = call.applications.filter(anonymised_at__isnull=True).aggregate(
        total=Count("pk"),
        selected=Count("pk", filter=Q(outcome=Outcome.SELECTED)),
        reserve=Count("pk", filter=Q(outcome=Outcome.RESERVE)),
        not_selected=Count("pk", filter=Q(outcome=Outcome.NOT_SELECTED)),
        notified=Count("pk", filter=Q(notified_at__isnull=False)),
    )
    counts["open"] = call.is_open(timezone.now())
    return counts


def meetings_for(user: Any) -> QuerySet[Meeting]:
    """Meetings of the groups the user belongs to (every meeting for the secretariat), in time order."""
    meetings = Meeting.objects.select_related("call").prefetch_related("documents")
    if getattr(user, "is_secretariat", False):
        return meetings
    if not getattr(user, "is_authenticated", False):
        return meetings.none()
    calls = Application.objects.filter(member=user, outcome=Outcome.SELECTED, anonymised_at__isnull=True).values(
        "call_id")
    return meetings.filter(call_id__in=calls)


def meeting_detail(user: Any, pk: int) -> Meeting:
    meeting = meetings_for(user).filter(pk=pk).first()
    if meeting is None:
        raise NotFound(_("There is no meeting of your group at this address."))
    return meeting


def group_meetings(call: Call) -> QuerySet[Meeting]:
    return Meeting.objects.filter(call=call).order_by("starts_at", "pk")


def open_action_items(meeting: Meeting) -> QuerySet[ActionItem]:
    """Action items of the group not done yet, from this meeting and every earlier one (carried over)."""
    return (ActionItem.objects.filter(call=meeting.call, done_at__isnull=True,
                                      meeting__starts_at__lte=meeting.starts_at)
            .select_related("owner", "meeting").order_by("due_date", "pk"))


def group_call(user: Any, slug: str) -> Call:
    """A call whose group the user belongs to (the secretariat: any call)."""
    from socialclusters.workinggroup.services import is_group_member

    call = Call.objects.filter(slug=slug).first()
    if call is None or not is_group_member(user, call):
        raise NotFound(_("There is no group of yours at this address."))
    return call


def milestones(call: Call) -> QuerySet[Milestone]:
    return Milestone.objects.filter(call=call).order_by("due_date", "pk")


def poll_results(meeting: Meeting) -> list[dict[str, Any]]:
    """Each poll of the meeting with its vote count per option, in the options' order."""
    results = []
    for poll in meeting.polls.prefetch_related("votes"):
        counts = [0] * len(poll.options)
        for ballot in poll.votes.all():
            counts[ballot.option] += 1
        results.append({"poll": poll, "rows": list(zip(poll.options, counts, strict=True)),
                        "total": sum(counts), "voters": {b.user_id for b in poll.votes.all()}})
    return results


# --- written contributions ------------------------------------------------------------------------------


def validated_contributions(*, call: Call | None = None, theme: Theme | int | None = None,
                            q: str = "") -> QuerySet[Contribution]:
    """Validated contributions: the group's written evidence, for any app to cite.

    Each has a stable address (``get_absolute_url()``, public) and its text in ``current.text``; newest
    validation first. Filter by the group (``call``), a theme (object or id) or words of the title.
    """
    contributions = (Contribution.objects.filter(status=ContributionStatus.VALIDATED)
                     .select_related("call").prefetch_related("themes", "authors", "versions"))
    if call is not None:
        contributions = contributions.filter(call=call)
    if theme is not None:
        contributions = contributions.filter(themes=theme)
    if q:
        contributions = contributions.filter(title__icontains=q)
    return contributions.order_by("-validated_at", "pk")


def contributions_for(user: Any) -> QuerySet[Contribution]:
    """What the user may read: validated contributions, plus every contribution of the user's groups."""
    from socialclusters.workinggroup.services import is_group_member

    visible = Q(status=ContributionStatus.VALIDATED)
    if getattr(user, "is_secretariat", False):
        visible = Q()
    elif getattr(user, "is_authenticated", False):
        calls = [c for c in Call.objects.filter(applications__member=user).distinct() if is_group_member(user, c)]
        visible |= Q(call__in=calls)
    return (Contribution.objects.filter(visible).select_related("call")
            .prefetch_related("themes", "authors").order_by("-validated_at", "-created_at", "pk"))


def contribution_detail(user: Any, pk: int) -> Contribution:
    contribution = contributions_for(user).filter(pk=pk).first()
    if contribution is None:
        raise NotFound(_("There is no contribution you can read at this address."))
    return contribution


def version_diff(older: str, newer: str) -> list[tuple[str, str]]:
    """Line changes between two versions as (kind, line): kind is "added", "removed" or "same"."""
    import difflib

    rows = []
    for line in difflib.ndiff(older.splitlines(), newer.splitlines()):
        code, text = line[:2], line[2:]
        if code == "? ":
            continue
        rows.append(({"+ ": "added", "- ": "removed"}.get(code, "same"), text))
    return rows
