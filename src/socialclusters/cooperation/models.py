"""Models of cooperation and matchmaking: cooperation profiles (offers and requests), private procurement
opportunities, follows, expressions of interest and their answers, the inbox, contracts, the
secretariat's matchmaking settings, and organisations' opt-outs from suggestions.

Models hold only the invariants of one row; every write goes through ``services.py``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from socialclusters.registry.models import Cluster, Organisation, Region, Sector
from socialclusters.tasks import QueuedWork


class ProfileKind(models.TextChoices):
    OFFER = "offer", _("Offer")
    REQUEST = "request", _("Request")


class Seeking(models.TextChoices):
    PARTNERS = "partners", _("Partners")
    SUPPLIERS = "suppliers", _("Suppliers")
    BUYERS = "buyers", _("Buyers")
    INVESTORS = "investors", _("Investors")
    KNOWLEDGE = "knowledge", _("Knowledge")


class ProfileStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Waiting for the secretariat's review")
    PUBLISHED = "published", _("Published")
    RETURNED = "returned", _("Returned by the secretariat")
    WITHDRAWN = "withdrawn", _("Withdrawn")


LANGUAGES = (
    ("bg", _("Bulgarian")), ("cs", _("Czech")), ("da", _("Danish")), ("de", _("German")), ("el", _("Greek")),
    ("en", _("English")), ("es", _("Spanish")), ("et", _("Estonian")), ("fi", _("Finnish")), ("fr", _("French")),
    ("ga", _("Irish")), ("hr", _("Croatian")), ("hu", _("Hungarian")), ("it", _("Italian")),
    ("lt", _("Lithuanian")), ("lv", _("Latvian")), ("mt", _("Maltese")), ("nl", _("Dutch")), ("pl", _("Polish")),
    ("pt", _("Portuguese")), ("ro", _("Romanian")), ("sk", _("Slovak")), ("sl", _("Slovenian")),
    ("sv", _("Swedish")),
)


class CooperationProfile(models.Model):
    """What an organisation, or a cluster, offers or seeks. Published profiles expire and are renewed.

    A cluster's profile (``cluster`` set) is answered for by the cluster organisation that runs it
    (``organisation``), and only the cluster's managers (and the secretariat) manage it.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="cooperation_profiles",
                                     verbose_name=_("organisation"))
    cluster = models.ForeignKey(Cluster, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="cooperation_profiles", verbose_name=_("on behalf of the cluster"))
    kind = models.CharField(_("kind"), max_length=10, choices=ProfileKind.choices)
    seeking = models.JSONField(_("looking for"), default=list, blank=True)  # Seeking values
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"))
    sectors = models.ManyToManyField(Sector, blank=True, related_name="cooperation_profiles",
                                     verbose_name=_("sectors (NACE)"))
    regions = models.ManyToManyField(Region, blank=True, related_name="cooperation_profiles",
                                     verbose_name=_("regions"))
    languages = models.JSONField(_("working languages"), default=list, blank=True)
    cross_border = models.BooleanField(_("cross-border cooperation welcome"), default=False)
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=ProfileStatus.choices,
                              default=ProfileStatus.DRAFT, db_index=True)
    review_reason = models.TextField(_("reason for returning"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)
    renewed_at = models.DateTimeField(null=True, blank=True)
    # The expiry date its managers were last reminded of: one reminder per expiry date, again after renewal.
    reminded_for = models.DateField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-published_at", "-created_at"]
        verbose_name = _("cooperation profile")
        verbose_name_plural = _("cooperation profiles")

    def __str__(self) -> str:
        return self.title

    @property
    def seeking_labels(self) -> list[str]:
        return _labels(self.seeking, Seeking.choices)

    @property
    def language_labels(self) -> list[str]:
        return _labels(self.languages, LANGUAGES)


def _labels(values: list[str], choices: Any) -> list[str]:
    """Stored codes in the reader's words (codes no longer offered stay as they are)."""
    names = {code: str(label) for code, label in choices}
    return [names.get(value, value) for value in values or []]


class ValueBand(models.TextChoices):
    UNDER_10K = "lt10k", _("Under €10,000")
    FROM_10K = "10k-50k", _("€10,000 to €50,000")
    FROM_50K = "50k-250k", _("€50,000 to €250,000")
    FROM_250K = "250k-1m", _("€250,000 to €1 million")
    OVER_1M = "gt1m", _("Over €1 million")


# Lower and upper bounds (euros) of each band; the top band has no upper bound.
VALUE_BOUNDS: dict[str, tuple[int, int | None]] = {
    ValueBand.UNDER_10K: (0, 10_000),
    ValueBand.FROM_10K: (10_000, 50_000),
    ValueBand.FROM_50K: (50_000, 250_000),
    ValueBand.FROM_250K: (250_000, 1_000_000),
    ValueBand.OVER_1M: (1_000_000, None),
}


class SocialClause(models.TextChoices):
    WORK_INTEGRATION = "work_integration", _("Work integration of disadvantaged people")
    LOCAL_SOURCING = "local_sourcing", _("Local sourcing")
    FAIR_WAGES = "fair_wages", _("Fair wages and working conditions")
    ENVIRONMENT = "environment", _("Environmental criteria")
    SHELTERED = "sheltered", _("Reserved for sheltered workshops or social enterprises")


class OpportunityStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class ProcurementOpportunity(models.Model):
    """A private buyer's call for suppliers: what, where, when, value band, social clauses, how to answer."""

    buyer = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="procurement_opportunities",
                              verbose_name=_("buyer"))
    title = models.CharField(_("what is bought"), max_length=200)
    description = models.TextField(_("description"))
    sector = models.ForeignKey(Sector, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("sector (NACE)"))
    region = models.ForeignKey(Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("where"))
    starts_on = models.DateField(_("from"), null=True, blank=True)
    ends_on = models.DateField(_("until"), null=True, blank=True)
    deadline = models.DateField(_("answers by"))
    value_band = models.CharField(_("value band"), max_length=10, choices=ValueBand.choices)
    social_clauses = models.JSONField(_("social clauses"), default=list, blank=True)
    how_to_answer = models.TextField(_("how to answer"))
    languages = models.JSONField(_("working languages"), default=list, blank=True)
    cross_border = models.BooleanField(_("suppliers from other countries welcome"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=OpportunityStatus.choices,
                              default=OpportunityStatus.OPEN, db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # Edits and closures change what the matchmaker reads: its index is rebuilt when this moves.
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["deadline", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__isnull=True) | models.Q(starts_on__isnull=True)
                | models.Q(ends_on__gte=models.F("starts_on")),
                name="opportunity_ends_after_start",
            )
        ]
        verbose_name = _("procurement opportunity")
        verbose_name_plural = _("procurement opportunities")

    def __str__(self) -> str:
        return self.title

    @property
    def social_clause_labels(self) -> list[str]:
        return _labels(self.social_clauses, SocialClause.choices)

    @property
    def language_labels(self) -> list[str]:
        return _labels(self.languages, LANGUAGES)


