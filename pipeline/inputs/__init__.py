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

import gzip
import os
import sys
import zlib
from collections.abc import Callable, Iterator, Sequence
from typing import TextIO, overload

from pipeline.errors import InputError
from pipeline.models import Article, SkippedInput
from pipeline.inputs.files import (
    FOLDER_SUFFIXES,
    FileRead,
    FileStamp,
    UnchangedFile,
    _Readable,
    _STDIN,
    _TEMPORARY_REASON,
    _expand,
    _format,
    _open,
    _read_limited,
    _wait_until_settled,
    InFolder,
    _stamp,
    _temporary,
)
from pipeline.inputs.formats import _article_from_text, _decode, _read_jsonl_file, _read_stdin, _records_from_json
from pipeline.inputs.html import _article_from_html, _decode_html
from pipeline.inputs.files import TEMPORARY_SUFFIXES, estimate_inputs
from pipeline.inputs.formats import JSON_MAX_DEPTH, JSONTooDeep, article_id, load_json, normalise_text

__all__ = [
    "FOLDER_SUFFIXES",
    "TEMPORARY_SUFFIXES",
    "FileStamp",
    "UnchangedFile",
    "FileRead",
    "normalise_text",
    "load_json",
    "JSON_MAX_DEPTH",
    "JSONTooDeep",
    "article_id",
    "iter_articles",
    "estimate_inputs",
]

_HTML_SUFFIXES = frozenset({".html", ".htm"})


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

    A file named like a temporary file is skipped as still being written. A file found in a
    folder and modified less than ``min_file_age`` seconds ago is waited for (at most that
    long) and skipped only if it changes meanwhile: the next run reads it whole. A file named
    (or matched by a glob) is read at once: whoever named it knows it is there.

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


# --- reading one file ---------------------------------------------------------------------


def _read_file(path: str, max_bytes: int, min_file_age: float = 0.0) -> Iterator[Article | SkippedInput]:
    if _temporary(os.path.basename(path)):
        raise InputError(path, _TEMPORARY_REASON)
    suffix, compressed = _format(os.path.basename(path))
    with _open(path) as raw:
        if isinstance(path, InFolder):
            _wait_until_settled(raw, path, min_file_age)
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
