"""The shared life of queued long work (``socialclusters.tasks``), on a selection run as the example row."""

from __future__ import annotations

import datetime as dt

import django_tasks.signals  # noqa: F401  (resets the task backends when the TASKS setting changes)
import pytest
from django.db import transaction
from django.utils import timezone

from socialclusters.tasks import ABANDONED_AFTER, TaskState, claim, pending_in
from socialclusters.workinggroup import tasks as workinggroup_tasks
from socialclusters.workinggroup.models import Call, SelectionRun
from socialclusters.workinggroup.tests.factories import CallFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def call() -> Call:
    return CallFactory()


def _queued(call: Call, **fields: object) -> SelectionRun:
    return SelectionRun.objects.create(call=call, state=TaskState.QUEUED, **fields)


def test_the_pending_work_is_the_latest_queued_or_running_one_of_its_object(call):  # type: ignore[no-untyped-def]
    other = CallFactory()
    SelectionRun.objects.create(call=call, state=TaskState.DONE)
    SelectionRun.objects.create(call=call, state=TaskState.FAILED)
    assert pending_in(SelectionRun.objects.filter(call=call)) is None
    first, second = _queued(call), _queued(call, progress="Searching")
    SelectionRun.objects.filter(pk=second.pk).update(state=TaskState.RUNNING)
    _queued(other)
    assert pending_in(SelectionRun.objects.filter(call=call)) == second
    SelectionRun.objects.filter(pk=second.pk).update(state=TaskState.DONE)
    assert pending_in(SelectionRun.objects.filter(call=call)) == first
    assert first.pending
    assert not SelectionRun.objects.get(pk=second.pk).pending


def test_work_queued_too_long_ago_is_abandoned_and_no_longer_pending(call):  # type: ignore[no-untyped-def]
    run = _queued(call)
    runs = SelectionRun.objects.filter(call=call)
    later = run.created_at + ABANDONED_AFTER
    assert pending_in(runs, now=later) == run
    assert pending_in(runs, now=later + dt.timedelta(seconds=1)) is None
    shorter = dt.timedelta(minutes=1)
    assert pending_in(runs, now=run.created_at + 2 * shorter, abandoned_after=shorter) is None
    assert dt.timedelta(minutes=15) == ABANDONED_AFTER


def test_a_task_body_claims_starts_reports_and_finishes_the_work(call):  # type: ignore[no-untyped-def]
    run = _queued(call, progress="Waiting for a worker")
    before = timezone.now()
    with transaction.atomic():
        claimed = claim(SelectionRun.objects.all(), run.pk)
        assert claimed == run
        claimed.start("Reading")
    assert claim(SelectionRun.objects.all(), run.pk) is None  # running: a second worker finds nothing to do
    claimed.report("Searching")
    run.refresh_from_db()
    assert (run.state, run.progress) == (TaskState.RUNNING, "Searching")
    assert run.started_at >= before
    assert run.finished_at is None
    claimed.status = "optimal"
    claimed.finish(update_fields=["status"])
    run.refresh_from_db()
    assert (run.state, run.progress, run.status, run.error) == (TaskState.DONE, "", "optimal", "")
    assert run.finished_at >= run.started_at
    assert not run.pending


def test_failed_work_keeps_its_error_and_ends(call):  # type: ignore[no-untyped-def]
    run = _queued(call, progress="Searching")
    assert run.fail("no group fits") is run
    run.refresh_from_db()
    assert (run.state, run.error, run.progress) == (TaskState.FAILED, "no group fits", "")
    assert run.finished_at is not None
    assert claim(SelectionRun.objects.all(), run.pk) is None
    assert claim(SelectionRun.objects.all(), run.pk + 1000) is None  # gone


def test_enqueue_keeps_the_task_id_and_leaves_the_work_queued(call, settings):  # type: ignore[no-untyped-def]
    # The dummy backend keeps the task in its queue, as the database queue does until a worker takes it.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    run = _queued(call)
    run.enqueue(workinggroup_tasks.run_selection)
    assert run.task_id
    assert run.state == TaskState.QUEUED
    assert SelectionRun.objects.get(pk=run.pk).task_id == run.task_id


def test_the_states_keep_their_stored_values_and_labels() -> None:
    assert [(s.value, str(s.label)) for s in TaskState] == [
        ("queued", "Queued"), ("running", "Running"), ("done", "Done"), ("failed", "Failed")]
