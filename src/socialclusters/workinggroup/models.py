"""Models of the working group: the call for expressions of interest, applications, their review, the
selection of members and the decisions sent to every applicant.

Applicants have no account: each application carries a random ``edit_key`` that goes, signed, into the
private edit link emailed to the applicant (``services.edit_token``). Personal data (name, email, CV,
gender, motivation) lives on ``Application`` only, so that anonymising one row removes it.
"""

from __future__ import annotations

import secrets
import uuid
import zoneinfo
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from socialclusters.tasks import QueuedWork, TaskState


class StakeholderType(models.TextChoices):
    SOCIAL_ECONOMY = "social_economy", _("Social economy organisation or network")
    CLUSTER_ORGANISATION = "cluster_organisation", _("Cluster organisation")
    TRADITIONAL_ENTERPRISE = "traditional_enterprise", _("Traditional enterprise")
    PUBLIC_AUTHORITY = "public_authority", _("Public authority")
    RESEARCH = "research", _("Research")
    OTHER = "other", _("Other")


class Gender(models.TextChoices):
    WOMAN = "woman", _("Woman")
    MAN = "man", _("Man")
    ANOTHER = "another", _("Another gender")


class Outcome(models.TextChoices):
    PENDING = "", _("Not decided yet")
    SELECTED = "selected", _("Selected")
    RESERVE = "reserve", _("Reserve list")
    NOT_SELECTED = "not_selected", _("Not selected")


class Lock(models.TextChoices):
    NONE = "", _("Free")
    IN = "in", _("Locked in")
    OUT = "out", _("Locked out")


def default_rubric() -> list[dict[str, Any]]:
    return [
        {"key": "expertise", "label": "Relevant expertise", "max": 5},
        {"key": "motivation", "label": "Motivation and commitment", "max": 5},
        {"key": "contribution", "label": "Expected contribution to the group's questions", "max": 5},
    ]


