"""Opening the pipeline's database: checked, upgraded in place, in WAL mode; and its transactions.

A write connection runs the schema steps (``schema.MIGRATIONS``) the file lacks, each in
its own transaction; a read-only one opens an existing file at the current version and
never creates or changes one.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from pipeline.errors import StoreError
from pipeline.store.schema import MIGRATIONS, SCHEMA_VERSION

__all__ = ["BUSY_TIMEOUT_S", "Transaction", "connect"]

BUSY_TIMEOUT_S = 30.0


def connect(path: Path, *, read_only: bool = False, create: bool = True) -> sqlite3.Connection:
    """Open (and create, and upgrade) the database at ``path``; ``read_only``: open an existing
    one only to read it; ``create`` False: open an existing one only (to read it or to record
    the desk's work on it). Rows come back as ``sqlite3.Row``; StoreError when it cannot be opened."""
    if read_only or not create:
        _check_exists(path)
    try:
        if read_only:
            db = _open_read_only(path)
        else:
            db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            _migrate(db, path)
        db.row_factory = sqlite3.Row
    except sqlite3.Error as error:
        raise StoreError(f"{path}: cannot open the database ({error})") from None
    return db


class Transaction:
    """A write: committed on success, rolled back on an exception. With the store's ``path``, a
    write SQLite refuses (disk full, busy past the timeout) is a StoreError naming the cause."""

    def __init__(self, db: sqlite3.Connection, begin: str, path: Path | None = None):
        self.db = db
        self.begin = begin
        self.path = path

    def __enter__(self) -> None:
        try:
            self.db.execute(self.begin)
        except sqlite3.OperationalError as error:
            raise self._refused(error) from None

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self.db.execute("COMMIT" if exc_type is None else "ROLLBACK")
        except sqlite3.OperationalError as error:
            if exc_type is None:
                raise self._refused(error) from None
            # The rollback failed too (SQLite may have rolled back itself): the first error says why.
        if isinstance(exc, sqlite3.OperationalError):
            raise self._refused(exc) from None

    def _refused(self, error: sqlite3.OperationalError) -> Exception:
        return error if self.path is None else _write_error(self.path, error)


def _write_error(path: Path, error: sqlite3.Error) -> StoreError:
    message = str(error)
    if "full" in message:
        why = "the disk is full (free space, then re-run)"
    elif "locked" in message or "busy" in message:
        why = f"another process held the database longer than the {BUSY_TIMEOUT_S:g} s busy timeout"
    else:
        why = message
    return StoreError(f"{path}: cannot write: {why} ({message})")


def _open_read_only(path: Path) -> sqlite3.Connection:
    """A connection that can only read ``path``: ``mode=ro``, or, on a read-only mount where
    SQLite cannot create the WAL index beside it, ``immutable=1`` (nothing can write there)."""
    uri = path.resolve().as_uri()
    # A file whose header claims WAL makes SQLite create the WAL index beside it even read-only;
    # a read that fails must leave behind no file it made.
    made = [Path(f"{path}{suffix}") for suffix in ("-wal", "-shm") if not Path(f"{path}{suffix}").exists()]
    try:
        try:
            db = _checked(sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None), path)
        except sqlite3.OperationalError:
            if os.access(path.parent, os.W_OK):
                raise
            db = _checked(sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, isolation_level=None), path)
    except sqlite3.Error:
        for leftover in made:
            leftover.unlink(missing_ok=True)
        raise
    return db


def _check_exists(path: Path) -> None:
    """A command that reads never creates a database: a missing or mistyped ``--db`` is an error."""
    if not path.exists():
        raise StoreError(f"{path}: no database there (check --db; `pipeline run` creates one)")
    if path.is_dir():
        raise StoreError(f"{path}: a folder, not a database (check --db)")


def _checked(db: sqlite3.Connection, path: Path) -> sqlite3.Connection:
    """Read the schema version, which fails on a file that is no SQLite database; refuse any other version."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    if version != SCHEMA_VERSION:
        db.close()
        newer = (
            "newer than this pipeline's: upgrade pipeline"
            if version > SCHEMA_VERSION
            else "older than this pipeline's: run `pipeline run` once to upgrade it"
        )
        raise StoreError(f"{path}: schema version {version} is {newer} ({SCHEMA_VERSION})")
    return db


def _migrate(db: sqlite3.Connection, path: Path) -> None:
    """Run the schema steps this database lacks, each in its own transaction."""
    while (version := db.execute("PRAGMA user_version").fetchone()[0]) != SCHEMA_VERSION:
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{path}: schema version {version} is newer than this pipeline's ({SCHEMA_VERSION}): upgrade pipeline"
            )
        with Transaction(db, "BEGIN IMMEDIATE"):
            # Another process may have run the step while this one waited for the lock.
            if db.execute("PRAGMA user_version").fetchone()[0] == version:
                for statement in _statements(MIGRATIONS[version]):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {version + 1}")


def _statements(script: str) -> Iterator[str]:
    """The statements of an SQL script, one at a time (``executescript`` would commit the transaction)."""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            yield statement
            statement = ""
    if statement.strip():
        yield statement
