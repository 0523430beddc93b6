"""The embedded default engine: deterministic rules and fitted weights, no network."""

from __future__ import annotations

import hashlib

from pipeline.models import Article, CacheIdentity, EngineAnswer, Usage, schema_hash
from pipeline.offline import OFFLINE_VERSION, analyse_offline
from pipeline.checks.verdict import DEFAULT_PRIOR
from pipeline.parsed import ParsedArticle

__all__ = ["OfflineEngine"]


class OfflineEngine:
    """Answers from ``pipeline.offline``: what it quotes is in the text, so it never re-asks."""

    name = "offline"

    def __init__(self, prior: float = DEFAULT_PRIOR) -> None:
        self.prior = prior
        self.identity = CacheIdentity(
            engine="offline",
            model="offline",
            mode="rules",
            prompt_version=OFFLINE_VERSION,
            prompt_hash=hashlib.sha256(OFFLINE_VERSION.encode()).hexdigest()[:16],
            schema_hash=schema_hash(),
            params={"prior": prior},
        )

    async def analyse(self, article: Article, parse: ParsedArticle | None = None) -> list[EngineAnswer]:
        return [
            EngineAnswer(
                verdict=analyse_offline(article, self.prior, parse),
                raw_responses=[],
                usage=Usage(requests=0, input_tokens=0, output_tokens=0),
            )
        ]
