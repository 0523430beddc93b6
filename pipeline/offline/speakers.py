"""Who a noun phrase next to a speech cue names: a pronoun, a person (through an
appositive), or a role, crowd or anonymous phrase."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.models import SpeakerKind
from pipeline.offline.lexicon import (
    ANONYMOUS,
    APPOSITIVE_START,
    ASIDE,
    CROWD,
    DETERMINER,
    DISCOURSE,
    ROLE_WORDS_BEFORE_NAME,
)
from pipeline.text import NON_PERSON, PRONOUNS, person_names

__all__ = ["Speaker", "speaker_from_phrase", "clause_subject", "is_name", "classify_phrase", "role_then_name"]


@dataclass
class Speaker:
    text: str
    start: int
    kind: SpeakerKind
    pronoun: bool = False


def speaker_from_phrase(phrase: str, offset: int, prefer_last: bool) -> Speaker | None:
    """The speaker inside a noun phrase next to a cue: a pronoun, a person's name (through
    an appositive such as "Rosette Pambakian, a Tinder spokeswoman"), or a role/crowd phrase."""
    lead = len(phrase) - len(phrase.lstrip(" ,;—–-\t"))
    phrase = phrase[lead:].rstrip(" ,;—–-\t")
    offset += lead
    stripped = DISCOURSE.sub("", phrase)
    offset += len(phrase) - len(stripped)
    phrase = stripped
    if not phrase:
        return None
    chunks: list[tuple[int, str]] = []
    position = 0
    for piece in phrase.split(","):
        chunks.append((position + len(piece) - len(piece.lstrip()), piece.strip()))
        position += len(piece) + 1
    chunks = [(at, chunk) for at, chunk in chunks if chunk]
    if not chunks:
        return None
    while len(chunks) > 1 and (
        re.match(r"(?:who|which|whose|where)\b", chunks[-1][1], re.IGNORECASE) or prefer_last and ASIDE.match(chunks[-1][1])
    ):
        chunks.pop()
    first_at, first = chunks[0]
    # "Clinton, exasperated, responded": a lower-case aside after a name is not the speaker.
    if (
        len(chunks) > 1
        and is_name(first)
        and (not prefer_last or APPOSITIVE_START.match(chunks[-1][1]) or chunks[-1][1][:1].islower())
    ):
        at, chunk = first_at, first
    else:
        at, chunk = chunks[-1] if prefer_last else chunks[0]
    return classify_phrase(chunk, offset + at)


def clause_subject(clause: str, offset: int) -> Speaker | None:
    """The subject of a clause that a participle cue hangs from ("Trump attacked Clinton in
    Libya, saying, “…”" is Trump): its first pronoun or name, past any aside ("During the
    speech, …"), when only role words come before the name."""
    position = 0
    for piece in clause.split(","):
        at = position + len(piece) - len(piece.lstrip())
        position += len(piece) + 1
        chunk = DISCOURSE.sub("", piece.strip())
        at += len(piece.strip()) - len(chunk)
        if not chunk or ASIDE.match(chunk):
            continue
        first = chunk.split()[0]
        if first.lower() in PRONOUNS:
            return Speaker(first, offset + at, SpeakerKind.anonymous, pronoun=True)
        names = [n for n in person_names(chunk) if not NON_PERSON.search(n[2])]
        if (
            names
            and not re.match(r"['’]s\b", chunk[names[0][1] :])
            and (names[0][0] == 0 or ROLE_WORDS_BEFORE_NAME.fullmatch(" " + chunk[: names[0][0]]))
        ):
            return Speaker(names[0][2], offset + at + names[0][0], SpeakerKind.named)
        return None
    return None


def is_name(chunk: str) -> bool:
    names = person_names(chunk)
    return bool(names) and names[0][0] == 0 and names[-1][1] == len(chunk.rstrip(".")) and not NON_PERSON.search(chunk)


def classify_phrase(chunk: str, offset: int) -> Speaker | None:
    tokens = chunk.split()
    if not tokens:
        return None
    if len(tokens) > 10:
        cut = len(" ".join(tokens[:-6])) + 1
        chunk, offset, tokens = chunk[cut:], offset + cut, tokens[-6:]
    pronoun = next((t for t in (tokens[-1], tokens[0]) if t.lower() in PRONOUNS), None)
    # "the congressman who gained attention in 2009 when he": the clause's own subject speaks.
    if pronoun and (len(tokens) <= 3 or pronoun is tokens[-1]):
        word = pronoun
        return Speaker(word, offset + chunk.rfind(word), SpeakerKind.anonymous, pronoun=True)
    if ANONYMOUS.match(chunk):
        return Speaker(chunk, offset, SpeakerKind.anonymous)
    if CROWD.match(chunk):
        return Speaker(chunk, offset, SpeakerKind.crowd)
    starts_indefinite = bool(DETERMINER.match(chunk))
    names = [n for n in person_names(chunk) if not NON_PERSON.search(n[2])]
    if names and not starts_indefinite:
        start, _, name = names[-1]
        return Speaker(name, offset + start, SpeakerKind.named)
    if names and starts_indefinite and names[0][0] > 0 and is_name(chunk[names[-1][0] :]) and chunk.endswith(names[-1][2]):
        # "former Florida Gov. Rick Scott": a role followed by the name it belongs to.
        start, _, name = names[-1]
        if not re.search(r"\b(?:of|to|for|close|near|with|from|at)\s+[\w’']*\s*$", chunk[:start]):
            return Speaker(name, offset + start, SpeakerKind.named)
    if CROWD.search(chunk):
        return Speaker(chunk, offset, SpeakerKind.crowd)
    if not starts_indefinite and tokens[0][:1].islower() and len(tokens) > 6:
        return None
    return Speaker(chunk, offset, SpeakerKind.role)


def role_then_name(phrase: str) -> str | None:
    """The part of ", said former congressman Barney Frank, who..." that names the speaker:
    a few role words ending in a person's name, cut at the first comma."""
    phrase = phrase.split(",")[0]
    names = person_names(phrase)
    if not names or names[-1][1] != len(phrase.rstrip()):
        return None
    if not ROLE_WORDS_BEFORE_NAME.match(phrase[: names[-1][0]]):
        return None
    return phrase
