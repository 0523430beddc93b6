"""Print every death statement found in a fixed sample of labelled dev articles, for hand labelling.

    .venv/bin/python scripts/death_register_sample.py ../shared/eval/dev/llmfake_gossipcop.jsonl 150

Each line: article id, name, kind, and the sentence; the reader marks each right or wrong
(precision). The data is read where it lies, never copied into the repository.
"""

from __future__ import annotations

import json
import random
import sys
import time

from pipeline.people import death_statements


def main(path: str, size: int) -> None:
    records = [json.loads(line) for line in open(path, encoding="utf-8")]
    sample = random.Random(15).sample(records, min(size, len(records)))
    started = time.perf_counter()
    found = 0
    for record in sample:
        text = record["text"]
        for d in death_statements(text):
            found += 1
            sentence = " ".join(text[d.sentence_start:d.sentence_end].split())[:220]
            print(f"{record['id'][:40]}\t{record.get('label')}\t{d.name}\t{d.kind}\t{sentence}")
    elapsed = time.perf_counter() - started
    print(f"{len(sample)} articles, {found} statements, {elapsed:.1f}s", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
