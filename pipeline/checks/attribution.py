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

from pipeline.parsed import ParsedArticle
from pipeline.quotations import QuotationSpan
from pipeline.text import NON_PERSON, OTHER_GENDER_TITLE, SPEECH_VERBS, person_names, sentences

__all__ = ["MAX_SPLIT_GAP", "SpeakerCheck", "article_links", "attribution_links", "people_named"]

_TITLE = re.compile(
    r"^(?:Mr|Mrs|Ms|Miss|Dr|Sen|Rep|Gov|Gen|Lt|Col|Sgt|Prof|Rev|Capt|Pres|Sir|Dame|Lord|Lady|President|Senator)\.?$"
)
_PRONOUN = re.compile(r"\b(?:he|she|He|She)\b")
_OBJECT_BEFORE = re.compile(
    r"\b(?:of|about|(?<!according )(?<!attributed )to|for|with|told|tell|telling|toward|towards|against|thanked|praised|call|called|calling|"
    r"at|on|asked|named|join|joined)\s+$",
    re.IGNORECASE,
)
MAX_SPLIT_GAP = 250
"""Most characters of attribution between two quotations of one attribution."""
_SUBORDINATE = re.compile(
    r"\b(?:who|whom|whose|which|that|when|while|as|after|before|because|since|although|though|if|where)\b[^,]*",
    re.IGNORECASE,
)
_NEAR_VERB = 4
"""Words either side of a speech verb where its speaker is named."""
_FIRST_SENTENCE = re.compile(r".*?(?:[.!?](?=\s)|$)", re.DOTALL)
_WORD = re.compile(r"\w+(?:['’-]\w+)*")
_MAX_ANTECEDENT_STEPS = 40
_POSSESSIVE = re.compile(r"['’]s\b")
_CONTENT_WORD = re.compile(r"[A-Za-z]{3,}")
_ROLE_FILLER = frozenset(
    """the and one who close with from for that this those these some any another other others
    unnamed anonymous unidentified""".split()
)


_NARRATION_WINDOW = 1000


class SpeakerCheck:
    """The attributions of one article's quotations, read once for all its quotes."""

    def __init__(self, article: ParsedArticle) -> None:
        self.article = article
        self.text, self.spans, self.links = article.text, article.quotations, article_links(article)
        self._sentences = article.sentences
        self._sentence_starts = [start for start, _ in self._sentences]
        self._close_ends = [span.close_end for span in self.spans]
        self._quoted = [(span.open_at, span.close_end) for span in self.spans]
        self._answers: dict[tuple[tuple[int, ...], str], bool] = {}

    def names(self, holders: Sequence[int], speaker: str) -> bool:
        """Whether the attribution of the quotations ``holders`` (indexes into ``spans``)
        names ``speaker``; answered once per article (the offline extractor and the runner
        both verify the offline engine's quotes)."""
        key = (tuple(holders), speaker)
        if key not in self._answers:
            self._answers[key] = self._names(holders, speaker)
        return self._answers[key]

    def _names(self, holders: Sequence[int], speaker: str) -> bool:
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
        # Narration is read at most _NARRATION_WINDOW characters either side of the quotations:
        # a text without sentence ends is one endless sentence, and reading it all for every
        # quotation is quadratic.
        lower, upper = spans[first].open_at - _NARRATION_WINDOW, spans[last].close_end + _NARRATION_WINDOW
        region = (max(bounds[head][0], lower), min(max(bounds[tail][1], spans[last].close_end), upper))
        pieces = self._outside_quotations(region)
        before = self.text[region[0] : spans[first].open_at].strip()
        if not any(self.text[a:b].strip() for a, b in pieces) or before.endswith(":"):
            extra = []
            if head > 0:
                extra.append(bounds[head - 1])
            if tail + 1 < len(bounds) and "\n" not in self.text[spans[last].close_end : bounds[tail + 1][0]]:
                extra.append(bounds[tail + 1])
            pieces += [
                piece
                for a, b in extra
                for piece in self._outside_quotations((max(a, lower), min(b, upper)))
                if a < upper and b > lower
            ]
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
        return {_without_titles(found) for _, _, found in self.article.names if not NON_PERSON.search(found)}

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
        other_gender = OTHER_GENDER_TITLE[pronoun]
        mentions = self.article.names
        index = bisect_left(mentions, (position,)) - 1
        for at, _, found in mentions[max(index - _MAX_ANTECEDENT_STEPS, -1) + 1 : index + 1][::-1]:
            inside = bisect_left(self._quoted, (at + 1,)) - 1
            if inside >= 0 and at < self._quoted[inside][1] or NON_PERSON.search(found):
                continue
            if _OBJECT_BEFORE.search(self.text, max(0, at - 12), at):
                continue
            if other_gender.match(found):
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
    # Each distinct word stemmed once: a long narration repeats its words.
    said = set(map(_stem, {word for start, end in narration for word in _CONTENT_WORD.findall(text[start:end].lower())}))
    return bool(wanted & said)


def _stem(word: str) -> str:
    return word[:-1] if word.endswith("s") and len(word) > 3 else word


def article_links(article: ParsedArticle) -> tuple[bool, ...]:
    """The attribution links of one parsed article's quotations, read once for all its stages."""
    return article.derived(_links)


def _links(article: ParsedArticle) -> tuple[bool, ...]:
    return attribution_links(article.text, article.quotations)


def attribution_links(text: str, spans: tuple[QuotationSpan, ...]) -> tuple[bool, ...]:
    """``links[i]``: the quotation after ``spans[i]`` goes on with it under one attribution,
    so a quote may run over both (the last is always False)."""
    return (*(_one_attribution(text, spans, index) for index in range(len(spans) - 1)), False)


