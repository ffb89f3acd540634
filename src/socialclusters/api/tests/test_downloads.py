"""CSV and GeoJSON downloads: parsed back, filtered like the lists, streamed."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.http import StreamingHttpResponse

from socialclusters.api.tests.conftest import API, client_for
from socialclusters.registry import exports, models
from socialclusters.registry.models import Region
from socialclusters.registry.tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


def body_of(response) -> str:  # type: ignore[no-untyped-def]
    assert isinstance(response, StreamingHttpResponse), "downloads must stream"
    return b"".join(response.streaming_content).decode("utf-8")


def csv_rows(response) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    return list(csv.DictReader(io.StringIO(body_of(response))))


def test_organisations_csv_has_a_header_and_a_stable_column_order(client, world):
    response = client.get(f"{API}/organisations.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="socialclusters-organisations-')
    assert response["Content-Disposition"].endswith('.csv"')
    text = body_of(response)
    header = next(csv.reader(io.StringIO(text)))
    assert header == [column.name for column in exports.ORGANISATION_COLUMNS]
    assert header[:4] == ["id", "name", "alt_names", "kind"]  # the contract: columns are only appended
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["name"] for row in rows] == ["Association Beta", "Coopérative Alpha", "Delta University", "Gamma GmbH"]
    alpha = rows[1]
    assert alpha["id"] == str(world.paris.pk)
    assert alpha["social_economy"] == "true"
    assert alpha["legal_form_uri"] == "https://example.org/essglobal/legal-form#api-test-coop"
    assert (alpha["nuts3"], alpha["nuts2"], alpha["nuts_version"]) == ("FR101", "FR10", "2021")
    assert float(alpha["latitude"]) == 48.8566
    assert alpha["sources"] == "api-test-register 2019-10-03"
    beta = rows[0]
    assert (beta["latitude"], beta["nuts3"], beta["region_reason"]) == ("", "", "no coordinates and no postcode")


def test_organisations_csv_applies_the_filters(client, world):
    rows = csv_rows(client.get(f"{API}/organisations.csv?se_family=any&country=FR"))
    assert [row["name"] for row in rows] == ["Association Beta", "Coopérative Alpha"]
    # Page parameters a page link may carry are ignored: a download is the whole filtered list.
    assert len(csv_rows(client.get(f"{API}/organisations.csv?page=2&page_size=1"))) == 4


def test_csv_neutralises_spreadsheet_formulas(client, world):
    OrganisationFactory(name="=HYPERLINK(\"http://evil.example\")", search_text="evil")
    [row] = csv_rows(client.get(f"{API}/organisations.csv?q=evil"))
    assert row["name"] == "'=HYPERLINK(\"http://evil.example\")"


def test_organisations_geojson_leaves_out_and_counts_those_without_coordinates(client, world):
    response = client.get(f"{API}/organisations.geojson")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    assert response["Content-Disposition"].endswith('.geojson"')
    collection = json.loads(body_of(response))
    assert collection["type"] == "FeatureCollection"
    assert (collection["count"], collection["without_location"]) == (2, 2)
    by_name = {f["properties"]["name"]: f for f in collection["features"]}
    assert set(by_name) == {"Coopérative Alpha", "Gamma GmbH"}
    alpha = by_name["Coopérative Alpha"]
    assert alpha["geometry"] == {"type": "Point", "coordinates": [2.3522, 48.8566]}  # longitude first
    assert alpha["id"] == world.paris.pk
    assert alpha["properties"] == {
        "id": world.paris.pk, "name": "Coopérative Alpha", "kind": "cooperative", "kind_label": "Cooperative",
        "social_economy": True, "city": "Paris", "country": "FR", "nuts3": "FR101", "nuts2": "FR10",
        "primary_nace": "01.11", "status": "active", "is_illustrative": False,
    }


def test_organisations_geojson_applies_the_filters(client, world):
    collection = json.loads(body_of(client.get(f"{API}/organisations.geojson?country=FR")))
    assert (collection["count"], collection["without_location"]) == (1, 2)
    empty = json.loads(body_of(client.get(f"{API}/organisations.geojson?q=nothing-matches")))
    assert empty == {"type": "FeatureCollection", "count": 0, "without_location": 0, "features": []}


def test_clusters_csv(client, world):
    rows = csv_rows(client.get(f"{API}/clusters.csv"))
    assert [row["name"] for row in rows] == ["Berlin Industry Cluster", "Pôle Paris Solidaire"]
    pole = rows[1]
    assert list(pole) == [column.name for column in exports.CLUSTER_COLUMNS]
    assert (pole["regions"], pole["sectors"], pole["member_count"]) == ("FR101", "88", "2")
    assert pole["managing_organisation"] == "Coopérative Alpha"
    assert pole["location_method"] == "regions"
    paris = Region.objects.get(code="FR101")
    assert (float(pole["longitude"]), float(pole["latitude"])) == pytest.approx((paris.label_lon, paris.label_lat))
    berlin = rows[0]
    assert berlin["location_method"] == "managing_organisation"
    assert (float(berlin["longitude"]), float(berlin["latitude"])) == (13.405, 52.52)


def test_clusters_downloads_hide_drafts_except_from_their_managers(client, world):
    assert "Secret draft cluster" not in body_of(client.get(f"{API}/clusters.csv"))
    manager = client_for(world.users["manager_own"])
    assert "Secret draft cluster" in body_of(manager.get(f"{API}/clusters.csv"))


def test_clusters_geojson_places_clusters_by_the_documented_rule(client, world):
    collection = json.loads(body_of(client.get(f"{API}/clusters.geojson")))
    assert (collection["count"], collection["without_location"]) == (2, 0)
    methods = {f["properties"]["name"]: f["properties"]["location_method"] for f in collection["features"]}
    assert methods == {"Pôle Paris Solidaire": "regions", "Berlin Industry Cluster": "managing_organisation"}
    # Without regions or a placed managing organisation, a cluster is left out and counted.
    world.other.managing_organisation = None
    world.other.save()
    collection = json.loads(body_of(client.get(f"{API}/clusters.geojson")))
    assert (collection["count"], collection["without_location"]) == (1, 1)
    assert len(collection["features"]) == collection["count"]


def test_cluster_location_averages_the_label_points_of_several_regions(world):
    first, second = Region.objects.get(code="FR101"), Region.objects.get(code="FR102")
    world.published.regions.add(second)
    lon, lat, method = exports.cluster_location(world.published)
    assert method == "regions"
    assert lon == pytest.approx((first.label_lon + second.label_lon) / 2, abs=1e-6)
    assert lat == pytest.approx((first.label_lat + second.label_lat) / 2, abs=1e-6)


def test_downloads_stream_in_chunks_with_a_constant_number_of_queries(client, world, monkeypatch,
                                                                       django_assert_max_num_queries):
    monkeypatch.setattr(exports, "CHUNK_SIZE", 10)
    monkeypatch.setattr(exports, "LINES_PER_CHUNK", 10)
    OrganisationFactory.create_batch(45, latitude=45.0, longitude=5.0)
    response = client.get(f"{API}/organisations.csv")
    with django_assert_max_num_queries(12):  # rows and their sources, 10 at a time
        chunks = list(response.streaming_content)
    assert len(chunks) >= 5
    assert len(list(csv.DictReader(io.StringIO(b"".join(chunks).decode())))) == 49
    collection = json.loads(body_of(client.get(f"{API}/organisations.geojson")))
    assert collection["count"] == len(collection["features"]) == 47


def test_overview_charts_are_images_with_their_base(client, world):  # type: ignore[no-untyped-def]
    svg = client.get("/api/v1/overview/chart.svg", {"by": "family"})
    assert svg["Content-Type"] == "image/svg+xml"
    assert b"Association" in svg.content
    assert f"n = {models.Organisation.objects.count()}".encode() in svg.content
    png = client.get("/api/v1/overview/chart.png", {"by": "cluster_kind"})
    assert png.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert client.get("/api/v1/overview/chart.svg", {"by": "planet"}).status_code == 422
