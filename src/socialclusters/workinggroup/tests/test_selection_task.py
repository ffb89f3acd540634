"""The selection as a background task: queued, followed from the page, computed by a worker, failed or done.

The site queues tasks in the database for a worker process (``socialclusters db_worker``); the test suite runs
them at once (the immediate backend, set in the root conftest). Here the dummy backend keeps the task in its queue
instead, as the database queue would until a worker takes it, and the test plays the worker by calling the task;
one test uses the real database queue and its worker command.
"""

from __future__ import annotations

import datetime
import json

import django_tasks.signals  # noqa: F401  (resets the task backends when the TASKS setting changes)
import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_tasks import default_task_backend

from socialclusters import errors
from socialclusters.tasks import ABANDONED_AFTER, TaskState
from socialclusters.workinggroup import services, tasks
from socialclusters.workinggroup.models import Lock, SelectionRun

pytestmark = pytest.mark.django_db

RULES = services.SelectionRules(seats=(1, 1), required_areas=(), max_per_country=2, require_available=False)
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def queue(settings):  # type: ignore[no-untyped-def]
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    yield default_task_backend
    default_task_backend.clear()  # type: ignore[attr-defined]


def test_without_a_queue_the_run_is_computed_before_the_request_ends(world):
    run = services.run_selection(user=world.users["secretariat"], call=world.call, rules=RULES)
    assert run.state == TaskState.DONE
    assert run.status == "optimal"
    assert run.task_id
    assert run.started_at is not None
    assert run.finished_at is not None
    assert run.finished_at >= run.started_at
    assert run.progress == ""
    assert run.result["selected"] == [world.application.pk]


def test_the_database_queue_keeps_the_run_until_the_worker_command_computes_it(world, settings, monkeypatch):
    settings.TASKS = {"default": {"BACKEND": settings.TASK_BACKENDS["database"]}}
    from django_tasks_db.management.commands import db_worker
    from django_tasks_db.models import DBTaskResult

    # Between tasks the worker drops connections that are not in autocommit mode, as a long-lived process
    # should; here that connection holds the test's open transaction (and its data), so it must stay.
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)

    run = services.run_selection(user=world.users["secretariat"], call=world.call, rules=RULES)
    assert run.state == TaskState.QUEUED
    queued = DBTaskResult.objects.get(id=run.task_id)
    assert queued.status == "READY"
    call_command("db_worker", batch=True, startup_delay=False)
    run.refresh_from_db()
    assert run.state == TaskState.DONE
    assert run.status == "optimal"
    assert run.result["selected"] == [world.application.pk]
    queued.refresh_from_db()
    assert queued.status == "SUCCESSFUL"
    assert queued.return_value == TaskState.DONE


def test_a_queued_run_is_followed_from_the_page_until_its_result(world, client, queue):
    secretariat = world.users["secretariat"]
    client.force_login(secretariat)
    url = reverse("workinggroup:selection", args=[world.call.slug])
    rules = {"seats_min": "1", "seats_max": "1", "max_per_country": "2", "weight_score": "1", "weight_area": "25",
             "weight_type": "20", "weight_country": "10", "weight_gender": "10"}
    response = client.post(url, rules, follow=True)
    run = world.call.selection_runs.order_by("-pk").first()
    assert run.state == TaskState.QUEUED
    assert [r.args for r in queue.results] == [[run.pk]]
    assert run.task_id == queue.results[0].id
    page = response.content.decode()
    assert "The selection is queued" in page
    status = reverse("workinggroup:selection_run_status", args=[world.call.slug, run.pk])
    assert f'hx-get="{status}?seen=queued%3A' in page
    assert 'role="status"' in page
    # The earlier finished run stays on the page, and is the one a decision may still be made from.
    assert f'name="run" value="{world.run.pk}"' in page
    # While it waits, polling answers with the state; another run is refused.
    polled = client.get(status, **HTMX)
    assert polled.status_code == 200
    assert "Queued" in polled.content.decode()
    assert "hx-trigger" in polled.content.decode()
    # Asked again with what it already shows, nothing is sent; a change of step is.
    assert client.get(status, {"seen": f"queued:{run.progress}"}, **HTMX).status_code == 204
    SelectionRun.objects.filter(pk=run.pk).update(state=TaskState.RUNNING, progress="Searching",
                                                  started_at=timezone.now())
    changed = client.get(status, {"seen": f"queued:{run.progress}"}, **HTMX)
    assert changed.status_code == 200
    assert "Running" in changed.content.decode()
    assert "?seen=running%3ASearching" in changed.content.decode()
    SelectionRun.objects.filter(pk=run.pk).update(state=TaskState.QUEUED, progress=run.progress, started_at=None)
    with pytest.raises(errors.Conflict, match="already under way"):
        services.run_selection(user=secretariat, call=world.call, rules=RULES)
    # Without htmx the address leads back to the page.
    assert client.get(status)["Location"] == url
    # A worker takes it: the page is told to reload and shows the result.
    assert tasks.run_selection.call(run.pk) == TaskState.DONE
    assert tasks.run_selection.call(run.pk) is None  # taken once only
    run.refresh_from_db()
    assert run.state == TaskState.DONE
    assert run.status == "optimal"
    finished = client.get(status, **HTMX)
    assert finished.status_code == 200
    assert finished["HX-Refresh"] == "true"
    page = client.get(url).content.decode()
    assert "Proven optimal" in page
    assert "hx-get" not in page
    assert f'name="run" value="{run.pk}"' in page
    services.record_decision(user=secretariat, run=run, rationale="The best group.")


