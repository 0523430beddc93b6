"""Reading inputs: every kind of file, and every kind of bad one, becomes a record."""

from __future__ import annotations

import codecs
import gzip
import io
import json
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.models import Article, SkippedInput
from pipeline.inputs import article_id, estimate_inputs, iter_articles, normalise_text

STORY = "“He was tough,” Derek once said.\nIt was a dance from heaven — or so they say."
PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))


def read_all(*paths: Path | str, **options) -> list[Article | SkippedInput]:
    return list(iter_articles([str(path) for path in paths], **options))


def only(*paths: Path | str, **options) -> Article | SkippedInput:
    [result] = read_all(*paths, **options)
    return result


def skip_reason(*paths: Path | str, **options) -> str:
    result = only(*paths, **options)
    assert isinstance(result, SkippedInput), result
    return result.reason


def write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


# --- normalise_text and article_id -------------------------------------------------------


def test_normalise_text_cleans_layout_and_keeps_typography() -> None:
    raw = "  Title \r\n\r\n\r\n\r\nBody\x00 line\t \rnext\x07 “quoted” — dash…  \n\n\n"
    assert normalise_text(raw) == "Title\n\nBody line\nnext “quoted” — dash…"


def test_normalise_text_composes_and_repairs_lone_surrogates() -> None:
    assert normalise_text("Cafe\u0301") == "Café"
    assert normalise_text("a\ud800b") == "a\ufffdb"


