"""The import service and commands: real files, re-imports, placement, duplicates, and bad input.

Small files are generated in ``tmp_path`` in the layouts of the real sources; the real files are read
from the shared data folder by path (never copied).
"""

from __future__ import annotations

import csv
import itertools
import json
import random
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from socialclusters.errors import ValidationError
from socialclusters.registry import imports
from socialclusters.registry.models import (
    Cluster,
    ClusterKind,
    DuplicateCandidate,
    ImportRun,
    Organisation,
    OrganisationKind,
    OrganisationStatus,
    PublicationStatus,
    Source,
    SourceRecord,
)

pytestmark = pytest.mark.django_db

SHARED = Path(settings.SHARED_DATA_DIR) if settings.SHARED_DATA_DIR else None
needs_shared = pytest.mark.skipif(SHARED is None, reason="the shared data folder (../shared/data) is missing")
DOTCOOP_FILE = "dotcoop-active-domains-2019-10-03.csv"
COOPS_UK_FILE = "co-ops-uk-2017-06-organisations-sample.csv"

DOTCOOP_HEADER = ["Row", "Roid", "Domain", "Registrar", "RegistrantId", "CreationDate", "Name", "Street",
                  "Street number", "Street Name", "City", "City 2", "State", "State 2", "Country", "Country 2",
                  "PostCode", "Zip", "Latitude", "Longitude", "Relevance", "", ""]
BERLIN = {"Roid": "D1-CNIC", "Domain": "berlin.coop", "Name": "Berliner Genossenschaft eG",
          "Street": "Unter den Linden 1", "Street Name": "Unter den Linden", "City": "Berlin", "City 2": "Berlin",
          "Country": "DE", "Country 2": "DEU", "PostCode": "10117", "Zip": "10117", "Latitude": "52.517",
          "Longitude": "13.3889", "Relevance": "0.97"}


def coop_row(number: int, **values: str) -> dict[str, str]:
    row = {name: "" for name in DOTCOOP_HEADER if name}
    row.update(BERLIN)
    row.update(Row=str(number), Roid=f"D{number}-CNIC", Domain=f"coop{number}.coop", Name=f"Genossenschaft {number}")
    row.update(values)
    return row


def write_coop_csv(path: Path, rows: list[dict[str, str]], encoding: str = "utf-8") -> Path:
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(DOTCOOP_HEADER)
        for row in rows:
            writer.writerow([row.get(name, "") for name in DOTCOOP_HEADER])
    return path


def organisation(external_id: str) -> Organisation:
    return SourceRecord.objects.select_related("organisation__region").get(external_id=external_id).organisation


def written_rows() -> tuple[int, int, int, int]:
    return (Organisation.objects.count(), SourceRecord.objects.count(), Source.objects.count(),
            ImportRun.objects.count())


# --- the real files ----------------------------------------------------------------------------------


@needs_shared
def test_the_coop_register_is_accounted_for_row_by_row_and_a_second_import_changes_nothing():
    path = SHARED / "organisations" / DOTCOOP_FILE
    first = imports.import_organisations(path, mapping="dotcoop")
    assert first.rows == 9279
    assert first.balanced
    assert first.imported + first.rejected == 9279
    assert first.committed
    assert all(row.line > 1 and row.field and row.reason for row in first.rejected_rows)
    assert Organisation.objects.count() == first.imported
    source = Source.objects.get(name="dotcoop")
    assert (source.kind, source.version) == ("dataset", "2019-10-03")
    assert source.url.startswith("https://")

    # The register's known mess, repaired.
    assert first.repairs["country_case"] > 200  # "us"
    assert first.repairs["postcode_leading_zeros"] > 0  # 08003 written 8003
    assert first.repairs["characters_from_alternative"] > 0  # "Kantstra? 10" with "Kantstraße" beside it
    dbc = organisation("D61086677-CNIC")
    assert (dbc.address, dbc.city, dbc.postcode, dbc.country_id) == ("Kantstraße 10", "Böhlen", "04564", "DE")
    assert dbc.region.code.startswith("DED")
    assert dbc.region_method == "coordinates"
    assert (dbc.domain, dbc.website, dbc.kind) == ("dbc.coop", "https://dbc.coop", OrganisationKind.COOPERATIVE)
    assert "böhlen" in dbc.search_text
    assert "bohlen" in dbc.search_text
    us = Organisation.objects.filter(country_id="US")
    assert us.count() > 4000
    assert set(us.values_list("region_reason", flat=True)) == {"country outside NUTS coverage"}
    record = SourceRecord.objects.get(external_id="D61086677-CNIC")
    assert (record.line, len(record.row_hash)) == (3, 40)
    # A cell the spreadsheet could not compute: kept, and flagged for review.
    unnamed = organisation("D61842892-CNIC")
    assert (unnamed.name, unnamed.city) == ("#NAME?", "Barcelona")
    assert "spreadsheet_error" in unnamed.flags
    assert first.flags["spreadsheet_error"] == 1

    runs = ImportRun.objects.count()
    second = imports.import_organisations(path, mapping="dotcoop")
    assert (second.rows, second.imported, second.updated, second.rejected) == (9279, 0, 0, first.rejected)
    assert second.unchanged == first.imported
    assert second.balanced
    assert Organisation.objects.count() == first.imported
    assert ImportRun.objects.count() == runs + 1


@needs_shared
def test_the_co_operatives_uk_sample_translates_sic_codes_dates_and_legal_forms():
    report = imports.import_organisations(SHARED / "organisations" / COOPS_UK_FILE, mapping="co-ops-uk")
    assert (report.rows, report.imported, report.rejected) == (17, 17, 0)
    group = organisation("R000001")
    assert group.name == "The Co-operative Group"
    assert group.alt_names == ["Co-operative Group Limited"]
    assert (group.primary_nace_id, group.nace_section) == ("47.11", "G")
    assert group.founded.isoformat() == "1863-08-11"
    assert (group.status, group.kind, group.legal_form.code) == (OrganisationStatus.ACTIVE,
                                                                 OrganisationKind.COOPERATIVE, "L2")
    assert group.region is None
    assert group.region_reason == "no coordinates; no postcode lookup for GB"
    cafe = organisation("R015247")  # a five-digit UK SIC subclass
    assert cafe.primary_nace_id == "56.10"
    college = organisation("R003235")  # a Charitable Incorporated Organisation
    assert (college.kind, college.legal_form.code) == (OrganisationKind.OTHER_SOCIAL_ECONOMY, "L4")
    assert college.address == "2nd Floor, Holyoake House, Hanover Street"
    assert organisation("R000015").country_id == "JE"  # the Channel Islands society
    assert organisation("R021984").kind == OrganisationKind.COOPERATIVE  # unincorporated, owned by its members
    assert "misdecoded_characters" in organisation("R007626").flags  # "Film Caf\ufffd Co-op"


