"""``socialclusters import-clusters PATH``: import social economy clusters from a file."""

from __future__ import annotations

import argparse
import textwrap
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from socialclusters.errors import SocialClustersError
from socialclusters.registry.imports import available_mappings, import_clusters
from socialclusters.registry.management.commands.import_organisations import print_report, write_error_report


class Command(BaseCommand):
    help = (
        "Import clusters (published, each with the source page and quote that vouch for it) from a CSV, XLSX or "
        "JSON file following a mapping; the default mapping reads known-se-clusters.csv. Re-importing updates "
        "clusters instead of duplicating them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
        parser.description = textwrap.fill(self.help)
        parser.epilog = (
            "examples:\n"
            "  socialclusters import-clusters ../shared/data/clusters/known-se-clusters.csv\n"
            "  socialclusters import-clusters clusters.csv --mapping my-clusters.toml --dry-run"
        )
        parser.add_argument("path", metavar="PATH", help="the CSV, XLSX, JSON or JSON Lines file")
        parser.add_argument(
            "--mapping", default="known-se-clusters", metavar="NAME_OR_FILE",
            help=f"a shipped mapping ({', '.join(available_mappings())}) or a TOML file (default: known-se-clusters)",
        )
        parser.add_argument("--report", metavar="REPORT.json", help="write the JSON report to this file")
        parser.add_argument("--dry-run", action="store_true",
                            help="run everything, write nothing, and still produce the report")
        parser.add_argument("--strict", action="store_true", help="write nothing if any row is rejected")
        parser.add_argument("--encoding", metavar="ENC", help="the file's text encoding (default: detected)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = import_clusters(options["path"], mapping=options["mapping"], dry_run=options["dry_run"],
                                     strict=options["strict"], encoding=options["encoding"])
        except SocialClustersError as exc:
            write_error_report(options["report"], exc, source=options["path"], mapping=options["mapping"])
            raise CommandError(f"{exc}\nNothing was written.") from None
        if options["report"]:
            report.write_json(options["report"])
        print_report(self, report)
        if options["strict"] and report.rejected and not report.committed:
            raise CommandError(f"{report.rejected:,} rows rejected and --strict given: nothing was written.")