def test_article_id_is_sha256_of_the_normalised_text() -> None:
    assert article_id("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


@given(st.text())
def test_normalise_text_is_idempotent(text: str) -> None:
    once = normalise_text(text)
    assert normalise_text(once) == once


@given(st.lists(st.text(alphabet=st.characters(exclude_characters="\r\n")), max_size=8))
def test_article_id_is_stable_under_crlf_and_lf(lines: list[str]) -> None:
    assert article_id(normalise_text("\r\n".join(lines))) == article_id(normalise_text("\n".join(lines)))
    assert article_id(normalise_text("\r".join(lines))) == article_id(normalise_text("\n".join(lines)))


# --- text files, folders, globs ----------------------------------------------------------


def test_text_file_becomes_an_article_indexing_the_normalised_text(tmp_path: Path) -> None:
    path = write(tmp_path / "story.txt", STORY.replace("\n", "\r\n") + "\r\n")
    article = only(path)
    assert isinstance(article, Article)
    assert article.text == STORY
    assert article.article_id == article_id(STORY)
    assert (article.source_path, article.record_id, article.title) == (str(path), None, None)


def test_same_story_in_two_files_gives_two_articles_with_one_id(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", STORY)
    write(tmp_path / "b.md", STORY.replace("\n", "\r\n") + "\n\n\n")
    first, second = read_all(tmp_path)
    assert isinstance(first, Article) and isinstance(second, Article)
    assert first.article_id == second.article_id
    assert (Path(first.source_path).name, Path(second.source_path).name) == ("a.txt", "b.md")


def test_folders_are_recursive_sorted_and_read_only_known_suffixes(tmp_path: Path) -> None:
    for name in ["b.txt", "a.md", "sub/c.html", "sub/deeper/d.json", "e.jsonl", "skip.csv", "skip.png", ".hidden.txt"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    write(tmp_path / "b.txt", "bee")
    write(tmp_path / "a.md", "ay")
    write(tmp_path / "sub/c.html", "<html><body><p>see</p></body></html>")
    write(tmp_path / "sub/deeper/d.json", json.dumps({"text": "dee"}))
    write(tmp_path / "e.jsonl", json.dumps({"text": "ee"}) + "\n")
    write(tmp_path / "skip.csv", "a,b")
    write(tmp_path / "skip.png", PNG_BYTES)
    write(tmp_path / ".hidden.txt", "hidden")
    results = read_all(tmp_path)
    assert [Path(result.source_path).relative_to(tmp_path).as_posix() for result in results] == [
        "a.md",
        "b.txt",
        "e.jsonl",
        "skip.csv",
        "skip.png",
        "sub/c.html",
        "sub/deeper/d.json",
    ]
    skipped = [result.reason for result in results if isinstance(result, SkippedInput)]
    assert skipped == ["unsupported type (.csv)", "unsupported type (.png)"]


def test_explicitly_named_file_is_read_whatever_its_extension(tmp_path: Path) -> None:
    article = only(write(tmp_path / "story.csv", STORY))
    assert isinstance(article, Article) and article.text == STORY


def test_globs_expand_sorted_and_a_path_named_twice_is_read_once(tmp_path: Path) -> None:
    write(tmp_path / "2.txt", "two")
    write(tmp_path / "1.txt", "one")
    results = read_all(tmp_path / "*.txt", tmp_path / "1.txt", tmp_path)
    assert [Path(result.source_path).name for result in results] == ["1.txt", "2.txt"]


def test_missing_paths_and_empty_globs_are_skipped(tmp_path: Path) -> None:
    assert skip_reason(tmp_path / "absent.txt") == "no such file or folder"
    assert skip_reason(tmp_path / "*.nothing") == "no file matches the pattern"


def test_iteration_is_lazy(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "first")
    results = iter_articles([str(tmp_path / "a.txt"), str(tmp_path / "later.txt")])
    assert isinstance(next(results), Article)
    write(tmp_path / "later.txt", "written after the first article was yielded")
    assert isinstance(next(results), Article)


# --- bad inputs (issue 6) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b"  \n\t\r\n \n", "empty file"),
        (PNG_BYTES, "binary file (PNG)"),
        (gzip.compress(b"hello world"), "binary file (gzip)"),
        (b"%PDF-1.7\n...", "binary file (PDF)"),
        (b"PK\x03\x04rest", "binary file (zip)"),
        (b"\xff\xd8\xff\xe0JFIF", "binary file (JPEG)"),
        (b"text\x00with NUL", "binary file (contains NUL bytes)"),
        (b"caf\xc3\xa9 ok, then \xff bad", "not valid UTF-8 at byte 15"),
    ],
)
def test_bad_text_files_are_skipped_with_a_reason(tmp_path: Path, content: bytes, reason: str) -> None:
    path = write(tmp_path / "input.txt", content)
    result = only(path)
    assert result == SkippedInput(source_path=str(path), record_id=None, reason=reason)


@pytest.mark.parametrize(
    ("bom", "codec"),
    [(codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")],
)
def test_byte_order_marks_are_decoded(tmp_path: Path, bom: bytes, codec: str) -> None:
    article = only(write(tmp_path / "bom.txt", bom + STORY.encode(codec)))
    assert isinstance(article, Article) and article.text == STORY


def test_file_over_the_size_limit_is_skipped(tmp_path: Path) -> None:
    path = write(tmp_path / "big.txt", b"x" * 10_485_761)
    assert skip_reason(path) == "file over 10 MB limit (10485761 bytes)"
    assert skip_reason(path, max_bytes=1000) == "file over 1000 bytes limit (10485761 bytes)"


def test_broken_symlink_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "dangling.txt").symlink_to(tmp_path / "gone.txt")
    assert skip_reason(tmp_path / "dangling.txt") == "broken symlink"
    assert skip_reason(tmp_path) == "broken symlink"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_is_skipped(tmp_path: Path) -> None:
    path = write(tmp_path / "locked.txt", STORY)
    path.chmod(0)
    try:
        assert skip_reason(path) == "permission denied"
    finally:
        path.chmod(0o600)


def test_permission_errors_become_a_reason_even_for_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "locked.txt", STORY)

    def refuse(*args: object, **kwargs: object) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "open", refuse)
    assert skip_reason(path) == "permission denied"


def test_file_deleted_before_it_is_read_is_skipped_and_the_batch_goes_on(tmp_path: Path) -> None:
    for name in ("a.txt", "b.txt", "c.txt"):
        write(tmp_path / name, f"story {name}")
    results = iter_articles([str(tmp_path)])
    assert isinstance(next(results), Article)
    (tmp_path / "b.txt").unlink()
    vanished, last = list(results)
    assert vanished == SkippedInput(
        source_path=str(tmp_path / "b.txt"), record_id=None, reason="file vanished before it was read"
    )
    assert isinstance(last, Article) and last.text == "story c.txt"


def test_fifo_named_explicitly_is_skipped_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.txt")
    assert skip_reason(tmp_path / "pipe.txt") == "not a regular file"


def test_template_syntax_passes_through_unchanged(tmp_path: Path) -> None:
    text = "Hello {{ user.name }} and {% if x %}branch{% endif %} {#c#}"
    article = only(write(tmp_path / "template.md", text))
    assert isinstance(article, Article) and article.text == text


