"""Survey statistics: response rates, frequencies, cross-tabulations, Likert and numeric summaries, the
anonymity threshold, agreement between coders and comparison tests with effect sizes.

Pure numpy, pandas and scipy: no Django here. ``surveys.selectors`` builds a wide table of answers
(one row per response, one column per question) and calls :func:`analyse`; the tests check each
figure against values computed by hand.

Every result carries its base ``n`` (the number of respondents it counts), and every test says which
test it is, its effect size and the name of that effect size, so that no figure is shown without the
number of answers behind it and no p-value without its size.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "ANONYMITY_THRESHOLD",
    "Comparison",
    "KappaResult",
    "QuestionSpec",
    "analyse",
    "chi_square_test",
    "cohen_kappa",
    "crosstab",
    "frequencies",
    "kruskal_wallis_test",
    "likert_summary",
    "mann_whitney_test",
    "numeric_summary",
    "response_rates",
    "suppress_small_groups",
]

ANONYMITY_THRESHOLD = 5
CATEGORICAL_KINDS = frozenset({"single", "likert", "country", "region", "nace"})


def _series(values: Any, name: str) -> pd.Series:
    if isinstance(values, pd.Series):
        return values
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
        raise TypeError(f"{name} must be a sequence of values, not {type(values).__name__}")
    return pd.Series(list(values), dtype=object)


def response_rates(invited: Any, responded: Any) -> pd.DataFrame:
    """Invitations, responses and the response rate (percent) per group.

    Parameters
    ----------
    invited : sequence
        The group of each invitation (for example its country), one item per invitation.
    responded : sequence of bool
        Whether each invitation was answered (sent), in the same order.

    Returns
    -------
    pandas.DataFrame
        Columns ``invited``, ``responded``, ``rate`` (percent), one row per group and a ``Total`` row.

    Examples
    --------
    >>> response_rates(["FR", "FR", "DE"], [True, False, True])
           invited  responded   rate
    DE           1          1  100.0
    FR           2          1   50.0
    Total        3          2   66.7
    """
    groups = _series(invited, "invited")
    done = _series(responded, "responded")
    if len(groups) != len(done):
        raise ValueError(f"responded has {len(done)} items, invited has {len(groups)}")
    frame = pd.DataFrame({"group": groups.to_numpy(), "done": done.astype(bool).to_numpy()})
    table = frame.groupby("group").agg(invited=("done", "size"), responded=("done", "sum"))
    table.loc["Total"] = [len(frame), int(frame["done"].sum())]
    table = table.astype(int)
    table["rate"] = (100 * table["responded"] / table["invited"]).round(1)
    table.index.name = None
    return table


def frequencies(values: Any, categories: Sequence[Hashable] | None = None) -> pd.DataFrame:
    """Counts and percentages of answers; lists (multiple choice) count each choice once per respondent.

    Percentages are of the respondents who answered (``n``, stored in ``DataFrame.attrs["n"]``), so that
    multiple-choice percentages may sum to more than 100.

    Examples
    --------
    >>> table = frequencies(["yes", "no", "yes", None], categories=["yes", "no", "dont_know"])
    >>> table
               count  percent
    yes            2     66.7
    no             1     33.3
    dont_know      0      0.0
    >>> table.attrs["n"]
    3
    >>> frequencies([["a", "b"], ["a"]])["percent"].tolist()
    [100.0, 50.0]
    """
    series = _series(values, "values").dropna()
    n = len(series)
    if n and isinstance(series.iloc[0], (list, tuple)):
        series = series.explode().dropna()
    counts = series.value_counts(sort=categories is None)
    if categories is not None:
        counts = counts.reindex(list(categories), fill_value=0)
    table = pd.DataFrame({"count": counts.astype(int),
                          "percent": (100 * counts / n).round(1) if n else counts.astype(float) * np.nan})
    table.index.name = None
    table.attrs["n"] = n
    return table


def crosstab(rows: Any, columns: Any, *, row_categories: Sequence[Hashable] | None = None,
             column_categories: Sequence[Hashable] | None = None) -> pd.DataFrame:
    """Counts of answers (rows) by group (columns), respondents with both values only.

    Multiple-choice answers (lists) count each choice once per respondent. ``attrs["n"]`` is the number of
    respondents counted; ``attrs["column_n"]`` the number in each group.

    Examples
    --------
    >>> table = crosstab(["yes", "no", "yes", "yes"], ["FR", "FR", "DE", None])
    >>> table
         DE  FR
    no    0   1
    yes   1   1
    >>> table.attrs["n"], table.attrs["column_n"]
    (3, {'DE': 1, 'FR': 2})
    """
    left, right = _series(rows, "rows"), _series(columns, "columns")
    if len(left) != len(right):
        raise ValueError(f"columns has {len(right)} items, rows has {len(left)}")
    frame = pd.DataFrame({"row": left.to_numpy(), "col": right.to_numpy()}).dropna()
    column_n = frame.groupby("col").size()
    n = len(frame)
    if n and isinstance(frame["row"].iloc[0], (list, tuple)):
        frame = frame.explode("row").dropna()
    table = pd.crosstab(frame["row"], frame["col"]) if len(frame) else pd.DataFrame(dtype=int)
    if row_categories is not None:
        table = table.reindex(index=list(row_categories), fill_value=0)
    if column_categories is not None:
        table = table.reindex(columns=list(column_categories), fill_value=0)
        column_n = column_n.reindex(list(column_categories), fill_value=0)
    table.index.name = table.columns.name = None
    table.attrs["n"] = n
    table.attrs["column_n"] = {key: int(value) for key, value in column_n.items()}
    return table


def suppress_small_groups(table: pd.DataFrame, *, threshold: int = ANONYMITY_THRESHOLD) -> pd.DataFrame:
    """Hide (set to NaN) every group of a cross-tab with fewer than ``threshold`` respondents.

    Used for anonymous surveys: no figure may describe fewer than five people. The hidden groups are
    listed in ``attrs["suppressed"]``.

    Examples
    --------
    >>> table = crosstab(["a"] * 6 + ["b"] * 2, ["FR"] * 5 + ["DE"] * 3)
    >>> hidden = suppress_small_groups(table)
    >>> bool(hidden["DE"].isna().all()), hidden.attrs["suppressed"]
    (True, ['DE'])
    """
    if threshold < 1:
        raise ValueError(f"threshold must be at least 1, got {threshold}")
    column_n = table.attrs.get("column_n")
    if column_n is None:
        raise ValueError("table must come from crosstab() (it needs attrs['column_n'])")
    small = [column for column in table.columns if column_n.get(column, 0) < threshold]
    result = table.astype(float)
    result[small] = np.nan
    result.attrs = {**table.attrs, "suppressed": small}
    return result


def likert_summary(values: Any, *, points: int) -> dict[str, Any]:
    """Counts per level, mean, median and the share agreeing (the top two levels) of a Likert item.

    Examples
    --------
    >>> summary = likert_summary([1, 2, 4, 5, 5, None], points=5)
    >>> summary["n"], summary["counts"], summary["mean"], summary["median"], summary["top2_percent"]
    (5, [1, 1, 0, 1, 2], 3.4, 4.0, 60.0)
    """
    if points < 2:
        raise ValueError(f"points must be at least 2, got {points}")
    series = pd.to_numeric(_series(values, "values"), errors="coerce").dropna()
    if ((series < 1) | (series > points) | (series != series.round())).any():
        raise ValueError(f"values must be whole numbers from 1 to {points}")
    counts = np.bincount(series.astype(int).to_numpy(), minlength=points + 1)[1:]
    n = int(counts.sum())
    return {
        "n": n,
        "counts": [int(c) for c in counts],
        "percent": [round(100 * c / n, 1) if n else math.nan for c in counts],
        "mean": round(float(series.mean()), 2) if n else math.nan,
        "median": float(series.median()) if n else math.nan,
        "top2_percent": round(100 * float(counts[-2:].sum()) / n, 1) if n else math.nan,
    }


def numeric_summary(values: Any) -> dict[str, float | int]:
    """n, mean, standard deviation (n - 1), minimum, quartiles and maximum of numeric answers.

    Examples
    --------
    >>> numeric_summary([1, 2, 3, 4, None])
    {'n': 4, 'mean': 2.5, 'sd': 1.291, 'min': 1.0, 'q1': 1.75, 'median': 2.5, 'q3': 3.25, 'max': 4.0}
    """
    series = pd.to_numeric(_series(values, "values"), errors="coerce").dropna().astype(float)
    n = len(series)
    if not n:
        return {"n": 0, "mean": math.nan, "sd": math.nan, "min": math.nan, "q1": math.nan, "median": math.nan,
                "q3": math.nan, "max": math.nan}
    q1, median, q3 = np.quantile(series, [0.25, 0.5, 0.75])
    return {"n": n, "mean": round(float(series.mean()), 3),
            "sd": round(float(series.std(ddof=1)), 3) if n > 1 else math.nan,
            "min": float(series.min()), "q1": float(q1), "median": float(median), "q3": float(q3),
            "max": float(series.max())}


@dataclass(frozen=True)
class KappaResult:
    kappa: float
    observed_agreement: float
    expected_agreement: float
    n: int


def cohen_kappa(first: Any, second: Any) -> KappaResult:
    """Cohen's kappa between two coders' labels of the same items (pairs with a missing label are left out).

    Examples
    --------
    >>> result = cohen_kappa(["a", "a", "b", "b"], ["a", "b", "b", "b"])
    >>> result.kappa, result.observed_agreement, result.expected_agreement, result.n
    (0.5, 0.75, 0.5, 4)
    """
    a, b = _series(first, "first"), _series(second, "second")
    if len(a) != len(b):
        raise ValueError(f"second has {len(b)} labels, first has {len(a)}")
    frame = pd.DataFrame({"a": a.to_numpy(), "b": b.to_numpy()}).dropna()
    n = len(frame)
    if n == 0:
        raise ValueError("no item has a label from both coders")
    observed = float((frame["a"] == frame["b"]).mean())
    pa = frame["a"].value_counts(normalize=True)
    pb = frame["b"].value_counts(normalize=True)
    expected = float(sum(pa.get(label, 0.0) * pb.get(label, 0.0) for label in set(pa.index) | set(pb.index)))
    kappa = 1.0 if expected == 1.0 else (observed - expected) / (1 - expected)
    return KappaResult(kappa=round(kappa, 6), observed_agreement=round(observed, 6),
                       expected_agreement=round(expected, 6), n=n)


@dataclass(frozen=True)
class Comparison:
    """A comparison: the test, its statistic and p-value, an effect size with its name, and the bases."""

    test: str
    statistic: float
    p_value: float
    effect_size: float
    effect_name: str
    n: int
    group_n: dict[str, int] = field(default_factory=dict)
    note: str = ""


def chi_square_test(rows: Any, groups: Any) -> Comparison:
    """Pearson's chi-square test of independence with Cramér's V (no continuity correction).

    Examples
    --------
    >>> result = chi_square_test(["y"] * 10 + ["n"] * 10, ["A"] * 8 + ["B"] * 2 + ["A"] * 2 + ["B"] * 8)
    >>> round(result.statistic, 3), round(result.effect_size, 3), result.n
    (7.2, 0.6, 20)
    """
    table = crosstab(rows, groups)
    if table.shape[0] < 2 or table.shape[1] < 2:
        raise ValueError("chi-square needs at least two answers and two groups with data")
    statistic, p_value, _dof, expected = stats.chi2_contingency(table.to_numpy(), correction=False)
    n = int(table.to_numpy().sum())
    k = min(table.shape) - 1
    v = math.sqrt(statistic / (n * k))
    note = ""
    if (expected < 5).mean() > 0.2:
        note = "more than 20% of expected counts are below 5: the p-value is approximate"
    return Comparison(test="chi-square", statistic=float(statistic), p_value=float(p_value), effect_size=v,
                      effect_name="Cramér's V", n=n,
                      group_n={str(k_): int(v_) for k_, v_ in table.attrs["column_n"].items()}, note=note)


def mann_whitney_test(x: Any, y: Any, *, names: tuple[str, str] = ("first", "second")) -> Comparison:
    """Mann–Whitney U test (two-sided) with the rank-biserial correlation r = 2·U₁/(n₁n₂) − 1.

    A positive r means values in ``x`` tend to be larger.

    Examples
    --------
    >>> result = mann_whitney_test([3, 4, 5], [1, 2, 3])
    >>> result.statistic, round(result.effect_size, 3), result.n
    (8.5, 0.889, 6)
    """
    a = pd.to_numeric(_series(x, "x"), errors="coerce").dropna().to_numpy(dtype=float)
    b = pd.to_numeric(_series(y, "y"), errors="coerce").dropna().to_numpy(dtype=float)
    if len(a) == 0 or len(b) == 0:
        raise ValueError("both groups need at least one value")
    u, p_value = stats.mannwhitneyu(a, b, alternative="two-sided")
    r = 2 * float(u) / (len(a) * len(b)) - 1
    return Comparison(test="Mann–Whitney U", statistic=float(u), p_value=float(p_value), effect_size=r,
                      effect_name="rank-biserial r", n=len(a) + len(b), group_n={names[0]: len(a), names[1]: len(b)})


def kruskal_wallis_test(groups: Mapping[str, Any]) -> Comparison:
    """Kruskal–Wallis H test across several groups with epsilon squared, ε² = H / (n − 1).

    Examples
    --------
    >>> result = kruskal_wallis_test({"a": [1, 2, 3], "b": [4, 5, 6], "c": [7, 8, 9]})
    >>> round(result.statistic, 3), round(result.effect_size, 3), result.n
    (7.2, 0.9, 9)
    """
    arrays = {name: pd.to_numeric(_series(values, name), errors="coerce").dropna().to_numpy(dtype=float)
              for name, values in groups.items()}
    arrays = {name: values for name, values in arrays.items() if len(values)}
    if len(arrays) < 2:
        raise ValueError("groups must hold at least two groups with values")
    h, p_value = stats.kruskal(*arrays.values())
    n = sum(len(values) for values in arrays.values())
    return Comparison(test="Kruskal–Wallis H", statistic=float(h), p_value=float(p_value),
                      effect_size=float(h) / (n - 1), effect_name="epsilon squared", n=n,
                      group_n={name: len(values) for name, values in arrays.items()})


# --- one analysis page ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionSpec:
    """What :func:`analyse` needs to know of a question: its code, kind and ordered option values."""

    code: str
    kind: str
    options: tuple[str, ...] = ()
    points: int = 0


def _codes(values: Any, options: Sequence[str]) -> np.ndarray:
    """Option positions (0 … k-1) of single answers; -1 for no answer or an unknown value.

    ``pandas.factorize`` hashes each answer once; only the few distinct answers are then looked up. A
    categorical needs no hashing at all: its categories are looked up and its codes reused.
    """
    if isinstance(getattr(values, "dtype", None), pd.CategoricalDtype):
        return _through_categories(values, lambda categories: _codes(categories, options))
    codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
    lookup = np.append(pd.Index(list(options), dtype=object).get_indexer(pd.Index(uniques, dtype=object)), -1)
    return lookup[codes].astype(np.int64, copy=False)


def _through_categories(values: Any, encode: Any) -> np.ndarray:
    """``encode`` applied to a categorical's categories only, spread to every answer by its code."""
    categorical = pd.Categorical(values)
    lookup = np.append(np.asarray(encode(pd.Series(np.asarray(categorical.categories, dtype=object),
                                                   dtype=object)), dtype=np.int64), -1)
    return lookup[categorical.codes.astype(np.int64)]