@needs_shared
def test_clusters_are_published_with_their_source_and_never_filled_by_guessing():
    report = imports.import_clusters(SHARED / "clusters" / "known-se-clusters.csv")
    assert (report.rows, report.imported, report.rejected) == (54, 54, 0)
    assert Cluster.objects.filter(publication_status=PublicationStatus.PUBLISHED).count() == 54
    darwin = Cluster.objects.get(name="Darwin éco-système")
    assert (darwin.kind, darwin.founded_year, darwin.members_count_stated) == (ClusterKind.SOCIAL_ECONOMY, 2008, 230)
    assert darwin.themes == ["économie et écologie"]
    record = darwin.source_records.get()
    assert record.url == "https://sudradio.fr/societe/a-bordeaux-darwin-fait-evoluer-le-travail"
    assert record.quote.startswith("Darwin a été lancé en 2008")
    coursive = Cluster.objects.get(name="La Coursive Boutaric")
    assert (coursive.founded_year, coursive.website, list(coursive.regions.all())) == (None, "", [])
    assert Cluster.objects.get(name="Olatukoop").kind == ClusterKind.OTHER_VEHICLE  # "red de cooperativas"
    assert Cluster.objects.get(name="Lisboa Social Mitra").kind == ClusterKind.OTHER_VEHICLE
    # Region hints that are NUTS names give regions; others ("Basque Country", "PACA") give none.
    orebro = Cluster.objects.get(name__startswith="Partnerskapet")
    assert [region.code for region in orebro.regions.all()] == ["SE124"]
    assert sorted(r.code for r in Cluster.objects.get(name__startswith="Pôle Laine").regions.all()) == ["FRK",
                                                                                                         "FRK13"]
    assert not Cluster.objects.get(name="Mondragón Corporation").regions.exists()

    again = imports.import_clusters(SHARED / "clusters" / "known-se-clusters.csv")
    assert (again.imported, again.updated, again.unchanged) == (0, 0, 54)
    assert Cluster.objects.count() == 54


# --- normalisation and placement through the import ----------------------------------------------------


def test_rows_are_normalised_placed_and_flagged(tmp_path):
    path = write_coop_csv(tmp_path / "coops.csv", [
        coop_row(1),
        coop_row(2, Country="fr", **{"Country 2": "FRA"}, City="Paris", PostCode="75001", Latitude="", Longitude="",
                 Relevance=""),
        coop_row(3, Country="ESP", City="Barcelona", PostCode="8003", Latitude="41.3874", Longitude="2.1686"),
        coop_row(4, Latitude="123.4"),  # impossible latitude: row kept, coordinates dropped
        coop_row(5, Country="FR", PostCode="75001", City="Paris"),  # a French address geocoded in Berlin
        coop_row(6, Country="us", **{"Country 2": "USA"}, City="Waltham", PostCode="2453", Latitude="42.38",
                 Longitude="-71.19"),
        coop_row(7, Relevance="0.3"),
        coop_row(8, Street="Kantstra? 10", **{"Street Name": "Kantstraße"}, City="B?hlen", **{"City 2": "Böhlen"}),
    ])
    report = imports.import_organisations(path, mapping="dotcoop")
    assert (report.rows, report.imported, report.rejected) == (8, 8, 0)

    berlin = organisation("D1-CNIC")
    assert (berlin.region.code, berlin.nuts2, berlin.region_method, berlin.flags) == ("DE300", "DE30", "coordinates",
                                                                                      [])
    assert (berlin.latitude, berlin.longitude, berlin.geocode_confidence) == (52.517, 13.3889, 0.97)
    paris = organisation("D2-CNIC")
    assert (paris.country_id, paris.region.code, paris.region_method) == ("FR", "FR101", "postcode")
    barcelona = organisation("D3-CNIC")
    assert (barcelona.country_id, barcelona.postcode, barcelona.region.code) == ("ES", "08003", "ES511")
    impossible = organisation("D4-CNIC")
    assert (impossible.latitude, impossible.longitude) == (None, None)
    assert "coordinates_out_of_range" in impossible.flags
    assert impossible.region.code == "DE300"  # by its postcode instead
    elsewhere = organisation("D5-CNIC")
    assert "coordinates_outside_country" in elsewhere.flags
    assert (elsewhere.region.code, elsewhere.region_method) == ("FR101", "postcode")
    american = organisation("D6-CNIC")
    assert (american.country_id, american.postcode, american.region) == ("US", "02453", None)
    assert american.region_reason == "country outside NUTS coverage"
    unsure = organisation("D7-CNIC")
    assert "low_geocode_confidence" in unsure.flags
    assert unsure.latitude == 52.517
    repaired = organisation("D8-CNIC")
    assert (repaired.address, repaired.city) == ("Kantstraße 10", "Böhlen")
    assert report.repairs == {"country_case": 2, "country_alpha3": 1, "postcode_leading_zeros": 2,
                              "characters_from_alternative": 2}
    assert report.flagged == 3
    # Barcelona lies on a coast the 1:60 million polygons draw a little inland: the nearest region.
    assert report.placement == {"coordinates": 2, "nearest": 1, "postcode": 4, "unplaced": 1}


