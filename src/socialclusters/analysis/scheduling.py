"""Meeting schedules at events: accepted one-to-one meeting requests placed in time slots and at tables.

Pure Python with OR-Tools CP-SAT: no Django here. Rules of a schedule:

- a request is met at most once, in a slot where both people are available;
- nobody has two meetings in one slot (no double booking);
- a slot holds at most as many meetings as there are tables (tables are then numbered in each slot);
- the sum of the met requests' weights (1 each by default) is as large as possible.

CP-SAT proves the optimum or, when the time limit stops it, reports the best schedule found and its gap
to the proven bound.
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

__all__ = ["Meeting", "Schedule", "schedule_meetings"]


@dataclass(frozen=True)
class Meeting:
    request: int  # position in the ``requests`` given
    first: Hashable
    second: Hashable
    slot: int
    table: int  # from 0


@dataclass(frozen=True)
class Schedule:
    meetings: tuple[Meeting, ...]
    status: str  # "optimal", "feasible" (time limit reached) or "infeasible" (nothing could be placed)
    objective: float
    bound: float
    seconds: float
    unplaced: tuple[int, ...] = field(default=())  # requests left out

    @property
    def gap(self) -> float:
        """Relative gap between the proven bound and the schedule (0 at a proven optimum)."""
        return 0.0 if self.bound <= 0 else max(0.0, (self.bound - self.objective) / self.bound)

    def agenda(self, person: Hashable) -> list[Meeting]:
        """One person's meetings, by slot."""
        return sorted((m for m in self.meetings if person in (m.first, m.second)), key=lambda m: m.slot)


def schedule_meetings(  # noqa: PLR0912, PLR0915 - argument checks, then the model, then the answer
    requests: Sequence[tuple[Hashable, Hashable]],
    *,
    slots: int,
    tables: int,
    availability: Mapping[Hashable, Sequence[int]] | None = None,
    weights: Sequence[float] | None = None,
    time_limit: float = 30.0,
    workers: int = 8,
    seed: int = 0,
) -> Schedule:
    """Place accepted meeting requests in slots and at tables.

    Parameters
    ----------
    requests : sequence of (person, person)
        Accepted requests; the two people differ. A pair may appear more than once (two meetings).
    slots : int
        Time slots, numbered from 0.
    tables : int
        Tables available in every slot.
    availability : mapping person → slot numbers, optional
        The slots each person can attend; a person missing from it is available in every slot.
    weights : sequence of float, optional
        Priority of each request (> 0); 1 each by default.
    time_limit : float, default 30
        Seconds CP-SAT may search.
    workers, seed : int
        CP-SAT's search workers and random seed.

    Returns
    -------
    Schedule

    Raises
    ------
    ValueError
        Naming the argument at fault.

    Examples
    --------
    Cleo can only come to the second slot, and her meeting with Ana matters most:

    >>> plan = schedule_meetings([("ana", "ben"), ("ana", "cleo"), ("ben", "cleo")], slots=2, tables=5,
    ...                          availability={"cleo": [1]}, weights=[1, 2, 1])
    >>> plan.status, len(plan.meetings), plan.unplaced
    ('optimal', 2, (2,))
    >>> [(m.first, m.second, m.slot) for m in plan.agenda("ana")]
    [('ana', 'ben', 0), ('ana', 'cleo', 1)]
    """
    for name, value in (("slots", slots), ("tables", tables), ("workers", workers)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name}: must be a whole number >= 1, got {value!r}")
    if not time_limit > 0:
        raise ValueError(f"time_limit: must be > 0 seconds, got {time_limit!r}")
    requests = list(requests)
    for i, pair in enumerate(requests):
        if len(pair) != 2 or pair[0] == pair[1]:
            raise ValueError(f"requests: request {i} must name two different people, got {pair!r}")
    if weights is None:
        weights = [1.0] * len(requests)
    if len(weights) != len(requests):
        raise ValueError(f"weights: {len(weights)} weights for {len(requests)} requests")
    if any(not w > 0 for w in weights):
        raise ValueError("weights: every weight must be > 0")
    free: dict[Hashable, set[int]] = {}
    for person, available in (availability or {}).items():
        chosen = set(available)
        bad = [s for s in chosen if not isinstance(s, int) or not 0 <= s < slots]
        if bad:
            raise ValueError(f"availability: slot {bad[0]!r} of {person!r} is not between 0 and {slots - 1}")
        free[person] = chosen
    every = set(range(slots))
    started = time.perf_counter()
    model = cp_model.CpModel()
    # Integer weights for CP-SAT: weights scaled to 1/1000.
    scaled = [round(w * 1000) for w in weights]
    variables: dict[tuple[int, int], cp_model.IntVar] = {}
    by_person_slot: dict[tuple[Hashable, int], list[cp_model.IntVar]] = {}
    by_slot: dict[int, list[cp_model.IntVar]] = {}
    for r, (a, b) in enumerate(requests):
        possible = sorted(free.get(a, every) & free.get(b, every))
        chosen_vars = []
        for s in possible:
            var = model.new_bool_var(f"r{r}s{s}")
            variables[r, s] = var
            chosen_vars.append(var)
            by_person_slot.setdefault((a, s), []).append(var)
            by_person_slot.setdefault((b, s), []).append(var)
            by_slot.setdefault(s, []).append(var)
        if len(chosen_vars) > 1:
            model.add_at_most_one(chosen_vars)
    for group in by_person_slot.values():
        if len(group) > 1:
            model.add_at_most_one(group)
    for group in by_slot.values():
        if len(group) > tables:
            model.add(sum(group) <= tables)
    model.maximize(sum(scaled[r] * var for (r, _s), var in variables.items()))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit)
    solver.parameters.num_search_workers = workers
    solver.parameters.random_seed = seed
    status = solver.solve(model)
    seconds = time.perf_counter() - started
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return Schedule(meetings=(), status="infeasible", objective=0.0, bound=0.0, seconds=seconds,
                        unplaced=tuple(range(len(requests))))
    placed: dict[int, list[tuple[int, Hashable, Hashable]]] = {}
    for (r, s), var in variables.items():
        if solver.value(var):
            placed.setdefault(s, []).append((r, *requests[r]))
    meetings = [Meeting(request=r, first=a, second=b, slot=s, table=table)
                for s in sorted(placed) for table, (r, a, b) in enumerate(sorted(placed[s], key=lambda m: m[0]))]
    met = {m.request for m in meetings}
    # No schedule can beat meeting every request that has a common slot, whatever the solver's bound says.
    attainable = float(sum(weights[r] for r in {r for r, _s in variables}))
    return Schedule(
        meetings=tuple(meetings), status="optimal" if status == cp_model.OPTIMAL else "feasible",
        objective=float(sum(weights[r] for r in met)), bound=min(float(solver.best_objective_bound) / 1000, attainable),
        seconds=seconds,
        unplaced=tuple(r for r in range(len(requests)) if r not in met),
    )
