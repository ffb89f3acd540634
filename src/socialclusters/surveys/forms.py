"""Forms of the survey pages. They only shape input: the rules live in ``services``, whose errors come
back onto the form through ``socialclusters.web.form_errors`` (or, for answers, ``AnswerErrors``)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from socialclusters.analysis.typology import RULE_TYPES
from socialclusters.registry.models import Cluster, Organisation, PublicationStatus
from socialclusters.surveys import selectors
from socialclusters.surveys.models import (
    RESPONDENT_LANGUAGES,
    BankQuestion,
    CodeCategory,
    Question,
    QuestionKind,
    QuestionnaireVersion,
    SurveyMode,
    Theme,
    translated,
)

LANGUAGE_NAMES = {"en": "English", "fr": "Français", "de": "Deutsch"}

# The ids of the answer page's shared <datalist> elements, one per kind of code picker.
DATALIST_IDS: dict[str, str] = {QuestionKind.REGION: "nuts-regions", QuestionKind.NACE: "nace-codes"}
PICKER_HINTS: dict[str, Any] = {
    QuestionKind.REGION: _("Type the code or part of the region's name, then choose the region in the list."),
    QuestionKind.NACE: _("Type the code or a word of the activity, then choose the code in the list."),
}


def _region_options() -> list[tuple[str, str]]:
    return [(code, f"{name} (NUTS {level})") for code, name, level in selectors.region_options()]


class BaseForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


def _label(question: Question, language: str) -> str:
    text = question.text_in(language)
    return f"{text} *" if question.required else text


class AnswerForm(BaseForm):
    """The questionnaire in the respondent's language. A matrix question gives one field per row, named
    ``<code>__<row>``. Conditional questions are always shown with their condition in words, so that the
    form works without JavaScript; answers to questions whose condition is not met are dropped on saving.

    Countries are a ``<select>``; NUTS regions and NACE codes are text inputs tied to one shared
    ``<datalist>`` per kind (``datalists``, rendered once by the page whatever the number of questions),
    and the service still checks the code typed against the reference data."""

    def __init__(self, *args: Any, version: QuestionnaireVersion, language: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.language = language
        self._countries: list[Any] | None = None
        self.datalists: dict[str, Any] = {}
        self.questions = list(version.questions.select_related("section").order_by("section__position", "position"))
        by_code = {q.code: q for q in self.questions}
        self.sections: list[dict[str, Any]] = []
        for question in self.questions:
            if not self.sections or self.sections[-1]["section"] != question.section:
                self.sections.append({"section": question.section,
                                      "title": translated(question.section.title, language), "questions": []})
            entry = {"question": question, "text": question.text_in(language), "condition": "",
                     "fields": self._add_fields(question)}
            if question.condition_code and question.condition_code in by_code:
                other = by_code[question.condition_code]
                answers = [translated(o["label"], language) for o in other.options
                           if o["value"] in question.condition_values]
                entry["condition"] = _("Answer only if your answer to “%(question)s” was: %(answers)s.") % {
                    "question": other.text_in(language), "answers": " / ".join(answers)}
            self.sections[-1]["questions"].append(entry)

    def _choices(self, question: Question) -> list[tuple[str, str]]:
        return [(o["value"], translated(o["label"], self.language)) for o in question.options]

    def _add_fields(self, question: Question) -> list[str]:
        code, language = question.code, self.language
        label = _label(question, language)
        help_text: Any = translated(question.help, language)
        kind = question.kind
        field: forms.Field
        if kind == QuestionKind.MATRIX:
            names = []
            for row in question.rows:
                name = f"{code}__{row['value']}"
                self.fields[name] = forms.ChoiceField(
                    label=translated(row["label"], language), required=False, widget=forms.RadioSelect,
                    choices=self._choices(question))
                names.append(name)
            return names
        if kind in (QuestionKind.SINGLE, QuestionKind.LIKERT):
            field = forms.ChoiceField(label=label, required=False, widget=forms.RadioSelect,
                                      choices=self._choices(question))
        elif kind == QuestionKind.MULTIPLE:
            field = forms.MultipleChoiceField(label=label, required=False, widget=forms.CheckboxSelectMultiple,
                                              choices=self._choices(question))
        elif kind == QuestionKind.TEXT:
            field = forms.CharField(label=label, required=False, max_length=5000,
                                    widget=forms.Textarea(attrs={"rows": 4}))
        elif kind == QuestionKind.NUMBER:
            unit = translated(question.unit, language)
            field = forms.CharField(label=f"{label} ({unit})" if unit else label, required=False, max_length=40,
                                    widget=forms.TextInput(attrs={"inputmode": "decimal"}))
        elif kind == QuestionKind.COUNTRY:
            field = forms.ChoiceField(label=label, required=False, choices=self._country_choices())
        else:  # region, NACE: codes checked by the service against the reference data
            self._datalist(kind)
            field = forms.CharField(label=label, required=False, max_length=10, widget=forms.TextInput(
                attrs={"list": DATALIST_IDS[kind], "autocomplete": "off", "spellcheck": "false"}))
            help_text = format_lazy("{} {}", help_text, PICKER_HINTS[kind]) if help_text else PICKER_HINTS[kind]
        field.help_text = help_text
        self.fields[code] = field
        return [code]

    def _country_choices(self) -> list[Any]:
        if self._countries is None:  # read once per form, however many country questions it has
            european, others = selectors.country_choices(self.language)
            self._countries = [("", "—"), (_("EU, EFTA and candidate countries"), european),
                               (_("Other countries"), others)]
        return self._countries

    def _datalist(self, kind: str) -> None:
        if kind in self.datalists:
            return
        # The options are read when the page is drawn (the template calls the function), not on a POST
        # that is saved and redirected.
        options = _region_options if kind == QuestionKind.REGION else selectors.sector_options
        self.datalists[kind] = {"id": DATALIST_IDS[kind], "options": options}

    def raw_answers(self) -> dict[str, Any]:
        data = self.cleaned_data
        raw: dict[str, Any] = {}
        for question in self.questions:
            if question.kind == QuestionKind.MATRIX:
                raw[question.code] = {row["value"]: data.get(f"{question.code}__{row['value']}") or ""
                                      for row in question.rows}
            else:
                raw[question.code] = data.get(question.code)
        return raw

    @staticmethod
    def initial_from(answers: dict[str, Any], version: QuestionnaireVersion) -> dict[str, Any]:
        initial: dict[str, Any] = {}
        for question in version.questions.all():
            value = answers.get(question.code)
            if value is None:
                continue
            if question.kind == QuestionKind.MATRIX:
                for row, option in value.items():
                    initial[f"{question.code}__{row}"] = option
            else:
                initial[question.code] = [str(v) for v in value] if isinstance(value, list) else str(value)
        return initial

    def add_answer_errors(self, errors: dict[str, str]) -> None:
        for code, message in errors.items():
            if code in self.fields:
                self.add_error(code, message)
            else:
                first = next((name for name in self.fields if name.startswith(f"{code}__")), None)
                self.add_error(first, message)


class BuildForm(BaseForm):
    slug = forms.SlugField(label=_("Identifier (letters, digits and hyphens)"), max_length=80)
    title = forms.CharField(label=_("Title"), max_length=200)
    questions = forms.MultipleChoiceField(label=_("Questions from the bank"), widget=forms.CheckboxSelectMultiple)
    required = forms.MultipleChoiceField(label=_("Questions that must be answered"), required=False,
                                         widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(str(Theme(theme).label), [(q.code, q.text_in("en")) for q in BankQuestion.objects.filter(
            theme=theme).order_by("code")]) for theme in Theme.values]
        grouped = [group for group in choices if group[1]]
        cast(forms.ChoiceField, self.fields["questions"]).choices = grouped
        cast(forms.ChoiceField, self.fields["required"]).choices = grouped

    def sections(self) -> list[tuple[str, list[str]]]:
        """One section per theme (titled by the theme's code), in the bank's theme order."""
        chosen = set(self.cleaned_data["questions"])
        sections = []
        for theme in Theme.values:
            codes = [q.code for q in BankQuestion.objects.filter(theme=theme).order_by("code") if q.code in chosen]
            if codes:
                sections.append((theme, codes))
        return sections


class SurveyForm(BaseForm):
    title = forms.CharField(label=_("Title"), max_length=200)
    mode = forms.ChoiceField(label=_("Mode"), choices=SurveyMode.choices, widget=forms.RadioSelect,
                             initial=SurveyMode.IDENTIFIED)
    deadline = forms.DateTimeField(label=_("Deadline"),
                                   widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))


class InviteForm(BaseForm):
    clusters = forms.ModelMultipleChoiceField(
        label=_("Clusters in the registry (their managers are invited)"), required=False,
        queryset=Cluster.objects.filter(publication_status=PublicationStatus.PUBLISHED).order_by("name"),
        widget=forms.SelectMultiple(attrs={"size": 8}))
    organisations = forms.ModelMultipleChoiceField(
        label=_("Organisations in the registry (their managers are invited)"), required=False,
        queryset=Organisation.objects.filter(managers__isnull=False).distinct().order_by("name"),
        widget=forms.SelectMultiple(attrs={"size": 5}))
    emails = forms.CharField(label=_("Other email addresses, one per line"), required=False,
                             widget=forms.Textarea(attrs={"rows": 3}))
    language = forms.ChoiceField(label=_("Language of the invitation and questionnaire"),
                                 choices=[(code, LANGUAGE_NAMES[code]) for code in RESPONDENT_LANGUAGES])

    def email_list(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data.get("emails", "").splitlines() if line.strip()]


class CorrectForm(BaseForm):
    note = forms.CharField(label=_("What does the correction change?"), max_length=500)


class ImportForm(BaseForm):
    file = forms.FileField(label=_("CSV or XLSX file (first row: column headers)"))
    mapping = forms.CharField(
        label=_("Column mapping, one per line: column header = question code (or cluster, language)"),
        widget=forms.Textarea(attrs={"rows": 6}))

    def mapping_dict(self) -> dict[str, str]:
        mapping = {}
        for number, line in enumerate(self.cleaned_data["mapping"].splitlines(), start=1):
            if not line.strip():
                continue
            if "=" not in line:
                raise forms.ValidationError(_("Line %(n)s of the mapping has no “=”.") % {"n": number})
            column, code = line.rsplit("=", 1)
            mapping[column.strip()] = code.strip()
        return mapping


class CodeForm(BaseForm):
    category = forms.ChoiceField(label=_("Category"), choices=CodeCategory.choices)
    label = forms.CharField(label=_("Label"), max_length=120)
    keywords = forms.CharField(label=_("Keywords (comma-separated)"), required=False, max_length=500)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class FindingForm(BaseForm):
    title = forms.CharField(label=_("Title"), max_length=200)
    text = forms.CharField(label=_("Finding"), widget=forms.Textarea(attrs={"rows": 4}))
    answers = forms.MultipleChoiceField(label=_("Answers that support it"), required=False,
                                        widget=forms.CheckboxSelectMultiple)
    other_kind = forms.ChoiceField(
        label=_("Other evidence (optional): kind"), required=False,
        choices=[("", "—"), ("statistic", _("Statistic")), ("contribution", _("Written contribution")),
                 ("document", _("Document"))])
    statistic = forms.CharField(label=_("What it is"), required=False, max_length=300)
    statistic_url = forms.URLField(label=_("Its address (optional)"), required=False, assume_scheme="https")
    statistic_n = forms.IntegerField(label=_("Its base (n; required for a statistic)"), required=False,
                                     min_value=1)
    statistic_source = forms.CharField(label=_("Its source"), required=False, max_length=300)

    def __init__(self, *args: Any, answer_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["answers"]).choices = answer_choices

    def others(self) -> list[dict[str, Any]]:
        data = self.cleaned_data
        if not data.get("other_kind") and not data.get("statistic"):
            return []
        return [{"kind": data.get("other_kind") or "statistic", "label": data.get("statistic", ""),
                 "url": data.get("statistic_url", ""), "base_n": data.get("statistic_n"),
                 "source": data.get("statistic_source", "")}]


class OverrideForm(BaseForm):
    type = forms.ChoiceField(label=_("Type"), choices=list(RULE_TYPES.items()))
    justification = forms.CharField(label=_("Justification"), widget=forms.Textarea(attrs={"rows": 2}))
