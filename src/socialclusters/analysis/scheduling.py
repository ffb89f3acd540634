"""Meeting schedules at events: accepted one-to-one meeting requests placed in time slots and at tables.

Pure Python with numpy and scipy: no Django here. Rules of a schedule:

- a request is met at most once, in a slot where both people are available;
- nobody has two meetings in one slot (no double booking);
- a slot holds at most as many meetings as there are tables (tables are then numbered in each slot);
- the sum of the met requests' weights (1 each by default) is as large as possible.

The model
---------
One binary variable per (request, slot) where both people are available; at most one slot per request, at
most one meeting per person and slot, at most ``tables`` meetings per slot. Tables are interchangeable, so
they are no variables: a count per slot suffices and tables are numbered afterwards.

This model's linear relaxation is tight on events like the benchmark's (its bound was the optimum on every
event we tried), but CP-SAT's own simplex does not finish the root relaxation of a 500-person event within
minutes, so its bound stayed at "every request with a common slot" (gap 16% after 300 s). An LP-based
branch and bound solves the same model to a proven optimum in seconds: HiGHS, through
:func:`scipy.optimize.milp`.

Before solving, requests that can always be added to any schedule of the others are set aside (peeled):
a request whose two people share more slots than the other requests of both could ever occupy
(``common > (deg(a) - 1) + (deg(b) - 1)``, repeated as long as one is found, as in degeneracy colouring).
They are added back, last peeled first, each in a slot where both people are still free. Tables are left
out of that argument, so the add-back checks them; should a slot be full (tables scarce), the whole
model is solved instead. Any schedule's meetings among the remaining requests form a schedule of the
remaining problem, hence its optimum plus every peeled request is a bound, and reached when all fit.

The result is a proven optimum, or, when the time limit stops the solver, the best schedule found (never
worse than placing requests first come, first served) and its gap to a proven bound.
"""

from __future__ import annotations

import time
import warnings
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse
from scipy.optimize import Bounds, LinearConstraint, milp

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
    status: str  # "optimal" (proven) or "feasible" (time limit reached: see ``bound`` and ``gap``)
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
        Seconds the solver may search in all.
    workers : int
        Accepted for callers written for the former CP-SAT model; HiGHS' branch and bound runs on one
        thread, so it changes nothing.
    seed : int
        The solver's random seed (>= 0) for its first attempt; each restart adds 1.

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
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed: must be a whole number >= 0, got {seed!r}")
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
    started = time.perf_counter()
    people = [(a, b) for a, b in requests]
    every = set(range(slots))
    common = [sorted(free.get(a, every) & free.get(b, every)) for a, b in people]
    # Integer weights (1/1000) make the objective integral, which lets the solver close the last gap.
    scaled = np.array([round(w * 1000) for w in weights], dtype=np.int64)
    core, peeled = _peel(people, common)
    slot_of, bound, proven = _solve(core, people=people, common=common, tables=tables, scaled=scaled,
                                    time_limit=time_limit - (time.perf_counter() - started), seed=seed)
    bound += int(scaled[peeled].sum())
    if not _add(peeled[::-1], slot_of, people, common, tables):
        proven = False
        remaining = time_limit - (time.perf_counter() - started)
        if remaining > 0:
            everything = [r for r, c in enumerate(common) if c]
            other, other_bound, other_proven = _solve(everything, people=people, common=common, tables=tables,
                                                          scaled=scaled, time_limit=remaining, seed=seed)
            bound = min(bound, other_bound)
            if int(scaled[list(other)].sum()) >= int(scaled[list(slot_of)].sum()):
                slot_of, proven = other, other_proven
    # Whatever the solver left out (time limit), first come first served may still place; and the schedule
    # is never worse than first come first served alone.
    _add(range(len(people)), slot_of, people, common, tables)
    first_come: dict[int, int] = {}
    _add(range(len(people)), first_come, people, common, tables)
    if int(scaled[list(first_come)].sum()) > int(scaled[list(slot_of)].sum()):
        slot_of = first_come
    met = sorted(slot_of)
    value = int(scaled[met].sum())
    proven = proven or value >= bound
    by_slot: dict[int, list[int]] = {}
    for r in met:
        by_slot.setdefault(slot_of[r], []).append(r)
    meetings = [Meeting(request=r, first=people[r][0], second=people[r][1], slot=s, table=table)
                for s in sorted(by_slot) for table, r in enumerate(by_slot[s])]
    # No schedule can beat meeting every request that has a common slot, whatever the bound says.
    attainable = float(sum(weights[r] for r, c in enumerate(common) if c))
    return Schedule(
        meetings=tuple(meetings), status="optimal" if proven else "feasible",
        objective=float(sum(weights[r] for r in met)),
        bound=min(max(bound, value) / 1000, attainable),
        seconds=time.perf_counter() - started,
        unplaced=tuple(r for r in range(len(people)) if r not in slot_of),
    )


