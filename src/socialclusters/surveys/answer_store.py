"""The analysis copy of sent answers: one packed row of 8-byte slots per sent response.

The analysis page needs every answer of a survey at once (5.5 million for 100,000 responses to a
60-question survey). Read as ``Answer`` rows, one JSON value each, that takes tens of seconds; read as one
``AnalysisRow`` per response, a binary string of one little-endian 64-bit slot per question of the
response's questionnaire version, it takes a fraction of a second and turns into numpy arrays without a
Python loop over answers.

A sent response is final and a published version is immutable, so a packed row never goes stale: it is
written once, in the transaction that sends or imports the response (:func:`pack_responses`). Rows missing
for any reason (responses written before this table existed, or by hand) are packed on the next read
(:func:`ensure_rows`), so the copy always covers every sent response.

Slot of each question kind (questions in primary-key order; ``-1`` is "no answer"):

- single choice: position of the value among the version's options;
- Likert: the scale point (1 … n);
- country, NUTS region, NACE: the code's ASCII bytes (at most 8, as validated codes are), big-endian;
- number: the float64 bits (NaN for no answer);
- multiple choice: a bit mask over the version's options (bit i for option i, at most 62 options);
- free text, matrix: 1 when answered (their values stay in ``Answer`` rows).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from django.db import connection, transaction
from django.db.models import TextField
from django.db.models.functions import Cast

from socialclusters.surveys.models import (
    AnalysisRow,
    Answer,
    Question,
    QuestionKind,
    Response,
    ResponseStatus,
    Survey,
)

NONE = -1
MAX_OPTIONS = 62
CODE_KINDS = frozenset({QuestionKind.COUNTRY, QuestionKind.REGION, QuestionKind.NACE})
CHOICE_KINDS = frozenset({QuestionKind.SINGLE, QuestionKind.LIKERT}) | CODE_KINDS
PACK_BATCH = 2000


@dataclass(frozen=True)
class Layout:
    """The slots of one questionnaire version: its questions' codes, kinds and option values, in order."""

    version_id: int
    codes: tuple[str, ...]
    kinds: tuple[str, ...]
    options: tuple[tuple[str, ...], ...]

    @property
    def width(self) -> int:
        return len(self.codes)


def layouts(version_ids: Iterable[int]) -> dict[int, Layout]:
    """The layout of each version, from its questions in primary-key order (published versions never change)."""
    found: dict[int, list[Question]] = {v: [] for v in version_ids}
    for question in Question.objects.filter(version_id__in=list(found)).order_by("pk"):
        found[question.version_id].append(question)
    return {v: Layout(v, tuple(q.code for q in qs), tuple(q.kind for q in qs),
                      tuple(tuple(q.option_values()) for q in qs)) for v, qs in found.items()}


def pack_code(text: str) -> int:
    """An ASCII code of at most 8 characters as a non-negative int64 (``-1`` when it does not fit).

    >>> unpack_code(pack_code("FR101")), pack_code("Österreich")
    ('FR101', -1)
    """
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        return NONE
    if not raw or len(raw) > 8 or raw[0] >= 0x80:
        return NONE
    return int.from_bytes(raw.rjust(8, b"\0"), "big")


def unpack_code(value: int) -> str:
    return int(value).to_bytes(8, "big").lstrip(b"\0").decode("ascii")


def _slot(kind: str, options: Sequence[str], value: Any) -> int:  # noqa: PLR0911 - one branch per kind
    if value is None:
        return NONE
    if kind == QuestionKind.SINGLE:
        text = str(value)
        return options.index(text) if text in options else NONE
    if kind == QuestionKind.LIKERT:
        try:
            level = float(value)
        except (TypeError, ValueError):
            return NONE
        return int(level) if level >= 1 and level == int(level) else NONE
    if kind in CODE_KINDS:
        return pack_code(str(value))
    if kind == QuestionKind.NUMBER:
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            number = float("nan")
        return int(np.array(number, dtype="<f8").view("<i8"))
    if kind == QuestionKind.MULTIPLE:
        items = value if isinstance(value, list) else [value]
        mask = 0
        for item in items:
            text = str(item)
            if text in options and options.index(text) < MAX_OPTIONS:
                mask |= 1 << options.index(text)
        return mask
    return 1


