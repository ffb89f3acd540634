"""Typology of clusters: documented, versioned rules; a data-driven typology (Gower distance, hierarchical
clustering, resampling stability, readable group profiles); comparisons of social economy and traditional
clusters with tests and effect sizes; and associations of design features with growth.

Pure numpy, pandas, scipy and scikit-learn: no Django here. ``surveys.selectors`` builds one profile per
cluster (registry fields, member counts by family, accepted survey answers) with the source of each field,
and calls these functions.

Profiles
--------
A profile is a mapping (or a DataFrame row) with any of these fields; a missing field is simply not
evidence for any rule:

``kind`` (registry cluster kind: ``social_economy``, ``traditional``, ``other_vehicle``),
``type_as_described`` (the source's own words), ``name``, ``description``, ``themes`` (list of str),
``se_member_share`` (0–1, share of current members from social economy families), ``se_members_present``
(survey answer ``yes``/``no``), ``vehicle_type`` (survey answer), and ``sources`` (field → where its value
came from).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform
from sklearn.metrics import adjusted_rand_score

from socialclusters.analysis.survey_analysis import Comparison, chi_square_test, mann_whitney_test

__all__ = [
    "RULES",
    "RULES_VERSION",
    "RULE_TYPES",
    "Classification",
    "Rule",
    "classify",
    "compare_groups",
    "gower_distance",
    "group_profiles",
    "hierarchical_typology",
    "scaling_associations",
    "stability",
]

RULES_VERSION = "2026.1"

RULE_TYPES: dict[str, str] = {
    "territorial_se": "Territorial social economy cluster (such as a French PTCE)",
    "csei": "Cluster of social and ecological innovation (CSEI)",
    "social_innovation": "Social innovation cluster",
    "shared_value": "Shared-value cluster",
    "sectoral_se": "Sectoral social economy cluster or network",
    "traditional_with_se": "Traditional cluster with social economy members",
    "traditional": "Traditional cluster",
    "unclassified": "Not enough evidence to classify",
}


_UNDECOMPOSED: dict[int, str] = {ord(k): v for k, v in {"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d",
                                                             "ß": "ss"}.items()}


def normalise_text(text: str) -> str:
    """Lower case without accents or punctuation, so rules match the sources' many spellings.

    >>> normalise_text("Pôle Territorial de Coopération Économique (P.T.C.E.)")
    'pole territorial de cooperation economique ptce'
    """
    # Letters that Unicode does not decompose into a base letter and an accent.
    text = (text or "").translate(_UNDECOMPOSED)
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    plain = re.sub(r"(?<=\b\w)\.(?=\w\b|\w\.)", "", plain)  # P.T.C.E. -> ptce
    plain = plain.replace(".", "")
    return re.sub(r"[^\w]+", " ", plain).strip()


def _described(profile: Mapping[str, Any]) -> str:
    themes = profile.get("themes") or []
    parts = [profile.get("type_as_described") or "", profile.get("name") or "", profile.get("description") or "",
             " ".join(themes) if isinstance(themes, list) else str(themes)]
    return normalise_text(" ".join(str(p) for p in parts))


def _words(*phrases: str) -> Callable[[Mapping[str, Any]], bool]:
    wanted = [normalise_text(p) for p in phrases]
    pattern = re.compile("|".join(rf"\b{re.escape(w)}\b" for w in wanted))
    # ``classify`` normalises the profile's words once and passes them as "_described".
    return lambda profile: bool(pattern.search(profile.get("_described") or _described(profile)))


SE_WORDS = _words("social economy", "economie sociale", "economia social", "economia sociale", "sociale economie",
                  "sozialwirtschaft", "soziale okonomie", "ekonomii spolecznej", "ekonomia spoleczna",
                  "cooperative", "cooperativa", "cooperativas", "cooperatives", "cooperativ", "co operative",
                  "spoldzielnie",
                  "social enterprise", "social enterprises", "przedsiebiorstw spolecznych", "economiei sociale",
                  "solidarwirtschaft", "ess", "cooperazione sociale", "sociale ondernemingen", "ateneu cooperatiu",
                  "klaster")


@dataclass(frozen=True)
class Rule:
    """One rule: the type it gives, the fields it reads, the test, and the rule in plain words."""

    code: str
    type: str
    fields: tuple[str, ...]
    test: Callable[[Mapping[str, Any]], bool]
    description: str


def _survey(value: str) -> Callable[[Mapping[str, Any]], bool]:
    return lambda profile: profile.get("vehicle_type") == value


def _share(profile: Mapping[str, Any]) -> float | None:
    share = profile.get("se_member_share")
    return None if share is None or (isinstance(share, float) and math.isnan(share)) else float(share)


RULES: tuple[Rule, ...] = (
    Rule("ptce-described", "territorial_se", ("type_as_described", "name", "description"),
         _words("ptce", "pole territorial de cooperation economique", "poles territoriaux de cooperation economique"),
         "Its source calls it a pôle territorial de coopération économique (PTCE) or takes part in the PTCE scheme."),
    Rule("territorial-answer", "territorial_se", ("vehicle_type",), _survey("territorial"),
         "Its cluster organisation answered that it is a territorial cooperation hub of social economy actors."),
    Rule("csei-described", "csei", ("type_as_described", "name", "description", "themes"),
         _words("social and ecological innovation", "innovation sociale et ecologique", "csei",
                "sozial okologische innovation", "eco creatif"),
         "Its source describes it as a cluster of social and ecological innovation (or eco-creative cluster)."),
    Rule("csei-answer", "csei", ("vehicle_type",), _survey("csei"),
         "Its cluster organisation answered that it is a cluster of social and ecological innovation."),
    Rule("social-innovation-described", "social_innovation", ("type_as_described", "name", "description", "themes"),
         _words("social innovation", "social innovations", "innovation sociale", "innovations sociales",
                "soziale innovation", "innowacji spolecznych", "sociala innovationer", "innovazione sociale",
                "social impact", "impacto social", "inovacao social"),
         "Its source names social innovation or social impact as its purpose."),
    Rule("social-innovation-answer", "social_innovation", ("vehicle_type",), _survey("social_innovation"),
         "Its cluster organisation answered that it is a social innovation cluster."),
    Rule("shared-value-described", "shared_value", ("type_as_described", "name", "description", "themes"),
         _words("shared value", "valeur partagee", "creation de valeur partagee", "gemeinsamer wert"),
         "Its source describes shared value created by social economy and traditional enterprises together."),
    Rule("shared-value-answer", "shared_value", ("vehicle_type",), _survey("shared_value"),
         "Its cluster organisation answered that it is a shared-value cluster."),
    Rule("shared-value-mix", "shared_value", ("kind", "se_member_share"),
         lambda p: p.get("kind") == "social_economy" and (s := _share(p)) is not None and 0.25 <= s <= 0.75,
         "A social economy cluster where social economy organisations are between a quarter and three quarters "
         "of the members (a balanced mix with traditional enterprises)."),
    Rule("sectoral-answer", "sectoral_se", ("vehicle_type",), _survey("sectoral"),
         "Its cluster organisation answered that it is a sectoral network of social economy organisations."),
    Rule("se-kind", "sectoral_se", ("kind",), lambda p: p.get("kind") == "social_economy",
         "The registry records it as a social economy cluster and no more specific rule applies."),
    Rule("se-vehicle", "sectoral_se", ("kind", "type_as_described", "name", "themes"),
         lambda p: p.get("kind") == "other_vehicle" and SE_WORDS(p),
         "A cooperation vehicle (network, consortium, group) whose source names the social economy, "
         "cooperatives or social enterprises."),
    Rule("se-majority", "sectoral_se", ("kind", "se_member_share"),
         lambda p: p.get("kind") != "traditional" and (s := _share(p)) is not None and s > 0.5,
         "Most of its current members belong to social economy families."),
    Rule("traditional-se-members", "traditional_with_se", ("kind", "se_member_share", "se_members_present"),
         lambda p: p.get("kind") == "traditional"
         and (((s := _share(p)) is not None and s > 0) or p.get("se_members_present") == "yes"),
         "A traditional cluster with at least one social economy member (registry memberships or its answer)."),
    Rule("traditional", "traditional", ("kind",), lambda p: p.get("kind") == "traditional",
         "The registry records it as a traditional or competitive cluster, with no social economy member known."),
)

# When several types' rules fire, the first type in this order wins; every fired rule is still listed.
PRECEDENCE = ("territorial_se", "csei", "social_innovation", "shared_value", "sectoral_se", "traditional_with_se",
              "traditional")


@dataclass(frozen=True)
class Classification:
    """The type of one profile, every rule that fired, and the evidence (value and source) for each field."""

    cluster_id: Any
    type: str
    fired: list[str]
    evidence: dict[str, dict[str, Any]] = field(default_factory=dict)
    rules_version: str = RULES_VERSION


def _json_value(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if math.isnan(value) else round(float(value), 4)
    return value


def classify(profile: Mapping[str, Any], *, cluster_id: Any = None) -> Classification:
    """Apply :data:`RULES` to one profile.

    Examples
    --------
    >>> result = classify({"kind": "social_economy", "type_as_described": "Pôle territorial de coopération "
    ...                    "économique", "sources": {"type_as_described": "known-se-clusters 2026-11"}})
    >>> result.type, result.fired
    ('territorial_se', ['ptce-described', 'se-kind'])
    >>> result.evidence["type_as_described"]["source"]
    'known-se-clusters 2026-11'
    >>> classify({"kind": "traditional", "se_member_share": 0.1}).type
    'traditional_with_se'
    >>> classify({}).type
    'unclassified'
    """
    if not isinstance(profile, Mapping):
        raise TypeError(f"profile must be a mapping, not {type(profile).__name__}")
    prepared = {**profile, "_described": _described(profile)}
    fired = [rule for rule in RULES if rule.test(prepared)]
    types = {rule.type for rule in fired}
    chosen = next((t for t in PRECEDENCE if t in types), "unclassified")
    sources = profile.get("sources") or {}
    evidence: dict[str, dict[str, Any]] = {}
    for rule in fired:
        for name in rule.fields:
            value = profile.get(name)
            if value in (None, "", []) or name in evidence:
                continue
            evidence[name] = {"value": _json_value(value), "source": sources.get(name, "")}
    return Classification(cluster_id=cluster_id, type=chosen, fired=[rule.code for rule in fired], evidence=evidence)


# --- data-driven typology ----------------------------------------------------------------------------------


def _feature_kinds(frame: pd.DataFrame, categorical: Sequence[str] | None) -> tuple[list[str], list[str]]:
    if categorical is None:
        categorical = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])
                       or pd.api.types.is_bool_dtype(frame[c])]
    unknown = [c for c in categorical if c not in frame.columns]
    if unknown:
        raise ValueError(f"categorical names columns frame lacks: {unknown}")
    numeric = [c for c in frame.columns if c not in categorical]
    return numeric, list(categorical)


def gower_distance(frame: pd.DataFrame, *, categorical: Sequence[str] | None = None,
                   weights: Mapping[str, float] | None = None) -> np.ndarray:
    """Gower's distance between every pair of rows of a mixed table (numeric and categorical columns).

    Numeric columns contribute |x − y| / range; categorical (and boolean) columns 0 if equal, 1 if not.
    A feature missing in either row is left out of that pair's average (Gower, 1971). Pairs with no
    feature in common get NaN.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per profile.
    categorical : sequence of str, optional
        Columns to treat as categories; by default every non-numeric or boolean column.
    weights : mapping, optional
        Weight per column (default 1).

    Returns
    -------
    numpy.ndarray of shape (n, n), float64, symmetric with a zero diagonal.

    Examples
    --------
    >>> frame = pd.DataFrame({"members": [10, 20, 30], "kind": ["se", "se", "trad"]})
    >>> gower_distance(frame).round(3)
    array([[0.  , 0.25, 1.  ],
           [0.25, 0.  , 0.75],
           [1.  , 0.75, 0.  ]])
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame, not {type(frame).__name__}")
    if frame.shape[1] == 0:
        raise ValueError("frame has no columns")
    numeric, categories = _feature_kinds(frame, categorical)
    weights = dict(weights or {})
    bad = [c for c, w in weights.items() if c not in frame.columns or not w >= 0]
    if bad:
        raise ValueError(f"weights must be non-negative and name columns of frame: {bad}")
    n = len(frame)
    total = np.zeros((n, n), dtype=np.float64)
    counted = np.zeros((n, n), dtype=np.float64)
    part = np.empty((n, n), dtype=np.float64)  # reused by every feature: n x n temporaries dominate the cost
    for column in numeric:
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=np.float64)
        present = ~np.isnan(values)
        spread = np.nanmax(values) - np.nanmin(values) if present.any() else 0.0
        weight = weights.get(column, 1.0)
        both = np.logical_and.outer(present, present)
        if spread > 0:
            filled = np.where(present, values, 0.0)
            np.subtract.outer(filled, filled, out=part)
            np.abs(part, out=part)
            part *= weight / spread
            part *= both
            total += part
        counted += weight * both if weight != 1.0 else both
    for column in categories:
        codes = pd.Categorical(frame[column].astype(object).where(frame[column].notna(), None)).codes
        present = codes >= 0
        weight = weights.get(column, 1.0)
        both = np.logical_and.outer(present, present)
        differs = np.not_equal.outer(codes, codes)
        differs &= both
        total += weight * differs if weight != 1.0 else differs
        counted += weight * both if weight != 1.0 else both
    with np.errstate(invalid="ignore", divide="ignore"):
        distance = total / counted
    np.fill_diagonal(distance, 0.0)
    return distance


