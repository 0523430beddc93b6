"""How every door reads articles: settled (``pipeline.desk.settled``) once per read, the
filtering (by run, by reference, by article id, since a moment) done in SQL."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC

from pipeline.desk.settled import SettledArticle, settle_results
from pipeline.errors import UsageError
from pipeline.settings import NightClock
from pipeline.store import Store, StoredResult, parse_since

__all__ = ["SettledArticle", "read_settled"]


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
