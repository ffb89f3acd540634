"""Benchmark: assign random points in Europe to the 1,514 NUTS 3 regions, ours against geopandas.

Ours is ``socialclusters.analysis.spatial.assign_points``; the tool a user would otherwise pick is
geopandas' ``sjoin(points, regions, predicate="within")``. Both run in the same process on the same
points and polygons (each repeat on freshly built geometries, so neither profits from the other's
prepared polygons), the answers are compared point by point, and the figures go to
``benchmarks/results/point_assignment.json``.

How both sides give one region per point, so that their answers can be compared:

- Overlapping polygons (the 1:60 million polygons overlap slightly in Belgium) put some points in two
  regions; geopandas returns a row for each and we keep the lowest region index, which is our rule.
- A point exactly on a boundary counts as inside for us (lowest index wins) and as outside for
  ``within``. Random float64 points essentially never land exactly on a boundary; any that do would show
  up as mismatches, which the run reports.

Run it as ``.venv/bin/python benchmarks/bench_point_assignment.py [--points N]``; it reads the NUTS files
from ``SOCIALCLUSTERS_GISCO_SOURCE`` when that is a folder, else from ``../shared/data/gisco``.
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
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import shapely

HERE = Path(__file__).resolve().parent
CHECKOUT = HERE.parent
sys.path.insert(0, str(CHECKOUT / "src"))

from socialclusters.analysis.spatial import assign_points  # noqa: E402 - after making src importable

POLYGON_FILE = "nuts/geojson/NUTS_RG_60M_2021_4326_LEVL_3.geojson"
# Mainland Europe and its islands, from the Azores' longitude to the Urals' foothills.
EUROPE = (-25.0, 34.0, 45.0, 72.0)
INSIDE_SHARE = 0.8  # the rest is uniform over the box: sea, and land outside NUTS


def gisco_folder() -> Path:
    configured = os.environ.get("SOCIALCLUSTERS_GISCO_SOURCE", "")
    folder = Path(configured) if configured and Path(configured).is_dir() else CHECKOUT.parent / "shared/data/gisco"
    if not (folder / POLYGON_FILE).is_file():
        raise SystemExit(
            f"cannot find {folder / POLYGON_FILE}: set SOCIALCLUSTERS_GISCO_SOURCE to a folder laid out like GISCO"
        )
    return folder


def read_regions(folder: Path) -> tuple[np.ndarray, list[str]]:
    """NUTS 3 codes, and each region's geometry as GeoJSON text (parsed anew for every repeat)."""
    features = json.loads((folder / POLYGON_FILE).read_text(encoding="utf-8"))["features"]
    codes = np.array([feature["properties"]["NUTS_ID"] for feature in features], dtype=object)
    return codes, [json.dumps(feature["geometry"]) for feature in features]