def test_a_row_whose_values_changed_is_updated_and_the_others_are_left_alone(tmp_path):
    rows = [coop_row(number) for number in range(1, 6)]
    imports.import_organisations(write_coop_csv(tmp_path / "v1.csv", rows), mapping="dotcoop")
    before = {o.pk: o.updated_at for o in Organisation.objects.all()}
    rows[2]["Name"] = "Genossenschaft drei eG"
    rows.append(coop_row(6))
    report = imports.import_organisations(write_coop_csv(tmp_path / "v2.csv", rows), mapping="dotcoop")
    assert (report.rows, report.imported, report.updated, report.unchanged) == (6, 1, 1, 4)
    assert organisation("D3-CNIC").name == "Genossenschaft drei eG"
    assert "genossenschaft drei eg" in organisation("D3-CNIC").search_text
    after = {o.pk: o.updated_at for o in Organisation.objects.all()}
    assert sum(before[pk] != after[pk] for pk in before) == 1
    assert Organisation.objects.count() == 6


def test_a_new_version_of_the_dataset_updates_the_same_records(tmp_path):
    rows = [coop_row(1), coop_row(2)]
    imports.import_organisations(write_coop_csv(tmp_path / "dotcoop-2019-10-03.csv", rows), mapping="dotcoop")
    rows[1]["City"] = "Potsdam"
    report = imports.import_organisations(write_coop_csv(tmp_path / "dotcoop-2020-05-01.csv", rows),
                                          mapping="dotcoop")
    assert (report.source_version, report.imported, report.updated, report.unchanged) == ("2020-05-01", 0, 1, 1)
    assert Organisation.objects.count() == 2
    assert set(SourceRecord.objects.values_list("source__version", flat=True)) == {"2020-05-01"}


def test_xlsx_and_json_files_import_like_csv(tmp_path):
    import openpyxl

    rows = [coop_row(1), coop_row(2, Country="es", PostCode="8003", City="Barcelona", Latitude="", Longitude="")]
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([name or None for name in DOTCOOP_HEADER])
    for row in rows:
        # A spreadsheet holds the postcode as a number: the leading zero is lost for good.
        sheet.append([int(row[name]) if name == "PostCode" else row.get(name, "") for name in DOTCOOP_HEADER])
    book.save(tmp_path / "coops.xlsx")
    report = imports.import_organisations(tmp_path / "coops.xlsx", mapping="dotcoop")
    assert (report.file_format, report.rows, report.imported) == ("xlsx", 2, 2)
    assert (organisation("D2-CNIC").postcode, organisation("D2-CNIC").region.code) == ("08003", "ES511")

    (tmp_path / "coops.json").write_text(json.dumps([{**row, "Roid": f"J{row['Roid']}"} for row in rows]),
                                         encoding="utf-8")
    report = imports.import_organisations(tmp_path / "coops.json", mapping="dotcoop")
    assert (report.file_format, report.rows, report.imported) == ("json", 2, 2)
    assert organisation("JD2-CNIC").region.code == "ES511"


def test_a_cp1252_file_is_detected_and_read_correctly(tmp_path):
    rows = [coop_row(number, Name=f"Coopérative Œuvre Crédit n° {number}", City="Besançon", Country="FR",
                     PostCode="25000", Latitude="47.2378", Longitude="6.0241") for number in range(1, 40)]
    report = imports.import_organisations(write_coop_csv(tmp_path / "latin.csv", rows, encoding="cp1252"),
                                          mapping="dotcoop")
    assert report.encoding.lower().replace("-", "").replace("_", "") in {"cp1252", "windows1252"}
    assert organisation("D7-CNIC").name == "Coopérative Œuvre Crédit n° 7"
    assert organisation("D7-CNIC").city == "Besançon"


def test_a_dry_run_reports_everything_and_writes_nothing(tmp_path):
    path = write_coop_csv(tmp_path / "coops.csv", [coop_row(1), coop_row(2, Country="XX", **{"Country 2": ""})])
    before = written_rows()
    dry = imports.import_organisations(path, mapping="dotcoop", dry_run=True)
    assert written_rows() == before
    assert (dry.rows, dry.imported, dry.rejected, dry.committed, dry.import_run) == (2, 1, 1, False, None)
    real = imports.import_organisations(path, mapping="dotcoop")
    assert (real.imported, real.rejected, real.placement) == (dry.imported, dry.rejected, dry.placement)


def test_strict_mode_writes_nothing_when_a_row_is_rejected_but_records_the_attempt(tmp_path):
    path = write_coop_csv(tmp_path / "coops.csv", [coop_row(1), coop_row(2, Country="Atlantis", **{"Country 2": ""})])
    report = imports.import_organisations(path, mapping="dotcoop", strict=True)
    assert (report.rows, report.rejected, report.committed) == (2, 1, False)
    assert not Organisation.objects.exists()
    assert not SourceRecord.objects.exists()
    run = ImportRun.objects.get()
    assert (run.committed, run.report["rejected"], run.report["rejected_rows"][0]["line"]) == (False, 1, 3)


def test_the_json_report_has_the_promised_keys_and_balances(tmp_path):
    path = write_coop_csv(tmp_path / "coops.csv", [coop_row(1), coop_row(1), coop_row(3, Name="")])
    call_command("import_organisations", str(path), mapping="dotcoop", report=str(tmp_path / "report.json"),
                 no_progress=True, stdout=open(tmp_path / "out.txt", "w"))  # noqa: SIM115
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    for key in ("rows", "imported", "updated", "unchanged", "rejected", "flagged", "rejected_rows"):
        assert key in report
    assert report["rows"] == report["imported"] + report["updated"] + report["unchanged"] + report["rejected"] == 3
    assert report["rejected_rows"] == [
        {"line": 3, "field": "Roid", "value": "D1-CNIC",
         "reason": "duplicate Roid 'D1-CNIC': line 2 has it already; only the first row with an identifier is"
                   " imported"},
        {"line": 4, "field": "Name", "value": "", "reason": "Name is empty: every organisation needs a name"},
    ]
    assert report["import_run"] == ImportRun.objects.get().pk
    assert ImportRun.objects.get().report["rows"] == 3


# --- duplicates across sources --------------------------------------------------------------------------


