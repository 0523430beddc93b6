"""The LLM path end to end, replayed from cassettes recorded against llama.cpp's
OpenAI-compatible server serving SmolLM2-135M-Instruct (scripts/record_cassettes.sh).

That model's answers are poor and these tests never judge them: they check what the
pipeline does with whatever came back — ids resolved to the article's own quotations,
an id the article lacks caught by validation and re-asked once for that field only, a
copied quote the article lacks rejected, truncation and context overflow named,
caching, failure records and exit codes. The evidence-first prompt (the default) runs on
the seeds and on short fixtures; the verdict-first analyse-v1 still runs on a short one.
"""

import json
import os
from pathlib import Path

import httpx2
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.models import EvidenceVerdict
from pipeline.engines.prompts import PROMPTS_DIR, mark_evidence
from pipeline.quotations import quotation_spans
from pipeline.desk.settled import settle_results
from pipeline.views.record import article_record
from pipeline.runs import run
from pipeline.settings import DEFAULT_PROMPT_VERSION, Engine, LLMMode, Settings
from pipeline.store import Store
from pipeline.checks.quotes import locate_quote
from support import SEEDS

SERVER = os.environ.get("PIPELINE_RECORD_BASE_URL", "http://127.0.0.1:8765/v1")
FIXTURES = Path(__file__).parent / "fixtures" / "llm"
SHORT_ARTICLES = sorted(str(path) for path in FIXTURES.glob("*.txt"))
# Lets the small model finish an answer instead of repeating one item until max_tokens.
PENALTY = 1.0


def llm_settings(tmp_path: Path, **changes) -> Settings:
    # Built directly, not from the environment, so no real key can reach a cassette.
    values = dict(
        engine=Engine.llm,
        base_url=SERVER,
        api_key=None,
        model="smollm2",
        db=tmp_path / "p.db",
        concurrency=1,
        timeout=900,
        max_retries=0,
        max_tokens=768,
        frequency_penalty=PENALTY,
        presence_penalty=PENALTY,
        min_file_age=0,
    )
    values.update(changes)
    return Settings(**values).validated()


@pytest.fixture
def http_requests(monkeypatch):
    """The body of every HTTP request the SDK has sent, whether recording or replaying."""
    sent = []
    send = httpx2.AsyncClient.send

    async def counting_send(self, request, **kwargs):
        sent.append(json.loads(request.content or b"{}"))
        return await send(self, request, **kwargs)

    monkeypatch.setattr(httpx2.AsyncClient, "send", counting_send)
    return sent


def run_records(settings: Settings, run_id: int):
    with Store(settings.db) as store:
        outcomes = store.outcomes(run_id)
        results = {result.cache_key: result for result in store.iter_results(run_id)}
    return outcomes, results


def raw_answers(settings: Settings, key: str) -> list[dict]:
    """The JSON each stored provider response carried (tool arguments or content), in order."""
    with Store(settings.db) as store:
        raw = store.db.execute("SELECT raw_responses FROM result WHERE cache_key = ?", (key,)).fetchone()[0]
    answers = []
    for response in json.loads(raw):
        message = json.loads(response)["choices"][0]["message"]
        text = message["tool_calls"][0]["function"]["arguments"] if message.get("tool_calls") else message["content"]
        try:
            answers.append(json.loads(text))
        except (json.JSONDecodeError, TypeError):
            answers.append({})
    return answers


def assert_only_verified_quotes_stored(settings: Settings, result) -> None:
    text = result.article.text
    for quote in result.analysis.quotes:
        assert quote.verified and quote.spans
        assert locate_quote(text, quote.text) is not None
        assert all(0 <= span.start < span.end <= len(text) for span in quote.spans)
    for rejected in result.analysis.rejected_quotes:
        assert locate_quote(text, rejected.text) is None and rejected.reason
    with Store(settings.db) as store:
        [settled] = settle_results(store, [result], settings.night_clock)
    record = article_record(settled)  # what export gives
    assert {quote["text"] for quote in record["quotes"]}.isdisjoint(q["text"] for q in record["rejected_quotes"])


def assert_evidence_answer_handled(settings: Settings, result) -> None:
    """Whatever the model answered, the stored analysis is what the code made of it."""
    text = result.article.text
    answers = raw_answers(settings, result.cache_key)
    assert 1 <= result.requests == len(answers) <= 2, "one request, at most one re-ask"
    _marked, evidence = mark_evidence(text)
    try:
        EvidenceVerdict.model_validate(answers[0], context=evidence.context())
        first_valid = True
    except ValidationError:
        first_valid = False
    assert first_valid == (result.requests == 1), "only an invalid first answer is re-asked"
    merged = {**answers[0], **(answers[1] if len(answers) > 1 else {})}
    quotations = {span.index: text[span.start : span.end] for span in quotation_spans(text)}
    by_id = {quotations[n] for group in merged.get("quotes", []) for n in group["ids"]}
    copied = {extra["text"] for extra in merged.get("extra_quotes", [])}
    for quote in result.analysis.quotes:
        assert quote.text in by_id or any(locate_quote(text, extra) for extra in copied)
    rejected = {quote.text for quote in result.analysis.rejected_quotes}
    for rejected_text in rejected:
        assert rejected_text in copied and locate_quote(text, rejected_text) is None
    for extra in copied:
        if extra.strip() and locate_quote(text, extra) is None:
            assert extra in rejected, "a copied quote the article lacks is rejected, never stored"
    if len(answers) > 1:
        assert set(answers[1]) < set(EvidenceVerdict.model_fields), "a re-ask asks only for the failing fields"


