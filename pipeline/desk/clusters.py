"""Template clusters: articles written from one template, within a run and against history.

A viral template keeps its vocabulary and swaps the celebrity, so an article is
reduced to its *content words* (lower-cased, person names masked, function words
dropped) and two articles are compared by the Jaccard similarity of those sets.
Measured: the seeds score 0.16-0.20 with each other, the labelled fixtures'
unrelated articles at most 0.08 against them, and random pairs of 2,500 real
articles 0.02 at the median and 0.08 at the 99th percentile; hence 0.15. Paraphrases
and rewrites of one story score higher still and cluster too.

Word shingles were tried first and fail here: the seeds share almost no 3-word
run (Jaccard 0.01), the template is paraphrased, not copied.

Scale (10k-100k articles a night): no all-pairs comparison. Each article gets a
one-permutation MinHash sketch (one hash per word, ``SKETCH_BINS`` bins, minimum
per bin), its bins are grouped into LSH bands, and the bands are stored in the
SQLite index ``cluster_band`` that history lookups use. Only articles sharing a
band become candidates, and the exact Jaccard of their word sets decides. A band
bucket shared by more than ``MAX_BUCKET`` articles is the mark of common words,
not of a template, and yields no candidates: that bounds the work per article by
bands x ``MAX_BUCKET`` comparisons whatever the night's size, at some cost in recall
(0.94 of the exact all-pairs links on 2,500 real articles; ``bench/clusters_scale.py``). Verified pairs go to ``cluster_pair``; clusters
are grown from those pairs by average linkage (see ``_recompute_components``), kept
in ``template_cluster`` and the ``clusters`` view. This module makes every query on those tables.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from pipeline.text import person_names
from pipeline.store import Store, among

__all__ = [
    "SIMILARITY_THRESHOLD",
    "SKETCH_BINS",
    "BAND_ROWS",
    "MAX_BUCKET",
    "MIN_WORDS",
    "ClusterMember",
    "ClusterUpdate",
    "content_words",
    "jaccard",
    "sketch",
    "band_buckets",
    "update_clusters",
    "cluster_members",
]

SIMILARITY_THRESHOLD = 0.15
SKETCH_BINS = 128
BAND_ROWS = 2
MAX_BUCKET = 50
# Below this many content words a Jaccard value is noise (a brief, a caption).
MIN_WORDS = 40
# Articles whose word sets stay in memory while pairing: enough for a night's candidates
# to hit the cache, small enough that memory does not grow with the night.
_VOCABULARY_CACHE = 2048

_WORD = re.compile(r"[a-z]+")
_FUNCTION_WORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each even ever every few for from
    further had has have having he her here hers herself him himself his how i if in into is it its itself
    just me more most my myself no nor not now of off on once one only or other our ours ourselves out over
    own same she should so some such than that the their theirs them themselves then there these they this
    those through to too two under until up upon very was we were what when where which while who whom why
    will with would you your yours yourself yourselves said says say like get got""".split()
)


@dataclass(frozen=True)
class ClusterMember:
    """One article's place in a template cluster."""

    article_id: str
    cluster_id: str
    size: int
    best_jaccard: float


@dataclass(frozen=True)
class ClusterUpdate:
    """What one update did: candidate pairs compared exactly, pairs kept, the clusters after."""

    candidates: int
    pairs: int
    members: list[ClusterMember]


def content_words(text: str) -> frozenset[str]:
    """The article's vocabulary with person names masked and function words dropped."""
    pieces, last = [], 0
    for start, end, _ in person_names(text):
        pieces.append(text[last:start])
        last = end
    pieces.append(text[last:])
    masked = " ".join(pieces).lower()
    return frozenset(word for word in _WORD.findall(masked) if len(word) > 2 and word not in _FUNCTION_WORDS)


def jaccard(left: frozenset[str], right: frozenset[str]) -> float:
    union = len(left | right)
    return len(left & right) / union if union else 0.0


_DENSIFY_OFFSET = 1 << 60


def _hash64(value: str) -> int:
    return int.from_bytes(hashlib.blake2b(value.encode(), digest_size=8).digest(), "big")


def sketch(words: Iterable[str]) -> list[int]:
    """One-permutation MinHash: each word's hash picks a bin, each bin keeps its minimum.
    An empty bin borrows the next filled bin's value, offset by the distance (rotation
    densification), so short articles still fill every band comparably."""
    bins: list[int | None] = [None] * SKETCH_BINS
    for word in words:
        value = _hash64(word)
        index, rest = value % SKETCH_BINS, value // SKETCH_BINS
        current = bins[index]
        if current is None or rest < current:
            bins[index] = rest
    if all(value is None for value in bins):
        return []
    dense = []
    for index in range(SKETCH_BINS):
        distance = 0
        while bins[(index + distance) % SKETCH_BINS] is None:
            distance += 1
        filled = bins[(index + distance) % SKETCH_BINS]
        assert filled is not None, "some bin is filled"
        dense.append(filled + distance * _DENSIFY_OFFSET)
    return dense


