"""Explainable partner matchmaking: an index built once over every candidate, then top-k queries with reasons.

Pure numpy, pandas and scikit-learn: no Django here. The cooperation app turns organisations, their
cooperation profiles and memberships into the candidate table this module reads (one row per
organisation), and the words of the reasons into the page's language.

How a candidate is scored for a query (every part lies in [0, 1] and is multiplied by its weight in
:class:`MatchWeights`; the score is the weighted sum divided by the sum of the weights, so it lies in [0, 1]):

``offer_answers_request``
    Text similarity of what one side seeks and what the other offers (the better of the two directions).
``similar_activity``
    Text similarity of what both sides offer (they do similar things: a partner for a joint bid).
``sectors``
    ``0.75 * affinity[section_q, section_c] + 0.25 * [same NACE division]``; the section affinity is
    learned from known partner pairs (:func:`sector_affinity_from_pairs`) or, without any, 1 for the same
    section and 0 otherwise.
``region``
    1 in the same NUTS 3 region, 0.6 in the same NUTS 2 region, 0.3 in the same country, else 0.
``cross_border``
    In another country: 1 when both sides welcome cross-border cooperation, 0.5 when one does, else 0.
``pairing``
    1 when one side is a social economy organisation and the other a traditional enterprise.
``shared_cluster``
    1 when both are members of one cluster.
``language``
    1 when they share a working language.

Texts are compared as multilingual-friendly TF-IDF vectors of character n-grams (3 to 5 characters within
words, accents stripped, so "coopérative", "cooperativa" and "Kooperative" share most of their n-grams),
reduced to a dense latent space by truncated SVD (latent semantic analysis). The index's distinct texts
(up to one per organisation) are grouped in small clusters of similar texts, each with a centre and a
radius, so that one dot product per cluster bounds the query's similarity to all of its texts: a query
computes exact similarities only for the texts of the clusters that could matter, and for the candidates
it scores.

Queries do not look at every candidate. Candidates are grouped in blocks that share every structured
feature (NACE section and division, NUTS 3 and NUTS 2 region, country, urban-rural type, family, cross-border
wish), so a block's structured score is known at once for a query. The blocks with the best structured
scores are scored whole; any other candidate that could still enter the top k needs a text part above a
threshold, so it is found through the inverted lists of the texts that reach it, among the texts of the
text clusters whose bound reaches it. The answer is exactly the top k of scoring every candidate
(:meth:`MatchIndex.score_positions`).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.preprocessing import normalize

__all__ = [
    "NACE_SECTIONS",
    "Match",
    "MatchFilters",
    "MatchIndex",
    "MatchQuery",
    "MatchWeights",
    "Reason",
    "evaluate_recall",
    "sector_affinity_from_pairs",
    "synthetic_population",
]

NACE_SECTIONS = tuple("ABCDEFGHIJKLMNOPQRSTU")
FAMILIES = ("social_economy", "traditional", "other")
REGION_SCORES = {"nuts3": 1.0, "nuts2": 0.6, "country": 0.3}
SECTION_SHARE, DIVISION_SHARE = 0.75, 0.25
URBAN_RURAL_CODES = (0, 1, 2, 3)  # 0 unknown, then Eurostat's 1 urban, 2 intermediate, 3 rural
_NO = -1


@dataclass(frozen=True)
class MatchWeights:
    """How much each part of the score counts; any non-negative numbers, not all zero.

    The defaults weigh proximity most (clusters are geographic: with text and sectors weighing more
    than the region, recall@10 of hidden co-memberships fell below the same-section-same-region baseline
    in the offline evaluation), then an offer that answers a request and complementary sectors; the
    secretariat tunes them (the cooperation app stores them in the database).
    """

    offer_answers_request: float = 0.20
    similar_activity: float = 0.05
    sectors: float = 0.20
    region: float = 0.30
    cross_border: float = 0.05
    pairing: float = 0.10
    shared_cluster: float = 0.05
    language: float = 0.05

    def __post_init__(self) -> None:
        for name, value in self.as_dict().items():
            if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                raise ValueError(f"weights: '{name}' must be a finite number >= 0, got {value!r}")
        if self.total() <= 0:
            raise ValueError("weights: at least one weight must be above 0")

    def as_dict(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def total(self) -> float:
        return float(sum(self.as_dict().values()))

    def normalised(self) -> dict[str, float]:
        total = self.total()
        return {name: value / total for name, value in self.as_dict().items()}


@dataclass(frozen=True)
class MatchFilters:
    """Which candidates may be suggested.

    ``family``: ``"any"``, ``"social_economy"`` or ``"traditional"``; ``other_countries``: only candidates
    in another country than the query's; ``area``: ``"any"``, ``"rural"`` (predominantly rural NUTS 3
    regions) or ``"urban"`` (predominantly urban); ``cluster``: only members of this cluster.
    """

    family: Literal["any", "social_economy", "traditional"] = "any"
    other_countries: bool = False
    area: Literal["any", "rural", "urban"] = "any"
    cluster: Hashable | None = None

    def __post_init__(self) -> None:
        if self.family not in ("any", "social_economy", "traditional"):
            raise ValueError(f"filters: 'family' must be any, social_economy or traditional, got {self.family!r}")
        if self.area not in ("any", "rural", "urban"):
            raise ValueError(f"filters: 'area' must be any, rural or urban, got {self.area!r}")


@dataclass(frozen=True)
class MatchQuery:
    """What partners are sought for: an organisation, a cooperation profile or a procurement opportunity."""

    offer_text: str = ""
    seek_text: str = ""
    section: str = ""
    division: str = ""
    nuts3: str = ""
    nuts2: str = ""
    country: str = ""
    family: str = "other"
    languages: tuple[str, ...] = ()
    cross_border: bool = False
    clusters: tuple[Hashable, ...] = ()
    exclude: tuple[Hashable, ...] = ()  # candidate ids never suggested (the asking organisation itself)

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"query: 'family' must be one of {', '.join(FAMILIES)}, got {self.family!r}")
        if self.section and self.section not in NACE_SECTIONS:
            raise ValueError(f"query: 'section' must be a NACE section letter A to U, got {self.section!r}")


@dataclass(frozen=True)
class Reason:
    """One reason a candidate is suggested: a stable code, its words, what it adds to the score."""

    code: str
    text: str
    contribution: float
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Match:
    id: Hashable
    score: float
    parts: dict[str, float]  # each part of the score before weighting, in [0, 1]
    reasons: tuple[Reason, ...]


# --- helpers ----------------------------------------------------------------------------------------------


def _codes(values: pd.Series, vocabulary: dict[str, int], *, grow: bool) -> np.ndarray:
    """Integer codes of strings ("" → -1); new strings extend the vocabulary when ``grow``."""
    out = np.full(len(values), _NO, dtype=np.int32)
    uniques, inverse = np.unique(values.to_numpy(dtype=object).astype(str), return_inverse=True)
    mapped = np.empty(len(uniques), dtype=np.int32)
    for i, value in enumerate(uniques):
        if value == "":
            mapped[i] = _NO
        elif value in vocabulary:
            mapped[i] = vocabulary[value]
        elif grow:
            mapped[i] = vocabulary[value] = len(vocabulary)
        else:
            mapped[i] = _NO
    if len(values):
        out = mapped[inverse.reshape(-1)]
    return out


def _as_list(value: Any) -> list[Any]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return list(value)


def _section_index(values: pd.Series, column: str) -> np.ndarray:
    text = values.fillna("").astype(str).str.strip().str.upper()
    bad = ~text.isin(["", *NACE_SECTIONS])
    if bad.any():
        first = text[bad].iloc[0]
        raise ValueError(f"candidates: column '{column}' holds {first!r}, not a NACE section letter A to U")
    lookup = {letter: i for i, letter in enumerate(NACE_SECTIONS)}
    return np.array([lookup.get(v, _NO) for v in text], dtype=np.int32)


def sector_affinity_from_pairs(
    first_sections: Sequence[str] | pd.Series, second_sections: Sequence[str] | pd.Series, *, smoothing: float = 1.0
) -> pd.DataFrame:
    """Learn how strongly NACE sections attract each other from known partner pairs.

    For sections *s* and *t*, the lift of their pairs over chance, with additive ``smoothing``,
    :math:`\\mathrm{lift}_{st} = \\frac{(c_{st} + \\alpha)(T + 441\\alpha)}{(n_s + 21\\alpha)(n_t + 21\\alpha)}`,
    where :math:`c_{st}` counts the pairs (both orders), :math:`n_s` the pair ends in *s* and *T* all pair
    ends; the affinity is :math:`\\max(0, \\log \\mathrm{lift})` divided by its largest value, so 1 marks
    the strongest link and 0 a link no likelier than chance. Pairs with an unknown section are left out.

    Parameters
    ----------
    first_sections, second_sections : sequence of str
        The NACE section letters of both ends of each pair (same length).
    smoothing : float, default 1.0
        Pseudo-count added to every cell (> 0), so that rare sections do not get extreme lifts.

    Returns
    -------
    pandas.DataFrame
        21 x 21, indexed and labelled by section letter A to U, symmetric, values in [0, 1]; the identity
        when no pair has two known sections.

    Raises
    ------
    ValueError
        If the inputs differ in length, hold something else than a section letter, or ``smoothing`` <= 0.

    Examples
    --------
    >>> affinity = sector_affinity_from_pairs(["C", "C", "C", "Q"], ["N", "N", "N", "Q"])
    >>> round(float(affinity.loc["C", "N"]), 2), round(float(affinity.loc["N", "C"]), 2)
    (1.0, 1.0)
    >>> float(affinity.loc["C", "A"])
    0.0
    """
    first = pd.Series(list(first_sections), dtype=object)
    second = pd.Series(list(second_sections), dtype=object)
    if len(first) != len(second):
        raise ValueError(f"second_sections: length {len(second)} differs from first_sections' {len(first)}")
    if not (isinstance(smoothing, int | float) and smoothing > 0 and math.isfinite(smoothing)):
        raise ValueError(f"smoothing: must be a finite number > 0, got {smoothing!r}")
    a = _section_index(first, "first_sections")
    b = _section_index(second, "second_sections")
    known = (a >= 0) & (b >= 0)
    size = len(NACE_SECTIONS)
    if not known.any():
        return pd.DataFrame(np.eye(size), index=list(NACE_SECTIONS), columns=list(NACE_SECTIONS))
    counts = np.zeros((size, size))
    np.add.at(counts, (a[known], b[known]), 1.0)
    counts = counts + counts.T
    ends = counts.sum(axis=1)
    total = ends.sum()
    lift = (counts + smoothing) * (total + size * size * smoothing) / np.outer(ends + size * smoothing,
                                                                              ends + size * smoothing)
    affinity = np.clip(np.log(lift), 0.0, None)
    top = affinity.max()
    affinity = affinity / top if top > 0 else np.eye(size)
    return pd.DataFrame(affinity, index=list(NACE_SECTIONS), columns=list(NACE_SECTIONS))


# --- the text space ---------------------------------------------------------------------------------------


class _TextSpace:
    """TF-IDF of character n-grams, reduced by truncated SVD when there are many texts; unit-length rows.

    With at most ``10 * dims`` distinct texts among at most 100,000, the TF-IDF vectors are kept whole
    (exact cosine, no latent space to estimate from too few texts). Identical texts are embedded once.

    The vocabulary and the IDF are learned by scikit-learn's vectoriser; texts are then weighed word by
    word (:meth:`tfidf`), the same numbers as its ``transform`` many times faster: a million texts
    written in a few tens of thousands of distinct words cost one sparse product instead of a Python loop
    over every character n-gram of every text.
    """

    def __init__(self, texts: Sequence[str], *, dims: int, sample: int, random_state: int) -> None:
        unique = pd.unique(pd.Series([t for t in texts if t], dtype=object))
        rng = np.random.default_rng(random_state)
        fit_on = unique if len(unique) <= sample else rng.choice(unique, size=sample, replace=False)
        self.vectorizer: TfidfVectorizer | None = None
        self.counter: CountVectorizer | None = None
        self.idf = np.zeros(0, dtype=np.float32)
        self._word_ngrams: tuple[pd.Index, sparse.csr_matrix] | None = None
        self.svd: TruncatedSVD | None = None
        self.dims = 1
        if len(fit_on) == 0:
            return
        self.vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), strip_accents="unicode",
                                          lowercase=True, sublinear_tf=True, dtype=np.float32)
        matrix = self.vectorizer.fit_transform(fit_on)
        # The same analysis with raw counts, for the word-by-word weighing.
        self.idf = self.vectorizer.idf_.astype(np.float32)
        self.counter = CountVectorizer(analyzer="char_wb", ngram_range=(3, 5), strip_accents="unicode",
                                       lowercase=True, vocabulary=self.vectorizer.vocabulary_, dtype=np.float32)
        n_features = matrix.shape[1]
        components = min(dims, n_features - 1, matrix.shape[0] - 1)
        # Whole TF-IDF vectors cost one multiplication per n-gram for every candidate scored: only for
        # small indexes; a big index with few distinct texts (templates) still gets the latent space.
        if components >= 2 and (len(unique) > 10 * dims or len(texts) > 100_000):
            self.svd = TruncatedSVD(n_components=components, random_state=random_state, algorithm="randomized")
            self.svd.fit(matrix)
            self.dims = components
        else:  # too few texts for a latent space: the TF-IDF vectors themselves
            self.dims = n_features

    def embed(self, texts: Sequence[str] | pd.Series, *,
              chunk: int = 50_000) -> tuple[np.ndarray, np.ndarray, pd.Index]:
        """Codes (one per text) into unit vectors (one per distinct text), and the distinct texts."""
        series = pd.Series(texts, dtype=object).fillna("").astype(str)
        codes, uniques = pd.factorize(series)
        vectors = np.zeros((len(uniques), self.dims), dtype=np.float32)
        if self.vectorizer is not None:
            words, word_counts = self._words(uniques)
            for start in range(0, len(uniques), chunk):
                part = self.tfidf(word_counts[start:start + chunk], words)
                vectors[start:start + chunk] = part @ self.svd.components_.T if self.svd is not None \
                    else part.toarray()
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        np.divide(vectors, norms, out=vectors, where=norms > 0)
        return codes.astype(np.int64), vectors, pd.Index(uniques)

    @staticmethod
    def _words(texts: Sequence[str] | pd.Index) -> tuple[pd.Index, sparse.csr_matrix]:
        """The distinct whitespace-separated words of ``texts``, and how often each text holds each word
        (a texts x words count matrix)."""
        split = pd.Series(np.asarray(texts, dtype=object)).str.split()
        lengths = split.str.len().to_numpy(np.int64)
        flat = split.explode().dropna()
        word_codes, words = pd.factorize(flat)
        counts = sparse.csr_matrix((np.ones(len(word_codes), dtype=np.float32),
                                    (np.repeat(np.arange(len(texts)), lengths), word_codes)),
                                   shape=(len(texts), len(words)))
        return words, counts

    def tfidf(self, word_counts: sparse.csr_matrix, words: pd.Index) -> sparse.csr_matrix:
        """The vectoriser's TF-IDF rows (sublinear tf, IDF, unit length) from texts' word counts.

        The ``char_wb`` analyser pads and cuts each whitespace-separated word on its own, after accents and
        case are folded character by character, so a text's n-gram counts are the sum of its words'.
        """
        if self.counter is None:  # nothing was learned: no n-gram, no weight
            return sparse.csr_matrix((word_counts.shape[0], 0), dtype=np.float32)
        if self._word_ngrams is None or self._word_ngrams[0] is not words:
            self._word_ngrams = (words, self.counter.transform(words).tocsr())
        matrix = (word_counts @ self._word_ngrams[1]).tocsr()  # a product holds each n-gram once per row
        np.log(matrix.data, out=matrix.data)
        matrix.data += 1.0
        matrix.data *= self.idf[matrix.indices]
        return normalize(matrix, norm="l2", copy=False)

    def embed_one(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dims, dtype=np.float32)
        if not text or self.vectorizer is None:
            return vector
        words, counts = self._words([text])
        part = self.tfidf(counts, words)
        if self.svd is not None:
            vector[:] = (part @ self.svd.components_.T).ravel()
        else:
            vector[:] = part.toarray().ravel()
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm > 0 else vector


def _nearest(points: np.ndarray, centres: np.ndarray, chunk: int = 65_536) -> np.ndarray:
    """The nearest centre (Euclidean) of each point, by chunks so that the distances stay small in memory."""
    half_norms = 0.5 * np.einsum("ij,ij->i", centres, centres)
    out = np.empty(len(points), dtype=np.int64)
    for start in range(0, len(points), chunk):
        out[start:start + chunk] = np.argmax(points[start:start + chunk] @ centres.T - half_norms, axis=1)
    return out


def _kmeans(points: np.ndarray, k: int, rng: np.random.Generator, *, iterations: int = 8) -> np.ndarray:
    """k centres from a few Lloyd iterations on a sample of the points (about 40 per centre)."""
    if k >= len(points):
        return points.astype(np.float64)
    sample = points[rng.choice(len(points), size=min(len(points), 40 * k), replace=False)].astype(np.float64)
    centres = sample[rng.choice(len(sample), size=k, replace=False)]
    for _ in range(iterations):
        label = _nearest(sample, centres)
        counts = np.bincount(label, minlength=k)
        sums = np.zeros_like(centres)
        np.add.at(sums, label, sample)
        filled = counts > 0  # an empty centre keeps its place
        centres[filled] = sums[filled] / counts[filled, np.newaxis]
    return centres


class _TextClusters:
    """The distinct texts' unit vectors grouped in small clusters, each a centre and a radius.

    For a query vector q and any text x of a cluster with centre c and radius r (the farthest member),
    ``q·x = q·c + q·(x − c) <= q·c + ‖q‖ r`` (Cauchy–Schwarz): one product per cluster bounds the
    similarity of all its texts, so a query computes exact similarities only for the texts of the
    clusters whose bound reaches its threshold. How well the texts are clustered changes the speed, never
    the answers. Two levels of k-means (about sqrt(clusters) coarse groups, each split in clusters of
    about ``size`` texts) keep the build to a few passes over the texts.
    """

    def __init__(self, vectors: np.ndarray, *, size: int, random_state: int) -> None:
        n = len(vectors)
        rng = np.random.default_rng(random_state)
        total = max(1, math.ceil(n / size))
        coarse = _nearest(vectors, _kmeans(vectors, math.ceil(math.sqrt(total)), rng).astype(np.float32))
        label = np.zeros(n, dtype=np.int64)
        used = 0
        by_group = np.argsort(coarse, kind="stable")
        for members in np.split(by_group, np.flatnonzero(np.diff(coarse[by_group])) + 1):
            if not len(members):
                continue
            fine_k = max(1, math.ceil(len(members) / size))
            fine = np.zeros(len(members), dtype=np.int64) if fine_k == 1 else _nearest(
                vectors[members], _kmeans(vectors[members], fine_k, rng).astype(np.float32))
            _, fine = np.unique(fine, return_inverse=True)  # number the non-empty clusters only
            label[members] = used + fine
            used += int(fine.max()) + 1
        #: Texts renumbered so that each cluster's texts follow each other: ``order[new] = old``.
        self.order = np.argsort(label, kind="stable")
        label = label[self.order]
        self.count = np.bincount(label, minlength=used).astype(np.int64)
        self.start = np.cumsum(self.count) - self.count
        ordered = vectors[self.order]
        sums = (np.add.reduceat(ordered.astype(np.float64), self.start, axis=0) if n
                else np.zeros((0, vectors.shape[1])))
        self.centres = (sums / np.maximum(self.count, 1)[:, np.newaxis]).astype(np.float32)
        distance = np.empty(n)
        for start in range(0, n, 65_536):  # by chunks: a million rows of float64 would take half a GiB
            part = ordered[start:start + 65_536].astype(np.float64) - self.centres[label[start:start + 65_536]]
            distance[start:start + 65_536] = np.sqrt(np.einsum("ij,ij->i", part, part))
        # The similarities are float32 sums of 64 or so products: a margin covers their rounding.
        self.radius = np.maximum.reduceat(distance, self.start) + 1e-5 if n else np.zeros(0)
        self.candidates = np.zeros(used)  # active candidates per cluster, set by the index

    def bounds(self, query: np.ndarray) -> np.ndarray:
        """An upper bound of the (clipped) similarity of ``query`` to each cluster's texts."""
        return np.clip(self.centres @ query.astype(np.float64) + float(np.linalg.norm(query)) * self.radius,
                       0.0, 1.0)


