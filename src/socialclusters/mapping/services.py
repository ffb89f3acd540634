"""Writes of the mapping app: regional statistics (``RegionalStatistic``) from Eurostat files, from Eurostat's
API or a mirror of it (:func:`fetch_statistics`), and from the registry's own counts
(:func:`store_registry_statistics`).

A file is read in pieces with :mod:`socialclusters.analysis.eurostat`, every observation is matched to a
NUTS 2021 region of the registry, and everything is written in one transaction: a malformed file or a bad
argument raises :class:`~socialclusters.errors.ValidationError` and writes nothing. Geo codes that are not
regions (extra-regio territory, aggregates such as ``EU27_2020``, unknown codes) are counted and listed in the
report with the reason, never dropped silently.

Re-importing the same dataset version compares every observation with the stored one: equal values and
flags count as ``unchanged``, others as ``updated``. The report's invariant is
``rows = imported + updated + unchanged + skipped``.
"""

from __future__ import annotations

import gzip
import http.client
import io
import json
import re
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from defusedxml import ElementTree
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from socialclusters.analysis.eurostat import (
    EurostatFormatError,
    classify_geo_codes,
    iter_eurostat_tsv,
    iter_sdmx_csv,
)
from socialclusters.errors import SourceUnavailable, ValidationError
from socialclusters.mapping.models import Measure, RegionalStatistic
from socialclusters.mapping.selectors import LEVELS, REGISTRY_SOURCE, SE_FAMILIES, registry_counts
from socialclusters.registry.models import NUTS_VERSION, ImportRun, Region, Sector, SectorLevel, Source, SourceKind

if TYPE_CHECKING:
    from socialclusters.accounts.models import User

FILE_FORMATS = ("eurostat-tsv", "sdmx-csv")
DEFAULT_CHUNK_ROWS = 50_000
EUROSTAT_URL = "https://ec.europa.eu/eurostat/databrowser/view/{code}/default/table"

# The measure each dataset publishes (``--measure`` overrides it for datasets not listed here).
DATASET_MEASURES: dict[str, str] = {
    # Employment by NUTS 3 region and A*10 activity, in thousands of persons (wstatus EMP) or employees (SAL).
    "nama_10r_3empers": Measure.EMPLOYMENT,
    # Employment and hours worked by NUTS 2 region and A*10 activity.
    "nama_10r_2emhrw": Measure.EMPLOYMENT,
    # Labour force survey: employment by NUTS 2 region and NACE section.
    "lfst_r_lfe2en2": Measure.EMPLOYMENT,
}
# Where a dataset's ``wstatus`` dimension tells employment from employees, it decides the measure
# (unless ``--measure`` is given), so both series of nama_10r_3empers land under the right measure.
WSTATUS_MEASURES: dict[str, str] = {"EMP": Measure.EMPLOYMENT, "SAL": Measure.EMPLOYEES}

# Dimensions that become columns of their own; any other one is appended to the unit ("THS_PER;sex=T").
_MAPPED_DIMENSIONS = {"freq", "geo", "nace_r2", "unit"}
_SKIP_REASONS = {
    "extra_regio": "extra-regio territory: not a region",
    "aggregate": "aggregate of countries: not a region",
}
_EUROSTAT_NACE = re.compile(r"^[A-U](?P<digits>\d{2,4})$")
_YEAR = re.compile(r"^\d{4}$")

Progress = Callable[[int, int | None], None]


