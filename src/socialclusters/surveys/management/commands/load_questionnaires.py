"""``socialclusters load-questionnaires``: load the question bank and the ready questionnaires."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from socialclusters.errors import SocialClustersError
from socialclusters.surveys.services import QUESTIONNAIRE_DIR, load_questionnaires


class Command(BaseCommand):
    help = (
        "Load the question bank (bank.toml) and the ready questionnaires (every other .toml file) from the "
        "questionnaire folder. A questionnaire whose file changed gets a new published version; answers already "
        "given keep theirs. Running it again on the same files changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--directory", metavar="DIR", default=str(QUESTIONNAIRE_DIR),
                            help="folder holding bank.toml and the questionnaire files (default: the shipped ones)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = load_questionnaires(directory=Path(options["directory"]))
        except SocialClustersError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"bank: {report.bank_created} questions created, {report.bank_updated} checked")
        for label, items in (("new questionnaires", report.questionnaires_created),
                             ("new versions", report.versions_created), ("unchanged", report.unchanged)):
            if items:
                self.stdout.write(f"{label}: {', '.join(items)}")
