"""Benchmark: the data-driven typology of 5,000 cluster profiles, and Gower's distance ours against the
way a user would write it with scipy.

Ours is ``socialclusters.analysis.typology``: ``gower_distance`` (vectorised over all pairs, one feature at a
time, missing values left out of each pair's average), ``hierarchical_typology`` (average linkage),
``stability`` (20 resamples of 80%), ``group_profiles`` and ``compare_with_rules`` against the rule-based
types of the same profiles (``classify``). The tool a user would otherwise pick for Gower's distance on mixed
data with missing values is ``scipy.spatial.distance.pdist`` with a Python metric function
(:func:`python_gower` below); it is far slower, so it runs on the first ``--reference-profiles`` profiles
(default 1,000) and both distances are compared there, pair by pair, to 1e-12.

The profiles are synthetic but shaped like the registry's: kind (social economy, traditional, other
vehicle), 27 countries, founding year, members, share of social economy members, impact tracking and public
support (each with missing values, as real profiles have), drawn from four planted groups.

Run it as ``.venv/bin/python benchmarks/bench_typology.py [--profiles 5000] [--resamples 20]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy
from scipy.spatial.distance import pdist, squareform

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from socialclusters.analysis.typology import (  # noqa: E402 - after making src importable
    classify,
    compare_with_rules,
    gower_distance,
    group_profiles,
    hierarchical_typology,
    stability,
)

CATEGORICAL = ["kind", "country", "tracks_impact", "public_support"]
COUNTRIES = ["AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "EL", "ES", "FI", "FR", "HR", "HU", "IE", "IT", "LT",
             "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"]
TOLERANCE = 1e-12


def synthetic_profiles(rng: np.random.Generator, count: int) -> pd.DataFrame:
    planted = rng.integers(0, 4, count)
    kind = np.where(planted == 0, "social_economy", np.where(planted == 3, "other_vehicle", "traditional"))
    frame = pd.DataFrame({
        "kind": kind,
        "country": np.array(COUNTRIES)[rng.integers(0, len(COUNTRIES), count)],
        "founded_year": np.where(planted == 1, rng.integers(1990, 2005, count), rng.integers(2005, 2024, count)),
        "members": np.round(rng.lognormal(np.where(planted == 1, 4.5, 3.0), 0.6)),
        "se_member_share": np.clip(np.where(planted == 0, rng.normal(0.8, 0.1, count),
                                            np.where(planted == 2, rng.normal(0.3, 0.1, count), 0.0)), 0, 1),
        "tracks_impact": np.where(rng.random(count) < np.where(planted == 0, 0.8, 0.3), "yes", "no"),
        "public_support": np.where(rng.random(count) < 0.6, "yes", "no"),
    }).astype({"founded_year": float, "members": float})
    for column in frame.columns:  # missing values, as real profiles have
        frame.loc[rng.random(count) < 0.1, column] = None
    frame.loc[frame["kind"].isna(), "kind"] = "traditional"  # every registry cluster has a kind
    return frame


def python_gower(frame: pd.DataFrame) -> np.ndarray:
    """Gower's distance as a user writes it: a Python metric function given to scipy's ``pdist``."""
    numeric = [c for c in frame.columns if c not in CATEGORICAL]
    ranges = {c: float(frame[c].max() - frame[c].min()) for c in numeric}
    codes = {c: pd.Categorical(frame[c]).codes for c in CATEGORICAL}
    values = np.column_stack([frame[c].to_numpy(dtype=float) for c in numeric]
                             + [codes[c].astype(float) for c in CATEGORICAL])
    spreads = [ranges[c] for c in numeric]
    n_numeric = len(numeric)

    def metric(u: np.ndarray, v: np.ndarray) -> float:
        total = counted = 0.0
        for i in range(len(u)):
            if i < n_numeric:
                if np.isnan(u[i]) or np.isnan(v[i]):
                    continue
                total += abs(u[i] - v[i]) / spreads[i] if spreads[i] > 0 else 0.0
            else:
                if u[i] < 0 or v[i] < 0:
                    continue
                total += float(u[i] != v[i])
            counted += 1
        return total / counted if counted else float("nan")

    return squareform(pdist(values, metric))


def best_of(repeats: int, run: Callable[[], Any]) -> tuple[Any, list[float]]:
    times, result = [], None
    for _ in range(repeats):
        gc.collect()
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return result, times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profiles", type=int, default=5000, help="cluster profiles (default 5,000)")
    parser.add_argument("--groups", type=int, default=4, help="groups to find (default 4)")
    parser.add_argument("--resamples", type=int, default=20, help="stability resamples (default 20)")
    parser.add_argument("--reference-profiles", type=int, default=1000,
                        help="profiles on which the scipy reference runs (default 1,000)")
    parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    parser.add_argument("--output", type=Path, default=HERE / "results" / "typology.json",
                        help="where to write the figures")
    args = parser.parse_args(argv)
    frame = synthetic_profiles(np.random.default_rng(args.seed), args.profiles)
    print(f"{len(frame):,} profiles x {frame.shape[1]} features ({frame.isna().mean().mean():.0%} missing)")

    timings: dict[str, float] = {}
    started = time.perf_counter()
    distance = gower_distance(frame, categorical=CATEGORICAL)
    timings["gower_distance"] = time.perf_counter() - started
    started = time.perf_counter()
    labels = hierarchical_typology(distance, groups=args.groups)
    timings["hierarchical_typology"] = time.perf_counter() - started
    started = time.perf_counter()
    check = stability(distance, groups=args.groups, resamples=args.resamples, seed=args.seed)
    timings["stability"] = time.perf_counter() - started
    started = time.perf_counter()
    profiles = group_profiles(frame, labels, categorical=CATEGORICAL)
    rule_types = [classify({k: (None if pd.isna(v) else v) for k, v in row.items()}).type
                  for row in frame.to_dict("records")]
    comparison = compare_with_rules(labels, rule_types)
    timings["profiles_and_rules"] = time.perf_counter() - started
    total = sum(timings.values())

    reference = frame.head(args.reference_profiles).reset_index(drop=True)
    ours_small, ours_times = best_of(3, lambda: gower_distance(reference, categorical=CATEGORICAL))
    theirs_small, their_times = best_of(1, lambda: python_gower(reference))
    difference = float(np.nanmax(np.abs(ours_small - theirs_small)))
    identical = difference <= TOLERANCE and bool((np.isnan(ours_small) == np.isnan(theirs_small)).all())
    ratio = min(their_times) / min(ours_times)

    for name, seconds in timings.items():
        print(f"  {name:<22} {seconds:7.3f} s")
    print(f"data-driven typology of {len(frame):,} profiles: {total:.2f} s; stability mean ARI {check.mean_ari} "
          f"({check.ari_low}-{check.ari_high}); ARI with the rule-based types {comparison['adjusted_rand_index']}")
    print(f"Gower on {len(reference):,} profiles: ours {min(ours_times):.4f} s, scipy pdist with a Python metric "
          f"{min(their_times):.2f} s ({ratio:,.0f}x); max |difference| {difference:.2g}")
    figures = {
        "benchmark": "typology",
        "command": " ".join(["python benchmarks/bench_typology.py", *(sys.argv[1:] if argv is None else argv)]),
        "run_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "profiles": len(frame), "features": list(frame.columns), "groups": args.groups,
        "resamples": args.resamples, "seed": args.seed,
        "seconds": {name: round(value, 3) for name, value in timings.items()} | {"total": round(total, 3)},
        "stability": {"mean_ari": check.mean_ari, "ari_5th": check.ari_low, "ari_95th": check.ari_high,
                      "group_jaccard": {str(k): v for k, v in check.group_jaccard.items()}},
        "group_sizes": [p["size"] for p in profiles],
        "adjusted_rand_with_rules": comparison["adjusted_rand_index"],
        "gower_reference": {
            "profiles": len(reference),
            "ours_seconds_best": round(min(ours_times), 4),
            "scipy_pdist_python_metric_seconds": round(min(their_times), 3),
            "speed_ratio": round(ratio, 1),
            "max_abs_difference": difference,
            "identical": identical,
        },
        "process_peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "machine": {"python": platform.python_version(), "numpy": np.__version__, "pandas": pd.__version__,
                    "scipy": scipy.__version__, "cpus": os.cpu_count(), "platform": platform.platform()},
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"figures written to {args.output}")
    return 0 if identical else 1


if __name__ == "__main__":
    raise SystemExit(main())
