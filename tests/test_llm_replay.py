"""The LLM path end to end, replayed from cassettes recorded against llama.cpp's
OpenAI-compatible server serving SmolLM2-135M-Instruct (scripts/record_cassettes.sh).

That model's answers are poor and these tests never judge them: they check what the
pipeline does with whatever came back — parsing, verification, rejection, caching,
failure records and exit codes. The fixtures are one or two sentences long because
the model loops on longer text until it runs out of tokens (which the seed test
shows ending as a recorded failure, not a crash).
"""

import json
import os
from pathlib import Path

import httpx2
import pytest
import yaml
from support import SEEDS
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.engines.llm import parse_completion
from pipeline.errors import AnswerError
from pipeline.models import Article
from pipeline.records import article_record
from pipeline.sources import iter_articles
from pipeline.prompts import PROMPTS_DIR
from pipeline.runner import run
from pipeline.settings import DEFAULT_PROMPT_VERSION, Engine, LLMMode, Settings
from pipeline.store import Store
from pipeline.verify import REJECTION_REASONS, locate_quote

SERVER = os.environ.get("PIPELINE_RECORD_BASE_URL", "http://127.0.0.1:8765/v1")
FIXTURES = Path(__file__).parent / "fixtures" / "llm"
CASSETTES = Path(__file__).parent / "cassettes" / "test_llm_replay"
SHORT_ARTICLES = sorted(str(path) for path in FIXTURES.glob("*.txt"))
# Lets the small model finish an answer instead of repeating one item until max_tokens.
PENALTY = 1.0


def llm_settings(tmp_path: Path, **changes) -> Settings:
    # Built directly, not from the environment, so no real key can reach a cassette.
    values = dict(engine=Engine.llm, base_url=SERVER, api_key=None, model="smollm2", db=tmp_path / "p.db",
                  concurrency=1, timeout=900, max_retries=0, max_tokens=512,
                  frequency_penalty=PENALTY, presence_penalty=PENALTY)
    values.update(changes)
    return Settings(**values).validated()


@pytest.fixture
def http_requests(monkeypatch):
    """How many HTTP requests the SDK has sent, whether recording or replaying."""
    sent = []
    send = httpx2.AsyncClient.send

    async def counting_send(self, request, **kwargs):
        sent.append(request.url.path)
        return await send(self, request, **kwargs)

    monkeypatch.setattr(httpx2.AsyncClient, "send", counting_send)
    return sent


def run_records(settings: Settings, run_id: int):
    with Store(settings.db) as store:
        outcomes = store.outcomes(run_id)
        results = {result.cache_key: result for result in store.iter_results(run_id)}
    return outcomes, results


def answered_quotes(raw_responses: list[str]) -> list[str]:
    """The text of every quote in the provider's raw answers, before verification."""
    texts = []
    for raw in raw_responses:
        for call in json.loads(raw)["choices"][0]["message"].get("tool_calls") or []:
            try:
                quotes = json.loads(call["function"]["arguments"]).get("quotes") or []
            except (json.JSONDecodeError, AttributeError):
                continue
            texts.extend(quote.get("text", "") for quote in quotes if isinstance(quote, dict))
    return texts


def assert_only_verified_quotes_stored(result) -> None:
    text = result.article.text
    for quote in result.analysis.quotes:
        assert quote.verified and quote.spans
        assert locate_quote(text, quote.text) is not None
        assert all(0 <= span.start < span.end <= len(text) for span in quote.spans)
    for rejected in result.analysis.rejected_quotes:
        assert locate_quote(text, rejected.text) is None and rejected.reason
    record = article_record(result)  # what export gives
    assert {quote["text"] for quote in record["quotes"]}.isdisjoint(q["text"] for q in record["rejected_quotes"])


def analysed(outcomes: list[dict]) -> list[dict]:
    return [outcome for outcome in outcomes if outcome["status"] == "ok"]


def recorded_attempts(cassette: Path, article: Article) -> list[dict]:
    """The chat completions the cassette holds for one article, in the order they were asked."""
    fence = f"<<<ARTICLE {article.article_id[:16]}>>>"
    interactions = yaml.safe_load(cassette.read_text(encoding="utf-8"))["interactions"]
    return [json.loads(interaction["response"]["body"]["string"]) for interaction in interactions
            if fence in json.loads(interaction["request"]["body"])["messages"][1]["content"]]


