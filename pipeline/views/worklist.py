"""The desk's worklist: what to check first this morning, one item per story or template.

``build_worklist`` reads one night (default: tonight), one run, or every run since a moment
(``pipeline.views.read.read_scope``) and returns its items ranked:

- an item is one article, or a whole template cluster (its variants listed under it);
- an article is on the list when it shows at least one piece of evidence (``EVIDENCE_REASONS``):
  in its own text, from the batch (a template cluster whose variants name different people, a
  dead person the store knows of presented acting), or from the desk's memory (a debunking
  fact-check, a source listed unreliable); a story the desk has reviewed, with nothing new in
  it, is off the list;
- items new tonight (first seen in the night, whichever of its runs saw them) come before
  items seen on an earlier night, then a trusted source's items after
  the rest (``source_lists.priority_steps``), then by the calibrated probability
  of fabrication, raised by the batch's evidence the article's own analysis could not see, then by
  how much evidence there is;
- each item carries a short id ``show`` and ``review`` accept (its story's, or its article's
  id prefix), its three most important claims, its reasons in plain words, its source and
  its review status (the desk memory's; "not reviewed" without one); its source's standing, where
  the desk lists it, is shown either way (an unreliable one is evidence);
- after the ranked items come the audit sample (``pipeline.desk.audits``): articles drawn at
  random from those with no evidence, marked ``audit``; a ranked item whose article was drawn
  before it showed evidence is marked too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pipeline.desk.audits import AuditDraw, audit_draw
from pipeline.desk.references import short_id
from pipeline.desk.settled import SettledArticle
from pipeline.errors import UsageError
from pipeline.desk.source_lists import ListedSource, priority_steps
from pipeline.models import Article, ClaimDraft, Label, Priority, ReasonCode
from pipeline.settings import DEFAULT_NIGHT_CLOCK, NightClock
from pipeline.store import Store, StoredResult
from pipeline.views.read import Scope, read_scope

__all__ = [
    "DEFAULT_LIMIT",
    "WorkItem",
    "WorklistItem",
    "Worklist",
    "article_title",
    "headline",
    "build_worklist",
    "worklist_of",
    "claims_worklist",
    "top_claims",
    "worklist_limit",
]

DEFAULT_LIMIT = 25
_TITLE_CHARS = 120


_PRIORITY_RANK = {Priority.high: 0, Priority.medium: 1, Priority.low: 2}


def headline(article: Article) -> str:
    """The article's title, else its first line, shortened; "" for an article with neither."""
    title = article.title or next((line.strip() for line in article.text.splitlines() if line.strip()), "")
    title = " ".join(title.split())
    return title if len(title) <= _TITLE_CHARS else title[: _TITLE_CHARS - 1] + "…"


def article_title(result: StoredResult) -> str:
    """The article's ``headline``, else its file's name: every article has one."""
    return headline(result.article) or Path(result.article.source_path).name


def top_claims(result: StoredResult, dead: frozenset[str] = frozenset(), shown: int = 3) -> list[ClaimDraft]:
    """The claims to check first: by priority, then those with more reasons to doubt, then by
    order in the article; a claim whose check_with names a person recorded as dead is skipped."""
    claims = [claim for claim in result.analysis.claims if not any(name in claim.check_with for name in dead)]
    ranked = sorted(enumerate(claims), key=lambda pair: (_PRIORITY_RANK[pair[1].priority], -len(pair[1].why), pair[0]))
    return [claim for _, claim in ranked[:shown]]


