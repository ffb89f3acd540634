"""The pure normalisation functions: the repairs real files need, and properties that must always hold."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socialclusters.registry import normalise

ALPHA2 = {"DE", "ES", "FR", "GB", "GR", "IT", "US", "BE", "FI"}
ALPHA3 = {"DEU": "DE", "ESP": "ES", "FRA": "FR", "GBR": "GB", "GRC": "GR", "ITA": "IT", "USA": "US"}


def series(*values: str) -> pd.Series:
    return pd.Series(list(values), dtype=str)


# --- search text ----------------------------------------------------------------------------------


def test_search_text_holds_lower_cased_names_town_and_domain_with_an_accent_free_copy():
    text = normalise.organisation_search_text(name="Genossenschaft Böhlen eG", alt_names=["GB Böhlen"],
                                              city="Böhlen", domain="gb.coop")
    for word in ("genossenschaft", "böhlen", "gb.coop", "bohlen"):
        assert word in text
    assert text == text.lower()


def test_search_text_skips_empty_parts_and_collapses_whitespace():
    assert normalise.organisation_search_text(name="  A   Coop ", alt_names=None, city="", domain="") == "a coop"


@given(st.text())
def test_fold_is_idempotent_and_lower_case(text):
    folded = normalise.fold(text)
    assert normalise.fold(folded) == folded
    assert folded == folded.casefold()


# --- rows split by an HTML entity -------------------------------------------------------------------


def test_realign_joins_a_name_split_at_an_entity_and_pads_the_row():
    # Header: Row, Name, Street, Country and two unnamed trailing columns, as in the .coop register.
    named = [True, True, True, True, False, False]
    row = ["1", "Perthshire Care &amp", " Wellbeing Co-operative Limited", "1 Kinnochtry", "GB"]
    assert normalise.realign_split_entities(row, named) == [
        "1", "Perthshire Care &amp; Wellbeing Co-operative Limited", "1 Kinnochtry", "GB", "", ""
    ]


def test_realign_gives_up_when_no_entity_explains_the_overflow():
    assert normalise.realign_split_entities(["1", "a", "b", "c"], [True, True, False, False]) is None


@given(st.lists(st.text(alphabet="abc", min_size=1, max_size=5), min_size=2, max_size=6),
       st.integers(min_value=0, max_value=4))
def test_realign_undoes_any_single_entity_split(fields, position):
    position = min(position, len(fields) - 1)
    original = [*fields]
    original[position] = f"{original[position]}&#39;tail"
    split = [*original[:position], original[position].split(";")[0], "tail", *original[position + 1:]]
    named = [True] * len(original) + [False]
    assert normalise.realign_split_entities(split, named) == [*original, ""]


# --- characters ------------------------------------------------------------------------------------


def test_html_entities_are_decoded_even_without_their_semicolon():
    values, changed = normalise.decode_html_entities(series("Rh&#244", "Land O&#39;Lakes", "A & B"))
    assert values.tolist() == ["Rhô", "Land O'Lakes", "A & B"]
    assert changed.tolist() == [True, True, False]


@given(st.text(alphabet="abcdeéèüößçñÅ ", max_size=30))
def test_mojibake_of_any_latin_text_is_undone(text):
    garbled = text.encode("utf-8").decode("cp1252")
    values, _ = normalise.repair_mojibake(series(garbled))
    assert values.iat[0] == text


def test_question_marks_are_repaired_from_the_clean_alternative_column():
    result = normalise.repair_misdecoded(series("Kantstra? 10", "B?hlen", "Bogot?", "Why Not 2"),
                                         series("Kantstraße", "Böhlen", "", "x"))
    assert result.values.tolist() == ["Kantstraße 10", "Böhlen", "Bogot?", "Why Not 2"]
    assert result.repaired.tolist() == [True, True, False, False]
    assert result.damaged.tolist() == [False, False, True, False]


def test_an_alternative_that_does_not_match_the_pattern_is_not_used():
    # The geocoder's town (City 2) may be another town entirely: only a matching word repairs.
    result = normalise.repair_misdecoded(series("G?teborg"), series("Stockholm"))
    assert result.values.tolist() == ["G?teborg"]
    assert result.damaged.tolist() == [True]


def test_replacement_characters_without_alternative_are_flagged():
    result = normalise.repair_misdecoded(series("Film Caf\ufffd Co-op"))
    assert result.damaged.tolist() == [True]


# --- countries ---------------------------------------------------------------------------------------


def test_country_codes_in_any_case_alpha3_or_nuts_form_become_iso_alpha2():
    result = normalise.normalise_country(series("us", "DEU", "EL", "UK", "fr "), alpha2=ALPHA2,
                                         alpha3_to_alpha2=ALPHA3)
    assert result.codes.tolist() == ["US", "DE", "GR", "GB", "FR"]
    assert result.repairs["country_case"].tolist() == [True, False, False, False, True]
    assert not result.unknown.any()


def test_unknown_country_is_reported_unless_the_alternative_column_resolves_it():
    result = normalise.normalise_country(series("Scotland", "XX", ""), alpha2=ALPHA2, alpha3_to_alpha2=ALPHA3,
                                         alternative=series("GBR", "", ""))
    assert result.codes.tolist() == ["GB", "", ""]
    assert result.unknown.tolist() == [False, True, False]
    assert result.missing.tolist() == [False, False, True]


# --- postcodes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("postcode", "country", "expected", "outcome"),
    [
        ("8003", "ES", "08003", "postcode_leading_zeros"),
        ("4564", "DE", "04564", "postcode_leading_zeros"),
        ("120", "IT", "00120", "postcode_leading_zeros"),
        ("100", "FR", "100", "postcode_ambiguous"),  # two digits short: French codes have one leading zero at most
        ("100", "BE", "100", "postcode_ambiguous"),  # Belgian codes never start with zero
        ("750011", "FR", "750011", "postcode_format"),
        ("F-75001", "FR", "75001", "postcode_prefix"),
        ("2453-1234", "US", "02453-1234", "postcode_leading_zeros"),
        ("N/A", "CO", "", "postcode_placeholder"),
        ("18/11/2018", "GB", "", "postcode_invalid"),
        ("SW1A 1AA", "GB", "SW1A 1AA", ""),
        ("75 001", "FR", "75001", ""),
    ],
)
def test_postcodes(postcode, country, expected, outcome):
    result = normalise.restore_postcodes(series(postcode), series(country))
    assert result.values.tolist() == [expected]
    outcomes = {name for name, mask in {**result.repairs, **result.flags}.items() if mask.any()}
    assert outcomes == ({outcome} if outcome else set())


def test_an_invalid_postcode_is_replaced_by_a_valid_alternative():
    result = normalise.restore_postcodes(series("18/11/2018"), series("GB"), alternative=series("PH13 9PN"))
    assert result.values.tolist() == ["PH13 9PN"]
    assert result.repairs["postcode_from_alternative"].tolist() == [True]
    assert not result.flags["postcode_invalid"].any()


@given(st.sampled_from(sorted(normalise.POSTCODE_FORMATS)), st.data())
def test_lost_leading_zeros_are_always_restored_within_the_countrys_format(country, data):
    digits, max_zeros = normalise.POSTCODE_FORMATS[country]
    zeros = data.draw(st.integers(min_value=0, max_value=max_zeros))
    rest = data.draw(st.text(alphabet="0123456789", min_size=digits - zeros, max_size=digits - zeros)
                     .filter(lambda text: not text.startswith("0")))
    original = "0" * zeros + rest
    result = normalise.restore_postcodes(series(str(int(original))), series(country))
    assert result.values.iat[0] == original


_POSTCODE_PIECES = ["0", "00000", "8003", "08003", "75001", "F-75001", "D-1234", "N/A", " 123 ", "1234 AB", "12-345",
                    "\u0661\u0662\u0663", "1234567890123", "123456789012", "", "18/11/2018", "D02 X285", "2453-1234",
                    "12 34", "\t99999"]


@settings(max_examples=200)
@given(st.lists(st.tuples(st.one_of(st.sampled_from(_POSTCODE_PIECES), st.text(alphabet="0123456789 -", max_size=8)),
                          st.sampled_from([*sorted(normalise.POSTCODE_FORMATS), "NL", "GB", "IE", "XQ", ""]),
                          st.sampled_from(_POSTCODE_PIECES)), max_size=30),
       st.booleans())
def test_postcodes_settled_for_a_whole_column_get_what_the_full_rules_give(rows, with_alternative):
    # restore_postcodes settles most rows (plain numbers of the right length) without the per-row rules.
    postcodes, countries, alternatives = (series(*column) for column in zip(*rows, strict=True)) if rows else \
        (series(), series(), series())
    alternative = alternatives if with_alternative else None
    fast = normalise.restore_postcodes(postcodes, countries, alternative)
    full = normalise._restore_postcode_rows(postcodes, countries, alternative)
    assert fast.values.tolist() == full.values.tolist()
    assert {name: mask.tolist() for name, mask in fast.repairs.items()} == \
        {name: mask.tolist() for name, mask in full.repairs.items()}
    assert {name: mask.tolist() for name, mask in fast.flags.items()} == \
        {name: mask.tolist() for name, mask in full.flags.items()}


# --- numbers, coordinates, dates -------------------------------------------------------------------------


@given(st.lists(st.one_of(st.floats(allow_nan=False, allow_infinity=False, width=32).map(lambda v: f"{v:.4f}"),
                          st.sampled_from(["", "x", "1,5", "-0"])), min_size=2, max_size=20))
def test_parsed_coordinates_are_on_earth_or_missing(values):
    half = len(values) // 2
    result = normalise.parse_coordinates(series(*values[:half]), series(*values[half:2 * half]))
    for lat, lon in zip(result.latitude, result.longitude, strict=True):
        assert math.isnan(lat) == math.isnan(lon)
        if not math.isnan(lat):
            assert -90 <= lat <= 90
            assert -180 <= lon <= 180
            assert (lat, lon) != (0, 0)


def test_coordinates_out_of_range_are_dropped_and_flagged():
    result = normalise.parse_coordinates(series("123.4", "48.85"), series("2.35", "2.35"))
    assert np.isnan(result.latitude[0])
    assert result.latitude[1] == 48.85
    assert result.flags["coordinates_out_of_range"].tolist() == [True, False]


@given(st.dates(min_value=dt.date(1700, 1, 1), max_value=dt.date(2100, 12, 31)))
@settings(max_examples=50)
def test_day_month_year_dates_without_leading_zeros_are_read(day):
    dates, invalid = normalise.parse_dates(series(f"{day.day}/{day.month}/{day.year}"))
    assert dates.tolist() == [day]
    assert not invalid.any()


def test_impossible_dates_are_flagged_not_guessed():
    dates, invalid = normalise.parse_dates(series("31/2/2000", "2000-02-30", ""))
    assert dates.tolist() == [None, None, None]
    assert invalid.tolist() == [True, True, False]


# --- web domains, activities, names -----------------------------------------------------------------------


def test_domains_lose_scheme_www_path_and_case():
    assert normalise.normalise_domain(series("HTTPS://www.Bcn.Coop/projecte/", "user@mail.example.org:8080")
                                      ).tolist() == ["bcn.coop", "mail.example.org"]


def test_uk_sic_codes_become_nace_classes_and_subclasses_their_class():
    codes, unknown = normalise.translate_uksic2007(series("UKSIC07-4711", "UKSIC07-56102", "UKSIC07-932", "oops"),
                                                   prefix="UKSIC07-")
    assert codes.tolist() == ["47.11", "56.10", "93.2", ""]
    assert unknown.tolist() == [False, False, False, True]


@given(st.text(max_size=40), st.text(max_size=40))
def test_name_similarity_is_symmetric_and_bounded(first, second):
    score = normalise.name_similarity(first, second)
    assert 0.0 <= score <= 1.0
    assert score == pytest.approx(normalise.name_similarity(second, first))


def test_legal_form_words_do_not_make_names_different():
    assert normalise.name_similarity("The Co-operative Group Limited", "CO-OPERATIVE GROUP") == 1.0
    assert normalise.name_similarity("Edinburgh Bicycle Co-operative", "Edinburgh Cycle Hire") < 0.9


def test_row_hashes_change_with_any_value():
    first = normalise.row_hashes([["a", "b"], ["1", "2"]])
    second = normalise.row_hashes([["a", "b"], ["1", "3"]])
    assert first[0] == second[0]
    assert first[1] != second[1]
    assert all(len(digest) == 40 for digest in first)


def test_the_whitespace_scan_finds_exactly_what_squeezing_would_change():
    """_unsqueezed answers, without one expression over the whole column, what this expression answers: some
    whitespace other than a lone space between two other characters of one value (values joined by NUL)."""
    import random
    import re

    from socialclusters.registry.normalise import _unsqueezed

    specification = re.compile(r"[^\S ]|  |^ | $|\x00 | \x00")
    rng = random.Random(7)
    alphabet = ["a", "é", " ", "\t", "\n", "\xa0", "\u3000", "\u200b", "\x1f", "\x0b", "\x00"]
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6)))
        assert _unsqueezed(text) == (specification.search(text) is not None), repr(text)


def test_folding_a_long_text_at_once_gives_what_folding_it_character_by_character_gives():
    """_fold_long (many values joined, marks deleted through a table of UTF-16 code units) against fold (one
    value, marks deleted by str.translate): accents, marks of every combining block, letters outside the
    Basic Multilingual Plane, ligatures, a lone surrogate."""
    import random

    from socialclusters.registry.normalise import _fold_long

    rng = random.Random(11)
    ranges = [(32, 0x2FFF), (0x300, 0x370), (0x1AB0, 0x1B00), (0x1DC0, 0x1E00), (0x20D0, 0x2100), (0xFE20, 0xFE30),
              (0x1D400, 0x1D800), (0xFB00, 0xFB07)]
    for _ in range(3_000):
        text = "".join(chr(rng.randrange(*rng.choice(ranges))) for _ in range(rng.randint(0, 12)))
        assert _fold_long(text) == normalise.fold.__wrapped__(text), repr(text)
    assert _fold_long("Spółdzielnia \ud800 Île") == "społdzielnia \ud800 ile"
