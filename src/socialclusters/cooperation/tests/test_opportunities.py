"""Procurement opportunities after publication: edited by their buyer with the checks of a new one, closed
or withdrawn, on the page and through the API; the matchmaker reads the change."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from socialclusters import errors
from socialclusters.cooperation import selectors, services
from socialclusters.cooperation.models import InboxMessage, OpportunityStatus, ProcurementOpportunity
from socialclusters.cooperation.tests.world import World, build_world

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture
def world(make_user) -> World:  # type: ignore[no-untyped-def]
    return build_world(make_user)


def _data(world: World, **changes: object) -> dict[str, object]:
    base = {"title": "Uniform and towel washing", "description": "Weekly washing of 200 uniforms and towels.",
            "deadline": timezone.localdate() + dt.timedelta(days=40), "value_band": "50k-250k",
            "social_clauses": ["work_integration", "local_sourcing"], "how_to_answer": "Email purchasing.",
            "sector": "96.01", "region": "FR101", "languages": ["fr"], "cross_border": True}
    return base | changes


def test_the_buyer_edits_and_followers_are_told(world, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    follower = world.users["manager_own"]
    services.toggle_follow(user=follower, opportunity=world.opportunity)
    with django_capture_on_commit_callbacks(execute=True):
        services.update_opportunity(user=world.users["manager_other"], opportunity=world.opportunity,
                                    data=_data(world))
    saved = ProcurementOpportunity.objects.get(pk=world.opportunity.pk)
    assert (saved.title, saved.value_band, saved.sector_id, saved.region.code, saved.cross_border) == (
        "Uniform and towel washing", "50k-250k", "96.01", "FR101", True)
    assert saved.social_clauses == ["work_integration", "local_sourcing"]
    assert [m.to for m in mail.outbox] == [[follower.email]]
    assert InboxMessage.objects.filter(recipient=follower, subject__startswith="Opportunity updated").exists()


@pytest.mark.parametrize(("change", "field"), [
    ({"title": ""}, "title"),
    ({"description": "x" * 5001}, "description"),
    ({"how_to_answer": ""}, "how_to_answer"),
    ({"value_band": "huge"}, "value_band"),
    ({"social_clauses": ["nice"]}, "social_clauses"),
    ({"languages": ["tlh"]}, "languages"),
    ({"sector": "99.99"}, "sector"),
    ({"region": "XX999"}, "region"),
    ({"starts_on": "2030-02-01", "ends_on": "2030-01-01"}, "ends_on"),
    ({"deadline": "2001-01-01"}, "deadline"),
    ({"deadline": "01/02/2099"}, "deadline"),
    ({"organisation": 10**9}, "organisation"),
])
def test_edits_get_the_checks_of_a_new_opportunity_and_change_nothing(world, change, field):  # type: ignore[no-untyped-def]
    before = ProcurementOpportunity.objects.values().get(pk=world.opportunity.pk)
    with pytest.raises(errors.ValidationError) as caught:
        services.update_opportunity(user=world.users["manager_other"], opportunity=world.opportunity,
                                    data=_data(world, **change))
    assert caught.value.field == field
    if "organisation" not in change:  # the same message as creating one with this input
        with pytest.raises(errors.ValidationError) as created:
            services.create_opportunity(user=world.users["manager_other"], buyer=world.buyer,
                                        data=_data(world, **change))
        assert created.value.field == field
    assert ProcurementOpportunity.objects.values().get(pk=world.opportunity.pk) == before


def test_a_deadline_that_has_passed_may_be_kept_not_set(world):  # type: ignore[no-untyped-def]
    past = timezone.localdate() - dt.timedelta(days=2)
    ProcurementOpportunity.objects.filter(pk=world.opportunity.pk).update(deadline=past)
    world.opportunity.refresh_from_db()
    services.update_opportunity(user=world.users["manager_other"], opportunity=world.opportunity,
                                data=_data(world, deadline=past, title="Typo fixed"))
    assert ProcurementOpportunity.objects.get(pk=world.opportunity.pk).title == "Typo fixed"
    with pytest.raises(errors.ValidationError):
        services.update_opportunity(user=world.users["manager_other"], opportunity=world.opportunity,
                                    data=_data(world, deadline=past - dt.timedelta(days=1)))


def test_only_the_buyer_edits_and_not_once_it_is_closed(world):  # type: ignore[no-untyped-def]
    for role in ("manager_own", "representative", "member"):
        with pytest.raises(errors.PermissionDenied):
            services.update_opportunity(user=world.users[role], opportunity=world.opportunity, data=_data(world))
    services.close_opportunity(user=world.users["manager_other"], opportunity=world.opportunity)
    with pytest.raises(errors.Conflict):
        services.update_opportunity(user=world.users["manager_other"], opportunity=world.opportunity,
                                    data=_data(world))
    with pytest.raises(errors.Conflict):
        services.withdraw_opportunity(user=world.users["manager_other"], opportunity=world.opportunity)


def test_withdrawn_opportunities_are_hidden_and_waiting_organisations_told(world):  # type: ignore[no-untyped-def]
    waiting = world.users["manager_own"]
    services.express_interest(user=waiting, organisation=world.atelier, opportunity=world.opportunity,
                              message="We can wash them.")
    services.withdraw_opportunity(user=world.users["manager_other"], opportunity=world.opportunity)
    assert ProcurementOpportunity.objects.get(pk=world.opportunity.pk).status == OpportunityStatus.WITHDRAWN
    assert InboxMessage.objects.filter(recipient=waiting, subject__startswith="Opportunity withdrawn").exists()
    assert world.opportunity not in selectors.opportunity_list()
    assert world.opportunity not in selectors.opportunities_of(waiting)
    assert world.opportunity in selectors.opportunities_of(world.users["manager_other"])
    for user in (None, waiting, world.users["member"]):
        with pytest.raises(errors.NotFound):
            selectors.opportunity_detail(world.opportunity.pk, user=user)
    assert selectors.opportunity_detail(world.opportunity.pk, user=world.users["secretariat"])
    with pytest.raises(errors.Conflict):
        services.express_interest(user=waiting, organisation=world.atelier, opportunity=world.opportunity,
                                  message="Still?")


def test_the_matchmaker_reads_the_edit(world):  # type: ignore[no-untyped-def]
    before = selectors.match_index()
    services.update_opportunity(user=world.users["manager_other"], opportunity=world.opportunity,
                                data=_data(world, title="Catering for staff"))
    assert selectors.match_index() is not before
    after = selectors.match_index()
    services.close_opportunity(user=world.users["manager_other"], opportunity=world.opportunity)
    assert selectors.match_index() is not after


def test_the_edit_page(world):  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(world.users["manager_other"])
    url = reverse("cooperation:opportunity_edit", kwargs={"pk": world.opportunity.pk})
    form = client.get(url).context["form"]
    assert form.initial["title"] == "Uniform washing"
    assert [value for value, _label in form.fields["organisation"].choices] == [world.buyer.pk]
    post = {key: value for key, value in _data(world).items() if key not in ("social_clauses", "languages")}
    post |= {"organisation": world.buyer.pk, "social_clauses": ["local_sourcing"], "languages": ["fr", "nl"]}
    response = client.post(url, post)
    assert response.status_code == 302
    saved = ProcurementOpportunity.objects.get(pk=world.opportunity.pk)
    assert (saved.title, saved.social_clauses, saved.languages) == ("Uniform and towel washing",
                                                                    ["local_sourcing"], ["fr", "nl"])
    bad = client.post(url, post | {"region": "XX999"})
    assert bad.status_code == 200
    assert "region" in bad.context["form"].errors
    page = client.get(reverse("cooperation:opportunity_detail", kwargs={"pk": world.opportunity.pk}))
    assert url in page.content.decode()
    # Clauses and languages in words, not as stored codes.
    assert "Local sourcing" in page.content.decode()
    assert "local_sourcing" not in page.content.decode()
    assert "French, Dutch" in page.content.decode()
    assert "Uniform and towel washing" in client.get(reverse("cooperation:mine")).content.decode()


def _api(client: Client, method: str, url: str, body: dict[str, object] | None = None):  # type: ignore[no-untyped-def]
    client.get(f"{API}/docs")
    return client.generic(method, API + url, data=json.dumps(body or {}, default=str),
                          content_type="application/json", HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)


def test_the_api_edits_closes_and_withdraws(world):  # type: ignore[no-untyped-def]
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["manager_other"])
    url = f"/cooperation/opportunities/{world.opportunity.pk}"
    body = _data(world)
    response = _api(client, "PUT", url, body)
    assert response.status_code == 200, response.content
    out = json.loads(response.content)
    assert (out["title"], out["sector"], out["region"], out["languages"], out["cross_border"]) == (
        "Uniform and towel washing", "96.01", "FR101", ["fr"], True)
    bad = _api(client, "PUT", url, body | {"value_band": "huge"})
    assert (bad.status_code, json.loads(bad.content)["field"]) == (400, "value_band")
    missing = _api(client, "PUT", url, {key: value for key, value in body.items() if key != "deadline"})
    assert (missing.status_code, json.loads(missing.content)["field"]) == (422, "deadline")
    closed = _api(client, "POST", f"{url}/close")
    assert json.loads(closed.content)["status"] == "closed"
    assert _api(client, "PUT", url, body).status_code == 409
    assert _api(client, "POST", f"{url}/withdraw").status_code == 409
    second = services.create_opportunity(user=world.users["manager_other"], buyer=world.buyer, data=_data(world))
    assert json.loads(_api(client, "POST", f"/cooperation/opportunities/{second.pk}/withdraw").content)[
        "status"] == "withdrawn"
    assert Client().get(f"{API}/cooperation/opportunities/{second.pk}").status_code == 404