def test_bad_inputs_do_not_stop_the_batch(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", b"")
    write(tmp_path / "b.txt", PNG_BYTES)
    write(tmp_path / "c.txt", STORY)
    results = read_all(tmp_path)
    assert [type(result).__name__ for result in results] == ["SkippedInput", "SkippedInput", "Article"]


# --- HTML --------------------------------------------------------------------------------

HOSTILE_HTML = """<!doctype html><html><head><meta charset="utf-8">
<title>Page title | Site</title><meta property="og:title" content="Page title">
<script>var leaked = "SCRIPT_TEXT";</script><style>p{color:red}</style></head>
<body><nav><a href="/">Home</a> <a href="/about">About us</a></nav>
<article><h1>Headline</h1><p>“He was tough,” Derek once said. {{ not_a_variable }} stays.</p>
<iframe src="https://example.invalid/embed">IFRAME_TEXT</iframe>
<p>Second paragraph of the story.</p></article>
<script>document.write("SCRIPT_TWO")</script></body></html>"""


def test_html_keeps_the_main_text_and_drops_scripts_iframes_and_navigation(tmp_path: Path) -> None:
    article = only(write(tmp_path / "page.html", HOSTILE_HTML))
    assert isinstance(article, Article)
    assert "“He was tough,” Derek once said. {{ not_a_variable }} stays." in article.text
    assert "Second paragraph of the story." in article.text
    for dropped in ("SCRIPT_TEXT", "SCRIPT_TWO", "IFRAME_TEXT", "color:red", "About us"):
        assert dropped not in article.text
    assert article.title == "Page title"


def test_html_with_a_legacy_charset_is_decoded(tmp_path: Path) -> None:
    page = '<html><head><meta charset="windows-1252"></head><body><p>“Café” story text.</p></body></html>'
    article = only(write(tmp_path / "old.htm", page.encode("cp1252")))
    assert isinstance(article, Article) and "“Café” story text." in article.text


def test_html_without_text_is_skipped(tmp_path: Path) -> None:
    page = "<html><head><script>only()</script></head><body><nav>Menu</nav></body></html>"
    assert skip_reason(write(tmp_path / "blank.html", page)) == "no text found in HTML"


# --- JSON and JSONL ----------------------------------------------------------------------


def test_json_record_fields_are_read_and_scalars_coerced(tmp_path: Path) -> None:
    record = {"id": 42, "text": STORY, "title": " Title ", "url": "https://example.invalid/a", "published": 2024}
    article = only(write(tmp_path / "one.json", json.dumps(record)))
    assert isinstance(article, Article)
    assert (article.record_id, article.title, article.url, article.published) == (
        "42",
        "Title",
        "https://example.invalid/a",
        "2024",
    )
    assert article.text == STORY


def test_json_list_of_records_yields_each_and_skips_bad_ones_by_position(tmp_path: Path) -> None:
    records = [{"id": "a", "text": "first"}, {"id": "b"}, "not a record", {"text": "third"}]
    first, missing, not_object, third = read_all(write(tmp_path / "many.json", json.dumps(records)))
    assert isinstance(first, Article) and first.record_id == "a"
    assert missing == SkippedInput(
        source_path=str(tmp_path / "many.json"), record_id="b", reason="JSON record without `text` (record 2)"
    )
    assert isinstance(not_object, SkippedInput)
    assert not_object.reason == "JSON record is not an object (got string) (record 3)"
    assert isinstance(third, Article) and third.record_id is None


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({"id": 1}, "JSON record without `text`"),
        ({"text": None}, "JSON record without `text`"),
        ({"text": 5}, "JSON field `text` must be a string, got number"),
        ({"text": ["para"]}, "JSON field `text` must be a string, got array"),
        ({"text": "  \n "}, "JSON record with empty `text`"),
        ({"text": "ok", "title": {"a": 1}}, "JSON field `title` must be a string or number, got object"),
        ({"text": "ok", "published": [2024]}, "JSON field `published` must be a string or number, got array"),
    ],
)
def test_json_records_with_missing_or_wrong_typed_fields_are_skipped(tmp_path: Path, record: dict, reason: str) -> None:
    assert skip_reason(write(tmp_path / "bad.json", json.dumps(record))) == reason


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ('{"text": "unterminated', "invalid JSON at line 1: Unterminated string starting at (column 10)"),
        ("[]", "JSON list without records"),
        ("42", "JSON is neither a record nor a list of records (got number)"),
    ],
)
def test_unusable_json_files_are_skipped(tmp_path: Path, content: str, reason: str) -> None:
    assert skip_reason(write(tmp_path / "bad.json", content)) == reason