def parses(completion: dict) -> bool:
    """Whether the pipeline's parser takes this recorded answer (instructor, as the live path)."""
    try:
        parse_completion(completion, LLMMode.tools)
    except AnswerError:
        return False
    return True


def seed_expectations() -> list[tuple[Article, list[dict]]]:
    cassette = CASSETTES / "test_seed_articles_go_through_the_whole_llm_path.yaml"
    seeds = [item for item in iter_articles([str(SEEDS)]) if isinstance(item, Article)]
    return [(article, recorded_attempts(cassette, article)) for article in seeds]


@pytest.mark.vcr
def test_seed_articles_go_through_the_whole_llm_path(tmp_path):
    """Each seed's outcome is what its recorded answers imply: stored and verified when one
    parses, else one failure whose ledger line holds every attempt's tokens."""
    settings = llm_settings(tmp_path)
    result = run([str(SEEDS)], settings)
    outcomes, results = run_records(settings, result.run_id)
    by_article = {outcome["article_id"]: outcome for outcome in outcomes}
    expectations = seed_expectations()
    assert len(outcomes) == len(expectations) == 3 and sum(result.counts.values()) == 3
    for article, attempts in expectations:
        outcome = by_article[article.article_id]
        assert attempts, f"the cassette holds no answer for {article.source_path}: re-record it"
        if any(parses(attempt) for attempt in attempts):
            assert outcome["status"] == "ok", (article.source_path, outcome["reason"])
            stored = results[outcome["cache_key"]]
            assert (stored.identity.engine, stored.identity.model, stored.identity.mode, stored.identity.prompt_version) == (
                "llm", "smollm2", "tools", DEFAULT_PROMPT_VERSION)
            assert stored.requests >= 1 and stored.input_tokens > 0
            assert_only_verified_quotes_stored(stored)
        else:
            assert outcome["status"] == "failed", article.source_path
            assert outcome["reason"].startswith("answer does not fit the schema"), outcome["reason"]
            assert outcome["cache_key"] not in results
            # Failed attempts are paid for: the ledger holds each one's tokens.
            assert outcome["requests"] == len(attempts)
            assert outcome["input_tokens"] == sum(attempt["usage"]["prompt_tokens"] for attempt in attempts)
            assert outcome["output_tokens"] == sum(attempt["usage"]["completion_tokens"] for attempt in attempts)
    assert result.exit_code == (1 if result.counts["failed"] else 0)
    print(f"\nseeds via the LLM path: {result.counts}; reasons: {[o['reason'][:80] for o in outcomes if o['reason']]}")


@pytest.mark.xfail(strict=True, reason="the SmolLM2-135M cassettes hold no seed answer that fits the schema; "
                   "re-recorded cassettes with one that parses turn this into a failure: then drop this mark")
def test_a_recorded_seed_answer_parses():
    assert any(parses(attempt) for _article, attempts in seed_expectations() for attempt in attempts)


@pytest.mark.vcr
def test_quotes_the_article_lacks_are_reasked_then_rejected_and_a_rerun_is_free(tmp_path, http_requests):
    settings = llm_settings(tmp_path)
    first = run(SHORT_ARTICLES, settings)
    outcomes, results = run_records(settings, first.run_id)
    assert analysed(outcomes), "the cassette holds no parseable answer: re-record or change the fixtures"
    rejected = 0
    for outcome in analysed(outcomes):
        record = results[outcome["cache_key"]]
        assert_only_verified_quotes_stored(record)
        raw_texts = answered_quotes(json.loads(_raw_responses(settings, record.cache_key)))
        stored_texts = [q.text for q in record.analysis.quotes] + [q.text for q in record.analysis.rejected_quotes]
        assert set(stored_texts) <= set(raw_texts), "every stored or rejected quote came from the model"
        if record.analysis.rejected_quotes:
            rejected += 1
            assert record.requests >= 2, "a missing quote earns one re-ask"
            assert all(q.reason in REJECTION_REASONS for q in record.analysis.rejected_quotes)
    assert rejected, "no answer in the cassette quoted words the article lacks"
    ok = [results[outcome["cache_key"]] for outcome in analysed(outcomes)]
    print(f"\nshort articles: {first.counts}; quotes verified {sum(len(r.analysis.quotes) for r in ok)}, "
          f"rejected {sum(len(r.analysis.rejected_quotes) for r in ok)}; requests {sum(r.requests for r in ok)}")

    sent = len(http_requests)
    again = run([outcome["source_path"] for outcome in analysed(outcomes)], settings)
    assert len(http_requests) == sent, "a cached re-run must make no HTTP request"
    assert again.counts == {"ok": 0, "cached": len(analysed(outcomes)), "failed": 0, "skipped": 0}
    print(f"re-run: {again.counts}; HTTP requests {len(http_requests) - sent}")


