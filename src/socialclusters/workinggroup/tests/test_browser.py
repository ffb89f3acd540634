"""The working group's main journey in a real browser (headless Chromium through Playwright, against a live
server): a newcomer finds the call, applies with the keyboard-friendly form and gets a confirmation; the
secretariat signs in, runs the selection, records the decision and sends it to every applicant."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from socialclusters.accounts.models import Role
from socialclusters.workinggroup import services
from socialclusters.workinggroup.models import Application, Outcome
from socialclusters.workinggroup.tests.factories import MOTIVATION, CallFactory, PlannedMeetingFactory, data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def journey(make_user, password):  # type: ignore[no-untyped-def]
    make_user(Role.SECRETARIAT, "sam")
    call = CallFactory(slug="expert-group", title="Expert group on social economy clusters",
                       required_areas=["rural development"], seats_min=2, seats_max=3)
    PlannedMeetingFactory(call=call)
    for outcome, (subject, body) in services.DEFAULT_TEMPLATES.items():
        call.templates.create(outcome=outcome, subject=subject, body=body)
    meeting = call.planned_meetings.get()
    for n, (country, areas) in enumerate([("BE", ["finance"]), ("FR", ["procurement"]), ("IT", ["policy"])]):
        services.submit_application(call=call, base_url="http://testserver", data=data(
            name=f"Expert {n}", email=f"expert{n}@example.org", country=country, expertise_areas=areas,
            available_meetings=[meeting.pk]))
    return {"call": call, "password": password}


def test_a_newcomer_applies_and_the_secretariat_sends_the_decisions(  # type: ignore[no-untyped-def]
        live_server, journey, settings, page, browser_problems):
    from playwright.sync_api import expect

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    base = live_server.url
    # The refused form answers 400 on purpose (the browser logs that); nothing else may appear.
    browser_problems.tolerate("status of 400", at_most=1)

    page.goto(f"{base}/workinggroup/")
    page.get_by_role("link", name="Expert group on social economy clusters").click()
    page.get_by_role("link", name="Apply").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Apply to")
    page.get_by_role("textbox", name="Full name").fill("Ioana Dumitru")
    page.get_by_role("textbox", name="Email").fill("ioana@example.org")
    page.get_by_role("textbox", name="Organisation").fill("Asociatia Rurala")
    page.get_by_role("combobox", name="Country").select_option("RO")
    page.get_by_label("Social economy organisation or network").check()
    page.get_by_label("rural development").check()
    page.get_by_label("English").check()
    page.get_by_role("checkbox", name=re.compile("Constitutive meeting")).check()
    page.get_by_role("textbox", name="Motivation").fill("Too short")
    page.get_by_label(re.compile("^I have read the privacy notice")).check()
    page.get_by_role("button", name="Send my application").click()
    expect(page.get_by_role("alert").first).to_be_visible()
    expect(page.locator(".field-error")).to_contain_text("please write at least")
    page.get_by_role("textbox", name="Motivation").fill(MOTIVATION)
    page.get_by_role("button", name="Send my application").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("your application is received")

    page.goto(f"{base}/accounts/login/?next=/workinggroup/secretariat/calls/expert-group/selection/")
    page.get_by_label("Username").fill("sam")
    page.get_by_label("Password").fill(journey["password"])
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Run the selection").click()
    expect(page.get_by_text(re.compile("^Proven optimal"))).to_be_visible()
    expect(page.get_by_role("heading", name="Proposed members and what each adds")).to_be_visible()
    expect(page.locator("table").first).to_contain_text("Ioana Dumitru")  # the only one for rural development
    rationale = page.get_by_role("textbox", name="Rationale of the decision")
    rationale.fill("Rural development is covered; three countries.")
    page.get_by_role("button", name="Record this group as the decision").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Decision emails")
    mail.outbox.clear()
    page.get_by_role("button", name=re.compile("^Send the decisions")).click()
    expect(page.locator(".messages")).to_contain_text("4 applicants were told the decision by email")
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        ["ioana@example.org", "expert0@example.org", "expert1@example.org", "expert2@example.org"])
    assert Application.objects.get(email="ioana@example.org").outcome == Outcome.SELECTED
