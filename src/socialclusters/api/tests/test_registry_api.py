"""The registry's JSON API: shapes, filters, pagination, drafts, regions and reference lists."""

from __future__ import annotations

import pytest

from socialclusters.api.schemas import SocialEconomyFamily
from socialclusters.api.tests.conftest import API, client_for, json_of
from socialclusters.registry.models import SOCIAL_ECONOMY_KINDS, Region
from socialclusters.registry.tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


def names(body) -> list[str]:  # type: ignore[no-untyped-def]
    return [item["name"] for item in body["items"]]


# --- overview -------------------------------------------------------------------------------------


def test_overview_counts_what_the_registry_holds(client, world):
    body = json_of(client.get(f"{API}/overview"))
    assert body["organisations"] == 4
    assert body["social_economy"] == 2  # the cooperative and the association
    assert body["placed"] == 1
    assert body["clusters"] == 2  # the draft is not counted
    assert body["countries"] == 2
    assert {row["kind"]: row["count"] for row in body["by_family"]}["cooperative"] == 1
    assert {row["code"]: row["count"] for row in body["by_country"]} == {"FR": 3, "DE": 1}
    assert {row["kind"] for row in body["by_cluster_kind"]} == {"social_economy", "traditional"}


# --- organisations --------------------------------------------------------------------------------


def test_organisation_list_shape(client, world):
    body = json_of(client.get(f"{API}/organisations"))
    assert body["count"] == 4
    assert (body["page"], body["page_size"], body["pages"]) == (1, 50, 1)
    assert names(body) == ["Association Beta", "Coopérative Alpha", "Delta University", "Gamma GmbH"]
    alpha = body["items"][1]
    assert alpha == {
        "id": world.paris.pk,
        "name": "Coopérative Alpha",
        "kind": "cooperative",
        "kind_label": "Cooperative",
        "is_social_economy": True,
        "legal_form": "Test cooperative",
        "primary_nace": "01.11",
        "city": "Paris",
        "country": "FR",
        "nuts3": "FR101",
        "nuts2": "FR10",
        "latitude": 48.8566,
        "longitude": 2.3522,
        "status": "active",
        "website": "https://alpha.example.coop",
        "is_illustrative": False,
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=alpha", ["Coopérative Alpha"]),
        ("q=PARIS+delta", ["Delta University"]),
        ("country=DE", ["Gamma GmbH"]),
        ("country=fr&kind=association", ["Association Beta"]),
        ("nuts=FR", ["Coopérative Alpha"]),
        ("nuts=FR10", ["Coopérative Alpha"]),
        ("nuts=FR101", ["Coopérative Alpha"]),
        ("nuts=DE", []),
        ("se_family=any", ["Association Beta", "Coopérative Alpha"]),
        ("se_family=association", ["Association Beta"]),
        ("nace=A", ["Coopérative Alpha"]),
        ("nace=01.1", ["Coopérative Alpha"]),
        ("nace=88", ["Association Beta", "Coopérative Alpha"]),  # primary or secondary activity
        ("kind=enterprise", ["Gamma GmbH"]),
        ("kind=&country=&q=", ["Association Beta", "Coopérative Alpha", "Delta University", "Gamma GmbH"]),
    ],
)
def test_organisation_filters(client, world, query, expected):
    assert names(json_of(client.get(f"{API}/organisations?{query}"))) == expected


def test_organisation_cluster_filter_lists_members_of_a_visible_cluster(client, world):
    body = json_of(client.get(f"{API}/organisations?cluster={world.published.pk}"))
    assert names(body) == ["Coopérative Alpha", "Delta University"]


def test_organisation_cluster_filter_refuses_a_draft_to_anonymous_but_not_to_its_manager(client, world):
    response = client.get(f"{API}/organisations?cluster={world.draft.pk}")
    assert response.status_code == 400
    assert response.json()["field"] == "cluster"
    manager = client_for(world.users["manager_own"])
    assert names(json_of(manager.get(f"{API}/organisations?cluster={world.draft.pk}"))) == ["Association Beta"]


def test_social_economy_families_match_the_models():
    assert set(SocialEconomyFamily.__args__) == {"any", *SOCIAL_ECONOMY_KINDS}


