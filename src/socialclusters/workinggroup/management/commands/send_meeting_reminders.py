"""``socialclusters send-meeting-reminders [--within-hours 48]``: remind registered members and webinar guests."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from socialclusters.workinggroup import services


class Command(BaseCommand):
    help = ("Email a reminder to every member registered for a meeting (and to a webinar's invited guests) that "
            "starts within the given hours; each person is reminded once per meeting. Run it hourly or daily.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--within-hours", type=int, default=48,
                            help="remind about meetings starting within this many hours (48)")

    def handle(self, *args: Any, **options: Any) -> None:
        hours = options["within_hours"]
        if hours < 1:
            raise CommandError("--within-hours must be at least 1")
        sent = services.send_reminders(within=datetime.timedelta(hours=hours))
        self.stdout.write(f"{sent} reminder(s) sent.")
