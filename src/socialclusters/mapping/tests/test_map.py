"""The map's layers, geometry, exports and region panels, through the API a browser and a program use.

A small registry is built for each test so every figure can be counted by hand: three organisations in
Paris (FR101: two cooperatives, one enterprise), one association in Hauts-de-Seine (FR105), one cooperative
in Berlin (DE300); a published cluster covering FR101 with two members (one cooperative, the enterprise).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path

import pytest

from socialclusters.mapping import api, selectors
from socialclusters.mapping.services import import_statistics
from socialclusters.registry import models
from socialclusters.registry.refdata import load_reference_data
from socialclusters.registry.tests.factories import ClusterFactory, MembershipFactory, OrganisationFactory
from socialclusters.registry.tests.test_refdata import GEOJSON, copy_gisco_mirror, edit_features

pytestmark = pytest.mark.django_db
API = "/api/v1/map"


@pytest.fixture(autouse=True)
def fresh_memo():  # type: ignore[no-untyped-def]
    api.forget()
    yield
    api.forget()


def _place(code: str, **fields):  # type: ignore[no-untyped-def]
    region = models.Region.objects.get(code=code, version="2021")
    return OrganisationFactory(region=region, nuts2=code[:4], country_id=region.country_id, **fields)


@pytest.fixture
def registry():  # type: ignore[no-untyped-def]
    coop_a = _place("FR101", name="Alpha", latitude=48.85, longitude=2.35)
    _place("FR101", name="Beta", latitude=48.86, longitude=2.34)
    firm = _place("FR101", name="Gamma SA", kind=models.OrganisationKind.TRADITIONAL_ENTERPRISE)
    _place("FR105", name="Delta", kind=models.OrganisationKind.ASSOCIATION)
    _place("DE300", name="Epsilon eG", latitude=52.52, longitude=13.40)
    cluster = ClusterFactory(name="Paris pole")
    cluster.regions.add(models.Region.objects.get(code="FR101", version="2021"))
    MembershipFactory(organisation=coop_a, cluster=cluster)
    MembershipFactory(organisation=firm, cluster=cluster)
    return cluster


def _values(body: dict) -> dict[str, float | None]:  # type: ignore[type-arg]
    return {row["code"]: row["value"] for row in body["items"]}


def test_registry_layers_count_by_region_and_roll_up(client, registry):  # type: ignore[no-untyped-def]
    level3 = client.get(f"{API}/layer", {"level": 3, "indicator": "organisations"}).json()
    values = _values(level3)
    assert (values["FR101"], values["FR105"], values["DE300"], values["FR102"]) == (3, 1, 1, 0)
    assert level3["count"] == models.Region.objects.filter(level=3).count()
    assert level3["source"].startswith("socialclusters registry")

    level1 = _values(client.get(f"{API}/layer", {"level": 1, "indicator": "se_organisations"}).json())
    assert (level1["FR1"], level1["DE3"]) == (3, 1)  # two cooperatives and the association; the cooperative
    cooperatives = _values(client.get(f"{API}/layer", {"level": 1, "indicator": "se_organisations",
                                                       "family": "cooperative"}).json())
    assert cooperatives["FR1"] == 2
    share = _values(client.get(f"{API}/layer", {"level": 3, "indicator": "se_share"}).json())
    assert share["FR101"] == pytest.approx(200 / 3, abs=1e-5)
    assert share["FR102"] is None  # no organisation: no share, not zero

    members = client.get(f"{API}/layer", {"level": 3, "indicator": "se_share_in_clusters"}).json()
    assert _values(members)["FR101"] == 50.0
    clusters = _values(client.get(f"{API}/layer", {"level": 2, "indicator": "clusters"}).json())
    assert (clusters["FR10"], clusters["DE30"]) == (1, 0)


def test_social_economy_location_quotient_by_hand(client, registry):  # type: ignore[no-untyped-def]
    # FR101: 2 SE of 3; FR105: 1 of 1; DE300: 1 of 1; all: 4 of 5. LQ = (se_r / n_r) / (4 / 5).
    values = _values(client.get(f"{API}/layer", {"level": 3, "indicator": "se_lq"}).json())
    assert values["FR101"] == pytest.approx((2 / 3) / (4 / 5), abs=1e-6)
    assert values["FR105"] == pytest.approx(1 / (4 / 5), abs=1e-6)


def test_classes_are_quantiles_with_a_legend(client, registry):  # type: ignore[no-untyped-def]
    body = client.get(f"{API}/layer", {"level": 3, "indicator": "organisations"}).json()
    scheme = body["classes"]
    assert scheme["method"] == "quantiles"
    assert len(scheme["labels"]) == len(scheme["colours"]) == len(scheme["breaks"]) - 1
    classes = {row["code"]: row["class"] for row in body["items"]}
    assert classes["FR101"] == len(scheme["labels"]) - 1  # the largest count is in the top class
    assert classes["FR102"] == 0
    assert scheme["labels"][0].startswith("0")


def test_urban_rural_filter_counts_only_regions_of_that_type(client, registry):  # type: ignore[no-untyped-def]
    urban = models.Region.objects.get(code="FR101").urban_rural
    same = _values(client.get(f"{API}/layer", {"level": 1, "indicator": "organisations", "urban_rural": urban})
                   .json())
    other_type = 3 if urban != 3 else 1
    other = _values(client.get(f"{API}/layer", {"level": 1, "indicator": "organisations",
                                                "urban_rural": other_type}).json())
    expected = sum(1 for code in ("FR101", "FR101", "FR101", "FR105")
                   if models.Region.objects.get(code=code).urban_rural == urban)
    assert same["FR1"] == expected
    assert other["FR1"] == 4 - expected


def test_bad_parameters_name_the_field(client, registry):  # type: ignore[no-untyped-def]
    for params, field in [({"level": 7}, "level"), ({"indicator": "gdp"}, "indicator"),
                          ({"indicator": "lq"}, "sector"), ({"indicator": "lq", "sector": "C"}, "year"),
                          ({"indicator": "organisations", "family": "cooperative"}, "family"),
                          ({"urban_rural": 5}, "urban_rural"), ({"classes": 12}, "classes")]:
        response = client.get(f"{API}/layer", params)
        assert response.status_code == 400, params
        assert response.json()["field"] == field
    assert client.get(f"{API}/compare", {"codes": "FR1,FR2,FR3,DE1,DE2,ES1"}).json()["field"] == "codes"
    assert client.get(f"{API}/regions/ZZ999").status_code == 404


def test_geometry_is_compact_cached_and_gzipped(client, registry):  # type: ignore[no-untyped-def]
    response = client.get(f"{API}/geometry", {"level": 3}, HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert len(response.content) < 400_000
    collection = json.loads(gzip.decompress(response.content))
    assert len(collection["features"]) == models.Region.objects.filter(level=3).count()
    ring = collection["features"][0]["geometry"]["coordinates"][0]
    points = ring[0] if collection["features"][0]["geometry"]["type"] == "MultiPolygon" else ring
    assert all(len(str(value).split(".")[-1]) <= 3 for point in points for value in point)

    again = client.get(f"{API}/geometry", {"level": 3}, HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_layer_etag_changes_when_the_registry_changes(client, registry):  # type: ignore[no-untyped-def]
    first = client.get(f"{API}/layer", {"level": 3, "indicator": "organisations"})
    assert client.get(f"{API}/layer", {"level": 3, "indicator": "organisations"},
                      HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    _place("FR101", name="Zeta")
    api.forget()  # the data signature is trusted for a few seconds; a test does not wait
    second = client.get(f"{API}/layer", {"level": 3, "indicator": "organisations"})
    assert second["ETag"] != first["ETag"]
    assert _values(second.json())["FR101"] == 4


def test_a_reference_data_reload_shows_on_the_map(client, registry, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    # A reload updates regions in place (same primary keys): the caches must notice without being told.
    monkeypatch.setattr(api, "SIGNATURE_SECONDS", -1)  # ask the tables on every request; a test does not wait
    params = {"level": 3, "indicator": "organisations"}
    geometry = client.get(f"{API}/geometry", {"level": 3})
    layer = client.get(f"{API}/layer", params)
    names = {feature["id"]: feature["properties"]["name"] for feature in geometry.json()["features"]}
    assert names["FR101"] == "Paris"
    signatures = (selectors.regions_signature(3), selectors.data_signature())

    copy = copy_gisco_mirror(tmp_path / "gisco")

    def rename_paris(features):  # type: ignore[no-untyped-def]
        (paris,) = [feature for feature in features if feature["properties"]["NUTS_ID"] == "FR101"]
        paris["properties"]["NAME_LATN"] = "Ville de Paris"

    edit_features(copy / GEOJSON / "NUTS_RG_60M_2021_4326_LEVL_3.geojson", rename_paris)
    assert load_reference_data(gisco_source=copy).regions.updated_keys == ["FR101"]

    assert all(before != after for before, after in zip(
        signatures, (selectors.regions_signature(3), selectors.data_signature()), strict=True))
    reloaded = client.get(f"{API}/geometry", {"level": 3}, HTTP_IF_NONE_MATCH=geometry["ETag"])
    assert reloaded.status_code == 200
    assert reloaded["ETag"] != geometry["ETag"]
    names = {feature["id"]: feature["properties"]["name"] for feature in reloaded.json()["features"]}
    assert names["FR101"] == "Ville de Paris"
    relayered = client.get(f"{API}/layer", params, HTTP_IF_NONE_MATCH=layer["ETag"])
    assert relayered.status_code == 200
    assert {row["code"]: row["name"] for row in relayered.json()["items"]}["FR101"] == "Ville de Paris"
    # Without a change, the answers are kept and the ETags still hold.
    assert client.get(f"{API}/geometry", {"level": 3}, HTTP_IF_NONE_MATCH=reloaded["ETag"]).status_code == 304


def test_twins_say_the_same_as_the_layer(client, registry):  # type: ignore[no-untyped-def]
    params = {"level": 3, "indicator": "organisations"}
    layer = _values(client.get(f"{API}/layer", params).json())
    rows = list(csv.DictReader(io.StringIO(client.get(f"{API}/layer.csv", params).content.decode())))
    assert {row["nuts_code"]: row["organisations"] for row in rows}["FR101"] == "3"
    assert {row["nuts_code"] for row in rows} == set(layer)
    geojson = json.loads(client.get(f"{API}/layer.geojson", params).content)
    assert {f["id"]: f["properties"]["value"] for f in geojson["features"]}["FR101"] == 3
    assert geojson["legend"]["indicator"] == "organisations"


def test_static_exports_are_images(client, registry):  # type: ignore[no-untyped-def]
    png = client.get(f"{API}/layer.png", {"level": 2, "indicator": "organisations", "highlight": "FR10"})
    assert png["Content-Type"] == "image/png"
    assert png.content[:8] == b"\x89PNG\r\n\x1a\n"
    svg = client.get(f"{API}/layer.svg", {"level": 0, "indicator": "clusters"})
    assert svg["Content-Type"] == "image/svg+xml"
    assert b"<svg" in svg.content
    assert b"n = " in svg.content  # the base is printed on the image


def test_points_gather_when_they_would_overlap(client, registry):  # type: ignore[no-untyped-def]
    far = client.get(f"{API}/points", {"kind": "organisations", "zoom": 4}).json()
    assert sorted(point["count"] for point in far["items"]) == [1, 2]  # Paris pair and Berlin
    near = client.get(f"{API}/points", {"kind": "organisations", "zoom": 12}).json()
    assert sorted(point.get("name", "") for point in near["items"]) == ["Alpha", "Beta", "Epsilon eG"]
    clusters = client.get(f"{API}/points", {"kind": "clusters", "zoom": 5}).json()
    assert clusters["count"] == 1


def test_region_panel_and_comparison(client, registry):  # type: ignore[no-untyped-def]
    panel = client.get(f"{API}/regions/fr101").json()
    assert (panel["code"], panel["organisations"], panel["se_organisations"]) == ("FR101", 3, 2)
    assert panel["se_by_family"]["cooperative"] == 2
    assert panel["cluster_members"] == 2
    assert [c["name"] for c in panel["clusters"]] == ["Paris pole"]
    assert all(other["code"] != "FR101" for other in panel["comparable"])
    compared = client.get(f"{API}/compare", {"codes": "FR101,DE300"}).json()
    assert [item["code"] for item in compared["items"]] == ["FR101", "DE300"]


TSV = (
    "freq,unit,wstatus,nace_r2,geo\\TIME_PERIOD\t2020 \t2021 \n"
    "A,THS_PER,EMP,A,FR101\t1 \t1 \n"
    "A,THS_PER,EMP,A,FR102\t9 \t9 \n"
    "A,THS_PER,EMP,A,DE300\t2 \t2 \n"
    "A,THS_PER,EMP,F,FR101\t3 \t4 p\n"
    "A,THS_PER,EMP,F,FR102\t1 \t1 \n"
    "A,THS_PER,EMP,F,DE300\t6 \t6 \n"
)


def test_statistics_layers_compute_lq_and_stars_by_hand(client, registry, tmp_path: Path):  # type: ignore[no-untyped-def]
    path = tmp_path / "nama_10r_3empers.tsv"
    path.write_text(TSV, encoding="utf-8")
    import_statistics(path, file_format="eurostat-tsv", dataset="nama_10r_3empers")
    api.forget()
    # 2021: FR101 A=1 F=4 (5); FR102 A=9 F=1 (10); DE300 A=2 F=6 (8); totals A=12 F=11, E=23.
    lq = _values(client.get(f"{API}/layer", {"level": 3, "indicator": "lq", "sector": "F", "year": 2021}).json())
    assert lq["FR101"] == pytest.approx((4 / 5) / (11 / 23), abs=1e-6)
    assert lq["FR102"] == pytest.approx((1 / 10) / (11 / 23), abs=1e-6)
    assert lq["FR103"] is None
    employment = _values(client.get(f"{API}/layer", {"level": 3, "indicator": "employment", "sector": "F",
                                                     "year": 2020}).json())
    assert employment["DE300"] == 6
    stars = client.get(f"{API}/layer", {"level": 3, "indicator": "stars", "sector": "F", "year": 2021}).json()
    by_code = {row["code"]: row for row in stars["items"]}
    assert stars["classes"]["method"] == "fixed"
    # Specialisation (LQ >= 2) nowhere: FR101's LQ is 1.67. Size: top 10 % of F cells (DE300, 6).
    assert by_code["DE300"]["size"] is True
    assert by_code["FR101"]["specialisation"] is False
    assert by_code["DE300"]["value"] == sum(by_code["DE300"][key] for key in ("size", "specialisation", "focus"))
    panel = client.get(f"{API}/regions/FR101").json()
    assert panel["top_sectors"][0]["sector"] == "F"
    assert panel["top_sectors"][0]["lq"] == pytest.approx((4 / 5) / (11 / 23), abs=1e-3)
    chart = client.get(f"{API}/regions/FR101/employment.svg")
    assert chart.status_code == 200
    assert b"<svg" in chart.content
    missing = client.get(f"{API}/layer", {"level": 3, "indicator": "lq", "sector": "Q", "year": 2021})
    assert missing.status_code == 400
    assert "available: A, F" in missing.json()["detail"]


def test_map_page_renders_the_layer_without_javascript(client, registry):  # type: ignore[no-untyped-def]
    response = client.get("/map/", {"level": 3, "indicator": "organisations"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-code="FR101"' in page
    assert "Quantile classes" in page
    assert "/api/v1/map/layer.png?level=3&amp;indicator=organisations" in page
    bad = client.get("/map/", {"level": 9}).content.decode()
    assert 'role="alert"' in bad  # the error is announced, and the default layer is shown
    assert str(selectors.INDICATORS["se_organisations"].label) in bad
