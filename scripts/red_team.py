"""Run every red-team test (issues 13 and 23, hardening) and print held/broke counts per cause.

    .venv/bin/python scripts/red_team.py [--issue N] [extra pytest arguments]

The red-team tests are the tests named ``test_redteam_*`` (``pytest -k redteam``). Each case
(a parametrised test counts once per parameter) held when it passed and broke when it failed or
errored. A test names its cause with ``@pytest.mark.cause(N)`` (issue 13) or
``@pytest.mark.cause(N, issue=23)``; a test without the mark is placed by the words of its name
(``_BY_NAME``, issue 13), else listed as unplaced. ``--issue N`` counts one issue's causes only.
The exit status is 0 when every counted case held, 1 otherwise.
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
CAUSES_23 = {
    1: "an answer of unexpected shape: an article vanishes",
    2: "deep JSON kills the night",
    3: "over 1,000 new deaths lose the register",
    4: "a malformed article URL breaks the morning",
    5: "token usage from the endpoint is trusted",
    6: "one feed article poisons the register",
    7: "the inbox index and walks trust what users set",
    8: "Batch output lines are not checked",
    9: "desk commands create a database on a mistyped --db",
    10: "article text carries the prompt's id marks",
    11: "a replica serving another model fills the cache",
    12: "offsets index text no export carries",
    13: "the answer journal never forgets, loaded whole",
    14: "files keep what the terminal strips",
    15: "a running run shown as an empty night",
    16: "loose values",
}
ISSUES = {13: CAUSES, 23: CAUSES_23}
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


Place = tuple[int, int | None]  # (issue, cause)


class _Tally:
    """A pytest plugin that records each red-team case's issue, cause and outcome."""

    def __init__(self) -> None:
        self.place: dict[str, Place] = {}
        self.outcome: dict[str, str] = {}

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            mark = item.get_closest_marker("cause")
            name = item.name.lower()
            by_name = next((cause for pattern, cause in _BY_NAME if pattern.search(name)), None)
            issue = int(mark.kwargs.get("issue", 13)) if mark else 13
            self.place[item.nodeid] = (issue, int(mark.args[0]) if mark else by_name)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed:
            self.outcome[report.nodeid] = "broke"
        elif report.skipped:
            self.outcome.setdefault(report.nodeid, "skipped")
        elif report.when == "call":
            self.outcome.setdefault(report.nodeid, "held")


def _print_issue(issue: int, counts: dict[int | None, Counter[str]]) -> tuple[int, int]:
    causes = ISSUES[issue]
    print(f"\nred team, issue {issue}: cases held / broke per cause")
    for cause in sorted(counts, key=lambda number: (number is None, number or 0)):
        title = causes.get(cause, "unknown cause") if cause is not None else "not placed (no cause mark)"
        tallied = counts[cause]
        skipped = f", {tallied['skipped']} skipped" if tallied["skipped"] else ""
        label = f"{cause:>2}" if cause is not None else " ?"
        print(f"  cause {label}  {title:52} held {tallied['held']:3}  broke {tallied['broke']:3}{skipped}")
    untested = sorted(set(causes) - set(counts))
    held = sum(tallied["held"] for tallied in counts.values())
    broke = sum(tallied["broke"] for tallied in counts.values())
    print(
        f"issue {issue}: {held} held, {broke} broke, {len(counts)} causes tested"
        + (f"; no red-team test for cause {', '.join(map(str, untested))}" if untested else "")
    )
    return held, broke


def main(argv: list[str]) -> int:
    issues = sorted(ISSUES)
    if argv[:1] == ["--issue"] and len(argv) > 1 and argv[1].isdigit() and int(argv[1]) in ISSUES:
        issues, argv = [int(argv[1])], argv[2:]
    tally = _Tally()
    status = pytest.main(["-q", "-p", "no:cacheprovider", "-k", "redteam", str(ROOT / "tests"), *argv], plugins=[tally])
    if status not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        print(f"red team: pytest could not run the tests (exit {int(status)})")
        return 1
    counts: dict[Place, Counter[str]] = defaultdict(Counter)
    for nodeid, outcome in tally.outcome.items():
        counts[tally.place.get(nodeid, (13, None))][outcome] += 1
    held = broke = 0
    for issue in issues:
        issue_held, issue_broke = _print_issue(issue, {cause: c for (i, cause), c in counts.items() if i == issue})
        held, broke = held + issue_held, broke + issue_broke
    print(f"all: {held} held, {broke} broke")
    return 0 if broke == 0 and held else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