def test_pagination_counts_across_pages(client, world):
    OrganisationFactory.create_batch(7, search_text="batch")
    first = json_of(client.get(f"{API}/organisations?page_size=5"))
    last = json_of(client.get(f"{API}/organisations?page_size=5&page=3"))
    beyond = json_of(client.get(f"{API}/organisations?page_size=5&page=9"))
    assert (first["count"], first["pages"], len(first["items"])) == (11, 3, 5)
    assert (last["count"], last["page"], len(last["items"])) == (11, 3, 1)
    assert (beyond["count"], beyond["items"]) == (11, [])
    everything = {item["id"] for page in (1, 2, 3)
                  for item in client.get(f"{API}/organisations?page_size=5&page={page}").json()["items"]}
    assert len(everything) == 11


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("page=0", 422, "page"),
        ("page=-3", 422, "page"),
        ("page=abc", 422, "page"),
        ("page_size=10000", 422, "page_size"),
        ("page_size=0", 422, "page_size"),
        ("country=ZZ", 400, "country"),
        ("country=FRA", 422, "country"),
        ("kind=spaceship", 422, "kind"),
        ("se_family=enterprise", 422, "se_family"),
        ("cluster=0", 422, "cluster"),
        ("cluster=99999999999999999999999", 422, "cluster"),
        ("q=%00", 422, "q"),
    ],
)
def test_bad_query_parameters_name_the_field(client, world, query, status, field):
    for path in ("organisations", "organisations.csv", "organisations.geojson"):
        if path != "organisations" and query.startswith("page"):
            continue  # downloads are not paged: page parameters are ignored there
        response = client.get(f"{API}/{path}?{query}")
        assert response.status_code == status, (path, response.content)
        body = json_of(response)
        assert body["field"] == field
        assert body["detail"]


def test_organisation_detail(client, world):
    body = json_of(client.get(f"{API}/organisations/{world.paris.pk}"))
    assert body["name"] == "Coopérative Alpha"
    assert body["alt_names"] == ["Alpha"]
    assert body["kind"] == "cooperative"
    assert body["kind_label"] == "Cooperative"
    assert body["is_social_economy"] is True
    assert body["legal_form"] == {
        "code": "api-test-coop", "label": "Test cooperative",
        "uri": "https://example.org/essglobal/legal-form#api-test-coop",
    }
    assert body["primary_nace"]["code"] == "01.11"
    assert [s["code"] for s in body["secondary_nace"]] == ["88"]
    assert body["address"]["city"] == "Paris"
    assert body["country"] == {"code": "FR", "nuts_code": "FR", "name": "France"}
    assert body["coordinates"] == {"longitude": 2.3522, "latitude": 48.8566, "confidence": None}
    assert body["region"]["code"] == "FR101"
    assert body["region"]["version"] == "2021"
    assert body["region"]["nuts2"] == "FR10"
    assert body["region_reason"] is None
    assert body["flags"] == ["postcode_repaired"]
    assert body["memberships"][0]["cluster"] == {"id": world.published.pk, "name": "Pôle Paris Solidaire"}
    assert body["memberships"][0]["role"] == "manager"
    [source] = body["sources"]
    assert source["source"]["name"] == "api-test-register"
    assert source["source"]["version"] == "2019-10-03"
    assert source["source"]["url"] == "https://example.org/register"
    assert source["source"]["licence"] == "CC-BY-4.0"
    assert (source["external_id"], source["line"]) == ("alpha", 12)
    assert source["recorded_at"]


def test_organisation_detail_says_why_it_is_not_placed(client, world):
    body = json_of(client.get(f"{API}/organisations/{world.lyon.pk}"))
    assert body["region"] is None
    assert body["coordinates"] is None
    assert body["region_reason"] == "no coordinates and no postcode"


def test_organisation_detail_hides_memberships_of_drafts(client, world):
    assert json_of(client.get(f"{API}/organisations/{world.lyon.pk}"))["memberships"] == []
    manager = client_for(world.users["manager_own"])
    body = json_of(manager.get(f"{API}/organisations/{world.lyon.pk}"))
    assert [m["cluster"]["id"] for m in body["memberships"]] == [world.draft.pk]


def test_unknown_organisation_is_404_json(client, world):
    response = client.get(f"{API}/organisations/987654321")
    assert response.status_code == 404
    assert json_of(response) == {"detail": "no organisation with id 987654321", "field": None}


