"""Run progress: a rich bar with rate and ETA on a terminal, a log line every N articles otherwise;
then the batch insight's phases (clusters, death register, fact-check matching, settled
verdicts), each with its own bar or a log line as it starts and ends.

Inputs are streamed, so a run does not know its total; on a terminal the command
passes an estimate (``sources.estimate_inputs``) and the bar shows rate, elapsed
time and ETA.
"""

from __future__ import annotations

import time
from datetime import datetime
from collections import Counter
from collections.abc import Callable

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

__all__ = ["RunProgress"]


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:.1f}/s" if task.speed else "-/s")


class RunProgress:
    """An ``on_outcome`` callback for ``run_batch`` that shows how far the run is."""

    def __init__(
        self,
        console: Console,
        *,
        total: int | None = None,
        every: int = 500,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.console = console
        self.total = total
        self.every = every
        self.counts: Counter[str] = Counter()
        self._clock = clock
        self._started = clock()
        self._bar: Progress | None = None
        self._phases: dict[str, TaskID] = {}

    def __enter__(self) -> RunProgress:
        self._started = self._clock()
        if self.console.is_terminal:
            self._bar = Progress(
                TextColumn("[bold]articles"),
                BarColumn(),
                MofNCompleteColumn(),
                _RateColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                TextColumn("{task.description}", markup=False),
                console=self.console,
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task("", total=self.total)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def phase(self, name: str, done: int, total: int) -> None:
        """An ``on_phase`` callback: the batch insight's ``name`` phase has ``done`` of ``total`` articles."""
        if self._bar is not None:
            if name not in self._phases:
                self._phases[name] = self._bar.add_task(name, total=total)
            self._bar.update(self._phases[name], completed=done, total=total, description=name)
        elif done == 0 or done == total:
            self.console.print(f"batch insight: {name} {'started' if done == 0 else 'done'} ({total} articles)", soft_wrap=True)

    def __call__(self, status: str, source: str, reason: str | None) -> None:
        self.counts[status] += 1
        if self._bar is not None:
            self._bar.update(self._task, advance=1, description=self._tally())
        elif self.done % self.every == 0:
            # A log file's line carries its moment, as the phase lines after the articles do.
            self.console.print(f"{datetime.now().astimezone().isoformat(timespec='seconds')} {self.line()}", soft_wrap=True)

    @property
    def done(self) -> int:
        return sum(self.counts.values())

    def line(self) -> str:
        """One log line: articles done, by status, and the rate."""
        elapsed = max(self._clock() - self._started, 1e-9)
        return f"{self.done} articles ({self._tally()}), {self.done / elapsed:.1f}/s"

    def _tally(self) -> str:
        return ", ".join(f"{self.counts[status]} {status}" for status in ("ok", "cached", "failed", "skipped"))
