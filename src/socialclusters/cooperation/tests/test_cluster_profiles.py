"""Cooperation profiles published on behalf of a cluster: who may write them, who hears of and answers
their interests, how they show on the pages and in the API, and how the matchmaker reads them."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from socialclusters import errors
from socialclusters.cooperation import selectors, services
from socialclusters.cooperation.models import CooperationProfile, InboxMessage, ProfileStatus
from socialclusters.cooperation.tests.world import World, build_world
from socialclusters.registry import models
from socialclusters.registry.tests.factories import MembershipFactory
from socialclusters.registry.tests.webworld import cluster, organisation

pytestmark = pytest.mark.django_db

API = "/api/v1"
OFFER = {"kind": "offer", "title": "Shared laundry capacity", "description": "Our laundries wash for others."}


@pytest.fixture
def world(make_user) -> World:  # type: ignore[no-untyped-def]
    return build_world(make_user)


def test_a_cluster_manager_publishes_for_the_cluster_and_the_organisation_running_it_answers_for_it(world):  # type: ignore[no-untyped-def]
    profile = world.cluster_profile
    assert profile.cluster == world.cluster
    assert profile.organisation == world.cluster_org
    assert profile.status == ProfileStatus.PUBLISHED
    # Naming the cluster's own organisation is accepted; naming another is refused on that field.
    same = services.save_profile(user=world.users["manager_own"], organisation=world.cluster_org,
                                 data=OFFER | {"cluster": world.cluster.pk})
    assert same.organisation == world.cluster_org
    with pytest.raises(errors.ValidationError) as caught:
        services.save_profile(user=world.users["manager_own"], organisation=world.atelier,
                              data=OFFER | {"cluster": world.cluster.pk})
    assert caught.value.field == "organisation"


def test_only_the_clusters_managers_write_its_profiles(world):  # type: ignore[no-untyped-def]
    count = CooperationProfile.objects.count()
    # manager_other manages the cluster organisation, not the cluster.
    with pytest.raises(errors.PermissionDenied):
        services.save_profile(user=world.users["manager_other"], organisation=None,
                              data=OFFER | {"cluster": world.cluster.pk})
    for action in (services.renew_profile, services.withdraw_profile):
        with pytest.raises(errors.PermissionDenied):
            action(user=world.users["manager_other"], profile=world.cluster_profile)
    with pytest.raises(errors.PermissionDenied):
        services.save_profile(user=world.users["manager_other"], organisation=world.cluster_org, data=OFFER,
                              profile=world.cluster_profile)
    assert CooperationProfile.objects.count() == count
    services.withdraw_profile(user=world.users["secretariat"], profile=world.cluster_profile)


@pytest.mark.parametrize(("change", "field"), [
    ("draft", "cluster"), ("no organisation", "cluster"), ("unknown", "cluster"), ("huge", "cluster"),
    ("none", "organisation")])
def test_clusters_that_cannot_speak_are_refused_naming_the_field(world, change, field):  # type: ignore[no-untyped-def]
    owner = world.users["manager_own"]
    if change == "draft":
        target = cluster(name="Not yet published", publication_status=models.PublicationStatus.DRAFT,
                         managing_organisation=world.cluster_org)
        target.managers.add(owner)
        data = OFFER | {"cluster": target.pk}
    elif change == "no organisation":
        target = cluster(name="Nobody runs it")
        target.managers.add(owner)
        data = OFFER | {"cluster": target.pk}
    elif change == "unknown":
        data = OFFER | {"cluster": 10**9}
    elif change == "huge":
        data = OFFER | {"cluster": 10**30}
    else:
        data = OFFER
    with pytest.raises(errors.ValidationError) as caught:
        services.save_profile(user=owner, organisation=None, data=data)
    assert caught.value.field == field


def test_interests_in_a_clusters_profile_go_to_its_managers_who_answer(world):  # type: ignore[no-untyped-def]
    owner, other = world.users["manager_own"], world.users["manager_other"]
    before = InboxMessage.objects.filter(recipient=other, subject__startswith="New interest").count()
    interest = services.express_interest(user=other, organisation=world.buyer, profile=world.cluster_profile,
                                         message="Our hotel has linen.")
    assert InboxMessage.objects.filter(recipient=owner, subject__startswith="New interest",
                                       body__contains="Our hotel").exists()
    # The cluster organisation's own manager is not the cluster's voice: no message, no answer.
    assert InboxMessage.objects.filter(recipient=other, subject__startswith="New interest").count() == before
    with pytest.raises(errors.PermissionDenied):
        services.answer_interest(user=other, interest=interest, accept=True)
    view = selectors.interest_detail(interest.pk, user=owner)
    assert view.can_answer
    assert interest in selectors.interests_involving(owner)
    services.answer_interest(user=owner, interest=interest, accept=True)
    contacts = selectors.interest_detail(interest.pk, user=other).contacts
    assert contacts is not None
    assert contacts[1]["organisation"] == "Paris Clean Textiles Cluster (Paris Laundry Network)"
    assert contacts[1]["website"] == "https://cluster.example.org"
    assert contacts[1]["email"] == owner.email
    # A contract that came of it is counted for the cluster that brokered it.
    contract = services.record_contract(user=other, data={
        "buyer": world.buyer.pk, "supplier": world.cluster_org.pk, "value_band": "lt10k",
        "signed_on": "2026-03-01", "interest": interest.pk})
    assert contract.cluster == world.cluster
    assert selectors.procurement_by_cluster()[str(world.cluster.pk)]["contracts"] == 1


def test_the_clusters_members_are_not_suggested_to_it_unless_asked_for(world):  # type: ignore[no-untyped-def]
    paris = models.Region.objects.get(code="FR101", version="2021")
    laundry = models.Sector.objects.get(code="96.01")
    member = organisation(name="Blanchisserie Coopérative du Marais", kind=models.OrganisationKind.COOPERATIVE,
                          country_id="FR", city="Paris", region=paris, nuts2="FR10", primary_nace=laundry,
                          nace_section="S")
    MembershipFactory(organisation=member, cluster=world.cluster)
    MembershipFactory(organisation=world.atelier, cluster=world.cluster)
    found = selectors.suggestions(profile=world.cluster_profile)
    names = [s.organisation for s in found]
    assert member not in names
    assert world.atelier not in names
    assert world.cluster_org not in names
    # A social economy cluster looking for buyers: the traditional hotel first, paired as the cluster.
    assert names[0] == world.buyer
    codes = {r["code"] for r in found[0].reasons}
    assert "pairing" in codes
    assert "neighbouring_region" in codes  # the cluster covers FR10, the hotel is in FR101
    members = selectors.suggestions(profile=world.cluster_profile,
                                    filters=selectors.SuggestionFilters(cluster=world.cluster.pk))
    assert {s.organisation for s in members} == {member, world.atelier}
    # The same request made by the organisation itself would have had its members suggested.
    as_organisation = selectors.suggestions(organisation=world.cluster_org)
    assert member in [s.organisation for s in as_organisation]


def test_the_clusters_page_form_and_api(world):  # type: ignore[no-untyped-def]
    owner, other = world.users["manager_own"], world.users["manager_other"]
    client = Client()
    client.force_login(other)
    # Managing the cluster organisation gives no cluster to publish for.
    assert "cluster" not in client.get(reverse("cooperation:profile_new")).context["form"].fields
    client.force_login(owner)
    form = client.get(reverse("cooperation:profile_new")).context["form"]
    assert [label for value, label in form.fields["cluster"].choices if value] == [world.cluster.name]
    response = client.post(reverse("cooperation:profile_new"), {
        "organisation": "", "cluster": world.cluster.pk, "kind": "offer", "title": "Ironing for members",
        "description": "The cluster's ironing workshop."})
    assert response.status_code == 302, response.context["form"].errors if response.context else ""
    created = CooperationProfile.objects.get(title="Ironing for members")
    assert (created.cluster, created.organisation) == (world.cluster, world.cluster_org)
    page = client.get(reverse("cooperation:profile_detail", kwargs={"pk": world.cluster_profile.pk})).content.decode()
    assert "On behalf of the cluster" in page
    assert "Buyers, Partners" in page  # what it seeks, in words
    assert reverse("cluster_detail", kwargs={"pk": world.cluster.pk}) in page
    listed = Client().get(reverse("cooperation:home") + f"?cluster={world.cluster.pk}").content.decode()
    assert world.cluster_profile.title in listed
    assert world.published.title not in listed

    items = json.loads(Client().get(f"{API}/cooperation/profiles?cluster={world.cluster.pk}").content)["items"]
    assert [item["id"] for item in items] == [world.cluster_profile.pk]
    assert items[0]["cluster"] == {"id": world.cluster.pk, "name": world.cluster.name}
    assert items[0]["organisation"]["id"] == world.cluster_org.pk
    plain = json.loads(Client().get(f"{API}/cooperation/profiles/{world.published.pk}").content)
    assert plain["cluster"] is None
