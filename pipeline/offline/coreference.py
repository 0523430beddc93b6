"""Resolving "he" and "she" to the person meant: the person who last spoke, else the
subject of the latest sentence naming someone, skipping names whose title says the other
gender."""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from functools import cached_property

from pipeline.offline.lexicon import (
    APPOSITION,
    ASCII_WORD,
    CLOSING_CUE,
    TITLED,
)
from pipeline.parsed import ParsedArticle
from pipeline.text import (
    NON_PERSON,
    OTHER_GENDER_TITLE,
    SPEECH_VERBS,
)

__all__ = ["SPEAKER_REACH", "PersonIndex", "speech_follows"]

SPEAKER_REACH = 1


class PersonIndex:
    """The people an article names, in order, for resolving "he" and "she"; read from the
    text only when a pronoun first needs resolving.

    A pronoun refers to the subject of the latest sentence that names someone, which is the
    first person that sentence names ("Dan McLaughlin agreed with Matthews. ... he wrote" is
    McLaughlin), not simply the nearest name."""

    def __init__(self, article: ParsedArticle) -> None:
        self._article = article
        self._text = article.text
        self._segments = article.quotations
        self._speakers: list[tuple[int, str]] = []

    @cached_property
    def _named(self) -> list[tuple[int, str]]:
        starts = [seg.start for seg in self._segments]
        ends = [seg.end for seg in self._segments]

        def quoted(position: int) -> bool:
            index = bisect_right(starts, position) - 1
            return index >= 0 and position < ends[index]

        mentions: list[tuple[int, str]] = []
        full_names: dict[str, str] = {}
        outside = [m for m in self._article.names if not quoted(m[0])]
        for start, _, name in outside:
            if NON_PERSON.search(name):
                continue
            parts = [p for p in name.split() if not p.endswith(".")]
            if len(parts) >= 2 or parts and TITLED.match(name):
                full_names.setdefault(parts[-1], name)
                full_names.setdefault(parts[0], name)
                mentions.append((start, name))
        for start, _, name in outside:
            if " " not in name and name in full_names:
                mentions.append((start, name))
        return sorted(mentions)

    @cached_property
    def _speaking(self) -> list[tuple[int, str]]:
        """The people a sentence opens with as the subject of a speech verb ("Mr. Farid said"),
        or that close a sentence with one (", Henson said.")."""
        subjects = []
        previous_sentence = -1
        for start, name in self._named:
            sentence = self._sentence_of(start)
            end = start + len(name)
            if sentence != previous_sentence and speech_follows(self._text, end) or CLOSING_CUE.match(self._text, end):
                subjects.append((start, name))
            previous_sentence = sentence
        return subjects

    @cached_property
    def _sentence_starts(self) -> list[int]:
        return [start for start, _ in self._article.sentences]

    def note_speaker(self, name: str, start: int) -> None:
        insort(self._speakers, (start, name))

    def _sentence_of(self, position: int) -> int:
        return bisect_right(self._sentence_starts, position)

    def resolve(self, pronoun: str, position: int) -> str | None:
        if pronoun.lower() not in ("he", "she", "i", "who"):
            return None
        excluded = OTHER_GENDER_TITLE.get(pronoun.lower())
        mentions = sorted(m for m in self._named + self._speakers if not (excluded and excluded.match(m[1])))
        latest = bisect_left(mentions, (position,)) - 1
        if latest < 0:
            return None
        speaking = sorted(m for m in self._speaking + self._speakers if not (excluded and excluded.match(m[1])))
        last_speaker = bisect_left(speaking, (position,)) - 1
        if last_speaker >= 0 and self._sentence_of(position) - self._sentence_of(speaking[last_speaker][0]) <= SPEAKER_REACH:
            return speaking[last_speaker][1]
        sentence = self._sentence_of(mentions[latest][0])
        first = latest
        while first > 0 and self._sentence_of(mentions[first - 1][0]) == sentence:
            first -= 1
        return mentions[first][1]


def speech_follows(text: str, position: int) -> bool:
    """Whether a speech verb is among the three words after `position`, past an apposition
    ("Mr. Farid, a professor, said")."""
    apposition = APPOSITION.match(text, position)
    start = apposition.end() if apposition else position
    following = ASCII_WORD.findall(text, start, start + 40)[:3]
    return any(word.lower() in SPEECH_VERBS for word in following)
