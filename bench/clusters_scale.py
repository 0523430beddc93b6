"""Template clustering on real articles: time, candidate pairs compared, clusters found.

    .venv/bin/python bench/clusters_scale.py [--data ../shared/eval/dev] [--copies 1]

Loads the seeds and the labelled dev articles (FakeNewsAMT, LLMFake/GossipCop, PolNeAR) into
a scratch store and clusters them in one update. ``--copies N`` adds N-1 perturbed copies of
every article (every 7th word dropped, so each copy is a near-duplicate of its original) to
see how time and candidates grow with the night's size. Prints the figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.desk.clusters import update_clusters  # noqa: E402
from pipeline.models import Article  # noqa: E402
from pipeline.inputs import article_id  # noqa: E402
from pipeline.store import Store  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ARTICLE_SETS = ("fakenewsamt.jsonl", "llmfake_gossipcop.jsonl", "polnear.jsonl")


def corpus(data: Path, copies: int) -> dict[str, tuple[str, str]]:
    """article id -> (name, text)."""
    named = [(path.name, path.read_text()) for path in sorted((ROOT / "seeds").glob("*.txt"))]
    for name in ARTICLE_SETS:
        path = data / name
        if path.is_file():
            named += [(record["id"], record["text"]) for record in map(json.loads, path.read_text().splitlines())]
    texts = {}
    for name, text in named:
        for copy in range(copies):
            words = text.split()
            variant = text if copy == 0 else " ".join(w for i, w in enumerate(words) if (i + copy) % 7)
            texts[article_id(variant)] = (f"{name}#{copy}", variant)
    return texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "eval" / "dev")
    parser.add_argument("--copies", type=int, default=1)
    args = parser.parse_args()
    texts = corpus(args.data, args.copies)
    with tempfile.TemporaryDirectory() as scratch, Store(Path(scratch) / "bench.db") as store:
        for key, (name, text) in texts.items():
            store.remember_article(
                Article(article_id=key, text=text, title=name, url=None, published=None, source_path=name, record_id=None)
            )
        started = time.perf_counter()
        update = update_clusters(store, texts)
        seconds = time.perf_counter() - started
    sizes = Counter(member.cluster_id for member in update.members)
    seed_clusters = {member.cluster_id for member in update.members if texts[member.article_id][0].endswith(".txt#0")}
    print(
        json.dumps(
            {
                "articles": len(texts),
                "seconds": round(seconds, 2),
                "articles_per_second": round(len(texts) / seconds, 1),
                "candidate_comparisons": update.candidates,
                "comparisons_per_article": round(update.candidates / len(texts), 2),
                "pairs_kept": update.pairs,
                "clusters": len(sizes),
                "clustered_articles": len(update.members),
                "largest_clusters": sorted(sizes.values(), reverse=True)[:5],
                "seed_clusters": len(seed_clusters),
                "seed_cluster_members": sorted(texts[m.article_id][0] for m in update.members if m.cluster_id in seed_clusters),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
