"""Versioned prompts: files in this package named ``VERSION.system.md``,
``VERSION.user.md`` and ``VERSION.reask.md``, hashed together. They ship in the
wheel and are read with ``importlib.resources``; ``PIPELINE_PROMPTS_DIR`` points
at another folder of them.

Prompts are rendered here with ``string.Template`` (never through instructor's
Jinja2 ``context=``), so article text that contains ``{{ }}`` or ``$`` stays
plain data. The system prompt carries no per-article data and comes first, so
providers can cache it. Changing behaviour means adding a new version, which
changes the hash and so misses the cache.

Two answer formats exist. ``analyse-v1`` asks for the whole verdict with copied
quotes (``ArticleVerdict``); every later version is evidence-first
(``EvidenceVerdict``): the user message carries the article with its quotations
marked ``⟦Qn⟧`` (the shared scanner, :func:`pipeline.quotations.quotation_spans`)
and its sentences ``[Sn]``, and the model answers with those numbers, which
:meth:`Evidence.resolve` turns back into the article's own words.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from string import Template
from typing import Any

from pipeline.errors import ConfigError
from pipeline.models import (
    Article,
    ArticleVerdict,
    ClaimDraft,
    EvidenceVerdict,
    Label,
    QuoteDraft,
    ReasonCode,
)
from pipeline.parsed import ParsedArticle, parsed
from pipeline.quotations import QuotationSpan

__all__ = [
    "PROMPTS_DIR",
    "VERDICT_FIRST_VERSIONS",
    "Evidence",
    "Prompt",
    "load_prompt",
    "truncate_for_prompt",
    "mark_evidence",
    "neutralise_marks",
    "field_guide",
    "definitions",
]

PROMPTS_DIR: Traversable = resources.files("pipeline.prompts")
VERDICT_FIRST_VERSIONS = frozenset({"analyse-v1"})
"""Versions written for the verdict-first answer with copied quotes; kept so their caches stay valid."""
_PARTS = ("system", "user", "reask")


def truncate_for_prompt(text: str, max_chars: int) -> str:
    """The text sent to the model: whole when it fits, else cut at the last
    paragraph (or sentence) break before ``max_chars``. Verification always uses
    the whole article, so a cut never lets a quote verify that is not there."""
    if len(text) <= max_chars:
        return text
    head = text[:max_chars]
    for separator in ("\n\n", "\n", ". "):
        cut = head.rfind(separator)
        if cut > max_chars // 2:
            return head[: cut + len(separator)].rstrip()
    return head


def definitions() -> tuple[str, str]:
    """The label and reason-code glossaries as prompt lines, from the enums' own definitions."""
    labels = "\n".join(f"- {label.value}: {label.definition}" for label in Label)
    reasons = "\n".join(f"- {code.value}: {code.definition}" for code in ReasonCode)
    return labels, reasons


def _guide_lines(schema: dict[str, Any], indent: str) -> list[str]:
    lines = []
    for name, part in schema.get("properties", {}).items():
        options = [option for option in part.get("anyOf", [part]) if option.get("type") != "null"]
        kind = options[0]
        nullable = " or null" if len(options) < len(part.get("anyOf", [part])) else ""
        caps = []
        if "maxItems" in kind:
            caps.append(f"at most {kind['maxItems']}")
        if "maxLength" in kind:
            caps.append(f"≤{kind['maxLength']} chars")
        items = kind.get("items", {})
        if "enum" in kind or "enum" in items:
            caps.append(" | ".join(kind.get("enum") or items["enum"]) if "enum" in kind else "codes")
        described = part.get("description", "")
        detail = f" ({', '.join(caps)})" if caps else ""
        lines.append(f"{indent}- {name}{detail}{nullable}: {described}")
        if items.get("type") == "object":
            lines.extend(_guide_lines(items, indent + "  "))
    return lines


def field_guide(schema: dict[str, Any]) -> str:
    """A compact guide to the answer's fields, in order, for servers that never show the
    model the tool or response schema (llama.cpp's tools and json_schema modes)."""
    return "\n".join(["", "Answer fields, in this order:", *_guide_lines(schema, "")])


@dataclass(frozen=True)
class Evidence:
    """What the numbers in one evidence-first prompt point at, in the article's own offsets."""

    text: str
    quotations: tuple[QuotationSpan, ...]
    sentences: tuple[tuple[int, int], ...]

    def context(self) -> dict[str, int]:
        """Validation context: how many marks of each kind were sent."""
        return {"quotations": len(self.quotations), "sentences": len(self.sentences)}

    def resolve(self, answer: EvidenceVerdict) -> ArticleVerdict:
        """The answer in the article's words: quotes by id become the marked quotations'
        text, extra quotes stay as copied (the verifier checks them like any other)."""
        quotes, seen = [], set()
        for group in answer.quotes:
            for number in group.ids:
                if number in seen:
                    continue
                seen.add(number)
                span = self.quotations[number - 1]
                quotes.append(
                    QuoteDraft(
                        speaker=group.speaker,
                        speaker_kind=group.speaker_kind,
                        text=self.text[span.start : span.end],
                        cue=group.cue,
                        channel=group.channel,
                    )
                )
        quotes.extend(QuoteDraft(**extra.model_dump()) for extra in answer.extra_quotes)
        claims = [
            ClaimDraft(**claim.model_dump(exclude={"sentences", "summary"}), event=claim.summary) for claim in answer.claims
        ]
        return ArticleVerdict(
            label=answer.label,
            confidence=answer.confidence,
            reasons=answer.reasons,
            rationale=answer.rationale,
            quotes=quotes,
            claims=claims,
        )


