"""Posthumous attribution across the batch: the dead who speak or act in other articles.

An article that says a person has died (``deceased_people``) registers them in
``deceased_person`` with that article as evidence. Every analysed article is then
checked against the register: a stored quote whose speaker is a registered
person, or a mention of them followed by a present-tense act ("Len leads"), is
recorded in ``posthumous_flag``. A short form ("Len") only counts in an article
that also gives the full name, so one Len's death doesn't flag every Len.

Articles analysed before a death was registered are not re-flagged: the flag
belongs to the run that could see both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .models import VerifiedQuote
from .offline.signals import deceased_people, presented_acting
from .text import person_names
from .store import Store

__all__ = ["PosthumousFlag", "ensure_posthumous_schema", "register_deceased", "find_posthumous", "update_posthumous", "posthumous_flags"]

POSTHUMOUS_SCHEMA = """
CREATE TABLE IF NOT EXISTS deceased_person (
    name TEXT NOT NULL,
    article_id TEXT NOT NULL REFERENCES article(article_id),
    PRIMARY KEY (name, article_id)
);
CREATE TABLE IF NOT EXISTS posthumous_flag (
    article_id TEXT NOT NULL REFERENCES article(article_id),
    person TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('quote', 'act')),
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    evidence_article_id TEXT NOT NULL REFERENCES article(article_id),
    PRIMARY KEY (article_id, kind, start)
);
CREATE VIEW IF NOT EXISTS posthumous AS
    SELECT f.article_id, f.person, f.kind, f.start, f."end", substr(a.text, f.start + 1, f."end" - f.start) AS text,
           f.evidence_article_id
    FROM posthumous_flag f JOIN article a ON a.article_id = f.article_id;
"""


@dataclass(frozen=True)
class PosthumousFlag:
    """A quote or act of a person another (or the same) article says has died."""

    article_id: str
    person: str
    evidence_article_id: str
    kind: str
    start: int
    end: int


def ensure_posthumous_schema(store: Store) -> None:
    store.db.executescript(POSTHUMOUS_SCHEMA)


def register_deceased(store: Store, article_id: str, text: str) -> list[str]:
    """Record the full names this article says have died; returns them."""
    names = sorted(name for name in deceased_people(text) if len(name.split()) >= 2)
    store.db.executemany(
        "INSERT OR IGNORE INTO deceased_person (name, article_id) VALUES (?, ?)",
        [(name, article_id) for name in names],
    )
    return names


def find_posthumous(
    article_id: str, text: str, quotes: Iterable[VerifiedQuote], deceased: dict[str, str]
) -> list[PosthumousFlag]:
    """Flags for one article, given the register (full name -> evidence article)."""
    people: dict[str, tuple[str, str]] = {}
    for name in {name for _, _, name in person_names(text)} & deceased.keys():
        for key in (name, name.split()[0], name.split()[-1]):
            people[key] = (name, deceased[name])
    flags = [
        PosthumousFlag(article_id, *_person(people, quote.speaker), "quote", quote.start, quote.end)
        for quote in quotes
        if quote.speaker in people
    ]
    flags += [
        PosthumousFlag(article_id, *_person(people, name), "act", start, end)
        for start, end, name in presented_acting(text, frozenset(people))
    ]
    return flags


def _person(people: dict[str, tuple[str, str]], mention: str) -> tuple[str, str]:
    return people.get(mention) or people[mention.split()[0]]


def update_posthumous(
    store: Store, analyses: Callable[[], Iterable[tuple[str, str, list[VerifiedQuote]]]]
) -> list[PosthumousFlag]:
    """Register the deaths these articles report, then flag them.

    ``analyses`` gives (article id, text, quotes) and is called once per pass, so a
    night's articles are streamed rather than held in memory.
    """
    ensure_posthumous_schema(store)
    with store.transaction():
        for article_id, text, _ in analyses():
            register_deceased(store, article_id, text)
        deceased = _register(store)
        flags = []
        for article_id, text, quotes in analyses():
            store.db.execute("DELETE FROM posthumous_flag WHERE article_id = ?", (article_id,))
            found = find_posthumous(article_id, text, quotes, deceased)
            store.db.executemany(
                'INSERT OR IGNORE INTO posthumous_flag (article_id, person, kind, start, "end", evidence_article_id) VALUES (?, ?, ?, ?, ?, ?)',
                [(f.article_id, f.person, f.kind, f.start, f.end, f.evidence_article_id) for f in found],
            )
            flags += found
    return flags


def _register(store: Store) -> dict[str, str]:
    """Full name -> the first article (by when it was first seen) that says they died."""
    rows = store.db.execute(
        """SELECT d.name, d.article_id FROM deceased_person d JOIN article a ON a.article_id = d.article_id
           ORDER BY a.first_seen DESC, d.article_id DESC"""
    )
    return {row["name"]: row["article_id"] for row in rows}


def posthumous_flags(store: Store, article_ids: Iterable[str] | None = None) -> list[PosthumousFlag]:
    """Stored flags, for some articles or all."""
    ensure_posthumous_schema(store)
    rows = store.db.execute('SELECT article_id, person, kind, start, "end", evidence_article_id FROM posthumous_flag ORDER BY article_id, start')
    wanted = None if article_ids is None else set(article_ids)
    return [
        PosthumousFlag(row["article_id"], row["person"], row["evidence_article_id"], row["kind"], row["start"], row["end"])
        for row in rows
        if wanted is None or row["article_id"] in wanted
    ]