def test_a_run_still_queued_cannot_be_decided_on(world, queue):
    secretariat = world.users["secretariat"]
    run = services.run_selection(user=secretariat, call=world.call, rules=RULES)
    with pytest.raises(errors.ValidationError, match="not finished"):
        services.record_decision(user=secretariat, run=run, rationale="Too early.")
    # The latest finished run may still be decided on while a newer one waits.
    services.record_decision(user=secretariat, run=world.run, rationale="The earlier group.")


def test_the_api_answers_202_while_the_run_waits_and_shows_its_state(world, client, queue):
    client.force_login(world.users["secretariat"])
    path = f"/api/v1/workinggroup/calls/{world.call.slug}/selection"
    rules = {"seats_min": 1, "seats_max": 1, "require_available": False}
    response = client.post(path, json.dumps(rules), content_type="application/json")
    assert response.status_code == 202
    body = response.json()
    assert body["state"] == "queued"
    assert body["status"] == ""
    assert body["parameters"]["seats"] == [1, 1]
    tasks.run_selection.call(body["id"])
    latest = client.get(path).json()
    assert latest["id"] == body["id"]
    assert latest["state"] == "done"
    assert latest["status"] == "optimal"
    assert latest["started_at"] is not None


def test_locks_are_taken_when_the_run_is_queued(world, queue):
    world.other.lock = Lock.IN
    world.other.save()
    run = services.run_selection(user=world.users["secretariat"], call=world.call, rules=RULES)
    assert run.parameters["locked_in"] == [world.other.pk]
    world.other.lock = Lock.NONE
    world.other.save()
    tasks.run_selection.call(run.pk)
    run.refresh_from_db()
    assert run.result["selected"] == [world.other.pk]


def test_a_failed_run_says_why_on_the_page(world, client, queue):
    secretariat = world.users["secretariat"]
    run = services.run_selection(user=secretariat, call=world.call, rules=RULES)
    # Applicant both locked in and out: the analysis refuses the arguments.
    SelectionRun.objects.filter(pk=run.pk).update(parameters={
        **run.parameters, "locked_in": [world.other.pk], "locked_out": [world.other.pk]})
    assert tasks.run_selection.call(run.pk) == TaskState.FAILED
    run.refresh_from_db()
    assert run.state == TaskState.FAILED
    assert "both locked in and locked out" in run.error
    assert run.finished_at is not None
    client.force_login(secretariat)
    page = client.get(reverse("workinggroup:selection", args=[world.call.slug])).content.decode()
    assert 'role="alert"' in page
    assert "both locked in and locked out" in page
    with pytest.raises(errors.ValidationError, match="not finished"):
        services.record_decision(user=secretariat, run=run, rationale="Failed run.")
    # A failed run does not keep the secretariat from running again.
    again = services.run_selection(user=secretariat, call=world.call, rules=RULES)
    assert again.state == TaskState.QUEUED


def test_an_abandoned_run_no_longer_blocks(world, queue):
    secretariat = world.users["secretariat"]
    run = services.run_selection(user=secretariat, call=world.call, rules=RULES)
    SelectionRun.objects.filter(pk=run.pk).update(
        created_at=timezone.now() - ABANDONED_AFTER - datetime.timedelta(seconds=1))
    assert services.pending_run(world.call) is None
    assert services.run_selection(user=secretariat, call=world.call, rules=RULES).state == TaskState.QUEUED


def test_bad_rules_are_refused_before_anything_is_queued(world, queue):
    before = SelectionRun.objects.count()
    with pytest.raises(errors.ValidationError, match="not one of the call's expertise areas"):
        services.run_selection(user=world.users["secretariat"], call=world.call, rules=services.SelectionRules(
            seats=(1, 1), required_areas=("astrology",), max_per_country=None))
    with pytest.raises(errors.PermissionDenied):
        services.run_selection(user=world.users["member"], call=world.call, rules=RULES)
    assert SelectionRun.objects.count() == before
    assert queue.results == []