@dataclass
class StatisticsReport:
    """What a statistics import did; :meth:`as_dict` is the JSON report."""

    path: str
    dataset: str
    file_format: str
    source_name: str = ""
    source_version: str = ""
    measure_override: str = ""
    dry_run: bool = False
    committed: bool = False
    rows: int = 0
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    measures: Counter[str] = field(default_factory=Counter)
    missing_values: int = 0
    # geo code → {"kind", "reason", "rows"}
    skipped_codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    years: set[int] = field(default_factory=set)
    seconds: float = 0.0
    import_run: int | None = None
    # Where a fetched file came from (URL or mirror file, filters, bytes): see fetch_statistics.
    origin: dict[str, Any] | None = None

    @property
    def balanced(self) -> bool:
        """The report's invariant: every observation read is imported, updated, unchanged or skipped."""
        return self.rows == self.imported + self.updated + self.unchanged + self.skipped

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": "regional statistics",
            "dataset": self.dataset,
            "source": {"name": self.source_name, "version": self.source_version},
            "file": {"path": self.path, "format": self.file_format},
            "measure_override": self.measure_override or None,
            "dry_run": self.dry_run,
            "committed": self.committed,
            "rows": self.rows,
            "imported": self.imported,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "invariant": "rows = imported + updated + unchanged + skipped",
            "missing_values": self.missing_values,
            "measures": dict(sorted(self.measures.items())),
            "years": sorted(self.years),
            "skipped_codes": [
                {"code": code, **details}
                for code, details in sorted(self.skipped_codes.items(), key=lambda item: (-item[1]["rows"], item[0]))
            ],
            "seconds": round(self.seconds, 3),
            "import_run": self.import_run,
            **({"fetch": self.origin} if self.origin is not None else {}),
        }

    def write_json(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.as_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


class _Rollback(Exception):
    """Raised inside the transaction to undo a dry run."""


def import_statistics(
    path: str | Path,
    *,
    file_format: str,
    dataset: str,
    measure: str | None = None,
    version: str | None = None,
    dry_run: bool = False,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    user: User | None = None,
    progress: Progress | None = None,
    where: Mapping[str, Collection[str]] | None = None,
    since: int | None = None,
    origin: dict[str, Any] | None = None,
) -> StatisticsReport:
    """Import one Eurostat statistics file into ``RegionalStatistic``; see the module docstring.

    ``dataset`` is the Eurostat code (``nama_10r_3empers``): it names the source and decides the measure
    through :data:`DATASET_MEASURES` unless ``measure`` is given. ``version`` defaults to the file's
    modification date. ``progress(rows_done, None)`` is called after each piece.

    ``where`` (dimension → codes) and ``since`` (first year) keep only part of the file; observations left
    out are not counted in the report. ``origin`` says where the file came from (``location``: the URL or
    mirror file, plus what :func:`fetch_statistics` records): the report and the import run name it
    instead of ``path``.
    """
    file_path = Path(path)
    dataset = _check_arguments(file_path, file_format=file_format, dataset=dataset, measure=measure,
                               chunk_rows=chunk_rows)
    if version is None:
        version = datetime.fromtimestamp(file_path.stat().st_mtime, tz=UTC).date().isoformat()
    else:
        _check_version(version)
    location = str((origin or {}).get("location") or file_path)
    report = StatisticsReport(path=location, dataset=dataset, file_format=file_format, source_name=dataset,
                              source_version=version, measure_override=measure or "", dry_run=dry_run,
                              origin=origin)
    started = time.perf_counter()
    regions = dict(Region.objects.filter(version=NUTS_VERSION).values_list("code", "id"))
    sectors = set(Sector.objects.values_list("code", flat=True))
    reader = iter_eurostat_tsv if file_format == "eurostat-tsv" else iter_sdmx_csv
    try:
        with transaction.atomic():
            run = ImportRun.objects.create(mapping=f"statistics:{dataset}", path=location[:1000],
                                           dry_run=dry_run, started_by=user)
            source = _dataset_source(dataset, version, file_path)
            run.source = source
            seen: set[tuple[Any, ...]] = set()
            pieces = _pieces(reader(file_path, chunksize=chunk_rows, where=where), file_path, location=location)
            for piece in _since(pieces, since):
                rows = _observations(piece, report, regions=regions, sectors=sectors, dataset=dataset,
                                     measure=measure, seen=seen)
                _write(rows, source=source, report=report)
                if progress is not None:
                    progress(report.rows, None)
            if report.rows == 0 and (where or since is not None):
                chosen = [f"{name}={','.join(sorted(codes))}" for name, codes in sorted((where or {}).items())]
                chosen += [f"since {since}"] if since is not None else []
                raise ValidationError(f"{location}: no observation matches the filters ({'; '.join(chosen)}):"
                                      " nothing to import", field="filter")
            if report.rows == 0:
                raise ValidationError(f"{location}: the file has a header but no observations: nothing to import",
                                      line=2)
            _finish_run(run, report, started=started, dry_run=dry_run)
    except _Rollback:
        pass
    report.seconds = time.perf_counter() - started
    return report


def _finish_run(run: ImportRun, report: Any, *, started: float, dry_run: bool) -> None:
    """Close an import run inside its transaction; a dry run then rolls everything back."""
    report.committed = not dry_run
    report.seconds = time.perf_counter() - started
    if dry_run:
        raise _Rollback
    report.import_run = run.pk
    run.report = report.as_dict()
    run.committed = True
    run.finished_at = timezone.now()
    run.save(update_fields=["report", "committed", "finished_at", "source"])


def _check_arguments(path: Path, *, file_format: str, dataset: str, measure: str | None, chunk_rows: int) -> str:
    if file_format not in FILE_FORMATS:
        raise ValidationError(f"unknown format {file_format!r}: use one of {', '.join(FILE_FORMATS)}",
                              field="format")
    dataset = _check_dataset(dataset, measure, field="dataset")
    if chunk_rows < 1:
        raise ValidationError(f"chunk_rows must be at least 1, got {chunk_rows}", field="chunk_rows")
    if not path.is_file():
        raise ValidationError(f"{path}: no such file", field="path")
    return dataset


def _check_version(version: str) -> None:
    if not version.strip() or len(version) > 100:
        raise ValidationError("the version must be 1 to 100 characters", field="version")


def _pieces(pieces: Iterator[pd.DataFrame], path: Path, *, location: str | None = None) -> Iterator[pd.DataFrame]:
    """The reader's pieces, with its format errors turned into the project's error (naming the line)."""
    name = location or str(path)
    try:
        for piece in pieces:
            for required in ("geo", "unit"):
                if required not in piece.columns:
                    raise ValidationError(f"{name}: the file has no {required} dimension", line=1, field=required)
            yield piece
    except EurostatFormatError as exc:
        message = str(exc).removeprefix(f"line {exc.line}: ") if exc.line is not None else str(exc)
        raise ValidationError(f"{name}: {message}", line=exc.line) from None
    except UnicodeDecodeError as exc:
        raise ValidationError(f"{name}: the file is not UTF-8 text ({exc.reason})") from None
    except ValueError as exc:
        # The readers' other ValueError: a ``where`` dimension that the file does not have.
        about_filter = "where names" in str(exc)
        message = str(exc).replace("where names", "the filter names")
        raise ValidationError(f"{name}: {message}", field="filter" if about_filter else None) from None


def _since(pieces: Iterator[pd.DataFrame], since: int | None) -> Iterator[pd.DataFrame]:
    """The pieces without the periods before ``since`` (periods start with their year: 2021, 2021-Q1…)."""
    for piece in pieces:
        if since is None:
            yield piece
            continue
        years = pd.to_numeric(piece["time"].astype(str).str[:4], errors="coerce")
        recent = piece.loc[(years >= since).to_numpy()]
        if not recent.empty:
            yield recent


def _dataset_source(dataset: str, version: str, path: Path) -> Source:
    source = Source.objects.filter(kind=SourceKind.DATASET, name=dataset, version=version).first()
    if source is None:
        source = Source.objects.create(
            kind=SourceKind.DATASET, name=dataset, version=version, url=EUROSTAT_URL.format(code=dataset),
            publisher="Eurostat", licence="CC BY 4.0 (Eurostat reuse policy)",
            retrieved_at=datetime.fromtimestamp(path.stat().st_mtime, tz=UTC),
        )
    return source


def _eurostat_sector(code: str, sectors: set[str]) -> str | None:
    """The registry's NACE code for a Eurostat activity code (C10 → 10, C101 → 10.1), or None (aggregates)."""
    if code in sectors:
        return code
    match = _EUROSTAT_NACE.match(code)
    if match is None:
        return None
    digits = match["digits"]
    candidate = digits if len(digits) == 2 else f"{digits[:2]}.{digits[2:]}"
    return candidate if candidate in sectors else None


def _observations(
    piece: pd.DataFrame,
    report: StatisticsReport,
    *,
    regions: dict[str, int],
    sectors: set[str],
    dataset: str,
    measure: str | None,
    seen: set[tuple[Any, ...]],
) -> list[dict[str, Any]]:
    """The rows of one piece to write; counts skipped geo codes in the report."""
    report.rows += len(piece)
    geo = piece["geo"].astype(str)
    codes = pd.unique(geo)
    kinds = classify_geo_codes(codes, known=regions.keys())
    for code, kind, reason in kinds[["code", "kind", "reason"]].itertuples(index=False):
        if kind == "nuts" and code in regions:
            continue
        count = int((geo == code).sum())
        entry = report.skipped_codes.setdefault(
            code, {"kind": kind, "reason": reason or _SKIP_REASONS.get(kind, "not a NUTS 2021 region"), "rows": 0}
        )
        entry["rows"] += count
        report.skipped += count
    kept = piece.loc[geo.isin(regions.keys()).to_numpy()]
    if "freq" in kept.columns:
        other = sorted(set(kept["freq"]) - {"A"})
        if other:
            raise ValidationError(f"only annual data (freq A) can be imported; the file has freq {other[0]}",
                                  field="freq")
    times = pd.unique(kept["time"])
    bad = [period for period in times if not _YEAR.match(str(period))]
    if bad:
        raise ValidationError(f"period {bad[0]!r} is not a year: only annual data can be imported", field="time")
    extra = [name for name in kept.columns
             if name not in _MAPPED_DIMENSIONS and name not in ("time", "value", "flags")
             and not (name == "wstatus" and measure is None)]
    units = kept["unit"].astype(str)
    for name in extra:
        units = units + f";{name}=" + kept[name].astype(str)
    if measure is not None:
        measures = pd.Series(measure, index=kept.index)
    elif "wstatus" in kept.columns:
        measures = kept["wstatus"].map(WSTATUS_MEASURES)
        unmapped = sorted(set(kept.loc[measures.isna(), "wstatus"]))
        if unmapped:
            raise ValidationError(
                f"wstatus {unmapped[0]!r} has no measure (known: {', '.join(WSTATUS_MEASURES)}); give --measure",
                field="wstatus",
            )
    else:
        measures = pd.Series(DATASET_MEASURES[dataset], index=kept.index)
    activity = kept["nace_r2"].astype(str) if "nace_r2" in kept.columns else pd.Series("TOTAL", index=kept.index)
    sector_of = {code: _eurostat_sector(code, sectors) for code in pd.unique(activity)}
    values = kept["value"].to_numpy(dtype=np.float64)
    rows = []
    for code, sector_code, year, measure_code, unit, value, flags in zip(
        kept["geo"], activity, kept["time"], measures, units, values, kept["flags"], strict=True
    ):
        key = (regions[code], sector_code, int(year), str(measure_code), unit)
        if key in seen:
            raise ValidationError(
                f"the observation {code} {sector_code} {year} {measure_code} {unit} appears twice in the file",
                field="geo",
            )
        seen.add(key)
        missing = bool(np.isnan(value))
        report.missing_values += missing
        report.measures[str(measure_code)] += 1
        report.years.add(int(year))
        rows.append({"key": key, "sector_id": sector_of[sector_code], "value": None if missing else float(value),
                     "flags": str(flags or "")[:10]})
    return rows


def _write(rows: list[dict[str, Any]], *, source: Source, report: StatisticsReport) -> None:
    if not rows:
        return
    region_ids = {row["key"][0] for row in rows}
    years = {row["key"][2] for row in rows}
    existing = {
        (stat.region_id, stat.sector_code, stat.year, stat.measure, stat.unit): stat
        for stat in RegionalStatistic.objects.filter(source=source, region_id__in=region_ids, year__in=years)
    }
    new, changed = [], []
    for row in rows:
        region_id, sector_code, year, measure, unit = row["key"]
        stat = existing.get(row["key"])
        if stat is None:
            new.append(RegionalStatistic(region_id=region_id, sector_id=row["sector_id"], sector_code=sector_code,
                                         year=year, measure=measure, unit=unit, value=row["value"],
                                         flags=row["flags"], source=source))
        elif (stat.value, stat.flags, stat.sector_id) != (row["value"], row["flags"], row["sector_id"]):
            stat.value, stat.flags, stat.sector_id = row["value"], row["flags"], row["sector_id"]
            changed.append(stat)
    RegionalStatistic.objects.bulk_create(new, batch_size=2_000)
    RegionalStatistic.objects.bulk_update(changed, ["value", "flags", "sector"], batch_size=2_000)
    report.imported += len(new)
    report.updated += len(changed)
    report.unchanged += len(rows) - len(new) - len(changed)


# --- fetching a dataset from Eurostat's dissemination API, or from a local mirror ----------------------------
#
# Eurostat's SDMX 2.1 data endpoint takes its dimension filters as a *positional* key
# (``/sdmx/2.1/data/NAMA_10R_3EMPERS/A.THS_PER..C+F.FR101+DE300``: one slot per dimension in the order of
# the data structure definition, ``+`` between codes, an empty slot for "all"); the ``c[dim]=v1,v2`` query
# parameters belong to its SDMX 3.0 endpoint. We use SDMX 2.1 (its TSV is the bulk-download format the
# importer reads) and build the key from the dataset's data structure definition
# (``/sdmx/2.1/datastructure/ESTAT/CODE``), fetched only when filters are given. Whatever the server sends,
# the filters are applied again while reading, so a mirror file and a download give the same rows.
#
# registry.refdata has a download helper for reference files; it reads whole responses into memory and
# caches them forever by URL, which suits fixed NUTS files but not a dataset Eurostat revises twice a day
# and that may weigh hundreds of megabytes, so datasets are streamed to a temporary file here instead.

FETCH_FORMATS: dict[str, tuple[str, str]] = {"eurostat-tsv": ("TSV", "tsv"), "sdmx-csv": ("SDMX-CSV", "csv")}
DEFAULT_FETCH_FORMAT = "eurostat-tsv"
SDMX_STRUCTURE_NS = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/structure"
_DIMENSION_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,49}$")
# Eurostat codes: letters, digits, "_" and "-" (B-E, M_N, EU27_2020); "." and "+" would break the key.
_DIMENSION_CODE = re.compile(r"^[A-Za-z0-9_\-]{1,50}$")
_DOWNLOAD_BLOCK = 1 << 16