def test_organisation_list_runs_a_constant_number_of_queries(client, world, django_assert_max_num_queries):
    OrganisationFactory.create_batch(30, region=Region.objects.get(code="FR102"), nuts2="FR10")
    with django_assert_max_num_queries(4):
        body = json_of(client.get(f"{API}/organisations?country=FR&nace=&page_size=100"))
    assert body["count"] == 33


# --- clusters -------------------------------------------------------------------------------------


def test_cluster_list_hides_drafts_from_anonymous(client, world):
    body = json_of(client.get(f"{API}/clusters"))
    assert names(body) == ["Berlin Industry Cluster", "Pôle Paris Solidaire"]
    assert body["count"] == 2


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("representative", ["Berlin Industry Cluster", "Pôle Paris Solidaire"]),
        ("manager_own", ["Berlin Industry Cluster", "Pôle Paris Solidaire", "Secret draft cluster"]),
        ("manager_other", ["Berlin Industry Cluster", "Pôle Paris Solidaire"]),
        ("secretariat", ["Berlin Industry Cluster", "Pôle Paris Solidaire", "Secret draft cluster"]),
    ],
)
def test_cluster_list_shows_drafts_to_their_managers_and_the_secretariat(world, role, expected):
    assert names(json_of(client_for(world.users[role]).get(f"{API}/clusters"))) == expected


def test_cluster_list_item_shape(client, world):
    item = json_of(client.get(f"{API}/clusters?q=solidaire"))["items"][0]
    assert item == {
        "id": world.published.pk,
        "name": "Pôle Paris Solidaire",
        "kind": "social_economy",
        "kind_label": "Social economy cluster",
        "country": "FR",
        "city": "Paris",
        "managing_organisation": {"id": world.paris.pk, "name": "Coopérative Alpha"},
        "member_count": 2,
        "founded_year": None,
        "label": "",
        "publication_status": "published",
        "is_illustrative": False,
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("country=DE", ["Berlin Industry Cluster"]),
        ("kind=social_economy", ["Pôle Paris Solidaire"]),
        ("nuts=FR1", ["Pôle Paris Solidaire"]),
        ("nace=88", ["Pôle Paris Solidaire"]),
        ("q=berlin", ["Berlin Industry Cluster"]),
        ("kind=", ["Berlin Industry Cluster", "Pôle Paris Solidaire"]),
    ],
)
def test_cluster_filters(client, world, query, expected):
    assert names(json_of(client.get(f"{API}/clusters?{query}"))) == expected


def test_cluster_detail(client, world):
    body = json_of(client.get(f"{API}/clusters/{world.published.pk}"))
    assert body["name"] == "Pôle Paris Solidaire"
    assert body["member_count"] == 2
    assert [m["organisation"]["name"] for m in body["members_by_type"]["business"]] == ["Coopérative Alpha"]
    assert [m["organisation"]["name"] for m in body["members_by_type"]["research"]] == ["Delta University"]
    assert body["members_by_type"]["public"] == []
    assert body["member_type_counts"] == {"business": 1, "research": 1, "public": 0, "civil_society": 0}
    assert [s["code"] for s in body["sectors"]] == ["88"]
    assert body["regions"] == [{"code": "FR101", "name": "Paris", "level": 3, "version": "2021"}]
    admission = body["admission"]
    assert admission["status"] == "failed"  # 2 committed members, not 15
    assert admission["passed"] is False
    assert admission["exempt"] is False
    checks = {c["code"]: c for c in admission["checks"]}
    assert set(checks) == {"committed_members", "member_types", "management_fte", "website_in_english"}
    assert checks["committed_members"]["passed"] is False
    assert checks["member_types"]["passed"] is True
    assert checks["management_fte"]["passed"] is True
    assert all(c["label"] and c["detail"] for c in admission["checks"])
    assert body["management_fte"] == 1.5
    assert body["sources"][0]["source"]["name"] == "api-test-register"
    assert body["is_illustrative"] is False
    assert body["has_illustrative_members"] is False


