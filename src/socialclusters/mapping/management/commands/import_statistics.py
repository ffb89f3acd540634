"""``socialclusters import-statistics PATH --format eurostat-tsv|sdmx-csv --dataset CODE``: regional statistics."""

from __future__ import annotations

import argparse
import textwrap
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from socialclusters.errors import SocialClustersError
from socialclusters.mapping.models import Measure
from socialclusters.mapping.services import (
    DATASET_MEASURES,
    DEFAULT_CHUNK_ROWS,
    FILE_FORMATS,
    StatisticsReport,
    import_statistics,
)
from socialclusters.registry.management.commands.import_organisations import ProgressBar, write_error_report

# Skipped geo codes printed on the terminal; the report file lists them all.
SHOWN_SKIPPED_CODES = 10


class Command(BaseCommand):
    help = (
        "Import a Eurostat regional statistics file (TSV or SDMX-CSV) into the regional statistics of NUTS 2021 "
        "regions, in one transaction. Geo codes that are not regions (extra-regio, aggregates, unknown) are "
        "reported with their reason. Re-importing the same dataset version changes only what differs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
        parser.description = textwrap.fill(self.help)
        parser.epilog = (
            "report: rows = imported + updated + unchanged + skipped; skipped_codes lists each geo code left\n"
            "out with its kind, reason and number of rows. A malformed file stops the import with a message\n"
            "naming the line (exit 1) and nothing is written.\n\n"
            "examples:\n"
            "  socialclusters import-statistics nama_10r_3empers.tsv.gz --format eurostat-tsv"
            " --dataset nama_10r_3empers --report empers.json\n"
            "  socialclusters import-statistics extract.csv --format sdmx-csv --dataset sbs_r_nuts06_r2"
            " --measure enterprises --dry-run"
        )
        parser.add_argument("path", metavar="PATH", help="the .tsv, .csv or gzip-compressed file")
        parser.add_argument("--format", required=True, choices=FILE_FORMATS, dest="file_format",
                            help="Eurostat TSV (bulk download) or SDMX-CSV")
        parser.add_argument("--dataset", required=True, metavar="CODE",
                            help="the Eurostat dataset code, which names the source (e.g. nama_10r_3empers)")
        parser.add_argument("--measure", choices=Measure.values,
                            help="the measure of the figures (default: from the dataset code, known for "
                                 f"{', '.join(sorted(DATASET_MEASURES))})")
        parser.add_argument("--source-version", dest="source_version", metavar="VERSION",
                            help="the source version (default: the file's modification date)")
        parser.add_argument("--report", metavar="REPORT.json", help="write the JSON report to this file")
        parser.add_argument("--dry-run", action="store_true",
                            help="run everything, write nothing, and still produce the report")
        parser.add_argument("--chunk-rows", type=int, default=DEFAULT_CHUNK_ROWS, metavar="N",
                            help=f"series lines read at a time (default {DEFAULT_CHUNK_ROWS:,})")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar on standard error")

    def handle(self, *args: Any, **options: Any) -> None:
        progress = ProgressBar(not options["no_progress"] and options["verbosity"] > 0, "Importing")
        try:
            report = import_statistics(
                options["path"], file_format=options["file_format"], dataset=options["dataset"],
                measure=options["measure"], version=options["source_version"], dry_run=options["dry_run"],
                chunk_rows=options["chunk_rows"], progress=progress,
            )
        except SocialClustersError as exc:
            write_error_report(options["report"], exc, source=options["path"], mapping=options["dataset"])
            raise CommandError(f"{exc}. Nothing was written.") from None
        finally:
            progress.close()
        if options["report"]:
            report.write_json(options["report"])
        self._print(report)

    def _print(self, report: StatisticsReport) -> None:
        write = self.stdout.write
        write(
            f"{report.source_name} {report.source_version}: {report.rows:,} observations: {report.imported:,}"
            f" imported, {report.updated:,} updated, {report.unchanged:,} unchanged, {report.skipped:,} skipped;"
            f" {report.missing_values:,} without a value"
        )
        codes = report.as_dict()["skipped_codes"]
        for entry in codes[:SHOWN_SKIPPED_CODES]:
            write(f"  skipped: {entry['code']} ({entry['kind']}, {entry['rows']:,} rows): {entry['reason']}",
                  self.style.WARNING)
        if len(codes) > SHOWN_SKIPPED_CODES:
            write(f"  ... and {len(codes) - SHOWN_SKIPPED_CODES:,} more skipped codes (see --report)")
        if report.committed:
            write(self.style.SUCCESS(f"Committed in {report.seconds:.1f} s (import run #{report.import_run})."))
        elif report.dry_run:
            write(self.style.NOTICE(f"Dry run in {report.seconds:.1f} s: nothing was written."))
