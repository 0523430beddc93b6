"""Output and fixed-prompt tokens of the evidence-first answer (analyse-v2) against the old one.

For each seed, the offline engine's analysis is serialised both ways, as a model would write
it: the old ``ArticleVerdict`` (quotes and claims copied from the text) and the new
``EvidenceVerdict`` (quotes by their ⟦Qn⟧ id, claims by [Sn] sentence ids with a short
summary). Tokens are counted with o200k (the ``bpe-openai`` package, offline). It also
prints the fixed part of the v2 request (system prompt, tool schema, the user message's
static opening) and its share of each seed's whole input, in tools mode.

    .venv/bin/pip install bpe-openai && .venv/bin/python bench/answer_tokens.py [files...]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bpe_openai import get_encoding

from pipeline.engines import make_engine
from pipeline.engines.evidence import answer_tool
from pipeline.engines.verdict_first import RESPONSE_MODEL
from pipeline.models import Article, ArticleVerdict, EvidenceVerdict
from pipeline.offline import analyse_offline
from pipeline.engines.prompts import load_prompt, mark_evidence
from pipeline.settings import Engine, Settings
from pipeline.inputs import article_id, iter_articles
from pipeline.checks.quotes import locate_quote

ENCODING = get_encoding("o200k_base")
SUMMARY_WORDS = 20
_ATTRIBUTION = ("speaker", "speaker_kind", "cue", "channel")


def tokens(text: str) -> int:
    return len(ENCODING.encode(text))


def _overlapping(spans: list[tuple[int, int]], start: int, end: int) -> list[int]:
    return [number for number, (s, e) in enumerate(spans, 1) if s < end and start < e]


def evidence_answer(text: str) -> tuple[str, str]:
    """The offline analysis of ``text`` as the old answer's JSON and as the new one's."""
    verdict = analyse_offline_text(text)
    _marked, evidence = mark_evidence(text)
    quotations = [(q.start, q.end) for q in evidence.quotations]
    groups: dict[tuple, list[int]] = {}
    extra = []
    for quote in verdict.quotes:
        spans = locate_quote(text, quote.text) or []
        ids = sorted({i for span in spans for i in _overlapping(quotations, span.start, span.end)})
        attribution = (quote.speaker, quote.speaker_kind.value, quote.cue, quote.channel)
        if ids:
            groups.setdefault(attribution, []).extend(ids)
        else:
            extra.append({"text": quote.text, **dict(zip(_ATTRIBUTION, attribution, strict=True))})
    quotes = [{"ids": ids, **dict(zip(_ATTRIBUTION, attribution, strict=True))} for attribution, ids in groups.items()]
    claims = []
    for claim in verdict.claims:
        spans = locate_quote(text, claim.event) or []
        sentence_ids = sorted({i for span in spans for i in _overlapping(list(evidence.sentences), span.start, span.end)})
        claims.append(
            {
                "sentences": sentence_ids[:3],
                "summary": " ".join(claim.event.split()[:SUMMARY_WORDS]),
                **claim.model_dump(mode="json", exclude={"event"}),
            }
        )
    new = {
        "quotes": quotes,
        "extra_quotes": extra,
        "claims": claims,
        "reasons": [r.value for r in verdict.reasons],
        "rationale": verdict.rationale,
        "label": verdict.label.value,
        "confidence": verdict.confidence,
    }
    # Validated, so the new answer is a valid one and its caps apply (claims, string lengths).
    capped = EvidenceVerdict.model_validate(new, context=evidence.context())
    return verdict.model_dump_json(), capped.model_dump_json()


def analyse_offline_text(text: str) -> ArticleVerdict:
    return analyse_offline(
        Article(article_id=article_id(text), text=text, title=None, url=None, published=None, source_path="-", record_id=None)
    )


def main(paths: list[str]) -> None:
    settings = Settings(engine=Engine.llm, base_url="http://127.0.0.1:9/v1", model="gpt-4o-mini")
    engine = make_engine(settings)
    tool = json.dumps(answer_tool(EvidenceVerdict, strict=True), ensure_ascii=False)
    fixed = tokens(engine.prompt.system) + tokens(tool) + tokens(engine.prompt.static_user_prefix())
    print(
        f"fixed prompt (system {tokens(engine.prompt.system)} + tool schema {tokens(tool)} + static user "
        f"{tokens(engine.prompt.static_user_prefix())}): {fixed} tokens"
    )
    old_prompt = load_prompt("analyse-v1")
    old_tool = json.dumps({"type": "function", "function": RESPONSE_MODEL.openai_schema}, ensure_ascii=False)
    unguided = make_engine(Settings(engine=Engine.llm, base_url="http://127.0.0.1:9/v1", model="gpt-4o-mini", field_guide=False))
    print(
        f"  without the field guide (PIPELINE_FIELD_GUIDE=0): system {tokens(unguided.prompt.system)}, "
        f"fixed {tokens(unguided.prompt.system) + tokens(tool) + tokens(engine.prompt.static_user_prefix())} tokens"
    )
    print(
        f"old fixed prompt (analyse-v1 system {tokens(old_prompt.system)} + tool schema {tokens(old_tool)} + "
        f"static user {tokens(old_prompt.static_user_prefix())})"
    )
    old_total = new_total = 0
    for article in iter_articles(paths):
        old, new = evidence_answer(article.text)
        messages, _evidence = engine.prompt.request(article, settings.max_input_chars)
        whole = tokens(messages[0]["content"]) + tokens(tool) + tokens(messages[1]["content"])
        old_total += tokens(old)
        new_total += tokens(new)
        counts = f"claims {len(json.loads(old)['claims'])}->{len(json.loads(new)['claims'])}"
        print(
            f"{Path(article.source_path).name}: output old {tokens(old)}, new {tokens(new)} ({counts}) "
            f"({tokens(new) / tokens(old):.0%}); input {whole}, fixed share {fixed / whole:.0%}"
        )
    print(f"all: output new/old {new_total}/{old_total} = {new_total / old_total:.0%}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["seeds/"])
