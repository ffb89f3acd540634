"""Surveys, evidence and typology: the question bank, questionnaires and their versions, surveys sent to
clusters and organisations, responses and answers, the codebook and coding of free text, findings linked
to their evidence, and the classification of clusters into types with the secretariat's overrides.

Texts shown to respondents are stored in every language at once, as ``{"en": …, "fr": …, "de": …}``
(:func:`translated` picks one). A published questionnaire version never changes: a correction is a new
version, and every response keeps the version it answered.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from socialclusters.registry.models import Cluster, Organisation, Source

RESPONDENT_LANGUAGES = ("en", "fr", "de")


def translated(texts: dict[str, str] | None, language: str) -> str:
    """The text in ``language``, else English, else any language given; empty when there is none."""
    if not texts:
        return ""
    return texts.get(language) or texts.get("en") or next(iter(texts.values()), "")


class Theme(models.TextChoices):
    """The themes of the working group's founding document, each question of the bank serves one."""

    TYPES = "types", _("Types and characteristics")
    DIFFERENCE = "difference", _("Difference from traditional clusters")
    IMPACT = "impact", _("Impact tracking")
    POLICY = "policy", _("Public policy support")
    SCOPE = "scope", _("Scope to develop")
    MOTIVES = "motives", _("Motives")
    DRIVERS = "drivers", _("Drivers")
    BARRIERS = "barriers", _("Barriers")
    PARTNERSHIPS = "partnerships", _("Partnerships")
    PROCUREMENT = "procurement", _("Private procurement")
    CROSS_BORDER = "cross_border", _("Cross-border cooperation")
    SOCIAL_INNOVATION = "social_innovation", _("Social innovation")
    RURAL_URBAN = "rural_urban", _("Rural/urban and cross-regional learning")


# Section titles of questionnaires built from the bank (one section per theme), in every respondent language.
THEME_TITLES: dict[str, dict[str, str]] = {
    "types": {"en": "Types and characteristics", "fr": "Types et caractéristiques", "de": "Typen und Merkmale"},
    "difference": {"en": "Difference from traditional clusters", "fr": "Différences avec les clusters classiques",
                   "de": "Unterschiede zu herkömmlichen Clustern"},
    "impact": {"en": "Impact tracking", "fr": "Suivi de l'impact", "de": "Wirkungsmessung"},
    "policy": {"en": "Public policy support", "fr": "Soutien des politiques publiques",
               "de": "Förderung durch die öffentliche Hand"},
    "scope": {"en": "Scope to develop", "fr": "Potentiel de développement", "de": "Entwicklungspotenzial"},
    "motives": {"en": "Motives", "fr": "Motivations", "de": "Beweggründe"},
    "drivers": {"en": "Drivers", "fr": "Facteurs favorables", "de": "Treiber"},
    "barriers": {"en": "Barriers", "fr": "Obstacles", "de": "Hindernisse"},
    "partnerships": {"en": "Partnerships", "fr": "Partenariats", "de": "Partnerschaften"},
    "procurement": {"en": "Private procurement", "fr": "Achats privés", "de": "Privater Einkauf"},
    "cross_border": {"en": "Cross-border cooperation", "fr": "Coopération transfrontalière",
                     "de": "Grenzüberschreitende Zusammenarbeit"},
    "social_innovation": {"en": "Social innovation", "fr": "Innovation sociale", "de": "Soziale Innovation"},
    "rural_urban": {"en": "Rural/urban and cross-regional learning",
                    "fr": "Apprentissage entre territoires ruraux, urbains et régions",
                    "de": "Lernen zwischen Stadt, Land und Regionen"},
}


class QuestionKind(models.TextChoices):
    SINGLE = "single", _("Single choice")
    MULTIPLE = "multiple", _("Multiple choice")
    LIKERT = "likert", _("Likert scale")
    NUMBER = "number", _("Number with unit")
    TEXT = "text", _("Free text")
    COUNTRY = "country", _("Country")
    REGION = "region", _("NUTS region")
    NACE = "nace", _("NACE sector")
    MATRIX = "matrix", _("Matrix")


