"""Decoding inputs: bytes to text (BOMs, declared charsets, binary refused), the text normalised
into one ``Article``, and JSON, JSONL and stdin records, each bad one a ``SkippedInput``."""

from __future__ import annotations

import codecs
import hashlib
import itertools
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from typing import Any, AnyStr, TextIO


from pipeline.errors import InputError
from pipeline.models import Article, SkippedInput

from pipeline.inputs.files import _Readable, _STDIN, _os_error_reason, _read_limited, _size_text

__all__ = ["normalise_text", "article_id", "load_json", "JSON_MAX_DEPTH", "JSONTooDeep"]

_MAGIC_NUMBERS = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\x1f\x8b", "gzip"),
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),
    (b"%PDF-", "PDF"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
)
# Longest first: the UTF-32 LE BOM starts with the UTF-16 LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)
_RECORD_FIELDS = ("id", "title", "url", "published")

_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BLANK_LINES = re.compile(r"\n{3,}")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def normalise_text(text: str) -> str:
    """The canonical form of an article's text, which ids hash and offsets index.

    Line endings become LF, control characters other than newline and tab go,
    the text is NFC, lines lose trailing whitespace, runs of blank lines shrink
    to one and the ends are stripped. Typography is kept as written.
    """
    # Each step is skipped when there is nothing to do: most texts are already clean.
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _CONTROL_CHARS.search(text):
        text = _CONTROL_CHARS.sub("", text)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates (from JSON escapes or surrogateescape'd stdin) cannot be hashed or stored.
        text = _LONE_SURROGATE.sub("\ufffd", text)
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    if "\n\n\n" in text:
        text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()


def article_id(normalised_text: str) -> str:
    """SHA-256 hex digest of the normalised text: the same story from two files is one article."""
    return hashlib.sha256(normalised_text.encode("utf-8")).hexdigest()


# --- bytes to text ------------------------------------------------------------------------


def _decode(data: bytes, path: str) -> str:
    """Decode a whole file: BOM-marked UTF-8/16/32, else strict UTF-8; binary is refused."""
    _refuse_binary(data, path)
    codec, name = _bom_codec(data)
    if codec == "utf-8" and b"\x00" in data:
        raise InputError(path, "binary file (contains NUL bytes)")
    try:
        return data.decode(codec)
    except UnicodeDecodeError as error:
        raise InputError(path, f"not valid {name} at byte {error.start}") from None


def _refuse_binary(data: bytes, path: str) -> None:
    for magic, kind in _MAGIC_NUMBERS:
        if data.startswith(magic):
            raise InputError(path, f"binary file ({kind})")


def _bom_codec(data: bytes) -> tuple[str, str]:
    """The codec to decode ``data`` with, and its name for reasons: from the BOM, else UTF-8."""
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            return codec, name
    return "utf-8", "UTF-8"


# --- text to articles ---------------------------------------------------------------------


def _article(
    text: str,
    source_path: str,
    *,
    title: str | None = None,
    url: str | None = None,
    published: str | None = None,
    record_id: str | None = None,
    one_per_source: bool = True,
) -> Article:
    return Article(
        article_id=article_id(text),
        text=text,
        title=title,
        url=url,
        published=published,
        source_path=source_path,
        record_id=record_id,
        # stdin is a new source every run, not a file whose content changed.
        versioned_source=one_per_source and source_path != _STDIN,
    )


def _article_from_text(raw: str, source_path: str) -> Article | SkippedInput:
    text = normalise_text(raw)
    if not text:
        return SkippedInput(source_path=source_path, record_id=None, reason="empty file")
    return _article(text, source_path)


# --- JSON and JSONL records ---------------------------------------------------------------

JSON_MAX_DEPTH = 100
"""How deep JSON may nest: records and ClaimReview feeds need a handful of levels, and
``json.loads`` recurses once per level, so a deeper document is refused before it is parsed."""
# A whole string (escapes included, unrolled so no backtracking), a bracket or a comma.
_JSON_STRING_OR_BRACKET = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},]')


class JSONTooDeep(json.JSONDecodeError):
    """A JSON document nested deeper than ``JSON_MAX_DEPTH``: bad input, like any invalid JSON."""


