"""A survey world for the page and API tests: the registry test world, an open survey with one sent
response about the published cluster, a free-text answer with a code, and a finding."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from socialclusters.registry.tests.webworld import World
from socialclusters.surveys import services
from socialclusters.surveys.models import Answer, Code, Finding, Invitation, QuestionnaireVersion, Response, Survey
from socialclusters.surveys.tests.conftest import MINIMAL, open_survey


@dataclass
class SurveyWorld:
    registry: World
    survey: Survey
    version: QuestionnaireVersion
    draft: QuestionnaireVersion
    invitation: Invitation  # not answered yet
    response: Response  # sent, about the published cluster
    answer: Answer  # free text
    code: Code
    finding: Finding

    @property
    def users(self) -> dict[str, Any]:
        return self.registry.users


def build_survey_world(world: World, questionnaire: Any) -> SurveyWorld:
    secretariat = world.users["secretariat"]
    survey = open_survey(world, questionnaire)
    version = services.latest_published(questionnaire)
    draft = services.build_questionnaire(user=secretariat, slug="draft-one", title="Draft",
                                         sections=[("A", ["country"])])
    answered = services.invite(user=secretariat, survey=survey, clusters=[world.published])[0]
    response = services.response_for(answered)
    services.save_answers(response=response, raw={**MINIMAL, "barriers-text": "Lack of funding"}, submit=True)
    invitation = services.invite(user=secretariat, survey=survey, emails=["later@example.org"])[0]
    answer = response.answers.get(question__code="barriers-text")
    code = services.add_code(user=secretariat, survey=survey, category="barrier", label="Finance",
                             keywords=["funding"])
    finding = services.create_finding(user=secretariat, survey=survey, title="Funding", text="Funding is short.",
                                      answers=[answer])
    return SurveyWorld(registry=world, survey=survey, version=version, draft=draft, invitation=invitation,
                       response=response, answer=answer, code=code, finding=finding)