def test_likely_duplicates_across_sources_are_proposed_not_merged(tmp_path):
    mapping = tmp_path / "directory.toml"
    mapping.write_text(
        '[source]\nname = "local-directory"\nversion = "1"\n[id]\ncolumn = "id"\n'
        '[fields]\nname = "name"\ncity = "town"\ncountry = "country"\nwebsite = "web"\n',
        encoding="utf-8",
    )
    imports.import_organisations(write_coop_csv(tmp_path / "coops.csv", [
        coop_row(1, Domain="berlin.coop", Name="Berliner Genossenschaft eG"),
        coop_row(2, Domain="kiez.coop", Name="Kiezladen Genossenschaft eG"),
    ]), mapping="dotcoop")
    directory = tmp_path / "directory.csv"
    directory.write_text("id,name,town,country,web\n"
                         "a,Berliner Genossenschaft,Berlin,DE,https://www.berlin.coop/\n"
                         "b,Kiezladen eG,BERLIN,de,\n"
                         "c,Something Else Entirely,Berlin,DE,\n", encoding="utf-8")
    report = imports.import_organisations(directory, mapping=mapping)
    assert report.duplicate_candidates == 2
    reasons = sorted(DuplicateCandidate.objects.values_list("reason", flat=True))
    assert reasons[0] == "same web domain berlin.coop"
    assert reasons[1].startswith("similar names in BERLIN: 'Kiezladen eG'")
    assert Organisation.objects.count() == 5  # nothing merged
    again = imports.import_organisations(directory, mapping=mapping)
    assert (again.unchanged, again.duplicate_candidates) == (3, 0)


# --- bad input: each ends with a clear message and no partial write ---------------------------------------


def test_malformed_csv_quoting_stops_the_import_with_its_line(tmp_path):
    path = write_coop_csv(tmp_path / "coops.csv", [coop_row(1), coop_row(2)])
    with open(path, "a", encoding="utf-8") as handle:
        handle.write('3,D3-CNIC,x.coop,H1,R3,01/02/2018,"Broken "quote" here,Street\n')
    before = written_rows()
    with pytest.raises(ValidationError, match="not a well-formed CSV file") as error:
        imports.import_organisations(path, mapping="dotcoop")
    assert error.value.line == 4
    assert written_rows() == before


def test_a_row_with_the_wrong_number_of_fields_is_rejected_with_its_line(tmp_path):
    path = write_coop_csv(tmp_path / "coops.csv", [coop_row(1)])
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("2,D2-CNIC,two.coop\n")
    report = imports.import_organisations(path, mapping="dotcoop")
    assert (report.rows, report.imported, report.rejected) == (2, 1, 1)
    assert report.rejected_rows[0].line == 3
    assert "3 fields" in report.rejected_rows[0].reason


def test_the_wrong_encoding_given_stops_the_import_and_says_what_to_do(tmp_path):
    path = write_coop_csv(tmp_path / "latin.csv", [coop_row(1, Name="Coopérative")], encoding="cp1252")
    before = written_rows()
    with pytest.raises(ValidationError, match="--encoding"):
        imports.import_organisations(path, mapping="dotcoop", encoding="utf-8")
    assert written_rows() == before


@pytest.mark.parametrize("parallel", [False, True], ids=["plain", "workers"])
def test_bytes_that_break_the_detected_encoding_late_in_the_file_undo_everything(tmp_path, monkeypatch, parallel):
    # With workers, the first chunks are packed and copied into the registry before the bad byte is read.
    if parallel:
        monkeypatch.setattr(imports, "PARALLEL_MIN_BYTES", 0)
    # More than the MiB that encoding detection reads, all plain ASCII, then one Latin-1 byte.
    rows = [coop_row(number, Street="Unter den Linden 1" + " " * 200) for number in range(1, 5000)]
    path = write_coop_csv(tmp_path / "coops.csv", rows)
    with open(path, "ab") as handle:
        handle.write(b"5000,D5000-CNIC,late.coop,H1,R1,01/02/2018,Caf\xe9,x,,,Berlin,,,,DE,,,,,,,,\n")
    assert path.stat().st_size > imports.SAMPLE_BYTES
    before = written_rows()
    with pytest.raises(ValidationError, match="not valid utf-8"):
        imports.import_organisations(path, mapping="dotcoop", chunk_rows=1000)
    assert written_rows() == before


def test_an_unknown_country_rejects_the_row_and_names_the_value(tmp_path):
    path = write_coop_csv(tmp_path / "coops.csv", [coop_row(1), coop_row(2, Country="Atlantis", **{"Country 2": ""})])
    report = imports.import_organisations(path, mapping="dotcoop")
    assert (report.imported, report.rejected) == (1, 1)
    rejected = report.rejected_rows[0]
    assert (rejected.line, rejected.field, rejected.value) == (3, "Country", "Atlantis")
    assert "unknown country code 'Atlantis'" in rejected.reason


def test_coordinates_out_of_range_keep_the_row_and_drop_the_coordinates(tmp_path):
    path = write_coop_csv(tmp_path / "coops.csv", [coop_row(1, Latitude="95.1", Longitude="13.4"),
                                                   coop_row(2, Latitude="52.5", Longitude="-181")])
    report = imports.import_organisations(path, mapping="dotcoop")
    assert (report.imported, report.flags["coordinates_out_of_range"]) == (2, 2)
    assert not Organisation.objects.exclude(latitude=None).exists()


@pytest.mark.parametrize("parallel", [False, True], ids=["plain", "workers"])
def test_duplicate_source_ids_reject_the_later_rows(tmp_path, monkeypatch, parallel):
    if parallel:
        monkeypatch.setattr(imports, "PARALLEL_MIN_BYTES", 0)
    rows = [coop_row(1), coop_row(2), coop_row(1, Name="Again"), coop_row(1, Name="And again")]
    report = imports.import_organisations(write_coop_csv(tmp_path / "coops.csv", rows), chunk_rows=2,
                                          mapping="dotcoop")
    assert (report.imported, report.rejected) == (2, 2)
    assert [(row.line, row.field) for row in report.rejected_rows] == [(4, "Roid"), (5, "Roid")]
    assert all("line 2 has it already" in row.reason for row in report.rejected_rows)
    assert organisation("D1-CNIC").name == "Genossenschaft 1"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"\n\n  \n", "no header row"),
        (",".join(DOTCOOP_HEADER).encode() + b"\n", "no data rows"),
        (b"name;town\nA;B\n", "that mapping 'dotcoop' reads are not in the header"),
        (b"PK\x03\x04 this is not a workbook", "not a readable XLSX workbook"),
    ],
)
def test_files_that_are_not_tables_are_refused(tmp_path, content, message):
    path = tmp_path / "input.csv"
    path.write_bytes(content)
    before = written_rows()
    with pytest.raises(ValidationError, match=message):
        imports.import_organisations(path, mapping="dotcoop")
    assert written_rows() == before


