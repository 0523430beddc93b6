"""Red team, cause 6: no adversarial article makes the offline analysis super-linear.

Each article is built to stress one scan (runs of end marks, capitalised runs without a
lower-case letter, runs of capitalised stop words, one endless sentence, quote marks). The whole
per-article path (offline engine, quote verification, signals), and the death-statement reading
of batch insight, runs in a forked child under a
CPU-time limit 10 to 30 times what a linear pass takes here; a quadratic scan of the same text
needs minutes to hours. ``bench/adversarial_speed.py`` prints the growth ratios themselves.
"""

import random

import pytest
from support.adversarial import cpu_seconds

pytestmark = pytest.mark.cause(6)

SIZE = 1_000_000
CPU_LIMIT = 30.0


def _repeat(pieces: list[str], seed: int = 5, size: int = SIZE) -> str:
    rng = random.Random(seed)
    parts, length = [], 0
    while length < size:
        piece = rng.choice(pieces)
        parts.append(piece)
        length += len(piece)
    return "".join(parts)[:size]


ARTICLES = {
    "question-mark-run": "Is it true" + "?" * SIZE,
    "mixed-end-mark-runs": _repeat(["!?" * 700, "." * 900, "…" * 300, " word "]),
    "capital-run-with-hyphens": "Mr " + _repeat(["Q-", "X’", "ZZ-", "É'"]),
    "capitalised-stop-words": _repeat(["When ", "The ", "Then ", "And ", "After "]) + "Derek Hough",
    "one-endless-sentence": _repeat(["the dancer, ", "and then ", "Len Goodman ", "who said that "]),
    # Verifying every quotation of a quote storm is linear but costly (~10 CPU s per 100k characters).
    "quote-mark-storm": _repeat(["“", "”", '"', "'", "‘", "’", " said ", "x"], size=SIZE // 4),
}
# Batch insight reads each article for death statements with spaCy.
DEATHS = {
    "a-death-cue-in-every-sentence": _repeat(["Goodman died. ", "The late Len Goodman smiled. ", "Hough passed away. "]),
    "over-a-million-characters": _repeat(["Smith died on Monday. ", "Derek Hough danced. "]) + " Jones died." * 20_000,
}


@pytest.mark.parametrize("name", ARTICLES)
def test_redteam_superlinear_an_adversarial_article_is_analysed_in_linear_time(name):
    seconds = cpu_seconds("analyse_article", ARTICLES[name], CPU_LIMIT)
    assert seconds is not None, f"{name}: over {CPU_LIMIT} CPU s for {SIZE:,} characters"


@pytest.mark.parametrize("name", DEATHS)
def test_redteam_superlinear_death_statements_are_read_in_bounded_time(name):
    seconds = cpu_seconds("death_statements", DEATHS[name], CPU_LIMIT)
    assert seconds is not None, f"{name}: over {CPU_LIMIT} CPU s (or a crash) for {len(DEATHS[name]):,} characters"
