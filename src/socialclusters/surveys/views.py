"""Pages of surveys, evidence and typology: the secretariat's questionnaire, survey, analysis, coding and
findings pages; the respondent's answer page (personal link); and the public typology page.

Views are thin: they read through ``selectors``, write through ``services``, and declare their audience
with ``socialclusters.web.access``. The JSON twins are in ``api.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from socialclusters.analysis import charts
from socialclusters.errors import NotFound, ValidationError
from socialclusters.registry.exports import CSV_CONTENT_TYPE, csv_lines
from socialclusters.registry.models import Cluster
from socialclusters.surveys import selectors, services
from socialclusters.surveys.forms import (
    AnswerForm,
    BuildForm,
    CodeForm,
    CorrectForm,
    FindingForm,
    ImportForm,
    InviteForm,
    OverrideForm,
    SurveyForm,
)
from socialclusters.surveys.models import (
    Answer,
    Code,
    Questionnaire,
    QuestionnaireVersion,
    Response,
    ResponseStatus,
    SurveyStatus,
)
from socialclusters.web import Audience, access, form_errors


def _user(request: HttpRequest) -> Any:
    return request.user


# --- questionnaires ----------------------------------------------------------------------------------


@access(Audience.SECRETARIAT)
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "surveys/home.html", {
        "questionnaires": selectors.questionnaires(), "surveys": selectors.surveys(),
        "findings": selectors.findings()[:20],
    })


@access(Audience.SECRETARIAT)
def bank(request: HttpRequest) -> HttpResponse:
    return render(request, "surveys/bank.html", {"themes": selectors.bank_by_theme()})


@access(Audience.SECRETARIAT)
def questionnaire_build(request: HttpRequest) -> HttpResponse:
    form = BuildForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with form_errors(form):
            version = services.build_questionnaire(
                user=_user(request), slug=form.cleaned_data["slug"], title=form.cleaned_data["title"],
                sections=form.sections(), required=form.cleaned_data["required"])
            messages.success(request, _("Questionnaire created as a draft: check it, then publish it."))
            return redirect("surveys:version_detail", pk=version.pk)
    return render(request, "surveys/build.html", {"form": form}, status=400 if form.errors else 200)


@access(Audience.SECRETARIAT)
def version_detail(request: HttpRequest, pk: int) -> HttpResponse:
    version = selectors.version_detail(pk)
    language = request.GET.get("language", "en")
    if language not in ("en", "fr", "de"):
        language = "en"
    return render(request, "surveys/version_detail.html", {
        "version": version, "language": language,
        "form": AnswerForm(version=version, language=language, auto_id="preview_%s"),
        "correct_form": CorrectForm(), "survey_form": SurveyForm(),
        "other_versions": version.questionnaire.versions.exclude(pk=pk).order_by("number"),
    })


@require_POST
@access(Audience.SECRETARIAT, back="surveys:home")
def version_publish(request: HttpRequest, pk: int) -> HttpResponse:
    version = get_object_or_404(QuestionnaireVersion, pk=pk)
    services.publish_version(user=_user(request), version=version)
    messages.success(request, _("Version %(n)s published.") % {"n": version.number})
    return redirect("surveys:version_detail", pk=pk)


@require_POST
@access(Audience.SECRETARIAT, back="surveys:home")
def version_correct(request: HttpRequest, pk: int) -> HttpResponse:
    version = get_object_or_404(QuestionnaireVersion, pk=pk)
    form = CorrectForm(request.POST)
    if not form.is_valid():
        raise ValidationError(_("Say what the correction is for."), field="note")
    copy = services.correct_version(user=_user(request), version=version, note=form.cleaned_data["note"])
    messages.success(request, _("Version %(n)s created as a draft copy to correct.") % {"n": copy.number})
    return redirect("surveys:version_detail", pk=copy.pk)


@access(Audience.SECRETARIAT)
def survey_create(request: HttpRequest, pk: int) -> HttpResponse:
    questionnaire = get_object_or_404(Questionnaire, pk=pk)
    form = SurveyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with form_errors(form):
            survey = services.create_survey(user=_user(request), questionnaire=questionnaire,
                                            title=form.cleaned_data["title"], mode=form.cleaned_data["mode"],
                                            deadline=form.cleaned_data["deadline"],
                                            site_url=request.build_absolute_uri("/"))
            messages.success(request, _("Survey open: now invite respondents."))
            return redirect("surveys:survey_detail", pk=survey.pk)
    return render(request, "surveys/survey_create.html", {"form": form, "questionnaire": questionnaire},
                  status=400 if form.errors else 200)


# --- surveys -----------------------------------------------------------------------------------------


def _survey_page(request: HttpRequest, pk: int, invite_form: InviteForm | None = None,
                 status: int = 200) -> HttpResponse:
    survey = selectors.survey(pk)
    responses = Response.objects.filter(survey=survey, status=ResponseStatus.SUBMITTED).select_related(
        "cluster", "version").order_by("pk")
    return render(request, "surveys/survey_detail.html", {
        "survey": survey, "progress": selectors.progress(survey),
        "invite_form": invite_form or InviteForm(), "responses": responses,
    }, status=status)


@access(Audience.SECRETARIAT)
def survey_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _survey_page(request, pk)


@require_POST
@access(Audience.SECRETARIAT, back="surveys:home")
def survey_invite(request: HttpRequest, pk: int) -> HttpResponse:
    survey = selectors.survey(pk)
    form = InviteForm(request.POST)
    if form.is_valid():
        with form_errors(form):
            created = services.invite(user=_user(request), survey=survey, clusters=form.cleaned_data["clusters"],
                                      organisations=form.cleaned_data["organisations"], emails=form.email_list(),
                                      language=form.cleaned_data["language"])
            messages.success(request, _("%(n)s invitations sent.") % {"n": len(created)})
            return redirect("surveys:survey_detail", pk=pk)
    return _survey_page(request, pk, form, status=400)


@require_POST
@access(Audience.SECRETARIAT, back="surveys:home")
def survey_close(request: HttpRequest, pk: int) -> HttpResponse:
    services.close_survey(user=_user(request), survey=selectors.survey(pk))
    messages.success(request, _("The survey is closed."))
    return redirect("surveys:survey_detail", pk=pk)


@access(Audience.SECRETARIAT)
def survey_import(request: HttpRequest, pk: int) -> HttpResponse:
    survey = selectors.survey(pk)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = services.import_answers(user=_user(request), survey=survey, name=upload.name,
                                             content=upload.read(), mapping=form.mapping_dict())
        except forms.ValidationError as exc:
            form.add_error("mapping", exc)
        except ValidationError as exc:
            # The whole message: it names the line and the column of the file.
            form.add_error("mapping" if exc.field == "mapping" else None, str(exc))
        else:
            messages.success(request, _("%(r)s responses with %(a)s answers imported.")
                             % {"r": result.responses, "a": result.answers})
            return redirect("surveys:survey_detail", pk=pk)
    codes = selectors.version_detail(services.latest_published(survey.questionnaire).pk).questions.all()
    return render(request, "surveys/import.html", {"survey": survey, "form": form, "codes": codes},
                  status=400 if form.errors else 200)


@require_POST
@access(Audience.SECRETARIAT, back="surveys:home")
def response_accept(request: HttpRequest, pk: int) -> HttpResponse:
    response = get_object_or_404(Response.objects.select_related("survey__source", "cluster"), pk=pk)
    updates = services.accept_response(user=_user(request), response=response)
    messages.success(request, _("Answers accepted: %(n)s profile fields of %(cluster)s updated.")
                     % {"n": len(updates), "cluster": response.cluster})
    return redirect("surveys:survey_detail", pk=response.survey_id)


# --- the respondent ------------------------------------------------------------------------------------


@access(Audience.PUBLIC)
def answer(request: HttpRequest, token: str) -> HttpResponse:
    invitation = selectors.invitation_by_token(token)
    survey = invitation.survey
    existing = Response.objects.filter(invitation=invitation).select_related("version").first()
    closed = survey.status != SurveyStatus.OPEN or survey.deadline <= timezone.now()
    if (existing is not None and existing.status == ResponseStatus.SUBMITTED) or closed:
        return render(request, "surveys/answer_done.html", {"survey": survey, "response": existing,
                                                            "closed": closed})
    response = services.response_for(invitation)
    language = request.POST.get("respondent_language") or request.GET.get("language") or response.language
    if language not in ("en", "fr", "de"):
        language = response.language
    status = 200
    saved = {a.question.code: a.value for a in response.answers.select_related("question")}
    if request.method == "POST":
        form = AnswerForm(request.POST, version=response.version, language=language)
        if form.is_valid():
            submit = "submit" in request.POST
            try:
                services.save_answers(response=response, raw=form.raw_answers(), submit=submit)
            except services.AnswerErrors as exc:
                form.add_answer_errors(exc.errors)
                status = 400
            else:
                if response.language != language:
                    Response.objects.filter(pk=response.pk).update(language=language)
                if submit:
                    return redirect("surveys:answer", token=token)
                messages.success(request, _("Your answers are saved. Come back to this link at any time to finish."))
                return redirect(f"{reverse('surveys:answer', kwargs={'token': token})}?language={language}")
        else:
            status = 400
    else:
        form = AnswerForm(version=response.version, language=language,
                          initial=AnswerForm.initial_from(saved, response.version))
    # Buttons and messages follow the respondent's language where the site has it (settings.LANGUAGES).
    ui_language = language if language in dict(settings.LANGUAGES) else "en"
    with translation.override(ui_language):
        return render(request, "surveys/answer.html", {
            "survey": survey, "invitation": invitation, "form": form, "language": language,
            "respondent_languages": [("en", "English"), ("fr", "Français"), ("de", "Deutsch")],
        }, status=status)


# --- analysis ------------------------------------------------------------------------------------------


def _language() -> str:
    """Question texts and labels in the page's language (English when the questionnaire lacks it)."""
    language = (translation.get_language() or "en")[:2]
    return language if language in ("en", "fr", "de") else "en"


