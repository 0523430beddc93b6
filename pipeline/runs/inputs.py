"""A run's inputs: the articles under its paths that need the engine, each with its cache key.

Articles with a stored result are counted as cached on the way; files unchanged since they
were last read whole (the inbox index) are not opened again, their articles come from the store.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence

from pipeline.errors import StoreError
from pipeline.inputs import FileRead, FileStamp, UnchangedFile, iter_articles
from pipeline.models import Article, CacheIdentity, SkippedInput
from pipeline.runs.ledger import RunLedger
from pipeline.store import ArticleRef, Store, among, cache_key, utc_now

__all__ = ["InboxIndex", "RunInputs"]

_SETTLE_NS = 2_000_000_000
_LOOKUP_BLOCK = 500  # articles whose stored results are looked up in one query

# A file read whole: its path, its stamp, and its articles' (article_id, record_id).
IndexedFile = tuple[str, FileStamp, list[tuple[str, str | None]]]


class InboxIndex:
    """The store's index of input files read whole (table ``source_file``), through its connection."""

    def __init__(self, store: Store):
        self.store = store

    def entries(self) -> dict[str, tuple[FileStamp, str]]:
        """Every indexed file: its stamp and its articles as JSON ``[[article_id, record_id], ...]``."""
        rows = self.store.db.execute("SELECT source_path, size, mtime_ns, inode, ctime_ns, articles FROM source_file")
        return {row[0]: (FileStamp(row[1], row[2], row[3], row[4]), row[5]) for row in rows}

    def add(self, files: list[IndexedFile]) -> None:
        """Index files read whole, each only when every one of its articles is in the store,
        so the index can stand in for it."""
        db = self.store.db
        now = utc_now()
        with self.store.transaction():
            for path, stamp, articles in files:
                ids = {article_id for article_id, _record_id in articles}
                stored, values = among("article_id", ids)
                if db.execute(f"SELECT COUNT(*) FROM article WHERE {stored}", values).fetchone()[0] != len(ids):
                    db.execute("DELETE FROM source_file WHERE source_path = ?", (path,))
                    continue
                db.execute(
                    "INSERT OR REPLACE INTO source_file (source_path, size, mtime_ns, inode, ctime_ns, articles, indexed_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (path, stamp.size, stamp.mtime_ns, stamp.inode, stamp.ctime_ns, json.dumps(articles), now),
                )


class RunInputs:
    """The articles under ``paths`` that need the engine, each with its cache key, read lazily.

    Skipped inputs and articles with a stored result are recorded in the ledger on the
    way and not yielded (``refresh`` yields every article). Files whose stamp (size,
    mtime, inode, ctime) matches the store's inbox index are not opened: their articles come
    from the store (``rescan`` reads every file again). ``index_read_files`` indexes the
    files read whole, once their articles are stored. ``found`` counts the articles seen.
    """

    def __init__(
        self,
        paths: Sequence[str],
        ledger: RunLedger,
        identity: CacheIdentity,
        *,
        refresh: bool = False,
        rescan: bool = False,
        min_file_age: float = 0.0,
    ):
        self.paths = paths
        self.ledger = ledger
        self.store = ledger.store
        self.identity = identity
        self.refresh = refresh
        self.min_file_age = min_file_age
        self.found = 0
        self._index = InboxIndex(self.store)
        self._indexed = {} if rescan else self._index.entries()
        self._being_read: dict[str, list[tuple[str, str | None]]] = {}
        self._read_whole: list[IndexedFile] = []
        self._met: set[int] = set()

    def __iter__(self) -> Iterator[tuple[Article, str]]:
        block: list[tuple[Article, str]] = []
        for item in iter_articles(self.paths, min_file_age=self.min_file_age, unchanged=self._unchanged):
            if isinstance(item, Article):
                self.found += 1
                self._being_read.setdefault(item.source_path, []).append((item.article_id, item.record_id))
                block.append((item, cache_key(item.article_id, self.identity)))
                if len(block) >= _LOOKUP_BLOCK:
                    yield from self._uncached(block)
                continue
            yield from self._uncached(block)
            if isinstance(item, SkippedInput):
                self.ledger.skipped(item.source_path, item.record_id, item.reason)
            elif isinstance(item, FileRead):
                articles = self._being_read.pop(item.source_path, [])
                if item.complete and _settled(item.stamp):
                    self._read_whole.append((item.source_path, item.stamp, articles))
            elif isinstance(item, UnchangedFile):
                yield from self._from_index(item)
        yield from self._uncached(block)

    def _uncached(self, block: list[tuple[Article, str]]) -> Iterator[tuple[Article, str]]:
        """The articles of ``block`` without a stored result (recording the others as cached),
        in order; the block is emptied. Their keys are looked up at once; a key met before in
        this run is asked again as its article comes up, as its earlier copy may be stored since."""
        stored = set() if self.refresh or not block else self.store.results_among([key for _article, key in block])
        articles = list(block)
        block.clear()
        for article, key in articles:
            if not self.refresh and (key in stored or self._met_before(key) and self.store.has_result(key)):
                self.ledger.cached(article, key)
            else:
                yield article, key

    def _met_before(self, key: str) -> bool:
        """Whether a key with ``key``'s first 16 hex digits came earlier in this run (the prefix
        keeps the set small; a shared prefix costs one more look-up, nothing else)."""
        prefix = int(key[:16], 16)
        met = prefix in self._met
        self._met.add(prefix)
        return met

    def _unchanged(self, path: str, stamp: FileStamp) -> bool:
        entry = self._indexed.get(path)
        return entry is not None and entry[0] == stamp

    def _from_index(self, file: UnchangedFile) -> Iterator[tuple[Article, str]]:
        refs = [
            ArticleRef(article_id, file.source_path, record_id)
            for article_id, record_id in json.loads(self._indexed[file.source_path][1])
        ]
        self.found += len(refs)
        keys = [cache_key(ref.article_id, self.identity) for ref in refs]
        stored = set() if self.refresh else self.store.results_among(keys)
        for ref, key in zip(refs, keys, strict=True):
            if key in stored:
                self.ledger.cached(ref, key)
                continue
            article = self.store.article(ref)
            if article is None:
                self.ledger.skipped(
                    ref.source_path,
                    ref.record_id,
                    f"indexed article {ref.article_id[:16]} is no longer in the store: run again with --rescan",
                )
            else:
                yield article, key

    def index_read_files(self) -> None:
        try:
            self._index.add(self._read_whole)
        except StoreError as error:
            self.ledger.store_broken(error)

    def empty_reason(self) -> str | None:
        """Why finding no article is an error (a nightly run pointed at a missing inbox must
        not pass unseen), or None when some article was found."""
        if self.found:
            return None
        return (
            f"found no article in {', '.join(self.paths) or 'no input'} "
            "(pass --allow-empty when a night without articles is normal)"
        )


def _settled(stamp: FileStamp) -> bool:
    """Whether a file's mtime is old enough to trust: a write within the same clock tick
    as the read could leave the stamp unchanged (git's "racy" entries), so fresh files wait."""
    return time.time_ns() - stamp.mtime_ns > _SETTLE_NS