def _as_float(values: pd.Series) -> np.ndarray:
    """Numbers as float64 with NaN for no answer; numpy's own conversion first (None becomes NaN), pandas'
    slower parsing only when some value is text."""
    if pd.api.types.is_float_dtype(values.dtype):
        return values.to_numpy(dtype=np.float64)
    try:
        return np.asarray(values.to_numpy(dtype=object), dtype=np.float64)
    except (TypeError, ValueError):
        return pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)


def _likert_codes(values: pd.Series, points: int) -> np.ndarray:
    if isinstance(values.dtype, pd.CategoricalDtype):
        return _through_categories(values, lambda categories: _likert_codes(categories, points))
    numbers = _as_float(values)
    valid = (numbers >= 1) & (numbers <= points) & (numbers == np.floor(numbers))
    return np.where(valid, np.nan_to_num(numbers) - 1, -1).astype(np.int64)


def analyse(frame: pd.DataFrame, questions: Sequence[QuestionSpec], *, by: str | None = None,
            anonymous: bool = False, threshold: int = ANONYMITY_THRESHOLD) -> dict[str, dict[str, Any]]:
    """Everything an analysis page shows, for every question at once.

    For each question: ``n``; ``counts`` per option (choice and Likert questions; multiple choice counts
    respondents choosing each option); a ``crosstab`` by the ``by`` column (groups as columns, with each
    group's n) when given; Likert ``mean``/``top2_percent``; numeric summaries and a histogram; for free
    text only ``n``. In anonymous mode, groups under ``threshold`` respondents are replaced by None and
    listed in ``suppressed`` (and a question with fewer than ``threshold`` answers shows no counts).

    Categorical answers are turned into option positions once and counted with ``numpy.bincount`` on
    (group, option) pairs, so that the cost stays linear in the number of answers.

    Columns may hold Python values (str, int, float, lists for multiple choice, None for no answer) or,
    faster at a large size, their coded forms: a pandas categorical of the values for choice and Likert
    questions (only its categories are looked up), float64 for numbers, and for multiple choice int64 bit
    masks over ``options`` (bit i set when option i was chosen, -1 for no answer).

    Examples
    --------
    >>> frame = pd.DataFrame({"q": ["a", "b", "a", None], "country": ["FR", "FR", "DE", "DE"]})
    >>> result = analyse(frame, [QuestionSpec("q", "single", ("a", "b"))], by="country")
    >>> result["q"]["n"], result["q"]["counts"], result["q"]["crosstab"]
    (3, [2, 1], {'groups': ['DE', 'FR'], 'group_n': [1, 2], 'counts': [[1, 1], [0, 1]], 'suppressed': []})

    The same answers coded, with a multiple-choice question as bit masks (0b11: both options; -1: none):

    >>> coded = pd.DataFrame({"q": pd.Categorical(["a", "b", "a", None]), "m": [0b11, 0b10, -1, 0b01]})
    >>> result = analyse(coded, [QuestionSpec("q", "single", ("a", "b")), QuestionSpec("m", "multiple", ("x", "y"))])
    >>> result["q"]["counts"], result["m"]["n"], result["m"]["counts"]
    ([2, 1], 3, [2, 2])
    """
    if by is not None and by not in frame.columns:
        raise ValueError(f"by names no column of frame: '{by}'")
    if threshold < 1:
        raise ValueError(f"threshold must be at least 1, got {threshold}")
    frame = frame.reset_index(drop=True)  # positions, for multiple-choice rows after ``explode``
    groups: list[str] = []
    group_codes = None
    if by is not None:
        group_values = frame[by].to_numpy(dtype=object)
        present = pd.notna(group_values)
        groups = sorted({str(g) for g in pd.unique(group_values[present])})
        group_codes = _codes(np.where(present, group_values.astype(str), None), groups)
    results: dict[str, dict[str, Any]] = {}
    for spec in questions:
        if spec.code not in frame.columns:
            raise ValueError(f"questions names a column frame lacks: '{spec.code}'")
        column = frame[spec.code]
        if spec.kind in CATEGORICAL_KINDS or spec.kind == "multiple":
            results[spec.code] = _categorical(column, spec, groups=groups, group_codes=group_codes,
                                              anonymous=anonymous, threshold=threshold)
        elif spec.kind == "number":
            values = pd.Series(_as_float(column))
            summary = numeric_summary(values)
            result: dict[str, Any] = {"n": summary["n"], "summary": summary}
            finite = values.dropna().to_numpy(dtype=float)
            if anonymous and summary["n"] < threshold:
                result = {"n": summary["n"], "suppressed_all": True}
            elif len(finite):
                counts, edges = np.histogram(finite, bins=min(20, max(1, len(pd.unique(finite)))))
                result["histogram"] = {"counts": counts.tolist(), "edges": [round(e, 6) for e in edges.tolist()]}
            results[spec.code] = result
        else:
            results[spec.code] = {"n": int(column.notna().sum())}
    return results