def random_points(polygons: np.ndarray, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``count`` points in the Europe box, INSIDE_SHARE of them drawn inside polygons in proportion to area."""
    inside_count = round(count * INSIDE_SHARE)
    clipped = shapely.clip_by_rect(polygons, *EUROPE)
    areas = shapely.area(clipped)
    per_polygon = rng.multinomial(inside_count, areas / areas.sum())
    lon_parts, lat_parts = [], []
    for polygon, wanted in zip(clipped, per_polygon, strict=True):
        if wanted == 0:
            continue
        min_lon, min_lat, max_lon, max_lat = shapely.bounds(polygon)
        fill = max(shapely.area(polygon) / ((max_lon - min_lon) * (max_lat - min_lat)), 0.05)
        got_lon, got_lat = np.empty(0), np.empty(0)
        while got_lon.size < wanted:  # rejection sampling within the polygon's bounding box
            draw = int((wanted - got_lon.size) / fill * 1.3) + 8
            lon, lat = rng.uniform(min_lon, max_lon, draw), rng.uniform(min_lat, max_lat, draw)
            keep = shapely.contains_xy(polygon, lon, lat)
            got_lon, got_lat = np.concatenate([got_lon, lon[keep]]), np.concatenate([got_lat, lat[keep]])
        lon_parts.append(got_lon[:wanted])
        lat_parts.append(got_lat[:wanted])
    outside_count = count - inside_count
    lon_parts.append(rng.uniform(EUROPE[0], EUROPE[2], outside_count))
    lat_parts.append(rng.uniform(EUROPE[1], EUROPE[3], outside_count))
    lon, lat = np.concatenate(lon_parts), np.concatenate(lat_parts)
    order = rng.permutation(count)
    return lon[order], lat[order]


def ours(lon: np.ndarray, lat: np.ndarray, geometries: list[str]) -> tuple[np.ndarray, float]:
    polygons = shapely.from_geojson(geometries)
    started = time.perf_counter()
    index = assign_points(lon, lat, polygons).index
    return index, time.perf_counter() - started


def with_geopandas(lon: np.ndarray, lat: np.ndarray, geometries: list[str]) -> tuple[np.ndarray, float]:
    import geopandas

    regions = geopandas.GeoDataFrame(geometry=shapely.from_geojson(geometries), crs="EPSG:4326")
    started = time.perf_counter()
    points = geopandas.GeoDataFrame(geometry=geopandas.points_from_xy(lon, lat), crs="EPSG:4326")
    joined = geopandas.sjoin(points, regions, predicate="within", how="inner")
    # One region per point: the lowest index among overlapping regions, as assign_points does.
    lowest = joined["index_right"].groupby(level=0).min()
    index = np.full(lon.size, -1, dtype=np.int64)
    index[lowest.index.to_numpy()] = lowest.to_numpy()
    return index, time.perf_counter() - started


def best_of(repeats: int, run: Callable[[], tuple[np.ndarray, float]]) -> tuple[np.ndarray, list[float]]:
    times, result = [], None
    for _ in range(repeats):
        gc.collect()
        result, seconds = run()
        times.append(seconds)
    assert result is not None
    return result, times


def traced_peak_mib(run: Callable[[], Any]) -> float:
    """Peak of Python and numpy allocations during ``run`` (GEOS's own memory is not traced)."""
    gc.collect()
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=1_000_000, help="how many points (default 1,000,000)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each side; the best counts (default 3)")
    parser.add_argument("--seed", type=int, default=2021, help="random seed (default 2021)")
    parser.add_argument(
        "--output", type=Path, default=HERE / "results" / "point_assignment.json", help="where to write the figures"
    )
    args = parser.parse_args(argv)
    if args.points < 1 or args.repeat < 1:
        parser.error("--points and --repeat must be at least 1")

    folder = gisco_folder()
    codes, geometries = read_regions(folder)
    lon, lat = random_points(shapely.from_geojson(geometries), args.points, np.random.default_rng(args.seed))
    print(f"{args.points:,} points, {len(codes):,} NUTS 3 regions from {folder / POLYGON_FILE}")

    our_index, our_times = best_of(args.repeat, lambda: ours(lon, lat, geometries))
    their_index, their_times = best_of(args.repeat, lambda: with_geopandas(lon, lat, geometries))
    our_peak = traced_peak_mib(lambda: ours(lon, lat, geometries))
    their_peak = traced_peak_mib(lambda: with_geopandas(lon, lat, geometries))

    our_codes = np.where(our_index >= 0, codes[np.maximum(our_index, 0)], None)
    their_codes = np.where(their_index >= 0, codes[np.maximum(their_index, 0)], None)
    mismatches = int(np.count_nonzero(our_codes != their_codes))
    our_best, their_best = min(our_times), min(their_times)

    import geopandas

    figures = {
        "benchmark": "point_assignment",
        "command": " ".join(["python benchmarks/bench_point_assignment.py", *(sys.argv[1:] if argv is None else argv)]),
        "run_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "points": args.points,
        "regions": len(codes),
        "seed": args.seed,
        "assigned_share": round(float(np.mean(our_index >= 0)), 4),
        "identical": mismatches == 0,
        "mismatches": mismatches,
        "ours": {
            "what": "socialclusters.analysis.spatial.assign_points",
            "seconds_best": round(our_best, 4),
            "seconds_all": [round(t, 4) for t in our_times],
            "points_per_second": round(args.points / our_best),
            "traced_peak_mib": round(our_peak, 1),
        },
        "geopandas": {
            "what": 'geopandas.sjoin(points, regions, predicate="within"), lowest region per point',
            "seconds_best": round(their_best, 4),
            "seconds_all": [round(t, 4) for t in their_times],
            "points_per_second": round(args.points / their_best),
            "traced_peak_mib": round(their_peak, 1),
        },
        "speed_ratio_ours_over_geopandas": round(their_best / our_best, 2),
        "process_peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "machine": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "shapely": shapely.__version__,
            "geos": ".".join(map(str, shapely.geos_version)),
            "geopandas": geopandas.__version__,
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")

    for name, seconds, peak in (("ours", our_best, our_peak), ("geopandas", their_best, their_peak)):
        print(f"{name:<10} {seconds:7.3f} s  {args.points / seconds:>12,.0f} points/s  peak {peak:,.0f} MiB traced")
    print(f"ours is {their_best / our_best:.2f}x geopandas; results identical: {mismatches == 0} ({mismatches} differ)")
    print(f"figures written to {args.output}")
    return 0 if mismatches == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