class Call(models.Model):
    """A call for motivated expressions of interest, with its deadline in a named time zone."""

    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("address name"), max_length=80, unique=True)
    description = models.TextField(_("description"))
    eligibility = models.TextField(_("eligibility"))
    deadline = models.DateTimeField(_("deadline"))
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Brussels")
    seats_min = models.PositiveSmallIntegerField(_("fewest seats"), default=15)
    seats_max = models.PositiveSmallIntegerField(_("most seats"), default=20)
    expertise_areas = models.JSONField(_("expertise areas"), default=list)
    required_areas = models.JSONField(_("required expertise areas"), default=list, blank=True)
    stakeholder_types = models.JSONField(_("stakeholder types wanted"), default=list, blank=True)
    languages = models.JSONField(_("working languages"), default=list, blank=True)
    max_per_country = models.PositiveSmallIntegerField(_("most members per country"), null=True, blank=True,
                                                       default=2)
    privacy_notice = models.TextField(_("privacy notice"))
    motivation_min_length = models.PositiveIntegerField(_("shortest motivation (characters)"), default=300)
    cv_max_bytes = models.PositiveIntegerField(_("largest CV (bytes)"), default=2 * 1024 * 1024)
    retention_days = models.PositiveIntegerField(
        _("retention (days)"), default=365,
        help_text=_("Applications not selected are anonymised this many days after the decision."))
    rubric = models.JSONField(_("review rubric"), default=default_rubric)
    published = models.BooleanField(_("published"), default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-deadline"]
        verbose_name = _("call")
        constraints = [
            models.CheckConstraint(condition=models.Q(seats_min__lte=models.F("seats_max")),
                                   name="workinggroup_call_seat_range"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def local_deadline(self) -> Any:
        return self.deadline.astimezone(self.zone)

    def is_open(self, now: Any = None) -> bool:
        return (now or timezone.now()) <= self.deadline

    @property
    def rubric_max(self) -> int:
        return sum(int(item["max"]) for item in self.rubric)


class PlannedMeeting(models.Model):
    """A meeting date announced in the call, so that applicants can say whether they can attend."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="planned_meetings")
    title = models.CharField(_("title"), max_length=200)
    date = models.DateField(_("date"))
    end_date = models.DateField(_("last day"), null=True, blank=True)
    place = models.CharField(_("place"), max_length=200, blank=True)
    constitutive = models.BooleanField(_("constitutive meeting"), default=False)

    class Meta:
        ordering = ["date", "pk"]
        verbose_name = _("planned meeting")

    def __str__(self) -> str:
        return f"{self.title} ({self.date.isoformat()})"


def cv_path(instance: Application, filename: str) -> str:
    # A random name: the applicant's file name can carry personal data and is not needed.
    return f"workinggroup/cv/{instance.call_id}/{secrets.token_hex(16)}.pdf"


def new_edit_key() -> str:
    return secrets.token_urlsafe(24)


class Application(models.Model):
    """One person's expression of interest in one call."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="applications")
    name = models.CharField(_("full name"), max_length=200)
    email = models.EmailField(_("email"))
    organisation_name = models.CharField(_("organisation"), max_length=300)
    organisation = models.ForeignKey("registry.Organisation", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="working_group_applications")
    country = models.ForeignKey("registry.Country", null=True, on_delete=models.PROTECT, related_name="+")
    stakeholder_type = models.CharField(_("stakeholder type"), max_length=30, choices=StakeholderType.choices)
    expertise_areas = models.JSONField(_("expertise areas"), default=list)
    languages = models.JSONField(_("languages"), default=list)
    available_meetings = models.ManyToManyField(PlannedMeeting, blank=True, related_name="available_applicants")
    motivation = models.TextField(_("motivation"))
    cv = models.FileField(_("CV (PDF)"), upload_to=cv_path, blank=True)
    gender = models.CharField(_("gender"), max_length=10, choices=Gender.choices, blank=True)
    consent = models.BooleanField(_("consent to the privacy notice"), default=False)
    consented_at = models.DateTimeField(null=True, blank=True)
    edit_key = models.CharField(max_length=64, default=new_edit_key, editable=False)
    submitted_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    lock = models.CharField(_("lock"), max_length=3, choices=Lock.choices, blank=True, default=Lock.NONE)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True,
                               default=Outcome.PENDING)
    reserve_rank = models.PositiveSmallIntegerField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    member = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="working_group_applications")
    anonymised_at = models.DateTimeField(null=True, blank=True)
    erasure_requested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["submitted_at", "pk"]
        verbose_name = _("application")
        constraints = [
            # One application per person and call: a second attempt gets the edit link of the first.
            models.UniqueConstraint(fields=["call", "email"], condition=models.Q(anonymised_at__isnull=True),
                                    name="workinggroup_one_application_per_email"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.call})"


class ReviewerAssignment(models.Model):
    """A reviewer asked to score one application; conflicts of interest are declared here."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="assignments")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                 related_name="review_assignments")
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                    related_name="+")
    assigned_at = models.DateTimeField(auto_now_add=True)
    conflict_of_interest = models.BooleanField(_("conflict of interest"), default=False)
    conflict_note = models.TextField(_("conflict of interest: explanation"), blank=True)
    scores = models.JSONField(_("scores"), default=dict, blank=True)
    note = models.TextField(_("note"), blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["application__submitted_at", "pk"]
        verbose_name = _("reviewer assignment")
        constraints = [
            models.UniqueConstraint(fields=["application", "reviewer"], name="workinggroup_one_assignment"),
        ]

    def __str__(self) -> str:
        return f"{self.reviewer} → {self.application}"

    @property
    def total(self) -> int | None:
        return sum(int(v) for v in self.scores.values()) if self.reviewed_at else None


class SelectionRun(QueuedWork):
    """One run of the selection: the rules it was given and what it proposed (``analysis.selection``).

    It runs as a task (``workinggroup.tasks``) and has the state, progress and error of any queued work
    (``socialclusters.tasks.QueuedWork``); ``status`` is the solver's verdict once done (optimal, feasible,
    infeasible). ``state`` defaults to done because runs were computed inside the request before they were queued.
    """

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="selection_runs")
    parameters = models.JSONField(default=dict)
    result = models.JSONField(default=dict)
    status = models.CharField(max_length=20, blank=True)
    state = models.CharField(max_length=10, choices=TaskState.choices, default=TaskState.DONE)

    class Meta(QueuedWork.Meta):
        verbose_name = _("selection run")

    def __str__(self) -> str:
        return f"{self.call} run {self.pk} ({self.status or self.state})"


class SelectionDecision(models.Model):
    """The secretariat's final decision on a call, made from one run, with its rationale."""

    call = models.OneToOneField(Call, on_delete=models.CASCADE, related_name="decision")
    run = models.ForeignKey(SelectionRun, on_delete=models.PROTECT, related_name="+")
    rationale = models.TextField(_("rationale"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_at = models.DateTimeField(default=timezone.now)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("selection decision")

    def __str__(self) -> str:
        return f"{self.call}: decided {self.decided_at:%Y-%m-%d}"


class DecisionTemplate(models.Model):
    """The email each applicant gets for an outcome; placeholders use ``$name`` syntax (string.Template)."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="templates")
    outcome = models.CharField(max_length=20, choices=[c for c in Outcome.choices if c[0]])
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"))

    class Meta:
        ordering = ["call", "outcome"]
        verbose_name = _("decision email template")
        constraints = [models.UniqueConstraint(fields=["call", "outcome"], name="workinggroup_one_template")]

    def __str__(self) -> str:
        return f"{self.call}: {self.get_outcome_display()}"


# --- meetings and webinars ---------------------------------------------------------------------------------


class MeetingFormat(models.TextChoices):
    PHYSICAL = "physical", _("In person")
    ONLINE = "online", _("Online")
    HYBRID = "hybrid", _("Hybrid")


class Meeting(models.Model):
    """A meeting or webinar of the group constituted by a call. Webinars may invite guests by email."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="meetings")
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=200)
    webinar = models.BooleanField(_("webinar"), default=False)
    format = models.CharField(_("format"), max_length=10, choices=MeetingFormat.choices, default=MeetingFormat.PHYSICAL)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Brussels")
    place = models.CharField(_("place"), max_length=300, blank=True)
    online_url = models.URLField(_("online link"), blank=True)
    agenda = models.JSONField(_("agenda items"), default=list, blank=True)
    description = models.TextField(_("description"), blank=True)
    guests = models.JSONField(_("invited guests (emails)"), default=list, blank=True)
    guests_reminded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at", "pk"]
        verbose_name = _("meeting")
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")),
                                   name="workinggroup_meeting_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.starts_at:%Y-%m-%d})"

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def local_start(self) -> Any:
        return self.starts_at.astimezone(self.zone)

    @property
    def local_end(self) -> Any:
        return self.ends_at.astimezone(self.zone)


def document_path(instance: MeetingDocument, filename: str) -> str:
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"workinggroup/meetings/{instance.meeting_id}/{secrets.token_hex(8)}.{suffix[:8]}"


class MeetingDocument(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="documents")
    title = models.CharField(_("title"), max_length=200)
    file = models.FileField(_("file"), upload_to=document_path)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "pk"]
        verbose_name = _("meeting document")

    def __str__(self) -> str:
        return self.title


