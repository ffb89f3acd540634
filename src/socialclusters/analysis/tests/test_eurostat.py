"""Eurostat TSV and SDMX-CSV readers, and the classification of geo codes."""

from __future__ import annotations

import gzip
import io

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socialclusters.analysis.eurostat import (
    EurostatFormatError,
    classify_geo_codes,
    iter_eurostat_tsv,
    iter_sdmx_csv,
    read_eurostat_tsv,
    read_sdmx_csv,
)

SAMPLE = (
    "freq,unit,wstatus,nace_r2,geo\\TIME_PERIOD\t2019 \t2020 \t2021 \n"
    "A,THS,EMP,C10,AT111\t1.2 \t: \t1.4 p\n"
    "A,THS,EMP,C10,AT112\t: c\t0.8 e\t0.9 bp\n"
    "A,THS,EMP,J62,AT111\t12 \t13 u\t-0.5 \n"
)


def test_values_missing_values_and_flags_are_read():
    table = read_eurostat_tsv(io.StringIO(SAMPLE))
    assert list(table.columns) == ["freq", "unit", "wstatus", "nace_r2", "geo", "time", "value", "flags"]
    assert len(table) == 9
    assert table["time"].tolist()[:3] == ["2019", "2020", "2021"]
    assert table["geo"].tolist() == ["AT111"] * 3 + ["AT112"] * 3 + ["AT111"] * 3
    np.testing.assert_array_equal(table["value"], [1.2, np.nan, 1.4, np.nan, 0.8, 0.9, 12.0, 13.0, -0.5])
    assert table["flags"].tolist() == ["", "", "p", "c", "e", "bp", "", "u", ""]


def test_unusual_but_valid_cells_are_read_too():
    # Flags glued to the value, spaces around, a plus sign, an exponent: not what Eurostat writes today,
    # but within the format.
    text = "freq,geo\\TIME_PERIOD\t2019\t2020\t2021\t2022\nA,AT1\t12.5p\t 7  p \t+3\t1.5e3 e\n"
    table = read_eurostat_tsv(io.StringIO(text))
    assert table["value"].tolist() == [12.5, 7.0, 3.0, 1500.0]
    assert table["flags"].tolist() == ["p", "p", "", "e"]


def test_files_compressed_or_not_paths_and_streams_read_the_same(tmp_path):
    plain = tmp_path / "nama_10r_3empers.tsv"
    plain.write_text("\ufeff" + SAMPLE.replace("\n", "\r\n"), encoding="utf-8")  # a BOM and Windows line ends
    packed = tmp_path / "nama_10r_3empers.tsv.gz"
    packed.write_bytes(gzip.compress(SAMPLE.encode()))
    expected = read_eurostat_tsv(io.StringIO(SAMPLE))
    compressed = gzip.compress(SAMPLE.encode())
    sources = [plain, str(packed), io.BytesIO(SAMPLE.encode()), io.BytesIO(compressed),
               io.BufferedReader(io.BytesIO(compressed))]
    for source in sources:
        pd.testing.assert_frame_equal(read_eurostat_tsv(source), expected)


def test_streaming_in_chunks_gives_the_same_rows():
    pieces = list(iter_eurostat_tsv(io.StringIO(SAMPLE), chunksize=1))
    assert [len(piece) for piece in pieces] == [3, 3, 3]
    pd.testing.assert_frame_equal(pd.concat(pieces, ignore_index=True), read_eurostat_tsv(io.StringIO(SAMPLE)))


def test_where_keeps_only_the_wanted_series():
    table = read_eurostat_tsv(io.StringIO(SAMPLE), where={"nace_r2": ["C10"], "geo": {"AT112", "AT999"}})
    assert set(table["geo"]) == {"AT112"}
    assert len(table) == 3
    nothing = read_eurostat_tsv(io.StringIO(SAMPLE), where={"geo": []})
    assert nothing.empty
    assert list(nothing.columns) == ["freq", "unit", "wstatus", "nace_r2", "geo", "time", "value", "flags"]
    with pytest.raises(ValueError, match="where names 'country', which is not a dimension"):
        read_eurostat_tsv(io.StringIO(SAMPLE), where={"country": ["AT"]})
    with pytest.raises(TypeError, match="where\\['geo'\\] must be a collection of codes"):
        read_eurostat_tsv(io.StringIO(SAMPLE), where={"geo": "AT111"})