def test_jsonl_streams_records_and_skips_bad_lines_with_their_number(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "r1", "text": "first story"}),
        "",
        '{"id": "r2", "text": broken',
        json.dumps({"id": "r3"}),
        json.dumps({"text": "fifth line story", "url": 7}),
    ]
    path = write(tmp_path / "feed.jsonl", "\n".join(lines) + "\n")
    first, broken, missing, last = read_all(path)
    assert isinstance(first, Article) and (first.record_id, first.text) == ("r1", "first story")
    assert broken == SkippedInput(
        source_path=str(path), record_id=None, reason="invalid JSON at line 3: Expecting value (column 22)"
    )
    assert missing == SkippedInput(source_path=str(path), record_id="r3", reason="JSON record without `text` (line 4)")
    assert isinstance(last, Article) and (last.record_id, last.url) == (None, "7")


def test_jsonl_line_limits_and_encoding_errors_are_per_line(tmp_path: Path) -> None:
    long_line = json.dumps({"text": "x" * 500}).encode()
    content = b'{"text": "ok"}\n' + long_line + b'\n{"text": "caf\xff"}\n{"text": "after"}'
    path = write(tmp_path / "mixed.jsonl", content)
    ok, too_long, undecodable, after = read_all(path, max_bytes=100)
    assert isinstance(ok, Article) and isinstance(after, Article) and after.text == "after"
    assert isinstance(too_long, SkippedInput) and too_long.reason == "JSONL line over 100 bytes limit (line 2)"
    assert isinstance(undecodable, SkippedInput)
    assert undecodable.reason == f"not valid UTF-8 at byte {15 + len(long_line) + 1 + 13} (line 3)"


def test_jsonl_in_utf16_and_binary_jsonl(tmp_path: Path) -> None:
    path = write(tmp_path / "wide.jsonl", codecs.BOM_UTF16_LE + '{"text": "wide"}\n'.encode("utf-16-le"))
    article = only(path)
    assert isinstance(article, Article) and article.text == "wide"
    assert skip_reason(write(tmp_path / "image.jsonl", PNG_BYTES)) == "binary file (PNG)"
    assert skip_reason(write(tmp_path / "blank.jsonl", "\n \n")) == "empty file"


# --- stdin -------------------------------------------------------------------------------


def test_stdin_text_is_one_article() -> None:
    article = only("-", stdin=io.StringIO("\n" + STORY + "\n"))
    assert isinstance(article, Article)
    assert (article.source_path, article.text) == ("-", STORY)


def test_stdin_that_starts_with_a_bracket_but_is_not_json_is_text() -> None:
    article = only("-", stdin=io.StringIO("[UPDATE] The story so far."))
    assert isinstance(article, Article) and article.text == "[UPDATE] The story so far."


def test_stdin_jsonl_and_json_are_read_as_records() -> None:
    jsonl = '\n{"id": 1, "text": "one"}\n{"text": "two"}\n{oops\n'
    first, second, broken = read_all("-", stdin=io.StringIO(jsonl))
    assert isinstance(first, Article) and first.record_id == "1"
    assert isinstance(second, Article) and second.text == "two"
    assert isinstance(broken, SkippedInput) and broken.reason.startswith("invalid JSON at line 4:")
    pretty = json.dumps([{"id": "x", "text": "pretty"}], indent=2)
    article = only("-", stdin=io.StringIO(pretty))
    assert isinstance(article, Article) and (article.record_id, article.source_path) == ("x", "-")


def test_empty_and_oversized_stdin_are_skipped() -> None:
    assert skip_reason("-", stdin=io.StringIO(" \n ")) == "empty stdin"
    assert skip_reason("-", stdin=io.StringIO("x" * 101), max_bytes=100) == "stdin over 100 bytes limit"


def test_the_input_estimate_counts_files_and_jsonl_records_without_parsing(tmp_path):
    (tmp_path / "a.txt").write_text("One article.")
    (tmp_path / "b.jsonl").write_text('{"text": "x"}\n\n{"text": "y"}\nnot json at all\n')
    (tmp_path / "README.md").write_text("the folder's own notes")
    assert estimate_inputs([str(tmp_path)]) == 4
    assert estimate_inputs([str(tmp_path), "-"]) is None