def hierarchical_typology(distance: np.ndarray, *, groups: int, method: str = "average") -> np.ndarray:
    """Group labels (1 … ``groups``) from hierarchical clustering of a distance matrix.

    Examples
    --------
    >>> d = gower_distance(pd.DataFrame({"x": [0, 1, 10, 11]}))
    >>> hierarchical_typology(d, groups=2).tolist()
    [1, 1, 2, 2]
    """
    matrix = np.asarray(distance, dtype=float)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"distance must be a square matrix, got shape {matrix.shape}")
    if np.isnan(matrix).any():
        raise ValueError("distance has NaN: some pairs share no feature; drop those profiles or add features")
    if not 1 <= groups <= len(matrix):
        raise ValueError(f"groups must be between 1 and {len(matrix)}, got {groups}")
    if method not in ("average", "complete", "single", "weighted"):
        raise ValueError(f"method must be average, complete, single or weighted, not '{method}'")
    tree = linkage(squareform(matrix, checks=False), method=method)
    return fcluster(tree, t=groups, criterion="maxclust").astype(int)


@dataclass(frozen=True)
class Stability:
    """Resampling stability: mean and spread of the adjusted Rand index, and each group's mean Jaccard."""

    mean_ari: float
    ari_low: float
    ari_high: float
    group_jaccard: dict[int, float]
    resamples: int
    fraction: float


