"""Quote verification: the model is never trusted on quotes.

A quote verifies only where the article quotes it: inside one of its quotation spans
(:mod:`pipeline.quotations`), starting and ending on word boundaries. Matching ignores what
models routinely change when they copy: typographic quotation marks and apostrophes, dash
styles, the ellipsis character, whitespace (line breaks included) and Unicode composition.
Everything else, case included, must be the article's. Spans always index the article text
as given, never the matching form.

A quote may be shorter than the quotation it sits in (partial quotes are normal), but not a
lone common or short word cut out of a longer one. A quotation the article splits around its
attribution::

    “He was tough,” Derek once said, “but that’s what made his approval mean everything.”

often comes back joined ("He was tough, but that's what made ..."). It verifies piece by
piece only across quotations of one attribution: consecutive ones in a paragraph with
nothing but an attribution clause between them, or the paragraphs of one quotation. A comma
or period at a join may differ. Anything else joined is "stitched from separate quotations".

Every verified quote also says whether the attribution next to it names its speaker
(:mod:`pipeline.checks.attribution`); every rejected one carries one of ``REJECTION_REASONS``.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from pipeline.checks.attribution import MAX_SPLIT_GAP, SpeakerCheck, article_links
from pipeline.models import QuoteDraft, RejectedQuote, Span, VerifiedQuote
from pipeline.parsed import ParsedArticle, parsed
from pipeline.quotations import QuotationSpan, span_at

__all__ = [
    "MAX_SPLIT_GAP",
    "NOT_FOUND",
    "NOT_QUOTED",
    "STITCHED",
    "NARRATION",
    "CUTS_WORD",
    "LONE_WORD",
    "REJECTION_REASONS",
    "locate_quote",
    "verify_quotes",
]

NOT_FOUND = "not in the article word for word"
NOT_QUOTED = "not inside quotation marks"
STITCHED = "stitched from separate quotations"
NARRATION = "runs on into narration"
CUTS_WORD = "cuts a word in two"
LONE_WORD = "a lone word of a longer quotation"
REJECTION_REASONS = (NOT_FOUND, NOT_QUOTED, STITCHED, NARRATION, CUTS_WORD, LONE_WORD)
"""Every reason a quote is rejected for: short fixed phrases, counted by ``pipeline runs``."""

_SEARCH_BUDGET = 20_000
"""Substring searches one quote may cost; past it the quote does not verify."""
_MAX_CUTS = 40
"""Joins tried when telling why a quote did not verify (stitched, narration or absent)."""
_SHORT_WORD = 3
_COMMON_WORDS = frozenset(
    """a an the and or but nor so yet for of to in on at by with from as into onto over under
    about after before than then that this these those there here it its is are was were be been
    am do does did has have had not no yes i me my we us our you your he him his she her they them
    their who whom what which when where why how if all any some very just also too only""".split()
)

_MATCH_FORM = str.maketrans(
    {
        **dict.fromkeys(
            "\N{LEFT SINGLE QUOTATION MARK}\N{RIGHT SINGLE QUOTATION MARK}\N{SINGLE LOW-9 QUOTATION MARK}"
            "\N{SINGLE HIGH-REVERSED-9 QUOTATION MARK}\N{PRIME}"
            "\N{SINGLE LEFT-POINTING ANGLE QUOTATION MARK}\N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK}",
            "'",
        ),
        **dict.fromkeys(
            "\N{LEFT DOUBLE QUOTATION MARK}\N{RIGHT DOUBLE QUOTATION MARK}\N{DOUBLE LOW-9 QUOTATION MARK}"
            "\N{DOUBLE HIGH-REVERSED-9 QUOTATION MARK}\N{DOUBLE PRIME}"
            "\N{LEFT-POINTING DOUBLE ANGLE QUOTATION MARK}\N{RIGHT-POINTING DOUBLE ANGLE QUOTATION MARK}",
            '"',
        ),
        **dict.fromkeys(
            "\N{HYPHEN}\N{NON-BREAKING HYPHEN}\N{FIGURE DASH}\N{EN DASH}\N{EM DASH}\N{HORIZONTAL BAR}\N{MINUS SIGN}",
            "-",
        ),
    }
)
# Only what changes length: a single plain space is already in matching form.
_RESHAPED = re.compile("\\s{2,}|[^\\S ]|\N{HORIZONTAL ELLIPSIS}")
_QUOTE_MARKS = "\"'"
_JOIN_PUNCTUATION = ",."
_INNER_WORD = "'’-\N{HYPHEN}"
_WORD = re.compile(r"\w+(?:['’-]\w+)*")
_ELLIPSIS = re.compile(r"\s*\.\.\.\s*")


@dataclass(frozen=True, slots=True)
class _MatchForm:
    """A text in matching form, with where each of its characters came from.

    ``origin[i]`` is the index in the original text where the character ``text[i]``
    stems from; ``origin[len(text)]`` is the original length. Several matching
    characters share an origin only where one original character became several
    (the ellipsis), and a match may not begin or end inside such a group.
    """

    text: str
    origin: list[int]

    def is_boundary(self, index: int) -> bool:
        return index == 0 or self.origin[index] != self.origin[index - 1]


def _match_form(text: str) -> _MatchForm:
    translated = text.translate(_MATCH_FORM)
    parts: list[str] = []
    origin: list[int] = []
    copied_to = 0
    for reshaped in _RESHAPED.finditer(translated):
        start, end = reshaped.span()
        parts.append(translated[copied_to:start])
        origin.extend(range(copied_to, start))
        if reshaped.group() == "\N{HORIZONTAL ELLIPSIS}":
            parts.append("...")
            origin.extend((start, start, start))
        else:
            parts.append(" ")
            origin.append(start)
        copied_to = end
    parts.append(translated[copied_to:])
    origin.extend(range(copied_to, len(translated) + 1))
    return _MatchForm("".join(parts), origin)


def _wanted(quote: str) -> str:
    """The quote in matching form without its surrounding marks and spaces. A single mark is
    kept at one end alone: it closes or opens a quotation nested in the quote."""
    wanted = _match_form(unicodedata.normalize("NFC", quote)).text.strip(' "')
    while len(wanted) > 1 and wanted[0] == wanted[-1] == "'":
        wanted = wanted[1:-1].strip(' "')
    return wanted


@dataclass
class _Found:
    """Where a quote verified, or why it did not."""

    pieces: list[tuple[int, int]] = field(default_factory=list)
    reason: str = NOT_FOUND


def _article_form(article: ParsedArticle) -> _MatchForm:
    return _match_form(article.text)


class _Article:
    """One verification pass over a parsed article: its matching form (made once per article,
    whichever stage verifies first) and where the last quote was found."""

    def __init__(self, article: ParsedArticle) -> None:
        self.parsed = article
        self.text = article.text
        self.form = article.derived(_article_form)
        self.spans = article.quotations
        self.cursor = 0

    @cached_property
    def links(self) -> tuple[bool, ...]:
        """``links[i]``: the quotation after ``spans[i]`` goes on with it (one speaker)."""
        return article_links(self.parsed)

    @cached_property
    def speakers(self) -> SpeakerCheck:
        return self.parsed.derived(SpeakerCheck)

    @cached_property
    def _form_starts(self) -> list[int]:
        return [self.form_index(span.start) for span in self.spans]

    def span_form(self, index: int) -> tuple[int, int]:
        """The matching-form range of ``spans[index]``'s quoted words."""
        return self._form_starts[index], self.form_index(self.spans[index].end)

    def form_index(self, position: int) -> int:
        """Where the original ``position`` falls in the matching form."""
        return bisect_left(self.form.origin, position)

    def first_span_from(self, form_position: int) -> int:
        """The index of the first quotation starting at or after ``form_position``."""
        return min(bisect_left(self._form_starts, form_position), max(len(self.spans) - 1, 0))

    def is_word_edge(self, position: int) -> bool:
        """Whether ``position`` (original text) does not fall inside a word."""
        return not (_in_word(self.text, position - 1) and _in_word(self.text, position))

    def occurrences(self, wanted: str, budget: list[int]) -> Iterator[tuple[int, int]]:
        """Original (start, end) of each aligned occurrence, from the last hit onwards first."""
        text, cursor = self.form.text, self.cursor
        for lo, hi in ((cursor, len(text)), (0, cursor + len(wanted) - 1)):
            while budget[0] > 0:
                budget[0] -= 1
                at = text.find(wanted, lo, hi)
                if at < 0:
                    break
                lo = at + 1
                end = at + len(wanted)
                if self.form.is_boundary(at) and self.form.is_boundary(end):
                    yield self.form.origin[at], self.form.origin[end]


