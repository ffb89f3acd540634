"""Writes of surveys, evidence and typology: loading the bank and questionnaires, building and versioning
questionnaires, distributing surveys, saving answers, importing answers, accepting answers into cluster
profiles, coding free text, findings, and typology overrides.

Every function takes keyword-only arguments, checks first, changes state inside one transaction and
raises ``socialclusters.errors`` exceptions that name the field, line or column at fault.
"""

from __future__ import annotations

import csv
import io
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core import exceptions as django_exceptions
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from socialclusters.errors import Conflict, PermissionDenied, ValidationError
from socialclusters.registry.models import (
    NUTS_VERSION,
    Cluster,
    Country,
    Organisation,
    Region,
    Sector,
    Source,
    SourceKind,
    SourceRecord,
)
from socialclusters.surveys import answer_store
from socialclusters.surveys.models import (
    RESPONDENT_LANGUAGES,
    THEME_TITLES,
    Answer,
    BankQuestion,
    Code,
    CodeCategory,
    Coding,
    Evidence,
    EvidenceKind,
    Finding,
    Invitation,
    ProfileUpdate,
    Question,
    QuestionKind,
    Questionnaire,
    QuestionnaireVersion,
    Response,
    ResponseStatus,
    Section,
    Survey,
    SurveyMode,
    SurveyStatus,
    TypeOverride,
    VersionStatus,
    translated,
)

if TYPE_CHECKING:
    from socialclusters.accounts.models import User

QUESTIONNAIRE_DIR = Path(__file__).resolve().parent / "questionnaires"
BANK_FILE = "bank.toml"
# Days between two reminders to the same address, and the most reminders one address gets.
REMINDER_INTERVAL = timedelta(days=3)
MAX_REMINDERS = 3
MAX_IMPORT_BYTES = 20 * 1024 * 1024


def _require_secretariat(user: User, action: str) -> None:
    if not user.is_secretariat:
        raise PermissionDenied(f"only the secretariat may {action}")


# --- the bank and ready questionnaires --------------------------------------------------------------


def _texts(raw: Any, where: str) -> dict[str, str]:
    if not isinstance(raw, dict) or not raw.get("en"):
        raise ValidationError(f"{where}: needs an English text (en)", field="text")
    missing = [lang for lang in RESPONDENT_LANGUAGES if not raw.get(lang)]
    if missing:
        raise ValidationError(f"{where}: missing the {', '.join(missing)} text", field="text")
    return {lang: str(raw[lang]) for lang in RESPONDENT_LANGUAGES}


def _labelled(items: list[dict[str, Any]], where: str) -> list[dict[str, Any]]:
    return [{"value": str(item["value"]), "label": _texts(item, f"{where} '{item.get('value')}'")} for item in items]


@dataclass
class LoadReport:
    bank_created: int = 0
    bank_updated: int = 0
    questionnaires_created: list[str] = field(default_factory=list)
    versions_created: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def _bank_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    scales = data.get("scales", {})
    named_options = {name: spec["values"] for name, spec in data.get("options", {}).items()}
    rows = []
    seen: set[str] = set()
    for number, raw in enumerate(data.get("question", []), start=1):
        where = f"question {number} ({raw.get('code', '?')})"
        code = raw.get("code")
        if not code or code in seen:
            raise ValidationError(f"{where}: missing or repeated code", field="code")
        seen.add(code)
        kind = raw.get("kind")
        if kind not in QuestionKind.values:
            raise ValidationError(f"{where}: unknown kind '{kind}'", field="kind")
        options = raw.get("options", [])
        if isinstance(options, str):
            if options not in named_options:
                raise ValidationError(f"{where}: unknown option list '{options}'", field="options")
            options = named_options[options]
        scale_points = None
        if kind == QuestionKind.LIKERT:
            scale = scales.get(raw.get("scale", ""))
            if not scale:
                raise ValidationError(f"{where}: a Likert question needs a known scale", field="scale")
            scale_points = len(scale["en"])
            options = [{"value": str(i + 1), **{lang: scale[lang][i] for lang in RESPONDENT_LANGUAGES}}
                       for i in range(scale_points)]
        if kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE, QuestionKind.MATRIX) and not options:
            raise ValidationError(f"{where}: a {kind} question needs options", field="options")
        if kind == QuestionKind.MATRIX and not raw.get("rows"):
            raise ValidationError(f"{where}: a matrix question needs rows", field="rows")
        condition = raw.get("condition") or {}
        rows.append({
            "code": code,
            "theme": raw.get("theme", ""),
            "kind": kind,
            "text": _texts(raw.get("text"), where),
            "help": _texts(raw["help"], where) if raw.get("help") else {},
            "options": _labelled(options, where),
            "rows": _labelled(raw.get("rows", []), where),
            "unit": _texts(raw["unit"], where) if raw.get("unit") else {},
            "scale_points": scale_points,
            "profile_field": raw.get("profile_field", ""),
            "audience": raw.get("audience", []),
            "condition": condition,
        })
    return rows


