"""Hand-label the death register's input and measure it: precision and recall of
``people.death_statements`` on sentences that hold a death word.

    # 1. a fixed sample of sentences (id, offsets, text) to read and label (seed 15 unless given)
    .venv/bin/python scripts/death_register_sample.py sample ../shared/eval/dev/llmfake_gossipcop.jsonl 80 [SEED] > /tmp/sample.tsv
    # 2. label each sentence in a JSONL file outside the repository:
    #    {"id": ..., "start": ..., "end": ..., "dead": ["Full Name", ...]}
    #    "dead": the persons the sentence itself states died (subject of died / passed away /
    #    was killed, "the death of X", "the late X", an obituary line), named by the full name
    #    the article gives them; [] when it states no named person's death.
    # 3. score the labels: every statement found in a labelled sentence is compared to its "dead"
    .venv/bin/python scripts/death_register_sample.py score /tmp/labels.jsonl ../shared/eval/dev/*.jsonl

The data is read where it lies; labels hold ids, offsets and names, and live outside the
repository with the data they come from.
"""

from __future__ import annotations

import json
import random
import re
import sys

from pipeline.text import sentences
from pipeline.desk.people import death_statements, name_key

# Broader than the extractor's own cue, so that sentences it never reads are sampled too.
DEATH_WORDS = re.compile(
    r"\b(?:died|dies|dead|death|deaths|passed\s+away|passing|killed|murdered|late|funeral|obituary|RIP"
    r"|rest\s+in\s+peace|mourn\w*|perished|succumbed|lost\s+(?:his|her|their)\s+(?:life|lives|battle))\b",
    re.IGNORECASE,
)


def _records(paths: list[str]) -> dict[str, dict]:
    return {record["id"]: record for path in paths for line in open(path, encoding="utf-8") if (record := json.loads(line))}


def sample(path: str, size: int, seed: int = 15) -> None:
    """Print a seeded sample of the sentences holding a death word."""
    candidates = [
        (record["id"], start, end, record["text"][start:end])
        for record in _records([path]).values()
        for start, end in sentences(record["text"])
        if DEATH_WORDS.search(record["text"], start, end)
    ]
    for article_id, start, end, sentence in random.Random(seed).sample(candidates, min(size, len(candidates))):
        print(f"{article_id}\t{start}\t{end}\t{' '.join(sentence.split())}")
    print(f"{min(size, len(candidates))} of {len(candidates)} sentences with a death word", file=sys.stderr)


def score(labels_path: str, data_paths: list[str]) -> None:
    """Precision and recall of the statements found in the labelled sentences."""
    labels = [json.loads(line) for line in open(labels_path, encoding="utf-8") if line.strip()]
    records = _records(data_paths)
    found_by_article = {
        article_id: death_statements(records[article_id]["text"]) for article_id in {label["id"] for label in labels}
    }
    true_positives = false_positives = gold_total = 0
    misses, wrong = [], []
    for label in labels:
        gold = {name_key(name) for name in label["dead"]}
        gold_total += len(gold)
        # A statement belongs to the labelled sentence its name lies in.
        found = {name_key(d.name) for d in found_by_article[label["id"]] if label["start"] <= d.start < label["end"]}
        true_positives += len(found & gold)
        false_positives += len(found - gold)
        misses += [(label["id"], name) for name in sorted(gold - found)]
        wrong += [(label["id"], name) for name in sorted(found - gold)]
    flagged = true_positives + false_positives
    print(f"{len(labels)} labelled sentences from {len(found_by_article)} articles; {gold_total} stated deaths of named persons")
    print(f"statements found: {flagged}; correct {true_positives}")
    print(f"precision {true_positives / flagged:.3f}" if flagged else "precision -")
    print(f"recall    {true_positives / gold_total:.3f}" if gold_total else "recall -")
    for kind, items in (("missed", misses), ("wrong", wrong)):
        for article_id, name in items:
            print(f"  {kind}: {article_id}: {name}")


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "sample":
        sample(sys.argv[2], int(sys.argv[3]), *(int(seed) for seed in sys.argv[4:5]))
    elif len(sys.argv) >= 4 and sys.argv[1] == "score":
        score(sys.argv[2], sys.argv[3:])
    else:
        sys.exit(__doc__)
