"""Fixtures for the API tests: a small registry built with factories, users of every role, clients."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from socialclusters.accounts.models import Role, User
from socialclusters.registry import models
from socialclusters.registry.tests.factories import (
    ClusterFactory,
    MembershipFactory,
    OrganisationFactory,
    SourceFactory,
)

API = "/api/v1"
ROLES = ("anonymous", "representative", "manager_own", "manager_other", "member", "secretariat")


@dataclass
class World:
    """A registry small enough to reason about, big enough to exercise every filter."""

    paris: models.Organisation  # cooperative placed in FR101 with a point, managed by manager_own
    lyon: models.Organisation  # association in FR, no point, not placed
    berlin: models.Organisation  # traditional enterprise in DE with a point
    member_org: models.Organisation  # research body, member of the published cluster only
    published: models.Cluster  # published, managed by manager_own, covers FR101
    draft: models.Cluster  # draft, managed by manager_own
    other: models.Cluster  # published, traditional, in DE, managed by manager_other
    change: models.ProfileChange  # submitted by manager_own on ``published``
    duplicate: models.DuplicateCandidate
    users: dict[str, User | None]


def make_user(role: str, username: str) -> User:
    # No password: sessions are made with force_login, and hashing one costs half a second per user.
    return User.objects.create_user(username=username, email=f"{username}@example.org", role=role)


@pytest.fixture
def world(db) -> World:  # type: ignore[no-untyped-def]
    users: dict[str, User | None] = {
        "anonymous": None,
        "representative": make_user(Role.REPRESENTATIVE, "representative"),
        "manager_own": make_user(Role.CLUSTER_MANAGER, "manager-own"),
        "manager_other": make_user(Role.CLUSTER_MANAGER, "manager-other"),
        "member": make_user(Role.MEMBER, "member"),
        "secretariat": make_user(Role.SECRETARIAT, "secretariat"),
    }
    paris_region = models.Region.objects.get(code="FR101", version="2021")
    cereals = models.Sector.objects.get(code="01.11")
    social_work = models.Sector.objects.get(code="88")
    legal_form, _ = models.LegalForm.objects.get_or_create(
        code="api-test-coop",
        defaults={"uri": "https://example.org/essglobal/legal-form#api-test-coop", "label": "Test cooperative"},
    )
    paris = OrganisationFactory(
        name="Coopérative Alpha", kind=models.OrganisationKind.COOPERATIVE, city="Paris", country_id="FR",
        latitude=48.8566, longitude=2.3522, region=paris_region, nuts2="FR10", region_method="point",
        primary_nace=cereals, nace_section="A", legal_form=legal_form, website="https://alpha.example.coop",
        search_text="coopérative alpha paris alpha.example.coop", alt_names=["Alpha"], flags=["postcode_repaired"],
    )
    paris.secondary_nace.add(social_work)
    paris.managers.add(users["manager_own"])
    lyon = OrganisationFactory(
        name="Association Beta", kind=models.OrganisationKind.ASSOCIATION, city="Lyon", country_id="FR",
        region_reason="no coordinates and no postcode", search_text="association beta lyon",
        primary_nace=social_work, nace_section="Q",
    )
    berlin = OrganisationFactory(
        name="Gamma GmbH", kind=models.OrganisationKind.TRADITIONAL_ENTERPRISE, city="Berlin", country_id="DE",
        latitude=52.52, longitude=13.405, search_text="gamma gmbh berlin",
    )
    member_org = OrganisationFactory(
        name="Delta University", kind=models.OrganisationKind.RESEARCH, city="Paris", country_id="FR",
        search_text="delta university paris",
    )
    published = ClusterFactory(
        name="Pôle Paris Solidaire", kind=models.ClusterKind.SOCIAL_ECONOMY, city="Paris",
        managing_organisation=paris, management_fte="1.50", website="https://pole.example.org",
        website_in_english=True, search_text="pôle paris solidaire paris",
    )
    published.regions.add(paris_region)
    published.sectors.add(social_work)
    published.managers.add(users["manager_own"])
    draft = ClusterFactory(
        name="Secret draft cluster", publication_status=models.PublicationStatus.DRAFT,
        search_text="secret draft cluster",
    )
    draft.managers.add(users["manager_own"])
    other = ClusterFactory(
        name="Berlin Industry Cluster", kind=models.ClusterKind.TRADITIONAL, country_id="DE", city="Berlin",
        managing_organisation=berlin, search_text="berlin industry cluster berlin",
    )
    other.managers.add(users["manager_other"])
    MembershipFactory(organisation=paris, cluster=published, role=models.MembershipRole.MANAGER)
    MembershipFactory(organisation=member_org, cluster=published)
    MembershipFactory(organisation=lyon, cluster=draft)
    MembershipFactory(organisation=berlin, cluster=other)
    source = SourceFactory(name="api-test-register", version="2019-10-03", url="https://example.org/register",
                           licence="CC-BY-4.0")
    models.SourceRecord.objects.create(source=source, organisation=paris, external_id="alpha", line=12)
    models.SourceRecord.objects.create(source=source, cluster=published, external_id="pole", line=3)
    change = models.ProfileChange.objects.create(
        cluster=published, data={"description": "A new description"}, author=users["manager_own"],
        status=models.ChangeStatus.SUBMITTED, submitted_at=published.created_at,
    )
    duplicate = models.DuplicateCandidate.objects.create(
        first=paris, second=member_org, reason="same web domain", score=0.9
    )
    return World(paris=paris, lyon=lyon, berlin=berlin, member_org=member_org, published=published, draft=draft,
                 other=other, change=change, duplicate=duplicate, users=users)


def client_for(user: User | None, *, enforce_csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=enforce_csrf)
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def anonymous_client(db) -> Client:  # type: ignore[no-untyped-def]
    return Client()


def json_of(response: Any) -> Any:
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    return response.json()
