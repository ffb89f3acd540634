"""Read Eurostat's statistics files (TSV and SDMX-CSV) into long tables, and tell what their geo codes are.

Pure Python, numpy and pandas: no Django here. The mapping importer reads regional employment
(``nama_10r_3empers``) and business statistics with these functions, turns the long table into panels
with :meth:`socialclusters.analysis.cluster_statistics.RegionSectorPanel.from_long`, and reports the geo
codes that :func:`classify_geo_codes` does not call NUTS regions.

Both readers give the same long table, one row per observation:

- one column per dimension of the file, named as in the file, in lower case (``freq``, ``unit``,
  ``wstatus``, ``nace_r2``, ``geo``…), holding the codes as strings;
- ``time``: the period as Eurostat writes it (``"2021"``, ``"2021-Q1"``, ``"2021-01"``), a string;
- ``value``: a float, NaN where Eurostat publishes no number (``:``);
- ``flags``: Eurostat's observation flags as a string of letters, ``""`` when there is none: ``p``
  provisional, ``e`` estimated, ``b`` break in time series, ``c`` confidential, ``u`` low reliability,
  ``d`` definition differs, ``z`` not applicable… and combinations such as ``"bp"``.

Nothing is dropped silently: a missing value stays a row with NaN (and its flags, such as ``c``), and a
line that does not follow the format stops the reading with an :class:`EurostatFormatError` that names the
line (and the period, for a bad value).
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import os
import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

__all__ = [
    "EurostatFormatError",
    "classify_geo_codes",
    "iter_eurostat_tsv",
    "iter_sdmx_csv",
    "read_eurostat_tsv",
    "read_sdmx_csv",
]

RESERVED_COLUMNS = ("time", "value", "flags")
DEFAULT_CHUNKSIZE = 50_000

# A cell is a number or ':' (no value), then optionally flags: lower-case letters, usually after a space
# ("12.5 p", ": c", "7 bp"). Eurostat pads cells with spaces; those are allowed around both parts.
_CELL = re.compile(r"^\s*(?P<value>:|[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*(?P<flags>[a-z]*)\s*$")
_CELL_PATTERN = _CELL.pattern
_FLAGS = re.compile(r"^[a-z]*$")


class EurostatFormatError(ValueError):
    """A Eurostat file that does not follow its format; ``line`` is the 1-based line number, if known."""

    def __init__(self, message: str, *, line: int | None = None) -> None:
        super().__init__(f"line {line}: {message}" if line is not None else message)
        self.line = line


Source = str | os.PathLike[str] | IO[str] | IO[bytes]


@contextlib.contextmanager
def _open_text(source: Source, encoding: str) -> Iterator[IO[str]]:
    """A text stream over a path (gzip-compressed when its bytes say so) or an open text or binary file."""
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        with path.open("rb") as probe:
            compressed = probe.read(2) == b"\x1f\x8b"
        if compressed:
            with gzip.open(path, "rt", encoding=encoding, newline="") as stream:
                yield stream
        else:
            with path.open("r", encoding=encoding, newline="") as stream:
                yield stream
    elif isinstance(source, io.TextIOBase):
        yield source
    elif hasattr(source, "read"):
        # A binary stream: decode it lazily; gzip it first when it starts with gzip's magic number.
        binary: Any = source
        if hasattr(binary, "peek"):
            head = binary.peek(2)[:2]
        elif binary.seekable():
            start = binary.tell()
            head = binary.read(2)
            binary.seek(start)
        else:  # a pipe that can neither peek nor rewind: take it as uncompressed
            head = b""
        if head == b"\x1f\x8b":
            binary = gzip.GzipFile(fileobj=binary)
        text = io.TextIOWrapper(binary, encoding=encoding, newline="")
        try:
            yield text
        finally:
            unwrapped = text.detach()  # leaves the caller's file open
            if unwrapped is not source:
                unwrapped.close()  # the gzip reader made here (closing it leaves the caller's file open)
    else:
        raise TypeError(f"source must be a path or an open file, not {type(source).__name__}")


def _check_chunksize(chunksize: Any) -> int:
    if not isinstance(chunksize, int) or isinstance(chunksize, bool) or chunksize < 1:
        raise ValueError(f"chunksize must be a positive whole number of lines, got {chunksize!r}")
    return chunksize


def _check_where(where: Mapping[str, Collection[str]] | None, dimensions: list[str]) -> dict[str, set[str]]:
    if where is None:
        return {}
    if not isinstance(where, Mapping):
        raise TypeError(f"where must map dimension names to the codes to keep, not {type(where).__name__}")
    kept = {}
    for dimension, codes in where.items():
        if dimension not in dimensions:
            raise ValueError(
                f"where names {dimension!r}, which is not a dimension of the file ({', '.join(dimensions)})"
            )
        if isinstance(codes, str):
            raise TypeError(f"where[{dimension!r}] must be a collection of codes, not a single string")
        kept[dimension] = {str(code) for code in codes}
    return kept


# --- TSV -------------------------------------------------------------------------------------------------


def _parse_tsv_header(line: str) -> tuple[list[str], list[str]]:
    fields = line.rstrip("\r\n").lstrip("\ufeff").split("\t")
    key = fields[0].strip()
    separator = "\\" if "\\" in key else "/" if "/" in key else None
    if separator is None:
        raise EurostatFormatError(
            f"the header must start with the dimension codes and the time dimension, such as"
            f" 'freq,unit,nace_r2,geo\\TIME_PERIOD', got {key[:60]!r}",
            line=1,
        )
    dimension_part, _, _ = key.rpartition(separator)
    dimensions = [name.strip().lower() for name in dimension_part.split(",")]
    if any(not name for name in dimensions):
        raise EurostatFormatError(f"the header has an empty dimension name in {key!r}", line=1)
    repeated = sorted({name for name in dimensions if dimensions.count(name) > 1})
    if repeated:
        raise EurostatFormatError(f"the header repeats the dimension(s) {', '.join(repeated)}", line=1)
    clashing = [name for name in dimensions if name in RESERVED_COLUMNS]
    if clashing:
        raise EurostatFormatError(
            f"the dimension(s) {', '.join(clashing)} would clash with the columns time, value and flags", line=1
        )
    periods = [field.strip() for field in fields[1:]]
    if not periods or any(not period for period in periods):
        raise EurostatFormatError("the header must name every period column after the series key", line=1)
    repeated = sorted({period for period in periods if periods.count(period) > 1})
    if repeated:
        raise EurostatFormatError(f"the header repeats the period(s) {', '.join(repeated)}", line=1)
    return dimensions, periods


def iter_eurostat_tsv(
    source: Source,
    *,
    chunksize: int = DEFAULT_CHUNKSIZE,
    where: Mapping[str, Collection[str]] | None = None,
    encoding: str = "utf-8",
) -> Iterator[pd.DataFrame]:
    """Read a Eurostat TSV file piece by piece: one long DataFrame per ``chunksize`` series lines.

    Parameters
    ----------
    source : path, or open text or binary file
        A ``.tsv`` file as Eurostat's bulk download and its SDMX API give it, gzip-compressed or not
        (recognised by its content, not its name).
    chunksize : int, default 50,000
        Series lines per piece. Each line holds one value per period, so a piece has up to
        ``chunksize x periods`` rows.
    where : mapping of dimension name to codes, optional
        Keep only the series whose codes are among these, for example
        ``{"nace_r2": divisions, "unit": {"THS"}}``. Lines left out are checked for their shape but their
        values are not parsed, which makes filtering a large file cheap.
    encoding : str, default "utf-8"

    Yields
    ------
    pandas.DataFrame
        Columns: the file's dimensions (lower case), ``time``, ``value``, ``flags``, as described in the
        module's docstring. Pieces with no row left after ``where`` are skipped.

    Raises
    ------
    EurostatFormatError
        For a header without dimensions and periods, a line with the wrong number of fields or codes, or a
        cell that is neither a number nor ``:`` followed by optional flags. The message names the line.
    """
    yield from _tsv_pieces(source, chunksize=chunksize, where=where, encoding=encoding, columns=[])


def _tsv_pieces(
    source: Source,
    *,
    chunksize: int,
    where: Mapping[str, Collection[str]] | None,
    encoding: str,
    columns: list[str],
) -> Iterator[pd.DataFrame]:
    """The work of :func:`iter_eurostat_tsv`; fills ``columns`` with the dimensions once the header is read."""
    chunksize = _check_chunksize(chunksize)
    with _open_text(source, encoding) as stream:
        header = stream.readline()
        if not header.strip():
            raise EurostatFormatError("the file is empty: no header line", line=1)
        dimensions, periods = _parse_tsv_header(header)
        columns.extend(dimensions)
        kept = _check_where(where, dimensions)
        batch: list[tuple[int, list[str], list[str]]] = []
        field_count, code_count = len(periods) + 1, len(dimensions)
        for number, line in enumerate(stream, start=2):
            fields = line.rstrip("\r\n").split("\t")
            if len(fields) != field_count:
                if not line.strip():
                    continue
                raise EurostatFormatError(
                    f"expected {field_count} tab-separated fields (the series key and {len(periods)}"
                    f" period(s)), found {len(fields)}",
                    line=number,
                )
            key = fields[0]
            codes = [code.strip() for code in key.split(",")] if " " in key else key.split(",")
            if len(codes) != code_count or "" in codes:
                raise EurostatFormatError(
                    f"the series key {fields[0]!r} must hold {len(dimensions)} non-empty codes"
                    f" ({','.join(dimensions)})",
                    line=number,
                )
            batch.append((number, codes, fields[1:]))
            if len(batch) >= chunksize:
                frame = _tsv_batch(batch, dimensions, periods, kept)
                batch = []
                if len(frame):
                    yield frame
        if batch:
            frame = _tsv_batch(batch, dimensions, periods, kept)
            if len(frame):
                yield frame


def _tsv_batch(
    batch: list[tuple[int, list[str], list[str]]],
    dimensions: list[str],
    periods: list[str],
    kept: dict[str, set[str]],
) -> pd.DataFrame:
    if kept:
        positions = [dimensions.index(name) for name in kept]
        wanted = [codes for name, codes in kept.items()]
        batch = [item for item in batch if all(item[1][p] in w for p, w in zip(positions, wanted, strict=True))]
    count = len(batch)
    cells = [cell for _, _, row in batch for cell in row]
    parsed = _parse_cells_quickly(cells)
    values, flags = parsed if parsed is not None else _parse_cells_exactly(cells, batch, periods)
    keys = np.array([codes for _, codes, _ in batch], dtype=object).reshape(count, len(dimensions))
    columns: dict[str, Any] = {
        name: np.repeat(keys[:, position], len(periods)) for position, name in enumerate(dimensions)
    }
    columns["time"] = np.tile(np.array(periods, dtype=object), count)
    columns["value"] = values
    columns["flags"] = flags
    return pd.DataFrame(columns)


def _parse_cells_quickly(cells: list[str]) -> tuple[np.ndarray, np.ndarray] | None:
    """Values and flags of well-formed cells through pandas' C parser, or None if anything looks off.

    A cell ``"12.5 p"`` is a line of two space-separated fields for the parser, ``": c"`` a missing value
    and a flag. Anything unusual (a stray character, ``inf``, upper-case flags, a trailing space after
    the flags) sends the batch to :func:`_parse_cells_exactly`, which accepts or names the bad cell.
    """
    if not cells:
        return np.zeros(0), np.zeros(0, dtype=object)
    try:
        parsed = pd.read_csv(
            io.StringIO("\n".join(cells)), sep=" ", header=None, names=["value", "flags"],
            dtype={"value": np.float64, "flags": object}, na_values={"value": [":"]}, keep_default_na=False,
            skip_blank_lines=False, skipinitialspace=True, quoting=csv.QUOTE_NONE, engine="c",
        )
    except (ValueError, pd.errors.ParserError):
        return None
    if len(parsed) != len(cells):
        return None
    values = parsed["value"].to_numpy(dtype=np.float64)
    flags = parsed["flags"].to_numpy(dtype=object)
    if np.isinf(values).any() or not all(isinstance(f, str) and _FLAGS.match(f) for f in pd.unique(flags)):
        return None
    return values, flags


def _parse_cells_exactly(
    cells: list[str], batch: list[tuple[int, list[str], list[str]]], periods: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Values and flags cell by cell with the format's regular expression; names the first bad cell."""
    parts = pd.Series(cells, dtype=object).str.extract(_CELL_PATTERN)
    bad = parts["value"].isna().to_numpy()
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise EurostatFormatError(
            f"the value for period {periods[first % len(periods)]} is {cells[first]!r}: expected a number or"
            " ':', then optional lower-case flags (such as '12.5 p' or ': c')",
            line=batch[first // len(periods)][0],
        )
    raw_values = parts["value"].to_numpy(dtype=object)
    values = np.full(len(raw_values), np.nan)
    numbers = raw_values != ":"
    values[numbers] = raw_values[numbers].astype(np.float64)
    return values, parts["flags"].to_numpy(dtype=object)


def read_eurostat_tsv(
    source: Source,
    *,
    where: Mapping[str, Collection[str]] | None = None,
    chunksize: int = DEFAULT_CHUNKSIZE,
    encoding: str = "utf-8",
) -> pd.DataFrame:
    r"""Read a whole Eurostat TSV file into one long DataFrame.

    The file has a header line such as ``freq,unit,wstatus,nace_r2,geo\TIME_PERIOD`` followed by the
    periods, tab-separated, then one line per series: the comma-separated codes of its dimensions and one
    cell per period, each a number or ``:`` (not available), optionally followed by flags (``123.4 p``,
    ``: c``). This is the format of Eurostat's bulk download and of the ``format=TSV`` answers of its SDMX
    API (Eurostat, "API — Detailed guidelines — TSV format", wikis.ec.europa.eu).

    Parameters
    ----------
    source, where, chunksize, encoding
        As in :func:`iter_eurostat_tsv`, which this reads to the end; ``chunksize`` only bounds the work
        done at a time.

    Returns
    -------
    pandas.DataFrame
        The dimensions (lower case), ``time``, ``value`` (float, NaN for ``:``) and ``flags`` (``""`` for
        none), one row per series and period, in the file's order.

    Raises
    ------
    EurostatFormatError
        As :func:`iter_eurostat_tsv`; its message names the line.

    Examples
    --------
    >>> text = (
    ...     "freq,unit,wstatus,nace_r2,geo\\TIME_PERIOD\t2020 \t2021 \n"
    ...     "A,THS,EMP,C10,FR101\t12.5 \t13.1 p\n"
    ...     "A,THS,EMP,C10,FRZZZ\t: \t: c\n"
    ... )
    >>> read_eurostat_tsv(io.StringIO(text))
      freq unit wstatus nace_r2    geo  time  value flags
    0    A  THS     EMP     C10  FR101  2020   12.5
    1    A  THS     EMP     C10  FR101  2021   13.1     p
    2    A  THS     EMP     C10  FRZZZ  2020    NaN
    3    A  THS     EMP     C10  FRZZZ  2021    NaN     c
    """
    dimensions: list[str] = []
    pieces = list(_tsv_pieces(source, chunksize=chunksize, where=where, encoding=encoding, columns=dimensions))
    return pd.concat(pieces, ignore_index=True) if pieces else _empty_long(dimensions)


def _empty_long(dimensions: Iterable[str]) -> pd.DataFrame:
    columns: dict[str, Any] = {name: pd.Series([], dtype=object) for name in dimensions}
    columns.update(time=pd.Series([], dtype=object), value=pd.Series([], dtype=np.float64),
                   flags=pd.Series([], dtype=object))
    return pd.DataFrame(columns)


# --- SDMX-CSV ----------------------------------------------------------------------------------------------

# Columns that describe the file rather than the observation (SDMX-CSV 1.0 and 2.0 as Eurostat writes them).
_SDMX_METADATA = {"DATAFLOW", "LAST UPDATE", "STRUCTURE", "STRUCTURE_ID", "STRUCTURE_NAME", "ACTION"}


def iter_sdmx_csv(
    source: Source,
    *,
    chunksize: int = DEFAULT_CHUNKSIZE,
    where: Mapping[str, Collection[str]] | None = None,
    encoding: str = "utf-8",
) -> Iterator[pd.DataFrame]:
    """Read a Eurostat SDMX-CSV file piece by piece: one long DataFrame per ``chunksize`` observations.

    Parameters
    ----------
    source : path, or open text or binary file
        SDMX-CSV as Eurostat's API gives it (``format=SDMX-CSV``, codes only), gzip-compressed or not.
    chunksize : int, default 50,000
        Observations (lines) per piece.
    where : mapping of dimension name to codes, optional
        Keep only the observations whose codes are among these (dimension names in lower case).
    encoding : str, default "utf-8"

    Yields
    ------
    pandas.DataFrame
        The same columns as :func:`iter_eurostat_tsv`: the dimensions (the columns before
        ``TIME_PERIOD``, without ``DATAFLOW``, ``LAST UPDATE`` and the other file metadata), ``time``,
        ``value``, ``flags`` (from ``OBS_FLAG``), then any other observation attribute (such as
        ``CONF_STATUS``) in lower case.

    Raises
    ------
    EurostatFormatError
        If ``TIME_PERIOD`` or ``OBS_VALUE`` is absent, a line has too many or too few fields, or a value is
        not a number. The message names the line.
    """
    yield from _sdmx_pieces(source, chunksize=chunksize, where=where, encoding=encoding, columns=[])


def _sdmx_pieces(
    source: Source,
    *,
    chunksize: int,
    where: Mapping[str, Collection[str]] | None,
    encoding: str,
    columns: list[str],
) -> Iterator[pd.DataFrame]:
    """The work of :func:`iter_sdmx_csv`; fills ``columns`` with the output's columns once the header is read."""
    chunksize = _check_chunksize(chunksize)
    with _open_text(source, encoding) as stream:
        # The csv module rather than pandas: it tells the line of every row, and pandas would silently
        # pad a short line or take the first field of a long one for an index.
        reader = csv.reader(stream, strict=True)
        try:
            yield from _sdmx_rows(reader, chunksize=chunksize, where=where, columns=columns)
        except csv.Error as exc:
            raise EurostatFormatError(f"the file is not valid CSV: {exc}", line=reader.line_num) from exc


def _sdmx_rows(
    reader: Any, *, chunksize: int, where: Mapping[str, Collection[str]] | None, columns: list[str]
) -> Iterator[pd.DataFrame]:
    header = next(reader, None)
    if not header:
        raise EurostatFormatError("the file is empty: no header line", line=1)
    header = [name.strip().lstrip("\ufeff") for name in header]
    dimensions, attributes = _sdmx_columns(header)
    kept = _check_where(where, [name.lower() for name in dimensions])
    columns.extend(name.lower() for name in dimensions)
    columns.extend(["time", "value", "flags", *(name.lower() for name in attributes)])
    rows: list[list[str]] = []
    lines: list[int] = []
    for row in reader:
        if not row:
            continue
        if len(row) != len(header):
            raise EurostatFormatError(
                f"expected {len(header)} comma-separated fields, found {len(row)}", line=reader.line_num
            )
        rows.append(row)
        lines.append(reader.line_num)
        if len(rows) >= chunksize:
            yield from _sdmx_piece(
                pd.DataFrame(rows, columns=header, dtype=object), dimensions, attributes, kept, np.array(lines)
            )
            rows, lines = [], []
    if rows:
        yield from _sdmx_piece(
            pd.DataFrame(rows, columns=header, dtype=object), dimensions, attributes, kept, np.array(lines)
        )


def _sdmx_columns(columns: list[str]) -> tuple[list[str], list[str]]:
    for required in ("TIME_PERIOD", "OBS_VALUE"):
        if required not in columns:
            raise EurostatFormatError(
                f"the header has no {required} column (found {', '.join(columns[:12])}); is this SDMX-CSV?",
                line=1,
            )
    time_position = columns.index("TIME_PERIOD")
    dimensions = [name for name in columns[:time_position] if name.upper() not in _SDMX_METADATA]
    attributes = [
        name for name in columns[time_position + 1:]
        if name not in ("OBS_VALUE", "OBS_FLAG") and name.upper() not in _SDMX_METADATA
    ]
    lowered = [name.lower() for name in dimensions + attributes]
    clashing = [name for name in lowered if name in RESERVED_COLUMNS]
    if clashing:
        raise EurostatFormatError(f"the column(s) {', '.join(clashing)} would clash with time, value and flags", line=1)
    repeated = sorted({name for name in lowered if lowered.count(name) > 1})
    if repeated:
        raise EurostatFormatError(f"the header repeats the column(s) {', '.join(repeated)}", line=1)
    return dimensions, attributes


def _sdmx_piece(
    piece: pd.DataFrame, dimensions: list[str], attributes: list[str], kept: dict[str, set[str]], lines: np.ndarray
) -> Iterator[pd.DataFrame]:
    if kept:
        mask = np.ones(len(piece), dtype=bool)
        for name in dimensions:
            if name.lower() in kept:
                mask &= piece[name].isin(kept[name.lower()]).to_numpy()
        piece, lines = piece.loc[mask], lines[mask]
    if not len(piece):
        return
    raw = piece["OBS_VALUE"].str.strip()
    values = pd.to_numeric(raw.where(raw != ""), errors="coerce").to_numpy(dtype=np.float64)
    bad = (np.isnan(values) & (raw != "").to_numpy()) | np.isinf(values)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise EurostatFormatError(
            f"OBS_VALUE {raw.iloc[first]!r} for period {piece['TIME_PERIOD'].iloc[first]} is not a number",
            line=int(lines[first]),
        )
    columns: dict[str, Any] = {name.lower(): piece[name].str.strip().to_numpy(dtype=object) for name in dimensions}
    columns["time"] = piece["TIME_PERIOD"].str.strip().to_numpy(dtype=object)
    columns["value"] = values
    flags = piece["OBS_FLAG"].str.strip() if "OBS_FLAG" in piece.columns else pd.Series("", index=piece.index)
    columns["flags"] = flags.to_numpy(dtype=object)
    for name in attributes:
        columns[name.lower()] = piece[name].str.strip().to_numpy(dtype=object)
    yield pd.DataFrame(columns)


def read_sdmx_csv(
    source: Source,
    *,
    where: Mapping[str, Collection[str]] | None = None,
    chunksize: int = DEFAULT_CHUNKSIZE,
    encoding: str = "utf-8",
) -> pd.DataFrame:
    """Read a whole Eurostat SDMX-CSV file into the same long table as :func:`read_eurostat_tsv`.

    SDMX-CSV has one observation per line: ``DATAFLOW,LAST UPDATE,freq,unit,…,geo,TIME_PERIOD,OBS_VALUE,
    OBS_FLAG`` (SDMX-CSV 2.0 adds ``STRUCTURE``, ``STRUCTURE_ID`` and sometimes ``CONF_STATUS``). An empty
    ``OBS_VALUE`` is a missing value.

    Parameters
    ----------
    source, where, chunksize, encoding
        As in :func:`iter_sdmx_csv`.

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> text = (
    ...     "DATAFLOW,LAST UPDATE,freq,unit,nace_r2,geo,TIME_PERIOD,OBS_VALUE,OBS_FLAG\\n"
    ...     "ESTAT:NAMA_10R_3EMPERS(1.0),10/04/24 23:00:00,A,THS,C10,FR101,2021,13.1,p\\n"
    ...     "ESTAT:NAMA_10R_3EMPERS(1.0),10/04/24 23:00:00,A,THS,C10,FRZZZ,2021,,c\\n"
    ... )
    >>> read_sdmx_csv(io.StringIO(text))
      freq unit nace_r2    geo  time  value flags
    0    A  THS     C10  FR101  2021   13.1     p
    1    A  THS     C10  FRZZZ  2021    NaN     c
    """
    columns: list[str] = []
    pieces = list(_sdmx_pieces(source, chunksize=chunksize, where=where, encoding=encoding, columns=columns))
    if pieces:
        return pd.concat(pieces, ignore_index=True)
    empty = _empty_long([name for name in columns if name not in RESERVED_COLUMNS])
    return empty.reindex(columns=columns or list(empty.columns))


# --- geo codes ----------------------------------------------------------------------------------------------

# The countries NUTS covers (2016, 2021 and 2024 versions): EU-27 with EL for Greece, EFTA, the UK, and
# the candidate countries with statistical regions.
NUTS_COUNTRIES = frozenset([
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "EL", "ES", "FI", "FR", "HR", "HU", "IE", "IT", "LT",
    "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
    "CH", "IS", "LI", "NO", "UK", "AL", "ME", "MK", "RS", "TR",
])
_NUTS = re.compile(r"^(?P<country>[A-Z]{2})(?P<rest>[0-9A-Z]{0,3})$")
_EXTRA_REGIO = re.compile(r"^[A-Z]{2}Z{1,3}$")
# EU27_2020, EU28, EU15, EA20, EA19, EA, EEA30_2007, EFTA…
_AGGREGATE = re.compile(r"^(?:EU|EA|EEA|EFTA)\d*(?:_\d{4})?$")


def classify_geo_codes(codes: Iterable[Any], *, known: Collection[str] | None = None) -> pd.DataFrame:
    """Tell, for each geo code of a Eurostat file, whether it is a NUTS region and of which level.

    Parameters
    ----------
    codes : iterable of str
        Geo codes as they appear in the file (a Series keeps its index in the result).
    known : collection of str, optional
        The valid NUTS codes of the version the file uses (for example NUTS 2021's, from GISCO). A code
        shaped like a NUTS code but absent from ``known`` is then ``"unknown"``.

    Returns
    -------
    pandas.DataFrame
        One row per code, with columns

        - ``code``: the code as given;
        - ``kind``: ``"nuts"`` (a region, or a country at level 0), ``"extra_regio"`` (the NUTS codes of
          territory outside any region, ending in Z: ``FRZ``, ``FRZZ``, ``FRZZZ``), ``"aggregate"`` (a
          group of countries: ``EU27_2020``, ``EA20``…) or ``"unknown"``;
        - ``level``: the NUTS level, 0 to 3, for NUTS and extra-regio codes (nullable integer, ``<NA>``
          for the others);
        - ``country``: the NUTS country code (``EL`` for Greece, ``UK``) of NUTS and extra-regio codes,
          missing for the others;
        - ``reason``: why an unknown code is unknown, ``""`` otherwise.

    Notes
    -----
    NUTS codes are the two-letter country code followed by one character per level (Eurostat,
    Regulation (EC) No 1059/2003 and its amendments). Extra-regio codes have Z for every level below the
    country. Nothing is dropped: an importer keeps what it needs (usually ``kind == "nuts"`` at one
    level) and reports the rest.

    Examples
    --------
    >>> geo = classify_geo_codes(["FR101", "FRZZZ", "EU27_2020", "EL30", "GR30", "fr101"])
    >>> geo[["code", "kind", "level", "country"]]
            code         kind  level country
    0      FR101         nuts      3      FR
    1      FRZZZ  extra_regio      3      FR
    2  EU27_2020    aggregate   <NA>     NaN
    3       EL30         nuts      2      EL
    4       GR30      unknown   <NA>     NaN
    5      fr101      unknown   <NA>     NaN
    >>> geo.loc[geo["kind"] == "unknown", "reason"].tolist()
    ['GR is not a NUTS country code (NUTS writes EL)', 'not shaped like a NUTS or aggregate code']
    """
    if isinstance(codes, str | bytes):
        raise TypeError("codes must be a collection of codes, not a single string")
    if isinstance(known, str):
        raise TypeError("known must be a collection of codes, not a single string")
    series = codes if isinstance(codes, pd.Series) else pd.Series(list(codes), dtype=object)
    text = series.astype(object).where(series.map(lambda code: isinstance(code, str)), None)
    kinds, levels, countries, reasons = [], [], [], []
    known_set = set(known) if known is not None else None
    for code in text.to_numpy():
        kind, level, country, reason = _classify_one(code, known_set)
        kinds.append(kind)
        levels.append(level)
        countries.append(country)
        reasons.append(reason)
    return pd.DataFrame(
        {
            "code": series.to_numpy(dtype=object),
            "kind": kinds,
            "level": pd.array(levels, dtype="Int8"),
            "country": countries,
            "reason": reasons,
        },
        index=series.index,
    )


def _classify_one(code: str | None, known: set[str] | None) -> tuple[str, int | None, str | None, str]:
    if code is None:
        return "unknown", None, None, "not a code"
    if _AGGREGATE.match(code):
        return "aggregate", None, None, ""
    match = _NUTS.match(code)
    if match is None:
        return "unknown", None, None, "not shaped like a NUTS or aggregate code"
    country, level = match["country"], len(match["rest"])
    if country not in NUTS_COUNTRIES:
        hint = {"GR": " (NUTS writes EL)", "GB": " (NUTS writes UK)"}.get(country, "")
        why = f"{country} is not a NUTS country code{hint}"
    elif known is not None and code not in known and not _EXTRA_REGIO.match(code):
        why = "not among the known NUTS codes"
    else:
        kind = "extra_regio" if level and _EXTRA_REGIO.match(code) else "nuts"
        return kind, level, country, ""
    return "unknown", None, None, why
