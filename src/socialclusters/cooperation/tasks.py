"""Background work of cooperation (django-tasks).

Building an event's meeting schedule solves a mixed-integer program for up to a minute, too long for a web
request: the organiser's click queues it here and the event's pages follow its state. Which backend runs it is the
``TASKS`` setting's choice: the immediate backend runs it at once, inside the request (what the tests use); the
database backend leaves it to a worker process (``socialclusters db_worker``, started by ``socialclusters serve``).
"""

from __future__ import annotations

from django_tasks import task


@task()
def build_schedule(build_id: int) -> str | None:
    """Build the schedule of the queued build ``build_id``; returns its final state (None: nothing to do)."""
    from socialclusters.cooperation import events  # events queue this task: imported when it runs

    build = events.execute_build(build_id)
    return build.state if build is not None else None
