"""Benchmark: the NUTS 3 choropleth endpoint under 8 concurrent clients, ours against a straightforward view.

Ours is ``GET /api/v1/map/layer.geojson?level=3&indicator=se_organisations`` (boundaries simplified per
level and quantised, the layer computed by ``mapping.selectors`` and cached under a signature of the data,
gzip, ETag). The approach a developer would write first is :func:`straightforward_view` below: on every
request it reads the regions with their stored boundaries, counts the social economy organisations per
region with the ORM, builds the GeoJSON with ``json.dumps`` and gzips it (as Django's GZipMiddleware would).

Both are served in one process by Django's threaded development server (``ThreadedWSGIServer``, the
server ``runserver`` uses) on the configured database (run ``socialclusters demo`` first: 9,288 real
organisations, 1,514 NUTS 3 regions). The load generator runs in a separate process: 8 client threads,
each with its own keep-alive connection, request the URL in a loop (``Accept-Encoding: gzip``, no
``If-None-Match``, so every answer carries the whole body) after a warm-up. Reported: latency p50, p95
and p99, throughput, and the compressed and uncompressed payload. Results go to
``benchmarks/results/map_endpoint.json``.

Run it as ``.venv/bin/python benchmarks/bench_map_endpoint.py [--requests 400] [--clients 8]``.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CHECKOUT = HERE.parent
sys.path.insert(0, str(CHECKOUT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "socialclusters.config.settings")

OURS = "/api/v1/map/layer.geojson?level=3&indicator=se_organisations"
STRAIGHTFORWARD = "/straightforward/choropleth?level=3"


def straightforward_view(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """What a developer writes first: query, count, dump, gzip, on every request."""
    from django.db import close_old_connections
    from django.db.models import Count

    from socialclusters.registry.models import SOCIAL_ECONOMY_KINDS, Organisation, Region

    close_old_connections()
    level = 3
    counts: dict[str, int] = {}
    rows = Organisation.objects.filter(kind__in=SOCIAL_ECONOMY_KINDS, region__isnull=False).values(
        "region__code").annotate(n=Count("id"))
    for row in rows:
        key = row["region__code"][: level + 2]
        counts[key] = counts.get(key, 0) + row["n"]
    features = [
        {"type": "Feature", "id": region.code,
         "properties": {"name": region.name_latn, "value": counts.get(region.code, 0)},
         "geometry": region.geometry}
        for region in Region.objects.filter(level=level, version="2021").order_by("code")
    ]
    body = gzip.compress(json.dumps({"type": "FeatureCollection", "features": features}).encode())
    start_response("200 OK", [("Content-Type", "application/geo+json"), ("Content-Encoding", "gzip"),
                              ("Content-Length", str(len(body)))])
    close_old_connections()
    return [body]


def serve(port: int) -> Any:
    import django

    django.setup()
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

    django_app = WSGIHandler()

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO", "").startswith("/straightforward/"):
            return straightforward_view(environ, start_response)
        return django_app(environ, start_response)

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadedWSGIServer(("127.0.0.1", port), QuietHandler)
    server.set_app(app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


def load(port: int, path: str, *, requests: int, clients: int, warmup: int) -> dict[str, Any]:
    """Run in a child process: ``clients`` threads share ``requests`` requests; per-request latencies."""
    script = f"""
import http.client, json, threading, time
latencies, sizes, raw, errors = [], [], [], []
lock = threading.Lock()
counter = [0]
def worker():
    connection = http.client.HTTPConnection("127.0.0.1", {port}, timeout=60)
    while True:
        with lock:
            if counter[0] >= {requests + warmup}:
                break
            counter[0] += 1
            index = counter[0]
        start = time.perf_counter()
        connection.request("GET", {path!r}, headers={{"Accept-Encoding": "gzip"}})
        response = connection.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - start
        if response.status != 200:
            errors.append(response.status)
        if index > {warmup}:
            with lock:
                latencies.append(elapsed)
                sizes.append(len(body))
    connection.close()
threads = [threading.Thread(target=worker) for _ in range({clients})]
start = time.perf_counter()
[t.start() for t in threads]
[t.join() for t in threads]
wall = time.perf_counter() - start
print(json.dumps({{"latencies": latencies, "sizes": sizes, "errors": errors, "wall": wall}}))
"""
    output = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    result = json.loads(output.stdout)
    latencies = sorted(result["latencies"])

    def percentile(q: float) -> float:
        return latencies[min(len(latencies) - 1, round(q * (len(latencies) - 1)))] * 1000

    return {
        "requests": len(latencies), "errors": len(result["errors"]), "clients": clients,
        "p50_ms": round(percentile(0.50), 1), "p95_ms": round(percentile(0.95), 1),
        "p99_ms": round(percentile(0.99), 1), "mean_ms": round(statistics.fmean(latencies) * 1000, 1),
        # Closed loop: each client sends its next request when the last one is answered.
        "throughput_per_s": round(clients / statistics.fmean(latencies), 1),
        "payload_gzip_kb": round(statistics.fmean(result["sizes"]) / 1024, 1),
    }


def uncompressed_size(port: int, path: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", path, headers={"Accept-Encoding": "gzip"})
    body = connection.getresponse().read()
    connection.close()
    try:
        return len(gzip.decompress(body))
    except OSError:
        return len(body)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=400, help="measured requests per side (default 400)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()

    server = serve(args.port)
    from socialclusters.registry.models import Organisation, Region

    organisations = Organisation.objects.count()
    regions = Region.objects.filter(level=3).count()
    if not organisations or not regions:
        print("The database holds no demo data: run `socialclusters demo` first.", file=sys.stderr)
        return 2
    results: dict[str, Any] = {}
    for name, path in (("ours", OURS), ("straightforward", STRAIGHTFORWARD)):
        results[name] = load(args.port, path, requests=args.requests, clients=args.clients, warmup=16)
        results[name]["payload_raw_kb"] = round(uncompressed_size(args.port, path) / 1024, 1)
        results[name]["path"] = path
        print(f"{name:>16}: p50 {results[name]['p50_ms']} ms, p95 {results[name]['p95_ms']} ms, "
              f"p99 {results[name]['p99_ms']} ms, {results[name]['throughput_per_s']} req/s, "
              f"{results[name]['payload_gzip_kb']} KB gzip ({results[name]['payload_raw_kb']} KB raw), "
              f"{results[name]['errors']} errors", flush=True)
    server.shutdown()
    ratio = results["straightforward"]["p95_ms"] / results["ours"]["p95_ms"]
    print(f"p95 ratio: {ratio:.1f}x; targets: p95 < 100 ms with {args.clients} clients, payload < 400 KB gzip")
    record = {
        "benchmark": "map_endpoint", "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python benchmarks/bench_map_endpoint.py " + " ".join(sys.argv[1:]),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "system": platform.platform()},
        "data": {"organisations": organisations, "nuts3_regions": regions},
        "results": results, "p95_ratio": round(ratio, 1),
        "targets_met": results["ours"]["p95_ms"] < 100 and results["ours"]["payload_gzip_kb"] < 400
        and results["ours"]["errors"] == 0,
    }
    out = HERE / "results" / "map_endpoint.json"
    out.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"written {out.relative_to(CHECKOUT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