def test_a_filtered_out_line_is_still_checked_for_shape():
    broken = SAMPLE + "A,THS,EMP,Q88,AT113\t1 \t2 \n"
    with pytest.raises(EurostatFormatError, match="line 5: expected 4 tab-separated fields"):
        read_eurostat_tsv(io.StringIO(broken), where={"nace_r2": ["C10"]})


def test_an_older_header_and_a_header_only_file():
    older = "unit,nace_r2,geo\\time\t2021 \nTHS,C10,AT111\t3 \n"
    assert read_eurostat_tsv(io.StringIO(older))["value"].tolist() == [3.0]
    empty = read_eurostat_tsv(io.StringIO("freq,geo\\TIME_PERIOD\t2021\n"))
    assert empty.empty
    assert list(empty.columns) == ["freq", "geo", "time", "value", "flags"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("freq,geo,TIME_PERIOD\t2021\n", r"line 1: the header must start with the dimension codes"),
        ("freq,,geo\\TIME_PERIOD\t2021\n", "line 1: the header has an empty dimension name"),
        ("geo,geo\\TIME_PERIOD\t2021\n", "line 1: the header repeats the dimension"),
        ("geo,value\\TIME_PERIOD\t2021\n", "would clash with the columns time, value and flags"),
        ("freq,geo\\TIME_PERIOD\t2021\t2021\n", "line 1: the header repeats the period"),
        ("freq,geo\\TIME_PERIOD\n", "line 1: the header must name every period"),
        ("freq,geo\\TIME_PERIOD\t2020\t2021\nA,AT111\t1\n", "line 2: expected 3 tab-separated fields"),
        ("freq,geo\\TIME_PERIOD\t2021\nA,AT111,X\t1\n", "line 2: the series key 'A,AT111,X' must hold 2"),
        ("freq,geo\\TIME_PERIOD\t2021\nA,\t1\n", "line 2: the series key"),
        ("freq,geo\\TIME_PERIOD\t2020\t2021\nA,AT1\t1\t2\nA,AT2\t3\t12,5 p\n",
         "line 3: the value for period 2021 is '12,5 p'"),
        ("freq,geo\\TIME_PERIOD\t2021\nA,AT1\tn/a\n", "line 2: the value for period 2021 is 'n/a'"),
        ("freq,geo\\TIME_PERIOD\t2021\nA,AT1\t1 P\n",
         "line 2: .* expected a number or ':', then optional lower-case flags"),
    ],
)
def test_malformed_files_are_refused_naming_the_line(text, message):
    with pytest.raises(EurostatFormatError, match=message) as raised:
        read_eurostat_tsv(io.StringIO(text))
    if "line " in message:
        assert raised.value.line == int(message.split("line ")[1].split(":")[0])


@pytest.mark.parametrize(
    ("keywords", "error", "message"),
    [
        ({"chunksize": 0}, ValueError, "chunksize must be a positive whole number"),
        ({"chunksize": True}, ValueError, "chunksize"),
        ({"where": ["geo"]}, TypeError, "where must map dimension names"),
    ],
)
def test_bad_arguments_are_named(keywords, error, message):
    with pytest.raises(error, match=message):
        read_eurostat_tsv(io.StringIO(SAMPLE), **keywords)
    with pytest.raises(TypeError, match="source must be a path or an open file"):
        read_eurostat_tsv(42)  # type: ignore[arg-type]


# --- a round trip through both formats ---------------------------------------------------------------------

codes = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_", min_size=1, max_size=6)
flag_letters = st.text(alphabet="bcdefnpruz", max_size=2)
observations = st.tuples(
    st.one_of(st.none(), st.floats(-1e9, 1e9, allow_nan=False, allow_infinity=False)), flag_letters
)