def analysed(outcomes: list[dict]) -> list[dict]:
    return [outcome for outcome in outcomes if outcome["status"] == "ok"]


@pytest.mark.vcr
def test_seed_articles_go_through_the_evidence_first_path(tmp_path, http_requests):
    settings = llm_settings(tmp_path, max_tokens=1024)
    result = run([str(SEEDS)], settings)
    outcomes, results = run_records(settings, result.run_id)
    assert len(outcomes) == 3 and sum(result.counts.values()) == 3
    assert result.exit_code == (1 if result.counts["failed"] else 0)
    first = http_requests[0]
    assert first["tools"][0]["function"]["strict"] is True and first["tool_choice"]["type"] == "function"
    for outcome in outcomes:
        assert outcome["status"] in {"ok", "failed"}
        assert 1 <= outcome["requests"] <= 2, "one request, at most one re-ask"
        if outcome["status"] == "failed":
            assert outcome["reason"], "a failed article must say why"
            assert outcome["cache_key"] not in results
    for outcome in analysed(outcomes):
        record = results[outcome["cache_key"]]
        assert (record.identity.engine, record.identity.model, record.identity.mode, record.identity.prompt_version) == (
            "llm",
            "smollm2",
            "tools",
            DEFAULT_PROMPT_VERSION,
        )
        assert record.input_tokens > 0
        assert_only_verified_quotes_stored(settings, record)
        assert_evidence_answer_handled(settings, record)
    # Every re-ask names the validation problems, asks only for the fields that failed and
    # repeats the first request's system and user messages (a cached prefix); counted once.
    reasks = [body for body in http_requests if len(body["messages"]) == 3]
    assert reasks, "no seed answer failed validation: the re-ask is not exercised; re-record"
    for body in reasks:
        asked = set(body["tools"][0]["function"]["parameters"]["properties"])
        assert asked < set(EvidenceVerdict.model_fields)
        assert body["messages"][:2] in [b["messages"] for b in http_requests if len(b["messages"]) == 2]
        assert (
            "only these fields: " + ", ".join(sorted(asked, key=list(EvidenceVerdict.model_fields).index))
            in body["messages"][2]["content"]
        )
    assert sum(o["requests"] for o in outcomes) == len(http_requests)
    print(
        f"\nseeds via the evidence-first path: {result.counts}; per seed: "
        f"{[(Path(o['source_path']).name[:3], o['status'], o['requests'], (o['reason'] or '')[:80]) for o in outcomes]}"
    )


@pytest.mark.vcr
def test_short_articles_truncated_answers_are_not_reasked_and_a_rerun_is_free(tmp_path, http_requests):
    settings = llm_settings(tmp_path)
    first = run(SHORT_ARTICLES, settings)
    outcomes, results = run_records(settings, first.run_id)
    assert analysed(outcomes), "the cassette holds no usable answer: re-record or change the fixtures"
    for outcome in analysed(outcomes):
        record = results[outcome["cache_key"]]
        assert_only_verified_quotes_stored(settings, record)
        assert_evidence_answer_handled(settings, record)
    ok = [results[outcome["cache_key"]] for outcome in analysed(outcomes)]
    print(
        f"\nshort articles: {first.counts}; quotes verified {sum(len(r.analysis.quotes) for r in ok)}, "
        f"rejected {sum(len(r.analysis.rejected_quotes) for r in ok)}; requests {[o['requests'] for o in outcomes]}; "
        f"reasons {[(o['reason'] or '')[:60] for o in outcomes]}"
    )
    for outcome in outcomes:
        if outcome["status"] == "failed":
            # SmolLM2 repeats a quote group until max_tokens cuts it, and llama.cpp still says
            # finish_reason "tool_calls": recognised as truncation, never re-asked.
            assert outcome["reason"].startswith("answer truncated (its JSON stops"), outcome["reason"]
            assert outcome["requests"] == 1
    assert sum(o["requests"] for o in outcomes) == len(http_requests), "every request is counted once"

    sent = len(http_requests)
    again = run([outcome["source_path"] for outcome in analysed(outcomes)], settings)
    assert len(http_requests) == sent, "a cached re-run must make no HTTP request"
    assert again.counts == {"ok": 0, "cached": len(analysed(outcomes)), "failed": 0, "skipped": 0}


