"""The import of Eurostat regional statistics: values, flags, skipped codes, idempotence, atomicity, the CLI."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from socialclusters.errors import ValidationError
from socialclusters.mapping.models import Measure, RegionalStatistic
from socialclusters.mapping.selectors import statistics_frame
from socialclusters.mapping.services import import_statistics
from socialclusters.registry.models import ImportRun, Source

pytestmark = pytest.mark.django_db

TSV = (
    "freq,unit,wstatus,nace_r2,geo\\TIME_PERIOD\t2020 \t2021 \n"
    "A,THS_PER,EMP,C,FR101\t12.3 p\t13.1 \n"
    "A,THS_PER,EMP,C,DE300\t: \t45 b\n"
    "A,THS_PER,EMP,B-E,ES511\t7.5 \t: c\n"
    "A,THS_PER,SAL,C,FR101\t10 \t11 e\n"
    "A,THS_PER,EMP,C,FRZZZ\t0.1 \t0.2 \n"
    "A,THS_PER,EMP,C,EU27_2020\t30000 \t30100 \n"
    "A,THS_PER,EMP,C,XX999\t1 \t2 \n"
)

SDMX = (
    "DATAFLOW,LAST UPDATE,freq,unit,wstatus,nace_r2,geo,TIME_PERIOD,OBS_VALUE,OBS_FLAG\n"
    "ESTAT:NAMA_10R_3EMPERS(1.0),10/04/24 23:00:00,A,THS_PER,EMP,C,FR101,2020,12.3,p\n"
    "ESTAT:NAMA_10R_3EMPERS(1.0),10/04/24 23:00:00,A,THS_PER,EMP,C,DE300,2020,,\n"
    "ESTAT:NAMA_10R_3EMPERS(1.0),10/04/24 23:00:00,A,THS_PER,EMP,C,DE300,2021,45,b\n"
    "ESTAT:NAMA_10R_3EMPERS(1.0),10/04/24 23:00:00,A,THS_PER,EMP,C,FRZZZ,2021,0.2,\n"
    "ESTAT:NAMA_10R_3EMPERS(1.0),10/04/24 23:00:00,A,THS_PER,EMP,C,EU27_2020,2021,30100,\n"
)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def tsv(tmp_path: Path) -> Path:
    return _write(tmp_path, "nama_10r_3empers.tsv", TSV)


def _stat(code: str, year: int, measure: str = Measure.EMPLOYMENT, sector_code: str = "C") -> RegionalStatistic:
    return RegionalStatistic.objects.get(region__code=code, region__version="2021", year=year, measure=measure,
                                         sector_code=sector_code)


def test_tsv_import_stores_values_flags_and_missing_values(tsv: Path) -> None:
    report = import_statistics(tsv, file_format="eurostat-tsv", dataset="nama_10r_3empers")

    assert report.committed
    fr = _stat("FR101", 2020)
    assert (fr.value, fr.flags, fr.unit, fr.sector_id) == (12.3, "p", "THS_PER", "C")
    assert _stat("FR101", 2021).flags == ""
    missing = _stat("DE300", 2020)
    assert missing.value is None
    assert (_stat("DE300", 2021).value, _stat("DE300", 2021).flags) == (45.0, "b")
    aggregate = _stat("ES511", 2021, sector_code="B-E")
    assert (aggregate.value, aggregate.flags, aggregate.sector_id) == (None, "c", None)
    employees = _stat("FR101", 2021, measure=Measure.EMPLOYEES)
    assert (employees.value, employees.flags) == (11.0, "e")
    source = fr.source
    assert (source.kind, source.name, source.publisher) == ("dataset", "nama_10r_3empers", "Eurostat")
    assert source.version == report.source_version
    assert len(source.version) == len("2026-01-01")


def test_tsv_report_counts_and_lists_skipped_codes(tsv: Path) -> None:
    report = import_statistics(tsv, file_format="eurostat-tsv", dataset="nama_10r_3empers")

    assert (report.rows, report.imported, report.updated, report.unchanged, report.skipped) == (14, 8, 0, 0, 6)
    assert report.balanced
    assert report.missing_values == 2
    assert report.measures == {"employment": 6, "employees": 2}
    skipped = {entry["code"]: entry for entry in report.as_dict()["skipped_codes"]}
    assert set(skipped) == {"FRZZZ", "EU27_2020", "XX999"}
    assert skipped["FRZZZ"]["kind"] == "extra_regio"
    assert skipped["FRZZZ"]["rows"] == 2
    assert skipped["EU27_2020"]["kind"] == "aggregate"
    assert skipped["XX999"]["kind"] == "unknown"
    assert "not a NUTS country code" in skipped["XX999"]["reason"]
    assert RegionalStatistic.objects.count() == 8
    run = ImportRun.objects.get(pk=report.import_run)
    assert run.committed
    assert run.report["skipped"] == 6


def test_reimport_is_idempotent_and_updates_what_changed(tsv: Path) -> None:
    import_statistics(tsv, file_format="eurostat-tsv", dataset="nama_10r_3empers", version="2024-04-10")
    again = import_statistics(tsv, file_format="eurostat-tsv", dataset="nama_10r_3empers", version="2024-04-10")
    assert (again.imported, again.updated, again.unchanged, again.skipped) == (0, 0, 8, 6)
    assert RegionalStatistic.objects.count() == 8

    tsv.write_text(TSV.replace("12.3 p", "12.4 p"), encoding="utf-8")
    changed = import_statistics(tsv, file_format="eurostat-tsv", dataset="nama_10r_3empers", version="2024-04-10")
    assert (changed.imported, changed.updated, changed.unchanged) == (0, 1, 7)
    assert _stat("FR101", 2020).value == 12.4
    assert Source.objects.filter(name="nama_10r_3empers").count() == 1


def test_dry_run_writes_nothing(tsv: Path) -> None:
    sources, runs = Source.objects.count(), ImportRun.objects.count()
    report = import_statistics(tsv, file_format="eurostat-tsv", dataset="nama_10r_3empers", dry_run=True)

    assert report.imported == 8
    assert not report.committed
    assert RegionalStatistic.objects.count() == 0
    assert (Source.objects.count(), ImportRun.objects.count()) == (sources, runs)


def test_malformed_line_is_named_and_nothing_is_written(tmp_path: Path) -> None:
    # The bad cell is on line 8 (XX999), after valid lines that would otherwise have been written.
    path = _write(tmp_path, "bad.tsv", TSV.replace("1 \t2 \n", "1 \tlots\n"))
    sources = Source.objects.count()
    with pytest.raises(ValidationError) as caught:
        import_statistics(path, file_format="eurostat-tsv", dataset="nama_10r_3empers", chunk_rows=2)

    assert caught.value.line == 8
    assert "line 8" in str(caught.value)
    assert "'lots'" in str(caught.value)
    assert RegionalStatistic.objects.count() == 0
    assert Source.objects.count() == sources


def test_sdmx_csv_gives_the_same_statistics(tmp_path: Path) -> None:
    path = _write(tmp_path, "empers.csv", SDMX)
    report = import_statistics(path, file_format="sdmx-csv", dataset="NAMA_10R_3EMPERS", version="v1")

    assert (report.rows, report.imported, report.skipped) == (5, 3, 2)
    assert _stat("FR101", 2020).value == 12.3
    assert _stat("FR101", 2020).flags == "p"
    assert _stat("DE300", 2020).value is None
    assert _stat("DE300", 2021).flags == "b"
    frame = statistics_frame(measure=Measure.EMPLOYMENT, dataset="nama_10r_3empers")
    assert sorted(frame["region"]) == ["DE300", "DE300", "FR101"]


def test_unknown_dataset_needs_a_measure(tsv: Path) -> None:
    with pytest.raises(ValidationError, match="--measure") as caught:
        import_statistics(tsv, file_format="eurostat-tsv", dataset="some_other_set")
    assert caught.value.field == "measure"

    report = import_statistics(tsv, file_format="eurostat-tsv", dataset="some_other_set", measure="se_employment")
    assert report.measures == {"se_employment": 8}
    # With the measure given, wstatus no longer tells the series apart by measure: it stays in the unit.
    assert set(RegionalStatistic.objects.values_list("unit", flat=True)) == {"THS_PER;wstatus=EMP",
                                                                             "THS_PER;wstatus=SAL"}


def test_a_bad_dataset_code_is_named_as_typed(tsv: Path) -> None:
    with pytest.raises(ValidationError, match="'Nama 10r' is not a Eurostat dataset code") as caught:
        import_statistics(tsv, file_format="eurostat-tsv", dataset="Nama 10r")
    assert caught.value.field == "dataset"
    with pytest.raises(ValidationError, match="unknown measure 'jobs'") as caught:
        import_statistics(tsv, file_format="eurostat-tsv", dataset=" NAMA_10R_3EMPERS ", measure="jobs")
    assert caught.value.field == "measure"
    assert RegionalStatistic.objects.count() == 0


def test_command_imports_and_writes_the_report(tsv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report_path = tmp_path / "report.json"
    call_command("import_statistics", str(tsv), "--format", "eurostat-tsv", "--dataset", "nama_10r_3empers",
                 "--report", str(report_path), "--no-progress")

    out = capsys.readouterr().out
    assert "8 imported" in out
    assert "skipped: EU27_2020" in out
    assert "Committed" in out
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["committed"]
    assert report["rows"] == 14
    assert {entry["code"] for entry in report["skipped_codes"]} == {"FRZZZ", "EU27_2020", "XX999"}


def test_command_fails_with_one_line_on_a_malformed_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "bad.tsv", TSV.replace("A,THS_PER,EMP,C,DE300\t", "A,THS_PER,C,DE300\t"))
    with pytest.raises(CommandError) as caught:
        call_command("import_statistics", str(path), "--format", "eurostat-tsv", "--dataset", "nama_10r_3empers",
                     "--no-progress")
    assert str(caught.value).startswith("line 3: ")
    assert "\n" not in str(caught.value)
    assert RegionalStatistic.objects.count() == 0


def test_command_help_documents_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        call_command("import_statistics", "--help")
    out = capsys.readouterr().out
    assert "--dataset" in out
    assert "eurostat-tsv" in out
    assert "skipped_codes" in out


@pytest.mark.skipif(not hasattr(os, "utime"), reason="needs file times")
def test_version_defaults_to_the_file_date(tsv: Path) -> None:
    os.utime(tsv, (1_700_000_000, 1_700_000_000))  # 2023-11-14 UTC
    report = import_statistics(tsv, file_format="eurostat-tsv", dataset="nama_10r_3empers")
    assert report.source_version == "2023-11-14"
