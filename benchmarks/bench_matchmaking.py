"""Benchmark: partner suggestions among 1,000,000 organisations, our index against scoring everyone with pandas.

Ours is ``socialclusters.analysis.matchmaking.MatchIndex``: built once (TF-IDF of character n-grams
reduced by truncated SVD, candidates grouped in blocks that share every structured feature, the distinct
texts grouped in small clusters of similar texts, each with a centre and a radius, and inverted lists of the
distinct texts), then ``top_k`` scores whole the blocks with the best structured scores and finds the other
candidates that can still enter the top 10 through the texts most similar to the query, computing exact
similarities only in the text clusters whose bound reaches the threshold (exact). The
approach a developer would write first is :func:`pandas_top_k` below: the same score formula computed for
every candidate with pandas columns (using the same text vectors, so only the search differs), then
``nlargest(10)``. Both answer the same queries in the same process and their top-10 lists are compared: same
ids in the same order, scores to 1e-6.

Also measured: suggestions for 10,000 organisations in one batch (``top_k_batch``: its time, the peak
resident memory before and after it, and its answers compared with single ``top_k`` queries) and the
offline evaluation: recall@10 of hidden cluster co-memberships, matchmaker against the baseline "same NACE
section and same NUTS 3 region" (``evaluate_recall``, on a 100,000-organisation population with clusters).

The population is synthetic (``synthetic_population``): 25 countries, 1,350 NUTS 3-like regions, 11 NACE
sections with offers and requests in several languages, 45% social economy, a third in clusters; each
offer and request also names three words of the organisation's own, so that almost every text is distinct
(``--own-words 0``: templated texts only, about 15,000 distinct texts among a million).

Run it as ``.venv/bin/python benchmarks/bench_matchmaking.py [--candidates 1000000] [--queries 200]``.
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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from socialclusters.analysis.matchmaking import (  # noqa: E402 - after making src importable
    DIVISION_SHARE,
    FAMILIES,
    REGION_SCORES,
    SECTION_SHARE,
    MatchIndex,
    MatchQuery,
    evaluate_recall,
    sector_affinity_from_pairs,
    synthetic_population,
)


def pandas_frame(index: MatchIndex, people: pd.DataFrame) -> pd.DataFrame:
    """What a developer would hold: one row per candidate, plain columns (text vectors from our index)."""
    frame = people[["id", "family", "section", "division", "nuts3", "nuts2", "country", "cross_border",
                    "opted_out"]].copy()
    frame["languages"] = people["languages"].map(set)
    frame["clusters"] = people["clusters"].map(set)
    return frame


def pandas_top_k(  # noqa: PLR0917 - the developer's first version, kept as written
    frame: pd.DataFrame, offer: np.ndarray, seek: np.ndarray, affinity: pd.DataFrame,
                 query: MatchQuery, weights: dict[str, float], k: int = 10) -> list[tuple[int, float]]:
    """Score every candidate with pandas, then keep the k best (ties: earlier row first)."""
    q_offer = index_for_text.text_space.embed_one(query.offer_text)
    q_seek = index_for_text.text_space.embed_one(query.seek_text)
    scores = pd.DataFrame(index=frame.index)
    answers = pd.Series(0.0, index=frame.index)
    if q_seek.any():
        answers = np.maximum(answers, pd.Series((offer * q_seek).sum(axis=1), index=frame.index))
    if q_offer.any():
        answers = np.maximum(answers, pd.Series((seek * q_offer).sum(axis=1), index=frame.index))
        scores["similar_activity"] = pd.Series((offer * q_offer).sum(axis=1), index=frame.index).clip(0, 1)
    else:
        scores["similar_activity"] = 0.0
    scores["offer_answers_request"] = answers.clip(0, 1)
    sectors = frame["section"].map(affinity[query.section]).fillna(0.0) * SECTION_SHARE if query.section else 0.0
    scores["sectors"] = sectors + DIVISION_SHARE * ((frame["division"] == query.division) & (query.division != ""))
    scores["region"] = np.select(
        [frame["nuts3"] == query.nuts3, frame["nuts2"] == query.nuts2, frame["country"] == query.country],
        [REGION_SCORES["nuts3"], REGION_SCORES["nuts2"], REGION_SCORES["country"]], 0.0)
    other = frame["country"] != query.country
    scores["cross_border"] = np.where(other, 0.5 * (frame["cross_border"].astype(float) + float(query.cross_border)),
                                      0.0)
    partner = {"social_economy": "traditional", "traditional": "social_economy"}.get(query.family)
    scores["pairing"] = (frame["family"] == partner).astype(float)
    mine = set(query.clusters)
    scores["shared_cluster"] = frame["clusters"].map(lambda c: bool(c & mine)).astype(float)
    langs = set(query.languages)
    scores["language"] = frame["languages"].map(lambda c: bool(c & langs)).astype(float)
    total = sum(weights[name] * scores[name] for name in weights)
    total = total[~frame["opted_out"] & ~frame["id"].isin(query.exclude)]
    best = total.nlargest(k, keep="first")
    return [(int(frame.at[i, "id"]), float(s)) for i, s in best.items()]


index_for_text: MatchIndex  # the pandas side reuses our text space to embed a query


def partner_pairs(members: pd.DataFrame, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Known partner pairs to learn the section affinity from: each member of a cluster with the next one
    in a seeded random order of its cluster (every pair of a cluster would be some 30 million pairs here,
    and gigabytes of memory, for the same lifts)."""
    shuffled = members.sample(frac=1.0, random_state=seed).sort_values("cluster", kind="stable")
    organisations, clusters = shuffled["organisation"].to_numpy(), shuffled["cluster"].to_numpy()
    starts = np.r_[0, np.flatnonzero(clusters[1:] != clusters[:-1]) + 1]
    sizes = np.diff(np.r_[starts, len(clusters)])
    group_start, group_size = np.repeat(starts, sizes), np.repeat(sizes, sizes)
    rows = np.arange(len(clusters))
    partner = group_start + (rows - group_start + 1) % group_size
    keep = group_size >= 2
    return organisations[rows[keep]], organisations[partner[keep]]