@dataclass(frozen=True)
class WorklistItem:
    """One story to check, or one template cluster with every variant the run holds, most
    likely fabricated first (the lead)."""

    articles: list[SettledArticle]
    probability: float
    evidence: list[ReasonCode]
    desk_evidence: list[str]
    new: bool
    review_status: str
    claims: list[ClaimDraft]
    cluster_id: str | None = None
    source: ListedSource | None = None
    audit: AuditDraw | None = None

    @property
    def results(self) -> list[StoredResult]:
        """The variants' settled results."""
        return [article.result for article in self.articles]

    @property
    def lead(self) -> StoredResult:
        return self.articles[0].result

    @property
    def article_ids(self) -> list[str]:
        return [result.article.article_id for result in self.results]

    @property
    def title(self) -> str:
        return article_title(self.lead)

    @property
    def ref(self) -> str:
        """The id to act on: the story's for a template cluster, else the article's short id."""
        return self.cluster_id or short_id(self.lead.article.article_id)

    @property
    def reasons(self) -> list[str]:
        """Why it is on the list, in plain words: each piece of evidence, then the wording."""
        plain = [self.audit.describe()] if self.audit else []
        plain += [reason.definition for reason in self.evidence] + [f"The desk's memory: {note}." for note in self.desk_evidence]
        style = self.lead.analysis.signals.style_risk
        if style >= 0.5:
            plain.append(f"Sensational wording (style risk {style:.2f}): a style mark, not evidence.")
        if priority_steps(self.source):
            plain.append(f"The desk's memory: {self.source.describe() if self.source else ''} (ranked lower).")
        unconfirmed = dict.fromkeys(flag.describe() for flag in self.articles[0].findings.unconfirmed_deaths)
        plain += [f"Note, {note}." for note in unconfirmed]
        return plain

    def to_record(self) -> dict[str, Any]:
        """The ``--json`` shape of one item."""
        return {
            "ref": self.ref,
            "title": self.title,
            "probability": round(self.probability, 4),
            "label": self.lead.analysis.label.value,
            "new": self.new,
            "review_status": self.review_status,
            "audit": self.audit is not None,
            "audit_draw": self.audit.to_record() if self.audit else None,
            "evidence": [reason.value for reason in self.evidence],
            "desk_evidence": self.desk_evidence,
            "reasons": self.reasons,
            "style_risk": self.lead.analysis.signals.style_risk,
            "cluster_id": self.cluster_id,
            "source": self.source.to_record() if self.source else None,
            "claims": [{"event": c.event, "check_with": c.check_with, "priority": c.priority.value} for c in self.claims],
            "variants": [
                {
                    "article_id": r.article.article_id,
                    "title": article_title(r),
                    "source_path": r.article.source_path,
                    "record_id": r.article.record_id,
                    "url": r.article.url,
                }
                for r in self.results
            ],
        }


@dataclass(frozen=True)
class Worklist:
    """The ranked items shown (``total`` in all), then the audit sample's items."""

    run_id: int | None
    items: list[WorklistItem] = field(default_factory=list)
    total: int = 0
    title: str = "no runs yet"
    warnings: list[str] = field(default_factory=list)
    audits: list[WorklistItem] = field(default_factory=list)

    @property
    def more(self) -> int:
        """Ranked items beyond those shown."""
        return self.total - len(self.items)

    @property
    def every_item(self) -> list[WorklistItem]:
        return [*self.items, *self.audits]

    def to_record(self) -> dict[str, Any]:
        return {
            "of": self.title,
            "run_id": self.run_id,
            "warnings": self.warnings,
            "total": self.total,
            "more": self.more,
            "items": [item.to_record() for item in self.every_item],
        }


def worklist_limit(limit: int | None) -> int | None:
    """How many items a ``--limit`` asks for: None (all) for None or 0; UsageError below 0."""
    if limit is not None and limit < 0:
        raise UsageError(f"--limit must be 0 (all) or more, got {limit}")
    return limit or None


def build_worklist(
    store: Store,
    run_id: int | None = None,
    limit: int | None = DEFAULT_LIMIT,
    clock: NightClock = DEFAULT_NIGHT_CLOCK,
    audit_sample: int = 0,
    *,
    since: str | None = None,
    night: str | None = None,
) -> Worklist:
    """The ranked worklist of one night (default: tonight), one run, or every run since a
    moment, ``limit`` items (None or 0: all), and its audit sample (``audit_sample`` articles
    with no evidence, drawn once).

    UsageError for a run the store does not hold or a negative limit."""
    return worklist_of(read_scope(store, clock, run_id=run_id, since=since, night=night), limit, store, audit_sample, clock)


