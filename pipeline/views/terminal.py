"""What people read: the run summary, one analysis in full, and (later) the morning report."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from pipeline.checks.verdict import probability_text
from pipeline.desk.references import short_id
from pipeline.desk.settled import SettledArticle
from pipeline.pricing import ledger_cost
from pipeline.views.timestamps import readable_time
from pipeline.views.worklist import Worklist, WorklistItem

__all__ = ["summary_table", "analysis_view", "runs_table", "runs_record", "worklist_view"]

_LABEL_STYLES = {"likely_fabrication": "bold red", "tribute": "yellow", "news": "green"}


def _first_reasons(reasons: list, shown: int = 3) -> str:
    names = [reason.value for reason in reasons]
    more = f" +{len(names) - shown}" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def summary_table(articles: list[SettledArticle], outcomes: list[dict[str, Any]]) -> Table:
    """One row per input of a run: status, settled label and confidence, quotes, claims, reasons (the batch's too)."""
    by_key = {article.stored.cache_key: article for article in articles}
    table = Table(title="pipeline run", show_lines=False)
    table.add_column("source", overflow="fold", ratio=2)
    for column in ("status", "label", "conf", "quotes ok/rej", "claims"):
        table.add_column(column, no_wrap=True)
    table.add_column("reasons", overflow="fold", ratio=3)
    for outcome in outcomes:
        article = by_key.get(outcome["cache_key"] or "")
        source = outcome["source_path"] + (f" [{outcome['record_id']}]" if outcome["record_id"] else "")
        if article is None:
            table.add_row(source, outcome["status"], "", "", "", "", outcome["reason"] or "")
            continue
        analysis = article.result.analysis
        table.add_row(
            source,
            outcome["status"],
            Text(analysis.label.value, style=_LABEL_STYLES[analysis.label.value]),
            probability_text(analysis.confidence),
            f"{len(analysis.quotes)}/{len(analysis.rejected_quotes)}",
            str(len(analysis.claims)),
            _first_reasons(article.reasons),
        )
    return table


def analysis_view(article: SettledArticle) -> Group:
    """One settled article, readable in a terminal, with the batch's reasons and the desk's notes."""
    result = article.result
    analysis = result.analysis
    header = Text()
    header.append(f"{result.article.title or result.article.source_path}\n", style="bold")
    header.append(f"article {short_id(result.article.article_id)}  ")
    header.append(analysis.label.value, style=_LABEL_STYLES[analysis.label.value])
    header.append(f"  confidence {probability_text(analysis.confidence)}")
    if article.unbacked_score is not None:
        header.append(f"  (fabrication score {probability_text(article.unbacked_score)}, no evidence)")
    header.append("\n")
    header.append(f"reasons: {', '.join(reason.value for reason in article.reasons) or '-'}\n")
    header.append(f"{analysis.rationale}\n", style="italic")
    header.append(
        f"engine {result.identity.engine}  model {result.identity.model}  prompt {result.identity.prompt_version} ({result.identity.prompt_hash})  "
        f"tokens {result.input_tokens}+{result.output_tokens} in {result.requests} requests  {result.created_at}\n"
    )
    quotes = Table(title="verified quotes", show_lines=True)
    for column in ("speaker", "kind", "quote", "cue / channel", "offsets"):
        quotes.add_column(column, overflow="fold")
    for quote in analysis.quotes:
        quotes.add_row(
            "\n".join(filter(None, [quote.speaker, quote.speaker_check])),
            quote.speaker_kind.value,
            quote.text,
            " / ".join(filter(None, [quote.cue, quote.channel])),
            f"{quote.start}-{quote.end}",
        )
    parts: list[Any] = [header, quotes]
    if analysis.rejected_quotes:
        rejected = Table(title="rejected quotes", show_lines=True)
        for column in ("speaker", "quote", "reason"):
            rejected.add_column(column, overflow="fold")
        for rejected_quote in analysis.rejected_quotes:
            rejected.add_row(rejected_quote.speaker, rejected_quote.text, rejected_quote.reason)
        parts.append(rejected)
    claims = Table(title="claims to confirm", show_lines=True)
    for column in ("priority", "event", "who / when / where", "why", "check with"):
        claims.add_column(column, overflow="fold")
    for claim in analysis.claims:
        claims.add_row(
            claim.priority.value,
            claim.event,
            " / ".join(part or "?" for part in (claim.who, claim.when, claim.where)),
            ", ".join(reason.value for reason in claim.why),
            claim.check_with,
        )
    parts.append(claims)
    parts += [Text(note) for note in article.findings.desk_notes]
    return Group(*parts)


def _wall_time(run: dict[str, Any]) -> str:
    if not run.get("ended_at"):
        return ""
    seconds = run.get("wall_seconds")
    if seconds is None:  # a run recorded before wall time was measured: the clock's difference, if sane
        seconds = (datetime.fromisoformat(run["ended_at"]) - datetime.fromisoformat(run["started_at"])).total_seconds()
        if seconds < 0:
            return "?"
    return f"{seconds:.1f}s"


def _cost(run: dict[str, Any]) -> str:
    cost = ledger_cost(run)
    return "unknown" if cost is None else f"${cost:.4f}"


def runs_table(runs: list[dict[str, Any]], zone: tzinfo | None = None) -> Table:
    """The run ledger in 100 columns: when (whole, in the desk's ``zone``), status, engine and
    model, articles by status, tokens across retries, wall time, estimated cost
    (pipeline/pricing.py) and the quotes rejected, by reason (``runs --json`` has every field)."""
    table = Table(title="runs", box=box.SIMPLE_HEAD, pad_edge=False, expand=False)
    table.add_column("run", justify="right", no_wrap=True)
    table.add_column("started", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("engine", overflow="fold", ratio=1, min_width=7)
    table.add_column("articles", overflow="fold", ratio=1, min_width=8)
    table.add_column("tokens in/out", overflow="fold", ratio=1, min_width=7)
    table.add_column("wall", justify="right", no_wrap=True)
    table.add_column("est. cost", justify="right", no_wrap=True)
    table.add_column("rejected quotes", overflow="fold", ratio=2, min_width=8)
    for run in runs:
        counts = ", ".join(f"{run[status]} {status}" for status in ("ok", "cached", "failed", "skipped") if run.get(status))
        tokens = f"{run.get('input_tokens') or 0}/{run.get('output_tokens') or 0}"
        if run.get("cached_input_tokens"):  # priced at the provider's cached rate
            tokens += f" ({run['cached_input_tokens']} cached)"
        table.add_row(
            str(run["run_id"]),
            readable_time(run.get("started_at"), zone),
            run.get("status") or "",
            " ".join(dict.fromkeys(part for part in (run.get("engine"), run.get("model")) if part)),
            counts or "none",
            tokens,
            _wall_time(run),
            _cost(run),
            _rejections(run.get("rejected_quotes") or {}),
        )
    return table


def runs_record(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``runs --json``: every field of the ledger's lines, with the estimated cost in USD."""
    return [{**run, "estimated_cost_usd": ledger_cost(run)} for run in runs]


def _rejections(counts: dict[str, int]) -> str:
    """ "3: not inside quotation marks 2, stitched from separate quotations 1"."""
    if not counts:
        return "0"
    return f"{sum(counts.values())}: " + ", ".join(f"{reason} {count}" for reason, count in counts.items())


def worklist_view(worklist: Worklist) -> Group:
    """The worklist in a terminal: one block per item, headed by the id ``show`` and ``review``
    take, its claims under it."""
    if not worklist.every_item:
        return Group(Text(f"nothing on the worklist of {worklist.title}"))
    parts: list[Any] = [Text(f"worklist of {worklist.title}: {worklist.total} items", style="bold")]
    for number, item in enumerate(worklist.items, 1):
        parts.append(_worklist_block(number, item))
    if worklist.more:
        parts.append(Text(f"{worklist.more} more: --limit 0 lists them all"))
    if worklist.audits:
        parts.append(
            Text(f"audit sample: {len(worklist.audits)} articles the ranker did not flag, drawn at random", style="bold")
        )
    for number, item in enumerate(worklist.audits, len(worklist.items) + 1):
        parts.append(_worklist_block(number, item))
    return Group(*parts)


def _worklist_block(number: int, item: WorklistItem) -> Text:
    block = Text()
    block.append(f"{number}. [{item.ref}] {'[audit] ' if item.audit else ''}{item.title}\n", style="bold")
    block.append(f"   fabrication {probability_text(item.probability)}  ", style="bold red")
    block.append(
        f"{'new tonight' if item.new else 'seen before'}  {item.review_status}  "
        f"{item.lead.article.source_path}{' #' + item.lead.article.record_id if item.lead.article.record_id else ''}\n"
    )
    if len(item.results) > 1:
        block.append(f"   template cluster {item.cluster_id}: {len(item.results)} variants\n")
    for reason in item.reasons:
        block.append(f"   - {reason}\n")
    for claim in item.claims:
        block.append(f"   [{claim.priority.value}] {claim.event[:160]}\n      check with: {claim.check_with}\n")
    return block
