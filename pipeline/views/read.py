"""How every door reads articles: settled (``pipeline.desk.settled``) once per read, the
filtering (by run, by reference, by article id, since a moment) done in SQL; and what a
morning read covers (``read_scope``): a night, by default tonight, a run, or every run since
a moment."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pipeline.desk.settled import SettledArticle, settle_results
from pipeline.errors import UsageError
from pipeline.settings import NightClock
from pipeline.store import Store, StoredResult, parse_since

__all__ = ["SettledArticle", "Scope", "read_settled", "read_scope", "tonight"]


def read_settled(
    store: Store,
    clock: NightClock,
    *,
    run_id: int | None = None,
    refs: Iterable[str] | None = None,
    article_ids: Iterable[str] | None = None,
    since: str | None = None,
) -> list[SettledArticle]:
    """The settled articles of one run, of these references (id or prefix, cache key, source
    path), of these article ids, or stored since a date or time (``parse_since``); with none of
    them, every current article's latest result."""
    if sum(given is not None for given in (run_id, refs, article_ids, since)) > 1:
        raise UsageError("read articles by one of: a run, references, article ids, a time since")
    results: Iterable[StoredResult]
    if run_id is not None:
        results = store.iter_results(run_id)
    elif refs is not None:
        results = list({r.cache_key: r for ref in refs for r in store.find_results(ref)}.values())
    elif article_ids is not None:
        results = store.latest_results(article_ids)
    elif since is not None:
        results = store.results_since(parse_since(since).astimezone(UTC).isoformat(timespec="milliseconds"))
    else:
        results = store.iter_results()
    return settle_results(store, results, clock)


def tonight(clock: NightClock) -> str:
    """The night now belongs to (YYYY-MM-DD): the one the morning after it reads."""
    return clock.night_of(datetime.now(UTC))


_CLOSED = ("finished", "stopped")


@dataclass(frozen=True)
class Scope:
    """What a morning read covers: its runs, its settled articles and those new in it (first
    seen in its night, or since its moment), whoever's run saw them first."""

    title: str
    runs: list[dict[str, Any]]
    articles: list[SettledArticle]
    new_ids: frozenset[str] = frozenset()
    run_id: int | None = None
    night: str | None = None

    @property
    def unfinished(self) -> list[dict[str, Any]]:
        """Its runs still running, or that died (interrupted, aborted) without closing."""
        return [run for run in self.runs if run["status"] not in _CLOSED]

    @property
    def warnings(self) -> list[str]:
        """One line per unfinished run: an unfinished night is never read as a quiet one."""
        return [
            f"run {run['run_id']} (started {run['started_at'][:16]}) "
            + (
                "has not finished: still running, or died without closing"
                if run["status"] == "running"
                else f"ended {run['status']}"
            )
            + ": this read is incomplete"
            for run in self.unfinished
        ]


def read_scope(
    store: Store,
    clock: NightClock,
    *,
    run_id: int | None = None,
    since: str | None = None,
    night: str | None = None,
) -> Scope:
    """The articles of one night (default: tonight, ``tonight``), every article first seen in
    it and every one its runs saw; of one run; or stored since a moment (``parse_since``)."""
    if sum(given is not None for given in (run_id, since, night)) > 1:
        raise UsageError("give one of --night, --run and --since, not both")
    if run_id is not None:
        run = store.run_summary(run_id)
        articles = read_settled(store, clock, run_id=run_id)
        run_night = clock.night_of(run["started_at"])
        new = frozenset(article.article_id for article in articles if article.night == run_night)
        return Scope(f"run {run_id}", [run], articles, new, run_id=run_id, night=run_night)
    if since is not None:
        moment = parse_since(since)
        runs = [run for run in store.runs(limit=-1) if datetime.fromisoformat(run["started_at"]) >= moment]
        articles = read_settled(store, clock, since=since)
        first_seen = store.first_seen_of(article.article_id for article in articles)
        new = frozenset(a for a, seen in first_seen.items() if datetime.fromisoformat(seen) >= moment)
        return Scope(f"since {since}", runs, articles, new)
    night = tonight(clock) if night is None else _night_date(night)
    start, end = clock.bounds(night)
    runs = [run for run in store.runs(limit=-1) if start <= datetime.fromisoformat(run["started_at"]) < end]
    ids = set(store.first_seen_between(start.isoformat(timespec="milliseconds"), end.isoformat(timespec="milliseconds")))
    for run in runs:
        ids.update(o["article_id"] for o in store.outcomes(run["run_id"]) if o["status"] in ("ok", "cached") and o["article_id"])
    articles = settle_results(store, store.latest_results(sorted(ids)), clock)
    new = frozenset(article.article_id for article in articles if article.night == night)
    return Scope(f"night of {night}", runs[::-1], articles, new, night=night)


def _night_date(value: str) -> str:
    try:
        return datetime.strptime(value.strip(), "%Y-%m-%d").date().isoformat()
    except ValueError:
        raise UsageError(f"--night {value!r} is not a date: give the date the night starts on, e.g. 2026-12-01") from None
