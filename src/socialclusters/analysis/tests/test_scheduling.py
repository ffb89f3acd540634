"""Tests of the meeting scheduler: no double booking, availability and table counts respected, optimum."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from socialclusters.analysis.scheduling import schedule_meetings


def event(participants: int, requests: int, slots: int, seed: int):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < requests:
        a, b = (int(x) for x in rng.choice(participants, size=2, replace=False))
        pairs.add((min(a, b), max(a, b)))
    # Each person misses a few slots (arrives late, leaves early, has a talk).
    availability = {p: sorted(int(s) for s in rng.choice(slots, size=int(rng.integers(slots // 2, slots + 1)),
                                                         replace=False)) for p in range(participants)}
    return sorted(pairs), availability


def check(plan, requests, availability, tables):  # type: ignore[no-untyped-def]
    seen = Counter()
    for meeting in plan.meetings:
        a, b = requests[meeting.request]
        assert {meeting.first, meeting.second} == {a, b}
        assert meeting.slot in availability[a]
        assert meeting.slot in availability[b]
        seen[(a, meeting.slot)] += 1
        seen[(b, meeting.slot)] += 1
        assert 0 <= meeting.table < tables
    assert all(n == 1 for n in seen.values()), "a person is booked twice in one slot"
    tables_used = Counter((m.slot, m.table) for m in plan.meetings)
    assert all(n == 1 for n in tables_used.values()), "two meetings at one table"
    assert len({m.request for m in plan.meetings}) == len(plan.meetings), "a request is met twice"


def test_sixty_participants_two_hundred_requests():
    requests, availability = event(60, 200, slots=12, seed=1)
    plan = schedule_meetings(requests, slots=12, tables=20, availability=availability, time_limit=60)
    check(plan, requests, availability, tables=20)
    assert plan.status == "optimal"
    assert plan.gap == 0
    assert len(plan.meetings) + len(plan.unplaced) == 200
    assert plan.objective == plan.bound == len(plan.meetings)
    # A proven optimum is at least as good as placing requests first come, first served.
    assert len(plan.meetings) >= greedy(requests, availability, slots=12, tables=20) > 150


def greedy(requests, availability, *, slots, tables):  # type: ignore[no-untyped-def]
    busy, used, placed = set(), Counter(), 0
    for a, b in requests:
        for slot in range(slots):
            if (slot in availability[a] and slot in availability[b] and (a, slot) not in busy
                    and (b, slot) not in busy and used[slot] < tables):
                busy |= {(a, slot), (b, slot)}
                used[slot] += 1
                placed += 1
                break
    return placed


def test_tables_limit_each_slot_and_the_optimum_is_reached():
    # Six disjoint pairs, two slots, two tables: at most four meetings fit.
    requests = [(2 * i, 2 * i + 1) for i in range(6)]
    plan = schedule_meetings(requests, slots=2, tables=2)
    check(plan, requests, {p: [0, 1] for p in range(12)}, tables=2)
    assert (plan.status, len(plan.meetings), plan.objective, plan.bound) == ("optimal", 4, 4, 4)


def test_a_person_unavailable_everywhere_gets_no_meeting():
    plan = schedule_meetings([("a", "b"), ("b", "c")], slots=3, tables=3, availability={"a": []})
    assert [(m.first, m.second) for m in plan.meetings] == [("b", "c")]
    assert plan.unplaced == (0,)
    assert plan.agenda("a") == []


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"slots": 0, "tables": 1}, "slots"),
    ({"slots": 1, "tables": 0}, "tables"),
    ({"slots": 2, "tables": 1, "availability": {"a": [2]}}, "availability"),
    ({"slots": 2, "tables": 1, "weights": [1]}, "weights"),
    ({"slots": 2, "tables": 1, "time_limit": 0}, "time_limit"),
    ({"slots": 2, "tables": 1, "seed": -1}, "seed"),
])
def test_bad_arguments_are_named(kwargs, message):  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=message):
        schedule_meetings([("a", "b"), ("b", "c")], **kwargs)


def test_a_request_with_one_person_is_refused():
    with pytest.raises(ValueError, match="requests: request 0"):
        schedule_meetings([("a", "a")], slots=1, tables=1)


def exhaustive_best(requests, availability, *, slots, tables, weights):  # type: ignore[no-untyped-def]
    """The best total weight by trying every slot (or none) for every request: tiny events only."""
    options = [[s for s in range(slots) if s in availability[a] and s in availability[b]] for a, b in requests]
    best = 0.0

    def place(r, busy, used, value):  # type: ignore[no-untyped-def]
        nonlocal best
        if value + sum(weights[r:]) <= best:
            return
        if r == len(requests):
            best = value
            return
        a, b = requests[r]
        for s in options[r]:
            if (a, s) not in busy and (b, s) not in busy and used[s] < tables:
                used[s] += 1
                place(r + 1, busy | {(a, s), (b, s)}, used, value + weights[r])
                used[s] -= 1
        place(r + 1, busy, used, value)

    place(0, frozenset(), Counter(), 0.0)
    return best


@pytest.mark.parametrize("seed", range(12))
def test_the_optimum_is_what_trying_every_schedule_finds(seed):  # type: ignore[no-untyped-def]
    # Small crowded events, some with scarce tables (requests set aside as "always fit" must then be
    # re-solved), with priorities: the proven optimum must be the true one.
    rng = np.random.default_rng(seed)
    people, slots, tables = 8, 4, int(rng.integers(1, 3))
    requests = [tuple(int(x) for x in rng.choice(people, size=2, replace=False)) for _ in range(8)]
    availability = {p: sorted(int(s) for s in rng.choice(slots, size=int(rng.integers(2, slots + 1)), replace=False))
                    for p in range(people)}
    weights = [float(w) for w in rng.integers(1, 4, len(requests))]
    plan = schedule_meetings(requests, slots=slots, tables=tables, availability=availability, weights=weights)
    check(plan, requests, availability, tables)
    assert plan.status == "optimal"
    assert plan.objective == pytest.approx(exhaustive_best(requests, availability, slots=slots, tables=tables,
                                                            weights=weights))
    assert plan.objective == pytest.approx(sum(weights[m.request] for m in plan.meetings))
    assert plan.bound == pytest.approx(plan.objective)


def test_a_pair_asked_twice_meets_twice_in_different_slots():
    plan = schedule_meetings([("ana", "ben"), ("ana", "ben"), ("ana", "ben")], slots=2, tables=3)
    assert sorted(m.slot for m in plan.meetings) == [0, 1]
    assert (plan.status, len(plan.unplaced)) == ("optimal", 1)


def test_a_popular_person_limits_the_schedule_and_the_optimum_is_proven():
    # Everyone wants to meet "star", who has 4 slots; the others meet each other freely around that.
    # First come first served gives the star's slots to the first askers and strands later pairs.
    requests, availability = event(40, 120, slots=8, seed=3)
    requests = [("star", p) for p in range(20)] + requests
    availability = {**availability, "star": [0, 1, 2, 3]}
    plan = schedule_meetings(requests, slots=8, tables=30, availability=availability, time_limit=60)
    check(plan, requests, availability, tables=30)
    assert plan.status == "optimal"
    assert len(plan.agenda("star")) == 4
    assert plan.objective == plan.bound >= greedy(requests, availability, slots=8, tables=30)
