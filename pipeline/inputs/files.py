"""Finding inputs: paths, folders (walked in sorted order), globs and stdin; each file's stamp
(size, modification and change times, inode) and the raw, size-limited bytes of one file."""

from __future__ import annotations

import gzip
import io
import os
import stat
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from glob import glob
from pathlib import Path
from typing import NamedTuple


from pipeline.errors import InputError
from pipeline.models import SkippedInput


__all__ = ["FOLDER_SUFFIXES", "TEMPORARY_SUFFIXES", "FileStamp", "UnchangedFile", "FileRead", "estimate_inputs"]

FOLDER_SUFFIXES = frozenset({".txt", ".md", ".html", ".htm", ".json", ".jsonl"})
"""The extensions read from inside folders, each also gzip-compressed (``.jsonl.gz``; a bare ``.gz``
is text); an explicitly named file is read whatever its name."""

TEMPORARY_SUFFIXES = (".tmp", ".temp", ".part", ".partial", ".crdownload", ".download", ".filepart", ".swp", "~")
"""Names of files still being written (downloads, editors, copy tools): skipped, never read, even when named."""
_Readable = io.BufferedReader | gzip.GzipFile
_STDIN = "-"


class FileStamp(NamedTuple):
    """What ``stat`` says of a file; a file whose stamp has not changed is taken to be unchanged.

    ``ctime_ns`` is the one part users cannot set: ``rsync -t``, ``cp -p`` and ``tar x`` restore
    the mtime of a rewritten file, and a new file may reuse an inode, but any write moves the
    inode change time to the present."""

    size: int
    mtime_ns: int
    inode: int
    ctime_ns: int


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


def _stamp(path: str) -> FileStamp | None:
    """The stamp of a regular file, or None (not one, or gone: reading it will say why)."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(status.st_mode):
        return None
    return FileStamp(status.st_size, status.st_mtime_ns, status.st_ino, status.st_ctime_ns)


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
    roots = _input_roots(paths)
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
            for found in _walk(match, roots) if os.path.isdir(match) else [match]:
                if isinstance(found, str):
                    key = os.path.normpath(found)
                    if key in seen:
                        continue
                    seen.add(key)
                yield found


def _input_roots(paths: Sequence[str]) -> tuple[str, ...]:
    """The real paths of the named inputs (glob matches count as named): where a link found
    in a folder may lead."""
    named = (match for path in paths if path != _STDIN for match in (glob(path, recursive=True) or [path]))
    return tuple(os.path.realpath(path) for path in named if os.path.lexists(path))


def _outside(link: str, roots: tuple[str, ...]) -> bool:
    target = os.path.realpath(link)
    return not any(target == root or target.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


class InFolder(str):
    """A file found in a folder (an inbox others write to), not named on the command line: it
    is read only once it has been unchanged for the minimum file age."""


def _walk(folder: str, roots: tuple[str, ...]) -> Iterator[str | SkippedInput]:
    """Files under ``folder`` with a known suffix, depth first in name order; every other file
    is a ``SkippedInput`` saying why, so no nightly input vanishes unseen.

    Hidden entries (``.git``, editor backups) and ``README`` files (a folder's own
    documentation, not an article) are left out, and symlinked folders are not entered,
    so a link cycle cannot loop the batch. A symlinked file is read only when it leads to a
    file inside ``roots`` (the named inputs): a link dropped in an inbox must not send
    ``/etc/passwd`` or a home folder's files to the provider.
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
            yield from _walk(entry.path, roots)
        elif _is_dir_link(entry):
            yield SkippedInput(source_path=entry.path, record_id=None, reason="symlinked folder, not followed")
        elif entry.is_symlink() and _outside(entry.path, roots):
            reason = "symlink to a file outside the named inputs, not followed"
            yield SkippedInput(source_path=entry.path, record_id=None, reason=reason)
        elif _temporary(entry.name):
            yield SkippedInput(source_path=entry.path, record_id=None, reason=_TEMPORARY_REASON)
        elif _format(entry.name)[0] in FOLDER_SUFFIXES:
            yield InFolder(entry.path)
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


def _wait_until_settled(file: _Readable, path: str, min_file_age: float, sleep: Callable[[float], None] = time.sleep) -> None:
    """Wait, at most ``min_file_age`` seconds, until a file modified within that time (either way:
    clocks differ) has been unchanged for it; one that changes while waited for is still being
    written and is refused, for the next run to read whole."""
    before = os.fstat(file.fileno())
    age = time.time() - before.st_mtime
    if abs(age) >= min_file_age:
        return
    sleep(min_file_age - age if age >= 0 else min_file_age)
    after = os.fstat(file.fileno())
    if (after.st_mtime_ns, after.st_size) != (before.st_mtime_ns, before.st_size):
        raise InputError(
            path,
            f"changed while waited for {min_file_age:g} s, still being written? "
            "(read once unchanged for PIPELINE_MIN_FILE_AGE seconds)",
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