def _by(request: HttpRequest) -> str:
    by = request.GET.get("by", "")
    if by and by not in selectors.BREAKDOWNS:
        raise ValidationError(_("Unknown breakdown."), field="by")
    return by


@access(Audience.SECRETARIAT)
def survey_analysis(request: HttpRequest, pk: int) -> HttpResponse:
    survey = selectors.survey(pk)
    by = _by(request)
    data = selectors.analysis(survey, by=by, language=_language())
    for item in data["questions"]:
        if "counts" in item and "labels" in item:
            item["pairs"] = list(zip(item["labels"], item["counts"], strict=True))
        if item.get("crosstab"):
            item["rows"] = [{"label": label, "cells": item["crosstab"]["counts"][i]}
                            for i, label in enumerate(item["labels"])]
    return render(request, "surveys/analysis.html", {
        "survey": survey, "data": data, "by": by, "breakdowns": selectors.BREAKDOWNS,
        "chartable": {"single", "multiple", "likert", "country", "region", "nace", "number"},
    })


@access(Audience.SECRETARIAT)
def survey_chart(request: HttpRequest, pk: int, code: str, fmt: str) -> HttpResponse:
    survey = selectors.survey(pk)
    if fmt not in charts.CONTENT_TYPES:
        raise NotFound(f"no chart format '{fmt}'")
    data = selectors.analysis(survey, by=_by(request), language=_language())
    item = selectors.question_result(data, code)
    title = item["text"][:90]
    if item.get("suppressed_all"):
        raise NotFound(_("Fewer than five answers in an anonymous survey: no chart is shown."))
    if item["kind"] == "number":
        if "histogram" not in item:
            raise NotFound(_("No numeric answers yet."))
        edges = item["histogram"]["edges"]
        labels = [f"{edges[i]:g}–{edges[i + 1]:g}" for i in range(len(edges) - 1)]
        body = charts.bar_chart(labels, item["histogram"]["counts"], title=title, n=item["n"], source=data["source"],
                                value_label=item["unit"], fmt=fmt)
    elif item["kind"] == "likert" and item.get("crosstab"):
        table = item["crosstab"]
        groups = [g for g, n in zip(table["groups"], table["group_n"], strict=True) if n]
        series: dict[str, Sequence[float]] = {
            str(label): [float(table["counts"][i][table["groups"].index(g)]) for g in groups]
            for i, label in enumerate(item["labels"])}
        body = charts.stacked_bar_chart(groups, series, title=title, n=item["n"], source=data["source"], fmt=fmt)
    elif item["kind"] == "likert":
        body = charts.stacked_bar_chart([_("All respondents")], {label: [count] for label, count in
                                                                 zip(item["labels"], item["counts"], strict=True)},
                                        title=title, n=item["n"], source=data["source"], fmt=fmt)
    elif "counts" in item:
        body = charts.bar_chart(item["labels"], item["counts"], title=title, n=item["n"], source=data["source"],
                                value_label=_("respondents"), fmt=fmt)
    else:
        raise NotFound(_("Free-text answers have no chart: see the coding page."))
    response = HttpResponse(body, content_type=charts.CONTENT_TYPES[fmt])
    if "download" in request.GET:
        response["Content-Disposition"] = f'attachment; filename="survey-{pk}-{code}.{fmt}"'
    return response


