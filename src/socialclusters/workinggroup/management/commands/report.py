"""``socialclusters report progress --group SLUG --format html|pdf [--as-of YYYY-MM-DD] [--out FILE]``."""

from __future__ import annotations

import datetime
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from socialclusters.workinggroup.models import Call
from socialclusters.workinggroup.reports import FORMATS, render_progress_report


class Command(BaseCommand):
    help = ("Write the working group's progress report to the plenary (membership and selection, meetings and "
            "attendance, contributions, open questions, next steps, continuation) as HTML or PDF. The same data "
            "and --as-of date give the same HTML bytes.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=["progress"], help="the report to write (progress)")
        parser.add_argument("--group", required=True, help="the address name (slug) of the group's call")
        parser.add_argument("--format", choices=FORMATS, default="html", help="html (default) or pdf")
        parser.add_argument("--as-of", default=None, help="the report's date, YYYY-MM-DD (default: today)")
        parser.add_argument("--out", type=Path, default=None, help="file to write (default: standard output)")

    def handle(self, *args: Any, **options: Any) -> None:
        call = Call.objects.filter(slug=options["group"]).first()
        if call is None:
            known = ", ".join(Call.objects.order_by("slug").values_list("slug", flat=True)) or "none"
            raise CommandError(f"--group: no group '{options['group']}' (known: {known})")
        try:
            as_of = datetime.date.fromisoformat(options["as_of"]) if options["as_of"] else timezone.localdate()
        except ValueError:
            raise CommandError(f"--as-of: write a date as YYYY-MM-DD, got {options['as_of']!r}") from None
        content = render_progress_report(call, as_of=as_of, fmt=options["format"])
        if options["out"] is None:
            sys.stdout.buffer.write(content)
            return
        options["out"].parent.mkdir(parents=True, exist_ok=True)
        options["out"].write_bytes(content)
        self.stderr.write(f"Progress report of '{call.slug}' as of {as_of.isoformat()} written to {options['out']} "
                          f"({len(content):,} bytes).")
