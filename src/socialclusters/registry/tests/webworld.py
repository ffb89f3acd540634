"""A small registry for the web-page tests, built with factories on the session's real reference data.

Shared by the view, permission and browser tests (each wraps :func:`build_world` in a fixture).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from socialclusters.accounts.models import Role, User
from socialclusters.registry import models
from socialclusters.registry.normalise import organisation_search_text
from socialclusters.registry.services import cluster_search_text
from socialclusters.registry.tests.factories import (
    ClusterFactory,
    MembershipFactory,
    OrganisationFactory,
    SourceFactory,
)

ROLES = ("anonymous", "representative", "manager_own", "manager_other", "member", "secretariat")


def organisation(**fields: Any) -> models.Organisation:
    """An organisation whose search column is filled the way imports fill it."""
    org = OrganisationFactory(**fields)
    org.search_text = organisation_search_text(name=org.name, alt_names=org.alt_names, city=org.city,
                                               domain=org.domain)
    org.save(update_fields=["search_text"])
    return org


def cluster(**fields: Any) -> models.Cluster:
    obj = ClusterFactory(**fields)
    obj.search_text = cluster_search_text(obj)
    obj.save(update_fields=["search_text"])
    return obj


@dataclass
class World:
    paris: models.Organisation  # cooperative in FR101 with a point; managed by manager_own
    lyon: models.Organisation  # association, not placed (with a reason)
    berlin: models.Organisation  # traditional enterprise in DE
    university: models.Organisation  # research body, illustrative
    published: models.Cluster  # published social economy cluster, managed by manager_own
    draft: models.Cluster  # draft, managed by manager_own
    other: models.Cluster  # published, traditional, DE, managed by manager_other
    change: models.ProfileChange  # submitted by manager_own on ``published``
    duplicate: models.DuplicateCandidate
    users: dict[str, User | None]


def build_world(make_user: Any) -> World:
    users: dict[str, User | None] = {
        "anonymous": None,
        "representative": make_user(Role.REPRESENTATIVE, "representative"),
        "manager_own": make_user(Role.CLUSTER_MANAGER, "manager-own"),
        "manager_other": make_user(Role.CLUSTER_MANAGER, "manager-other"),
        "member": make_user(Role.MEMBER, "member"),
        "secretariat": make_user(Role.SECRETARIAT, "secretariat"),
    }
    paris_region = models.Region.objects.get(code="FR101", version="2021")
    social_work = models.Sector.objects.get(code="88")
    paris = organisation(
        name="Coopérative Alpha", kind=models.OrganisationKind.COOPERATIVE, city="Paris", country_id="FR",
        latitude=48.8566, longitude=2.3522, region=paris_region, nuts2="FR10", region_method="point",
        primary_nace=social_work, nace_section="Q", website="https://alpha.example.coop", domain="alpha.example.coop",
    )
    paris.managers.add(users["manager_own"])
    lyon = organisation(
        name="Association Beta", kind=models.OrganisationKind.ASSOCIATION, city="Lyon", country_id="FR",
        region_reason="no coordinates and no postcode",
    )
    berlin = organisation(
        name="Gamma GmbH", kind=models.OrganisationKind.TRADITIONAL_ENTERPRISE, city="Berlin", country_id="DE",
    )
    university = organisation(
        name="Delta University", kind=models.OrganisationKind.RESEARCH, city="Paris", country_id="FR",
        is_illustrative=True,
    )
    published = cluster(
        name="Pôle Paris Solidaire", kind=models.ClusterKind.SOCIAL_ECONOMY, city="Paris",
        description="The original description.", managing_organisation=paris, management_fte=Decimal("1.50"),
        website="https://pole.example.org", website_in_english=True, themes=["circular economy"],
    )
    published.regions.add(paris_region)
    published.sectors.add(social_work)
    published.managers.add(users["manager_own"])
    draft = cluster(name="Secret draft cluster", publication_status=models.PublicationStatus.DRAFT)
    draft.managers.add(users["manager_own"])
    other = cluster(name="Berlin Industry Cluster", kind=models.ClusterKind.TRADITIONAL, country_id="DE",
                    city="Berlin", managing_organisation=berlin)
    other.managers.add(users["manager_other"])
    MembershipFactory(organisation=paris, cluster=published, role=models.MembershipRole.MANAGER)
    MembershipFactory(organisation=university, cluster=published, is_illustrative=True)
    MembershipFactory(organisation=lyon, cluster=draft)
    MembershipFactory(organisation=berlin, cluster=other)
    source = SourceFactory(name="Web test register", version="2019-10-03", url="https://example.org/register")
    models.SourceRecord.objects.create(source=source, organisation=paris, external_id="alpha", line=12)
    models.SourceRecord.objects.create(source=source, cluster=published, external_id="pole", line=3,
                                       url="https://pole.example.org/about", quote="Twenty partners work together.")
    change = models.ProfileChange.objects.create(
        cluster=published, data={"description": "A description proposed by the manager."},
        author=users["manager_own"], status=models.ChangeStatus.SUBMITTED, submitted_at=published.created_at,
    )
    duplicate = models.DuplicateCandidate.objects.create(first=paris, second=university, reason="same web domain",
                                                         score=0.9)
    return World(paris=paris, lyon=lyon, berlin=berlin, university=university, published=published, draft=draft,
                 other=other, change=change, duplicate=duplicate, users=users)
