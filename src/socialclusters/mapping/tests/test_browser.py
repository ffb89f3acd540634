"""The map in a real browser (headless Chromium through Playwright, against a live server): open the map,
switch indicator and level, click a region, compare two regions, export a PNG; the view stays in the URL."""

from __future__ import annotations

import re

import pytest

from socialclusters.registry import models
from socialclusters.registry.tests.factories import ClusterFactory, MembershipFactory, OrganisationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def map_data():  # type: ignore[no-untyped-def]
    from socialclusters.mapping import api

    api.forget()
    paris = models.Region.objects.get(code="FR101", version="2021")
    berlin = models.Region.objects.get(code="DE300", version="2021")
    members = [OrganisationFactory(name=f"Coop {i}", region=paris, nuts2="FR10", latitude=48.85 + i / 100,
                                   longitude=2.35) for i in range(3)]
    OrganisationFactory(name="Berlin eG", region=berlin, nuts2="DE30", country_id="DE", latitude=52.52,
                        longitude=13.4)
    cluster = ClusterFactory(name="Pôle parisien")
    cluster.regions.add(paris)
    for member in members:
        MembershipFactory(organisation=member, cluster=cluster)
    yield
    api.forget()


def test_map_journey(live_server, map_data, page):  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    level2, level3 = (models.Region.objects.filter(level=level).count() for level in (2, 3))
    page.set_viewport_size({"width": 1300, "height": 900})
    page.goto(f"{live_server.url}/map/")
    expect(page.locator("#atlas-map[data-ready='1']")).to_be_attached()
    assert page.locator("path.atlas-region").count() == level2

    # Switch indicator and level with the keyboard-usable form controls.
    page.get_by_label("Indicator").select_option("organisations")
    page.get_by_label("Regions", exact=True).select_option("3")
    expect(page).to_have_url(re.compile(r"indicator=organisations&level=3"))
    expect(page.locator("#legend-heading")).to_have_text("Organisations in the registry")
    expect(page.locator("#atlas-rows tr").first).to_have_attribute("data-code", "FR101")
    expect(page.locator("path.atlas-region")).to_have_count(level3)

    # Click a region on the map: Paris is the only region in the top class.
    top_class = len(page.locator("#atlas-legend .legend-list li").all()) - 2
    page.locator(f"path.atlas-class-{top_class}").first.click(force=True)
    expect(page.locator("#panel-heading")).to_have_text("FR101 Paris")
    expect(page.locator("#atlas-panel-body")).to_contain_text("Pôle parisien")
    page.get_by_role("button", name="Compare").click()

    # A second region from the table (the keyboard route), then compare both.
    page.get_by_label("Find a region").fill("DE300")
    page.locator("#atlas-rows tr[data-code='DE300'] .select-region").click()
    expect(page.locator("#panel-heading")).to_contain_text("DE300")
    page.get_by_role("button", name="Compare").click()
    table = page.locator("#compare-table")
    expect(table).to_contain_text("FR101 Paris")
    expect(table).to_contain_text("DE300")
    expect(page).to_have_url(re.compile(r"compare=FR101%2CDE300|compare=FR101,DE300"))

    # Export the view as a PNG, with both regions outlined.
    href = page.locator("#download-png").get_attribute("href")
    assert "highlight=" in href
    with page.expect_download() as download:
        page.locator("#download-png").click()
    path = download.value.path()
    with open(path, "rb") as image:
        assert image.read(8) == b"\x89PNG\r\n\x1a\n"

    # The URL alone restores the view: indicator, level, panel and comparison.
    shared = page.url
    other = page.context.new_page()
    other.goto(shared)
    expect(other.locator("#panel-heading")).to_contain_text("DE300")
    expect(other.locator("#compare-table")).to_contain_text("FR101 Paris")