def test_twenty_megabytes_of_random_bytes_are_refused_quickly(tmp_path):
    path = tmp_path / "random.csv"
    path.write_bytes(random.Random(7).randbytes(20 * 2**20))
    before = written_rows()
    started = time.perf_counter()
    with pytest.raises(ValidationError, match="not a CSV/XLSX/JSON table: the file has binary content"):
        imports.import_organisations(path, mapping="dotcoop")
    assert time.perf_counter() - started < 10
    assert written_rows() == before


def test_bad_json_is_refused_with_its_line(tmp_path):
    path = tmp_path / "rows.json"
    path.write_text('[{"Roid": "D1", "Name": "A"},\n {"Roid": "D2", "Name": }]', encoding="utf-8")
    with pytest.raises(ValidationError, match="not valid JSON") as error:
        imports.import_organisations(path, mapping="dotcoop")
    assert error.value.line == 2


# --- mappings and commands ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[source]\nname = "x"\n[id]\ncolumn = "id"\n[fields]\nname = "n"\nnmae = "n"\n', "fields.nmae: unknown field"),
        ('[source]\nname = "x"\n[id]\ncolumn = "id"\n[fields]\nname = { column = "n", colunm = "m" }\n',
         "unknown option 'colunm'"),
        ('[source]\nname = "x"\n[id]\ncolumn = "id"\n[fields]\nname = "n"\nkind = { value = "coop" }\n',
         "'coop' is not a kind"),
        ('[source]\nname = "x"\n[fields]\nname = "n"\n', "id: needs `column`"),
        ('[source]\nname = "x"\n[id]\ncolumn = "id"\n[fields]\nname = "n"\nlegal_form = { value = "L9" }\n',
         "'L9' is not an ESSGlobal legal form"),
        ("not = toml = at all", "not valid TOML"),
    ],
)
def test_mapping_mistakes_are_named(tmp_path, toml, message):
    (tmp_path / "mine.toml").write_text(toml, encoding="utf-8")
    (tmp_path / "rows.csv").write_text("id,n\n1,A\n", encoding="utf-8")
    with pytest.raises(ValidationError, match=message):
        imports.import_organisations(tmp_path / "rows.csv", mapping=tmp_path / "mine.toml")


def test_an_unknown_mapping_name_lists_the_shipped_ones(tmp_path):
    with pytest.raises(ValidationError, match=r"no mapping 'dotcop': give one of .*dotcoop"):
        imports.load_mapping("dotcop")
    assert {"dotcoop", "co-ops-uk", "known-se-clusters"} <= set(imports.available_mappings())


