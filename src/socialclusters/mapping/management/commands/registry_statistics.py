"""``socialclusters registry-statistics``: store the registry's own counts as regional statistics."""

from __future__ import annotations

import argparse
import textwrap
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from socialclusters.errors import SocialClustersError
from socialclusters.mapping.services import store_registry_statistics


class Command(BaseCommand):
    help = (
        "Store the registry's counts (organisations, social economy organisations by family, clusters, cluster "
        "members) for every NUTS region of levels 0 to 3, in total and by NACE section, as regional statistics "
        "of the source \"socialclusters registry\", in one transaction. Re-running the same version changes "
        "only what differs."
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # --version names the snapshot here; it replaces Django's "show the Django version" option, which
        # `socialclusters --version` still offers.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
        parser.description = textwrap.fill(self.help)
        parser.epilog = (
            "measures: organisations, se_entities (unit COUNT, and COUNT;family=cooperative... per family),\n"
            "clusters, cluster_members (COUNT, and COUNT;family=social_economy); activity code TOTAL, and the\n"
            "NACE section (A...U) for the organisation measures.\n\n"
            "report: rows = imported + updated + unchanged; removed counts rows of the same version that the\n"
            "registry no longer gives.\n\n"
            "examples:\n"
            "  socialclusters registry-statistics\n"
            "  socialclusters registry-statistics --version 2026-Q4 --year 2026 --dry-run"
        )
        parser.add_argument("--version", dest="source_version", metavar="VERSION",
                            help="the snapshot's version (default: today's date)")
        parser.add_argument("--year", type=int, help="the year of the figures (default: the year the version "
                                                     "starts with, else this year)")
        parser.add_argument("--level", type=int, choices=[0, 1, 2, 3], default=3,
                            help="the deepest NUTS level to store (default 3: levels 0 to 3)")
        parser.add_argument("--no-sections", action="store_true", help="store the totals only, not by NACE section")
        parser.add_argument("--report", metavar="REPORT.json", help="write the JSON report to this file")
        parser.add_argument("--dry-run", action="store_true", help="count everything, write nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = store_registry_statistics(
                level=options["level"], by_section=not options["no_sections"], version=options["source_version"],
                year=options["year"], dry_run=options["dry_run"],
            )
        except SocialClustersError as exc:
            raise CommandError(f"{exc}. Nothing was written.") from None
        if options["report"]:
            report.write_json(options["report"])
        write = self.stdout.write
        write(f"socialclusters registry {report.version} (year {report.year}): {report.rows:,} figures for "
              f"{report.regions:,} regions: {report.imported:,} imported, {report.updated:,} updated, "
              f"{report.unchanged:,} unchanged, {report.removed:,} removed")
        for measure, count in sorted(report.measures.items()):
            write(f"  {measure}: {count:,}")
        for entry in report.as_dict()["skipped_codes"]:
            write(f"  skipped: {entry['code']} ({entry['rows']:,} figures): not a NUTS region", self.style.WARNING)
        if report.committed:
            write(self.style.SUCCESS(f"Committed in {report.seconds:.1f} s (import run #{report.import_run})."))
        elif report.dry_run:
            write(self.style.NOTICE(f"Dry run in {report.seconds:.1f} s: nothing was written."))