def _in_word(text: str, index: int) -> bool:
    if index < 0 or index >= len(text):
        return False
    char = text[index]
    if char.isalnum():
        return True
    return char in _INNER_WORD and 0 < index < len(text) - 1 and text[index - 1].isalnum() and text[index + 1].isalnum()


def locate_quote(text: str | ParsedArticle, quote: str) -> list[Span] | None:
    """Where ``quote`` verifies in ``text``: one span, one per piece of a split quote, or None.

    Surrounding quotation marks and whitespace on ``quote`` are ignored; the first
    occurrence wins. Spans index the text itself.
    """
    found = _locate(_Article(parsed(text)), quote)
    return [Span(start=start, end=end) for start, end in found.pieces] or None


def verify_quotes(text: str | ParsedArticle, drafts: Sequence[QuoteDraft]) -> tuple[list[VerifiedQuote], list[RejectedQuote]]:
    """Split the drafts into quotes verified in ``text`` and rejected ones, each with its reason.

    A verified quote's ``text`` is the article's own characters (split pieces joined
    by one space), not the engine's copy, and ``speaker_verified`` says whether the
    attribution next to it names its speaker. Quotes found at the same spans as an
    earlier one are dropped.
    """
    article = _Article(parsed(text))
    verified: list[VerifiedQuote] = []
    rejected: list[RejectedQuote] = []
    seen: set[tuple[tuple[int, int], ...]] = set()
    for draft in drafts:
        found = _locate(article, draft.text)
        if not found.pieces:
            rejected.append(RejectedQuote(**_draft_fields(draft), reason=found.reason))
            continue
        key = tuple(found.pieces)
        if key in seen:
            continue
        seen.add(key)
        holders = [_holder(article, start).index - 1 for start, _ in found.pieces]
        verified.append(
            VerifiedQuote(
                **_draft_fields(draft, exclude="text"),
                text=" ".join(article.text[start:end] for start, end in found.pieces),
                start=found.pieces[0][0],
                end=found.pieces[-1][1],
                spans=[Span(start=start, end=end) for start, end in found.pieces],
                verified=True,
                speaker_verified=article.speakers.names(holders, draft.speaker),
            )
        )
    return verified, rejected