class Follow(models.Model):
    """A user who follows a profile or an opportunity and is told of its changes."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cooperation_follows")
    profile = models.ForeignKey(CooperationProfile, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="follows")
    opportunity = models.ForeignKey(ProcurementOpportunity, null=True, blank=True, on_delete=models.CASCADE,
                                    related_name="follows")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "profile"], name="follow_profile_unique"),
            models.UniqueConstraint(fields=["user", "opportunity"], name="follow_opportunity_unique"),
            models.CheckConstraint(
                condition=(models.Q(profile__isnull=False) & models.Q(opportunity__isnull=True))
                | (models.Q(profile__isnull=True) & models.Q(opportunity__isnull=False)),
                name="follow_one_target",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} follows {self.profile or self.opportunity}"


class InterestStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for an answer")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")


class Interest(models.Model):
    """An organisation's expression of interest in a profile or opportunity, with a message, and the answer.

    Contact details of both sides are shown only once the owner has accepted: sending the interest is the
    sender's agreement, accepting it the owner's.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="interests_sent",
                                     verbose_name=_("on behalf of"))
    profile = models.ForeignKey(CooperationProfile, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="interests")
    opportunity = models.ForeignKey(ProcurementOpportunity, null=True, blank=True, on_delete=models.CASCADE,
                                    related_name="interests")
    message = models.TextField(_("message"))
    status = models.CharField(_("status"), max_length=10, choices=InterestStatus.choices,
                              default=InterestStatus.PENDING, db_index=True)
    answer = models.TextField(_("answer"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(profile__isnull=False) & models.Q(opportunity__isnull=True))
                | (models.Q(profile__isnull=True) & models.Q(opportunity__isnull=False)),
                name="interest_one_target",
            ),
        ]
        verbose_name = _("expression of interest")
        verbose_name_plural = _("expressions of interest")

    def __str__(self) -> str:
        return f"{self.organisation} → {self.target}"

    @property
    def target(self) -> CooperationProfile | ProcurementOpportunity:
        return self.profile or self.opportunity  # type: ignore[return-value]

    @property
    def owner_organisation(self) -> Organisation:
        return self.profile.organisation if self.profile else self.opportunity.buyer  # type: ignore[union-attr]


