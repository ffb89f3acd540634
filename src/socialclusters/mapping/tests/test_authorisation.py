"""Who may use the map: the map is public for every role; the review of candidate concentrations is the
secretariat's. Every operation of the router and every page of the app is covered."""

from __future__ import annotations

import pytest
from django.test import Client

from socialclusters.accounts.models import Role
from socialclusters.mapping import urls
from socialclusters.mapping.api import router
from socialclusters.web import Audience

pytestmark = pytest.mark.django_db
ROLES = ("anonymous", Role.REPRESENTATIVE, Role.CLUSTER_MANAGER, Role.MEMBER, Role.SECRETARIAT)

# Every operation of the map's router, called as a program would; all are public reads.
OPERATIONS = {
    "/map/indicators": "/api/v1/map/indicators",
    "/map/geometry": "/api/v1/map/geometry?level=0",
    "/map/layer": "/api/v1/map/layer?level=0",
    "/map/layer.geojson": "/api/v1/map/layer.geojson?level=0",
    "/map/layer.csv": "/api/v1/map/layer.csv?level=0",
    "/map/layer.png": "/api/v1/map/layer.png?level=0",
    "/map/layer.svg": "/api/v1/map/layer.svg?level=0",
    "/map/points": "/api/v1/map/points?kind=clusters&zoom=3",
    "/map/regions/{code}": "/api/v1/map/regions/FR1",
    "/map/compare": "/api/v1/map/compare?codes=FR1,DE1",
}
PAGES = {"map": "/map/"}
SECRETARIAT_ONLY = {"candidates": "/map/candidates/", "candidate_review": "/map/candidates/1/review/"}
SECRETARIAT_OPERATIONS = {"/map/candidates": "/api/v1/map/candidates"}
# Charts of a region's statistics answer 400 when none are imported (tested in test_map.py); the same for all.
CHARTS = {"/map/regions/{code}/employment.svg", "/map/regions/{code}/employment.png"}


def test_every_operation_and_page_is_in_the_matrix():
    assert set(router.path_operations) == set(OPERATIONS) | CHARTS | set(SECRETARIAT_OPERATIONS)
    assert {pattern.name for pattern in urls.urlpatterns} == set(PAGES) | set(SECRETARIAT_ONLY)
    for pattern in urls.urlpatterns:
        expected = Audience.PUBLIC if pattern.name in PAGES else Audience.SECRETARIAT
        assert getattr(pattern.callback, "access", None) is expected


@pytest.fixture
def clients(make_user):  # type: ignore[no-untyped-def]
    result = {"anonymous": Client()}
    for role in ROLES[1:]:
        client = Client()
        client.force_login(make_user(role))
        result[role] = client
    return result


@pytest.mark.parametrize("role", ROLES)
def test_everyone_may_read_the_map(clients, role):  # type: ignore[no-untyped-def]
    client = clients[role]
    for url in [*OPERATIONS.values(), *PAGES.values()]:
        assert client.get(url).status_code == 200, url
    for path in CHARTS:
        response = client.get("/api/v1" + path.replace("{code}", "FR1"))
        assert response.status_code == 400
        assert response.json()["field"] == "code"


@pytest.mark.parametrize("role", ROLES)
def test_only_the_secretariat_reviews_candidates(clients, role):  # type: ignore[no-untyped-def]
    client = clients[role]
    page = client.get(SECRETARIAT_ONLY["candidates"])
    operation = client.get(SECRETARIAT_OPERATIONS["/map/candidates"])
    review = client.post(SECRETARIAT_ONLY["candidate_review"], {"decision": "dismissed", "note": "x"})
    if role == "anonymous":
        assert page.status_code == 302
        assert "/accounts/login/" in page["Location"]
        assert operation.status_code == 401
        assert review.status_code == 302
    elif role == Role.SECRETARIAT:
        assert page.status_code == 200
        assert operation.status_code == 200
        assert review.status_code == 404  # no candidate 1 in this test
    else:
        assert page.status_code == 403
        assert operation.status_code == 403
        assert review.status_code == 403
    assert client.get(SECRETARIAT_ONLY["candidate_review"]).status_code == 405