def _raw_responses(settings: Settings, key: str) -> str:
    with Store(settings.db) as store:
        return store.db.execute("SELECT raw_responses FROM result WHERE cache_key = ?", (key,)).fetchone()[0]


@pytest.mark.vcr
def test_a_new_prompt_version_or_model_misses_the_cache(tmp_path, http_requests):
    article = str(FIXTURES / "library_sundays.txt")
    settings = llm_settings(tmp_path)
    assert run([article], settings).counts["ok"] == 1, "the cassette's answer no longer parses: change the fixture"
    sent = len(http_requests)
    assert run([article], settings).counts["cached"] == 1 and len(http_requests) == sent

    prompts = tmp_path / "prompts"
    prompts.mkdir()
    for part in ("system", "user", "reask"):
        text = (PROMPTS_DIR / f"{DEFAULT_PROMPT_VERSION}.{part}.md").read_text(encoding="utf-8")
        (prompts / f"analyse-v2.{part}.md").write_text(text, encoding="utf-8")
    with open(prompts / "analyse-v2.system.md", "a", encoding="utf-8") as system:
        system.write("\nKeep the rationale to one sentence.\n")
    for changed in (llm_settings(tmp_path, prompts_dir=prompts, prompt_version="analyse-v2"),
                    llm_settings(tmp_path, model="smollm2-other")):
        result = run([article], changed)
        assert result.counts["cached"] == 0
        assert len(http_requests) > sent, "a changed prompt or model must ask the provider again"
        sent = len(http_requests)
    with Store(settings.db) as store:
        keys = store.db.execute("SELECT COUNT(DISTINCT cache_key) FROM outcome WHERE status != 'skipped'").fetchone()[0]
    assert keys == 3


def _overlong_article(path: Path) -> str:
    # Longer than the recording server's 8,192-token context: the provider refuses it.
    paragraphs = [f"Paragraph {n}: the committee reviewed item {n * 7} of the budget and adjourned." for n in range(1500)]
    path.write_text("\n\n".join(paragraphs), encoding="utf-8")
    return str(path)


@pytest.mark.vcr
def test_one_articles_failure_does_not_stop_the_others_and_exit_codes_say_what_happened(tmp_path):
    article = str(FIXTURES / "library_sundays.txt")
    overlong = _overlong_article(tmp_path / "overlong.txt")
    env = {"PIPELINE_FREQUENCY_PENALTY": str(PENALTY), "PIPELINE_PRESENCE_PENALTY": str(PENALTY),
           "PIPELINE_MAX_TOKENS": "512", "PIPELINE_MAX_INPUT_CHARS": "1000000", "OPENAI_API_KEY": ""}
    common = ["--engine", "llm", "--base-url", SERVER, "--model", "smollm2", "--db", str(tmp_path / "p.db"),
              "--concurrency", "1", "--max-retries", "0", "--timeout", "900"]
    runner = CliRunner()

    mixed = runner.invoke(app, ["run", overlong, article, *common], env=env)
    assert mixed.exit_code == 1, mixed.output
    with Store(tmp_path / "p.db") as store:
        statuses = {Path(o["source_path"]).name: (o["status"], o["reason"]) for o in store.outcomes(1)}
    assert statuses["library_sundays.txt"][0] in {"ok", "failed"}
    assert statuses["overlong.txt"][0] == "failed" and "PIPELINE_MAX_INPUT_CHARS" in statuses["overlong.txt"][1]

    if statuses["library_sundays.txt"][0] == "ok":
        assert runner.invoke(app, ["run", article, *common], env=env).exit_code == 0
    no_model = runner.invoke(app, ["run", article, "--engine", "llm", "--base-url", SERVER, "--db", str(tmp_path / "p.db")],
                             env={**env, "PIPELINE_MODEL": ""})
    assert no_model.exit_code == 2 and "needs a model" in no_model.output