DownloadProgress = Callable[[int, int | None], None]


def parse_filters(texts: Iterable[str]) -> dict[str, list[str]]:
    """Read ``--filter`` arguments (``DIMENSION=CODE[,CODE...]``) into dimension → codes.

    A dimension given twice keeps the codes of both. A malformed argument raises ``ValidationError``
    naming it.

    >>> parse_filters(["geo=FR101,DE300", "nace_r2=C", "geo=ES511"])
    {'geo': ['FR101', 'DE300', 'ES511'], 'nace_r2': ['C']}
    """
    filters: dict[str, list[str]] = {}
    for text in texts:
        name, equals, codes = str(text).partition("=")
        values = [code.strip() for code in codes.split(",")]
        if not equals or not _DIMENSION_NAME.match(name.strip()) or not all(values):
            raise ValidationError(
                f"--filter {text!r}: expected DIMENSION=CODE[,CODE...], such as geo=FR101,DE300 or nace_r2=C",
                field="filter",
            )
        bad = [code for code in values if not _DIMENSION_CODE.match(code)]
        if bad:
            raise ValidationError(
                f"--filter {text!r}: {bad[0]!r} is not a Eurostat code (letters, digits, '_' and '-')",
                field="filter",
            )
        kept = filters.setdefault(name.strip().lower(), [])
        kept.extend(code for code in values if code not in kept)
    return filters


