"""The death register, and posthumous attribution: the dead who speak or act in other articles.

An article that explicitly says a person died (``people.death_statements``) leaves evidence
in ``death_evidence``: the name, the article, the name's and the sentence's offsets. A name
is in the register when the desk added it (``add_death``) or when it has evidence from an
article the pipeline does not itself label ``likely_fabrication``: a fabricated story alone
never kills anyone. An entry is *confirmed* when the desk added it or independent sources
back it: articles from at least two different domains (their URL's) or, for articles without
a URL, source files. Only a confirmed death is evidence against another article; one feed
article saying "RIP Joe Biden." makes an unconfirmed death, which the desk sees as a note. ``remove_death`` takes a name out and suppresses its evidence, so the
same articles never put it back (a new article saying so again does); it also drops the
posthumous flags that rested on it.

Every analysed article is checked against the register: a stored quote whose speaker is a
registered person, or a mention of them followed by a present-tense act ("Len leads"), is
recorded in ``posthumous_flag`` with the entry it rests on. A short form ("Len") only counts
in an article that also gives the full name, so one Len's death doesn't flag every Len.

The flags follow the register: ``posthumous_applied`` holds the register they were computed
from, and a change to an entry (the desk adds or removes it, new evidence registers it) re-flags
the stored articles that mention the name, at the desk's command or the next run.

This module makes every query on ``death_evidence``, ``death_desk_entry``, ``posthumous_flag``
and ``posthumous_applied``; writers hold the store's transaction.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date as date_type
from typing import Any

from pipeline.errors import InputError
from pipeline.models import Label, VerifiedQuote
from pipeline.offline.signals import presented_acting
from pipeline.text import person_names
from pipeline.desk.people import DeathStatement, death_statements, death_statements_of, name_key
from pipeline.desk.source_lists import normalise_domain
from pipeline.store import Store, among, utc_now

__all__ = [
    "articles_containing",
    "DeathEntry",
    "DeathEvidence",
    "PosthumousFlag",
    "add_death",
    "death_register",
    "find_posthumous",
    "posthumous_flags",
    "reflag_changed",
    "register_deaths",
    "remove_death",
    "update_posthumous",
]

DESK = "desk"
INDEPENDENT_SOURCES = 2
"""How many independent sources (domains or source files) confirm a death read from the feed."""

_TICK_EVERY = 50  # articles between two progress reports of the death register


@dataclass(frozen=True)
class DeathEvidence:
    """Where an article says the person died: the name's and its sentence's offsets."""

    article_id: str
    kind: str
    start: int
    end: int
    sentence_start: int
    sentence_end: int
    sentence: str = ""
    source: str = ""
    """Where the article came from, for independence: its URL's domain, else its source file."""


@dataclass(frozen=True)
class DeathEntry:
    """A registered death: added by the desk, or backed by articles not labelled fabricated."""

    name: str
    evidence: list[DeathEvidence] = field(default_factory=list)
    desk_date: str | None = None
    desk_source: str | None = None
    desk_added_at: str | None = None

    @property
    def by_desk(self) -> bool:
        return self.desk_added_at is not None

    @property
    def confirmed(self) -> bool:
        """The desk's word, or evidence from at least two independent sources."""
        return self.by_desk or len({e.source for e in self.evidence}) >= INDEPENDENT_SOURCES

    @property
    def evidence_article_id(self) -> str | None:
        """The article a flag cites: the first evidence, or None for a desk entry without any."""
        return self.evidence[0].article_id if self.evidence else None

    def to_record(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "added_by_desk": self.by_desk,
            "date": self.desk_date,
            "source": self.desk_source,
            "added_at": self.desk_added_at,
            "confirmed": self.confirmed,
            "evidence": [
                {
                    "article_id": e.article_id,
                    "kind": e.kind,
                    "start": e.start,
                    "end": e.end,
                    "sentence_start": e.sentence_start,
                    "sentence_end": e.sentence_end,
                    "sentence": e.sentence,
                    "source": e.source,
                }
                for e in self.evidence
            ],
        }


