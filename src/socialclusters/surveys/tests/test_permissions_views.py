"""Who may use which survey page: every URL of the surveys app by every role, from one table."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from socialclusters.registry.tests.webworld import ROLES
from socialclusters.surveys import urls
from socialclusters.surveys.tests.world import SurveyWorld, build_survey_world
from socialclusters.tests.matrix import LOGIN, assert_answer
from socialclusters.web import Audience

R = ROLES
PUBLIC = dict.fromkeys(R, 200)
SECRETARIAT_PAGE = {"anonymous": LOGIN} | dict.fromkeys(R[1:5], 403) | {"secretariat": 200}
SECRETARIAT_ACTION = {"anonymous": LOGIN} | dict.fromkeys(R[1:5], 403) | {"secretariat": 302}

Args = Callable[[SurveyWorld], dict[str, Any]]


def _none(_w: SurveyWorld) -> dict[str, Any]:
    return {}


def _survey(w: SurveyWorld) -> dict[str, Any]:
    return {"pk": w.survey.pk}


MATRIX: list[tuple[str, str, Args, str, dict[str, Any], dict[str, Any]]] = [
    ("survey home", "surveys:home", _none, "get", {}, SECRETARIAT_PAGE),
    ("question bank", "surveys:bank", _none, "get", {}, SECRETARIAT_PAGE),
    ("build", "surveys:questionnaire_build", _none, "get", {}, SECRETARIAT_PAGE),
    ("new survey", "surveys:survey_create", lambda w: {"pk": w.survey.questionnaire_id}, "get", {}, SECRETARIAT_PAGE),
    ("version", "surveys:version_detail", lambda w: {"pk": w.version.pk}, "get", {}, SECRETARIAT_PAGE),
    ("publish", "surveys:version_publish", lambda w: {"pk": w.draft.pk}, "post", {}, SECRETARIAT_ACTION),
    ("correct", "surveys:version_correct", lambda w: {"pk": w.version.pk}, "post", {"note": "Typo"},
     SECRETARIAT_ACTION),
    ("survey", "surveys:survey_detail", _survey, "get", {}, SECRETARIAT_PAGE),
    ("invite", "surveys:survey_invite", _survey, "post", {"emails": "new@example.org", "language": "de"},
     SECRETARIAT_ACTION),
    ("close", "surveys:survey_close", _survey, "post", {}, SECRETARIAT_ACTION),
    ("import", "surveys:survey_import", _survey, "get", {}, SECRETARIAT_PAGE),
    ("analysis", "surveys:survey_analysis", _survey, "get", {}, SECRETARIAT_PAGE),
    ("analysis csv", "surveys:survey_analysis_csv", _survey, "get", {}, SECRETARIAT_PAGE),
    ("chart", "surveys:survey_chart", lambda w: {"pk": w.survey.pk, "code": "vehicle-type", "fmt": "svg"}, "get", {},
     SECRETARIAT_PAGE),
    ("coding", "surveys:survey_coding", _survey, "get", {}, SECRETARIAT_PAGE),
    ("findings", "surveys:survey_findings", _survey, "get", {}, SECRETARIAT_PAGE),
    ("accept", "surveys:response_accept", lambda w: {"pk": w.response.pk}, "post", {}, SECRETARIAT_ACTION),
    ("finding", "surveys:finding_detail", lambda w: {"pk": w.finding.pk}, "get", {}, SECRETARIAT_PAGE),
    ("answer page", "surveys:answer", lambda w: {"token": w.invitation.token}, "get", {}, PUBLIC),
    ("typology", "surveys:typology", _none, "get", {}, PUBLIC),
    ("typology csv", "surveys:typology_csv", _none, "get", {}, PUBLIC),
    ("override", "surveys:typology_override", lambda w: {"pk": w.registry.published.pk}, "post",
     {"type": "territorial_se", "justification": "It describes itself as a PTCE in its statutes."},
     SECRETARIAT_ACTION),
]


@pytest.fixture
def sworld(world, se_questionnaire) -> SurveyWorld:  # type: ignore[no-untyped-def]
    return build_survey_world(world, se_questionnaire)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("row", MATRIX, ids=[m[0] for m in MATRIX])
def test_who_may_use_each_page(sworld, role, row):  # type: ignore[no-untyped-def]
    case, name, args, method, data, expected = row
    assert_answer(sworld.users[role], method, reverse(name, kwargs=args(sworld)), data, expected[role],
                  case=f"{case} as {role}")


def test_the_matrix_covers_every_url():
    tested = {name for _case, name, *_rest in MATRIX}
    names = {f"surveys:{p.name}" for p in urls.urlpatterns}
    assert names == tested


def test_every_view_declares_its_audience():
    for pattern in urls.urlpatterns:
        assert isinstance(getattr(pattern.callback, "access", None), Audience), pattern.name


def test_actions_refuse_get(sworld, client):  # type: ignore[no-untyped-def]
    client.force_login(sworld.users["secretariat"])
    for name, pk in (("surveys:version_publish", sworld.draft.pk), ("surveys:survey_close", sworld.survey.pk),
                     ("surveys:response_accept", sworld.response.pk)):
        assert client.get(reverse(name, kwargs={"pk": pk})).status_code == 405


def test_a_bad_token_is_not_found(client, db):  # type: ignore[no-untyped-def]
    assert client.get(reverse("surveys:answer", kwargs={"token": "nope"})).status_code == 404


def test_the_answer_page_says_closed_after_the_deadline(sworld, client):  # type: ignore[no-untyped-def]
    sworld.survey.deadline = timezone.now() - timedelta(minutes=1)
    sworld.survey.save()
    response = client.get(reverse("surveys:answer", kwargs={"token": sworld.invitation.token}))
    assert "This survey is closed" in response.content.decode()
