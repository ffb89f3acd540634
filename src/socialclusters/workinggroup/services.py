"""Writes of the working group: calls, applications (no account: a signed private link), reviews, the
selection and the decisions sent to every applicant, member invitations, and anonymisation.

Every function takes keyword-only arguments, validates first, changes state inside one transaction and
raises ``socialclusters.errors`` exceptions naming the field.
"""

from __future__ import annotations

import datetime
import string
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import EmailMessage, send_mail
from django.core.validators import URLValidator, validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.text import slugify
from django.utils.translation import gettext as _

from socialclusters.analysis import selection as analysis
from socialclusters.errors import Conflict, NotFound, PermissionDenied, ValidationError
from socialclusters.registry.models import Country, Organisation
from socialclusters.tasks import TaskState, claim, pending_in
from socialclusters.workinggroup import selectors
from socialclusters.workinggroup.models import (
    ActionItem,
    Application,
    Call,
    Continuation,
    ContinuationDecision,
    Contribution,
    ContributionComment,
    ContributionStatus,
    ContributionVersion,
    DecisionTemplate,
    Lock,
    Meeting,
    MeetingFormat,
    Milestone,
    MilestoneKind,
    MilestoneStatus,
    Minutes,
    MinutesStatus,
    MinutesVersion,
    Outcome,
    PlannedMeeting,
    Poll,
    Registration,
    ReviewerAssignment,
    SelectionDecision,
    SelectionRun,
    StakeholderType,
    Theme,
    Vote,
)

if TYPE_CHECKING:
    from socialclusters.accounts.models import User

NUTS_COUNTRY_ALIASES = {"EL": "GR", "UK": "GB"}
TOKEN_SALT = "socialclusters.workinggroup.application"  # noqa: S105 - a signing namespace, not a secret
PDF_MAGIC = b"%PDF-"
PLACEHOLDERS = ("name", "call", "outcome", "reserve_rank", "members_url", "invitation_url")

DEFAULT_TEMPLATES: dict[str, tuple[str, str]] = {
    Outcome.SELECTED: (
        "Welcome to the working group: $call",
        "Dear $name,\n\nThank you for your expression of interest. The secretariat is glad to tell you that you "
        "have been selected as a member of the working group \"$call\".\n\nYour account for the members' area is "
        "ready: choose your password here:\n$invitation_url\n\nThe members' area: $members_url\n\n"
        "With our best regards,\nThe secretariat",
    ),
    Outcome.RESERVE: (
        "Your application to $call: reserve list",
        "Dear $name,\n\nThank you for your expression of interest in \"$call\". The group is complete for now; "
        "you are number $reserve_rank on the reserve list, and we will write to you if a seat becomes free.\n\n"
        "With our best regards,\nThe secretariat",
    ),
    Outcome.NOT_SELECTED: (
        "Your application to $call",
        "Dear $name,\n\nThank you for your expression of interest in \"$call\". We received many strong "
        "applications and could not offer you a seat this time.\n\nWith our best regards,\nThe secretariat",
    ),
}


def _require_secretariat(user: User) -> None:
    if not user.is_secretariat:
        raise PermissionDenied(_("Only the secretariat can do this."))


# --- calls ----------------------------------------------------------------------------------------


def _clean_list(values: Iterable[Any], field: str) -> list[str]:
    cleaned: list[str] = []
    for value in values:
        text = str(value).strip()
        if not text:
            continue
        if len(text) > 120:
            raise ValidationError(_("each entry must be at most 120 characters"), field=field)
        if text not in cleaned:
            cleaned.append(text)
    return cleaned


