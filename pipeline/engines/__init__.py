"""The analysis engines, one module each (httpx's ``_transports`` is the model).

``offline``: rules and fitted weights, no network. ``llm``: any OpenAI-compatible
endpoint, the one seam to the network. ``canned``: answers already in hand (a
Batch API answer, a test's), with re-asks going to a live engine. The runner and
the batch mode see engines only through ``AnalysisEngine``.
"""

from __future__ import annotations

from typing import Any, Protocol

from pipeline.models import Article, CacheIdentity, EngineAnswer, QuoteDraft
from pipeline.engines.prompts import load_prompt
from pipeline.settings import Engine, Settings
from pipeline.engines.canned import CannedEngine
from pipeline.engines.llm import EvidenceEngine, LLMEngine, answer_guide
from pipeline.engines.offline import OfflineEngine

__all__ = ["AnalysisEngine", "CannedEngine", "EvidenceEngine", "LLMEngine", "OfflineEngine", "make_engine"]


class AnalysisEngine(Protocol):
    """What ``analyse_article`` asks of an engine."""

    name: str
    identity: CacheIdentity
    reasks: bool  # whether a quote the text lacks earns one re-ask

    async def analyse(self, article: Article) -> EngineAnswer: ...

    async def reask_quotes(self, article: Article, previous: EngineAnswer, missing: list[QuoteDraft]) -> EngineAnswer: ...


def make_engine(settings: Settings, **llm_kwargs: Any) -> OfflineEngine | LLMEngine:
    """The engine the settings ask for (``auto``: the LLM when an endpoint is configured);
    for the LLM, the one its prompt version was written for."""
    if settings.resolved_engine is Engine.offline:
        return OfflineEngine(settings.fabrication_prior)
    prompt = load_prompt(settings.prompt_version, settings.prompts_dir)
    if not prompt.evidence_first:
        return LLMEngine(settings, prompt, **llm_kwargs)
    guide = answer_guide(settings, prompt.answer_model)
    prompt = load_prompt(settings.prompt_version, settings.prompts_dir, answer_guide=guide)
    return EvidenceEngine(settings, prompt, **llm_kwargs)
