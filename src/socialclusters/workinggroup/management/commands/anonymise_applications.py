"""``socialclusters anonymise-applications [--dry-run]``: apply each call's retention period."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from socialclusters.workinggroup import services


class Command(BaseCommand):
    help = ("Anonymise the applications not selected whose call's retention period (days after the decision) has "
            "passed: name, email, organisation, motivation, gender, languages and CV are removed; counts stay.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="list what is due without changing anything")

    def handle(self, *args: Any, **options: Any) -> None:
        due = services.anonymise_expired(dry_run=options["dry_run"])
        verb = "would be anonymised" if options["dry_run"] else "anonymised"
        self.stdout.write(f"{len(due)} application(s) {verb}.")
        for application in due:
            self.stdout.write(f"  application {application.pk} (call '{application.call.slug}')")
