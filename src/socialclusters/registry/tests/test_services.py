"""The registry's write services: profile changes and their validation, exemptions, publication and duplicates."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail

from socialclusters.accounts.models import Role
from socialclusters.errors import Conflict, PermissionDenied, ValidationError
from socialclusters.registry import selectors, services
from socialclusters.registry.models import (
    ChangeStatus,
    DuplicateCandidate,
    DuplicateStatus,
    Membership,
    Organisation,
    PublicationStatus,
    SourceKind,
)
from socialclusters.registry.tests.factories import MembershipFactory
from socialclusters.registry.tests.webworld import cluster, organisation


@pytest.fixture
def managed(cluster_manager):  # type: ignore[no-untyped-def]
    obj = cluster(name="Pôle Lyon Solidaire", city="Lyon", description="Before.")
    obj.managers.add(cluster_manager)
    return obj


def _propose(user, target, data, capture):  # type: ignore[no-untyped-def]
    with capture(execute=True):
        return services.propose_change(user=user, target=target, data=data)


# --- propose_change -------------------------------------------------------------------------


def test_a_managers_change_to_a_published_cluster_waits_for_validation(
    managed, cluster_manager, secretariat, django_capture_on_commit_callbacks
):
    change = _propose(cluster_manager, managed, {"description": "After."}, django_capture_on_commit_callbacks)

    assert change.status == ChangeStatus.SUBMITTED
    assert change.data == {"description": "After."}
    managed.refresh_from_db()
    assert managed.description == "Before.", "the profile must not change before validation"
    assert [m.to for m in mail.outbox] == [[secretariat.email]]
    assert "Pôle Lyon Solidaire" in mail.outbox[0].subject


def test_a_change_to_a_draft_is_applied_at_once_and_recorded_as_a_manual_source(
    cluster_manager, django_capture_on_commit_callbacks
):
    draft = cluster(name="Draft cluster", publication_status=PublicationStatus.DRAFT)
    draft.managers.add(cluster_manager)

    change = _propose(cluster_manager, draft, {"city": "Nantes", "management_fte": "0.75"},
                      django_capture_on_commit_callbacks)

    assert change.status == ChangeStatus.VALIDATED
    draft.refresh_from_db()
    assert (draft.city, draft.management_fte) == ("Nantes", Decimal("0.75"))
    record = draft.source_records.get()
    assert record.source.kind == SourceKind.MANUAL
    assert record.recorded_by == cluster_manager
    assert mail.outbox == []


def test_only_managers_and_the_secretariat_may_propose(managed, make_user, django_capture_on_commit_callbacks):
    for role in (Role.REPRESENTATIVE, Role.CLUSTER_MANAGER, Role.MEMBER):
        with pytest.raises(PermissionDenied):
            _propose(make_user(role), managed, {"description": "x"}, django_capture_on_commit_callbacks)
    assert not managed.profile_changes.exists()


def test_fields_outside_the_editable_list_are_refused_by_name(managed, cluster_manager):
    with pytest.raises(ValidationError) as caught:
        services.propose_change(user=cluster_manager, target=managed, data={"publication_status": "withdrawn"})
    assert caught.value.field == "publication_status"


def test_bad_values_are_refused_with_the_field_named(managed, cluster_manager):
    with pytest.raises(ValidationError) as caught:
        services.propose_change(user=cluster_manager, target=managed, data={"website": "not a web address"})
    assert caught.value.field == "website"
    assert not managed.profile_changes.exists()


def test_an_unchanged_proposal_is_refused(managed, cluster_manager):
    with pytest.raises(ValidationError) as caught:
        services.propose_change(user=cluster_manager, target=managed, data={"description": "Before."})
    assert caught.value.field == "data"


# --- validate_change / return_change --------------------------------------------------------


def test_validation_applies_the_values_and_tells_the_author(
    managed, cluster_manager, secretariat, django_capture_on_commit_callbacks
):
    change = _propose(cluster_manager, managed, {"description": "After.", "themes": ["food", "energy"]},
                      django_capture_on_commit_callbacks)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.validate_change(user=secretariat, change=change)

    managed.refresh_from_db()
    assert managed.description == "After."
    assert managed.themes == ["food", "energy"]
    assert "energy" in managed.search_text
    change.refresh_from_db()
    assert (change.status, change.decided_by) == (ChangeStatus.VALIDATED, secretariat)
    assert [m.to for m in mail.outbox] == [[cluster_manager.email]]
    assert "validated" in mail.outbox[0].subject


def test_validating_twice_is_a_conflict(managed, cluster_manager, secretariat, django_capture_on_commit_callbacks):
    change = _propose(cluster_manager, managed, {"description": "After."}, django_capture_on_commit_callbacks)
    services.validate_change(user=secretariat, change=change)
    with pytest.raises(Conflict):
        services.validate_change(user=secretariat, change=change)
    with pytest.raises(Conflict):
        services.return_change(user=secretariat, change=change, reason="Too late")


def test_only_the_secretariat_validates_or_returns(managed, cluster_manager, django_capture_on_commit_callbacks):
    change = _propose(cluster_manager, managed, {"description": "After."}, django_capture_on_commit_callbacks)
    with pytest.raises(PermissionDenied):
        services.validate_change(user=cluster_manager, change=change)
    with pytest.raises(PermissionDenied):
        services.return_change(user=cluster_manager, change=change, reason="no")
    managed.refresh_from_db()
    assert managed.description == "Before."


def test_returning_needs_a_reason_and_leaves_the_profile_alone(
    managed, cluster_manager, secretariat, django_capture_on_commit_callbacks
):
    change = _propose(cluster_manager, managed, {"description": "After."}, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    with pytest.raises(ValidationError) as caught:
        services.return_change(user=secretariat, change=change, reason="   ")
    assert caught.value.field == "reason"

    with django_capture_on_commit_callbacks(execute=True):
        services.return_change(user=secretariat, change=change, reason="Please cite a source.")

    change.refresh_from_db()
    managed.refresh_from_db()
    assert (change.status, change.return_reason) == (ChangeStatus.RETURNED, "Please cite a source.")
    assert managed.description == "Before."
    assert "Please cite a source." in mail.outbox[0].body


def test_an_organisation_change_reaches_the_directory_search_after_validation(
    cluster_manager, secretariat, django_capture_on_commit_callbacks
):
    org = organisation(name="Old Name Coop")
    org.managers.add(cluster_manager)
    change = _propose(cluster_manager, org, {"name": "Brand New Coop"}, django_capture_on_commit_callbacks)
    search = selectors.OrganisationFilters(q="brand new")
    assert not selectors.organisation_list(search).exists()

    services.validate_change(user=secretariat, change=change)

    assert list(selectors.organisation_list(search)) == [org]


# --- exemptions and publication -------------------------------------------------------------


def test_the_secretariat_grants_and_revokes_an_exemption(managed, secretariat, cluster_manager):
    assert selectors.admission_checks(managed).status != "exempt"
    with pytest.raises(PermissionDenied):
        services.grant_admission_exemption(user=cluster_manager, cluster=managed, reason="PTCE")
    with pytest.raises(ValidationError) as caught:
        services.grant_admission_exemption(user=secretariat, cluster=managed, reason="")
    assert caught.value.field == "reason"

    services.grant_admission_exemption(user=secretariat, cluster=managed, reason="Recognised PTCE")

    managed.refresh_from_db()
    result = selectors.admission_checks(managed)
    assert (result.status, result.exemption_reason, result.passed) == ("exempt", "Recognised PTCE", True)
    assert managed.admission_exempted_by == secretariat

    services.revoke_admission_exemption(user=secretariat, cluster=managed)
    managed.refresh_from_db()
    assert not managed.admission_exempt
    assert managed.admission_exemption_reason == ""


def test_publication_status_is_the_secretariats_and_leaves_history(managed, secretariat, cluster_manager):
    with pytest.raises(PermissionDenied):
        services.set_publication_status(user=cluster_manager, cluster=managed, status=PublicationStatus.WITHDRAWN)
    with pytest.raises(ValidationError):
        services.set_publication_status(user=secretariat, cluster=managed, status="hidden")

    services.set_publication_status(user=secretariat, cluster=managed, status=PublicationStatus.WITHDRAWN)

    assert not selectors.visible_clusters(None).filter(pk=managed.pk).exists()
    assert managed.history.first().publication_status == PublicationStatus.WITHDRAWN


# --- duplicates -----------------------------------------------------------------------------


@pytest.fixture
def pair(db):  # type: ignore[no-untyped-def]
    first = organisation(name="Coop Alpha", city="Paris")
    second = organisation(name="Alpha Cooperative SCOP", city="", postcode="75011", website="https://alpha.coop")
    shared = cluster(name="Shared cluster")
    MembershipFactory(organisation=second, cluster=shared)
    MembershipFactory(organisation=first, cluster=cluster(name="First's cluster"))
    return DuplicateCandidate.objects.create(first=first, second=second, reason="same domain", score=0.95)


def test_merging_moves_names_memberships_and_missing_fields_to_the_first(pair, secretariat):
    first, second_pk = pair.first, pair.second.pk

    services.decide_duplicate(user=secretariat, candidate=pair, merge=True)

    pair.refresh_from_db()
    first.refresh_from_db()
    assert (pair.status, pair.second, pair.second_name) == (DuplicateStatus.MERGED, None, "Alpha Cooperative SCOP")
    assert not Organisation.objects.filter(pk=second_pk).exists()
    assert "Alpha Cooperative SCOP" in first.alt_names
    assert (first.postcode, first.website) == ("75011", "https://alpha.coop")
    assert set(Membership.objects.filter(organisation=first).values_list("cluster__name", flat=True)) == {
        "Shared cluster", "First's cluster"}
    assert selectors.organisation_list(selectors.OrganisationFilters(q="scop")).get() == first


def test_dismissing_keeps_both_and_a_second_decision_is_a_conflict(pair, secretariat):
    services.decide_duplicate(user=secretariat, candidate=pair, merge=False)
    pair.refresh_from_db()
    assert pair.status == DuplicateStatus.DISMISSED
    assert Organisation.objects.filter(pk__in=[pair.first_id, pair.second_id]).count() == 2
    with pytest.raises(Conflict):
        services.decide_duplicate(user=secretariat, candidate=pair, merge=True)
    assert not selectors.open_duplicates().exists()


def test_only_the_secretariat_decides_on_duplicates(pair, cluster_manager):
    with pytest.raises(PermissionDenied):
        services.decide_duplicate(user=cluster_manager, candidate=pair, merge=True)
    pair.refresh_from_db()
    assert pair.status == DuplicateStatus.OPEN
