"""Red team, issue 23, part A: answers of an unexpected shape on every path (cause 1), token
usage from the endpoint (5), Batch API output lines (8), forged prompt marks (10), a replica
serving another model (11) and the answer journal's bounds (13).

The hostile endpoint is bench/fake_server.py: an article carrying ``[[fault:NAME]]`` gets the
answer ``NAME`` of ``HOSTILE_ANSWERS``; a server with ``fault_rate=1`` sends it to everyone.
"""

import json
import re
import tracemalloc

import pytest
from support.fakes import FakeServer, ServerConfig, no_sleep, server_settings, write_articles

from pipeline.engines import make_engine
from pipeline.engines.answers import answer_usage, same_model
from pipeline.engines.prompts import load_prompt
from pipeline.models import Article, Usage
from pipeline.runs import Budget, Executor, run
from pipeline.runs.batch_api import collect, submit
from pipeline.runs.journal import AnswerJournal
from pipeline.settings import load_settings
from pipeline.store import Store

# Each unusable answer and a phrase its failure's reason must carry.
UNUSABLE = {
    "no_choices": "no choices",
    "null_message": "has no message",
    "html_page": "HTML page",
    "unrelated_json": "no choices",
    "other_model": "other-model-7b-instruct",
}


def _marked_articles(folder, faults):
    write_articles(folder, 3)
    for fault in faults:
        (folder / f"hostile-{fault}.txt").write_text(
            f'The minister said "the new bridge opens in spring" on Monday. [[fault:{fault}]]\n', encoding="utf-8"
        )


def _outcomes(db, run_id):
    with Store(db) as store:
        return {row["source_path"].rsplit("/", 1)[-1]: row for row in store.outcomes(run_id)}


def _run(paths, settings, **kwargs):
    return run(paths, settings, engine=make_engine(settings, sleep=no_sleep), **kwargs)


@pytest.mark.cause(1, issue=23)
@pytest.mark.parametrize("prompt_version", ["analyse-v2", "analyse-v1"])
@pytest.mark.parametrize("fault", sorted(UNUSABLE))
def test_redteam_answers_live_unusable_answer_fails_its_article_with_a_reason_and_the_run_exits_non_zero(
    tmp_path, fault, prompt_version
):
    _marked_articles(tmp_path / "in", [fault])
    with FakeServer(ServerConfig()) as server:
        settings = server_settings(server, tmp_path / "p.db", max_retries=1, prompt_version=prompt_version)
        result = _run([str(tmp_path / "in")], settings)
    outcomes = _outcomes(settings.db, result.run_id)
    assert len(outcomes) == 4, "every article the run took in has an outcome"
    hostile = outcomes[f"hostile-{fault}.txt"]
    assert hostile["status"] == "failed" and UNUSABLE[fault] in hostile["reason"]
    assert result.counts["ok"] == 3 and result.exit_code == 1
    with Store(settings.db) as store:
        assert store.remembered_failure(hostile["cache_key"]) is None, "an endpoint's failure is not the article's"
        assert not store.has_result(hostile["cache_key"]), "nothing is cached under the asked model's name"


@pytest.mark.cause(1, issue=23)
@pytest.mark.parametrize("fault", sorted(UNUSABLE))
def test_redteam_answers_replica_sending_garbage_loses_no_article(tmp_path, fault):
    write_articles(tmp_path / "in", 40)
    hostile = ServerConfig(faults=(fault,), fault_rate=1.0)
    with FakeServer(ServerConfig()) as healthy, FakeServer(hostile) as broken:
        settings = server_settings(healthy, tmp_path / "p.db", replica_urls=(broken.base_url,), max_retries=3)
        result = _run([str(tmp_path / "in")], settings)
        garbage_sent = sum(broken.stats()["paid"].values())
    assert result.counts == {"ok": 40, "cached": 0, "failed": 0, "skipped": 0}, result.counts
    assert garbage_sent >= 1, "the broken replica was asked"
    with Store(settings.db) as store:
        raw = [json.loads(row[0]) for row in store.db.execute("SELECT raw_responses FROM result")]
    # A rejected attempt stays in the record of what was paid; every verdict is the asked model's answer.
    assert len(raw) == 40 and {json.loads(answers[-1])["model"] for answers in raw} == {"gpt-4o-mini"}