class QuestionContent(models.Model):
    """What a question says and accepts; shared by the bank and by questionnaire questions.

    ``options`` lists ``{"value": "…", "label": {"en": …}}`` for choice and matrix questions;
    ``rows`` lists the matrix rows in the same form; a Likert question has ``scale_points`` levels
    (1 … n) whose labels are ``options``. ``profile_field`` names the cluster field an answer
    updates once the secretariat accepts it.
    """

    code = models.SlugField(_("code"), max_length=60)
    kind = models.CharField(_("kind"), max_length=10, choices=QuestionKind.choices)
    text = models.JSONField(_("question text by language"))
    help = models.JSONField(_("help text by language"), default=dict, blank=True)
    options = models.JSONField(_("options"), default=list, blank=True)
    rows = models.JSONField(_("matrix rows"), default=list, blank=True)
    unit = models.JSONField(_("unit by language"), default=dict, blank=True)
    scale_points = models.PositiveSmallIntegerField(_("points of the scale"), null=True, blank=True)
    profile_field = models.CharField(_("cluster profile field"), max_length=40, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.code}: {translated(self.text, 'en')}"

    def option_values(self) -> list[str]:
        return [str(option["value"]) for option in self.options]

    def text_in(self, language: str) -> str:
        return translated(self.text, language)


class BankQuestion(QuestionContent):
    """A question of the bank, tagged with the theme it serves."""

    theme = models.CharField(_("theme"), max_length=20, choices=Theme.choices, db_index=True)
    audience = models.JSONField(_("suits questionnaires for"), default=list, blank=True)

    class Meta:
        ordering = ["theme", "code"]
        constraints = [models.UniqueConstraint(fields=["code"], name="bank_question_code_unique")]
        verbose_name = _("bank question")
        verbose_name_plural = _("question bank")