# Text that looks like the prompt's own marks (⟦Q3⟧, [S12], in any case or spacing, with
# full-width or other look-alike brackets): an article carrying it would show the model
# forged or duplicate ids.
_MARK_LIKE = re.compile(r"([⟦\[［【〚⁅])(\s*[QSＱＳqsｑｓ]\s*[0-9０-９]+\s*)([⟧\]］】〛⁆])")


def neutralise_marks(text: str) -> str:
    """``text`` with every mark-like id's brackets made plain parentheses, character for
    character: the same length, so every offset into it is an offset into ``text``."""
    return _MARK_LIKE.sub(lambda found: f"({found.group(2)})", text)


def mark_evidence(article: str | ParsedArticle) -> tuple[str, Evidence]:
    """The text with ``⟦Qn⟧`` before each quotation's opening mark and ``[Sn] `` at each
    sentence start, and the evidence those numbers point at (in the article's own text).
    Mark-like text in the article is neutralised first, so the only ids the model sees
    are these."""
    read = parsed(article)
    text, quotations, spans = read.text, read.quotations, read.sentences
    shown = neutralise_marks(text)
    inserts = sorted(
        [(start, 0, f"[S{number}] ") for number, (start, _end) in enumerate(spans, 1)]
        + [(quotation.open_at, 1, f"⟦Q{quotation.index}⟧") for quotation in quotations]
    )
    parts, copied = [], 0
    for at, _order, mark in inserts:
        parts.append(shown[copied:at])
        parts.append(mark)
        copied = at
    parts.append(shown[copied:])
    return "".join(parts), Evidence(text=text, quotations=quotations, sentences=spans)


@dataclass(frozen=True)
class Prompt:
    version: str
    system: str
    user: Template
    reask: Template
    hash: str

    @property
    def evidence_first(self) -> bool:
        """Whether this version answers ``EvidenceVerdict`` (numbers) rather than ``ArticleVerdict``."""
        return self.version not in VERDICT_FIRST_VERSIONS

    @property
    def answer_model(self) -> type[ArticleVerdict] | type[EvidenceVerdict]:
        return EvidenceVerdict if self.evidence_first else ArticleVerdict

    def messages(self, article: Article, max_chars: int) -> list[dict[str, str]]:
        """System and user messages for one article, the article fenced as data."""
        return self.request(article, max_chars)[0]

    def request(
        self, article: Article, max_chars: int, parse: ParsedArticle | None = None
    ) -> tuple[list[dict[str, str]], Evidence | None]:
        """The messages for one article and, for an evidence-first version, what its marks point
        at (``parse``: the article's parse, read again only when the text is cut)."""
        sent = truncate_for_prompt(article.text, max_chars)
        whole = parse if parse is not None and sent == article.text else sent
        shown, evidence = mark_evidence(whole) if self.evidence_first else (sent, None)
        fence = article.article_id[:16]
        note = (
            "" if sent == article.text else f"[The article was cut to its first {len(sent)} of {len(article.text)} characters.]"
        )
        user = self.user.substitute(
            begin_marker=f"<<<ARTICLE {fence}>>>",
            article=shown,
            end_marker=f"<<<END ARTICLE {fence}>>>",
            truncation_note=note,
        )
        return [{"role": "system", "content": self.system}, {"role": "user", "content": user}], evidence

    def static_user_prefix(self) -> str:
        """The part of the user message that is the same for every article."""
        return self.user.template.split("$begin_marker", 1)[0]

    def reask_message(self, missing: list[QuoteDraft]) -> dict[str, str]:
        """The follow-up that names the quotes the article does not contain (verdict-first versions)."""
        listed = "\n".join(f"- {quote.speaker}: {quote.text}" for quote in missing)
        return {"role": "user", "content": self.reask.substitute(missing_quotes=listed)}

    def fix_message(self, problems: list[str], fields: list[str]) -> dict[str, str]:
        """The follow-up of an evidence-first answer that failed validation: only the problems,
        asking only for the fields that failed."""
        listed = "\n".join(f"- {problem}" for problem in problems)
        return {"role": "user", "content": self.reask.substitute(problems=listed, fields=", ".join(fields))}


def load_prompt(version: str, prompts_dir: Path | None = None, *, answer_guide: str = "") -> Prompt:
    """Read, render and hash one prompt version (from the package, or ``prompts_dir``);
    ConfigError if any part is missing.

    The system prompt is rendered once here (label and reason definitions, and
    ``answer_guide`` for servers that hide the answer schema), so it is the same for
    every article; the hash covers what is sent.
    """
    folder = PROMPTS_DIR if prompts_dir is None else prompts_dir
    texts = {}
    for part in _PARTS:
        path = folder / f"{version}.{part}.md"
        try:
            texts[part] = path.read_text(encoding="utf-8")
        except OSError:
            raise ConfigError(f"prompt version {version!r}: cannot read {path}") from None
    digest = hashlib.sha256()
    for part in _PARTS:
        digest.update(part.encode() + b"\0" + texts[part].encode() + b"\0")
    labels, reasons = definitions()
    system = Template(texts["system"].strip()).safe_substitute(labels=labels, reasons=reasons, field_guide=answer_guide)
    if system != texts["system"].strip():
        # Definitions and the guide are part of what is sent: a change to either misses the cache.
        digest.update(b"rendered\0" + system.encode())
    return Prompt(
        version=version,
        system=system.strip(),
        user=Template(texts["user"].strip()),
        reask=Template(texts["reask"].strip()),
        hash=digest.hexdigest()[:16],
    )
