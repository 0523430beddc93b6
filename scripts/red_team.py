"""Run every red-team test of issue 13 (hardening) and print held/broke counts per cause.

    .venv/bin/python scripts/red_team.py [extra pytest arguments]

The red-team tests are the tests named ``test_redteam_*`` (``pytest -k redteam``). Each case
(a parametrised test counts once per parameter) held when it passed and broke when it failed or
errored. A test names its cause with ``@pytest.mark.cause(N)``; a test without the mark is
placed by the words of its name (``_BY_NAME``), else listed as unplaced. The exit status is 0
when every case held, 1 otherwise.
"""

from __future__ import annotations

import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

CAUSES = {
    1: "the run lock is a PID check",
    2: "a failed database write drops a paid answer",
    3: "CSV export writes formulas",
    4: "rate-limit waits have no cap",
    5: "terminal markup and control sequences from data",
    6: "super-linear offline analysis",
    7: "disk full",
    8: "ClaimReview export unsafe to embed",
    9: "export picks the newest result by the clock",
    10: "SIGTERM kills at once",
    11: "read commands on a bad database",
    12: "a key or base URL with whitespace",
    13: "a run that finds nothing exits 0",
    14: "a file still being written is analysed",
    15: "unsupported files ignored silently",
    16: "settings not validated",
    17: "report edge cases",
    18: "--max-cost overshoots",
    19: "an empty batch collect records a run",
}
# For tests that carry no cause mark: the first pattern their name matches.
_BY_NAME = [
    (re.compile(r"lock|pid|namespace"), 1),
    (re.compile(r"journal|paid|database_write|busy|recover"), 2),
    (re.compile(r"disk_full|no_space|enospc"), 7),
    (re.compile(r"sigterm|signal"), 10),
    (re.compile(r"read_only|readonly|corrupt|bad_database|wrong_db|read_command"), 11),
    (re.compile(r"finds_no|nothing_to_analyse|allow_empty|empty_run"), 13),
    (re.compile(r"still_being_written|supersede|temporary|changed_content"), 14),
    (re.compile(r"gzip|unsupported|skipped"), 15),
    (re.compile(r"setting|toml|concurrency|timeout|log_every"), 16),
    (re.compile(r"max_cost|budget|overshoot"), 18),
    (re.compile(r"collect"), 19),
]


class _Tally:
    """A pytest plugin that records each red-team case's cause and outcome."""

    def __init__(self) -> None:
        self.cause: dict[str, int | None] = {}
        self.outcome: dict[str, str] = {}

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            mark = item.get_closest_marker("cause")
            name = item.name.lower()
            by_name = next((cause for pattern, cause in _BY_NAME if pattern.search(name)), None)
            self.cause[item.nodeid] = int(mark.args[0]) if mark else by_name

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed:
            self.outcome[report.nodeid] = "broke"
        elif report.skipped:
            self.outcome.setdefault(report.nodeid, "skipped")
        elif report.when == "call":
            self.outcome.setdefault(report.nodeid, "held")


def main(argv: list[str]) -> int:
    tally = _Tally()
    status = pytest.main(["-q", "-p", "no:cacheprovider", "-k", "redteam", str(ROOT / "tests"), *argv], plugins=[tally])
    if status not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        print(f"red team: pytest could not run the tests (exit {int(status)})")
        return 1
    counts: dict[int | None, Counter[str]] = defaultdict(Counter)
    for nodeid, outcome in tally.outcome.items():
        counts[tally.cause.get(nodeid)][outcome] += 1
    print("\nred team, issue 13: cases held / broke per cause")
    for cause in sorted(counts, key=lambda number: (number is None, number or 0)):
        title = CAUSES.get(cause, "unknown cause") if cause is not None else "not placed (no cause mark)"
        tallied = counts[cause]
        skipped = f", {tallied['skipped']} skipped" if tallied["skipped"] else ""
        label = f"{cause:>2}" if cause is not None else " ?"
        print(f"  cause {label}  {title:48} held {tallied['held']:3}  broke {tallied['broke']:3}{skipped}")
    untested = sorted(set(CAUSES) - set(counts))
    held = sum(tallied["held"] for tallied in counts.values())
    broke = sum(tallied["broke"] for tallied in counts.values())
    print(
        f"all: {held} held, {broke} broke, {len(counts)} causes tested"
        + (f"; no red-team test for cause {', '.join(map(str, untested))}" if untested else "")
    )
    return 0 if broke == 0 and held else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
