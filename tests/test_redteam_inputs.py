"""Red team, issue 23, causes 2, 7 and 12: what the inputs can do to a night.

2. JSON nested far deeper than any record (in ``.json``, ``.jsonl``, stdin, a ClaimReview file,
   an eval dataset) is a bad input named with its file and record, never a ``RecursionError``.
7. The inbox index trusts the inode change time, which no copy tool restores, and a symlink
   under an inbox that leads outside the named inputs is skipped with a reason.
12. Offsets index the normalised text, and the record carries that text and says so.
"""

from __future__ import annotations

import io
import json
import os
import time
import unicodedata

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.errors import InputError
from pipeline.inputs import JSON_MAX_DEPTH, JSONTooDeep, iter_articles, load_json
from pipeline.models import SkippedInput
from pipeline.desk.factchecks import read_claimreview_file
from pipeline.evaluate import evaluate_file
from pipeline.runs import run
from pipeline.settings import Engine, Settings
from pipeline.store import Store
from pipeline.views.export import export_results

GOOD = "The harbour master said the port reopens on Monday after the storm."
DEEP = 100_000


def _nested(depth: int, opening: str = "[", closing: str = "]") -> str:
    return opening * depth + closing * depth


def _deep_object(depth: int) -> str:
    """An object whose ``text`` field holds ``depth`` nested objects: JSON Lines' own shape."""
    return '{"text": ' + '{"a": ' * depth + "1" + "}" * depth + "}"


@pytest.fixture
def offline(tmp_path):
    return Settings(engine=Engine.offline, db=tmp_path / "p.db", min_file_age=0)


def _reasons(items) -> list[tuple[str, str | None, str]]:
    return [(item.source_path, item.record_id, item.reason) for item in items if isinstance(item, SkippedInput)]


