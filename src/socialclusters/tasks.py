"""Long work queued as a task (django-tasks) and followed from the page that queued it.

A selection run of the working group and a schedule build of an event are the same kind of thing: a row kept when
the work is queued, which the task's body moves from queued to running to done (or failed, with the error), saying
on the way which step is under way, so that the page can show it. ``QueuedWork`` holds what such a row has in common
and the moves a task's body makes; each app's model adds what its work is about (the call and its result, the event
and its time limit). The apps' modules keep the work itself and their own rules.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Self, TypeVar

from django.conf import settings
from django.db import models
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_tasks.base import Task

# Work still queued or running this long after it was queued is taken as abandoned (its worker stopped), and no
# longer keeps anyone from starting the same work again. The longest work (a schedule, at most a minute of solving)
# is far shorter: the rest is time spent waiting in the queue.
ABANDONED_AFTER = datetime.timedelta(minutes=15)


class TaskState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


PENDING_STATES = (TaskState.QUEUED, TaskState.RUNNING)


class QueuedWork(models.Model):
    """A piece of long work run as a task: who queued it and when, its state, progress and error.

    ``state`` goes queued → running → done (or failed, with ``error``); ``progress`` says which step is under way
    and is emptied when the work ends; ``task_id`` is the queued task's id, to find it in the task backend.
    Subclasses choose ``state``'s default if it is not ``queued``, and inherit ``Meta`` to keep the order.
    """

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(max_length=10, choices=TaskState.choices, default=TaskState.QUEUED)
    progress = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-pk"]
        get_latest_by = ["created_at", "pk"]

    @property
    def pending(self) -> bool:
        """Whether the work is still queued or running."""
        return self.state in PENDING_STATES

    def enqueue(self, task: Task[[int], Any]) -> None:
        """Queue ``task`` on this row's primary key and keep the task's id, then read the row again.

        Call it once the row's own transaction is committed, so that a worker in another process can find the row.
        With the immediate backend the task has already run when ``enqueue`` returns: hence the update of
        ``task_id`` alone, which leaves the task's own writes as they are, and the fresh read.
        """
        result = task.enqueue(self.pk)
        type(self)._default_manager.filter(pk=self.pk).update(task_id=str(result.id)[:64])
        self.refresh_from_db()

    def start(self, progress: str) -> None:
        """Mark the work running from now, at its first step ``progress``."""
        self.state, self.started_at, self.progress = TaskState.RUNNING, timezone.now(), progress
        self.save(update_fields=["state", "started_at", "progress"])

    def report(self, progress: str) -> None:
        """Say which step is under way, for the page that follows the work."""
        self.progress = progress
        self.save(update_fields=["progress"])

    def finish(self, *, update_fields: Iterable[str] = ()) -> None:
        """Mark the work done, saving with it the ``update_fields`` the task set on the row (its result)."""
        self.state, self.finished_at, self.progress = TaskState.DONE, timezone.now(), ""
        self.save(update_fields=[*update_fields, "state", "finished_at", "progress"])

    def fail(self, error: str) -> Self:
        """Mark the work failed with ``error``, the message its page shows; returns the row."""
        self.state, self.error, self.finished_at, self.progress = TaskState.FAILED, error, timezone.now(), ""
        self.save(update_fields=["state", "error", "finished_at", "progress"])
        return self


W = TypeVar("W", bound=QueuedWork)


def pending_in(work: QuerySet[W], *, now: datetime.datetime | None = None,
               abandoned_after: datetime.timedelta = ABANDONED_AFTER) -> W | None:
    """The latest of ``work`` still queued or running and not abandoned, if any.

    ``work`` is the work on one object (one call's runs, one event's builds): while this finds one, the apps refuse
    to queue another. Work queued more than ``abandoned_after`` before ``now`` no longer counts.
    """
    since = (now or timezone.now()) - abandoned_after
    return work.filter(state__in=PENDING_STATES, created_at__gte=since).order_by("-created_at", "-pk").first()


def claim(work: QuerySet[W], pk: int) -> W | None:
    """The queued row ``pk`` of ``work``, locked until the transaction ends; None when it is gone or already taken.

    A task's body calls it inside ``transaction.atomic()`` and then ``start``: two workers given the same task
    cannot both run it.
    """
    return work.select_for_update().filter(pk=pk, state=TaskState.QUEUED).first()
