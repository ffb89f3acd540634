"""Run every benchmark in turn (``make bench``); each writes its figures to benchmarks/results/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = [
    "bench_point_assignment.py",
    "bench_import.py",
    "bench_cluster_statistics.py",
    "bench_map_endpoint.py",  # needs the demo database (make demo)
    "bench_selection.py",
    "bench_surveys.py",
    "bench_typology.py",
    "bench_matchmaking.py",
    "bench_scheduling.py",
]


def main() -> int:
    failures = 0
    for name in BENCHMARKS:
        print(f"== {name}", flush=True)
        failures += subprocess.run([sys.executable, str(HERE / name)], check=False).returncode != 0
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
