"""What a reference the desk types names: a story (a template cluster's id, ``tpl-…``) or one
article (its id or a prefix of it, as the worklist prints it; a cache key; a source path; or
``PATH#RECORD-ID``). Every character is literal: ``%`` and ``_`` are no wildcards.

A reference that names several articles is refused with its candidates listed, so that no
command acts on, or shows, one of them picked silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.desk.clusters import cluster_members
from pipeline.errors import InputError
from pipeline.store import Store, StoredResult

__all__ = ["SHORT_ID_CHARS", "Reference", "find_reference", "short_id"]

SHORT_ID_CHARS = 12
"""How much of an article id the worklist prints: 48 bits, unique in any store a desk keeps."""
_CANDIDATES_SHOWN = 10


def short_id(article_id: str) -> str:
    return article_id[:SHORT_ID_CHARS]


@dataclass(frozen=True)
class Reference:
    """A resolved reference: the story it names (None for an article) and its articles."""

    text: str
    story_id: str | None
    article_ids: tuple[str, ...]


def _candidate(result: StoredResult) -> str:
    article = result.article
    where = Path(article.source_path).name + (f"#{article.record_id}" if article.record_id else "")
    title = " ".join((article.title or "").split())[:60]
    return f"{short_id(article.article_id)} ({where}{': ' + title if title else ''})"


def find_reference(store: Store, ref: str, where: str) -> Reference | None:
    """The story or the one article ``ref`` names; None when it names nothing; InputError (exit
    2) naming ``where`` and listing the candidates when it names several articles."""
    ref = ref.strip()
    story = sorted({member.article_id for member in cluster_members(store, cluster_ids=[ref])}) if ref else []
    if story:
        return Reference(ref, ref, tuple(story))
    found = {result.article.article_id: result for result in store.find_results(ref)}
    if not found:
        return None
    if len(found) == 1:
        return Reference(ref, None, tuple(found))
    listed = [_candidate(result) for _, result in sorted(found.items())]
    more = f"; and {len(listed) - _CANDIDATES_SHOWN} more" if len(listed) > _CANDIDATES_SHOWN else ""
    raise InputError(
        where,
        f"{ref!r} matches {len(listed)} articles: {'; '.join(listed[:_CANDIDATES_SHOWN])}{more}. "
        "Give one of these ids, or PATH#RECORD-ID",
    )
