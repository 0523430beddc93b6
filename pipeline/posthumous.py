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
from .offline.text import person_names
from .store import Store

__all__ = ["PosthumousFlag", "register_deceased", "find_posthumous", "update_posthumous", "posthumous_flags"]

@dataclass(frozen=True)
class PosthumousFlag:
    """A quote or act of a person another (or the same) article says has died."""

    article_id: str
    person: str
    evidence_article_id: str
    kind: str
    start: int
    end: int


def register_deceased(store: Store, article_id: str, text: str) -> list[str]:
    """Record the full names this article says have died; returns them."""
    names = sorted(name for name in deceased_people(text) if len(name.split()) >= 2)
    store.register_deceased(article_id, names)
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
    with store.transaction():
        for article_id, text, _ in analyses():
            register_deceased(store, article_id, text)
        deceased = store.deceased_register()
        flags = []
        for article_id, text, quotes in analyses():
            found = find_posthumous(article_id, text, quotes, deceased)
            store.replace_posthumous_flags(article_id, [(f.person, f.kind, f.start, f.end, f.evidence_article_id) for f in found])
            flags += found
    return flags


def posthumous_flags(store: Store, article_ids: Iterable[str] | None = None) -> list[PosthumousFlag]:
    """Stored flags, for some articles or all."""
    rows = store.posthumous_flags()
    wanted = None if article_ids is None else set(article_ids)
    return [
        PosthumousFlag(row["article_id"], row["person"], row["evidence_article_id"], row["kind"], row["start"], row["end"])
        for row in rows
        if wanted is None or row["article_id"] in wanted
    ]
