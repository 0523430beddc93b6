"""The analysis schema: the single source of truth for what the pipeline produces.

The models that an engine fills (``ArticleVerdict`` and its parts) double as the
LLM's response schema, so their field descriptions are the other half of the
prompt. They are strict-friendly: every field is required and optional values
are ``T | None`` without defaults, which OpenAI-style strict JSON schemas need.
Fields the code adds after verification live on subclasses the model never sees.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cached_property
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator, model_validator

__all__ = [
    "Label",
    "ReasonCode",
    "EVIDENCE_REASONS",
    "SpeakerKind",
    "Priority",
    "Article",
    "SkippedInput",
    "QuoteDraft",
    "ClaimDraft",
    "ArticleVerdict",
    "QuoteById",
    "ExtraQuote",
    "ClaimBySentence",
    "EvidenceVerdict",
    "EVIDENCE_LIMITS",
    "Span",
    "VerifiedQuote",
    "RejectedQuote",
    "SPEAKER_UNCONFIRMED",
    "Signals",
    "Usage",
    "Analysis",
    "EngineAnswer",
    "schema_hash",
    "CacheIdentity",
]


class Label(StrEnum):
    news = "news"
    tribute = "tribute"
    likely_fabrication = "likely_fabrication"

    @property
    def definition(self) -> str:
        """One line in plain words: rendered into the prompt, the report's glossary and README."""
        return _LABEL_DEFINITIONS[self]


class ReasonCode(StrEnum):
    anonymous_sourcing = "anonymous_sourcing"
    unverifiable_media = "unverifiable_media"
    uncorroborated_event = "uncorroborated_event"
    invented_reactions = "invented_reactions"
    posthumous_attribution = "posthumous_attribution"
    viral_metrics = "viral_metrics"
    template_language = "template_language"
    no_dateline = "no_dateline"
    emotional_language = "emotional_language"
    extraordinary_claim = "extraordinary_claim"
    named_sourcing = "named_sourcing"
    honours_person = "honours_person"

    @property
    def definition(self) -> str:
        """One line in plain words: rendered into the prompt, the report's glossary and README."""
        return _REASON_DEFINITIONS[self]


_LABEL_DEFINITIONS = {
    Label.news: "Reports events that named, findable sources or records can confirm.",
    Label.tribute: "Honours a person (obituary, retirement, anniversary, memorial) and its events are ordinary and checkable.",
    Label.likely_fabrication: "Its central event rests only on anonymous or unfindable sources, media nobody "
    "can find, a reused template or a contradiction with known facts.",
}

_REASON_DEFINITIONS = {
    ReasonCode.anonymous_sourcing: "The central claims come only from unnamed insiders, 'sources' or witnesses.",
    ReasonCode.unverifiable_media: "A video, post, interview or broadcast is presented as released, "
    "but nothing names where it can be found.",
    ReasonCode.uncorroborated_event: "A central event is reported with no named source, record or outlet that could confirm it.",
    ReasonCode.invented_reactions: "Reactions of celebrities, fans or the public are quoted without a findable source.",
    ReasonCode.posthumous_attribution: "Someone recorded as dead is described as acting or speaking after their death.",
    ReasonCode.viral_metrics: "Claims of views, shares or 'the internet exploded' stand in for evidence.",
    ReasonCode.template_language: "The text reuses a known viral template with names swapped.",
    ReasonCode.no_dateline: "No date, place or outlet anchors the events.",
    ReasonCode.emotional_language: "Sensational or tear-jerking wording (a style mark, never evidence by itself).",
    ReasonCode.extraordinary_claim: "An unlikely event that would be widely reported if it were true.",
    ReasonCode.named_sourcing: "Quotes and facts are attributed to named people or organisations that can be contacted.",
    ReasonCode.honours_person: "The article's purpose is to honour or remember a person.",
}


EVIDENCE_REASONS = frozenset(
    {
        ReasonCode.anonymous_sourcing,
        ReasonCode.uncorroborated_event,
        ReasonCode.unverifiable_media,
        ReasonCode.posthumous_attribution,
        ReasonCode.template_language,
    }
)
"""The reasons that are evidence of fabrication; likely_fabrication needs one of them. The rest
(emotional language, viral metrics, no dateline, reactions) are style and never the label alone.
The desk memory adds its own (a fact-check match, an unreliable source) here."""


class SpeakerKind(StrEnum):
    named = "named"
    role = "role"
    anonymous = "anonymous"
    crowd = "crowd"


class Priority(StrEnum):
    high = "high"
    medium = "medium"
    low = "low"


