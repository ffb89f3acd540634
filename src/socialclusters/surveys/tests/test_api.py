"""Who may call each survey and typology API operation, and what the JSON twins answer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client

from socialclusters.registry.tests.webworld import ROLES
from socialclusters.surveys.api import router
from socialclusters.surveys.tests.world import SurveyWorld, build_survey_world

pytestmark = pytest.mark.django_db
API = "/api/v1"


@dataclass(frozen=True)
class Row:
    operation: str
    url: Callable[[SurveyWorld], str]
    expected: dict[str, int]


EVERYONE = dict.fromkeys(ROLES, 200)
SECRETARIAT_ONLY = {**dict.fromkeys(ROLES, 403), "anonymous": 401, "secretariat": 200}

TABLE = [
    Row("GET /api/v1/surveys/bank", lambda w: "/surveys/bank", EVERYONE),
    Row("GET /api/v1/surveys", lambda w: "/surveys", SECRETARIAT_ONLY),
    Row("GET /api/v1/surveys/{id}", lambda w: f"/surveys/{w.survey.pk}", SECRETARIAT_ONLY),
    Row("GET /api/v1/surveys/{id}/analysis", lambda w: f"/surveys/{w.survey.pk}/analysis?by=cluster_kind",
        SECRETARIAT_ONLY),
    Row("GET /api/v1/surveys/{id}/findings", lambda w: f"/surveys/{w.survey.pk}/findings", SECRETARIAT_ONLY),
    Row("GET /api/v1/typology", lambda w: "/typology", EVERYONE),
    Row("GET /api/v1/typology/comparisons", lambda w: "/typology/comparisons", EVERYONE),
    Row("GET /api/v1/typology/data-driven", lambda w: "/typology/data-driven?groups=2", EVERYONE),
]


@pytest.fixture
def sworld(world, se_questionnaire) -> SurveyWorld:  # type: ignore[no-untyped-def]
    return build_survey_world(world, se_questionnaire)


def test_every_operation_has_a_row(client):
    schema = client.get(f"{API}/openapi.json").json()
    owned = {f"{API}{path}" for path in router.path_operations}
    operations = {f"{method.upper()} {path}" for path, methods in schema["paths"].items() for method in methods
                  if path in owned}
    assert operations == {row.operation for row in TABLE}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("row", TABLE, ids=[r.operation for r in TABLE])
def test_authorisation_matrix(sworld, row, role):
    client = Client()
    if sworld.users[role] is not None:
        client.force_login(sworld.users[role])
    response = client.get(API + row.url(sworld))
    assert response.status_code == row.expected[role], response.content[:300]
    if response.status_code >= 400:
        assert set(response.json()) >= {"detail", "field"}


def test_the_analysis_twin_matches_the_page_selector(sworld):
    client = Client()
    client.force_login(sworld.users["secretariat"])
    data = client.get(f"{API}/surveys/{sworld.survey.pk}/analysis?by=cluster_kind&language=de").json()
    assert data["n"] == 1
    assert data["source"] == "Mapping 2026 (se-clusters)"
    item = next(q for q in data["questions"] if q["code"] == "tracks-impact")
    assert item["text"] == "Misst der Cluster seine soziale oder ökologische Wirkung?"
    assert item["labels"] == ["Ja", "Nein", "Weiß nicht"]
    assert item["counts"] == [0, 1, 0]
    assert item["crosstab"]["groups"] == ["social_economy"]
    assert item["crosstab"]["group_n"] == [1]
    bad = client.get(f"{API}/surveys/{sworld.survey.pk}/analysis?by=colour")
    assert bad.status_code == 400
    assert bad.json()["field"] == "by"
    progress = client.get(f"{API}/surveys/{sworld.survey.pk}").json()
    assert (progress["invited"], progress["sent"], progress["not_answered"]) == (2, 1, ["later@example.org"])
    findings = client.get(f"{API}/surveys/{sworld.survey.pk}/findings").json()
    assert findings["items"][0]["evidence"][0]["base_n"] == 1
    assert findings["items"][0]["evidence"][0]["answer"] == sworld.answer.pk


def test_the_bank_twin_has_three_languages(sworld):
    data = Client().get(f"{API}/surveys/bank").json()
    assert data["count"] == len(data["items"]) == 39
    assert all(set(item["text"]) == {"en", "fr", "de"} for item in data["items"])