def peak_mib() -> int:
    """Peak resident memory of this process so far (Linux reports kibibytes)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def main(argv: list[str] | None = None) -> int:  # noqa: PLR0915 - the benchmark's steps, in order
    global index_for_text  # noqa: PLW0603 - the pandas side embeds its query with our text space
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidates", type=int, default=1_000_000, help="organisations (default 1,000,000)")
    parser.add_argument("--queries", type=int, default=200, help="timed single queries (default 200)")
    parser.add_argument("--pandas-queries", type=int, default=20, help="queries timed with pandas (default 20)")
    parser.add_argument("--batch", type=int, default=10_000, help="organisations in the batch (default 10,000)")
    parser.add_argument("--batch-checked", type=int, default=200,
                        help="batch answers compared with single queries (default 200)")
    parser.add_argument("--recall-population", type=int, default=100_000,
                        help="organisations of the recall evaluation (default 100,000)")
    parser.add_argument("--own-words", type=int, default=3,
                        help="organisation-specific words in each text; 0 for templated texts (default 3)")
    parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    parser.add_argument("--output", type=Path, default=HERE / "results" / "matchmaking.json")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    print("load average at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()), flush=True)

    started = time.perf_counter()
    people, members = synthetic_population(args.candidates, clusters=max(1, args.candidates // 250),
                                           own_words=args.own_words, seed=args.seed)
    generate_seconds = time.perf_counter() - started
    first, second = partner_pairs(members, args.seed)
    section = people.set_index("id")["section"]
    affinity = sector_affinity_from_pairs(section.reindex(first).tolist(), section.reindex(second).tolist())
    distinct = {"offer_texts": int(people["offer_text"].nunique()),
                "seek_texts": int(people.loc[people["seek_text"] != "", "seek_text"].nunique())}
    print(f"population of {len(people):,} generated in {generate_seconds:.1f} s ({distinct['offer_texts']:,} "
          f"distinct offers, {distinct['seek_texts']:,} distinct requests)", flush=True)

    gc.collect()
    started = time.perf_counter()
    index = MatchIndex.build(people, sector_affinity=affinity)
    build_seconds = time.perf_counter() - started
    index_for_text = index
    text_clusters = {"offer": len(index.offer_clusters.count), "seek": len(index.seek_clusters.count)}
    print(f"index built in {build_seconds:.1f} s ({len(index.block_len):,} blocks, {text_clusters['offer']:,} + "
          f"{text_clusters['seek']:,} text clusters)", flush=True)

    query_ids = rng.choice(people["id"].to_numpy(), size=args.queries, replace=False)
    latencies, cpu_times, scanned_answers = [], [], []
    for candidate in query_ids:
        query = index.query_for(int(candidate))
        t, cpu = time.perf_counter(), time.process_time()
        answer = index.top_k(query, k=10)
        latencies.append((time.perf_counter() - t) * 1000)
        # CPU time says what a query costs whatever else the shared machine runs meanwhile.
        cpu_times.append((time.process_time() - cpu) * 1000)
        scanned_answers.append((int(candidate), [(m.id, m.score) for m in answer]))
    print(f"top_k: p50 {percentile(latencies, 50):.2f} ms, p95 {percentile(latencies, 95):.2f} ms "
          f"(CPU time p50 {percentile(cpu_times, 50):.2f} ms, p95 {percentile(cpu_times, 95):.2f} ms)", flush=True)

    batch_ids = rng.choice(people["id"].to_numpy(), size=min(args.batch, len(people)), replace=False)
    gc.collect()
    before_batch_mib = peak_mib()
    t, cpu = time.perf_counter(), time.process_time()
    batch = index.top_k_batch(batch_ids, k=10)
    batch_seconds = time.perf_counter() - t
    batch_cpu_seconds = time.process_time() - cpu
    batch_peak_mib = peak_mib()
    batch_differing = 0
    for candidate in batch_ids[: args.batch_checked]:
        single = [m.id for m in index.top_k(index.query_for(int(candidate)), k=10)]
        batch_differing += batch.loc[batch["query"] == candidate, "id"].tolist() != single
    print(f"batch of {len(batch_ids):,}: {batch_seconds:.1f} s, CPU {batch_cpu_seconds:.1f} s "
          f"({len(batch):,} suggestions), peak resident "
          f"{batch_peak_mib:,} MiB (before it {before_batch_mib:,} MiB); {batch_differing} of "
          f"{min(args.batch_checked, len(batch_ids))} answers differ from single queries", flush=True)
    del batch

    frame = pandas_frame(index, people)
    offer = index.offer_vectors[index.offer_codes]
    seek = index.seek_vectors[index.seek_codes]
    weights = index.weights.normalised()
    pandas_latencies, mismatches, compared = [], 0, 0
    for candidate, ours in scanned_answers[: args.pandas_queries]:
        query = index.query_for(candidate)
        t = time.perf_counter()
        theirs = pandas_top_k(frame, offer, seek, affinity, query, weights)
        pandas_latencies.append((time.perf_counter() - t) * 1000)
        compared += 1
        same_ids = [i for i, _ in ours] == [i for i, _ in theirs]
        close = np.allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-6)
        if not (same_ids and close):
            mismatches += 1
            print(f"  mismatch for {candidate}: ours {ours[:3]} pandas {theirs[:3]}", flush=True)
    print(f"pandas: p50 {percentile(pandas_latencies, 50):.0f} ms, p95 {percentile(pandas_latencies, 95):.0f} ms; "
          f"{mismatches} of {compared} top-10 lists differ", flush=True)
    del frame, offer, seek
    gc.collect()

    recall_people, recall_members = synthetic_population(args.recall_population,
                                                         clusters=max(1, args.recall_population // 250),
                                                         own_words=args.own_words, seed=args.seed + 1)
    recall = evaluate_recall(recall_people, recall_members, max_queries=2_000, seed=args.seed)
    print(f"recall@10: matchmaker {recall['recall_matchmaker']:.3f}, baseline {recall['recall_baseline']:.3f} "
          f"({recall['queries']} queries, {recall['hidden_pairs']} hidden pairs)", flush=True)

    result: dict[str, Any] = {
        "benchmark": "matchmaking",
        "command": "python benchmarks/bench_matchmaking.py " + " ".join(argv or sys.argv[1:]),
        "run_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seed": args.seed,
        "candidates": len(people),
        "own_words": args.own_words,
        "distinct": distinct,
        "families": {name: int((people["family"] == name).sum()) for name in FAMILIES},
        "index": {"build_seconds": round(build_seconds, 2), "blocks": len(index.block_len),
                  "text_dimensions": index.text_space.dims, "text_clusters": text_clusters},
        "top_k": {"k": 10, "queries": len(latencies), "p50_ms": round(percentile(latencies, 50), 2),
                  "p95_ms": round(percentile(latencies, 95), 2), "max_ms": round(max(latencies), 2),
                  "cpu_p50_ms": round(percentile(cpu_times, 50), 2),
                  "cpu_p95_ms": round(percentile(cpu_times, 95), 2)},
        "pandas_every_candidate": {"queries": len(pandas_latencies),
                                   "p50_ms": round(percentile(pandas_latencies, 50), 1),
                                   "p95_ms": round(percentile(pandas_latencies, 95), 1)},
        "agreement": {"compared": compared, "top10_lists_differing": mismatches},
        "batch": {"organisations": len(batch_ids), "seconds": round(batch_seconds, 2),
                  "cpu_seconds": round(batch_cpu_seconds, 2),
                  "per_organisation_ms": round(batch_seconds * 1000 / len(batch_ids), 2),
                  "peak_resident_mib_before": before_batch_mib, "peak_resident_mib_after": batch_peak_mib,
                  "compared_with_single_queries": min(args.batch_checked, len(batch_ids)),
                  "differing_from_single_queries": int(batch_differing)},
        "recall_at_10": {"population": args.recall_population, **{key: (round(v, 4) if isinstance(v, float) else v)
                                                                   for key, v in recall.items()}},
        "peak_resident_mib": peak_mib(),
        "load_average": [round(v, 2) for v in os.getloadavg()],
        "machine": {"python": platform.python_version(), "numpy": np.__version__, "pandas": pd.__version__,
                    "cpus": os.cpu_count(), "platform": platform.platform()},
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")
    ok = mismatches == 0 and batch_differing == 0 and recall["recall_matchmaker"] > recall["recall_baseline"]
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