def _one_attribution(text: str, spans: tuple[QuotationSpan, ...], index: int) -> bool:
    """Whether ``spans[index + 1]`` goes on with ``spans[index]``: the paragraph after a
    quotation left open, or the next quotation in the paragraph with only one attribution
    clause between ("… tough,” Derek once said, “but …"): the first quotation does not end
    its sentence, the clause holds a speech verb and no sentence ending inside, and the
    attributions before the first quotation, between and after the second name one person
    at most; when the second has its own attribution, each pronoun in the two can stand for
    that person alone."""
    this, following = spans[index], spans[index + 1]
    if following.continues == this.index:
        return True
    if following.paragraph != this.paragraph or not this.closed or text[this.start : this.end].endswith("."):
        return False
    gap = text[this.close_end : following.open_at]
    if len(gap) > MAX_SPLIT_GAP or len(sentences(text, this.close_end, following.open_at)) > 1:
        return False
    named = _attributed(text, this.close_end, following.open_at)
    if named is None:
        return False
    before = spans[index - 1].close_end if index and spans[index - 1].paragraph == this.paragraph else None
    lead_start = _sentence_start(text, this.open_at, before)
    people = named + (_attributed(text, lead_start, this.open_at) or [])
    after = (following.close_end, _clause_end(text, spans, index + 1))
    second = _attributed(text, *after)
    people += second or []
    if not all(one <= other or other <= one for one in people for other in people):
        return False
    if second is None:
        return True
    # Two attributions ("…,” said Smith. “…,” she added) are one only when each pronoun in
    # them can stand for no one but the person named.
    window = max(before or 0, text.rfind("\n", 0, this.open_at) + 1, this.open_at - MAX_SPLIT_GAP)
    quoted = ((this.open_at, this.close_end), (following.open_at, following.close_end))
    pronouns = _verb_pronouns(text, this.close_end, following.open_at) + _verb_pronouns(text, *after)
    return all(_only_referent(text, quoted, window, at, pronoun, people) for at, pronoun in pronouns)


def _verb_pronouns(text: str, start: int, end: int) -> list[tuple[int, str]]:
    """Each "he" or "she" within a few words of a speech verb in ``text[start:end]``."""
    words = list(_WORD.finditer(text, start, end))
    found = []
    for index, word in enumerate(words):
        if word.group().lower() in SPEECH_VERBS:
            for near in words[max(index - _NEAR_VERB, 0) : index + _NEAR_VERB + 1]:
                if near.group().lower() in OTHER_GENDER_TITLE:
                    found.append((near.start(), near.group().lower()))
    return sorted(set(found))


def _only_referent(
    text: str, quoted: tuple[tuple[int, int], ...], start: int, at: int, pronoun: str, people: list[frozenset[str]]
) -> bool:
    """Whether the pronoun at ``at`` can stand for ``people`` alone: every person named from
    ``start`` up to it (outside the ``quoted`` ranges, titles of the other gender skipped) is
    one of them, and when someone is named, some name fits."""
    fitting = [
        _without_titles(found)
        for offset, _, found in person_names(text[start:at])
        if not NON_PERSON.search(found)
        and not OTHER_GENDER_TITLE[pronoun].match(found)
        and not any(a <= start + offset < b for a, b in quoted)
    ]
    everyone = people + fitting
    return all(one <= other or other <= one for one in everyone for other in everyone) and (not people or bool(fitting))


def _attributed(text: str, start: int, end: int) -> list[frozenset[str]] | None:
    """Who a clause attributes speech to: for each speech verb outside a subordinate clause
    ("…, who also said …,"), the person named nearest it within a few words ("Josh Earnest said
    at a briefing before Bill Clinton’s comments" is Earnest; "Smith said, and Jones
    replied" is both); None without a verb."""
    words = list(_WORD.finditer(text, start, end))
    asides = [match.span() for match in _SUBORDINATE.finditer(text, start, end)]
    verbs = [
        index
        for index, word in enumerate(words)
        if word.group().lower() in SPEECH_VERBS and not any(a <= word.start() < b for a, b in asides)
    ]
    if not verbs:
        return None
    speakers: list[frozenset[str]] = []
    for index in verbs:
        low = words[max(index - _NEAR_VERB, 0)].start()
        high = words[min(index + _NEAR_VERB, len(words) - 1)].end()
        near = people_named(text, low, high)
        if near:
            verb_at = words[index].start()
            speakers.append(min(near, key=lambda person: abs(person[0] - verb_at))[1])
    return speakers


def _sentence_start(text: str, position: int, lower: int | None) -> int:
    """Where the sentence that runs on into ``position`` begins, within its paragraph and after
    ``lower``; ``position`` itself when a sentence ends right before it."""
    paragraph = text.rfind("\n", 0, position) + 1
    lower = paragraph if lower is None else max(lower, paragraph)
    if not text[lower:position].strip():
        return position
    start, end = sentences(text, lower, position)[-1]
    return position if text[end - 1] in ".!?" else start


def _clause_end(text: str, spans: tuple[QuotationSpan, ...], index: int) -> int:
    """Where the clause after ``spans[index]`` ends: its sentence, its paragraph or the next
    quotation (a quotation closed by a period has none: what follows is a new sentence)."""
    this = spans[index]
    if text[this.start : this.end].endswith("."):
        return this.close_end
    if index + 1 < len(spans) and spans[index + 1].paragraph == this.paragraph:
        limit = spans[index + 1].open_at
    else:
        limit = text.find("\n", this.close_end)
        limit = len(text) if limit < 0 else limit
    sentence = _FIRST_SENTENCE.match(text, this.close_end, limit)
    assert sentence is not None
    return sentence.end()
