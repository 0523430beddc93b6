"""A realistic night from the dev data, run through the pipeline, and the desk's figures.

    .venv/bin/python bench/night.py [--data ../shared/eval/dev] [--out /tmp/night] [--split validation]

The night is built from one split of ``scripts/fit_offline.py`` (default: the validation fifth,
which the fit never sees): every genuine FakeNewsAMT and GossipCop story, once, half of them
restyled in a sensational register (superlatives, emoji headings, viral-metric and template stock
phrases, exclamations: what an LLM "make it engaging" rewrite adds, and no evidence), the
PolNeAR news articles of the same split, and enough fabricated stories (human and LLM-written,
one version per story) for about 5 % of the night. The night is written under ``--out``, outside
the repository, and never copied into it; the run's database goes there too.

Printed, from one run with the offline engine at the default prior: flagged share, precision
of the flags, fabricated items among the worklist's top 25, expected calibration error of the
label's confidence (10 equal-width bins), and the figures per kind of article.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from fit_offline import _group, _is_validation, _read  # noqa: E402

from pipeline.views.read import read_settled  # noqa: E402
from pipeline.runs import run as run_pipeline  # noqa: E402
from pipeline.settings import Engine, Settings  # noqa: E402
from pipeline.store import Store  # noqa: E402

SEED = 20261201
FABRICATED_SHARE = 0.05
RESTYLED_SHARE = 0.5
TOP = 25

_OPENERS = (
    "💔 HEARTBREAKING 💔",
    "✨ You won't believe this ✨",
    "🔥 BREAKING 🔥",
    "😭 Fans are in tears 😭",
    "🌟 An unforgettable moment 🌟",
    "❤️ This will melt your heart ❤️",
)
_LEADS = (
    "In a stunning, emotional moment that nobody saw coming, ",
    "Prepare to be absolutely speechless: ",
    "In a truly breathtaking turn of events, ",
    "It is the news everyone is talking about! ",
    "In an incredible, heartwarming twist, ",
)
_CLOSERS = (
    "Within hours the story amassed millions of views and fans across the globe were left speechless.",
    "Social media exploded, and one thing is clear: this moment will never be the same.",
    "The internet exploded with reactions, and not a dry eye was left anywhere.",
    "Fans around the world flooded social media with heartfelt messages. It wasn't just news, it was history.",
    "The post went viral within minutes, trending worldwide as millions of fans shared it.",
)
_INTENSIFIERS = {
    "good": "incredible",
    "big": "massive",
    "important": "monumental",
    "happy": "overjoyed",
    "sad": "heartbroken",
    "new": "jaw-dropping new",
    "surprised": "stunned",
}
_WORD = re.compile(r"\b(" + "|".join(_INTENSIFIERS) + r")\b")


def restyle(text: str, rng: random.Random) -> str:
    """The same story in a sensational register: the facts and sources stay, only style is added."""
    paragraphs = [p for p in re.split(r"\n+|(?<=[.!?])\s{2,}", text) if p.strip()]
    body = []
    for index, paragraph in enumerate(paragraphs):
        paragraph = _WORD.sub(lambda m: _INTENSIFIERS[m.group(1)] if rng.random() < 0.6 else m.group(1), paragraph)
        if index == 0:
            paragraph = rng.choice(_LEADS) + paragraph[:1].lower() + paragraph[1:]
        elif rng.random() < 0.25:
            body.append(rng.choice(_OPENERS))
        if rng.random() < 0.3:
            paragraph = paragraph.rstrip(".") + "!"
        body.append(paragraph)
    return "\n\n".join([rng.choice(_OPENERS), *body, rng.choice(_CLOSERS)])


def build_night(data: Path, validation: bool, rng: random.Random) -> list[dict]:
    records = _read(data / "fakenewsamt.jsonl") + _read(data / "llmfake_gossipcop.jsonl")
    records = [r for r in records if _is_validation(_group(r)) == validation]
    _group_by_id.update({r["id"]: _group(r) for r in records})
    night = []
    for record in (r for r in records if r["label"] == "news"):
        if rng.random() < RESTYLED_SHARE:
            night.append(
                {
                    **_fields(record),
                    "id": f"{record['id']}-restyled",
                    "text": restyle(record["text"], rng),
                    "kind": "genuine restyled",
                }
            )
        else:
            night.append({**_fields(record), "kind": "genuine"})
    polnear = data / "polnear.jsonl"
    if polnear.exists():
        for record in _read(polnear):
            if _is_validation(_group(record)) == validation:
                night.append(
                    {
                        "id": record["id"],
                        "title": record.get("title") or "",
                        "text": record["text"],
                        "label": "news",
                        "kind": "genuine politics",
                    }
                )
    fakes_by_story: dict[str, list[dict]] = {}
    for record in (r for r in records if r["label"] == "likely_fabrication"):
        fakes_by_story.setdefault(_group(record), []).append(record)
    stories = sorted(fakes_by_story)
    rng.shuffle(stories)
    wanted = round(len(night) * FABRICATED_SHARE / (1 - FABRICATED_SHARE))
    chosen = stories[:wanted]
    # A FakeNewsAMT fake is written from its pair's genuine story: one night carries one of them.
    pairs = set(chosen)
    night = [r for r in night if _story_of(r["id"]) not in pairs]
    for story in chosen:
        record = rng.choice(sorted(fakes_by_story[story], key=lambda r: r["id"]))
        kind = "fabricated " + (record.get("method") or ("amt" if record["id"].startswith("amt-") else "human"))
        night.append({**_fields(record), "kind": kind})
    rng.shuffle(night)
    return night


def _story_of(record_id: str) -> str:
    return _group_by_id.get(record_id.removesuffix("-restyled"), record_id)


_group_by_id: dict[str, str] = {}


def _fields(record: dict) -> dict:
    return {"id": record["id"], "title": record.get("title") or "", "text": record["text"], "label": record["label"]}


def _ece(pairs: list[tuple[float, bool]], bins: int = 10) -> float:
    total = 0.0
    for b in range(bins):
        inside = [(c, ok) for c, ok in pairs if min(int(c * bins), bins - 1) == b]
        if inside:
            total += (
                len(inside)
                / len(pairs)
                * abs(sum(c for c, _ in inside) / len(inside) - sum(ok for _, ok in inside) / len(inside))
            )
    return total


def _auc(scored: list[tuple[float, bool]]) -> float:
    positives = [p for p, y in scored if y]
    negatives = [p for p, y in scored if not y]
    wins = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
    return wins / max(1, len(positives) * len(negatives))


def _ranked_article_ids(store: Store, run_id: int) -> list[list[str]]:
    """The worklist's items, each as the article ids it covers; on a tree without the worklist
    command, likely fabrications by confidence (what the report listed first)."""
    try:
        from pipeline.views.worklist import build_worklist  # type: ignore[attr-defined]
    except ImportError:
        results = [r for r in store.iter_results(run_id) if r.analysis.label.value == "likely_fabrication"]
        results.sort(key=lambda r: -r.analysis.signals.scores["likely_fabrication"])
        return [[r.article.article_id] for r in results]
    return [item.article_ids for item in build_worklist(store, run_id=run_id, limit=None).items]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "eval" / "dev")
    parser.add_argument("--out", type=Path, default=Path("/tmp/night"))
    parser.add_argument("--split", choices=("validation", "train"), default="validation")
    args = parser.parse_args()
    root = Path(__file__).resolve().parents[1]
    if args.out.resolve().is_relative_to(root):
        parser.error("--out must lie outside the repository: the dev data is never copied into it")
    args.out.mkdir(parents=True, exist_ok=True)
    night = build_night(args.data, args.split == "validation", random.Random(SEED))
    path = args.out / "night.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for record in night:
            handle.write(
                json.dumps({"id": record["id"], "title": record["title"], "text": record["text"]}, ensure_ascii=False) + "\n"
            )
    db = args.out / "night.db"
    db.unlink(missing_ok=True)
    # The night was written just now and is complete: no wait for a file still being written.
    settings = Settings(engine=Engine.offline, db=db, min_file_age=0)
    result = run_pipeline([str(path)], settings)
    gold = {r["id"]: r for r in night}
    with Store(db) as store:
        by_article: dict[str, dict] = {}
        pairs = []
        scored = []
        flagged = Counter()
        kinds = Counter()
        for settled in read_settled(store, settings.night_clock, run_id=result.run_id):
            # The verdict the desk reads: after the batch's evidence, as every view shows it.
            stored = settled.result
            record = gold[stored.article.record_id or ""]
            by_article[stored.article.article_id] = record
            label = stored.analysis.label.value
            fabricated = record["label"] == "likely_fabrication"
            pairs.append((stored.analysis.confidence, (label == "likely_fabrication") == fabricated))
            kinds[record["kind"]] += 1
            scored.append((stored.analysis.signals.scores["likely_fabrication"], fabricated, record["kind"]))
            flagged[record["kind"]] += label == "likely_fabrication"
        ranked = _ranked_article_ids(store, result.run_id)
    n = len(pairs)
    flags = sum(flagged.values())
    true_flags = sum(flagged[k] for k in flagged if k.startswith("fabricated"))
    top = ranked[:TOP]
    top_fabricated = sum(any(by_article[a]["label"] == "likely_fabrication" for a in item) for item in top)
    figures = {
        "articles": n,
        "fabricated": sum(v for k, v in kinds.items() if k.startswith("fabricated")),
        "flagged": flags,
        "flagged_share": round(flags / n, 4),
        "flag_precision": round(true_flags / flags, 4) if flags else None,
        "flag_recall": round(true_flags / max(1, sum(v for k, v in kinds.items() if k.startswith("fabricated"))), 4),
        f"top{TOP}_fabricated": top_fabricated,
        f"top{TOP}_precision": round(top_fabricated / max(1, len(top)), 4),
        "worklist_items": len(ranked),
        "ece": round(_ece(pairs), 4),
        "fabrication_score_auc": round(_auc([(p, y) for p, y, _ in scored]), 4),
        f"top{TOP}_by_score_by_kind": dict(Counter(k for _, _, k in sorted(scored, key=lambda t: -t[0])[:TOP])),
        "flagged_by_kind": {k: f"{flagged[k]}/{kinds[k]}" for k in sorted(kinds)},
    }
    print(json.dumps(figures, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
