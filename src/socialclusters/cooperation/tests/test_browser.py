"""The issue's journey in a real browser (headless Chromium through Playwright, against a live server):
a social enterprise publishes an offer; a traditional enterprise sees it among its suggestions with the
reasons, expresses interest; the offer's owner accepts; both see each other's contact details; a contract
is recorded and appears in the region's procurement figures. No console errors along the way."""

from __future__ import annotations

import re

import pytest

from socialclusters.accounts.models import Role
from socialclusters.registry import models
from socialclusters.registry.tests.webworld import organisation
from socialclusters.tests.browser import sign_in, sign_out

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def journey_data(make_user, password):  # type: ignore[no-untyped-def]
    claire = make_user(Role.REPRESENTATIVE, "claire")
    tom = make_user(Role.REPRESENTATIVE, "tom")
    paris = models.Region.objects.get(code="FR101", version="2021")
    atelier = organisation(name="Atelier Blanchisserie Solidaire", kind=models.OrganisationKind.SOCIAL_ENTERPRISE,
                           country_id="FR", city="Paris", region=paris, nuts2="FR10", nace_section="S",
                           primary_nace=models.Sector.objects.get(code="96.01"))
    atelier.managers.add(claire)
    hotel = organisation(name="Hôtel du Marais SA", kind=models.OrganisationKind.TRADITIONAL_ENTERPRISE,
                         country_id="FR", city="Paris", region=paris, nuts2="FR10", nace_section="I",
                         primary_nace=models.Sector.objects.get(code="55.10"))
    hotel.managers.add(tom)
    organisation(name="Software Coop Lyon", kind=models.OrganisationKind.COOPERATIVE, country_id="FR", city="Lyon",
                 nace_section="J")
    return {"password": password, "atelier": atelier, "hotel": hotel, "claire": claire, "tom": tom}


def test_offer_suggestion_interest_contacts_contract(live_server, journey_data, page):  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    base, password = live_server.url, journey_data["password"]
    atelier, hotel = journey_data["atelier"], journey_data["hotel"]

    # The social enterprise publishes an offer.
    sign_in(page, base, "claire", password)
    page.goto(f"{base}/cooperation/profiles/new/")
    page.get_by_label("Offer", exact=True).check()
    page.get_by_label("Title").fill("Work-integration laundry for hotels")
    page.get_by_label("Description").fill("Blanchisserie d'insertion: hotel linen and uniforms washed daily.")
    page.get_by_label("Sectors (NACE codes, comma-separated)").fill("96.01")
    page.get_by_label("Regions (NUTS codes, comma-separated)").fill("FR101")
    page.get_by_label("French").check()
    page.get_by_label("Cross-border cooperation welcome").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Work-integration laundry for hotels")
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".messages")).to_contain_text("Published")
    sign_out(page)

    # The traditional enterprise sees it among its suggestions, with reasons, and expresses interest.
    sign_in(page, base, "tom", password)
    page.goto(f"{base}/cooperation/mine/")
    page.get_by_role("link", name=re.compile("suggested partners")).click()
    first = page.locator(".suggestion").first
    expect(first.get_by_role("heading", level=2)).to_contain_text(atelier.name)
    expect(first.locator(".reasons")).to_contain_text("Same region (FR101)")
    expect(first.locator(".reasons")).to_contain_text("A social economy organisation and a traditional")
    first.get_by_role("link", name="Work-integration laundry for hotels").click()
    page.get_by_label("Your message").fill("We need 300 sheets washed every week.")
    page.get_by_role("button", name="Send my interest").click()
    expect(page.locator("main")).to_contain_text("Contact details are shown once both sides agree.")
    sign_out(page)

    # The owner finds it in the inbox and accepts; the contacts appear.
    sign_in(page, base, "claire", password)
    page.goto(f"{base}/cooperation/inbox/")
    expect(page.locator(".inbox")).to_contain_text("New interest in Work-integration laundry for hotels")
    page.get_by_role("link", name=re.compile("^Open New interest")).click()
    page.get_by_label("Accept").check()
    page.get_by_role("button", name="Answer").click()
    expect(page.locator(".contact")).to_have_count(2)
    expect(page.locator("main")).to_contain_text("tom@example.org")
    sign_out(page)

    # The enterprise sees the owner's contacts and records the contract.
    sign_in(page, base, "tom", password)
    page.goto(f"{base}/cooperation/mine/")
    page.get_by_role("link", name=re.compile("Hôtel du Marais SA → Work-integration")).click()
    expect(page.locator("main")).to_contain_text("claire@example.org")
    page.get_by_role("link", name="Record a contract that resulted").click()
    page.get_by_label("Buyer (organisation number)").fill(str(hotel.pk))
    page.get_by_label("Supplier (organisation number)").fill(str(atelier.pk))
    page.get_by_label("Value band").select_option("10k-50k")
    page.get_by_label("Date").fill("2026-11-20")
    page.get_by_label("Work integration of disadvantaged people").check()
    page.get_by_role("button", name="Record").click()
    expect(page.locator(".messages")).to_contain_text("The contract is recorded.")
    row = page.get_by_role("row", name=re.compile("FR10"))
    expect(row).to_contain_text("1")
    page.goto(f"{base}/cooperation/procurement/?level=3")
    expect(page.get_by_role("row", name=re.compile("FR101"))).to_contain_text("10000")
