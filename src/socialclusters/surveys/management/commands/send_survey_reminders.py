"""``socialclusters send-survey-reminders``: remind invitees who have not answered; close overdue surveys."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from socialclusters.surveys.services import MAX_REMINDERS, REMINDER_INTERVAL, send_reminders


class Command(BaseCommand):
    help = (
        f"Email a reminder to every invitee of an open survey who has not sent answers, at most every "
        f"{REMINDER_INTERVAL.days} days and {MAX_REMINDERS} times; close the surveys whose deadline has passed. "
        "Run it once a day (for example from cron)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = send_reminders()
        self.stdout.write(f"reminders sent: {report.reminded}")
        if report.closed:
            self.stdout.write(f"surveys closed at their deadline: {', '.join(report.closed)}")
