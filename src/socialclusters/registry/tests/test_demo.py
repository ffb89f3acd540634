"""``socialclusters demo``: a demo database from the real shared data, built once and left alone after."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.core.management import call_command

from socialclusters.accounts.models import Role, User
from socialclusters.registry.models import Cluster, ImportRun, Membership, Organisation, PublicationStatus

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(settings.SHARED_DATA_DIR is None, reason="the shared data folder (../shared/data) is missing"),
]


def run_demo() -> str:
    out = io.StringIO()
    call_command("demo", no_progress=True, stdout=out)
    return out.getvalue()


def snapshot() -> dict[str, object]:
    return {
        "organisations": sorted(Organisation.objects.values_list("id", "updated_at")),
        "clusters": sorted(Cluster.objects.values_list("id", "updated_at")),
        "memberships": sorted(Membership.objects.values_list("id", "organisation_id", "cluster_id")),
        "users": sorted(User.objects.values_list("username", "password", "role")),
        "runs": ImportRun.objects.count(),
    }


def test_the_demo_builds_real_data_with_illustrative_members_and_a_second_run_changes_nothing():
    output = run_demo()
    assert Organisation.objects.count() > 9000
    assert Cluster.objects.filter(publication_status=PublicationStatus.PUBLISHED).count() == 54
    assert ImportRun.objects.filter(committed=True).count() == 3

    memberships = Membership.objects.select_related("organisation", "cluster")
    assert memberships.exists()
    assert all(m.is_illustrative for m in memberships)
    assert all(m.organisation.country_id == m.cluster.country_id for m in memberships)
    assert not Organisation.objects.filter(is_illustrative=True).exists()

    roles = dict(User.objects.values_list("username", "role"))
    assert roles == {"secretariat": Role.SECRETARIAT, "manager": Role.CLUSTER_MANAGER, "member": Role.MEMBER,
                     "representative": Role.REPRESENTATIVE}
    assert all(user.check_password("demo-password") for user in User.objects.all())
    manager = User.objects.get(username="manager")
    managed = manager.managed_clusters.get()
    assert managed.publication_status == PublicationStatus.PUBLISHED
    assert manager.managed_organisations.count() == 1
    assert User.objects.get(username="representative").managed_organisations.count() == 1
    for username in ("secretariat", "manager", "member", "representative"):
        assert username in output
    assert "demo-password" in output

    before = snapshot()
    second = run_demo()
    assert snapshot() == before
    assert second.count("not imported again") == 3
    assert "Illustrative memberships: 0 created." in second
