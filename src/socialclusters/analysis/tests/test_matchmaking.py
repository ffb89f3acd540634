"""Tests of the matchmaking index: exact top-k despite pruning, filters, opt-outs, reasons, recall@10."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from socialclusters.analysis.matchmaking import (
    MatchFilters,
    MatchIndex,
    MatchQuery,
    MatchWeights,
    _similarity,
    _TextClusters,
    _TextSpace,
    evaluate_recall,
    sector_affinity_from_pairs,
    synthetic_population,
)


@pytest.fixture(scope="module")
def population() -> tuple[pd.DataFrame, pd.DataFrame]:
    return synthetic_population(6_000, clusters=200, seed=7)


@pytest.fixture(scope="module")
def index(population) -> MatchIndex:  # type: ignore[no-untyped-def]
    people, members = population
    pairs = members.merge(members, on="cluster")
    pairs = pairs[pairs["organisation_x"] != pairs["organisation_y"]]
    section = people.set_index("id")["section"]
    affinity = sector_affinity_from_pairs(section.reindex(pairs["organisation_x"]).tolist(),
                                          section.reindex(pairs["organisation_y"]).tolist())
    return MatchIndex.build(people, sector_affinity=affinity, dims=32)


def brute_force(index: MatchIndex, people: pd.DataFrame, query: MatchQuery, k: int,
                allowed: np.ndarray) -> list[tuple[int, float]]:
    scores = index.score_positions(query, np.arange(len(people)))
    ok = allowed & ~people["opted_out"].to_numpy() & ~people["id"].isin(query.exclude).to_numpy()
    order = np.lexsort((np.arange(len(people)), -scores))
    order = order[ok[order]][:k]
    return [(int(people["id"].iloc[i]), float(scores[i])) for i in order]


@pytest.mark.parametrize("seed", range(6))
def test_top_k_equals_scoring_every_candidate(index, population, seed):  # type: ignore[no-untyped-def]
    people, _ = population
    rng = np.random.default_rng(seed)
    for candidate in rng.choice(people["id"], size=15, replace=False):
        query = index.query_for(int(candidate))
        got = [(m.id, m.score) for m in index.top_k(query, k=10)]
        want = brute_force(index, people, query, 10, np.ones(len(people), dtype=bool))
        assert [g[0] for g in got] == [w[0] for w in want]
        assert np.allclose([g[1] for g in got], [w[1] for w in want])


@pytest.mark.parametrize("weights", [
    # Text weighing most: far candidates with the best texts must be found through the texts' lists.
    MatchWeights(offer_answers_request=1.0, region=0.3),
    MatchWeights(similar_activity=0.6, offer_answers_request=0.3, region=0.2, sectors=0.1),
    # Structure only: every text part is 0, the blocks alone decide.
    MatchWeights(offer_answers_request=0, similar_activity=0),
])
@pytest.mark.parametrize(("first_scan", "places_scan"), [(1_024, 20_000), (16, 300)])
def test_top_k_stays_exact_whatever_the_weights(population, weights, first_scan, places_scan):  # type: ignore[no-untyped-def]
    people, _ = population
    # Small scans leave most places unweighed: their candidates must come through the texts' lists.
    index = MatchIndex.build(people, weights=weights, dims=32, first_scan=first_scan, places_scan=places_scan)
    rng = np.random.default_rng(11)
    for candidate in rng.choice(people["id"], size=12, replace=False):
        query = index.query_for(int(candidate))
        for filters, allowed in (
            (None, np.ones(len(people), dtype=bool)),
            (MatchFilters(family="traditional"), (people["family"] == "traditional").to_numpy()),
            (MatchFilters(other_countries=True, area="urban"),
             ((people["country"] != query.country) & (people["urban_rural"] == 1)).to_numpy()),
        ):
            got = [(m.id, m.score) for m in index.top_k(query, k=10, filters=filters)]
            want = brute_force(index, people, query, 10, allowed)
            assert [g[0] for g in got] == [w[0] for w in want]
            assert np.allclose([g[1] for g in got], [w[1] for w in want])


@pytest.mark.parametrize(("filters", "rule"), [
    (MatchFilters(family="social_economy"), lambda p, q: p["family"] == "social_economy"),
    (MatchFilters(family="traditional"), lambda p, q: p["family"] == "traditional"),
    (MatchFilters(other_countries=True), lambda p, q: p["country"] != q.country),
    (MatchFilters(area="rural"), lambda p, q: p["urban_rural"] == 3),
    (MatchFilters(area="urban"), lambda p, q: p["urban_rural"] == 1),
    (MatchFilters(family="traditional", other_countries=True, area="rural"),
     lambda p, q: (p["family"] == "traditional") & (p["country"] != q.country) & (p["urban_rural"] == 3)),
])
def test_filters_keep_exactly_the_allowed_candidates(index, population, filters, rule):  # type: ignore[no-untyped-def]
    people, _ = population
    for candidate in (11, 222, 3333):
        query = index.query_for(candidate)
        got = [m.id for m in index.top_k(query, k=10, filters=filters)]
        want = [i for i, _s in brute_force(index, people, query, 10, rule(people, query).to_numpy())]
        assert got == want
        assert len(got) == 10


def test_cluster_filter_returns_only_members(index, population):  # type: ignore[no-untyped-def]
    _people, members = population
    cluster = int(members["cluster"].value_counts().index[0])
    member_ids = set(members.loc[members["cluster"] == cluster, "organisation"])
    got = index.top_k(index.query_for(5), k=10, filters=MatchFilters(cluster=cluster))
    assert got
    assert {m.id for m in got} <= member_ids
    assert index.top_k(index.query_for(5), k=10, filters=MatchFilters(cluster="no such cluster")) == []


def test_opted_out_and_the_asker_are_never_suggested(index, population):  # type: ignore[no-untyped-def]
    people, _ = population
    opted_out = set(people.loc[people["opted_out"], "id"])
    assert opted_out
    seen: set[int] = set()
    for candidate in people["id"].iloc[:60]:
        ids = {m.id for m in index.top_k(index.query_for(int(candidate)), k=10)}
        assert int(candidate) not in ids
        seen |= ids
    assert not seen & opted_out
    # An opted-out organisation in the asker's own region and sector still stays out.
    twin = people.iloc[[0]].assign(id=-1, opted_out=True)
    small = MatchIndex.build(pd.concat([people.iloc[:50], twin]), dims=8)
    assert -1 not in {m.id for m in small.top_k(small.query_for(int(people["id"].iloc[0])), k=50)}


def test_reasons_explain_the_score_in_plain_words(index):  # type: ignore[no-untyped-def]
    match = index.top_k(index.query_for(42), k=1)[0]
    assert match.reasons
    assert sum(r.contribution for r in match.reasons) == pytest.approx(match.score)
    contributions = [r.contribution for r in match.reasons]
    assert contributions == sorted(contributions, reverse=True)
    assert all(r.text and r.text[0].islower() for r in match.reasons)


def test_a_fresh_query_finds_the_offer_that_answers_it():
    people = pd.DataFrame({
        "id": ["laundry", "bakery", "software"],
        "family": ["social_economy", "social_economy", "traditional"],
        "section": ["N", "C", "J"],
        "offer_text": ["blanchisserie d'insertion, laundry for hotels", "boulangerie bio", "logiciels libres"],
        "country": ["FR", "FR", "FR"],
    })
    index = MatchIndex.build(people)
    best = index.top_k(MatchQuery(seek_text="Wäscherei / laundry services for our hotel", family="traditional"), k=1)
    assert best[0].id == "laundry"
    assert best[0].reasons[0].code in {"offer_answers_request", "pairing"}
    assert {r.code for r in best[0].reasons} >= {"offer_answers_request", "pairing"}


def test_weights_change_the_ranking():
    people = pd.DataFrame({"id": [1, 2, 3], "family": ["traditional", "social_economy", "traditional"],
                           "nuts3": ["FR101", "DE300", "FR101"], "section": ["C", "C", "A"]})
    near = MatchIndex.build(people, weights=MatchWeights(region=1, pairing=0.1, offer_answers_request=0,
                                                         similar_activity=0, sectors=0))
    paired = MatchIndex.build(people, weights=MatchWeights(region=0.1, pairing=1, offer_answers_request=0,
                                                           similar_activity=0, sectors=0))
    assert near.top_k(near.query_for(1), k=1)[0].id == 3
    assert paired.top_k(paired.query_for(1), k=1)[0].id == 2


def test_the_matchmaker_beats_the_baseline_on_hidden_co_memberships(population):  # type: ignore[no-untyped-def]
    people, members = population
    result = evaluate_recall(people, members, max_queries=300, seed=3, dims=32)
    assert result["queries"] == 300
    assert result["recall_matchmaker"] > result["recall_baseline"] + 0.05, result


def test_affinity_learns_complementary_sections():
    affinity = sector_affinity_from_pairs(["F"] * 20 + ["A"], ["M"] * 20 + ["I"])
    assert affinity.loc["F", "M"] == pytest.approx(1.0)
    assert affinity.loc["F", "M"] > affinity.loc["A", "I"] > 0
    assert affinity.loc["F", "Q"] == 0
    assert (affinity.to_numpy() == affinity.to_numpy().T).all()


@pytest.mark.parametrize(("call", "message"), [
    (lambda: MatchIndex.build(pd.DataFrame({"name": ["x"]})), "column 'id' is missing"),
    (lambda: MatchIndex.build(pd.DataFrame({"id": [1, 1]})), "'id' holds 1 more than once"),
    (lambda: MatchIndex.build(pd.DataFrame({"id": [1], "section": ["Z"]})), "column 'section'"),
    (lambda: MatchIndex.build(pd.DataFrame({"id": [1], "family": ["coop"]})), "column 'family'"),
    (lambda: MatchIndex.build(pd.DataFrame({"id": [1], "colour": ["red"]})), "unknown column"),
    (lambda: MatchIndex.build(pd.DataFrame({"id": [1]}), dims=1), "dims"),
    (lambda: MatchIndex.build(pd.DataFrame({"id": [1]}), first_scan=0), "first_scan"),
    (lambda: MatchIndex.build(pd.DataFrame({"id": [1]}), places_scan=2.5), "places_scan"),
    (lambda: MatchIndex.build(pd.DataFrame({"id": [1]}), text_cluster_size=0), "text_cluster_size"),
    (lambda: synthetic_population(10, own_words=-1), "own_words"),
    (lambda: MatchIndex.build(pd.DataFrame({"id": [1]}), sector_affinity=pd.DataFrame([[1]])), "sector_affinity"),
    (lambda: MatchWeights(region=-1), "'region' must be"),
    (lambda: MatchWeights(**dict.fromkeys(MatchWeights().as_dict(), 0)), "at least one weight"),
    (lambda: MatchFilters(family="cooperatives"), "'family'"),
    (lambda: MatchFilters(area="suburban"), "'area'"),
    (lambda: MatchQuery(section="Z"), "'section'"),
    (lambda: sector_affinity_from_pairs(["A"], []), "second_sections"),
])
def test_bad_arguments_are_named(call, message):  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=message):
        call()


def test_bad_query_arguments_are_named(index):  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="k: must be"):
        index.top_k(index.query_for(1), k=0)
    with pytest.raises(ValueError, match="candidate_id"):
        index.query_for(10**9)


def test_batch_suggestions(index, population):  # type: ignore[no-untyped-def]
    people, _ = population
    batch = index.top_k_batch(people["id"].iloc[:20], k=5)
    assert len(batch) == 100
    assert batch.groupby("query")["rank"].apply(list).map(lambda r: r == [1, 2, 3, 4, 5]).all()
    first = index.top_k(index.query_for(int(people["id"].iloc[0])), k=5)
    assert batch[batch["query"] == people["id"].iloc[0]]["id"].tolist() == [m.id for m in first]


@pytest.mark.parametrize("filters", [None, MatchFilters(area="rural", other_countries=True)])
def test_a_batch_answers_as_single_queries_do(index, population, filters):  # type: ignore[no-untyped-def]
    people, _ = population
    ids = people["id"].sample(70, random_state=5).tolist()
    batch = index.top_k_batch(ids, k=10, filters=filters, chunk=32)  # chunks of several sizes
    for candidate in ids:
        single = index.top_k(index.query_for(candidate), k=10, filters=filters)
        rows = batch[batch["query"] == candidate]
        assert rows["id"].tolist() == [m.id for m in single]
        assert rows["score"].tolist() == [m.score for m in single]  # the very same numbers
        assert rows["rank"].tolist() == list(range(1, len(single) + 1))


def test_a_batch_names_an_unknown_candidate(index):  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="candidate_id"):
        index.top_k_batch([1, 10**9])


def test_most_synthetic_texts_are_an_organisations_own(population):  # type: ignore[no-untyped-def]
    people, _ = population
    assert people["offer_text"].nunique() > 0.99 * len(people)
    assert synthetic_population(60_000, own_words=0)[0]["offer_text"].nunique() < 20_000  # templates only
    templated, _ = synthetic_population(6_000, clusters=200, own_words=0, seed=7)
    # The own words come after the same templates: the rest of the population does not change.
    assert all(own.startswith(template) for own, template in zip(people["offer_text"], templated["offer_text"],
                                                                 strict=True))
    assert people.drop(columns=["offer_text", "seek_text"]).equals(templated.drop(columns=["offer_text", "seek_text"]))


def test_word_by_word_tfidf_equals_the_vectoriser(population):  # type: ignore[no-untyped-def]
    people, _ = population
    texts = [*people["offer_text"].iloc[:2_000], "Coopérative  d'insertion\u00a0— Wäscherei\tΣΟΦΟΣ",
             "a \u0301b ﬁne", " "]  # odd spaces, a lone accent, a ligature: folded as the vectoriser does
    space = _TextSpace(texts, dims=32, sample=100_000, random_state=0)
    words, counts = space._words(texts)
    fast = space.tfidf(counts, words)
    slow = space.vectorizer.transform(texts)
    assert fast.shape == slow.shape
    assert abs(fast - slow).max() < 1e-6


def test_text_clusters_bound_every_similarity():
    rng = np.random.default_rng(4)
    vectors = rng.standard_normal((3_000, 16)).astype(np.float32)
    vectors[:1_000] += 3 * rng.standard_normal(16).astype(np.float32)  # one dense group, the rest spread
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors[5] = 0  # an empty text
    clusters = _TextClusters(vectors, size=64, random_state=0)
    assert clusters.count.sum() == 3_000
    assert len(clusters.count) > 20
    assert sorted(clusters.order.tolist()) == list(range(3_000))
    ordered = vectors[clusters.order]
    label = np.repeat(np.arange(len(clusters.count)), clusters.count)
    for query in (*vectors[:3], -vectors[7], np.zeros(16, dtype=np.float32)):
        similarity = np.clip(ordered @ query, 0, 1)
        bound = clusters.bounds(query)
        assert (similarity <= bound[label]).all()
        assert bound.min() < 1  # a bound that says something


def test_a_text_similarity_does_not_depend_on_the_rows_computed_with_it():
    rng = np.random.default_rng(8)
    vectors = rng.standard_normal((5_000, 64)).astype(np.float32)
    query = rng.standard_normal(64).astype(np.float32)
    every = _similarity(vectors, query)
    for rows in (np.arange(3), rng.choice(5_000, 999), np.arange(17, 4_321)):
        assert (_similarity(vectors[rows], query) == every[rows]).all()


@pytest.mark.parametrize("own_words", [0, 3])
@pytest.mark.parametrize("weights", [MatchWeights(), MatchWeights(offer_answers_request=1.0, similar_activity=0.5,
                                                                   region=0.1)])
def test_top_k_is_exact_with_templated_or_own_texts_and_tiny_text_clusters(own_words, weights):  # type: ignore[no-untyped-def]
    people, _ = synthetic_population(4_000, clusters=100, own_words=own_words, seed=12)
    # Clusters of a few texts: many bounds to check, and most text clusters left unvisited.
    index = MatchIndex.build(people, weights=weights, dims=24, text_cluster_size=8, first_scan=64, places_scan=500)
    assert len(index.offer_clusters.count) > len(index.offer_vectors) / 16
    rng = np.random.default_rng(own_words)
    for candidate in rng.choice(people["id"], size=25, replace=False):
        query = index.query_for(int(candidate))
        got = [(m.id, m.score) for m in index.top_k(query, k=10)]
        want = brute_force(index, people, query, 10, np.ones(len(people), dtype=bool))
        assert [g[0] for g in got] == [w[0] for w in want]
        assert np.allclose([g[1] for g in got], [w[1] for w in want])
    # A fresh text, in none of the index's clusters.
    query = index.query_for(int(people["id"].iloc[0]), seek_text="Wäscherei für Hotels, laundry Zuidlandhaven")
    got = [m.id for m in index.top_k(query, k=10)]
    assert got == [i for i, _ in brute_force(index, people, query, 10, np.ones(len(people), dtype=bool))]
