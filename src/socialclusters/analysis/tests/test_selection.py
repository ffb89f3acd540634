"""Tests of the member selection: the CP-SAT optimum against brute force, rules, explanations, errors."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socialclusters.analysis.selection import (
    Weights,
    greedy_selection,
    normalise_applicants,
    objective_of,
    select_members,
)

COUNTRIES = ["BE", "FR", "IT", "RO"]
TYPES = ["social_economy", "cluster_organisation", "research"]
AREAS = ["finance", "procurement", "policy", "rural", "impact"]


def table_of(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows)


def random_table(seed: int, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "id": [f"a{i}" for i in range(n)],
        "score": rng.integers(0, 101, n),
        "country": rng.choice(COUNTRIES, n),
        "stakeholder_type": rng.choice(TYPES, n),
        "areas": [";".join(rng.choice(AREAS, size=int(rng.integers(1, 3)), replace=False)) for _ in range(n)],
        "gender": rng.choice(["woman", "man", ""], n),
        "available": rng.random(n) < 0.8,
    })


def brute_force(table: pd.DataFrame, *, seats, required=(), max_per_country=None,
                require_available=False) -> float | None:
    """The best objective over every group that keeps the rules, by enumeration."""
    tidy = normalise_applicants(table)
    best = None
    ids = list(tidy["id"])
    for size in range(seats[0], seats[1] + 1):
        for group in itertools.combinations(range(len(ids)), size):
            rows = tidy.iloc[list(group)]
            if require_available and not rows["available"].all():
                continue
            if max_per_country and rows["country"].value_counts().max() > max_per_country:
                continue
            if any(not any(area in areas for areas in rows["areas"]) for area in required):
                continue
            value = objective_of(table, [ids[i] for i in group])
            best = value if best is None else max(best, value)
    return best


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(5, 9), low=st.integers(1, 3), extra=st.integers(0, 2),
       cap=st.sampled_from([None, 1, 2]), need=st.sampled_from([(), ("procurement",), ("rural", "impact")]),
       available=st.booleans())
def test_the_proven_optimum_is_the_brute_force_optimum(seed, n, low, extra, cap, need, available):  # noqa: PLR0917 - hypothesis passes each drawn value as an argument
    table = random_table(seed, n)
    rules = {"seats": (low, low + extra), "max_per_country": cap, "required_areas": need,
             "require_available": available}
    result = select_members(table, **rules, workers=1, explain=False)
    best = brute_force(table, seats=(low, low + extra), required=need, max_per_country=cap,
                       require_available=available)
    if best is None:
        assert result.status == "infeasible"
        assert result.reasons
        assert result.selected == []
    else:
        assert result.status == "optimal"
        assert result.objective == pytest.approx(best)
        assert objective_of(table, result.selected) == pytest.approx(result.objective)
        assert result.gap == 0
        greedy = greedy_selection(table, **rules)
        if greedy.status != "infeasible":
            assert greedy.objective <= result.objective + 1e-9


def test_required_areas_country_limit_and_availability_hold():
    table = random_table(7, 60)
    result = select_members(table, seats=(8, 10), max_per_country=3, required_areas=["impact", "rural"],
                            require_available=True)
    assert result.status == "optimal"
    chosen = normalise_applicants(table).set_index("id").loc[result.selected]
    assert 8 <= len(chosen) <= 10
    assert chosen["country"].value_counts().max() <= 3
    assert chosen["available"].all()
    for area in ("impact", "rural"):
        assert any(area in areas for areas in chosen["areas"])


def test_locks_are_kept_and_override_availability():
    table = random_table(3, 30)
    tidy = normalise_applicants(table)
    unavailable = tidy.loc[~tidy["available"], "id"].iloc[0]
    best = select_members(table, seats=(5, 5)).selected
    result = select_members(table, seats=(5, 5), require_available=True, locked_in=[unavailable],
                            locked_out=[best[0]])
    assert unavailable in result.selected
    assert best[0] not in result.selected
    assert any("locked in" in " ".join(row["adds"]) for row in result.contributions)
    assert result.parameters["locked_out"] == [best[0]]


def test_the_same_input_gives_the_same_group():
    table = random_table(11, 80)
    first = select_members(table, seats=(10, 12), max_per_country=3)
    again = select_members(table.copy(), seats=(10, 12), max_per_country=3)
    assert first.selected == again.selected
    # Ties between equal applicants go to the earlier row.
    twins = pd.DataFrame({"id": ["x", "y"], "score": [50, 50], "country": ["BE", "BE"],
                          "stakeholder_type": ["research"] * 2, "areas": ["a", "a"]})
    assert select_members(twins, seats=(1, 1)).selected == ["x"]


def test_explanations_name_what_members_add_and_why_others_are_out():
    table = table_of([
        {"id": "ana", "score": 95, "country": "BE", "stakeholder_type": "research", "areas": "finance"},
        {"id": "ben", "score": 90, "country": "BE", "stakeholder_type": "research", "areas": "finance"},
        {"id": "cleo", "score": 85, "country": "BE", "stakeholder_type": "research", "areas": "finance"},
        {"id": "dan", "score": 10, "country": "RO", "stakeholder_type": "social_economy", "areas": "rural"},
    ])
    result = select_members(table, seats=(3, 3), max_per_country=2, relaxations=True)
    assert result.selected == ["ana", "ben", "dan"]
    dan = next(row for row in result.contributions if row["id"] == "dan")
    assert "the only member covering rural" in dan["adds"]
    assert "the only member from RO" in dan["adds"]
    assert dan["value"] == 10 + 25 + 20 + 10  # score, area, type, country
    cleo = next(row for row in result.left_out if row["id"] == "cleo")
    assert "BE already has the maximum of 2 member(s)" in cleo["why"]
    assert "the best swap (for ben) would change the objective by -5 points" in cleo["why"]
    constraints = {row["constraint"] for row in result.binding}
    assert {"max_seats", "max_per_country"} <= constraints
    # Relaxing the country limit lets cleo in (+20); a fourth seat gains nothing (cleo is still blocked).
    gains = {row["constraint"]: row["gain"] for row in result.binding if "gain" in row}
    assert gains == {"max_per_country": 20.0}
    assert result.reserve == ["cleo"]
    json.dumps(result.to_dict())  # JSON-ready


def test_infeasible_rules_say_why():
    table = random_table(5, 10)
    result = select_members(table, seats=(8, 9), max_per_country=1)
    assert result.status == "infeasible"
    assert "only 4 applicants can be chosen" in result.reasons[0]
    missing = select_members(table, seats=(1, 3), required_areas=["astrophysics"])
    assert missing.status == "infeasible"
    assert "required area 'astrophysics'" in missing.reasons[0]
    too_many = select_members(table, seats=(1, 1), locked_in=["a0", "a1"])
    assert "2 applicants are locked in but there are at most 1 seats" in too_many.reasons


def test_weights_change_the_balance():
    table = table_of([
        {"id": 1, "score": 90, "country": "BE", "stakeholder_type": "research", "areas": "finance"},
        {"id": 2, "score": 80, "country": "BE", "stakeholder_type": "research", "areas": "finance"},
        {"id": 3, "score": 60, "country": "IT", "stakeholder_type": "cluster", "areas": "policy"},
    ])
    assert select_members(table, seats=(2, 2)).selected == [1, 3]
    scores_only = Weights(area=0, stakeholder_type=0, country=0, gender_imbalance=0)
    assert select_members(table, seats=(2, 2), weights=scores_only).selected == [1, 2]


def test_gender_balance_counts_declared_women_and_men():
    table = table_of([
        {"id": i, "score": 80 - i, "country": "BE", "stakeholder_type": "research", "areas": "a", "gender": g}
        for i, g in enumerate(["man", "man", "man", "woman", "woman"])
    ])
    result = select_members(table, seats=(4, 4), weights=Weights(gender_imbalance=50))
    assert result.breakdown["gender_imbalance"] == 0
    assert sorted(result.selected) == [0, 1, 3, 4]


@pytest.mark.parametrize(("change", "message"), [
    ({"seats": (5, 3)}, "seats must satisfy"),
    ({"seats": "many"}, "seats must be a pair"),
    ({"min_per_area": 0}, "min_per_area"),
    ({"max_per_country": 0}, "max_per_country"),
    ({"time_limit": 0}, "time_limit"),
    ({"locked_in": ["nobody"]}, "locked_in: no applicant with id 'nobody'"),
    ({"locked_in": ["a1"], "locked_out": ["a1"]}, "both locked in and locked out"),
])
def test_bad_arguments_are_named(change, message):
    arguments = {"seats": (2, 3)} | change
    with pytest.raises(ValueError, match=message):
        select_members(random_table(1, 6), **arguments)


def test_bad_tables_name_the_column_and_row():
    good = random_table(1, 3)
    with pytest.raises(ValueError, match="missing column"):
        select_members(good.drop(columns=["country"]))
    with pytest.raises(ValueError, match="row 2: 'score' must be a number"):
        select_members(good.assign(score=[1, "high", 3]))
    with pytest.raises(ValueError, match="'id' 'a0' appears more than once"):
        select_members(good.assign(id=["a0", "a0", "a2"]))
    with pytest.raises(ValueError, match="row 3: 'available'"):
        select_members(good.assign(available=[True, "yes", "maybe"]))
    with pytest.raises(ValueError, match="row 1: 'country' is empty"):
        select_members(good.assign(country=["", "BE", "FR"]))
    with pytest.raises(TypeError, match="applicants must be a pandas DataFrame"):
        select_members([{"id": 1}])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"weights\.area"):
        Weights(area=-1)


def test_the_time_limit_reports_the_gap():
    rng = np.random.default_rng(2019)
    n = 600
    table = pd.DataFrame({
        "id": range(n), "score": rng.integers(30, 101, n), "country": rng.choice([f"C{k}" for k in range(35)], n),
        "stakeholder_type": rng.choice(TYPES, n), "gender": rng.choice(["woman", "man"], n),
        "areas": [";".join(rng.choice([f"area{k}" for k in range(30)], size=3, replace=False)) for _ in range(n)],
    })
    result = select_members(table, seats=(15, 20), max_per_country=2, time_limit=0.05, workers=1, explain=False)
    assert result.status in {"optimal", "feasible"}
    assert len(result.selected) == 20
    assert result.best_bound >= result.objective
    if result.status == "feasible":
        assert result.gap == pytest.approx((result.best_bound - result.objective) / result.best_bound)
