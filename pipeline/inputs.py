"""Reading inputs: files, folders, globs and stdin become ``Article`` records.

Every input that cannot be read becomes a ``SkippedInput`` with a reason a person
can act on, and iteration goes on: one bad file never stops a nightly batch.

Where an article came from:

- ``source_path`` is the path as found (``-`` for stdin).
- ``record_id`` is the record's own ``id`` (as a string) for JSON and JSONL input,
  and ``None`` otherwise or when the record has none. Line and record numbers are
  not ids, so they are never put there; the reason of a skipped record names
  them instead ("... (line 3)", "... (record 2)").

Limits: ``max_bytes`` caps each file, except JSONL, which is streamed a line at a
time and where the cap applies to each line (each record) instead.

HTML: trafilatura extracts the main text (scripts, styles, iframes, navigation and
comment sections dropped) and the title, URL and date the page declares; a page
it finds nothing in falls back to plain tag stripping without the hidden parts.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import io
import itertools
import json
import os
import re
import stat
import sys
import time
import unicodedata
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from glob import glob
from pathlib import Path
from html.parser import HTMLParser
from typing import Any, AnyStr, NamedTuple, TextIO, overload

import trafilatura

from pipeline.errors import InputError
from pipeline.models import Article, SkippedInput

__all__ = [
    "FOLDER_SUFFIXES",
    "TEMPORARY_SUFFIXES",
    "FileStamp",
    "UnchangedFile",
    "FileRead",
    "normalise_text",
    "article_id",
    "iter_articles",
    "estimate_inputs",
]

FOLDER_SUFFIXES = frozenset({".txt", ".md", ".html", ".htm", ".json", ".jsonl"})
"""The extensions read from inside folders, each also gzip-compressed (``.jsonl.gz``; a bare ``.gz``
is text); an explicitly named file is read whatever its name."""

TEMPORARY_SUFFIXES = (".tmp", ".temp", ".part", ".partial", ".crdownload", ".download", ".filepart", ".swp", "~")
"""Names of files still being written (downloads, editors, copy tools): skipped, never read, even when named."""

_HTML_SUFFIXES = frozenset({".html", ".htm"})
_Readable = io.BufferedReader | gzip.GzipFile
_STDIN = "-"

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
_HTML_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
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


class FileStamp(NamedTuple):
    """What ``stat`` says of a file; a file whose stamp has not changed is taken to be unchanged."""

    size: int
    mtime_ns: int
    inode: int


@dataclass(frozen=True)
class UnchangedFile:
    """A file the ``unchanged`` check recognised: yielded instead of its articles, unopened."""

    source_path: str
    stamp: FileStamp


@dataclass(frozen=True)
class FileRead:
    """Yielded after the items of a file read while an ``unchanged`` check was given.

    ``complete``: every record became an article (none skipped), so its articles stand for the file.
    """

    source_path: str
    stamp: FileStamp
    complete: bool


@overload
def iter_articles(
    paths: Sequence[str],
    *,
    max_bytes: int = ...,
    stdin: TextIO | None = ...,
    min_file_age: float = ...,
    unchanged: None = ...,
) -> Iterator[Article | SkippedInput]: ...


@overload
def iter_articles(
    paths: Sequence[str],
    *,
    max_bytes: int = ...,
    stdin: TextIO | None = ...,
    min_file_age: float = ...,
    unchanged: Callable[[str, FileStamp], bool],
) -> Iterator[Article | SkippedInput | UnchangedFile | FileRead]: ...


def iter_articles(
    paths: Sequence[str],
    *,
    max_bytes: int = 10_000_000,
    stdin: TextIO | None = None,
    min_file_age: float = 0.0,
    unchanged: Callable[[str, FileStamp], bool] | None = None,
) -> Iterator[Article | SkippedInput | UnchangedFile | FileRead]:
    """Yield one ``Article`` per readable article and one ``SkippedInput`` per bad input, lazily.

    ``paths`` holds files, folders (read recursively, in sorted order, keeping only
    ``FOLDER_SUFFIXES``), glob patterns (their matches count as named) and ``-`` for
    ``stdin`` (``sys.stdin`` when not given), which is read as JSON or JSONL records
    when it parses as such and as plain text otherwise.

    A file modified less than ``min_file_age`` seconds ago, or named like a temporary
    file, is skipped as still being written: the next run reads it whole.

    With ``unchanged``, each file is stat'ed first (before it is read, so a change made
    while it is read shows next time): a file it accepts is yielded as one
    ``UnchangedFile`` and never opened; any other is read and followed by a ``FileRead``.
    """
    for path in _expand(paths):
        if isinstance(path, SkippedInput):
            yield path
        elif path == _STDIN:
            yield from _read_stdin(stdin if stdin is not None else sys.stdin, max_bytes)
        else:
            stamp = _stamp(path) if unchanged is not None else None
            if stamp is not None and unchanged is not None and unchanged(path, stamp):
                yield UnchangedFile(path, stamp)
                continue
            complete = True
            try:
                for item in _read_file(path, max_bytes, min_file_age):
                    complete = complete and isinstance(item, Article)
                    yield item
            except InputError as error:
                complete = False
                yield SkippedInput(source_path=path, record_id=None, reason=error.reason)
            if stamp is not None:
                yield FileRead(path, stamp, complete)


def _stamp(path: str) -> FileStamp | None:
    """The stamp of a regular file, or None (not one, or gone: reading it will say why)."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(status.st_mode):
        return None
    return FileStamp(status.st_size, status.st_mtime_ns, status.st_ino)


