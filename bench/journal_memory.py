"""Peak memory (ru_maxrss) of opening a large answer journal, and of an offline run beside it
(issue 23, cause 13). Compare two checkouts by pointing PYTHONPATH at each:

    .venv/bin/python bench/journal_memory.py make DIR MB
    PYTHONPATH=<checkout> .venv/bin/python bench/journal_memory.py open DIR [MAX_BYTES]
    PYTHONPATH=<checkout> .venv/bin/python bench/journal_memory.py offline DIR

``make`` writes DIR/p.db.answers.jsonl, MB megabytes of unsettled answers (~3.3 kB each),
and 20 small articles in DIR/in. ``open`` opens the journal as an LLM run does (every key
unsettled; ``MAX_BYTES``: the size cap, where the checkout has one) and ``offline`` runs the
offline engine beside a copy of it. The journal is compacted by ``open``: ``make`` it again
before measuring another checkout.
"""

from __future__ import annotations

import json
import resource
import shutil
import sys
import time
from pathlib import Path


def make(folder: Path, megabytes: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    completion = {
        "id": "chatcmpl-x",
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "x" * 3000}}],
        "usage": {"prompt_tokens": 900, "completion_tokens": 700},
    }
    raw, now, number = json.dumps(completion), time.time(), 0
    with open(folder / "p.db.answers.jsonl", "w") as out:
        while out.tell() < megabytes * 1024 * 1024:
            out.write(json.dumps({"key": f"{number:064x}", "phase": "analyse", "raw": raw, "at": now}) + "\n")
            number += 1
    (folder / "in").mkdir(exist_ok=True)
    for n in range(20):
        (folder / "in" / f"a{n}.txt").write_text(
            f'Story {n}. The mayor said "we will rebuild bridge {n} by spring" on Tuesday.\n'
        )
    print(f"{number} journal entries, {(folder / 'p.db.answers.jsonl').stat().st_size} bytes")


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str]) -> None:
    what, folder = argv[0], Path(argv[1])
    if what == "make":
        make(folder, int(argv[2]))
        return
    from pipeline.runs.journal import AnswerJournal

    imported = peak_mib()
    if what == "open":
        journal = AnswerJournal(folder / "p.db", *([int(argv[2]), 10**6] if len(argv) > 2 else []))
        journal.open(lambda _key: False)
        journal.close()
        print(f"open: {len(journal.pending)} pending keys; peak RSS {peak_mib():.0f} MiB (after imports {imported:.0f} MiB)")
        return
    from pipeline.runs import run
    from pipeline.settings import load_settings

    opened: list[bool] = []
    original = AnswerJournal.open
    AnswerJournal.open = lambda self, settled: opened.append(True) or original(self, settled)  # type: ignore[method-assign]
    shutil.copy(folder / "p.db.answers.jsonl", folder / "offline.db.answers.jsonl")
    result = run([str(folder / "in")], load_settings({"engine": "offline", "db": folder / "offline.db", "min_file_age": 0}))
    print(f"offline run: {result.counts}; journal read: {bool(opened)}; peak RSS {peak_mib():.0f} MiB")


if __name__ == "__main__":
    main(sys.argv[1:])
