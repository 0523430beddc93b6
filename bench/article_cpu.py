"""Client CPU per article of the offline path: ``analyse_article`` with the offline engine
(the engine's answer, quote verification and the signals), as a run does it.

    .venv/bin/python bench/article_cpu.py [--data ../shared/eval/dev] [--articles 1000] [--words 1000]

Distinct articles only (the dev sets' texts, else the seeds' paragraphs shuffled into new
articles), so no article is ever answered from a cache a repeat would hit. Time is the
process's CPU time; the issue's target is ≤ 3 ms for a 1,000-word article (batch insight
is not in this figure).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline import analyse_article  # noqa: E402
from pipeline.engines import OfflineEngine  # noqa: E402
from pipeline.inputs import article_id  # noqa: E402
from pipeline.models import Article  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ARTICLE_SETS = ("fakenewsamt.jsonl", "llmfake_gossipcop.jsonl", "polnear.jsonl")


DEV_DATA = ROOT.parent / "shared" / "eval" / "dev"


def distinct_texts(count: int, words: int, data: Path = DEV_DATA) -> list[str]:
    """``count`` distinct texts of about ``words`` words: dev-set articles joined to length, else
    seed paragraphs shuffled."""
    files = [data / name for name in ARTICLE_SETS if (data / name).exists()]
    if files:
        pool = [json.loads(line)["text"] for path in files for line in path.open(encoding="utf-8") if line.strip()]
    else:
        pool = [
            p
            for path in sorted((ROOT / "seeds").glob("*.txt"))
            for p in path.read_text(encoding="utf-8").split("\n")
            if p.strip()
        ]
    rng = random.Random(0)
    texts = []
    for number in range(count):
        parts, length = [], 0
        while length < words:
            part = rng.choice(pool)
            parts.append(part)
            length += len(part.split())
        texts.append(f"Article {number}.\n\n" + "\n\n".join(parts))
    return texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEV_DATA)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--words", type=int, default=1000)
    args = parser.parse_args()
    texts = distinct_texts(args.articles, args.words, args.data)
    articles = [
        Article(article_id=article_id(t), text=t, title=None, url=None, published=None, source_path="bench", record_id=None)
        for t in texts
    ]
    engine = OfflineEngine()

    async def analyse_all() -> None:
        for article in articles:
            await analyse_article(article, engine)

    asyncio.run(analyse_article(articles[0], engine))  # warm up: weights, calibration, regexes
    started = time.process_time()
    asyncio.run(analyse_all())
    spent = time.process_time() - started
    words = sum(len(t.split()) for t in texts) / len(texts)
    print(
        f"offline path: {1000 * spent / len(articles):.2f} ms CPU per article "
        f"({len(articles)} distinct articles of {words:.0f} words on average; target ≤ 3 ms)"
    )


if __name__ == "__main__":
    main()
