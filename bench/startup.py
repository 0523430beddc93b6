"""Start-up wall time of the command line, beside the floor of importing typer alone.

    .venv/bin/python bench/startup.py [--runs 7]

Prints the median of several runs, each in a fresh subprocess, of ``pipeline --help``,
``pipeline worklist --db <a small store this script makes>`` and ``python -c "import typer"``
(target: under 0.5 s for the first two).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 0.5


def _median_wall(command: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    # The console script beside this interpreter, as a user runs it.
    pipeline = [str(Path(sys.executable).parent / "pipeline")]
    with tempfile.TemporaryDirectory(prefix="startup-") as folder:
        db = str(Path(folder) / "small.db")
        subprocess.run(
            [*pipeline, "run", str(ROOT / "seeds"), "--engine", "offline", "--db", db],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
        )
        figures = {
            "pipeline --help": _median_wall([*pipeline, "--help"], args.runs),
            "pipeline worklist --db small.db": _median_wall([*pipeline, "worklist", "--db", db], args.runs),
            'python -c "import typer"': _median_wall([sys.executable, "-c", "import typer"], args.runs),
        }
    print(f"(median of {args.runs} runs each; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    for what, seconds in figures.items():
        verdict = "" if "typer" in what else f" (target < {TARGET_S} s) {'MET' if seconds < TARGET_S else 'MISSED'}"
        print(f"{what:34} {seconds:.2f} s{verdict}")


if __name__ == "__main__":
    main()
