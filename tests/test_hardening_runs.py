"""Red-team hardening (issue 13): runs, the store, sources and settings under hostile conditions.

Every test name starts with ``test_redteam_`` so ``scripts/red_team.py`` selects them with ``-k redteam``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.errors import RunLockedError
from pipeline.store import Store

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