@pytest.mark.vcr
def test_the_verdict_first_v1_prompt_still_runs_and_reasks_missing_quotes(tmp_path, http_requests):
    settings = llm_settings(tmp_path, prompt_version="analyse-v1", max_tokens=512)
    result = run(SHORT_ARTICLES, settings)
    outcomes, results = run_records(settings, result.run_id)
    assert analysed(outcomes), "the cassette holds no parseable v1 answer: re-record or change the fixtures"
    assert "tools" in http_requests[0] and "strict" not in http_requests[0]["tools"][0]["function"], "v1 requests as before"
    for outcome in analysed(outcomes):
        record = results[outcome["cache_key"]]
        assert record.identity.prompt_version == "analyse-v1"
        assert_only_verified_quotes_stored(settings, record)
        if record.analysis.rejected_quotes:
            assert record.requests >= 2, "a missing quote earns one re-ask under v1"


@pytest.mark.vcr
def test_a_new_prompt_version_or_model_misses_the_cache(tmp_path, http_requests):
    # The fixture SmolLM2 answers validly at once (on the others it repeats a quote group).
    article = str(FIXTURES / "coach_praise.txt")
    settings = llm_settings(tmp_path)
    assert run([article], settings).counts["ok"] == 1, "the cassette's answer no longer parses: change the fixture"
    sent = len(http_requests)
    assert run([article], settings).counts["cached"] == 1 and len(http_requests) == sent

    prompts = tmp_path / "prompts"
    prompts.mkdir()
    for part in ("system", "user", "reask"):
        text = (PROMPTS_DIR / f"{DEFAULT_PROMPT_VERSION}.{part}.md").read_text(encoding="utf-8")
        (prompts / f"analyse-v3.{part}.md").write_text(text, encoding="utf-8")
    with open(prompts / "analyse-v3.system.md", "a", encoding="utf-8") as system:
        system.write("\nKeep the rationale to one sentence.\n")
    for changed in (
        llm_settings(tmp_path, prompts_dir=prompts, prompt_version="analyse-v3"),
        llm_settings(tmp_path, model="smollm2-other"),
    ):
        result = run([article], changed)
        assert result.counts["cached"] == 0
        assert len(http_requests) > sent, "a changed prompt or model must ask the provider again"
        sent = len(http_requests)
    with Store(settings.db) as store:
        keys = store.db.execute("SELECT COUNT(DISTINCT cache_key) FROM outcome WHERE status != 'skipped'").fetchone()[0]
    assert keys == 3


@pytest.mark.vcr
def test_a_server_that_rejects_the_response_format_fails_fast_naming_the_mode(tmp_path, http_requests):
    # llama-cpp-python's server knows response_format json_object but not json_schema (HTTP 500).
    settings = llm_settings(tmp_path, mode=LLMMode.json_schema, max_retries=3)
    result = run(SHORT_ARTICLES, settings)
    assert result.exit_code == 2 and "--mode json_schema" in (result.fatal or "")
    assert len(http_requests) == 1, "a rejected response format is not retried, nor tried on other articles"


def _overlong_article(path: Path) -> str:
    # Longer than the recording server's 8,192-token context: the provider refuses it.
    paragraphs = [f"Paragraph {n}: the committee reviewed item {n * 7} of the budget and adjourned." for n in range(1500)]
    path.write_text("\n\n".join(paragraphs), encoding="utf-8")
    return str(path)


@pytest.mark.vcr
def test_one_articles_failure_does_not_stop_the_others_and_exit_codes_say_what_happened(tmp_path):
    article = str(FIXTURES / "library_sundays.txt")
    overlong = _overlong_article(tmp_path / "overlong.txt")
    env = {
        "PIPELINE_FREQUENCY_PENALTY": str(PENALTY),
        "PIPELINE_PRESENCE_PENALTY": str(PENALTY),
        "PIPELINE_MAX_TOKENS": "768",
        "PIPELINE_MAX_INPUT_CHARS": "1000000",
        "OPENAI_API_KEY": "",
    }
    common = [
        "--engine",
        "llm",
        "--base-url",
        SERVER,
        "--model",
        "smollm2",
        "--db",
        str(tmp_path / "p.db"),
        "--concurrency",
        "1",
        "--max-retries",
        "0",
        "--timeout",
        "900",
    ]
    runner = CliRunner()

    mixed = runner.invoke(app, ["run", overlong, article, *common], env=env)
    assert mixed.exit_code == 1, mixed.output
    with Store(tmp_path / "p.db") as store:
        statuses = {Path(o["source_path"]).name: (o["status"], o["reason"]) for o in store.outcomes(1)}
    assert statuses["library_sundays.txt"][0] in {"ok", "failed"}
    overlong_status, reason = statuses["overlong.txt"]
    assert overlong_status == "failed" and "PIPELINE_MAX_INPUT_CHARS" in reason
    assert "article ≈" in reason and "the article is the part that grows" in reason, "it says which part grew"

    if statuses["library_sundays.txt"][0] == "ok":
        assert runner.invoke(app, ["run", article, *common], env=env).exit_code == 0
    no_model = runner.invoke(
        app,
        ["run", article, "--engine", "llm", "--base-url", SERVER, "--db", str(tmp_path / "p.db")],
        env={**env, "PIPELINE_MODEL": ""},
    )
    assert no_model.exit_code == 2 and "needs a model" in no_model.output
