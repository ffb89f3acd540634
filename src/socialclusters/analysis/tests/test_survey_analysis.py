"""Survey statistics against values computed by hand (and, where one exists, an independent library)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score

from socialclusters.analysis.survey_analysis import (
    QuestionSpec,
    analyse,
    chi_square_test,
    cohen_kappa,
    crosstab,
    frequencies,
    kruskal_wallis_test,
    likert_summary,
    mann_whitney_test,
    numeric_summary,
    response_rates,
    suppress_small_groups,
)

# Twelve respondents: answer to "do members buy from social economy enterprises?" and the cluster kind.
ANSWERS = ["yes", "yes", "yes", "no", "yes", "no", "no", "no", "no", "yes", "no", None]
KINDS = ["se", "se", "se", "se", "se", "trad", "trad", "trad", "trad", "trad", "trad", "se"]


def test_crosstab_by_hand():
    table = crosstab(ANSWERS, KINDS, row_categories=["yes", "no"], column_categories=["se", "trad"])
    # se: yes 4 (rows 1-3, 5), no 1 (row 4); trad: yes 1 (row 10), no 5. Row 12 has no answer.
    assert table.to_dict() == {"se": {"yes": 4, "no": 1}, "trad": {"yes": 1, "no": 5}}
    assert table.attrs["n"] == 11
    assert table.attrs["column_n"] == {"se": 5, "trad": 6}


def test_chi_square_and_cramers_v_by_hand():
    result = chi_square_test(ANSWERS, KINDS)
    # Observed [[4, 1], [1, 5]] (yes/no by se/trad); row totals 5, 6; column totals 5, 6; n = 11.
    # Expected: yes-se 25/11, yes-trad 30/11, no-se 30/11, no-trad 36/11.
    expected = np.array([[25, 30], [30, 36]]) / 11
    observed = np.array([[4, 1], [1, 5]])
    chi2 = ((observed - expected) ** 2 / expected).sum()
    assert result.statistic == pytest.approx(chi2)
    assert result.statistic == pytest.approx(11 * (4 * 5 - 1 * 1) ** 2 / (5 * 6 * 5 * 6))  # n(ad − bc)² / margins
    assert result.effect_size == pytest.approx(math.sqrt(chi2 / 11))  # Cramér's V with min(r, c) - 1 = 1
    assert result.n == 11
    assert result.group_n == {"se": 5, "trad": 6}
    assert result.effect_name == "Cramér's V"
    assert "approximate" in result.note  # every expected count is below 5


def test_mann_whitney_and_rank_biserial_by_hand():
    se = [12, 15, 30, 40]
    trad = [5, 8, 12]
    result = mann_whitney_test(se, trad, names=("se", "trad"))
    # U for se: pairs where se > trad, ties count one half: 12 vs (5, 8, 12) -> 2.5; 15, 30, 40 -> 3 each.
    assert result.statistic == 11.5
    assert result.effect_size == pytest.approx(2 * 11.5 / 12 - 1)
    assert result.group_n == {"se": 4, "trad": 3}
    assert result.n == 7


def test_kruskal_wallis_epsilon_squared():
    result = kruskal_wallis_test({"urban": [1, 2], "rural": [3, 4], "mixed": [5, 6]})
    # Ranks are the values; H = 12 / (6 * 7) * (3²/2 + 7²/2 + 11²/2) - 3 * 7 = 4.5714.
    assert result.statistic == pytest.approx(12 / 42 * (9 / 2 + 49 / 2 + 121 / 2) - 21)
    assert result.effect_size == pytest.approx(result.statistic / 5)


def test_cohen_kappa_by_hand_and_against_scikit_learn():
    first = ["motive", "motive", "barrier", "barrier", "driver", "motive", "barrier", "driver", "driver", "motive"]
    second = ["motive", "barrier", "barrier", "barrier", "driver", "motive", "motive", "driver", "motive", "motive"]
    result = cohen_kappa(first, second)
    # Agreement on 7 of 10. Marginals: first motive .4 barrier .3 driver .3; second motive .5 barrier .3 driver .2.
    expected = 0.4 * 0.5 + 0.3 * 0.3 + 0.3 * 0.2
    assert result.observed_agreement == 0.7
    assert result.expected_agreement == pytest.approx(expected)
    assert result.kappa == pytest.approx((0.7 - expected) / (1 - expected), abs=1e-6)
    assert result.kappa == pytest.approx(cohen_kappa_score(first, second), abs=1e-6)
    assert result.n == 10


def test_kappa_refuses_unequal_lengths_and_no_pairs():
    with pytest.raises(ValueError, match="second has 1 labels, first has 2"):
        cohen_kappa(["a", "b"], ["a"])
    with pytest.raises(ValueError, match="no item"):
        cohen_kappa([None], ["a"])


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abc"), st.sampled_from("abc")), min_size=2, max_size=40))
def test_kappa_matches_scikit_learn(pairs):
    first, second = zip(*pairs, strict=True)
    ours = cohen_kappa(list(first), list(second)).kappa
    with warnings.catch_warnings():
        # scikit-learn warns (and answers NaN) when both coders use one and the same label.
        warnings.simplefilter("ignore")
        theirs = cohen_kappa_score(first, second)
    if math.isnan(theirs):  # scikit-learn gives NaN when both coders use one and the same label
        assert ours == 1.0
    else:
        assert ours == pytest.approx(theirs, abs=1e-6)


def test_anonymity_threshold_hides_groups_under_five():
    table = crosstab(ANSWERS, KINDS)
    hidden = suppress_small_groups(table)
    assert hidden.attrs["suppressed"] == []  # 5 and 6 respondents: both shown
    hidden = suppress_small_groups(table, threshold=6)
    assert hidden.attrs["suppressed"] == ["se"]
    assert hidden["se"].isna().all()
    assert hidden["trad"].tolist() == [5.0, 1.0]


def test_analyse_suppresses_small_groups_and_small_questions_in_anonymous_mode():
    frame = pd.DataFrame({
        "q": ["a"] * 4 + ["b"] * 3 + ["a"] * 2,
        "few": ["x", "y", None, None, None, None, None, None, None],
        "country": ["FR"] * 6 + ["DE"] * 3,
    })
    specs = [QuestionSpec("q", "single", ("a", "b")), QuestionSpec("few", "single", ("x", "y"))]
    result = analyse(frame, specs, by="country", anonymous=True)
    table = result["q"]["crosstab"]
    assert table["groups"] == ["DE", "FR"]
    assert table["suppressed"] == ["DE"]
    assert table["group_n"] == [None, 6]
    assert table["counts"] == [[None, 4], [None, 2]]
    assert result["few"] == {"n": 2, "options": ["x", "y"], "suppressed_all": True}
    identified = analyse(frame, specs, by="country")
    assert identified["q"]["crosstab"]["counts"] == [[2, 4], [1, 2]]
    assert identified["few"]["counts"] == [1, 1]


def test_analyse_counts_multiple_choice_likert_and_numbers():
    frame = pd.DataFrame({
        "m": [["a", "b"], ["b"], None, ["a"]],
        "l": [5, 4, 2, None],
        "n": [10, None, 30, 20],
        "kind": ["se", "trad", "se", "se"],
    })
    specs = [QuestionSpec("m", "multiple", ("a", "b", "c")), QuestionSpec("l", "likert", ("1", "2", "3", "4", "5"), 5),
             QuestionSpec("n", "number")]
    result = analyse(frame, specs, by="kind")
    assert result["m"]["n"] == 3
    assert result["m"]["counts"] == [2, 2, 0]
    assert result["m"]["crosstab"]["counts"] == [[2, 0], [1, 1], [0, 0]]
    assert result["m"]["crosstab"]["group_n"] == [2, 1]
    assert result["l"]["counts"] == [0, 1, 0, 1, 1]
    assert result["l"]["mean"] == pytest.approx(11 / 3, abs=0.01)
    assert result["l"]["top2_percent"] == 66.7
    assert result["n"]["summary"]["median"] == 20.0
    assert result["n"]["n"] == 3
    assert sum(result["n"]["histogram"]["counts"]) == 3


def test_analyse_agrees_with_pandas_crosstab_on_random_data():
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({"q": rng.choice(["a", "b", "c", None], 500), "g": rng.choice(["x", "y", None], 500)})
    result = analyse(frame, [QuestionSpec("q", "single", ("a", "b", "c"))], by="g")
    reference = pd.crosstab(frame["q"], frame["g"]).reindex(index=["a", "b", "c"], columns=["x", "y"], fill_value=0)
    assert result["q"]["crosstab"]["counts"] == reference.to_numpy().tolist()


def test_frequencies_likert_and_numeric_summaries_by_hand():
    table = frequencies(["a", "b", "a", None, "a"], categories=["a", "b"])
    assert table["count"].tolist() == [3, 1]
    assert table["percent"].tolist() == [75.0, 25.0]
    summary = likert_summary([1, 1, 3, 5], points=5)
    assert summary["mean"] == 2.5
    assert summary["top2_percent"] == 25.0
    assert summary["counts"] == [2, 0, 1, 0, 1]
    with pytest.raises(ValueError, match="whole numbers from 1 to 5"):
        likert_summary([6], points=5)
    numbers = numeric_summary([2, 4, 4, 4, 5, 5, 7, 9])
    assert numbers["mean"] == 5.0
    assert numbers["sd"] == pytest.approx(2.138, abs=1e-3)


def test_response_rates_by_group():
    table = response_rates(["FR", "FR", "FR", "DE"], [True, True, False, False])
    assert table.loc["FR"].tolist() == [3, 2, 66.7]
    assert table.loc["Total"].tolist() == [4, 2, 50.0]


def test_arguments_are_checked_by_name():
    with pytest.raises(ValueError, match="by names no column"):
        analyse(pd.DataFrame({"q": []}), [], by="kind")
    with pytest.raises(TypeError, match="values must be a sequence"):
        frequencies(5)
    with pytest.raises(ValueError, match="threshold must be at least 1"):
        suppress_small_groups(crosstab(["a"], ["b"]), threshold=0)


@pytest.mark.parametrize("anonymous", [False, True])
def test_coded_columns_give_the_same_page_as_python_values(anonymous):
    """Categoricals, float64 numbers and multiple-choice bit masks (how the survey app reads answers at
    scale) give exactly what the same answers as Python values give, unknown values and gaps included."""
    rng = np.random.default_rng(11)
    size = 400
    single = rng.choice(np.array(["a", "b", "c", "zz", None], dtype=object), size)
    likert = rng.choice(np.array([1, 2, 3, 4, 5, 9, None], dtype=object), size)
    chosen = rng.random((size, 3)) < 0.4
    skipped = rng.random(size) < 0.2
    lists = [None if skip else [o for o, c in zip("xyz", row, strict=True) if c] for row, skip in zip(chosen, skipped,
                                                                                                      strict=True)]
    masks = [-1 if skip else int(sum(1 << i for i, c in enumerate(row) if c)) for row, skip in zip(chosen, skipped,
                                                                                                    strict=True)]
    numbers = np.where(rng.random(size) < 0.1, None, np.round(rng.lognormal(2, 1, size), 1)).astype(object)
    groups = rng.choice(np.array(["FR", "DE", "IT", "LU", None], dtype=object), size, p=[0.4, 0.3, 0.2, 0.05, 0.05])
    plain = pd.DataFrame({"s": single, "l": likert, "m": lists, "n": numbers, "t": single, "g": groups})
    coded = pd.DataFrame({"s": pd.Categorical(single), "l": pd.Categorical(likert), "m": masks,
                          "n": pd.to_numeric(pd.Series(numbers), errors="coerce").astype(float),
                          "t": np.where(pd.isna(single), np.nan, 1.0), "g": groups})
    specs = [QuestionSpec("s", "single", ("a", "b", "c")), QuestionSpec("l", "likert", ("1", "2", "3", "4", "5"), 5),
             QuestionSpec("m", "multiple", ("x", "y", "z")), QuestionSpec("n", "number"), QuestionSpec("t", "text")]
    expected = analyse(plain, specs, by="g", anonymous=anonymous)
    assert analyse(coded, specs, by="g", anonymous=anonymous) == expected
    assert expected["m"]["n"] == size - int(skipped.sum())
