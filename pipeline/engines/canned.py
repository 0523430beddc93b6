"""An engine that hands over answers already in hand: a Batch API answer, a test's.

``analyse_article`` then verifies them exactly as it verifies a live answer. The re-asks an
answer needs (a verdict-first answer's quotes the text lacks) go to the live engine when
there is one, as its own re-asks after its own answers do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from pipeline.errors import AnswerError
from pipeline.models import Article, CacheIdentity, EngineAnswer
from pipeline.parsed import ParsedArticle

if TYPE_CHECKING:
    from pipeline.engines.openai_client import LLMEngine

__all__ = ["CannedEngine"]


class CannedEngine:
    """Answers by article id under ``identity``; an article without one is an ``AnswerError``."""

    def __init__(self, name: str, identity: CacheIdentity, answers: Mapping[str, EngineAnswer], live: LLMEngine | None = None):
        self.name = name
        self.identity = identity
        self.answers = answers
        self.live = live

    async def analyse(self, article: Article, parse: ParsedArticle | None = None) -> list[EngineAnswer]:
        try:
            answer = self.answers[article.article_id]
        except KeyError:
            raise AnswerError(f"no answer in hand for article {article.article_id[:12]}") from None
        if self.live is None:
            return [answer]
        return await self.live.follow_up(article, parse or ParsedArticle(article.text), answer)