def _count(column: pd.Series, spec: QuestionSpec, group_codes: np.ndarray | None,
           g: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Who answered, the count of each option, and the (option × group) table of one choice question."""
    options = list(spec.options)
    k = len(options)
    table = np.zeros((k, g), dtype=np.int64)
    if spec.kind == "multiple" and pd.api.types.is_integer_dtype(column.dtype):
        # Bit masks: one pass per option, no array of (respondent, option) pairs.
        masks = column.to_numpy(dtype=np.int64)
        answered = masks >= 0
        counts = np.zeros(k, dtype=np.int64)
        for j in range(k):
            chosen = answered & (((masks >> j) & 1) == 1)
            counts[j] = int(np.count_nonzero(chosen))
            if group_codes is not None:
                table[j] = np.bincount(np.where(chosen, group_codes, -1) + 1, minlength=g + 1)[1:g + 1]
    else:
        if spec.kind == "multiple":
            answered = column.notna().to_numpy()
            exploded = column[answered].explode()
            option_codes = _codes(exploded.to_numpy(dtype=object), options)
            # The respondent (row position: the frame's index was reset) of each chosen option.
            rows: np.ndarray | None = exploded.index.to_numpy(dtype=np.int64)
        else:
            option_codes = _likert_codes(column, k) if spec.kind == "likert" else _codes(column, options)
            answered = option_codes >= 0
            rows = None  # one answer per respondent, in row order
        # -1 (no answer, unknown value) lands in bin 0, which is dropped: no boolean selection needed.
        counts = np.bincount(option_codes + 1, minlength=k + 1)[1:k + 1]
        if group_codes is not None:
            answer_groups = group_codes if rows is None else group_codes[rows]
            cells = np.where((option_codes >= 0) & (answer_groups >= 0), option_codes * g + answer_groups, -1)
            table = np.bincount(cells + 1, minlength=k * g + 1)[1:k * g + 1].reshape(k, g)
    return answered, counts, table


def _categorical(column: pd.Series, spec: QuestionSpec, *, groups: list[str], group_codes: np.ndarray | None,
                 anonymous: bool, threshold: int) -> dict[str, Any]:
    options = list(spec.options)
    k = len(options)
    g = len(groups)
    answered, counts, table = _count(column, spec, group_codes, g)
    n = int(np.count_nonzero(answered))
    result: dict[str, Any] = {"n": n, "options": options, "counts": counts.tolist()}
    if spec.kind == "likert" and n:
        levels = np.arange(1, k + 1)
        result["mean"] = round(float((counts * levels).sum() / n), 2)
        result["top2_percent"] = round(100 * float(counts[-2:].sum()) / n, 1)
    if anonymous and n < threshold:
        return {"n": n, "options": options, "suppressed_all": True}
    if group_codes is not None:
        group_n = np.bincount(np.where(answered, group_codes, -1) + 1, minlength=g + 1)[1:g + 1]
        suppressed = [groups[i] for i in range(g) if anonymous and group_n[i] < threshold]
        table_list: list[list[int | None]] = [[int(v) for v in row] for row in table]
        for i in range(g):
            if groups[i] in suppressed:
                for row in table_list:
                    row[i] = None
        result["crosstab"] = {"groups": groups, "group_n": [None if groups[i] in suppressed else int(group_n[i])
                                                            for i in range(g)],
                              "counts": table_list, "suppressed": suppressed}
    return result