def estimate_inputs(paths: Sequence[str]) -> int | None:
    """About how many inputs ``iter_articles`` will yield, for a progress bar's ETA, without
    parsing anything: one per file, one per non-blank line of a JSONL file. None for stdin."""
    total = 0
    for path in _expand(paths):
        if path == _STDIN:
            return None
        if isinstance(path, str) and path.lower().endswith(".jsonl"):
            try:
                with open(path, "rb") as lines:
                    total += sum(1 for line in lines if line.strip())
            except OSError:
                total += 1
        else:
            total += 1
    return total


# --- finding the files ------------------------------------------------------------------


def _expand(paths: Sequence[str]) -> Iterator[str | SkippedInput]:
    """Each named path, folder member and glob match once, in the order given."""
    seen: set[str] = set()
    for named in paths:
        if named == _STDIN:
            if named not in seen:
                seen.add(named)
                yield named
            continue
        if os.path.lexists(named):
            matches = [named]
        elif any(char in named for char in "*?["):
            matches = sorted(glob(named, recursive=True))
            if not matches:
                yield SkippedInput(source_path=named, record_id=None, reason="no file matches the pattern")
        else:
            yield SkippedInput(source_path=named, record_id=None, reason="no such file or folder")
            continue
        for match in matches:
            for found in _walk(match) if os.path.isdir(match) else [match]:
                if isinstance(found, str):
                    key = os.path.normpath(found)
                    if key in seen:
                        continue
                    seen.add(key)
                yield found


def _walk(folder: str) -> Iterator[str | SkippedInput]:
    """Files under ``folder`` with a known suffix, depth first in name order; every other file
    is a ``SkippedInput`` saying why, so no nightly input vanishes unseen.

    Hidden entries (``.git``, editor backups) and ``README`` files (a folder's own
    documentation, not an article) are left out, and symlinked folders are not entered,
    so a link cycle cannot loop the batch.
    """
    try:
        with os.scandir(folder) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
    except OSError as error:
        yield SkippedInput(source_path=folder, record_id=None, reason=_os_error_reason(error))
        return
    for entry in entries:
        if entry.name.startswith(".") or entry.name.upper().startswith("README"):
            continue
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(entry.path)
        elif _is_dir_link(entry):
            yield SkippedInput(source_path=entry.path, record_id=None, reason="symlinked folder, not followed")
        elif _temporary(entry.name):
            yield SkippedInput(source_path=entry.path, record_id=None, reason=_TEMPORARY_REASON)
        elif _format(entry.name)[0] in FOLDER_SUFFIXES:
            yield entry.path
        else:
            suffix = "".join(Path(entry.name).suffixes[-2:]) or "no extension"
            yield SkippedInput(source_path=entry.path, record_id=None, reason=f"unsupported type ({suffix})")


_TEMPORARY_REASON = "temporary file (still being written?)"


def _temporary(name: str) -> bool:
    return name.lower().endswith(TEMPORARY_SUFFIXES)


def _format(name: str) -> tuple[str, bool]:
    """The format suffix of a file name and whether it is gzip-compressed: ``a.jsonl.gz`` is
    ``(".jsonl", True)``, a bare ``a.gz`` is text, ``(".txt", True)``."""
    stem, suffix = os.path.splitext(name.lower())
    if suffix != ".gz":
        return suffix, False
    return os.path.splitext(stem)[1] or ".txt", True