def worklist_of(
    scope: Scope,
    limit: int | None = DEFAULT_LIMIT,
    store: Store | None = None,
    audit_sample: int = 0,
    clock: NightClock = DEFAULT_NIGHT_CLOCK,
) -> Worklist:
    """The ranked worklist of what a morning read covers, ``limit`` items (None or 0: all),
    then ``audit_sample`` articles with no evidence drawn at random (``store``: where the draw
    is kept, under the first run the read covers, so every door and every later run of the
    night shows the same draw)."""
    limit = worklist_limit(limit)
    articles = scope.articles
    groups: dict[str, list[SettledArticle]] = {}
    for article in articles:
        if article.findings.settled:
            continue
        cluster = article.findings.cluster
        groups.setdefault(cluster.cluster_id if cluster else article.article_id, []).append(article)
    dead = frozenset(
        name for article in articles for flag in article.findings.posthumous for name in (flag.person, *flag.person.split())
    )
    items: list[WorklistItem] = []
    unflagged: dict[str, SettledArticle] = {}
    for key, members in groups.items():
        if not any(member.evidence.count for member in members):
            unflagged.update((member.article_id, member) for member in members)
            continue
        # The lead shows evidence, so the item says why it is on the list whichever member is likelier.
        members.sort(key=lambda a: (not a.evidence.count, -a.p_fabrication, -a.evidence.count, a.result.article.source_path))
        items.append(_item(members, scope.new_ids, dead, key if len(members) > 1 else None))
    anchor = scope.run_id if scope.run_id is not None else min((run["run_id"] for run in scope.runs), default=None)
    drawn = [] if store is None or anchor is None else audit_draw(store, anchor, unflagged, audit_sample, clock)
    draws = {draw.article_id: draw for draw in drawn}
    items = [next((replace(item, audit=draws[i]) for i in item.article_ids if i in draws), item) for item in items]
    items.sort(
        key=lambda item: (
            not item.new,
            priority_steps(item.source),
            -item.probability,
            -len(item.evidence),
            item.lead.article.source_path,
        )
    )
    shown = items if limit is None else items[:limit]
    audits = [
        replace(_item([unflagged[article_id]], scope.new_ids, dead, None), audit=draw)
        for article_id, draw in draws.items()
        if article_id in unflagged
    ]
    return Worklist(run_id=scope.run_id, items=shown, total=len(items), title=scope.title, warnings=scope.warnings, audits=audits)


def _item(members: list[SettledArticle], new_ids: frozenset[str], dead: frozenset[str], cluster_id: str | None) -> WorklistItem:
    lead = members[0]
    return WorklistItem(
        articles=members,
        probability=lead.p_fabrication,
        evidence=lead.evidence.reasons,
        desk_evidence=lead.evidence.desk,
        new=any(member.article_id in new_ids for member in members),
        review_status=lead.review_status,
        claims=top_claims(lead.result, dead),
        cluster_id=cluster_id,
        source=lead.findings.source,
    )


@dataclass(frozen=True)
class WorkItem:
    article: SettledArticle
    claim: ClaimDraft


def claims_worklist(
    articles: Iterable[SettledArticle], priorities: frozenset[Priority] = frozenset({Priority.high})
) -> list[WorkItem]:
    """Claims of these priorities: by priority, (settled) fabrications before the rest, then
    taking turns across articles (each article's first claim before anyone's second, so one long
    article doesn't fill the top of the list), then by the article's settled confidence."""
    ranked = [
        (
            _PRIORITY_RANK[claim.priority],
            a.label is not Label.likely_fabrication,
            turn,
            -a.confidence,
            order,
            a,
            claim,
        )
        for order, a in enumerate(articles)
        for turn, claim in enumerate(c for c in a.result.analysis.claims if c.priority in priorities)
    ]
    return [WorkItem(article, claim) for *_, article, claim in sorted(ranked, key=lambda row: row[:5])]
