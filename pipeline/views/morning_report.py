"""The morning report: one self-contained HTML page and a chat-sized Markdown summary.

The page is rendered by Jinja2 with autoescaping on for every value, so article
text, titles, speakers and claims reach the page only as text: an article that
contains ``<script>`` or ``onerror=`` cannot run anything. Quote highlights are
built as (text, kind) segments at the stored offsets, never by splicing markup
into the article. Inline CSS, no external resource: the file opens from an email
attachment or a shared drive. One inline script, the report's own filter, runs under a
Content-Security-Policy that names its hash, so no other script could; with JavaScript off
the page is the same list, unfiltered.

At newsroom scale (10,000 articles a night) the page stays small: the worklist's items carry
everything (claims, quotes, the highlighted text); every other article is one collapsed card
with its title, label, probability, reasons, source and record id (``pipeline show`` has the rest).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import tzinfo
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from pipeline.desk.clusters import ClusterMember
from pipeline.desk.factchecks import FactCheckMatch
from pipeline.errors import OutputError
from pipeline.checks.verdict import probability_text
from pipeline.desk.insight import BatchFindings
from pipeline.desk.posthumous import PosthumousFlag
from pipeline.desk.references import short_id
from pipeline.desk.settled import SettledArticle
from pipeline.desk.learning import describe_calibration
from pipeline.models import Label, ReasonCode, SpeakerKind
from pipeline.pricing import ledger_cost
from pipeline.settings import DEFAULT_NIGHT_CLOCK, NightClock
from pipeline.store import Store, StoredResult
from pipeline.views.console import clean
from pipeline.views.read import read_scope
from pipeline.views.timestamps import readable_time
from pipeline.views.worklist import DEFAULT_LIMIT, Worklist, WorklistItem, article_title, worklist_limit, worklist_of

__all__ = [
    "MARKDOWN_ITEMS",
    "FILTER_SCRIPT",
    "glossary",
    "Segment",
    "MorningReport",
    "collect_report",
    "highlight_segments",
    "render_html",
    "render_markdown",
    "web_link",
    "write_report",
]

_CLUSTER_SIZES_SHOWN = 10

MARKDOWN_ITEMS = 5
_CARD_TITLE_CHARS = 60
FILTER_SCRIPT = (
    "(function(){var f=document.getElementById('filter');if(!f)return;f.hidden=false;"
    "var cards=document.querySelectorAll('#articles article, #worklist .work-item');"
    "function run(){var l=f.elements.label.value,r=f.elements.reason.value,t=f.elements.text.value.toLowerCase(),n=0;"
    "for(var i=0;i<cards.length;i++){var c=cards[i],ok=(!l||c.classList.contains(l))&&(!r||(' '+c.dataset.r+' ').indexOf(' '+r+' ')>=0)"
    "&&(!t||c.textContent.toLowerCase().indexOf(t)>=0);c.hidden=!ok;n+=ok;}"
    "document.getElementById('shown').textContent=n;}"
    "f.addEventListener('input',run);f.addEventListener('submit',function(e){e.preventDefault();run();});})();"
)
"""The inline filter by label, reason and text, over the worklist and the articles alike; the
page's CSP allows this script alone, by hash."""
_SCRIPT_HASH = "sha256-" + base64.b64encode(hashlib.sha256(FILTER_SCRIPT.encode()).digest()).decode()


def glossary() -> list[tuple[str, str]]:
    """Every label and reason code with its definition: the one the prompt and README use too."""
    return [(label.value, label.definition) for label in Label] + [(code.value, code.definition) for code in ReasonCode]


@dataclass(frozen=True)
class Segment:
    """A run of article text: plain, a quote's piece (``quote`` is its index), or the mention
    of a dead person presented acting (``quote`` None, ``posthumous`` True)."""

    text: str
    quote: int | None = None
    posthumous: bool = False


