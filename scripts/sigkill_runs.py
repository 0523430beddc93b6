"""SIGKILL real ``pipeline run`` processes at random moments and check the database after each.

    .venv/bin/python scripts/sigkill_runs.py [--kills 20] [--articles 4000] [--seed 0]

Each round starts ``pipeline run`` (offline engine) on a folder of distinct small articles,
waits until it has stored a new result, sleeps a random moment and kills it with SIGKILL. After
every kill ``PRAGMA integrity_check`` must say ``ok`` and no ``ok`` outcome may lack its result
(an outcome and its result share one transaction). A final run then completes the rest, and
every article must be ``ok`` or ``cached`` exactly once with exactly one result row.
tests/test_durability.py runs a three-kill version of the same rounds.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

__all__ = ["KillRound", "FinalCheck", "write_articles", "start_run", "kill_rounds", "final_check", "main"]

_POLL_SECONDS = 0.01
_START_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class KillRound:
    """What one SIGKILL left behind."""

    delay_s: float
    results_before: int
    results_after: int
    integrity: str
    ok_without_result: int
    exited_before_kill: bool


@dataclass(frozen=True)
class FinalCheck:
    """The run after the kills: what it did, and what the database holds."""

    exit_code: int
    analysed: int
    cached: int
    outcomes_per_file: Counter[str]
    result_rows: int
    distinct_articles: int
    integrity: str


def write_articles(folder: Path, count: int) -> list[Path]:
    """``count`` distinct small news articles, one file each."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(count):
        path = folder / f"article-{number:05d}.txt"
        path.write_text(
            f"RIVERTON (Wire) - Bridge {number} reopened on Monday after repairs, the city said. "
            f'"We finished span {number} two weeks early," said Maria Lopez, the city engineer.\n',
            encoding="utf-8",
        )
        paths.append(path)
    return paths


def start_run(folder: Path, db: Path) -> subprocess.Popen:
    """``pipeline run FOLDER`` with the offline engine, from the venv this Python runs in."""
    pipeline = shutil.which("pipeline", path=str(Path(sys.executable).parent))
    if pipeline is None:
        raise SystemExit(f"no `pipeline` command beside {sys.executable}: run `pip install -e .` first")
    return subprocess.Popen(
        [pipeline, "run", str(folder), "--db", str(db), "--engine", "offline"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # The articles were written whole before the first run: none is still being written.
        env={**os.environ, "PIPELINE_MIN_FILE_AGE": "0"},
    )


def _count(db: Path, query: str) -> int:
    with sqlite3.connect(db, timeout=30) as connection:
        try:
            return connection.execute(query).fetchone()[0]
        except sqlite3.OperationalError:  # the schema is not written yet
            return 0


def _integrity(db: Path) -> str:
    with sqlite3.connect(db, timeout=30) as connection:
        return "; ".join(row[0] for row in connection.execute("PRAGMA integrity_check"))


def _wait_for_a_result(process: subprocess.Popen, db: Path, results_before: int) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_SECONDS
    while process.poll() is None and time.monotonic() < deadline:
        if db.exists() and _count(db, "SELECT COUNT(*) FROM result") > results_before:
            return
        time.sleep(_POLL_SECONDS)


def kill_rounds(folder: Path, db: Path, kills: int, rng: random.Random, max_delay_s: float = 0.3) -> list[KillRound]:
    """Start and SIGKILL a run ``kills`` times, a random moment after it stored its first new result."""
    rounds = []
    for _ in range(kills):
        results_before = _count(db, "SELECT COUNT(*) FROM result") if db.exists() else 0
        process = start_run(folder, db)
        _wait_for_a_result(process, db, results_before)
        delay = rng.uniform(0, max_delay_s)
        time.sleep(delay)
        exited = process.poll() is not None
        process.send_signal(signal.SIGKILL)
        process.wait()
        rounds.append(
            KillRound(
                delay_s=delay,
                results_before=results_before,
                results_after=_count(db, "SELECT COUNT(*) FROM result"),
                integrity=_integrity(db),
                ok_without_result=_count(
                    db,
                    "SELECT COUNT(*) FROM outcome o WHERE o.status = 'ok' AND NOT EXISTS "
                    "(SELECT 1 FROM result r WHERE r.cache_key = o.cache_key)",
                ),
                exited_before_kill=exited,
            )
        )
    return rounds


def final_check(folder: Path, db: Path) -> FinalCheck:
    """Run to completion and count what the last run did and what the database holds."""
    exit_code = start_run(folder, db).wait()
    with sqlite3.connect(db, timeout=30) as connection:
        [run_id] = connection.execute("SELECT MAX(run_id) FROM run").fetchone()
        outcomes = connection.execute("SELECT source_path, status FROM outcome WHERE run_id = ?", (run_id,)).fetchall()
        result_rows, distinct_articles = connection.execute("SELECT COUNT(*), COUNT(DISTINCT article_id) FROM result").fetchone()
    statuses = Counter(status for _, status in outcomes)
    return FinalCheck(
        exit_code=exit_code,
        analysed=statuses["ok"],
        cached=statuses["cached"],
        outcomes_per_file=Counter(path for path, _ in outcomes),
        result_rows=result_rows,
        distinct_articles=distinct_articles,
        integrity=_integrity(db),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--articles", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=0)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder, db = Path(scratch) / "articles", Path(scratch) / "kills.db"
        write_articles(folder, options.articles)
        rounds = kill_rounds(folder, db, options.kills, random.Random(options.seed))
        for number, kill in enumerate(rounds, start=1):
            print(
                f"kill {number:2d}: after {kill.delay_s:.3f}s, results {kill.results_before} -> {kill.results_after}, "
                f"integrity {kill.integrity}, ok outcomes without result {kill.ok_without_result}"
                + (" (the run had already ended)" if kill.exited_before_kill else "")
            )
        final = final_check(folder, db)
    survived = sum(kill.integrity == "ok" and not kill.ok_without_result for kill in rounds)
    repeated = sum(count != 1 for count in final.outcomes_per_file.values())
    lost = options.articles - final.distinct_articles
    print(f"kills survived: {survived}/{len(rounds)} (killed mid-run: {sum(not k.exited_before_kill for k in rounds)})")
    print(
        f"final run: exit {final.exit_code}, {final.analysed} analysed, {final.cached} cached, "
        f"files not seen exactly once: {repeated}; integrity {final.integrity}"
    )
    print(f"results: {final.result_rows} rows for {final.distinct_articles} articles of {options.articles}; lost: {lost}")
    clean = survived == len(rounds) and final.exit_code == 0 and not repeated and not lost
    clean = clean and final.result_rows == options.articles and final.integrity == "ok"
    sys.exit(0 if clean else 1)


if __name__ == "__main__":
    main()