class Registration(models.Model):
    """A member's registration to a meeting, and whether they attended (recorded by the secretariat)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="registrations")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="meeting_registrations")
    registered_at = models.DateTimeField(auto_now_add=True)
    attended = models.BooleanField(_("attended"), null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["meeting", "user__username"]
        verbose_name = _("registration")
        constraints = [models.UniqueConstraint(fields=["meeting", "user"], name="workinggroup_one_registration")]

    def __str__(self) -> str:
        return f"{self.user} → {self.meeting}"


# --- minutes, action items, work plan ---------------------------------------------------------------------


class MinutesStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    APPROVED = "approved", _("Approved")


class Minutes(models.Model):
    """The minutes of a meeting: versions drafted by members, approved by the secretariat (then frozen)."""

    meeting = models.OneToOneField(Meeting, on_delete=models.CASCADE, related_name="minutes")
    status = models.CharField(max_length=10, choices=MinutesStatus.choices, default=MinutesStatus.DRAFT)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("minutes")
        verbose_name_plural = _("minutes")

    def __str__(self) -> str:
        return f"Minutes of {self.meeting}"

    @property
    def current(self) -> MinutesVersion | None:
        return self.versions.order_by("-number").first()


class MinutesVersion(models.Model):
    minutes = models.ForeignKey(Minutes, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    text = models.TextField(_("text"))
    note = models.CharField(_("what changed"), max_length=300, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["minutes", "number"]
        verbose_name = _("minutes version")
        constraints = [models.UniqueConstraint(fields=["minutes", "number"], name="workinggroup_minutes_version")]

    def __str__(self) -> str:
        return f"{self.minutes} v{self.number}"


class ActionItem(models.Model):
    """Something a member agreed to do at a meeting; it stays on every later meeting's page until done."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="action_items")
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="action_items")
    title = models.CharField(_("action"), max_length=300)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="action_items")
    due_date = models.DateField(_("due"), null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_date", "pk"]
        verbose_name = _("action item")

    def __str__(self) -> str:
        return self.title


class MilestoneKind(models.TextChoices):
    CONSTITUTIVE = "constitutive", _("Constitutive meeting")
    WORKSHOP = "workshop", _("Workshop")
    PLENARY_REPORT = "plenary_report", _("Progress report to the plenary")
    CONTINUATION = "continuation", _("Decision on continuation")
    OTHER = "other", _("Other")


class MilestoneStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")


class Milestone(models.Model):
    """A step of the group's work plan, on its timeline."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=MilestoneKind.choices, default=MilestoneKind.OTHER)
    due_date = models.DateField(_("due"))
    status = models.CharField(_("status"), max_length=20, choices=MilestoneStatus.choices,
                              default=MilestoneStatus.PLANNED)
    note = models.TextField(_("note"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_date", "pk"]
        verbose_name = _("milestone")

    def __str__(self) -> str:
        return f"{self.title} ({self.due_date:%Y-%m-%d})"

    def is_late(self, today: Any = None) -> bool:
        return self.status != MilestoneStatus.DONE and self.due_date < (today or timezone.localdate())


class Poll(models.Model):
    """A quick poll during a meeting: one question, a few options, one vote per member, closed by its author."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="polls")
    question = models.CharField(_("question"), max_length=300)
    options = models.JSONField(_("options"), default=list)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("poll")

    def __str__(self) -> str:
        return self.question


class Vote(models.Model):
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="votes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    option = models.PositiveSmallIntegerField()
    voted_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("vote")
        constraints = [models.UniqueConstraint(fields=["poll", "user"], name="workinggroup_one_vote")]

    def __str__(self) -> str:
        return f"{self.user}: {self.option}"


# --- written contributions ------------------------------------------------------------------------------


class Theme(models.Model):
    """One of the group's questions or themes that contributions answer."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="themes")
    title = models.CharField(_("question or theme"), max_length=300)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["call", "pk"]
        verbose_name = _("theme")

    def __str__(self) -> str:
        return self.title


class ContributionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    RETURNED = "returned", _("Returned with comments")
    VALIDATED = "validated", _("Validated")


class Contribution(models.Model):
    """A written contribution drafted by members together; once validated, citable evidence at a stable URL."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="contributions")
    title = models.CharField(_("title"), max_length=300)
    themes = models.ManyToManyField(Theme, blank=True, related_name="contributions")
    authors = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="contributions")
    status = models.CharField(max_length=20, choices=ContributionStatus.choices, default=ContributionStatus.DRAFT)
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    validated_at = models.DateTimeField(null=True, blank=True)
    validated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")

    class Meta:
        ordering = ["-validated_at", "-created_at", "pk"]
        verbose_name = _("contribution")

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("workinggroup:contribution_detail", kwargs={"pk": self.pk})

    @property
    def current(self) -> ContributionVersion | None:
        return self.versions.order_by("-number").first()