class Article(BaseModel):
    """One article read from an input, with where it came from."""

    article_id: str = Field(description="SHA-256 of the normalised text.")
    text: str = Field(description="The normalised text; every offset indexes it.")
    title: str | None
    url: str | None
    published: str | None
    source_path: str = Field(description="The file the article was read from, '-' for stdin.")
    record_id: str | None = Field(description="The record's own `id` for JSON/JSONL input.")
    versioned_source: bool = Field(
        default=False,
        description=(
            "True when the source holds just this article (a text or HTML file, one JSON record, a record "
            "with an id): a different article read later from the same source is its new version."
        ),
    )


class SkippedInput(BaseModel):
    """An input that could not be read as an article, and why."""

    source_path: str
    record_id: str | None
    reason: str


class QuoteDraft(BaseModel):
    """A quote as an engine reports it, before the code checks it against the text."""

    model_config = ConfigDict(title="Quote")

    speaker: str = Field(
        description="Who the article says spoke, as the article names them "
        "(a person's name, or the phrase used, e.g. 'one team member', 'fans')."
    )
    speaker_kind: SpeakerKind = Field(
        description="named: a named person; role: described only by role "
        "('a source close to the project'); anonymous: no identity at all; "
        "crowd: a group or unnamed member of the public ('fans', 'one user')."
    )
    text: str = Field(
        description="The quoted words copied exactly, character for character, "
        "from the article, without the surrounding quotation marks."
    )
    cue: str | None = Field(
        description="The verb or phrase that attributes the quote (said, wrote, added, tweeted, according to), or null if none."
    )
    channel: str | None = Field(
        description="Where it was said (interview, Instagram caption, comment, "
        "a named show), or null when the article does not say."
    )


class ClaimDraft(BaseModel):
    """An event the article reports that a fact-checker should confirm."""

    model_config = ConfigDict(title="Claim")

    event: str = Field(description="The checkable event in one sentence.")
    who: str | None = Field(description="Who did it, or null when the article does not say.")
    when: str | None = Field(description="When it happened, or null when the article does not say.")
    where: str | None = Field(description="Where it happened, or null when the article does not say.")
    attributed_to: str | None = Field(description="Who the article cites as the source of the event, or null.")
    why: list[ReasonCode] = Field(description="Why this event needs confirmation.")
    check_with: str = Field(
        description="The primary source that would confirm it: an official "
        "channel, a broadcaster's archive, a named outlet, a public record."
    )
    priority: Priority = Field(description="high: central to the story and doubtful; low: peripheral.")


class ArticleVerdict(BaseModel):
    """The whole answer for one article: label, quotes and claims."""

    label: Label = Field(
        description="news: reports events with checkable sourcing; tribute: "
        "honours a person and its event claims are ordinary; "
        "likely_fabrication: its central events look invented. A tribute whose "
        "central events look invented is likely_fabrication."
    )
    confidence: float = Field(ge=0, le=1, description="Probability that the label is right, 0 to 1.")
    reasons: list[ReasonCode] = Field(description="The codes that support the label.")
    rationale: str = Field(description="One or two sentences explaining the label.")
    quotes: list[QuoteDraft] = Field(description="Every directly quoted statement attributed to someone.")
    claims: list[ClaimDraft] = Field(description="The events that need confirmation.")


# Caps of the evidence-first answer, sized on the dev data (928 PolNeAR, 480 FakeNewsAMT and
# 1,115 GossipCop articles): quotation spans per article p99 35, distinct speakers p99 18,
# sentences p99 90, speaker names p95 67 characters, cues p99 46. They bound the output: even
# an answer that fills every cap is under the default max_tokens (tests/test_prompts.py).
EVIDENCE_LIMITS = {
    "quotes": 20,
    "quote_ids": 12,
    "extra_quotes": 5,
    "claims": 5,
    "claim_sentences": 3,
    "reasons": 6,
    "why": 3,
    "speaker": 80,
    "cue": 40,
    "channel": 60,
    "quote_text": 300,
    "summary": 120,
    "claim_field": 60,
    "check_with": 80,
    "rationale": 300,
}


def _clip(limit: int) -> BeforeValidator:
    """Cut an over-long string or list to its cap: a strict decoder never sends one, and a lax
    server's extra characters or items are not worth a paid re-ask."""

    def clip(value: Any) -> Any:
        return value[:limit] if isinstance(value, str | list) else value

    return BeforeValidator(clip)


def _text(limit: str, description: str) -> Any:
    cap = EVIDENCE_LIMITS[limit]
    return Annotated[str, _clip(cap), Field(max_length=cap, description=description)]