def load_json(text: str, max_depth: int = JSON_MAX_DEPTH) -> Any:
    """``json.loads`` for untrusted text: the nesting depth is counted first, without recursion,
    and a document deeper than ``max_depth`` raises ``JSONTooDeep`` (a ``JSONDecodeError``
    whose position is the bracket that went too deep) instead of a ``RecursionError``."""
    if text.count("[") + text.count("{") > max_depth:
        depth, record, in_list = 0, 1, text.lstrip().startswith("[")
        for match in _JSON_STRING_OR_BRACKET.finditer(text):
            token = match.group()
            if token in ("[", "{"):
                depth += 1
                if depth > max_depth:
                    where = f" in record {record}" if in_list else ""
                    raise JSONTooDeep(f"nested deeper than {max_depth} levels{where}", text, match.start())
            elif token in ("]", "}"):
                depth -= 1
            elif token == "," and depth == 1:
                record += 1
    return json.loads(text)


def _records_from_json(raw: str, source_path: str) -> Iterator[Article | SkippedInput]:
    try:
        document = load_json(raw)
    except json.JSONDecodeError as error:
        yield SkippedInput(source_path=source_path, record_id=None, reason=_json_error_reason(error))
        return
    yield from _records_from_document(document, source_path)


def _records_from_document(document: Any, source_path: str) -> Iterator[Article | SkippedInput]:
    if isinstance(document, list):
        if not document:
            yield SkippedInput(source_path=source_path, record_id=None, reason="JSON list without records")
        for number, record in enumerate(document, start=1):
            yield _article_from_record(record, source_path, f"record {number}")
    elif isinstance(document, dict):
        yield _article_from_record(document, source_path, "")
    else:
        reason = f"JSON is neither a record nor a list of records (got {_json_type(document)})"
        yield SkippedInput(source_path=source_path, record_id=None, reason=reason)


def _read_jsonl_file(file: _Readable, path: str, max_bytes: int) -> Iterator[Article | SkippedInput]:
    head = file.peek(8192)[:8192]
    if not head:
        raise InputError(path, "empty file")
    _refuse_binary(head, path)
    if _bom_codec(head)[0] in ("utf-16", "utf-32"):
        # Rare enough to read whole: its lines cannot be split on the b"\n" byte.
        lines = _decode(_read_limited(file, path, max_bytes), path).split("\n")
        yield from _records_from_lines(enumerate(lines, start=1), path)
        return
    if b"\x00" in head:
        raise InputError(path, "binary file (contains NUL bytes)")
    yield from _records_from_lines(_jsonl_lines(file, path, max_bytes), path)


def _jsonl_lines(file: _Readable, path: str, max_bytes: int) -> Iterator[tuple[int, str | SkippedInput]]:
    """Number and decode each line of a JSONL file, holding one line in memory at a time."""
    offset = 0
    try:
        for number, line, consumed in _bounded_lines(file.readline, max_bytes):
            if line is None:
                yield number, _overlong_line(path, number, max_bytes)
                offset += consumed
                continue
            try:
                yield number, line.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as error:
                reason = f"not valid UTF-8 at byte {offset + error.start} (line {number})"
                yield number, SkippedInput(source_path=path, record_id=None, reason=reason)
            offset += consumed
    except OSError as error:
        raise InputError(path, _os_error_reason(error, path)) from None


def _bounded_lines(
    readline: Callable[[int], AnyStr], max_bytes: int, first_number: int = 1
) -> Iterator[tuple[int, AnyStr | None, int]]:
    """``(number, line, length)`` per line; ``line`` is None for one over ``max_bytes``, whose
    rest is read past in chunks so that no line is ever held whole beyond the limit."""
    number = first_number
    while line := readline(max_bytes + 1):
        consumed = len(line)
        if consumed > max_bytes and line[-1:] not in ("\n", b"\n"):
            while line[-1:] not in ("\n", b"\n") and (line := readline(1 << 20)):
                consumed += len(line)
            yield number, None, consumed
        else:
            yield number, line, consumed
        number += 1


def _overlong_line(source_path: str, number: int, max_bytes: int) -> SkippedInput:
    reason = f"JSONL line over {_size_text(max_bytes)} limit (line {number})"
    return SkippedInput(source_path=source_path, record_id=None, reason=reason)


def _records_from_lines(lines: Iterable[tuple[int, str | SkippedInput]], source_path: str) -> Iterator[Article | SkippedInput]:
    any_line = False
    for number, line in lines:
        if isinstance(line, SkippedInput):
            any_line = True
            yield line
            continue
        if not line.strip():
            continue
        any_line = True
        try:
            # Without its line break: a string cut off at the line end is "unterminated", not a control character.
            record = load_json(line.rstrip("\r\n"))
        except json.JSONDecodeError as error:
            reason = f"invalid JSON at line {number}: {error.msg} (column {error.colno})"
            yield SkippedInput(source_path=source_path, record_id=None, reason=reason)
            continue
        yield _article_from_record(record, source_path, f"line {number}")
    if not any_line:
        yield SkippedInput(source_path=source_path, record_id=None, reason="empty file")


