"""Fixtures of the survey tests: the shipped bank and questionnaires, the registry's test world with
manager email addresses, and an open survey of the social economy questionnaire."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from socialclusters.registry.tests.webworld import World, build_world
from socialclusters.surveys import services
from socialclusters.surveys.models import Questionnaire, Survey, SurveyMode


@pytest.fixture
def loaded(db) -> services.LoadReport:  # type: ignore[no-untyped-def]
    return services.load_questionnaires()


@pytest.fixture
def world(make_user, loaded) -> World:  # type: ignore[no-untyped-def]
    return build_world(make_user)


@pytest.fixture
def se_questionnaire(loaded) -> Questionnaire:  # type: ignore[no-untyped-def]
    return Questionnaire.objects.get(slug="se-clusters")


def open_survey(world: World, questionnaire: Questionnaire, *, mode: str = SurveyMode.IDENTIFIED,
                title: str = "Mapping 2026") -> Survey:
    return services.create_survey(user=world.users["secretariat"], questionnaire=questionnaire,  # type: ignore[arg-type]
                                  title=title, mode=mode, deadline=timezone.now() + timedelta(days=30))


@pytest.fixture
def survey(world, se_questionnaire) -> Survey:  # type: ignore[no-untyped-def]
    return open_survey(world, se_questionnaire)


MINIMAL: dict[str, Any] = {"vehicle-type": "territorial", "country": "FR", "tracks-impact": "no",
                           "public-support": "yes"}
