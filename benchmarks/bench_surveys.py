"""Benchmark: one survey analysis page for 100,000 responses to a 60-question survey, ours against plain pandas,
and the page itself served from a database holding those answers.

Ours is ``socialclusters.analysis.survey_analysis.analyse``: every question's counts, the cross-tab of every
choice, Likert, multiple-choice and country question by one breakdown (here the respondent's country, 27
groups), Likert means, numeric summaries and histograms, in one call, with option positions counted by
``numpy.bincount``. The tool a user would otherwise pick is pandas: :func:`pandas_page` below does the same
with ``value_counts``, ``pd.crosstab`` (after ``explode`` for multiple choice) and ``describe``, question by
question. Both run on the same wide DataFrame in the same process, and every count is compared.

The page part (skipped with ``--no-page``) builds a throw-away SQLite database with the project's migrations,
inserts the same answers as real ``Answer`` rows (5.5 million at the default size) and times, through Django's
test client as the secretariat: fetching those rows (what reading them from the ``Answer`` table costs at least);
packing them once into ``AnalysisRow`` rows (inserted by hand, they have none yet); reading the packed rows;
sending one more response through ``services.save_answers`` (which packs it); the first view of the analysis
page after it (nothing cached: the issue's "< 1 s" target); uncached views (cache emptied before each); cached
views; and the JSON twin, whose counts are compared with the direct analysis.

The survey: 25 single-choice questions (3–6 options), 10 five-point Likert items, 8 multiple-choice
questions (5 options), 8 numbers, 4 free-text questions (counted only), 4 country-like questions and the
respondent's country; about 8% of answers are skipped at random.

Run it as ``.venv/bin/python benchmarks/bench_surveys.py [--responses 100000] [--repeat 3] [--no-page]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
CHECKOUT = HERE.parent
sys.path.insert(0, str(CHECKOUT / "src"))

from socialclusters.analysis.survey_analysis import QuestionSpec, analyse  # noqa: E402 - after making src importable

COUNTRIES = ["AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "EL", "ES", "FI", "FR", "HR", "HU", "IE", "IT", "LT",
             "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"]
SKIP = 0.08


def survey_questions() -> list[QuestionSpec]:
    specs = [QuestionSpec(f"single-{i}", "single", tuple(f"o{k}" for k in range(3 + i % 4))) for i in range(25)]
    specs += [QuestionSpec(f"likert-{i}", "likert", ("1", "2", "3", "4", "5"), 5) for i in range(10)]
    specs += [QuestionSpec(f"multiple-{i}", "multiple", tuple(f"m{k}" for k in range(5))) for i in range(8)]
    specs += [QuestionSpec(f"number-{i}", "number") for i in range(8)]
    specs += [QuestionSpec(f"text-{i}", "text") for i in range(4)]
    specs += [QuestionSpec(f"place-{i}", "single", tuple(COUNTRIES)) for i in range(4)]
    specs.append(QuestionSpec("country", "country", tuple(COUNTRIES)))
    assert len(specs) == 60
    return specs


def synthetic_answers(rng: np.random.Generator, responses: int, specs: list[QuestionSpec]) -> pd.DataFrame:
    data: dict[str, Any] = {}
    for spec in specs:
        skipped = rng.random(responses) < SKIP
        if spec.kind in ("single", "country"):
            weights = rng.dirichlet(np.ones(len(spec.options)))
            values = np.array(spec.options, dtype=object)[rng.choice(len(spec.options), responses, p=weights)]
        elif spec.kind == "likert":
            values = rng.choice(5, responses, p=[0.1, 0.15, 0.25, 0.3, 0.2]) + 1
            values = values.astype(object)
        elif spec.kind == "multiple":
            chosen = rng.random((responses, len(spec.options))) < 0.35
            values = np.empty(responses, dtype=object)
            values[:] = [[o for o, c in zip(spec.options, row, strict=True) if c] or [spec.options[0]]
                         for row in chosen]
        elif spec.kind == "number":
            values = np.round(rng.lognormal(3, 1, responses), 1).astype(object)
        else:
            values = np.full(responses, "free text answer", dtype=object)
        values[skipped] = None
        data[spec.code] = values
    data["country"] = np.array(COUNTRIES, dtype=object)[rng.integers(0, len(COUNTRIES), responses)]
    return pd.DataFrame(data)


def ours(frame: pd.DataFrame, specs: list[QuestionSpec], by: str) -> dict[str, Any]:
    return analyse(frame, specs, by=by)


def pandas_page(frame: pd.DataFrame, specs: list[QuestionSpec], by: str) -> dict[str, Any]:
    """What an analyst writes with pandas: a value count and a cross-tab per question."""
    result: dict[str, Any] = {}
    groups = sorted(frame[by].dropna().unique())
    for spec in specs:
        column = frame[spec.code]
        if spec.kind == "number":
            values = pd.to_numeric(column, errors="coerce").dropna()
            result[spec.code] = {"n": len(values), "describe": values.describe(),
                                 "histogram": np.histogram(values, bins=20)}
            continue
        if spec.kind == "text":
            result[spec.code] = {"n": int(column.notna().sum())}
            continue
        options = list(spec.options)
        pairs = pd.DataFrame({"answer": column, "group": frame[by]}).dropna()
        if spec.kind == "multiple":
            pairs = pairs.explode("answer")
        answers = pairs["answer"].astype(str)
        counts = answers.value_counts().reindex(options, fill_value=0)
        table = pd.crosstab(answers, pairs["group"]).reindex(index=options, columns=groups, fill_value=0)
        result[spec.code] = {"n": int(column.notna().sum()), "counts": counts.tolist(),
                             "crosstab": table.to_numpy().tolist()}
    return result


def compare(our: dict[str, Any], theirs: dict[str, Any]) -> list[str]:
    mismatches = []
    for code, mine in our.items():
        other = theirs[code]
        if mine["n"] != other["n"]:
            mismatches.append(f"{code}: n {mine['n']} != {other['n']}")
        if "counts" in other and mine["counts"] != other["counts"]:
            mismatches.append(f"{code}: counts differ")
        if "crosstab" in other and mine["crosstab"]["counts"] != other["crosstab"]:
            mismatches.append(f"{code}: crosstab differs")
        if "describe" in other and abs(mine["summary"]["median"] - other["describe"]["50%"]) > 1e-9:
            mismatches.append(f"{code}: median differs")
    return mismatches


def best_of(repeats: int, run: Callable[[], Any]) -> tuple[Any, list[float]]:
    times, result = [], None
    for _ in range(repeats):
        gc.collect()
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return result, times


# --- the page, from a database --------------------------------------------------------------------------


def page_timings(frame: pd.DataFrame, specs: list[QuestionSpec], repeats: int) -> dict[str, Any]:  # noqa: PLR0915
    """Insert the answers into a fresh SQLite database and time the analysis page and its JSON twin."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-surveys-"))
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ["SOCIALCLUSTERS_DATA_DIR"] = str(workdir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "socialclusters.config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.utils import timezone

    from socialclusters.accounts.models import Role, User
    from socialclusters.surveys.models import (
        Question,
        QuestionKind,
        Questionnaire,
        QuestionnaireVersion,
        Section,
        Survey,
        VersionStatus,
    )

    setup_test_environment()
    call_command("migrate", verbosity=0)
    kinds = {"single": QuestionKind.SINGLE, "likert": QuestionKind.LIKERT, "multiple": QuestionKind.MULTIPLE,
             "number": QuestionKind.NUMBER, "text": QuestionKind.TEXT, "country": QuestionKind.COUNTRY}
    questionnaire = Questionnaire.objects.create(slug="bench", title={"en": "Benchmark survey"})
    version = QuestionnaireVersion.objects.create(questionnaire=questionnaire, number=1,
                                                  status=VersionStatus.PUBLISHED, published_at=timezone.now())
    section = Section.objects.create(version=version, position=1, title={"en": "All"})
    question_ids = {}
    for position, spec in enumerate(specs, start=1):
        options = [] if spec.kind == "country" else [{"value": o, "label": {"en": o}} for o in spec.options]
        question = Question.objects.create(version=version, section=section, position=position, code=spec.code,
                                           kind=kinds[spec.kind], text={"en": f"Question {spec.code}"},
                                           options=options, scale_points=spec.points or None)
        question_ids[spec.code] = question.pk
    survey = Survey.objects.create(questionnaire=questionnaire, title="Benchmark survey",
                                   deadline=timezone.now() + timedelta(days=30), status="open")
    user = User.objects.create_user(username="bench-secretariat", role=Role.SECRETARIAT)
    started = time.perf_counter()
    now = timezone.now().isoformat()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO surveys_response (id, survey_id, version_id, language, status, started_at, submitted_at) "
            "VALUES (%s, %s, %s, 'en', 'submitted', %s, %s)",
            [(i + 1, survey.pk, version.pk, now, now) for i in range(len(frame))])
        batch: list[tuple[int, int, str]] = []
        for code, question_id in question_ids.items():
            column = frame[code]
            present = column.notna().to_numpy()
            for row in np.flatnonzero(present):
                value = column.iat[row]
                batch.append((int(row) + 1, question_id, json.dumps(value.item() if hasattr(value, "item")
                                                                     else value)))
            cursor.executemany("INSERT INTO surveys_answer (response_id, question_id, value) VALUES (%s, %s, %s)",
                               batch)
            batch.clear()
    inserted = time.perf_counter() - started
    answers = sum(int(frame[c].notna().sum()) for c in question_ids)
    from django.core.cache import cache

    from socialclusters.surveys import answer_store, selectors, services
    from socialclusters.surveys.models import Answer

    # What reading the answers one row per answer costs (the fetch alone, no JSON decoding): any analysis
    # straight from the ``Answer`` table pays at least this on every first view.
    started = time.perf_counter()
    sql, params = Answer.objects.filter(response__survey=survey).values_list(
        "response_id", "question_id", "value").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = len(cursor.fetchall())
    answer_table_fetch = time.perf_counter() - started
    assert fetched == answers
    # These responses were inserted by hand, so they have no packed rows yet: the first read packs them all
    # (a one-off; responses sent or imported through the services are packed when they are written).
    started = time.perf_counter()
    packed = answer_store.ensure_rows(survey)
    pack_all = time.perf_counter() - started
    assert packed == len(frame)
    # The benchmark process itself holds millions of Python objects (the synthetic answers): frozen, so that
    # the garbage collector does not walk them during the timed requests as it would not in a web server.
    gc.collect()
    gc.freeze()
    client = Client()
    client.force_login(user)
    url = f"/surveys/{survey.pk}/analysis/?by=country"
    twin_url = f"/api/v1/surveys/{survey.pk}/analysis?by=country"
    # The process's first request imports every app's views (matplotlib, scikit-learn): not the page's cost.
    assert client.get("/surveys/").status_code == 200
    # The JSON twin, uncached, agrees with the direct analysis of the same answers.
    cache.clear()
    twin = client.get(twin_url).json()
    expected = analyse(frame, specs, by="country")
    differing = [item["code"] for item in twin["questions"]
                 if item["n"] != expected[item["code"]]["n"]
                 or item.get("counts", []) != expected[item["code"]].get("counts", [])
                 or (item.get("crosstab") or {}).get("counts") != (expected[item["code"]].get("crosstab") or {}).get(
                     "counts")]
    # Where the time of an uncached view goes.
    questions = list(version.questions.order_by("section__position", "position"))
    _, read_times = best_of(repeats, lambda: answer_store.read(survey, questions))
    _, frame_times = best_of(repeats, lambda: selectors.analysis_frame(survey))
    # A new response sent through the service (packed in its transaction), then the first view after it.
    invitation = services.invite(user=user, survey=survey, emails=["new-respondent@example.org"])[0]
    response = services.response_for(invitation)
    started = time.perf_counter()
    services.save_answers(response=response, raw={"single-0": "o1", "likert-0": "4", "number-0": "12",
                                                  "multiple-0": ["m0", "m2"]}, submit=True)
    submit = time.perf_counter() - started
    gc.collect()
    started = time.perf_counter()
    if os.environ.get("BENCH_PROFILE"):
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        first = profiler.runcall(client.get, url)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    else:
        first = client.get(url)
    cold = time.perf_counter() - started
    assert first.status_code == 200, first.status_code
    assert f"n = {len(frame) + 1} responses sent".encode() in first.content

    def uncached() -> Any:
        cache.clear()
        return client.get(url)

    _, uncached_times = best_of(repeats, uncached)
    _, warm = best_of(repeats, lambda: client.get(url))
    _, twin_times = best_of(repeats, lambda: client.get(twin_url))
    connection.close()
    shutil.rmtree(workdir, ignore_errors=True)  # the throw-away database (about 1 GB at the default size)
    return {"database": "SQLite (temporary file)", "responses": len(frame), "answers": answers,
            "insert_seconds": round(inserted, 1),
            "answer_table_fetch_seconds": round(answer_table_fetch, 2),
            "pack_all_once_seconds": round(pack_all, 1),
            "read_packed_seconds_best": round(min(read_times), 3),
            "analysis_frame_seconds_best": round(min(frame_times), 3),
            "submit_one_response_seconds": round(submit, 3),
            "first_view_after_new_response_seconds": round(cold, 3),
            "uncached_view_seconds_best": round(min(uncached_times), 3),
            "uncached_view_seconds_all": [round(t, 3) for t in uncached_times],
            "cached_view_seconds_best": round(min(warm), 4), "cached_view_seconds_all": [round(t, 4) for t in warm],
            "json_twin_seconds_best": round(min(twin_times), 4),
            "page_agrees_with_direct_analysis": not differing, "page_differences": differing[:20]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--responses", type=int, default=100_000, help="responses (default 100,000)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each side; the best counts (default 3)")
    parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    parser.add_argument("--no-page", action="store_true", help="skip the page timings from a database")
    parser.add_argument("--output", type=Path, default=HERE / "results" / "surveys.json",
                        help="where to write the figures")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.responses < 10:
        parser.error("--repeat must be at least 1 and --responses at least 10")
    specs = survey_questions()
    frame = synthetic_answers(np.random.default_rng(args.seed), args.responses, specs)
    cells = int(frame.drop(columns=[]).notna().to_numpy().sum())
    print(f"{args.responses:,} responses x {len(specs)} questions ({cells:,} answers), breakdown by country")
    our, our_times = best_of(args.repeat, lambda: ours(frame, specs, "country"))
    theirs, their_times = best_of(args.repeat, lambda: pandas_page(frame, specs, "country"))
    mismatches = compare(our, theirs)
    our_best, their_best = min(our_times), min(their_times)
    print(f"ours    {our_best:7.3f} s")
    print(f"pandas  {their_best:7.3f} s")
    print(f"ours is {their_best / our_best:.2f}x pandas; identical counts: {not mismatches}")
    page = None if args.no_page else page_timings(frame, specs, args.repeat)
    if page:
        print(f"page: {page['answers']:,} answer rows inserted in {page['insert_seconds']} s; fetching them "
              f"{page['answer_table_fetch_seconds']} s; packing them once {page['pack_all_once_seconds']} s")
        print(f"page: reading the packed answers {page['read_packed_seconds_best']} s; analysis frame "
              f"{page['analysis_frame_seconds_best']} s; one response sent in {page['submit_one_response_seconds']} s")
        print(f"page: first view after it {page['first_view_after_new_response_seconds']} s; uncached views "
              f"{page['uncached_view_seconds_best']} s; cached views {page['cached_view_seconds_best']} s; "
              f"JSON twin {page['json_twin_seconds_best']} s; agrees with the direct analysis: "
              f"{page['page_agrees_with_direct_analysis']}")
    figures = {
        "benchmark": "surveys",
        "command": " ".join(["python benchmarks/bench_surveys.py", *(sys.argv[1:] if argv is None else argv)]),
        "run_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "survey": {"responses": args.responses, "questions": len(specs), "answers": cells, "breakdown": "country",
                   "groups": len(COUNTRIES), "skip_share": SKIP},
        "seed": args.seed,
        "identical": not mismatches,
        "mismatches": mismatches[:20],
        "ours": {"what": "survey_analysis.analyse (every question and cross-tab of one page)",
                 "seconds_best": round(our_best, 4), "seconds_all": [round(t, 4) for t in our_times]},
        "pandas": {"what": "value_counts, explode + crosstab and describe per question (pandas_page in this file)",
                   "seconds_best": round(their_best, 4), "seconds_all": [round(t, 4) for t in their_times]},
        "speed_ratio_ours_over_pandas": round(their_best / our_best, 2),
        "page": page,
        "targets": {
            "analysis_under_1_second": our_best < 1.0,
            "cached_page_under_1_second": bool(page and page["cached_view_seconds_best"] < 1.0),
            "first_view_after_new_answers_under_1_second": bool(
                page and page["first_view_after_new_response_seconds"] < 1.0),
            "uncached_page_under_1_second": bool(page and page["uncached_view_seconds_best"] < 1.0),
        },
        "process_peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "machine": {"python": platform.python_version(), "numpy": np.__version__, "pandas": pd.__version__,
                    "cpus": os.cpu_count(), "platform": platform.platform()},
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"figures written to {args.output}")
    return 1 if mismatches or (page and not page["page_agrees_with_direct_analysis"]) else 0


if __name__ == "__main__":
    raise SystemExit(main())
