"""``socialclusters remind-profiles [--days N]``: remind managers of cooperation profiles about to expire."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from socialclusters.cooperation import services
from socialclusters.errors import ValidationError


class Command(BaseCommand):
    help = ("Email and inbox a reminder to the managers of every published cooperation profile that expires within "
            "the next days, once per expiry date (run it daily).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=services.REMINDER_DAYS,
                            help=f"remind this many days ahead (default {services.REMINDER_DAYS})")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            reminded = services.remind_expiring_profiles(days=options["days"])
        except ValidationError as exc:
            raise CommandError(f"--{exc.field}: {exc.message}") from exc
        self.stdout.write(f"{len(reminded)} profile(s) reminded.")
        for profile in reminded:
            self.stdout.write(f"  profile {profile.pk} expires on {profile.expires_on}: {profile.title}")