def band_buckets(bins: list[int]) -> list[tuple[int, int]]:
    """(band, bucket) for each LSH band of a sketch; a bucket fits SQLite's INTEGER."""
    buckets = []
    for band in range(len(bins) // BAND_ROWS):
        rows = bins[band * BAND_ROWS : (band + 1) * BAND_ROWS]
        digest = hashlib.blake2b(repr(rows).encode(), digest_size=8).digest()
        buckets.append((band, int.from_bytes(digest, "big", signed=True)))
    return buckets


def update_clusters(store: Store, article_ids: Iterable[str]) -> ClusterUpdate:
    """Index these articles, pair them with similar ones in the run and in history, and
    recompute the clusters."""
    ids = sorted(set(article_ids))
    vocabulary = _Vocabulary(store)
    with store.transaction():
        for article_id in ids:
            words = vocabulary[article_id]
            _replace_bands(store, article_id, band_buckets(sketch(words)) if len(words) >= MIN_WORDS else [])
        in_run = set(ids)
        compared = [_pair_with_candidates(store, article_id, in_run, vocabulary) for article_id in ids]
        _recompute_components(store)
    return ClusterUpdate(
        candidates=sum(candidates for candidates, _ in compared),
        pairs=sum(pairs for _, pairs in compared),
        members=cluster_members(store),
    )


class _Vocabulary:
    """Content words per article, computed from the stored text on demand and kept in a
    bounded cache, so memory stays flat however many articles a night brings."""

    def __init__(self, store: Store, capacity: int = _VOCABULARY_CACHE):
        self.store = store
        self.capacity = capacity
        self.words: dict[str, frozenset[str]] = {}

    def __getitem__(self, article_id: str) -> frozenset[str]:
        words = self.words.pop(article_id, None)
        if words is None:
            text = self.store.article_text(article_id)
            words = content_words(text) if text is not None else frozenset()
            if len(self.words) >= self.capacity:
                del self.words[next(iter(self.words))]
        self.words[article_id] = words
        return words


def _pair_with_candidates(store: Store, article_id: str, in_run: set[str], vocabulary: _Vocabulary) -> tuple[int, int]:
    """Compare one article with the articles sharing a band bucket with it; a pair inside
    the run is compared once, from its smaller id."""
    candidates = [
        other for other in _band_neighbours(store, article_id, MAX_BUCKET) if not (other in in_run and other < article_id)
    ]
    kept = 0
    for candidate in candidates:
        similarity = jaccard(vocabulary[article_id], vocabulary[candidate])
        if similarity >= SIMILARITY_THRESHOLD:
            store.db.execute(
                "INSERT OR REPLACE INTO cluster_pair (article_a, article_b, jaccard) VALUES (?, ?, ?)",
                (*sorted((article_id, candidate)), round(similarity, 4)),
            )
            kept += 1
    return len(candidates), kept


def _recompute_components(store: Store) -> None:
    """Average-linkage merging over the stored pairs, strongest first: two groups join only
    if their mean pairwise similarity (a pair never stored counts 0) clears the threshold.
    Plain connected components chain same-topic coverage (a year of campaign stories)
    into one giant cluster; this keeps clusters close to cliques."""
    similarity: dict[frozenset[str], float] = {}
    for article_a, article_b, jaccard_value in store.db.execute("SELECT article_a, article_b, jaccard FROM cluster_pair"):
        similarity[frozenset((article_a, article_b))] = jaccard_value
    group_of: dict[str, list[str]] = {}
    for pair, _value in sorted(similarity.items(), key=lambda item: (-item[1], sorted(item[0]))):
        first, second = (group_of.setdefault(article_id, [article_id]) for article_id in sorted(pair))
        if first is second:
            continue
        linked = sum(similarity.get(frozenset((a, b)), 0.0) for a in first for b in second)
        if linked / (len(first) * len(second)) >= SIMILARITY_THRESHOLD:
            first.extend(second)
            for article_id in second:
                group_of[article_id] = first
    groups = {id(group): group for group in group_of.values() if len(group) > 1}.values()
    store.db.execute("DELETE FROM template_cluster")
    store.db.executemany(
        "INSERT INTO template_cluster (article_id, cluster_id, size, best_jaccard) VALUES (?, ?, ?, ?)",
        [
            (
                member,
                f"tpl-{min(group)[:12]}",
                len(group),
                max(similarity.get(frozenset((member, other)), 0.0) for other in group if other != member),
            )
            for group in groups
            for member in group
        ],
    )


def _replace_bands(store: Store, article_id: str, buckets: Iterable[tuple[int, int]]) -> None:
    """The LSH (band, bucket) pairs of one article, replacing its old ones."""
    store.db.execute("DELETE FROM cluster_band WHERE article_id = ?", (article_id,))
    store.db.executemany(
        "INSERT INTO cluster_band (article_id, band, bucket) VALUES (?, ?, ?)",
        [(article_id, band, bucket) for band, bucket in buckets],
    )


def _band_neighbours(store: Store, article_id: str, max_bucket: int) -> list[str]:
    """Articles sharing a band bucket with this one, in buckets of at most ``max_bucket`` articles."""
    rows = store.db.execute(
        """SELECT DISTINCT other.article_id FROM cluster_band mine
           JOIN cluster_band other ON other.band = mine.band AND other.bucket = mine.bucket
           WHERE mine.article_id = ? AND other.article_id != mine.article_id
             AND (SELECT COUNT(*) FROM cluster_band b WHERE b.band = mine.band AND b.bucket = mine.bucket) <= ?""",
        (article_id, max_bucket),
    )
    return [row[0] for row in rows]


def cluster_members(
    store: Store, article_ids: Iterable[str] | None = None, *, cluster_ids: Iterable[str] | None = None
) -> list[ClusterMember]:
    """Clustered articles, largest clusters first: every one, or those among ``article_ids``
    and in one of ``cluster_ids``."""
    by_article, article_params = among("article_id", article_ids)
    by_cluster, cluster_params = among("cluster_id", cluster_ids)
    rows = store.db.execute(
        f"""SELECT article_id, cluster_id, size, best_jaccard FROM template_cluster WHERE {by_article} AND {by_cluster}
            ORDER BY size DESC, cluster_id, article_id""",
        (*article_params, *cluster_params),
    )
    return [ClusterMember(*row) for row in rows]