@st.composite
def eurostat_tables(draw):  # type: ignore[no-untyped-def]
    dimensions = draw(st.lists(st.sampled_from(["freq", "unit", "nace_r2", "geo", "sex"]), min_size=1, max_size=4,
                               unique=True))
    periods = draw(st.lists(st.sampled_from(["2018", "2019", "2020", "2021-Q1", "2021-M02"]), min_size=1, max_size=4,
                            unique=True))
    keys = draw(st.lists(st.tuples(*[codes] * len(dimensions)), min_size=0, max_size=8, unique=True))
    cells = [[draw(observations) for _ in periods] for _ in keys]
    return dimensions, periods, keys, cells


def as_tsv(dimensions, periods, keys, cells) -> str:  # type: ignore[no-untyped-def]
    lines = [",".join(dimensions) + "\\TIME_PERIOD\t" + "\t".join(f"{period} " for period in periods)]
    for key, row in zip(keys, cells, strict=True):
        rendered = [(":" if value is None else repr(value)) + " " + flags for value, flags in row]
        lines.append(",".join(key) + "\t" + "\t".join(rendered))
    return "\n".join(lines) + "\n"


def as_sdmx_csv(dimensions, periods, keys, cells) -> str:  # type: ignore[no-untyped-def]
    lines = ["DATAFLOW,LAST UPDATE," + ",".join(dimensions) + ",TIME_PERIOD,OBS_VALUE,OBS_FLAG"]
    for key, row in zip(keys, cells, strict=True):
        for period, (value, flags) in zip(periods, row, strict=True):
            rendered = "" if value is None else repr(value)
            lines.append(f"ESTAT:TEST(1.0),01/01/25 00:00:00,{','.join(key)},{period},{rendered},{flags}")
    return "\n".join(lines) + "\n"


@settings(max_examples=50, deadline=None)
@given(table=eurostat_tables(), chunksize=st.integers(1, 5))
def test_whatever_is_written_in_either_format_is_read_back(table, chunksize):
    dimensions, periods, keys, cells = table
    from_tsv = read_eurostat_tsv(io.StringIO(as_tsv(*table)), chunksize=chunksize)
    from_csv = read_sdmx_csv(io.StringIO(as_sdmx_csv(*table)), chunksize=chunksize)
    assert list(from_tsv.columns) == [*dimensions, "time", "value", "flags"]
    assert len(from_tsv) == len(keys) * len(periods)
    expected_values = [np.nan if value is None else value for row in cells for value, _ in row]
    np.testing.assert_array_equal(from_tsv["value"].to_numpy(dtype=float), expected_values)
    assert from_tsv["flags"].tolist() == [flags for row in cells for _, flags in row]
    assert from_tsv["time"].tolist() == periods * len(keys)
    for position, dimension in enumerate(dimensions):
        assert from_tsv[dimension].tolist() == [key[position] for key in keys for _ in periods]
    if len(from_tsv):
        pd.testing.assert_frame_equal(from_csv, from_tsv, check_dtype=False)


# --- SDMX-CSV ---------------------------------------------------------------------------------------------

SDMX = (
    "STRUCTURE,STRUCTURE_ID,freq,unit,nace_r2,geo,TIME_PERIOD,OBS_VALUE,OBS_FLAG,CONF_STATUS\n"
    "dataflow,ESTAT:NAMA_10R_3EMPERS(1.0),A,THS,C10,AT111,2020,,c,C\n"
    "dataflow,ESTAT:NAMA_10R_3EMPERS(1.0),A,THS,C10,AT111,2021, 1.4 ,p,\n"
    "dataflow,ESTAT:NAMA_10R_3EMPERS(1.0),A,THS,C10,AT112,2021,2e3,,\n"
)


