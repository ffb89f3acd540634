"""A small cooperation world for the tests: two organisations on both sides of the social economy line,
their managers, profiles, an opportunity and an interest, on the session's real reference data."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from socialclusters.accounts.models import Role, User
from socialclusters.cooperation import events, services
from socialclusters.cooperation.models import (
    CooperationProfile,
    Event,
    Interest,
    MeetingRequest,
    ProcurementOpportunity,
)
from socialclusters.registry import models
from socialclusters.registry.tests.webworld import cluster, organisation

ROLES = ("anonymous", "representative", "manager_own", "manager_other", "member", "secretariat")


@dataclass
class World:
    atelier: models.Organisation  # social enterprise in FR101, managed by manager_own
    buyer: models.Organisation  # traditional enterprise in FR101, managed by manager_other
    published: CooperationProfile  # atelier's published offer
    draft: CooperationProfile  # atelier's draft request
    opportunity: ProcurementOpportunity  # buyer's open opportunity
    interest: Interest  # buyer → published, pending
    event: Event  # organised by manager_own; manager_own and manager_other registered
    meeting: MeetingRequest  # manager_other asks manager_own, pending
    users: dict[str, User | None]
    # A published social economy cluster managed by manager_own, run by cluster_org (whose own manager is
    # manager_other: managing the cluster organisation is not managing the cluster).
    cluster: models.Cluster
    cluster_org: models.Organisation
    cluster_profile: CooperationProfile  # published request on behalf of the cluster


def build_world(make_user: Any) -> World:
    users: dict[str, User | None] = {
        "anonymous": None,
        "representative": make_user(Role.REPRESENTATIVE, "representative"),
        "manager_own": make_user(Role.CLUSTER_MANAGER, "manager-own"),
        "manager_other": make_user(Role.REPRESENTATIVE, "manager-other"),
        "member": make_user(Role.MEMBER, "member"),
        "secretariat": make_user(Role.SECRETARIAT, "secretariat"),
    }
    paris = models.Region.objects.get(code="FR101", version="2021")
    laundry = models.Sector.objects.get(code="96.01")
    hotels = models.Sector.objects.get(code="55.10")
    atelier = organisation(name="Atelier Blanchisserie Solidaire", kind=models.OrganisationKind.SOCIAL_ENTERPRISE,
                           country_id="FR", city="Paris", region=paris, nuts2="FR10", primary_nace=laundry,
                           nace_section="S", website="https://atelier.example.coop")
    atelier.managers.add(users["manager_own"])
    buyer = organisation(name="Hôtel du Marais SA", kind=models.OrganisationKind.TRADITIONAL_ENTERPRISE,
                         country_id="FR", city="Paris", region=paris, nuts2="FR10", primary_nace=hotels,
                         nace_section="I")
    buyer.managers.add(users["manager_other"])
    owner = users["manager_own"]
    assert owner is not None
    published = services.save_profile(user=owner, organisation=atelier, data={
        "kind": "offer", "title": "Work-integration laundry for hotels",
        "description": "Blanchisserie d'insertion: we wash hotel linen and work uniforms, collected daily.",
        "sectors": ["96.01"], "regions": ["FR101"], "languages": ["fr", "en"], "cross_border": True})
    services.publish_profile(user=owner, profile=published)
    draft = services.save_profile(user=owner, organisation=atelier, data={
        "kind": "request", "seeking": ["buyers"], "title": "Looking for hotel customers",
        "description": "Hotels that need linen washed."})
    other = users["manager_other"]
    assert other is not None
    opportunity = services.create_opportunity(user=other, buyer=buyer, data={
        "title": "Uniform washing", "description": "Weekly washing of 200 staff uniforms.",
        "deadline": timezone.localdate() + dt.timedelta(days=30), "value_band": "10k-50k",
        "social_clauses": ["work_integration"], "how_to_answer": "Write to the purchasing office."})
    interest = services.express_interest(user=other, organisation=buyer, profile=published,
                                         message="We need our linen washed.")
    event = events.create_event(user=owner, data={
        "title": "Social economy partnering day", "venue": "Lyon", "slots": 4, "tables": 2, "slot_minutes": 20,
        "first_slot_at": timezone.now() + dt.timedelta(days=20)})
    mine = events.register(user=owner, event=event, organisation=atelier, available_slots=[0, 1, 2, 3])
    theirs = events.register(user=other, event=event, organisation=buyer, available_slots=[1, 2])
    meeting = events.request_meeting(user=other, event=event, invitee_id=mine.pk)
    assert theirs.pk != mine.pk
    cluster_org = organisation(name="Paris Laundry Network", kind=models.OrganisationKind.CLUSTER_ORGANISATION,
                               country_id="FR", city="Paris", website="https://network.example.org")
    cluster_org.managers.add(users["manager_other"])
    the_cluster = cluster(name="Paris Clean Textiles Cluster", managing_organisation=cluster_org,
                          kind=models.ClusterKind.SOCIAL_ECONOMY, website="https://cluster.example.org")
    the_cluster.managers.add(owner)
    the_cluster.sectors.add(laundry)
    the_cluster.regions.add(models.Region.objects.get(code="FR10", version="2021"))
    cluster_profile = services.save_profile(user=owner, organisation=None, data={
        "cluster": the_cluster.pk, "kind": "request", "seeking": ["buyers", "partners"],
        "title": "Hotels and hospitals for our laundries",
        "description": "The cluster's laundries look for hotels and hospitals with linen to wash."})
    services.publish_profile(user=owner, profile=cluster_profile)
    return World(atelier=atelier, buyer=buyer, published=published, draft=draft, opportunity=opportunity,
                 interest=interest, event=event, meeting=meeting, users=users, cluster=the_cluster,
                 cluster_org=cluster_org, cluster_profile=cluster_profile)
