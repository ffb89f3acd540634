"""``socialclusters demo [--reset]``: a local demo database built from the real shared data.

Migrates, loads the reference data, imports the real organisations (the .coop register and the
Co-operatives UK sample) and the real clusters from ``settings.SHARED_DATA_DIR``, links some real
organisations to real clusters of the same country with *illustrative* memberships (``is_illustrative``:
the sources do not list members), and creates four demo accounts. A second run finds everything in place
and changes nothing: files whose SHA-256 matches the last committed import are not imported again.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from tqdm import tqdm

from socialclusters.errors import SocialClustersError
from socialclusters.registry.imports import ImportReport, file_sha256, last_committed_run
from socialclusters.registry.management.commands.import_organisations import ProgressBar

DEMO_PASSWORD = "demo-password"  # noqa: S105 - printed on purpose: local demo accounts only
# (file name pattern in SHARED_DATA_DIR/organisations, mapping); the newest matching file is imported.
ORGANISATION_FILES = (("dotcoop-*.csv", "dotcoop"), ("co-ops-uk-*.csv", "co-ops-uk"))
CLUSTER_FILE = ("known-se-clusters.csv", "known-se-clusters")
# Illustrative members per cluster: between these, seeded by the cluster's name and country.
MEMBERS_PER_CLUSTER = (3, 8)
SEED = "socialclusters-demo"


class Command(BaseCommand):
    help = (
        "Build the local demo: migrate, load reference data, import the real organisations and clusters from "
        "the shared data folder, add illustrative memberships and demo accounts (password demo-password). "
        "Running it again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--reset", action="store_true",
                            help="empty the database first (every table, demo accounts included)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bars on standard error")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        self.show_progress = not options["no_progress"] and options["verbosity"] > 0
        shared = settings.SHARED_DATA_DIR
        if shared is None:
            raise CommandError(
                "no shared data folder: the demo reads ../shared/data beside the checkout, or the folder named by "
                "SOCIALCLUSTERS_SHARED_DATA"
            )
        shared = Path(shared)
        if options["reset"]:
            self.stdout.write("Emptying the database ...")
            call_command("flush", interactive=False, verbosity=0)
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database schema up to date.")
        try:
            self._reference_data()
            for pattern, mapping in ORGANISATION_FILES:
                matches = sorted((shared / "organisations").glob(pattern))
                if matches:
                    self._import_once(matches[-1], mapping, clusters=False)
                else:
                    self.stdout.write(self.style.WARNING(f"No {pattern} in {shared / 'organisations'}: skipped."))
            cluster_file = shared / "clusters" / CLUSTER_FILE[0]
            if cluster_file.is_file():
                self._import_once(cluster_file, CLUSTER_FILE[1], clusters=True)
        except SocialClustersError as exc:
            raise CommandError(str(exc)) from None
        created = self._illustrative_memberships()
        self.stdout.write(f"Illustrative memberships: {created:,} created.")
        self._candidate_concentrations()
        self._questionnaires()
        accounts = self._demo_accounts()
        self._summary(accounts, time.perf_counter() - started)

    # --- steps ----------------------------------------------------------------------------------

    def _progress(self, iterable: Iterable[Any], **kwargs: Any) -> Iterable[Any]:
        return tqdm(iterable, file=sys.stderr, disable=not self.show_progress, leave=False, **kwargs)

    def _reference_data(self) -> None:
        from socialclusters.registry.models import Country, LegalForm, Region, Sector
        from socialclusters.registry.refdata import load_reference_data

        if all(model.objects.exists() for model in (Country, Region, Sector, LegalForm)):
            self.stdout.write("Reference data already loaded (`socialclusters refdata load` refreshes it).")
            return
        self.stdout.write("Loading reference data (countries, NUTS 2021, NACE Rev. 2, legal forms) ...")
        load_reference_data(progress=self._progress)

    def _candidate_concentrations(self) -> None:
        """Candidates for the secretariat's review page, found once (a second run keeps them)."""
        from socialclusters.mapping.models import CandidateConcentration
        from socialclusters.mapping.services import detect_concentrations

        if CandidateConcentration.objects.exists():
            self.stdout.write("Candidate concentrations already detected (`socialclusters detect-concentrations`).")
            return
        self.stdout.write("Candidate concentrations: " + detect_concentrations().summary() + ".")

    def _questionnaires(self) -> None:
        """The question bank and the two ready questionnaires (a second run finds them unchanged)."""
        from socialclusters.surveys.services import load_questionnaires

        report = load_questionnaires()
        created = report.questionnaires_created + report.versions_created
        self.stdout.write(f"Questionnaires: {len(created)} loaded, {len(report.unchanged)} unchanged "
                          f"(question bank: {report.bank_created} new questions).")

    def _import_once(self, path: Path, mapping: str, *, clusters: bool) -> None:
        from socialclusters.registry.imports import import_clusters, import_organisations

        last = last_committed_run(mapping)
        if last is not None and last.report.get("file", {}).get("sha256") == file_sha256(path) \
                and self._records_intact(last):
            self.stdout.write(f"{path.name}: unchanged since import run #{last.pk}, not imported again.")
            return
        self.stdout.write(f"Importing {path.name} ({mapping}) ...")
        if clusters:
            report = import_clusters(path, mapping=mapping)
        else:
            progress = ProgressBar(self.show_progress, path.name)
            try:
                report = import_organisations(path, mapping=mapping, progress=progress)
            finally:
                progress.close()
        self._report(report)

    def _records_intact(self, run: Any) -> bool:
        """Whether the records the last run vouched for are all still there (nobody emptied the tables)."""
        from socialclusters.registry.models import SourceRecord

        accepted = run.report.get("imported", 0) + run.report.get("updated", 0) + run.report.get("unchanged", 0)
        stored = SourceRecord.objects.filter(source__name=run.report.get("source", {}).get("name"),
                                             source__kind="dataset").count()
        return stored == accepted

    def _report(self, report: ImportReport) -> None:
        self.stdout.write(
            f"  {report.rows:,} rows: {report.imported:,} imported, {report.updated:,} updated, "
            f"{report.unchanged:,} unchanged, {report.rejected:,} rejected, {report.flagged:,} flagged"
            f" ({report.seconds:.1f} s)"
        )

    @transaction.atomic
    def _illustrative_memberships(self) -> int:
        """Link real organisations to real published clusters of the same country, marked illustrative."""
        from socialclusters.registry import normalise
        from socialclusters.registry.models import Cluster, Membership, Organisation, PublicationStatus

        clusters = [cluster for cluster in Cluster.objects.filter(
            publication_status=PublicationStatus.PUBLISHED, is_illustrative=False
        ).order_by("name", "id") if cluster.country_id]
        countries = {cluster.country_id for cluster in clusters}
        by_country: dict[str, list[tuple[str, str, int]]] = {}
        for pk, name, city, country in Organisation.objects.filter(
            country_id__in=countries, is_illustrative=False
        ).values_list("id", "name", "city", "country_id"):
            by_country.setdefault(country, []).append((name, normalise.fold(city), pk))
        existing = set(Membership.objects.values_list("organisation_id", "cluster_id"))
        created = 0
        for cluster in clusters:
            pool = sorted(by_country.get(cluster.country_id or "", []))
            if not pool:
                continue
            town = normalise.fold(cluster.city) if cluster.city else ""
            same_town = [entry for entry in pool if town and entry[1] == town]
            # Organisations of the cluster's town where there are enough, else of its country.
            candidates = same_town if len(same_town) >= MEMBERS_PER_CLUSTER[0] else pool
            # Seeded so that every demo database gets the same illustration; not a secret.
            rng = random.Random(f"{SEED}:{cluster.name}|{cluster.country_id}")  # noqa: S311
            count = min(len(candidates), rng.randint(*MEMBERS_PER_CLUSTER))
            for _, _, organisation_id in rng.sample(candidates, count):
                if (organisation_id, cluster.pk) in existing:
                    continue
                Membership.objects.create(organisation_id=organisation_id, cluster=cluster, is_illustrative=True)
                existing.add((organisation_id, cluster.pk))
                created += 1
        return created

    @transaction.atomic
    def _demo_accounts(self) -> list[tuple[str, str]]:
        from socialclusters.accounts.models import Role, User
        from socialclusters.registry.models import Cluster, Membership, PublicationStatus

        def account(username: str, role: str) -> User:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User.objects.create_user(username=username, email=f"{username}@demo.invalid",
                                                password=DEMO_PASSWORD, role=role)
            return user

        lines = [("secretariat", "secretariat: runs the working group, validates changes")]
        account("secretariat", Role.SECRETARIAT)
        account("member", Role.MEMBER)
        manager = account("manager", Role.CLUSTER_MANAGER)
        representative = account("representative", Role.REPRESENTATIVE)
        cluster = (Cluster.objects.filter(publication_status=PublicationStatus.PUBLISHED, is_illustrative=False,
                                          memberships__isnull=False).distinct().order_by("name", "id").first())
        if cluster is not None:
            members = list(Membership.objects.filter(cluster=cluster).select_related("organisation")
                           .order_by("organisation__name", "organisation_id"))
            manager.managed_clusters.add(cluster)
            if members:
                manager.managed_organisations.add(members[0].organisation)
            lines.append(("manager", f"cluster manager of {cluster.name!r}"
                          + (f" and of {members[0].organisation.name!r}" if members else "")))
            if len(members) > 1:
                representative.managed_organisations.add(members[1].organisation)
                lines.append(("representative", f"represents {members[1].organisation.name!r}"))
            else:
                lines.append(("representative", "organisation representative"))
        else:
            lines += [("manager", "cluster manager"), ("representative", "organisation representative")]
        lines.append(("member", "working-group member"))
        return lines

    def _summary(self, accounts: list[tuple[str, str]], seconds: float) -> None:
        from socialclusters.registry.models import Cluster, Membership, Organisation, Region

        self.stdout.write(self.style.SUCCESS(
            f"Demo ready in {seconds:.1f} s: {Organisation.objects.count():,} organisations "
            f"({Organisation.objects.exclude(region=None).count():,} placed in NUTS 3 regions), "
            f"{Cluster.objects.count():,} clusters, {Membership.objects.filter(is_illustrative=True).count():,} "
            f"illustrative memberships, {Region.objects.filter(level=3).count():,} NUTS 3 regions."
        ))
        self.stdout.write(f"Demo accounts (local demo only), password {DEMO_PASSWORD!r}:")
        for username, what in accounts:
            self.stdout.write(f"  {username:<15} {what}")
        self.stdout.write("Run `socialclusters serve` and open http://127.0.0.1:8000/")
