"""Benchmark: a meeting schedule for 500 participants and 2,000 accepted requests, CP-SAT against greedy.

Ours is ``socialclusters.analysis.scheduling.schedule_meetings`` (OR-Tools CP-SAT: proven optimum or gap).
What a developer would write first is :func:`greedy` below: requests in the order they came, each put in
the first slot where both people are free and a table is left. Both run on the same seeded event: 500
participants, 2,000 distinct pairs (people with more requests are likelier to be asked: a lognormal
popularity), 16 slots of 20 minutes, 150 tables (so that people, not tables, are the limit), each person
available in 50 to 100% of the slots. Both schedules are checked: no double booking, availability and tables respected.

Run it as ``.venv/bin/python benchmarks/bench_scheduling.py [--participants 500] [--requests 2000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

import ortools  # noqa: E402

from socialclusters.analysis.scheduling import schedule_meetings  # noqa: E402 - after making src importable


def synthetic_event(participants: int, requests: int, slots: int, seed: int):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    popularity = rng.lognormal(0, 0.8, participants)
    popularity /= popularity.sum()
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < requests:
        a = int(rng.integers(participants))
        b = int(rng.choice(participants, p=popularity))
        if a != b:
            pairs.add((min(a, b), max(a, b)))
    availability = {p: sorted(int(s) for s in rng.choice(slots, size=int(rng.integers(slots // 2, slots + 1)),
                                                         replace=False)) for p in range(participants)}
    order = rng.permutation(len(pairs))
    ordered = sorted(pairs)
    return [ordered[i] for i in order], availability


def greedy(requests, availability, *, slots, tables):  # type: ignore[no-untyped-def]
    busy: set[tuple[int, int]] = set()
    used: Counter[int] = Counter()
    placed = []
    for r, (a, b) in enumerate(requests):
        for slot in range(slots):
            if (slot in availability[a] and slot in availability[b] and (a, slot) not in busy
                    and (b, slot) not in busy and used[slot] < tables):
                busy |= {(a, slot), (b, slot)}
                used[slot] += 1
                placed.append((r, slot))
                break
    return placed


def check(placed, requests, availability, tables):  # type: ignore[no-untyped-def]
    people: Counter[tuple[int, int]] = Counter()
    per_slot: Counter[int] = Counter()
    for r, slot in placed:
        a, b = requests[r]
        assert slot in availability[a], "availability"
        assert slot in availability[b], "availability"
        people[(a, slot)] += 1
        people[(b, slot)] += 1
        per_slot[slot] += 1
    assert not people or max(people.values()) == 1, "double booking"
    assert not per_slot or max(per_slot.values()) <= tables, "tables"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", type=int, default=500)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--slots", type=int, default=16)
    parser.add_argument("--tables", type=int, default=150)
    parser.add_argument("--time-limit", type=float, default=300.0, help="CP-SAT seconds (default 300)")
    parser.add_argument("--workers", type=int, default=8, help="CP-SAT search workers (default 8)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--output", type=Path, default=HERE / "results" / "scheduling.json")
    args = parser.parse_args(argv)
    requests, availability = synthetic_event(args.participants, args.requests, args.slots, args.seed)

    t = time.perf_counter()
    first_come = greedy(requests, availability, slots=args.slots, tables=args.tables)
    greedy_seconds = time.perf_counter() - t
    check(first_come, requests, availability, args.tables)
    print(f"greedy: {len(first_come)} meetings in {greedy_seconds * 1000:.1f} ms", flush=True)

    plan = schedule_meetings(requests, slots=args.slots, tables=args.tables, availability=availability,
                             time_limit=args.time_limit, workers=args.workers, seed=args.seed)
    check([(m.request, m.slot) for m in plan.meetings], requests, availability, args.tables)
    print(f"CP-SAT: {len(plan.meetings)} meetings, {plan.status}, bound {plan.bound:.0f}, gap {plan.gap:.4f}, "
          f"{plan.seconds:.1f} s", flush=True)
    result: dict[str, Any] = {
        "benchmark": "scheduling",
        "command": "python benchmarks/bench_scheduling.py " + " ".join(argv or sys.argv[1:]),
        "run_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "event": {"participants": args.participants, "requests": len(requests), "slots": args.slots,
                  "tables": args.tables, "seed": args.seed},
        "greedy": {"meetings": len(first_come), "seconds": round(greedy_seconds, 4)},
        "cp_sat": {"meetings": len(plan.meetings), "status": plan.status, "bound": plan.bound,
                   "gap": round(plan.gap, 6), "seconds": round(plan.seconds, 2), "time_limit": args.time_limit,
                   "workers": args.workers},
        "checks": "no double booking, availability and tables respected (both schedules)",
        "machine": {"python": platform.python_version(), "ortools": ortools.__version__,
                    "cpus": os.cpu_count(), "platform": platform.platform()},
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
