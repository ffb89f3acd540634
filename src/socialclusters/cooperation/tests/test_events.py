"""Meetings at an event through the app: 60 participants, 200 accepted requests, a schedule without double
bookings that respects availability, agendas by email with an iCalendar file, and the printable schedule."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import Counter

import icalendar
import numpy as np
import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from socialclusters import errors
from socialclusters.accounts.models import Role, User
from socialclusters.cooperation import events
from socialclusters.cooperation.models import InterestStatus, MeetingRequest, ScheduledMeeting

pytestmark = pytest.mark.django_db


def test_sixty_participants_two_hundred_accepted_requests(make_user, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    organiser = make_user(Role.CLUSTER_MANAGER, "organiser")
    event = events.create_event(user=organiser, data={
        "title": "Cluster conference", "venue": "Brussels", "slots": 10, "tables": 30, "slot_minutes": 20,
        "first_slot_at": timezone.now() + dt.timedelta(days=30)})
    rng = np.random.default_rng(6)
    users = User.objects.bulk_create([User(username=f"p{i}", email=f"p{i}@example.org", role=Role.REPRESENTATIVE)
                                      for i in range(60)])
    people = [events.register(user=u, event=event, organisation=None,
                              available_slots=sorted(int(s) for s in rng.choice(10, size=int(rng.integers(5, 11)),
                                                                                 replace=False)))
              for u in users]
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < 200:
        a, b = (int(x) for x in rng.choice(60, size=2, replace=False))
        if (b, a) not in pairs:
            pairs.add((a, b))
    MeetingRequest.objects.bulk_create([MeetingRequest(event=event, requester=people[a], invitee=people[b],
                                                       status=InterestStatus.ACCEPTED) for a, b in pairs])
    with django_capture_on_commit_callbacks(execute=True):
        events.build_schedule(user=organiser, event=event)
    event.refresh_from_db()
    assert event.schedule_status == "optimal"
    scheduled = list(ScheduledMeeting.objects.filter(event=event).select_related("request"))
    assert len(scheduled) > 150
    booked: Counter[tuple[int, int]] = Counter()
    for meeting in scheduled:
        for person in (meeting.request.requester, meeting.request.invitee):
            assert meeting.slot in person.available_slots, "availability"
            booked[(person.pk, meeting.slot)] += 1
    assert max(booked.values()) == 1, "double booking"
    assert max(Counter(m.slot for m in scheduled).values()) <= 30
    # Every participant got an agenda with a calendar attached.
    calendars = [m for m in mail.outbox if m.attachments]
    assert len(calendars) == 60
    _name, content, kind = calendars[0].attachments[0]
    assert kind == "text/calendar"
    parsed = icalendar.Calendar.from_ical(content)
    recipient = User.objects.get(email=calendars[0].to[0]).event_registrations.get(event=event)
    assert len(parsed.walk("VEVENT")) == events.agenda(recipient).count()

    client = Client()
    client.force_login(organiser)
    page = client.get(reverse("cooperation:event_print", kwargs={"pk": event.pk}))
    assert page.status_code == 200
    assert page.content.decode().count("<tr>") == len(scheduled) + 1


def test_requests_and_answers(make_user):  # type: ignore[no-untyped-def]
    organiser, ana, ben = (make_user(Role.CLUSTER_MANAGER, "org"), make_user(username="ana"),
                           make_user(username="ben"))
    event = events.create_event(user=organiser, data={
        "title": "Day", "venue": "Lille", "slots": 3, "tables": 1, "slot_minutes": 30,
        "first_slot_at": timezone.now()})
    with pytest.raises(errors.PermissionDenied):
        events.request_meeting(user=ana, event=event, invitee_id=1)
    a = events.register(user=ana, event=event, organisation=None, available_slots=[0, 1])
    b = events.register(user=ben, event=event, organisation=None, available_slots=[1, 2])
    with pytest.raises(errors.ValidationError) as caught:
        events.register(user=ana, event=event, organisation=None, available_slots=[5])
    assert caught.value.field == "available_slots"
    meeting = events.request_meeting(user=ana, event=event, invitee_id=b.pk)
    with pytest.raises(errors.Conflict):
        events.request_meeting(user=ben, event=event, invitee_id=a.pk)
    with pytest.raises(errors.PermissionDenied):
        events.answer_meeting(user=ana, meeting=meeting, accept=True)
    with pytest.raises(errors.Conflict, match="no accepted"):
        events.build_schedule(user=organiser, event=event)
    events.answer_meeting(user=ben, meeting=meeting, accept=True)
    with pytest.raises(errors.PermissionDenied):
        events.build_schedule(user=ana, event=event)
    events.build_schedule(user=organiser, event=event)
    assert [(m.slot, m.table) for m in ScheduledMeeting.objects.filter(event=event)] == [(1, 0)]


def test_the_printable_schedule_as_json_and_csv(make_user, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    from socialclusters.registry.models import OrganisationKind
    from socialclusters.registry.tests.webworld import organisation

    organiser = make_user(Role.CLUSTER_MANAGER, "org")
    ana = make_user(username="ana", first_name="Ana", last_name="Lopes")
    ben, cleo = make_user(username="ben"), make_user(username="cleo")
    coop = organisation(name="=Coop, Lille", kind=OrganisationKind.COOPERATIVE, country_id="FR")
    coop.managers.add(ana)
    start = timezone.now().replace(microsecond=0) + dt.timedelta(days=3)
    event = events.create_event(user=organiser, data={
        "title": "Day", "venue": "Lille", "slots": 3, "tables": 1, "slot_minutes": 30, "first_slot_at": start})
    a = events.register(user=ana, event=event, organisation=coop, available_slots=[0, 1])
    b = events.register(user=ben, event=event, organisation=None, available_slots=[1])
    c = events.register(user=cleo, event=event, organisation=None, available_slots=[0, 1, 2])
    for asker, invited in ((ana, b), (cleo, a)):
        meeting = events.request_meeting(user=asker, event=event, invitee_id=invited.pk)
        events.answer_meeting(user=invited.user, meeting=meeting, accept=True)
    client = Client()
    client.force_login(organiser)
    url = f"/api/v1/cooperation/events/{event.pk}/schedule"
    empty = json.loads(client.get(url).content)
    assert (empty["count"], empty["status"], empty["items"]) == (0, "", [])
    events.build_schedule(user=organiser, event=event)
    data = json.loads(client.get(url).content)
    assert (data["event"], data["status"], data["count"]) == (event.pk, "optimal", 2)
    # Ben can only meet in slot 2, so Ana meets Cleo in slot 1 (one table).
    first, second = data["items"]
    assert (first["slot"], first["table"], first["first"]["participant"], first["second"]["participant"]) == (
        1, 1, c.pk, a.pk)
    assert first["second"] == {"participant": a.pk, "name": "Ana Lopes",
                               "organisation": {"id": coop.pk, "name": "=Coop, Lille", "country": "FR"},
                               "label": "Ana Lopes (=Coop, Lille)"}
    assert (second["slot"], second["first"]["name"], second["second"]["name"]) == (2, "Ana Lopes", "ben")
    assert dt.datetime.fromisoformat(second["start"]) == start + dt.timedelta(minutes=30)
    assert dt.datetime.fromisoformat(second["end"]) == start + dt.timedelta(minutes=60)

    response = client.get(url + ".csv")
    assert response["Content-Type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert lines[0] == list(events.SCHEDULE_CSV_COLUMNS)
    assert len(lines) == 3
    row = dict(zip(lines[0], lines[2], strict=True))
    assert (row["slot"], row["table"], row["first_name"], row["first_organisation"], row["second_name"],
            row["second_organisation"]) == ("2", "1", "Ana Lopes", "'=Coop, Lille", "ben", "")
    assert dt.datetime.fromisoformat(row["start"]) == start + dt.timedelta(minutes=30)
    # The page shows the same rows.
    page = client.get(reverse("cooperation:event_print", kwargs={"pk": event.pk})).content.decode()
    assert page.index("cleo") < page.index("Ana Lopes (=Coop, Lille)") < page.index(">ben<")


def test_a_participants_journey_through_the_api(make_user):  # type: ignore[no-untyped-def]
    organiser = make_user(Role.CLUSTER_MANAGER, "org")
    ana, ben = make_user(username="ana"), make_user(username="ben")
    event = events.create_event(user=organiser, data={
        "title": "Day", "venue": "Lille", "slots": 3, "tables": 1, "slot_minutes": 30,
        "first_slot_at": timezone.now() + dt.timedelta(days=3)})

    def client_of(user):  # type: ignore[no-untyped-def]
        client = Client(enforce_csrf_checks=True)
        client.force_login(user)
        client.get("/api/v1/docs")
        return client

    def post(client, url, body=None):  # type: ignore[no-untyped-def]
        response = client.post(f"/api/v1/cooperation/events/{event.pk}{url}", data=json.dumps(body or {}),
                               content_type="application/json", HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
        return response.status_code, json.loads(response.content)

    as_ana, as_ben, as_organiser = client_of(ana), client_of(ben), client_of(organiser)
    status, bad = post(as_ana, "/registrations", {"available_slots": [0]})
    assert (status, bad["field"]) == (400, "available_slots")  # slots are numbered from 1
    assert post(as_ana, "/registrations", {"available_slots": [1, 2]})[0] == 201
    status, me = post(as_ben, "/registrations", {"available_slots": [2, 3]})
    assert status == 201
    people = json.loads(as_ana.get(f"/api/v1/cooperation/events/{event.pk}/people").content)
    assert [p["participant"] for p in people["items"]] == [me["participant"]]
    status, sent = post(as_ana, "/requests", {"invitee": me["participant"], "message": "Coffee?"})
    assert (status, sent["status"], sent["message"]) == (201, "pending", "Coffee?")
    received = json.loads(as_ben.get(f"/api/v1/cooperation/events/{event.pk}/people").content)["received"]
    assert [r["id"] for r in received] == [sent["id"]]
    assert post(as_ana, f"/requests/{sent['id']}/answer", {"accept": True})[0] == 403
    assert post(as_ben, f"/requests/{sent['id']}/answer", {"accept": True})[1]["status"] == "accepted"
    assert post(as_ben, "/schedule")[0] == 403
    status, schedule = post(as_organiser, "/schedule")
    assert (status, schedule["status"], schedule["count"]) == (200, "optimal", 1)
    assert (schedule["items"][0]["slot"], schedule["items"][0]["first"]["name"]) == (2, "ana")
    assert post(as_ana, "/registrations", {"available_slots": [1]})[0] == 409  # closed once built
