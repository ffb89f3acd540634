"""Selection of working-group members: a balanced group within a seat range, proven optimal, and explained.

Pure pandas, numpy and OR-Tools CP-SAT: no Django here. The working group's web app and the
``socialclusters select-members`` command both call :func:`select_members`; :func:`greedy_selection` is the
pick a secretariat would otherwise make by hand (the best scores first, a patch for each uncovered required
area), kept beside it for comparison.

The model
---------
One binary variable per applicant who may be chosen. The objective adds, in points:

- ``weights.score`` × the applicant's review score (expected on a 0–100 scale) for each selected applicant;
- ``weights.area`` for each expertise area at least one selected applicant covers;
- ``weights.stakeholder_type`` for each stakeholder type represented;
- ``weights.country`` for each country represented;
- minus ``weights.gender_imbalance`` for each person of difference between the women and the men selected
  (people who did not declare a gender, or declared another one, count for neither side).

Constraints: the number selected lies in the seat range; each required area has at least
``min_per_area`` selected applicants who cover it; no country has more than ``max_per_country``; with
``require_available``, only applicants available for the constitutive meeting can be chosen; locked-in
applicants are selected and locked-out ones are not (a lock overrides availability).

Among equally good groups the solver is steered to one answer: the group whose members come earliest in
the input's row order, so the same input always gives the same group.
"""

from __future__ import annotations

import math
import time
from collections.abc import Collection, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from ortools.sat.python import cp_model

__all__ = [
    "GENDER_BALANCE",
    "REQUIRED_COLUMNS",
    "Selection",
    "Weights",
    "greedy_selection",
    "normalise_applicants",
    "objective_of",
    "select_members",
]

REQUIRED_COLUMNS = ("id", "score", "country", "stakeholder_type", "areas")
# The two declared genders whose counts the objective keeps close.
GENDER_BALANCE = ("woman", "man")
# Objective coefficients are integers for CP-SAT: points are multiplied by this and rounded.
_SCALE = 100


@dataclass(frozen=True)
class Weights:
    """Points of each part of the objective (see the module's docstring)."""

    score: float = 1.0
    area: float = 25.0
    stakeholder_type: float = 20.0
    country: float = 10.0
    gender_imbalance: float = 10.0

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                raise ValueError(f"weights.{name} must be a finite number >= 0, got {value!r}")


