"""The profile-change workflow over the API: propose, validate, return; CSRF; duplicates; errors."""

from __future__ import annotations

import json

import pytest
from django.core import mail

from socialclusters.api.tests.conftest import API, client_for, json_of
from socialclusters.registry.models import ChangeStatus, Cluster, Organisation, ProfileChange

pytestmark = pytest.mark.django_db


def post(client, path, data=None, **extra):  # type: ignore[no-untyped-def]
    return client.post(f"{API}{path}", data=json.dumps(data or {}), content_type="application/json", **extra)


def test_anonymous_gets_401_on_the_workflow(client, world):
    for response in (
        client.get(f"{API}/changes"),
        client.get(f"{API}/duplicates"),
        post(client, f"/clusters/{world.published.pk}/changes", {"description": "x"}),
        post(client, f"/changes/{world.change.pk}/validate"),
    ):
        assert response.status_code == 401
        assert json_of(response) == {"detail": "sign in to use this operation", "field": None}


def test_manager_proposes_the_secretariat_validates(world, django_capture_on_commit_callbacks):
    manager = client_for(world.users["manager_own"])
    with django_capture_on_commit_callbacks(execute=True):
        response = post(manager, f"/clusters/{world.published.pk}/changes",
                        {"description": "Now with 40 members", "tracks_impact": True, "management_fte": "2.25"})
    assert response.status_code == 201, response.content
    change = json_of(response)
    assert change["status"] == "submitted"
    assert change["target"] == {"type": "cluster", "id": world.published.pk, "name": "Pôle Paris Solidaire"}
    assert change["data"] == {"description": "Now with 40 members", "tracks_impact": True, "management_fte": "2.25"}
    assert change["author"] == "manager-own"
    world.published.refresh_from_db()
    assert world.published.description == ""  # nothing public changes before validation

    mine = json_of(manager.get(f"{API}/changes"))
    assert mine["count"] == 2
    assert {c["id"] for c in mine["items"]} == {world.change.pk, change["id"]}

    secretariat = client_for(world.users["secretariat"])
    pending = json_of(secretariat.get(f"{API}/changes"))
    assert [c["id"] for c in pending["items"]] == [world.change.pk, change["id"]]  # oldest first
    with django_capture_on_commit_callbacks(execute=True):
        validated = post(secretariat, f"/changes/{change['id']}/validate")
    assert validated.status_code == 200
    assert json_of(validated)["status"] == "validated"
    assert json_of(validated)["decided_by"] == "secretariat"
    world.published.refresh_from_db()
    assert world.published.description == "Now with 40 members"
    assert world.published.tracks_impact is True
    assert str(world.published.management_fte) == "2.25"
    assert any("validated" in message.subject for message in mail.outbox)

    again = post(secretariat, f"/changes/{change['id']}/validate")
    assert again.status_code == 409
    assert "validated" in json_of(again)["detail"]
    assert json_of(again)["field"] is None


def test_non_manager_cannot_propose(world):
    response = post(client_for(world.users["manager_other"]), f"/clusters/{world.published.pk}/changes",
                    {"description": "hijack"})
    assert response.status_code == 403
    assert json_of(response)["detail"]
    assert not ProfileChange.objects.filter(data={"description": "hijack"}).exists()


def test_draft_cluster_is_not_found_for_non_managers_and_changes_at_once_for_its_manager(world):
    outsider = post(client_for(world.users["manager_other"]), f"/clusters/{world.draft.pk}/changes", {"city": "Nantes"})
    assert outsider.status_code == 404
    response = post(client_for(world.users["manager_own"]), f"/clusters/{world.draft.pk}/changes", {"city": "Nantes"})
    assert response.status_code == 201
    assert json_of(response)["status"] == "validated"
    assert Cluster.objects.get(pk=world.draft.pk).city == "Nantes"


def test_organisation_change_by_its_manager(world):
    manager = client_for(world.users["manager_own"])
    response = post(manager, f"/organisations/{world.paris.pk}/changes",
                    {"alt_names": ["Alpha", "Coop Alpha"], "founded": "1999-05-01", "size_band": "small"})
    assert response.status_code == 201, response.content
    body = json_of(response)
    assert body["target"]["type"] == "organisation"
    assert body["data"] == {"alt_names": ["Alpha", "Coop Alpha"], "founded": "1999-05-01", "size_band": "small"}
    assert body["status"] == "submitted"
    refused = post(client_for(world.users["representative"]), f"/organisations/{world.paris.pk}/changes",
                   {"city": "Lille"})
    assert refused.status_code == 403


