"""Background work of the working group (django-tasks).

The selection of members can take up to its time limit (20 s by default, 120 s at most) plus the
explanations, too long for a web request: the selection page queues it here and follows its state.
Which backend runs it is the ``TASKS`` setting's choice: without one, django-tasks' immediate backend runs
it at once, inside the request (what the tests use); with a database backend, a worker process
(``django-tasks``' ``db_worker`` command) runs it.
"""

from __future__ import annotations

from django_tasks import task


@task()
def run_selection(run_id: int) -> str | None:
    """Compute the queued selection run ``run_id``; returns its final state (None: nothing to do)."""
    from socialclusters.workinggroup import services  # services queue this task: imported when it runs

    run = services.execute_selection(run_id)
    return run.state if run is not None else None
