"""API operations of surveys, evidence and typology (mounted at /api/v1/; paths start with /surveys or
/typology): the JSON twins of the survey pages, built from the same selectors.

Survey data (progress, analysis, findings) is the secretariat's; the question bank and the typology are
public. Each operation's description says who may use it; ``tests/test_api_authorisation.py`` proves it.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, P, PathEx, Query, Router, Schema

from socialclusters.api.auth import PUBLIC, SECRETARIAT, require_secretariat, session_auth
from socialclusters.api.errors import AUTH_ERRORS, PUBLIC_ERRORS
from socialclusters.api.schemas import MAX_ID
from socialclusters.surveys import selectors

router = Router(tags=["surveys and typology"])
ObjectId = PathEx[int, P(ge=1, le=MAX_ID, description="The object's id.")]


class BankQuestionOut(Schema):
    code: str = Field(description="The question's code in the bank (stable across questionnaires).")
    theme: str = Field(description="The theme of the founding document the question serves.")
    kind: str = Field(description="single, multiple, likert, number, text, country, region, nace or matrix.")
    text: dict[str, str] = Field(description="The question in English, French and German.")
    options: list[dict[str, Any]] = Field(description="The choices (value and label per language); empty when the "
                                                      "question has none.")
    rows: list[dict[str, Any]] = Field(description="The rows of a matrix question (value and label per language).")
    unit: dict[str, str] = Field(description="The unit of a number question, per language; empty otherwise.")
    profile_field: str = Field(description="The cluster profile field an accepted answer updates, if any.")


class BankOut(Schema):
    count: int = Field(description="Number of questions in the bank.")
    items: list[BankQuestionOut] = Field(description="Every question of the bank, by theme.")


class SurveyItem(Schema):
    id: int = Field(description="The survey's id.")
    title: str = Field(description="The survey's title.")
    questionnaire: str = Field(description="The slug of the questionnaire it sends.")
    mode: str = Field(description="identified or anonymous.")
    status: str = Field(description="draft, open or closed.")
    deadline: str = Field(description="Last day to answer (ISO date).")
    invited: int = Field(description="Invitations created.")
    sent: int = Field(description="Responses sent.")


class SurveyListOut(Schema):
    count: int = Field(description="Number of surveys.")
    items: list[SurveyItem] = Field(description="Every survey, newest first.")


class ProgressOut(Schema):
    id: int = Field(description="The survey's id.")
    title: str = Field(description="The survey's title.")
    status: str = Field(description="draft, open or closed.")
    mode: str = Field(description="identified or anonymous.")
    invited: int = Field(description="Invitations created.")
    started: int = Field(description="Responses saved but not sent yet.")
    sent: int = Field(description="Responses sent.")
    rate: float | None = Field(description="Percent of invitations answered.")
    not_answered: list[str] = Field(description="Addresses that have not sent answers.")
    by_group: list[dict[str, Any]] = Field(description="Invited, responded and rate by country of the cluster.")


class AnalysisQuery(Schema):
    by: str = Field("", description="Breakdown: cluster_kind, cluster_type, country, urban_rural or size.",
                    max_length=20)
    language: str = Field("en", pattern="^(en|fr|de)$", description="Language of question texts and labels.")


class AnalysisOut(Schema):
    survey: int = Field(description="The survey's id.")
    title: str = Field(description="The survey's title.")
    n: int = Field(description="Responses sent.")
    by: str = Field(description="The breakdown used for the cross-tabs (empty for none).")
    anonymous: bool = Field(description="True when the survey is anonymous (small groups are suppressed).")
    threshold: int = Field(description="Smallest group shown in an anonymous survey.")
    source: str = Field(description="Where the figures come from (survey and questionnaire).")
    questions: list[dict[str, Any]] = Field(description="Per question: n, options, labels, counts, crosstab, "
                                                        "summary or histogram; suppressed groups are null.")


class EvidenceOut(Schema):
    kind: str = Field(description="answer, contribution, statistic or document.")
    label: str = Field(description="What the evidence is, in words.")
    url: str = Field(description="Where to see it (may be empty).")
    base_n: int | None = Field(description="The base (n) of a statistic, if any.")
    source: str = Field(description="Where the evidence comes from.")
    answer: int | None = Field(description="The id of the linked answer, if the evidence is an answer.")


class FindingOut(Schema):
    id: int = Field(description="The finding's id.")
    title: str = Field(description="The finding's title.")
    text: str = Field(description="The finding, as written by the secretariat.")
    author: str = Field(description="Username of the secretariat member who wrote it.")
    created_at: str = Field(description="When it was written (ISO date and time).")
    evidence: list[EvidenceOut] = Field(description="Answers, contributions, statistics or documents behind it.")


class FindingListOut(Schema):
    count: int = Field(description="Number of findings.")
    items: list[FindingOut] = Field(description="The survey's findings.")


class TypologyQuery(Schema):
    country: str = Field("", description="ISO country code to keep only its clusters.", max_length=2)


class TypologyOut(Schema):
    rules_version: str = Field(description="Version of the typology rules used.")
    n: int = Field(description="Clusters classified.")
    source: str = Field(description="Where the profiles come from.")
    types: list[dict[str, Any]] = Field(description="Each type: code, label, count and up to three examples.")
    by_country: list[dict[str, Any]] = Field(description="Counts by type for each country, with the total.")
    rules: list[dict[str, Any]] = Field(description="The rules in plain words: code, type, fields they read.")
    clusters: list[dict[str, Any]] = Field(description="Each cluster's type, fired rules, evidence and override.")


class DataDrivenQuery(Schema):
    groups: int = Field(4, ge=2, le=10, description="Number of groups to find.")


class DataDrivenOut(Schema):
    n: int = Field(description="Cluster profiles grouped.")
    features: list[str] = Field([], description="Profile fields used in the Gower distance.")
    groups: list[dict[str, Any]] = Field(description="Each group's size and readable profile.")
    stability: dict[str, Any] | None = Field(None, description="Resampling stability (adjusted Rand index) of the "
                                                               "grouping; null when there are too few clusters.")
    comparison: dict[str, Any] | None = Field(None, description="Cross-tab of groups against rule-based types, "
                                                                "with the agreement; null when there are too few "
                                                                "clusters.")
    note: str = Field("", description="Why no groups were found, if so.")


@router.get("/surveys/bank", response={200: BankOut, **PUBLIC_ERRORS}, description=PUBLIC)
def survey_bank(request: HttpRequest) -> dict[str, Any]:
    """The question bank: every question with its theme and its texts in English, French and German."""
    items = [question for _theme, questions in selectors.bank_by_theme() for question in questions]
    return {"count": len(items), "items": items}


@router.get("/surveys", response={200: SurveyListOut, **AUTH_ERRORS}, auth=session_auth, description=SECRETARIAT)
def survey_list(request: HttpRequest) -> dict[str, Any]:
    """Every survey with its invitations and answers sent (the survey home page's twin)."""
    require_secretariat(request)
    items = [{"id": s.pk, "title": s.title, "questionnaire": s.questionnaire.slug, "mode": s.mode, "status": s.status,
              "deadline": s.deadline.isoformat(), "invited": s.invited, "sent": s.sent}  # type: ignore[attr-defined]
             for s in selectors.surveys()]
    return {"count": len(items), "items": items}


@router.get("/surveys/{id}", response={200: ProgressOut, **AUTH_ERRORS}, auth=session_auth, description=SECRETARIAT)
def survey_progress(request: HttpRequest, id: ObjectId) -> dict[str, Any]:
    """One survey's response rate and who has not answered yet."""
    require_secretariat(request)
    survey = selectors.survey(id)
    progress = selectors.progress(survey)
    return {"id": survey.pk, "title": survey.title, "status": survey.status, "mode": survey.mode,
            "invited": progress.invited, "started": progress.started, "sent": progress.sent, "rate": progress.rate,
            "not_answered": [i.email for i in progress.not_answered], "by_group": progress.by_group}


@router.get("/surveys/{id}/analysis", response={200: AnalysisOut, **AUTH_ERRORS}, auth=session_auth,
            description=SECRETARIAT)
def survey_analysis(request: HttpRequest, id: ObjectId, query: Query[AnalysisQuery]) -> dict[str, Any]:
    """The analysis page's figures: every question's counts, cross-tab, Likert or numeric summary, with n."""
    require_secretariat(request)
    return selectors.analysis(selectors.survey(id), by=query.by, language=query.language)


@router.get("/surveys/{id}/findings", response={200: FindingListOut, **AUTH_ERRORS}, auth=session_auth,
            description=SECRETARIAT)
def survey_findings(request: HttpRequest, id: ObjectId) -> dict[str, Any]:
    """A survey's findings, each with its evidence, base (n) and source."""
    require_secretariat(request)
    items = [{
        "id": f.pk, "title": f.title, "text": f.text, "author": f.author.get_username(),
        "created_at": f.created_at.isoformat(),
        "evidence": [{"kind": e.kind, "label": e.label, "url": e.url, "base_n": e.base_n, "source": e.source,
                      "answer": e.answer_id} for e in f.evidence.all()],
    } for f in selectors.findings(selectors.survey(id))]
    return {"count": len(items), "items": items}


@router.get("/typology", response={200: TypologyOut, **PUBLIC_ERRORS}, description=PUBLIC)
def typology_overview(request: HttpRequest, query: Query[TypologyQuery]) -> dict[str, Any]:
    """The typology page's twin: counts by type and country, the rules, and each cluster with its reasons."""
    return selectors.typology_overview(country=query.country)


class ComparisonsOut(Schema):
    n: int = Field(description="Published clusters compared.")
    groups: dict[str, int] = Field({}, description="Number of social economy and traditional clusters.")
    outcome: str = Field("", description="The outcome used for the scaling associations.")
    comparisons: list[dict[str, Any]] = Field(description="Per characteristic: test, statistic, p value, effect "
                                                          "size and each group's n.")
    scaling: list[dict[str, Any]] = Field(description="Per design feature: median difference in the outcome with "
                                                      "a bootstrap interval and each group's n.")
    caution: str = Field("", description="How to read the associations.")


@router.get("/typology/comparisons", response={200: ComparisonsOut, **PUBLIC_ERRORS}, description=PUBLIC)
def typology_comparisons(request: HttpRequest) -> dict[str, Any]:
    """Social economy against traditional clusters on each characteristic (test, effect size, n), and design
    features associated with reach, with bootstrap intervals (associations, not causes)."""
    return selectors.typology_comparisons()


@router.get("/typology/data-driven", response={200: DataDrivenOut, **PUBLIC_ERRORS}, description=PUBLIC)
def typology_data_driven(request: HttpRequest, query: Query[DataDrivenQuery]) -> dict[str, Any]:
    """Groups found by Gower distance and average-linkage clustering of cluster profiles, with their
    resampling stability and how they line up with the rule-based types."""
    return selectors.data_driven_typology(groups=query.groups)