@dataclass
class Selection:
    """A proposed group, how good it is, and why.

    ``status`` is ``"optimal"`` (proven), ``"feasible"`` (stopped at the time limit: ``gap`` says how far
    the proof got), or ``"infeasible"`` (``reasons`` says why; ``selected`` is empty).
    """

    method: str
    status: str
    selected: list[Any]
    objective: float
    best_bound: float
    gap: float
    seconds: float
    breakdown: dict[str, float]
    reserve: list[Any] = field(default_factory=list)
    contributions: list[dict[str, Any]] = field(default_factory=list)
    left_out: list[dict[str, Any]] = field(default_factory=list)
    binding: list[dict[str, Any]] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (identifiers as given, numbers rounded to 4 decimals)."""
        data = asdict(self)
        for key in ("objective", "best_bound", "gap", "seconds"):
            data[key] = round(float(data[key]), 4)
        data["breakdown"] = {k: round(float(v), 4) for k, v in self.breakdown.items()}
        return _plain(data)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


# --- input --------------------------------------------------------------------------------------------


def _areas_of(value: Any, row: int) -> tuple[str, ...]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ()
    if isinstance(value, str):
        parts: Iterable[Any] = value.replace(",", ";").split(";")
    elif isinstance(value, Iterable):
        parts = value
    else:
        raise ValueError(f"applicants: row {row}: 'areas' must be a list or a ';'-separated text, got {value!r}")
    return tuple(sorted({str(p).strip() for p in parts if str(p).strip()}))


def _truthy(value: Any, row: int, column: str) -> bool:
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "y"}:
        return True
    if text in {"0", "false", "no", "n", ""}:
        return False
    raise ValueError(f"applicants: row {row}: '{column}' must be yes/no, true/false or 1/0, got {value!r}")


def normalise_applicants(applicants: pd.DataFrame) -> pd.DataFrame:
    """Check and tidy an applicants table: the input of :func:`select_members`.

    Parameters
    ----------
    applicants : pandas.DataFrame
        One row per applicant with columns ``id`` (unique), ``score`` (number, 0–100 expected),
        ``country``, ``stakeholder_type``, ``areas`` (a list, or text separated by ``;``), and optionally
        ``gender`` (``woman``, ``man``, anything else or empty) and ``available`` (for the constitutive
        meeting; yes/no, true/false, 1/0; missing means available).

    Returns
    -------
    pandas.DataFrame
        The same rows, in the same order, with ``areas`` as sorted tuples, ``available`` as booleans,
        ``gender`` as lower-case text, ``country`` upper-case.

    Raises
    ------
    ValueError
        Naming the column or the row (counted from 1) that is wrong.

    Examples
    --------
    >>> table = normalise_applicants(pd.DataFrame({
    ...     "id": [1, 2], "score": [80, 60], "country": ["fr", "BE"],
    ...     "stakeholder_type": ["research", "cluster"], "areas": ["finance; procurement", ["policy"]]}))
    >>> table[["id", "country", "areas", "available"]].to_dict("records")  # doctest: +NORMALIZE_WHITESPACE
    [{'id': 1, 'country': 'FR', 'areas': ('finance', 'procurement'), 'available': True},
     {'id': 2, 'country': 'BE', 'areas': ('policy',), 'available': True}]
    """
    if not isinstance(applicants, pd.DataFrame):
        raise TypeError(f"applicants must be a pandas DataFrame, got {type(applicants).__name__}")
    missing = [c for c in REQUIRED_COLUMNS if c not in applicants.columns]
    if missing:
        raise ValueError(f"applicants: missing column(s) {', '.join(missing)}")
    table = applicants.reset_index(drop=True).copy()
    duplicated = table["id"][table["id"].duplicated()]
    if len(duplicated):
        raise ValueError(f"applicants: 'id' {duplicated.iloc[0]!r} appears more than once")
    scores = pd.to_numeric(table["score"], errors="coerce")
    bad = scores.isna() | ~np.isfinite(scores.to_numpy(dtype=float, na_value=np.nan))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise ValueError(f"applicants: row {row + 1}: 'score' must be a number, got {table['score'].iloc[row]!r}")
    table["score"] = scores.astype(float)
    for column in ("country", "stakeholder_type"):
        values = table[column].astype("string").fillna("").str.strip()
        empty = values == ""
        if empty.any():
            row = int(np.flatnonzero(empty.to_numpy())[0])
            raise ValueError(f"applicants: row {row + 1}: '{column}' is empty")
        table[column] = values.str.upper() if column == "country" else values
        table[column] = table[column].astype(object)
    table["areas"] = [_areas_of(v, i + 1) for i, v in enumerate(table["areas"])]
    if "gender" in table.columns:
        table["gender"] = [("" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v).strip().lower())
                           for v in table["gender"]]
    else:
        table["gender"] = ""
    if "available" in table.columns:
        table["available"] = [_truthy(v, i + 1, "available") for i, v in enumerate(table["available"])]
    else:
        table["available"] = True
    return table


# --- the problem in arrays ---------------------------------------------------------------------------------


@dataclass
class _Problem:
    table: pd.DataFrame
    ids: list[Any]
    score: np.ndarray  # integer points (scaled)
    country: np.ndarray  # codes into countries
    countries: list[str]
    kind: np.ndarray
    kinds: list[str]
    areas: list[str]
    incidence: np.ndarray  # bool, applicants x areas
    gender: np.ndarray  # +1 woman, -1 man, 0 other/undeclared
    available: np.ndarray
    coefficient: dict[str, int]


def _problem(table: pd.DataFrame, weights: Weights, extra_areas: Collection[str]) -> _Problem:
    countries = sorted(set(table["country"]))
    kinds = sorted(set(table["stakeholder_type"]))
    areas = sorted({a for row in table["areas"] for a in row} | set(extra_areas))
    area_index = {a: j for j, a in enumerate(areas)}
    incidence = np.zeros((len(table), len(areas)), dtype=bool)
    for i, row in enumerate(table["areas"]):
        incidence[i, [area_index[a] for a in row]] = True
    gender = np.array([1 if g == GENDER_BALANCE[0] else -1 if g == GENDER_BALANCE[1] else 0
                       for g in table["gender"]], dtype=np.int64)
    coefficient = {name: round(value * _SCALE) for name, value in asdict(weights).items()}
    return _Problem(
        table=table, ids=list(table["id"]),
        score=np.rint(table["score"].to_numpy(dtype=float) * weights.score * _SCALE).astype(np.int64),
        country=np.searchsorted(countries, table["country"].to_numpy(dtype=object).astype(str)),
        countries=countries,
        kind=np.searchsorted(kinds, table["stakeholder_type"].to_numpy(dtype=object).astype(str)),
        kinds=kinds, areas=areas, incidence=incidence, gender=gender,
        available=table["available"].to_numpy(dtype=bool), coefficient=coefficient,
    )


def _breakdown(problem: _Problem, chosen: np.ndarray) -> dict[str, int]:
    """Integer (scaled) parts of the objective for a boolean mask of chosen applicants."""
    c = problem.coefficient
    return {
        "score": int(problem.score[chosen].sum()),
        "areas": c["area"] * int(problem.incidence[chosen].any(axis=0).sum()),
        "stakeholder_types": c["stakeholder_type"] * len(np.unique(problem.kind[chosen])),
        "countries": c["country"] * len(np.unique(problem.country[chosen])),
        "gender_imbalance": -c["gender_imbalance"] * abs(int(problem.gender[chosen].sum())),
    }


def _value(problem: _Problem, chosen: np.ndarray) -> int:
    return sum(_breakdown(problem, chosen).values())


@dataclass(frozen=True)
class _Rules:
    seats: tuple[int, int]
    required: tuple[str, ...]
    min_per_area: int
    max_per_country: int | None
    require_available: bool
    locked_in: frozenset[int]  # row positions
    locked_out: frozenset[int]

    def eligible(self, problem: _Problem) -> np.ndarray:
        mask = np.ones(len(problem.ids), dtype=bool)
        if self.require_available:
            mask &= problem.available
        mask[list(self.locked_out)] = False
        mask[list(self.locked_in)] = True
        return mask


def _check_arguments(
    table: pd.DataFrame, *, seats: Any, required_areas: Any, min_per_area: Any, max_per_country: Any,
    locked_in: Any, locked_out: Any, time_limit: Any,
) -> tuple[tuple[int, int], tuple[str, ...], frozenset[int], frozenset[int]]:
    try:
        low, high = (int(s) for s in seats)
    except (TypeError, ValueError):
        raise ValueError(f"seats must be a pair of whole numbers (low, high), got {seats!r}") from None
    if low < 1 or high < low:
        raise ValueError(f"seats must satisfy 1 <= low <= high, got {seats!r}")
    if isinstance(required_areas, str):
        raise TypeError("required_areas must be a collection of area names, not a single text")
    required = tuple(sorted({str(a).strip() for a in required_areas if str(a).strip()}))
    if not isinstance(min_per_area, int) or min_per_area < 1:
        raise ValueError(f"min_per_area must be a whole number >= 1, got {min_per_area!r}")
    if max_per_country is not None and (not isinstance(max_per_country, int) or max_per_country < 1):
        raise ValueError(f"max_per_country must be a whole number >= 1 or None, got {max_per_country!r}")
    if not isinstance(time_limit, int | float) or not time_limit > 0:
        raise ValueError(f"time_limit must be a number of seconds > 0, got {time_limit!r}")
    position = {identifier: i for i, identifier in enumerate(table["id"])}
    locks = []
    for name, values in (("locked_in", locked_in), ("locked_out", locked_out)):
        unknown = [v for v in values if v not in position]
        if unknown:
            raise ValueError(f"{name}: no applicant with id {unknown[0]!r}")
        locks.append(frozenset(position[v] for v in values))
    both = locks[0] & locks[1]
    if both:
        raise ValueError(f"applicant {table['id'].iloc[min(both)]!r} is both locked in and locked out")
    return (low, high), required, locks[0], locks[1]


def _infeasibility(problem: _Problem, rules: _Rules) -> list[str]:
    """Reasons the rules cannot all hold, found without a search (empty when none is obvious)."""
    reasons = []
    eligible = rules.eligible(problem)
    low, high = rules.seats
    if len(rules.locked_in) > high:
        reasons.append(f"{len(rules.locked_in)} applicants are locked in but there are at most {high} seats")
    cap = rules.max_per_country
    if cap is not None:
        fillable = sum(min(cap, int(n)) for n in np.bincount(problem.country[eligible],
                                                              minlength=len(problem.countries)))
        locked_counts = np.bincount(problem.country[list(rules.locked_in)], minlength=len(problem.countries))
        reasons += [f"{int(n)} applicants from {problem.countries[c]} are locked in but at most {cap} per country "
                    "are allowed" for c, n in enumerate(locked_counts) if n > cap]
    else:
        fillable = int(eligible.sum())
    if fillable < low:
        reasons.append(f"at least {low} seats must be filled but only {fillable} applicants can be chosen "
                       "(after availability, locks and the country limit)")
    area_index = {a: j for j, a in enumerate(problem.areas)}
    for area in rules.required:
        have = int(problem.incidence[eligible, area_index[area]].sum())
        if have < rules.min_per_area:
            reasons.append(f"required area '{area}' needs {rules.min_per_area} member(s) but only {have} "
                           "applicant(s) who can be chosen cover it")
    return reasons


def _feasible(problem: _Problem, rules: _Rules, chosen: np.ndarray) -> bool:
    count = int(chosen.sum())
    if not rules.seats[0] <= count <= rules.seats[1]:
        return False
    if not rules.eligible(problem)[chosen].all() or not chosen[list(rules.locked_in)].all():
        return False
    cap = rules.max_per_country
    if cap is not None and count and np.bincount(problem.country[chosen]).max() > cap:
        return False
    area_index = {a: j for j, a in enumerate(problem.areas)}
    return all(int(problem.incidence[chosen, area_index[a]].sum()) >= rules.min_per_area for a in rules.required)


# --- CP-SAT --------------------------------------------------------------------------------------------


def _model(problem: _Problem, rules: _Rules) -> tuple[cp_model.CpModel, dict[int, Any], int]:
    """The CP-SAT model: one boolean per eligible applicant; returns (model, variables, main-objective factor)."""
    n = len(problem.ids)
    candidates = [int(i) for i in np.flatnonzero(rules.eligible(problem))]
    model = cp_model.CpModel()
    x = {i: model.new_bool_var(f"x{i}") for i in candidates}
    for i in rules.locked_in:
        model.add(x[i] == 1)
    low, high = rules.seats
    model.add_linear_constraint(sum(x.values()), low, high)

    by_area: list[list[int]] = [[] for _ in problem.areas]
    by_country: dict[int, list[int]] = {}
    by_kind: dict[int, list[int]] = {}
    for i in candidates:
        for j in np.flatnonzero(problem.incidence[i]):
            by_area[j].append(i)
        by_country.setdefault(int(problem.country[i]), []).append(i)
        by_kind.setdefault(int(problem.kind[i]), []).append(i)
    area_index = {a: j for j, a in enumerate(problem.areas)}
    for area in rules.required:
        model.add(sum(x[i] for i in by_area[area_index[area]]) >= rules.min_per_area)
    if rules.max_per_country is not None:
        for members in by_country.values():
            if len(members) > rules.max_per_country:
                model.add(sum(x[i] for i in members) <= rules.max_per_country)

    c = problem.coefficient
    objective: list[Any] = [int(problem.score[i]) * x[i] for i in candidates]
    # A coverage indicator may be 1 only when some selected applicant covers the area, type or country.
    for groups, weight in ((by_area, c["area"]), (list(by_kind.values()), c["stakeholder_type"]),
                           (list(by_country.values()), c["country"])):
        for members in groups if weight else []:
            if members:
                covered = model.new_bool_var("")
                model.add_bool_or([x[i] for i in members]).only_enforce_if(covered)
                objective.append(weight * covered)
    declared = [i for i in candidates if problem.gender[i]] if c["gender_imbalance"] else []
    if declared:
        imbalance = model.new_int_var(0, high, "imbalance")
        model.add_abs_equality(imbalance, sum(int(problem.gender[i]) * x[i] for i in declared))
        objective.append(-c["gender_imbalance"] * imbalance)

    # The main objective times a factor larger than any tie-break total, plus a tie-break preferring earlier rows.
    factor = high * n + 1
    model.maximize(factor * sum(objective) + sum((n - i) * x[i] for i in candidates))
    return model, x, factor


def _solve(problem: _Problem, rules: _Rules, *, time_limit: float, workers: int | None,
           seed: int, start: np.ndarray | None = None) -> tuple[str, np.ndarray, int, int]:
    """Solve; return (status, chosen mask, objective, best bound), both in scaled points."""
    model, x, factor = _model(problem, rules)
    # A start from the greedy pick helps the search find good groups early.
    hint = start if start is not None else _greedy_mask(problem, rules)
    if hint is not None:
        for i, var in x.items():
            model.add_hint(var, bool(hint[i]))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit)
    solver.parameters.random_seed = seed
    if workers is not None:
        solver.parameters.num_workers = workers
    status = solver.solve(model)
    chosen = np.zeros(len(problem.ids), dtype=bool)
    if status == cp_model.UNKNOWN and hint is not None:
        # Stopped before its own first group: the greedy start is still a valid answer, with the bound so far.
        value = _value(problem, hint)
        bound = solver.best_objective_bound
        bound = math.floor(bound / factor) if math.isfinite(bound) else value
        return "feasible", hint, value, max(bound, value)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return ("infeasible" if status == cp_model.INFEASIBLE else "unknown"), chosen, 0, 0
    for i, var in x.items():
        chosen[i] = bool(solver.value(var))
    value = _value(problem, chosen)
    bound = math.floor(solver.best_objective_bound / factor) if status != cp_model.OPTIMAL else value
    return ("optimal" if status == cp_model.OPTIMAL else "feasible"), chosen, value, max(bound, value)


# --- greedy ----------------------------------------------------------------------------------------


def _greedy_mask(problem: _Problem, rules: _Rules) -> np.ndarray | None:
    """Best scores first; a patch for each uncovered required area; stop at the top of the seat range."""
    n = len(problem.ids)
    eligible = rules.eligible(problem)
    chosen = np.zeros(n, dtype=bool)
    chosen[list(rules.locked_in)] = True
    per_country = np.bincount(problem.country[chosen], minlength=len(problem.countries))
    order = np.lexsort((np.arange(n), -problem.score))  # highest score first, then row order
    cap = rules.max_per_country
    low, high = rules.seats

    def room(i: int) -> bool:
        return bool(eligible[i] and not chosen[i] and (cap is None or per_country[problem.country[i]] < cap))

    def take(i: int) -> None:
        chosen[i] = True
        per_country[problem.country[i]] += 1

    area_index = {a: j for j, a in enumerate(problem.areas)}
    for area in rules.required:  # the best-scored applicant for each area still short of members
        j = area_index[area]
        for i in order:
            if int(problem.incidence[chosen, j].sum()) >= rules.min_per_area or chosen.sum() >= high:
                break
            if problem.incidence[i, j] and room(int(i)):
                take(int(i))
    for i in order:
        if chosen.sum() >= high:
            break
        if room(int(i)):
            take(int(i))
    return chosen if _feasible(problem, rules, chosen) and chosen.sum() >= low else None


# --- explanations ------------------------------------------------------------------------------------


def _contributions(problem: _Problem, rules: _Rules, chosen: np.ndarray) -> list[dict[str, Any]]:
    members = np.flatnonzero(chosen)
    area_counts = problem.incidence[chosen].sum(axis=0)
    country_counts = np.bincount(problem.country[chosen], minlength=len(problem.countries))
    kind_counts = np.bincount(problem.kind[chosen], minlength=len(problem.kinds))
    ranks = pd.Series(problem.table["score"]).rank(ascending=False, method="min").astype(int).to_numpy()
    total = _value(problem, chosen)
    rows = []
    for i in members:
        adds = []
        if i in rules.locked_in:
            adds.append("locked in by the secretariat")
        alone = [problem.areas[j] for j in np.flatnonzero(problem.incidence[i]) if area_counts[j] == 1]
        if alone:
            adds.append("the only member covering " + ", ".join(alone))
        if kind_counts[problem.kind[i]] == 1:
            adds.append(f"the only member of type '{problem.kinds[problem.kind[i]]}'")
        if country_counts[problem.country[i]] == 1:
            adds.append(f"the only member from {problem.countries[problem.country[i]]}")
        adds.append(f"review score {problem.table['score'].iloc[i]:g} (rank {ranks[i]} of {len(problem.ids)})")
        without = chosen.copy()
        without[i] = False
        rows.append({"id": problem.ids[i], "score": float(problem.table["score"].iloc[i]), "rank": int(ranks[i]),
                     "adds": adds, "value": (total - _value(problem, without)) / _SCALE})
    return rows


def _best_swap(problem: _Problem, rules: _Rules, chosen: np.ndarray, i: int) -> tuple[float, Any] | None:
    """The least costly feasible way to bring ``i`` in: added, or swapped for one member. (change, out id)."""
    total = _value(problem, chosen)
    best: tuple[float, Any] | None = None
    trial = chosen.copy()
    trial[i] = True
    if _feasible(problem, rules, trial):
        best = ((_value(problem, trial) - total) / _SCALE, None)
    for j in np.flatnonzero(chosen):
        trial = chosen.copy()
        trial[i], trial[j] = True, False
        if _feasible(problem, rules, trial):
            change = (_value(problem, trial) - total) / _SCALE
            if best is None or change > best[0]:
                best = (change, problem.ids[j])
    return best


def _left_out(problem: _Problem, rules: _Rules, chosen: np.ndarray, limit: int) -> list[dict[str, Any]]:
    """Why each strong applicant (scoring at least the lowest selected score) is not in the group."""
    if not chosen.any():
        return []
    floor = problem.table["score"].to_numpy()[chosen].min()
    out = [i for i in np.lexsort((np.arange(len(chosen)), -problem.score))
           if not chosen[i] and problem.table["score"].iloc[i] >= floor][:limit]
    country_counts = np.bincount(problem.country[chosen], minlength=len(problem.countries))
    covered = problem.incidence[chosen].any(axis=0)
    rows = []
    for i in out:
        why = []
        if i in rules.locked_out:
            why.append("locked out by the secretariat")
        elif rules.require_available and not problem.available[i]:
            why.append("not available for the constitutive meeting")
        else:
            country = problem.countries[problem.country[i]]
            if rules.max_per_country is not None and country_counts[problem.country[i]] >= rules.max_per_country:
                why.append(f"{country} already has the maximum of {rules.max_per_country} member(s)")
            if problem.incidence[i].any() and covered[problem.incidence[i]].all():
                why.append("every area they cover is already covered")
            swap = _best_swap(problem, rules, chosen, int(i))
            if swap is None:
                why.append("no single swap with a member keeps every constraint")
            elif swap[1] is None:
                why.append(f"adding them would change the objective by {swap[0]:+g} points")
            else:
                why.append(f"the best swap (for {swap[1]}) would change the objective by {swap[0]:+g} points")
        rows.append({"id": problem.ids[i], "score": float(problem.table["score"].iloc[i]), "why": why})
    return rows


def _reserve(problem: _Problem, rules: _Rules, chosen: np.ndarray, size: int) -> list[Any]:
    """Eligible applicants left out, best first: by the least costly swap in, then by score."""
    eligible = rules.eligible(problem)
    ranked: list[tuple[float, float, int]] = []
    for i in np.lexsort((np.arange(len(chosen)), -problem.score)):
        if chosen[i] or not eligible[i]:
            continue
        swap = _best_swap(problem, rules, chosen, int(i)) if len(ranked) < 4 * size + 20 else None
        ranked.append((-(swap[0] if swap else -math.inf), -problem.score[i], int(i)))
        if len(ranked) >= 4 * size + 20:
            break
    ranked.sort()
    return [problem.ids[i] for *_rest, i in ranked[:size]]


def _binding(problem: _Problem, rules: _Rules, chosen: np.ndarray) -> list[dict[str, Any]]:
    """Constraints that hold with no slack in the proposed group."""
    rows = []
    count = int(chosen.sum())
    if count == rules.seats[1]:
        rows.append({"constraint": "max_seats", "detail": f"all {count} seats are filled"})
    if count == rules.seats[0] and rules.seats[0] < rules.seats[1]:
        rows.append({"constraint": "min_seats", "detail": f"only the minimum of {count} seats is filled"})
    if rules.max_per_country is not None:
        counts = np.bincount(problem.country[chosen], minlength=len(problem.countries))
        rows += [{"constraint": "max_per_country", "detail": f"{problem.countries[c]} has {int(k)} member(s)"}
                 for c, k in enumerate(counts) if k >= rules.max_per_country]
    area_index = {a: j for j, a in enumerate(problem.areas)}
    for area in rules.required:
        have = int(problem.incidence[chosen, area_index[area]].sum())
        if have == rules.min_per_area:
            rows.append({"constraint": "required_area", "detail": f"'{area}' has exactly {have} member(s)"})
    if rules.require_available:
        missed = int((~problem.available & ~chosen & (problem.score > problem.score[chosen].min())).sum()
                     ) if count else 0
        if missed:
            rows.append({"constraint": "availability",
                         "detail": f"{missed} unavailable applicant(s) score above the lowest selected"})
    if rules.locked_out:
        rows.append({"constraint": "locked_out", "detail": f"{len(rules.locked_out)} applicant(s) locked out"})
    return rows


def _relaxation_gains(problem: _Problem, rules: _Rules, chosen: np.ndarray, *, time_limit: float,
                      workers: int | None, seed: int) -> dict[str, float]:
    """Objective gained by relaxing each family of constraints (0: it does not bind).

    Each relaxed problem starts from the proposed group (still a valid answer once a rule is loosened), so
    a gain found before the time limit is a proven lower bound on what relaxing that family is worth.
    """
    value = _value(problem, chosen)
    variants = {"max_seats": rules.__class__(**{**rules.__dict__, "seats": (rules.seats[0], rules.seats[1] + 1)})}
    if rules.max_per_country is not None:
        variants["max_per_country"] = rules.__class__(**{**rules.__dict__,
                                                         "max_per_country": rules.max_per_country + 1})
    if rules.required:
        variants["required_areas"] = rules.__class__(**{**rules.__dict__, "required": ()})
    if rules.require_available:
        variants["availability"] = rules.__class__(**{**rules.__dict__, "require_available": False})
    if rules.locked_in or rules.locked_out:
        variants["locks"] = rules.__class__(**{**rules.__dict__, "locked_in": frozenset(), "locked_out": frozenset()})
    gains = {}
    for name, relaxed in variants.items():
        status, _chosen, relaxed_value, _bound = _solve(problem, relaxed, time_limit=time_limit, workers=workers,
                                                        seed=seed, start=chosen)
        gains[name] = max(0, relaxed_value - value) / _SCALE if status in {"optimal", "feasible"} else 0.0
    return gains


# --- public functions --------------------------------------------------------------------------------


def _result(method: str, problem: _Problem, rules: _Rules, *, status: str, chosen: np.ndarray, value: int,
            bound: int, seconds: float, reserve_size: int, explain: bool, parameters: dict[str, Any]) -> Selection:
    breakdown = {k: v / _SCALE for k, v in _breakdown(problem, chosen).items()}
    selection = Selection(
        method=method, status=status, selected=[problem.ids[i] for i in np.flatnonzero(chosen)],
        objective=value / _SCALE, best_bound=bound / _SCALE,
        gap=(bound - value) / max(abs(bound), 1) if status != "infeasible" else 0.0,
        seconds=seconds, breakdown=breakdown, parameters=parameters,
    )
    if status != "infeasible" and explain:
        selection.contributions = _contributions(problem, rules, chosen)
        selection.left_out = _left_out(problem, rules, chosen, limit=max(10, rules.seats[1]))
        selection.binding = _binding(problem, rules, chosen)
        selection.reserve = _reserve(problem, rules, chosen, reserve_size)
    return selection


def _prepare(applicants: pd.DataFrame, *, weights: Weights, seats: Any, required_areas: Any, min_per_area: Any,
             max_per_country: Any, require_available: bool, locked_in: Any, locked_out: Any,
             time_limit: Any) -> tuple[_Problem, _Rules, dict[str, Any]]:
    if not isinstance(weights, Weights):
        raise TypeError(f"weights must be a Weights, got {type(weights).__name__}")
    table = normalise_applicants(applicants)
    seat_range, required, inside, outside = _check_arguments(
        table, seats=seats, required_areas=required_areas, min_per_area=min_per_area,
        max_per_country=max_per_country, locked_in=locked_in, locked_out=locked_out, time_limit=time_limit)
    problem = _problem(table, weights, required)
    rules = _Rules(seats=seat_range, required=required, min_per_area=min_per_area, max_per_country=max_per_country,
                   require_available=bool(require_available), locked_in=inside, locked_out=outside)
    parameters = {
        "seats": list(seat_range), "required_areas": list(required), "min_per_area": min_per_area,
        "max_per_country": max_per_country, "require_available": bool(require_available),
        "locked_in": sorted((problem.ids[i] for i in inside), key=str),
        "locked_out": sorted((problem.ids[i] for i in outside), key=str),
        "weights": asdict(weights), "applicants": len(table),
    }
    return problem, rules, parameters


def select_members(
    applicants: pd.DataFrame,
    *,
    seats: Sequence[int] = (15, 20),
    required_areas: Collection[str] = (),
    min_per_area: int = 1,
    max_per_country: int | None = None,
    require_available: bool = False,
    locked_in: Collection[Any] = (),
    locked_out: Collection[Any] = (),
    weights: Weights | None = None,
    time_limit: float = 10.0,
    workers: int | None = 8,
    seed: int = 0,
    reserve_size: int = 5,
    explain: bool = True,
    relaxations: bool = False,
) -> Selection:
    """Propose the best group within the seat range (CP-SAT), prove it optimal, and explain it.

    Parameters
    ----------
    applicants : pandas.DataFrame
        See :func:`normalise_applicants` for the columns.
    seats : (int, int)
        The smallest and largest group size.
    required_areas : collection of str
        Expertise areas that need at least ``min_per_area`` members each.
    min_per_area : int
        Members needed in each required area.
    max_per_country : int or None
        Largest number of members from one country.
    require_available : bool
        Only applicants available for the constitutive meeting can be chosen (locks override this).
    locked_in, locked_out : collection of ids
        Applicants the secretariat has placed in or out of the group.
    weights : Weights, optional
        Points of each part of the objective.
    time_limit : float
        Seconds before the solver stops; the result then says ``"feasible"`` and the ``gap`` to the bound.
    workers : int or None
        Solver workers (None: CP-SAT's default, one per core). Eight run CP-SAT's portfolio of search
        strategies; on a two-core machine they prove the optimum of 1,000 applicants in about a second where
        two workers had not proven it after a minute.
    seed : int
        The solver's random seed.
    reserve_size : int
        How many applicants to put on the reserve list.
    explain : bool
        Fill ``contributions``, ``left_out``, ``binding`` and ``reserve`` (cheap: no extra solve).
    relaxations : bool
        Also solve once per family of constraints with that family relaxed and add the objective each
        would gain to ``binding`` (one solve per family, started from the proposed group, each given twice
        the main solve's time, at least 1 s and at most a quarter of ``time_limit``; a family that gains 0
        within that time is reported as not binding, so a gain is a lower bound).

    Returns
    -------
    Selection

    Raises
    ------
    ValueError, TypeError
        Naming the argument, column or row that is wrong. Rules that cannot all hold are not an error:
        the result's ``status`` is ``"infeasible"`` and ``reasons`` says why.

    Examples
    --------
    >>> table = pd.DataFrame({
    ...     "id": ["ana", "ben", "chloe", "dario", "eva"],
    ...     "score": [90, 85, 80, 60, 55],
    ...     "country": ["BE", "BE", "BE", "IT", "RO"],
    ...     "stakeholder_type": ["research", "cluster", "research", "public", "social_economy"],
    ...     "areas": ["finance", "finance", "finance;policy", "procurement", "rural"],
    ...     "gender": ["woman", "man", "woman", "man", ""]})
    >>> result = select_members(table, seats=(3, 3), required_areas=["procurement"], max_per_country=2)
    >>> result.status, result.selected, result.objective
    ('optimal', ['chloe', 'dario', 'eva'], 385.0)
    >>> greedy = greedy_selection(table, seats=(3, 3), required_areas=["procurement"], max_per_country=2)
    >>> greedy.selected, greedy.objective
    (['ana', 'ben', 'dario'], 355.0)
    >>> result.left_out[0]["id"], result.left_out[0]["why"]  # doctest: +NORMALIZE_WHITESPACE
    ('ana', ['every area they cover is already covered',
             'the best swap (for chloe) would change the objective by -15 points'])
    """
    problem, rules, parameters = _prepare(
        applicants, weights=weights or Weights(), seats=seats, required_areas=required_areas,
        min_per_area=min_per_area, max_per_country=max_per_country, require_available=require_available,
        locked_in=locked_in, locked_out=locked_out, time_limit=time_limit)
    parameters |= {"time_limit": time_limit}
    started = time.perf_counter()
    reasons = _infeasibility(problem, rules)
    if reasons:
        status, chosen, value, bound = "infeasible", np.zeros(len(problem.ids), dtype=bool), 0, 0
    else:
        status, chosen, value, bound = _solve(problem, rules, time_limit=time_limit, workers=workers, seed=seed)
    seconds = time.perf_counter() - started
    if status == "unknown":
        reasons = [f"no group was found within the time limit of {time_limit:g} s"]
        status = "infeasible"
    elif status == "infeasible" and not reasons:
        reasons = ["the constraints cannot all hold together (for example, required areas whose only applicants "
                   "come from countries already at their limit)"]
    selection = _result("cp-sat", problem, rules, status=status, chosen=chosen, value=value, bound=bound,
                        seconds=seconds, reserve_size=reserve_size, explain=explain, parameters=parameters)
    selection.reasons = reasons
    if relaxations and status != "infeasible":
        # Each relaxed solve gets twice the main solve's time (at least 1 s, at most a quarter of the limit).
        budget = min(time_limit / 4, max(1.0, 2 * seconds))
        gains = _relaxation_gains(problem, rules, chosen, time_limit=budget, workers=workers, seed=seed)
        selection.binding += [{"constraint": name, "detail": f"relaxing it would gain {gain:g} points",
                               "gain": gain} for name, gain in gains.items() if gain > 0]
    return selection


def greedy_selection(
    applicants: pd.DataFrame,
    *,
    seats: Sequence[int] = (15, 20),
    required_areas: Collection[str] = (),
    min_per_area: int = 1,
    max_per_country: int | None = None,
    require_available: bool = False,
    locked_in: Collection[Any] = (),
    locked_out: Collection[Any] = (),
    weights: Weights | None = None,
    explain: bool = False,
    reserve_size: int = 5,
) -> Selection:
    """The pick made by hand, for comparison: locks, then the best-scored applicant of each required area
    still short of members, then the best scores until the seats are full, skipping countries at their limit.

    Same arguments as :func:`select_members` (without the solver's). Its ``objective`` is measured with the
    same weights; ``status`` is ``"feasible"``, or ``"infeasible"`` when the pick breaks a rule.

    Examples
    --------
    >>> table = pd.DataFrame({"id": [1, 2, 3], "score": [90, 80, 70], "country": ["FR", "FR", "DE"],
    ...                       "stakeholder_type": ["research"] * 3, "areas": ["a", "a", "b"]})
    >>> greedy_selection(table, seats=(2, 2), max_per_country=1).selected
    [1, 3]
    """
    problem, rules, parameters = _prepare(
        applicants, weights=weights or Weights(), seats=seats, required_areas=required_areas,
        min_per_area=min_per_area, max_per_country=max_per_country, require_available=require_available,
        locked_in=locked_in, locked_out=locked_out, time_limit=1.0)
    started = time.perf_counter()
    reasons = _infeasibility(problem, rules)
    chosen = None if reasons else _greedy_mask(problem, rules)
    seconds = time.perf_counter() - started
    if chosen is None:
        reasons = reasons or ["the greedy pick breaks a rule (a required area or the seat range) that a search "
                              "could still satisfy"]
        nobody = np.zeros(len(problem.ids), dtype=bool)
        selection = _result("greedy", problem, rules, status="infeasible", chosen=nobody, value=0, bound=0,
                            seconds=seconds, reserve_size=reserve_size, explain=False, parameters=parameters)
        selection.reasons = reasons
        return selection
    value = _value(problem, chosen)
    return _result("greedy", problem, rules, status="feasible", chosen=chosen, value=value, bound=value,
                   seconds=seconds, reserve_size=reserve_size, explain=explain, parameters=parameters)


def objective_of(applicants: pd.DataFrame, selected: Collection[Any], *, weights: Weights | None = None) -> float:
    """The objective's value (in points) of any group, for comparing picks made elsewhere.

    Examples
    --------
    >>> table = pd.DataFrame({"id": [1, 2], "score": [50, 40], "country": ["FR", "DE"],
    ...                       "stakeholder_type": ["research", "cluster"], "areas": ["a", "b"]})
    >>> objective_of(table, [1, 2])  # scores 90, two areas 2 × 25, two types 2 × 20, two countries 2 × 10
    200.0
    """
    weights = weights or Weights()
    if not isinstance(weights, Weights):
        raise TypeError(f"weights must be a Weights, got {type(weights).__name__}")
    table = normalise_applicants(applicants)
    problem = _problem(table, weights, ())
    position = {identifier: i for i, identifier in enumerate(problem.ids)}
    unknown = [s for s in selected if s not in position]
    if unknown:
        raise ValueError(f"selected: no applicant with id {unknown[0]!r}")
    chosen = np.zeros(len(problem.ids), dtype=bool)
    chosen[[position[s] for s in selected]] = True
    return _value(problem, chosen) / _SCALE
