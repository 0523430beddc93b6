"""The analysis engines, one module each (httpx's ``_transports`` is the model).

``offline``: rules and fitted weights, no network. ``openai_client``: the one seam to the
network (client, retries, error mapping) under ``evidence`` (the default LLM engine) and
``verdict_first`` (``analyse-v1``). ``canned``: answers already in hand (a Batch API answer, a
test's), with re-asks going to a live engine. The runner and the batch mode see engines only
through ``AnalysisEngine``.

The LLM engines are imported only when asked for (``make_engine`` with the LLM, or the
names below): the SDKs cost about a second of start-up to every command otherwise.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Protocol

from pipeline.engines.canned import CannedEngine
from pipeline.engines.offline import OfflineEngine
from pipeline.engines.prompts import load_prompt
from pipeline.models import Article, CacheIdentity, EngineAnswer
from pipeline.parsed import ParsedArticle
from pipeline.settings import Engine, Settings

if TYPE_CHECKING:
    from pipeline.engines.evidence import EvidenceEngine
    from pipeline.engines.openai_client import LLMEngine
    from pipeline.engines.verdict_first import VerdictFirstEngine

__all__ = [
    "AnalysisEngine",
    "CannedEngine",
    "EvidenceEngine",
    "LLMEngine",
    "OfflineEngine",
    "VerdictFirstEngine",
    "make_engine",
]

_LAZY = {
    "EvidenceEngine": "pipeline.engines.evidence",
    "LLMEngine": "pipeline.engines.openai_client",
    "VerdictFirstEngine": "pipeline.engines.verdict_first",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class AnalysisEngine(Protocol):
    """What ``analyse_article`` asks of an engine: one method. Each engine makes its own
    re-asks, so the answers are every attempt's, the last one's verdict standing."""

    name: str
    identity: CacheIdentity

    async def analyse(self, article: Article, parse: ParsedArticle | None = None) -> list[EngineAnswer]: ...


def make_engine(settings: Settings, **llm_kwargs: Any) -> OfflineEngine | LLMEngine:
    """The engine the settings ask for (``auto``: the LLM when an endpoint is configured);
    for the LLM, the one its prompt version was written for."""
    if settings.resolved_engine is Engine.offline:
        return OfflineEngine(settings.fabrication_prior)
    prompt = load_prompt(settings.prompt_version, settings.prompts_dir)
    if not prompt.evidence_first:
        from pipeline.engines.verdict_first import VerdictFirstEngine

        return VerdictFirstEngine(settings, prompt, **llm_kwargs)
    from pipeline.engines.evidence import EvidenceEngine, answer_guide

    guide = answer_guide(settings, prompt.answer_model)
    prompt = load_prompt(settings.prompt_version, settings.prompts_dir, answer_guide=guide)
    return EvidenceEngine(settings, prompt, **llm_kwargs)
