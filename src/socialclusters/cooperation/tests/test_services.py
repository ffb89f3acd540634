"""The cooperation workflow through its services and selectors: profiles, review, interests, contacts,
contracts, procurement figures, suggestions with reasons and opt-outs, cross-border flows."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core import mail
from django.utils import timezone

from socialclusters import errors
from socialclusters.cooperation import selectors, services
from socialclusters.cooperation.models import (
    Contract,
    CooperationProfile,
    InboxMessage,
    InterestStatus,
    ProfileStatus,
)
from socialclusters.cooperation.tests.world import World, build_world
from socialclusters.registry import models
from socialclusters.registry.tests.webworld import organisation

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture
def world(make_user) -> World:  # type: ignore[no-untyped-def]
    return build_world(make_user)


def test_interest_accepted_shows_contacts_and_a_contract_reaches_the_region_figures(  # type: ignore[no-untyped-def]
        world, django_capture_on_commit_callbacks):
    owner, buyer_manager = world.users["manager_own"], world.users["manager_other"]
    before = selectors.interest_detail(world.interest.pk, user=buyer_manager)
    assert before.contacts is None  # not before both sides agree
    with django_capture_on_commit_callbacks(execute=True):
        services.answer_interest(user=owner, interest=world.interest, accept=True, answer="Welcome!")
    after = selectors.interest_detail(world.interest.pk, user=buyer_manager)
    assert after.interest.status == InterestStatus.ACCEPTED
    emails = {c["email"] for c in after.contacts}
    assert emails == {owner.email, buyer_manager.email}
    assert any("accepted" in m.subject for m in mail.outbox if buyer_manager.email in m.to)
    assert InboxMessage.objects.filter(recipient=buyer_manager, subject__icontains="accepted").exists()

    assert selectors.procurement_by_region(3) == {}
    with django_capture_on_commit_callbacks(execute=True):
        services.record_contract(user=buyer_manager, data={
            "buyer": world.buyer.pk, "supplier": world.atelier.pk, "value_band": "10k-50k",
            "signed_on": timezone.localdate(), "social_clauses_met": ["work_integration"],
            "interest": world.interest.pk})
    figures = selectors.procurement_by_region(3)["FR101"]
    assert figures == {"contracts": 1, "value_min_eur": 10_000, "social_economy_supplying_traditional": 1,
                       "traditional_supplying_social_economy": 0, "social_traditional_value_min_eur": 10_000}
    assert selectors.procurement_by_region(0)["FR"]["contracts"] == 1
    assert selectors.procurement_by_sector()["S"]["contracts"] == 1
    assert any(owner.email in m.to and "Contract recorded" in m.subject for m in mail.outbox)


def test_every_step_is_emailed_and_in_the_inbox(world, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    owner, other = world.users["manager_own"], world.users["manager_other"]
    # Building the world sent: publication to the owner, the interest to the owner and a receipt to the sender.
    assert InboxMessage.objects.filter(recipient=owner, subject__startswith="New interest").count() == 1
    assert InboxMessage.objects.filter(recipient=other, subject__startswith="Interest sent").count() == 1
    services.toggle_follow(user=other, profile=world.published)
    with django_capture_on_commit_callbacks(execute=True):
        services.renew_profile(user=owner, profile=world.published)
    assert [m.subject for m in mail.outbox] == [f"Profile renewed: {world.published.title}"]
    assert mail.outbox[0].to == [other.email]


def test_review_before_publication(world, make_user):  # type: ignore[no-untyped-def]
    secretariat, owner = world.users["secretariat"], world.users["manager_own"]
    services.update_matching_settings(user=secretariat, weights=services.matching_settings().__dict__,
                                      review_before_publication=True, profile_lifetime_days=90)
    profile = services.publish_profile(user=owner, profile=world.draft)
    assert profile.status == ProfileStatus.SUBMITTED
    assert world.draft not in selectors.live_profiles()
    assert InboxMessage.objects.filter(recipient=secretariat, subject__startswith="Profile to review").exists()
    with pytest.raises(errors.ValidationError, match="say why"):
        services.review_profile(user=secretariat, profile=profile, approve=False, reason=" ")
    services.review_profile(user=secretariat, profile=profile, approve=False, reason="Add the regions you serve.")
    profile.refresh_from_db()
    assert profile.status == ProfileStatus.RETURNED
    assert profile.review_reason
    services.publish_profile(user=owner, profile=profile)
    services.review_profile(user=secretariat, profile=profile, approve=True)
    profile.refresh_from_db()
    assert profile.status == ProfileStatus.PUBLISHED
    assert profile.expires_on == timezone.localdate() + dt.timedelta(days=90)
    with pytest.raises(errors.Conflict):
        services.review_profile(user=secretariat, profile=profile, approve=True)


def test_expired_profiles_leave_the_list_until_renewed(world):  # type: ignore[no-untyped-def]
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    CooperationProfile.objects.filter(pk=world.published.pk).update(expires_on=yesterday)
    assert world.published not in selectors.profile_list()
    services.renew_profile(user=world.users["manager_own"], profile=world.published)
    assert world.published in selectors.profile_list()


@pytest.mark.parametrize(("data", "field"), [
    ({"kind": "gift"}, "kind"),
    ({"kind": "offer", "title": "", "description": "x"}, "title"),
    ({"kind": "request", "title": "T", "description": "D"}, "seeking"),
    ({"kind": "offer", "title": "T", "description": "D", "sectors": ["99.99"]}, "sectors"),
    ({"kind": "offer", "title": "T", "description": "D", "regions": ["XX999"]}, "regions"),
    ({"kind": "offer", "title": "T", "description": "D", "languages": ["tlh"]}, "languages"),
    ({"kind": "offer", "title": "T", "description": "D", "deadline": "2001-01-01"}, "deadline"),
    ({"kind": "offer", "title": "T", "description": "D", "deadline": "31/12/2099"}, "deadline"),
])
def test_bad_profiles_are_refused_naming_the_field_and_change_nothing(world, data, field):  # type: ignore[no-untyped-def]
    count = CooperationProfile.objects.count()
    with pytest.raises(errors.ValidationError) as caught:
        services.save_profile(user=world.users["manager_own"], organisation=world.atelier, data=data)
    assert caught.value.field == field
    assert CooperationProfile.objects.count() == count


def test_only_managers_act_for_an_organisation(world):  # type: ignore[no-untyped-def]
    with pytest.raises(errors.PermissionDenied):
        services.save_profile(user=world.users["manager_other"], organisation=world.atelier,
                              data={"kind": "offer", "title": "T", "description": "D"})
    with pytest.raises(errors.PermissionDenied):
        services.answer_interest(user=world.users["manager_other"], interest=world.interest, accept=True)
    with pytest.raises(errors.PermissionDenied):
        services.record_contract(user=world.users["member"], data={
            "buyer": world.buyer.pk, "supplier": world.atelier.pk, "value_band": "lt10k",
            "signed_on": "2026-01-01"})
    with pytest.raises(errors.Conflict, match="already expressed"):
        services.express_interest(user=world.users["manager_other"], organisation=world.buyer,
                                  profile=world.published, message="Twice")


def test_contract_validation(world):  # type: ignore[no-untyped-def]
    user = world.users["manager_other"]
    base = {"buyer": world.buyer.pk, "supplier": world.atelier.pk, "value_band": "lt10k", "signed_on": "2026-01-01"}
    for change, field in (({"supplier": world.buyer.pk}, "supplier"), ({"value_band": "huge"}, "value_band"),
                          ({"signed_on": "2999-01-01"}, "signed_on"), ({"buyer": 10**9}, "buyer"),
                          ({"social_clauses_met": ["nice"]}, "social_clauses_met"),
                          ({"interest": world.interest.pk}, "interest")):
        with pytest.raises(errors.ValidationError) as caught:
            services.record_contract(user=user, data=base | change)
        assert caught.value.field == field
    assert not Contract.objects.exists()


def test_suggestions_give_reasons_and_respect_opt_outs_and_filters(world):  # type: ignore[no-untyped-def]
    lyon = models.Region.objects.get(code="FRK26", version="2021")
    other_laundry = organisation(name="Lavanderia Sociale", kind=models.OrganisationKind.COOPERATIVE,
                                 country_id="IT", city="Torino", nace_section="S",
                                 primary_nace=models.Sector.objects.get(code="96.01"))
    organisation(name="Far away café", kind=models.OrganisationKind.ASSOCIATION, country_id="FR", city="Lyon",
                 region=lyon, nuts2="FRK2", nace_section="I")
    results = selectors.suggestions(organisation=world.buyer)
    assert results[0].organisation == world.atelier
    codes = {r["code"] for r in results[0].reasons}
    assert {"same_region", "pairing", "offer_answers_request"} <= codes
    assert all(r["text"] for r in results[0].reasons)
    assert results[0].profiles == [world.published]

    abroad = selectors.suggestions(organisation=world.buyer,
                                   filters=selectors.SuggestionFilters(other_countries=True))
    assert [s.organisation for s in abroad] == [other_laundry]
    only_traditional = selectors.suggestions(organisation=world.atelier,
                                             filters=selectors.SuggestionFilters(family="traditional"))
    assert {s.organisation.kind for s in only_traditional} == {models.OrganisationKind.TRADITIONAL_ENTERPRISE}

    services.set_opt_out(user=world.users["manager_own"], organisation=world.atelier, opted_out=True)
    assert world.atelier not in [s.organisation for s in selectors.suggestions(organisation=world.buyer)]
    with pytest.raises(errors.ValidationError, match="opted out"):
        selectors.suggestions(organisation=world.atelier)
    with pytest.raises(errors.ValidationError) as caught:
        selectors.suggestions(organisation=world.buyer, filters=selectors.SuggestionFilters(area="suburb"))
    assert caught.value.field == "area"


def test_weights_are_tuned_by_the_secretariat(world):  # type: ignore[no-untyped-def]
    weights = dict.fromkeys(("offer_answers_request", "similar_activity", "sectors", "region", "cross_border",
                             "pairing", "shared_cluster", "language"), 0)
    with pytest.raises(errors.ValidationError, match="at least one"):
        services.update_matching_settings(user=world.users["secretariat"], weights=weights,
                                          review_before_publication=False, profile_lifetime_days=365)
    with pytest.raises(errors.ValidationError) as caught:
        services.update_matching_settings(user=world.users["secretariat"], weights=weights | {"region": "x"},
                                          review_before_publication=False, profile_lifetime_days=365)
    assert caught.value.field == "region"
    with pytest.raises(errors.PermissionDenied):
        services.update_matching_settings(user=world.users["member"], weights=weights | {"region": 1},
                                          review_before_publication=False, profile_lifetime_days=365)
    services.update_matching_settings(user=world.users["secretariat"], weights=weights | {"language": 1},
                                      review_before_publication=False, profile_lifetime_days=365)
    assert selectors.match_index().weights.normalised()["language"] == 1.0


def test_cross_border_flows(world):  # type: ignore[no-untyped-def]
    german = organisation(name="Wäscherei GmbH", kind=models.OrganisationKind.TRADITIONAL_ENTERPRISE,
                          country_id="DE", city="Köln")
    manager = world.users["representative"]
    german.managers.add(manager)
    services.express_interest(user=manager, organisation=german, profile=world.published, message="Hallo")
    services.record_contract(user=manager, data={"buyer": german.pk, "supplier": world.atelier.pk,
                                                 "value_band": "gt1m", "signed_on": "2026-02-01"})
    flows = {(f["from"], f["to"]): f for f in selectors.cross_border_flows()}
    assert flows[("DE", "FR")]["interests"] == 1
    assert flows[("FR", "DE")]["contracts"] == 1
    assert flows[("FR", "")]["profiles"] == 1  # atelier's offer welcomes cross-border cooperation
    assert ("FR", "FR") not in flows


def test_learning_pairs_for_regions_and_clusters(world):  # type: ignore[no-untyped-def]
    from socialclusters.registry.tests.factories import MembershipFactory
    from socialclusters.registry.tests.webworld import cluster

    regions = {code: models.Region.objects.get(code=code, version="2021")
               for code in ("FR101", "FR102", "FRK26", "ITC11")}
    for code, kind, section in (("FR102", models.OrganisationKind.TRADITIONAL_ENTERPRISE, "I"),
                                ("FRK26", models.OrganisationKind.COOPERATIVE, "S"),
                                ("FRK26", models.OrganisationKind.ASSOCIATION, "Q"),
                                ("ITC11", models.OrganisationKind.TRADITIONAL_ENTERPRISE, "S")):
        organisation(name=f"{code} {kind}", kind=kind, country_id=code[:2], region=regions[code],
                     nuts2=code[:4], nace_section=section)
    pairs = selectors.learning_pairs_for_region("FR101")
    assert pairs.places == 4
    assert {p["code"] for p in pairs.similar} == {"FR102", "FRK26", "ITC11"}
    assert all(p["compare"].startswith("/map/?compare=FR101,") for p in pairs.similar)
    assert all(p["reasons"] for p in pairs.similar)
    with pytest.raises(errors.ValidationError):
        selectors.learning_pairs_for_region("FR1")
    with pytest.raises(errors.NotFound):
        selectors.learning_pairs_for_region("ZZ999")

    first, second = cluster(name="Laundry cluster"), cluster(name="Hotel cluster")
    MembershipFactory(organisation=world.atelier, cluster=first)
    MembershipFactory(organisation=world.buyer, cluster=second)
    cluster_pairs = selectors.learning_pairs_for_cluster(first.pk)
    assert [p["code"] for p in cluster_pairs.similar] == [str(second.pk)]


def test_the_secretariat_browses_every_model_in_the_admin(world, client):  # type: ignore[no-untyped-def]
    from django.contrib import admin
    from django.urls import reverse

    client.force_login(world.users["secretariat"])
    models_here = [m for m in admin.site._registry if m._meta.app_label == "cooperation"]
    assert len(models_here) == 9
    for model in models_here:
        url = reverse(f"admin:cooperation_{model._meta.model_name}_changelist")
        assert client.get(url).status_code == 200, url


def _api_client(user):  # type: ignore[no-untyped-def]
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/api/v1/docs")
    return client


def _send(client, method: str, url: str, body: dict) -> tuple[int, dict]:  # type: ignore[no-untyped-def,type-arg]
    import json

    response = client.generic(method, "/api/v1" + url, data=json.dumps(body), content_type="application/json",
                              HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
    return response.status_code, json.loads(response.content)


def test_the_secretariat_reviews_and_owners_manage_profiles_through_the_api(world):  # type: ignore[no-untyped-def]
    secretariat, owner = world.users["secretariat"], world.users["manager_own"]
    services.update_matching_settings(user=secretariat, weights=services.matching_settings().__dict__,
                                      review_before_publication=True, profile_lifetime_days=30)
    as_owner = _api_client(owner)
    status, out = _send(as_owner, "POST", f"/cooperation/profiles/{world.draft.pk}/publish", {})
    assert (status, out["status"]) == (200, "submitted")
    reviewer = _api_client(secretariat)
    status, out = _send(reviewer, "POST", f"/cooperation/review/{world.draft.pk}", {"approve": False, "reason": ""})
    assert (status, out["field"]) == (400, "reason")
    status, out = _send(reviewer, "POST", f"/cooperation/review/{world.draft.pk}",
                        {"approve": False, "reason": "Say which hotels."})
    assert (status, out["status"]) == (200, "returned")
    assert InboxMessage.objects.filter(recipient=owner, body__contains="Say which hotels.").exists()
    status, out = _send(as_owner, "PUT", f"/cooperation/profiles/{world.draft.pk}",
                        {"kind": "request", "seeking": ["buyers"], "title": "Hotels in Paris 10e",
                         "description": "Hotels that need linen washed.", "regions": ["FR101"]})
    assert (status, out["title"], out["regions"], out["status"]) == (200, "Hotels in Paris 10e", ["FR101"],
                                                                     "returned")
    _send(as_owner, "POST", f"/cooperation/profiles/{world.draft.pk}/publish", {})
    status, out = _send(reviewer, "POST", f"/cooperation/review/{world.draft.pk}", {"approve": True})
    assert (status, out["status"], out["expires_on"]) == (
        200, "published", (timezone.localdate() + dt.timedelta(days=30)).isoformat())
    status, out = _send(as_owner, "POST", f"/cooperation/profiles/{world.draft.pk}/withdraw", {})
    assert (status, out["status"]) == (200, "withdrawn")
    assert world.draft not in selectors.live_profiles()


def test_opting_out_through_the_api(world):  # type: ignore[no-untyped-def]
    client = _api_client(world.users["manager_own"])
    status, out = _send(client, "PUT", f"/cooperation/organisations/{world.atelier.pk}/opt-out", {"opted_out": True})
    assert (status, out) == (200, {"organisation": world.atelier.pk, "opted_out": True})
    assert world.atelier not in [s.organisation for s in selectors.suggestions(organisation=world.buyer)]
    status, out = _send(client, "PUT", f"/cooperation/organisations/{world.atelier.pk}/opt-out", {"opted_out": False})
    assert out["opted_out"] is False
    assert world.atelier in [s.organisation for s in selectors.suggestions(organisation=world.buyer)]


def test_managers_are_reminded_once_before_a_profile_expires(world, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    from django.core.management import call_command

    owner, today = world.users["manager_own"], timezone.localdate()
    CooperationProfile.objects.filter(pk=world.published.pk).update(expires_on=today + dt.timedelta(days=10))
    CooperationProfile.objects.filter(pk=world.cluster_profile.pk).update(expires_on=today + dt.timedelta(days=40))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.remind_expiring_profiles(days=14) == [world.published]
    assert [m.to for m in mail.outbox] == [[owner.email]]
    assert mail.outbox[0].subject.startswith("Profile expiring on")
    assert services.remind_expiring_profiles(days=14) == []  # once per expiry date
    assert services.remind_expiring_profiles(days=45) == [world.cluster_profile]
    # Renewed, it is reminded again before its new expiry date, not before.
    world.published.refresh_from_db()
    services.renew_profile(user=owner, profile=world.published)
    assert services.remind_expiring_profiles(days=14) == []
    later = world.published.expires_on - dt.timedelta(days=3)
    assert [p.pk for p in services.remind_expiring_profiles(days=14, today=later)] == [world.published.pk]
    with pytest.raises(errors.ValidationError) as caught:
        services.remind_expiring_profiles(days=0)
    assert caught.value.field == "days"
    CooperationProfile.objects.filter(pk=world.published.pk).update(expires_on=today + dt.timedelta(days=1))
    out = io.StringIO()
    call_command("remind_profiles", "--days", "2", stdout=out)
    assert f"profile {world.published.pk} expires on" in out.getvalue()
