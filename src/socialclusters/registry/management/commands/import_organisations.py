"""``socialclusters import-organisations PATH --mapping NAME_OR_FILE``: import organisations from a file."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from socialclusters.errors import SocialClustersError
from socialclusters.registry.imports import DEFAULT_CHUNK_ROWS, ImportReport, available_mappings, import_organisations

# Rejected rows printed on the terminal; the report file lists them all.
SHOWN_REJECTED_ROWS = 10


def print_report(command: BaseCommand, report: ImportReport) -> None:
    """The summary both import commands print (stdout)."""
    write = command.stdout.write
    source = f"{report.source_name} {report.source_version}".strip()
    write(
        f"{source}: {report.rows:,} rows: {report.imported:,} imported, {report.updated:,} updated, "
        f"{report.unchanged:,} unchanged, {report.rejected:,} rejected; {report.flagged:,} flagged"
    )
    if report.placement:
        placed = {method: count for method, count in report.placement.items() if method not in ("unplaced",
                                                                                                  "no_region")}
        write(f"placed: {', '.join(f'{m} {c:,}' for m, c in sorted(placed.items())) or 'none'}; "
              f"not placed: {report.placement.get('unplaced', report.placement.get('no_region', 0)):,}")
    for label, counts in (("repairs", report.repairs), ("flags", report.flags)):
        if counts:
            write(f"{label}: {', '.join(f'{code} {count:,}' for code, count in sorted(counts.items()))}")
    if report.duplicate_candidates:
        write(f"likely duplicates proposed for review: {report.duplicate_candidates:,}")
    for row in sorted(report.rejected_rows, key=lambda r: r.line)[:SHOWN_REJECTED_ROWS]:
        write(f"  rejected: line {row.line}, field {row.field!r}: {row.reason}", command.style.WARNING)
    if report.rejected > SHOWN_REJECTED_ROWS:
        write(f"  ... and {report.rejected - SHOWN_REJECTED_ROWS:,} more rejected rows (see --report)")
    if report.committed:
        write(command.style.SUCCESS(f"Committed in {report.seconds:.1f} s (import run #{report.import_run})."))
    elif report.dry_run:
        write(command.style.NOTICE(f"Dry run in {report.seconds:.1f} s: nothing was written."))


def write_error_report(path: str | None, error: SocialClustersError, *, source: str, mapping: str) -> None:
    if path:
        Path(path).write_text(json.dumps({
            "file": {"path": source}, "mapping": mapping, "committed": False, "error": str(error),
            "line": error.line, "field": error.field,
        }, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


class ProgressBar:
    """A tqdm bar on standard error, fed with (rows done, rows estimated)."""

    def __init__(self, enabled: bool, description: str) -> None:
        self.bar = tqdm(total=None, unit=" rows", unit_scale=True, desc=description, file=sys.stderr,
                        disable=not enabled, leave=False)

    def __call__(self, done: int, estimate: int | None) -> None:
        if estimate and estimate != self.bar.total:
            self.bar.total = max(estimate, done)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        self.bar.close()


class Command(BaseCommand):
    help = (
        "Import organisations from a CSV, XLSX or JSON file following a mapping (TOML): normalise them, place "
        "them in NUTS 3 regions, and write them in one transaction. Re-importing the same dataset updates records "
        "instead of duplicating them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
        parser.description = textwrap.fill(self.help)
        parser.epilog = (
            "report: rows = imported + updated + unchanged + rejected; rejected rows are listed with their line,\n"
            "field and reason. Without --strict the accepted rows are committed; with it, any rejected row\n"
            "means nothing is written. A file that is not a table stops the import with a message (exit 1).\n\n"
            "examples:\n"
            "  socialclusters import-organisations ../shared/data/organisations/dotcoop-active-domains-2019-10-03.csv"
            " --mapping dotcoop --report dotcoop.json\n"
            "  socialclusters import-organisations extract.csv --mapping co-ops-uk --dry-run"
        )
        parser.add_argument("path", metavar="PATH", help="the CSV, XLSX, JSON or JSON Lines file")
        parser.add_argument(
            "--mapping", required=True, metavar="NAME_OR_FILE",
            help=f"a shipped mapping ({', '.join(available_mappings())}) or the path of a TOML mapping file",
        )
        parser.add_argument("--report", metavar="REPORT.json", help="write the JSON report to this file")
        parser.add_argument("--dry-run", action="store_true",
                            help="run everything, write nothing, and still produce the report")
        parser.add_argument("--strict", action="store_true",
                            help="write nothing if any row is rejected (default: commit the accepted rows)")
        parser.add_argument("--encoding", metavar="ENC",
                            help="the file's text encoding (default: detected, e.g. utf-8 or cp1252)")
        parser.add_argument("--chunk-rows", type=int, default=DEFAULT_CHUNK_ROWS, metavar="N",
                            help=f"rows read and written at a time (default {DEFAULT_CHUNK_ROWS:,})")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar on standard error")

    def handle(self, *args: Any, **options: Any) -> None:
        progress = ProgressBar(not options["no_progress"] and options["verbosity"] > 0, "Importing")
        try:
            report = import_organisations(
                options["path"], mapping=options["mapping"], dry_run=options["dry_run"], strict=options["strict"],
                encoding=options["encoding"], chunk_rows=options["chunk_rows"], progress=progress,
            )
        except SocialClustersError as exc:
            write_error_report(options["report"], exc, source=options["path"], mapping=options["mapping"])
            raise CommandError(f"{exc}\nNothing was written.") from None
        finally:
            progress.close()
        if options["report"]:
            report.write_json(options["report"])
        print_report(self, report)
        if options["strict"] and report.rejected and not report.committed:
            raise CommandError(f"{report.rejected:,} rows rejected and --strict given: nothing was written.")
