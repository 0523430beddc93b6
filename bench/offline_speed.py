"""Articles per second of the offline engine (analyse_offline + compute_signals) on one core.

    .venv/bin/python bench/offline_speed.py [--data ../shared/eval/dev] [--repeat 1]

Runs over the articles of the labelled dev sets (FakeNewsAMT, LLMFake/GossipCop, PolNeAR) when
they are there, else over the seeds repeated; one process, no threads. Time is the process's CPU
time, so other load on a shared machine does not count against the engine; the wall-clock rate
is printed beside it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.models import Article  # noqa: E402
from pipeline.offline import analyse_offline, compute_signals  # noqa: E402
from pipeline.inputs import article_id  # noqa: E402
from pipeline.parsed import ParsedArticle  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ARTICLE_SETS = ("fakenewsamt.jsonl", "llmfake_gossipcop.jsonl", "polnear.jsonl")
SEED_REPEATS = 100


def _article_sets(data: Path) -> dict[str, list[str]]:
    files = [data / name for name in ARTICLE_SETS if (data / name).exists()]
    if files:
        return {path.name: [json.loads(line)["text"] for line in path.open(encoding="utf-8") if line.strip()] for path in files}
    seeds = [path.read_text(encoding="utf-8") for path in sorted((ROOT / "seeds").glob("*.txt"))]
    return {f"the {len(seeds)} seeds x {SEED_REPEATS}": seeds * SEED_REPEATS}


def _articles_per_second(texts: list[str], repeat: int) -> tuple[float, float]:
    """Articles per CPU second and per wall-clock second."""
    articles = [
        Article(article_id=article_id(t), text=t, title=None, url=None, published=None, source_path="bench", record_id=None)
        for t in texts
    ]
    started, wall_started = time.process_time(), time.perf_counter()
    for _ in range(repeat):
        for article in articles:
            # One parse per article, handed to both, as analyse_article does.
            parse = ParsedArticle(article.text)
            analyse_offline(article, parse=parse)
            compute_signals(parse)
    count = len(articles) * repeat
    return count / (time.process_time() - started), count / (time.perf_counter() - wall_started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "eval" / "dev")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    sets = _article_sets(args.data)
    analyse_offline(
        Article(article_id="-", text="warm up", title=None, url=None, published=None, source_path="bench", record_id=None)
    )
    total_articles = 0
    total_seconds = total_wall_seconds = 0.0
    for name, texts in sets.items():
        rate, wall_rate = _articles_per_second(texts, args.repeat)
        count = len(texts) * args.repeat
        total_articles += count
        total_seconds += count / rate
        total_wall_seconds += count / wall_rate
        print(
            f"{name}: {count} articles, {sum(map(len, texts)) / len(texts):.0f} characters on average, "
            f"{rate:.0f} articles/s ({wall_rate:.0f}/s wall clock)"
        )
    print(
        f"all: {total_articles} articles in {total_seconds:.2f} CPU s on one core: {total_articles / total_seconds:.0f} articles/s "
        f"({total_articles / total_wall_seconds:.0f}/s wall clock)"
    )


if __name__ == "__main__":
    main()