def _clean_rubric(rubric: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    if not rubric:
        raise ValidationError(_("the rubric needs at least one criterion"), field="rubric")
    cleaned, keys = [], set()
    for number, item in enumerate(rubric, start=1):
        try:
            label = str(item["label"]).strip()
            top = int(item["max"])
        except (KeyError, TypeError, ValueError):
            raise ValidationError(_("criterion %(n)d needs a label and a whole-number maximum") % {"n": number},
                                  field="rubric") from None
        key = slugify(str(item.get("key") or label)).replace("-", "_")
        if not label or not key or not 1 <= top <= 100:
            raise ValidationError(_("criterion %(n)d needs a label and a maximum from 1 to 100") % {"n": number},
                                  field="rubric")
        if key in keys:
            raise ValidationError(_("criterion %(n)d repeats “%(key)s”") % {"n": number, "key": key}, field="rubric")
        keys.add(key)
        cleaned.append({"key": key, "label": label, "max": top})
    return cleaned


CALL_FIELDS = ("title", "slug", "description", "eligibility", "deadline", "time_zone", "seats_min", "seats_max",
               "expertise_areas", "required_areas", "stakeholder_types", "languages", "max_per_country",
               "privacy_notice", "motivation_min_length", "cv_max_bytes", "retention_days", "rubric", "published")


def _validate_call(call: Call) -> None:
    try:
        zoneinfo.ZoneInfo(call.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(_("“%(zone)s” is not a time zone name such as Europe/Brussels")
                              % {"zone": call.time_zone}, field="time_zone") from None
    if timezone.is_naive(call.deadline):
        call.deadline = timezone.make_aware(call.deadline, zoneinfo.ZoneInfo(call.time_zone))
    if not 1 <= call.seats_min <= call.seats_max:
        raise ValidationError(_("the seat range must have 1 ≤ fewest ≤ most"), field="seats_max")
    call.expertise_areas = _clean_list(call.expertise_areas, "expertise_areas")
    if not call.expertise_areas:
        raise ValidationError(_("list at least one expertise area"), field="expertise_areas")
    call.required_areas = _clean_list(call.required_areas, "required_areas")
    unknown = [a for a in call.required_areas if a not in call.expertise_areas]
    if unknown:
        raise ValidationError(_("“%(area)s” is not one of the call's expertise areas") % {"area": unknown[0]},
                              field="required_areas")
    call.stakeholder_types = _clean_list(call.stakeholder_types, "stakeholder_types")
    bad = [t for t in call.stakeholder_types if t not in StakeholderType.values]
    if bad:
        raise ValidationError(_("“%(type)s” is not a stakeholder type") % {"type": bad[0]}, field="stakeholder_types")
    call.languages = _clean_list(call.languages, "languages")
    call.rubric = _clean_rubric(call.rubric)
    if not call.slug:
        call.slug = slugify(call.title)[:80]
    if not call.slug:
        raise ValidationError(_("give the call an address name (letters, digits, hyphens)"), field="slug")
    if Call.objects.filter(slug=call.slug).exclude(pk=call.pk).exists():
        raise ValidationError(_("another call already uses this address name"), field="slug")
    for name in ("title", "description", "eligibility", "privacy_notice"):
        if not str(getattr(call, name)).strip():
            raise ValidationError(_("this field is required"), field=name)


@dataclass(frozen=True)
class MeetingPlan:
    title: str
    date: datetime.date
    place: str = ""
    end_date: datetime.date | None = None
    constitutive: bool = False


def _save_meetings(call: Call, meetings: Sequence[MeetingPlan] | None) -> None:
    if meetings is None:
        return
    if sum(1 for m in meetings if m.constitutive) > 1:
        raise ValidationError(_("only one planned meeting can be the constitutive meeting"), field="meetings")
    keep = []
    existing = {(m.title, m.date): m for m in call.planned_meetings.all()}
    for plan in meetings:
        if plan.end_date and plan.end_date < plan.date:
            raise ValidationError(_("“%(title)s” ends before it starts") % {"title": plan.title}, field="meetings")
        meeting = existing.get((plan.title, plan.date)) or PlannedMeeting(call=call, title=plan.title, date=plan.date)
        meeting.place, meeting.end_date, meeting.constitutive = plan.place, plan.end_date, plan.constitutive
        meeting.save()
        keep.append(meeting.pk)
    call.planned_meetings.exclude(pk__in=keep).delete()


@transaction.atomic
def create_call(*, user: User, meetings: Sequence[MeetingPlan] | None = None, **fields: Any) -> Call:
    """Create a call (unpublished unless ``published=True``) with its default decision emails."""
    _require_secretariat(user)
    unknown = sorted(set(fields) - set(CALL_FIELDS))
    if unknown:
        raise ValidationError(_("unknown field"), field=unknown[0])
    call = Call(created_by=user, **fields)
    _validate_call(call)
    call.save()
    _save_meetings(call, meetings)
    for outcome, (subject, body) in DEFAULT_TEMPLATES.items():
        DecisionTemplate.objects.create(call=call, outcome=outcome, subject=subject, body=body)
    return call


@transaction.atomic
def update_call(*, user: User, call: Call, meetings: Sequence[MeetingPlan] | None = None, **fields: Any) -> Call:
    _require_secretariat(user)
    unknown = sorted(set(fields) - set(CALL_FIELDS))
    if unknown:
        raise ValidationError(_("unknown field"), field=unknown[0])
    call = Call.objects.select_for_update().get(pk=call.pk)
    for name, value in fields.items():
        setattr(call, name, value)
    _validate_call(call)
    call.save()
    _save_meetings(call, meetings)
    return call


# --- applications -----------------------------------------------------------------------------------


def edit_token(application: Application) -> str:
    """The signed secret of an application's private edit link."""
    return signing.dumps({"a": application.pk, "k": application.edit_key}, salt=TOKEN_SALT, compress=True)


def application_from_token(token: str) -> Application:
    try:
        data = signing.loads(token, salt=TOKEN_SALT)
    except signing.BadSignature:
        raise NotFound(_("This link is not valid. Use the link from your confirmation email.")) from None
    application = (Application.objects.select_related("call", "country")
                   .filter(pk=data.get("a"), edit_key=data.get("k"), anonymised_at__isnull=True).first())
    if application is None:
        raise NotFound(_("This application no longer exists."))
    return application


def edit_url(application: Application, base_url: str) -> str:
    return base_url.rstrip("/") + reverse("workinggroup:application_edit", kwargs={"token": edit_token(application)})


def check_cv(call: Call, cv: UploadedFile) -> None:
    """A CV must be a PDF (checked by its first bytes, not its name) no larger than the call allows."""
    if cv.size is not None and cv.size > call.cv_max_bytes:
        raise ValidationError(_("the CV is %(size).1f MB; the largest accepted is %(limit).1f MB")
                              % {"size": cv.size / 1048576, "limit": call.cv_max_bytes / 1048576}, field="cv")
    cv.seek(0)
    head = cv.read(len(PDF_MAGIC))
    cv.seek(0)
    if head != PDF_MAGIC:
        raise ValidationError(_("the CV must be a PDF file"), field="cv")


@dataclass
class ApplicationData:
    name: str
    email: str
    organisation_name: str
    country: str
    stakeholder_type: str
    expertise_areas: list[str]
    languages: list[str]
    available_meetings: list[int]
    motivation: str
    consent: bool
    gender: str = ""


def _validate_application(call: Call, data: ApplicationData) -> Country:
    for name in ("name", "email", "organisation_name"):
        if not str(getattr(data, name)).strip():
            raise ValidationError(_("this field is required"), field=name)
    code = str(data.country).strip().upper()
    # NUTS writes Greece and the United Kingdom EL and UK; countries are stored with their ISO codes.
    country = Country.objects.filter(code=NUTS_COUNTRY_ALIASES.get(code, code)).first()
    if country is None:
        raise ValidationError(_("choose a country"), field="country")
    if data.stakeholder_type not in StakeholderType.values:
        raise ValidationError(_("choose a stakeholder type"), field="stakeholder_type")
    if not data.expertise_areas:
        raise ValidationError(_("choose at least one expertise area"), field="expertise_areas")
    unknown = [a for a in data.expertise_areas if a not in call.expertise_areas]
    if unknown:
        raise ValidationError(_("“%(area)s” is not an area of this call") % {"area": unknown[0]},
                              field="expertise_areas")
    if call.languages and not data.languages:
        raise ValidationError(_("choose at least one working language"), field="languages")
    unknown = [lang for lang in data.languages if call.languages and lang not in call.languages]
    if unknown:
        raise ValidationError(_("“%(lang)s” is not a working language of this call") % {"lang": unknown[0]},
                              field="languages")
    meeting_ids = set(call.planned_meetings.values_list("pk", flat=True))
    if not set(data.available_meetings) <= meeting_ids:
        raise ValidationError(_("an unknown meeting was given"), field="available_meetings")
    length = len(data.motivation.strip())
    if length < call.motivation_min_length:
        raise ValidationError(_("the motivation has %(length)d characters; at least %(min)d are needed")
                              % {"length": length, "min": call.motivation_min_length}, field="motivation")
    if data.gender not in {"", "woman", "man", "another"}:
        raise ValidationError(_("choose a gender or leave it empty"), field="gender")
    if not data.consent:
        raise ValidationError(_("you must accept the privacy notice to apply"), field="consent")
    return country


def _deadline_passed(call: Call) -> Conflict:
    local = timezone.localtime(call.deadline, call.zone)
    return Conflict(_("The call closed on %(date)s at %(time)s (%(zone)s): applications can no longer be sent "
                      "or changed.") % {"date": local.strftime("%d %B %Y"), "time": local.strftime("%H:%M"),
                                        "zone": call.time_zone})


def _link_organisation(name: str, country: Country) -> Organisation | None:
    """The registry's organisation of that exact name (case aside) in that country, if there is exactly one."""
    matches = list(Organisation.objects.filter(name__iexact=name.strip(), country=country)[:2])
    return matches[0] if len(matches) == 1 else None


def _apply_data(application: Application, data: ApplicationData, country: Country, now: datetime.datetime) -> None:
    application.name = data.name.strip()
    application.email = data.email.strip().lower()
    application.organisation_name = data.organisation_name.strip()
    application.organisation = _link_organisation(application.organisation_name, country)
    application.country = country
    application.stakeholder_type = data.stakeholder_type
    application.expertise_areas = list(dict.fromkeys(data.expertise_areas))
    application.languages = list(dict.fromkeys(data.languages))
    application.motivation = data.motivation.strip()
    application.gender = data.gender
    if not application.consent:
        application.consented_at = now
    application.consent = True


def _confirm(application: Application, base_url: str, *, changed: bool) -> None:
    call = application.call
    local = timezone.localtime(call.deadline, call.zone)
    subject = (_("Your application to %(call)s was updated") if changed
               else _("We received your application to %(call)s")) % {"call": call.title}
    body = _(
        "Dear %(name)s,\n\nThank you: your expression of interest in “%(call)s” is recorded.\n\n"
        "You can read and change it until the deadline, %(deadline)s (%(zone)s), with this private link "
        "(do not share it):\n%(link)s\n\nThe secretariat will tell you its decision by email.\n"
    ) % {"name": application.name, "call": call.title, "deadline": local.strftime("%d %B %Y %H:%M"),
         "zone": call.time_zone, "link": edit_url(application, base_url)}
    send_mail(subject, body, None, [application.email])


def submit_application(*, call: Call, data: ApplicationData, cv: UploadedFile | None = None, base_url: str,
                       now: datetime.datetime | None = None) -> Application:
    """Record an application and email its private edit link. Refused after the deadline.

    A second application with the same email to the same call is refused (``Conflict``) and the private
    link of the first is emailed again, so the person can edit it instead.
    """
    now = now or timezone.now()
    if not call.published:
        raise NotFound(_("This call is not open."))
    if not call.is_open(now):
        raise _deadline_passed(call)
    country = _validate_application(call, data)
    if cv:
        check_cv(call, cv)
    existing = call.applications.filter(email=data.email.strip().lower(), anonymised_at__isnull=True).first()
    if existing is not None:
        _confirm(existing, base_url, changed=False)
        raise Conflict(_("An application with this email already exists; we have sent its private edit link "
                         "to that address again."), field="email")
    try:
        with transaction.atomic():
            application = Application(call=call, submitted_at=now)
            _apply_data(application, data, country, now)
            if cv:
                application.cv.save("cv.pdf", cv, save=False)
            application.save()
            application.available_meetings.set(data.available_meetings)
    except IntegrityError:
        raise Conflict(_("An application with this email already exists."), field="email") from None
    _confirm(application, base_url, changed=False)
    return application


def update_application(*, application: Application, data: ApplicationData, cv: UploadedFile | None = None,
                       remove_cv: bool = False, base_url: str, now: datetime.datetime | None = None) -> Application:
    """The applicant's own change, through the private link, until the deadline."""
    now = now or timezone.now()
    call = application.call
    if not call.is_open(now):
        raise _deadline_passed(call)
    country = _validate_application(call, data)
    if cv:
        check_cv(call, cv)
    if data.email.strip().lower() != application.email and call.applications.filter(
            email=data.email.strip().lower(), anonymised_at__isnull=True).exclude(pk=application.pk).exists():
        raise ValidationError(_("another application uses this email"), field="email")
    with transaction.atomic():
        _apply_data(application, data, country, now)
        old = application.cv.name if application.cv else ""
        if cv:
            application.cv.save("cv.pdf", cv, save=False)
        elif remove_cv:
            application.cv = ""  # type: ignore[assignment]
        application.save()
        application.available_meetings.set(data.available_meetings)
    if old and old != (application.cv.name if application.cv else ""):
        application.cv.storage.delete(old)
    _confirm(application, base_url, changed=True)
    return application


# --- review -------------------------------------------------------------------------------------------


@transaction.atomic
def assign_reviewer(*, user: User, call: Call, reviewer: User,
                    applications: Iterable[Application] | None = None) -> int:
    """Ask ``reviewer`` to score the given applications (all of the call's by default); returns how many are new."""
    _require_secretariat(user)
    if not reviewer.is_active:
        raise ValidationError(_("this account is not active"), field="reviewer")
    chosen = list(applications) if applications is not None else list(call.applications.filter(
        anonymised_at__isnull=True))
    if any(a.call_id != call.pk for a in chosen):
        raise ValidationError(_("an application belongs to another call"), field="applications")
    created = 0
    for application in chosen:
        _obj, new = ReviewerAssignment.objects.get_or_create(
            application=application, reviewer=reviewer, defaults={"assigned_by": user})
        created += new
    return created


@transaction.atomic
def unassign_reviewer(*, user: User, assignment: ReviewerAssignment) -> None:
    _require_secretariat(user)
    if assignment.reviewed_at:
        raise Conflict(_("This review is already scored; it stays on record."))
    assignment.delete()


def _own_assignment(user: User, assignment: ReviewerAssignment) -> ReviewerAssignment:
    if assignment.reviewer_id != user.pk:
        raise NotFound(_("No such review is assigned to you."))
    return assignment


@transaction.atomic
def declare_conflict(*, user: User, assignment: ReviewerAssignment, conflict: bool, note: str = "") -> None:
    """A reviewer declares (or withdraws) a conflict of interest; a declared conflict removes any scores."""
    assignment = _own_assignment(user, assignment)
    if conflict and not note.strip():
        raise ValidationError(_("say briefly what the conflict of interest is"), field="conflict_note")
    assignment.conflict_of_interest = conflict
    assignment.conflict_note = note.strip() if conflict else ""
    if conflict:
        assignment.scores, assignment.reviewed_at = {}, None
    assignment.save()


@transaction.atomic
def score_application(*, user: User, assignment: ReviewerAssignment, scores: dict[str, Any], note: str = "",
                      now: datetime.datetime | None = None) -> ReviewerAssignment:
    """Score every criterion of the call's rubric (whole numbers from 0 to the criterion's maximum)."""
    assignment = _own_assignment(user, assignment)
    if assignment.conflict_of_interest:
        raise Conflict(_("You declared a conflict of interest for this application: you cannot score it."))
    rubric = assignment.application.call.rubric
    cleaned = {}
    for item in rubric:
        value = scores.get(item["key"])
        try:
            number = int(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValidationError(_("give a whole number from 0 to %(max)d") % {"max": item["max"]},
                                  field=item["key"]) from None
        if not 0 <= number <= int(item["max"]):
            raise ValidationError(_("give a whole number from 0 to %(max)d") % {"max": item["max"]},
                                  field=item["key"])
        cleaned[item["key"]] = number
    extra = sorted(set(scores) - set(cleaned))
    if extra:
        raise ValidationError(_("not a criterion of this call's rubric"), field=extra[0])
    assignment.scores, assignment.note, assignment.reviewed_at = cleaned, note.strip(), now or timezone.now()
    assignment.save()
    return assignment


# --- selection --------------------------------------------------------------------------------------


@transaction.atomic
def set_lock(*, user: User, application: Application, lock: str) -> Application:
    _require_secretariat(user)
    if lock not in Lock.values:
        raise ValidationError(_("choose in, out or free"), field="lock")
    if SelectionDecision.objects.filter(call_id=application.call_id).exists():
        raise Conflict(_("The decision on this call is recorded; locks can no longer change."))
    application.lock = lock
    application.save(update_fields=["lock", "updated_at"])
    return application


@dataclass(frozen=True)
class SelectionRules:
    seats: tuple[int, int]
    required_areas: tuple[str, ...]
    max_per_country: int | None
    require_available: bool = True
    weights: analysis.Weights = field(default_factory=analysis.Weights)
    time_limit: float = 20.0


def default_rules(call: Call) -> SelectionRules:
    return SelectionRules(seats=(call.seats_min, call.seats_max), required_areas=tuple(call.required_areas),
                          max_per_country=call.max_per_country,
                          require_available=call.planned_meetings.filter(constitutive=True).exists())


def rules_of_run(run: SelectionRun) -> SelectionRules:
    """The rules a run was given (the call's defaults for any it does not record), to start the next one from."""
    defaults, p = default_rules(run.call), run.parameters
    seats = p.get("seats") or defaults.seats
    return SelectionRules(
        seats=(int(seats[0]), int(seats[1])),
        required_areas=tuple(p.get("required_areas", defaults.required_areas)),
        max_per_country=p.get("max_per_country", defaults.max_per_country),
        require_available=p.get("require_available", defaults.require_available),
        weights=analysis.Weights(**p.get("weights", {})))


def pending_run(call: Call, now: datetime.datetime | None = None) -> SelectionRun | None:
    """The call's run still queued or running (and not abandoned, see ``socialclusters.tasks``), if any."""
    return pending_in(SelectionRun.objects.filter(call=call), now=now)


def run_selection(*, user: User, call: Call, rules: SelectionRules | None = None) -> SelectionRun:
    """Queue a selection run on the call's applications, with the secretariat's locks as they are now.

    The run is kept at once (state ``queued``) and computed by the task ``workinggroup.tasks.run_selection``
    (``execute_selection``). With the immediate task backend (the default when no ``TASKS`` setting names
    another) it is computed before this returns; with a queue, a worker computes it and the selection page
    follows its state. Bad rules are refused here, before anything is kept.
    """
    from socialclusters.workinggroup import tasks

    _require_secretariat(user)
    with transaction.atomic():
        call = Call.objects.select_for_update().get(pk=call.pk)
        if SelectionDecision.objects.filter(call=call).exists():
            raise Conflict(_("The decision on this call is already recorded."))
        if pending_run(call) is not None:
            raise Conflict(_("A selection run of this call is already under way: wait for its result."))
        rules = rules or default_rules(call)
        applications = call.applications.filter(anonymised_at__isnull=True)
        if not applications.exists():
            raise ValidationError(_("this call has no applications to select from"), field="call")
        unknown = [a for a in rules.required_areas if a not in call.expertise_areas]
        if unknown:
            raise ValidationError(_("“%(area)s” is not one of the call's expertise areas") % {"area": unknown[0]},
                                  field="required_areas")
        low, high = rules.seats
        if not 1 <= low <= high:
            raise ValidationError(_("the lowest number of seats must be between 1 and the highest"), field="seats")
        run = SelectionRun.objects.create(
            call=call, created_by=user, state=TaskState.QUEUED, progress=_("Waiting for a worker"),
            parameters={
                "seats": [low, high], "required_areas": list(rules.required_areas),
                "max_per_country": rules.max_per_country, "require_available": rules.require_available,
                "weights": asdict(rules.weights), "time_limit": rules.time_limit,
                "locked_in": sorted(applications.filter(lock=Lock.IN).values_list("pk", flat=True)),
                "locked_out": sorted(applications.filter(lock=Lock.OUT).values_list("pk", flat=True)),
            })
    # Enqueued after the run's own transaction, so that a worker in another process can find it.
    run.enqueue(tasks.run_selection)
    return run


def execute_selection(run_id: int) -> SelectionRun | None:
    """Compute a queued run (the task's body): CP-SAT selection, then the greedy pick for comparison.

    Returns the run, or None when there is nothing to do (the run was deleted, or another worker took it).
    The run ends ``done`` with the solver's status and explained result, or ``failed`` with the error.
    """
    with transaction.atomic():
        run = claim(SelectionRun.objects.all(), run_id)
        if run is None:
            return None
        run.start(_("Reading the applications"))
    p = run.parameters
    try:
        table = selectors.applicants_frame(run.call)
        if table.empty:
            raise ValueError(_("this call has no applications to select from"))
        weights = analysis.Weights(**p["weights"])
        known = set(table["id"])
        rules: dict[str, Any] = {"seats": tuple(p["seats"]), "required_areas": p["required_areas"],
                 "max_per_country": p["max_per_country"], "require_available": p["require_available"],
                 "locked_in": [i for i in p["locked_in"] if i in known],
                 "locked_out": [i for i in p["locked_out"] if i in known], "weights": weights}
        run.report(_("Searching for the best group (CP-SAT, at most %(seconds)s s)") % {"seconds": p["time_limit"]})
        result = analysis.select_members(table, **rules, time_limit=p["time_limit"],
                                         reserve_size=max(5, p["seats"][1] // 4), relaxations=True, workers=8)
        run.report(_("Comparing with a pick by best scores"))
        greedy = analysis.greedy_selection(table, **rules)
    except (ValueError, TypeError, KeyError) as exc:
        return run.fail(str(exc))
    except Exception:
        run.fail(_("The selection stopped on an unexpected error; the site's administrators can see it in the log."))
        raise
    data = result.to_dict()
    data["greedy"] = {"status": greedy.status, "objective": greedy.objective, "selected": greedy.selected}
    run.parameters, run.result, run.status = data["parameters"], data, result.status
    run.finish(update_fields=["parameters", "result", "status"])
    return run


@transaction.atomic
def record_decision(*, user: User, run: SelectionRun, rationale: str,
                    now: datetime.datetime | None = None) -> SelectionDecision:
    """Make a run's group the decision: selected, reserve list in order, everyone else not selected."""
    _require_secretariat(user)
    call = Call.objects.select_for_update().get(pk=run.call_id)
    if SelectionDecision.objects.filter(call=call).exists():
        raise Conflict(_("The decision on this call is already recorded."))
    if run.state != TaskState.DONE:
        raise ValidationError(_("this run has not finished"), field="run")
    if run.status == "infeasible":
        raise ValidationError(_("this run found no group that keeps every rule"), field="run")
    if not rationale.strip():
        raise ValidationError(_("write the rationale of the decision"), field="rationale")
    if run.pk != SelectionRun.objects.filter(call=call, state=TaskState.DONE).latest().pk:
        raise Conflict(_("A newer selection run exists: decide from the latest run."))
    selected = set(run.result["selected"])
    reserve = list(run.result.get("reserve", []))
    applications = call.applications.filter(anonymised_at__isnull=True)
    for application in applications:
        if application.pk in selected:
            application.outcome, application.reserve_rank = Outcome.SELECTED, None
        elif application.pk in reserve:
            application.outcome, application.reserve_rank = Outcome.RESERVE, reserve.index(application.pk) + 1
        else:
            application.outcome, application.reserve_rank = Outcome.NOT_SELECTED, None
        application.save(update_fields=["outcome", "reserve_rank", "updated_at"])
    return SelectionDecision.objects.create(call=call, run=run, rationale=rationale.strip(), decided_by=user,
                                            decided_at=now or timezone.now())


def check_template(subject: str, body: str) -> None:
    """Templates use ``$name`` placeholders (``string.Template``); only the known ones are allowed."""
    for name, text in (("subject", subject), ("body", body)):
        if not text.strip():
            raise ValidationError(_("this field is required"), field=name)
        names = set()
        for match in string.Template.pattern.finditer(text):
            if match.group("invalid") is not None:
                raise ValidationError(_("a lone “$” must be written “$$”"), field=name)
            if match.group("named") or match.group("braced"):
                names.add(match.group("named") or match.group("braced"))
        unknown = sorted(names - set(PLACEHOLDERS))
        if unknown:
            raise ValidationError(_("unknown placeholder $%(name)s (use %(known)s)")
                                  % {"name": unknown[0], "known": ", ".join("$" + p for p in PLACEHOLDERS)},
                                  field=name)


@transaction.atomic
def update_template(*, user: User, template: DecisionTemplate, subject: str, body: str) -> DecisionTemplate:
    _require_secretariat(user)
    check_template(subject, body)
    template.subject, template.body = subject.strip(), body.strip() + "\n"
    template.save()
    return template


def _invite_member(application: Application, base_url: str) -> tuple[User, str]:
    """A member account for a selected applicant (or the existing account with that email), and its link."""
    from socialclusters.accounts.models import Role, User

    user = User.objects.filter(email__iexact=application.email).order_by("pk").first()
    if user is None:
        base = slugify(application.email.split("@")[0])[:100] or "member"
        username, n = base, 1
        while User.objects.filter(username=username).exists():
            n += 1
            username = f"{base}-{n}"
        first, _sep, last = application.name.partition(" ")
        user = User.objects.create_user(username=username, email=application.email, first_name=first[:150],
                                        last_name=last[:150], role=Role.MEMBER)
        user.set_unusable_password()
        user.save()
    elif user.role not in {Role.SECRETARIAT, Role.MEMBER}:
        user.role = Role.MEMBER
        user.save(update_fields=["role"])
    link = base_url.rstrip("/") + reverse("accounts:password_reset_confirm", kwargs={
        "uidb64": urlsafe_base64_encode(force_bytes(user.pk)), "token": default_token_generator.make_token(user)})
    return user, link


def send_decisions(*, user: User, call: Call, base_url: str, now: datetime.datetime | None = None) -> int:
    """Email every applicant the outcome (from the call's templates); invite the selected to the members' area.

    Applicants already told are skipped, so a failure half-way can be resumed. Returns how many were emailed.
    """
    _require_secretariat(user)
    decision = SelectionDecision.objects.filter(call=call).first()
    if decision is None:
        raise Conflict(_("Record the decision before sending it."))
    templates = {t.outcome: t for t in call.templates.all()}
    missing = [o for o in DEFAULT_TEMPLATES if o not in templates]
    if missing:
        raise ValidationError(_("the email for “%(outcome)s” is missing") % {"outcome": missing[0]}, field="templates")
    sent = 0
    members_url = base_url.rstrip("/") + reverse("workinggroup:members")
    pending = call.applications.filter(anonymised_at__isnull=True, notified_at__isnull=True).exclude(
        outcome=Outcome.PENDING)
    for application in pending:
        with transaction.atomic():
            invitation = ""
            if application.outcome == Outcome.SELECTED:
                member, invitation = _invite_member(application, base_url)
                application.member = member
            template = templates[application.outcome]
            values = {"name": application.name, "call": call.title,
                      "outcome": str(Outcome(application.outcome).label),
                      "reserve_rank": str(application.reserve_rank or ""), "members_url": members_url,
                      "invitation_url": invitation}
            send_mail(string.Template(template.subject).safe_substitute(values),
                      string.Template(template.body).safe_substitute(values), None, [application.email])
            application.notified_at = now or timezone.now()
            application.save(update_fields=["notified_at", "member", "updated_at"])
            sent += 1
    if not call.applications.filter(anonymised_at__isnull=True, notified_at__isnull=True).exclude(
            outcome=Outcome.PENDING).exists():
        decision.notified_at = now or timezone.now()
        decision.save(update_fields=["notified_at"])
    return sent


# --- privacy -----------------------------------------------------------------------------------------


def _anonymise(application: Application, now: datetime.datetime) -> None:
    if application.cv:
        application.cv.delete(save=False)
    application.name = _("Anonymised applicant")
    application.email = f"anonymised-{application.pk}@invalid"
    application.organisation_name = ""
    application.motivation = ""
    application.gender = ""
    application.languages = []
    application.edit_key = ""
    application.anonymised_at = now
    application.save()
    application.assignments.update(note="")


def anonymise_expired(*, now: datetime.datetime | None = None, dry_run: bool = False) -> list[Application]:
    """Anonymise the applications not selected whose call's retention period after the decision has passed.

    Members' applications are kept while the group runs; erasure requests are handled at once by
    :func:`request_erasure`."""
    now = now or timezone.now()
    due = []
    candidates = (Application.objects.filter(anonymised_at__isnull=True)
                  .exclude(outcome=Outcome.SELECTED).select_related("call", "call__decision"))
    for application in candidates:
        decision = getattr(application.call, "decision", None)
        expired = decision is not None and decision.decided_at + datetime.timedelta(
            days=application.call.retention_days) <= now
        if expired:
            due.append(application)
    if not dry_run:
        with transaction.atomic():
            for application in due:
                _anonymise(application, now)
    return due


@transaction.atomic
def request_erasure(*, application: Application, now: datetime.datetime | None = None) -> Application:
    """The applicant asks to erase their data: before the decision the application is withdrawn and anonymised
    at once; after it, non-selected applications are anonymised at once and a member's is kept until they leave."""
    now = now or timezone.now()
    application.erasure_requested_at = now
    application.save(update_fields=["erasure_requested_at", "updated_at"])
    if application.outcome != Outcome.SELECTED:
        _anonymise(application, now)
    return application


# --- meetings and webinars ---------------------------------------------------------------------------------


def is_group_member(user: Any, call: Call) -> bool:
    """The secretariat, or a selected applicant of this call who has a member account."""
    if getattr(user, "is_secretariat", False):
        return True
    return bool(getattr(user, "is_authenticated", False) and call.applications.filter(
        member=user, outcome=Outcome.SELECTED, anonymised_at__isnull=True).exists())


@dataclass(frozen=True)
class MeetingPlanFull:
    title: str
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    time_zone: str = "Europe/Brussels"
    format: str = MeetingFormat.PHYSICAL
    place: str = ""
    online_url: str = ""
    agenda: tuple[str, ...] = ()
    description: str = ""
    webinar: bool = False
    guests: tuple[str, ...] = ()


def _clean_guests(addresses: Iterable[str]) -> list[str]:
    guests: list[str] = []
    for raw in addresses:
        address = raw.strip().lower()
        if not address:
            continue
        try:
            validate_email(address)
        except DjangoValidationError:
            raise ValidationError(_("“%(address)s” is not an email address") % {"address": address},
                                  field="guests") from None
        if address not in guests:
            guests.append(address)
    return guests


def _clean_meeting(plan: MeetingPlanFull) -> dict[str, Any]:
    try:
        zone = zoneinfo.ZoneInfo(plan.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(_("not a time zone name such as Europe/Brussels"), field="time_zone") from None
    starts = plan.starts_at if timezone.is_aware(plan.starts_at) else timezone.make_aware(plan.starts_at, zone)
    ends = plan.ends_at if timezone.is_aware(plan.ends_at) else timezone.make_aware(plan.ends_at, zone)
    if ends <= starts:
        raise ValidationError(_("a meeting must end after it starts"), field="ends_at")
    if not plan.title.strip():
        raise ValidationError(_("this field is required"), field="title")
    if plan.format not in MeetingFormat.values:
        raise ValidationError(_("choose in person, online or hybrid"), field="format")
    if plan.format in {MeetingFormat.PHYSICAL, MeetingFormat.HYBRID} and not plan.place.strip():
        raise ValidationError(_("say where the meeting takes place"), field="place")
    if plan.format in {MeetingFormat.ONLINE, MeetingFormat.HYBRID}:
        if not plan.online_url.strip():
            raise ValidationError(_("give the link to join online"), field="online_url")
        try:
            URLValidator(schemes=["https", "http"])(plan.online_url)
        except DjangoValidationError:
            raise ValidationError(_("the online link must be a web address"), field="online_url") from None
    guests = _clean_guests(plan.guests)
    if guests and not plan.webinar:
        raise ValidationError(_("only webinars take invited guests"), field="guests")
    return {"title": plan.title.strip(), "starts_at": starts, "ends_at": ends, "time_zone": plan.time_zone,
            "format": plan.format, "place": plan.place.strip(), "online_url": plan.online_url.strip(),
            "agenda": [item.strip() for item in plan.agenda if item.strip()], "description": plan.description.strip(),
            "webinar": plan.webinar, "guests": guests}


def _invite_guests(meeting: Meeting, guests: Iterable[str]) -> None:
    """Email each new guest of a webinar its details, with the event as an iCalendar attachment."""
    guests = list(guests)
    if not guests:
        return
    subject = _("Invitation: %(title)s") % {"title": meeting.title}
    ics = calendar([meeting], name=meeting.title, with_links=True)
    for guest in guests:
        message = EmailMessage(subject, _reminder_body(meeting, guest, invitation=True), None, [guest])
        message.attach("invitation.ics", ics, "text/calendar")
        message.send()


@transaction.atomic
def create_meeting(*, user: User, call: Call, plan: MeetingPlanFull) -> Meeting:
    """Plan a meeting; a webinar's guests are invited by email at once."""
    _require_secretariat(user)
    meeting = Meeting.objects.create(call=call, **_clean_meeting(plan))
    _invite_guests(meeting, meeting.guests)
    return meeting


@transaction.atomic
def update_meeting(*, user: User, meeting: Meeting, plan: MeetingPlanFull) -> Meeting:
    """Change a meeting; guests added to a webinar are invited (those already invited are not written to again)."""
    _require_secretariat(user)
    before = set(meeting.guests)
    for name, value in _clean_meeting(plan).items():
        setattr(meeting, name, value)
    meeting.save()
    _invite_guests(meeting, [g for g in meeting.guests if g not in before])
    return meeting


@transaction.atomic
def register(*, user: User, meeting: Meeting, now: datetime.datetime | None = None) -> Registration:
    """A member registers for a meeting of their group that has not started."""
    if not is_group_member(user, meeting.call):
        raise PermissionDenied(_("Only the group's members can register."))
    if meeting.starts_at <= (now or timezone.now()):
        raise Conflict(_("This meeting has started: registration is closed."))
    registration, _new = Registration.objects.get_or_create(meeting=meeting, user=user)
    return registration


@transaction.atomic
def unregister(*, user: User, meeting: Meeting, now: datetime.datetime | None = None) -> None:
    if meeting.starts_at <= (now or timezone.now()):
        raise Conflict(_("This meeting has started: registrations stay on record."))
    Registration.objects.filter(meeting=meeting, user=user).delete()


@transaction.atomic
def record_attendance(*, user: User, meeting: Meeting, present: Iterable[int],
                      now: datetime.datetime | None = None) -> int:
    """The secretariat records who attended (registered members by id; the others are marked absent)."""
    _require_secretariat(user)
    if meeting.starts_at > (now or timezone.now()):
        raise Conflict(_("Attendance is recorded once the meeting has started."))
    present_ids = set(present)
    registered = set(meeting.registrations.values_list("user_id", flat=True))
    unknown = present_ids - registered
    if unknown:
        raise ValidationError(_("only registered members can be marked present"), field="present")
    meeting.registrations.update(attended=False)
    return meeting.registrations.filter(user_id__in=present_ids).update(attended=True)


def _when(meeting: Meeting) -> str:
    start, end = meeting.local_start, meeting.local_end
    day = start.strftime("%A %d %B %Y, %H:%M")
    until = end.strftime("%H:%M") if end.date() == start.date() else end.strftime("%A %d %B %Y, %H:%M")
    return f"{day}–{until} ({meeting.time_zone})"


def _reminder_body(meeting: Meeting, name: str, *, invitation: bool = False) -> str:
    values = {"title": meeting.title, "when": _when(meeting)}
    intro = (_("You are invited to the webinar “%(title)s” on %(when)s.") if invitation
             else _("A reminder: “%(title)s” takes place on %(when)s.")) % values
    lines = [_("Dear %(name)s,") % {"name": name}, "", intro]
    if meeting.place:
        lines.append(_("Place: %(place)s") % {"place": meeting.place})
    if meeting.online_url:
        lines.append(_("Join online: %(url)s") % {"url": meeting.online_url})
    if meeting.agenda:
        lines += ["", _("Agenda:"), *(f"{n}. {item}" for n, item in enumerate(meeting.agenda, 1))]
    return "\n".join(lines) + "\n"


def send_reminders(*, within: datetime.timedelta = datetime.timedelta(days=2),
                   now: datetime.datetime | None = None) -> int:
    """Email registered members (and a webinar's guests) about meetings starting within ``within``, once each."""
    now = now or timezone.now()
    sent = 0
    upcoming = Meeting.objects.filter(starts_at__gt=now, starts_at__lte=now + within).select_related("call")
    for meeting in upcoming:
        subject = _("Reminder: %(title)s") % {"title": meeting.title}
        for registration in meeting.registrations.filter(reminded_at__isnull=True).select_related("user"):
            with transaction.atomic():
                person = registration.user
                send_mail(subject, _reminder_body(meeting, person.get_full_name() or person.get_username()), None,
                          [person.email])
                registration.reminded_at = now
                registration.save(update_fields=["reminded_at"])
                sent += 1
        if meeting.webinar and meeting.guests and meeting.guests_reminded_at is None:
            with transaction.atomic():
                for guest in meeting.guests:
                    send_mail(subject, _reminder_body(meeting, guest), None, [guest])
                    sent += 1
                meeting.guests_reminded_at = now
                meeting.save(update_fields=["guests_reminded_at"])
    return sent


CALENDAR_SALT = "socialclusters.workinggroup.calendar"


def _password_stamp(user: User) -> str:
    # Changes with the password, reveals nothing about it (the token's payload is signed, not encrypted).
    return salted_hmac(CALENDAR_SALT, user.password).hexdigest()[:16]


def calendar_token(user: User) -> str:
    """The secret of a member's personal calendar feed (calendar programs cannot sign in)."""
    return signing.dumps({"u": user.pk, "p": _password_stamp(user)}, salt=CALENDAR_SALT)


def user_from_calendar_token(token: str) -> User:
    from socialclusters.accounts.models import User

    try:
        data = signing.loads(token, salt=CALENDAR_SALT)
    except signing.BadSignature:
        raise NotFound(_("This calendar link is not valid.")) from None
    user = User.objects.filter(pk=data.get("u"), is_active=True).first()
    # A new password revokes old links.
    if user is None or not constant_time_compare(_password_stamp(user), str(data.get("p"))):
        raise NotFound(_("This calendar link is not valid."))
    return user


def calendar(meetings: Iterable[Meeting], *, name: str, with_links: bool) -> bytes:
    """An iCalendar file of the meetings; the same meetings always give the same bytes."""
    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", "-//socialclusters//working group//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    for meeting in meetings:
        event = Event()
        event.add("uid", f"{meeting.uid}@socialclusters")
        event.add("dtstamp", meeting.updated_at.astimezone(datetime.UTC))
        event.add("dtstart", meeting.starts_at.astimezone(datetime.UTC))
        event.add("dtend", meeting.ends_at.astimezone(datetime.UTC))
        event.add("summary", f"{meeting.title}{' (webinar)' if meeting.webinar else ''}")
        if meeting.place:
            event.add("location", meeting.place)
        description = "\n".join(f"{n}. {item}" for n, item in enumerate(meeting.agenda, 1))
        if with_links and meeting.online_url:
            event.add("url", meeting.online_url)
            description = f"{description}\n\n{meeting.online_url}".strip()
        if description:
            event.add("description", description)
        cal.add_component(event)
    return cal.to_ical()


# --- minutes, action items, work plan ---------------------------------------------------------------------


def _require_group_member(user: User, call: Call) -> None:
    if not is_group_member(user, call):
        raise PermissionDenied(_("Only the group's members and the secretariat can do this."))


@transaction.atomic
def add_minutes_version(*, user: User, meeting: Meeting, text: str, note: str = "") -> MinutesVersion:
    """A member (or the secretariat) saves a new version of a meeting's minutes, until they are approved."""
    _require_group_member(user, meeting.call)
    if meeting.starts_at > timezone.now():
        raise Conflict(_("Minutes are written once the meeting has started."))
    if not text.strip():
        raise ValidationError(_("the minutes are empty"), field="text")
    minutes, _new = Minutes.objects.select_for_update().get_or_create(meeting=meeting)
    if minutes.status == MinutesStatus.APPROVED:
        raise Conflict(_("These minutes are approved: they can no longer change."))
    current = minutes.current
    if current is not None and current.text == text.strip():
        raise ValidationError(_("nothing changed since version %(n)d") % {"n": current.number}, field="text")
    return MinutesVersion.objects.create(minutes=minutes, number=(current.number + 1) if current else 1,
                                         text=text.strip(), note=note.strip(), author=user)


@transaction.atomic
def approve_minutes(*, user: User, meeting: Meeting, now: datetime.datetime | None = None) -> Minutes:
    _require_secretariat(user)
    minutes = Minutes.objects.select_for_update().filter(meeting=meeting).first()
    if minutes is None or minutes.current is None:
        raise Conflict(_("There are no minutes to approve yet."))
    if minutes.status == MinutesStatus.APPROVED:
        raise Conflict(_("These minutes are already approved."))
    minutes.status, minutes.approved_by, minutes.approved_at = MinutesStatus.APPROVED, user, now or timezone.now()
    minutes.save()
    return minutes


@transaction.atomic
def add_action_item(*, user: User, meeting: Meeting, title: str, owner: User | None = None,
                    due_date: datetime.date | None = None) -> ActionItem:
    _require_group_member(user, meeting.call)
    if not title.strip():
        raise ValidationError(_("say what has to be done"), field="title")
    if owner is not None and not is_group_member(owner, meeting.call):
        raise ValidationError(_("the owner must be a member of the group or the secretariat"), field="owner")
    return ActionItem.objects.create(call=meeting.call, meeting=meeting, title=title.strip(), owner=owner,
                                     due_date=due_date)


@transaction.atomic
def complete_action_item(*, user: User, item: ActionItem, now: datetime.datetime | None = None) -> ActionItem:
    """The owner or the secretariat marks an action item done."""
    item = ActionItem.objects.select_for_update().get(pk=item.pk)
    if not (user.is_secretariat or item.owner_id == user.pk):
        raise PermissionDenied(_("Only the owner or the secretariat can close this action."))
    if item.done_at is not None:
        raise Conflict(_("This action is already done."))
    item.done_at = now or timezone.now()
    item.save(update_fields=["done_at"])
    return item


@transaction.atomic
def set_milestone_status(*, user: User, milestone: Milestone, status: str, note: str | None = None) -> Milestone:
    _require_secretariat(user)
    if status not in MilestoneStatus.values:
        raise ValidationError(_("choose planned, in progress or done"), field="status")
    milestone.status = status
    if note is not None:
        milestone.note = note.strip()
    milestone.save()
    return milestone


@transaction.atomic
def add_milestone(*, user: User, call: Call, title: str, kind: str, due_date: datetime.date) -> Milestone:
    _require_secretariat(user)
    if not title.strip():
        raise ValidationError(_("this field is required"), field="title")
    if kind not in MilestoneKind.values:
        raise ValidationError(_("choose a kind of milestone"), field="kind")
    return Milestone.objects.create(call=call, title=title.strip(), kind=kind, due_date=due_date)


@transaction.atomic
def open_poll(*, user: User, meeting: Meeting, question: str, options: Sequence[str]) -> Poll:
    """A member or the secretariat asks the group a quick question (2 to 10 options)."""
    _require_group_member(user, meeting.call)
    if not question.strip():
        raise ValidationError(_("ask a question"), field="question")
    cleaned = list(dict.fromkeys(o.strip() for o in options if o.strip()))
    if not 2 <= len(cleaned) <= 10:
        raise ValidationError(_("give from 2 to 10 different options"), field="options")
    return Poll.objects.create(meeting=meeting, question=question.strip(), options=cleaned, created_by=user)


@transaction.atomic
def vote(*, user: User, poll: Poll, option: int) -> Vote:
    """One vote per member; voting again changes the vote while the poll is open."""
    poll = Poll.objects.select_for_update().select_related("meeting__call").get(pk=poll.pk)
    _require_group_member(user, poll.meeting.call)
    if poll.closed_at is not None:
        raise Conflict(_("This poll is closed."))
    if not 0 <= option < len(poll.options):
        raise ValidationError(_("choose one of the options"), field="option")
    ballot, _new = Vote.objects.update_or_create(poll=poll, user=user, defaults={"option": option})
    return ballot


@transaction.atomic
def close_poll(*, user: User, poll: Poll, now: datetime.datetime | None = None) -> Poll:
    poll = Poll.objects.select_for_update().get(pk=poll.pk)
    if not (user.is_secretariat or poll.created_by_id == user.pk):
        raise PermissionDenied(_("Only the poll's author or the secretariat can close it."))
    if poll.closed_at is not None:
        raise Conflict(_("This poll is already closed."))
    poll.closed_at = now or timezone.now()
    poll.save(update_fields=["closed_at"])
    return poll


# --- written contributions ------------------------------------------------------------------------------


def _editable(contribution: Contribution) -> None:
    if contribution.status in {ContributionStatus.SUBMITTED, ContributionStatus.VALIDATED}:
        raise Conflict(_("This contribution is %(status)s: it can no longer change.")
                       % {"status": contribution.get_status_display().lower()})


def _check_themes(call: Call, themes: Iterable[Theme]) -> list[Theme]:
    chosen = list(themes)
    if any(t.call_id != call.pk for t in chosen):
        raise ValidationError(_("a theme belongs to another group"), field="themes")
    return chosen


@transaction.atomic
def create_contribution(*, user: User, call: Call, title: str, text: str,
                        themes: Iterable[Theme] = ()) -> Contribution:
    _require_group_member(user, call)
    if not title.strip():
        raise ValidationError(_("give the contribution a title"), field="title")
    if not text.strip():
        raise ValidationError(_("the text is empty"), field="text")
    contribution = Contribution.objects.create(call=call, title=title.strip())
    contribution.themes.set(_check_themes(call, themes))
    contribution.authors.add(user)
    ContributionVersion.objects.create(contribution=contribution, number=1, text=text.strip(), author=user,
                                       note=_("first draft"))
    return contribution


@transaction.atomic
def revise_contribution(*, user: User, contribution: Contribution, text: str, note: str = "",
                        title: str | None = None, themes: Iterable[Theme] | None = None) -> ContributionVersion:
    """Any member of the group may revise a draft (or a returned one); they join its authors."""
    contribution = Contribution.objects.select_for_update().get(pk=contribution.pk)
    _require_group_member(user, contribution.call)
    _editable(contribution)
    current = contribution.current
    if title is not None:
        if not title.strip():
            raise ValidationError(_("give the contribution a title"), field="title")
        contribution.title = title.strip()
    if themes is not None:
        contribution.themes.set(_check_themes(contribution.call, themes))
    if not text.strip():
        raise ValidationError(_("the text is empty"), field="text")
    if current is not None and current.text == text.strip() and title is None:
        raise ValidationError(_("nothing changed since version %(n)d") % {"n": current.number}, field="text")
    if contribution.status == ContributionStatus.RETURNED:
        contribution.status = ContributionStatus.DRAFT
    contribution.save()
    contribution.authors.add(user)
    return ContributionVersion.objects.create(contribution=contribution, number=(current.number + 1) if current else 1,
                                              text=text.strip(), note=note.strip(), author=user)


@transaction.atomic
def comment_contribution(*, user: User, contribution: Contribution, text: str) -> ContributionComment:
    _require_group_member(user, contribution.call)
    if not text.strip():
        raise ValidationError(_("the comment is empty"), field="text")
    return ContributionComment.objects.create(contribution=contribution, author=user, text=text.strip())


@transaction.atomic
def submit_contribution(*, user: User, contribution: Contribution,
                        now: datetime.datetime | None = None) -> Contribution:
    contribution = Contribution.objects.select_for_update().get(pk=contribution.pk)
    if not (user.is_secretariat or contribution.authors.filter(pk=user.pk).exists()):
        raise PermissionDenied(_("Only its authors can submit a contribution."))
    _editable(contribution)
    contribution.status, contribution.submitted_at = ContributionStatus.SUBMITTED, now or timezone.now()
    contribution.save()
    recipients = list(_secretariat_emails())
    if recipients:
        send_mail(_("Contribution to validate: %(title)s") % {"title": contribution.title},
                  _("“%(title)s” was submitted for validation.") % {"title": contribution.title}, None, recipients)
    return contribution


def _secretariat_emails() -> Iterable[str]:
    from socialclusters.accounts.models import Role, User

    return User.objects.filter(role=Role.SECRETARIAT, is_active=True).exclude(email="").values_list(
        "email", flat=True)


def _tell_authors(contribution: Contribution, subject: str, body: str) -> None:
    emails = [a.email for a in contribution.authors.all() if a.email]
    if emails:
        send_mail(subject, body, None, emails)


@transaction.atomic
def validate_contribution(*, user: User, contribution: Contribution, base_url: str,
                          now: datetime.datetime | None = None) -> Contribution:
    _require_secretariat(user)
    contribution = Contribution.objects.select_for_update().get(pk=contribution.pk)
    if contribution.status != ContributionStatus.SUBMITTED:
        raise Conflict(_("Only a submitted contribution can be validated."))
    contribution.status = ContributionStatus.VALIDATED
    contribution.validated_at, contribution.validated_by = now or timezone.now(), user
    contribution.save()
    _tell_authors(contribution, _("Your contribution is validated: %(title)s") % {"title": contribution.title},
                  _("“%(title)s” is validated and can now be cited: %(url)s")
                  % {"title": contribution.title, "url": base_url.rstrip("/") + contribution.get_absolute_url()})
    return contribution


@transaction.atomic
def return_contribution(*, user: User, contribution: Contribution, comment: str) -> Contribution:
    _require_secretariat(user)
    contribution = Contribution.objects.select_for_update().get(pk=contribution.pk)
    if contribution.status != ContributionStatus.SUBMITTED:
        raise Conflict(_("Only a submitted contribution can be returned."))
    if not comment.strip():
        raise ValidationError(_("say what should change"), field="comment")
    contribution.status = ContributionStatus.RETURNED
    contribution.save()
    ContributionComment.objects.create(contribution=contribution, author=user, text=comment.strip(), returned=True)
    _tell_authors(contribution, _("Your contribution is returned: %(title)s") % {"title": contribution.title},
                  comment.strip())
    return contribution


@transaction.atomic
def record_continuation(*, user: User, call: Call, decision: str, decided_on: datetime.date,
                        reasons: str) -> ContinuationDecision:
    """Record (once) whether the group continues, when that was decided and why."""
    _require_secretariat(user)
    if decision not in Continuation.values:
        raise ValidationError(_("choose continue, continue with changes or end"), field="decision")
    if not reasons.strip():
        raise ValidationError(_("give the reasons of the decision"), field="reasons")
    if ContinuationDecision.objects.filter(call=call).exists():
        raise Conflict(_("The decision on continuation is already recorded."))
    if not SelectionDecision.objects.filter(call=call).exists():
        raise Conflict(_("The group is not constituted yet: record the selection first."))
    return ContinuationDecision.objects.create(call=call, decision=decision, decided_on=decided_on,
                                               reasons=reasons.strip(), decided_by=user)