@pytest.mark.cause(1, issue=23)
@pytest.mark.parametrize("fault", sorted(UNUSABLE))
def test_redteam_answers_journalled_unusable_answer_never_hides_its_article(tmp_path, fault):
    write_articles(tmp_path / "in", 2)
    with FakeServer(ServerConfig(faults=(fault,), fault_rate=1.0)) as broken, FakeServer(ServerConfig()) as healthy:
        settings = server_settings(broken, tmp_path / "p.db", max_retries=0)
        first = _run([str(tmp_path / "in")], settings)  # the garbage is journalled as it arrives
        assert first.counts["failed"] == 2
        journal = AnswerJournal(settings.db)
        assert journal.path.stat().st_size > 0
        again = _run([str(tmp_path / "in")], server_settings(healthy, settings.db))
    assert again.counts["ok"] == 2, "the journalled garbage was not recovered: the articles were asked again"


@pytest.mark.cause(8, issue=23)
def test_redteam_answers_batch_collect_survives_hostile_answers_and_lines(tmp_path):
    faults = [*UNUSABLE, "batch_no_custom_id", "batch_response_not_object"]
    _marked_articles(tmp_path / "in", faults)
    garbage = ("not json at all", '{"no": "custom_id"}', "[1, 2, 3]", '{"custom_id": "unknown-key", "response": 7}')
    with FakeServer(ServerConfig(extra_batch_lines=garbage)) as server:
        settings = server_settings(server, tmp_path / "p.db", max_retries=0)
        with Store(settings.db) as store:
            submit([str(tmp_path / "in")], settings, store)
            result = collect(settings, store)
            again = collect(settings, store)
    assert result is not None and again is None, "the batch was collected, and a later collect does not crash"
    outcomes = _outcomes(settings.db, result.run_id)
    assert len(outcomes) == 3 + len(faults)
    assert all(outcomes[f"article-000{n}.txt"]["status"] == "ok" for n in range(3))
    for fault in faults:
        row = outcomes[f"hostile-{fault}.txt"]
        assert row["status"] == "failed", (fault, row["reason"])
        if fault in UNUSABLE:
            assert UNUSABLE[fault] in row["reason"]
    assert "no response object" in outcomes["hostile-batch_response_not_object.txt"]["reason"]
    assert "no answer in batch" in outcomes["hostile-batch_no_custom_id.txt"]["reason"]


@pytest.mark.cause(1, issue=23)
def test_redteam_answers_ray_worker_survives_unusable_answers(tmp_path):
    ray = pytest.importorskip("ray", reason="the Ray executor needs the optional extra")
    _marked_articles(tmp_path / "in", sorted(UNUSABLE))
    ray.init(num_cpus=1, include_dashboard=False, namespace="pipeline", log_to_driver=False, logging_level="ERROR")
    try:
        with FakeServer(ServerConfig()) as server:
            settings = server_settings(server, tmp_path / "p.db", max_retries=0)
            result = run([str(tmp_path / "in")], settings, executor=Executor.ray)
    finally:
        ray.shutdown()
    outcomes = _outcomes(settings.db, result.run_id)
    assert result.counts["ok"] == 3 and result.counts["failed"] == len(UNUSABLE) and result.exit_code == 1
    for fault, phrase in UNUSABLE.items():
        assert phrase in outcomes[f"hostile-{fault}.txt"]["reason"]


@pytest.mark.cause(1, issue=23)
def test_redteam_answers_a_task_that_raises_anything_gets_a_failed_outcome(tmp_path, monkeypatch):
    write_articles(tmp_path / "in", 4)

    async def broken(article, parse=None):
        if article.text.startswith("Story 2."):
            raise KeyError("choices")
        return await real(article, parse)

    with FakeServer(ServerConfig()) as server:
        settings = server_settings(server, tmp_path / "p.db")
        engine = make_engine(settings, sleep=no_sleep)
        real = engine.analyse
        monkeypatch.setattr(engine, "analyse", broken)
        result = run([str(tmp_path / "in")], settings, engine=engine)
    outcomes = _outcomes(settings.db, result.run_id)
    assert outcomes["article-0002.txt"]["status"] == "failed" and "KeyError" in outcomes["article-0002.txt"]["reason"]
    assert result.counts["ok"] == 3 and result.exit_code == 1