@dataclass
class MorningReport:
    """Everything the page and the summary show, gathered from the store: settled articles,
    fabrications first."""

    title: str
    runs: list[dict[str, Any]]
    articles: list[SettledArticle]
    failures: list[dict[str, Any]]
    worklist: Worklist = field(default_factory=lambda: Worklist(run_id=None))
    zone: tzinfo | None = None
    """The desk's time zone (settings ``timezone``; None: the machine's): every time is shown in it."""
    warnings: list[str] = field(default_factory=list)
    calibration: str = ""
    """Which calibration the settled probabilities use (``describe_calibration``)."""

    @cached_property
    def results(self) -> list[StoredResult]:
        """The articles' settled results."""
        return [article.result for article in self.articles]

    @cached_property
    def findings(self) -> dict[str, BatchFindings]:
        return {article.article_id: article.findings for article in self.articles}

    @cached_property
    def _unbacked(self) -> dict[str, float | None]:
        return {article.article_id: article.unbacked_score for article in self.articles}

    def unbacked(self, result: StoredResult) -> float | None:
        """The probability of fabrication held back for want of evidence (``SettledArticle.unbacked_score``)."""
        return self._unbacked.get(result.article.article_id)

    @cached_property
    def _reasons(self) -> dict[str, list[str]]:
        return {article.article_id: [reason.value for reason in article.reasons] for article in self.articles}

    @property
    def label_counts(self) -> dict[str, int]:
        counts = Counter(result.analysis.label.value for result in self.results)
        return {label.value: counts.get(label.value, 0) for label in Label}

    @property
    def input_tokens(self) -> int:
        return sum(run["input_tokens"] or 0 for run in self.runs)

    @property
    def output_tokens(self) -> int:
        return sum(run["output_tokens"] or 0 for run in self.runs)

    @property
    def cost(self) -> float | None:
        """Estimated USD; None when a model's price is unknown (the page then shows tokens)."""
        costs = [ledger_cost(run) for run in self.runs]
        known = [cost for cost in costs if cost is not None]
        return sum(known) if costs and len(known) == len(costs) else None

    @property
    def engines(self) -> str:
        return ", ".join(sorted({f"{run['engine']} / {run['model']}" for run in self.runs})) or "-"

    @property
    def detailed(self) -> set[str]:
        """Articles whose card carries everything: those on the shown worklist."""
        return {article_id for item in self.worklist.every_item for article_id in item.article_ids}

    def desk_notes(self, result: StoredResult) -> list[str]:
        """Known fact-checks, the desk's review and the source's standing for one article."""
        found = self.findings.get(result.article.article_id)
        return found.desk_notes if found else []

    @property
    def settled(self) -> list[StoredResult]:
        """Articles the desk has reviewed, with nothing new in their story: off the worklist."""
        return [r for r in self.results if (found := self.findings.get(r.article.article_id)) and found.settled]

    @property
    def clusters(self) -> dict[str, list[tuple[StoredResult, ClusterMember]]]:
        grouped: dict[str, list[tuple[StoredResult, ClusterMember]]] = {}
        for result in self.results:
            found = self.findings.get(result.article.article_id)
            if found and found.cluster:
                grouped.setdefault(found.cluster.cluster_id, []).append((result, found.cluster))
        return dict(sorted(grouped.items(), key=lambda item: -len(item[1])))

    @staticmethod
    def headline(result: StoredResult) -> str:
        """The title, else the first line of the text."""
        return article_title(result)

    @staticmethod
    def card_title(result: StoredResult) -> str:
        """The headline cut to one line of a collapsed card."""
        title = article_title(result)
        return title if len(title) <= _CARD_TITLE_CHARS else title[: _CARD_TITLE_CHARS - 1] + "…"

    @staticmethod
    def ref(result: StoredResult) -> str:
        """The id ``show`` and ``review`` take for the article."""
        return short_id(result.article.article_id)

    @staticmethod
    def source(result: StoredResult) -> str:
        """The input's file name and the record's id: full paths drown the page."""
        name = Path(result.article.source_path).name
        return f"{name} #{result.article.record_id}" if result.article.record_id else name

    def reasons(self, result: StoredResult) -> list[str]:
        return self._reasons[result.article.article_id]

    def item_reasons(self, item: WorklistItem) -> list[str]:
        """The reason codes of every variant of a worklist item, for the filter."""
        return sorted({reason for result in item.results for reason in self._reasons.get(result.article.article_id, [])})

    def factchecks(self, result: StoredResult) -> list[FactCheckMatch]:
        found = self.findings.get(result.article.article_id)
        return found.factchecks if found else []

    def time(self, moment: str | None) -> str:
        """A stored timestamp as the desk reads it: minutes, in its zone, the zone named."""
        return readable_time(moment, self.zone)

    def flags(self, result: StoredResult) -> list[PosthumousFlag]:
        found = self.findings.get(result.article.article_id)
        return found.posthumous if found else []

    def segments(self, result: StoredResult) -> list[Segment]:
        return highlight_segments(result, self.flags(result))

    def posthumous_quotes(self, result: StoredResult) -> set[int]:
        flagged = {(flag.start, flag.end) for flag in self.flags(result) if flag.kind == "quote"}
        return {index for index, quote in enumerate(result.analysis.quotes) if (quote.start, quote.end) in flagged}


