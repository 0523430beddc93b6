"""One article read once: its paragraphs, quotation spans, sentences and person names.

The prompt's marks, the verifier, the offline extractor and the signals all read the same
``ParsedArticle``, made once per article by ``analyse_article`` and handed along; nothing is
cached by text, so two articles never share or evict each other's parse. Each part is read
the first time a stage asks for it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Any, TypeVar

from pipeline.quotations import QuotationSpan, quotation_spans
from pipeline.text import paragraphs, person_names, sentences

__all__ = ["ParsedArticle", "parsed"]

_Part = TypeVar("_Part")


class ParsedArticle:
    """The normalised text of one article and what every stage reads of it."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._derived: dict[Callable[[ParsedArticle], Any], Any] = {}

    @cached_property
    def paragraphs(self) -> list[tuple[int, int]]:
        """(start, end) of every non-blank line."""
        return paragraphs(self.text)

    @cached_property
    def quotations(self) -> tuple[QuotationSpan, ...]:
        """Every quotation, in document order (:func:`pipeline.quotations.quotation_spans`)."""
        return quotation_spans(self.text, self.paragraphs)

    @cached_property
    def sentences(self) -> tuple[tuple[int, int], ...]:
        """(start, end) of every sentence."""
        return sentences(self.text)

    @cached_property
    def names(self) -> tuple[tuple[int, int, str], ...]:
        """Every capitalised name that can stand for a person, with offsets."""
        return person_names(self.text)

    def derived(self, make: Callable[[ParsedArticle], _Part]) -> _Part:
        """What a later stage reads from this article (``make(self)``), made once: the
        verifier's matching form and attribution links, the offline extractor's quotes and the
        signals are each
        asked for by more than one stage of one article."""
        if make not in self._derived:
            self._derived[make] = make(self)
        return self._derived[make]  # type: ignore[no-any-return]


def parsed(article: str | ParsedArticle) -> ParsedArticle:
    """``article`` parsed, or as it is when it already is (the library's functions take either)."""
    return article if isinstance(article, ParsedArticle) else ParsedArticle(article)
