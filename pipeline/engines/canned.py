"""An engine that hands over answers already in hand: a Batch API answer, a test's.

``analyse_article`` then verifies them exactly as it verifies a live answer. A
re-ask for quotes the text lacks goes to the live engine when there is one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from pipeline.errors import AnswerError
from pipeline.models import Article, CacheIdentity, EngineAnswer, QuoteDraft
from pipeline.parsed import ParsedArticle

if TYPE_CHECKING:
    from pipeline.engines import AnalysisEngine

__all__ = ["CannedEngine"]


class CannedEngine:
    """Answers by article id under ``identity``; an article without one is an ``AnswerError``."""

    def __init__(
        self, name: str, identity: CacheIdentity, answers: Mapping[str, EngineAnswer], live: AnalysisEngine | None = None
    ):
        self.name = name
        self.identity = identity
        self.answers = answers
        self.live = live
        self.reasks = live is not None and live.reasks

    async def analyse(self, article: Article, parse: ParsedArticle | None = None) -> EngineAnswer:
        try:
            return self.answers[article.article_id]
        except KeyError:
            raise AnswerError(f"no answer in hand for article {article.article_id[:12]}") from None

    async def reask_quotes(self, article: Article, previous: EngineAnswer, missing: list[QuoteDraft]) -> EngineAnswer:
        if self.live is None:
            raise AnswerError("no live engine to re-ask")
        return await self.live.reask_quotes(article, previous, missing)