def test_sdmx_csv_2_metadata_is_dropped_and_attributes_are_kept():
    table = read_sdmx_csv(io.StringIO(SDMX))
    assert list(table.columns) == ["freq", "unit", "nace_r2", "geo", "time", "value", "flags", "conf_status"]
    np.testing.assert_array_equal(table["value"], [np.nan, 1.4, 2000.0])
    assert table["flags"].tolist() == ["c", "p", ""]
    assert table["conf_status"].tolist() == ["C", "", ""]
    pieces = list(iter_sdmx_csv(io.BytesIO(gzip.compress(SDMX.encode())), chunksize=2, where={"geo": ["AT111"]}))
    assert [len(piece) for piece in pieces] == [2]
    assert read_sdmx_csv(io.StringIO(SDMX), where={"geo": []}).columns.tolist() == list(table.columns)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("freq,geo,OBS_VALUE\nA,AT1,1\n", "line 1: the header has no TIME_PERIOD column"),
        ("freq,geo,TIME_PERIOD\nA,AT1,2021\n", "line 1: the header has no OBS_VALUE column"),
        ("freq,geo,TIME_PERIOD,OBS_VALUE\nA,AT1,2021,1\nA,AT2,2021,one\n", "line 3: OBS_VALUE 'one' for period 2021"),
        ("freq,geo,TIME_PERIOD,OBS_VALUE\nA,AT1,2021,1\nA,AT2\n", "line 3: expected 4 comma-separated fields"),
        ("freq,geo,TIME_PERIOD,OBS_VALUE\nA,AT1,2021,1,9\n", "line 2: expected 4 comma-separated fields, found 5"),
        ('freq,geo,TIME_PERIOD,OBS_VALUE\nA,AT1,2021,"1\n', "line 2: .*not valid CSV"),
        ("time,TIME_PERIOD,OBS_VALUE\nA,2021,1\n", "would clash"),
    ],
)
def test_malformed_sdmx_csv_is_refused_naming_the_line(text, message):
    with pytest.raises(EurostatFormatError, match=message):
        read_sdmx_csv(io.StringIO(text))


# --- geo codes --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "kind", "level", "country"),
    [
        ("DE", "nuts", 0, "DE"),
        ("DE1", "nuts", 1, "DE"),
        ("DEA2", "nuts", 2, "DE"),
        ("DEA23", "nuts", 3, "DE"),
        ("EL303", "nuts", 3, "EL"),
        ("UKI31", "nuts", 3, "UK"),
        ("FRZ", "extra_regio", 1, "FR"),
        ("FRZZ", "extra_regio", 2, "FR"),
        ("FRZZZ", "extra_regio", 3, "FR"),
        ("EU27_2020", "aggregate", None, None),
        ("EU28", "aggregate", None, None),
        ("EA20", "aggregate", None, None),
        ("EEA30_2007", "aggregate", None, None),
        ("EFTA", "aggregate", None, None),
        ("GR30", "unknown", None, None),
        ("XK", "unknown", None, None),
        ("DE1234", "unknown", None, None),
        ("de1", "unknown", None, None),
        (" DE1", "unknown", None, None),
        ("", "unknown", None, None),
        (None, "unknown", None, None),
        (75001, "unknown", None, None),
    ],
)
def test_geo_codes_are_classified(code, kind, level, country):
    row = classify_geo_codes([code]).iloc[0]
    assert row["kind"] == kind
    assert (pd.isna(row["level"]) and level is None) or row["level"] == level
    assert (pd.isna(row["country"]) and country is None) or row["country"] == country
    assert (row["reason"] == "") == (kind != "unknown")


def test_known_codes_narrow_nuts_but_not_extra_regio():
    result = classify_geo_codes(pd.Series(["FR101", "FR109", "FRZZZ"], index=[10, 20, 30]), known={"FR101"})
    assert result.index.tolist() == [10, 20, 30]
    assert result["kind"].tolist() == ["nuts", "unknown", "extra_regio"]
    assert result.loc[20, "reason"] == "not among the known NUTS codes"
    with pytest.raises(TypeError, match="codes must be a collection"):
        classify_geo_codes("FR101")
    with pytest.raises(TypeError, match="known must be a collection"):
        classify_geo_codes(["FR101"], known="FR101")