def _csv_download(header: Sequence[str], rows: Iterable[Sequence[Any]], *, filename: str) -> HttpResponse:
    response = HttpResponse("".join(csv_lines(header, rows)), content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@access(Audience.SECRETARIAT)
def survey_analysis_csv(request: HttpRequest, pk: int) -> HttpResponse:
    survey = selectors.survey(pk)
    data = selectors.analysis(survey, by=_by(request), language=_language())

    def rows() -> Iterator[list[Any]]:
        for item in data["questions"]:
            if "counts" not in item:
                continue
            yield from ([item["code"], label, "", count, item["n"], data["source"]]
                        for label, count in zip(item["labels"], item["counts"], strict=True))
            table = item.get("crosstab")
            if table:
                for i, label in enumerate(item["labels"]):
                    for j, group in enumerate(table["groups"]):
                        yield [item["code"], label, group, table["counts"][i][j], table["group_n"][j], data["source"]]

    return _csv_download(["question", "answer", "group", "count", "n", "source"], rows(),
                         filename=f"survey-{pk}-analysis.csv")


# --- coding and findings ---------------------------------------------------------------------------------


@access(Audience.SECRETARIAT)
def survey_coding(request: HttpRequest, pk: int) -> HttpResponse:
    survey = selectors.survey(pk)
    questions = list(selectors.text_questions(survey))
    code_param = request.GET.get("question") or (questions[0].code if questions else "")
    code_form = CodeForm()
    status = 200
    if request.method == "POST" and request.POST.get("action") == "add_code":
        code_form = CodeForm(request.POST)
        if code_form.is_valid():
            with form_errors(code_form):
                services.add_code(user=_user(request), survey=survey, category=code_form.cleaned_data["category"],
                                  label=code_form.cleaned_data["label"],
                                  keywords=code_form.cleaned_data["keywords"].split(","),
                                  description=code_form.cleaned_data["description"])
                messages.success(request, _("Code added to the codebook."))
                return redirect(f"{reverse('surveys:survey_coding', args=[pk])}?question={code_param}")
        status = 400
    elif request.method == "POST":
        answer_obj = get_object_or_404(Answer, pk=request.POST.get("answer"), response__survey=survey)
        code = get_object_or_404(Code, pk=request.POST.get("code"), survey=survey)
        services.code_answer(user=_user(request), answer=answer_obj, code=code,
                             suggested_by=request.POST.get("suggested_by", ""))
        messages.success(request, _("Answer #%(a)s coded “%(code)s”.") % {"a": answer_obj.pk, "code": code.label})
        return redirect(f"{reverse('surveys:survey_coding', args=[pk])}?question={answer_obj.question.code}")
    answers = selectors.free_text_answers(survey, code_param) if code_param else []
    codes = list(survey.codes.all())
    suggested = selectors.suggestions(answers, codes)
    return render(request, "surveys/coding.html", {
        "survey": survey, "questions": questions, "current": code_param, "codes": codes, "code_form": code_form,
        "answers": [{"answer": a, "suggestions": suggested[a.pk], "codings": list(a.codings.all())} for a in answers],
        "agreement": selectors.coder_agreement(survey),
    }, status=status)


def _answer_choices(survey_pk: int) -> list[tuple[str, str]]:
    answers = Answer.objects.filter(response__survey_id=survey_pk, response__status=ResponseStatus.SUBMITTED,
                                    question__kind="text").select_related("question").order_by("pk")
    return [(str(a.pk), f"#{a.pk} {a.question.code}: {str(a.value)[:80]}") for a in answers]


@access(Audience.SECRETARIAT)
def survey_findings(request: HttpRequest, pk: int) -> HttpResponse:
    survey = selectors.survey(pk)
    form = FindingForm(request.POST or None, answer_choices=_answer_choices(pk),
                       initial={"answers": request.GET.getlist("answer")})
    if request.method == "POST" and form.is_valid():
        with form_errors(form):
            answers = list(Answer.objects.filter(pk__in=form.cleaned_data["answers"], response__survey=survey)
                           .select_related("question", "response__survey", "response__version"))
            finding = services.create_finding(user=_user(request), survey=survey, title=form.cleaned_data["title"],
                                              text=form.cleaned_data["text"], answers=answers, others=form.others())
            messages.success(request, _("Finding recorded with its evidence."))
            return redirect("surveys:finding_detail", pk=finding.pk)
    return render(request, "surveys/findings.html", {"survey": survey, "form": form,
                                                     "findings": selectors.findings(survey)},
                  status=400 if form.errors else 200)


@access(Audience.SECRETARIAT)
def finding_detail(request: HttpRequest, pk: int) -> HttpResponse:
    finding = selectors.findings().filter(pk=pk).first()
    if finding is None:
        raise NotFound(f"no finding {pk}")
    return render(request, "surveys/finding_detail.html", {"finding": finding})


# --- typology --------------------------------------------------------------------------------------------


@access(Audience.PUBLIC)
def typology(request: HttpRequest) -> HttpResponse:
    country = request.GET.get("country", "")[:2]
    data = selectors.typology_overview(country=country)
    return render(request, "surveys/typology.html", {
        "data": data, "country": country, "override_form": OverrideForm(),
        "comparisons": selectors.typology_comparisons(),
        "type_labels": {t["code"]: t["label"] for t in data["types"]},
    })


@access(Audience.PUBLIC)
def typology_csv(request: HttpRequest) -> HttpResponse:
    data = selectors.typology_overview(country=request.GET.get("country", "")[:2])
    rows = ([c["id"], c["name"], c["country"], c["type"], c["rule_type"], ";".join(f["code"] for f in c["fired"]),
             c["override"]["justification"] if c["override"] else "", data["rules_version"]]
            for c in data["clusters"])
    return _csv_download(["cluster_id", "name", "country", "type", "rule_type", "fired_rules",
                          "override_justification", "rules_version"], rows, filename="typology.csv")


@require_POST
@access(Audience.SECRETARIAT, back="surveys:typology")
def typology_override(request: HttpRequest, pk: int) -> HttpResponse:
    cluster = get_object_or_404(Cluster, pk=pk)
    form = OverrideForm(request.POST)
    if not form.is_valid():
        raise ValidationError(_("Choose a type and write the justification."), field="justification")
    services.override_type(user=_user(request), cluster=cluster, type_code=form.cleaned_data["type"],
                           justification=form.cleaned_data["justification"])
    messages.success(request, _("Type of %(name)s overridden; the rule-based type stays on record.")
                     % {"name": cluster.name})
    return redirect(f"{reverse('surveys:typology')}#cluster-{pk}")
