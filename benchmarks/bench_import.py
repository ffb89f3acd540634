"""Import benchmark: our organisation import against django-import-export, in the same run.

    .venv/bin/python benchmarks/bench_import.py [--rows 1000000] [--compare-rows 200000]

1. Generates ``--rows`` organisations in the layout of the .coop register (seeded, realistic: EU
   countries, coordinates around real NUTS 3 label points, and the register's kinds of mess: lower-case
   and alpha-3 country codes, postcodes without their leading zeros, '?' for lost characters, HTML
   entities, low geocoding confidence, missing or impossible coordinates, repeated ids, unknown countries;
   and, as in the register, values holding a comma, which the CSV quotes, on about a quarter of the lines).
2. Builds one SQLite database with the reference data (migrate + ``load_reference_data``) and copies it
   for each measurement, so every side starts from the same fresh database.
3. Runs, each in its own process so that peak memory (``ru_maxrss``) belongs to one side only:
   our import of all the rows; our import of the first ``--compare-rows`` rows; and django-import-export
   importing the same first ``--compare-rows`` rows into the same ``Organisation`` model
   (``ModelResource`` with ``use_bulk``, ``batch_size=1000``, ``force_init_instance``, ``skip_diff`` and
   ``skip_unchanged=False``: its documented fast path for new rows). django-import-export is compared on
   the subset because it needs minutes per hundred thousand rows here.
4. Writes ``benchmarks/results/import.json`` and prints a summary.

Wall time is end to end: reading the file, normalising, placing every organisation in a NUTS 3 region,
writing organisations and source records, checking their references, and committing (which on SQLite
includes copying the write-ahead log into the database file). Our import normalises large files in forked
worker processes, one per CPU (which, on a first import into SQLite, also pack each chunk into an in-memory
SQLite database that the importing process copies with ``INSERT … SELECT``): their CPU time is reported
beside the importing process's. Peak memory is sampled every 250 ms as the sum of the proportional set sizes
of the importing process and its workers (a page the workers share with their parent counts once); the sum
of each process's own peak resident size is reported beside it as an upper bound. The load average at the
end of each side is recorded too: on a shared machine the wall time depends on it. Our side does more work
per row than django-import-export (normalisation, placement, search text, provenance), so the ratio is
conservative.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import suppress
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHECKOUT = HERE.parent
RESULTS = HERE / "results" / "import.json"
HEADER = ["Row", "Roid", "Domain", "Registrar", "RegistrantId", "CreationDate", "Name", "Street", "Street number",
          "Street Name", "City", "City 2", "State", "State 2", "Country", "Country 2", "PostCode", "Zip", "Latitude",
          "Longitude", "Relevance", "", ""]
# Fixed-length numeric postcodes of the countries drawn, to write them the way the register does.
POSTCODE_DIGITS = {"AT": 4, "BE": 4, "DE": 5, "DK": 4, "ES": 5, "FI": 5, "FR": 5, "IT": 5, "SE": 5, "NL": 4,
                   "PT": 4, "IE": 0, "PL": 5, "CZ": 5, "GR": 5, "HU": 4, "RO": 6, "BG": 4, "SI": 4, "HR": 5,
                   "SK": 5, "LU": 4, "LT": 5, "LV": 4, "EE": 5, "CY": 4, "MT": 0}
ALPHA3 = {"AT": "AUT", "BE": "BEL", "DE": "DEU", "DK": "DNK", "ES": "ESP", "FI": "FIN", "FR": "FRA", "IT": "ITA",
          "SE": "SWE", "NL": "NLD", "PT": "PRT", "IE": "IRL", "PL": "POL", "CZ": "CZE", "GR": "GRC", "HU": "HUN",
          "RO": "ROU", "BG": "BGR", "SI": "SVN", "HR": "HRV", "SK": "SVK", "LU": "LUX", "LT": "LTU", "LV": "LVA",
          "EE": "EST", "CY": "CYP", "MT": "MLT"}
WORDS = ["Cooperativa", "Coopérative", "Genossenschaft", "Cooperatieve", "Osuuskunta", "Spółdzielnia", "Andelsforening",
         "Agricola", "Sociale", "Energie", "Bürger", "Solidaire", "Habitat", "Lavoro", "Vinicole", "Crédit", "Mutual",
         "Ökologische", "Consumo", "Trabajo", "Artesanos", "Pêcheurs", "Servizi", "Zukunft"]
LEGAL_SUFFIXES = ["S.C.C.L.", "eG", "Ltd", "S. Coop.", "SCRL", "soc. coop."]
STREETS = ["Hauptstraße", "Rue de la République", "Via Roma", "Calle Mayor", "Kerkstraat", "Rua Direita",
           "Storgatan", "Ulica Długa", "Piazza Garibaldi", "Avenue Jean Jaurès"]


def nuts3_points() -> list[tuple[str, float, float, str]]:
    """(country ISO code, longitude, latitude, name) of every NUTS 3 label point in the shared mirror."""
    shared = Path(os.environ.get("SOCIALCLUSTERS_SHARED_DATA", CHECKOUT.parent / "shared" / "data"))
    path = shared / "gisco" / "nuts" / "geojson" / "NUTS_LB_2021_4326_LEVL_3.geojson"
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    iso = {"EL": "GR", "UK": "GB"}
    points = []
    for feature in features:
        country = iso.get(feature["properties"]["CNTR_CODE"], feature["properties"]["CNTR_CODE"])
        if country in ALPHA3:
            lon, lat = feature["geometry"]["coordinates"]
            points.append((country, lon, lat, feature["properties"]["NAME_LATN"]))
    return points


def generate(path: Path, rows: int, seed: int = 20191003) -> None:
    """Write ``rows`` organisations in the .coop register's layout (see the module docstring)."""
    rng = random.Random(seed)
    points = nuts3_points()
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for number in range(1, rows + 1):
            country, lon, lat, place = points[rng.randrange(len(points))]
            city = place.split("/")[0].split(",")[0][:60]
            name = f"{rng.choice(WORDS)} {rng.choice(WORDS)} {number}"
            street_name = rng.choice(STREETS)
            house = str(rng.randint(1, 250))
            street = f"{street_name} {house}"
            # As in the register, where 28% of the lines quote a value: the house number after a comma in a
            # fifth of the streets, a legal form after a comma in some names.
            if rng.random() < 0.21:
                street = f"{street_name}, {house}"
            if rng.random() < 0.07:
                name = f"{name}, {rng.choice(LEGAL_SUFFIXES)}"
            digits = POSTCODE_DIGITS[country]
            postcode = f"{rng.randrange(10 ** digits):0{digits}d}" if digits else "D02 X285"
            roid = f"D{70_000_000 + number}-CNIC"
            code, code3 = country, ALPHA3[country]
            latitude = f"{lat + rng.uniform(-0.05, 0.05):.5f}"
            longitude = f"{lon + rng.uniform(-0.05, 0.05):.5f}"
            relevance = f"{rng.choice([1, 1, 1, 0.98, 0.95, 0.9, 0.85, 0.7, 0.42]):g}"
            mess = rng.random()
            if mess < 0.03:
                code = code.lower()  # "us" in the register
            elif mess < 0.04:
                code = code3  # an alpha-3 code in the alpha-2 column
            elif mess < 0.10 and digits:
                postcode = str(int(postcode))  # read as a number by a spreadsheet: leading zeros lost
            elif mess < 0.12 and any(ch in street for ch in "ßéèüöłô"):
                street = "".join("?" if ch in "ßéèüöłô" else ch for ch in street)  # lost characters
            elif mess < 0.13:
                name = name.replace(" ", " &amp; ", 1)  # HTML entity
            elif mess < 0.16:
                latitude = longitude = relevance = ""  # not geocoded
            elif mess < 0.161:
                latitude = "123.4"  # impossible latitude
            elif mess < 0.1612:
                roid = f"D{70_000_000 + max(1, number - 1)}-CNIC"  # repeated id
            elif mess < 0.1614:
                code, code3 = "XQ", ""  # unknown country
            writer.writerow([number, roid, f"coop{number}.coop", "H1", f"R{number}", "01/02/2018", name, street,
                             house, street_name, city, city, "", "", code, code3, postcode, postcode, latitude,
                             longitude, relevance, "", ""])