def collect_report(
    store: Store,
    run_id: int | None = None,
    since: str | None = None,
    limit: int = DEFAULT_LIMIT,
    clock: NightClock = DEFAULT_NIGHT_CLOCK,
    audit_sample: int = 0,
    *,
    night: str | None = None,
) -> MorningReport:
    """The report of one night (default: tonight), of one run, or of every run started since
    a date or time (``parse_since``): the night's counts and cost are its runs' sums."""
    worklist_limit(limit)
    scope = read_scope(store, clock, run_id=run_id, since=since, night=night)
    failures = [
        outcome for run in scope.runs for outcome in store.outcomes(run["run_id"]) if outcome["status"] in ("failed", "skipped")
    ]
    articles = sorted(
        scope.articles,
        key=lambda article: (
            article.label is not Label.likely_fabrication,
            -article.confidence,
            article.result.article.source_path,
        ),
    )
    return MorningReport(
        title=scope.title,
        runs=scope.runs,
        articles=articles,
        failures=failures,
        worklist=worklist_of(scope, limit, store, audit_sample, clock),
        warnings=scope.warnings,
        zone=clock.zone,
        calibration=describe_calibration(store),
    )


def highlight_segments(result: StoredResult, flags: Iterable[PosthumousFlag] = ()) -> list[Segment]:
    """The article text cut at every quote span (split quotes have several) and every
    posthumous act, each piece tagged; where spans overlap the earlier one wins."""
    text = result.article.text
    flags = list(flags)
    posthumous_quotes = {(flag.start, flag.end) for flag in flags if flag.kind == "quote"}
    spans = sorted(
        [
            (start, end, index, (quote.start, quote.end) in posthumous_quotes)
            for index, quote in enumerate(result.analysis.quotes)
            for start, end in ([(span.start, span.end) for span in quote.spans] or [(quote.start, quote.end)])
        ]
        + [(flag.start, flag.end, None, True) for flag in flags if flag.kind == "act"],
        key=lambda span: span[:2],
    )
    segments, cursor = [], 0
    for start, end, index, flagged in spans:
        if start < cursor or end > len(text):
            continue
        if start > cursor:
            segments.append(Segment(text[cursor:start]))
        segments.append(Segment(text[start:end], index, flagged))
        cursor = end
    if cursor < len(text):
        segments.append(Segment(text[cursor:]))
    return segments


def _printable(value: object) -> object:
    """Every value the page prints, as the terminal would show it: without escape sequences,
    control characters or bidirectional overrides (the page's own markup passes as it is)."""
    return clean(value) if isinstance(value, str) and not isinstance(value, Markup) else value