def test_the_command_turns_a_bad_file_into_a_clear_error_and_writes_the_error_report(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(CommandError, match=r"(?s)the file is empty.*Nothing was written"):
        call_command("import_organisations", str(path), mapping="dotcoop", report=str(tmp_path / "r.json"))
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["committed"] is False


def test_the_command_in_strict_mode_fails_when_rows_are_rejected(tmp_path):
    path = write_coop_csv(tmp_path / "coops.csv", [coop_row(1), coop_row(2, Country="ZZ", **{"Country 2": "ZZZ"})])
    with pytest.raises(CommandError, match="1 rows rejected and --strict given: nothing was written"):
        call_command("import_organisations", str(path), mapping="dotcoop", strict=True, no_progress=True,
                     stdout=open(tmp_path / "out.txt", "w"))  # noqa: SIM115
    assert not Organisation.objects.exists()


@needs_shared
def test_the_clusters_command_prints_a_summary(tmp_path):
    out = tmp_path / "out.txt"
    with open(out, "w", encoding="utf-8") as stdout:
        call_command("import_clusters", str(SHARED / "clusters" / "known-se-clusters.csv"), stdout=stdout)
    text = out.read_text(encoding="utf-8")
    assert "54 rows: 54 imported, 0 updated, 0 unchanged, 0 rejected" in text
    assert "Committed" in text


@needs_shared
def test_worker_processes_store_exactly_what_the_plain_path_stores(monkeypatch):
    """Large files take a faster path (forked normalising workers, which on a first import into SQLite pack
    each chunk into a database of its own): forced here on the real .coop register, in several chunks, it
    must store the same registry as the plain path, and leave the indexes as they were."""
    from django.db import connection, transaction

    path = SHARED / "organisations" / DOTCOOP_FILE
    fields = ("name", "city", "postcode", "country_id", "region__code", "region_method", "region_reason", "kind",
              "domain", "website", "search_text", "flags", "latitude", "longitude", "source_records__external_id",
              "source_records__line")

    def snapshot() -> list[tuple[object, ...]]:
        return sorted(Organisation.objects.values_list(*fields), key=repr)

    def indexes() -> set[str]:
        if connection.vendor != "sqlite":
            return set()
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
            return {row[0] for row in cursor.fetchall()}

    before = indexes()
    with transaction.atomic():
        plain = imports.import_organisations(path, mapping="dotcoop")
        expected = snapshot()
        transaction.set_rollback(True)
    assert Organisation.objects.count() == 0

    monkeypatch.setattr(imports, "PARALLEL_MIN_BYTES", 0)
    packed_chunks = []
    write_packed = imports._OrganisationStore._write_packed

    def counting(store, chunk):  # type: ignore[no-untyped-def]
        packed_chunks.append(chunk.packed_rows)
        return write_packed(store, chunk)

    monkeypatch.setattr(imports._OrganisationStore, "_write_packed", counting)
    fast = imports.import_organisations(path, mapping="dotcoop", chunk_rows=2000)
    assert (fast.rows, fast.imported, fast.rejected, fast.flagged) == (plain.rows, plain.imported, plain.rejected,
                                                                       plain.flagged)
    assert fast.as_dict()["repairs"] == plain.as_dict()["repairs"]
    assert fast.as_dict()["placement"] == plain.as_dict()["placement"]
    if connection.vendor == "sqlite":
        assert len(packed_chunks) == 7  # 9,279 rows: 250, 500 and 1,000 (the ramp), then chunks of 2,000
        assert sum(packed_chunks) == plain.imported
    else:
        assert not packed_chunks  # PostgreSQL takes COPY
    assert snapshot() == expected
    assert indexes() == before
    again = imports.import_organisations(path, mapping="dotcoop")
    assert again.unchanged == plain.imported


@needs_shared
def test_packed_chunks_of_consecutive_runs_are_read_with_their_own_columns(monkeypatch, tmp_path):
    """Packed chunks carry every kind of column the co-ops-uk mapping writes (dates, lists, foreign keys);
    inside a caller's transaction their schema stays attached between runs, and a run that writes other
    columns than the one before must be read with its own layout."""
    monkeypatch.setattr(imports, "PARALLEL_MIN_BYTES", 0)
    imports.import_organisations(write_coop_csv(tmp_path / "coop.csv", [coop_row(n) for n in range(1, 4)]),
                                 mapping="dotcoop")
    report = imports.import_organisations(SHARED / "organisations" / COOPS_UK_FILE, mapping="co-ops-uk")
    assert (report.rows, report.imported) == (17, 17)
    group = organisation("R000001")
    assert (group.name, group.primary_nace_id, group.legal_form.code) == ("The Co-operative Group", "47.11", "L2")
    assert group.founded.isoformat() == "1863-08-11"
    assert organisation("D2-CNIC").name == "Genossenschaft 2"


# --- foreign keys ------------------------------------------------------------------------------------


def _with_an_extra_country(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the import believe the registry holds country ZZ: as if it vanished after the lookups were read."""
    lookups = imports._lookups

    def stale(target: str) -> imports._Lookups:
        found = lookups(target)
        found.alpha2.add("ZZ")
        return found

    monkeypatch.setattr(imports, "_lookups", stale)


def test_a_reference_that_vanished_during_the_import_fails_it_and_writes_nothing(tmp_path, monkeypatch):
    _with_an_extra_country(monkeypatch)
    before = written_rows()
    path = write_coop_csv(tmp_path / "coops.csv", [coop_row(1), coop_row(2, Country="ZZ", **{"Country 2": ""})])
    with pytest.raises(ValidationError, match="country 'ZZ' is no longer in the registry"):
        imports.import_organisations(path, mapping="dotcoop")
    assert written_rows() == before


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_sqlite_checks_the_references_once_and_restores_its_own_checks(tmp_path, monkeypatch):
    """Outside a caller's transaction, SQLite's row-by-row foreign-key checks are off for the import (on
    PostgreSQL nothing changes): the import's own check still refuses a missing reference, and the
    connection checks foreign keys again afterwards."""
    from django.db import connection

    def checks_on() -> bool:
        if connection.vendor != "sqlite":
            return True
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA foreign_keys")
            return bool(cursor.fetchone()[0])

    rows = [coop_row(number) for number in range(1, 4)]
    report = imports.import_organisations(write_coop_csv(tmp_path / "good.csv", rows), mapping="dotcoop")
    assert (report.imported, report.committed) == (3, True)
    assert checks_on()

    _with_an_extra_country(monkeypatch)
    bad = write_coop_csv(tmp_path / "bad.csv", [*rows, coop_row(4, Country="ZZ", **{"Country 2": ""})])
    with pytest.raises(ValidationError, match="country 'ZZ' is no longer in the registry"):
        imports.import_organisations(bad, mapping="dotcoop")
    assert Organisation.objects.count() == 3
    assert not Organisation.objects.filter(country_id="ZZ").exists()
    assert checks_on()


# --- reading CSV in batches --------------------------------------------------------------------------


def _reference_records(text: str) -> list[tuple[int, list[str]]]:
    """Each record that is not blank with the line it starts on, read one record at a time."""
    import io

    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    found, previous = [], 0
    for record in reader:
        start, previous = previous + 1, reader.line_num
        if record and not (len(record) == 1 and not record[0].strip()):
            found.append((start, record))
    return found


@pytest.mark.parametrize("seed", range(6))
def test_batches_of_csv_records_start_on_the_lines_a_record_by_record_reading_finds(seed):
    """Quoted line breaks of every kind, blank lines and whitespace-only lines, read in batches of several
    sizes: every record keeps the physical line it starts on."""
    import io

    rng = random.Random(seed)
    pieces = ["plain", "two words", "a\nb", "a\r\nb", "a\rb", "x\n\ny", "", " ", "é, ü", 'say "hi"']
    lines = []
    for _ in range(200):
        roll = rng.random()
        if roll < 0.08:
            lines.append("")
        elif roll < 0.12:
            lines.append("   ")
        else:
            out = io.StringIO()
            csv.writer(out, lineterminator="").writerow([rng.choice(pieces) for _ in range(3)])
            lines.append(out.getvalue())
    text = "".join(line + rng.choice(["\n", "\r\n"]) for line in lines)
    expected = _reference_records(text)
    for size in (1, 3, 7, 1000):
        batches = imports._csv_batches(Path("t.csv"), io.StringIO(text, newline=""), ",", itertools.repeat(size),
                                      skip_header=False)
        found = [(start, record) for starts, records in batches for start, record in zip(starts, records, strict=True)]
        assert found == expected, size


def test_a_broken_record_after_multi_line_ones_is_reported_on_its_own_line():
    import io

    text = 'a,b\n"one\ntwo",x\n"three\r\nfour",y\nfine,z\n"broken"x,w\n'
    with pytest.raises(ValidationError) as caught:
        list(imports._csv_batches(Path("t.csv"), io.StringIO(text, newline=""), ",", itertools.repeat(2),
                                  skip_header=True))
    assert caught.value.line == 7


@pytest.mark.parametrize(("queryset", "index"), [
    (lambda: Organisation.objects.filter(legal_form_id=1), "organisation_legal_form_set"),
    (lambda: Organisation.objects.filter(primary_nace_id="01.11"), "organisation_nace_set"),
    (lambda: SourceRecord.objects.filter(cluster_id=1), "source_record_cluster_set"),
    (lambda: SourceRecord.objects.filter(recorded_by_id=1), "source_record_recorder_set"),
])
def test_a_lookup_by_a_sparse_foreign_key_uses_its_partial_index(queryset, index):
    """Foreign keys that imported rows leave empty are indexed only where set (nothing to write for those rows);
    a lookup of one value implies the value is set, so both databases still answer it from the index."""
    from django.db import connection, transaction

    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # the tables are tiny here: make the planner show its options
                cursor.execute("SET LOCAL enable_seqscan = off")
        plan = queryset().explain()
    assert index in plan


def test_a_chunk_sent_to_a_worker_arrives_as_it_was_read():
    """A chunk travels to a worker process pickled, its kept columns joined into one string each: it must
    arrive with the same values, stripped the same way, whether or not they hold whitespace or NUL."""
    import pickle

    import numpy as np

    columns = ["id", "name", "unkept", "city"]
    records = [["1", " Coop A ", "x", "Lyon"], ["2", "Coop\x00B", "y", " Gent"], ["3", "Coop C", "z", "Roma\t"]]
    for rows in (records, [[*record[:1], "Plain", "w", "Town"] for record in records], []):
        chunk = imports.RawChunk([list(row) for row in rows], columns, {"id", "name", "city"},
                                 np.arange(2, 2 + len(rows)), [])
        arrived = pickle.loads(pickle.dumps(chunk))  # noqa: S301 - our own bytes, as between the import processes
        assert arrived.column("name") == chunk.column("name")
        assert arrived.column("city") == chunk.column("city")
        assert arrived.frame.to_dict("list") == chunk.frame.to_dict("list")
    assert arrived.rows == 0


@pytest.mark.parametrize("suffix", [".csv", ".json", ".xlsx"])
def test_a_ramped_read_gives_the_same_rows_in_growing_chunks(tmp_path, suffix):
    """Worker processes get smaller first chunks (an eighth, a quarter, a half): every format must still give
    each row once, in order, with its line."""
    header = ["id", "name"]
    rows = [[str(number), f"Coop {number}"] for number in range(1, 102)]
    path = tmp_path / f"table{suffix}"
    if suffix == ".csv":
        path.write_text("\n".join(",".join(row) for row in [header, *rows]) + "\n", encoding="utf-8")
    elif suffix == ".json":
        path.write_text(json.dumps([dict(zip(header, row, strict=True)) for row in rows]), encoding="utf-8")
    else:
        from openpyxl import Workbook

        book = Workbook()
        for row in [header, *rows]:
            book.active.append(row)
        book.save(path)

    def read(ramp: bool) -> tuple[list[int], list[str], list[int]]:
        chunks = list(imports.open_table(path).chunks(40, ramp=ramp))
        return ([chunk.rows for chunk in chunks], [value for chunk in chunks for value in chunk.column("id")],
                [int(line) for chunk in chunks for line in chunk.lines])

    sizes, ids, lines = read(ramp=True)
    assert sizes == [5, 10, 20, 40, 26]
    assert (ids, lines) == read(ramp=False)[1:]
    assert ids == [row[0] for row in rows]
    assert read(ramp=False)[0] == [40, 40, 21]


def _csv_file(tmp_path: Path, rng: random.Random, *, stray_quotes: bool) -> Path:
    """A CSV file with the mess real ones have: quoted delimiters, quotes and line breaks, blank and
    whitespace-only lines, short and long rows, a filled unnamed column, CRLF and LF, maybe stray quotes."""
    import io

    pieces = ["plain", "two words", " padded ", "a,b", 'say "hi"', "é, ü", "", "x\ny", "p\r\nq"]
    if stray_quotes:
        pieces.append('5" screen')
    out = io.StringIO()
    out.write("id,name,city,\r\n" if rng.random() < 0.5 else "id,name,city,\n")
    for number in range(1, 400):
        roll = rng.random()
        ending = rng.choice(["\n", "\r\n"])
        if roll < 0.03:
            out.write(ending)
        elif roll < 0.05:
            out.write("   " + ending)
        elif roll < 0.07:
            out.write(f"{number},short{ending}")
        elif roll < 0.09:
            out.write(f"{number},long,row,x,y{ending}")
        elif roll < 0.10:
            out.write(f"{number},filled,unnamed,column{ending}")
        else:
            values = [str(number), rng.choice(pieces), rng.choice(pieces), ""]
            if stray_quotes and '5" screen' in values:
                out.write(",".join(values) + ending)  # the stray quote unquoted, as a spreadsheet writes it
            else:
                line = io.StringIO()
                csv.writer(line, lineterminator=ending).writerow(values)
                out.write(line.getvalue())
    path = tmp_path / f"mess-{rng.random()}.csv"
    path.write_bytes(out.getvalue().encode("utf-8"))
    return path


def _read(chunks: list[imports.RawChunk]) -> tuple[list[int], dict[str, list[str]], list[tuple[int, str, str]], int]:
    frames = [chunk.frame for chunk in chunks]
    columns = {name: [value for frame in frames for value in frame[name].tolist()] for name in ("id", "name", "city")}
    return ([int(line) for chunk in chunks for line in chunk.lines], columns,
            [(row.line, row.field, row.reason) for chunk in chunks for row in chunk.rejected],
            sum(chunk.realigned for chunk in chunks))


@pytest.mark.parametrize("seed", range(12))
def test_a_csv_file_read_in_pieces_of_text_gives_what_reading_it_record_by_record_gives(tmp_path, seed):
    """Large files are cut into pieces of text that worker processes read (most lines split in C). Every
    piece size must give the same records, lines, rejections and realignments as the record-by-record
    reading; a file whose stray quotes mislead the cutting must say so (the import then reads it again)."""
    rng = random.Random(seed)
    stray = seed % 3 == 0
    path = _csv_file(tmp_path, rng, stray_quotes=stray)
    table = imports.open_table(path, wanted_columns={"id", "name", "city"})
    expected = _read(list(table.chunks(10_000)))
    assert expected[0], "the file has rows"
    for size in (1, 7, 50, 1000):
        try:
            pieces = list(table.text_chunks(size, ramp=True))
            found = _read([piece.parse() for piece in pieces])
        except imports._ReadAgain:
            assert stray, f"only a stray quote can mislead the cutting (piece size {size})"
            continue
        assert found == expected, size
        assert table.sha256 == imports.file_sha256(path)


def test_clean_lines_are_split_in_c_and_quoted_ones_read_by_the_csv_module(tmp_path):
    path = tmp_path / "clean.csv"
    path.write_text('id,name,city\n1,Coop A,Lyon\n2,"Coop, B",Gent\n3,"Say ""hi""",Roma\n', encoding="utf-8")
    table = imports.open_table(path)
    (piece,) = list(table.text_chunks(100))
    chunk = imports._split_lines(piece.text, piece.first_line, piece.layout)
    assert chunk is not None
    assert chunk.frame.to_dict("list") == {"id": ["1", "2", "3"], "name": ["Coop A", "Coop, B", 'Say "hi"'],
                                           "city": ["Lyon", "Gent", "Roma"]}
    assert chunk.lines.tolist() == [2, 3, 4]
    assert imports._split_lines("1,a\n\n2,b\n", 2, piece.layout) is None  # a blank line: record by record


@pytest.mark.django_db(transaction=True)
def test_an_import_misled_by_a_stray_quote_reads_the_file_again_and_loses_nothing(tmp_path, monkeypatch):
    """A stray quote (kept as it is inside an unquoted value) and a quoted line break: the cutting ends a
    piece inside the quoted value; the import notices, starts again record by record, and imports every row."""
    monkeypatch.setattr(imports, "PARALLEL_MIN_BYTES", 0)
    header = ",".join(DOTCOOP_HEADER)

    def row(number: int, name: str) -> str:
        return f"{number},A{number},a{number}.coop,,,,{name},,,,Lyon,,,,FR,,69001,,,,,,"

    rows = [header, row(1, 'The 5" coop'), row(2, '"Two\nlines"')]
    rows += [row(number, f"Coop {number}") for number in range(3, 40)]
    path = tmp_path / "stray.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    mapping = imports.load_mapping("dotcoop")
    pieces = list(imports.open_table(path, wanted_columns=mapping.source_columns()).text_chunks(2))
    with pytest.raises(imports._ReadAgain):
        [piece.parse() for piece in pieces]
    readings = []
    normalised_chunks = imports._normalised_chunks

    def recording(*args, record_by_record=False, **kwargs):  # type: ignore[no-untyped-def]
        readings.append(record_by_record)
        return normalised_chunks(*args, record_by_record=record_by_record, **kwargs)

    monkeypatch.setattr(imports, "_normalised_chunks", recording)
    report = imports.import_organisations(path, mapping="dotcoop", chunk_rows=2)
    assert readings == [False, True]
    assert (report.rows, report.imported, report.rejected) == (39, 39, 0)
    assert Organisation.objects.count() == 39
    assert Organisation.objects.get(source_records__external_id="A2").name == "Two, lines"
    assert Organisation.objects.get(source_records__external_id="A1").name == 'The 5" coop'


def test_identifiers_repeated_across_pieces_read_by_workers_are_rejected_as_in_one_process(tmp_path, monkeypatch):
    """Workers check a piece's identifiers among themselves; one seen in an earlier piece sends the piece
    back to the importing process, which rejects the repeat naming the earlier line, as a single process does."""
    header = ",".join(DOTCOOP_HEADER)
    ids = [f"A{number}" for number in range(1, 30)] + ["A3", "", "A31", "A31", "A7"]
    rows = [header] + [f"{n},{identifier},d{n}.coop,,,,Coop {n},,,,Lyon,,,,FR,,69001,,,,,,"
                       for n, identifier in enumerate(ids, start=1)]
    path = tmp_path / "repeats.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")

    def rejections() -> list[tuple[int, str, str]]:
        from django.db import transaction

        with transaction.atomic():
            report = imports.import_organisations(path, mapping="dotcoop", chunk_rows=4)
            transaction.set_rollback(True)
        return [(row.line, row.field, row.reason) for row in report.rejected_rows]

    alone = rejections()
    monkeypatch.setattr(imports, "PARALLEL_MIN_BYTES", 0)
    assert rejections() == alone
    assert [line for line, _, _ in alone] == [31, 32, 34, 35]
    assert "line 4 has it already" in alone[0][2]


@pytest.mark.parametrize(("broken", "words"), [
    (b'19000,A19000,a.coop,,,,"Coop" 19000,,,,Lyon,,,,FR,,69001,,,,,,', "not a well-formed CSV file"),
    (b"19000,A19000,a.coop,,,,Coop \xe9 19000,,,,Lyon,,,,FR,,69001,,,,,,", "not valid utf-8"),
])
def test_bad_input_read_by_workers_is_reported_on_its_line_and_nothing_is_written(tmp_path, monkeypatch, broken,
                                                                                 words):
    """A malformed record, or bytes that do not decode after the first MiB (the encoding is told from it),
    deep in a large file read in pieces by the workers: the import says what and where, as the
    record-by-record reading does, and writes nothing."""
    header = ",".join(DOTCOOP_HEADER).encode()
    rows = [f"{n},A{n},a{n}.coop,,,,Coop {n},,,,Lyon,,,,FR,,69001,,,,,,".encode() for n in range(1, 20_000)]
    rows[18_999] = broken
    path = tmp_path / "broken.csv"
    path.write_bytes(b"\n".join([header, *rows]) + b"\n")
    assert path.stat().st_size > imports.SAMPLE_BYTES
    with pytest.raises(ValidationError) as alone:  # a small file: read record by record in this process
        imports.import_organisations(path, mapping="dotcoop", chunk_rows=2000)
    monkeypatch.setattr(imports, "PARALLEL_MIN_BYTES", 0)
    with pytest.raises(ValidationError) as caught:
        imports.import_organisations(path, mapping="dotcoop", chunk_rows=2000)
    assert str(caught.value) == str(alone.value)
    assert words in str(caught.value)
    assert 18_000 < caught.value.line <= 19_001  # decoding runs a buffer ahead of the records
    assert Organisation.objects.count() == 0
