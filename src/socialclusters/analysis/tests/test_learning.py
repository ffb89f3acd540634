"""Tests of learning pairs: similar places by sector structure and social economy, complementary
rural-urban pairs with the strength the place lacks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from socialclusters.analysis.learning import learning_pairs


@pytest.fixture
def places():  # type: ignore[no-untyped-def]
    profiles = pd.DataFrame({
        "A": [2.5, 2.4, 0.2, 0.3, 2.6, 1.0],
        "C": [0.4, 0.5, 1.9, 1.7, 0.5, 1.0],
        "Q": [1.0, 1.1, 1.2, 0.9, np.nan, 1.0],
    }, index=["rural1", "rural2", "urban1", "urban2", "urban3", "flat"])
    indicators = pd.DataFrame({"se_share": [0.03, 0.04, 0.25, 0.10, 0.30, 0.05],
                               "se_lq": [0.5, 0.6, 1.8, 1.1, 0.4, 1.0]}, index=profiles.index)
    urban = pd.Series([3, 3, 1, 1, 1, 2], index=profiles.index)
    country = pd.Series(["FR", "FR", "DE", "IT", "ES", "FR"], index=profiles.index)
    return profiles, indicators, urban, country


def test_most_similar_shares_the_sector_structure(places):  # type: ignore[no-untyped-def]
    profiles, indicators, urban, _ = places
    similar = learning_pairs(profiles, indicators, urban, "rural1", k=3)["similar"]
    assert similar.index[0] == "rural2"
    assert "rural1" not in similar.index
    assert any("specialised in A" in r for r in similar.loc["rural2", "reasons"])
    assert similar["score"].is_monotonic_decreasing


def test_complementary_pairs_rural_with_stronger_urban(places):  # type: ignore[no-untyped-def]
    profiles, indicators, urban, _ = places
    complementary = learning_pairs(profiles, indicators, urban, "rural1", k=5)["complementary"]
    assert set(complementary.index) <= {"urban1", "urban2", "urban3"}
    assert complementary.index[0] in {"urban1", "urban3"}
    assert complementary.loc["urban1", "gain_indicator"] in {"se_share", "se_lq"}
    # An intermediate place has no rural-urban complement.
    assert learning_pairs(profiles, indicators, urban, "flat")["complementary"].empty


def test_other_countries_only(places):  # type: ignore[no-untyped-def]
    profiles, indicators, urban, country = places
    similar = learning_pairs(profiles, indicators, urban, "rural1", other_countries_only=True, country=country)
    assert not set(similar["similar"].index) & {"rural2", "flat"}


@pytest.mark.parametrize(("change", "message"), [
    ({"target": "nowhere"}, "target"),
    ({"k": 0}, "k"),
    ({"urban_rural": pd.Series([4], index=["rural1"])}, "urban_rural"),
    ({"profiles": pd.DataFrame({"A": [-1.0]}, index=["rural1"])}, "profiles"),
    ({"other_countries_only": True}, "country"),
])
def test_bad_arguments_are_named(places, change, message):  # type: ignore[no-untyped-def]
    profiles, indicators, urban, _ = places
    arguments = {"profiles": profiles, "indicators": indicators, "urban_rural": urban, "target": "rural1"} | change
    with pytest.raises(ValueError, match=message):
        learning_pairs(**arguments)
