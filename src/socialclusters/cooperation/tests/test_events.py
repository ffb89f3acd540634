"""Meetings at an event through the app: 60 participants, 200 accepted requests, a schedule without double
bookings that respects availability, agendas by email with an iCalendar file, and the printable schedule."""

from __future__ import annotations

import datetime as dt
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
