"""The progress report to the plenary: membership and how it was chosen, meetings and attendance,
contributions and the evidence gathered, open questions, next steps and the continuation decision.

The report is a function of the database and an ``as_of`` date only: no clock, no request, no random ids
(charts come from ``analysis.charts``, whose SVG is deterministic), so the same data and date give the
same HTML bytes. The PDF is that HTML rendered by WeasyPrint.
"""

from __future__ import annotations

import base64
import datetime
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.template.loader import render_to_string
from django.utils import translation

from socialclusters.analysis import charts
from socialclusters.workinggroup.models import (
    ActionItem,
    Call,
    ContinuationDecision,
    Contribution,
    ContributionStatus,
    Meeting,
    Milestone,
    MilestoneStatus,
    MinutesStatus,
    Outcome,
    SelectionDecision,
)

FORMATS = ("html", "pdf")


@dataclass
class ProgressReport:
    call: Call
    as_of: datetime.date
    members: list[dict[str, Any]]
    applications: int
    selection: dict[str, Any]
    meetings: list[dict[str, Any]]
    contributions: list[dict[str, Any]]
    themes: list[dict[str, Any]]
    next_steps: list[dict[str, Any]]
    open_actions: list[dict[str, Any]]
    continuation: ContinuationDecision | None
    charts: dict[str, str] = field(default_factory=dict)  # name → data: URI of an SVG


def _svg_uri(content: bytes) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(content).decode("ascii")


def progress_report(call: Call, *, as_of: datetime.date) -> ProgressReport:
    """Everything the report says, as of the end of ``as_of`` (in the call's time zone)."""
    end = datetime.datetime.combine(as_of + datetime.timedelta(days=1), datetime.time(), tzinfo=call.zone)
    members = [
        {"name": a.name, "organisation": a.organisation_name, "country": a.country.name if a.country else "",
         "country_code": a.country_id or "", "type": a.get_stakeholder_type_display(), "areas": a.expertise_areas}
        for a in call.applications.filter(outcome=Outcome.SELECTED, anonymised_at__isnull=True)
        .select_related("country").order_by("name", "pk")
    ]
    # Read afresh: a cached reverse relation on ``call`` could predate the decision.
    decision = SelectionDecision.objects.filter(call=call).select_related("run").first()
    run = decision.run.result if decision else {}
    selection = {
        "decided_on": decision.decided_at.astimezone(call.zone).date() if decision else None,
        "rationale": decision.rationale if decision else "",
        "status": run.get("status", ""), "objective": run.get("objective"),
        "greedy": (run.get("greedy") or {}).get("objective"), "required_areas": call.required_areas,
        "covered_areas": sorted({a for m in members for a in m["areas"]}),
        "reserve": call.applications.filter(outcome=Outcome.RESERVE).count(),
    }
    meetings = []
    for meeting in Meeting.objects.filter(call=call, starts_at__lt=end).order_by("starts_at", "pk"):
        registrations = list(meeting.registrations.all())
        minutes = getattr(meeting, "minutes", None)
        meetings.append({
            "title": meeting.title, "date": meeting.local_start.date(), "place": meeting.place or
            meeting.get_format_display(), "webinar": meeting.webinar, "registered": len(registrations),
            "attended": sum(1 for r in registrations if r.attended),
            "minutes_approved": bool(minutes and minutes.status == MinutesStatus.APPROVED),
        })
    validated = Contribution.objects.filter(call=call, status=ContributionStatus.VALIDATED, validated_at__lt=end)
    contributions: list[dict[str, Any]] = [
        {"title": c.title, "url": c.get_absolute_url(), "validated_on": c.validated_at.astimezone(call.zone).date(),
         "authors": sorted(a.get_full_name() or a.get_username() for a in c.authors.all()),
         "themes": [t.title for t in c.themes.all()]}
        for c in validated.prefetch_related("authors", "themes").order_by("validated_at", "pk") if c.validated_at
    ]
    themes = [{"title": t.title, "contributions": sum(1 for c in contributions if t.title in c["themes"])}
              for t in call.themes.order_by("pk")]
    next_steps = [{"title": m.title, "due": m.due_date, "status": m.get_status_display(),
                   "late": m.is_late(as_of)}
                  for m in Milestone.objects.filter(call=call).exclude(status=MilestoneStatus.DONE)
                  .order_by("due_date", "pk")]
    open_actions = [{"title": a.title, "owner": (a.owner.get_full_name() or a.owner.get_username()) if a.owner
                     else "", "due": a.due_date}
                    for a in ActionItem.objects.filter(call=call, done_at__isnull=True, created_at__lt=end)
                    .select_related("owner").order_by("due_date", "pk")]
    continuation = ContinuationDecision.objects.filter(call=call, decided_on__lte=as_of).first()
    report = ProgressReport(call=call, as_of=as_of, members=members,
                            applications=call.applications.count(), selection=selection, meetings=meetings,
                            contributions=contributions, themes=themes, next_steps=next_steps,
                            open_actions=open_actions, continuation=continuation)
    source = f"socialclusters, working group “{call.title}”, as of {as_of.isoformat()}"
    if members:
        by_country = Counter(m["country"] for m in members).most_common()
        by_country.sort(key=lambda pair: (-pair[1], pair[0]))
        report.charts["countries"] = _svg_uri(charts.bar_chart(
            [c for c, _n in by_country], [n for _c, n in by_country], title="Members by country",
            n=len(members), source=source, value_label="members", fmt="svg"))
    if meetings:
        report.charts["attendance"] = _svg_uri(charts.bar_chart(
            [f"{m['date'].isoformat()} {m['title']}" for m in meetings], [m["attended"] for m in meetings],
            title="Members present at each meeting", n=len(members), source=source, value_label="present",
            fmt="svg"))
    return report


def render_progress_report(call: Call, *, as_of: datetime.date, fmt: str) -> bytes:
    """The report as HTML or PDF bytes (English, whatever the request's language)."""
    if fmt not in FORMATS:
        raise ValueError(f"fmt: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    with translation.override("en"):
        html = render_to_string("workinggroup/report_progress.html",
                                {"report": progress_report(call, as_of=as_of)})
    if fmt == "html":
        return html.encode("utf-8")
    from weasyprint import HTML

    return bytes(HTML(string=html, base_url=None).write_pdf())