class Questionnaire(models.Model):
    slug = models.SlugField(_("identifier"), max_length=80, unique=True)
    title = models.JSONField(_("title by language"))
    description = models.JSONField(_("description by language"), default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]
        verbose_name = _("questionnaire")
        verbose_name_plural = _("questionnaires")

    def __str__(self) -> str:
        return translated(self.title, "en")


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class QuestionnaireVersion(models.Model):
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=10, choices=VersionStatus.choices, default=VersionStatus.DRAFT)
    correction_note = models.TextField(_("what this version corrects"), blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")

    class Meta:
        ordering = ["questionnaire", "number"]
        constraints = [models.UniqueConstraint(fields=["questionnaire", "number"], name="version_number_unique")]
        verbose_name = _("questionnaire version")
        verbose_name_plural = _("questionnaire versions")

    def __str__(self) -> str:
        return f"{self.questionnaire} v{self.number}"

    @property
    def is_published(self) -> bool:
        return self.status == VersionStatus.PUBLISHED


class Section(models.Model):
    version = models.ForeignKey(QuestionnaireVersion, on_delete=models.CASCADE, related_name="sections")
    position = models.PositiveSmallIntegerField()
    title = models.JSONField(_("title by language"))

    class Meta:
        ordering = ["version", "position"]
        constraints = [models.UniqueConstraint(fields=["version", "position"], name="section_position_unique")]

    def __str__(self) -> str:
        return translated(self.title, "en")


class Question(QuestionContent):
    """A question as it stands in one questionnaire version.

    ``condition_code`` names an earlier question of the same version; the question is asked only when
    that question's answer is (or, for multiple choice, contains) one of ``condition_values``.
    """

    version = models.ForeignKey(QuestionnaireVersion, on_delete=models.CASCADE, related_name="questions")
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField()
    required = models.BooleanField(_("required"), default=False)
    condition_code = models.SlugField(_("asked only if question"), max_length=60, blank=True)
    condition_values = models.JSONField(_("has one of these answers"), default=list, blank=True)
    theme = models.CharField(_("theme"), max_length=20, choices=Theme.choices, blank=True)
    bank_question = models.ForeignKey(BankQuestion, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="uses")

    class Meta:
        ordering = ["section__position", "position"]
        constraints = [models.UniqueConstraint(fields=["version", "code"], name="question_code_per_version")]
        verbose_name = _("question")
        verbose_name_plural = _("questions")


# --- distribution ------------------------------------------------------------------------------


class SurveyMode(models.TextChoices):
    IDENTIFIED = "identified", _("Identified: answers are linked to the respondent")
    ANONYMOUS = "anonymous", _("Anonymous: no group under five respondents is ever shown")


class SurveyStatus(models.TextChoices):
    DRAFT = "draft", _("Being prepared")
    OPEN = "open", _("Open for answers")
    CLOSED = "closed", _("Closed")


class Survey(models.Model):
    """One round of distribution of a questionnaire (always its latest published version)."""

    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.PROTECT, related_name="surveys")
    title = models.CharField(_("title"), max_length=200)
    mode = models.CharField(_("mode"), max_length=10, choices=SurveyMode.choices, default=SurveyMode.IDENTIFIED)
    deadline = models.DateTimeField(_("deadline"))
    status = models.CharField(_("status"), max_length=10, choices=SurveyStatus.choices, default=SurveyStatus.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # The site's address when the survey was opened, so that emailed links (reminders included) are absolute.
    site_url = models.URLField(_("site address"), blank=True)
    # The registry source that survey facts are recorded under (created with the survey).
    source = models.ForeignKey(Source, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")

    def __str__(self) -> str:
        return self.title

    @property
    def is_anonymous(self) -> bool:
        return self.mode == SurveyMode.ANONYMOUS


def new_token() -> str:
    return secrets.token_urlsafe(24)


class Invitation(models.Model):
    """A personal link sent to one address, for a registry cluster or organisation or for anyone."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("email address"))
    cluster = models.ForeignKey(Cluster, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    organisation = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    language = models.CharField(_("language"), max_length=2, default="en")
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)
    reminders_sent = models.PositiveSmallIntegerField(default=0)
    last_reminder_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["survey", "email"]
        constraints = [models.UniqueConstraint(fields=["survey", "email"], name="invitation_email_unique")]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self) -> str:
        return f"{self.email} ({self.survey})"


class ResponseStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", _("Saved, not sent")
    SUBMITTED = "submitted", _("Sent")


class Response(models.Model):
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    version = models.ForeignKey(QuestionnaireVersion, on_delete=models.PROTECT, related_name="responses")
    invitation = models.OneToOneField(Invitation, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="response")
    # Copied from the invitation (or the import) so that analysis by cluster needs no invitation.
    cluster = models.ForeignKey(Cluster, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    language = models.CharField(_("language"), max_length=2, default="en")
    status = models.CharField(max_length=12, choices=ResponseStatus.choices, default=ResponseStatus.IN_PROGRESS)
    started_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    imported_line = models.PositiveIntegerField(_("line in the imported file"), null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")

    class Meta:
        ordering = ["survey", "pk"]
        indexes = [models.Index(fields=["survey", "status"])]
        verbose_name = _("response")
        verbose_name_plural = _("responses")

    def __str__(self) -> str:
        return f"#{self.pk} {self.survey}"


class Answer(models.Model):
    """One answer: a str (single, country, region, NACE, text), an int (Likert), a number, a list
    (multiple choice) or a dict of row → option (matrix)."""

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers")
    value = models.JSONField()

    class Meta:
        ordering = ["response", "question"]
        constraints = [models.UniqueConstraint(fields=["response", "question"], name="answer_unique")]

    def __str__(self) -> str:
        return f"{self.question.code} = {self.value!r}"


class AnalysisRow(models.Model):
    """A sent response's answers packed for the analysis page: one 8-byte slot per question of its version
    (see ``surveys/answer_store.py``). Written when the response is sent or imported; never changes."""

    response = models.OneToOneField(Response, primary_key=True, on_delete=models.CASCADE,
                                    related_name="analysis_row")
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="+")
    version = models.ForeignKey(QuestionnaireVersion, on_delete=models.PROTECT, related_name="+")
    # The response's cluster, copied so that reading needs no join (cleared with it if the cluster goes).
    cluster = models.ForeignKey(Cluster, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    slots = models.BinaryField()

    class Meta:
        indexes = [models.Index(fields=["survey", "response"])]

    def __str__(self) -> str:
        return f"packed answers of response #{self.response_id}"


class ProfileUpdate(models.Model):
    """A cluster field set from an accepted answer, with the value it replaced."""

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="profile_updates")
    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="+")
    field = models.CharField(max_length=40)
    old_value = models.JSONField(null=True)
    new_value = models.JSONField(null=True)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    accepted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-accepted_at"]

    def __str__(self) -> str:
        return f"{self.cluster}: {self.field} from response #{self.response_id}"


# --- coding of free text and findings ------------------------------------------------------------


class CodeCategory(models.TextChoices):
    MOTIVE = "motive", _("Motive")
    DRIVER = "driver", _("Driver")
    BARRIER = "barrier", _("Barrier")
    PARTNERSHIP = "partnership", _("Partnership kind")
    OTHER = "other", _("Other")


class Code(models.Model):
    """An entry of a survey's codebook, which the secretariat edits."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="codes")
    category = models.CharField(_("category"), max_length=12, choices=CodeCategory.choices)
    label = models.CharField(_("label"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    keywords = models.JSONField(_("keywords"), default=list, blank=True)

    class Meta:
        ordering = ["category", "label"]
        constraints = [models.UniqueConstraint(fields=["survey", "label"], name="code_label_unique")]

    def __str__(self) -> str:
        return f"{self.get_category_display()}: {self.label}"


class Coding(models.Model):
    """A code a person confirmed for a free-text answer (a suggestion becomes a coding only when confirmed)."""

    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="codings")
    code = models.ForeignKey(Code, on_delete=models.CASCADE, related_name="codings")
    coder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    suggested_by = models.CharField(max_length=10, blank=True)  # "keyword", "similarity" or "" (the coder's own)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["answer", "code"]
        constraints = [models.UniqueConstraint(fields=["answer", "code", "coder"], name="coding_unique")]

    def __str__(self) -> str:
        return f"answer #{self.answer_id}: {self.code.label}"


class Finding(models.Model):
    survey = models.ForeignKey(Survey, null=True, blank=True, on_delete=models.SET_NULL, related_name="findings")
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("finding"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class EvidenceKind(models.TextChoices):
    ANSWER = "answer", _("Survey answer")
    STATISTIC = "statistic", _("Statistic")
    CONTRIBUTION = "contribution", _("Written contribution")
    DOCUMENT = "document", _("Document")


class Evidence(models.Model):
    """One piece of evidence behind a finding, with its base (n) and its source."""

    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="evidence")
    kind = models.CharField(_("kind"), max_length=12, choices=EvidenceKind.choices)
    answer = models.ForeignKey(Answer, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    label = models.CharField(_("what it is"), max_length=300)
    url = models.URLField(_("address"), max_length=500, blank=True)
    base_n = models.PositiveIntegerField(_("base (n)"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=300)

    class Meta:
        ordering = ["finding", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.label}"


# --- typology ---------------------------------------------------------------------------------------


class TypeOverride(models.Model):
    """The secretariat's type for a cluster, with its justification; the rule-based type (computed from the
    versioned rules each time) stays beside it, and every earlier override stays on record."""

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="type_overrides")
    type = models.CharField(max_length=40)
    justification = models.TextField()
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["cluster", "-decided_at"]

    def __str__(self) -> str:
        return f"{self.cluster}: {self.type} (override)"