def _optional_text(limit: str, description: str) -> Any:
    cap = EVIDENCE_LIMITS[limit]
    return Annotated[Annotated[str, Field(max_length=cap)] | None, _clip(cap), Field(description=description)]


def _items(kind: Any, limit: str, description: str, at_least: int = 0) -> Any:
    cap = EVIDENCE_LIMITS[limit]
    return Annotated[list[kind], _clip(cap), Field(min_length=at_least, max_length=cap, description=description)]


def _check_ids(ids: list[int], info: ValidationInfo, count_name: str, mark: str) -> None:
    """Raise when an id points at no mark in the article that was sent."""
    count = (info.context or {}).get(count_name)
    for value in ids:
        if count is not None and not 1 <= value <= count:
            raise ValueError(f"{mark}{value} is not in the article (its marks run {mark}1..{mark}{count})")


class QuoteById(BaseModel):
    """Marked quotations with one attribution, by their ids."""

    model_config = ConfigDict(title="Quote", extra="forbid")

    ids: _items(int, "quote_ids", "n of each ⟦Qn⟧ mark with this same speaker, cue and channel.", at_least=1)
    speaker: _text("speaker", "Who speaks, as the article names them (name, or phrase such as 'fans').")
    speaker_kind: SpeakerKind = Field(
        description="named: a named person; role: known only by role "
        "('a source close to him'); anonymous: no identity; crowd: fans, users, the public."
    )
    cue: _optional_text("cue", "Attributing verb (said, wrote, tweeted), or null.")
    channel: _optional_text("channel", "Where it was said (interview, Instagram), or null.")

    @field_validator("ids")
    @classmethod
    def _marked(cls, value: list[int], info: ValidationInfo) -> list[int]:
        _check_ids(value, info, "quotations", "Q")
        return value


class ExtraQuote(BaseModel):
    """A direct quote the marks missed, copied word for word (verified like any other)."""

    model_config = ConfigDict(title="ExtraQuote", extra="forbid")

    text: _text("quote_text", "The quoted words exactly as written, without quotation marks.")
    speaker: _text("speaker", "Who speaks, as the article names them.")
    speaker_kind: SpeakerKind = Field(description="As for quotes.")
    cue: _optional_text("cue", "Attributing verb, or null.")
    channel: _optional_text("channel", "Where it was said, or null.")


class ClaimBySentence(BaseModel):
    """An event a fact-checker should confirm, pointed at by sentence ids."""

    model_config = ConfigDict(title="Claim", extra="forbid")

    sentences: _items(int, "claim_sentences", "n of the [Sn] marks of the sentences that report it.")
    summary: _text("summary", "The checkable event in at most 20 words.")
    who: _optional_text("claim_field", "Who did it, or null.")
    when: _optional_text("claim_field", "When, or null.")
    where: _optional_text("claim_field", "Where, or null.")
    attributed_to: _optional_text("claim_field", "Who the article cites for it, or null.")
    why: _items(ReasonCode, "why", "Reason codes: why it needs confirming.")
    check_with: _text("check_with", "The primary source that would confirm it.")
    priority: Priority = Field(description="high: central and doubtful; low: peripheral.")

    @field_validator("sentences")
    @classmethod
    def _marked(cls, value: list[int], info: ValidationInfo) -> list[int]:
        _check_ids(value, info, "sentences", "S")
        return value


class EvidenceVerdict(BaseModel):
    """The evidence-first answer (prompt analyse-v2): evidence by id first, the verdict last,
    so a decoder commits to a label only after it has listed what the article holds."""

    model_config = ConfigDict(title="ArticleAnalysis", extra="forbid")

    quotes: _items(
        QuoteById, "quotes", "Every marked quotation that is speech, by id, grouped by attribution; skip titles and scare quotes."
    )
    extra_quotes: _items(ExtraQuote, "extra_quotes", "Direct quotes with no ⟦Q⟧ mark, copied exactly; usually none.")
    claims: _items(ClaimBySentence, "claims", "The events a fact-checker must confirm, most important first.")
    reasons: _items(ReasonCode, "reasons", "Reason codes that support the label.")
    rationale: _text("rationale", "One or two sentences explaining the label.")
    label: Label = Field(description="By the decision rule, after the evidence.")
    confidence: float = Field(ge=0, le=1, description="Probability that the label is right, 0 to 1.")


class Span(BaseModel):
    start: int
    end: int


