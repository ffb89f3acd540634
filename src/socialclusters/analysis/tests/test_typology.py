"""Typology rules, Gower distance, hierarchical groups, stability and comparisons."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from socialclusters.analysis.typology import (
    RULE_TYPES,
    RULES,
    classify,
    compare_groups,
    compare_with_rules,
    gower_distance,
    group_profiles,
    hierarchical_typology,
    normalise_text,
    scaling_associations,
    stability,
)


@pytest.mark.parametrize(("profile", "expected"), [
    ({"kind": "social_economy", "type_as_described": "PTCE (lauréat AMI PTCE émergents 2021)"}, "territorial_se"),
    ({"kind": "other_vehicle", "name": "P.T.C.E. du Haut-Doubs"}, "territorial_se"),
    ({"kind": "social_economy", "vehicle_type": "territorial"}, "territorial_se"),
    ({"kind": "social_economy", "type_as_described": "cluster d'innovation sociale et écologique"}, "csei"),
    ({"kind": "other_vehicle", "name": "Klaster Innowacji Społecznych"}, "social_innovation"),
    ({"kind": "social_economy", "se_member_share": 0.5}, "shared_value"),
    ({"kind": "other_vehicle", "type_as_described": "red de cooperativas"}, "sectoral_se"),
    ({"kind": "social_economy"}, "sectoral_se"),
    ({"kind": "traditional", "se_members_present": "yes"}, "traditional_with_se"),
    ({"kind": "traditional", "se_member_share": 0.0}, "traditional"),
    ({"kind": "other_vehicle", "type_as_described": "network"}, "unclassified"),
])
def test_rules(profile, expected):
    assert classify(profile).type == expected


def test_every_fired_rule_and_its_evidence_are_listed():
    result = classify({"kind": "traditional", "se_member_share": 0.2,
                       "sources": {"se_member_share": "registry memberships (5 current members)"}}, cluster_id=7)
    assert result.cluster_id == 7
    assert result.fired == ["traditional-se-members", "traditional"]
    assert result.evidence == {"kind": {"value": "traditional", "source": ""},
                               "se_member_share": {"value": 0.2, "source": "registry memberships (5 current members)"}}


def test_rules_are_documented_and_name_known_types():
    assert len({r.code for r in RULES}) == len(RULES)
    for rule in RULES:
        assert rule.type in RULE_TYPES
        assert len(rule.description) > 30


def test_normalise_text_handles_letters_without_decomposition():
    assert normalise_text("Społecznych Ökonomie ßtraße") == "spolecznych okonomie sstrasse"


def test_gower_distance_by_hand_with_missing_values():
    frame = pd.DataFrame({"members": [10.0, 30.0, np.nan], "kind": ["se", "trad", "se"], "impact": [True, True, None]})
    d = gower_distance(frame)
    # Row 0 vs 1: members |10-30|/20 = 1, kind differs 1, impact same 0 -> 2/3.
    assert d[0, 1] == pytest.approx(2 / 3)
    # Row 0 vs 2: only kind is known in both -> 0. Row 1 vs 2: kind differs -> 1.
    assert d[0, 2] == 0.0
    assert d[1, 2] == 1.0
    assert np.allclose(d, d.T)
    weighted = gower_distance(frame, weights={"members": 2.0})
    assert weighted[0, 1] == pytest.approx(3 / 4)


def test_groups_stability_and_profiles_recover_planted_groups():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({
        "members": np.concatenate([rng.normal(20, 2, 30), rng.normal(200, 10, 30)]),
        "kind": ["se"] * 30 + ["trad"] * 30,
    })
    d = gower_distance(frame)
    labels = hierarchical_typology(d, groups=2)
    assert len(set(labels[:30])) == 1
    assert len(set(labels[30:])) == 1
    assert labels[0] != labels[-1]
    check = stability(d, groups=2, resamples=10, seed=0)
    assert check.mean_ari == 1.0
    assert all(v == 1.0 for v in check.group_jaccard.values())
    profiles = group_profiles(frame, labels)
    assert sorted(p["size"] for p in profiles) == [30, 30]
    assert any("kind mostly trad (100%)" in p["sentence"] for p in profiles)
    assert compare_with_rules(labels, ["se"] * 30 + ["trad"] * 30)["adjusted_rand_index"] == 1.0


def test_comparisons_state_test_effect_size_and_n():
    frame = pd.DataFrame({
        "group": ["se"] * 6 + ["trad"] * 6,
        "age": [2, 3, 4, 5, 6, 7, 10, 11, 12, 13, 14, 15],
        "impact": ["yes"] * 5 + ["no"] + ["yes"] * 2 + ["no"] * 4,
    })
    results = compare_groups(frame, group="group", first="se", second="trad",
                             characteristics={"age": "numeric", "impact": "categorical"})
    assert results["age"].effect_size == -1.0
    assert results["age"].group_n == {"se": 6, "trad": 6}
    assert results["impact"].test == "chi-square"
    assert results["impact"].n == 12
    # [[5, 2], [1, 4]]: chi² = 12 (5·4 − 2·1)² / (7 · 5 · 6 · 6) = 3.0857.
    assert results["impact"].statistic == pytest.approx(12 * 18**2 / (7 * 5 * 6 * 6))
    with pytest.raises(ValueError, match="characteristics names a column"):
        compare_groups(frame, group="group", first="se", second="trad", characteristics={"size": "numeric"})


def test_scaling_associations_have_intervals_and_no_causal_claim():
    frame = pd.DataFrame({"growth": [0, 1, 2, 3, 10, 12, 14, 16, None],
                          "brand": [False] * 4 + [True] * 4 + [True]})
    row = scaling_associations(frame, outcome="growth", features=["brand"], resamples=500)[0]
    assert row["median_difference"] == 11.5
    assert (row["n_with"], row["n_without"]) == (4, 4)
    assert row["ci_low"] <= 11.5 <= row["ci_high"]
    assert row["rank_biserial"] == 1.0


def test_arguments_are_checked_by_name():
    with pytest.raises(ValueError, match="groups must be between"):
        hierarchical_typology(np.zeros((2, 2)), groups=3)
    with pytest.raises(ValueError, match="distance has NaN"):
        hierarchical_typology(np.array([[0, np.nan], [np.nan, 0]]), groups=1)
    with pytest.raises(ValueError, match="fraction must be between"):
        stability(np.zeros((3, 3)), groups=1, fraction=1.5)
    with pytest.raises(TypeError, match="profile must be a mapping"):
        classify(["kind"])  # type: ignore[arg-type]
