"""Run every red-team test of the hardening issues (13, 23) and print held/broke counts per cause.

    .venv/bin/python scripts/red_team.py [--issue N] [extra pytest arguments]

The red-team tests are the tests named ``test_redteam_*`` (``pytest -k redteam``). Each case
(a parametrised test counts once per parameter) held when it passed and broke when it failed or
errored. A test names its cause with ``@pytest.mark.cause(N)`` (issue 13) or
``@pytest.mark.cause(N, issue=23)``; a test without the mark is placed in issue 13 by the
words of its name (``_BY_NAME``), else listed as unplaced. ``--issue N`` counts (and runs)
one issue's cases only. The exit status is 0 when every case held, 1 otherwise.
"""

from __future__ import annotations

import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

ISSUE_13 = {
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
ISSUE_23 = {
    1: "answers of an unexpected shape vanish articles",
    2: "deep JSON kills the night",
    3: "over 1,000 new deaths lose the register",
    4: "a malformed article URL breaks the morning",
    5: "token usage from the endpoint is trusted",
    6: "one feed article poisons the register",
    7: "the inbox index and walks trust what users set",
    8: "batch output lines are not checked",
    9: "desk commands create a database on a bad --db",
    10: "article text carries the prompt's id marks",
    11: "a replica serving another model fills the cache",
    12: "offsets index text no export carries",
    13: "the answer journal never forgets",
    14: "files keep what the terminal strips",
    15: "report and worklist show a running run as empty",
    16: "loose values",
}
CAUSES = {13: ISSUE_13, 23: ISSUE_23}
"""Each issue's causes by number."""
# A cause: (issue, number); None for a test placed nowhere.
Cause = tuple[int, int] | None
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

    def __init__(self, issue: int | None = None) -> None:
        self.issue = issue
        self.cause: dict[str, Cause] = {}
        self.outcome: dict[str, str] = {}

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        kept = []
        for item in items:
            cause = _cause_of(item)
            if self.issue is None or (cause is not None and cause[0] == self.issue):
                self.cause[item.nodeid] = cause
                kept.append(item)
        items[:] = kept

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed:
            self.outcome[report.nodeid] = "broke"
        elif report.skipped:
            self.outcome.setdefault(report.nodeid, "skipped")
        elif report.when == "call":
            self.outcome.setdefault(report.nodeid, "held")


def _cause_of(item: pytest.Item) -> Cause:
    mark = item.get_closest_marker("cause")
    if mark:
        return int(mark.kwargs.get("issue", 13)), int(mark.args[0])
    name = item.name.lower()
    return next(((13, cause) for pattern, cause in _BY_NAME if pattern.search(name)), None)


def main(argv: list[str]) -> int:
    issue = None
    if argv[:1] == ["--issue"] and len(argv) > 1:
        issue, argv = int(argv[1]), argv[2:]
    tally = _Tally(issue)
    status = pytest.main(["-q", "-p", "no:cacheprovider", "-k", "redteam", str(ROOT / "tests"), *argv], plugins=[tally])
    if status not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        print(f"red team: pytest could not run the tests (exit {int(status)})")
        return 1
    counts: dict[Cause, Counter[str]] = defaultdict(Counter)
    for nodeid, outcome in tally.outcome.items():
        counts[tally.cause.get(nodeid)][outcome] += 1
    for number in sorted(CAUSES) if issue is None else [issue]:
        _print_issue(number, counts)
    unplaced = counts.get(None)
    if unplaced:
        print(f"not placed (no cause mark): held {unplaced['held']}, broke {unplaced['broke']}")
    held = sum(tallied["held"] for tallied in counts.values())
    broke = sum(tallied["broke"] for tallied in counts.values())
    print(f"all: {held} held, {broke} broke")
    return 0 if broke == 0 and held else 1


def _print_issue(issue: int, counts: dict[Cause, Counter[str]]) -> None:
    causes = CAUSES[issue]
    print(f"\nred team, issue {issue}: cases held / broke per cause")
    tested = sorted(number for placed in counts if placed is not None and placed[0] == issue for number in [placed[1]])
    for number in tested:
        tallied = counts[(issue, number)]
        skipped = f", {tallied['skipped']} skipped" if tallied["skipped"] else ""
        title = causes.get(number, "unknown cause")
        print(f"  cause {number:>2}  {title:48} held {tallied['held']:3}  broke {tallied['broke']:3}{skipped}")
    held = sum(counts[(issue, number)]["held"] for number in tested)
    broke = sum(counts[(issue, number)]["broke"] for number in tested)
    untested = sorted(set(causes) - set(tested))
    print(
        f"issue {issue}: {held} held, {broke} broke, {len(tested)} causes tested"
        + (f"; no red-team test for cause {', '.join(map(str, untested))}" if untested else "")
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
