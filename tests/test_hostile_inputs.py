"""Hostile and broken inputs through the real batch (issue 6): a per-file outcome with a reason,
the batch goes on, nothing finished is lost, and injected text never steers a verdict."""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass
from pathlib import Path

import httpx2
import instructor
import openai
import pytest

from pipeline.engines import make_engine
from pipeline.engines.verdict_first import INSTRUCTOR_MODES
from pipeline.models import Article, Label
from pipeline.offline import analyse_offline
from pipeline.engines.prompts import load_prompt, mark_evidence, truncate_for_prompt
from pipeline.runs import RunResult, run
from pipeline.settings import Engine, Settings
from pipeline.inputs import article_id, iter_articles, normalise_text
from pipeline.store import StoredResult, Store
from pipeline.checks.quotes import locate_quote

from support.hostile import (
    CASES,
    HTML_PAYLOADS,
    INJECTION_PARAGRAPHS,
    LONG_ARTICLE_TAIL_QUOTE,
    TEMPLATE_TEXT,
    UNREADABLE_FILE,
    VANISHING_FILE,
    HostileCase,
    write_corpus,
)

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@dataclass(frozen=True)
class CorpusRun:
    cases: dict[str, HostileCase]
    result: RunResult
    second: RunResult
    outcomes: list[dict]
    results: list[StoredResult]
    run_status: str


def _refuse_unreadable(real_open):
    """Root opens chmod-000 files anyway: make the open fail as it does for everyone else."""

    def guarded_open(path, flags, *args, **kwargs):
        if os.fspath(path).endswith(UNREADABLE_FILE):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_open(path, flags, *args, **kwargs)

    return guarded_open


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory: pytest.TempPathFactory) -> CorpusRun:
    folder = tmp_path_factory.mktemp("hostile")
    cases = write_corpus(folder / "corpus")
    settings = Settings(engine=Engine.offline, db=folder / "hostile.db", min_file_age=0)

    def delete_vanishing_file_once(_status: str, _source: str, _reason: str | None) -> None:
        # The folder was listed before the first outcome; the file is read after it.
        (folder / "corpus" / VANISHING_FILE).unlink(missing_ok=True)

    with pytest.MonkeyPatch.context() as patch:
        if os.geteuid() == 0:
            patch.setattr(os, "open", _refuse_unreadable(os.open))
        result = run([str(folder / "corpus")], settings, on_outcome=delete_vanishing_file_once)
        second = run([str(folder / "corpus")], settings)
    with Store(settings.db) as store:
        outcomes = store.outcomes(result.run_id)
        results = list(store.iter_results(result.run_id))
        run_status = store.run_summary(result.run_id)["status"]
    return CorpusRun(cases, result, second, outcomes, results, run_status)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_each_file_gets_its_outcome_with_a_reason_naming_the_problem(corpus_run: CorpusRun, case: HostileCase) -> None:
    [path] = [path for path, known in corpus_run.cases.items() if known is case]
    recorded = [(outcome["status"], outcome["reason"]) for outcome in corpus_run.outcomes if outcome["source_path"] == path]
    # Skips are recorded as they are read, analysed articles when they finish: compare unordered.
    assert sorted(status for status, _ in recorded) == sorted(status for status, _ in case.outcomes)
    assert all(reason is None for status, reason in recorded if status == "ok")
    for status, fragment in case.outcomes:
        if fragment is not None:
            assert [reason for known, reason in recorded if known == status and fragment in reason], (fragment, recorded)


def test_the_batch_goes_on_and_every_finished_article_is_stored(corpus_run: CorpusRun) -> None:
    expected = [status for case in CASES for status, _ in case.outcomes]
    assert len(corpus_run.outcomes) == len(expected)
    assert corpus_run.result.counts == {
        "ok": expected.count("ok"),
        "cached": 0,
        "failed": 0,
        "skipped": expected.count("skipped"),
    }
    assert corpus_run.run_status == "finished" and corpus_run.result.exit_code == 0
    stored_keys = {result.cache_key for result in corpus_run.results}
    assert {outcome["cache_key"] for outcome in corpus_run.outcomes if outcome["status"] == "ok"} == stored_keys
    assert len(stored_keys) == expected.count("ok")


def test_a_second_run_serves_every_finished_article_from_the_cache(corpus_run: CorpusRun) -> None:
    assert corpus_run.second.counts == {
        "ok": 0,
        "cached": corpus_run.result.counts["ok"],
        "failed": 0,
        # The vanished file is gone now, so it is no longer an input at all.
        "skipped": corpus_run.result.counts["skipped"] - 1,
    }


def test_labels_stay_on_the_enum_and_every_quote_is_the_articles_own_text(corpus_run: CorpusRun) -> None:
    for stored in corpus_run.results:
        assert stored.analysis.label in set(Label)
        for quote in stored.analysis.quotes:
            assert quote.text == " ".join(stored.article.text[span.start : span.end] for span in quote.spans)
            assert locate_quote(stored.article.text, quote.text) is not None


