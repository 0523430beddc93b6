"""Red-team hardening (issue 13): runs, the store, sources and settings under hostile conditions.

Every test name starts with ``test_redteam_`` so ``scripts/red_team.py`` selects them with ``-k redteam``.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from support.fakes import FakeServer, ServerConfig, no_sleep, server_settings, write_articles
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.errors import RunLockedError, StoreError
from pipeline.models import Article, SkippedInput
from pipeline.engines import make_engine
from pipeline.runs import Budget, run, run_batch
from pipeline.inputs import iter_articles

from pipeline.store import Store

SEEDS = Path(__file__).resolve().parents[1] / "seeds"

HOLD_THE_LOCK = (
    "import os, sys, time\n"
    "os.getpid = lambda: 1  # every run is PID 1 in its own container\n"
    "from pipeline.store import Store\n"
    "store = Store(sys.argv[1]); store.start_run('offline', 'offline')\n"
    "print('locked', flush=True); time.sleep(60)\n"
)


def _hold_lock(db: Path, *prefix: str) -> subprocess.Popen:
    holder = subprocess.Popen([*prefix, sys.executable, "-c", HOLD_THE_LOCK, str(db)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    return holder


# 1. the run lock


def test_redteam_two_runs_with_the_same_pid_cannot_both_hold_the_lock(tmp_path, monkeypatch):
    db = tmp_path / "shared.db"
    holder = _hold_lock(db)
    monkeypatch.setattr("os.getpid", lambda: 1)
    try:
        with Store(db) as store, pytest.raises(RunLockedError, match=r"run 1, pid 1 on .*since"):
            store.start_run("offline", "offline")
    finally:
        holder.kill()
        holder.wait()
    with Store(db) as store:
        run_id = store.start_run("offline", "offline")
        assert [run["status"] for run in store.runs()] == ["running", "interrupted"]
        store.finish_run(run_id, "finished")
    assert (tmp_path / "shared.db.lock").read_text() == "", "a released lock names no holder"


def test_redteam_a_run_in_another_pid_namespace_holds_the_lock(tmp_path):
    unshare = shutil.which("unshare")
    if unshare is None or subprocess.run([unshare, "-p", "-f", "-r", "true"], capture_output=True).returncode:
        pytest.skip("no unprivileged PID namespaces here (the same-PID test covers the case)")
    db = tmp_path / "volume.db"
    holder = _hold_lock(db, unshare, "-p", "-f", "-r")
    try:
        with Store(db) as first, Store(db) as second:
            with pytest.raises(RunLockedError, match="another run holds the run lock"):
                first.start_run("offline", "offline")
            with pytest.raises(RunLockedError):
                second.start_run("llm", "gpt-4o-mini")
    finally:
        holder.kill()
        holder.wait()


def test_redteam_two_stores_in_one_process_do_not_share_the_lock(tmp_path):
    db = tmp_path / "p.db"
    with Store(db) as first, Store(db) as second:
        run_id = first.start_run("offline", "offline")
        with pytest.raises(RunLockedError, match=f"run {run_id}"):
            second.start_run("offline", "offline")
        first.finish_run(run_id, "finished")
        second.finish_run(second.start_run("offline", "offline"), "finished")


# 14. files still being written


def _cli(*args: str, **env: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "400", **env})


def test_redteam_temporary_files_are_skipped_and_a_young_file_in_a_folder_is_waited_for(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    settled = inbox / "settled.txt"
    settled.write_text("The council met on Monday and approved the new library budget.\n")
    old = time.time() - 600
    os.utime(settled, (old, old))
    (inbox / "young.md").write_text("The storm closed three schools on Tuesday.\n")
    (inbox / "download.html.crdownload").write_text("<p>half a page</p>")
    (inbox / "copy.jsonl.part").write_text('{"text": "half a record')
    named_temporary = tmp_path / "named.txt.tmp"
    named_temporary.write_text("A story someone is still saving.\n")
    os.utime(named_temporary, (old, old))
    db = str(tmp_path / "p.db")
    started = time.monotonic()
    result = _cli("run", str(inbox), str(named_temporary), "--db", db, "--engine", "offline", PIPELINE_MIN_FILE_AGE="1")
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started >= 0.5  # young.md was waited for, not skipped
    assert "2 ok, 0 cached, 0 failed, 3 skipped" in result.output
    with Store(db) as store:
        reasons = {Path(o["source_path"]).name: o["reason"] for o in store.outcomes(1) if o["status"] == "skipped"}
    assert set(reasons) == {"download.html.crdownload", "copy.jsonl.part", "named.txt.tmp"}
    assert all("temporary file" in reason for reason in reasons.values())


def test_redteam_a_file_named_on_the_command_line_is_read_at_once(tmp_path):
    fresh = tmp_path / "fresh.txt"
    fresh.write_text("The storm closed three schools on Tuesday.\n")
    started = time.monotonic()
    result = _cli("run", str(fresh), "--db", str(tmp_path / "p.db"), "--engine", "offline", PIPELINE_MIN_FILE_AGE="30")
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started < 20
    assert "1 ok" in result.output


def test_redteam_a_copied_folder_of_seeds_is_analysed_whole(tmp_path):
    """``cp -r seeds x && pipeline run x``: every copy is seconds old, and every one is read."""
    copy = tmp_path / "x"
    shutil.copytree(SEEDS, copy, copy_function=shutil.copy)  # fresh modification times, as cp -r gives
    result = _cli("run", str(copy), "--db", str(tmp_path / "p.db"), "--engine", "offline", PIPELINE_MIN_FILE_AGE="1")
    assert result.exit_code == 0, result.output
    assert "3 ok, 0 cached, 0 failed" in result.output


def test_redteam_a_file_that_changes_while_waited_for_is_left_for_the_next_run(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    growing = inbox / "growing.md"
    growing.write_text("The storm closed three schools on Tues")

    def keep_writing() -> None:
        time.sleep(0.4)
        with growing.open("a") as out:
            out.write("day, the district said.\n")

    writer = threading.Thread(target=keep_writing)
    writer.start()
    db = str(tmp_path / "p.db")
    result = _cli("run", str(inbox), "--db", db, "--engine", "offline", "--allow-empty", PIPELINE_MIN_FILE_AGE="1.5")
    writer.join()
    assert result.exit_code == 0, result.output
    with Store(db) as store:
        (outcome,) = store.outcomes(1)
    assert outcome["status"] == "skipped" and "still being written" in outcome["reason"]
    assert "PIPELINE_MIN_FILE_AGE" in outcome["reason"]


# 15. compressed and unsupported files


def test_redteam_gzip_inputs_are_read_and_every_other_file_is_listed_as_skipped(tmp_path):
    inbox = tmp_path / "nightly"
    inbox.mkdir()
    records = [{"id": f"wire-{n}", "text": f"Wire story {n}: the port reopened after the strike."} for n in range(3)]
    (inbox / "wire.jsonl.gz").write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in records).encode()))
    (inbox / "note.txt.gz").write_bytes(gzip.compress(b"The mayor opened the new bridge on Friday.\n"))
    (inbox / "page.html.gz").write_bytes(gzip.compress(b"<html><body><p>The museum reopened its east wing.</p></body></html>"))
    (inbox / "bare.gz").write_bytes(gzip.compress(b"Farmers reported an early harvest this year.\n"))
    (inbox / "cut.jsonl.gz").write_bytes(gzip.compress(json.dumps(records[0]).encode() * 50)[:40])
    for name in ("scan.pdf", "blob.bin", "archive.tar.gz", "sheet.xlsx", "NOEXT"):
        (inbox / name).write_bytes(b"%PDF-1.4 not an article")
    items = list(iter_articles([str(inbox)]))
    articles = [item for item in items if isinstance(item, Article)]
    skipped = {Path(item.source_path).name: item.reason for item in items if isinstance(item, SkippedInput)}
    assert sorted({Path(a.source_path).name for a in articles}) == ["bare.gz", "note.txt.gz", "page.html.gz", "wire.jsonl.gz"]
    assert [a.record_id for a in articles if a.source_path.endswith("wire.jsonl.gz")] == ["wire-0", "wire-1", "wire-2"]
    assert skipped["cut.jsonl.gz"].startswith("not a readable gzip file")
    assert skipped["scan.pdf"] == "unsupported type (.pdf)" and skipped["blob.bin"] == "unsupported type (.bin)"
    assert skipped["archive.tar.gz"] == "unsupported type (.tar.gz)" and skipped["NOEXT"] == "unsupported type (no extension)"
    assert skipped["sheet.xlsx"] == "unsupported type (.xlsx)"


def test_redteam_a_gzip_bomb_stops_at_the_size_limit(tmp_path):
    bomb = tmp_path / "bomb.txt.gz"
    bomb.write_bytes(gzip.compress(b"a" * 5_000_000))
    [item] = iter_articles([str(bomb)], max_bytes=1_000_000)
    assert isinstance(item, SkippedInput) and item.reason == "file over 1 MB limit (decompressed)"
    lines = tmp_path / "bomb.jsonl.gz"
    lines.write_bytes(gzip.compress(b'{"text": "' + b"b" * 3_000_000 + b'"}\n{"text": "fine"}\n'))
    first, second = iter_articles([str(lines)], max_bytes=1_000_000)
    assert isinstance(first, SkippedInput) and "line over 1 MB limit" in first.reason
    assert isinstance(second, Article) and second.text == "fine"


# 16. settings


@pytest.mark.parametrize(
    ("toml", "environ", "args", "named"),
    [
        ('concurrency = "eight"\n', {}, [], "concurrency"),
        ("concurrency = [4]\n", {}, [], "concurrency"),
        ("timeout = true\n", {}, [], "timeout"),
        ("db = 5\n", {}, [], "db"),
        # Surrounding whitespace is stripped with a warning (tests/test_redteam_*); inside, refused.
        ('base_url = "http://127.0.0.1:9/v1\\nhttp://127.0.0.2/v1"\n', {}, [], "OPENAI_BASE_URL"),
        ("", {"OPENAI_BASE_URL": "http://127.0.0.1:9/\x1b[2Jv1"}, [], "OPENAI_BASE_URL"),
        ("", {"OPENAI_API_KEY": "sk-test\r\nX-Injected: 1"}, [], "OPENAI_API_KEY"),
        ("", {"PIPELINE_TIMEOUT": "nan"}, [], "timeout"),
        ("", {}, ["--timeout", "0"], "timeout"),
        ("", {}, ["--timeout", "-1"], "timeout"),
        ("", {}, ["--concurrency", "100000"], "concurrency"),
        ("", {}, ["--concurrency", "-3"], "concurrency"),
        ("", {}, ["--max-retries", "-1"], "max_retries"),
        ("", {}, ["--log-every", "0"], "log-every"),
        ("", {}, ["--max-cost", "-1"], "max-cost"),
    ],
)
def test_redteam_a_bad_setting_is_one_line_and_exit_2(tmp_path, monkeypatch, toml, environ, args, named):
    (tmp_path / "pipeline.toml").write_text(toml)
    (tmp_path / "a.txt").write_text("The ferry resumed service on Sunday.\n")
    monkeypatch.chdir(tmp_path)
    result = _cli("run", "a.txt", "--engine", "offline", *args, **environ)
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert named in result.output and "Traceback" not in result.output
    assert "sk-test" not in result.output
    assert not (tmp_path / "pipeline.db").exists()


# 10. SIGTERM


def _pipeline_command() -> str:
    command = shutil.which("pipeline", path=str(Path(sys.executable).parent))
    assert command is not None, "pip install -e . first"
    return command


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_redteam_a_signal_stops_the_run_cleanly_and_records_what_was_in_flight(tmp_path, stop):
    folder, db = tmp_path / "inbox", tmp_path / "p.db"
    write_articles(folder, 40)
    with FakeServer(ServerConfig(latency=0.4)) as server:
        common = ["--db", str(db), "--base-url", server.base_url, "--model", "gpt-4o-mini", "--concurrency", "4"]
        process = subprocess.Popen(
            [_pipeline_command(), "run", str(folder), *common],
            env={**os.environ, "OPENAI_API_KEY": "test-key"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 60
        while server.stats()["paid_total"] < 6 and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(stop)
        output, _ = process.communicate(timeout=60)
        with Store(db) as store:
            [run_row] = store.runs()
            outcomes = store.outcomes(run_row["run_id"])
        server.config.latency = 0.0
        rerun = _cli("run", str(folder), *common, OPENAI_API_KEY="test-key")
    assert process.returncode == 128 + stop, output
    assert f"interrupted by {signal.Signals(stop).name}" in output and "Traceback" not in output
    assert run_row["status"] == "interrupted" and run_row["ended_at"]
    not_finished = [o for o in outcomes if o["status"] == "failed"]
    assert all("not finished: the run stopped (interrupted by" in o["reason"] for o in not_finished), outcomes
    assert len(not_finished) <= 4 and run_row["ok"] >= 1 and len(outcomes) < 40
    assert rerun.exit_code == 0, rerun.output
    assert f"{40 - run_row['ok']} ok, {run_row['ok']} cached, 0 failed" in rerun.output


# 13. a run that finds nothing


@pytest.mark.parametrize("inputs", [["missing-inbox"], ["empty-folder"], ["empty-folder/*.jsonl"], ["bad.txt"]])
def test_redteam_a_run_that_finds_no_article_fails_unless_allowed(tmp_path, monkeypatch, inputs):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty-folder").mkdir()
    (tmp_path / "bad.txt").write_bytes(b"")
    found_nothing = _cli("run", *inputs, "--engine", "offline")
    assert found_nothing.exit_code == 1, found_nothing.output
    assert "found no article in" in found_nothing.output and "--allow-empty" in found_nothing.output
    allowed = _cli("run", *inputs, "--engine", "offline", "--allow-empty")
    assert allowed.exit_code == 0, allowed.output


# 19. a batch collect with nothing to collect


def test_redteam_a_collect_with_nothing_to_collect_records_no_run(tmp_path):
    db = str(tmp_path / "p.db")
    (tmp_path / "a.txt").write_text("The library reopened on Monday after the flood.\n")
    assert _cli("run", str(tmp_path / "a.txt"), "--db", db, "--engine", "offline").exit_code == 0
    with FakeServer(ServerConfig()) as server:
        collected = _cli(
            "batch", "collect", "--db", db, "--base-url", server.base_url, "--model", "gpt-4o-mini", OPENAI_API_KEY="test-key"
        )
    assert collected.exit_code == 0, collected.output
    assert "nothing to collect" in collected.output
    with Store(db) as store:
        assert [run["engine"] for run in store.runs()] == ["offline"]
    assert "1 articles" in _cli("report", "--db", db).output


# 18. --max-cost


@pytest.mark.parametrize(("max_cost", "concurrency"), [(0.0001, 8), (0.002, 16), (0.0, 4)])
def test_redteam_max_cost_is_never_overshot_by_articles_started_together(tmp_path, max_cost, concurrency):
    write_articles(tmp_path / "in", 40)
    with FakeServer(ServerConfig(latency=0.05)) as server:
        settings = server_settings(server, tmp_path / "p.db", concurrency=concurrency, max_tokens=1024)
        result = run(
            [str(tmp_path / "in")], settings, budget=Budget(max_cost=max_cost), engine=make_engine(settings, sleep=no_sleep)
        )
        paid = server.stats()["paid_total"]
    assert result.cost is not None and result.cost <= max_cost, (result.cost, result.counts)
    assert result.stopped and result.stopped.startswith("budget of $") and result.exit_code == 0
    assert paid == result.counts["ok"] < 40


def test_redteam_max_cost_with_the_offline_engine_needs_no_price(tmp_path):
    write_articles(tmp_path / "in", 3)
    result = _cli("run", str(tmp_path / "in"), "--db", str(tmp_path / "p.db"), "--engine", "offline", "--max-cost", "0.01")
    assert result.exit_code == 0, result.output
    assert "3 ok" in result.output and "est. $0.0000" in result.output


# 2. a failed database write never loses a paid answer


def _journal_keys(db: Path) -> set[str]:
    path = db.with_name(db.name + ".answers.jsonl")
    return {json.loads(line)["key"] for line in path.read_text().splitlines()} if path.exists() else set()


def test_redteam_an_answer_the_database_refused_is_journalled_and_stored_by_the_rerun_without_paying(tmp_path, monkeypatch):
    monkeypatch.setattr("pipeline.store.connection.BUSY_TIMEOUT_S", 0.2)
    write_articles(tmp_path / "in", 12)
    db = tmp_path / "p.db"
    blocker = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    stored: list[str] = []

    def hold_the_database_after_three(status: str, source: str, reason: str | None) -> None:
        stored.append(status)
        if stored.count("ok") == 3 and not blocker.in_transaction:
            blocker.execute("BEGIN IMMEDIATE")  # another writer, for longer than the busy timeout

    with FakeServer(ServerConfig()) as server:
        settings = server_settings(server, db, concurrency=1)
        first = run(
            [str(tmp_path / "in")],
            settings,
            engine=make_engine(settings, sleep=no_sleep),
            on_outcome=hold_the_database_after_three,
        )
        blocker.execute("ROLLBACK")
        paid_first = server.stats()["paid_total"]
        second = run([str(tmp_path / "in")], settings, engine=make_engine(settings, sleep=no_sleep))
        stats = server.stats()
    assert first.exit_code == 2 and "busy timeout" in first.fatal
    assert first.counts["ok"] == 3 and first.counts["failed"] == 1
    assert paid_first == 4, "the run stops paying once the database refuses a write"
    assert first.usage.requests == paid_first, "the refused answer is counted in the run once"
    assert second.exit_code == 0 and second.counts == {"ok": 9, "cached": 3, "failed": 0, "skipped": 0}
    assert stats["duplicates"] == {}, "the refused answer was stored from the journal, not bought again"
    assert stats["paid_total"] == 12
    with Store(db) as store:
        assert sum(1 for _ in store.iter_results()) == 12
        ledger = {run["run_id"]: run["status"] for run in store.runs()}
    # The other writer still held the database when the first run ended; the next run closed it.
    assert first.unclosed and "the next run closes it" in first.unclosed
    assert ledger == {first.run_id: "interrupted", second.run_id: "finished"}


def test_redteam_a_journal_cut_short_by_a_crash_is_read_up_to_the_cut(tmp_path):
    write_articles(tmp_path / "in", 3)
    db = tmp_path / "p.db"
    journal = db.with_name(db.name + ".answers.jsonl")
    journal.write_text('{"key": "abc", "phase": "analyse", "raw": "{\\"id\\": \\"x\\"}"}\n{"key": "def", "pha')
    with FakeServer(ServerConfig()) as server:
        settings = server_settings(server, db)
        result = run([str(tmp_path / "in")], settings, engine=make_engine(settings, sleep=no_sleep))
    assert result.exit_code == 0 and result.counts["ok"] == 3
    assert _journal_keys(db) >= {"abc"} and len(_journal_keys(db)) == 4  # the unusable line dropped, 3 answers added


# 7. disk full


def test_redteam_a_full_disk_stops_the_run_with_one_message_and_closes_the_ledger(tmp_path, caplog):
    write_articles(tmp_path / "in", 60, marker="x" * 3000)
    db = tmp_path / "p.db"
    filled: list[str] = []

    def fill_the_disk_after_five(status: str, source: str, reason: str | None) -> None:
        filled.append(status)
        if len(filled) == 5:
            with sqlite3.connect(db) as other:
                pages = other.execute("PRAGMA page_count").fetchone()[0]
            full.db.execute(f"PRAGMA max_page_count = {pages}")

    with FakeServer(ServerConfig()) as server, Store(db) as full:
        settings = server_settings(server, db, concurrency=4)
        result = asyncio.run(
            run_batch(
                [str(tmp_path / "in")],
                settings,
                full,
                on_outcome=fill_the_disk_after_five,
                engine=make_engine(settings, sleep=no_sleep),
            )
        )
        paid = server.stats()["paid_total"]
    assert result.exit_code == 2 and "the disk is full" in result.fatal
    assert result.counts["ok"] >= 5 and result.counts["failed"] >= 1 and paid < 60
    # The fake server's own aiohttp logs a request the stopped client hung up on; that is not ours.
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR and not r.name.startswith("aiohttp")]
    with Store(db) as store:
        [ledger] = store.runs()
        stored = {stored.cache_key for stored in store.iter_results()}
        unstored = {o["cache_key"] for o in store.outcomes(ledger["run_id"]) if "paid but not stored" in (o["reason"] or "")}
    assert ledger["status"] == "aborted" and ledger["ended_at"]
    assert len(stored) == result.counts["ok"]
    journalled = _journal_keys(db)
    assert stored | unstored <= journalled, "every answer that arrived is in the journal"
    assert len(journalled) >= paid - 4  # less what the four cancelled in flight had not yet received


def _exported(db: str) -> list[dict]:
    result = _cli("export", "--db", db, "--format", "jsonl")
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def test_redteam_a_changed_source_supersedes_its_old_article_in_exports(tmp_path):
    db = str(tmp_path / "p.db")
    page, wire, loose = tmp_path / "story.html", tmp_path / "wire.jsonl", tmp_path / "loose.jsonl"
    half = "<p>Rescuers reached the stranded hikers on Sunday after a night on the rid</p>"
    page.write_text(half)
    wire.write_text(json.dumps({"id": "w1", "text": "The strike ended on Friday, the union said."}) + "\n")
    loose.write_text(json.dumps({"text": "Ferry service resumed on Monday."}) + "\n")
    assert _cli("run", str(tmp_path), "--db", db, "--engine", "offline").exit_code == 0
    first_ids = {Path(r["sources"][-1]["source_path"]).name: r["article_id"] for r in _exported(db)}
    page.write_text(
        "<p>Rescuers reached the stranded hikers on Sunday after a night on the ridge, "
        "the park service said. All four were unhurt.</p>"
    )
    wire.write_text(json.dumps({"id": "w1", "text": "The strike ended on Friday after talks, the union said."}) + "\n")
    loose.write_text(json.dumps({"text": "Ferry service resumed on Monday morning."}) + "\n")
    assert _cli("run", str(tmp_path), "--db", db, "--engine", "offline").exit_code == 0
    names = sorted(Path(r["sources"][-1]["source_path"]).name for r in _exported(db))
    assert names == ["loose.jsonl", "loose.jsonl", "story.html", "wire.jsonl"], "records without ids are not versions"
    assert first_ids["story.html"] not in {r["article_id"] for r in _exported(db)}
    with Store(db) as store:
        assert len(store.find_results("story.html")) == 2, "the old version is kept, only not exported"
    page.write_text(half)
    assert _cli("run", str(tmp_path), "--db", db, "--engine", "offline").exit_code == 0
    current = [r["article_id"] for r in _exported(db) if r["sources"][-1]["source_path"].endswith("story.html")]
    assert current == [first_ids["story.html"]], "reverted: the first version is current again"


# 11. read commands on a bad database


def _analysed_db(folder: Path) -> Path:
    (folder / "a.txt").write_text("The bridge reopened on Monday after repairs, the city said.\n")
    db = folder / "p.db"
    assert _cli("run", str(folder / "a.txt"), "--db", str(db), "--engine", "offline").exit_code == 0
    return db


@pytest.mark.parametrize("command", [["runs"], ["export"], ["report"], ["show", "a.txt"]])
@pytest.mark.parametrize("bad", ["missing", "folder", "corrupt", "corrupt-wal", "empty-file", "newer"])
def test_redteam_a_read_command_on_a_bad_database_is_one_line_exit_2_and_creates_nothing(tmp_path, command, bad):
    target = tmp_path / "x.db"
    if bad == "folder":
        target.mkdir()
    elif bad == "corrupt":
        target.write_bytes(b"SQLite format 3\x00" + os.urandom(4000))
    elif bad == "corrupt-wal":  # a header claiming WAL (read and write versions 2): SQLite makes -wal and -shm
        target.write_bytes(b"SQLite format 3\x00" + b"\x10\x00\x02\x02" + os.urandom(3996))
    elif bad == "empty-file":
        target.write_bytes(b"not a database at all, just text\n" * 40)
    elif bad == "newer":
        with sqlite3.connect(target) as connection:
            connection.execute("PRAGMA user_version = 999")
    before = sorted(path.name for path in tmp_path.iterdir())
    result = _cli(*command, "--db", str(target))
    assert result.exit_code == 2, result.output
    assert str(target) in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert sorted(path.name for path in tmp_path.iterdir()) == before, "a read command created a file"


def test_redteam_read_commands_leave_the_database_untouched(tmp_path):
    db = _analysed_db(tmp_path)
    stamp = (db.stat().st_mtime_ns, db.stat().st_size, db.read_bytes())
    for command in (["runs"], ["export"], ["report"], ["show", "a.txt"]):
        assert _cli(*command, "--db", str(db)).exit_code == 0
    assert (db.stat().st_mtime_ns, db.stat().st_size, db.read_bytes()) == stamp


def test_redteam_a_database_on_a_read_only_mount_can_be_read(tmp_path):
    mount_point = tmp_path / "ro"
    mount_point.mkdir()
    if (
        os.geteuid() != 0
        or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount_point)], capture_output=True).returncode
    ):
        pytest.skip("cannot mount a filesystem here")
    try:
        db = _analysed_db(mount_point)
        subprocess.run(["mount", "-o", "remount,ro", str(mount_point)], check=True)
        for command in (["runs"], ["export"], ["show", "a.txt"]):
            result = _cli(*command, "--db", str(db))
            assert result.exit_code == 0, result.output
        assert '"label"' in _cli("show", "a.txt", "--db", str(db), "--json").output
        with pytest.raises(StoreError, match="cannot"):
            Store(db).start_run("offline", "offline")
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)
