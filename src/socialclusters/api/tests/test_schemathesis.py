"""A schemathesis run over the OpenAPI schema: no generated request may cause a server error.

Schemathesis reads /api/v1/openapi.json from the real WSGI application (every middleware included),
generates requests for every operation (valid ones and ones that break the schema) and checks
``not_a_server_error``. Requests to the signed-in operations are sent three times: anonymously, as
the manager of the test clusters and as the secretariat (session cookie and CSRF token), so they are
exercised past their authentication; requests to public operations go as one of the three in turn.
Half of the generated ids are aimed at objects that exist, so the operations are exercised past
"not found" too.

It runs inside the test's database transaction (pytest-django's ``db``), on SQLite and PostgreSQL.
Hypothesis is bounded so the run takes a minute or two: ``max_examples=25`` per operation, no
deadline (the first request of an operation may be slow), and the phases that replay a database of
earlier failures or shrink examples at length are left out.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils.crypto import get_random_string
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error

from socialclusters.api.tests.conftest import API, World, client_for

CALLERS = ("anonymous", "manager_own", "secretariat")


# The project's real WSGI application, every middleware included.
APP = WSGIHandler()


@pytest.fixture
def in_test_transaction(db):  # type: ignore[no-untyped-def]
    # Django's test client detaches ``close_old_connections`` around each request; a raw WSGI app must
    # too, or the end of each request would close the connection that holds the test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def credentials(world: World) -> dict[str, dict[str, Any]]:
    """Cookies and headers of each caller: a real session, and a CSRF secret sent as cookie and header."""
    result: dict[str, dict[str, Any]] = {"anonymous": {"cookies": {}, "headers": {}}}
    for role in CALLERS[1:]:
        session = client_for(world.users[role]).cookies[django_settings.SESSION_COOKIE_NAME].value
        token = get_random_string(32)
        result[role] = {
            "cookies": {django_settings.SESSION_COOKIE_NAME: session, django_settings.CSRF_COOKIE_NAME: token},
            "headers": {"X-CSRFToken": token},
        }
    return result


def aim_at_existing_objects(case: Any, world: World) -> None:
    """Point half of the generated ids (the even ones) at objects of the test registry."""
    params = case.path_parameters or {}
    path = case.operation.path
    value = params.get("id")
    if isinstance(value, int) and not isinstance(value, bool) and value % 2 == 0:
        if path.startswith(f"{API}/clusters/"):
            pool = [world.published.pk, world.draft.pk, world.other.pk]
        elif path.startswith(f"{API}/organisations/"):
            pool = [world.paris.pk, world.lyon.pk, world.berlin.pk, world.member_org.pk]
        else:
            pool = [world.change.pk]
        params["id"] = pool[(value // 2) % len(pool)]
    code = params.get("code")
    if isinstance(code, str) and len(code) % 2 == 0:
        params["code"] = ["FR101", "FR1", "DE", "EL30", "FR10"][len(code) % 5]


def callers_for(case: Any) -> tuple[str, ...]:
    """Every caller for the signed-in operations; one, in turn, for the public ones (to keep the run short)."""
    if case.operation.definition.raw.get("security"):
        return CALLERS
    return (CALLERS[len(repr(case.query)) % len(CALLERS)],)


# Loaded at collection: producing the OpenAPI schema reads no database. (``schemathesis.pytest.from_fixture``
# would run every operation as a subtest of one test, but it relies on a pytest attribute pytest 9.2 removed.)
schema = schemathesis.openapi.from_wsgi(f"{API}/openapi.json", APP)


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_no_server_errors(case, in_test_transaction, world, credentials):  # type: ignore[no-untyped-def]
    aim_at_existing_objects(case, world)
    for caller in callers_for(case):
        case.call_and_validate(
            checks=[not_a_server_error],
            headers=credentials[caller]["headers"],
            cookies=credentials[caller]["cookies"],
        )