@dataclass(frozen=True)
class PosthumousFlag:
    """A quote or act of a person in the register; ``evidence_article_id`` is the article the
    entry rests on (None when the desk registered the death without one). An unconfirmed
    flag (the death rests on one source) is a note for the desk, never evidence."""

    article_id: str
    person: str
    evidence_article_id: str | None
    kind: str
    start: int
    end: int
    confirmed: bool = True

    def describe(self) -> str:
        """The desk's note on an unconfirmed flag."""
        return (
            f"unconfirmed death: {self.person} ({self.kind} here) is said to have died by one source only"
            f" ({(self.evidence_article_id or '')[:12]}); not evidence until another source or the desk confirms it"
        )


def register_deaths(store: Store, article_id: str, text: str) -> list[str]:
    """Record the evidence of every death this article states; returns the names.

    Evidence already recorded keeps its state, so a removed name stays removed.
    """
    return _record_deaths(store, article_id, death_statements(text))


def _record_deaths(store: Store, article_id: str, found: list[DeathStatement]) -> list[str]:
    now = utc_now()
    store.db.executemany(
        """INSERT OR IGNORE INTO death_evidence (name_key, name, article_id, kind, start, "end",
           sentence_start, sentence_end, found_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [(name_key(d.name), d.name, article_id, d.kind, d.start, d.end, d.sentence_start, d.sentence_end, now) for d in found],
    )
    return sorted({d.name for d in found})


def death_register(store: Store) -> list[DeathEntry]:
    """Every registered death, by name, each with its evidence."""
    evidence: dict[str, list[DeathEvidence]] = {}
    names: dict[str, str] = {}
    # Unsuppressed evidence with its sentence, from articles the pipeline does not label fabricated.
    rows = store.db.execute(
        """SELECT e.*, substr(a.text, e.sentence_start + 1, e.sentence_end - e.sentence_start) AS sentence, a.url,
                  (SELECT MIN(s.source_path) FROM article_source s WHERE s.article_id = e.article_id) AS source_path
           FROM death_evidence e JOIN article a ON a.article_id = e.article_id
           JOIN latest_result l ON l.article_id = e.article_id
           WHERE e.suppressed_at IS NULL AND l.label != ?
           ORDER BY a.first_seen, e.article_id, e.start""",
        (Label.likely_fabrication.value,),
    )
    for row in rows:
        names.setdefault(row["name_key"], row["name"])
        evidence.setdefault(row["name_key"], []).append(
            DeathEvidence(
                row["article_id"],
                row["kind"],
                row["start"],
                row["end"],
                row["sentence_start"],
                row["sentence_end"],
                row["sentence"],
                (normalise_domain(row["url"]) if row["url"] else None) or row["source_path"] or row["article_id"],
            )
        )
    desk = {row["name_key"]: dict(row) for row in store.db.execute("SELECT * FROM death_desk_entry")}
    entries = [
        DeathEntry(
            name=desk[key]["name"] if key in desk else names[key],
            evidence=evidence.get(key, []),
            desk_date=desk[key]["date"] if key in desk else None,
            desk_source=desk[key]["source"] if key in desk else None,
            desk_added_at=desk[key]["added_at"] if key in desk else None,
        )
        for key in names.keys() | desk.keys()
    ]
    return sorted(entries, key=lambda entry: name_key(entry.name))


def add_death(store: Store, name: str, date: str | None = None, source: str | None = None) -> DeathEntry:
    """Register a death on the desk's word (again, if it was removed), and flag the stored
    articles that present the person speaking or acting."""
    name = " ".join(name.split())
    if not name:
        raise InputError("deaths add", "the name is empty")
    if date is not None:
        date = _death_date(date)
    with store.transaction():
        store.db.execute(
            "INSERT OR REPLACE INTO death_desk_entry (name_key, name, date, source, added_at) VALUES (?, ?, ?, ?, ?)",
            (name_key(name), name, date, source, utc_now()),
        )
        reflag_changed(store)
    return next(entry for entry in death_register(store) if name_key(entry.name) == name_key(name))


def _death_date(value: str) -> str:
    """A date of death as ISO ``YYYY-MM-DD`` (or just ``YYYY-MM`` or ``YYYY`` when that is all
    the desk knows); InputError for anything else."""
    value = value.strip()
    padded = value + "-01" * (2 - value.count("-"))
    try:
        if not re.fullmatch(r"\d{4}(-\d{2}){0,2}", value):
            raise ValueError(value)
        date_type.fromisoformat(padded)
    except ValueError:
        raise InputError("deaths add", f"--date must be a date like 2023-04-22 (or 2023-04, 2023), got {value!r}") from None
    return value


def remove_death(store: Store, name: str) -> DeathEntry:
    """Take a name out of the register for good: its evidence is suppressed (the same
    articles never re-add it) and the posthumous flags resting on it are dropped."""
    key = name_key(name)
    entry = next((entry for entry in death_register(store) if name_key(entry.name) == key), None)
    if entry is None:
        raise InputError("deaths remove", f"{name!r} is not in the death register")
    with store.transaction():
        store.db.execute(
            "UPDATE death_evidence SET suppressed_at = ? WHERE name_key = ? AND suppressed_at IS NULL", (utc_now(), key)
        )
        store.db.execute("DELETE FROM death_desk_entry WHERE name_key = ?", (key,))
        store.db.execute("DELETE FROM posthumous_flag WHERE person = ?", (entry.name,))
        reflag_changed(store)
    return entry


def find_posthumous(
    article_id: str, text: str, quotes: Iterable[VerifiedQuote], register: dict[str, str | None]
) -> list[PosthumousFlag]:
    """Flags for one article, given the register (full name -> the article its entry rests on)."""
    by_key = {name_key(name): name for name in register}
    people: dict[str, tuple[str, str | None]] = {}
    for mention in {name for _, _, name in person_names(text)}:
        name = by_key.get(name_key(mention))
        if name is None:
            continue
        for key in (mention, mention.split()[0], mention.split()[-1]):
            people[key] = (name, register[name])
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


def _person(people: dict[str, tuple[str, str | None]], mention: str) -> tuple[str, str | None]:
    return people.get(mention) or people[mention.split()[0]]


def update_posthumous(
    store: Store,
    analyses: Callable[[], Iterable[tuple[str, str, list[VerifiedQuote]]]],
    on_article: Callable[[int], None] | None = None,
) -> list[PosthumousFlag]:
    """Record the deaths these articles state, flag them against the register, and
    re-flag the stored articles a change to the register concerns; returns these
    articles' flags.

    ``analyses`` gives (article id, text, quotes) and is called once per pass, so a
    night's articles are streamed rather than held in memory; ``on_article`` hears how many
    articles' deaths are read so far, every ``_TICK_EVERY`` articles.
    """
    with store.transaction():
        read = death_statements_of((article_id, text) for article_id, text, _ in analyses())
        for done, (article_id, found) in enumerate(read, start=1):
            _record_deaths(store, article_id, found)
            if on_article is not None and done % _TICK_EVERY == 0:
                on_article(done)
        register = _register(death_register(store))
        flags, flagged = [], set()
        for article_id, text, quotes in analyses():
            flags += _flag(store, article_id, text, quotes, register)
            flagged.add(article_id)
        reflag_changed(store, done=flagged)
    return flags


def reflag_changed(store: Store, done: Iterable[str] = ()) -> int:
    """Bring the stored flags to the register: every stored article (bar ``done``) that
    mentions a name added, removed or re-sourced since the flags were last computed is
    flagged again. Returns how many articles were (callers hold a transaction)."""
    entries = death_register(store)
    current = {name_key(entry.name): (entry.name, entry.evidence_article_id, entry.confirmed) for entry in entries}
    applied = {
        row["name_key"]: (row["name"], row["evidence_article_id"], bool(row["confirmed"]))
        for row in store.db.execute("SELECT name_key, name, evidence_article_id, confirmed FROM posthumous_applied")
    }
    changed = [key for key in current.keys() | applied.keys() if current.get(key) != applied.get(key)]
    # A flag needs the full name in the article, so its longest word finds every candidate.
    needles = {max(re.findall(r"\w+", key) or [key], key=len) for key in changed}
    skip = set(done)
    candidates = [article_id for article_id in articles_containing(store, needles) if article_id not in skip]
    register = _register(entries)
    for result in store.latest_results(candidates):
        _flag(store, result.article.article_id, result.article.text, result.analysis.quotes, register)
    store.db.execute("DELETE FROM posthumous_applied")
    store.db.executemany(
        "INSERT INTO posthumous_applied (name_key, name, evidence_article_id, confirmed) VALUES (?, ?, ?, ?)",
        [(key, name, evidence, confirmed) for key, (name, evidence, confirmed) in current.items()],
    )
    return len(candidates)


def articles_containing(store: Store, needles: Iterable[str]) -> list[str]:
    """Articles whose case-folded text contains any of these case-folded strings (any number:
    they travel as one JSON array, never one SQL expression each)."""
    wanted = sorted(set(needles))
    if not wanted:
        return []
    store.db.create_function("casefold", 1, lambda text: text.casefold() if text else "", deterministic=True)
    rows = store.db.execute(
        "SELECT article_id FROM (SELECT article_id, casefold(text) AS folded FROM article) WHERE EXISTS"
        " (SELECT 1 FROM json_each(?) WHERE instr(folded, json_each.value) > 0) ORDER BY article_id",
        (json.dumps(wanted),),
    )
    return [row["article_id"] for row in rows]


# The register the flags are found against: confirmed entries, then unconfirmed ones.
_Registers = tuple[dict[str, str | None], dict[str, str | None]]


def _register(entries: Iterable[DeathEntry]) -> _Registers:
    confirmed: dict[str, str | None] = {}
    unconfirmed: dict[str, str | None] = {}
    for entry in entries:
        (confirmed if entry.confirmed else unconfirmed)[entry.name] = entry.evidence_article_id
    return confirmed, unconfirmed


def _flag(
    store: Store, article_id: str, text: str, quotes: Iterable[VerifiedQuote], register: _Registers
) -> list[PosthumousFlag]:
    quotes = list(quotes)
    found = find_posthumous(article_id, text, quotes, register[0])
    found += [replace(flag, confirmed=False) for flag in find_posthumous(article_id, text, quotes, register[1])]
    store.db.execute("DELETE FROM posthumous_flag WHERE article_id = ?", (article_id,))
    store.db.executemany(
        'INSERT OR IGNORE INTO posthumous_flag (article_id, person, kind, start, "end", evidence_article_id, confirmed) '
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(article_id, f.person, f.kind, f.start, f.end, f.evidence_article_id, f.confirmed) for f in found],
    )
    return found


def posthumous_flags(store: Store, article_ids: Iterable[str] | None = None) -> list[PosthumousFlag]:
    """Stored flags, for these articles or all, by article and offset (unconfirmed ones too)."""
    condition, params = among("article_id", article_ids)
    rows = store.db.execute(
        f"""SELECT article_id, person, evidence_article_id, kind, start, "end", confirmed FROM posthumous_flag
            WHERE {condition} ORDER BY article_id, start""",
        params,
    )
    return [
        PosthumousFlag(
            row["article_id"],
            row["person"],
            row["evidence_article_id"],
            row["kind"],
            row["start"],
            row["end"],
            bool(row["confirmed"]),
        )
        for row in rows
    ]
