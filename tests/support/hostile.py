"""The hostile-input corpus of scripts/make_hostile_corpus.py, for tests/test_hostile_inputs.py."""

from make_hostile_corpus import (
    CASES,
    HTML_PAYLOADS,
    INJECTION_PARAGRAPHS,
    LONG_ARTICLE_TAIL_QUOTE,
    TEMPLATE_TEXT,
    UNREADABLE_FILE,
    VANISHING_FILE,
    HostileCase,
    write_corpus,
)

__all__ = [
    "CASES",
    "HTML_PAYLOADS",
    "INJECTION_PARAGRAPHS",
    "LONG_ARTICLE_TAIL_QUOTE",
    "TEMPLATE_TEXT",
    "UNREADABLE_FILE",
    "VANISHING_FILE",
    "HostileCase",
    "write_corpus",
]