def _similarity(vectors: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Clipped cosine similarity of unit rows to a unit query: the one computation of every text part.

    einsum on float32 gives a row the same value whatever rows come with it (checked by the tests), so a
    candidate scores the same however it is reached, and a batch as single queries do.
    """
    return np.clip(np.einsum("ij,j->i", vectors, query), 0.0, 1.0)


# --- the index --------------------------------------------------------------------------------------------

CANDIDATE_COLUMNS = {
    "id": "identifier (unique)",
    "family": "social_economy, traditional or other",
    "section": "NACE section letter",
    "division": "NACE division (two digits)",
    "nuts3": "NUTS 3 code",
    "nuts2": "NUTS 2 code",
    "country": "country code",
    "urban_rural": "1 urban, 2 intermediate, 3 rural, 0 or empty unknown",
    "languages": "list (or comma-separated string) of language codes",
    "cross_border": "welcomes cross-border cooperation (bool)",
    "offer_text": "what it offers or does (text)",
    "seek_text": "what it seeks (text)",
    "clusters": "list of cluster identifiers it belongs to",
    "opted_out": "never suggested (bool)",
}


class _Best:
    """The k best candidates seen so far, best first (ties: the earlier row first)."""

    def __init__(self, k: int) -> None:
        self.k = k
        self.positions = np.zeros(0, dtype=np.int64)
        self.scores = np.zeros(0)

    def add(self, positions: np.ndarray, scores: np.ndarray) -> None:
        """Merge scored candidates in (one seen twice keeps one place: its score is the same both times)."""
        all_positions, unique_at = np.unique(np.concatenate([self.positions, positions]), return_index=True)
        all_scores = np.concatenate([self.scores, scores])[unique_at]
        keep = np.lexsort((all_positions, -all_scores))[:self.k]
        self.positions, self.scores = all_positions[keep], all_scores[keep]


class MatchIndex:
    """The matchmaking index: build once with :meth:`build`, then ask :meth:`top_k` as often as needed.

    Examples
    --------
    >>> candidates = pd.DataFrame({
    ...     "id": [1, 2, 3, 4],
    ...     "family": ["social_economy", "traditional", "traditional", "social_economy"],
    ...     "section": ["Q", "C", "C", "A"],
    ...     "nuts3": ["FR101", "FR101", "DE300", "ITC11"],
    ...     "nuts2": ["FR10", "FR10", "DE30", "ITC1"],
    ...     "country": ["FR", "FR", "DE", "IT"],
    ...     "offer_text": ["work integration laundry, blanchisserie d'insertion", "textile workshop",
    ...                    "Textilwerkstatt", "organic vegetables"],
    ...     "seek_text": ["", "laundry services for work uniforms", "", ""],
    ...     "languages": [["fr"], ["fr", "en"], ["de"], ["it"]],
    ... })
    >>> index = MatchIndex.build(candidates)
    >>> best = index.top_k(index.query_for(2), k=2)
    >>> [m.id for m in best]
    [1, 3]
    >>> [r.code for r in best[0].reasons][:4]
    ['same_region', 'pairing', 'language', 'offer_answers_request']
    >>> best[0].reasons[0].text
    'same region (FR101)'
    >>> [m.id for m in index.top_k(index.query_for(2), k=3, filters=MatchFilters(other_countries=True))]
    [3, 4]
    >>> index.top_k_batch([2, 3], k=2)[["query", "rank", "id"]].to_numpy().tolist()
    [[2, 1, 1], [2, 2, 3], [3, 1, 2], [3, 2, 1]]
    """

    # -- building --

    @classmethod
    def build(cls, candidates: pd.DataFrame, **options: Any) -> MatchIndex:
        """Build the index (the same as ``MatchIndex(candidates, **options)``; see :meth:`__init__`)."""
        return cls(candidates, **options)

    def __init__(  # noqa: PLR0912, PLR0915 - one check and one column per input field, in order
        self,
        candidates: pd.DataFrame,
        *,
        weights: MatchWeights | None = None,
        sector_affinity: pd.DataFrame | None = None,
        dims: int = 64,
        text_sample: int = 100_000,
        random_state: int = 0,
        first_scan: int = 1_024,
        places_scan: int = 20_000,
        text_cluster_size: int = 256,
    ) -> None:
        """Build the index over every candidate (opted-out candidates are kept out of every answer).

        Parameters
        ----------
        candidates : pandas.DataFrame
            One row per candidate. Only ``id`` is required; the other columns of ``CANDIDATE_COLUMNS``
            default to unknown, empty or false.
        weights : MatchWeights, optional
            The defaults of :class:`MatchWeights` when omitted.
        sector_affinity : pandas.DataFrame, optional
            21 x 21 section affinity in [0, 1] (as from :func:`sector_affinity_from_pairs`); the identity
            when omitted.
        dims : int, default 64
            Size of the latent text space (at least 2).
        text_sample : int, default 100,000
            At most this many distinct texts fit the TF-IDF vocabulary and the SVD; all are embedded.
        random_state : int, default 0
            Seed of the sample and of the randomised SVD.
        first_scan, places_scan : int, default 1,024 and 20,000
            How a query starts (they change its speed, never its answer): it weighs the blocks of the
            places that may score best, about ``places_scan`` candidates, and scores whole the best blocks
            among them, about ``first_scan`` candidates, before it prunes.
        text_cluster_size : int, default 256
            About how many distinct texts share a text cluster (see the module's description); changes
            the speed of queries and of the build, never an answer.

        Raises
        ------
        ValueError
            Naming the argument or column at fault: a missing ``id`` column, duplicate ids, an unknown
            family, a section that is not a letter A to U, an affinity matrix of the wrong shape.
        """
        started = time.perf_counter()
        if not isinstance(candidates, pd.DataFrame):
            raise ValueError(f"candidates: must be a pandas DataFrame, got {type(candidates).__name__}")
        if "id" not in candidates.columns:
            raise ValueError("candidates: column 'id' is missing")
        unknown = set(candidates.columns) - set(CANDIDATE_COLUMNS)
        if unknown:
            raise ValueError(f"candidates: unknown column(s) {', '.join(sorted(map(str, unknown)))}")
        if candidates["id"].duplicated().any():
            duplicate = candidates["id"][candidates["id"].duplicated()].iloc[0]
            raise ValueError(f"candidates: column 'id' holds {duplicate} more than once")
        if not isinstance(dims, int) or dims < 2:
            raise ValueError(f"dims: must be an integer >= 2, got {dims!r}")
        for name, value in (("first_scan", first_scan), ("places_scan", places_scan),
                            ("text_cluster_size", text_cluster_size)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name}: must be a whole number >= 1, got {value!r}")
        self.first_scan, self.places_scan = first_scan, places_scan
        self.weights = weights or MatchWeights()
        if not isinstance(self.weights, MatchWeights):
            raise ValueError("weights: must be a MatchWeights")
        self.affinity = self._check_affinity(sector_affinity)
        n = len(candidates)
        frame = candidates.reset_index(drop=True)

        def column(name: str, default: Any) -> pd.Series:
            return frame[name] if name in frame.columns else pd.Series([default] * n, dtype=object)

        self.ids = frame["id"].to_numpy()
        self._position = pd.Index(self.ids)
        family = column("family", "other").fillna("other").astype(str)
        bad = ~family.isin(FAMILIES)
        if bad.any():
            raise ValueError(f"candidates: column 'family' holds {family[bad].iloc[0]!r}; use "
                             f"{', '.join(FAMILIES)}")
        self.family = family.map({name: i for i, name in enumerate(FAMILIES)}).to_numpy(np.int8)
        self.section = _section_index(column("section", ""), "section").astype(np.int8)
        self.division_vocab: dict[str, int] = {}
        self.division = _codes(column("division", "").fillna("").astype(str), self.division_vocab, grow=True)
        self.region_vocab: dict[str, int] = {}
        self.nuts3 = _codes(column("nuts3", "").fillna("").astype(str), self.region_vocab, grow=True)
        nuts2_text = column("nuts2", "").fillna("").astype(str)
        nuts3_text = column("nuts3", "").fillna("").astype(str)
        nuts2_text = nuts2_text.where(nuts2_text != "", nuts3_text.str[:4])
        self.nuts2 = _codes(nuts2_text, self.region_vocab, grow=True)
        self.country_vocab: dict[str, int] = {}
        country_text = column("country", "").fillna("").astype(str)
        country_text = country_text.where(country_text != "", nuts3_text.str[:2])
        self.country = _codes(country_text, self.country_vocab, grow=True)
        urban = pd.to_numeric(column("urban_rural", 0), errors="coerce").fillna(0)
        if not urban.isin(URBAN_RURAL_CODES).all():
            raise ValueError("candidates: column 'urban_rural' must hold 1, 2, 3, or 0/empty for unknown")
        self.urban_rural = urban.to_numpy(np.int8)
        self.cross_border = column("cross_border", False).fillna(False).astype(bool).to_numpy()
        opted_out = column("opted_out", False).fillna(False).astype(bool).to_numpy()
        self.language_vocab: dict[str, int] = {}
        languages = [_as_list(v) for v in column("languages", None)]
        self.languages = np.zeros(n, dtype=np.int64)
        for i, langs in enumerate(languages):
            mask = 0
            for lang in langs:
                code = self.language_vocab.setdefault(str(lang).lower(), len(self.language_vocab))
                if code >= 63:
                    raise ValueError("candidates: column 'languages' names more than 63 distinct languages")
                mask |= 1 << code
            self.languages[i] = mask
        # Cluster membership: the members of each cluster, as candidate positions.
        self.cluster_members: dict[Hashable, np.ndarray] = {}
        lists = [_as_list(v) for v in column("clusters", None)]
        members: dict[Hashable, list[int]] = {}
        for i, clusters in enumerate(lists):
            for cluster in clusters:
                members.setdefault(cluster, []).append(i)
        self.cluster_members = {c: np.asarray(p, dtype=np.int64) for c, p in members.items()}
        self.clusters_of = lists
        # Texts.
        offers = column("offer_text", "").fillna("").astype(str)
        seeks = column("seek_text", "").fillna("").astype(str)
        self.text_space = _TextSpace(pd.concat([offers, seeks]).tolist(), dims=dims, sample=text_sample,
                                     random_state=random_state)
        self.offer_codes, self.offer_vectors, self._offer_texts, self.offer_clusters = self._embed(
            offers, text_cluster_size, random_state)
        self.seek_codes, self.seek_vectors, self._seek_texts, self.seek_clusters = self._embed(
            seeks, text_cluster_size, random_state)
        self._offer_text = offers.to_numpy(dtype=object)
        self._seek_text = seeks.to_numpy(dtype=object)
        # Blocks: candidates that share every structured feature, so that the structured part of the score
        # is the same for a whole block (but for languages: the block keeps the union of its members').
        self.active = ~opted_out
        active = np.flatnonzero(self.active)
        # Place columns first: the blocks of one place (and cross-border wish) follow each other.
        features = pd.DataFrame({"country": self.country[active], "nuts2": self.nuts2[active],
                                 "nuts3": self.nuts3[active], "urban": self.urban_rural[active],
                                 "cross": self.cross_border[active], "section": self.section[active],
                                 "division": self.division[active], "family": self.family[active]})
        block_of = features.groupby(list(features.columns), sort=True).ngroup().to_numpy(np.int64)
        n_blocks = int(block_of.max()) + 1 if len(block_of) else 0
        self.block_of = np.full(n, _NO, dtype=np.int64)
        self.block_of[active] = block_of
        self.order = active[np.argsort(block_of, kind="stable")].astype(np.int64)
        counts = np.bincount(block_of, minlength=n_blocks).astype(np.int64)
        self.block_start = (np.cumsum(counts) - counts).astype(np.int64)
        self.block_len = counts
        first = self.order[self.block_start] if len(self.order) else np.zeros(0, dtype=np.int64)
        self.block_section = self.section[first]
        self.block_division = self.division[first]
        self.block_nuts3 = self.nuts3[first]
        self.block_nuts2 = self.nuts2[first]
        self.block_country = self.country[first]
        self.block_family = self.family[first]
        self.block_cross = self.cross_border[first]
        self.block_urban = self.urban_rural[first]
        self.block_languages = np.zeros(n_blocks, dtype=np.int64)
        np.bitwise_or.at(self.block_languages, block_of, self.languages[active])
        # A block's structured score is the sum of three looked-up values, computed by each query once for
        # each distinct (place, cross-border wish), (sector, family) and set of languages, not per block.
        self.block_place, first = self._groups(self.block_nuts3, self.block_nuts2, self.block_country,
                                               self.block_urban, self.block_cross)
        self.place_nuts3, self.place_nuts2 = self.block_nuts3[first], self.block_nuts2[first]
        self.place_country, self.place_urban = self.block_country[first], self.block_urban[first]
        self.place_cross = self.block_cross[first]
        self.place_blocks = np.bincount(self.block_place, minlength=len(first)).astype(np.int64)
        self.place_first_block = first.astype(np.int64)
        self.place_size = np.bincount(self.block_place, weights=self.block_len, minlength=len(first))
        self.block_kind, first = self._groups(self.block_section, self.block_division, self.block_family)
        self.kind_section, self.kind_division = self.block_section[first], self.block_division[first]
        self.kind_family = self.block_family[first]
        self.block_language_set, first = self._groups(self.block_languages)
        self.language_sets = self.block_languages[first]
        # Inverted lists: the active candidates of each distinct offer text and of each distinct seek text.
        self.offer_lists = self._inverted(self.offer_codes, len(self.offer_vectors))
        self.seek_lists = self._inverted(self.seek_codes, len(self.seek_vectors))
        for text_clusters, (_, _, counts) in ((self.offer_clusters, self.offer_lists),
                                              (self.seek_clusters, self.seek_lists)):
            text_clusters.candidates = (np.add.reduceat(counts, text_clusters.start).astype(float) if len(counts)
                                        else np.zeros(0))
        self._inverses: dict[str, dict[int, str]] = {}
        # Hash the distinct texts and the ids now: the first query would otherwise wait for it (most of a
        # second for a million texts).
        for texts in (self._offer_texts, self._seek_texts, self._position):
            if len(texts):
                texts.get_loc(texts[0])
        self.build_seconds = time.perf_counter() - started

    def _embed(self, texts: pd.Series, size: int,
               random_state: int) -> tuple[np.ndarray, np.ndarray, pd.Index, _TextClusters]:
        """Codes, unit vectors and distinct texts as :meth:`_TextSpace.embed`, renumbered so that the texts of
        each of their clusters follow each other, and the clusters."""
        codes, vectors, distinct = self.text_space.embed(texts)
        clusters = _TextClusters(vectors, size=size, random_state=random_state)
        renumber = np.empty(len(vectors), dtype=np.int64)
        renumber[clusters.order] = np.arange(len(vectors))
        return renumber[codes], vectors[clusters.order], distinct[clusters.order], clusters

    @staticmethod
    def _groups(*columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Group number of each row by the given columns, and the first row of each group."""
        if not len(columns[0]):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        frame = pd.DataFrame({str(i): c for i, c in enumerate(columns)})
        group = frame.groupby(list(frame.columns), sort=False).ngroup().to_numpy(np.int64)
        _, first = np.unique(group, return_index=True)
        return group, first

    def _inverted(self, codes: np.ndarray, distinct: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(positions sorted by text code, start of each code, count of each code), active candidates only."""
        active = np.flatnonzero(self.active)
        positions = active[np.argsort(codes[active], kind="stable")]
        counts = np.bincount(codes[positions], minlength=distinct).astype(np.int64)
        return positions, np.cumsum(counts) - counts, counts

    @staticmethod
    def _check_affinity(affinity: pd.DataFrame | None) -> np.ndarray:
        if affinity is None:
            return np.eye(len(NACE_SECTIONS))
        if not isinstance(affinity, pd.DataFrame) or affinity.shape != (21, 21):
            raise ValueError("sector_affinity: must be a 21 x 21 DataFrame indexed by section letters A to U")
        matrix = affinity.reindex(index=list(NACE_SECTIONS), columns=list(NACE_SECTIONS)).to_numpy(float)
        if np.isnan(matrix).any() or (matrix < 0).any() or (matrix > 1).any():
            raise ValueError("sector_affinity: values must lie in [0, 1], labelled by section letters A to U")
        return matrix

    def __len__(self) -> int:
        return len(self.ids)

    # -- queries --

    def query_for(self, candidate_id: Hashable, **changes: Any) -> MatchQuery:
        """The query that asks for partners of one candidate (which is then excluded from its answers)."""
        try:
            i = int(self._position.get_loc(candidate_id))
        except KeyError:
            raise ValueError(f"candidate_id: {candidate_id!r} is not in the index") from None
        regions = self._inverse("region")
        languages = self._inverse("language")
        fields: dict[str, Any] = {
            "offer_text": self._offer_text[i],
            "seek_text": self._seek_text[i],
            "section": NACE_SECTIONS[self.section[i]] if self.section[i] >= 0 else "",
            "division": self._inverse("division").get(int(self.division[i]), ""),
            "nuts3": regions.get(int(self.nuts3[i]), ""),
            "nuts2": regions.get(int(self.nuts2[i]), ""),
            "country": self._inverse("country").get(int(self.country[i]), ""),
            "family": FAMILIES[self.family[i]],
            "languages": tuple(languages[b] for b in range(63) if int(self.languages[i]) >> b & 1),
            "cross_border": bool(self.cross_border[i]),
            "clusters": tuple(self.clusters_of[i]),
            "exclude": (candidate_id,),
        }
        fields.update(changes)
        return MatchQuery(**fields)

    def _inverse(self, name: str) -> dict[int, str]:
        """Code → value of one vocabulary (they do not change after the build, so each is inverted once)."""
        if name not in self._inverses:
            vocabulary: dict[str, int] = getattr(self, f"{name}_vocab")
            self._inverses[name] = {code: value for value, code in vocabulary.items()}
        return self._inverses[name]

    def _prepare(self, query: MatchQuery) -> dict[str, Any]:
        """The query in the index's codes, with the unit vectors of its texts."""
        if not isinstance(query, MatchQuery):
            raise ValueError(f"query: must be a MatchQuery, got {type(query).__name__}")
        nuts2 = query.nuts2 or query.nuts3[:4]
        country = query.country or query.nuts3[:2]
        mask = 0
        for lang in query.languages:
            code = self.language_vocab.get(str(lang).lower())
            if code is not None:
                mask |= 1 << code
        clusters = [self.cluster_members[c] for c in query.clusters if c in self.cluster_members]
        pool = np.unique(np.concatenate(clusters)) if clusters else np.zeros(0, dtype=np.int64)
        excluded = [int(self._position.get_loc(e)) for e in query.exclude if e in self._position]
        return {
            "section": NACE_SECTIONS.index(query.section) if query.section else _NO,
            "division": self.division_vocab.get(query.division, -2) if query.division else -2,
            "nuts3": self.region_vocab.get(query.nuts3, -2) if query.nuts3 else -2,
            "nuts2": self.region_vocab.get(nuts2, -2) if nuts2 else -2,
            "country": self.country_vocab.get(country, -2) if country else -2,
            "family": FAMILIES.index(query.family),
            "languages": mask,
            "cross_border": query.cross_border,
            "offer_vector": self._vector(query.offer_text), "seek_vector": self._vector(query.seek_text),
            "pool": pool,
            "excluded": np.asarray(excluded, dtype=np.int64),
        }

    def _vector(self, text: str) -> np.ndarray:
        """The unit vector of a text: the index's own when it holds the text already (no vectoriser call)."""
        for texts, vectors in ((self._offer_texts, self.offer_vectors), (self._seek_texts, self.seek_vectors)):
            try:
                return vectors[texts.get_loc(text)]  # type: ignore[no-any-return]
            except KeyError:
                continue
        return self.text_space.embed_one(text)

    def _sector_part(self, q: dict[str, Any], section: np.ndarray, division: np.ndarray) -> np.ndarray:
        """The sectors part of the score, vectorised over candidates or distinct sectors."""
        if q["section"] >= 0:
            row = np.append(self.affinity[q["section"]], 0.0)  # index -1 (unknown section) scores 0
            sectors = SECTION_SHARE * row[section]
        else:
            sectors = np.zeros(len(section))
        return sectors + DIVISION_SHARE * ((division == q["division"]) & (q["division"] >= 0))

    def _place_part(self, q: dict[str, Any], nuts3: np.ndarray, nuts2: np.ndarray,
                    country: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The region part of the score, and where the cross-border part may count (another country)."""
        same_country = (country == q["country"]) & (country >= 0)
        region = np.where((nuts3 == q["nuts3"]) & (q["nuts3"] >= 0), REGION_SCORES["nuts3"],
                          np.where((nuts2 == q["nuts2"]) & (nuts2 >= 0), REGION_SCORES["nuts2"],
                                   np.where(same_country, REGION_SCORES["country"], 0.0)))
        other_country = (country != q["country"]) & (country >= 0) & (q["country"] >= 0)
        return region, other_country

    def _pairing(self, q: dict[str, Any], family: np.ndarray) -> np.ndarray:
        if q["family"] == 0:
            return (family == 1).astype(float)
        if q["family"] == 1:
            return (family == 0).astype(float)
        return np.zeros(len(family))

    def _bound_tables(self, q: dict[str, Any], filters: MatchFilters) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What the query gives each distinct (sector, family), (place, cross-border wish) and set of
        languages; -inf where the filters rule them out. A block's structured score is the sum of its three
        (see :meth:`_bounds`)."""
        w = self.weights.normalised()
        region, other_country = self._place_part(q, self.place_nuts3, self.place_nuts2, self.place_country)
        place = (w["region"] * region
                 + np.where(other_country, w["cross_border"] * 0.5 * (self.place_cross + float(q["cross_border"])),
                            0.0))
        kind = (w["sectors"] * self._sector_part(q, self.kind_section, self.kind_division)
                + w["pairing"] * self._pairing(q, self.kind_family))
        languages = w["language"] * ((self.language_sets & q["languages"]) != 0)
        if filters.family != "any":
            kind[self.kind_family != FAMILIES.index(filters.family)] = -np.inf
        if filters.other_countries:
            place[(self.place_country == q["country"]) | (self.place_country < 0)] = -np.inf
        if filters.area != "any":
            place[self.place_urban != (3 if filters.area == "rural" else 1)] = -np.inf
        return kind, place, languages

    def _bounds(self, tables: tuple[np.ndarray, np.ndarray, np.ndarray], blocks: np.ndarray) -> np.ndarray:
        """The structured score of each of ``blocks`` (its best: any member may share the query's language),
        -inf where the filters rule it out. Cluster bonuses are left out: their candidates are scored first."""
        kind, place, languages = tables
        bound = kind[self.block_kind[blocks]] + place[self.block_place[blocks]]
        bound += languages[self.block_language_set[blocks]]
        bound += 1e-9  # summed in another order than a candidate's score: never below it by rounding
        return bound

    def _candidate_allowed(self, q: dict[str, Any], positions: np.ndarray, filters: MatchFilters) -> np.ndarray:
        allowed = self.active[positions].copy()
        if filters.family == "social_economy":
            allowed &= self.family[positions] == 0
        elif filters.family == "traditional":
            allowed &= self.family[positions] == 1
        if filters.other_countries:
            allowed &= (self.country[positions] != q["country"]) & (self.country[positions] >= 0)
        if filters.area == "rural":
            allowed &= self.urban_rural[positions] == 3
        elif filters.area == "urban":
            allowed &= self.urban_rural[positions] == 1
        for excluded in q["excluded"]:
            allowed &= positions != excluded
        return allowed

    def _parts(self, q: dict[str, Any], positions: np.ndarray) -> dict[str, np.ndarray]:
        """Every part of the score, unweighted, for the candidates at ``positions``."""
        offers = self.offer_vectors[self.offer_codes[positions]]
        seeks = self.seek_vectors[self.seek_codes[positions]]
        region, other_country = self._place_part(q, self.nuts3[positions], self.nuts2[positions],
                                                 self.country[positions])
        # Reasons of equal weight keep this order.
        return {
            "sectors": self._sector_part(q, self.section[positions], self.division[positions]),
            "region": region,
            "cross_border": np.where(other_country, 0.5 * (self.cross_border[positions] + float(q["cross_border"])),
                                     0.0),
            "pairing": self._pairing(q, self.family[positions]),
            "similar_activity": _similarity(offers, q["offer_vector"]).astype(float),
            "offer_answers_request": np.maximum(_similarity(offers, q["seek_vector"]),
                                                _similarity(seeks, q["offer_vector"])).astype(float),
            "shared_cluster": np.isin(positions, q["pool"]).astype(float),
            "language": ((self.languages[positions] & q["languages"]) != 0).astype(float),
        }

    def _score(self, parts: dict[str, np.ndarray]) -> np.ndarray:
        w = self.weights.normalised()
        return sum(w[name] * values for name, values in parts.items())  # type: ignore[return-value]

    def score_positions(self, query: MatchQuery, positions: np.ndarray) -> np.ndarray:
        """Scores of the candidates at ``positions`` (row numbers of the table given to :meth:`build`),
        ignoring filters: the reference that :meth:`top_k`'s pruning must agree with."""
        q = self._prepare(query)
        positions = np.asarray(positions, dtype=np.int64)
        return self._score(self._parts(q, positions))

    def top_k(self, query: MatchQuery, k: int = 10, filters: MatchFilters | None = None) -> list[Match]:
        """The k best candidates for ``query``, best first (ties: earlier row first), with their reasons.

        Opted-out candidates and the query's ``exclude`` ids are never returned; fewer than k come back
        when fewer candidates pass the filters.
        """
        k, filters = self._check_k_filters(k, filters)
        q = self._prepare(query)
        positions, scores = self._search(q, k, filters)
        return self._matches(q, positions, scores)

    @staticmethod
    def _check_k_filters(k: int, filters: MatchFilters | None) -> tuple[int, MatchFilters]:
        if not isinstance(k, int) or isinstance(k, bool) or k < 1:
            raise ValueError(f"k: must be a whole number >= 1, got {k!r}")
        filters = filters or MatchFilters()
        if not isinstance(filters, MatchFilters):
            raise ValueError("filters: must be a MatchFilters")
        return k, filters

    def _search(self, q: dict[str, Any], k: int, filters: MatchFilters) -> tuple[np.ndarray, np.ndarray]:
        """Positions and scores of the k best candidates, best first, scoring as few as exactness allows.

        A candidate's score is its block's structured score ``S`` (see :meth:`_bounds`) plus its text part
        ``T``. Only the blocks of the places with the best bounds (about ``places_scan`` candidates) have
        their ``S`` computed; the blocks with the highest (about ``first_scan`` candidates) give a k-th best
        score ``tau``. Any better candidate left lies in a block with ``S >= V`` or has ``T > tau - V``, for
        any ``V``: the blocks above ``V`` are scored whole, and every other candidate is found through the
        inverted lists of the texts whose similarity to the query reaches ``tau - V`` (looked for only in the
        text clusters whose bound reaches it); ``V`` is chosen where both together hold the fewest candidates.
        """
        best = _Best(k)

        def consider(positions: np.ndarray) -> None:
            positions = positions[self._candidate_allowed(q, positions, filters)]
            if len(positions):
                best.add(positions, self._score(self._parts(q, positions)))

        if filters.cluster is not None:
            consider(self.cluster_members.get(filters.cluster, np.zeros(0, dtype=np.int64)))
            return best.positions, best.scores
        tables = self._bound_tables(q, filters)
        live, bound, sigma_min = self._best_places(tables, self.places_scan)
        # Blocks fall into bins of equal bound width; a block in bin j has a bound below low + (j + 1) * width.
        # Counting candidates per bin prices every choice of V without sorting the blocks.
        bins = 512
        low = float(bound.min(initial=0.0))
        width = (float(bound.max(initial=0.0)) - low) / bins or 1.0
        bin_of = np.minimum(((bound - low) * (1.0 / width)).astype(np.int64), bins - 1)
        at_or_above = np.cumsum(np.bincount(bin_of, weights=self.block_len[live], minlength=bins)[::-1])[::-1]
        top = int(np.flatnonzero(at_or_above >= min(self.first_scan, at_or_above[0]))[-1])
        scanned = live[bin_of >= top]
        # With the members of the query's clusters: their bonus is left out of the block bounds.
        consider(np.concatenate([q["pool"], self._block_positions(scanned)]))
        if len(best.scores) < k or not len(live):  # too few pass the filters there: score every block
            everything = np.arange(len(self.block_len))
            consider(self._block_positions(everything[self._bounds(tables, everything) > -np.inf]))
            return best.positions, best.scores
        text = self._text_bounds(q)
        text_most = text["most"]
        tau = float(best.scores[-1])
        # Blocks below bin `floor` cannot reach tau even with the best text; V stays above sigma_min.
        floor = max(0, math.ceil((tau - text_most - low) / width) - 2)
        if sigma_min > -np.inf:
            floor = max(floor, math.ceil((sigma_min - low) / width) + 1)
        splits = np.arange(min(floor, top), top + 1)
        values = np.maximum(low + splits * width, sigma_min + 1e-8)
        thetas = tau - values - 1e-7  # float32 similarities, float64 sums: a margin against rounding
        cost = at_or_above[splits] - at_or_above[top] + self._text_cost(text, thetas)
        cost[0] -= 0.5  # on a tie, the split that needs the least text search
        choice = int(np.argmin(cost))
        more = live[(bin_of >= splits[choice]) & (bin_of < top)]
        chosen = self._block_positions(more)
        theta = float(thetas[choice])
        if theta <= text_most:
            found = self._text_positions(q, text, theta)
            done = np.zeros(len(self.block_len), dtype=bool)
            done[scanned] = done[more] = True
            blocks = self.block_of[found]
            found = found[~done[blocks]]
            found = found[self._bounds(tables, self.block_of[found]) > -np.inf]
            chosen = np.concatenate([chosen, found])
        consider(chosen)
        return best.positions, best.scores

    def _best_places(self, tables: tuple[np.ndarray, np.ndarray, np.ndarray],
                     places_scan: int) -> tuple[np.ndarray, np.ndarray, float]:
        """The blocks (and their bounds) of the places whose blocks may score highest, about ``places_scan``
        candidates, leaving out blocks the filters rule out; every other block's bound is <= ``sigma_min``."""
        kind, place, languages = tables
        place_best = place + (float(kind.max(initial=-np.inf)) + float(languages.max(initial=0.0)))
        place_order = np.argsort(-place_best, kind="stable")
        taken = int(np.searchsorted(np.cumsum(self.place_size[place_order]), places_scan)) + 1
        sigma_min = float(place_best[place_order[taken]]) if taken < len(place_order) else -np.inf
        blocks = self._ranges(self.place_first_block, self.place_blocks, place_order[:taken])
        bound = self._bounds(tables, blocks)
        allowed = bound > -np.inf
        return blocks[allowed], bound[allowed], sigma_min

    @staticmethod
    def _ranges(starts: np.ndarray, lengths: np.ndarray, chosen: np.ndarray) -> np.ndarray:
        """The integers of the ranges ``starts[chosen] + range(lengths[chosen])``, one range after another."""
        counts = lengths[chosen]
        return np.repeat(starts[chosen] - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))

    def _block_positions(self, blocks: np.ndarray) -> np.ndarray:
        return self.order[self._ranges(self.block_start, self.block_len, blocks)]

    def _text_bounds(self, q: dict[str, Any]) -> dict[str, Any]:
        """What a candidate's texts can add to its score, bounded per text cluster.

        With ``g`` = the answer part plus the alike part of an offer text and ``h`` = the answer part of a
        seek text, a candidate's text part is ``T <= max(g[offer], h[seek] + alike_most)``. ``offer`` and
        ``seek`` bound ``g`` and ``h`` over each cluster's texts; ``alike_most`` and ``most`` bound the
        alike part and ``T`` over every candidate.
        """
        w = self.weights.normalised()
        alike = self.offer_clusters.bounds(q["offer_vector"])
        offer = (w["offer_answers_request"] * self.offer_clusters.bounds(q["seek_vector"])
                 + w["similar_activity"] * alike)
        seek = w["offer_answers_request"] * self.seek_clusters.bounds(q["offer_vector"])
        alike_most = w["similar_activity"] * float(alike.max(initial=0.0))
        most = max(float(offer.max(initial=0.0)), float(seek.max(initial=0.0)) + alike_most)
        return {"offer": offer, "seek": seek, "alike_most": alike_most, "most": most}

    def _text_cost(self, text: dict[str, Any], thresholds: np.ndarray) -> np.ndarray:
        """About how many candidates the text search visits for each threshold: those of the text clusters
        whose bound reaches it (a histogram, rounded up)."""
        bins = 256
        width = text["most"] / bins if text["most"] > 0 else 1.0
        cost = np.zeros(len(thresholds))
        for bound, shift, clusters in ((text["offer"], 0.0, self.offer_clusters),
                                       (text["seek"], text["alike_most"], self.seek_clusters)):
            bin_of = np.minimum((np.maximum(bound + shift, 0.0) / width).astype(np.int64), bins - 1)
            tail = np.append(np.cumsum(np.bincount(bin_of, weights=clusters.candidates,
                                                   minlength=bins)[::-1])[::-1], 0.0)
            at = np.clip(np.floor(thresholds / width).astype(np.int64), 0, bins)
            cost += tail[at]
        return cost

    def _text_positions(self, q: dict[str, Any], text: dict[str, Any], theta: float) -> np.ndarray:
        """The active candidates whose offer text has ``g >= theta`` or whose seek text has
        ``h >= theta - alike_most``: exact similarities for the texts of the clusters that may reach it."""
        w = self.weights.normalised()
        found = []
        for bound, threshold, clusters, (positions, starts, counts) in (
                (text["offer"], theta, self.offer_clusters, self.offer_lists),
                (text["seek"], theta - text["alike_most"], self.seek_clusters, self.seek_lists)):
            visited = np.flatnonzero(bound >= threshold)
            rows = self._ranges(clusters.start, clusters.count, visited)
            if clusters is self.offer_clusters:
                vectors = self.offer_vectors[rows]
                reach = (w["offer_answers_request"] * _similarity(vectors, q["seek_vector"]).astype(float)
                         + w["similar_activity"] * _similarity(vectors, q["offer_vector"]))
            else:
                reach = w["offer_answers_request"] * _similarity(self.seek_vectors[rows],
                                                                 q["offer_vector"]).astype(float)
            chosen = rows[reach >= threshold]
            lengths = counts[chosen]
            offsets = np.repeat(starts[chosen] - np.cumsum(lengths) + lengths, lengths)
            found.append(positions[offsets + np.arange(int(lengths.sum()))])
        return np.concatenate(found)

    def top_k_batch(self, ids: Iterable[Hashable], k: int = 10, filters: MatchFilters | None = None,
                    chunk: int = 256) -> pd.DataFrame:
        """Suggestions for many candidates at once: columns ``query``, ``rank`` (from 1), ``id``, ``score``.

        The same answers as :meth:`top_k` for each candidate's :meth:`query_for` (the same search, without
        the reasons); ``chunk`` queries are prepared at a time.
        """
        k, filters = self._check_k_filters(k, filters)
        ids = list(ids)
        rows: list[tuple[Hashable, int, Hashable, float]] = []
        for start in range(0, len(ids), chunk):
            queries = [self.query_for(candidate_id) for candidate_id in ids[start:start + chunk]]
            for j, query in enumerate(queries):
                q = self._prepare(query)
                positions, scores = self._search(q, k, filters)
                candidate_id = ids[start + j]
                rows.extend((candidate_id, rank, self._id(int(position)), float(score))
                            for rank, (position, score) in enumerate(zip(positions, scores, strict=True), 1))
        return pd.DataFrame(rows, columns=["query", "rank", "id", "score"])

    def _id(self, position: int) -> Hashable:
        value = self.ids[position]
        return value.item() if hasattr(value, "item") else value


    # -- reasons --

    def _matches(self, q: dict[str, Any], positions: np.ndarray, scores: np.ndarray) -> list[Match]:
        if not len(positions):
            return []
        parts = self._parts(q, positions)
        w = self.weights.normalised()
        inverse_regions = self._inverse("region")
        inverse_languages = self._inverse("language")
        out = []
        for row, (position, score) in enumerate(zip(positions, scores, strict=True)):
            values = {name: float(values[row]) for name, values in parts.items()}
            reasons = []
            for name, value in values.items():
                if value <= 0 or w[name] == 0:
                    continue
                reasons.append(self._reason(name, value, w[name] * value, int(position), q,
                                            inverse_regions, inverse_languages))
            reasons.sort(key=lambda r: -r.contribution)
            out.append(Match(id=self._id(int(position)), score=float(score), parts=values, reasons=tuple(reasons)))
        return out

    def _reason(  # noqa: PLR0911, PLR0917 - one reason per part of the score
        self, name: str, value: float, contribution: float, i: int, q: dict[str, Any],
                regions: dict[int, str], languages: dict[int, str]) -> Reason:
        section = NACE_SECTIONS[self.section[i]] if self.section[i] >= 0 else ""
        query_section = NACE_SECTIONS[q["section"]] if q["section"] >= 0 else ""
        if name == "offer_answers_request":
            return Reason("offer_answers_request", f"what one side offers answers what the other seeks "
                          f"(text similarity {value:.2f})", contribution, {"similarity": round(value, 3)})
        if name == "similar_activity":
            return Reason("similar_activity", f"similar activities (text similarity {value:.2f})", contribution,
                          {"similarity": round(value, 3)})
        if name == "sectors":
            if section == query_section:
                same_division = self.division[i] == q["division"] and q["division"] >= 0
                return Reason("same_division" if same_division else "same_sector",
                              f"same NACE {'division' if same_division else 'section'} ({section})", contribution,
                              {"section": section})
            return Reason("complementary_sectors", f"complementary sectors: NACE {query_section} and {section}",
                          contribution, {"sections": [query_section, section]})
        if name == "region":
            if value >= REGION_SCORES["nuts3"]:
                return Reason("same_region", f"same region ({regions.get(int(self.nuts3[i]), '')})", contribution,
                              {"region": regions.get(int(self.nuts3[i]), "")})
            if value >= REGION_SCORES["nuts2"]:
                return Reason("neighbouring_region", f"neighbouring region, same NUTS 2 area "
                              f"({regions.get(int(self.nuts2[i]), '')})", contribution,
                              {"region": regions.get(int(self.nuts2[i]), "")})
            return Reason("same_country", "same country", contribution, {})
        if name == "cross_border":
            both = value >= 1
            return Reason("cross_border", "cross-border cooperation welcomed by both sides" if both
                          else "cross-border cooperation welcomed", contribution, {"both": both})
        if name == "pairing":
            return Reason("pairing", "social economy and traditional enterprise pairing", contribution, {})
        if name == "shared_cluster":
            return Reason("shared_cluster", "members of the same cluster", contribution, {})
        shared = int(self.languages[i]) & q["languages"]
        names = [languages[b] for b in range(63) if shared >> b & 1]
        return Reason("language", f"shared language ({', '.join(names)})", contribution, {"languages": names})


# --- offline evaluation -----------------------------------------------------------------------------------


def evaluate_recall(  # noqa: PLR0915 - split the data, build, then query: one story
    candidates: pd.DataFrame,
    memberships: pd.DataFrame,
    *,
    hide_fraction: float = 0.2,
    k: int = 10,
    max_queries: int = 2_000,
    weights: MatchWeights | None = None,
    dims: int = 64,
    seed: int = 0,
) -> dict[str, Any]:
    """Recall@k of the matchmaker and of a simple baseline on hidden cluster co-memberships.

    A ``hide_fraction`` of the organisations that belong to a cluster with other members each lose one
    membership (at most ``max_queries`` of them). The index is built on what is left: cluster lists and
    the section affinity (learned from the remaining co-memberships) know nothing of what was hidden.
    For each such organisation, its hidden partners are the other members of the cluster it was taken
    out of; a hit is a hidden partner among its top ``k`` suggestions. Recall is
    ``hits / sum(min(k, hidden partners))`` over all queries, so that a big cluster cannot weigh more
    than k hits. The baseline suggests candidates of the same NACE section and the same NUTS 3 region
    (in a seeded random order, because it has nothing else to rank by).

    Parameters
    ----------
    candidates : pandas.DataFrame
        As for :meth:`MatchIndex.build`; its ``clusters`` column is ignored (memberships decide).
    memberships : pandas.DataFrame
        Columns ``organisation`` (candidate id) and ``cluster``.
    hide_fraction : float, default 0.2
        Share of eligible organisations whose membership is hidden, in (0, 1].
    k, max_queries, weights, dims, seed
        Suggestions per query; the most queries evaluated; the matchmaker's weights; the latent text
        space's size; the seed of every random choice.

    Returns
    -------
    dict
        ``queries``, ``hidden_pairs``, ``recall_matchmaker``, ``recall_baseline``, ``build_seconds``.

    Examples
    --------
    >>> population, members = synthetic_population(3_000, clusters=120, seed=1)
    >>> result = evaluate_recall(population, members, max_queries=200, seed=1)
    >>> result["recall_matchmaker"] > result["recall_baseline"]
    True
    """
    if not 0 < hide_fraction <= 1:
        raise ValueError(f"hide_fraction: must lie in (0, 1], got {hide_fraction!r}")
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"k: must be a whole number >= 1, got {k!r}")
    missing = {"organisation", "cluster"} - set(memberships.columns)
    if missing:
        raise ValueError(f"memberships: column(s) {', '.join(sorted(missing))} missing")
    rng = np.random.default_rng(seed)
    members = memberships[["organisation", "cluster"]].drop_duplicates().reset_index(drop=True)
    size = members.groupby("cluster")["organisation"].transform("size")
    eligible = members[size >= 2]
    organisations = eligible["organisation"].unique()
    n_queries = min(max_queries, max(1, round(len(organisations) * hide_fraction)))
    chosen = rng.choice(organisations, size=min(n_queries, len(organisations)), replace=False)
    shuffled = eligible.sample(frac=1.0, random_state=int(rng.integers(2**31)))
    hidden = shuffled[shuffled["organisation"].isin(chosen)].drop_duplicates("organisation")
    training = members.drop(index=hidden.index)
    clusters_of = training.groupby("organisation")["cluster"].agg(list)
    frame = candidates.drop(columns=[c for c in ("clusters",) if c in candidates.columns]).copy()
    frame["clusters"] = frame["id"].map(clusters_of)
    frame["clusters"] = frame["clusters"].apply(lambda v: v if isinstance(v, list) else [])
    # Section affinity from the remaining co-memberships (each member paired with a few others).
    section_of = frame.set_index("id")["section"] if "section" in frame.columns else pd.Series(dtype=object)
    pairs_a: list[Any] = []
    pairs_b: list[Any] = []
    for _cluster, group in training.groupby("cluster")["organisation"]:
        ids = group.to_numpy()
        if len(ids) < 2:
            continue
        partners = rng.permutation(ids)
        pairs_a.extend(ids)
        pairs_b.extend(np.roll(partners, 1) if len(ids) > 1 else partners)
    affinity = sector_affinity_from_pairs(section_of.reindex(pairs_a).fillna("").tolist(),
                                          section_of.reindex(pairs_b).fillna("").tolist())
    index = MatchIndex.build(frame, weights=weights, sector_affinity=affinity, dims=dims, random_state=seed)
    members_of = training.groupby("cluster")["organisation"].agg(set)
    # Baseline groups: same section and same NUTS 3, in a seeded random order.
    base = pd.DataFrame({"id": frame["id"],
                         "section": frame.get("section", pd.Series([""] * len(frame))).fillna(""),
                         "nuts3": frame.get("nuts3", pd.Series([""] * len(frame))).fillna(""),
                         "draw": rng.random(len(frame))})
    if "opted_out" in frame.columns:
        base = base[~frame["opted_out"].fillna(False).astype(bool)]
    base = base.sort_values("draw")
    groups = {key: list(g["id"]) for key, g in base.groupby(["section", "nuts3"]) if key[0] and key[1]}
    row_of = frame.set_index("id")
    hits = base_hits = denominator = pairs = 0
    for organisation, cluster in hidden[["organisation", "cluster"]].itertuples(index=False):
        partners = members_of.get(cluster, set()) - {organisation}
        if not partners:
            continue
        pairs += len(partners)
        denominator += min(k, len(partners))
        suggested = {m.id for m in index.top_k(index.query_for(organisation), k=k)}
        hits += len(suggested & partners)
        key = (row_of.at[organisation, "section"] if "section" in row_of.columns else "",
               row_of.at[organisation, "nuts3"] if "nuts3" in row_of.columns else "")
        baseline = [c for c in groups.get(key, []) if c != organisation][:k]
        base_hits += len(set(baseline) & partners)
    return {
        "queries": len(hidden), "hidden_pairs": pairs, "k": k,
        "recall_matchmaker": hits / denominator if denominator else float("nan"),
        "recall_baseline": base_hits / denominator if denominator else float("nan"),
        "build_seconds": index.build_seconds,
    }


# --- synthetic data for tests and benchmarks --------------------------------------------------------------

_SECTION_WORDS = {
    "A": "organic vegetables|légumes bio|Biogemüse|verdure biologiche|market gardening|maraîchage|farm produce",
    "C": "textile workshop|atelier textile|Textilwerkstatt|furniture making|fabrication de meubles|Möbelbau|"
         "metal parts",
    "F": "building renovation|rénovation énergétique|Gebäudesanierung|ristrutturazione|insulation works|"
         "construcción",
    "G": "wholesale distribution|distribution alimentaire|Großhandel|vendita al dettaglio|retail shops",
    "I": "catering services|restauration collective|Gemeinschaftsverpflegung|ristorazione|canteen meals",
    "J": "software development|développement logiciel|Softwareentwicklung|sviluppo software|web platforms",
    "M": "consulting engineering|bureau d'études|Ingenieurbüro|consulenza tecnica|impact measurement",
    "N": "cleaning services|nettoyage de locaux|Gebäudereinigung|pulizie|laundry|blanchisserie|Wäscherei",
    "P": "vocational training|formation professionnelle|Berufsausbildung|formazione professionale",
    "Q": "care services|aide à domicile|Pflegedienst|assistenza domiciliare|work integration|insertion",
    "E": "waste recycling|recyclage des déchets|Abfallverwertung|riciclo dei rifiuti|reuse centre|réemploi",
}
_QUALIFIERS = ("local|locale|lokal|regional|régional|sustainable|durable|nachhaltig|sostenibile|sostenible|"
               "for hotels|pour les collectivités|für Kommunen|per le scuole|para hospitales|small series|"
               "petites séries|Kleinserien|short circuit|circuit court|zero waste|zéro déchet|null Abfall|"
               "inclusive|inclusif|inklusiv|inclusivo|certified|certifié|zertifiziert|on demand|sur mesure|"
               "nach Maß|su misura|a medida|bulk|en gros|in großen Mengen|all year|toute l'année")
# Parts of the organisation-specific words (products, places, customers, brand names) in some of the
# population's languages: each language's three lists combine into 1,728 words, about 10,000 in all.
_OWN_WORD_PARTS = {
    "fr": ("beau|mont|val|roche|font|bois|clair|pré|char|ville|saint|grand",
           "lieu|ferr|mar|sab|vign|coll|bourg|cham|riv|pont|tour|vers",
           "ette|ière|ois|eau|ade|ine|elle|ard|et|age|erie|ier"),
    "de": ("ober|unter|alt|neu|wald|berg|hof|bach|stein|feld|brun|linden",
           "haus|werk|garten|mühl|korn|holz|wies|tal|land|dorf|stadt|brück",
           "er|ing|en|ung|lich|heim|reich|mann|ner|chen|sen|stedt"),
    "it": ("val|monte|santa|villa|borgo|castel|rio|campo|fonte|colle|porto|torre",
           "verde|rossa|lunga|nuova|bella|fior|mar|sol|oliv|pin|vign|gran",
           "ino|etta|ello|ana|ese|ara|one|ini|ola|azza|ante|ento"),
    "es": ("alto|bajo|villa|san|monte|rio|sierra|casa|campo|puerto|fuente|torre",
           "verde|nueva|real|roble|oliv|mar|sol|pin|vid|trig|sal|luz",
           "illo|ita|ero|ada|ales|ona|ejo|ares|uela|ino|edo|osa"),
    "nl": ("noord|zuid|oost|west|oud|nieuw|groen|hoog|laag|klein|groot|wit",
           "dijk|veld|berg|bosch|water|dam|hoven|meer|brug|land|linde|akker",
           "en|er|ing|heim|stad|huis|werf|kamp|haven|rode|wijk|hof"),
    "pl": ("nowa|stara|biała|zielona|górna|dolna|wielka|mała|złota|jasna|ciepła|czysta",
           "wod|las|gór|pol|łąk|rzek|brzez|dąb|lip|sosn|kamien|miod",
           "ów|ice|owo|ka|nik|arz|ewo|ino|isko|anka|owa|ec"),
}
# Chains of complementary sections that clusters form around (a supplier and its buyers).
_CHAINS = [("A", "I", "G"), ("C", "G", "N"), ("F", "M", "E"), ("J", "M", "P"), ("Q", "N", "P"), ("E", "C", "F"),
           ("I", "A", "N"), ("P", "Q", "J")]
_COUNTRIES = ("AT", "BE", "BG", "CZ", "DE", "DK", "EE", "EL", "ES", "FI", "FR", "HR", "HU", "IE", "IT", "LT",
              "LU", "LV", "NL", "PL", "PT", "RO", "SE", "SI", "SK")
_LANGUAGES = ("de", "nl", "bg", "cs", "de", "da", "et", "el", "es", "fi", "fr", "hr", "hu", "en", "it", "lt",
              "fr", "lv", "nl", "pl", "pt", "ro", "sv", "sl", "sk")


def _own_word_vocabulary() -> np.ndarray:
    """About 10,000 made-up but language-like words (each language's three lists combined), sorted."""
    words: list[str] = []
    for prefixes, middles, suffixes in _OWN_WORD_PARTS.values():
        for a in prefixes.split("|"):
            for b in middles.split("|"):
                words.extend(f"{a}{b}{c}".capitalize() for c in suffixes.split("|"))
    return np.array(sorted(set(words)), dtype=object)


def synthetic_population(  # noqa: PLR0915 - one column after another
    organisations: int, *, clusters: int = 0, own_words: int = 3, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A seeded synthetic candidate table and its cluster memberships, for tests and benchmarks.

    Shaped like the registry: 25 countries, 9 NUTS 2 regions each with 6 NUTS 3 regions, 11 NACE
    sections with offers and requests written in several languages, 45% social economy organisations,
    and clusters rooted in one NUTS 2 region around a chain of complementary sectors (a member offers its
    own sector's services and seeks the next sector's in its cluster's chain) and a theme (80% of a
    cluster's members describe themselves with the cluster's theme word, such as "circuit court" or
    "inclusive"; other organisations with a random one). Each offer and request also names ``own_words``
    words of the organisation's own (its products, places, customers: drawn from about 10,000 made-up
    words in six languages), so that, as in the registry, almost every organisation's texts are its own;
    with ``own_words=0`` the texts follow templates (about 15,000 distinct texts among a million). Not real
    data: the offline evaluation's figures on it depend on these choices.

    Examples
    --------
    >>> people, members = synthetic_population(1_000, clusters=20, seed=3)
    >>> len(people), sorted(people.columns)[:3], set(members.columns) == {"organisation", "cluster"}
    (1000, ['clusters', 'country', 'cross_border'], True)
    """
    if not isinstance(organisations, int) or organisations < 1:
        raise ValueError(f"organisations: must be a whole number >= 1, got {organisations!r}")
    if not isinstance(clusters, int) or clusters < 0:
        raise ValueError(f"clusters: must be a whole number >= 0, got {clusters!r}")
    if not isinstance(own_words, int) or own_words < 0:
        raise ValueError(f"own_words: must be a whole number >= 0, got {own_words!r}")
    rng = np.random.default_rng(seed)
    n = organisations
    sections = np.array(sorted(_SECTION_WORDS))
    words = {s: np.array(v.split("|"), dtype=object) for s, v in _SECTION_WORDS.items()}
    country_i = rng.integers(0, len(_COUNTRIES), n)
    nuts2_i = rng.integers(0, 9, n)
    nuts3_i = rng.integers(0, 6, n)
    section = sections[rng.integers(0, len(sections), n)].astype(object)
    chain_next = {s: s for s in sections} | {a: b for chain in _CHAINS
                                             for a, b in zip(chain, chain[1:] + chain[:1], strict=True)}
    members_rows: list[tuple[int, int]] = []
    if clusters:
        # About a third of the organisations belong to a cluster (some to two).
        in_cluster = rng.random(n) < 0.33
        member_idx = np.flatnonzero(in_cluster)
        cluster_of = rng.integers(0, clusters, len(member_idx))
        home_country = rng.integers(0, len(_COUNTRIES), clusters)
        home_nuts2 = rng.integers(0, 9, clusters)
        chain_of = rng.integers(0, len(_CHAINS), clusters)
        local = rng.random(len(member_idx)) < 0.85
        country_i[member_idx[local]] = home_country[cluster_of[local]]
        nuts2_i[member_idx[local]] = home_nuts2[cluster_of[local]]
        nuts3_i[member_idx[local]] = rng.integers(0, 3, int(local.sum()))  # clusters gather in a few areas
        chains = np.array([_CHAINS[c] for c in chain_of[cluster_of]], dtype=object)
        pick = rng.integers(0, 3, len(member_idx))
        section[member_idx] = chains[np.arange(len(member_idx)), pick]
        seek_section_of = np.full(n, "", dtype=object)
        seek_section_of[member_idx] = chains[np.arange(len(member_idx)), (pick + 1) % 3]
        members_rows = list(zip(member_idx.tolist(), cluster_of.tolist(), strict=True))
        second = member_idx[rng.random(len(member_idx)) < 0.05]
        members_rows += list(zip(second.tolist(), rng.integers(0, clusters, len(second)).tolist(), strict=True))
    countries = np.array(_COUNTRIES, dtype=object)[country_i]
    nuts2 = [f"{c}{a}{b}" for c, a, b in zip(countries, (nuts2_i // 3 + 1), (nuts2_i % 3 + 1), strict=True)]
    nuts3 = [f"{r}{d}" for r, d in zip(nuts2, nuts3_i + 1, strict=True)]
    family = np.where(rng.random(n) < 0.45, "social_economy", np.where(rng.random(n) < 0.85, "traditional",
                                                                       "other"))
    qualifiers = np.array(_QUALIFIERS.split("|"), dtype=object)
    vocabulary = _own_word_vocabulary()
    own_rng = np.random.default_rng([seed, 1])

    # The words that say how an organisation works ("short circuit", "inclusive"…): a cluster's members
    # mostly share their cluster's theme, everyone else picks one at random.
    qualifier_of = rng.integers(0, len(qualifiers), n)
    if clusters:
        theme = rng.integers(0, len(qualifiers), clusters)
        themed = member_idx[rng.random(len(member_idx)) < 0.8]
        qualifier_of[themed] = theme[cluster_of[np.searchsorted(member_idx, themed)]]

    def texts(of_sections: np.ndarray) -> np.ndarray:
        out = np.empty(len(of_sections), dtype=object)
        for s in sections:
            where = np.flatnonzero(of_sections == s)
            pool = words[s]
            first = pool[rng.integers(0, len(pool), len(where))]
            second = pool[rng.integers(0, len(pool), len(where))]
            out[where] = first + ", " + second + " " + qualifiers[qualifier_of[where]]
        # Drawn after the templates, so that the same seed gives the same templates whatever own_words.
        for _ in range(own_words):
            out = out + " " + vocabulary[own_rng.integers(0, len(vocabulary), len(out))]
        return out

    offer = texts(section)
    # A member seeks the next sector of its own cluster's chain; others the next one of some chain.
    seek_sections = np.array([chain_next[s] for s in section], dtype=object)
    if clusters:
        seek_sections[member_idx] = seek_section_of[member_idx]
    seek = texts(seek_sections)
    seek[rng.random(n) < 0.4] = ""
    urban_by_region = rng.choice([1, 2, 3], size=len(_COUNTRIES) * 9 * 6, p=[0.3, 0.4, 0.3])
    urban = urban_by_region[(country_i * 9 + nuts2_i) * 6 + nuts3_i]
    language = np.array(_LANGUAGES, dtype=object)[country_i]
    speaks_english = rng.random(n) < 0.4
    languages = [[lang, "en"] if english and lang != "en" else [lang]
                 for lang, english in zip(language, speaks_english, strict=True)]
    population = pd.DataFrame({
        "id": np.arange(1, n + 1),
        "family": family,
        "section": section,
        "division": [f"{ord(s) - 55:02d}" for s in section],
        "nuts3": nuts3, "nuts2": nuts2, "country": countries,
        "urban_rural": urban,
        "languages": languages,
        "cross_border": rng.random(n) < 0.3,
        "offer_text": offer, "seek_text": seek,
        "opted_out": rng.random(n) < 0.01,
    })
    memberships = pd.DataFrame(members_rows, columns=["organisation", "cluster"])
    memberships["organisation"] = memberships["organisation"] + 1
    clusters_of = memberships.groupby("organisation")["cluster"].agg(list)
    population["clusters"] = population["id"].map(clusters_of).apply(lambda v: v if isinstance(v, list) else [])
    return population, memberships