def _article_from_record(record: Any, source_path: str, where: str) -> Article | SkippedInput:
    """One JSON record to an article; ``where`` ("line 3", "record 2" or "") locates it in reasons."""
    located = f" ({where})" if where else ""
    if not isinstance(record, dict):
        reason = f"JSON record is not an object (got {_json_type(record)}){located}"
        return SkippedInput(source_path=source_path, record_id=None, reason=reason)
    fields: dict[str, str | None] = {}
    problems: list[str] = []
    for name in _RECORD_FIELDS:
        value = record.get(name)
        if value is None:
            fields[name] = None
        elif isinstance(value, str):
            fields[name] = value.strip() or None
        elif isinstance(value, int | float):  # bool is an int: it becomes "true"/"false"
            fields[name] = json.dumps(value)
        else:
            problems.append(f"JSON field `{name}` must be a string or number, got {_json_type(value)}")
    record_id = fields.get("id")
    text = record.get("text")
    if "text" not in record or text is None:
        problems.insert(0, "JSON record without `text`")
    elif not isinstance(text, str):
        problems.insert(0, f"JSON field `text` must be a string, got {_json_type(text)}")
    else:
        text = normalise_text(text)
        if not text:
            problems.insert(0, "JSON record with empty `text`")
    if problems:
        return SkippedInput(source_path=source_path, record_id=record_id, reason="; ".join(problems) + located)
    assert isinstance(text, str), "a record without a usable text has problems"
    return _article(
        text,
        source_path,
        title=fields["title"],
        url=fields["url"],
        published=fields["published"],
        record_id=record_id,
        one_per_source=record_id is not None or not where,
    )


def _json_type(value: Any) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _json_error_reason(error: json.JSONDecodeError) -> str:
    return f"invalid JSON at line {error.lineno}: {error.msg} (column {error.colno})"


# --- stdin --------------------------------------------------------------------------------


def _read_stdin(stream: TextIO, max_bytes: int) -> Iterator[Article | SkippedInput]:
    """Records when stdin parses as JSONL (first line a JSON object) or JSON, else one text article.

    As for files, ``max_bytes`` caps each line of JSONL and the whole of anything else.
    """
    try:
        number, first = 1, stream.readline(max_bytes + 1)
        while first and not first.strip():
            number, first = number + 1, stream.readline(max_bytes + 1)
        if _is_json_object(first):
            rest = _bounded_lines(stream.readline, max_bytes, first_number=number + 1)
            lines = itertools.chain(
                [(number, first)],
                ((n, _overlong_line(_STDIN, n, max_bytes) if line is None else line) for n, line, _ in rest),
            )
            yield from _records_from_lines(lines, _STDIN)
            return
        whole = first + stream.read(max(0, max_bytes + 1 - len(first)))
    except UnicodeDecodeError as error:
        yield SkippedInput(source_path=_STDIN, record_id=None, reason=f"stdin is not valid text: {error.reason}")
        return
    if len(whole) > max_bytes or len(whole.encode("utf-8", "surrogatepass")) > max_bytes:
        yield SkippedInput(source_path=_STDIN, record_id=None, reason=f"stdin over {_size_text(max_bytes)} limit")
        return
    if whole.lstrip().startswith(("{", "[")):
        try:
            document = load_json(whole)
        except JSONTooDeep as error:
            yield SkippedInput(source_path=_STDIN, record_id=None, reason=_json_error_reason(error))
            return
        except json.JSONDecodeError:
            pass  # text that merely starts with a bracket
        else:
            yield from _records_from_document(document, _STDIN)
            return
    article = _article_from_text(whole, _STDIN)
    if isinstance(article, SkippedInput):
        article = SkippedInput(source_path=_STDIN, record_id=None, reason="empty stdin")
    yield article


def _is_json_object(line: str) -> bool:
    if not line.lstrip().startswith("{"):
        return False
    try:
        return isinstance(load_json(line), dict)
    except JSONTooDeep:
        return True  # a record too deep to read: JSONL, whose other lines are read
    except json.JSONDecodeError:
        return False