class ContributionVersion(models.Model):
    contribution = models.ForeignKey(Contribution, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    text = models.TextField(_("text"))
    note = models.CharField(_("what changed"), max_length=300, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["contribution", "number"]
        verbose_name = _("contribution version")
        constraints = [models.UniqueConstraint(fields=["contribution", "number"],
                                               name="workinggroup_contribution_version")]

    def __str__(self) -> str:
        return f"{self.contribution} v{self.number}"


class ContributionComment(models.Model):
    contribution = models.ForeignKey(Contribution, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField(_("comment"))
    returned = models.BooleanField(default=False, help_text=_("The secretariat's reason for returning it."))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("comment")

    def __str__(self) -> str:
        return f"{self.author}: {self.text[:40]}"


class Continuation(models.TextChoices):
    CONTINUE = "continue", _("The group continues")
    CONTINUE_CHANGED = "continue_changed", _("The group continues with changes")
    END = "end", _("The group ends")


class ContinuationDecision(models.Model):
    """The decision on the group's continuation, with its date and reasons."""

    call = models.OneToOneField(Call, on_delete=models.CASCADE, related_name="continuation")
    decision = models.CharField(_("decision"), max_length=20, choices=Continuation.choices)
    decided_on = models.DateField(_("decided on"))
    reasons = models.TextField(_("reasons"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("continuation decision")

    def __str__(self) -> str:
        return f"{self.call}: {self.get_decision_display()} ({self.decided_on:%Y-%m-%d})"
