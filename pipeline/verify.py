"""Quote verification: the model is never trusted on quotes.

Every quote an engine reports is looked up in the article's own text. Matching
ignores what models routinely change when they copy: typographic quotation
marks and apostrophes, dash styles, the ellipsis character and whitespace
(line breaks included). Everything else, case included, must be the article's.
Spans always index the article text as given, never the matching form.

A quote the article splits around its attribution::

    “He was tough,” Derek once said, “but that’s what made his approval mean everything.”

often comes back joined ("He was tough, but that's what made ..."). It then
verifies piecewise: consecutive pieces of at least two words each, in order,
each ending at a closing quotation mark and the next starting at an opening
one no more than ``MAX_SPLIT_GAP`` characters later. A comma or period at a
join may differ. Requiring quotation marks at every join keeps two unrelated
real phrases from being stitched into a quote nobody said.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from .models import QuoteDraft, RejectedQuote, Span, VerifiedQuote

__all__ = ["MAX_SPLIT_GAP", "MIN_PIECE_WORDS", "locate_quote", "verify_quotes", "reject_quotes"]

MAX_SPLIT_GAP = 250
"""Most characters of attribution between two pieces of a split quote."""
MIN_PIECE_WORDS = 2
"""Fewest words in each piece of a split quote: single words would match almost anywhere."""

_SEARCH_BUDGET = 20_000
"""Substring searches one split quote may cost; past it the quote does not verify."""

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
            "\N{HYPHEN}\N{NON-BREAKING HYPHEN}\N{FIGURE DASH}\N{EN DASH}\N{EM DASH}"
            "\N{HORIZONTAL BAR}\N{MINUS SIGN}",
            "-",
        ),
    }
)
# Only what changes length: a single plain space is already in matching form.
_RESHAPED = re.compile("\\s{2,}|[^\\S ]|\N{HORIZONTAL ELLIPSIS}")
_QUOTE_MARKS = "\"'"
_JOIN_PUNCTUATION = ",."
_BEFORE_CLOSING_MARK = ",.;:!?-"
_MAX_SKIPPED_AT_JOIN = 3


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

    def span(self, start: int, end: int) -> Span:
        return Span(start=self.origin[start], end=self.origin[end])


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


def locate_quote(text: str, quote: str) -> list[Span] | None:
    """Where ``quote`` is in ``text``: one span, one per piece of a split quote, or None.

    Surrounding quotation marks and whitespace on ``quote`` are ignored; the first
    occurrence wins. Spans index ``text`` itself.
    """
    return _locate(_match_form(text), quote)


def verify_quotes(
    text: str, drafts: Sequence[QuoteDraft]
) -> tuple[list[VerifiedQuote], list[QuoteDraft]]:
    """Split the drafts into quotes found in ``text`` and drafts that are not there.

    A verified quote's ``text`` is the article's own characters (split pieces joined
    by one space), not the engine's copy. Quotes found at the same spans as an
    earlier one are dropped.
    """
    article = _match_form(text)
    verified: list[VerifiedQuote] = []
    missing: list[QuoteDraft] = []
    seen: set[tuple[tuple[int, int], ...]] = set()
    for draft in drafts:
        spans = _locate(article, draft.text)
        if spans is None:
            missing.append(draft)
            continue
        key = tuple((span.start, span.end) for span in spans)
        if key in seen:
            continue
        seen.add(key)
        verified.append(
            VerifiedQuote(
                **_draft_fields(draft, exclude="text"),
                text=" ".join(text[span.start : span.end] for span in spans),
                start=spans[0].start,
                end=spans[-1].end,
                spans=spans,
                verified=True,
            )
        )
    return verified, missing


def reject_quotes(drafts: Sequence[QuoteDraft], reason: str) -> list[RejectedQuote]:
    """The drafts as rejected quotes, each carrying ``reason``."""
    return [RejectedQuote(**_draft_fields(draft), reason=reason) for draft in drafts]


def _draft_fields(draft: QuoteDraft, exclude: str | None = None) -> dict[str, object]:
    # Only QuoteDraft's own fields: a draft may be a VerifiedQuote being checked again.
    return draft.model_dump(include=set(QuoteDraft.model_fields) - {exclude})


def _locate(article: _MatchForm, quote: str) -> list[Span] | None:
    wanted = _match_form(quote).text.strip(" " + _QUOTE_MARKS)
    if not wanted:
        return None
    start = next(_occurrences(article, wanted, 0, len(article.text), [_SEARCH_BUDGET]), None)
    if start is not None:
        return [article.span(start, start + len(wanted))]
    pieces = _split_match(article, wanted.split(" "))
    if pieces is not None:
        return [article.span(start, end) for start, end in pieces]
    nfc = unicodedata.normalize("NFC", quote)
    # Articles are NFC (sources.normalise_text); a decomposed copy of one is still a copy.
    return None if nfc == quote else _locate(article, nfc)


def _occurrences(article: _MatchForm, needle: str, lo: int, hi: int, budget: list[int]) -> Iterator[int]:
    """Starts in ``[lo, hi]`` where ``needle`` occurs aligned to original characters."""
    text = article.text
    while budget[0] > 0:
        budget[0] -= 1
        start = text.find(needle, lo, hi + len(needle))
        if start < 0:
            return
        if article.is_boundary(start) and article.is_boundary(start + len(needle)):
            yield start
        lo = start + 1


def _split_match(article: _MatchForm, words: list[str]) -> list[tuple[int, int]] | None:
    """Spans in matching form for ``words`` as a quote split around attributions, or None."""
    count = len(words)
    if count < 2 * MIN_PIECE_WORDS:
        return None
    text = article.text
    budget = [_SEARCH_BUDGET]
    dead_ends: set[tuple[int, int]] = set()

    def pieces_from(first_word: int, lo: int, hi: int) -> list[tuple[int, int]] | None:
        if (first_word, lo) in dead_ends:
            return None
        last_cut = count if first_word else count - MIN_PIECE_WORDS
        for cut in range(last_cut, first_word + MIN_PIECE_WORDS - 1, -1):
            if 0 < count - cut < MIN_PIECE_WORDS:
                continue
            is_last = cut == count
            piece = " ".join(words[first_word:cut])
            if first_word:
                piece = piece.lstrip(_QUOTE_MARKS + " ")
            for variant in (piece,) if is_last else _join_variants(piece):
                # A lone quotation mark is not a word: "' a" is one word, too short a piece.
                if len(variant.split()) < MIN_PIECE_WORDS:
                    continue
                for start in _occurrences(article, variant, lo, hi, budget):
                    end = start + len(variant)
                    if first_word and not _opens_quote(text, start):
                        continue
                    if is_last:
                        return [(start, end)]
                    if not _closes_quote(text, end):
                        continue
                    rest = pieces_from(cut, end, end + MAX_SPLIT_GAP)
                    if rest is not None:
                        return [(start, end), *rest]
        dead_ends.add((first_word, lo))
        return None

    return pieces_from(0, 0, len(text))


def _join_variants(piece: str) -> tuple[str, ...]:
    """The piece as the article may end it before a join: with or without the model's
    closing mark, and with or without a comma or period the model put or left out."""
    bare = piece.rstrip(_QUOTE_MARKS + " ")
    if bare and bare[-1] in _JOIN_PUNCTUATION:
        return (bare, bare[:-1])
    return (bare,)


def _closes_quote(text: str, end: int) -> bool:
    """Whether a closing quotation mark follows ``end``, past a little punctuation."""
    for index in range(end, min(end + _MAX_SKIPPED_AT_JOIN + 1, len(text))):
        if text[index] in _QUOTE_MARKS:
            return True
        if text[index] not in _BEFORE_CLOSING_MARK and text[index] != " ":
            return False
    return False


def _opens_quote(text: str, start: int) -> bool:
    """Whether an opening quotation mark precedes ``start``, past a little punctuation."""
    for index in range(start - 1, max(start - _MAX_SKIPPED_AT_JOIN - 1, -1), -1):
        if text[index] in _QUOTE_MARKS:
            return True
        if text[index] not in ".- ":
            return False
    return False