def test_html_is_stored_without_its_scripts_iframes_and_handlers(corpus_run: CorpusRun) -> None:
    [page] = [stored for stored in corpus_run.results if stored.article.source_path.endswith("scripts_iframes.html")]
    assert "Elm Street bridge" in page.article.text
    assert not [payload for payload in HTML_PAYLOADS if payload in page.article.text]


def test_template_syntax_is_stored_verbatim(corpus_run: CorpusRun) -> None:
    [stored] = [stored for stored in corpus_run.results if stored.article.source_path.endswith("template_syntax.md")]
    assert stored.article.text == TEMPLATE_TEXT


def test_the_200k_token_article_is_analysed_whole_offline_and_cut_by_the_documented_rule_for_the_llm(
    corpus_run: CorpusRun,
) -> None:
    [stored] = [stored for stored in corpus_run.results if stored.article.source_path.endswith("long_200k_tokens.txt")]
    text = stored.article.text
    max_chars = Settings().max_input_chars
    assert len(text) > 20 * max_chars
    [tail_quote] = [quote for quote in stored.analysis.quotes if LONG_ARTICLE_TAIL_QUOTE in quote.text.lower()]
    assert tail_quote.start > len(text) - 200

    prompt = load_prompt(Settings().prompt_version)
    _system, user = prompt.messages(stored.article, max_chars)
    sent = truncate_for_prompt(text, max_chars)
    assert len(sent) <= max_chars and text.startswith(sent) and text[len(sent) :].startswith("\n\n")
    shown = mark_evidence(sent)[0] if prompt.evidence_first else sent
    assert shown in user["content"] and text[len(sent) : len(sent) + 200].strip() not in user["content"]
    assert f"cut to its first {len(sent)} of {len(text)} characters" in user["content"]
    assert len(user["content"]) < len(shown) + 1_000


def _article(text: str) -> Article:
    text = normalise_text(text)
    return Article(
        article_id=article_id(text), text=text, title=None, url=None, published=None, source_path="inline.txt", record_id=None
    )


@pytest.mark.parametrize("injection", INJECTION_PARAGRAPHS, ids=list(INJECTION_PARAGRAPHS))
@pytest.mark.parametrize("seed", sorted(SEEDS.glob("*.txt")), ids=lambda path: path.stem[:3])
def test_an_injection_paragraph_does_not_move_the_offline_verdict(seed: Path, injection: str) -> None:
    [original] = iter_articles([str(seed)])
    before = analyse_offline(original)
    after = analyse_offline(_article(f"{original.text}\n\n{INJECTION_PARAGRAPHS[injection]}"))
    assert after.label == before.label
    assert {quote.text for quote in before.quotes} <= {quote.text for quote in after.quotes}


def _tool_call_answer(request: httpx2.Request) -> httpx2.Response:
    tool = json.loads(request.content)["tools"][0]["function"]["name"]
    verdict = {"label": "news", "confidence": 0.5, "reasons": [], "rationale": "ok", "quotes": [], "claims": []}
    if "extra_quotes" in json.loads(request.content)["tools"][0]["function"]["parameters"]["properties"]:
        verdict["extra_quotes"] = []
    message = {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": "call_0", "type": "function", "function": {"name": tool, "arguments": json.dumps(verdict)}}],
    }
    return httpx2.Response(
        200,
        json={
            "id": "chatcmpl-0",
            "object": "chat.completion",
            "created": 0,
            "model": "m",
            "choices": [{"index": 0, "finish_reason": "tool_calls", "message": message}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        },
    )


@pytest.mark.parametrize(
    "text",
    [TEMPLATE_TEXT, *(f"Story.\n\n{paragraph}" for paragraph in INJECTION_PARAGRAPHS.values())],
    ids=["template_syntax", *INJECTION_PARAGRAPHS],
)
def test_article_text_reaches_the_request_body_verbatim_inside_the_fence(text: str) -> None:
    bodies: list[dict] = []

    def answer(request: httpx2.Request) -> httpx2.Response:
        bodies.append(json.loads(request.content))
        return _tool_call_answer(request)

    settings = Settings(engine=Engine.llm, base_url="http://provider.invalid/v1", api_key="test-key", model="m")
    sdk = openai.AsyncOpenAI(
        base_url=settings.base_url,
        api_key="test-key",
        max_retries=0,
        http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(answer)),
    )
    engine = make_engine(settings, client=instructor.from_openai(sdk, mode=INSTRUCTOR_MODES[settings.mode]))
    article = _article(text)
    asyncio.run(engine.analyse(article))

    [body] = bodies
    system, user = body["messages"]
    assert system["content"] == engine.prompt.system
    fence = article.article_id[:16]
    content = user["content"]
    # Evidence-first prompts number the article's sentences and quotations; nothing else changes.
    sent = mark_evidence(article.text)[0]
    assert content.index(f"<<<ARTICLE {fence}>>>") < content.index(sent) < content.index(f"<<<END ARTICLE {fence}>>>")