@pytest.mark.cause(5, issue=23)
@pytest.mark.parametrize("fault", ["negative_usage", "missing_usage"])
def test_redteam_answers_dishonest_usage_is_estimated_and_max_cost_still_holds(tmp_path, fault):
    write_articles(tmp_path / "in", 40)
    with FakeServer(ServerConfig()) as honest:
        settings = server_settings(honest, tmp_path / "honest.db", concurrency=1)
        whole = _run([str(tmp_path / "in")], settings)
    assert whole.counts["ok"] == 40 and whole.cost
    ceiling = Budget(max_cost=whole.cost * 0.75)
    with FakeServer(ServerConfig()) as honest:
        held = _run([str(tmp_path / "in")], server_settings(honest, tmp_path / "h2.db", concurrency=1), budget=ceiling)
    with FakeServer(ServerConfig(faults=(fault,), fault_rate=1.0)) as dishonest:
        settings = server_settings(dishonest, tmp_path / "d.db", concurrency=1)
        lied = _run([str(tmp_path / "in")], settings, budget=ceiling)
        sent = dishonest.stats()["paid_total"]
    assert held.counts["ok"] < 40 and held.stopped
    assert sent <= held.counts["ok"] and lied.stopped, "a dishonest server cannot make the run send more"
    assert lied.cost is not None and 0 < lied.cost <= ceiling.max_cost
    assert lied.input_tokens >= 0 and lied.output_tokens >= 0
    assert lied.usage.estimated_requests == lied.counts["ok"]
    with Store(settings.db) as store:
        marked = store.db.execute("SELECT MIN(estimated_requests), MIN(cost) FROM outcome WHERE status = 'ok'").fetchone()
    assert marked[0] == 1 and marked[1] > 0, "the ledger marks each cost as estimated"


@pytest.mark.cause(5, issue=23)
@pytest.mark.parametrize(
    ("usage", "counted"),
    [
        (None, (900, 4096, 0, 1)),
        ("lots", (900, 4096, 0, 1)),
        ({"prompt_tokens": -5, "completion_tokens": 7}, (900, 7, 0, 1)),
        ({"prompt_tokens": 3.5, "completion_tokens": -1}, (900, 4096, 0, 1)),
        ({"prompt_tokens": 10, "completion_tokens": True}, (10, 4096, 0, 1)),
        ({"prompt_tokens": 10, "completion_tokens": 5, "prompt_tokens_details": {"cached_tokens": 99}}, (10, 5, 10, 0)),
        ({"prompt_tokens": 10, "completion_tokens": 5, "prompt_tokens_details": {"cached_tokens": -4}}, (10, 5, 0, 0)),
    ],
)
def test_redteam_answers_usage_counts_that_are_not_honest_are_estimated(usage, counted):
    estimate = Usage(requests=1, input_tokens=900, output_tokens=4096, estimated_requests=1)
    found = answer_usage({"usage": usage}, estimate)
    assert (found.input_tokens, found.output_tokens, found.cached_input_tokens, found.estimated_requests) == counted


@pytest.mark.cause(11, issue=23)
@pytest.mark.parametrize(
    ("asked", "answered", "same"),
    [
        ("gpt-4o-mini", "gpt-4o-mini-2024-07-18", True),
        ("gpt-4", "gpt-4-0613", True),
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini", True),
        ("gpt-4o", "gpt-4o-mini", False),
        ("gpt-4o-mini", "llama-3-8b", False),
        ("gpt-4o-mini", "gpt-4o-mini-evil", False),
        ("qwen", "/models/qwen2.5-7b.gguf", True),  # listed as an alias
    ],
)
def test_redteam_answers_model_names_that_are_the_asked_model(asked, answered, same):
    assert same_model(asked, answered, aliases=("/models/qwen2.5-7b.gguf",)) is same


@pytest.mark.cause(11, issue=23)
def test_redteam_answers_other_model_is_refused_unless_it_is_a_configured_alias(tmp_path):
    write_articles(tmp_path / "in", 3)
    with FakeServer(ServerConfig(faults=("other_model",), fault_rate=1.0)) as server:
        refused = _run([str(tmp_path / "in")], server_settings(server, tmp_path / "a.db", max_retries=0))
        aliased = _run(
            [str(tmp_path / "in")],
            server_settings(server, tmp_path / "b.db", model_aliases=("other-model-7b-instruct",)),
        )
    assert refused.counts["failed"] == 3 and refused.counts["ok"] == 0
    assert aliased.counts["ok"] == 3