def fetch_statistics(
    code: str,
    *,
    filters: Mapping[str, Sequence[str]] | None = None,
    since: int | None = None,
    file_format: str | None = None,
    measure: str | None = None,
    version: str | None = None,
    dry_run: bool = False,
    api_url: str | None = None,
    mirror: str | None = None,
    user: User | None = None,
    download_progress: DownloadProgress | None = None,
    progress: Progress | None = None,
) -> StatisticsReport:
    """Fetch the Eurostat dataset ``code`` and import it with :func:`import_statistics`.

    The dataset is read from the mirror folder (``mirror``, default ``settings.EUROSTAT_MIRROR``) when it
    holds a file for it, else downloaded from Eurostat's SDMX 2.1 API (``api_url``, default
    ``settings.EUROSTAT_API_URL``) into a temporary file, compressed, with ``filters`` (dimension → codes)
    as the query key and ``since`` as ``startPeriod``. ``file_format`` is ``eurostat-tsv`` (the default for
    downloads) or ``sdmx-csv``; for the mirror, without it, whichever file is there. ``version`` defaults to
    today's date for a download and to the file's date for a mirror file.

    Everything is checked before anything is downloaded; a download error raises ``SourceUnavailable``
    naming the URL and what to do, a bad argument ``ValidationError`` naming it. Nothing is written unless
    the whole dataset imports (see :func:`import_statistics`), and the temporary file is always removed.
    """
    dataset = _check_dataset(code, measure)
    if file_format is not None and file_format not in FETCH_FORMATS:
        raise ValidationError(f"unknown format {file_format!r}: use one of {', '.join(FETCH_FORMATS)}",
                              field="format")
    where = _check_filters(filters or {})
    if since is not None and not 1900 <= since <= 2100:
        raise ValidationError(f"--since expects a year such as 2015, got {since}", field="since")
    if version is not None:
        _check_version(version)
    origin: dict[str, Any] = {"filters": {name: sorted(codes) for name, codes in where.items()}, "since": since}
    options: dict[str, Any] = {"dataset": dataset, "measure": measure, "dry_run": dry_run, "user": user,
                               "progress": progress, "where": where or None, "since": since}

    found = _mirror_file(mirror if mirror is not None else settings.EUROSTAT_MIRROR, dataset, file_format)
    if found is not None:
        path, found_format = found
        origin |= {"from": "mirror", "location": str(path)}
        return import_statistics(path, file_format=found_format, version=version, origin=origin, **options)

    file_format = file_format or DEFAULT_FETCH_FORMAT
    base = (api_url if api_url is not None else settings.EUROSTAT_API_URL).rstrip("/")
    if urllib.parse.urlsplit(base).scheme not in {"http", "https"}:
        raise ValidationError(f"SOCIALCLUSTERS_EUROSTAT_API_URL must be an http(s) address, got {base!r}",
                              field="SOCIALCLUSTERS_EUROSTAT_API_URL")
    key = _series_key(base, dataset, where) if where else ""
    query = {"format": FETCH_FORMATS[file_format][0], "compressed": "true"}
    if since is not None:
        query["startPeriod"] = str(since)
    url = f"{base}/sdmx/2.1/data/{dataset.upper()}" + (f"/{key}" if key else "") + "?" + urllib.parse.urlencode(query)
    with tempfile.TemporaryDirectory(prefix="socialclusters-fetch-") as folder:
        path = Path(folder) / f"{dataset}.{FETCH_FORMATS[file_format][1]}.gz"
        with path.open("wb") as stream:
            size = _http_get(url, stream, dataset=dataset, progress=download_progress)
        _check_payload(path, url)
        origin |= {"from": "api", "location": url, "bytes": size}
        return import_statistics(path, file_format=file_format, version=version or timezone.now().date().isoformat(),
                                 origin=origin, **options)


def _check_dataset(code: str, measure: str | None, *, field: str = "code") -> str:
    """The dataset code (normalised) and measure checks of :func:`import_statistics`: they need no file, so
    :func:`fetch_statistics` runs them before a doomed download starts. ``field`` names the code's argument."""
    dataset = (code or "").strip().lower()
    if not re.fullmatch(r"[a-z0-9_$]{1,100}", dataset):
        raise ValidationError(f"{code!r} is not a Eurostat dataset code (such as nama_10r_3empers)", field=field)
    if measure is not None and measure not in Measure.values:
        raise ValidationError(f"unknown measure {measure!r}: use one of {', '.join(Measure.values)}",
                              field="measure")
    if measure is None and dataset not in DATASET_MEASURES:
        raise ValidationError(
            f"no measure is known for dataset {dataset} (known: {', '.join(sorted(DATASET_MEASURES))}):"
            f" give one with --measure ({', '.join(Measure.values)})", field="measure",
        )
    return dataset


