"""The registry as a statistics source: counts by region and NACE section stored as regional statistics."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from socialclusters.errors import ValidationError
from socialclusters.mapping.models import Measure, RegionalStatistic
from socialclusters.mapping.selectors import REGISTRY_SOURCE
from socialclusters.mapping.services import store_registry_statistics
from socialclusters.registry.models import ImportRun, OrganisationKind, PublicationStatus, Region, Source
from socialclusters.registry.tests.factories import ClusterFactory, MembershipFactory, OrganisationFactory

pytestmark = pytest.mark.django_db

COUNT = "COUNT"


def _region(code: str) -> Region:
    return Region.objects.get(version="2021", code=code)


@pytest.fixture
def registry() -> dict[str, object]:
    """Paris (FR101): 2 cooperatives (C), 1 association (Q), 1 enterprise (C), 1 enterprise without NACE;
    Berlin (DE300): 1 mutual (K). One published cluster covering FR101 with two current members and one past
    member; one draft cluster that must not count."""
    paris, berlin = _region("FR101"), _region("DE300")
    coop_a = OrganisationFactory(region=paris, kind=OrganisationKind.COOPERATIVE, nace_section="C")
    OrganisationFactory(region=paris, kind=OrganisationKind.COOPERATIVE, nace_section="C")
    association = OrganisationFactory(region=paris, kind=OrganisationKind.ASSOCIATION, nace_section="Q")
    enterprise = OrganisationFactory(region=paris, kind=OrganisationKind.TRADITIONAL_ENTERPRISE, nace_section="C")
    OrganisationFactory(region=paris, kind=OrganisationKind.TRADITIONAL_ENTERPRISE, nace_section="")
    mutual = OrganisationFactory(region=berlin, kind=OrganisationKind.MUTUAL, nace_section="K", country_id="DE")
    cluster = ClusterFactory()
    cluster.regions.add(paris)
    MembershipFactory(cluster=cluster, organisation=coop_a)
    MembershipFactory(cluster=cluster, organisation=enterprise)
    MembershipFactory(cluster=cluster, organisation=association, since=date(2020, 1, 1), until=date(2023, 1, 1))
    draft = ClusterFactory(publication_status=PublicationStatus.DRAFT)
    draft.regions.add(berlin)
    MembershipFactory(cluster=draft, organisation=mutual)
    return {"mutual": mutual}


def _value(code: str, measure: str, unit: str = COUNT, sector_code: str = "TOTAL") -> float | None:
    return RegionalStatistic.objects.get(region__code=code, region__version="2021", measure=measure, unit=unit,
                                         sector_code=sector_code, source__name=REGISTRY_SOURCE).value


def test_counts_by_region_at_every_level(registry: dict[str, object]) -> None:
    report = store_registry_statistics(version="2026-11-28")

    assert report.committed
    assert report.levels == [0, 1, 2, 3]
    assert report.year == 2026
    for code in ("FR101", "FR10", "FR1", "FR"):
        assert _value(code, Measure.ORGANISATIONS) == 5
        assert _value(code, Measure.SE_ENTITIES) == 3
        assert _value(code, Measure.SE_ENTITIES, "COUNT;family=cooperative") == 2
        assert _value(code, Measure.SE_ENTITIES, "COUNT;family=association") == 1
        assert _value(code, Measure.SE_ENTITIES, "COUNT;family=mutual") == 0
        assert _value(code, Measure.CLUSTERS) == 1
        # Current members of published clusters only: the past member and the draft cluster's do not count.
        assert _value(code, Measure.CLUSTER_MEMBERS) == 2
        assert _value(code, Measure.CLUSTER_MEMBERS, "COUNT;family=social_economy") == 1
    for code in ("DE300", "DE3", "DE"):
        assert _value(code, Measure.ORGANISATIONS) == 1
        assert _value(code, Measure.SE_ENTITIES, "COUNT;family=mutual") == 1
        assert _value(code, Measure.CLUSTERS) == 0
        assert _value(code, Measure.CLUSTER_MEMBERS) == 0
    # A region with nothing in the registry counts zero rather than "no data".
    assert _value("FR102", Measure.ORGANISATIONS) == 0
    assert _value("PL911", Measure.SE_ENTITIES) == 0


def test_counts_by_nace_section(registry: dict[str, object]) -> None:
    store_registry_statistics(version="v1", year=2026)

    assert _value("FR101", Measure.ORGANISATIONS, sector_code="C") == 3
    assert _value("FR101", Measure.SE_ENTITIES, sector_code="C") == 2
    assert _value("FR101", Measure.SE_ENTITIES, "COUNT;family=cooperative", sector_code="C") == 2
    assert _value("FR1", Measure.ORGANISATIONS, sector_code="Q") == 1
    assert _value("FR", Measure.SE_ENTITIES, "COUNT;family=association", sector_code="Q") == 1
    assert _value("DE300", Measure.SE_ENTITIES, "COUNT;family=mutual", sector_code="K") == 1
    sections = RegionalStatistic.objects.filter(region__code="FR101").exclude(sector_code="TOTAL")
    # Sections where the region has organisations only; the one without NACE is in TOTAL only.
    assert set(sections.values_list("sector_code", flat=True)) == {"C", "Q"}
    assert {stat.sector_id for stat in sections} == {"C", "Q"}
    assert not sections.filter(measure__in=[Measure.CLUSTERS, Measure.CLUSTER_MEMBERS]).exists()


def test_source_rows_and_report_agree(registry: dict[str, object]) -> None:
    report = store_registry_statistics(version="2026-11-28")

    source = Source.objects.get(name=REGISTRY_SOURCE, version="2026-11-28")
    assert (source.kind, source.publisher) == ("dataset", "socialclusters")
    stored = RegionalStatistic.objects.filter(source=source)
    assert stored.count() == report.rows == report.imported
    assert report.balanced
    assert set(stored.values_list("year", flat=True)) == {2026}
    assert set(stored.values_list("flags", flat=True)) == {""}
    assert report.measures[Measure.ORGANISATIONS] == stored.filter(measure=Measure.ORGANISATIONS).count()
    assert report.regions == Region.objects.filter(version="2021").count()
    run = ImportRun.objects.get(pk=report.import_run)
    assert run.committed
    assert run.report["rows"] == report.rows


def test_rerun_is_idempotent_and_follows_registry_changes(registry: dict[str, object]) -> None:
    first = store_registry_statistics(version="v1", year=2026, level=1)
    again = store_registry_statistics(version="v1", year=2026, level=1)
    assert (again.imported, again.updated, again.unchanged, again.removed) == (0, 0, first.rows, 0)

    OrganisationFactory(region=_region("DE300"), kind=OrganisationKind.COOPERATIVE, nace_section="C", country_id="DE")
    changed = store_registry_statistics(version="v1", year=2026, level=1)
    # DE and DE3: organisations, se_entities and its cooperative family change in TOTAL...
    assert changed.updated == 6
    # ... and section C appears (organisations, se_entities, 6 family series) in both regions.
    assert changed.imported == 16
    assert changed.removed == 0

    registry["mutual"].delete()  # type: ignore[attr-defined]
    shrunk = store_registry_statistics(version="v1", year=2026, level=1)
    # Section K disappears from DE and DE3: its 8 series each are removed, not left stale.
    assert shrunk.removed == 16
    assert not RegionalStatistic.objects.filter(region__code="DE3", sector_code="K").exists()
    assert _value("DE", Measure.ORGANISATIONS) == 1
    assert RegionalStatistic.objects.count() == shrunk.rows


def test_versions_are_separate_snapshots(registry: dict[str, object]) -> None:
    store_registry_statistics(version="2025-12-31", level=0)
    store_registry_statistics(version="2026-06-30", level=0)
    assert set(Source.objects.filter(name=REGISTRY_SOURCE).values_list("version", flat=True)) == {
        "2025-12-31", "2026-06-30"}
    assert set(RegionalStatistic.objects.values_list("year", flat=True)) == {2025, 2026}


def test_version_defaults_to_today(registry: dict[str, object]) -> None:
    report = store_registry_statistics(level=0, by_section=False)
    assert report.version == date.today().isoformat()
    assert report.year == date.today().year
    assert not RegionalStatistic.objects.exclude(sector_code="TOTAL").exists()
    assert set(RegionalStatistic.objects.values_list("region__level", flat=True)) == {0}


def test_dry_run_writes_nothing(registry: dict[str, object]) -> None:
    sources, runs = Source.objects.count(), ImportRun.objects.count()
    report = store_registry_statistics(version="v1", level=0, dry_run=True)
    assert report.imported > 0
    assert not report.committed
    assert RegionalStatistic.objects.count() == 0
    assert (Source.objects.count(), ImportRun.objects.count()) == (sources, runs)


def test_bad_arguments_are_named() -> None:
    for arguments, field in (({"level": 4}, "level"), ({"version": ""}, "version"),
                             ({"version": "v1", "year": 20}, "year")):
        with pytest.raises(ValidationError) as caught:
            store_registry_statistics(**arguments)  # type: ignore[arg-type]
        assert caught.value.field == field
    assert RegionalStatistic.objects.count() == 0


def test_command_stores_and_reports(registry: dict[str, object], tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    report_path = tmp_path / "registry.json"
    call_command("registry_statistics", "--version", "2026-Q4", "--level", "1", "--report", str(report_path))

    out = capsys.readouterr().out
    assert "socialclusters registry 2026-Q4 (year 2026)" in out
    assert "0 updated" in out
    assert "Committed" in out
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["committed"]
    assert report["levels"] == [0, 1]
    assert report["rows"] == RegionalStatistic.objects.count()

    call_command("registry_statistics", "--version", "2026-Q4", "--level", "1")
    assert f"0 imported, 0 updated, {report['rows']:,} unchanged, 0 removed" in capsys.readouterr().out

    with pytest.raises(CommandError, match=r"field 'year'.*Nothing was written"):
        call_command("registry_statistics", "--version", "v2", "--year", "99")


def test_command_help_documents_the_measures(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        call_command("registry_statistics", "--help")
    out = capsys.readouterr().out
    for text in ("--version", "--dry-run", "--no-sections", "COUNT;family=cooperative", "cluster_members"):
        assert text in out
