"""Cross-regional learning pairs: for a region (or a cluster), the most similar ones and the most complementary.

Pure numpy and pandas: no Django here. The inputs are one row per place (a NUTS region or a cluster):

- ``profiles``: its sector structure, for example location quotients by NACE section or division (the
  output of :mod:`socialclusters.analysis.cluster_statistics`), NaN where unknown;
- ``indicators``: its social economy indicators, higher meaning stronger (share of social economy
  organisations, social economy location quotient, density…);
- ``urban_rural``: Eurostat's urban-rural type, 1 predominantly urban, 2 intermediate, 3 predominantly rural.

**Similar** places have the same sector structure and social economy: the score is
``0.7 * cosine(profile) + 0.3 * (1 - mean |percentile difference| of the indicators)``; the cosine is
taken on the profiles centred on 1 (a location quotient of 1 is "as everywhere", so two places only
look alike by where they both differ from the average).

**Complementary** places pair a predominantly rural place with a predominantly urban one (or the reverse)
that is stronger on a social economy indicator: the score is ``0.7 * largest percentile gain + 0.3 *
max(0, cosine(profile))``, so the partner has the strength the place lacks and enough sector structure
in common to learn from.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["learning_pairs"]

SIMILAR_PROFILE_WEIGHT = 0.7
COMPLEMENT_GAIN_WEIGHT = 0.7
SPECIALISED_LQ = 1.25


def _check(profiles: pd.DataFrame, indicators: pd.DataFrame, urban_rural: pd.Series, target: Hashable,
           k: int) -> None:
    if not isinstance(profiles, pd.DataFrame) or profiles.empty:
        raise ValueError("profiles: must be a non-empty DataFrame (one row per place)")
    if not isinstance(indicators, pd.DataFrame):
        raise ValueError("indicators: must be a DataFrame (one row per place)")
    if not isinstance(urban_rural, pd.Series):
        raise ValueError("urban_rural: must be a Series (one value per place)")
    if profiles.index.has_duplicates:
        raise ValueError(f"profiles: place {profiles.index[profiles.index.duplicated()][0]!r} appears twice")
    if target not in profiles.index:
        raise ValueError(f"target: {target!r} is not a row of profiles")
    numbers = profiles.to_numpy(dtype=float, na_value=np.nan)
    if (numbers[~np.isnan(numbers)] < 0).any():
        raise ValueError("profiles: values must be >= 0 (location quotients or shares)")
    bad = ~urban_rural.dropna().isin([1, 2, 3])
    if bad.any():
        raise ValueError(f"urban_rural: {urban_rural.dropna()[bad].iloc[0]!r} is not 1, 2 or 3")
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"k: must be a whole number >= 1, got {k!r}")


def learning_pairs(
    profiles: pd.DataFrame,
    indicators: pd.DataFrame,
    urban_rural: pd.Series,
    target: Hashable,
    *,
    k: int = 5,
    other_countries_only: bool = False,
    country: pd.Series | None = None,
) -> dict[str, pd.DataFrame]:
    """The ``k`` most similar and the ``k`` most complementary places for ``target``, with reasons.

    Parameters
    ----------
    profiles : pandas.DataFrame
        Places x sectors, non-negative (location quotients); NaN counts as 1 (average).
    indicators : pandas.DataFrame
        Places x social economy indicators, higher is stronger; a place missing from it has no
        indicator strength (and cannot be a complementary partner).
    urban_rural : pandas.Series
        Places → 1, 2 or 3 (NaN unknown).
    target : hashable
        The place to find partners for (a row of ``profiles``).
    k : int, default 5
    other_countries_only : bool, default False
        Keep only places whose ``country`` differs from the target's (``country`` is then required).
    country : pandas.Series, optional
        Places → country code.

    Returns
    -------
    dict
        ``similar`` and ``complementary``: DataFrames indexed by place, best first, with ``score`` and
        ``reasons`` (a list of plain-word strings); ``complementary`` also has ``gain_indicator``.

    Raises
    ------
    ValueError
        Naming the argument at fault.

    Examples
    --------
    >>> profiles = pd.DataFrame({"A": [2.0, 1.9, 0.3, 0.4], "C": [0.5, 0.6, 1.8, 1.6]},
    ...                         index=["FRK27", "ITC16", "DE300", "FR101"])
    >>> indicators = pd.DataFrame({"se_share": [0.04, 0.05, 0.20, 0.15]}, index=profiles.index)
    >>> urban = pd.Series([3, 3, 1, 1], index=profiles.index)
    >>> pairs = learning_pairs(profiles, indicators, urban, "FRK27", k=2)
    >>> list(pairs["similar"].index), list(pairs["complementary"].index)
    (['ITC16', 'FR101'], ['DE300', 'FR101'])
    >>> pairs["complementary"].loc["DE300", "reasons"][0]
    'a predominantly urban place paired with a predominantly rural one'
    """
    _check(profiles, indicators, urban_rural, target, k)
    if other_countries_only and country is None:
        raise ValueError("country: required with other_countries_only")
    places = profiles.index
    centred = profiles.astype(float).fillna(1.0).to_numpy() - 1.0
    norms = np.linalg.norm(centred, axis=1)
    t = places.get_loc(target)
    with np.errstate(invalid="ignore", divide="ignore"):
        cosine = centred @ centred[t] / (norms * norms[t])
    cosine = np.nan_to_num(cosine, nan=0.0)
    ind = indicators.reindex(places).astype(float)
    percentile = ind.rank(pct=True)  # NaN stays NaN
    target_pct = percentile.iloc[t]
    difference = (percentile - target_pct).abs().mean(axis=1, skipna=True).fillna(1.0).to_numpy()
    similar_score = SIMILAR_PROFILE_WEIGHT * cosine + (1 - SIMILAR_PROFILE_WEIGHT) * (1 - difference)

    keep = np.ones(len(places), dtype=bool)
    keep[t] = False
    if other_countries_only and country is not None:
        keep &= (country.reindex(places) != country.get(target)).to_numpy()
    specialised = profiles.astype(float).fillna(1.0) >= SPECIALISED_LQ
    target_specialised = specialised.iloc[t]

    def shared(i: int) -> list[str]:
        return [str(c) for c in profiles.columns[(specialised.iloc[i] & target_specialised).to_numpy()]]

    similar_rows = []
    for i in np.argsort(-np.where(keep, similar_score, -np.inf), kind="stable")[: min(k, int(keep.sum()))]:
        reasons = [f"similar sector structure (cosine {cosine[i]:.2f})"]
        if shared(i):
            reasons.append(f"both specialised in {', '.join(shared(i))}")
        if len(ind.columns) and not np.isnan(difference[i]):
            reasons.append(f"comparable social economy (mean percentile gap {difference[i]:.2f})")
        similar_rows.append((places[i], float(similar_score[i]), reasons))

    urban = urban_rural.reindex(places).to_numpy(dtype=float)
    target_type = urban[t]
    complementary_rows: list[tuple[Any, float, str, list[str]]] = []
    if target_type in (1.0, 3.0) and len(ind.columns):
        opposite = 4.0 - target_type
        gain = (percentile - target_pct).clip(lower=0)
        best_gain = gain.max(axis=1, skipna=True).fillna(0.0).to_numpy()
        best_indicator = gain.fillna(-1).idxmax(axis=1)
        eligible = keep & (urban == opposite) & (best_gain > 0)
        score = COMPLEMENT_GAIN_WEIGHT * best_gain + (1 - COMPLEMENT_GAIN_WEIGHT) * np.clip(cosine, 0, None)
        order = np.argsort(-np.where(eligible, score, -np.inf), kind="stable")[: min(k, int(eligible.sum()))]
        kinds = {1.0: "predominantly urban", 3.0: "predominantly rural"}
        for i in order:
            name = str(best_indicator.iloc[i])
            reasons = [f"a {kinds[opposite]} place paired with a {kinds[target_type]} one",
                       f"stronger on {name} ({ind.iloc[i][name]:.3g} against {ind.iloc[t][name]:.3g})"]
            if shared(i):
                reasons.append(f"both specialised in {', '.join(shared(i))}")
            complementary_rows.append((places[i], float(score[i]), name, reasons))
    similar = pd.DataFrame(similar_rows, columns=["place", "score", "reasons"]).set_index("place")
    complementary = pd.DataFrame(complementary_rows, columns=["place", "score", "gain_indicator", "reasons"]
                                 ).set_index("place")
    return {"similar": similar, "complementary": complementary}