def test_cluster_detail_reports_an_exemption(client, world):
    world.published.admission_exempt = True
    world.published.admission_exemption_reason = "recognised PTCE"
    world.published.save()
    admission = json_of(client.get(f"{API}/clusters/{world.published.pk}"))["admission"]
    assert (admission["status"], admission["passed"], admission["exemption_reason"]) == (
        "exempt", True, "recognised PTCE")


def test_draft_cluster_detail_is_404_for_anonymous_and_visible_to_its_manager(client, world):
    response = client.get(f"{API}/clusters/{world.draft.pk}")
    assert response.status_code == 404
    assert response.json()["detail"].startswith("no published cluster")
    manager = client_for(world.users["manager_own"])
    assert json_of(manager.get(f"{API}/clusters/{world.draft.pk}"))["publication_status"] == "draft"


def test_cluster_list_runs_a_constant_number_of_queries(client, world, django_assert_max_num_queries):
    from socialclusters.registry.tests.factories import ClusterFactory, MembershipFactory

    for cluster in ClusterFactory.create_batch(20, managing_organisation=world.berlin):
        MembershipFactory(cluster=cluster, organisation=world.lyon)
    with django_assert_max_num_queries(3):
        body = json_of(client.get(f"{API}/clusters?page_size=100"))
    assert body["count"] == 22


# --- regions --------------------------------------------------------------------------------------


def test_region_detail(client, world):
    body = json_of(client.get(f"{API}/regions/fr101"))
    assert body["code"] == "FR101"
    assert (body["level"], body["version"], body["country"], body["parent"]) == (3, "2021", "FR", "FR10")
    assert body["name"] == "Paris"
    assert body["name_native"] == "Paris"
    assert body["parent_region"]["code"] == "FR10"
    assert body["country_detail"]["code"] == "FR"
    assert body["urban_rural"] == 1
    assert body["urban_rural_label"] == "Predominantly urban"
    assert body["label_point"]["longitude"] == pytest.approx(2.35, abs=0.2)
    assert body["organisation_count"] == 1
    assert body["geometry_detail"] == "simplified"
    assert body["geometry"]["type"] in {"Polygon", "MultiPolygon"}
    full = json_of(client.get(f"{API}/regions/FR101?detail=full"))
    assert full["geometry_detail"] == "full"
    assert full["geometry"] == Region.objects.get(code="FR101").geometry


def test_region_counts_include_their_parts(client, world):
    assert json_of(client.get(f"{API}/regions/FR1"))["organisation_count"] == 1
    assert json_of(client.get(f"{API}/regions/FR"))["organisation_count"] == 1
    assert json_of(client.get(f"{API}/regions/DE"))["organisation_count"] == 0


@pytest.mark.parametrize(("code", "status"), [("XX999", 404), ("F", 422), ("FR-10", 422), ("FR1010", 422)])
def test_bad_region_codes(client, world, code, status):
    response = client.get(f"{API}/regions/{code}")
    assert response.status_code == status
    assert "detail" in json_of(response)


def test_region_list(client, world):
    body = json_of(client.get(f"{API}/regions?parent=FR1"))
    assert body["count"] == len(body["items"]) == 1
    [ile_de_france] = body["items"]
    assert ile_de_france["code"] == "FR10"
    assert ile_de_france["organisation_count"] == 1
    assert "geometry" not in ile_de_france
    level0 = json_of(client.get(f"{API}/regions?level=0"))
    assert {"FR", "DE", "EL"} <= {r["code"] for r in level0["items"]}
    greece = json_of(client.get(f"{API}/regions?level=2&country=GR"))
    assert greece["count"] > 0
    assert all(r["code"].startswith("EL") for r in greece["items"])
    assert json_of(client.get(f"{API}/regions?level=2&country=EL"))["count"] == greece["count"]


def test_region_list_rejects_bad_levels(client, world):
    response = client.get(f"{API}/regions?level=7")
    assert response.status_code == 422
    assert response.json()["field"] == "level"


