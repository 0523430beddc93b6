"""Fuzz the input readers with random bytes and JSON structures (issue 6); run by hand, not in CI.

    .venv/bin/python scripts/fuzz_inputs.py [--examples 3000] [--seed 0]

Hypothesis draws file contents (random bytes, bytes assembled from troublesome fragments:
magic numbers, BOMs, invalid UTF-8, NUL, HTML, JSON pieces), JSON documents and JSONL lines,
and stdin text, with a random size limit, and reads each through ``iter_articles``. Every
input must end as articles or skipped records: an exception escaping ``iter_articles`` is a
bug, and so is an article whose text is not normalised or whose id is not its text's hash.
Prints how many inputs were tried, their outcomes (reasons with numbers replaced by N) and
every crash; exits 1 if there was any.
"""

from __future__ import annotations

import argparse
import codecs
import io
import json
import re
import sys
import tempfile
import traceback
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.models import Article, SkippedInput  # noqa: E402
from pipeline.inputs import article_id, iter_articles, normalise_text  # noqa: E402

__all__ = ["FuzzReport", "fuzz", "main"]

SUFFIXES = (".txt", ".md", ".html", ".htm", ".json", ".jsonl")
FRAGMENTS = (
    b"\x89PNG\r\n\x1a\n",
    b"\x1f\x8b",
    b"PK\x03\x04",
    b"%PDF-",
    codecs.BOM_UTF8,
    codecs.BOM_UTF16_LE,
    codecs.BOM_UTF16_BE,
    codecs.BOM_UTF32_LE,
    b"\xff",
    b"\xc3\x28",
    b"\xed\xa0\x80",
    b"\x00",
    b"\r\n",
    b"\r",
    b"\n",
    b" ",
    b"\t",
    b"<script>x</script>",
    b"<p>",
    b"</p>",
    b"<iframe>",
    b"<meta charset=latin-1>",
    b"<!--",
    b"{",
    b"}",
    b"[",
    b"]",
    b'"text": ',
    b'"id": ',
    b'"text"',
    b",",
    b":",
    b"null",
    b"42",
    b"true",
    "\u201cquoted\u201d \u2014 caf\u00e9\u2026".encode(),
    b"\\ud800",
    b'"\\u0000"',
    b"{{ x }}",
    b"{% if %}",
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["text", "id", "title", "url", "published", "other"]) | st.text(max_size=5), children, max_size=5
        )
    ),
    max_leaves=12,
)
file_bytes = st.one_of(
    st.binary(max_size=600),
    st.lists(st.sampled_from(FRAGMENTS) | st.binary(max_size=12), max_size=30).map(b"".join),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.lists(json_values.map(json.dumps) | st.text(max_size=30), max_size=6).map(lambda lines: "\n".join(lines).encode()),
)
size_limits = st.sampled_from([1, 8, 64, 512, 10_000_000])


class FuzzReport:
    """Inputs tried, their outcomes, and the crashes with the input that caused each."""

    def __init__(self) -> None:
        self.tried = 0
        self.outcomes: Counter[str] = Counter()
        self.crashes: list[str] = []

    def read(self, label: str, read: Callable[[], Iterable[Article | SkippedInput]]) -> None:
        self.tried += 1
        try:
            for item in read():
                if isinstance(item, Article):
                    self._check(item)
                    self.outcomes["article"] += 1
                else:
                    self.outcomes["skipped: " + re.sub(r"\d+", "N", item.reason)] += 1
        except Exception:  # any exception escaping the readers is what this script hunts
            self.crashes.append(f"{label}\n{traceback.format_exc(limit=-3)}")

    @staticmethod
    def _check(article: Article) -> None:
        if not article.text or normalise_text(article.text) != article.text:
            raise AssertionError(f"article text not normalised: {article.text[:80]!r}")
        if article.article_id != article_id(article.text):
            raise AssertionError("article id is not the hash of its text")


def fuzz(examples: int, random_seed: int) -> FuzzReport:
    report = FuzzReport()
    with tempfile.TemporaryDirectory() as folder:

        @seed(random_seed)
        @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(file_bytes, st.sampled_from(SUFFIXES), size_limits, st.text(max_size=200))
        def read_one(content: bytes, suffix: str, max_bytes: int, stdin_text: str) -> None:
            path = Path(folder) / f"input{suffix}"
            path.write_bytes(content)
            report.read(
                f"{suffix} max_bytes={max_bytes} {content[:200]!r}", lambda: iter_articles([str(path)], max_bytes=max_bytes)
            )
            report.read(
                f"stdin max_bytes={max_bytes} {stdin_text[:200]!r}",
                lambda: iter_articles(["-"], max_bytes=max_bytes, stdin=io.StringIO(stdin_text)),
            )

        read_one()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    options = parser.parse_args()
    report = fuzz(options.examples, options.seed)
    print(f"inputs tried: {report.tried}")
    for outcome, count in report.outcomes.most_common():
        print(f"{count:7d}  {outcome}")
    print(f"crashes: {len(report.crashes)}")
    for crash in report.crashes[:20]:
        print("---", crash, sep="\n")
    sys.exit(1 if report.crashes else 0)


if __name__ == "__main__":
    main()
