"""``socialclusters fetch-statistics CODE``: download a Eurostat dataset (or read it from a mirror) and import it."""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from tqdm import tqdm

from socialclusters.errors import SocialClustersError
from socialclusters.mapping.management.commands.import_statistics import Command as ImportStatisticsCommand
from socialclusters.mapping.models import Measure
from socialclusters.mapping.services import (
    DATASET_MEASURES,
    DEFAULT_FETCH_FORMAT,
    FETCH_FORMATS,
    fetch_statistics,
    parse_filters,
)
from socialclusters.registry.management.commands.import_organisations import ProgressBar, write_error_report


class DownloadBar:
    """A tqdm bar in bytes on standard error, fed with (bytes done, bytes expected)."""

    def __init__(self, enabled: bool) -> None:
        self.bar = tqdm(total=None, unit="B", unit_scale=True, unit_divisor=1024, desc="Downloading",
                        file=sys.stderr, disable=not enabled, leave=False)

    def __call__(self, done: int, total: int | None) -> None:
        if total and total != self.bar.total:
            self.bar.total = total
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        self.bar.close()


class LazyBar:
    """A progress bar drawn from its first update only, so an early error leaves no empty bar behind;
    ``before`` runs just before it is drawn (to close the download bar when the import starts)."""

    def __init__(self, make: Callable[[], DownloadBar | ProgressBar], before: Callable[[], None] | None = None) -> None:
        self.make, self.before = make, before
        self.bar: DownloadBar | ProgressBar | None = None

    def __call__(self, done: int, total: int | None) -> None:
        if self.bar is None:
            if self.before is not None:
                self.before()
            self.bar = self.make()
        self.bar(done, total)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class Command(ImportStatisticsCommand):
    # Inherits the import's summary (_print); the arguments and the work are its own.
    help = (
        "Download a Eurostat dataset from Eurostat's dissemination API (SDMX 2.1), or read it from the local "
        "mirror folder when that holds it, and import it into the regional statistics in one transaction, "
        "exactly as import-statistics does."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
        parser.description = textwrap.fill(self.help)
        parser.epilog = (
            "where it reads from:\n"
            "  the folder SOCIALCLUSTERS_EUROSTAT_MIRROR, when it holds CODE.tsv[.gz], CODE.csv[.gz] or\n"
            "  sdmx/2.1/data/CODE.tsv[.gz] (also in upper case); else\n"
            "  SOCIALCLUSTERS_EUROSTAT_API_URL/sdmx/2.1/data/CODE/KEY?format=TSV&compressed=true&startPeriod=YEAR,\n"
            "  where KEY is built from --filter in the order of the dataset's dimensions (read from\n"
            "  .../sdmx/2.1/datastructure/ESTAT/CODE). Filters are applied again while reading.\n\n"
            "report: as import-statistics, plus \"fetch\": where the file came from, the filters and the bytes\n"
            "downloaded. A download error names the URL and says what to do (exit 1); nothing is written.\n\n"
            "examples:\n"
            "  socialclusters fetch-statistics nama_10r_3empers --filter unit=THS_PER --filter wstatus=EMP\n"
            "  socialclusters fetch-statistics nama_10r_3empers --filter geo=FR101,DE300 --since 2015 --dry-run\n"
            "  socialclusters fetch-statistics sbs_r_nuts06_r2 --measure enterprises --format sdmx-csv"
        )
        parser.add_argument("code", metavar="CODE", help="the Eurostat dataset code (e.g. nama_10r_3empers)")
        parser.add_argument("--filter", action="append", default=[], dest="filters", metavar="DIM=CODE[,CODE...]",
                            help="keep only these codes of one dimension (repeat for several dimensions), "
                                 "e.g. geo=FR101,DE300 or nace_r2=C")
        parser.add_argument("--since", type=int, metavar="YEAR", help="keep only the years from YEAR on")
        parser.add_argument("--format", choices=list(FETCH_FORMATS), dest="file_format",
                            help=f"what to ask the API for (default {DEFAULT_FETCH_FORMAT}; for the mirror, "
                                 "whichever file it holds)")
        parser.add_argument("--measure", choices=Measure.values,
                            help="the measure of the figures (default: from the dataset code, known for "
                                 f"{', '.join(sorted(DATASET_MEASURES))})")
        parser.add_argument("--source-version", dest="source_version", metavar="VERSION",
                            help="the source version (default: today for a download, the file's date for a "
                                 "mirror file)")
        parser.add_argument("--report", metavar="REPORT.json", help="write the JSON report to this file")
        parser.add_argument("--dry-run", action="store_true",
                            help="download and check everything, write nothing, and still produce the report")
        parser.add_argument("--no-progress", action="store_true", help="no progress bars on standard error")

    def handle(self, *args: Any, **options: Any) -> None:
        show = not options["no_progress"] and options["verbosity"] > 0
        download = LazyBar(lambda: DownloadBar(show))
        rows = LazyBar(lambda: ProgressBar(show, "Importing"), before=download.close)
        try:
            report = fetch_statistics(
                options["code"], filters=parse_filters(options["filters"]), since=options["since"],
                file_format=options["file_format"], measure=options["measure"], version=options["source_version"],
                dry_run=options["dry_run"], download_progress=download, progress=rows,
            )
        except SocialClustersError as exc:
            write_error_report(options["report"], exc, source=settings.EUROSTAT_API_URL, mapping=options["code"])
            raise CommandError(f"{exc}. Nothing was written.") from None
        finally:
            download.close()
            rows.close()
        if options["report"]:
            report.write_json(options["report"])
        origin = report.origin or {}
        if origin.get("from") == "mirror":
            self.stdout.write(f"Read {origin['location']} from the mirror folder.")
        else:
            self.stdout.write(f"Downloaded {origin.get('bytes', 0):,} bytes from {origin.get('location')}.")
        self._print(report)
