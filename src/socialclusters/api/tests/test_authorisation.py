"""Who may call what: every API operation by every role, driven from one table.

Each row names an operation as the OpenAPI schema does ("METHOD path"), how to call it on the test
registry (``world``), and the status each role gets. ``manager_own`` manages the object the row
touches; ``manager_other`` manages another cluster. A new operation without a row fails
``test_every_operation_has_a_row``. Unsafe methods send the CSRF token, as a browser would.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from socialclusters.api.registry import router as registry_router
from socialclusters.api.tests.conftest import API, ROLES, World, client_for

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Row:
    operation: str  # "METHOD /api/v1/path/{param}" exactly as in the OpenAPI schema
    url: Callable[[World], str]
    expected: dict[str, int]  # role → status
    body: dict[str, Any] | None = None
    note: str = ""


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(ROLES, status)


SIGNED_IN = {**everyone(200), "anonymous": 401}
MANAGERS_AND_SECRETARIAT_CREATE = {
    "anonymous": 401, "representative": 403, "manager_own": 201, "manager_other": 403, "member": 403,
    "secretariat": 201,
}
SECRETARIAT_ONLY = {**everyone(403), "anonymous": 401, "secretariat": 200}

TABLE: list[Row] = [
    Row("GET /api/v1/overview", lambda w: "/overview", everyone(200)),
    Row("GET /api/v1/overview/chart.svg", lambda w: "/overview/chart.svg?by=family", everyone(200)),
    Row("GET /api/v1/overview/chart.png", lambda w: "/overview/chart.png", everyone(200)),
    Row("GET /api/v1/organisations", lambda w: "/organisations?country=FR", everyone(200)),
    Row("GET /api/v1/organisations.csv", lambda w: "/organisations.csv", everyone(200)),
    Row("GET /api/v1/organisations.geojson", lambda w: "/organisations.geojson", everyone(200)),
    Row("GET /api/v1/organisations/{id}", lambda w: f"/organisations/{w.paris.pk}", everyone(200)),
    Row("GET /api/v1/organisations", lambda w: f"/organisations?cluster={w.draft.pk}",
        {**everyone(400), "manager_own": 200, "secretariat": 200}, note="members of a draft cluster"),
    Row("GET /api/v1/clusters", lambda w: "/clusters", everyone(200)),
    Row("GET /api/v1/clusters.csv", lambda w: "/clusters.csv", everyone(200)),
    Row("GET /api/v1/clusters.geojson", lambda w: "/clusters.geojson", everyone(200)),
    Row("GET /api/v1/clusters/{id}", lambda w: f"/clusters/{w.published.pk}", everyone(200), note="published"),
    Row("GET /api/v1/clusters/{id}", lambda w: f"/clusters/{w.draft.pk}",
        {**everyone(404), "manager_own": 200, "secretariat": 200}, note="draft"),
    Row("GET /api/v1/regions", lambda w: "/regions?level=1&country=FR", everyone(200)),
    Row("GET /api/v1/regions.geojson", lambda w: "/regions.geojson?level=1", everyone(200)),
    Row("GET /api/v1/regions/{code}", lambda w: "/regions/FR101", everyone(200)),
    Row("GET /api/v1/sectors", lambda w: "/sectors?level=division", everyone(200)),
    Row("GET /api/v1/countries", lambda w: "/countries", everyone(200)),
    Row("GET /api/v1/changes", lambda w: "/changes", SIGNED_IN),
    Row("POST /api/v1/clusters/{id}/changes", lambda w: f"/clusters/{w.published.pk}/changes",
        MANAGERS_AND_SECRETARIAT_CREATE, body={"description": "Matrix edit"}),
    Row("POST /api/v1/clusters/{id}/changes", lambda w: f"/clusters/{w.draft.pk}/changes",
        {**everyone(404), "anonymous": 401, "manager_own": 201, "secretariat": 201},
        body={"description": "Matrix edit"}, note="draft: hidden from non-managers"),
    Row("POST /api/v1/organisations/{id}/changes", lambda w: f"/organisations/{w.paris.pk}/changes",
        MANAGERS_AND_SECRETARIAT_CREATE, body={"city": "Paris 11e"}),
    Row("POST /api/v1/changes/{id}/validate", lambda w: f"/changes/{w.change.pk}/validate", SECRETARIAT_ONLY),
    Row("POST /api/v1/changes/{id}/return", lambda w: f"/changes/{w.change.pk}/return", SECRETARIAT_ONLY,
        body={"reason": "Please add a source."}),
    Row("GET /api/v1/duplicates", lambda w: "/duplicates", SECRETARIAT_ONLY),
]


def _id(row: Row) -> str:
    return f"{row.operation} {row.note}".strip()


def test_every_operation_has_a_row(client):
    # This table covers the registry's router; every other app's router has its own matrix in its tests.
    schema = client.get(f"{API}/openapi.json").json()
    owned = {f"{API}{path}" for path in registry_router.path_operations}
    operations = {f"{method.upper()} {path}" for path, methods in schema["paths"].items() for method in methods
                  if path in owned}
    covered = {row.operation for row in TABLE}
    assert operations - covered == set(), "add these operations to the authorisation table"
    assert covered - operations == set(), "these rows name operations the API no longer has"


def test_every_row_names_every_role():
    for row in TABLE:
        assert set(row.expected) == set(ROLES), _id(row)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("row", TABLE, ids=_id)
def test_authorisation_matrix(world, row, role):
    client = client_for(world.users[role], enforce_csrf=True)
    method, _ = row.operation.split(" ", 1)
    url = API + row.url(world)
    if method == "GET":
        response = client.get(url)
    else:
        client.get(f"{API}/docs")  # sets the CSRF cookie, as the site's pages do
        token = client.cookies["csrftoken"].value
        response = client.post(url, data=json.dumps(row.body or {}), content_type="application/json",
                               HTTP_X_CSRFTOKEN=token)
    content = b"".join(response.streaming_content) if response.streaming else response.content
    assert response.status_code == row.expected[role], content[:300]
    if response.status_code >= 400:
        assert set(json.loads(content)) >= {"detail", "field"}
