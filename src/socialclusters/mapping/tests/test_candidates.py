"""Candidate territorial clusters: detection from coordinates and regional hot spots, and the review."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from socialclusters.accounts.models import Role
from socialclusters.errors import Conflict, PermissionDenied, ValidationError
from socialclusters.mapping.models import CandidateConcentration, CandidateMethod, CandidateStatus
from socialclusters.mapping.services import detect_concentrations, review_candidate
from socialclusters.registry import models
from socialclusters.registry.tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def lyon_group():  # type: ignore[no-untyped-def]
    """Twelve cooperatives within a kilometre in Lyon, two isolated ones elsewhere, one enterprise in Lyon."""
    lyon = models.Region.objects.get(code="FRK26", version="2021")
    for i in range(12):
        OrganisationFactory(name=f"Lyon coop {i}", region=lyon, nuts2="FRK2", city="Lyon",
                            latitude=45.76 + i * 0.0005, longitude=4.83 + i * 0.0005)
    OrganisationFactory(name="Firm", kind=models.OrganisationKind.TRADITIONAL_ENTERPRISE, region=lyon,
                        latitude=45.7601, longitude=4.8301)
    brest = models.Region.objects.get(code="FRH02", version="2021")
    OrganisationFactory(name="Alone in Brest", region=brest, latitude=48.39, longitude=-4.49)
    OrganisationFactory(name="No region", latitude=40.7, longitude=-74.0)  # outside NUTS: not considered
    return lyon


def test_detection_finds_the_dense_group_and_keeps_reviews(lyon_group, make_user):  # type: ignore[no-untyped-def]
    report = detect_concentrations(eps_km=2, min_organisations=10)
    assert report.organisations == 13  # the twelve, Brest; not the enterprise, not the one outside NUTS
    density = CandidateConcentration.objects.get(method=CandidateMethod.DENSITY)
    assert density.organisation_count == 12
    assert density.region == lyon_group
    assert density.label.startswith("Lyon: 12 social economy organisations")
    assert density.organisations.count() == 12
    assert report.density == 1

    secretariat = make_user(Role.SECRETARIAT)
    review_candidate(user=secretariat, candidate_id=density.pk, decision="accepted", note="A real PTCE in the making")
    density.refresh_from_db()
    assert density.status == CandidateStatus.ACCEPTED
    assert density.cluster.publication_status == models.PublicationStatus.DRAFT
    assert list(density.cluster.regions.all()) == [lyon_group]

    again = detect_concentrations(eps_km=2, min_organisations=10)
    assert again.kept == 1
    assert CandidateConcentration.objects.filter(status=CandidateStatus.ACCEPTED).count() == 1
    assert CandidateConcentration.objects.filter(status=CandidateStatus.PROPOSED,
                                                 method=CandidateMethod.DENSITY).count() == 1


def test_review_rules(lyon_group, make_user):  # type: ignore[no-untyped-def]
    detect_concentrations(eps_km=2, min_organisations=10)
    candidate = CandidateConcentration.objects.get(method=CandidateMethod.DENSITY)
    secretariat = make_user(Role.SECRETARIAT)
    with pytest.raises(PermissionDenied):
        review_candidate(user=make_user(Role.MEMBER), candidate_id=candidate.pk, decision="dismissed", note="no")
    with pytest.raises(ValidationError) as missing_note:
        review_candidate(user=secretariat, candidate_id=candidate.pk, decision="dismissed", note="  ")
    assert missing_note.value.field == "note"
    with pytest.raises(ValidationError) as bad_decision:
        review_candidate(user=secretariat, candidate_id=candidate.pk, decision="publish", note="x")
    assert bad_decision.value.field == "decision"
    review_candidate(user=secretariat, candidate_id=candidate.pk, decision="dismissed", note="One big building")
    with pytest.raises(Conflict):
        review_candidate(user=secretariat, candidate_id=candidate.pk, decision="accepted", note="changed my mind")
    assert models.Cluster.objects.count() == 0


def test_bad_arguments_change_nothing(lyon_group):  # type: ignore[no-untyped-def]
    for arguments, field in [({"eps_km": 0}, "eps_km"), ({"min_organisations": 1}, "min_organisations"),
                             ({"alpha": 1.5}, "alpha")]:
        with pytest.raises(ValidationError) as error:
            detect_concentrations(**arguments)
        assert error.value.field == field
    with pytest.raises(CommandError, match="--min-organisations"):
        call_command("detect_concentrations", "--min-organisations", "1")
    assert CandidateConcentration.objects.count() == 0
    detect_concentrations(eps_km=2, min_organisations=10, dry_run=True)
    assert CandidateConcentration.objects.count() == 0


def test_review_page_accepts_and_announces(lyon_group, client, make_user):  # type: ignore[no-untyped-def]
    detect_concentrations(eps_km=2, min_organisations=10)
    candidate = CandidateConcentration.objects.get(method=CandidateMethod.DENSITY)
    client.force_login(make_user(Role.SECRETARIAT))
    page = client.get("/map/candidates/").content.decode()
    assert candidate.label in page
    refused = client.post(f"/map/candidates/{candidate.pk}/review/", {"decision": "accepted", "note": ""},
                          follow=True)
    assert "note: say why" in refused.content.decode()
    client.post(f"/map/candidates/{candidate.pk}/review/", {"decision": "accepted", "note": "Seen on site"})
    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.ACCEPTED
    data = client.get("/api/v1/map/candidates", {"status": "accepted"}).json()
    assert [item["id"] for item in data["items"]] == [candidate.pk]
    assert data["items"][0]["review_note"] == "Seen on site"