# Besides ``_printable``, the template marks text from articles and models ``dir="auto"``, so
# right-to-left text is isolated and cannot reorder what stands around it.
_ENVIRONMENT = Environment(
    loader=PackageLoader("pipeline.views", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
    finalize=_printable,
)
_ENVIRONMENT.filters["probability"] = probability_text


def web_link(url: str | None) -> str | None:
    """``url`` when it is an http(s) address a link may point to; None for anything else
    (``javascript:``, ``data:``, a local path, a malformed address such as ``http://[x``),
    which the page then shows as text."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme.lower() in ("http", "https") and parts.netloc else None


_ENVIRONMENT.filters["web_link"] = web_link


def render_html(report: MorningReport) -> str:
    return _ENVIRONMENT.get_template("report.html.j2").render(
        report=report,
        unnamed_kinds={SpeakerKind.anonymous, SpeakerKind.role, SpeakerKind.crowd},
        glossary=glossary(),
        filter_script=FILTER_SCRIPT,
        script_hash=_SCRIPT_HASH,
        reason_codes=[code.value for code in ReasonCode],
        labels=[label.value for label in Label],
    )


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")


def _md(text: str | None, limit: int = 90) -> str:
    text = " ".join(clean(text or "").split())
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def render_markdown(report: MorningReport) -> str:
    """A few lines for a chat message: counts, the top fabrications and claims, clusters."""
    counts = report.label_counts
    cost = "cost unknown" if report.cost is None else f"est. ${report.cost:.4f}"
    cost += f" ({report.input_tokens}+{report.output_tokens} tokens)"
    lines = [
        f"**Morning report, {_md(report.title)}**: {len(report.results)} articles · "
        f"{counts['likely_fabrication']} likely fabrication · {counts['tribute']} tribute · {counts['news']} news · "
        f"{len(report.failures)} failed/skipped · {cost} · {_md(report.engines)}",
        _md(report.calibration, 200),
        *(f"**Warning**: {_md(line, 200)}" for line in report.warnings),
    ]
    if report.worklist.items:
        lines.append("")
        lines.append(f"**Check first** ({report.worklist.total} on the worklist)")
        for item in report.worklist.items[:MARKDOWN_ITEMS]:
            variants = f", {len(item.results)} variants" if len(item.results) > 1 else ""
            audit = "audit · " if item.audit else ""
            lines.append(f"- `{item.ref}` {_md(item.title, 70)} ({audit}{probability_text(item.probability)}{variants})")
            if item.claims:
                lines.append(f"  → {_md(item.claims[0].event, 70)} · check with {_md(item.claims[0].check_with, 50)}")
    if report.worklist.audits:
        lines.append("")
        lines.append(f"**Audit sample** ({len(report.worklist.audits)} the ranker did not flag, drawn at random)")
        lines += [
            f"- `{item.ref}` {_md(item.title, 70)} (audit · {probability_text(item.probability)})"
            for item in report.worklist.audits
        ]
    if report.clusters:
        largest = sorted((len(members) for members in report.clusters.values()), reverse=True)
        # A chat-sized summary: the largest clusters' sizes, not one number per cluster.
        sizes = ", ".join(map(str, largest[:_CLUSTER_SIZES_SHOWN])) + (", …" if len(largest) > _CLUSTER_SIZES_SHOWN else "")
        lines.append("")
        lines.append(f"**Template clusters**: {len(report.clusters)} (sizes {sizes})")
    settled = report.settled
    if settled:
        lines.append("")
        lines.append(f"**Reviewed by the desk** ({len(settled)}, off the worklist)")
        for r in settled[:MARKDOWN_ITEMS]:
            review = report.findings[r.article.article_id].review
            lines.append(f"- `{report.ref(r)}` {_md(report.headline(r), 70)}: {_md(review.describe() if review else '', 120)}")
    posthumous = sorted({flag.person for found in report.findings.values() for flag in found.posthumous})
    if posthumous:
        lines.append(f"**Posthumous attribution**: {_md(', '.join(posthumous))}")
    return "\n".join(lines) + "\n"


def write_report(
    store: Store,
    html_path: Path | None = None,
    markdown_path: Path | None = None,
    run_id: int | None = None,
    since: str | None = None,
    limit: int = DEFAULT_LIMIT,
    clock: NightClock = DEFAULT_NIGHT_CLOCK,
    audit_sample: int = 0,
    *,
    night: str | None = None,
) -> MorningReport:
    """Gather the report and write the page and/or the summary."""
    report = collect_report(store, run_id=run_id, since=since, limit=limit, clock=clock, audit_sample=audit_sample, night=night)
    for path, render in ((html_path, render_html), (markdown_path, render_markdown)):
        if path is not None:
            try:
                path.write_text(render(report), encoding="utf-8")
            except OSError as error:
                raise OutputError(f"{path}: cannot write the report ({error.strerror or error})") from None
    return report