def _question_fields(bank: BankQuestion) -> dict[str, Any]:
    return {name: getattr(bank, name) for name in
            ("code", "kind", "text", "help", "options", "rows", "unit", "scale_points", "profile_field")}


def _fill_version(version: QuestionnaireVersion, sections: Sequence[Mapping[str, Any]], *,
                  bank: Mapping[str, BankQuestion], conditions: Mapping[str, dict[str, Any]]) -> None:
    asked: list[str] = []
    for s_position, section_spec in enumerate(sections, start=1):
        section = Section.objects.create(version=version, position=s_position, title=section_spec["title"])
        required = set(section_spec.get("required", []))
        for q_position, code in enumerate(section_spec["questions"], start=1):
            if code not in bank:
                raise ValidationError(f"section {s_position}: no bank question '{code}'", field="questions")
            if code in asked:
                raise ValidationError(f"section {s_position}: '{code}' is asked twice", field="questions")
            condition = conditions.get(code) or {}
            condition_code = condition.get("code", "")
            if condition_code and condition_code not in asked:
                # A condition on a question not asked before would hide this one for ever.
                condition_code, condition = "", {}
            Question.objects.create(
                version=version, section=section, position=q_position, required=code in required,
                condition_code=condition_code, condition_values=list(condition.get("values", [])),
                theme=bank[code].theme, bank_question=bank[code], **_question_fields(bank[code]),
            )
            asked.append(code)


def _version_fingerprint(version: QuestionnaireVersion) -> list[Any]:
    return [
        [section.title, [
            [q.code, q.kind, q.text, q.help, q.options, q.rows, q.unit, q.required, q.condition_code,
             q.condition_values]
            for q in section.questions.order_by("position")
        ]]
        for section in version.sections.order_by("position")
    ]


