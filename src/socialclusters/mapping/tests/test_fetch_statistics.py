"""fetch-statistics against a real local HTTP server that answers like Eurostat's SDMX 2.1 API, and a mirror."""

from __future__ import annotations

import gzip
import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from socialclusters.errors import SourceUnavailable, ValidationError
from socialclusters.mapping.models import Measure, RegionalStatistic
from socialclusters.mapping.services import fetch_statistics, parse_filters
from socialclusters.registry.models import ImportRun, Source

pytestmark = pytest.mark.django_db

CODE = "nama_10r_3empers"
DIMENSIONS = ("freq", "unit", "wstatus", "nace_r2", "geo")
YEARS = ("2019", "2020", "2021")
# One series per line, as Eurostat publishes them: a value or ':' (no value), then flags (p provisional,
# b break in series, e estimated, c confidential).
SERIES: dict[tuple[str, ...], tuple[str, ...]] = {
    ("A", "THS_PER", "EMP", "C", "DE300"): ("40 ", ": ", "45 b"),
    ("A", "THS_PER", "EMP", "C", "FR101"): ("12.0 ", "12.3 p", "13.1 "),
    ("A", "THS_PER", "EMP", "F", "FR101"): ("5 e", "5.5 ", ": c"),
    ("A", "THS_PER", "EMP", "C", "FRZZZ"): ("0.1 ", "0.1 ", "0.2 "),
    ("A", "THS_PER", "EMP", "C", "EU27_2020"): ("30000 ", "30050 ", "30100 "),
    ("A", "THS_PER", "SAL", "C", "FR101"): ("9 ", "10 ", "11 e"),
}


def eurostat_tsv(series: dict[tuple[str, ...], tuple[str, ...]], years: tuple[str, ...] = YEARS) -> str:
    header = ",".join(DIMENSIONS) + "\\TIME_PERIOD\t" + "\t".join(f"{year} " for year in years)
    lines = [",".join(key) + "\t" + "\t".join(cells) for key, cells in sorted(series.items())]
    return "\n".join([header, *lines]) + "\n"


def sdmx_csv(series: dict[tuple[str, ...], tuple[str, ...]], years: tuple[str, ...] = YEARS) -> str:
    lines = ["DATAFLOW,LAST UPDATE," + ",".join(DIMENSIONS) + ",TIME_PERIOD,OBS_VALUE,OBS_FLAG"]
    for key, cells in sorted(series.items()):
        for year, cell in zip(years, cells, strict=True):
            value, _, flags = cell.partition(" ")
            lines.append(f"ESTAT:NAMA_10R_3EMPERS(1.0),10/04/24 23:00:00,{','.join(key)},{year},"
                         f"{'' if value == ':' else value},{flags}")
    return "\n".join(lines) + "\n"


DSD = """<?xml version="1.0" encoding="UTF-8"?>
<m:Structure xmlns:m="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message"
             xmlns:s="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/structure">
  <m:Structures><s:DataStructures><s:DataStructure id="NAMA_10R_3EMPERS" agencyID="ESTAT" version="1.0">
    <s:DataStructureComponents><s:DimensionList id="DimensionDescriptor">
      <s:Dimension id="freq" position="1"/>
      <s:Dimension id="unit" position="2"/>
      <s:Dimension id="wstatus" position="3"/>
      <s:Dimension id="geo" position="5"/>
      <s:Dimension id="nace_r2" position="4"/>
      <s:TimeDimension id="TIME_PERIOD" position="6"/>
    </s:DimensionList></s:DataStructureComponents>
  </s:DataStructure></s:DataStructures></m:Structures>
</m:Structure>
"""

NOT_FOUND = ('<?xml version="1.0"?><S:Fault xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><faultstring>'
             "No results found</faultstring></S:Fault>")
ASYNC = ('<?xml version="1.0"?><env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Body>'
         "<status>SUBMITTED</status><key>0f2e1c5a</key><message>Due to the large query the response will be "
         "processed asynchronously</message></env:Body></env:Envelope>")