def pack(layout: Layout, values: dict[str, Any]) -> bytes:
    """One response's answers (question code → stored value) as its packed row."""
    slots = np.full(layout.width, NONE, dtype="<i8")
    for i, (code, kind, options) in enumerate(zip(layout.codes, layout.kinds, layout.options, strict=True)):
        if kind == QuestionKind.NUMBER:
            slots[i] = _slot(kind, options, values.get(code))
        elif code in values:
            slots[i] = _slot(kind, options, values[code])
    return slots.tobytes()


def _raw_rows(queryset: Any) -> list[tuple[Any, ...]]:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def pack_responses(response_ids: Sequence[int]) -> int:
    """Pack the given sent responses (those already packed are left alone); returns how many were packed.

    Called in the transaction that sends or imports responses, and by :func:`ensure_rows`.
    """
    packed = 0
    ids = sorted(set(response_ids))
    for start in range(0, len(ids), PACK_BATCH):
        batch = ids[start:start + PACK_BATCH]
        heads = list(Response.objects.filter(pk__in=batch, status=ResponseStatus.SUBMITTED,
                                             analysis_row__isnull=True).values_list("pk", "survey_id", "version_id",
                                                                                    "cluster_id"))
        if not heads:
            continue
        by_version = layouts({head[2] for head in heads})
        values: dict[int, dict[str, Any]] = {head[0]: {} for head in heads}
        texts = Answer.objects.filter(response_id__in=list(values)).annotate(
            text=Cast("value", TextField())).values_list("response_id", "question__code", "text")
        for response_id, code, text in _raw_rows(texts):
            values[response_id][code] = json.loads(text) if isinstance(text, str) else text
        with transaction.atomic():
            AnalysisRow.objects.bulk_create(
                [AnalysisRow(response_id=pk, survey_id=survey_id, version_id=version_id, cluster_id=cluster_id,
                             slots=pack(by_version[version_id], values[pk]))
                 for pk, survey_id, version_id, cluster_id in heads],
                ignore_conflicts=True)
        packed += len(heads)
    return packed


def ensure_rows(survey: Survey) -> int:
    """Pack every sent response of the survey that has no packed row yet; returns how many were packed."""
    missing = list(Response.objects.filter(survey=survey, status=ResponseStatus.SUBMITTED,
                                           analysis_row__isnull=True).values_list("pk", flat=True))
    return pack_responses(missing) if missing else 0


# --- reading: packed rows to the columns of one analysis ------------------------------------------------


def _categorical(parts: list[tuple[np.ndarray, np.ndarray, str, tuple[str, ...]]], total: int) -> pd.Categorical:
    """Choice answers of several versions (row positions, slots, the version's kind and options) as one
    categorical of their stored values (option values, scale points or codes)."""
    categories: list[Any] = []
    position: dict[Any, int] = {}
    codes = np.full(total, -1, dtype=np.int64)
    for rows, slots, kind, options in parts:
        if kind in CODE_KINDS or kind == QuestionKind.LIKERT:
            inverse, uniques = pd.factorize(slots)  # hashing: linear, where sorting is not
            answered = uniques != NONE
            decode = unpack_code if kind in CODE_KINDS else int
            values = [decode(u) if known else None for u, known in zip(uniques, answered, strict=True)]
        else:
            inverse, values = slots, list(options)
            answered = np.ones(len(values), dtype=bool)
        for value, known in zip(values, answered, strict=True):
            if known and value not in position:
                position[value] = len(categories)
                categories.append(value)
        # The last entry answers slot -1 (no answer): indexing with -1 reads it.
        lookup = np.array([position[v] if known else -1 for v, known in zip(values, answered, strict=True)] + [-1],
                          dtype=np.int64)
        codes[rows] = lookup[inverse]
    return pd.Categorical.from_codes(codes, categories=pd.Index(categories, dtype=object))