def test_regions_geojson_is_a_cacheable_map_layer(client, world):
    response = client.get(f"{API}/regions.geojson?level=2&country=FR")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    assert "max-age=" in response["Cache-Control"]
    assert "public" in response["Cache-Control"]
    etag = response["ETag"]
    collection = response.json()
    assert collection["type"] == "FeatureCollection"
    by_code = {f["properties"]["code"]: f for f in collection["features"]}
    assert all(code.startswith("FR") and len(code) == 4 for code in by_code)
    paris = by_code["FR10"]
    assert paris["geometry"]["type"] in {"Polygon", "MultiPolygon"}
    assert set(paris["properties"]) == {"code", "name", "level", "urban_rural", "organisation_count"}
    assert paris["properties"]["organisation_count"] == 1
    assert sum(f["properties"]["organisation_count"] for f in collection["features"]) == 1
    again = client.get(f"{API}/regions.geojson?level=2&country=FR", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    # A new organisation changes the counts, so the ETag changes too.
    OrganisationFactory(region=Region.objects.get(code="FR102"), nuts2="FR10")
    changed = client.get(f"{API}/regions.geojson?level=2&country=FR", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag


# --- reference lists ------------------------------------------------------------------------------


def test_sectors_by_level(client, world):
    sections = json_of(client.get(f"{API}/sectors?level=section"))
    assert sections["count"] == len(sections["items"]) == 21
    assert sections["items"][0] == {
        "code": "A", "label": sections["items"][0]["label"], "level": "section", "parent": None, "section": "A"
    }
    classes = json_of(client.get(f"{API}/sectors?level=class"))
    cereals = next(s for s in classes["items"] if s["code"] == "01.11")
    assert (cereals["parent"], cereals["section"]) == ("01.1", "A")
    assert client.get(f"{API}/sectors?level=subclass").status_code == 422


def test_countries(client, world):
    body = json_of(client.get(f"{API}/countries"))
    by_code = {c["code"]: c for c in body["items"]}
    assert body["count"] == len(body["items"])
    assert by_code["GR"]["nuts_code"] == "EL"
    assert by_code["FR"]["organisation_count"] == 3
    assert by_code["FR"]["is_eu"] is True
    assert by_code["FR"]["alpha3"] == "FRA"


# --- the schema and the docs ----------------------------------------------------------------------


def test_openapi_schema_documents_every_field(client, world):
    schema = json_of(client.get(f"{API}/openapi.json"))
    assert schema["openapi"].startswith("3.")
    undocumented = [
        f"{name}.{prop}"
        for name, component in schema["components"]["schemas"].items()
        for prop, details in component.get("properties", {}).items()
        if not details.get("description")
    ]
    assert not undocumented, undocumented
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary"), (method, path)
            assert operation.get("description"), (method, path)
            for parameter in operation.get("parameters", []):
                assert parameter.get("description"), (method, path, parameter["name"])


def test_downloads_declare_their_media_types(client, world):
    paths = json_of(client.get(f"{API}/openapi.json"))["paths"]
    assert set(paths[f"{API}/organisations.csv"]["get"]["responses"]["200"]["content"]) == {"text/csv"}
    assert set(paths[f"{API}/clusters.geojson"]["get"]["responses"]["200"]["content"]) == {"application/geo+json"}
    assert set(paths[f"{API}/regions.geojson"]["get"]["responses"]["200"]["content"]) == {"application/geo+json"}


def test_docs_page_uses_the_bundled_swagger_ui_and_no_cdn(client, world):
    response = client.get(f"{API}/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "/static/ninja/swagger-ui.css" in html
    assert "cdn" not in html.lower()
    assert "https://" not in html
    assert "http://" not in html
    assert "data-csrf-token=" in html
    for asset in ("ninja/swagger-ui-bundle.js", "ninja/swagger-ui-init.js", "ninja/swagger-ui.css"):
        served = client.get(f"/static/{asset}")
        assert served.status_code == 200, asset
        content = b"".join(served.streaming_content) if served.streaming else served.content
        assert len(content) > 100


def test_api_responses_carry_the_content_security_policy_but_the_docs_are_relaxed(client, world):
    assert "default-src 'self'" in client.get(f"{API}/overview")["Content-Security-Policy"]
    assert "Content-Security-Policy" not in client.get(f"{API}/docs")


def test_unknown_api_paths_answer_json(client, world):
    for path in ("/nothing", "/organisations/1/nothing", "/v2/clusters"):
        response = client.get(f"{API}{path}")
        assert response.status_code == 404
        assert json_of(response) == {"detail": f"no API operation at {API}{path}", "field": None}
    assert client.post(f"{API}/nothing").status_code == 404
