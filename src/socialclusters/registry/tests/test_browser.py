"""The main journey in a real browser (headless Chromium through Playwright, against a live server):
search the directory, open an organisation, sign in as a cluster manager, edit the cluster, sign in as
the secretariat to validate the change, and see the new value on the public cluster page.

Along the way: no console errors (a Content Security Policy violation would show there), and a
keyboard user reaches the search box from the top of the page.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from socialclusters.accounts.models import Role
from socialclusters.registry import models
from socialclusters.registry.tests.factories import MembershipFactory, SourceFactory
from socialclusters.registry.tests.webworld import cluster, organisation
from socialclusters.tests.browser import sign_in, sign_out

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_DESCRIPTION = "Forty partners now share a repair workshop and a food hub."


@pytest.fixture
def journey_data(make_user, password, settings):  # type: ignore[no-untyped-def]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    manager = make_user(Role.CLUSTER_MANAGER, "claire")
    make_user(Role.SECRETARIAT, "sam")
    region = models.Region.objects.get(code="FRK26", version="2021")
    atelier = organisation(
        name="Atelier Solidaire du Rhône", kind=models.OrganisationKind.COOPERATIVE, city="Lyon", country_id="FR",
        latitude=45.764, longitude=4.8357, region=region, nuts2="FRK2", region_method="point",
        website="https://atelier.example.coop", domain="atelier.example.coop",
    )
    organisation(name="Another Cooperative", city="Lille")
    pole = cluster(name="Pôle Rhône Circulaire", city="Lyon", description="Twenty partners share a workshop.",
                   management_fte=Decimal("1.00"), website="https://pole.example.org", managing_organisation=atelier)
    pole.managers.add(manager)
    pole.regions.add(region)
    MembershipFactory(organisation=atelier, cluster=pole)
    models.SourceRecord.objects.create(source=SourceFactory(name="Browser test register"), cluster=pole, line=4)
    return {"password": password, "atelier": atelier, "pole": pole}


def test_search_edit_validate_journey(live_server, journey_data, page):  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    base = live_server.url
    pole = journey_data["pole"]

    # A keyboard user: Tab reaches the skip link, Enter jumps to the content, Tab reaches the search box.
    page.goto(f"{base}/organisations/")
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    search = page.get_by_role("searchbox", name="Search")
    expect(search).to_be_focused()

    # Typing filters the list in place (htmx) and the count is announced.
    page.keyboard.type("atelier")
    expect(page.locator("#result-count")).to_contain_text("1 organisation found")
    expect(page.locator("#results .result")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"/organisations/\?q=atelier"))
    expect(page.get_by_role("link", name="CSV", exact=True)).to_have_attribute(
        "href", re.compile(r"/api/v1/organisations\.csv\?q=atelier"))

    # The organisation page, with its map drawn by Leaflet from our own API.
    page.get_by_role("link", name="Atelier Solidaire du Rhône").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Atelier Solidaire du Rhône")
    map_element = page.locator(".map.leaflet-container")
    expect(map_element).to_be_visible()
    expect(map_element).to_have_attribute("tabindex", "0")  # Leaflet's arrow and +/- keys
    expect(map_element).to_have_attribute("aria-label", re.compile("arrow keys"))
    expect(page.locator("path.map-region")).to_have_count(1)
    expect(page.locator("figcaption")).to_contain_text("FRK26")
    expect(page.locator(".leaflet-control-attribution")).to_contain_text("© EuroGeographics")

    # The cluster manager edits the cluster; the change waits for validation.
    sign_in(page, base, "claire", journey_data["password"])
    page.goto(f"{base}/clusters/{pole.pk}/")
    page.get_by_role("link", name="Edit this profile").click()
    page.get_by_label("Description").fill(NEW_DESCRIPTION)
    page.get_by_role("button", name="Send for validation").click()
    expect(page.locator(".messages")).to_contain_text("sent to the secretariat")
    expect(page.locator(".status-submitted")).to_be_visible()
    page.goto(f"{base}/clusters/{pole.pk}/")
    expect(page.locator("main")).not_to_contain_text(NEW_DESCRIPTION)
    sign_out(page)

    # The secretariat validates it.
    sign_in(page, base, "sam", journey_data["password"])
    page.get_by_role("link", name="Validation").click()
    expect(page.locator(".diff-new")).to_contain_text(NEW_DESCRIPTION)
    page.get_by_role("button", name="Validate").click()
    expect(page.locator(".messages")).to_contain_text("validated")
    expect(page.locator("main")).to_contain_text("No change is waiting for validation.")
    sign_out(page)

    # The public page shows the new value.
    page.goto(f"{base}/clusters/{pole.pk}/")
    expect(page.locator(".lead")).to_contain_text(NEW_DESCRIPTION)
    pole.refresh_from_db()
    assert pole.description == NEW_DESCRIPTION
