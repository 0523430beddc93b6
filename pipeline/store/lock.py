"""The run lock: one run at a time per database, held as an OS file lock beside it."""

from __future__ import annotations

import fcntl
import os
import socket
from pathlib import Path

from pipeline.errors import RunLockedError, StoreError

__all__ = ["RunLock"]


class RunLock:
    """The run lock: an OS file lock (``flock``) on ``<database>.lock``, beside the database.

    The kernel releases it when its holder exits, however it dies, and it holds
    across PID namespaces (two containers on one volume), where process ids say
    nothing. The file names the holder for the message a second run prints.
    """

    def __init__(self, path: Path, descriptor: int):
        self.path = path
        self.descriptor = descriptor
        self.run_id: int | None = None

    @classmethod
    def acquire(cls, database: Path) -> RunLock:
        path = database.with_name(database.name + ".lock")
        try:
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise StoreError(f"{path}: cannot open the run lock ({error.strerror or error})") from None
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(descriptor, 4096, 0).decode("utf-8", "replace").strip()
            os.close(descriptor)
            raise RunLockedError(
                f"{database}: another run holds the run lock {path} ({holder or 'holder not yet named'})"
            ) from None
        return cls(path, descriptor)

    def describe(self, run_id: int, since: str) -> None:
        """Name the holder in the lock file: run, process, host, since when."""
        self.run_id = run_id
        holder = f"run {run_id}, pid {os.getpid()} on {socket.gethostname()}, since {since}\n".encode()
        os.ftruncate(self.descriptor, 0)
        os.pwrite(self.descriptor, holder, 0)

    def release(self) -> None:
        # Emptied before unlocking: the file stays (deleting it would race a waiting run), the name goes.
        os.ftruncate(self.descriptor, 0)
        os.close(self.descriptor)
