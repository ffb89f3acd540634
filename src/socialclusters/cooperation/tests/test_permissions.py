"""Who may use which cooperation page and API operation, by every role, from one table each.

The pages are asked and checked through ``socialclusters.tests.matrix`` (shared with the other apps' matrices);
the API operations are asked here, with CSRF checks enforced.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from socialclusters.cooperation import urls
from socialclusters.cooperation.api import router
from socialclusters.cooperation.models import MatchingSettings, ScheduleBuild
from socialclusters.cooperation.tests.world import ROLES, World, build_world
from socialclusters.tests.matrix import LOGIN, assert_answer
from socialclusters.web import Audience

R = ROLES
PUBLIC = dict.fromkeys(R, 200)
SIGNED_IN = {"anonymous": LOGIN} | dict.fromkeys(R[1:], 200)
SIGNED_IN_ACTION = {"anonymous": LOGIN} | dict.fromkeys(R[1:], 302)
SECRETARIAT_PAGE = {"anonymous": LOGIN} | dict.fromkeys(R[1:5], 403) | {"secretariat": 200}
SECRETARIAT_ACTION = {"anonymous": LOGIN} | dict.fromkeys(R[1:5], 403) | {"secretariat": 302}
# Only the owner's managers (and the secretariat) may act on atelier's profile.
OWNER_ACTION = {"anonymous": LOGIN, "representative": 403, "manager_own": 302, "manager_other": 403, "member": 403,
                "secretariat": 302}
OWNER_PAGE = OWNER_ACTION | {"manager_own": 200, "secretariat": 200}
DRAFT_PAGE = {"anonymous": 404, "representative": 404, "manager_own": 200, "manager_other": 404, "member": 404,
              "secretariat": 200}
# The buyer's managers may express interest (a second one is a conflict shown on the page: 302); others manage
# no organisation the form can offer (400).
INTEREST = {"anonymous": LOGIN, "representative": 400, "manager_own": 400, "manager_other": 302, "member": 400,
            "secretariat": 400}
# The parties to an interest (and the secretariat) see it; others get 404.
PARTIES = {"anonymous": LOGIN, "representative": 404, "manager_own": 200, "manager_other": 200, "member": 404,
           "secretariat": 200}
ANSWER = {"anonymous": LOGIN, "representative": 404, "manager_own": 302, "manager_other": 403, "member": 404,
          "secretariat": 302}
BUYER_ACTION = {"anonymous": LOGIN, "representative": 403, "manager_own": 403, "manager_other": 302, "member": 403,
                "secretariat": 302}
BUYER_PAGE = BUYER_ACTION | {"manager_other": 200, "secretariat": 200}
# A cluster's profile: the cluster's managers (manager_own) and the secretariat; managing the cluster organisation
# that runs it (manager_other) is not enough.
CLUSTER_ACTION = {"anonymous": LOGIN, "representative": 403, "manager_own": 302, "manager_other": 403,
                  "member": 403, "secretariat": 302}
CLUSTER_PAGE = CLUSTER_ACTION | {"manager_own": 200, "secretariat": 200}

Args = Callable[[World], dict[str, Any]]


def _none(_w: World) -> dict[str, Any]:
    return {}


def _build(w: World) -> int:
    return ScheduleBuild.objects.create(event=w.event, created_by=w.users["manager_own"], time_limit=1.0).pk


MATRIX: list[tuple[str, str, Args, str, dict[str, Any], dict[str, Any]]] = [
    ("home", "home", _none, "get", {}, PUBLIC),
    ("new profile", "profile_new", _none, "get", {}, SIGNED_IN | {"representative": 302, "member": 302,
                                                                  "secretariat": 302}),
    ("profile", "profile_detail", lambda w: {"pk": w.published.pk}, "get", {}, PUBLIC),
    ("draft profile", "profile_detail", lambda w: {"pk": w.draft.pk}, "get", {}, DRAFT_PAGE),
    ("edit profile", "profile_edit", lambda w: {"pk": w.published.pk}, "get", {}, OWNER_PAGE),
    ("interest in profile", "profile_interest", lambda w: {"pk": w.published.pk}, "post",
     {"organisation": "0", "message": "Hello"}, INTEREST),
    ("review a profile", "profile_review", lambda w: {"pk": w.draft.pk}, "post", {"decision": "approve"},
     SECRETARIAT_ACTION),
    ("renew a profile", "profile_action", lambda w: {"pk": w.published.pk, "action": "renew"}, "post", {},
     OWNER_ACTION),
    ("new opportunity", "opportunity_new", _none, "get", {}, SIGNED_IN | {"representative": 302, "member": 302,
                                                                          "secretariat": 302}),
    ("opportunity", "opportunity_detail", lambda w: {"pk": w.opportunity.pk}, "get", {}, PUBLIC),
    ("follow an opportunity", "opportunity_action", lambda w: {"pk": w.opportunity.pk, "action": "follow"}, "post",
     {}, SIGNED_IN_ACTION),
    ("close an opportunity", "opportunity_action", lambda w: {"pk": w.opportunity.pk, "action": "close"}, "post",
     {}, BUYER_ACTION),
    ("withdraw an opportunity", "opportunity_action", lambda w: {"pk": w.opportunity.pk, "action": "withdraw"},
     "post", {}, BUYER_ACTION),
    ("edit an opportunity", "opportunity_edit", lambda w: {"pk": w.opportunity.pk}, "get", {}, BUYER_PAGE),
    ("cluster's profile", "profile_detail", lambda w: {"pk": w.cluster_profile.pk}, "get", {}, PUBLIC),
    ("edit a cluster's profile", "profile_edit", lambda w: {"pk": w.cluster_profile.pk}, "get", {}, CLUSTER_PAGE),
    ("renew a cluster's profile", "profile_action", lambda w: {"pk": w.cluster_profile.pk, "action": "renew"},
     "post", {}, CLUSTER_ACTION),
    ("withdraw a cluster's profile", "profile_action",
     lambda w: {"pk": w.cluster_profile.pk, "action": "withdraw"}, "post", {}, CLUSTER_ACTION),
    ("interest", "interest_detail", lambda w: {"pk": w.interest.pk}, "get", {}, PARTIES),
    ("answer an interest", "interest_answer", lambda w: {"pk": w.interest.pk}, "post", {"decision": "accept"},
     ANSWER),
    ("inbox", "inbox", _none, "get", {}, SIGNED_IN),
    ("my cooperation", "mine", _none, "get", {}, SIGNED_IN),
    ("opt out", "opt_out", lambda w: {"pk": w.atelier.pk}, "post", {"opted_out": "1"}, OWNER_ACTION),
    ("record a contract", "contract_new", _none, "get", {}, SIGNED_IN),
    ("procurement figures", "procurement", _none, "get", {}, PUBLIC),
    ("suggestions", "suggestions", lambda w: {}, "get", {}, dict.fromkeys(R, 400)),
    ("cross-border", "cross_border", _none, "get", {}, PUBLIC),
    ("learning pairs", "learning", _none, "get", {}, PUBLIC),
    ("cross-border chart", "cross_border_chart", lambda w: {"fmt": "svg"}, "get", {}, PUBLIC),
    ("events", "event_list", _none, "get", {}, PUBLIC),
    ("new event", "event_new", _none, "get", {}, {"anonymous": LOGIN, "representative": 403, "manager_own": 200,
                                                   "manager_other": 403, "member": 403, "secretariat": 200}),
    ("event", "event_detail", lambda w: {"pk": w.event.pk}, "get", {}, PUBLIC),
    ("register", "event_register", lambda w: {"pk": w.event.pk}, "post", {"available_slots": ["1"]},
     SIGNED_IN_ACTION),
    # Asking oneself is refused (400); manager_other already asked (a conflict shown on the page: 302).
    ("request a meeting", "event_request", lambda w: {"pk": w.event.pk}, "post", {"invitee": "p"},
     {"anonymous": LOGIN, "representative": 403, "manager_own": 400, "manager_other": 302, "member": 403,
      "secretariat": 403}),
    ("answer a meeting", "event_answer", lambda w: {"pk": w.event.pk, "request_pk": w.meeting.pk}, "post",
     {"decision": "accept"}, {"anonymous": LOGIN, "representative": 403, "manager_own": 302, "manager_other": 403,
                              "member": 403, "secretariat": 403}),
    ("build the schedule", "event_schedule", lambda w: {"pk": w.event.pk}, "post", {},
     {"anonymous": LOGIN, "representative": 403, "manager_own": 302, "manager_other": 403, "member": 403,
      "secretariat": 302}),
    # Without htmx the status address leads back to the page that polls it (302); only its organisers follow it.
    ("follow a schedule build", "event_schedule_status", lambda w: {"pk": w.event.pk, "build_pk": _build(w)}, "get",
     {}, {"anonymous": LOGIN, "representative": 403, "manager_own": 302, "manager_other": 403, "member": 403,
          "secretariat": 302}),
    ("agenda", "event_agenda", lambda w: {"pk": w.event.pk}, "get", {},
     {"anonymous": LOGIN, "representative": 404, "manager_own": 200, "manager_other": 200, "member": 404,
      "secretariat": 404}),
    ("agenda calendar", "event_agenda_ics", lambda w: {"pk": w.event.pk}, "get", {},
     {"anonymous": LOGIN, "representative": 404, "manager_own": 200, "manager_other": 200, "member": 404,
      "secretariat": 404}),
    ("printable schedule", "event_print", lambda w: {"pk": w.event.pk}, "get", {},
     {"anonymous": LOGIN, "representative": 403, "manager_own": 200, "manager_other": 403, "member": 403,
      "secretariat": 200}),
    ("review queue", "review_queue", _none, "get", {}, SECRETARIAT_PAGE),
    ("settings", "settings", _none, "get", {}, SECRETARIAT_PAGE),
]


@pytest.fixture
def world(make_user) -> World:  # type: ignore[no-untyped-def]
    return build_world(make_user)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("row", MATRIX, ids=[m[0] for m in MATRIX])
def test_who_may_use_each_page(world, role, row):  # type: ignore[no-untyped-def]
    case, name, args, method, data, expected = row
    own = world.event.participants.get(user=world.users["manager_own"]).pk
    data = {key: (world.buyer.pk if value == "0" else own if value == "p" else value) for key, value in data.items()}
    assert_answer(world.users[role], method, reverse(f"cooperation:{name}", kwargs=args(world)), data,
                  expected[role], case=f"{case} as {role}")


def test_the_matrix_covers_every_url():
    assert {p.name for p in urls.urlpatterns} == {name for _c, name, *_rest in MATRIX}


def test_every_view_declares_its_audience():
    for pattern in urls.urlpatterns:
        assert isinstance(getattr(pattern.callback, "access", None), Audience), pattern.name


# --- the API ----------------------------------------------------------------------------------------------

API = "/api/v1"
SIGNED = {**dict.fromkeys(R, 200), "anonymous": 401}
SECRETARIAT_ONLY = {**dict.fromkeys(R, 403), "anonymous": 401, "secretariat": 200}
API_TABLE: list[tuple[str, Callable[[World], str], dict[str, int], Callable[[World], dict[str, Any]] | None]] = [
    ("GET /cooperation/profiles", lambda w: "/cooperation/profiles", dict.fromkeys(R, 200), None),
    ("GET /cooperation/profiles/{id}", lambda w: f"/cooperation/profiles/{w.draft.pk}",
     {**dict.fromkeys(R, 404), "manager_own": 200, "secretariat": 200}, None),
    ("POST /cooperation/profiles", lambda w: "/cooperation/profiles",
     {**dict.fromkeys(R, 403), "anonymous": 401, "manager_own": 201, "secretariat": 201},
     lambda w: {"organisation": w.atelier.pk, "kind": "offer", "title": "Ironing", "description": "We iron."}),
    ("POST /cooperation/profiles/{id}/publish", lambda w: f"/cooperation/profiles/{w.draft.pk}/publish",
     {**dict.fromkeys(R, 404), "anonymous": 401, "manager_own": 200, "secretariat": 200}, None),
    ("POST /cooperation/profiles/{id}/interests", lambda w: f"/cooperation/profiles/{w.published.pk}/interests",
     {**dict.fromkeys(R, 403), "anonymous": 401, "manager_other": 409, "secretariat": 409},
     lambda w: {"organisation": w.buyer.pk, "message": "Again"}),
    ("GET /cooperation/opportunities", lambda w: "/cooperation/opportunities", dict.fromkeys(R, 200), None),
    ("GET /cooperation/opportunities/{id}", lambda w: f"/cooperation/opportunities/{w.opportunity.pk}",
     dict.fromkeys(R, 200), None),
    ("POST /cooperation/opportunities", lambda w: "/cooperation/opportunities",
     {**dict.fromkeys(R, 403), "anonymous": 401, "manager_other": 201, "secretariat": 201},
     lambda w: {"organisation": w.buyer.pk, "title": "Towels", "description": "Towels washed", "deadline": "2099-01-01",
                "value_band": "lt10k", "how_to_answer": "Email us"}),
    ("POST /cooperation/opportunities/{id}/interests",
     lambda w: f"/cooperation/opportunities/{w.opportunity.pk}/interests",
     {**dict.fromkeys(R, 403), "anonymous": 401, "manager_own": 201, "secretariat": 201},
     lambda w: {"organisation": w.atelier.pk, "message": "We can."}),
    ("GET /cooperation/interests", lambda w: "/cooperation/interests", SIGNED, None),
    ("GET /cooperation/interests/{id}", lambda w: f"/cooperation/interests/{w.interest.pk}",
     {**dict.fromkeys(R, 404), "anonymous": 401, "manager_own": 200, "manager_other": 200, "secretariat": 200}, None),
    ("POST /cooperation/interests/{id}/answer", lambda w: f"/cooperation/interests/{w.interest.pk}/answer",
     {**dict.fromkeys(R, 404), "anonymous": 401, "manager_own": 200, "manager_other": 403, "secretariat": 200},
     lambda w: {"accept": True}),
    ("GET /cooperation/inbox", lambda w: "/cooperation/inbox", SIGNED, None),
    ("POST /cooperation/contracts", lambda w: "/cooperation/contracts",
     {**dict.fromkeys(R, 403), "anonymous": 401, "manager_own": 201, "manager_other": 201, "secretariat": 201},
     lambda w: {"buyer": w.buyer.pk, "supplier": w.atelier.pk, "value_band": "10k-50k", "signed_on": "2026-01-15"}),
    ("GET /cooperation/procurement/regions", lambda w: "/cooperation/procurement/regions?level=3",
     dict.fromkeys(R, 200), None),
    ("GET /cooperation/procurement/sectors", lambda w: "/cooperation/procurement/sectors", dict.fromkeys(R, 200), None),
    ("GET /cooperation/procurement/clusters", lambda w: "/cooperation/procurement/clusters", dict.fromkeys(R, 200),
     None),
    ("GET /cooperation/cross-border", lambda w: "/cooperation/cross-border", dict.fromkeys(R, 200), None),
    ("GET /cooperation/suggestions", lambda w: f"/cooperation/suggestions?organisation={w.buyer.pk}",
     dict.fromkeys(R, 200), None),
    ("GET /cooperation/learning", lambda w: "/cooperation/learning?region=FR101", dict.fromkeys(R, 200), None),
    ("GET /cooperation/events", lambda w: "/cooperation/events", dict.fromkeys(R, 200), None),
    ("GET /cooperation/events/{id}", lambda w: f"/cooperation/events/{w.event.pk}", dict.fromkeys(R, 200), None),
    ("GET /cooperation/events/{id}/agenda", lambda w: f"/cooperation/events/{w.event.pk}/agenda",
     {**dict.fromkeys(R, 404), "anonymous": 401, "manager_own": 200, "manager_other": 200}, None),
    ("GET /cooperation/review", lambda w: "/cooperation/review", SECRETARIAT_ONLY, None),
    ("GET /cooperation/settings", lambda w: "/cooperation/settings", SECRETARIAT_ONLY, None),
    ("PUT /cooperation/settings", lambda w: "/cooperation/settings", SECRETARIAT_ONLY,
     lambda w: dict.fromkeys(MatchingSettings.WEIGHT_FIELDS, 1) | {"review_before_publication": True,
                                                                   "profile_lifetime_days": 180}),
    # Cluster profiles: only the cluster's managers (manager_own) and the secretariat.
    ("POST /cooperation/profiles", lambda w: "/cooperation/profiles",
     {**dict.fromkeys(R, 403), "anonymous": 401, "manager_own": 201, "secretariat": 201},
     lambda w: {"cluster": w.cluster.pk, "kind": "offer", "title": "Shared laundry", "description": "Together."}),
    ("PUT /cooperation/profiles/{id}", lambda w: f"/cooperation/profiles/{w.published.pk}",
     {**dict.fromkeys(R, 403), "anonymous": 401, "manager_own": 200, "secretariat": 200},
     lambda w: {"kind": "offer", "title": "Laundry and ironing", "description": "We wash and iron."}),
    ("PUT /cooperation/profiles/{id}", lambda w: f"/cooperation/profiles/{w.cluster_profile.pk}",
     {**dict.fromkeys(R, 403), "anonymous": 401, "manager_own": 200, "secretariat": 200},
     lambda w: {"cluster": w.cluster.pk, "kind": "request", "seeking": ["buyers"], "title": "Hotels wanted",
                "description": "Hotels with linen."}),
    ("POST /cooperation/profiles/{id}/renew", lambda w: f"/cooperation/profiles/{w.cluster_profile.pk}/renew",
     {**dict.fromkeys(R, 403), "anonymous": 401, "manager_own": 200, "secretariat": 200}, None),
    ("POST /cooperation/profiles/{id}/withdraw", lambda w: f"/cooperation/profiles/{w.published.pk}/withdraw",
     {**dict.fromkeys(R, 403), "anonymous": 401, "manager_own": 200, "secretariat": 200}, None),
    ("PUT /cooperation/opportunities/{id}", lambda w: f"/cooperation/opportunities/{w.opportunity.pk}",
     {**dict.fromkeys(R, 403), "anonymous": 401, "manager_other": 200, "secretariat": 200},
     lambda w: {"title": "Uniform and towel washing", "description": "Weekly.", "deadline": "2099-01-01",
                "value_band": "50k-250k", "how_to_answer": "Email us"}),
    ("POST /cooperation/opportunities/{id}/close", lambda w: f"/cooperation/opportunities/{w.opportunity.pk}/close",
     {**dict.fromkeys(R, 403), "anonymous": 401, "manager_other": 200, "secretariat": 200}, None),
    ("POST /cooperation/opportunities/{id}/withdraw",
     lambda w: f"/cooperation/opportunities/{w.opportunity.pk}/withdraw",
     {**dict.fromkeys(R, 403), "anonymous": 401, "manager_other": 200, "secretariat": 200}, None),
    # The world's draft is not waiting for review: the secretariat gets past the role check to the conflict.
    ("POST /cooperation/review/{id}", lambda w: f"/cooperation/review/{w.draft.pk}", SECRETARIAT_ONLY
     | {"secretariat": 409}, lambda w: {"approve": True}),
    ("PUT /cooperation/organisations/{id}/opt-out", lambda w: f"/cooperation/organisations/{w.atelier.pk}/opt-out",
     {**dict.fromkeys(R, 403), "anonymous": 401, "manager_own": 200, "secretariat": 200},
     lambda w: {"opted_out": True}),
    # A participant's side of an event: manager_own and manager_other are registered; manager_other asked
    # manager_own (so asking again is a conflict, asking oneself a bad request).
    ("GET /cooperation/events/{id}/people", lambda w: f"/cooperation/events/{w.event.pk}/people",
     {**dict.fromkeys(R, 404), "anonymous": 401, "manager_own": 200, "manager_other": 200}, None),
    ("POST /cooperation/events/{id}/registrations", lambda w: f"/cooperation/events/{w.event.pk}/registrations",
     {**dict.fromkeys(R, 201), "anonymous": 401}, lambda w: {"available_slots": [1, 2]}),
    ("POST /cooperation/events/{id}/requests", lambda w: f"/cooperation/events/{w.event.pk}/requests",
     {**dict.fromkeys(R, 403), "anonymous": 401, "manager_own": 400, "manager_other": 409},
     lambda w: {"invitee": w.event.participants.get(user=w.users["manager_own"]).pk}),
    ("POST /cooperation/events/{id}/requests/{request_id}/answer",
     lambda w: f"/cooperation/events/{w.event.pk}/requests/{w.meeting.pk}/answer",
     {**dict.fromkeys(R, 403), "anonymous": 401, "manager_own": 200}, lambda w: {"accept": True}),
    # No request is accepted yet: the organiser and the secretariat get past the role check to the conflict.
    ("POST /cooperation/events/{id}/schedule", lambda w: f"/cooperation/events/{w.event.pk}/schedule",
     {**dict.fromkeys(R, 403), "anonymous": 401, "manager_own": 409, "secretariat": 409}, None),
    # The whole schedule: the event's organiser (manager_own) and the secretariat; participants see their agenda.
    ("GET /cooperation/events/{id}/schedule", lambda w: f"/cooperation/events/{w.event.pk}/schedule",
     {**dict.fromkeys(R, 403), "anonymous": 401, "manager_own": 200, "secretariat": 200}, None),
    ("GET /cooperation/events/{id}/schedule.csv", lambda w: f"/cooperation/events/{w.event.pk}/schedule.csv",
     {**dict.fromkeys(R, 403), "anonymous": 401, "manager_own": 200, "secretariat": 200}, None),
]


def test_every_api_operation_has_a_row():
    operations = {f"{method} {path}" for path, view in router.path_operations.items()
                  for operation in view.operations for method in operation.methods}
    assert operations == {row[0] for row in API_TABLE}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("row", API_TABLE, ids=[r[0] for r in API_TABLE])
def test_api_authorisation(world, role, row):  # type: ignore[no-untyped-def]
    operation, url, expected, body = row
    client = Client(enforce_csrf_checks=True)
    user = world.users[role]
    if user is not None:
        client.force_login(user)
    method = operation.split(" ", 1)[0]
    if method == "GET":
        response = client.get(API + url(world))
    else:
        client.get(f"{API}/docs")
        token = client.cookies["csrftoken"].value if "csrftoken" in client.cookies else ""
        response = client.generic(method, API + url(world), data=json.dumps(body(world) if body else {}),
                                  content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == expected[role], response.content[:300]
