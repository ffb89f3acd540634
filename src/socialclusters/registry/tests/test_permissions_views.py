"""Who may use which page: every URL of the registry and accounts apps by every role, from one table.

Roles: anonymous, organisation representative, the cluster manager who manages the object,
a cluster manager who does not, a working-group member, and the secretariat.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.urls import URLPattern, get_resolver, reverse

from socialclusters.registry.tests.webworld import ROLES, World, build_world
from socialclusters.tests.matrix import LOGIN, assert_answer
from socialclusters.web import Audience

R = ROLES  # anonymous, representative, manager_own, manager_other, member, secretariat

PUBLIC = dict.fromkeys(R, 200)
SIGNED_IN = {"anonymous": LOGIN} | dict.fromkeys(R[1:], 200)
SECRETARIAT_PAGE = {"anonymous": LOGIN} | dict.fromkeys(R[1:5], 403) | {"secretariat": 200}
SECRETARIAT_ACTION = {"anonymous": LOGIN} | dict.fromkeys(R[1:5], 403) | {"secretariat": 302}
MANAGERS_ONLY = {"anonymous": LOGIN, "representative": 403, "manager_own": 200, "manager_other": 403,
                 "member": 403, "secretariat": 200}
# A draft is invisible (404) to everyone but its managers and the secretariat.
DRAFT_PAGE = {"anonymous": 404, "representative": 404, "manager_own": 200, "manager_other": 404, "member": 404,
              "secretariat": 200}
DRAFT_EDIT = DRAFT_PAGE | {"anonymous": LOGIN}
# Signed-in people are sent on from the sign-in page.
SIGN_IN_PAGE = {"anonymous": 200} | dict.fromkeys(R[1:], 302)

Args = Callable[[World], dict[str, Any]]


def _none(_world: World) -> dict[str, Any]:
    return {}


# (case, URL name, URL kwargs from the world, method, POST data, expected status by role)
MATRIX: list[tuple[str, str, Args, str, dict[str, str], dict[str, Any]]] = [
    ("home", "home", _none, "get", {}, PUBLIC),
    ("organisation list", "organisation_list", _none, "get", {}, PUBLIC),
    ("organisation page", "organisation_detail", lambda w: {"pk": w.paris.pk}, "get", {}, PUBLIC),
    ("organisation edit", "organisation_edit", lambda w: {"pk": w.paris.pk}, "get", {}, MANAGERS_ONLY),
    ("cluster list", "cluster_list", _none, "get", {}, PUBLIC),
    ("cluster page", "cluster_detail", lambda w: {"pk": w.published.pk}, "get", {}, PUBLIC),
    ("draft cluster page", "cluster_detail", lambda w: {"pk": w.draft.pk}, "get", {}, DRAFT_PAGE),
    ("cluster edit", "cluster_edit", lambda w: {"pk": w.published.pk}, "get", {}, MANAGERS_ONLY),
    ("draft cluster edit", "cluster_edit", lambda w: {"pk": w.draft.pk}, "get", {}, DRAFT_EDIT),
    ("region page", "region_detail", lambda w: {"code": "FR101"}, "get", {}, PUBLIC),
    ("my profiles", "my_profiles", _none, "get", {}, SIGNED_IN),
    ("validation queue", "validation_queue", _none, "get", {}, SECRETARIAT_PAGE),
    ("validate a change", "change_validate", lambda w: {"pk": w.change.pk}, "post", {}, SECRETARIAT_ACTION),
    ("return a change", "change_return", lambda w: {"pk": w.change.pk}, "post", {"reason": "Too vague"},
     SECRETARIAT_ACTION),
    ("duplicates", "duplicate_list", _none, "get", {}, SECRETARIAT_PAGE),
    ("decide a duplicate", "duplicate_decide", lambda w: {"pk": w.duplicate.pk}, "post", {"decision": "dismiss"},
     SECRETARIAT_ACTION),
    ("sign in", "accounts:login", _none, "get", {}, SIGN_IN_PAGE),
    ("sign out", "accounts:logout", _none, "post", {}, dict.fromkeys(R, 302)),
    ("change password", "accounts:password_change", _none, "get", {}, SIGNED_IN),
    ("password changed", "accounts:password_change_done", _none, "get", {}, SIGNED_IN),
    ("reset password", "accounts:password_reset", _none, "get", {}, PUBLIC),
    ("reset link sent", "accounts:password_reset_done", _none, "get", {}, PUBLIC),
    ("reset link", "accounts:password_reset_confirm", lambda w: {"uidb64": "MQ", "token": "bad-token"}, "get", {},
     PUBLIC),
    ("password reset done", "accounts:password_reset_complete", _none, "get", {}, PUBLIC),
]


@pytest.fixture
def world(make_user) -> World:  # type: ignore[no-untyped-def]
    return build_world(make_user)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("row", MATRIX, ids=[m[0] for m in MATRIX])
def test_who_may_use_each_page(world, role, row):  # type: ignore[no-untyped-def]
    case, name, args, method, data, expected = row
    assert_answer(world.users[role], method, reverse(name, kwargs=args(world)), data, expected[role],
                  case=f"{case} as {role}")


def _patterns(urlconf_module: str) -> list[URLPattern]:
    from importlib import import_module

    return list(import_module(urlconf_module).urlpatterns)


def test_the_matrix_covers_every_url_of_registry_and_accounts():
    tested = {name for _case, name, *_rest in MATRIX}
    names = {p.name for p in _patterns("socialclusters.registry.urls")}
    names |= {f"accounts:{p.name}" for p in _patterns("socialclusters.accounts.urls")}
    assert names - tested == set(), "URLs missing from the permission matrix"
    assert tested - names == set()


def test_every_view_declares_its_audience():
    for module in ("socialclusters.registry.urls", "socialclusters.accounts.urls"):
        for pattern in _patterns(module):
            assert isinstance(getattr(pattern.callback, "access", None), Audience), (
                f"{module}: view '{pattern.name}' does not declare who may use it (wrap it in web.access)"
            )
    assert get_resolver() is not None


def test_post_only_actions_refuse_get(world, client):  # type: ignore[no-untyped-def]
    client.force_login(world.users["secretariat"])
    for name, pk in (("change_validate", world.change.pk), ("change_return", world.change.pk),
                     ("duplicate_decide", world.duplicate.pk)):
        assert client.get(reverse(name, kwargs={"pk": pk})).status_code == 405
    assert client.get(reverse("accounts:logout")).status_code == 405
