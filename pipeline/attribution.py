"""Whether the attribution next to a quotation names the speaker an engine gave it.

The attribution is the narration of the quotation's own sentence (every quotation of one
attribution together, the words inside the marks left out); for a quotation led in with a
colon or standing alone as a paragraph, the sentence before it too, and the one after when the
quotation stands alone. It names a speaker when it holds:

- the speaker's full name, surname or first name, or any part of the fuller name the article
  gives the same person ("Derek" for Derek Hough), never a different person's full name;
- for a speaker without a name ("a source close to the project", "fans"), one of the phrase's
  own content words;
- a pronoun (he, she) whose nearest antecedent outside quotation marks, skipping names
  whose title says the other gender, is that person.

A name right after "of", "to", "told" and the like (not "according to") is who the speech is about or for, not
who spoke ("Derek said of Len, …"), and is neither a speaker nor an antecedent.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence
from functools import cached_property

from .quotations import QuotationSpan
from .text import NON_PERSON, person_names, sentences

__all__ = ["SpeakerCheck", "people_named"]

_TITLE = re.compile(r"^(?:Mr|Mrs|Ms|Miss|Dr|Sen|Rep|Gov|Gen|Lt|Col|Sgt|Prof|Rev|Capt|Pres|Sir|Dame|Lord|Lady|President|Senator)\.?$")
_OTHER_GENDER = {"he": re.compile(r"^(?:Mrs|Ms|Miss|Dame|Lady)\.?$"), "she": re.compile(r"^(?:Mr|Sir|Lord)\.?$")}
_PRONOUN = re.compile(r"\b(?:he|she|He|She)\b")
_OBJECT_BEFORE = re.compile(
    r"\b(?:of|about|(?<!according )(?<!attributed )to|for|with|told|tell|telling|toward|towards|against|thanked|praised|call|called|calling|"
    r"at|on|asked|named|join|joined)\s+$",
    re.IGNORECASE,
)
_MAX_ANTECEDENT_STEPS = 40
_POSSESSIVE = re.compile(r"['’]s\b")
_CONTENT_WORD = re.compile(r"[A-Za-z]{3,}")
_ROLE_FILLER = frozenset(
    """the and one who close with from for that this those these some any another other others
    unnamed anonymous unidentified""".split()
)


class SpeakerCheck:
    """The attributions of one article's quotations, read once for all its quotes."""

    def __init__(self, text: str, spans: tuple[QuotationSpan, ...], links: Sequence[bool]) -> None:
        self.text, self.spans, self.links = text, spans, links
        self._sentences = sentences(text)
        self._sentence_starts = [start for start, _ in self._sentences]
        self._close_ends = [span.close_end for span in spans]
        self._quoted = [(span.open_at, span.close_end) for span in spans]

    def names(self, holders: Sequence[int], speaker: str) -> bool:
        """Whether the attribution of the quotations ``holders`` (indexes into ``spans``)
        names ``speaker``."""
        first, last = holders[0], holders[-1]
        while first > 0 and self.links[first - 1]:
            first -= 1
        while self.links[last]:
            last += 1
        narration = self._narration(first, last)
        name = _name_tokens(speaker)
        if not name:
            return _role_named(speaker, self.text, narration)
        person = self._fuller_name(name)
        return any(self._mentions(piece, name, person) or self._pronoun_refers(piece, name, person) for piece in narration)

    def _narration(self, first: int, last: int) -> list[tuple[int, int]]:
        """The stretches of narration around quotations ``first``..``last``."""
        bounds, spans = self._sentences, self.spans
        head = max(bisect_left(self._sentence_starts, spans[first].open_at + 1) - 1, 0)
        tail = max(bisect_left(self._sentence_starts, spans[last].close_end) - 1, head)
        region = (bounds[head][0], max(bounds[tail][1], spans[last].close_end))
        pieces = self._outside_quotations(region)
        before = self.text[region[0] : spans[first].open_at].strip()
        if not any(self.text[a:b].strip() for a, b in pieces) or before.endswith(":"):
            extra = []
            if head > 0:
                extra.append(bounds[head - 1])
            if tail + 1 < len(bounds) and "\n" not in self.text[spans[last].close_end : bounds[tail + 1][0]]:
                extra.append(bounds[tail + 1])
            pieces += [piece for bound in extra for piece in self._outside_quotations(bound)]
        return pieces

    def _outside_quotations(self, region: tuple[int, int]) -> list[tuple[int, int]]:
        start, end = region
        spans, pieces = self.spans, []
        at = bisect_left(self._close_ends, start + 1)
        while at < len(spans) and spans[at].open_at < end:
            if spans[at].open_at > start:
                pieces.append((start, spans[at].open_at))
            start = max(start, spans[at].close_end)
            at += 1
        if start < end:
            pieces.append((start, end))
        return pieces

    @cached_property
    def _full_names(self) -> set[frozenset[str]]:
        return {
            _without_titles(found)
            for _, _, found in person_names(self.text)
            if not NON_PERSON.search(found)
        }

    def _fuller_name(self, name: frozenset[str]) -> frozenset[str]:
        """The article's fuller name for the same person, when only one person fits."""
        fitting = [tokens for tokens in self._full_names if name <= tokens]
        largest = max(fitting, key=len, default=name)
        return largest if all(tokens <= largest for tokens in fitting) else name

    def _mentions(self, piece: tuple[int, int], name: frozenset[str], person: frozenset[str]) -> bool:
        start, end = piece
        for at, _, found in person_names(self.text[start:end]):
            if _OBJECT_BEFORE.search(self.text, max(start, start + at - 12), start + at):
                continue
            if _is_same(_without_titles(found), name, person):
                return True
        return False

    def _pronoun_refers(self, piece: tuple[int, int], name: frozenset[str], person: frozenset[str]) -> bool:
        pronoun = _PRONOUN.search(self.text, *piece)
        if pronoun is None:
            return False
        antecedent = self._antecedent(pronoun.start(), pronoun.group().lower())
        return antecedent is not None and _is_same(antecedent, name, person)

    def _antecedent(self, position: int, pronoun: str) -> frozenset[str] | None:
        """The name nearest before ``position`` outside quotation marks that ``pronoun`` can stand for."""
        other_gender = _OTHER_GENDER[pronoun]
        mentions = person_names(self.text)
        index = bisect_left(mentions, (position,)) - 1
        for at, _, found in mentions[max(index - _MAX_ANTECEDENT_STEPS, -1) + 1 : index + 1][::-1]:
            inside = bisect_left(self._quoted, (at + 1,)) - 1
            if inside >= 0 and at < self._quoted[inside][1] or NON_PERSON.search(found):
                continue
            if _OBJECT_BEFORE.search(self.text, max(0, at - 12), at):
                continue
            if other_gender.match(found.split()[0]):
                continue
            return _without_titles(found)
        return None