def stability(distance: np.ndarray, *, groups: int, resamples: int = 20, fraction: float = 0.8,
              seed: int = 0, method: str = "average") -> Stability:
    """How stable the groups are when a random ``fraction`` of the profiles is clustered again.

    For each resample, the subsample's groups are compared with the full clustering's groups on the same
    profiles: the adjusted Rand index overall, and for each full group the best Jaccard similarity with a
    subsample group (Hennig's clusterwise stability; above 0.75 is usually called stable, below 0.5
    dissolved). ``ari_low``/``ari_high`` are the 5th and 95th percentiles.

    Examples
    --------
    >>> d = gower_distance(pd.DataFrame({"x": [0, 1, 2, 10, 11, 12, 20, 21, 22]}))
    >>> result = stability(d, groups=3, resamples=10, seed=1)
    >>> result.mean_ari, result.group_jaccard
    (1.0, {1: 1.0, 2: 1.0, 3: 1.0})
    """
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1, got {resamples}")
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be between 0 and 1, got {fraction}")
    matrix = np.asarray(distance, dtype=float)
    full = hierarchical_typology(matrix, groups=groups, method=method)
    n = len(matrix)
    size = max(groups, round(fraction * n))
    rng = np.random.default_rng(seed)
    aris = []
    jaccards: dict[int, list[float]] = {int(g): [] for g in np.unique(full)}
    for _ in range(resamples):
        chosen = np.sort(rng.choice(n, size=size, replace=False))
        sub = hierarchical_typology(matrix[np.ix_(chosen, chosen)], groups=groups, method=method)
        reference = full[chosen]
        aris.append(adjusted_rand_score(reference, sub))
        for group, values in jaccards.items():
            members = reference == group
            if not members.any():
                continue
            best = max(
                (members & (sub == other)).sum() / (members | (sub == other)).sum() for other in np.unique(sub)
            )
            values.append(float(best))
    indices = np.asarray(aris)
    return Stability(mean_ari=round(float(indices.mean()), 4), ari_low=round(float(np.quantile(indices, 0.05)), 4),
                     ari_high=round(float(np.quantile(indices, 0.95)), 4),
                     group_jaccard={g: round(float(np.mean(v)), 4) if v else math.nan for g, v in jaccards.items()},
                     resamples=resamples, fraction=fraction)


