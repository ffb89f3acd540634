"""Pages of the working group: the public call and its application form (no account: a private link), the
secretariat's call editor, review dashboard, selection and decisions, the reviewers' pages and the members' area.

Views are thin: reads through ``selectors``, writes through ``services``, audience declared with
``web.access``. Object-level rights (a reviewer's own assignments, an applicant's own application through its
signed link) are checked by selectors and services.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRefresh

from socialclusters import errors
from socialclusters.tasks import TaskState
from socialclusters.web import Audience, access, form_errors
from socialclusters.workinggroup import selectors, services
from socialclusters.workinggroup.forms import (
    ActionItemForm,
    ApplicationForm,
    AssignReviewerForm,
    AttendanceForm,
    CallForm,
    CommentForm,
    ConflictForm,
    ContinuationForm,
    ContributionForm,
    DashboardFilterForm,
    DecisionForm,
    LockForm,
    MeetingForm,
    MilestoneForm,
    MilestoneStatusForm,
    MinutesForm,
    ReviewForm,
    SelectionForm,
    TemplateForm,
)
from socialclusters.workinggroup.models import (
    ActionItem,
    Application,
    MeetingDocument,
    Milestone,
    Minutes,
    Outcome,
    Poll,
    SelectionRun,
)


def base_url(request: HttpRequest) -> str:
    """Scheme and host of this request: links in emails point back to the site the person used."""
    return f"{request.scheme}://{request.get_host()}"


# --- public: the call and the application ------------------------------------------------------------------


@access(Audience.PUBLIC)
def call_list(request: HttpRequest) -> HttpResponse:
    return render(request, "workinggroup/call_list.html", {"calls": selectors.visible_calls(request.user)})


@access(Audience.PUBLIC)
def call_detail(request: HttpRequest, slug: str) -> HttpResponse:
    call = selectors.call_detail(slug, request.user)
    return render(request, "workinggroup/call_detail.html", {"call": call, "open": call.is_open()})


@access(Audience.PUBLIC)
def apply(request: HttpRequest, slug: str) -> HttpResponse:
    call = selectors.call_detail(slug, request.user)
    if not call.is_open():
        return render(request, "workinggroup/call_closed.html", {"call": call}, status=410)
    if request.method == "POST":
        form = ApplicationForm(request.POST, request.FILES, call=call)
        if form.is_valid():
            try:
                with form_errors(form):
                    services.submit_application(call=call, data=form.application_data(),
                                                cv=form.cleaned_data.get("cv") or None, base_url=base_url(request))
                    return render(request, "workinggroup/application_sent.html",
                                  {"call": call, "email": form.cleaned_data["email"]})
            except errors.Conflict as exc:
                if not call.is_open():
                    return render(request, "workinggroup/call_closed.html", {"call": call}, status=410)
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        status = 400
    else:
        form, status = ApplicationForm(call=call), 200
    return render(request, "workinggroup/apply.html", {"call": call, "form": form}, status=status)


@access(Audience.PUBLIC)
def application_edit(request: HttpRequest, token: str) -> HttpResponse:
    application = services.application_from_token(token)
    call = application.call
    if not call.is_open():
        return render(request, "workinggroup/application_closed.html",
                      {"call": call, "application": application, "token": token})
    if request.method == "POST":
        form = ApplicationForm(request.POST, request.FILES, call=call)
        if form.is_valid():
            try:
                with form_errors(form):
                    services.update_application(application=application, data=form.application_data(),
                                                cv=form.cleaned_data.get("cv") or None,
                                                remove_cv=form.cleaned_data.get("cv") is False,
                                                base_url=base_url(request))
                    messages.success(request, _("Your application is updated; a confirmation is on its way."))
                    return redirect("workinggroup:application_edit", token=token)
            except errors.Conflict:
                return render(request, "workinggroup/application_closed.html",
                              {"call": call, "application": application, "token": token})
        status = 400
    else:
        form, status = ApplicationForm(initial=ApplicationForm.initial_for(application), call=call), 200
    return render(request, "workinggroup/application_edit.html",
                  {"call": call, "form": form, "application": application, "token": token}, status=status)


@require_POST
@access(Audience.PUBLIC)
def application_erase(request: HttpRequest, token: str) -> HttpResponse:
    application = services.application_from_token(token)
    call = application.call
    services.request_erasure(application=application)
    return render(request, "workinggroup/application_erased.html", {"call": call, "application": application})


# --- secretariat: calls ----------------------------------------------------------------------------------


@access(Audience.SECRETARIAT)
def call_create(request: HttpRequest) -> HttpResponse:
    form = CallForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with form_errors(form):
            call = services.create_call(user=request.user, meetings=form.cleaned_data["meetings"],  # type: ignore[arg-type]
                                        **form.service_fields())
            messages.success(request, _("Call “%(title)s” created.") % {"title": call.title})
            return redirect("workinggroup:dashboard", slug=call.slug)
    return render(request, "workinggroup/call_form.html", {"form": form, "call": None},
                  status=400 if request.method == "POST" else 200)


@access(Audience.SECRETARIAT)
def call_edit(request: HttpRequest, slug: str) -> HttpResponse:
    call = selectors.call_for_secretariat(slug)
    form = CallForm(request.POST or None, initial=CallForm.initial_for(call))
    if request.method == "POST" and form.is_valid():
        with form_errors(form):
            call = services.update_call(user=request.user, call=call,  # type: ignore[arg-type]
                                        meetings=form.cleaned_data["meetings"], **form.service_fields())
            messages.success(request, _("Call “%(title)s” saved.") % {"title": call.title})
            return redirect("workinggroup:dashboard", slug=call.slug)
    return render(request, "workinggroup/call_form.html", {"form": form, "call": call},
                  status=400 if request.method == "POST" else 200)


@access(Audience.SECRETARIAT)
def dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    call = selectors.call_for_secretariat(slug)
    filters = DashboardFilterForm(request.GET or None, call=call)
    values: dict[str, Any] = filters.cleaned_data if filters.is_valid() else {}
    rows = selectors.application_rows(
        call, q=values.get("q", ""), country=values.get("country", ""), area=values.get("area", ""),
        stakeholder_type=values.get("stakeholder_type", ""), reviewed=values.get("reviewed", ""))
    return render(request, "workinggroup/dashboard.html", {
        "call": call, "rows": rows, "filters": filters, "assign_form": AssignReviewerForm(),
        "counts": selectors.call_counts(call), "rubric": call.rubric,
    })


@require_POST
@access(Audience.SECRETARIAT, back="workinggroup:call_list")
def assign_reviewers(request: HttpRequest, slug: str) -> HttpResponse:
    call = selectors.call_for_secretariat(slug)
    form = AssignReviewerForm(request.POST)
    if not form.is_valid():
        raise errors.ValidationError(_("Choose a reviewer."), field="reviewer")
    count = services.assign_reviewer(user=request.user, call=call,  # type: ignore[arg-type]
                                     reviewer=form.cleaned_data["reviewer"])
    messages.success(request, _("%(reviewer)s now reviews every application (%(n)d new).")
                     % {"reviewer": form.cleaned_data["reviewer"], "n": count})
    return redirect("workinggroup:dashboard", slug=slug)


@access(Audience.SIGNED_IN)
def application_cv(request: HttpRequest, pk: int) -> FileResponse:
    application = get_object_or_404(Application, pk=pk, anonymised_at__isnull=True)
    if not selectors.can_read_application(request.user, application):
        raise errors.PermissionDenied(_("Only the secretariat and this application's reviewers can read its CV."))
    if not application.cv:
        raise errors.NotFound(_("This application has no CV."))
    return FileResponse(application.cv.open("rb"), content_type="application/pdf", as_attachment=True,
                        filename=f"cv-{application.pk}.pdf")


# --- reviewers ---------------------------------------------------------------------------------------------


@access(Audience.SIGNED_IN)
def review_list(request: HttpRequest) -> HttpResponse:
    return render(request, "workinggroup/review_list.html",
                  {"assignments": selectors.assignments_for(request.user)})  # type: ignore[arg-type]


@access(Audience.SIGNED_IN)
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = selectors.assignment_for(request.user, pk)  # type: ignore[arg-type]
    application = assignment.application
    rubric = application.call.rubric
    review_form = ReviewForm(initial={**assignment.scores, "note": assignment.note}, rubric=rubric)
    conflict_form = ConflictForm(initial={"conflict": assignment.conflict_of_interest,
                                          "conflict_note": assignment.conflict_note})
    status = 200
    if request.method == "POST":
        status = 400
        if "conflict_form" in request.POST:
            conflict_form = ConflictForm(request.POST)
            if conflict_form.is_valid():
                with form_errors(conflict_form):
                    services.declare_conflict(user=request.user, assignment=assignment,  # type: ignore[arg-type]
                                              conflict=conflict_form.cleaned_data["conflict"],
                                              note=conflict_form.cleaned_data["conflict_note"])
                    messages.success(request, _("Your declaration is recorded."))
                    return redirect("workinggroup:review_detail", pk=pk)
        else:
            review_form = ReviewForm(request.POST, rubric=rubric)
            if review_form.is_valid():
                with form_errors(review_form):
                    services.score_application(user=request.user, assignment=assignment,  # type: ignore[arg-type]
                                               scores=review_form.scores(), note=review_form.cleaned_data["note"])
                    messages.success(request, _("Your scores are saved."))
                    return redirect("workinggroup:review_list")
    return render(request, "workinggroup/review_detail.html", {
        "assignment": assignment, "application": application, "review_form": review_form,
        "conflict_form": conflict_form,
    }, status=status)


# --- secretariat: selection and decisions ------------------------------------------------------------------


@access(Audience.SECRETARIAT)
def selection(request: HttpRequest, slug: str) -> HttpResponse:
    call = selectors.call_for_secretariat(slug)
    if request.method == "POST":
        form = SelectionForm(request.POST, call=call)
        if form.is_valid():
            with form_errors(form):
                queued = services.run_selection(user=request.user, call=call, rules=form.rules())  # type: ignore[arg-type]
                if queued.pending:
                    messages.info(request, _("The selection is queued: this page shows its progress."))
                elif queued.state == TaskState.FAILED:
                    messages.error(request, _("The selection failed: %(error)s") % {"error": queued.error})
                else:
                    messages.success(request, _("Selection run: %(status)s.") % {"status": queued.status})
                return redirect("workinggroup:selection", slug=slug)
    else:
        latest = selectors.latest_run(call)
        rules = services.rules_of_run(latest) if latest is not None else services.default_rules(call)
        form = SelectionForm(initial=SelectionForm.initial_for(rules), call=call)
    run = selectors.latest_run(call, done=True)
    current = selectors.latest_run(call)
    decision = getattr(call, "decision", None)
    return render(request, "workinggroup/selection.html", {
        "call": call, "form": form, "summary": selectors.run_summary(run) if run else None,
        "current": current if current is not None and current != run else None,
        "rows": selectors.application_rows(call), "decision": decision,
        "decision_form": DecisionForm(initial={"run": run.pk}) if run and not decision else None,
        "counts": selectors.call_counts(call), "lock_form": LockForm(),
    }, status=400 if request.method == "POST" else 200)


@access(Audience.SECRETARIAT)
def selection_run_status(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """The state of a queued or running selection, polled by the selection page (htmx) until it ends."""
    call = selectors.call_for_secretariat(slug)
    run = get_object_or_404(SelectionRun, pk=pk, call=call)
    if not request.htmx:  # type: ignore[attr-defined]
        return redirect("workinggroup:selection", slug=slug)
    if not run.pending:
        return HttpResponseClientRefresh()  # the page reloads to show the result or the error
    if request.GET.get("seen") == f"{run.state}:{run.progress}":
        return HttpResponse(status=204)  # nothing new: htmx keeps the block as it is
    return render(request, "workinggroup/_run_status.html", {"call": call, "current": run})


@require_POST
@access(Audience.SECRETARIAT, back="workinggroup:call_list")
def application_lock(request: HttpRequest, pk: int) -> HttpResponse:
    application = get_object_or_404(Application.objects.select_related("call"), pk=pk, anonymised_at__isnull=True)
    form = LockForm(request.POST)
    if not form.is_valid():
        raise errors.ValidationError(_("Choose in, out or free."), field="lock")
    services.set_lock(user=request.user, application=application, lock=form.cleaned_data["lock"])  # type: ignore[arg-type]
    messages.success(request, _("%(name)s: %(lock)s.") % {"name": application.name,
                                                          "lock": application.get_lock_display()})
    return redirect("workinggroup:selection", slug=application.call.slug)


@require_POST
@access(Audience.SECRETARIAT, back="workinggroup:call_list")
def decide(request: HttpRequest, slug: str) -> HttpResponse:
    call = selectors.call_for_secretariat(slug)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        raise errors.ValidationError(_("Write the rationale of the decision."), field="rationale")
    run = get_object_or_404(SelectionRun, pk=form.cleaned_data["run"], call=call)
    services.record_decision(user=request.user, run=run, rationale=form.cleaned_data["rationale"])  # type: ignore[arg-type]
    messages.success(request, _("The decision is recorded. Check the emails, then send them."))
    return redirect("workinggroup:decision_emails", slug=slug)


@access(Audience.SECRETARIAT)
def decision_emails(request: HttpRequest, slug: str) -> HttpResponse:
    call = selectors.call_for_secretariat(slug)
    templates = list(call.templates.all())
    forms_by_outcome = {t.outcome: TemplateForm(initial={"subject": t.subject, "body": t.body}, prefix=t.outcome)
                        for t in templates}
    status = 200
    if request.method == "POST":
        outcome = request.POST.get("outcome", "")
        template = next((t for t in templates if t.outcome == outcome), None)
        if template is None:
            raise errors.ValidationError(_("Choose which email to save."), field="outcome")
        form = TemplateForm(request.POST, prefix=outcome)
        forms_by_outcome[outcome] = form
        if form.is_valid():
            with form_errors(form):
                services.update_template(user=request.user, template=template,  # type: ignore[arg-type]
                                         subject=form.cleaned_data["subject"], body=form.cleaned_data["body"])
                messages.success(request, _("The email is saved."))
                return redirect("workinggroup:decision_emails", slug=slug)
        status = 400
    return render(request, "workinggroup/decision_emails.html", {
        "call": call, "forms": [(t, forms_by_outcome[t.outcome]) for t in templates],
        "placeholders": services.PLACEHOLDERS, "decision": getattr(call, "decision", None),
        "counts": selectors.call_counts(call),
    }, status=status)


@require_POST
@access(Audience.SECRETARIAT, back="workinggroup:call_list")
def send_decisions(request: HttpRequest, slug: str) -> HttpResponse:
    call = selectors.call_for_secretariat(slug)
    count = services.send_decisions(user=request.user, call=call, base_url=base_url(request))  # type: ignore[arg-type]
    messages.success(request, _("%(n)d applicants were told the decision by email.") % {"n": count})
    return redirect("workinggroup:decision_emails", slug=slug)


# --- members ----------------------------------------------------------------------------------------------


@access(Audience.SIGNED_IN)
def members(request: HttpRequest) -> HttpResponse:
    return render(request, "workinggroup/members.html", {"members": selectors.members(request.user),
                                                          "outcome": Outcome})


# --- meetings and webinars --------------------------------------------------------------------------------


def _ics(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{name}.ics"'
    return response


@access(Audience.SIGNED_IN)
def meeting_list(request: HttpRequest) -> HttpResponse:
    meetings = selectors.meetings_for(request.user)
    now = timezone.now()
    feed = request.build_absolute_uri(reverse("workinggroup:member_calendar",
                                              kwargs={"token": services.calendar_token(request.user)}))  # type: ignore[arg-type]
    return render(request, "workinggroup/meeting_list.html", {
        "upcoming": [m for m in meetings if m.ends_at >= now], "past": [m for m in meetings if m.ends_at < now][::-1],
        "feed": feed, "registered": set(request.user.meeting_registrations.values_list("meeting_id", flat=True)),  # type: ignore[union-attr]
    })


@access(Audience.SIGNED_IN)
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = selectors.meeting_detail(request.user, pk)
    registrations = list(meeting.registrations.select_related("user"))
    attendance = None
    if request.user.is_secretariat:  # type: ignore[union-attr]
        attendance = AttendanceForm(initial={"present": [str(r.user_id) for r in registrations if r.attended]},
                                    meeting=meeting)
    return render(request, "workinggroup/meeting_detail.html", {
        "meeting": meeting, "registrations": registrations, "attendance_form": attendance,
        "actions": selectors.open_action_items(meeting), "action_form": ActionItemForm(call=meeting.call),
        "minutes": Minutes.objects.filter(meeting=meeting).first(), "polls": selectors.poll_results(meeting),
        "is_registered": any(r.user_id == request.user.pk for r in registrations),
        "started": meeting.starts_at <= timezone.now(),
    })


@require_POST
@access(Audience.SIGNED_IN, back="workinggroup:meeting_list")
def meeting_register(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = selectors.meeting_detail(request.user, pk)
    if request.POST.get("action") == "unregister":
        services.unregister(user=request.user, meeting=meeting)  # type: ignore[arg-type]
        messages.success(request, _("You are no longer registered."))
    else:
        services.register(user=request.user, meeting=meeting)  # type: ignore[arg-type]
        messages.success(request, _("You are registered."))
    return redirect("workinggroup:meeting_detail", pk=pk)


@require_POST
@access(Audience.SECRETARIAT, back="workinggroup:meeting_list")
def meeting_attendance(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = selectors.meeting_detail(request.user, pk)
    form = AttendanceForm(request.POST, meeting=meeting)
    if not form.is_valid():
        raise errors.ValidationError(_("Tick registered members only."), field="present")
    count = services.record_attendance(user=request.user, meeting=meeting,  # type: ignore[arg-type]
                                       present=[int(pk) for pk in form.cleaned_data["present"]])
    messages.success(request, _("Attendance recorded: %(n)d present.") % {"n": count})
    return redirect("workinggroup:meeting_detail", pk=pk)


def _meeting_form_page(request: HttpRequest, call: Any, meeting: Any = None) -> HttpResponse:
    initial = MeetingForm.initial_for(meeting) if meeting else None
    form = MeetingForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        with form_errors(form):
            if meeting is None:
                meeting = services.create_meeting(user=request.user, call=call, plan=form.plan())  # type: ignore[arg-type]
            else:
                meeting = services.update_meeting(user=request.user, meeting=meeting, plan=form.plan())  # type: ignore[arg-type]
            messages.success(request, _("“%(title)s” is saved.") % {"title": meeting.title})
            return redirect("workinggroup:meeting_detail", pk=meeting.pk)
    return render(request, "workinggroup/meeting_form.html", {"form": form, "call": call, "meeting": meeting},
                  status=400 if request.method == "POST" else 200)


@access(Audience.SECRETARIAT)
def meeting_create(request: HttpRequest, slug: str) -> HttpResponse:
    return _meeting_form_page(request, selectors.call_for_secretariat(slug))


@access(Audience.SECRETARIAT)
def meeting_edit(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = selectors.meeting_detail(request.user, pk)
    return _meeting_form_page(request, meeting.call, meeting)


@access(Audience.SIGNED_IN)
def meeting_document(request: HttpRequest, pk: int) -> FileResponse:
    document = get_object_or_404(MeetingDocument.objects.select_related("meeting"), pk=pk)
    selectors.meeting_detail(request.user, document.meeting_id)  # members of the group and the secretariat
    return FileResponse(document.file.open("rb"), as_attachment=True,
                        filename=f"{document.title}.{(document.file.name or '').rsplit('.', 1)[-1]}")


@access(Audience.PUBLIC)
def group_calendar(request: HttpRequest, slug: str) -> HttpResponse:
    call = selectors.call_detail(slug, request.user)
    content = services.calendar(selectors.group_meetings(call), name=call.title, with_links=False)
    return _ics(content, call.slug)


@access(Audience.PUBLIC)
def member_calendar(request: HttpRequest, token: str) -> HttpResponse:
    user = services.user_from_calendar_token(token)
    content = services.calendar(selectors.meetings_for(user), name=_("My working group meetings"), with_links=True)
    return _ics(content, "my-meetings")


# --- minutes, action items, work plan ---------------------------------------------------------------------


@access(Audience.SIGNED_IN)
def minutes(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = selectors.meeting_detail(request.user, pk)
    record = Minutes.objects.filter(meeting=meeting).first()
    current = record.current if record else None
    form = MinutesForm(request.POST or None, initial={"text": current.text if current else ""})
    if request.method == "POST" and form.is_valid():
        with form_errors(form):
            version = services.add_minutes_version(user=request.user, meeting=meeting,  # type: ignore[arg-type]
                                                   text=form.cleaned_data["text"], note=form.cleaned_data["note"])
            messages.success(request, _("Version %(n)d saved.") % {"n": version.number})
            return redirect("workinggroup:minutes", pk=pk)
    return render(request, "workinggroup/minutes.html", {
        "meeting": meeting, "record": record, "form": form,
        "versions": list(record.versions.select_related("author").order_by("-number")) if record else [],
        "started": meeting.starts_at <= timezone.now(),
    }, status=400 if request.method == "POST" else 200)


@require_POST
@access(Audience.SECRETARIAT, back="workinggroup:meeting_list")
def minutes_approve(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = selectors.meeting_detail(request.user, pk)
    services.approve_minutes(user=request.user, meeting=meeting)  # type: ignore[arg-type]
    messages.success(request, _("The minutes are approved."))
    return redirect("workinggroup:minutes", pk=pk)


@require_POST
@access(Audience.SIGNED_IN, back="workinggroup:meeting_list")
def action_item_add(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = selectors.meeting_detail(request.user, pk)
    form = ActionItemForm(request.POST, call=meeting.call)
    if not form.is_valid():
        field, problems = next(iter(form.errors.items()))
        raise errors.ValidationError(" ".join(str(p) for p in problems), field=field)
    services.add_action_item(user=request.user, meeting=meeting, title=form.cleaned_data["title"],  # type: ignore[arg-type]
                             owner=form.cleaned_data["owner"], due_date=form.cleaned_data["due_date"])
    messages.success(request, _("Action added."))
    return redirect("workinggroup:meeting_detail", pk=pk)


@require_POST
@access(Audience.SIGNED_IN, back="workinggroup:meeting_list")
def action_item_done(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(ActionItem.objects.select_related("meeting"), pk=pk)
    selectors.meeting_detail(request.user, item.meeting_id)  # the group's members and the secretariat only
    services.complete_action_item(user=request.user, item=item)  # type: ignore[arg-type]
    messages.success(request, _("“%(title)s” is done.") % {"title": item.title})
    return redirect("workinggroup:meeting_detail", pk=item.meeting_id)


@access(Audience.SIGNED_IN)
def workplan(request: HttpRequest, slug: str) -> HttpResponse:
    call = selectors.group_call(request.user, slug)
    today = timezone.localdate()
    rows = [{"milestone": m, "late": m.is_late(today)} for m in selectors.milestones(call)]
    return render(request, "workinggroup/workplan.html", {
        "call": call, "rows": rows, "today": today, "milestone_form": MilestoneForm(),
        "continuation_form": ContinuationForm(),
        "status_form": MilestoneStatusForm(),
    })


@require_POST
@access(Audience.SECRETARIAT, back="workinggroup:call_list")
def milestone_add(request: HttpRequest, slug: str) -> HttpResponse:
    call = selectors.call_for_secretariat(slug)
    form = MilestoneForm(request.POST)
    if not form.is_valid():
        field, problems = next(iter(form.errors.items()))
        raise errors.ValidationError(" ".join(str(p) for p in problems), field=field)
    services.add_milestone(user=request.user, call=call, **form.cleaned_data)  # type: ignore[arg-type]
    messages.success(request, _("Milestone added."))
    return redirect("workinggroup:workplan", slug=slug)


@require_POST
@access(Audience.SECRETARIAT, back="workinggroup:call_list")
def milestone_status(request: HttpRequest, pk: int) -> HttpResponse:
    milestone = get_object_or_404(Milestone.objects.select_related("call"), pk=pk)
    form = MilestoneStatusForm(request.POST)
    if not form.is_valid():
        raise errors.ValidationError(_("Choose planned, in progress or done."), field="status")
    services.set_milestone_status(user=request.user, milestone=milestone,  # type: ignore[arg-type]
                                  status=form.cleaned_data["status"])
    messages.success(request, _("“%(title)s”: %(status)s.") % {"title": milestone.title,
                                                             "status": milestone.get_status_display()})
    return redirect("workinggroup:workplan", slug=milestone.call.slug)


@require_POST
@access(Audience.SIGNED_IN, back="workinggroup:meeting_list")
def poll_open(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = selectors.meeting_detail(request.user, pk)
    services.open_poll(user=request.user, meeting=meeting, question=request.POST.get("question", ""),  # type: ignore[arg-type]
                       options=request.POST.get("options", "").splitlines())
    messages.success(request, _("The poll is open."))
    return redirect("workinggroup:meeting_detail", pk=pk)


def _poll(request: HttpRequest, pk: int) -> Poll:
    poll = get_object_or_404(Poll, pk=pk)
    selectors.meeting_detail(request.user, poll.meeting_id)  # the group's members and the secretariat only
    return poll


@require_POST
@access(Audience.SIGNED_IN, back="workinggroup:meeting_list")
def poll_vote(request: HttpRequest, pk: int) -> HttpResponse:
    poll = _poll(request, pk)
    try:
        option = int(request.POST.get("option", ""))
    except ValueError:
        raise errors.ValidationError(_("Choose one of the options."), field="option") from None
    services.vote(user=request.user, poll=poll, option=option)  # type: ignore[arg-type]
    messages.success(request, _("Your vote is recorded."))
    return redirect("workinggroup:meeting_detail", pk=poll.meeting_id)


@require_POST
@access(Audience.SIGNED_IN, back="workinggroup:meeting_list")
def poll_close(request: HttpRequest, pk: int) -> HttpResponse:
    poll = _poll(request, pk)
    services.close_poll(user=request.user, poll=poll)  # type: ignore[arg-type]
    messages.success(request, _("The poll is closed."))
    return redirect("workinggroup:meeting_detail", pk=poll.meeting_id)


# --- written contributions ------------------------------------------------------------------------------


@access(Audience.PUBLIC)
def contribution_list(request: HttpRequest) -> HttpResponse:
    contributions = selectors.contributions_for(request.user)
    groups = [c for c in selectors.visible_calls(request.user) if services.is_group_member(request.user, c)]
    return render(request, "workinggroup/contribution_list.html", {"contributions": contributions, "groups": groups})


@access(Audience.PUBLIC)
def contribution_detail(request: HttpRequest, pk: int) -> HttpResponse:
    contribution = selectors.contribution_detail(request.user, pk)
    versions = list(contribution.versions.select_related("author").order_by("number"))
    member = services.is_group_member(request.user, contribution.call)
    shown = versions[-1] if versions else None
    requested = request.GET.get("version")
    if member and requested and requested.isdigit():
        shown = next((v for v in versions if v.number == int(requested)), shown)
    previous = next((v for v in versions if shown and v.number == shown.number - 1), None)
    return render(request, "workinggroup/contribution_detail.html", {
        "contribution": contribution, "versions": versions[::-1], "shown": shown, "member": member,
        "diff": selectors.version_diff(previous.text, shown.text) if member and previous and shown else None,
        "comments": contribution.comments.select_related("author") if member else [],
        "comment_form": CommentForm(), "editable": contribution.status in {"draft", "returned"},
    })


@access(Audience.SIGNED_IN)
def contribution_create(request: HttpRequest, slug: str) -> HttpResponse:
    call = selectors.group_call(request.user, slug)
    form = ContributionForm(request.POST or None, call=call)
    if request.method == "POST" and form.is_valid():
        with form_errors(form):
            contribution = services.create_contribution(
                user=request.user,  # type: ignore[arg-type]
                call=call, title=form.cleaned_data["title"], text=form.cleaned_data["text"],
                themes=form.cleaned_data["themes"])
            messages.success(request, _("Your draft is saved; other members can now improve it."))
            return redirect(contribution)
    return render(request, "workinggroup/contribution_form.html", {"form": form, "call": call, "contribution": None},
                  status=400 if request.method == "POST" else 200)


@access(Audience.SIGNED_IN)
def contribution_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contribution = selectors.contribution_detail(request.user, pk)
    if not services.is_group_member(request.user, contribution.call):
        raise errors.NotFound(_("There is no contribution you can edit at this address."))
    current = contribution.current
    initial = {"title": contribution.title, "themes": list(contribution.themes.all()),
               "text": current.text if current else ""}
    form = ContributionForm(request.POST or None, initial=initial, call=contribution.call)
    if request.method == "POST" and form.is_valid():
        with form_errors(form):
            version = services.revise_contribution(
                user=request.user,  # type: ignore[arg-type]
                contribution=contribution, text=form.cleaned_data["text"], note=form.cleaned_data["note"],
                title=form.cleaned_data["title"] if form.cleaned_data["title"] != contribution.title else None,
                themes=form.cleaned_data["themes"])
            messages.success(request, _("Version %(n)d saved.") % {"n": version.number})
            return redirect(contribution)
    return render(request, "workinggroup/contribution_form.html",
                  {"form": form, "call": contribution.call, "contribution": contribution},
                  status=400 if request.method == "POST" else 200)


def _member_contribution(request: HttpRequest, pk: int) -> Any:
    contribution = selectors.contribution_detail(request.user, pk)
    if not services.is_group_member(request.user, contribution.call):
        raise errors.NotFound(_("There is no contribution you can change at this address."))
    return contribution


@require_POST
@access(Audience.SIGNED_IN, back="workinggroup:contribution_list")
def contribution_comment(request: HttpRequest, pk: int) -> HttpResponse:
    contribution = _member_contribution(request, pk)
    services.comment_contribution(user=request.user, contribution=contribution,  # type: ignore[arg-type]
                                  text=request.POST.get("text", ""))
    messages.success(request, _("Your comment is added."))
    return redirect(contribution)


@require_POST
@access(Audience.SIGNED_IN, back="workinggroup:contribution_list")
def contribution_submit(request: HttpRequest, pk: int) -> HttpResponse:
    contribution = _member_contribution(request, pk)
    services.submit_contribution(user=request.user, contribution=contribution)  # type: ignore[arg-type]
    messages.success(request, _("Submitted: the secretariat will validate it or return it with comments."))
    return redirect(contribution)


@require_POST
@access(Audience.SECRETARIAT, back="workinggroup:contribution_list")
def contribution_validate(request: HttpRequest, pk: int) -> HttpResponse:
    contribution = selectors.contribution_detail(request.user, pk)
    services.validate_contribution(user=request.user, contribution=contribution,  # type: ignore[arg-type]
                                   base_url=base_url(request))
    messages.success(request, _("Validated: the contribution is public and citable."))
    return redirect(contribution)


@require_POST
@access(Audience.SECRETARIAT, back="workinggroup:contribution_list")
def contribution_return(request: HttpRequest, pk: int) -> HttpResponse:
    contribution = selectors.contribution_detail(request.user, pk)
    services.return_contribution(user=request.user, contribution=contribution,  # type: ignore[arg-type]
                                 comment=request.POST.get("comment", ""))
    messages.success(request, _("Returned to its authors with your comments."))
    return redirect(contribution)


# --- progress report and continuation ---------------------------------------------------------------------


@access(Audience.SIGNED_IN)
def progress_report(request: HttpRequest, slug: str) -> HttpResponse:
    from socialclusters.workinggroup.reports import render_progress_report

    call = selectors.group_call(request.user, slug)
    fmt = request.GET.get("format", "html")
    if fmt not in {"html", "pdf"}:
        raise errors.ValidationError(_("The format is html or pdf."), field="format")
    content = render_progress_report(call, as_of=timezone.localdate(), fmt=fmt)
    if fmt == "pdf":
        response = HttpResponse(content, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="progress-report-{call.slug}.pdf"'
        return response
    response = HttpResponse(content, content_type="text/html; charset=utf-8")
    # A standalone document with its own styles and inline SVG charts.
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    return response


@require_POST
@access(Audience.SECRETARIAT, back="workinggroup:call_list")
def continuation(request: HttpRequest, slug: str) -> HttpResponse:
    call = selectors.call_for_secretariat(slug)
    form = ContinuationForm(request.POST)
    if not form.is_valid():
        field, problems = next(iter(form.errors.items()))
        raise errors.ValidationError(" ".join(str(p) for p in problems), field=field)
    services.record_continuation(user=request.user, call=call, **form.cleaned_data)  # type: ignore[arg-type]
    messages.success(request, _("The decision on continuation is recorded."))
    return redirect("workinggroup:workplan", slug=slug)