def _check_filters(filters: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    checked: dict[str, list[str]] = {}
    for name, codes in filters.items():
        texts = [codes] if isinstance(codes, str) else list(codes)
        parsed = parse_filters([f"{name}={','.join(map(str, texts))}"])
        for dimension, values in parsed.items():
            checked.setdefault(dimension, []).extend(value for value in values if value not in checked[dimension])
    return checked


def _mirror_candidates(dataset: str, extension: str) -> list[str]:
    names = []
    for code in dict.fromkeys([dataset, dataset.upper()]):
        for name in (f"sdmx/2.1/data/{code}.{extension}", f"{code}.{extension}"):
            names += [name, f"{name}.gz"]
    return names


def _mirror_file(mirror: str, dataset: str, file_format: str | None) -> tuple[Path, str] | None:
    """The mirror's file for ``dataset`` and its format, or None when there is no mirror or no such file."""
    if not mirror:
        return None
    folder = Path(mirror).expanduser()
    if not folder.is_dir():
        raise SourceUnavailable(f"SOCIALCLUSTERS_EUROSTAT_MIRROR is {mirror!r}, which is not a folder: make it a "
                                "folder of dataset files (CODE.tsv.gz…) or leave it empty to use Eurostat's API")
    formats = [file_format] if file_format else list(FETCH_FORMATS)
    for name in formats:
        for relative in _mirror_candidates(dataset, FETCH_FORMATS[name][1]):
            if (folder / relative).is_file():
                return folder / relative, name
    return None


def _series_key(base: str, dataset: str, where: Mapping[str, list[str]]) -> str:
    """The SDMX 2.1 positional key for ``where``, in the order of the dataset's dimensions."""
    url = f"{base}/sdmx/2.1/datastructure/ESTAT/{dataset.upper()}"
    buffer = io.BytesIO()
    _http_get(url, buffer, dataset=dataset, progress=None)
    try:
        root = ElementTree.fromstring(buffer.getvalue())
    except ElementTree.ParseError as exc:
        raise SourceUnavailable(f"the data structure at {url} is not SDMX-ML ({exc}): check "
                                "SOCIALCLUSTERS_EUROSTAT_API_URL, or use a mirror file") from None
    positions = []
    for number, element in enumerate(root.iter(f"{{{SDMX_STRUCTURE_NS}}}Dimension"), start=1):
        position = element.get("position")
        positions.append((int(position) if position and position.isdigit() else number,
                          (element.get("id") or "").lower()))
    dimensions = [name for _, name in sorted(positions)]
    if not dimensions:
        raise SourceUnavailable(f"the data structure at {url} lists no dimension: check "
                                "SOCIALCLUSTERS_EUROSTAT_API_URL, or use a mirror file")
    unknown = sorted(set(where) - set(dimensions))
    if unknown:
        raise ValidationError(f"--filter names {unknown[0]!r}, which is not a dimension of {dataset} "
                              f"({', '.join(dimensions)})", field="filter")
    return ".".join("+".join(where.get(name, [])) for name in dimensions)


def _http_get(url: str, stream: IO[bytes], *, dataset: str, progress: DownloadProgress | None) -> int:
    """Stream ``url`` into ``stream``; returns the bytes written. Errors say what happened and what to do."""
    request = urllib.request.Request(url, headers={"User-Agent": "socialclusters fetch-statistics"})  # noqa: S310 - http(s) checked by the caller
    timeout = settings.DOWNLOAD_TIMEOUT
    mirror_hint = (f"download the dataset elsewhere and put it in the folder named by SOCIALCLUSTERS_EUROSTAT_MIRROR "
                   f"as {dataset}.tsv.gz")
    offline = f"if this machine has no network, {mirror_hint}"
    done = 0
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) only
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            while block := response.read(_DOWNLOAD_BLOCK):
                stream.write(block)
                done += len(block)
                if progress is not None:
                    progress(done, total)
    except urllib.error.HTTPError as exc:
        raise SourceUnavailable(_http_error_message(url, exc, dataset=dataset)) from None
    except (TimeoutError, urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", None) or exc
        if isinstance(reason, TimeoutError) or isinstance(exc, TimeoutError):
            raise SourceUnavailable(
                f"Eurostat did not answer {url} within {timeout:g} s: try again later, narrow the request with "
                f"--filter or --since, raise SOCIALCLUSTERS_DOWNLOAD_TIMEOUT, or {mirror_hint}"
            ) from None
        if isinstance(exc, urllib.error.URLError):
            raise SourceUnavailable(f"cannot reach {url} ({reason}): check the network and "
                                    f"SOCIALCLUSTERS_EUROSTAT_API_URL; {offline}") from None
        raise SourceUnavailable(f"the download of {url} broke off after {done:,} bytes ({exc}): try again; "
                                f"{offline}") from None
    if total is not None and done < total:
        raise SourceUnavailable(f"the download of {url} stopped at {done:,} of {total:,} bytes: try again; {offline}")
    return done


def _http_error_message(url: str, error: urllib.error.HTTPError, *, dataset: str) -> str:
    try:
        body = error.read(4_000).decode("utf-8", "replace")
    except OSError:
        body = ""
    # Eurostat explains refusals in a small XML or JSON message; its text is the useful part.
    detail = " ".join(re.sub(r"<[^>]*>", " ", body).split())[:300]
    said = f" Eurostat says: {detail}" if detail else ""
    status = f"HTTP {error.code} {error.reason}".strip()
    if error.code == 404:
        return (f"Eurostat has nothing at {url} ({status}): check the dataset code {dataset} in Eurostat's data "
                f"browser, and the --filter codes (a filter that matches no series also gives 404).{said}")
    if error.code in (400, 413, 414):
        return (f"Eurostat refused {url} ({status}): check the --filter dimensions and codes, or ask for less "
                f"with --filter and --since.{said}")
    if error.code >= 500:
        return (f"Eurostat's server failed on {url} ({status}): try again later, or put the dataset file in the "
                f"folder named by SOCIALCLUSTERS_EUROSTAT_MIRROR.{said}")
    return f"cannot download {url} ({status}): check SOCIALCLUSTERS_EUROSTAT_API_URL and the request.{said}"


def _check_payload(path: Path, url: str) -> None:
    """Refuse an XML message where data was expected (Eurostat answers very large queries asynchronously)."""
    with path.open("rb") as raw:
        compressed = raw.read(2) == b"\x1f\x8b"
    opener: Any = gzip.open if compressed else open
    try:
        with opener(path, "rb") as stream:
            head = stream.read(4_000)
    except (OSError, EOFError) as exc:
        raise SourceUnavailable(f"the file downloaded from {url} is not readable ({exc}): try again") from None
    if head.lstrip().startswith(b"<"):
        text = " ".join(re.sub(rb"<[^>]*>", b" ", head).decode("utf-8", "replace").split())[:300]
        raise SourceUnavailable(
            f"Eurostat answered {url} with a message instead of data (it prepares very large extractions "
            f"asynchronously): ask for less with --filter or --since, or put the bulk file in the folder named by "
            f"SOCIALCLUSTERS_EUROSTAT_MIRROR. The message: {text}"
        )


# --- the registry as a statistics source ---------------------------------------------------------------------

REGISTRY_UNIT = "COUNT"
REGISTRY_MAPPING = "statistics:registry"
REGISTRY_PUBLISHER = "socialclusters"


@dataclass
class RegistryStatisticsReport:
    """What :func:`store_registry_statistics` did; :meth:`as_dict` is the JSON report."""

    version: str
    year: int
    levels: list[int]
    by_section: bool
    dry_run: bool = False
    committed: bool = False
    rows: int = 0
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0  # rows of the same version that the registry no longer gives (a re-run after changes)
    measures: Counter[str] = field(default_factory=Counter)
    regions: int = 0
    # Codes the registry counted that are not NUTS regions of this version (code → rows).
    skipped_codes: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    import_run: int | None = None

    @property
    def balanced(self) -> bool:
        return self.rows == self.imported + self.updated + self.unchanged

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": "regional statistics",
            "source": {"name": REGISTRY_SOURCE, "version": self.version},
            "year": self.year,
            "levels": self.levels,
            "by_section": self.by_section,
            "dry_run": self.dry_run,
            "committed": self.committed,
            "rows": self.rows,
            "imported": self.imported,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "invariant": "rows = imported + updated + unchanged",
            "measures": dict(sorted(self.measures.items())),
            "regions": self.regions,
            "skipped_codes": [{"code": code, "rows": rows} for code, rows in sorted(self.skipped_codes.items())],
            "seconds": round(self.seconds, 3),
            "import_run": self.import_run,
        }

    def write_json(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.as_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _registry_series() -> dict[str, tuple[str, str]]:
    """Column of :func:`~socialclusters.mapping.selectors.registry_counts` → (measure, unit)."""
    series = {
        "organisations": (Measure.ORGANISATIONS, REGISTRY_UNIT),
        "se_organisations": (Measure.SE_ENTITIES, REGISTRY_UNIT),
        "clusters": (Measure.CLUSTERS, REGISTRY_UNIT),
        "cluster_members": (Measure.CLUSTER_MEMBERS, REGISTRY_UNIT),
        "se_cluster_members": (Measure.CLUSTER_MEMBERS, f"{REGISTRY_UNIT};family=social_economy"),
    }
    series |= {f"se_{family}": (Measure.SE_ENTITIES, f"{REGISTRY_UNIT};family={family}") for family in SE_FAMILIES}
    return {column: (str(measure), unit) for column, (measure, unit) in series.items()}


def store_registry_statistics(
    *,
    level: int = 3,
    by_section: bool = True,
    version: str | None = None,
    year: int | None = None,
    dry_run: bool = False,
    user: User | None = None,
) -> RegistryStatisticsReport:
    """Store the registry's own counts as regional statistics of the source "socialclusters registry".

    For every NUTS region of levels 0 to ``level`` (the counts of
    :func:`~socialclusters.mapping.selectors.registry_counts`): organisations (measure ``organisations``),
    social economy organisations (``se_entities``, unit ``COUNT``, and one series per family with unit
    ``COUNT;family=cooperative``…), clusters (``clusters``) and current cluster members (``cluster_members``,
    and ``COUNT;family=social_economy`` for the social economy ones), all under the activity code ``TOTAL``.
    Every region of a level gets its ``TOTAL`` rows, zero included. With ``by_section``, the organisation
    series are also stored per NACE section (activity code ``A``…``U``) where the region has organisations
    of that section (the registry counts clusters and members by region only).

    ``version`` (default: today's date) names the snapshot; ``year`` defaults to the year it starts with,
    else the current year. Re-running the same version compares every row: equal ones count as
    ``unchanged``, others as ``updated``, and rows of that version the registry no longer gives (within the
    levels and sectors of this run) are deleted and counted as ``removed``. One transaction: all or nothing.
    """
    if isinstance(level, bool) or level not in LEVELS:
        raise ValidationError(f"expected the deepest NUTS level to store, 0 to 3, got {level!r}", field="level")
    version = timezone.now().date().isoformat() if version is None else version
    _check_version(version)
    if year is None:
        year = int(version[:4]) if re.match(r"^(19|20|21)\d\d(\b|-)", version) else timezone.now().year
    if not 1900 <= year <= 2100:
        raise ValidationError(f"expected a year such as 2026, got {year}", field="year")
    levels = list(range(level + 1))
    report = RegistryStatisticsReport(version=version, year=year, levels=levels, by_section=by_section,
                                      dry_run=dry_run)
    started = time.perf_counter()
    regions = dict(Region.objects.filter(version=NUTS_VERSION, level__lte=level).values_list("code", "id"))
    sections = set(Sector.objects.filter(level=SectorLevel.SECTION).values_list("code", flat=True))
    rows = _registry_rows(levels, by_section=by_section, regions=regions, sections=sections, year=year,
                          report=report)
    try:
        with transaction.atomic():
            run = ImportRun.objects.create(mapping=REGISTRY_MAPPING, path=REGISTRY_SOURCE, dry_run=dry_run,
                                           started_by=user)
            source = Source.objects.filter(kind=SourceKind.DATASET, name=REGISTRY_SOURCE, version=version).first()
            if source is None:
                source = Source.objects.create(
                    kind=SourceKind.DATASET, name=REGISTRY_SOURCE, version=version, publisher=REGISTRY_PUBLISHER,
                    retrieved_at=timezone.now(),
                    note="Counts of the registry's organisations, clusters and cluster members by NUTS "
                         f"{NUTS_VERSION} region and NACE section (socialclusters registry-statistics).",
                )
            run.source = source
            _write_registry_rows(rows, source=source, region_ids=set(regions.values()), by_section=by_section,
                                 report=report)
            _finish_run(run, report, started=started, dry_run=dry_run)
    except _Rollback:
        pass
    report.seconds = time.perf_counter() - started
    return report


def _registry_rows(
    levels: list[int], *, by_section: bool, regions: dict[str, int], sections: set[str], year: int,
    report: RegistryStatisticsReport,
) -> dict[tuple[int, str, int, str, str], float]:
    """(region id, activity code, year, measure, unit) → count, for every level and series."""
    series = _registry_series()
    rows: dict[tuple[int, str, int, str, str], float] = {}

    def add(code: str, sector_code: str, counts: pd.Series) -> None:
        region_id = regions.get(code)
        kept = [(column, value) for column, value in counts.items() if column in series]
        if region_id is None:
            report.skipped_codes[code] = report.skipped_codes.get(code, 0) + len(kept)
            return
        for column, value in kept:
            measure, unit = series[str(column)]
            rows[(region_id, sector_code, year, measure, unit)] = float(value)
            report.measures[measure] += 1

    for level in levels:
        codes = sorted(code for code in regions if len(code) == level + 2)
        totals = registry_counts(level)
        # Every region of the level gets its TOTAL rows: a region with no organisation counts 0, not "no data".
        totals = totals.reindex(sorted(set(codes) | set(totals.index))).fillna(0)
        for code, counts in totals.iterrows():
            add(str(code), "TOTAL", counts)
        if by_section:
            for (code, section), counts in registry_counts(level, by_section=True).iterrows():
                # Organisations without a NACE section are in TOTAL only.
                if section in sections:
                    add(str(code), str(section), counts)
    report.rows = len(rows)
    report.regions = len({key[0] for key in rows})
    return rows


def _write_registry_rows(
    rows: dict[tuple[int, str, int, str, str], float], *, source: Source, region_ids: set[int], by_section: bool,
    report: RegistryStatisticsReport,
) -> None:
    existing = RegionalStatistic.objects.filter(source=source, region_id__in=region_ids)
    if not by_section:
        existing = existing.filter(sector_code="TOTAL")
    stored = {(stat.region_id, stat.sector_code, stat.year, stat.measure, stat.unit): stat for stat in existing}
    new, changed = [], []
    for key, value in rows.items():
        stat = stored.pop(key, None)
        if stat is None:
            region_id, sector_code, year, measure, unit = key
            new.append(RegionalStatistic(region_id=region_id, sector_id=None if sector_code == "TOTAL" else sector_code,
                                         sector_code=sector_code, year=year, measure=measure, unit=unit, value=value,
                                         flags="", source=source))
        elif stat.value != value or stat.flags:
            stat.value, stat.flags = value, ""
            changed.append(stat)
    RegionalStatistic.objects.bulk_create(new, batch_size=2_000)
    RegionalStatistic.objects.bulk_update(changed, ["value", "flags"], batch_size=2_000)
    # What is left was stored by an earlier run of this version and is no longer in the registry.
    stale = [stat.pk for stat in stored.values()]
    for start in range(0, len(stale), 2_000):  # batches keep within SQLite's limit on query parameters
        RegionalStatistic.objects.filter(pk__in=stale[start:start + 2_000]).delete()
    report.imported, report.updated, report.removed = len(new), len(changed), len(stored)
    report.unchanged = len(rows) - len(new) - len(changed)


# --- candidate territorial clusters ---------------------------------------------------------------------------


@dataclass
class DetectionReport:
    density: int = 0  # concentrations found from coordinates
    hot_spots: int = 0  # NUTS 3 hot spots found
    replaced: int = 0  # earlier proposals awaiting review that this detection replaced
    kept: int = 0  # reviewed candidates left as they were
    organisations: int = 0  # social economy organisations with coordinates considered

    def summary(self) -> str:
        return (f"{self.density} concentrations and {self.hot_spots} hot spots proposed from "
                f"{self.organisations:,} social economy organisations; {self.replaced} earlier proposals replaced, "
                f"{self.kept} reviewed candidates kept")


def detect_concentrations(
    *, eps_km: float = 5.0, min_organisations: int = 10, alpha: float = 0.05, dry_run: bool = False
) -> DetectionReport:
    """Propose candidate territorial clusters for the secretariat's review, from two independent signals.

    - **Density**: DBSCAN over the coordinates of social economy organisations
      (:func:`analysis.concentrations.find_concentrations`): at least ``min_organisations`` within ``eps_km``.
    - **Hot spots**: Getis–Ord Gi* of the social economy organisations per NUTS 3 region over contiguous
      neighbours, significant at ``alpha`` (two-sided, Benjamini–Hochberg corrected) with a positive z.

    Proposals still awaiting review are replaced; reviewed ones are kept as they are. Arguments are checked
    first and a bad one changes nothing.
    """
    from socialclusters.analysis.concentrations import find_concentrations, getis_ord_gi_star, neighbours_from_polygons
    from socialclusters.mapping import selectors
    from socialclusters.mapping.models import CandidateConcentration, CandidateMethod, CandidateStatus
    from socialclusters.registry.models import SOCIAL_ECONOMY_KINDS, Organisation

    if not eps_km > 0:
        raise ValidationError(f"expected a positive radius in kilometres, got {eps_km}", field="eps_km")
    if int(min_organisations) < 2:
        raise ValidationError(f"expected at least 2 organisations, got {min_organisations}", field="min_organisations")
    if not 0 < alpha < 1:
        raise ValidationError(f"expected a significance level between 0 and 1, got {alpha}", field="alpha")

    # Organisations placed in a NUTS region only: the platform maps Europe, and a candidate needs a region.
    rows = list(Organisation.objects.filter(kind__in=SOCIAL_ECONOMY_KINDS, latitude__isnull=False,
                                            longitude__isnull=False, region__version=NUTS_VERSION)
                .values_list("pk", "longitude", "latitude", "region_id", "city"))
    report = DetectionReport(organisations=len(rows))
    found: list[tuple[CandidateConcentration, list[int]]] = []
    parameters = {"eps_km": eps_km, "min_organisations": int(min_organisations), "alpha": alpha}
    if rows:
        ids = np.array([r[0] for r in rows])
        result = find_concentrations(np.array([r[1] for r in rows], dtype=float),
                                     np.array([r[2] for r in rows], dtype=float), eps_km=eps_km,
                                     min_organisations=int(min_organisations))
        regions = {r.pk: r for r in Region.objects.filter(pk__in={r[3] for r in rows if r[3]})}
        for number, summary in result.summary.iterrows():
            positions = np.flatnonzero(result.labels == number)
            members = ids[positions].tolist()
            member_rows = [rows[int(p)] for p in positions]
            region_ids = Counter(r[3] for r in member_rows if r[3])
            towns = Counter(r[4] for r in member_rows if r[4])
            region = regions.get(region_ids.most_common(1)[0][0]) if region_ids else None
            place = towns.most_common(1)[0][0] if towns else (region.name_latn if region else "")
            found.append((CandidateConcentration(
                method=CandidateMethod.DENSITY, region=region,
                label=f"{place}: {int(summary['organisations'])} social economy organisations within "
                      f"{summary['radius_km']:.1f} km",
                centroid_lon=float(summary["centroid_lon"]), centroid_lat=float(summary["centroid_lat"]),
                radius_km=float(summary["radius_km"]), organisation_count=int(summary["organisations"]),
                score=float(summary["organisations"]), parameters=parameters,
            ), members))
        report.density = len(found)

    counts = selectors.registry_counts(3)
    shapes = selectors.region_shapes(3)  # the same cached shapes the map uses
    codes = sorted(shapes)
    values = counts["se_organisations"].reindex(codes).fillna(0).to_numpy(dtype=float) if len(counts) else \
        np.zeros(len(codes))
    if values.sum() > 0:
        neighbours = neighbours_from_polygons(np.asarray([shapes[c] for c in codes], dtype=object))
        stats = getis_ord_gi_star(values, neighbours, alpha=alpha, correction="fdr_bh")
        regions_by_code = {r.code: r for r in Region.objects.filter(version=NUTS_VERSION, level=3)}
        for index in np.flatnonzero((stats["gi_star"].to_numpy() > 0) & (stats["p_value"].to_numpy() < alpha)):
            region = regions_by_code[codes[index]]
            members = list(Organisation.objects.filter(kind__in=SOCIAL_ECONOMY_KINDS, region=region)
                           .values_list("pk", flat=True))
            found.append((CandidateConcentration(
                method=CandidateMethod.HOT_SPOT, region=region,
                label=f"{region.name_latn} ({region.code}): hot spot of social economy organisations, "
                      f"Gi* z = {stats['gi_star'].iloc[index]:.2f}",
                centroid_lon=region.label_lon, centroid_lat=region.label_lat, organisation_count=int(values[index]),
                score=float(stats["gi_star"].iloc[index]), parameters=parameters,
            ), members))
            report.hot_spots += 1

    with transaction.atomic():
        proposed = CandidateConcentration.objects.filter(status=CandidateStatus.PROPOSED)
        report.replaced = proposed.count()
        report.kept = CandidateConcentration.objects.exclude(status=CandidateStatus.PROPOSED).count()
        if dry_run:
            return report
        proposed.delete()
        for candidate, members in found:
            candidate.save()
            candidate.organisations.set(members)
    return report


def review_candidate(*, user: User, candidate_id: int, decision: str, note: str) -> Any:
    """Accept a candidate (a draft cluster is opened for the secretariat to complete) or dismiss it.

    Only the secretariat reviews; a note is required either way, and a reviewed candidate cannot be
    reviewed again.
    """
    from socialclusters.errors import Conflict, NotFound, PermissionDenied
    from socialclusters.mapping.models import CandidateConcentration, CandidateStatus
    from socialclusters.registry.models import Cluster, ClusterKind, PublicationStatus

    if not getattr(user, "is_secretariat", False):
        raise PermissionDenied("only the secretariat reviews candidate concentrations")
    if decision not in (CandidateStatus.ACCEPTED, CandidateStatus.DISMISSED):
        raise ValidationError("expected 'accepted' or 'dismissed'", field="decision")
    note = (note or "").strip()
    if not note:
        raise ValidationError("say why: the note stays on record with the decision", field="note")
    with transaction.atomic():
        candidate = CandidateConcentration.objects.select_for_update().filter(pk=candidate_id).first()
        if candidate is None:
            raise NotFound(f"no candidate concentration {candidate_id}")
        if candidate.status != CandidateStatus.PROPOSED:
            raise Conflict(f"this candidate was already {candidate.get_status_display().lower()}")
        if decision == CandidateStatus.ACCEPTED:
            region = candidate.region
            cluster = Cluster.objects.create(
                name=candidate.label.split(":")[0][:300], kind=ClusterKind.SOCIAL_ECONOMY,
                description=f"Opened from a candidate concentration ({candidate.get_method_display()}): "
                            f"{candidate.label}. {note}",
                country=region.country if region else None, publication_status=PublicationStatus.DRAFT,
            )
            if region is not None:
                cluster.regions.add(region)
            candidate.cluster = cluster
        candidate.status = decision
        candidate.review_note = note
        candidate.reviewed_by = user
        candidate.reviewed_at = timezone.now()
        candidate.save()
    return candidate