def _is_dir_link(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_symlink() and entry.is_dir()
    except OSError:
        return False


# --- reading one file ---------------------------------------------------------------------


def _read_file(path: str, max_bytes: int, min_file_age: float = 0.0) -> Iterator[Article | SkippedInput]:
    if _temporary(os.path.basename(path)):
        raise InputError(path, _TEMPORARY_REASON)
    suffix, compressed = _format(os.path.basename(path))
    with _open(path) as raw:
        _refuse_unsettled(raw, path, min_file_age)
        file: _Readable = gzip.GzipFile(fileobj=raw, mode="rb") if compressed else raw
        try:
            if suffix == ".jsonl":
                yield from _read_jsonl_file(file, path, max_bytes)
                return
            data = _read_limited(file, path, max_bytes)
        except (gzip.BadGzipFile, EOFError, zlib.error) as error:
            raise InputError(path, f"not a readable gzip file ({error})") from None
    if suffix == ".json":
        yield from _records_from_json(_decode(data, path), path)
    elif suffix in _HTML_SUFFIXES:
        yield _article_from_html(_decode_html(data, path), path)
    else:
        yield _article_from_text(_decode(data, path), path)


def _refuse_unsettled(file: _Readable, path: str, min_file_age: float) -> None:
    """A file modified within ``min_file_age`` seconds (either way: clocks differ) may be half-written."""
    age = time.time() - os.fstat(file.fileno()).st_mtime
    if abs(age) < min_file_age:
        raise InputError(
            path,
            f"modified {max(age, 0.0):.1f} s ago, still being written? "
            f"(read once unchanged for {min_file_age:g} s: PIPELINE_MIN_FILE_AGE)",
        )


def _open(path: str) -> io.BufferedReader:
    """Open a regular file for reading, turning every OS failure into a reason."""
    try:
        # O_NONBLOCK: opening a FIFO someone named must not hang the batch.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as error:
        raise InputError(path, _os_error_reason(error, path)) from None
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise InputError(path, "not a regular file")
    return os.fdopen(descriptor, "rb")


def _read_limited(file: _Readable, path: str, max_bytes: int) -> bytes:
    size = os.fstat(file.fileno()).st_size
    if size > max_bytes:
        raise InputError(path, f"file over {_size_text(max_bytes)} limit ({size} bytes)")
    try:
        data = file.read(max_bytes + 1)
    except OSError as error:
        raise InputError(path, _os_error_reason(error, path)) from None
    if len(data) > max_bytes:
        grew = "decompressed" if isinstance(file, gzip.GzipFile) else "grew while read"
        raise InputError(path, f"file over {_size_text(max_bytes)} limit ({grew})")
    if not data:
        raise InputError(path, "empty file")
    return data


def _os_error_reason(error: OSError, path: str | None = None) -> str:
    if isinstance(error, FileNotFoundError):
        if path is not None and os.path.islink(path):
            return "broken symlink"
        return "file vanished before it was read"
    if isinstance(error, PermissionError):
        return "permission denied"
    return f"cannot read: {error.strerror or error}"


def _size_text(size: int) -> str:
    return f"{size // 1_000_000} MB" if size % 1_000_000 == 0 else f"{size} bytes"


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


def _decode_html(data: bytes, path: str) -> str:
    """Decode HTML, honouring a declared legacy charset when the bytes are not UTF-8."""
    try:
        return _decode(data, path)
    except InputError as error:
        declared = _HTML_CHARSET.search(data[:4096])
        if declared is None or not error.reason.startswith("not valid"):
            raise
        try:
            return data.decode(declared.group(1).decode("ascii"))
        except (LookupError, UnicodeDecodeError):
            raise error from None


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


def _article_from_html(html: str, source_path: str) -> Article | SkippedInput:
    title: str | None = None
    url: str | None = None
    published: str | None = None
    text = ""
    try:
        document = trafilatura.bare_extraction(
            html,
            with_metadata=True,
            include_comments=False,
            prune_xpath=["//iframe", "//nav", "//noscript", "//template"],
            # Only dates the page declares: the extensive search guesses from any year in the text.
            date_extraction_params={"extensive_search": False},
        )
    except Exception:  # a parser crash on hostile HTML must cost one page, not the batch
        document = None
    if document is not None and not isinstance(document, dict):
        text = normalise_text(document.text or "")
        title, url, published = (_optional(value) for value in (document.title, document.url, document.date))
    if not text:
        text = normalise_text(_strip_tags(html))
    if not text:
        return SkippedInput(source_path=source_path, record_id=None, reason="no text found in HTML")
    return _article(text, source_path, title=title, url=url, published=published)


def _optional(value: str | None) -> str | None:
    return (value.strip() or None) if value else None


class _TagStripper(HTMLParser):
    """Last resort for pages trafilatura finds nothing in: visible text, one block a line."""

    _HIDDEN = frozenset({"script", "style", "iframe", "noscript", "template", "nav", "head", "svg", "object"})
    _BLOCKS = frozenset(
        {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "blockquote", "pre"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN:
            self._hidden_depth += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN:
            self._hidden_depth = max(0, self._hidden_depth - 1)
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden_depth:
            self.parts.append(data)


def _strip_tags(html: str) -> str:
    stripper = _TagStripper()
    stripper.feed(html)
    stripper.close()
    return "".join(stripper.parts)


# --- JSON and JSONL records ---------------------------------------------------------------


def _records_from_json(raw: str, source_path: str) -> Iterator[Article | SkippedInput]:
    try:
        document = json.loads(raw)
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
            record = json.loads(line.rstrip("\r\n"))
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
            document = json.loads(whole)
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
        return isinstance(json.loads(line), dict)
    except json.JSONDecodeError:
        return False
