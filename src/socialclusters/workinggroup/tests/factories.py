"""factory_boy factories and a small working group world for the tests."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import factory
from django.core.files.base import ContentFile
from django.utils import timezone

from socialclusters.accounts.models import Role, User
from socialclusters.workinggroup import models, services

# The smallest file a PDF reader opens: the header, one empty page, the cross-reference table and trailer.
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj "
       b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
MOTIVATION = ("I have worked with social economy clusters for ten years, running a regional network of cooperatives "
              "and advising public authorities on procurement from social enterprises. ") * 3


class CallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Call

    title = factory.Sequence(lambda n: f"Working group call {n}")
    slug = factory.Sequence(lambda n: f"call-{n}")
    description = "Join the expert working group on social economy clusters."
    eligibility = "Experts from the EU and neighbouring countries."
    deadline = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=30))
    expertise_areas = ["finance", "procurement", "policy", "rural development", "impact measurement"]
    required_areas = ["procurement", "rural development"]
    stakeholder_types: list[str] = []
    languages = ["en", "fr"]
    privacy_notice = "We keep your application for one year after the decision; you can ask to erase it."
    published = True
    motivation_min_length = 100


class PlannedMeetingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.PlannedMeeting

    call = factory.SubFactory(CallFactory)
    title = "Constitutive meeting"
    date = datetime.date(2019, 3, 7)
    place = "Brussels"
    constitutive = True


class ApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Application

    call = factory.SubFactory(CallFactory)
    name = factory.Sequence(lambda n: f"Applicant {n}")
    email = factory.Sequence(lambda n: f"applicant{n}@example.org")
    organisation_name = factory.Sequence(lambda n: f"Cooperative {n}")
    country_id = "BE"
    stakeholder_type = models.StakeholderType.SOCIAL_ECONOMY
    expertise_areas = ["finance"]
    languages = ["en"]
    motivation = MOTIVATION
    consent = True
    consented_at = factory.LazyFunction(timezone.now)


def data(**changes: Any) -> services.ApplicationData:
    values: dict[str, Any] = {
        "name": "Ana Popescu", "email": "ana@example.org", "organisation_name": "Cooperativa Alfa",
        "country": "RO", "stakeholder_type": "social_economy", "expertise_areas": ["rural development"],
        "languages": ["en"], "available_meetings": [], "motivation": MOTIVATION, "consent": True, "gender": "woman",
    }
    return services.ApplicationData(**(values | changes))


ROLES = ("anonymous", "representative", "cluster_manager", "member", "secretariat", "reviewer")


@dataclass
class World:
    call: models.Call
    draft: models.Call  # unpublished
    closed: models.Call  # deadline passed
    application: models.Application  # in ``call``, assigned to ``reviewer``
    other: models.Application  # in ``call``, not assigned to ``reviewer``
    assignment: models.ReviewerAssignment
    run: models.SelectionRun  # a finished run proposing ``application``, ``other`` on the reserve list
    meeting: models.Meeting  # next month, in Brussels, with a document; ``member`` is in the group
    past_meeting: models.Meeting  # last week, online; ``member`` registered
    document: models.MeetingDocument
    action: models.ActionItem  # raised at ``past_meeting``, owned by ``member``
    milestone: models.Milestone
    poll: models.Poll  # open, at ``past_meeting``, asked by ``member``
    theme: models.Theme
    draft_contribution: models.Contribution  # by ``member``
    validated_contribution: models.Contribution  # public, citable
    token: str
    users: dict[str, User | None]


def build_world() -> World:
    users: dict[str, User | None] = {
        "anonymous": None,
        "representative": User.objects.create_user("representative", "rep@example.org", role=Role.REPRESENTATIVE),
        "cluster_manager": User.objects.create_user("manager", "manager@example.org", role=Role.CLUSTER_MANAGER),
        "member": User.objects.create_user("member", "member@example.org", role=Role.MEMBER),
        "secretariat": User.objects.create_user("secretariat", "sec@example.org", role=Role.SECRETARIAT),
        "reviewer": User.objects.create_user("reviewer", "reviewer@example.org", role=Role.MEMBER),
    }
    call = CallFactory(slug="open-call")
    PlannedMeetingFactory(call=call)
    for outcome, (subject, body) in services.DEFAULT_TEMPLATES.items():
        models.DecisionTemplate.objects.create(call=call, outcome=outcome, subject=subject, body=body)
    draft = CallFactory(slug="draft-call", published=False)
    closed = CallFactory(slug="closed-call", deadline=timezone.now() - datetime.timedelta(days=1))
    application = ApplicationFactory(call=call, expertise_areas=["procurement", "rural development"])
    application.cv.save("cv.pdf", ContentFile(PDF), save=True)
    other = ApplicationFactory(call=call, country_id="FR")
    assignment = models.ReviewerAssignment.objects.create(application=application, reviewer=users["reviewer"])
    # ``member`` sits in the group: the selected applicant of ``application`` with a member account.
    application.member, application.outcome = users["member"], models.Outcome.SELECTED
    application.save()
    now = timezone.now()
    meeting = models.Meeting.objects.create(
        call=call, title="Second meeting", starts_at=now + datetime.timedelta(days=30),
        ends_at=now + datetime.timedelta(days=30, hours=6), place="Brussels", agenda=["Typology", "Work plan"])
    document = models.MeetingDocument.objects.create(meeting=meeting, title="Draft agenda",
                                                     file=ContentFile(PDF, name="agenda.pdf"))
    past_meeting = models.Meeting.objects.create(
        call=call, title="Online meeting", format=models.MeetingFormat.ONLINE,
        online_url="https://meet.example.org/wg", starts_at=now - datetime.timedelta(days=7),
        ends_at=now - datetime.timedelta(days=7) + datetime.timedelta(hours=2))
    models.Registration.objects.create(meeting=past_meeting, user=users["member"])
    action = models.ActionItem.objects.create(call=call, meeting=past_meeting, title="Draft the typology",
                                              owner=users["member"])
    poll = models.Poll.objects.create(meeting=past_meeting, question="Adopt the work plan?", options=["Yes", "No"],
                                      created_by=users["member"])
    theme = models.Theme.objects.create(call=call, title="How do social economy clusters scale?")
    draft_contribution = services.create_contribution(user=users["member"], call=call, title="Draft typology",
                                                      text="Three kinds of clusters.", themes=[theme])
    validated_contribution = services.create_contribution(user=users["member"], call=call, title="PTCE in France",
                                                          text="Territorial clusters of economic cooperation.")
    models.Contribution.objects.filter(pk=validated_contribution.pk).update(
        status=models.ContributionStatus.VALIDATED, validated_at=timezone.now(), validated_by=users["secretariat"])
    milestone = models.Milestone.objects.create(call=call, title="Constitutive meeting", due_date=datetime.date(
        2019, 3, 7), kind=models.MilestoneKind.CONSTITUTIVE)
    run = models.SelectionRun.objects.create(
        call=call, status="optimal", parameters={"seats": [1, 1]},
        result={"status": "optimal", "selected": [application.pk], "reserve": [other.pk], "objective": 1.0})
    return World(call=call, draft=draft, closed=closed, application=application, other=other, assignment=assignment,
                 run=run, meeting=meeting, past_meeting=past_meeting, document=document, action=action,
                 milestone=milestone, poll=poll, theme=theme, draft_contribution=draft_contribution,
                 validated_contribution=validated_contribution,
                 token=services.edit_token(application), users=users)
