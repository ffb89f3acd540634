"""Who may use which page and API operation of the working group: every URL and operation by every role.

Roles: anonymous, organisation representative, cluster manager, working-group member, secretariat, and a
reviewer (a member assigned to review ``world.application``). Applicants have no account: they hold the
private link's token, which every role can use as any visitor could.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib import import_module
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from socialclusters.tests.matrix import LOGIN, assert_answer
from socialclusters.web import Audience
from socialclusters.workinggroup import services
from socialclusters.workinggroup.api import router
from socialclusters.workinggroup.tests.factories import ROLES, World

pytestmark = pytest.mark.django_db

R = ROLES  # anonymous, representative, cluster_manager, member, secretariat, reviewer


def everyone(status: Any) -> dict[str, Any]:
    return dict.fromkeys(R, status)


PUBLIC = everyone(200)
SIGNED_IN = everyone(200) | {"anonymous": LOGIN}
SECRETARIAT_PAGE = everyone(403) | {"anonymous": LOGIN, "secretariat": 200}
SECRETARIAT_ACTION = everyone(403) | {"anonymous": LOGIN, "secretariat": 302}
HIDDEN_DRAFT = everyone(404) | {"secretariat": 200}
READERS_OF_APPLICATION = everyone(403) | {"anonymous": LOGIN, "secretariat": 200, "reviewer": 200}
OWN_REVIEW = everyone(404) | {"anonymous": LOGIN, "reviewer": 200}
MEMBERS = everyone(403) | {"anonymous": LOGIN, "member": 200, "secretariat": 200, "reviewer": 200}
# Meetings: the group's members (``member``) and the secretariat; other accounts do not see them (404).
GROUP_PAGE = everyone(404) | {"anonymous": LOGIN, "member": 200, "secretariat": 200}
GROUP_ACTION = everyone(404) | {"anonymous": LOGIN, "member": 302, "secretariat": 302}

Args = Callable[[World], dict[str, Any]]


def _none(_world: World) -> dict[str, Any]:
    return {}


def _call(world: World) -> dict[str, Any]:
    return {"slug": world.call.slug}


# (case, URL name, URL kwargs, method, POST data, expected status by role)
MATRIX: list[tuple[str, str, Args, str, Callable[[World], dict[str, Any]], dict[str, Any]]] = [
    ("calls", "call_list", _none, "get", _none, PUBLIC),
    ("call page", "call_detail", _call, "get", _none, PUBLIC),
    ("unpublished call page", "call_detail", lambda w: {"slug": w.draft.slug}, "get", _none, HIDDEN_DRAFT),
    ("application form", "apply", _call, "get", _none, PUBLIC),
    ("application form after the deadline", "apply", lambda w: {"slug": w.closed.slug}, "get", _none,
     everyone(410)),
    ("own application (private link)", "application_edit", lambda w: {"token": w.token}, "get", _none, PUBLIC),
    ("forged private link", "application_edit", lambda w: {"token": "forged:token"}, "get", _none, everyone(404)),
    ("erase own application", "application_erase", lambda w: {"token": w.token}, "post", _none, PUBLIC),
    ("new call", "call_create", _none, "get", _none, SECRETARIAT_PAGE),
    ("edit call", "call_edit", _call, "get", _none, SECRETARIAT_PAGE),
    ("applications dashboard", "dashboard", _call, "get", _none, SECRETARIAT_PAGE),
    ("assign a reviewer", "assign_reviewers", _call, "post",
     lambda w: {"reviewer": w.users["reviewer"].pk}, SECRETARIAT_ACTION),  # type: ignore[union-attr]
    ("selection", "selection", _call, "get", _none, SECRETARIAT_PAGE),
    # Without htmx the run's state sends the secretariat back to the selection page.
    ("selection run state", "selection_run_status", lambda w: {"slug": w.call.slug, "pk": w.run.pk}, "get", _none,
     SECRETARIAT_ACTION),
    ("record the decision", "decide", _call, "post", lambda w: {"run": w.run.pk, "rationale": "Balanced group."},
     SECRETARIAT_ACTION),
    ("decision emails", "decision_emails", _call, "get", _none, SECRETARIAT_PAGE),
    ("send the decisions", "send_decisions", _call, "post", _none, SECRETARIAT_ACTION),
    ("lock an applicant", "application_lock", lambda w: {"pk": w.application.pk}, "post", lambda w: {"lock": "in"},
     SECRETARIAT_ACTION),
    ("an applicant's CV", "application_cv", lambda w: {"pk": w.application.pk}, "get", _none,
     READERS_OF_APPLICATION),
    ("my reviews", "review_list", _none, "get", _none, SIGNED_IN),
    ("a review", "review_detail", lambda w: {"pk": w.assignment.pk}, "get", _none, OWN_REVIEW),
    ("members' area", "members", _none, "get", _none, MEMBERS),
    ("meetings", "meeting_list", _none, "get", _none, SIGNED_IN),
    ("a meeting", "meeting_detail", lambda w: {"pk": w.meeting.pk}, "get", _none, GROUP_PAGE),
    ("register for a meeting", "meeting_register", lambda w: {"pk": w.meeting.pk}, "post", _none, GROUP_ACTION),
    ("record attendance", "meeting_attendance", lambda w: {"pk": w.past_meeting.pk}, "post",
     lambda w: {"present": [w.users["member"].pk]}, SECRETARIAT_ACTION),  # type: ignore[union-attr]
    ("edit a meeting", "meeting_edit", lambda w: {"pk": w.meeting.pk}, "get", _none, SECRETARIAT_PAGE),
    ("a meeting document", "meeting_document", lambda w: {"pk": w.document.pk}, "get", _none, GROUP_PAGE),
    ("new meeting", "meeting_create", _call, "get", _none, SECRETARIAT_PAGE),
    ("the group's calendar", "group_calendar", _call, "get", _none, PUBLIC),
    ("a member's calendar", "member_calendar",
     lambda w: {"token": services.calendar_token(w.users["member"])}, "get", _none, PUBLIC),  # type: ignore[arg-type]
    ("a forged calendar link", "member_calendar", lambda w: {"token": "forged"}, "get", _none, everyone(404)),
    ("minutes", "minutes", lambda w: {"pk": w.past_meeting.pk}, "get", _none, GROUP_PAGE),
    ("write the minutes", "minutes", lambda w: {"pk": w.past_meeting.pk}, "post",
     lambda w: {"text": "We met.", "note": ""}, GROUP_ACTION),
    ("approve the minutes", "minutes_approve", lambda w: {"pk": w.past_meeting.pk}, "post", _none,
     SECRETARIAT_ACTION | {"secretariat": 302}),
    ("add an action", "action_item_add", lambda w: {"pk": w.past_meeting.pk}, "post",
     lambda w: {"title": "Write to the plenary"}, GROUP_ACTION),
    ("close an action", "action_item_done", lambda w: {"pk": w.action.pk}, "post", _none, GROUP_ACTION),
    ("work plan", "workplan", _call, "get", _none, GROUP_PAGE),
    ("add a milestone", "milestone_add", _call, "post",
     lambda w: {"title": "Plenary report", "kind": "plenary_report", "due_date": "2019-10-15"}, SECRETARIAT_ACTION),
    ("open a poll", "poll_open", lambda w: {"pk": w.past_meeting.pk}, "post",
     lambda w: {"question": "Next date?", "options": "June\nJuly"}, GROUP_ACTION),
    ("vote", "poll_vote", lambda w: {"pk": w.poll.pk}, "post", lambda w: {"option": "0"}, GROUP_ACTION),
    ("close a poll", "poll_close", lambda w: {"pk": w.poll.pk}, "post", _none, GROUP_ACTION),
    ("contributions", "contribution_list", _none, "get", _none, PUBLIC),
    ("a validated contribution", "contribution_detail", lambda w: {"pk": w.validated_contribution.pk}, "get",
     _none, PUBLIC),
    ("a draft contribution", "contribution_detail", lambda w: {"pk": w.draft_contribution.pk}, "get", _none,
     everyone(404) | {"member": 200, "secretariat": 200}),
    ("new contribution", "contribution_create", _call, "get", _none, GROUP_PAGE),
    ("edit a contribution", "contribution_edit", lambda w: {"pk": w.draft_contribution.pk}, "get", _none,
     GROUP_PAGE),
    ("comment on a contribution", "contribution_comment", lambda w: {"pk": w.draft_contribution.pk}, "post",
     lambda w: {"text": "Add examples."}, GROUP_ACTION),
    ("submit a contribution", "contribution_submit", lambda w: {"pk": w.draft_contribution.pk}, "post", _none,
     GROUP_ACTION),
    ("validate a contribution", "contribution_validate", lambda w: {"pk": w.draft_contribution.pk}, "post", _none,
     SECRETARIAT_ACTION),
    ("return a contribution", "contribution_return", lambda w: {"pk": w.draft_contribution.pk}, "post",
     lambda w: {"comment": "Cite sources."}, SECRETARIAT_ACTION),
    ("progress report", "progress_report", _call, "get", _none, GROUP_PAGE),
    ("record the continuation", "continuation", _call, "post",
     lambda w: {"decision": "continue", "decided_on": "2019-12-10", "reasons": "Good work."}, SECRETARIAT_ACTION),
    ("set a milestone's status", "milestone_status", lambda w: {"pk": w.milestone.pk}, "post",
     lambda w: {"status": "done"}, SECRETARIAT_ACTION),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("row", MATRIX, ids=[m[0] for m in MATRIX])
def test_who_may_use_each_page(world, role, row):
    case, name, args, method, data, expected = row
    assert_answer(world.users[role], method, reverse(f"workinggroup:{name}", kwargs=args(world)), data(world),
                  expected[role], case=f"{case} as {role}")


def test_the_matrix_covers_every_url_and_every_view_declares_its_audience():
    patterns = import_module("socialclusters.workinggroup.urls").urlpatterns
    assert {p.name for p in patterns} == {row[1] for row in MATRIX}
    for pattern in patterns:
        assert isinstance(getattr(pattern.callback, "access", None), Audience), pattern.name


def test_actions_refuse_get(world, client):
    client.force_login(world.users["secretariat"])
    for name, kwargs in (("assign_reviewers", {"slug": world.call.slug}), ("decide", {"slug": world.call.slug}),
                         ("send_decisions", {"slug": world.call.slug}),
                         ("application_lock", {"pk": world.application.pk}),
                         ("application_erase", {"token": world.token}),
                         ("meeting_register", {"pk": world.meeting.pk}),
                         ("meeting_attendance", {"pk": world.past_meeting.pk}),
                         ("minutes_approve", {"pk": world.past_meeting.pk}),
                         ("action_item_add", {"pk": world.past_meeting.pk}),
                         ("action_item_done", {"pk": world.action.pk}),
                         ("milestone_add", {"slug": world.call.slug}),
                         ("milestone_status", {"pk": world.milestone.pk}),
                         ("poll_open", {"pk": world.past_meeting.pk}), ("poll_vote", {"pk": world.poll.pk}),
                         ("poll_close", {"pk": world.poll.pk}),
                         ("contribution_comment", {"pk": world.draft_contribution.pk}),
                         ("contribution_submit", {"pk": world.draft_contribution.pk}),
                         ("contribution_validate", {"pk": world.draft_contribution.pk}),
                         ("contribution_return", {"pk": world.draft_contribution.pk}),
                         ("continuation", {"slug": world.call.slug})):
        assert client.get(reverse(f"workinggroup:{name}", kwargs=kwargs)).status_code == 405, name


# --- the API ---------------------------------------------------------------------------------------------

API = "/api/v1"
SIGNED_IN_API = everyone(200) | {"anonymous": 401}
SECRETARIAT_API = everyone(403) | {"anonymous": 401, "secretariat": 200}

# ("METHOD /api/v1/path" as in the OpenAPI schema, URL from the world, expected by role, JSON body)
API_TABLE: list[tuple[str, Callable[[World], str], dict[str, int], dict[str, Any] | None]] = [
    ("GET /api/v1/workinggroup/calls", lambda w: "/workinggroup/calls", everyone(200), None),
    ("GET /api/v1/workinggroup/calls/{slug}", lambda w: f"/workinggroup/calls/{w.call.slug}", everyone(200), None),
    ("GET /api/v1/workinggroup/calls/{slug}", lambda w: f"/workinggroup/calls/{w.draft.slug}",
     everyone(404) | {"secretariat": 200}, None),
    ("GET /api/v1/workinggroup/calls/{slug}/applications", lambda w: f"/workinggroup/calls/{w.call.slug}/applications",
     SECRETARIAT_API, None),
    ("GET /api/v1/workinggroup/calls/{slug}/selection", lambda w: f"/workinggroup/calls/{w.call.slug}/selection",
     SECRETARIAT_API, None),
    ("POST /api/v1/workinggroup/calls/{slug}/selection", lambda w: f"/workinggroup/calls/{w.call.slug}/selection",
     SECRETARIAT_API | {"secretariat": 201}, {"seats_min": 1, "seats_max": 2, "require_available": False}),
    ("GET /api/v1/workinggroup/reviews", lambda w: "/workinggroup/reviews", SIGNED_IN_API, None),
    ("GET /api/v1/workinggroup/members", lambda w: "/workinggroup/members",
     everyone(403) | {"anonymous": 401, "member": 200, "secretariat": 200, "reviewer": 200}, None),
    ("GET /api/v1/workinggroup/applications/{token}", lambda w: f"/workinggroup/applications/{w.token}",
     everyone(200), None),
    ("GET /api/v1/workinggroup/applications/{token}", lambda w: "/workinggroup/applications/forged",
     everyone(404), None),
    ("GET /api/v1/workinggroup/meetings", lambda w: "/workinggroup/meetings", SIGNED_IN_API, None),
    ("GET /api/v1/workinggroup/contributions", lambda w: "/workinggroup/contributions", everyone(200), None),
    ("GET /api/v1/workinggroup/calls/{slug}/workplan", lambda w: f"/workinggroup/calls/{w.call.slug}/workplan",
     everyone(404) | {"anonymous": 401, "member": 200, "secretariat": 200}, None),
    ("GET /api/v1/workinggroup/contributions/{id}",
     lambda w: f"/workinggroup/contributions/{w.validated_contribution.pk}", everyone(200), None),
    ("GET /api/v1/workinggroup/contributions/{id}",
     lambda w: f"/workinggroup/contributions/{w.draft_contribution.pk}",
     everyone(404) | {"member": 200, "secretariat": 200}, None),
    ("GET /api/v1/workinggroup/meetings/{id}", lambda w: f"/workinggroup/meetings/{w.meeting.pk}",
     everyone(404) | {"anonymous": 401, "member": 200, "secretariat": 200}, None),
]


def test_every_operation_has_a_row(client):
    schema = client.get(f"{API}/openapi.json").json()
    owned = {f"{API}{path}" for path in router.path_operations}
    operations = {f"{method.upper()} {path}" for path, methods in schema["paths"].items() for method in methods
                  if path in owned}
    assert operations == {row[0] for row in API_TABLE}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("row", API_TABLE, ids=[f"{r[0]} {i}" for i, r in enumerate(API_TABLE)])
def test_api_authorisation(world, role, row):
    operation, url, expected, body = row
    client = Client(enforce_csrf_checks=True)
    if world.users[role] is not None:
        client.force_login(world.users[role])
    method = operation.split(" ", 1)[0]
    if method == "GET":
        response = client.get(API + url(world))
    else:
        client.get(f"{API}/docs")  # sets the CSRF cookie, as the site's pages do
        token = client.cookies["csrftoken"].value if "csrftoken" in client.cookies else ""
        response = client.post(API + url(world), data=json.dumps(body or {}), content_type="application/json",
                               HTTP_X_CSRFTOKEN=token)
    assert response.status_code == expected[role], response.content[:300]
    if response.status_code >= 400:
        assert set(response.json()) >= {"detail", "field"}