def load_questionnaires(*, directory: Path = QUESTIONNAIRE_DIR, user: User | None = None) -> LoadReport:
    """Load the bank and the ready questionnaires from TOML; a changed questionnaire gets a new version.

    Running it again on the same files changes nothing.
    """
    report = LoadReport()
    bank_path = directory / BANK_FILE
    try:
        bank_data = tomllib.loads(bank_path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValidationError(f"{bank_path}: {exc}", field="path") from None
    rows = _bank_rows(bank_data)
    with transaction.atomic():
        conditions: dict[str, dict[str, Any]] = {}
        for row in rows:
            conditions[row["code"]] = row.pop("condition")
            _, created = BankQuestion.objects.update_or_create(code=row["code"], defaults=row)
            if created:
                report.bank_created += 1
            else:
                report.bank_updated += 1
        bank = {b.code: b for b in BankQuestion.objects.all()}
        for path in sorted(directory.glob("*.toml")):
            if path.name == BANK_FILE:
                continue
            try:
                spec = tomllib.loads(path.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as exc:
                raise ValidationError(f"{path.name}: {exc}", field="path") from None
            _load_one_questionnaire(spec, path.name, bank=bank, conditions=conditions, user=user, report=report)
    return report


def _load_one_questionnaire(spec: dict[str, Any], name: str, *, bank: Mapping[str, BankQuestion],
                            conditions: Mapping[str, dict[str, Any]], user: User | None, report: LoadReport) -> None:
    slug = spec.get("slug")
    if not slug:
        raise ValidationError(f"{name}: missing slug", field="slug")
    sections = [{**section, "title": _texts(section.get("title"), f"{name} section {i}")}
                for i, section in enumerate(spec.get("section", []), start=1)]
    questionnaire, created = Questionnaire.objects.get_or_create(
        slug=slug, defaults={"title": _texts(spec.get("title"), name),
                             "description": _texts(spec["description"], name) if spec.get("description") else {},
                             "created_by": user})
    latest = questionnaire.versions.order_by("-number").first()
    number = latest.number + 1 if latest else 1
    version = QuestionnaireVersion.objects.create(questionnaire=questionnaire, number=number,
                                                  status=VersionStatus.DRAFT)
    _fill_version(version, sections, bank=bank, conditions=conditions)
    if latest is not None and _version_fingerprint(latest) == _version_fingerprint(version):
        version.delete()
        report.unchanged.append(slug)
        return
    version.status = VersionStatus.PUBLISHED
    version.published_at = timezone.now()
    version.published_by = user
    version.correction_note = "" if latest is None else _("Updated from the questionnaire file %(name)s") % {
        "name": name}
    version.save()
    (report.questionnaires_created if created else report.versions_created).append(f"{slug} v{number}")


# --- building and versioning ------------------------------------------------------------------------


def build_questionnaire(*, user: User, slug: str, title: str, sections: Sequence[tuple[str, Sequence[str]]],
                        required: Iterable[str] = ()) -> QuestionnaireVersion:
    """A new questionnaire (draft version 1) from bank questions. A section titled with a theme code gets the
    theme's title in English, French and German; any other title (and the questionnaire's) is used as typed."""
    _require_secretariat(user, "build questionnaires")
    if not title.strip():
        raise ValidationError(_("Give the questionnaire a title."), field="title")
    if not slug or Questionnaire.objects.filter(slug=slug).exists():
        raise ValidationError(_("This identifier is empty or already used."), field="slug")
    if not any(codes for _title, codes in sections):
        raise ValidationError(_("Choose at least one question from the bank."), field="questions")
    bank = {b.code: b for b in BankQuestion.objects.all()}
    conditions = {}
    for b in bank.values():
        # The bank's own conditions are kept when the question they depend on is chosen too.
        first = Question.objects.filter(bank_question=b).exclude(condition_code="").first()
        if first is not None:
            conditions[b.code] = {"code": first.condition_code, "values": first.condition_values}
    required_set = set(required)
    with transaction.atomic():
        questionnaire = Questionnaire.objects.create(
            slug=slug, title=dict.fromkeys(RESPONDENT_LANGUAGES, title.strip()), created_by=user)
        version = QuestionnaireVersion.objects.create(questionnaire=questionnaire, number=1)
        _fill_version(version, [
            {"title": THEME_TITLES.get(section_title)
             or dict.fromkeys(RESPONDENT_LANGUAGES, section_title.strip() or title.strip()),
             "questions": list(codes), "required": [c for c in codes if c in required_set]}
            for section_title, codes in sections if codes
        ], bank=bank, conditions=conditions)
    return version


def publish_version(*, user: User, version: QuestionnaireVersion) -> QuestionnaireVersion:
    _require_secretariat(user, "publish questionnaires")
    with transaction.atomic():
        version = QuestionnaireVersion.objects.select_for_update().get(pk=version.pk)
        if version.is_published:
            raise Conflict(_("This version is already published."))
        if not version.questions.exists():
            raise ValidationError(_("A questionnaire without questions cannot be published."), field="questions")
        version.status = VersionStatus.PUBLISHED
        version.published_at = timezone.now()
        version.published_by = user
        version.save()
    return version


def correct_version(*, user: User, version: QuestionnaireVersion, note: str) -> QuestionnaireVersion:
    """A draft copy of a published version to correct; answers already given keep their version."""
    _require_secretariat(user, "correct questionnaires")
    if not version.is_published:
        raise Conflict(_("Only a published version is corrected through a new version; edit the draft itself."))
    if not note.strip():
        raise ValidationError(_("Say what the correction is for."), field="note")
    with transaction.atomic():
        latest = version.questionnaire.versions.order_by("-number").first()
        assert latest is not None
        if not latest.is_published:
            raise Conflict(_("A draft correction (version %(n)s) already exists.") % {"n": latest.number})
        copy = QuestionnaireVersion.objects.create(questionnaire=version.questionnaire, number=latest.number + 1,
                                                   correction_note=note.strip())
        for section in version.sections.order_by("position"):
            new_section = Section.objects.create(version=copy, position=section.position, title=section.title)
            for question in section.questions.order_by("position"):
                question.pk = None
                question.version = copy
                question.section = new_section
                question.save()
    return copy


def edit_question_text(*, user: User, question: Question, language: str, text: str) -> Question:
    """Change a question's wording in one language, in a draft version only."""
    _require_secretariat(user, "edit questions")
    if question.version.is_published:
        raise Conflict(_("A published version never changes: correct it through a new version."))
    if language not in RESPONDENT_LANGUAGES:
        raise ValidationError(f"unknown language '{language}'", field="language")
    if not text.strip():
        raise ValidationError(_("The question text cannot be empty."), field="text")
    question.text = {**question.text, language: text.strip()}
    question.save(update_fields=["text"])
    return question


def latest_published(questionnaire: Questionnaire) -> QuestionnaireVersion:
    version = questionnaire.versions.filter(status=VersionStatus.PUBLISHED).order_by("-number").first()
    if version is None:
        raise Conflict(_("The questionnaire has no published version yet."))
    return version


# --- distribution -----------------------------------------------------------------------------------


def create_survey(*, user: User, questionnaire: Questionnaire, title: str, mode: str,
                  deadline: datetime, site_url: str = "") -> Survey:
    """Open a survey of the questionnaire's latest published version. ``site_url`` (the site's address, from
    the request) makes the emailed links absolute; the ``SITE_URL`` setting does when it is empty."""
    _require_secretariat(user, "start surveys")
    latest = latest_published(questionnaire)
    if not title.strip():
        raise ValidationError(_("Give the survey a title."), field="title")
    if mode not in SurveyMode.values:
        raise ValidationError(f"unknown mode '{mode}'", field="mode")
    if deadline <= timezone.now():
        raise ValidationError(_("The deadline must be in the future."), field="deadline")
    with transaction.atomic():
        source = Source.objects.create(kind=SourceKind.SURVEY, name=title.strip()[:200],
                                       version=f"{questionnaire.slug} v{latest.number}", entered_by=user,
                                       retrieved_at=timezone.now())
        return Survey.objects.create(questionnaire=questionnaire, title=title.strip(), mode=mode, deadline=deadline,
                                     status=SurveyStatus.OPEN, created_by=user, source=source, site_url=site_url)


def _answer_url(invitation: Invitation) -> str:
    path = reverse("surveys:answer", kwargs={"token": invitation.token})
    # An absolute link: the address the survey was opened at, else the SITE_URL setting, else only the path.
    site = invitation.survey.site_url or str(getattr(settings, "SITE_URL", ""))
    return f"{site.rstrip('/')}{path}" if site else path


def _send_invitation(invitation: Invitation, *, reminder: bool) -> None:
    survey = invitation.survey
    language = invitation.language if invitation.language in dict(settings.LANGUAGES) else "en"
    with translation.override(language):
        subject = (_("Reminder: %(title)s") if reminder else _("Survey: %(title)s")) % {"title": survey.title}
        lines = [
            _("You are invited to answer the survey “%(title)s”.") % {"title": survey.title},
            "",
            _("Your personal link (you can save your answers and come back later):"),
            _answer_url(invitation),
            "",
            _("Deadline: %(deadline)s") % {"deadline": timezone.localtime(survey.deadline).strftime("%Y-%m-%d %H:%M")},
        ]
        if invitation.cluster_id:
            lines.insert(1, _("This invitation is about the cluster %(name)s.") % {"name": invitation.cluster})
        if survey.is_anonymous:
            lines += ["", _("This survey is anonymous: results never show a group of fewer than five respondents.")]
        send_mail(subject, "\n".join(lines), None, [invitation.email])


def _send_all(invitations: Iterable[Invitation], *, reminder: bool) -> None:
    for invitation in invitations:
        _send_invitation(invitation, reminder=reminder)


def invite(*, user: User, survey: Survey, clusters: Iterable[Cluster] = (), organisations: Iterable[Organisation] = (),
           emails: Iterable[str] = (), language: str = "en") -> list[Invitation]:
    """Personal links by email: to each cluster's managers, each organisation's managers, or any address.

    An address already invited is skipped (not invited twice).
    """
    _require_secretariat(user, "invite respondents")
    if survey.status != SurveyStatus.OPEN:
        raise Conflict(_("Only an open survey can send invitations."))
    if language not in RESPONDENT_LANGUAGES:
        raise ValidationError(f"unknown language '{language}'", field="language")
    targets: list[tuple[str, Cluster | None, Organisation | None]] = []
    cluster: Cluster
    organisation: Organisation
    for cluster in clusters:
        addresses = [m.email for m in cluster.managers.all() if m.email]
        if not addresses:
            raise ValidationError(_("The cluster “%(name)s” has no manager with an email address: invite an "
                                    "address instead.") % {"name": cluster}, field="clusters")
        targets += [(address, cluster, None) for address in addresses]
    for organisation in organisations:
        addresses = [m.email for m in organisation.managers.all() if m.email]
        if not addresses:
            raise ValidationError(_("The organisation “%(name)s” has no manager with an email address.")
                                  % {"name": organisation}, field="organisations")
        targets += [(address, None, organisation) for address in addresses]
    for raw in emails:
        address = raw.strip()
        if not address:
            continue
        try:
            validate_email(address)
        except django_exceptions.ValidationError:
            raise ValidationError(_("“%(address)s” is not an email address.") % {"address": address},
                                  field="emails") from None
        targets.append((address, None, None))
    if not targets:
        raise ValidationError(_("Choose clusters or organisations, or give email addresses."), field="emails")
    created: list[Invitation] = []
    with transaction.atomic():
        existing = set(survey.invitations.values_list("email", flat=True))
        for address, target_cluster, target_organisation in targets:
            if address in existing:
                continue
            existing.add(address)
            invitation = Invitation.objects.create(survey=survey, email=address, cluster=target_cluster,
                                                   organisation=target_organisation, language=language,
                                                   sent_at=timezone.now())
            created.append(invitation)
        transaction.on_commit(lambda: _send_all(created, reminder=False))
    return created


@dataclass
class ReminderReport:
    reminded: int = 0
    closed: list[str] = field(default_factory=list)


def send_reminders(*, now: datetime | None = None) -> ReminderReport:
    """Remind invitees who have not sent their answers; close surveys whose deadline has passed."""
    now = now or timezone.now()
    report = ReminderReport()
    with transaction.atomic():
        for survey in Survey.objects.filter(status=SurveyStatus.OPEN, deadline__lte=now):
            survey.status = SurveyStatus.CLOSED
            survey.closed_at = now
            survey.save(update_fields=["status", "closed_at"])
            report.closed.append(survey.title)
        due = (Invitation.objects.filter(survey__status=SurveyStatus.OPEN, reminders_sent__lt=MAX_REMINDERS)
               .exclude(response__status=ResponseStatus.SUBMITTED)
               .select_related("survey", "cluster"))
        to_send = []
        for invitation in due:
            last = invitation.last_reminder_at or invitation.sent_at
            if last is not None and now - last < REMINDER_INTERVAL:
                continue
            invitation.reminders_sent += 1
            invitation.last_reminder_at = now
            invitation.save(update_fields=["reminders_sent", "last_reminder_at"])
            to_send.append(invitation)
        report.reminded = len(to_send)
        transaction.on_commit(lambda: _send_all(to_send, reminder=True))
    return report


def close_survey(*, user: User, survey: Survey) -> Survey:
    _require_secretariat(user, "close surveys")
    with transaction.atomic():
        survey = Survey.objects.select_for_update().get(pk=survey.pk)
        if survey.status == SurveyStatus.CLOSED:
            raise Conflict(_("The survey is already closed."))
        survey.status = SurveyStatus.CLOSED
        survey.closed_at = timezone.now()
        survey.save(update_fields=["status", "closed_at"])
    return survey


# --- answering --------------------------------------------------------------------------------------


class AnswerErrors(ValidationError):
    """Several answers are wrong; ``errors`` maps each question code to its message."""

    def __init__(self, errors: dict[str, str]) -> None:
        first = next(iter(errors))
        super().__init__(errors[first], field=first)
        self.errors = errors


def _check_open(survey: Survey) -> None:
    if survey.status != SurveyStatus.OPEN or survey.deadline <= timezone.now():
        raise Conflict(_("This survey is closed: answers can no longer be sent."))


def response_for(invitation: Invitation) -> Response:
    """The invitee's response, started on the latest published version when there is none yet."""
    existing = Response.objects.filter(invitation=invitation).select_related("version", "survey").first()
    if existing is not None:
        return existing
    _check_open(invitation.survey)
    version = latest_published(invitation.survey.questionnaire)
    return Response.objects.create(survey=invitation.survey, version=version, invitation=invitation,
                                   cluster=invitation.cluster, language=invitation.language)


def is_asked(question: Question, values: Mapping[str, Any]) -> bool:
    """Whether a conditional question applies, given the answers so far."""
    if not question.condition_code:
        return True
    given = values.get(question.condition_code)
    wanted = {str(v) for v in question.condition_values}
    if isinstance(given, list):
        return bool(wanted & {str(v) for v in given})
    return given is not None and str(given) in wanted


def parse_value(question: Question, raw: Any) -> Any:  # noqa: PLR0911, PLR0912, PLR0915 - one branch per question kind
    """A raw form or file value as stored, or None when empty; ``ValidationError`` names the question."""
    kind = question.kind
    if raw is None or raw in ("", [], {}):
        return None
    if kind == QuestionKind.MULTIPLE:
        items = raw if isinstance(raw, list) else [part.strip() for part in str(raw).split(";")]
        items = [str(item) for item in items if str(item).strip()]
        bad = [item for item in items if item not in question.option_values()]
        if bad:
            raise ValidationError(_("“%(value)s” is not one of the choices.") % {"value": bad[0]}, field=question.code)
        return [value for value in question.option_values() if value in items] or None
    if kind == QuestionKind.MATRIX:
        if isinstance(raw, str):
            pairs = [part.split("=", 1) for part in raw.split(";") if part.strip()]
            if any(len(pair) != 2 for pair in pairs):
                raise ValidationError(_("Write matrix answers as row=choice;row=choice."), field=question.code)
            raw = {key.strip(): value.strip() for key, value in pairs}
        rows = {row["value"] for row in question.rows}
        result = {}
        for key, value in dict(raw).items():
            if not value:
                continue
            if key not in rows or value not in question.option_values():
                raise ValidationError(_("“%(value)s” is not a choice for row “%(row)s”.")
                                      % {"value": value, "row": key}, field=question.code)
            result[key] = value
        return result or None
    text = str(raw).strip()
    if not text:
        return None
    if kind == QuestionKind.SINGLE:
        if text not in question.option_values():
            raise ValidationError(_("“%(value)s” is not one of the choices.") % {"value": text}, field=question.code)
        return text
    if kind == QuestionKind.LIKERT:
        try:
            level = int(text)
        except ValueError:
            level = 0
        if not 1 <= level <= (question.scale_points or 0):
            raise ValidationError(_("Choose a point of the scale from 1 to %(n)s.") % {"n": question.scale_points},
                                  field=question.code)
        return level
    if kind == QuestionKind.NUMBER:
        try:
            number = Decimal(text.replace(",", ".").replace(" ", ""))
        except InvalidOperation:
            raise ValidationError(_("Write a number, such as 12 or 3.5."), field=question.code) from None
        if not number.is_finite():
            raise ValidationError(_("Write a number, such as 12 or 3.5."), field=question.code)
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == QuestionKind.COUNTRY:
        code = text.upper()
        code = {"EL": "GR", "UK": "GB"}.get(code, code)
        if not Country.objects.filter(code=code).exists():
            raise ValidationError(_("“%(value)s” is not an ISO country code such as FR or DE.") % {"value": text},
                                  field=question.code)
        return code
    if kind == QuestionKind.REGION:
        code = text.upper()
        if not Region.objects.filter(code=code, version=NUTS_VERSION).exists():
            raise ValidationError(_("“%(value)s” is not a NUTS 2021 region code.") % {"value": text},
                                  field=question.code)
        return code
    if kind == QuestionKind.NACE:
        if not Sector.objects.filter(code=text.upper()).exists():
            raise ValidationError(_("“%(value)s” is not a NACE Rev. 2 code.") % {"value": text}, field=question.code)
        return text.upper()
    return text[:5000]


def clean_answers(*, version: QuestionnaireVersion, raw: Mapping[str, Any], submit: bool) -> dict[str, Any]:
    """Every answer checked at once; unasked conditional questions are dropped. Raises ``AnswerErrors``."""
    questions = list(version.questions.select_related("section").order_by("section__position", "position"))
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for question in questions:
        if not is_asked(question, values):
            continue
        try:
            value = parse_value(question, raw.get(question.code))
        except ValidationError as exc:
            errors[question.code] = exc.message
            continue
        if value is None:
            if submit and question.required:
                errors[question.code] = _("This question needs an answer.")
            continue
        values[question.code] = value
    if errors:
        raise AnswerErrors(errors)
    return values


def save_answers(*, response: Response, raw: Mapping[str, Any], submit: bool) -> Response:
    """Save (and, with ``submit``, send) a response; a sent response is final."""
    _check_open(response.survey)
    if response.status == ResponseStatus.SUBMITTED:
        raise Conflict(_("These answers were already sent."))
    values = clean_answers(version=response.version, raw=raw, submit=submit)
    questions = {q.code: q for q in response.version.questions.all()}
    with transaction.atomic():
        response.answers.all().delete()
        Answer.objects.bulk_create([Answer(response=response, question=questions[code], value=value)
                                    for code, value in values.items()])
        if submit:
            response.status = ResponseStatus.SUBMITTED
            response.submitted_at = timezone.now()
        response.save()
        if submit:  # the sent answers' packed copy for the analysis page
            answer_store.pack_responses([response.pk])
        if submit and response.invitation_id:
            transaction.on_commit(lambda: _send_confirmation(response))
    return response


def answer_display(question: Question, value: Any, language: str) -> str:
    """An answer in words, in ``language``."""
    labels = {o["value"]: translated(o["label"], language) for o in question.options}
    if question.kind in (QuestionKind.SINGLE, QuestionKind.LIKERT):
        return labels.get(str(value), str(value))
    if question.kind == QuestionKind.MULTIPLE:
        return "; ".join(labels.get(v, v) for v in value)
    if question.kind == QuestionKind.MATRIX:
        rows = {r["value"]: translated(r["label"], language) for r in question.rows}
        return "; ".join(f"{rows.get(k, k)}: {labels.get(v, v)}" for k, v in value.items())
    if question.kind == QuestionKind.NUMBER and question.unit:
        return f"{value} {translated(question.unit, language)}"
    return str(value)


def _send_confirmation(response: Response) -> None:
    invitation = response.invitation
    assert invitation is not None
    language = response.language
    lines = []
    for answer in response.answers.select_related("question").order_by("question__section__position",
                                                                         "question__position"):
        lines += [answer.question.text_in(language), "  " + answer_display(answer.question, answer.value, language),
                  ""]
    with translation.override(language if language in dict(settings.LANGUAGES) else "en"):
        subject = _("Your answers to %(title)s") % {"title": response.survey.title}
        body = _("Thank you. Here is a copy of the answers you sent:") + "\n\n" + "\n".join(lines)
    send_mail(subject, body, None, [invitation.email])


# --- import of answers collected elsewhere -----------------------------------------------------------


@dataclass
class ImportResult:
    responses: int
    answers: int


def _read_rows(name: str, content: bytes) -> tuple[list[str], list[list[str]]]:
    if len(content) > MAX_IMPORT_BYTES:
        raise ValidationError(_("The file is larger than 20 MB."), field="file")
    if name.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception as exc:
            raise ValidationError(_("The file is not a readable XLSX workbook (%(error)s).") % {"error": exc},
                                  field="file") from None
        sheet = workbook.worksheets[0]
        table = [["" if cell is None else str(cell) for cell in row] for row in sheet.iter_rows(values_only=True)]
    elif name.lower().endswith(".csv"):
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError(_("The CSV file is not UTF-8 text."), field="file") from None
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t") if text.strip() else csv.excel
        table = list(csv.reader(io.StringIO(text), dialect))
    else:
        raise ValidationError(_("Upload a .csv or .xlsx file."), field="file")
    if not table:
        raise ValidationError(_("The file is empty."), field="file")
    return [h.strip() for h in table[0]], table[1:]


def _row_cluster_and_language(raw: Mapping[str, str], columns: Mapping[str, str],
                              line: int) -> tuple[Cluster | None, str]:
    cluster = None
    if raw.get("cluster", "").strip():
        text = raw["cluster"].strip()
        cluster = Cluster.objects.filter(pk=int(text)).first() if text.isdigit() else None
        if cluster is None:
            raise ValidationError(_("no cluster with id “%(id)s”") % {"id": text}, line=line, field=columns["cluster"])
    language = raw.get("language", "").strip() or "en"
    if language not in RESPONDENT_LANGUAGES:
        raise ValidationError(_("unknown language “%(value)s”") % {"value": language}, line=line,
                              field=columns.get("language"))
    return cluster, language


def import_answers(*, user: User, survey: Survey, name: str, content: bytes,
                   mapping: Mapping[str, str]) -> ImportResult:
    """Import submitted responses from CSV or XLSX: ``mapping`` maps column headers to question codes,
    or to ``cluster`` (a registry cluster id) and ``language``. All rows or none."""
    _require_secretariat(user, "import answers")
    version = latest_published(survey.questionnaire)
    codes = {q.code for q in version.questions.all()} | {"cluster", "language"}
    header, rows = _read_rows(name, content)
    for column, code in mapping.items():
        if column not in header:
            raise ValidationError(_("The file has no column “%(column)s”.") % {"column": column}, field="mapping")
        if code not in codes:
            raise ValidationError(_("“%(code)s” is not a question of this questionnaire.") % {"code": code},
                                  field="mapping")
    positions = {code: header.index(column) for column, code in mapping.items()}
    columns = {code: column for column, code in mapping.items()}
    questions = {q.code: q for q in version.questions.all()}
    with transaction.atomic():
        count = answers = 0
        imported: list[int] = []
        for line, row in enumerate(rows, start=2):
            if not any(cell.strip() for cell in row):
                continue
            raw = {code: (row[position] if position < len(row) else "") for code, position in positions.items()}
            cluster, language = _row_cluster_and_language(raw, columns, line)
            try:
                values = clean_answers(version=version, raw=raw, submit=True)
            except AnswerErrors as exc:
                code, message = next(iter(exc.errors.items()))
                raise ValidationError(message, line=line, field=columns.get(code, code)) from None
            response = Response.objects.create(survey=survey, version=version, cluster=cluster, language=language,
                                               status=ResponseStatus.SUBMITTED, submitted_at=timezone.now(),
                                               imported_line=line)
            Answer.objects.bulk_create([Answer(response=response, question=questions[code], value=value)
                                        for code, value in values.items()])
            count += 1
            answers += len(values)
            imported.append(response.pk)
        if not count:
            raise ValidationError(_("The file has no rows of answers."), field="file")
        answer_store.pack_responses(imported)
    return ImportResult(responses=count, answers=answers)


# --- accepting answers into cluster profiles -----------------------------------------------------------


def _profile_value(question: Question, value: Any) -> Any:
    if question.profile_field in ("tracks_impact", "receives_public_support"):
        return {"yes": True, "no": False}.get(value)  # "I don't know" leaves the field alone
    return value


def accept_response(*, user: User, response: Response) -> list[ProfileUpdate]:
    """The secretariat accepts a sent response about a cluster: answers with a profile field update it,
    each with the survey response as its source (a SourceRecord quoting the answer)."""
    _require_secretariat(user, "accept answers")
    if response.survey.is_anonymous:
        raise Conflict(_("Answers to an anonymous survey never update a named cluster."))
    if response.status != ResponseStatus.SUBMITTED:
        raise Conflict(_("Only sent answers can be accepted."))
    if response.accepted_at is not None:
        raise Conflict(_("These answers were already accepted."))
    if response.cluster is None:
        raise ValidationError(_("The response is not about a registry cluster."), field="cluster")
    cluster = response.cluster
    updates: list[ProfileUpdate] = []
    with transaction.atomic():
        quotes = []
        for answer in response.answers.select_related("question").exclude(question__profile_field=""):
            question = answer.question
            new = _profile_value(question, answer.value)
            if new is None:
                continue
            model_field = Cluster._meta.get_field(question.profile_field)
            try:
                cleaned = model_field.clean(new, cluster)  # type: ignore[union-attr]
            except django_exceptions.ValidationError as exc:
                raise ValidationError("; ".join(exc.messages), field=question.code) from None
            old = getattr(cluster, question.profile_field)
            if old == cleaned:
                continue
            setattr(cluster, question.profile_field, cleaned)
            updates.append(ProfileUpdate(response=response, cluster=cluster, field=question.profile_field,
                                         old_value=_json(old), new_value=_json(cleaned), accepted_by=user))
            quotes.append(f"{question.text_in('en')} {answer_display(question, answer.value, 'en')}")
        if updates:
            cluster.save()
            ProfileUpdate.objects.bulk_create(updates)
            assert response.survey.source is not None
            SourceRecord.objects.create(source=response.survey.source, cluster=cluster,
                                        external_id=f"response-{response.pk}", quote="\n".join(quotes),
                                        recorded_by=user)
        response.accepted_at = timezone.now()
        response.accepted_by = user
        response.save(update_fields=["accepted_at", "accepted_by"])
    return updates


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    return value


# --- codebook, coding and findings ------------------------------------------------------------------


def add_code(*, user: User, survey: Survey, category: str, label: str, keywords: Iterable[str] = (),
             description: str = "") -> Code:
    _require_secretariat(user, "edit the codebook")
    if category not in CodeCategory.values:
        raise ValidationError(f"unknown category '{category}'", field="category")
    if not label.strip():
        raise ValidationError(_("Give the code a label."), field="label")
    if survey.codes.filter(label=label.strip()).exists():
        raise ValidationError(_("The codebook already has this label."), field="label")
    return Code.objects.create(survey=survey, category=category, label=label.strip(), description=description.strip(),
                               keywords=[k.strip().lower() for k in keywords if k.strip()])


def code_answer(*, user: User, answer: Answer, code: Code, suggested_by: str = "") -> Coding:
    """A person confirms a code for a free-text answer (their own, or a suggestion they accept)."""
    if not (user.is_secretariat or user.role == "member"):
        raise PermissionDenied("only the secretariat and working-group members code answers")
    if answer.question.kind != QuestionKind.TEXT:
        raise ValidationError(_("Only free-text answers are coded."), field="answer")
    if code.survey_id != answer.response.survey_id:
        raise ValidationError(_("The code belongs to another survey's codebook."), field="code")
    if suggested_by not in ("", "keyword", "similarity"):
        raise ValidationError(f"unknown suggestion kind '{suggested_by}'", field="suggested_by")
    coding, created = Coding.objects.get_or_create(answer=answer, code=code, coder=user,
                                                   defaults={"suggested_by": suggested_by})
    if not created:
        raise Conflict(_("You already gave this answer this code."))
    return coding


def create_finding(*, user: User, survey: Survey | None, title: str, text: str,
                   answers: Sequence[Answer] = (), others: Sequence[Mapping[str, Any]] = ()) -> Finding:
    """A finding with its evidence: answers (base 1 each, source the survey) and statistics, contributions
    or documents given as ``{"kind", "label", "url", "base_n", "source"}``."""
    _require_secretariat(user, "write findings")
    if not title.strip():
        raise ValidationError(_("Give the finding a title."), field="title")
    if not text.strip():
        raise ValidationError(_("Write the finding."), field="text")
    if not answers and not others:
        raise ValidationError(_("Link at least one piece of evidence."), field="evidence")
    with transaction.atomic():
        finding = Finding.objects.create(survey=survey, title=title.strip(), text=text.strip(), author=user)
        for answer in answers:
            response = answer.response
            Evidence.objects.create(
                finding=finding, kind=EvidenceKind.ANSWER, answer=answer,
                label=f"{answer.question.code}: {answer_display(answer.question, answer.value, 'en')[:250]}",
                base_n=1, source=f"{response.survey.title}, {response.version}, response #{response.pk}",
            )
        for number, other in enumerate(others, start=1):
            kind = other.get("kind")
            if kind not in (EvidenceKind.STATISTIC, EvidenceKind.CONTRIBUTION, EvidenceKind.DOCUMENT):
                raise ValidationError(f"evidence {number}: unknown kind '{kind}'", field="evidence")
            if not str(other.get("label", "")).strip() or not str(other.get("source", "")).strip():
                raise ValidationError(f"evidence {number}: say what it is and where it comes from", field="evidence")
            base = other.get("base_n")
            if kind == EvidenceKind.STATISTIC and not base:
                raise ValidationError(f"evidence {number}: a statistic needs its base (n)", field="evidence")
            Evidence.objects.create(finding=finding, kind=kind, label=str(other["label"]).strip(),
                                    url=str(other.get("url", "")), base_n=base, source=str(other["source"]).strip())
    return finding


# --- typology ---------------------------------------------------------------------------------------


def override_type(*, user: User, cluster: Cluster, type_code: str, justification: str) -> TypeOverride:
    from socialclusters.analysis.typology import RULE_TYPES

    _require_secretariat(user, "override a cluster's type")
    if type_code not in RULE_TYPES:
        raise ValidationError(f"unknown type '{type_code}'", field="type")
    if len(justification.strip()) < 10:
        raise ValidationError(_("Write why the type is overridden (at least a sentence)."), field="justification")
    return TypeOverride.objects.create(cluster=cluster, type=type_code, justification=justification.strip(),
                                       decided_by=user)
