"""Writes of the mapping app: importing Eurostat regional statistics (TSV or SDMX-CSV) into ``RegionalStatistic``.

The file is read in pieces with :mod:`socialclusters.analysis.eurostat`, every observation is matched to a
NUTS 2021 region of the registry, and everything is written in one transaction: a malformed file or a bad
argument raises :class:`~socialclusters.errors.ValidationError` and writes nothing. Geo codes that are not
regions (extra-regio territory, aggregates such as ``EU27_2020``, unknown codes) are counted and listed in the
report with the reason, never dropped silently.

Re-importing the same dataset version compares every observation with the stored one: equal values and
flags count as ``unchanged``, others as ``updated``. The report's invariant is
``rows = imported + updated + unchanged + skipped``.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from django.db import transaction
from django.utils import timezone

from socialclusters.analysis.eurostat import (
    EurostatFormatError,
    classify_geo_codes,
    iter_eurostat_tsv,
    iter_sdmx_csv,
)
from socialclusters.errors import ValidationError
from socialclusters.mapping.models import Measure, RegionalStatistic
from socialclusters.registry.models import NUTS_VERSION, ImportRun, Region, Sector, Source, SourceKind

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
) -> StatisticsReport:
    """Import one Eurostat statistics file into ``RegionalStatistic``; see the module docstring.

    ``dataset`` is the Eurostat code (``nama_10r_3empers``): it names the source and decides the measure
    through :data:`DATASET_MEASURES` unless ``measure`` is given. ``version`` defaults to the file's
    modification date. ``progress(rows_done, None)`` is called after each piece.
    """
    file_path = Path(path)
    dataset = _check_arguments(file_path, file_format=file_format, dataset=dataset, measure=measure,
                               chunk_rows=chunk_rows)
    if version is None:
        version = datetime.fromtimestamp(file_path.stat().st_mtime, tz=UTC).date().isoformat()
    elif not version.strip() or len(version) > 100:
        raise ValidationError("the version must be 1 to 100 characters", field="version")
    report = StatisticsReport(path=str(file_path), dataset=dataset, file_format=file_format, source_name=dataset,
                              source_version=version, measure_override=measure or "", dry_run=dry_run)
    started = time.perf_counter()
    regions = dict(Region.objects.filter(version=NUTS_VERSION).values_list("code", "id"))
    sectors = set(Sector.objects.values_list("code", flat=True))
    reader = iter_eurostat_tsv if file_format == "eurostat-tsv" else iter_sdmx_csv
    try:
        with transaction.atomic():
            run = ImportRun.objects.create(mapping=f"statistics:{dataset}", path=str(file_path)[:1000],
                                           dry_run=dry_run, started_by=user)
            source = _dataset_source(dataset, version, file_path)
            run.source = source
            seen: set[tuple[Any, ...]] = set()
            for piece in _pieces(reader(file_path, chunksize=chunk_rows), file_path):
                rows = _observations(piece, report, regions=regions, sectors=sectors, dataset=dataset,
                                     measure=measure, seen=seen)
                _write(rows, source=source, report=report)
                if progress is not None:
                    progress(report.rows, None)
            if report.rows == 0:
                raise ValidationError(f"{file_path}: the file has a header but no observations: nothing to import",
                                      line=2)
            report.committed = not dry_run
            report.seconds = time.perf_counter() - started
            if dry_run:
                raise _Rollback
            report.import_run = run.pk
            run.report = report.as_dict()
            run.committed = True
            run.finished_at = timezone.now()
            run.save(update_fields=["report", "committed", "finished_at", "source"])
    except _Rollback:
        pass
    report.seconds = time.perf_counter() - started
    return report


def _check_arguments(path: Path, *, file_format: str, dataset: str, measure: str | None, chunk_rows: int) -> str:
    if file_format not in FILE_FORMATS:
        raise ValidationError(f"unknown format {file_format!r}: use one of {', '.join(FILE_FORMATS)}",
                              field="format")
    dataset = (dataset or "").strip().lower()
    if not re.fullmatch(r"[a-z0-9_$]{1,100}", dataset):
        raise ValidationError(f"{dataset!r} is not a Eurostat dataset code (such as nama_10r_3empers)",
                              field="dataset")
    if measure is not None and measure not in Measure.values:
        raise ValidationError(f"unknown measure {measure!r}: use one of {', '.join(Measure.values)}",
                              field="measure")
    if measure is None and dataset not in DATASET_MEASURES:
        raise ValidationError(
            f"no measure is known for dataset {dataset} (known: {', '.join(sorted(DATASET_MEASURES))}):"
            f" give one with --measure ({', '.join(Measure.values)})", field="measure",
        )
    if chunk_rows < 1:
        raise ValidationError(f"chunk_rows must be at least 1, got {chunk_rows}", field="chunk_rows")
    if not path.is_file():
        raise ValidationError(f"{path}: no such file", field="path")
    return dataset


def _pieces(pieces: Iterator[pd.DataFrame], path: Path) -> Iterator[pd.DataFrame]:
    """The reader's pieces, with its format errors turned into the project's error (naming the line)."""
    try:
        for piece in pieces:
            for required in ("geo", "unit"):
                if required not in piece.columns:
                    raise ValidationError(f"{path}: the file has no {required} dimension", line=1, field=required)
            yield piece
    except EurostatFormatError as exc:
        message = str(exc).removeprefix(f"line {exc.line}: ") if exc.line is not None else str(exc)
        raise ValidationError(f"{path}: {message}", line=exc.line) from None
    except UnicodeDecodeError as exc:
        raise ValidationError(f"{path}: the file is not UTF-8 text ({exc.reason})") from None


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