def people_named(text: str, start: int, end: int) -> list[tuple[int, frozenset[str]]]:
    """The people ``text[start:end]`` names as possible speakers (not "told Len", "of Len",
    "Len's"): where each mention starts, and its name words."""
    people: list[tuple[int, frozenset[str]]] = []
    for at, stop, found in person_names(text[start:end]):
        if NON_PERSON.search(found) or _OBJECT_BEFORE.search(text, max(start, start + at - 12), start + at):
            continue
        if _POSSESSIVE.match(text, start + stop):
            continue
        tokens = _without_titles(found)
        if tokens:
            people.append((start + at, tokens))
    return people


def _without_titles(found: str) -> frozenset[str]:
    return frozenset(token for token in found.split() if not _TITLE.match(token))


def _name_tokens(name: str) -> frozenset[str]:
    """The name words of a speaker ("Sen. Maria Lopez's" -> Maria, Lopez); empty for a phrase."""
    found = [found_name for _, _, found_name in person_names(name) if not NON_PERSON.search(found_name)]
    if not found:
        return frozenset()
    return _without_titles(found[0])


def _is_same(tokens: frozenset[str], name: frozenset[str], person: frozenset[str]) -> bool:
    return bool(tokens) and (tokens <= person or name <= tokens)


def _role_named(speaker: str, text: str, narration: list[tuple[int, int]]) -> bool:
    """Whether a content word of a speaker phrase ("a source close to the project") is in the narration."""
    words = _CONTENT_WORD.findall(speaker.lower())
    wanted = {_stem(word) for word in words if word not in _ROLE_FILLER} or {_stem(word) for word in words}
    said = {_stem(word) for start, end in narration for word in _CONTENT_WORD.findall(text[start:end].lower())}
    return bool(wanted & said)


def _stem(word: str) -> str:
    return word[:-1] if word.endswith("s") and len(word) > 3 else word