def _peel(people: list[tuple[Hashable, Hashable]], common: list[list[int]]) -> tuple[list[int], list[int]]:
    """Split requests into a core and those that always fit after it (in reverse peeling order)."""
    present = [r for r, c in enumerate(common) if c]
    degree: Counter[Hashable] = Counter()
    touching: dict[Hashable, set[int]] = {}
    for r in present:
        for person in people[r]:
            degree[person] += 1
            touching.setdefault(person, set()).add(r)
    left = set(present)
    peeled: list[int] = []
    pending = list(present)
    while pending:
        r = pending.pop()
        a, b = people[r]
        if r not in left or len(common[r]) <= degree[a] + degree[b] - 2:
            continue
        # Whatever the others do, a and b block at most deg(a) - 1 + deg(b) - 1 of their common slots.
        left.discard(r)
        peeled.append(r)
        for person in (a, b):
            degree[person] -= 1
            touching[person].discard(r)
            pending.extend(touching[person])
    return sorted(left), peeled


def _solve(
    chosen: list[int], *, people: list[tuple[Hashable, Hashable]], common: list[list[int]], tables: int,
    scaled: np.ndarray, time_limit: float, seed: int,
) -> tuple[dict[int, int], int, bool]:
    """Solve the model on some requests: their slots, a proven bound (scaled weights), optimality."""
    if not chosen:
        return {}, 0, True
    request = np.repeat(np.array(chosen), [len(common[r]) for r in chosen])
    slot = np.fromiter((s for r in chosen for s in common[r]), dtype=np.int64, count=len(request))
    index: dict[Hashable, int] = {}
    first = np.array([index.setdefault(people[r][0], len(index)) for r in request], dtype=np.int64)
    second = np.array([index.setdefault(people[r][1], len(index)) for r in request], dtype=np.int64)
    slots = int(slot.max()) + 1
    # Rows: one per request, one per (person, slot) in use, one per slot.
    _, request_row = np.unique(request, return_inverse=True)
    busy, busy_row = np.unique(np.concatenate([first, second]) * slots + np.tile(slot, 2), return_inverse=True)
    count = len(request)
    rows = np.concatenate([request_row, len(chosen) + busy_row, len(chosen) + len(busy) + slot])
    matrix = scipy.sparse.csr_array((np.ones(4 * count), (rows, np.tile(np.arange(count), 4))),
                                    shape=(len(chosen) + len(busy) + slots, count))
    upper = np.concatenate([np.ones(len(chosen) + len(busy)), np.full(slots, float(tables))])
    gain = scaled[request].astype(float)
    constraint = LinearConstraint(matrix, -np.inf, upper)
    total = int(scaled[chosen].sum())
    best: dict[int, int] = {}
    bound = total
    started = time.perf_counter()
    # The relaxation's bound is the optimum on the events we measured; what takes time is finding a schedule
    # that reaches it, and that time is heavy-tailed in the solver's random seed (12 s with one seed, 120 s
    # with another on the same event). Restarts with a new seed and a doubled budget cut that tail.
    budget = max(time_limit / 4, 1.0)
    for attempt in range(64):
        remaining = time_limit - (time.perf_counter() - started)
        if remaining <= 0:
            break
        with warnings.catch_warnings():
            # milp passes options it does not know (the seed) on to HiGHS, with a warning saying so.
            warnings.filterwarnings("ignore", message="Unrecognized options", category=RuntimeWarning)
            result = milp(-gain, integrality=np.ones(count), bounds=Bounds(0, 1), constraints=constraint,
                          options={"time_limit": max(min(budget, remaining), 0.01), "mip_rel_gap": 0.0,
                                   "random_seed": (seed + attempt) % 2**31})
        budget *= 2
        if result.mip_dual_bound is not None:
            # A float bound on an integral objective: round down only what tolerance can explain.
            bound = min(bound, int(np.floor(-float(result.mip_dual_bound) + 1e-6)))
        if result.x is not None:
            taken = result.x > 0.5
            found = dict(zip(request[taken].tolist(), slot[taken].tolist(), strict=True))
            if int(scaled[list(found)].sum()) > int(scaled[list(best)].sum()):
                best = found
        if result.status == 0 or int(scaled[list(best)].sum()) >= bound:
            return best, int(scaled[list(best)].sum()), True
    return best, bound, False


def _add(
    order: Sequence[int], slot_of: dict[int, int], people: list[tuple[Hashable, Hashable]],
    common: list[list[int]], tables: int,
) -> bool:
    """Place the requests of ``order`` not yet placed, each in its first slot still free; all placed?"""
    busy = {(person, s) for r, s in slot_of.items() for person in people[r]}
    used = Counter(slot_of.values())
    complete = True
    for r in order:
        if r in slot_of or not common[r]:
            continue
        a, b = people[r]
        for s in common[r]:
            if (a, s) not in busy and (b, s) not in busy and used[s] < tables:
                slot_of[r] = s
                busy |= {(a, s), (b, s)}
                used[s] += 1
                break
        else:
            complete = False
    return complete
