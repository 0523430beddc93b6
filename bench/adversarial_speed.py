"""Growth of every offline analysis stage on adversarial articles: linear or not.

    .venv/bin/python bench/adversarial_speed.py [--size 1000000] [--ratio 4] [--cap 60]
        [--generator NAME ...] [--stage NAME ...]

Each generator writes an article of a given size built to stress one thing (quote marks, no
punctuation, one giant sentence, capitalised names, deep nesting, ...). Every stage runs on the
article at ``size / ratio`` and at ``size`` characters, each in a fresh forked process (so no cache
carries over and a runaway stage can be killed at ``--cap`` CPU-seconds). The printed growth is
``log(t_big / t_small) / log(ratio)``: about 1 for a linear stage, 2 for a quadratic one. A stage is
SUPER-LINEAR when its growth exceeds 1.3 or it hits the cap; times are the child's CPU time, so
other load on a shared machine does not count.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing
import random
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.models import Article, QuoteDraft  # noqa: E402
from pipeline.offline import analyse_offline, compute_signals  # noqa: E402
from pipeline.offline.claims import find_claims  # noqa: E402
from pipeline.offline.label import tribute_strength  # noqa: E402
from pipeline.offline.model import word_features  # noqa: E402
from pipeline.offline.quotes import find_quotes  # noqa: E402
from pipeline.offline.signals import deceased_people, measure_signals, presented_acting  # noqa: E402
from pipeline.text import paragraphs, person_names, sentences  # noqa: E402
from pipeline.desk.people import death_statements  # noqa: E402
from pipeline.desk.posthumous import find_posthumous  # noqa: E402
from pipeline.engines import OfflineEngine  # noqa: E402
from pipeline.runs import analyse_article  # noqa: E402
from pipeline.desk.clusters import content_words, sketch  # noqa: E402
from pipeline.inputs import normalise_text  # noqa: E402
from pipeline.inputs.html import _article_from_html  # noqa: E402
from pipeline.checks.quotes import verify_quotes  # noqa: E402

SUPER_LINEAR = 1.3
_WORDS = "the a of dance stage heaven crowd night music step floor light silence fans room".split()
_NAMES = "Derek Hough Len Goodman Carrie Ann Inaba Mark Ballas Julianne Bruno Tonioli Maria Lopez".split()


def _fill(unit: Callable[[random.Random], str], size: int, seed: int = 13) -> str:
    rng = random.Random(seed)
    parts, length = [], 0
    while length < size:
        piece = unit(rng)
        parts.append(piece)
        length += len(piece)
    return "".join(parts)[:size]


def _words(rng: random.Random, count: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(count))


GENERATORS: dict[str, Callable[[int], str]] = {
    # quote marks of every kind, mostly unbalanced, with a little text between
    "quote_marks": lambda n: _fill(
        lambda r: r.choice(['"', "“", "”", "'", "‘", "’", '" ', " “", "” said "]) + r.choice(["", "a", "he said", " "]), n
    ),
    "quote_storm": lambda n: _fill(lambda r: '"' * r.randint(1, 4) + " ", n),
    "unclosed_quotes": lambda n: _fill(lambda r: f"“{_words(r, 3)} ", n),
    "balanced_quotes": lambda n: _fill(lambda r: f"“{_words(r, 6)},” said {r.choice(_NAMES)} {r.choice(_NAMES)}. ", n),
    "no_punctuation": lambda n: _fill(lambda r: _words(r, 1) + " ", n),
    "giant_sentence": lambda n: _fill(lambda r: f"{_words(r, 4)}, {r.choice(_NAMES)} and ", n),
    "many_names": lambda n: _fill(lambda r: f"{r.choice(_NAMES)} {r.choice(_NAMES)} ", n),
    "names_and_deaths": lambda n: _fill(
        lambda r: f"The late {r.choice(_NAMES)} {r.choice(_NAMES)} died. {r.choice(_NAMES)} {r.choice(_NAMES)} smiles. ", n
    ),
    "abbreviations": lambda n: _fill(lambda r: r.choice(["Mr. ", "Dr. ", "U.S. ", "A. ", "St. ", "e.g. "]), n),
    "one_word": lambda n: "a" * n,
    "one_word_per_line": lambda n: _fill(lambda r: r.choice(_WORDS) + "\n", n),
    "deep_nesting": lambda n: "“‘(" * (n // 6) + "x" + ")’”" * (n // 6),
    "cue_storm": lambda n: _fill(lambda r: r.choice(["said ", "says ", "according to ", "told ", "added, "]), n),
    "capitalised_words": lambda n: _fill(lambda r: r.choice(_WORDS).title() + " ", n),
    "end_mark_runs": lambda n: _fill(lambda r: r.choice(["!", ".", "?", "…"]) * r.randint(1, 5000), n),
    "capital_hyphens": lambda n: _fill(lambda r: r.choice(["A-", "B'", "C’", "DE-"]), n),
    "stop_word_names": lambda n: _fill(lambda r: r.choice(["The ", "But ", "And ", "When ", "Then "]), n),
    "whitespace_runs": lambda n: _fill(lambda r: r.choice(_NAMES) + " " * r.randint(1, 3000) + r.choice(["\t", "", "."]), n),
    "giant_quote": lambda n: "“" + _fill(lambda r: _words(r, 8) + ", ", n - 2) + "”",
    "apostrophes": lambda n: _fill(lambda r: r.choice(["don't ", "it's ", "O'Neil's ", "'tis ", "rock 'n' roll ", "’90s "]), n),
    "paragraph_quotes": lambda n: _fill(lambda r: f"“{_words(r, r.randint(1, 30))}\n", n),
    "said_names": lambda n: _fill(lambda r: f"said {r.choice(_NAMES)} {r.choice(_NAMES)}, ", n),
    "dashes": lambda n: _fill(lambda r: r.choice(["— ", "– ", "-- ", "—“", "”—"]) + r.choice(_WORDS) + " ", n),
    "death_cues": lambda n: _fill(lambda r: f"{r.choice(_NAMES)} died. The late {r.choice(_NAMES)} {r.choice(_NAMES)}. ", n),
    "html_nesting": lambda n: "<div>" * (n // 11) + "text" + "</div>" * (n // 11),
}


def _article(text: str) -> Article:
    return Article(article_id="bench", text=text, title=None, url=None, published=None, source_path="bench", record_id=None)


def _drafts(text: str) -> list[QuoteDraft]:
    """Quotes an engine could send: pieces of the text, split pieces, and near misses."""
    rng = random.Random(7)
    pieces = []
    for _ in range(20):
        start = rng.randrange(max(len(text) - 200, 1))
        length = rng.randint(20, 200)
        piece = text[start : start + length]
        pieces += [piece, piece + " x", " ".join(piece.split()[::-1])]
    pieces.append(" ".join(text.split()[:400]))
    return [QuoteDraft(speaker="X", speaker_kind="anonymous", text=piece or "x", cue=None, channel=None) for piece in pieces]


STAGES: dict[str, Callable[[str], object]] = {
    "normalise_text": normalise_text,
    "html_extraction": lambda text: _article_from_html(f"<html><body><p>{text}</p></body></html>", "bench.html"),
    "paragraphs": lambda text: list(paragraphs(text)),
    "sentences": sentences,
    "person_names": person_names,
    "word_features": word_features,
    "find_quotes": find_quotes,
    "deceased_people": deceased_people,
    "presented_acting": lambda text: presented_acting(text, frozenset(name for _, _, name in person_names(text))),
    "tribute_strength": tribute_strength,
    "find_claims": find_claims,
    "measure_signals": measure_signals,
    "compute_signals": compute_signals,
    "verify_quotes": lambda text: verify_quotes(text, _drafts(text)),
    # An engine's copy of the whole text with its last word wrong: no exact match, so the
    # split-quote search runs over every word.
    "verify_near_miss": lambda text: verify_quotes(
        text,
        [QuoteDraft(speaker="X", speaker_kind="anonymous", text=" ".join(text.split()[:-1] + ["zebra"]), cue=None, channel=None)],
    ),
    "find_posthumous": lambda text: find_posthumous(
        "bench", text, find_quotes(text), {name: "evidence" for _, _, name in person_names(text)[:50]}
    ),
    "death_statements": death_statements,
    "clusters": lambda text: sketch(content_words(text)),
    "analyse_offline": lambda text: analyse_offline(_article(text)),
    "analyse_article": lambda text: asyncio.run(analyse_article(_article(text), OfflineEngine())),
}


def _child(stage: str, text: str, cap: float, pipe) -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (math.ceil(cap), math.ceil(cap) + 1))
    started = time.process_time()
    STAGES[stage](text)
    pipe.send(time.process_time() - started)


def cpu_seconds(stage: str, text: str, cap: float) -> float | None:
    """CPU seconds of one stage on one text in a fresh process, or None past the cap."""
    receiver, sender = multiprocessing.Pipe(duplex=False)
    process = multiprocessing.get_context("fork").Process(target=_child, args=(stage, text, cap, sender))
    process.start()
    sender.close()
    # The CPU limit kills a runaway child; the wall-clock wait only guards a stuck one.
    try:
        seconds = receiver.recv() if receiver.poll(cap * 20) else None
    except EOFError:  # killed at the CPU limit
        seconds = None
    process.kill()
    process.join()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="characters of the larger article")
    parser.add_argument("--ratio", type=int, default=4, help="larger size / smaller size")
    parser.add_argument("--cap", type=float, default=60.0, help="CPU seconds a stage may take on one article")
    parser.add_argument("--generator", action="append", choices=sorted(GENERATORS))
    parser.add_argument("--stage", action="append", choices=list(STAGES))
    args = parser.parse_args()
    small_size = args.size // args.ratio
    slow: list[str] = []
    print(f"{'generator':18} {'stage':17} {small_size:>9,}c s {args.size:>9,}c s  growth")
    for name in args.generator or GENERATORS:
        small, big = GENERATORS[name](small_size), GENERATORS[name](args.size)
        for stage in args.stage or STAGES:
            small_time = cpu_seconds(stage, small, args.cap)
            big_time = cpu_seconds(stage, big, args.cap) if small_time is not None else None
            if big_time is None:
                growth, verdict = "-", "SUPER-LINEAR (cap reached)"
            else:
                exponent = math.log(max(big_time, 1e-3) / max(small_time, 1e-3 / args.ratio)) / math.log(args.ratio)
                growth, verdict = f"{exponent:.2f}", "SUPER-LINEAR" if exponent > SUPER_LINEAR and big_time > 0.05 else ""
            if verdict:
                slow.append(f"{name}/{stage}")
            print(f"{name:18} {stage:17} {_seconds(small_time):>11} {_seconds(big_time):>11}  {growth:>6} {verdict}", flush=True)
    print(
        f"super-linear: {len(slow)} of {len(GENERATORS if not args.generator else args.generator) * len(args.stage or STAGES)}"
        + (f" ({', '.join(slow)})" if slow else "")
    )


def _seconds(value: float | None) -> str:
    return "cap" if value is None else f"{value:.3f}"


if __name__ == "__main__":
    main()