def _mask(parts: list[tuple[np.ndarray, np.ndarray, str, tuple[str, ...]]], total: int,
          options: tuple[str, ...]) -> np.ndarray:
    masks = np.full(total, -1, dtype=np.int64)
    for all_rows, all_slots, _kind, old in parts:
        present = all_slots != NONE
        rows, slots = all_rows[present], all_slots[present]
        remapped = np.zeros(len(slots), dtype=np.int64)
        for i, value in enumerate(old[:MAX_OPTIONS]):
            if value in options and options.index(value) < MAX_OPTIONS:
                remapped |= ((slots >> i) & 1) << options.index(value)
        masks[rows] = remapped
    return masks


def _present(kind: str, slots: np.ndarray) -> np.ndarray:
    if kind == QuestionKind.NUMBER:
        return ~np.isnan(slots.view("<f8"))
    return slots != NONE


def read(survey: Survey, questions: Sequence[Question]) -> tuple[pd.DataFrame, pd.Series]:
    """The sent answers of the survey as one column per question (by code, answers to every version
    together) and each response's cluster id, indexed by response id.

    Columns: a categorical of stored values for choice, Likert and code questions; float64 for numbers;
    int64 bit masks over the question's options for multiple choice (-1 for no answer); float64 1.0/NaN
    for free text and matrix questions (only counted).
    """
    queryset = AnalysisRow.objects.filter(survey=survey).order_by("response_id").values_list(
        "response_id", "version_id", "cluster_id", "slots")
    rows = _raw_rows(queryset)
    if len(rows) < Response.objects.filter(survey=survey, status=ResponseStatus.SUBMITTED).count():
        ensure_rows(survey)
        rows = _raw_rows(queryset)
    total = len(rows)
    index = pd.Index(np.fromiter((r[0] for r in rows), dtype=np.int64, count=total))
    clusters = pd.Series([r[2] for r in rows], index=index, dtype=object)
    versions = np.fromiter((r[1] for r in rows), dtype=np.int64, count=total)
    by_version = layouts(np.unique(versions).tolist())
    matrices: dict[int, tuple[np.ndarray, np.ndarray, Layout]] = {}
    for version_id, layout in by_version.items():
        positions = np.flatnonzero(versions == version_id)
        blob = b"".join(rows[i][3] for i in positions)
        if len(blob) != len(positions) * layout.width * 8:
            raise RuntimeError(f"packed answers of version {version_id} do not match its {layout.width} questions")
        # Column-major, so that each question's answers are contiguous in memory.
        matrix = np.frombuffer(blob, dtype="<i8").reshape(len(positions), layout.width)
        matrices[version_id] = (positions, np.ascontiguousarray(matrix.T), layout)
    columns: dict[str, Any] = {}
    for question in questions:
        parts = []
        for positions, matrix, layout in matrices.values():
            if question.code in layout.codes:
                i = layout.codes.index(question.code)
                parts.append((positions, matrix[i], layout.kinds[i], layout.options[i]))
        columns[question.code] = _column(question, parts, total)
    return pd.DataFrame(columns, index=index), clusters


def _column(question: Question, parts: list[tuple[np.ndarray, np.ndarray, str, tuple[str, ...]]],
            total: int) -> Any:
    """One question's column; answers given under another kind in an earlier version are left out, except
    for counted-only questions (free text, matrix), where any answer counts."""
    kind = question.kind
    same = [p for p in parts if p[2] == kind or (p[2] in CHOICE_KINDS and kind in CHOICE_KINDS)]
    if kind in CHOICE_KINDS:
        return _categorical(same, total)
    if kind == QuestionKind.MULTIPLE:
        return _mask(same, total, tuple(question.option_values()))
    if kind == QuestionKind.NUMBER:
        numbers = np.full(total, np.nan)
        for rows, slots, _kind, _options in same:
            numbers[rows] = slots.view("<f8")
        return numbers
    answered = np.full(total, np.nan)
    for rows, slots, old_kind, _options in parts:
        answered[rows[_present(old_kind, slots)]] = 1.0
    return answered