class InboxMessage(models.Model):
    """One step of a cooperation told to one person (also sent by email)."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="inbox")
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("message"))
    link = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read = models.BooleanField(_("read"), default=False)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.subject


class Contract(models.Model):
    """A contract between a buyer and a supplier, recorded so procurement volumes can be reported."""

    buyer = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="contracts_bought",
                              verbose_name=_("buyer"))
    supplier = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="contracts_supplied",
                                 verbose_name=_("supplier"))
    value_band = models.CharField(_("value band"), max_length=10, choices=ValueBand.choices)
    signed_on = models.DateField(_("date"))
    social_clauses_met = models.JSONField(_("social clauses met"), default=list, blank=True)
    sector = models.ForeignKey(Sector, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("sector (NACE)"))
    cluster = models.ForeignKey(Cluster, null=True, blank=True, on_delete=models.SET_NULL, related_name="contracts",
                                verbose_name=_("through the cluster"))
    interest = models.ForeignKey(Interest, null=True, blank=True, on_delete=models.SET_NULL, related_name="contracts")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-signed_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(buyer=models.F("supplier")), name="contract_two_parties"),
        ]
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")

    def __str__(self) -> str:
        return f"{self.buyer} ← {self.supplier} ({self.signed_on})"


class MatchingSettings(models.Model):
    """The secretariat's matchmaking weights and review rule: one row (pk 1)."""

    offer_answers_request = models.FloatField(_("an offer answers a request"), default=0.20)
    similar_activity = models.FloatField(_("similar activities"), default=0.05)
    sectors = models.FloatField(_("complementary or same sectors"), default=0.20)
    region = models.FloatField(_("same or neighbouring region"), default=0.30)
    cross_border = models.FloatField(_("cross-border wish"), default=0.05)
    pairing = models.FloatField(_("social economy and traditional enterprise pairing"), default=0.10)
    shared_cluster = models.FloatField(_("shared cluster"), default=0.05)
    language = models.FloatField(_("shared language"), default=0.05)
    review_before_publication = models.BooleanField(_("the secretariat reviews profiles before publication"),
                                                    default=False)
    profile_lifetime_days = models.PositiveIntegerField(_("days a published profile lasts before renewal"),
                                                        default=365)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    updated_at = models.DateTimeField(auto_now=True)
    # Every change of the weights or the review rule is kept, with who made it (page or API alike).
    history = HistoricalRecords(excluded_fields=["updated_at"])

    WEIGHT_FIELDS = ("offer_answers_request", "similar_activity", "sectors", "region", "cross_border", "pairing",
                     "shared_cluster", "language")

    class Meta:
        verbose_name = _("matchmaking settings")
        verbose_name_plural = _("matchmaking settings")

    def __str__(self) -> str:
        return str(_("matchmaking settings"))


class SuggestionOptOut(models.Model):
    """An organisation that asked never to be suggested (nor to get suggestions)."""

    organisation = models.OneToOneField(Organisation, on_delete=models.CASCADE, related_name="suggestion_opt_out")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.organisation} opted out"


# --- meetings at events -----------------------------------------------------------------------------------


class Event(models.Model):
    """A partnering event (such as a cluster conference) with one-to-one meetings in slots and at tables."""

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    venue = models.CharField(_("venue"), max_length=300)
    first_slot_at = models.DateTimeField(_("first meeting slot starts at"))
    slot_minutes = models.PositiveSmallIntegerField(_("minutes per slot"), default=20)
    slots = models.PositiveSmallIntegerField(_("number of slots"))
    tables = models.PositiveSmallIntegerField(_("number of tables"))
    organiser = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    cluster = models.ForeignKey(Cluster, null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    scheduled_at = models.DateTimeField(null=True, blank=True)
    schedule_status = models.CharField(max_length=10, blank=True)  # optimal or feasible
    schedule_gap = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-first_slot_at"]
        verbose_name = _("event")
        verbose_name_plural = _("events")

    def __str__(self) -> str:
        return self.title


class Participant(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="event_registrations")
    organisation = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", verbose_name=_("representing"))
    available_slots = models.JSONField(_("available slots"), default=list)  # slot numbers from 0
    registered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["event", "id"]
        constraints = [models.UniqueConstraint(fields=["event", "user"], name="participant_unique")]

    def __str__(self) -> str:
        return f"{self.user} at {self.event}"


class MeetingRequest(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="meeting_requests")
    requester = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="requests_sent")
    invitee = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="requests_received")
    message = models.CharField(_("message"), max_length=500, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=InterestStatus.choices,
                              default=InterestStatus.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["event", "id"]
        constraints = [
            models.UniqueConstraint(fields=["requester", "invitee"], name="meeting_request_unique"),
            models.CheckConstraint(condition=~models.Q(requester=models.F("invitee")), name="meeting_two_people"),
        ]

    def __str__(self) -> str:
        return f"{self.requester} → {self.invitee}"


class ScheduledMeeting(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="scheduled_meetings")
    request = models.OneToOneField(MeetingRequest, on_delete=models.CASCADE, related_name="scheduled")
    slot = models.PositiveSmallIntegerField()
    table = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["event", "slot", "table"]
        constraints = [models.UniqueConstraint(fields=["event", "slot", "table"], name="one_meeting_per_table")]

    def __str__(self) -> str:
        return f"{self.request} (slot {self.slot + 1}, table {self.table + 1})"


class ScheduleBuild(QueuedWork):
    """One build of an event's meeting schedule, run as a task (``cooperation.tasks``), with the state, progress
    and error of any queued work (``socialclusters.tasks.QueuedWork``).

    The schedule itself lives on the event and its ``ScheduledMeeting`` rows, replaced when a build is done.
    """

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="schedule_builds")
    time_limit = models.FloatField()

    class Meta(QueuedWork.Meta):
        verbose_name = _("schedule build")

    def __str__(self) -> str:
        return f"{self.event} schedule build {self.pk} ({self.state})"
