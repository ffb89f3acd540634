"""The secretariat's matchmaking weights, read and changed on the page and through the API alike: the same
checks, the same history of who changed what, and suggestions that use the change at once."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from socialclusters.cooperation import selectors, services
from socialclusters.cooperation.models import MatchingSettings
from socialclusters.cooperation.tests.world import World, build_world

pytestmark = pytest.mark.django_db

URL = "/api/v1/cooperation/settings"
WEIGHTS = MatchingSettings.WEIGHT_FIELDS


@pytest.fixture
def world(make_user) -> World:  # type: ignore[no-untyped-def]
    return build_world(make_user)


def _put(client: Client, body: dict[str, Any]):  # type: ignore[no-untyped-def]
    client.get("/api/v1/docs")
    return client.put(URL, data=json.dumps(body), content_type="application/json",
                      HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)


def _body(**changes: Any) -> dict[str, Any]:
    return dict.fromkeys(WEIGHTS, 0.0) | {"language": 3.0, "review_before_publication": True,
                                          "profile_lifetime_days": 200} | changes


def test_the_api_changes_the_weights_and_keeps_who_did_it(world):  # type: ignore[no-untyped-def]
    secretariat = world.users["secretariat"]
    client = Client(enforce_csrf_checks=True)
    client.force_login(secretariat)
    history = services.matching_settings().history.count()
    response = _put(client, _body())
    assert response.status_code == 200, response.content
    out = json.loads(response.content)
    assert out["language"] == 3.0
    assert out["review_before_publication"] is True
    assert out["updated_by"] == secretariat.get_username()
    assert out["changes"] == history + 1
    current = services.matching_settings()
    assert current.history.latest().history_user == secretariat
    assert current.profile_lifetime_days == 200
    assert selectors.match_index().weights.normalised()["language"] == 1.0
    assert json.loads(client.get(URL).content) == out


def test_the_page_keeps_the_same_history(world):  # type: ignore[no-untyped-def]
    secretariat = world.users["secretariat"]
    client = Client()
    client.force_login(secretariat)
    history = services.matching_settings().history.count()
    form = dict.fromkeys(WEIGHTS, "1") | {"region": "5", "profile_lifetime_days": "365"}
    assert client.post(reverse("cooperation:settings"), form).status_code == 302
    latest = services.matching_settings().history.latest()
    assert (latest.history_user, latest.region) == (secretariat, 5.0)
    assert services.matching_settings().history.count() == history + 1


@pytest.mark.parametrize(("body", "status", "field"), [
    (_body(language=0.0), 400, "offer_answers_request"),  # every weight 0
    (_body(region=101), 422, "region"),
    (_body(pairing=-1), 422, "pairing"),
    (_body(profile_lifetime_days=3), 422, "profile_lifetime_days"),
    ({key: value for key, value in _body().items() if key != "sectors"}, 422, "sectors"),
    (_body(region="a lot"), 422, "region"),
])
def test_bad_settings_are_refused_naming_the_field_and_change_nothing(world, body, status, field):  # type: ignore[no-untyped-def]
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["secretariat"])
    before = MatchingSettings.objects.values().get(pk=1)
    response = _put(client, body)
    assert (response.status_code, json.loads(response.content)["field"]) == (status, field)
    assert MatchingSettings.objects.values().get(pk=1) == before


def test_only_the_secretariat_changes_them(world):  # type: ignore[no-untyped-def]
    services.matching_settings()
    before = MatchingSettings.objects.values().get(pk=1)
    for role in ("representative", "manager_own", "member"):
        client = Client(enforce_csrf_checks=True)
        client.force_login(world.users[role])
        assert _put(client, _body()).status_code == 403
    assert Client().put(URL, data=json.dumps(_body()), content_type="application/json").status_code == 401
    assert MatchingSettings.objects.values().get(pk=1) == before