class VerifiedQuote(QuoteDraft):
    """A quote found inside the article's quotation marks: its text is exactly
    ``article.text[start:end]`` for single-span quotes; split quotes list every piece in
    ``spans``."""

    start: int
    end: int
    spans: list[Span]
    verified: bool
    speaker_verified: bool = Field(
        default=False,
        description="Whether the attribution next to the quotation names the speaker; "
        "false is shown as 'speaker unconfirmed' and never counts as named sourcing.",
    )

    @property
    def speaker_check(self) -> str:
        """What every view shows beside the speaker: "" or ``SPEAKER_UNCONFIRMED``."""
        return "" if self.speaker_verified else SPEAKER_UNCONFIRMED


SPEAKER_UNCONFIRMED = "speaker unconfirmed"
"""Shown for a verified quote whose attribution does not name the speaker the engine gave."""


class RejectedQuote(QuoteDraft):
    """A quote an engine reported that does not verify in the article."""

    reason: str = Field(description="One of pipeline.checks.quotes.REJECTION_REASONS.")


class Signals(BaseModel):
    """Fabrication signals the offline engine computes for every article, whatever
    engine gave the verdict."""

    quote_count: int
    unnamed_quote_share: float = Field(description="Share of quotes from anonymous, role or crowd speakers.")
    unverifiable_media: int = Field(description="Claims of videos, footage, interviews nobody can be pointed to.")
    viral_metrics: int = Field(description="Mentions of views, trending, millions of fans.")
    superlative_density: float = Field(description="Emotional superlatives per 100 words.")
    emoji_headings: int
    has_dateline: bool
    posthumous_attributions: int = Field(description="Quotes or acts of a person the article says has died, presented as later.")
    template_phrases: int
    scores: dict[str, float] = Field(
        description="Calibrated, base-rate-corrected probability of each label from the offline scorer."
    )
    style_risk: float = Field(
        default=0.0, description="How sensational the wording is, 0 to 1; shown beside the label, never its cause."
    )
    evidence: list[ReasonCode] = Field(
        default_factory=list, description="Evidence of fabrication the text itself shows (see EVIDENCE_REASONS)."
    )


class Usage(BaseModel):
    """Tokens and requests across every attempt for one article."""

    requests: int
    input_tokens: int
    output_tokens: int
    cached_input_tokens: int = Field(default=0, description="Input tokens the provider served from its prompt cache.")
    estimated_requests: int = Field(
        default=0, description="Requests whose answer reported no usable token counts: counted at the estimate."
    )

    def __add__(self, other: Usage) -> Usage:
        return Usage(**{name: getattr(self, name) + getattr(other, name) for name in Usage.model_fields})


class Analysis(BaseModel):
    """What the pipeline stores for one article under one cache key."""

    article_id: str
    label: Label
    confidence: float = Field(description="The probability of the label.")
    probabilities: dict[str, float] = Field(
        default_factory=dict,
        description="Calibrated probability of each label (news, tribute, likely_fabrication), summing to 1.",
    )
    reasons: list[ReasonCode]
    rationale: str
    quotes: list[VerifiedQuote]
    rejected_quotes: list[RejectedQuote]
    claims: list[ClaimDraft]
    signals: Signals

    @model_validator(mode="after")
    def _probabilities_of_older_rows(self) -> Analysis:
        """Rows stored before probabilities existed: the label's confidence, the rest shared."""
        if not self.probabilities:
            rest = (1 - self.confidence) / 2
            self.probabilities = {label.value: self.confidence if label is self.label else rest for label in Label}
        return self


class EngineAnswer(BaseModel):
    """An engine's verdict with what it cost and what the provider sent back."""

    verdict: ArticleVerdict
    raw_responses: list[str] = Field(
        description="Every raw provider response, kept so a new verifier can re-parse without paying again."
    )
    usage: Usage


def schema_hash(model: type[BaseModel] = ArticleVerdict) -> str:
    """Hash of a response schema: a schema change must miss the cache."""
    schema = json.dumps(model.model_json_schema(), sort_keys=True)
    return hashlib.sha256(schema.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class CacheIdentity:
    """Everything besides the article that decides an answer."""

    engine: str
    model: str
    mode: str
    prompt_version: str
    prompt_hash: str
    schema_hash: str
    params: dict[str, Any]

    def params_json(self) -> str:
        return json.dumps(self.params, sort_keys=True)

    @cached_property
    def key_tail(self) -> str:
        """The JSON array a cache key hashes, after its first element (the article id), encoded once."""
        parts = [self.engine, self.model, self.mode, self.prompt_version, self.prompt_hash, self.schema_hash, self.params_json()]
        return json.dumps(parts)[1:]