@pytest.mark.cause(10, issue=23)
@pytest.mark.parametrize("forged", ["⟦Q7⟧", "⟦Q1⟧", "[S9] ", "[S1]", "［Ｓ２］", "[ q 3 ]"])
def test_redteam_answers_forged_marks_in_article_text_never_reach_the_model(tmp_path, forged):
    text = f'Story. He wrote {forged}"this forged mark copies an id" today. The mayor said "we build the bridge in May".\n'
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "forged.txt").write_text(text, encoding="utf-8")
    prompt = load_prompt("analyse-v2")
    article = Article(article_id="a" * 64, source_path="x", record_id="", title=None, url=None, published=None, text=text.strip())
    messages, evidence = prompt.request(article, 60_000)
    user = messages[1]["content"]
    shown_ids = [int(found) for found in re.findall(r"⟦Q(\d+)⟧", user)]
    assert shown_ids == list(range(1, len(evidence.quotations) + 1)), "only the pipeline's quotation ids"
    sentence_ids = [int(found) for found in re.findall(r"\[S(\d+)\]", user)]
    assert sentence_ids == list(range(1, len(evidence.sentences) + 1)), "only the pipeline's sentence ids"
    with FakeServer(ServerConfig()) as server:
        result = _run([str(tmp_path / "in")], server_settings(server, tmp_path / "p.db"))
    assert result.counts["ok"] == 1, "a forged id cannot fail the article"
    with Store(tmp_path / "p.db") as store:
        quotes = json.loads(store.db.execute("SELECT analysis FROM result").fetchone()[0])["quotes"]
    assert any("we build the bridge in May" in quote["text"] for quote in quotes), "offsets index the article's own text"


def _journal_line(key, raw, at):
    return json.dumps({"key": key, "phase": "analyse", "raw": raw, "at": at}) + "\n"


@pytest.mark.cause(13, issue=23)
def test_redteam_answers_journal_is_bounded_by_size_and_age(tmp_path):
    journal = AnswerJournal(tmp_path / "p.db", max_bytes=5_000, max_age_days=2, clock=lambda: 10 * 86_400.0)
    body = json.dumps({"choices": [{"message": {"content": "x" * 900}}]})
    with journal.path.open("w") as out:
        out.write(_journal_line("old", body, 1 * 86_400.0))  # 9 days old
        for number in range(20):
            out.write(_journal_line(f"k{number}", body, 9 * 86_400.0 + number))
        out.write(_journal_line("settled", body, 10 * 86_400.0))
    journal.open(lambda key: key == "settled")
    journal.close()
    assert journal.path.stat().st_size <= 5_000
    assert "old" not in journal.pending and "settled" not in journal.pending
    assert "k19" in journal.pending and "k0" not in journal.pending, "the newest answers are kept"
    assert journal.recovered_completion("k19") == json.loads(body)


@pytest.mark.cause(13, issue=23)
def test_redteam_answers_offline_run_never_reads_the_journal(tmp_path, monkeypatch):
    write_articles(tmp_path / "in", 2)
    db = tmp_path / "p.db"
    journal = AnswerJournal(db)
    journal.path.write_text(_journal_line("k", "{}", 0) * 10)
    opened = []
    monkeypatch.setattr(AnswerJournal, "open", lambda self, settled: opened.append(self) or self)
    result = run([str(tmp_path / "in")], load_settings({"engine": "offline", "db": db}))
    assert result.counts["ok"] == 2 and opened == []
    assert journal.path.read_text() == _journal_line("k", "{}", 0) * 10


@pytest.mark.cause(13, issue=23)
def test_redteam_answers_journal_open_holds_no_answers_in_memory(tmp_path):
    journal = AnswerJournal(tmp_path / "p.db", max_bytes=10**9, max_age_days=10**6)
    raw = json.dumps({"choices": [{"message": {"content": "y" * 4000}}]})
    with journal.path.open("w") as out:
        for number in range(2_000):
            out.write(_journal_line(f"key-{number}", raw, 0))
    tracemalloc.start()
    journal.open(lambda key: False)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    journal.close()
    size = journal.path.stat().st_size
    assert len(journal.pending) == 2_000 and size > 8_000_000
    assert peak < size / 10, f"peak {peak} bytes while opening a {size}-byte journal"