def group_profiles(frame: pd.DataFrame, labels: Sequence[int] | np.ndarray, *,
                   categorical: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """A readable profile of each group: its size, the median of numeric features and the most common value
    of categorical ones (with its share), and a sentence that says the same.

    Examples
    --------
    >>> frame = pd.DataFrame({"members": [10, 12, 40], "kind": ["se", "se", "trad"]})
    >>> profiles = group_profiles(frame, [1, 1, 2])
    >>> profiles[0]["size"], profiles[0]["sentence"]
    (2, 'Group 1 (2 profiles): members median 11; kind mostly se (100%).')
    """
    label_array = np.asarray(labels)
    if len(label_array) != len(frame):
        raise ValueError(f"labels has {len(label_array)} items, frame has {len(frame)} rows")
    numeric, categories = _feature_kinds(frame, categorical)
    profiles = []
    for group in sorted(np.unique(label_array)):
        rows = frame[label_array == group]
        features: dict[str, Any] = {}
        words = []
        for column in frame.columns:
            if column in numeric:
                median = pd.to_numeric(rows[column], errors="coerce").median()
                features[column] = None if pd.isna(median) else float(median)
                if not pd.isna(median):
                    words.append(f"{column} median {median:g}")
            elif column in categories:
                counts = rows[column].dropna().astype(str).value_counts()
                if len(counts):
                    share = counts.iloc[0] / counts.sum()
                    features[column] = {"value": counts.index[0], "share": round(float(share), 3)}
                    words.append(f"{column} mostly {counts.index[0]} ({share:.0%})")
        profiles.append({"group": int(group), "size": len(rows), "features": features,
                         "sentence": f"Group {group} ({len(rows)} profiles): {'; '.join(words)}."})
    return profiles


def compare_with_rules(labels: Sequence[int] | np.ndarray, rule_types: Sequence[str]) -> dict[str, Any]:
    """How the data-driven groups line up with the rule-based types: a cross-tab and the adjusted Rand index.

    >>> compare_with_rules([1, 1, 2], ["a", "a", "b"])["adjusted_rand_index"]
    1.0
    """
    if len(labels) != len(rule_types):
        raise ValueError(f"rule_types has {len(rule_types)} items, labels has {len(labels)}")
    table = pd.crosstab(pd.Series(list(rule_types), name="type"), pd.Series(list(labels), name="group"))
    return {"crosstab": {str(t): {int(g): int(v) for g, v in row.items()} for t, row in table.iterrows()},
            "adjusted_rand_index": round(float(adjusted_rand_score(list(rule_types), list(labels))), 4)}


# --- comparisons and design features ---------------------------------------------------------------------


def compare_groups(frame: pd.DataFrame, *, group: str, first: str, second: str,
                   characteristics: Mapping[str, str]) -> dict[str, Comparison | None]:
    """Compare two groups (for example social economy against traditional clusters) on each characteristic.

    ``characteristics`` maps a column to ``"categorical"`` (chi-square with Cramér's V) or ``"numeric"``
    (Mann–Whitney U with the rank-biserial r; positive r: ``first`` tends higher). A characteristic without
    enough data gives None.

    Examples
    --------
    >>> frame = pd.DataFrame({"g": ["se"] * 4 + ["trad"] * 4, "age": [1, 2, 3, 4, 5, 6, 7, 8]})
    >>> result = compare_groups(frame, group="g", first="se", second="trad", characteristics={"age": "numeric"})
    >>> result["age"].effect_size, result["age"].group_n
    (-1.0, {'se': 4, 'trad': 4})
    """
    if group not in frame.columns:
        raise ValueError(f"group names no column of frame: '{group}'")
    results: dict[str, Comparison | None] = {}
    subset = frame[frame[group].isin([first, second])]
    for column, kind in characteristics.items():
        if column not in frame.columns:
            raise ValueError(f"characteristics names a column frame lacks: '{column}'")
        if kind not in ("categorical", "numeric"):
            raise ValueError(f"characteristics['{column}'] must be 'categorical' or 'numeric', not '{kind}'")
        try:
            if kind == "numeric":
                results[column] = mann_whitney_test(subset.loc[subset[group] == first, column],
                                                    subset.loc[subset[group] == second, column],
                                                    names=(first, second))
            else:
                rows = subset[column].astype(object).where(subset[column].notna(), None)
                results[column] = chi_square_test(rows.map(lambda v: None if v is None else str(v)), subset[group])
        except ValueError:
            results[column] = None
    return results


def scaling_associations(frame: pd.DataFrame, *, outcome: str, features: Sequence[str], resamples: int = 2000,
                         seed: int = 0) -> list[dict[str, Any]]:
    """How each (yes/no) design feature goes with an outcome such as growth in members: the difference in
    median outcome with and without the feature, its 95% bootstrap interval, and the rank-biserial r.

    These are associations in observational data, never causes: a feature may go with growth because
    growing clusters can afford it.

    Examples
    --------
    >>> frame = pd.DataFrame({"growth": [1, 2, 3, 10, 11, 12], "brand": [False] * 3 + [True] * 3})
    >>> row = scaling_associations(frame, outcome="growth", features=["brand"], resamples=200)[0]
    >>> row["median_difference"], row["n_with"], row["n_without"], row["rank_biserial"]
    (9.0, 3, 3, 1.0)
    """
    if outcome not in frame.columns:
        raise ValueError(f"outcome names no column of frame: '{outcome}'")
    if resamples < 100:
        raise ValueError(f"resamples must be at least 100, got {resamples}")
    rng = np.random.default_rng(seed)
    rows = []
    y = pd.to_numeric(frame[outcome], errors="coerce")
    for feature in features:
        if feature not in frame.columns:
            raise ValueError(f"features names a column frame lacks: '{feature}'")
        flag = frame[feature]
        known = y.notna() & flag.notna()
        with_ = y[known & (flag == True)].to_numpy(dtype=float)  # noqa: E712 - element-wise comparison
        without = y[known & (flag == False)].to_numpy(dtype=float)  # noqa: E712
        row: dict[str, Any] = {"feature": feature, "n_with": len(with_), "n_without": len(without)}
        if len(with_) and len(without):
            row["median_difference"] = float(np.median(with_) - np.median(without))
            boot_a = rng.choice(with_, size=(resamples, len(with_)), replace=True)
            boot_b = rng.choice(without, size=(resamples, len(without)), replace=True)
            diffs = np.median(boot_a, axis=1) - np.median(boot_b, axis=1)
            row["ci_low"], row["ci_high"] = (float(v) for v in np.quantile(diffs, [0.025, 0.975]))
            row["rank_biserial"] = round(mann_whitney_test(with_, without).effect_size, 4)
        rows.append(row)
    return rows
