"""The cooperation router's OpenAPI description and its parameter checks."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from socialclusters.cooperation.tests.world import World, build_world

API = "/api/v1"


@pytest.fixture
def world(make_user) -> World:  # type: ignore[no-untyped-def]
    return build_world(make_user)


def _schema(client: Client) -> dict[str, Any]:
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    return json.loads(response.content)


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"].rsplit("/", 1)[-1]} if isinstance(node.get("$ref"), str) else set()
        for value in node.values():
            found |= _refs(value)
        return found
    if isinstance(node, list):
        return set().union(*(_refs(value) for value in node)) if node else set()
    return set()


@pytest.mark.django_db
def test_every_cooperation_operation_parameter_and_field_is_described(client):  # type: ignore[no-untyped-def]
    schema = _schema(client)
    operations = {path: ops for path, ops in schema["paths"].items() if path.startswith(f"{API}/cooperation/")}
    assert len(operations) >= 20
    own_schemas: set[str] = set()
    for path, ops in operations.items():
        for method, operation in ops.items():
            assert operation.get("summary"), (method, path)
            assert operation.get("description"), (method, path)
            for parameter in operation.get("parameters", []):
                assert parameter.get("description"), (method, path, parameter["name"])
            own_schemas |= {name for name in _refs(operation) if name.startswith("Cooperation")}
    # Response and body schemas carry the app's prefix, so no same-named class of another app replaces them.
    assert {"CooperationListOut", "CooperationProfileOut", "CooperationProfileIn", "CooperationOpportunityOut",
            "CooperationOpportunityIn", "CooperationInterestOut", "CooperationInterestIn", "CooperationAnswerIn",
            "CooperationContractIn"} <= own_schemas
    components = schema["components"]["schemas"]
    for name in own_schemas | {"CooperationOrganisationRef"}:
        properties = components[name]["properties"]
        assert properties, name
        assert [prop for prop, details in properties.items() if not details.get("description")] == [], name
    suggestion_parameters = {p["name"] for p in operations[f"{API}/cooperation/suggestions"]["get"]["parameters"]}
    assert suggestion_parameters == {"organisation", "profile", "opportunity", "family", "other_countries", "area",
                                     "cluster"}


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "field"), [
    ("/cooperation/procurement/regions?level=9", "level"),
    ("/cooperation/procurement/regions?level=-1", "level"),
    ("/cooperation/profiles/0", "id"),
    ("/cooperation/opportunities/-3", "id"),
    (f"/cooperation/events/{2**63}", "id"),
    ("/cooperation/suggestions?organisation=0", "organisation"),
    ("/cooperation/suggestions?organisation=1&family=all", "family"),
])
def test_bad_parameters_answer_422_naming_the_field(client, url, field):  # type: ignore[no-untyped-def]
    response = client.get(API + url)
    assert response.status_code == 422, response.content[:300]
    assert json.loads(response.content)["field"] == field


def test_filters_with_nul_characters_are_answered(client, world):  # type: ignore[no-untyped-def]
    for url in ("/cooperation/profiles?q=a%00b&country=F%00", "/cooperation/opportunities?q=%00&section=%00"):
        response = client.get(API + url)
        assert response.status_code == 200, (url, response.content[:300])
        assert json.loads(response.content)["count"] >= 0
    published = client.get(f"{API}/cooperation/profiles?q={world.published.title[:4]}%00")
    assert world.published.pk in [item["id"] for item in json.loads(published.content)["items"]]