def _draft_fields(draft: QuoteDraft, exclude: str | None = None) -> dict:
    # Only QuoteDraft's own fields: a draft may be a VerifiedQuote being checked again.
    return draft.model_dump(include=set(QuoteDraft.model_fields) - {exclude})


def _holder(article: _Article, position: int) -> QuotationSpan:
    span = span_at(article.spans, position)
    assert span is not None
    return span


def _locate(article: _Article, quote: str) -> _Found:
    wanted = _wanted(quote)
    if not wanted:
        return _Found()
    budget = [_SEARCH_BUDGET]
    found = _within_one(article, wanted, budget)
    if not found.pieces and found.reason == NOT_FOUND:
        pieces = _split_match(article, wanted, budget)
        found = _Found(pieces) if pieces else _why_not(article, wanted, budget)
    if found.pieces:
        # Engines list quotes in article order: the next search starts here.
        article.cursor = article.form_index(found.pieces[0][0])
    return found


def _within_one(article: _Article, wanted: str, budget: list[int]) -> _Found:
    """The first occurrence inside one quotation, or the most telling reason there is none."""
    reason = NOT_FOUND
    for start, end in article.occurrences(wanted, budget):
        if not (article.is_word_edge(start) and article.is_word_edge(end)):
            reason = CUTS_WORD if reason == NOT_FOUND else reason
            continue
        holder = span_at(article.spans, start)
        if holder is None:
            inside_end = span_at(article.spans, max(end - 1, start))
            reason = NARRATION if inside_end is not None else NOT_QUOTED
        elif end > holder.end:
            reason = NARRATION
        elif _lone_word(article.text, start, end, holder):
            reason = LONE_WORD
        else:
            return _Found([(start, end)])
    return _Found(reason=reason)


