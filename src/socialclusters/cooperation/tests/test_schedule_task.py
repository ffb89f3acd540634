"""An event's schedule as a background task: queued by the organiser, followed from the event's pages, built by a
worker, failed or done, with the agendas emailed once done.

The site queues tasks in the database for a worker process; the test suite runs them at once (the immediate
backend, set in the root conftest). Here the dummy backend keeps the task in its queue instead, as the database
queue would until a worker takes it, and the test plays the worker by calling the task; one test uses the real
database queue and its worker command.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import django_tasks.signals  # noqa: F401  (resets the task backends when the TASKS setting changes)
import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_tasks import default_task_backend

from socialclusters import errors
from socialclusters.accounts.models import Role, User
from socialclusters.cooperation import events, tasks
from socialclusters.cooperation.models import Event, ScheduleBuild, ScheduledMeeting
from socialclusters.tasks import ABANDONED_AFTER, TaskState

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@dataclass
class Day:
    organiser: User
    ana: User
    ben: User
    event: Event


@pytest.fixture
def day(make_user) -> Day:  # type: ignore[no-untyped-def]
    organiser = make_user(Role.CLUSTER_MANAGER, "organiser")
    ana, ben = make_user(username="ana"), make_user(username="ben")
    for user in (ana, ben):
        user.email = f"{user.username}@example.org"
        user.save()
    event = events.create_event(user=organiser, data={
        "title": "Day", "venue": "Lille", "slots": 3, "tables": 1, "slot_minutes": 30,
        "first_slot_at": timezone.now() + dt.timedelta(days=3)})
    events.register(user=ana, event=event, organisation=None, available_slots=[0, 1])
    b = events.register(user=ben, event=event, organisation=None, available_slots=[1, 2])
    meeting = events.request_meeting(user=ana, event=event, invitee_id=b.pk)
    events.answer_meeting(user=ben, meeting=meeting, accept=True)
    mail.outbox.clear()
    return Day(organiser, ana, ben, event)


@pytest.fixture
def queue(settings):  # type: ignore[no-untyped-def]
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    yield default_task_backend
    default_task_backend.clear()  # type: ignore[attr-defined]


def _calendars() -> list[str]:
    return sorted(m.to[0] for m in mail.outbox if m.attachments)


def test_without_a_queue_the_schedule_is_built_before_the_request_ends(day, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        build = events.build_schedule(user=day.organiser, event=day.event)
    assert build.state == TaskState.DONE
    assert build.task_id
    assert build.progress == ""
    assert build.error == ""
    assert build.started_at is not None
    assert build.finished_at is not None
    assert build.finished_at >= build.started_at >= build.created_at
    day.event.refresh_from_db()
    assert day.event.schedule_status == "optimal"
    assert [(m.slot, m.table) for m in ScheduledMeeting.objects.filter(event=day.event)] == [(1, 0)]
    assert _calendars() == ["ana@example.org", "ben@example.org"]


def test_the_database_queue_keeps_the_build_until_the_worker_command_runs_it(  # type: ignore[no-untyped-def]
        day, settings, monkeypatch, django_capture_on_commit_callbacks):
    settings.TASKS = {"default": {"BACKEND": settings.TASK_BACKENDS["database"]}}
    from django_tasks_db.management.commands import db_worker
    from django_tasks_db.models import DBTaskResult

    # Between tasks the worker drops connections that are not in autocommit mode, as a long-lived process should;
    # here that connection holds the test's open transaction (and its data), so it must stay (PostgreSQL).
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)

    build = events.build_schedule(user=day.organiser, event=day.event)
    assert build.state == TaskState.QUEUED
    assert build.progress == "Waiting for a worker"
    queued = DBTaskResult.objects.get(id=build.task_id)
    assert queued.status == "READY"
    assert not ScheduledMeeting.objects.filter(event=day.event).exists()
    assert _calendars() == []
    with django_capture_on_commit_callbacks(execute=True):
        call_command("db_worker", batch=True, startup_delay=False)
    build.refresh_from_db()
    assert build.state == TaskState.DONE
    assert ScheduledMeeting.objects.filter(event=day.event).count() == 1
    assert _calendars() == ["ana@example.org", "ben@example.org"]
    queued.refresh_from_db()
    assert queued.status == "SUCCESSFUL"
    assert queued.return_value == TaskState.DONE


def test_a_queued_build_is_followed_from_the_pages_until_the_schedule(  # type: ignore[no-untyped-def]
        day, client, queue, django_capture_on_commit_callbacks):
    client.force_login(day.organiser)
    print_url = reverse("cooperation:event_print", kwargs={"pk": day.event.pk})
    detail_url = reverse("cooperation:event_detail", kwargs={"pk": day.event.pk})
    response = client.post(reverse("cooperation:event_schedule", kwargs={"pk": day.event.pk}), follow=True)
    assert response.redirect_chain == [(print_url, 302)]
    build = ScheduleBuild.objects.get(event=day.event)
    assert build.state == TaskState.QUEUED
    assert [r.args for r in queue.results] == [[build.pk]]
    assert build.task_id == queue.results[0].id
    page = response.content.decode()
    assert "The schedule is queued" in page
    assert "The schedule is not built yet." not in page
    status = reverse("cooperation:event_schedule_status", kwargs={"pk": day.event.pk, "build_pk": build.pk})
    assert f'hx-get="{status}?page=print&amp;seen=queued%3AWaiting%20for%20a%20worker"' in page
    assert 'role="status"' in page
    assert f'<a href="{print_url}">Reload now</a>' in page
    # The event page shows the same state, with its own address to reload, and no button to build again.
    detail = client.get(detail_url).content.decode()
    assert f'hx-get="{status}?page=detail&amp;' in detail
    assert f'<a href="{detail_url}">Reload now</a>' in detail
    assert "Build the schedule and send the agendas" not in detail
    # Nobody else sees it.
    assert "hx-get" not in client.__class__().get(detail_url).content.decode()
    # While it waits, polling answers with the state; asked again with what it already shows, nothing is sent.
    polled = client.get(status, {"page": "print"}, **HTMX)
    assert polled.status_code == 200
    assert "Schedule queued" in polled.content.decode()
    assert "hx-trigger" in polled.content.decode()
    assert client.get(status, {"page": "print", "seen": "queued:Waiting for a worker"}, **HTMX).status_code == 204
    ScheduleBuild.objects.filter(pk=build.pk).update(state=TaskState.RUNNING, progress="Placing",
                                                     started_at=timezone.now())
    changed = client.get(status, {"page": "print", "seen": "queued:Waiting for a worker"}, **HTMX)
    assert changed.status_code == 200
    assert "Building the schedule" in changed.content.decode()
    assert "seen=running%3APlacing" in changed.content.decode()
    ScheduleBuild.objects.filter(pk=build.pk).update(state=TaskState.QUEUED, progress="Waiting for a worker",
                                                     started_at=None)
    # A second build is refused while this one is under way: on the page as a message, in the service as an error.
    again = client.post(reverse("cooperation:event_schedule", kwargs={"pk": day.event.pk}), follow=True,
                        HTTP_REFERER=detail_url)
    assert again.redirect_chain == [(detail_url, 302)]
    assert "already being built" in again.content.decode()
    assert ScheduleBuild.objects.filter(event=day.event).count() == 1
    # Without a referrer (a script, a privacy setting) the message shows on the event's page, not on an error.
    bare = client.post(reverse("cooperation:event_schedule", kwargs={"pk": day.event.pk}), follow=True)
    assert bare.redirect_chain == [(detail_url, 302)]
    assert "already being built" in bare.content.decode()
    with pytest.raises(errors.Conflict, match="already being built"):
        events.build_schedule(user=day.organiser, event=day.event)
    # Without htmx the address leads back to the page named.
    assert client.get(status, {"page": "detail"})["Location"] == detail_url
    assert client.get(status)["Location"] == print_url
    # A worker takes it: the agendas go out, the page is told to reload and shows the schedule.
    assert _calendars() == []
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.build_schedule.call(build.pk) == TaskState.DONE
    assert tasks.build_schedule.call(build.pk) is None  # taken once only
    assert _calendars() == ["ana@example.org", "ben@example.org"]
    finished = client.get(status, **HTMX)
    assert finished.status_code == 200
    assert finished["HX-Refresh"] == "true"
    page = client.get(print_url).content.decode()
    assert "Proven optimal" in page
    assert "hx-get" not in page
    assert page.count("<tr>") == 2
    assert "Build the schedule and send the agendas" in client.get(detail_url).content.decode()


def test_the_api_answers_202_while_the_build_waits_and_shows_its_state(day, client, queue):  # type: ignore[no-untyped-def]
    client.force_login(day.organiser)
    path = f"/api/v1/cooperation/events/{day.event.pk}/schedule"
    assert client.get(path).json()["build"] is None
    response = client.post(path, "{}", content_type="application/json")
    assert response.status_code == 202
    body = response.json()
    assert (body["status"], body["count"], body["scheduled_at"]) == ("", 0, None)
    assert body["build"]["state"] == "queued"
    assert body["build"]["progress"] == "Waiting for a worker"
    assert body["build"]["started_at"] is None
    assert client.post(path, "{}", content_type="application/json").status_code == 409
    tasks.build_schedule.call(body["build"]["id"])
    latest = client.get(path).json()
    assert latest["build"]["id"] == body["build"]["id"]
    assert latest["build"]["state"] == "done"
    assert latest["build"]["finished_at"] is not None
    assert (latest["status"], latest["count"]) == ("optimal", 1)


def test_with_the_immediate_backend_the_api_answers_200_with_the_schedule(day, client):  # type: ignore[no-untyped-def]
    client.force_login(day.organiser)
    response = client.post(f"/api/v1/cooperation/events/{day.event.pk}/schedule", "{}",
                           content_type="application/json")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["count"], body["build"]["state"]) == ("optimal", 1, "done")


def test_a_failed_build_says_why_and_keeps_the_earlier_schedule(day, client, queue):  # type: ignore[no-untyped-def]
    tasks.build_schedule.call(events.build_schedule(user=day.organiser, event=day.event).pk)
    day.event.refresh_from_db()
    built_at = day.event.scheduled_at
    # A time limit the solver refuses: its argument check becomes the build's error.
    build = events.build_schedule(user=day.organiser, event=day.event, time_limit=0)
    assert tasks.build_schedule.call(build.pk) == TaskState.FAILED
    build.refresh_from_db()
    assert build.state == TaskState.FAILED
    assert "time_limit" in build.error
    assert build.finished_at is not None
    assert build.progress == ""
    day.event.refresh_from_db()
    assert day.event.scheduled_at == built_at
    assert ScheduledMeeting.objects.filter(event=day.event).count() == 1
    client.force_login(day.organiser)
    page = client.get(reverse("cooperation:event_print", kwargs={"pk": day.event.pk})).content.decode()
    assert 'role="alert"' in page
    assert "time_limit" in page
    assert "The earlier schedule stays as it was." in page
    assert page.count("<tr>") == 2
    api = client.get(f"/api/v1/cooperation/events/{day.event.pk}/schedule").json()
    assert (api["build"]["state"], api["count"]) == ("failed", 1)
    assert "time_limit" in api["build"]["error"]
    # A failed build does not keep the organiser from building again.
    assert events.build_schedule(user=day.organiser, event=day.event).state == TaskState.QUEUED


def test_a_failed_build_with_the_immediate_backend_is_shown_after_the_click(day, client):  # type: ignore[no-untyped-def]
    # A slot the event does not have (the form never offers one): the solver's argument check refuses it.
    day.event.participants.filter(user=day.ana).update(available_slots=[7])
    client.force_login(day.organiser)
    page = client.post(reverse("cooperation:event_schedule", kwargs={"pk": day.event.pk}), follow=True)
    assert "The schedule could not be built: availability: slot 7" in page.content.decode()
    assert 'role="alert"' in page.content.decode()
    response = client.post(f"/api/v1/cooperation/events/{day.event.pk}/schedule", "{}",
                           content_type="application/json")
    assert response.status_code == 200
    assert response.json()["build"]["state"] == "failed"


def test_an_abandoned_build_no_longer_blocks(day, queue):  # type: ignore[no-untyped-def]
    build = events.build_schedule(user=day.organiser, event=day.event)
    assert events.pending_build(day.event) == build
    ScheduleBuild.objects.filter(pk=build.pk).update(
        created_at=timezone.now() - ABANDONED_AFTER - dt.timedelta(seconds=1))
    assert events.pending_build(day.event) is None
    later = events.build_schedule(user=day.organiser, event=day.event)
    assert later.state == TaskState.QUEUED
    # Should its worker come back, the abandoned build steps aside for the later one: one set of agendas only.
    assert tasks.build_schedule.call(build.pk) == TaskState.FAILED
    build.refresh_from_db()
    assert build.error == "a later build of this schedule replaced this one"
    assert not ScheduledMeeting.objects.filter(event=day.event).exists()
    assert mail.outbox == []
    assert tasks.build_schedule.call(later.pk) == TaskState.DONE


def test_refusals_happen_before_anything_is_queued(day, queue, make_user):  # type: ignore[no-untyped-def]
    with pytest.raises(errors.PermissionDenied):
        events.build_schedule(user=day.ana, event=day.event)
    other = events.create_event(user=day.organiser, data={
        "title": "Empty", "venue": "Lille", "slots": 1, "tables": 1, "slot_minutes": 30,
        "first_slot_at": timezone.now()})
    with pytest.raises(errors.Conflict, match="no accepted"):
        events.build_schedule(user=day.organiser, event=other)
    assert not ScheduleBuild.objects.exists()
    assert queue.results == []


def test_a_build_whose_requests_are_gone_fails_instead_of_emptying_the_schedule(day, queue):  # type: ignore[no-untyped-def]
    build = events.build_schedule(user=day.organiser, event=day.event)
    day.event.meeting_requests.all().delete()
    assert tasks.build_schedule.call(build.pk) == TaskState.FAILED
    build.refresh_from_db()
    assert build.error == "no accepted meeting request to schedule"
