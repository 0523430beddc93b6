"""Where an article's quotation marks put its quotations: the one scanner every stage reads.

The offline extractor, the verifier, the report's highlighting and the LLM prompt all ask
:func:`quotation_spans`, so a passage is a quotation in one place exactly when it is in all.

Double marks make quotations: typographic ones say which way they face (“ ” „ « »), straight
ones (``"`` and the doubled apostrophe ``''`` some wires use) face the way their neighbours say
(a space before and a letter after opens). Single typographic marks make a quotation only when
nothing is open, as British style uses them outside (‘…’); inside a double-quoted passage they
are a nested quotation, part of the outer one. A straight single mark is always an apostrophe.

A quotation never runs over a paragraph break (a line break) on its own: a passage left open
at the end of a paragraph ends there, unclosed, and the next paragraph's quotation *continues*
it only when that paragraph opens with a quotation mark (the convention for a quotation of
several paragraphs). An opening mark met while a quotation is open ends the open one, unclosed,
just before it, so one stray mark never pairs with a mark in unrelated text. Straight marks
inside a typographic quotation that closes later are nested ones. The scan is one pass over
the marks: linear in the text.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass

from pipeline.text import paragraphs

__all__ = ["QuotationSpan", "quotation_spans", "span_at"]


@dataclass(frozen=True, slots=True)
class QuotationSpan:
    """One quotation inside one paragraph.

    ``text[start:end]`` is the quoted words without the outer marks (whitespace trimmed);
    ``text[open_at:close_end]`` includes them (``close_end`` is where the paragraph, or the
    next opening mark, cuts an unclosed quotation off).
    """

    index: int
    """1-based position in document order."""
    start: int
    end: int
    open_at: int
    close_end: int
    paragraph: int
    """0-based index of the paragraph (non-blank line) holding the quotation."""
    closed: bool
    """Whether a closing mark ends it (False: cut off by a paragraph end or an opening mark)."""
    continues: int | None = None
    """The index of the quotation this one carries on from the previous paragraph, if any."""


# Straight single marks and apostrophes inside words are never marks; a typographic single
# mark only where it cannot be an apostrophe (‘ not after a letter, ’ not before one).
_MARK = re.compile(r"''|``|[\"“”„«»]|(?<![\w’'])‘(?!\d\ds?\b)|’(?![\w’'])")
_OPENERS = frozenset({"“", "„", "«", "``"})
_CLOSERS = frozenset({"”", "»"})
_STRAIGHT = frozenset({'"', "''"})
_OPEN_BEFORE = frozenset("([{/—–-")
_SINGLE_CLOSER = re.compile(r"’(?!\w)")
_SPACE = re.compile(r"\s")


def quotation_spans(text: str, paragraph_spans: list[tuple[int, int]] | None = None) -> tuple[QuotationSpan, ...]:
    """Every quotation in ``text``, in document order (see the module's docstring);
    ``paragraph_spans``: ``paragraphs(text)`` where the caller has them already. An article's
    stages read them once, from :class:`pipeline.parsed.ParsedArticle`."""
    found: list[QuotationSpan] = []
    carried: QuotationSpan | None = None
    for number, (p_start, p_end) in enumerate(paragraphs(text) if paragraph_spans is None else paragraph_spans):
        raw = list(_paragraph_quotations(text, p_start, p_end))
        first_opens_paragraph = bool(raw) and _first_visible(text, p_start) == raw[0][0]
        for position, (open_at, mark_end, close_at, close_end, closed) in enumerate(raw):
            start, end = _trimmed(text, mark_end, close_at)
            if start >= end:
                continue
            continues = carried.index if carried is not None and position == 0 and first_opens_paragraph else None
            span = QuotationSpan(
                len(found) + 1,
                start,
                end,
                open_at,
                close_end,
                number,
                closed,
                continues,
            )
            found.append(span)
        carried = (
            found[-1]
            if raw and found and found[-1].paragraph == number and not found[-1].closed and found[-1].close_end == p_end
            else None
        )
    return tuple(found)


def span_at(spans: tuple[QuotationSpan, ...], position: int) -> QuotationSpan | None:
    """The quotation whose quoted words hold ``position``, if any (``spans`` in document order)."""
    at = bisect_right([span.start for span in spans], position) - 1
    if at >= 0 and position < spans[at].end:
        return spans[at]
    return None


def _paragraph_quotations(text: str, p_start: int, p_end: int) -> Iterator[tuple[int, int, int, int, bool]]:
    """(open_at, mark_end, close_at, close_end, closed) of each quotation in one paragraph."""
    single_closers = [m.start() for m in _SINGLE_CLOSER.finditer(text, p_start, p_end)]
    last_typographic_close = max(text.rfind(mark, p_start, p_end) for mark in "”»“")
    next_space = p_start - 1
    open_at = mark_end = -1
    opened = ""
    for match in _MARK.finditer(text, p_start, p_end):
        mark, at, after = match.group(), match.start(), match.end()
        if open_at < 0:
            if mark == "‘" and next_space < after:
                next_space = _next_space(text, after, p_end)
            if _may_open(text, mark, at, after, p_end) and (mark != "‘" or _closer_after(single_closers, next_space)):
                open_at, mark_end, opened = at, after, mark
        elif opened == "‘":
            if mark == "’":
                yield open_at, mark_end, at, after, True
                open_at = -1
        elif mark in ("‘", "’") or mark in _STRAIGHT and opened in _OPENERS and at < last_typographic_close:
            continue
        elif _closes(text, opened, mark, at, after, p_end):
            yield open_at, mark_end, at, after, True
            open_at = -1
        elif _may_open(text, mark, at, after, p_end):
            yield open_at, mark_end, at, at, False
            open_at, mark_end, opened = at, after, mark
    if open_at >= 0:
        yield open_at, mark_end, p_end, p_end, False


def _may_open(text: str, mark: str, at: int, after: int, p_end: int) -> bool:
    """Whether a mark can open a quotation: a double typographic opener always can (French
    style puts a space inside « »); a straight or single mark needs anything but a space after
    it and, when straight, a space, a bracket or the line start before it."""
    if mark in _CLOSERS or mark == "’" or after >= p_end:
        return False
    if mark in _OPENERS:
        return True
    if text[after].isspace():
        return False
    return mark == "‘" or at == 0 or text[at - 1].isspace() or text[at - 1] in _OPEN_BEFORE


def _closes(text: str, opened: str, mark: str, at: int, after: int, p_end: int) -> bool:
    """Whether a mark met inside a passage that ``opened`` opened closes it („…“ is German)."""
    if mark in _CLOSERS or opened == "„" and mark == "“":
        return True
    if mark in _OPENERS:
        return False
    # A straight mark closes unless it plainly opens: a space before it and a letter after.
    return not (text[at - 1].isspace() and after < p_end and not text[after].isspace())


def _closer_after(single_closers: list[int], position: int) -> bool:
    """Whether a closing single mark follows ``position`` (the first space after an opening
    single mark: a quotation has a space inside, ‘90s’ has none)."""
    return bisect_right(single_closers, position) < len(single_closers)


def _next_space(text: str, start: int, end: int) -> int:
    """The first whitespace at or after ``start``, else ``end``; callers ask with rising
    ``start`` only past the last answer, which keeps the scan linear."""
    match = _SPACE.search(text, start, end)
    return match.start() if match else end


def _first_visible(text: str, start: int) -> int:
    while text[start].isspace():
        start += 1
    return start


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