# --- the measured sides, each run in a subprocess -----------------------------------------------


def _django(data_dir: Path) -> None:
    os.environ["SOCIALCLUSTERS_DATA_DIR"] = str(data_dir)
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "socialclusters.config.settings"
    import django

    django.setup()


def _peak_mib() -> float:
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _workers_peak_mib() -> float:
    """Peak resident memory of the largest finished child process (the import's normalising workers)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def _cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def side_setup(data_dir: Path) -> dict:
    _django(data_dir)
    from django.core.management import call_command

    from socialclusters.registry.refdata import load_reference_data

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    load_reference_data()
    return {"seconds": time.perf_counter() - started}


def _pss_kib(pid: int | str) -> int:
    """Proportional set size of a process in KiB (its own pages, and its share of pages it shares), or 0."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return 0


def _children() -> list[str]:
    found: list[str] = []
    for task in Path("/proc/self/task").iterdir():
        with suppress(FileNotFoundError):
            found += (task / "children").read_text(encoding="ascii").split()
    return found


class MemorySampler(threading.Thread):
    """Samples, every 250 ms, the memory of this process and of its children (the import's forked workers):
    the sum of their proportional set sizes, in which a page the workers share with their parent counts
    once. Its peak is the import's real memory use; the sum of each process's own peak resident size
    (reported beside it) counts shared pages once per process and only bounds it from above. One sample
    reads the kernel's page accounting for three processes, about 5 ms of CPU: sampling more often would
    take a noticeable share of the CPUs the import is measured on."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_kib = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(0.25):
            total = _pss_kib("self") + sum(_pss_kib(pid) for pid in _children())
            self.peak_kib = max(self.peak_kib, total)

    def stop(self) -> float:
        self.stopped.set()
        self.join()
        return self.peak_kib / 1024


def side_ours(data_dir: Path, csv_path: Path) -> dict:
    _django(data_dir)
    from socialclusters.registry import imports
    from socialclusters.registry.imports import import_organisations

    baseline = _peak_mib()
    cpu_before = _cpu_seconds(resource.RUSAGE_SELF)
    sampler = MemorySampler()
    sampler.start()
    started = time.perf_counter()
    report = import_organisations(csv_path, mapping="dotcoop")
    seconds = time.perf_counter() - started
    peak_pss = sampler.stop()
    assert report.balanced, report.as_dict()
    workers_peak = _workers_peak_mib()
    table = imports.open_table(csv_path)
    workers = imports._normalising_processes(table, imports.load_mapping("dotcoop"))
    return {"rows": report.rows, "imported": report.imported, "rejected": report.rejected,
            "flagged": report.flagged, "placed": report.rows - report.rejected - report.placement["unplaced"],
            "seconds": seconds, "rows_per_second": report.rows / seconds,
            "cpu_seconds": _cpu_seconds(resource.RUSAGE_SELF) - cpu_before,
            "workers_cpu_seconds": _cpu_seconds(resource.RUSAGE_CHILDREN),
            "workers": workers, "peak_memory_mib": peak_pss,
            "peak_rss_mib": _peak_mib(), "workers_peak_rss_mib": workers_peak,
            # Every process at the largest peak at once, shared pages counted in each: an upper bound.
            "peak_rss_upper_bound_mib": _peak_mib() + workers * workers_peak,
            "rss_before_import_mib": baseline, "load_average_after": os.getloadavg()[0]}


def side_import_export(data_dir: Path, csv_path: Path) -> dict:
    _django(data_dir)
    import tablib
    from django.utils import timezone
    from import_export import fields, resources, widgets

    from socialclusters.registry.models import Country, Organisation

    known = set(Country.objects.values_list("code", flat=True))

    class CountryCodeWidget(widgets.Widget):
        """Upper-cases the code and drops unknown ones, so that the rows satisfy the foreign key."""

        def clean(self, value, row=None, **kwargs):  # type: ignore[no-untyped-def]
            code = (value or "").strip().upper()
            return code if code in known else None

    class OrganisationResource(resources.ModelResource):
        name = fields.Field(attribute="name", column_name="Name")
        address = fields.Field(attribute="address", column_name="Street")
        city = fields.Field(attribute="city", column_name="City")
        postcode = fields.Field(attribute="postcode", column_name="PostCode")
        country_id = fields.Field(attribute="country_id", column_name="Country", widget=CountryCodeWidget())
        latitude = fields.Field(attribute="latitude", column_name="Latitude", widget=widgets.FloatWidget())
        longitude = fields.Field(attribute="longitude", column_name="Longitude", widget=widgets.FloatWidget())
        geocode_confidence = fields.Field(attribute="geocode_confidence", column_name="Relevance",
                                          widget=widgets.FloatWidget())
        domain = fields.Field(attribute="domain", column_name="Domain")

        class Meta:
            model = Organisation
            fields = ("name", "address", "city", "postcode", "country_id", "latitude", "longitude",
                      "geocode_confidence", "domain")
            import_id_fields = ("domain",)
            use_bulk = True
            batch_size = 1000
            force_init_instance = True
            skip_diff = True
            skip_unchanged = False
            skip_html_diff = True
            report_skipped = False

        def before_save_instance(self, instance, row, **kwargs):  # type: ignore[no-untyped-def]
            # bulk_create skips save(), so auto_now fields need a value; the kind is the register's.
            instance.kind = "cooperative"
            instance.created_at = instance.updated_at = timezone.now()

    baseline = _peak_mib()
    cpu_before = _cpu_seconds(resource.RUSAGE_SELF)
    started = time.perf_counter()
    with open(csv_path, encoding="utf-8", newline="") as handle:
        dataset = tablib.Dataset().load(handle.read(), format="csv")
    # Import-export refuses headers it cannot tell apart: drop the register's two unnamed columns.
    for _ in range(dataset.headers.count("")):
        del dataset[""]
    result = OrganisationResource().import_data(dataset, dry_run=False, raise_errors=False, use_transactions=True)
    seconds = time.perf_counter() - started
    rows = len(dataset)
    return {"rows": rows, "imported": Organisation.objects.count(), "errors": len(result.row_errors()),
            "invalid_rows": len(result.invalid_rows), "seconds": seconds, "rows_per_second": rows / seconds,
            "cpu_seconds": _cpu_seconds(resource.RUSAGE_SELF) - cpu_before,
            "peak_rss_mib": _peak_mib(), "rss_before_import_mib": baseline, "load_average_after": os.getloadavg()[0]}


SIDES = {"setup": side_setup, "ours": side_ours, "import-export": side_import_export}


def run_side(name: str, data_dir: Path, *arguments: Path) -> dict:
    command = [sys.executable, __file__, "--side", name, str(data_dir), *map(str, arguments)]
    # This very script with fixed arguments, in a child process so that its peak memory is its own.
    completed = subprocess.run(command, check=False, capture_output=True, text=True, cwd=CHECKOUT)
    if completed.returncode != 0:
        sys.stderr.write(completed.stderr)
        raise SystemExit(f"benchmark side {name!r} failed (exit {completed.returncode})")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def fresh_copy(template: Path, target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    # One consistent file: checkpoint the write-ahead log into the database before copying it.
    with sqlite3.connect(template / "socialclusters.sqlite3") as database:
        database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(template / "socialclusters.sqlite3", target / "socialclusters.sqlite3")
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows for our import (default 1,000,000)")
    parser.add_argument("--compare-rows", type=int, default=200_000,
                        help="rows both importers get, for the side-by-side ratio (default 200,000)")
    parser.add_argument("--output", type=Path, default=RESULTS, help=f"results file (default {RESULTS})")
    parser.add_argument("--side", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        name, data_dir, *rest = args.side
        print(json.dumps(SIDES[name](Path(data_dir), *map(Path, rest))))
        return 0

    compare_rows = min(args.compare_rows, args.rows)
    with tempfile.TemporaryDirectory(prefix="bench-import-") as temporary:
        work = Path(temporary)
        print(f"generating {args.rows:,} rows in the .coop layout ...", flush=True)
        started = time.perf_counter()
        full = work / "dotcoop-bench-full.csv"
        generate(full, args.rows)
        subset = work / "dotcoop-bench-subset.csv"
        with open(full, encoding="utf-8") as source, open(subset, "w", encoding="utf-8") as target:
            for number, line in enumerate(source):
                if number > compare_rows:
                    break
                target.write(line)
        print(f"  {time.perf_counter() - started:.1f} s, {full.stat().st_size / 2**20:.0f} MiB", flush=True)
        print("building the reference database ...", flush=True)
        template = work / "template"
        template.mkdir()
        setup = run_side("setup", template)
        print(f"  {setup['seconds']:.1f} s", flush=True)

        print(f"our import, {args.rows:,} rows ...", flush=True)
        ours_full = run_side("ours", fresh_copy(template, work / "ours-full"), full)
        print(f"  {ours_full['rows_per_second']:,.0f} rows/s, peak memory {ours_full['peak_memory_mib']:.0f} MiB"
              f" (this process and its {ours_full['workers']} workers)", flush=True)
        print(f"our import, {compare_rows:,} rows ...", flush=True)
        ours_subset = run_side("ours", fresh_copy(template, work / "ours-subset"), subset)
        print(f"  {ours_subset['rows_per_second']:,.0f} rows/s", flush=True)
        print(f"django-import-export, {compare_rows:,} rows ...", flush=True)
        theirs = run_side("import-export", fresh_copy(template, work / "import-export"), subset)
        print(f"  {theirs['rows_per_second']:,.0f} rows/s, peak {theirs['peak_rss_mib']:.0f} MiB", flush=True)

    ratio = ours_subset["rows_per_second"] / theirs["rows_per_second"]
    # On a shared machine the wall time depends on the other work; CPU time (ours: importing process and
    # workers) much less.
    cpu_ratio = theirs["cpu_seconds"] / (ours_subset["cpu_seconds"] + ours_subset["workers_cpu_seconds"])
    results = {
        "command": f".venv/bin/python benchmarks/bench_import.py --rows {args.rows} --compare-rows {compare_rows}",
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "sqlite": sqlite3.sqlite_version},
        "database": "SQLite (a fresh file with the reference data, one per side)",
        "ours": {"full": ours_full, "subset": ours_subset},
        "django_import_export": theirs,
        "speedup_same_rows": ratio,
        "speedup_same_rows_cpu_time": cpu_ratio,
        "targets": {
            "rows_per_second_at_least_50000": ours_full["rows_per_second"] >= 50_000,
            "peak_memory_under_1_gib": ours_full["peak_memory_mib"] < 1024,
            "at_least_10x_django_import_export": ratio >= 10,
        },
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
