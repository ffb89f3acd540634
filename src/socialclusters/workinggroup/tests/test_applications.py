"""Calls and applications: the application form, the private edit link, the deadline in its time zone,
CV checks, confirmation emails, the registry link, erasure and retention."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from socialclusters import errors
from socialclusters.accounts.models import Role
from socialclusters.registry.tests.factories import OrganisationFactory
from socialclusters.workinggroup import selectors, services
from socialclusters.workinggroup.models import Application, Call, Outcome
from socialclusters.workinggroup.tests.factories import (
    MOTIVATION,
    PDF,
    ApplicationFactory,
    CallFactory,
    PlannedMeetingFactory,
    data,
)

pytestmark = pytest.mark.django_db
BASE = "https://wg.example.org"


def form_data(call: Call, **changes: object) -> dict[str, object]:
    values: dict[str, object] = {
        "name": "Ana Popescu", "email": "ana@example.org", "organisation_name": "Cooperativa Alfa",
        "country": "RO", "stakeholder_type": "social_economy", "expertise_areas": ["rural development"],
        "languages": ["en"], "available_meetings": [str(m.pk) for m in call.planned_meetings.all()],
        "motivation": MOTIVATION, "gender": "woman", "consent": "on",
    }
    return values | changes


def test_a_newcomer_applies_and_gets_a_private_link_by_email(client):
    call = CallFactory()
    meeting = PlannedMeetingFactory(call=call)
    response = client.post(reverse("workinggroup:apply", args=[call.slug]), form_data(call))
    assert response.status_code == 200
    assert "Thank you" in response.content.decode()
    application = Application.objects.get(call=call)
    assert application.name == "Ana Popescu"
    assert application.consent
    assert application.consented_at is not None
    assert list(application.available_meetings.all()) == [meeting]
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ana@example.org"]
    link = next(line for line in message.body.splitlines() if "/workinggroup/applications/" in line)
    page = client.get(link.removeprefix("http://testserver"))
    assert page.status_code == 200
    assert "Cooperativa Alfa" in page.content.decode()


def test_the_applicant_edits_until_the_deadline_then_is_refused_politely(client):
    call = CallFactory()
    application = services.submit_application(call=call, data=data(), base_url=BASE)
    token = services.edit_token(application)
    url = reverse("workinggroup:application_edit", args=[token])
    response = client.post(url, form_data(call, organisation_name="Cooperativa Beta"))
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.organisation_name == "Cooperativa Beta"
    assert "was updated" in mail.outbox[-1].subject
    Call.objects.filter(pk=call.pk).update(deadline=timezone.now() - datetime.timedelta(minutes=1))
    closed = client.post(url, form_data(call, organisation_name="Too late"))
    assert closed.status_code == 200
    assert "can no longer be changed" in closed.content.decode()
    application.refresh_from_db()
    assert application.organisation_name == "Cooperativa Beta"


def test_the_deadline_is_read_in_the_calls_time_zone():
    # 23:59 in Bucharest on 15 January 2019 is 22:59 in Brussels and 21:59 UTC.
    bucharest = zoneinfo.ZoneInfo("Europe/Bucharest")
    call = CallFactory(deadline=datetime.datetime(2019, 1, 15, 23, 59, tzinfo=bucharest), time_zone="Europe/Bucharest")
    just_before = datetime.datetime(2019, 1, 15, 21, 58, tzinfo=datetime.UTC)
    just_after = datetime.datetime(2019, 1, 15, 22, 0, tzinfo=datetime.UTC)
    assert call.is_open(just_before)
    services.submit_application(call=call, data=data(), base_url=BASE, now=just_before)
    with pytest.raises(errors.Conflict, match=r"closed on 15 January 2019 at 23:59 \(Europe/Bucharest\)"):
        services.submit_application(call=call, data=data(email="late@example.org"), base_url=BASE, now=just_after)
    assert call.applications.count() == 1


def test_the_form_after_the_deadline_says_so(client):
    call = CallFactory(deadline=timezone.now() - datetime.timedelta(hours=1))
    page = client.get(reverse("workinggroup:apply", args=[call.slug]))
    assert page.status_code == 410
    assert "applications closed on" in page.content.decode()
    posted = client.post(reverse("workinggroup:apply", args=[call.slug]), form_data(call))
    assert posted.status_code == 410
    assert not Application.objects.exists()


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"motivation": "Too short."}, "motivation", "please write at least 100"),
    ({"consent": ""}, "consent", "This field is required"),
    ({"expertise_areas": ["astrology"]}, "expertise_areas", "Select a valid choice"),
    ({"country": "XX"}, "country", "Select a valid choice"),
    ({"email": "not-an-email"}, "email", "valid email"),
])
def test_bad_input_is_named_and_nothing_is_saved(client, changes, field, message):
    call = CallFactory()
    response = client.post(reverse("workinggroup:apply", args=[call.slug]), form_data(call, **changes))
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert 'role="alert"' in response.content.decode()
    assert not Application.objects.exists()
    assert not mail.outbox


def test_a_cv_must_be_a_small_pdf(client):
    call = CallFactory(cv_max_bytes=1024)
    fake = SimpleUploadedFile("cv.pdf", b"MZ\x90\x00 not a pdf at all", content_type="application/pdf")
    response = client.post(reverse("workinggroup:apply", args=[call.slug]), form_data(call) | {"cv": fake})
    assert response.status_code == 400
    assert "must be a PDF" in " ".join(response.context["form"].errors["cv"])
    big = SimpleUploadedFile("cv.pdf", PDF + b"0" * 2000, content_type="application/pdf")
    response = client.post(reverse("workinggroup:apply", args=[call.slug]), form_data(call) | {"cv": big})
    assert response.status_code == 400
    assert "the largest accepted is" in " ".join(response.context["form"].errors["cv"])
    good = SimpleUploadedFile("my name.pdf", PDF, content_type="application/pdf")
    response = client.post(reverse("workinggroup:apply", args=[call.slug]), form_data(call) | {"cv": good})
    assert response.status_code == 200
    application = Application.objects.get()
    assert application.cv.name.endswith(".pdf")
    assert "my name" not in application.cv.name
    assert application.cv.read() == PDF


def test_a_second_application_with_the_same_email_gets_the_first_link_again():
    call = CallFactory()
    first = services.submit_application(call=call, data=data(), base_url=BASE)
    with pytest.raises(errors.Conflict, match="already exists"):
        services.submit_application(call=call, data=data(name="Someone else"), base_url=BASE)
    assert call.applications.count() == 1
    assert services.edit_token(first) in mail.outbox[-1].body


def test_the_organisation_is_linked_to_the_registry_when_it_is_there():
    organisation = OrganisationFactory(name="Cooperativa Alfa", country_id="RO")
    call = CallFactory()
    linked = services.submit_application(call=call, data=data(organisation_name="cooperativa alfa"), base_url=BASE)
    assert linked.organisation == organisation
    unlinked = services.submit_application(call=call, data=data(email="b@example.org", organisation_name="Nowhere"),
                                           base_url=BASE)
    assert unlinked.organisation is None


def test_an_unpublished_call_takes_no_application():
    call = CallFactory(published=False)
    with pytest.raises(errors.NotFound):
        services.submit_application(call=call, data=data(), base_url=BASE)


def test_forged_or_stale_links_are_refused():
    application = ApplicationFactory()
    token = services.edit_token(application)
    assert services.application_from_token(token) == application
    with pytest.raises(errors.NotFound):
        services.application_from_token(token[:-2] + "xx")
    application.edit_key = "rotated"
    application.save()
    with pytest.raises(errors.NotFound):
        services.application_from_token(token)


def test_personal_data_download_and_erasure(client, world):
    token = services.edit_token(world.other)
    download = client.get(f"/api/v1/workinggroup/applications/{token}")
    assert download.status_code == 200
    assert download.json()["email"] == world.other.email
    assert download.json()["motivation"] == world.other.motivation
    response = client.post(reverse("workinggroup:application_erase", args=[token]))
    assert response.status_code == 200
    assert "personal data erased" in response.content.decode()
    world.other.refresh_from_db()
    assert world.other.anonymised_at is not None
    assert world.other.email.endswith("@invalid")
    assert world.other.motivation == ""
    assert client.get(f"/api/v1/workinggroup/applications/{token}").status_code == 404
    # A member's request is recorded for the secretariat; the membership stays.
    response = client.post(reverse("workinggroup:application_erase", args=[world.token]))
    assert "removes your data when you leave" in response.content.decode()
    world.application.refresh_from_db()
    assert world.application.erasure_requested_at is not None
    assert world.application.anonymised_at is None
    assert world.application.cv


def test_retention_anonymises_non_selected_applications_after_the_period(world, capsys):
    from django.core.management import call_command

    secretariat = world.users["secretariat"]
    decision = services.record_decision(user=secretariat, run=world.run, rationale="Balanced.")
    world.call.retention_days = 30
    world.call.save()
    third = ApplicationFactory(call=world.call)
    third.outcome = Outcome.NOT_SELECTED
    third.save()
    assert services.anonymise_expired(now=decision.decided_at + datetime.timedelta(days=29)) == []
    later = decision.decided_at + datetime.timedelta(days=31)
    due = services.anonymise_expired(now=later, dry_run=True)
    assert {a.pk for a in due} == {world.other.pk, third.pk}
    assert Application.objects.filter(anonymised_at__isnull=False).count() == 0
    services.anonymise_expired(now=later)
    world.application.refresh_from_db()
    assert world.application.anonymised_at is None  # selected: kept
    assert Application.objects.filter(anonymised_at__isnull=False).count() == 2
    call_command("anonymise_applications", "--dry-run")
    assert "0 application(s) would be anonymised" in capsys.readouterr().out


def test_the_secretariat_creates_and_edits_a_call_through_the_page(client, world):
    client.force_login(world.users["secretariat"])
    response = client.post(reverse("workinggroup:call_create"), {
        "title": "Expert group on social economy clusters", "slug": "", "description": "Join us.",
        "eligibility": "Anyone with expertise.", "deadline": "2019-01-15T23:59", "time_zone": "Europe/Brussels",
        "seats_min": "15", "seats_max": "20", "max_per_country": "2",
        "expertise_areas": "finance\nprocurement\nrural development", "required_areas": "procurement",
        "stakeholder_types": ["social_economy", "research"], "languages": "en, fr",
        "meetings": "2019-03-07 | Constitutive meeting | Brussels | constitutive\n"
                    "2019-05-14..2019-05-15 | Cluster conference | Romania",
        "rubric": "Expertise | 5\nMotivation | 5", "motivation_min_length": "300", "cv_max_megabytes": "2",
        "retention_days": "365", "privacy_notice": "We keep data for a year.", "published": "on",
    })
    assert response.status_code == 302, response.context["form"].errors if response.context else ""
    call = Call.objects.get(slug="expert-group-on-social-economy-clusters")
    assert call.deadline == datetime.datetime(2019, 1, 15, 22, 59, tzinfo=datetime.UTC)
    assert [m.title for m in call.planned_meetings.all()] == ["Constitutive meeting", "Cluster conference"]
    assert call.planned_meetings.get(constitutive=True).date == datetime.date(2019, 3, 7)
    assert call.rubric == [{"key": "expertise", "label": "Expertise", "max": 5},
                           {"key": "motivation", "label": "Motivation", "max": 5}]
    assert call.templates.count() == 3
    bad = client.post(reverse("workinggroup:call_edit", args=[call.slug]), {
        **CallFormValues.of(call), "required_areas": "astrology"})
    assert bad.status_code == 400
    assert "not one of the call's expertise areas" in " ".join(bad.context["form"].errors["required_areas"])
    call.refresh_from_db()
    assert call.required_areas == ["procurement"]


class CallFormValues:
    @staticmethod
    def of(call: Call) -> dict[str, object]:
        from socialclusters.workinggroup.forms import CallForm

        initial = CallForm.initial_for(call)
        return {k: ("on" if v is True else "" if v in (None, False) else v) for k, v in initial.items()}


def test_call_rules_are_checked(secretariat, make_user):
    base = {"title": "A call", "description": "d", "eligibility": "e", "privacy_notice": "p",
            "deadline": datetime.datetime(2019, 1, 15, 23, 59), "expertise_areas": ["a"]}
    with pytest.raises(errors.ValidationError, match="time zone") as info:
        services.create_call(user=secretariat, **base, time_zone="Mars/Olympus")
    assert info.value.field == "time_zone"
    with pytest.raises(errors.ValidationError) as info:
        services.create_call(user=secretariat, **base, seats_min=20, seats_max=15)
    assert info.value.field == "seats_max"
    with pytest.raises(errors.ValidationError) as info:
        services.create_call(user=secretariat, **base, rubric=[{"label": "x", "max": 0}])
    assert info.value.field == "rubric"
    with pytest.raises(errors.PermissionDenied):
        services.create_call(user=make_user(Role.MEMBER), **base)
    assert not Call.objects.exists()
    call = services.create_call(user=secretariat, **base)
    assert call.deadline.tzinfo is not None
    assert call.local_deadline.hour == 23


def test_reviewers_score_on_the_rubric_and_declare_conflicts(world, client):
    reviewer = world.users["reviewer"]
    with pytest.raises(errors.ValidationError) as info:
        services.score_application(user=reviewer, assignment=world.assignment, scores={"expertise": 9})
    assert info.value.field == "expertise"
    client.force_login(reviewer)
    url = reverse("workinggroup:review_detail", args=[world.assignment.pk])
    response = client.post(url, {"expertise": "4", "motivation": "5", "contribution": "3", "note": "Strong."})
    assert response.status_code == 302
    world.assignment.refresh_from_db()
    assert world.assignment.total == 12
    rows = selectors.application_rows(world.call)
    assert rows[0].application == world.application
    assert rows[0].percent == pytest.approx(80.0)
    response = client.post(url, {"conflict_form": "1", "conflict": "on", "conflict_note": ""})
    assert response.status_code == 400
    response = client.post(url, {"conflict_form": "1", "conflict": "on", "conflict_note": "Same cooperative."})
    assert response.status_code == 302
    world.assignment.refresh_from_db()
    assert world.assignment.conflict_of_interest
    assert world.assignment.scores == {}
    assert selectors.application_rows(world.call, reviewed="yes") == []
    with pytest.raises(errors.Conflict):
        services.score_application(user=reviewer, assignment=world.assignment,
                                   scores={"expertise": 1, "motivation": 1, "contribution": 1})
    other = world.users["member"]
    with pytest.raises(errors.NotFound):
        services.score_application(user=other, assignment=world.assignment, scores={})


def test_the_dashboard_filters_and_the_secretariat_assigns_reviewers(world, client, make_user):
    client.force_login(world.users["secretariat"])
    reviewer = make_user(Role.MEMBER, "second-reviewer")
    response = client.post(reverse("workinggroup:assign_reviewers", args=[world.call.slug]),
                           {"reviewer": reviewer.pk})
    assert response.status_code == 302
    assert reviewer.review_assignments.count() == 2
    page = client.get(reverse("workinggroup:dashboard", args=[world.call.slug]), {"country": "FR"})
    assert [row.application for row in page.context["rows"]] == [world.other]
    page = client.get(reverse("workinggroup:dashboard", args=[world.call.slug]), {"area": "procurement"})
    assert [row.application for row in page.context["rows"]] == [world.application]
    api = client.get(f"/api/v1/workinggroup/calls/{world.call.slug}/applications?country=FR").json()
    assert [item["id"] for item in api["items"]] == [world.other.pk]
