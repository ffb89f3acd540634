"""``socialclusters detect-concentrations``: propose candidate territorial clusters for review."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from socialclusters.errors import ValidationError
from socialclusters.mapping.services import detect_concentrations


class Command(BaseCommand):
    help = (
        "Look for concentrations of social economy organisations (DBSCAN on their coordinates) and hot spots "
        "of NUTS 3 regions (Getis-Ord Gi*), and list them as candidates for the secretariat's review at "
        "/map/candidates/. Proposals awaiting review are replaced; reviewed ones are kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--eps-km", type=float, default=5.0,
                            help="neighbourhood radius in kilometres for the density search (default 5)")
        parser.add_argument("--min-organisations", type=int, default=10,
                            help="organisations needed within the radius to form a concentration (default 10)")
        parser.add_argument("--alpha", type=float, default=0.05,
                            help="significance level of the hot spots, after Benjamini-Hochberg (default 0.05)")
        parser.add_argument("--dry-run", action="store_true", help="report what would be proposed; write nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = detect_concentrations(eps_km=options["eps_km"], min_organisations=options["min_organisations"],
                                           alpha=options["alpha"], dry_run=options["dry_run"])
        except ValidationError as exc:
            raise CommandError(f"--{(exc.field or '').replace('_', '-')}: {exc.message}. Nothing was written.") from exc
        prefix = "Dry run, nothing written: " if options["dry_run"] else ""
        self.stdout.write(prefix + report.summary())