@pytest.mark.cause(2, issue=23)
@pytest.mark.parametrize("depth", [JSON_MAX_DEPTH + 1, 5_000, DEEP])
@pytest.mark.parametrize("shape", ["array", "object", "mixed"])
def test_redteam_deep_json_is_refused_before_it_is_parsed(depth, shape):
    text = {
        "array": _nested(depth),
        "object": _deep_object(depth),
        "mixed": '[{"text": "x", "extra": ' + '[{"k": ' * (depth // 2 + 1) + "0" + "}]" * (depth // 2 + 1) + "}]",
    }[shape]
    with pytest.raises(JSONTooDeep, match=f"nested deeper than {JSON_MAX_DEPTH} levels"):
        load_json(text)


@pytest.mark.cause(2, issue=23)
def test_redteam_brackets_inside_strings_do_not_count_and_normal_json_parses():
    inside = json.dumps({"text": "[" * 5000 + "{" * 5000 + '\\"[[', "list": [[[["ok"]]]]})
    assert load_json(inside)["list"] == [[[["ok"]]]]
    shallow = _nested(JSON_MAX_DEPTH)
    assert load_json(shallow) is not None


@pytest.mark.cause(2, issue=23)
def test_redteam_a_deep_record_in_a_jsonl_file_is_skipped_by_line_and_the_rest_are_read(tmp_path, offline):
    path = tmp_path / "feed.jsonl"
    lines = [json.dumps({"id": "a", "text": GOOD}), _deep_object(DEEP), json.dumps({"id": "c", "text": GOOD + " Again."})]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run([str(path)], offline)
    assert result.counts["ok"] == 2 and result.counts["skipped"] == 1
    with Store(offline.db) as store:
        [skipped] = [o for o in store.outcomes(result.run_id) if o["status"] == "skipped"]
    assert skipped["source_path"] == str(path) and "line 2" in skipped["reason"] and "deeper" in skipped["reason"]


@pytest.mark.cause(2, issue=23)
def test_redteam_a_deep_json_file_is_skipped_naming_the_record_and_the_night_goes_on(tmp_path, offline):
    deep = tmp_path / "deep.json"
    deep.write_text("[" + json.dumps({"text": GOOD}) + ", " + _nested(DEEP) + "]", encoding="utf-8")
    other = tmp_path / "other.txt"
    other.write_text(GOOD + " The ferry runs too.", encoding="utf-8")
    result = run([str(deep), str(other)], offline)
    assert result.counts["ok"] == 1 and result.counts["skipped"] == 1 and not result.fatal and not result.interrupted
    with Store(offline.db) as store:
        [skipped] = [o for o in store.outcomes(result.run_id) if o["status"] == "skipped"]
    assert skipped["source_path"] == str(deep) and "record 2" in skipped["reason"]


@pytest.mark.cause(2, issue=23)
@pytest.mark.parametrize("text", [_nested(DEEP), _deep_object(DEEP), json.dumps({"text": GOOD}) + "\n" + _deep_object(DEEP)])
def test_redteam_deep_json_on_stdin_is_skipped_not_read_as_text(text):
    items = list(iter_articles(["-"], stdin=io.StringIO(text)))
    reasons = _reasons(items)
    assert reasons and all(source == "-" and "deeper" in reason for source, _, reason in reasons)
    assert all("deeper" not in getattr(item, "text", "") for item in items), "the deep JSON is no article"


@pytest.mark.cause(2, issue=23)
@pytest.mark.parametrize("body", [_nested(DEEP), '{"@type": "ClaimReview", "itemReviewed": ' + _nested(DEEP, '{"a":', "}") + "}"])
def test_redteam_a_deep_claimreview_import_is_one_line_and_exit_2(tmp_path, body):
    path = tmp_path / "checks.json"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(InputError, match="deeper"):
        read_claimreview_file(path)
    result = CliRunner().invoke(app, ["factchecks", "import", str(path), "--db", str(tmp_path / "p.db")])
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2 and len(lines) == 1 and str(path) in lines[0] and "Traceback" not in result.output


@pytest.mark.cause(2, issue=23)
def test_redteam_a_deep_eval_record_is_an_input_error(tmp_path):
    path = tmp_path / "labelled.jsonl"
    path.write_text(json.dumps({"text": GOOD, "label": "news"}) + "\n" + _deep_object(DEEP) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 2"):
        evaluate_file(path, None, analyse=lambda article: None)


# --- cause 7: the inbox index and walks ----------------------------------------------------------

_OLD = time.time_ns() - 3600 * 10**9


@pytest.mark.cause(7, issue=23)
@pytest.mark.parametrize("reuse", ["restored_mtime", "same_inode_same_size"])
def test_redteam_a_rewritten_file_with_its_old_size_and_mtime_is_read_again(tmp_path, offline, reuse):
    inbox = tmp_path / "in"
    inbox.mkdir()
    path = inbox / "story.txt"
    path.write_text("The mayor said the bridge opens in May, officials said.", encoding="utf-8")
    os.utime(path, ns=(_OLD, _OLD))
    first = run([str(inbox)], offline)
    assert first.counts["ok"] == 1
    stamp = os.stat(path)
    changed = "The mayor said the bridge shuts in May, officials said."
    if reuse == "restored_mtime":  # rsync -t, cp -p, tar x: new content, old size and mtime
        replacement = inbox / ".story.tmp"
        replacement.write_text(changed, encoding="utf-8")
        os.replace(replacement, path)
    else:  # rewritten in place: same inode
        with open(path, "r+", encoding="utf-8") as handle:
            handle.write(changed)
    os.utime(path, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    now = os.stat(path)
    assert (now.st_size, now.st_mtime_ns) == (stamp.st_size, stamp.st_mtime_ns)
    second = run([str(inbox)], offline)
    assert second.counts["ok"] == 1, "the new content is analysed, not served stale from the index"
    with Store(offline.db) as store:
        [outcome] = store.outcomes(second.run_id)
        assert "shuts" in store.article_text(outcome["article_id"])


@pytest.mark.cause(7, issue=23)
def test_redteam_a_symlink_leaving_the_named_inputs_is_skipped_with_a_reason(tmp_path, offline):
    secrets = tmp_path / "home"
    secrets.mkdir()
    (secrets / "notes.txt").write_text("My bank PIN is 1234, said nobody.", encoding="utf-8")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "story.txt").write_text(GOOD, encoding="utf-8")
    (inbox / "leak.txt").symlink_to(secrets / "notes.txt")
    (inbox / "sub").mkdir()
    (inbox / "sub" / "again.txt").symlink_to(os.path.relpath(secrets / "notes.txt", inbox / "sub"))
    (inbox / "inside.txt").symlink_to(inbox / "story.txt")
    items = list(iter_articles([str(inbox)]))
    reasons = {os.path.basename(source): reason for source, _, reason in _reasons(items)}
    assert set(reasons) == {"leak.txt", "again.txt"}
    assert all("outside the named inputs" in reason for reason in reasons.values())
    assert not any("PIN" in getattr(item, "text", "") for item in items)
    result = run([str(inbox)], offline)
    assert result.counts["skipped"] == 2
    # Named as an input root too, the folder a link points into is allowed.
    allowed = list(iter_articles([str(inbox), str(secrets)]))
    assert not _reasons(allowed)


# --- cause 12: offsets and the text they index ---------------------------------------------------


@pytest.mark.cause(12, issue=23)
@pytest.mark.parametrize("form", ["crlf", "decomposed", "both"])
def test_redteam_exported_offsets_index_the_text_the_record_carries(tmp_path, offline, form):
    text = 'Officials in Málaga met on Monday.\nThe mayor, José Núñez, said "the café by the río reopens in June" to reporters.\n'
    if form in ("decomposed", "both"):
        text = unicodedata.normalize("NFD", text)
    if form in ("crlf", "both"):
        text = text.replace("\n", "\r\n")
    path = tmp_path / "story.txt"
    path.write_bytes(text.encode("utf-8"))
    result = run([str(path)], offline)
    assert result.counts["ok"] == 1
    out = io.StringIO()
    with Store(offline.db) as store:
        export_results(store, "jsonl", out)
    [record] = [json.loads(line) for line in out.getvalue().splitlines()]
    assert record["offsets_index"] == "text"
    raw = path.read_bytes().decode("utf-8")
    assert record["text"] != raw, "the record's text is the normalised one, not the file"
    assert record["quotes"], "the fixture has a quote to check"
    for quote in record["quotes"]:
        assert record["text"][quote["start"] : quote["end"]] == quote["text"]
