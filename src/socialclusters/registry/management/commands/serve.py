"""``socialclusters serve``: the web server and, beside it, the worker that runs queued tasks.

Long work (a member selection, …) is queued in the database and run by django-tasks' ``db_worker``. A person
who starts the site with one command expects that work to happen, so this command starts one worker process,
then Django's development server in the foreground, and stops the worker when the server stops.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.utils import autoreload


class Command(BaseCommand):
    help = "Serve the site (Django's development server) with a task worker beside it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000",
                            help="address and port to listen on (default 127.0.0.1:8000)")
        parser.add_argument("--no-worker", action="store_true",
                            help="do not start a task worker (queued work then waits for one)")
        parser.add_argument("--noreload", action="store_true", help="do not restart the server when code changes")

    def handle(self, *args: Any, **options: Any) -> None:
        worker = None
        # With the auto-reloader the command runs again in a child process (marked in its environment):
        # one worker is enough.
        wants_worker = (not options["no_worker"] and os.environ.get(autoreload.DJANGO_AUTORELOAD_ENV) != "true"
                        and settings.TASKS["default"]["BACKEND"] == settings.TASK_BACKENDS["database"])
        if wants_worker:
            worker = subprocess.Popen(
                [sys.executable, "-m", "socialclusters.cli", "db_worker", "--no-startup-delay", "--no-reload"])
            self.stdout.write(f"Task worker started (process {worker.pid}).")
            # Stopped by a service manager (SIGTERM) as by Ctrl-C: leave through `finally`, taking the worker along.
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            call_command("runserver", options["addrport"], use_reloader=not options["noreload"])
        finally:
            if worker is not None:
                worker.terminate()
                try:
                    worker.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    worker.kill()
