"""Meetings and webinars: creation rules, registration, attendance, reminders, iCalendar feeds."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from socialclusters import errors
from socialclusters.workinggroup import services
from socialclusters.workinggroup.models import Meeting, MeetingFormat, Registration

pytestmark = pytest.mark.django_db
BRUSSELS = zoneinfo.ZoneInfo("Europe/Brussels")
BUCHAREST = zoneinfo.ZoneInfo("Europe/Bucharest")


def plan(**changes: object) -> services.MeetingPlanFull:
    values: dict[str, object] = {
        "title": "Constitutive meeting", "starts_at": datetime.datetime(2019, 3, 7, 10, 0),
        "ends_at": datetime.datetime(2019, 3, 7, 17, 0), "time_zone": "Europe/Brussels", "place": "Brussels",
        "agenda": ("Welcome", "Work plan"),
    }
    return services.MeetingPlanFull(**(values | changes))  # type: ignore[arg-type]


def test_the_founding_plans_meetings_and_a_webinar(world):
    secretariat = world.users["secretariat"]
    constitutive = services.create_meeting(user=secretariat, call=world.call, plan=plan())
    assert constitutive.starts_at == datetime.datetime(2019, 3, 7, 9, 0, tzinfo=datetime.UTC)
    conference = services.create_meeting(user=secretariat, call=world.call, plan=plan(
        title="Cluster conference", time_zone="Europe/Bucharest", place="Cluj-Napoca, Romania",
        starts_at=datetime.datetime(2019, 5, 14, 9, 0), ends_at=datetime.datetime(2019, 5, 15, 13, 0)))
    assert conference.local_start.tzinfo.key == "Europe/Bucharest"
    assert conference.starts_at == datetime.datetime(2019, 5, 14, 6, 0, tzinfo=datetime.UTC)
    webinar = services.create_meeting(user=secretariat, call=world.call, plan=plan(
        title="Webinar on procurement", webinar=True, format=MeetingFormat.ONLINE, place="",
        online_url="https://meet.example.org/procurement", starts_at=datetime.datetime(2019, 6, 4, 14, 0),
        ends_at=datetime.datetime(2019, 6, 4, 15, 30), guests=("Guest@Example.org", "guest@example.org")))
    assert webinar.guests == ["guest@example.org"]
    invitation = mail.outbox[-1]
    assert invitation.to == ["guest@example.org"]
    assert "You are invited to the webinar “Webinar on procurement”" in invitation.body
    assert "https://meet.example.org/procurement" in invitation.body
    (name, content, mimetype), = invitation.attachments
    assert (name, mimetype) == ("invitation.ics", "text/calendar")
    assert Calendar.from_ical(content).walk("VEVENT")[0]["summary"] == "Webinar on procurement (webinar)"
    mail.outbox.clear()
    services.update_meeting(user=secretariat, meeting=webinar, plan=plan(
        title="Webinar on procurement", webinar=True, format=MeetingFormat.ONLINE, place="",
        online_url="https://meet.example.org/procurement", starts_at=datetime.datetime(2019, 6, 4, 14, 0),
        ends_at=datetime.datetime(2019, 6, 4, 15, 30), guests=("guest@example.org", "second@example.org")))
    assert [m.to for m in mail.outbox] == [["second@example.org"]]
    third = services.create_meeting(user=secretariat, call=world.call, plan=plan(
        title="Third meeting", format=MeetingFormat.HYBRID, online_url="https://meet.example.org/july",
        starts_at=datetime.datetime(2019, 7, 2, 10, 0), ends_at=datetime.datetime(2019, 7, 2, 16, 0)))
    assert [m.title for m in world.call.meetings.filter(starts_at__year=2019)] == [
        "Constitutive meeting", "Cluster conference", "Webinar on procurement", "Third meeting"]
    assert third.format == MeetingFormat.HYBRID


@pytest.mark.parametrize(("changes", "field"), [
    ({"ends_at": datetime.datetime(2019, 3, 7, 9, 0)}, "ends_at"),
    ({"place": ""}, "place"),
    ({"format": MeetingFormat.ONLINE, "online_url": ""}, "online_url"),
    ({"format": MeetingFormat.ONLINE, "online_url": "javascript:alert(1)"}, "online_url"),
    ({"guests": ("guest@example.org",)}, "guests"),
    ({"webinar": True, "guests": ("not an email",)}, "guests"),
    ({"time_zone": "Europe/Atlantis"}, "time_zone"),
])
def test_bad_meetings_are_refused_naming_the_field(world, changes, field):
    with pytest.raises(errors.ValidationError) as info:
        services.create_meeting(user=world.users["secretariat"], call=world.call, plan=plan(**changes))
    assert info.value.field == field
    assert not Meeting.objects.filter(title="Constitutive meeting").exists()


def test_members_register_and_the_secretariat_records_attendance(world, client):
    member, secretariat = world.users["member"], world.users["secretariat"]
    client.force_login(member)
    response = client.post(reverse("workinggroup:meeting_register", args=[world.meeting.pk]))
    assert response.status_code == 302
    assert Registration.objects.filter(meeting=world.meeting, user=member).exists()
    with pytest.raises(errors.PermissionDenied):
        services.register(user=world.users["reviewer"], meeting=world.meeting)
    with pytest.raises(errors.Conflict):
        services.register(user=member, meeting=world.past_meeting)
    with pytest.raises(errors.Conflict):
        services.record_attendance(user=secretariat, meeting=world.meeting, present=[member.pk])
    with pytest.raises(errors.ValidationError):
        services.record_attendance(user=secretariat, meeting=world.past_meeting, present=[secretariat.pk])
    client.force_login(secretariat)
    response = client.post(reverse("workinggroup:meeting_attendance", args=[world.past_meeting.pk]),
                           {"present": [str(member.pk)]})
    assert response.status_code == 302
    assert Registration.objects.get(meeting=world.past_meeting, user=member).attended is True
    page = client.get(reverse("workinggroup:meeting_detail", args=[world.past_meeting.pk]))
    assert "attended" in page.content.decode()
    api = client.get(f"/api/v1/workinggroup/meetings/{world.past_meeting.pk}").json()
    assert api["attended"] == [member.username]


def test_reminders_go_once_to_registered_members_and_webinar_guests(world):
    member = world.users["member"]
    services.register(user=member, meeting=world.meeting)
    webinar = services.create_meeting(user=world.users["secretariat"], call=world.call, plan=plan(
        title="Webinar", webinar=True, format=MeetingFormat.ONLINE, place="", online_url="https://meet.example.org/w",
        starts_at=timezone.localtime(world.meeting.starts_at).replace(tzinfo=None) + datetime.timedelta(hours=2),
        ends_at=timezone.localtime(world.meeting.starts_at).replace(tzinfo=None) + datetime.timedelta(hours=3),
        guests=("guest@example.org",)))
    too_early = world.meeting.starts_at - datetime.timedelta(days=3)
    assert services.send_reminders(now=too_early) == 0
    the_day_before = world.meeting.starts_at - datetime.timedelta(hours=20)
    assert services.send_reminders(now=the_day_before) == 2
    by_recipient = {m.to[0]: m for m in mail.outbox}
    assert set(by_recipient) == {member.email, "guest@example.org"}
    assert "1. Typology" in by_recipient[member.email].body
    assert webinar.online_url in by_recipient["guest@example.org"].body
    assert services.send_reminders(now=the_day_before + datetime.timedelta(hours=1)) == 0
    call_command("send_meeting_reminders", "--within-hours", "1")


def test_calendar_feeds(world, client):
    group = client.get(reverse("workinggroup:group_calendar", args=[world.call.slug]))
    assert group["Content-Type"].startswith("text/calendar")
    events = list(Calendar.from_ical(group.content).walk("VEVENT"))
    assert [str(e["summary"]) for e in events] == ["Online meeting", "Second meeting"]
    assert all("url" not in e for e in events)  # the public feed carries no joining link
    assert client.get(reverse("workinggroup:group_calendar", args=[world.call.slug])).content == group.content
    token = services.calendar_token(world.users["member"])
    personal = client.get(reverse("workinggroup:member_calendar", args=[token]))
    online = next(e for e in Calendar.from_ical(personal.content).walk("VEVENT") if str(e["summary"]) ==
                  "Online meeting")
    assert str(online["url"]) == "https://meet.example.org/wg"
    assert online.decoded("dtstart") == world.past_meeting.starts_at.replace(microsecond=0)
    # A new password revokes the feed's link.
    member = world.users["member"]
    member.set_password("another-long-password-1")
    member.save()
    assert client.get(reverse("workinggroup:member_calendar", args=[token])).status_code == 404
    # Someone outside the group gets an empty personal feed.
    outsider = services.calendar_token(world.users["representative"])
    assert Calendar.from_ical(client.get(reverse("workinggroup:member_calendar", args=[outsider])).content).walk(
        "VEVENT") == []


def test_the_secretariat_plans_a_meeting_through_the_page(world, client):
    client.force_login(world.users["secretariat"])
    url = reverse("workinggroup:meeting_create", args=[world.call.slug])
    response = client.post(url, {"title": "Constitutive meeting", "format": "physical",
                                 "starts_at": "2019-03-07T10:00", "ends_at": "2019-03-07T17:00",
                                 "time_zone": "Europe/Brussels", "place": "Brussels",
                                 "agenda": "Welcome\nWork plan\n", "guests": ""})
    assert response.status_code == 302
    meeting = Meeting.objects.get(title="Constitutive meeting")
    assert meeting.agenda == ["Welcome", "Work plan"]
    assert meeting.starts_at == datetime.datetime(2019, 3, 7, 10, 0, tzinfo=BRUSSELS)
    bad = client.post(url, {"title": "Online", "format": "online", "starts_at": "2019-03-07T10:00",
                            "ends_at": "2019-03-07T11:00", "time_zone": "Europe/Brussels", "place": "",
                            "online_url": "", "agenda": "", "guests": ""})
    assert bad.status_code == 400
    assert "give the link to join online" in " ".join(bad.context["form"].errors["online_url"])
    edit = client.post(reverse("workinggroup:meeting_edit", args=[meeting.pk]), {
        "title": "Constitutive meeting", "format": "physical", "starts_at": "2019-03-07T09:30",
        "ends_at": "2019-03-07T17:00", "time_zone": "Europe/Brussels", "place": "Brussels, Square Meeting Centre",
        "agenda": "Welcome", "guests": ""})
    assert edit.status_code == 302
    meeting.refresh_from_db()
    assert meeting.place == "Brussels, Square Meeting Centre"
    assert meeting.local_start.hour == 9


def test_minutes_are_drafted_by_several_members_and_approved(world, client, make_user):
    from socialclusters.accounts.models import Role
    from socialclusters.workinggroup.models import Application, MinutesStatus, Outcome

    member = world.users["member"]
    second = make_user(Role.MEMBER, "second-member")
    Application.objects.filter(pk=world.other.pk).update(member=second, outcome=Outcome.SELECTED)
    url = reverse("workinggroup:minutes", args=[world.past_meeting.pk])
    client.force_login(member)
    assert client.post(url, {"text": "Present: all. Decisions: none.", "note": "first draft"}).status_code == 302
    client.force_login(second)
    assert client.post(url, {"text": "Present: all. Decisions: adopt the work plan.", "note": "decision"}
                       ).status_code == 302
    same = client.post(url, {"text": "Present: all. Decisions: adopt the work plan."})
    assert same.status_code == 400
    assert "nothing changed since version 2" in same.content.decode()
    record = world.past_meeting.minutes
    assert [(v.number, v.author) for v in record.versions.all()] == [(1, member), (2, second)]
    with pytest.raises(errors.PermissionDenied):
        services.approve_minutes(user=member, meeting=world.past_meeting)
    with pytest.raises(errors.Conflict):
        services.add_minutes_version(user=member, meeting=world.meeting, text="Too early")
    client.force_login(world.users["secretariat"])
    assert client.post(reverse("workinggroup:minutes_approve", args=[world.past_meeting.pk])).status_code == 302
    record.refresh_from_db()
    assert record.status == MinutesStatus.APPROVED
    with pytest.raises(errors.Conflict):
        services.add_minutes_version(user=second, meeting=world.past_meeting, text="A late change")
    page = client.get(url).content.decode()
    assert "adopt the work plan" in page
    assert "Approved on" in page


def test_action_items_are_carried_over_until_done(world, client):
    member, secretariat = world.users["member"], world.users["secretariat"]
    later = reverse("workinggroup:meeting_detail", args=[world.meeting.pk])
    client.force_login(member)
    page = client.get(later).content.decode()
    assert "Draft the typology" in page
    assert "carried over from Online meeting" in page
    with pytest.raises(errors.PermissionDenied):
        services.complete_action_item(user=world.users["reviewer"], item=world.action)
    with pytest.raises(errors.ValidationError) as info:
        services.add_action_item(user=member, meeting=world.meeting, title="Ask", owner=world.users["reviewer"])
    assert info.value.field == "owner"
    assert client.post(reverse("workinggroup:action_item_done", args=[world.action.pk])).status_code == 302
    assert list(client.get(later).context["actions"]) == []
    with pytest.raises(errors.Conflict):
        services.complete_action_item(user=secretariat, item=world.action)


def test_the_work_plan_timeline(world, client):
    from socialclusters.workinggroup.models import Milestone, MilestoneStatus

    client.force_login(world.users["secretariat"])
    response = client.post(reverse("workinggroup:milestone_add", args=[world.call.slug]),
                           {"title": "Progress report to the plenary", "kind": "plenary_report",
                            "due_date": "2019-10-15"})
    assert response.status_code == 302
    bad = client.post(reverse("workinggroup:milestone_add", args=[world.call.slug]),
                      {"title": "", "kind": "plenary_report", "due_date": "2019-10-15"})
    assert bad.status_code == 400
    client.post(reverse("workinggroup:milestone_status", args=[world.milestone.pk]), {"status": "done"})
    world.milestone.refresh_from_db()
    assert world.milestone.status == MilestoneStatus.DONE
    client.force_login(world.users["member"])
    page = client.get(reverse("workinggroup:workplan", args=[world.call.slug]))
    rows = page.context["rows"]
    assert [r["milestone"].title for r in rows] == ["Constitutive meeting", "Progress report to the plenary"]
    assert [r["late"] for r in rows] == [False, True]  # done on time; the 2019 report is overdue today
    assert Milestone.objects.get(title="Progress report to the plenary").is_late(datetime.date(2019, 9, 1)) is False


def test_quick_polls(world, client, make_user):
    from socialclusters.workinggroup.models import Poll

    member, secretariat = world.users["member"], world.users["secretariat"]
    with pytest.raises(errors.ValidationError) as info:
        services.open_poll(user=member, meeting=world.meeting, question="Which day?", options=["Monday", " Monday "])
    assert info.value.field == "options"
    client.force_login(member)
    client.post(reverse("workinggroup:poll_open", args=[world.meeting.pk]),
                {"question": "Which day?", "options": "Monday\nTuesday\n"})
    poll = Poll.objects.get(question="Which day?")
    assert poll.options == ["Monday", "Tuesday"]
    client.post(reverse("workinggroup:poll_vote", args=[poll.pk]), {"option": "0"})
    client.post(reverse("workinggroup:poll_vote", args=[poll.pk]), {"option": "1"})  # a change of mind
    services.vote(user=secretariat, poll=poll, option=1)
    with pytest.raises(errors.ValidationError):
        services.vote(user=member, poll=poll, option=2)
    with pytest.raises(errors.PermissionDenied):
        services.vote(user=world.users["reviewer"], poll=poll, option=0)
    with pytest.raises(errors.PermissionDenied):
        services.close_poll(user=world.users["reviewer"], poll=poll)
    assert client.post(reverse("workinggroup:poll_close", args=[poll.pk])).status_code == 302
    with pytest.raises(errors.Conflict):
        services.vote(user=member, poll=poll, option=0)
    page = client.get(reverse("workinggroup:meeting_detail", args=[world.meeting.pk]))
    result = next(r for r in page.context["polls"] if r["poll"] == poll)
    assert result["rows"] == [("Monday", 0), ("Tuesday", 2)]