def _lone_word(text: str, start: int, end: int, holder: QuotationSpan) -> bool:
    """A single common or short word that is not the whole quotation ("No," she said)."""
    words = _WORD.findall(text, start, end)
    if len(words) > 1 and any(word.lower() not in _COMMON_WORDS for word in words):
        return False
    whole = _WORD.findall(text, holder.start, holder.end)
    if words == whole:
        return False
    return not words or len(words) > 1 or words[0].lower() in _COMMON_WORDS or len(words[0]) <= _SHORT_WORD


def _split_match(article: _Article, wanted: str, budget: list[int]) -> list[tuple[int, int]] | None:
    """Pieces of ``wanted`` over consecutive quotations of one attribution, or None."""
    first_word = wanted.split(" ", 1)[0].rstrip(_JOIN_PUNCTUATION + _QUOTE_MARKS) or wanted[:1]
    count = len(article.spans)
    start_index = article.first_span_from(article.cursor)
    for index in [*range(start_index, count), *range(start_index)]:
        if not article.links[index]:
            continue
        lo, hi = article.span_form(index)
        at = article.form.text.find(first_word, lo, hi)
        while at >= 0 and budget[0] > 0:
            budget[0] -= 1
            if article.is_word_edge(article.form.origin[at]):
                pieces = _pieces_from(article, index, at, wanted)
                if pieces:
                    return pieces
            at = article.form.text.find(first_word, at + 1, hi)
    return None


def _pieces_from(article: _Article, index: int, at: int, wanted: str) -> list[tuple[int, int]] | None:
    """Pieces when ``wanted`` starts at ``at`` inside ``spans[index]`` and runs on, past one
    join at least, through the quotations linked after it."""
    form, rest = article.form, wanted
    pieces: list[tuple[int, int]] = []
    while True:
        _, hi = article.span_form(index)
        piece = form.text[at:hi]
        if len(rest) <= len(piece) and pieces:
            end = at + len(rest)
            if piece.startswith(rest) and form.is_boundary(end) and article.is_word_edge(form.origin[end]):
                return [*pieces, (form.origin[at], form.origin[end])]
            return None
        after = _after_join(rest, piece)
        if after is None or not article.links[index]:
            return None
        pieces.append((form.origin[at], form.origin[hi]))
        index += 1
        at, _ = article.span_form(index)
        rest = after


def _after_join(rest: str, piece: str) -> str | None:
    """What of ``rest`` follows ``piece`` and a join (a space; a comma or period may differ)."""
    bare = piece.rstrip(_JOIN_PUNCTUATION + _QUOTE_MARKS)
    if not bare or not rest.startswith(bare):
        return None
    after = rest[len(bare) :].lstrip(_JOIN_PUNCTUATION + _QUOTE_MARKS)
    if not after.startswith(" "):
        return None
    after = after.lstrip(" " + _QUOTE_MARKS)
    return after or None


def _why_not(article: _Article, wanted: str, budget: list[int]) -> _Found:
    """Why a quote that is not one quotation did not verify: two quoted parts from quotations
    of different attributions are stitched; a quoted part joined to text outside the marks
    runs on into narration."""
    cuts = [m.span() for m in _ELLIPSIS.finditer(wanted)] + [(m.start(), m.end()) for m in re.finditer(" ", wanted)]
    for cut_start, cut_end in cuts[:_MAX_CUTS]:
        left = wanted[:cut_start].rstrip(_JOIN_PUNCTUATION + " ")
        right = wanted[cut_end:].lstrip(_JOIN_PUNCTUATION + " ")
        if not left or not right:
            continue
        left_found = _placed(article, left, budget)
        right_found = _placed(article, right, budget)
        if {left_found, right_found} == {"quoted"}:
            return _Found(reason=STITCHED)
        if "quoted" in (left_found, right_found) and "narration" in (left_found, right_found):
            return _Found(reason=NARRATION)
    return _Found()


def _placed(article: _Article, part: str, budget: list[int]) -> str | None:
    """ "quoted" when ``part`` verifies, "narration" when it is in the text outside the marks."""
    found = _within_one(article, part, budget)
    if found.pieces or _split_match(article, part, budget):
        return "quoted"
    return "narration" if found.reason in (NOT_QUOTED, NARRATION) else None
