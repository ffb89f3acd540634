"""``csv_lines``, the one writer of the project's CSV: what a spreadsheet or ``csv.reader`` gets back.

The downloads built on it (organisations, clusters, map layers, survey tables) are tested through their
endpoints in ``api/tests/test_downloads.py``, ``mapping/tests/test_map.py`` and ``surveys/tests/test_views.py``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from hypothesis import given
from hypothesis import strategies as st

from socialclusters.registry.exports import FORMULA_PREFIXES, csv_lines

# Any text but NUL, which no CSV reader is obliged to take.
CELL = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=20)


def test_lines_end_in_crlf_and_quote_only_what_needs_it() -> None:
    lines = list(csv_lines(["code", "name", "value"], [
        ["FR101", "Paris", 3],
        ["BE100", 'Région de Bruxelles-Capitale, "Brussel"', 2.5],
        ["DE300", "two\nlines", None],
    ]))
    assert lines == [
        "code,name,value\r\n",
        "FR101,Paris,3\r\n",
        'BE100,"Région de Bruxelles-Capitale, ""Brussel""",2.5\r\n',
        'DE300,"two\nlines",\r\n',
    ]


def test_text_a_spreadsheet_would_run_as_a_formula_is_neutralised() -> None:
    # A cluster name or a survey answer typed by a user must not become a formula in the reader's spreadsheet.
    lines = list(csv_lines(["a", "b", "c", "d"], [["=1+1", "@SUM(A1)", -3, True], ["-x", "a=b", 2.5, None]]))
    assert lines[1:] == ["'=1+1,'@SUM(A1),-3,true\r\n", "'-x,a=b,2.5,\r\n"]


def test_rows_are_read_only_as_the_lines_are_taken() -> None:
    taken: list[int] = []

    def rows() -> Iterator[list[int]]:
        for number in range(3):
            taken.append(number)
            yield [number]

    lines = csv_lines(["n"], rows())
    assert next(lines) == "n\r\n"
    assert taken == []
    assert next(lines) == "0\r\n"
    assert taken == [0]


@given(header=st.lists(CELL, min_size=1, max_size=4),
       rows=st.lists(st.lists(CELL, min_size=1, max_size=4), max_size=5))
def test_what_is_written_reads_back_the_same(header: list[str], rows: list[list[str]]) -> None:
    text = "".join(csv_lines(header, rows))
    expected = [[f"'{cell}" if cell.startswith(FORMULA_PREFIXES) else cell for cell in row] for row in rows]
    assert list(csv.reader(io.StringIO(text, newline=""))) == [header, *expected]