class FakeEurostat:
    """What Eurostat's SDMX 2.1 API does with the requests fetch-statistics makes: positional keys,
    startPeriod, TSV or SDMX-CSV, gzip with compressed=true, 404 for unknown datasets and empty selections."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.status: dict[str, int] = {}  # dataset code → HTTP status to answer
        self.slow: set[str] = set()  # dataset codes answered too late
        self.truncated: set[str] = set()  # dataset codes whose body stops short of its Content-Length
        self.asynchronous: set[str] = set()  # dataset codes answered with an XML message
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                server.requests.append(self.path)
                status, body, content_type, length = server.answer(self.path)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(length if length is not None else len(body)))
                self.end_headers()
                self.wfile.write(body)

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # clients that gave up (the timeout test) close their end early

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/eurostat/api/dissemination"

    def answer(self, path: str) -> tuple[int, bytes, str, int | None]:
        parts = urllib.parse.urlsplit(path)
        segments = parts.path.removeprefix("/eurostat/api/dissemination/").split("/")
        if segments[:3] == ["sdmx", "2.1", "datastructure"] and segments[3:] == ["ESTAT", "NAMA_10R_3EMPERS"]:
            return 200, DSD.encode(), "application/xml", None
        if segments[:3] != ["sdmx", "2.1", "data"] or len(segments) not in (4, 5):
            return 404, NOT_FOUND.encode(), "application/xml", None
        code = segments[3]
        if code in self.slow:
            time.sleep(1.5)
        special = self.special(code)
        if special is not None:
            return special
        key = segments[4].split(".") if len(segments) == 5 else [""] * len(DIMENSIONS)
        return self.data(code, key, dict(urllib.parse.parse_qsl(parts.query)))

    def special(self, code: str) -> tuple[int, bytes, str, int | None] | None:
        if code in self.status:
            return self.status[code], f"<error>status {self.status[code]} for {code}</error>".encode(), "text/xml", None
        if code in self.asynchronous:
            return 200, gzip.compress(ASYNC.encode()), "application/octet-stream", None
        if code != "NAMA_10R_3EMPERS":
            return 404, NOT_FOUND.encode(), "application/xml", None
        return None

    def data(self, code: str, key: list[str], query: dict[str, str]) -> tuple[int, bytes, str, int | None]:
        if len(key) != len(DIMENSIONS):
            return 400, b"<error>Invalid key</error>", "application/xml", None
        years = tuple(year for year in YEARS if year >= query.get("startPeriod", "0"))
        chosen = {
            series: tuple(cell for year, cell in zip(YEARS, cells, strict=True) if year in years)
            for series, cells in SERIES.items()
            if all(not wanted or value in wanted.split("+") for value, wanted in zip(series, key, strict=True))
        }
        if not chosen:
            return 404, NOT_FOUND.encode(), "application/xml", None
        text = eurostat_tsv(chosen, years) if query.get("format") == "TSV" else sdmx_csv(chosen, years)
        body = gzip.compress(text.encode()) if query.get("compressed") == "true" else text.encode()
        if code in self.truncated:
            return 200, body[: len(body) // 2], "application/octet-stream", len(body)
        return 200, body, "application/octet-stream", None


@pytest.fixture
def eurostat(settings: Any) -> Iterator[FakeEurostat]:
    fake = FakeEurostat()
    thread = threading.Thread(target=fake.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    settings.EUROSTAT_API_URL = fake.url
    settings.EUROSTAT_MIRROR = ""
    yield fake
    fake.server.shutdown()
    fake.server.server_close()
    thread.join()


def _stat(code: str, year: int, sector_code: str = "C", measure: str = Measure.EMPLOYMENT) -> RegionalStatistic:
    return RegionalStatistic.objects.get(region__code=code, region__version="2021", year=year, measure=measure,
                                         sector_code=sector_code)


def _nothing_written(sources: int, runs: int) -> None:
    assert RegionalStatistic.objects.count() == 0
    assert (Source.objects.count(), ImportRun.objects.count()) == (sources, runs)


def test_download_imports_values_flags_and_missing_values(eurostat: FakeEurostat) -> None:
    report = fetch_statistics(CODE)

    assert eurostat.requests == [
        "/eurostat/api/dissemination/sdmx/2.1/data/NAMA_10R_3EMPERS?format=TSV&compressed=true"]
    assert report.committed
    assert (report.rows, report.imported, report.skipped) == (18, 12, 6)
    assert report.balanced
    assert (_stat("FR101", 2020).value, _stat("FR101", 2020).flags) == (12.3, "p")
    assert (_stat("DE300", 2020).value, _stat("DE300", 2020).flags) == (None, "")
    assert (_stat("DE300", 2021).value, _stat("DE300", 2021).flags) == (45.0, "b")
    assert (_stat("FR101", 2021, "F").value, _stat("FR101", 2021, "F").flags) == (None, "c")
    assert (_stat("FR101", 2019, "F").value, _stat("FR101", 2019, "F").flags) == (5.0, "e")
    assert _stat("FR101", 2021, measure=Measure.EMPLOYEES).value == 11.0
    assert {entry["code"] for entry in report.as_dict()["skipped_codes"]} == {"FRZZZ", "EU27_2020"}
    url = eurostat.url + "/sdmx/2.1/data/NAMA_10R_3EMPERS?format=TSV&compressed=true"
    fetch = report.as_dict()["fetch"]
    assert (fetch["from"], fetch["location"], fetch["filters"], fetch["since"]) == ("api", url, {}, None)
    assert fetch["bytes"] > 0
    source = _stat("FR101", 2020).source
    assert (source.name, source.version, source.publisher) == (CODE, date.today().isoformat(), "Eurostat")
    run = ImportRun.objects.get(pk=report.import_run)
    assert run.path == url
    assert run.report["fetch"]["location"] == url


def test_filters_become_the_positional_key_and_since_the_start_period(eurostat: FakeEurostat) -> None:
    report = fetch_statistics(CODE, filters={"geo": ["FR101", "DE300"], "nace_r2": ["C"]}, since=2020)

    assert eurostat.requests == [
        "/eurostat/api/dissemination/sdmx/2.1/datastructure/ESTAT/NAMA_10R_3EMPERS",
        # freq.unit.wstatus.nace_r2.geo, in the order of the data structure's positions (not of the XML).
        "/eurostat/api/dissemination/sdmx/2.1/data/NAMA_10R_3EMPERS/...C.FR101+DE300"
        "?format=TSV&compressed=true&startPeriod=2020",
    ]
    assert (report.rows, report.imported, report.skipped) == (6, 6, 0)
    assert set(RegionalStatistic.objects.values_list("region__code", "sector_code", "year")) == {
        ("FR101", "C", 2020), ("FR101", "C", 2021), ("DE300", "C", 2020), ("DE300", "C", 2021),
    }
    assert report.as_dict()["fetch"]["filters"] == {"geo": ["DE300", "FR101"], "nace_r2": ["C"]}


def test_sdmx_csv_gives_the_same_statistics(eurostat: FakeEurostat) -> None:
    report = fetch_statistics(CODE, file_format="sdmx-csv", version="2024-04-10")

    assert eurostat.requests[-1].endswith("?format=SDMX-CSV&compressed=true")
    assert (report.rows, report.imported, report.skipped) == (18, 12, 6)
    assert (_stat("FR101", 2020).value, _stat("FR101", 2020).flags) == (12.3, "p")
    assert _stat("DE300", 2020).value is None
    assert (_stat("FR101", 2021, "F").value, _stat("FR101", 2021, "F").flags) == (None, "c")
    assert _stat("FR101", 2020).source.version == "2024-04-10"


def test_fetching_again_changes_nothing(eurostat: FakeEurostat) -> None:
    fetch_statistics(CODE, version="v1")
    again = fetch_statistics(CODE, version="v1")
    assert (again.imported, again.updated, again.unchanged, again.skipped) == (0, 0, 12, 6)
    assert RegionalStatistic.objects.count() == 12


def test_dry_run_downloads_but_writes_nothing(eurostat: FakeEurostat) -> None:
    sources, runs = Source.objects.count(), ImportRun.objects.count()
    report = fetch_statistics(CODE, dry_run=True)
    assert report.imported == 12
    assert not report.committed
    assert len(eurostat.requests) == 1
    _nothing_written(sources, runs)


def test_mirror_file_is_read_instead_of_the_api(eurostat: FakeEurostat, tmp_path: Path) -> None:
    (tmp_path / f"{CODE}.tsv.gz").write_bytes(gzip.compress(eurostat_tsv(SERIES).encode()))

    report = fetch_statistics(CODE, filters={"geo": ["FR101"]}, since=2021, mirror=str(tmp_path))

    assert eurostat.requests == []
    assert report.as_dict()["fetch"]["from"] == "mirror"
    assert report.path == str(tmp_path / f"{CODE}.tsv.gz")
    # The filters apply to the mirror file too: FR101 only, 2021 only.
    assert sorted(RegionalStatistic.objects.values_list("sector_code", "measure", "value", "flags")) == [
        ("C", "employees", 11.0, "e"), ("C", "employment", 13.1, ""), ("F", "employment", None, "c"),
    ]


def test_mirror_laid_out_like_the_api_in_sdmx_csv(eurostat: FakeEurostat, tmp_path: Path, settings: Any) -> None:
    folder = tmp_path / "sdmx" / "2.1" / "data"
    folder.mkdir(parents=True)
    (folder / "NAMA_10R_3EMPERS.csv").write_text(sdmx_csv(SERIES), encoding="utf-8")
    settings.EUROSTAT_MIRROR = str(tmp_path)

    report = fetch_statistics(CODE)

    assert eurostat.requests == []
    assert report.file_format == "sdmx-csv"
    assert (report.rows, report.imported) == (18, 12)
    assert _stat("FR101", 2020).flags == "p"


def test_mirror_without_the_dataset_falls_back_to_the_api(eurostat: FakeEurostat, tmp_path: Path) -> None:
    (tmp_path / "other_set.tsv").write_text(eurostat_tsv(SERIES), encoding="utf-8")
    report = fetch_statistics(CODE, mirror=str(tmp_path))
    assert report.as_dict()["fetch"]["from"] == "api"
    assert len(eurostat.requests) == 1


def test_mirror_setting_that_is_not_a_folder_is_named(eurostat: FakeEurostat, tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailable, match="SOCIALCLUSTERS_EUROSTAT_MIRROR"):
        fetch_statistics(CODE, mirror=str(tmp_path / "missing"))
    assert eurostat.requests == []


def test_unknown_dataset_gives_404_with_the_url_and_what_to_do(eurostat: FakeEurostat) -> None:
    sources, runs = Source.objects.count(), ImportRun.objects.count()
    with pytest.raises(SourceUnavailable) as caught:
        fetch_statistics("nama_10r_2emhrw")
    message = str(caught.value)
    assert eurostat.url + "/sdmx/2.1/data/NAMA_10R_2EMHRW?format=TSV&compressed=true" in message
    assert "HTTP 404" in message
    assert "check the dataset code nama_10r_2emhrw" in message
    assert "No results found" in message
    _nothing_written(sources, runs)


def test_filter_matching_no_series_is_explained(eurostat: FakeEurostat) -> None:
    with pytest.raises(SourceUnavailable, match="a filter that matches no series also gives 404"):
        fetch_statistics(CODE, filters={"geo": ["PL911"]})
    assert RegionalStatistic.objects.count() == 0


def test_bad_filter_syntax_names_the_argument(eurostat: FakeEurostat) -> None:
    for text in ("geo", "geo=", "=FR101", "geo=FR101,,DE300", "geo=FR.101", "1geo=FR101"):
        with pytest.raises(ValidationError) as caught:
            parse_filters([text])
        assert caught.value.field == "filter"
        assert f"--filter {text!r}" in str(caught.value)
    with pytest.raises(CommandError, match=r"--filter 'geo:FR101'.*Nothing was written"):
        call_command("fetch_statistics", CODE, "--filter", "geo:FR101", "--no-progress")
    assert eurostat.requests == []


def test_filter_on_an_unknown_dimension_lists_the_dimensions(eurostat: FakeEurostat, tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as caught:
        fetch_statistics(CODE, filters={"region": ["FR101"]})
    assert caught.value.field == "filter"
    assert "'region', which is not a dimension of nama_10r_3empers (freq, unit, wstatus, nace_r2, geo)" in str(
        caught.value)
    assert len(eurostat.requests) == 1  # the data structure only, never the data

    (tmp_path / f"{CODE}.tsv").write_text(eurostat_tsv(SERIES), encoding="utf-8")
    with pytest.raises(ValidationError, match="the filter names 'region'") as in_mirror:
        fetch_statistics(CODE, filters={"region": ["FR101"]}, mirror=str(tmp_path))
    assert in_mirror.value.field == "filter"
    assert RegionalStatistic.objects.count() == 0


def test_arguments_are_checked_before_any_request(eurostat: FakeEurostat) -> None:
    cases = [
        ({"code": "nama 10r"}, "code"),
        ({"code": CODE, "since": 15}, "since"),
        ({"code": CODE, "file_format": "json"}, "format"),
        ({"code": "some_other_set"}, "measure"),
        ({"code": CODE, "version": " "}, "version"),
        ({"code": CODE, "api_url": "ftp://example.org"}, "SOCIALCLUSTERS_EUROSTAT_API_URL"),
    ]
    for arguments, field in cases:
        with pytest.raises(ValidationError) as caught:
            fetch_statistics(**arguments)
        assert caught.value.field == field, arguments
    assert eurostat.requests == []


def test_server_error_says_try_again_later(eurostat: FakeEurostat) -> None:
    eurostat.status["NAMA_10R_3EMPERS"] = 503
    with pytest.raises(SourceUnavailable, match=r"HTTP 503.*try again later.*status 503 for NAMA_10R_3EMPERS"):
        fetch_statistics(CODE)
    assert RegionalStatistic.objects.count() == 0


def test_timeout_is_reported_with_what_to_do(eurostat: FakeEurostat, settings: Any) -> None:
    settings.DOWNLOAD_TIMEOUT = 0.3
    eurostat.slow.add("NAMA_10R_3EMPERS")
    with pytest.raises(SourceUnavailable) as caught:
        fetch_statistics(CODE)
    assert "did not answer" in str(caught.value)
    assert "within 0.3 s" in str(caught.value)
    assert "SOCIALCLUSTERS_DOWNLOAD_TIMEOUT" in str(caught.value)
    assert RegionalStatistic.objects.count() == 0


def test_unreachable_server_gives_the_offline_hint(eurostat: FakeEurostat) -> None:
    closed = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = closed.server_address[1]
    closed.server_close()  # nothing listens on this port any more
    with pytest.raises(SourceUnavailable) as caught:
        fetch_statistics(CODE, api_url=f"http://127.0.0.1:{port}/api")
    message = str(caught.value)
    assert f"cannot reach http://127.0.0.1:{port}/api/sdmx/2.1/data/NAMA_10R_3EMPERS" in message
    assert "no network" in message
    assert f"SOCIALCLUSTERS_EUROSTAT_MIRROR as {CODE}.tsv.gz" in message


def test_cut_short_download_writes_nothing(eurostat: FakeEurostat) -> None:
    eurostat.truncated.add("NAMA_10R_3EMPERS")
    with pytest.raises(SourceUnavailable, match="try again"):
        fetch_statistics(CODE)
    assert RegionalStatistic.objects.count() == 0


def test_asynchronous_answer_is_refused_with_advice(eurostat: FakeEurostat) -> None:
    eurostat.asynchronous.add("NAMA_10R_3EMPERS")
    with pytest.raises(SourceUnavailable, match=r"instead of data.*--filter or --since.*processed asynchronously"):
        fetch_statistics(CODE)
    assert RegionalStatistic.objects.count() == 0


def test_command_fetches_and_writes_the_report(eurostat: FakeEurostat, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    report_path = tmp_path / "report.json"
    call_command("fetch_statistics", CODE, "--filter", "geo=FR101", "--filter", "nace_r2=C,F", "--since", "2020",
                 "--report", str(report_path), "--no-progress")

    out = capsys.readouterr().out
    assert f"from {eurostat.url}/sdmx/2.1/data/NAMA_10R_3EMPERS/...C+F.FR101?" in out
    assert "6 imported" in out
    assert "Committed" in out
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["committed"]
    assert report["fetch"]["filters"] == {"geo": ["FR101"], "nace_r2": ["C", "F"]}
    assert report["fetch"]["since"] == 2020
    assert RegionalStatistic.objects.count() == 6


def test_command_failure_is_one_line_and_writes_an_error_report(eurostat: FakeEurostat, tmp_path: Path) -> None:
    report_path = tmp_path / "report.json"
    with pytest.raises(CommandError) as caught:
        call_command("fetch_statistics", "nama_10r_2emhrw", "--report", str(report_path), "--no-progress")
    assert "HTTP 404" in str(caught.value)
    assert "\n" not in str(caught.value)
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["committed"] is False
    assert "HTTP 404" in report["error"]


def test_command_help_documents_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        call_command("fetch_statistics", "--help")
    out = capsys.readouterr().out
    for text in ("--filter", "--since", "--source-version", "SOCIALCLUSTERS_EUROSTAT_MIRROR",
                 "SOCIALCLUSTERS_EUROSTAT_API_URL", "sdmx/2.1/datastructure"):
        assert text in out
