"""The inbox index: a file whose stat (size, mtime, inode) is unchanged is served from the store, unopened."""

import json
import os
import time

import pytest
from support.fakes import write_articles

import pipeline.inputs as sources
from pipeline.runs import run
from pipeline.settings import Engine, Settings
from pipeline.inputs import FileRead, FileStamp, UnchangedFile, iter_articles
from pipeline.store import Store

_OLD = time.time_ns() - 3600 * 10**9


def settle(*paths):
    """Backdate files past the racy window, as a night-old inbox would be."""
    for path in paths:
        os.utime(path, ns=(_OLD, _OLD))


@pytest.fixture
def offline(tmp_path):
    return Settings(engine=Engine.offline, db=tmp_path / "p.db", min_file_age=0)


@pytest.fixture
def opened(monkeypatch):
    """The paths sources opened, in order."""
    seen = []
    real_open = sources._open

    def counting_open(path):
        seen.append(os.path.basename(path))
        return real_open(path)

    monkeypatch.setattr(sources, "_open", counting_open)
    return seen


def test_a_file_with_an_unchanged_stamp_is_yielded_unopened_and_a_read_file_is_followed_by_its_stamp(tmp_path, opened):
    [path] = write_articles(tmp_path / "in", 1)
    status = os.stat(path)
    stamp = FileStamp(status.st_size, status.st_mtime_ns, status.st_ino, status.st_ctime_ns)
    assert list(iter_articles([str(path)], unchanged=lambda _path, seen: seen == stamp)) == [UnchangedFile(str(path), stamp)]
    assert opened == []
    items = list(iter_articles([str(path)], unchanged=lambda _path, _seen: False))
    assert [type(item).__name__ for item in items] == ["Article", "FileRead"]
    assert items[1] == FileRead(str(path), stamp, complete=True) and opened == [path.name]


def test_a_file_with_a_skipped_record_reads_as_incomplete(tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_text('{"text": "A story long enough to count."}\nnot json\n', encoding="utf-8")
    items = list(iter_articles([str(path)], unchanged=lambda _path, _stamp: False))
    assert [type(item).__name__ for item in items] == ["Article", "SkippedInput", "FileRead"]
    assert items[-1].complete is False


def test_a_rerun_over_an_unchanged_inbox_opens_no_file_and_serves_every_article_from_the_store(tmp_path, offline, opened):
    paths = write_articles(tmp_path / "in", 5)
    jsonl = tmp_path / "in" / "more.jsonl"
    jsonl.write_text(
        "".join(json.dumps({"id": f"r{n}", "text": f"Record {n} says the harbour reopens."}) + "\n" for n in range(3)),
        encoding="utf-8",
    )
    settle(*paths, jsonl)
    first = run([str(tmp_path / "in")], offline)
    assert first.counts["ok"] == 8 and len(opened) == 6
    opened.clear()
    second = run([str(tmp_path / "in")], offline)
    assert second.counts == {"ok": 0, "cached": 8, "failed": 0, "skipped": 0} and opened == []
    assert second.empty is None and second.exit_code == 0, "articles served by the index were found"
    with Store(offline.db) as store:
        first_outcomes, second_outcomes = store.outcomes(first.run_id), store.outcomes(second.run_id)
    keep = ("source_path", "record_id", "article_id", "cache_key")
    assert [{name: row[name] for name in keep} for row in second_outcomes] == [
        {name: row[name] for name in keep} for row in first_outcomes
    ]


def test_a_changed_file_is_read_again_and_rescan_reads_every_file(tmp_path, offline, opened):
    paths = write_articles(tmp_path / "in", 3)
    settle(*paths)
    run([str(tmp_path / "in")], offline)
    paths[1].write_text('Story changed. The mayor said "the bridge waits until summer" today.\n', encoding="utf-8")
    settle(paths[1])
    opened.clear()
    again = run([str(tmp_path / "in")], offline)
    assert opened == [paths[1].name] and again.counts["ok"] == 1 and again.counts["cached"] == 2
    opened.clear()
    rescanned = run([str(tmp_path / "in")], offline, rescan=True)
    assert len(opened) == 3 and rescanned.counts["cached"] == 3


def test_files_that_skipped_a_record_or_were_just_written_are_not_indexed(tmp_path, offline, opened):
    mixed = tmp_path / "in" / "mixed.jsonl"
    mixed.parent.mkdir()
    mixed.write_text('{"text": "A story long enough to count."}\nnot json\n', encoding="utf-8")
    settle(mixed)
    [fresh] = write_articles(tmp_path / "in", 1)
    run([str(tmp_path / "in")], offline)
    opened.clear()
    again = run([str(tmp_path / "in")], offline)
    assert sorted(opened) == sorted([mixed.name, fresh.name])
    assert again.counts["skipped"] == 1, "a bad record is reported on every run, never hidden by the index"


def test_an_indexed_article_without_a_result_under_the_current_key_is_analysed_from_the_stored_text(tmp_path, offline, opened):
    paths = write_articles(tmp_path / "in", 2)
    settle(*paths)
    run([str(tmp_path / "in")], offline)
    with Store(offline.db) as store:
        store.db.execute("DELETE FROM result")
    opened.clear()
    again = run([str(tmp_path / "in")], offline)
    assert opened == [] and again.counts["ok"] == 2
    with Store(offline.db) as store:
        assert {result.article.source_path for result in store.iter_results(again.run_id)} == {str(p) for p in paths}


def test_an_indexed_article_that_failed_for_good_stays_failed_unpaid(tmp_path, offline, opened):
    [path] = write_articles(tmp_path / "in", 1)
    settle(path)
    run([str(tmp_path / "in")], offline)
    with Store(offline.db) as store:
        [row] = store.outcomes(1)
        store.db.execute("DELETE FROM result")
        for run_id in (1, 2, 3):
            store.remember_failure(run_id, row["cache_key"], row["article_id"], "schema", "the answer was not JSON")
    opened.clear()
    again = run([str(tmp_path / "in")], offline)
    assert opened == [] and again.counts["failed"] == 1 and again.counts["ok"] == 0
    with Store(offline.db) as store:
        [failed] = store.outcomes(again.run_id)
    assert "not tried again until --retry-failed" in failed["reason"]