def test_return_needs_a_reason_and_keeps_the_profile(world):
    secretariat = client_for(world.users["secretariat"])
    missing = post(secretariat, f"/changes/{world.change.pk}/return", {"reason": "   "})
    assert missing.status_code == 400
    assert json_of(missing)["field"] == "reason"
    absent = post(secretariat, f"/changes/{world.change.pk}/return", {})
    assert absent.status_code == 422
    assert json_of(absent)["field"] == "reason"
    returned = post(secretariat, f"/changes/{world.change.pk}/return", {"reason": "Say who the 40 members are."})
    assert returned.status_code == 200
    assert json_of(returned)["status"] == "returned"
    assert json_of(returned)["return_reason"] == "Say who the 40 members are."
    assert ProfileChange.objects.get(pk=world.change.pk).status == ChangeStatus.RETURNED
    assert Cluster.objects.get(pk=world.published.pk).description == ""
    assert post(secretariat, f"/changes/{world.change.pk}/return", {"reason": "again"}).status_code == 409


@pytest.mark.parametrize(
    ("data", "status", "field"),
    [
        ({"website": "not a url"}, 400, "website"),
        ({"name": None}, 400, "name"),
        ({"founded_year": 99999}, 422, "founded_year"),
        ({"management_fte": "NaN"}, 422, "management_fte"),
        ({"management_fte": 12345.678}, 422, "management_fte"),
        ({"colour": "red"}, 422, "colour"),
        ({"declared_member_types": ["aliens"]}, 422, "declared_member_types"),
        ({"description": "nul\x00byte"}, 422, "description"),
        ({}, 400, "data"),
        ({"name": "Pôle Paris Solidaire"}, 400, "data"),  # equal to the current value: nothing to change
    ],
)
def test_bad_proposals_name_the_field_and_change_nothing(world, data, status, field):
    manager = client_for(world.users["manager_own"])
    before = ProfileChange.objects.count()
    response = post(manager, f"/clusters/{world.published.pk}/changes", data)
    assert response.status_code == status, response.content
    assert json_of(response)["field"] == field
    assert ProfileChange.objects.count() == before


def test_malformed_json_is_422(world):
    manager = client_for(world.users["manager_own"])
    response = manager.post(f"{API}/clusters/{world.published.pk}/changes", data="{not json",
                            content_type="application/json")
    assert response.status_code in {400, 422}
    assert "detail" in json_of(response)


def test_unknown_change_is_404(world):
    response = post(client_for(world.users["secretariat"]), "/changes/987654/validate")
    assert response.status_code == 404
    assert json_of(response)["detail"] == "no profile change with id 987654"


def test_csrf_is_enforced_for_signed_in_callers(world):
    manager = client_for(world.users["manager_own"], enforce_csrf=True)
    path = f"/clusters/{world.published.pk}/changes"
    refused = post(manager, path, {"description": "with no token"})
    assert refused.status_code == 403
    assert "CSRF" in json_of(refused)["detail"]
    manager.get(f"{API}/docs")  # any page that renders a form or the docs sets the CSRF cookie
    token = manager.cookies["csrftoken"].value
    accepted = post(manager, path, {"description": "with the token"}, HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 201
    # Anonymous callers are told to sign in, whatever their token.
    anonymous = client_for(None, enforce_csrf=True)
    assert post(anonymous, path, {"description": "x"}).status_code == 401


def test_duplicates_for_the_secretariat(world):
    body = json_of(client_for(world.users["secretariat"]).get(f"{API}/duplicates"))
    assert body["count"] == 1
    [pair] = body["items"]
    assert pair["first"] == {"id": world.paris.pk, "name": "Coopérative Alpha"}
    assert pair["second"] == {"id": world.member_org.pk, "name": "Delta University"}
    assert (pair["reason"], pair["score"], pair["status"]) == ("same web domain", 0.9, "open")
    member = client_for(world.users["member"]).get(f"{API}/duplicates")
    assert member.status_code == 403
    assert json_of(member)["detail"] == "only the secretariat may do this"


def test_secretariat_edits_apply_at_once(world):
    response = post(client_for(world.users["secretariat"]), f"/organisations/{world.lyon.pk}/changes",
                    {"website": "https://beta.example.org"})
    assert response.status_code == 201
    assert json_of(response)["status"] == "validated"
    assert Organisation.objects.get(pk=world.lyon.pk).website == "https://beta.example.org"
