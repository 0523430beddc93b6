"""Exports for other tools: JSONL (one analysis a line), CSV (one row per quote and per
claim) and ClaimReview (schema.org JSON-LD for the claims worklist).

Every export reads settled articles (``pipeline.views.read``): the label, probabilities and
reasons are those after the batch's and the desk's evidence, as in ``show`` and the report;
``batch`` says what the batch added and why (see ``pipeline.desk.insight``).
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TextIO

from pipeline.errors import UsageError
from pipeline.desk.settled import SettledArticle
from pipeline.models import Label
from pipeline.settings import DEFAULT_NIGHT_CLOCK, NightClock
from pipeline.store import Store
from pipeline.views.read import read_settled
from pipeline.views.record import article_record
from pipeline.views.worklist import claims_worklist

__all__ = [
    "EXPORT_FORMATS",
    "CSV_FIELDS",
    "Desk",
    "write_jsonl",
    "write_csv",
    "write_claimreview",
    "claimreview_items",
    "rating_text",
    "export_results",
    "spreadsheet_cell",
    "script_safe_json",
    "without_nul",
]

# OWASP's CSV-injection rule: a cell starting with one of these is read as a formula by
# spreadsheets (the full-width forms too, by some); a leading ' makes it text.
_FORMULA_STARTS = tuple("=+-@\t\r\n＝＋－＠")
# Characters that end a <script> element or start a character reference inside one, and the
# two line terminators older JavaScript parsers reject in strings: JSON escapes them as \uXXXX.
_SCRIPT_UNSAFE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}

CSV_FIELDS = [
    "article_id",
    "title",
    "source_path",
    "label",
    "confidence",
    "reasons",
    "row_kind",
    "speaker",
    "speaker_kind",
    "speaker_check",
    "text",
    "cue",
    "channel",
    "start",
    "end",
    "posthumous",
    "event",
    "who",
    "when",
    "where",
    "attributed_to",
    "why",
    "check_with",
    "priority",
    "engine",
    "model",
    "prompt_version",
    "factcheck_matches",
    "review",
    "source",
]


@dataclass(frozen=True)
class Desk:
    """Who publishes the reviews: ClaimReview's ``author``. Set ``PIPELINE_DESK_NAME`` and
    ``PIPELINE_DESK_URL``; the defaults are placeholders (example.org is reserved for that)."""

    name: str = "Fact-check desk"
    url: str = "https://example.org/fact-check-desk"

    @classmethod
    def from_env(cls) -> Desk:
        return cls(
            name=os.environ.get("PIPELINE_DESK_NAME", cls.name),
            url=os.environ.get("PIPELINE_DESK_URL", cls.url),
        )


def without_nul(value: Any) -> Any:
    """``value`` with NUL removed from every string in it: no export carries one."""
    if isinstance(value, str):
        return value.replace("\0", "")
    if isinstance(value, dict):
        return {key: without_nul(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [without_nul(item) for item in value]
    return value


def spreadsheet_cell(value: Any) -> str:
    """One CSV cell that no spreadsheet reads as a formula (OWASP: prefix ``'``)."""
    text = "" if value is None else without_nul(str(value))
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def script_safe_json(value: Any, **dumps_options: Any) -> str:
    """JSON that can sit inside an HTML ``<script>`` element (JSON-LD) as it is: ``<``, ``>``
    and ``&`` appear only as ``\\u`` escapes, so no string can close the element."""
    text = json.dumps(without_nul(value), ensure_ascii=False, **dumps_options)
    for character, escaped in _SCRIPT_UNSAFE.items():
        text = text.replace(character, escaped)
    return text


def write_jsonl(articles: Iterable[SettledArticle], out: TextIO) -> int:
    """One analysis a line with its provenance and batch findings; returns the number written."""
    count = 0
    for article in articles:
        out.write(json.dumps(without_nul(article_record(article)), ensure_ascii=False) + "\n")
        count += 1
    return count


def write_csv(articles: Iterable[SettledArticle], out: TextIO) -> int:
    """One row per verified quote and per claim; returns the number of rows. Every cell is
    ``spreadsheet_cell``: text that starts like a formula gets a leading ``'`` (JSONL keeps
    the original)."""
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, extrasaction="ignore")
    writer.writeheader()

    def write(row: dict[str, Any]) -> None:
        writer.writerow({name: spreadsheet_cell(value) for name, value in row.items()})

    rows = 0
    for article in articles:
        result, found = article.result, article.findings
        posthumous_quotes = {(flag.start, flag.end) for flag in found.posthumous if flag.kind == "quote"}
        record = article_record(article)
        common = {
            **{name: record[name] for name in ("article_id", "title", "label", "engine", "model", "prompt_version")},
            "source_path": result.article.source_path,
            "confidence": f"{record['confidence']:.3f}",
            "reasons": ";".join(record["reasons"]),
            "factcheck_matches": json.dumps(record["factcheck_matches"], ensure_ascii=False) if found.factchecks else "",
            "review": found.review.describe() if found.review else "",
            "source": f"{found.source.standing.value}: {found.source.domain}" if found.source else "",
        }
        for quote in result.analysis.quotes:
            row = quote.model_dump(mode="json", exclude={"spans", "verified", "speaker_verified"})
            row["speaker_check"] = quote.speaker_check
            row["posthumous"] = "yes" if (quote.start, quote.end) in posthumous_quotes else ""
            write({**common, "row_kind": "quote", **row})
            rows += 1
        for claim in result.analysis.claims:
            row = claim.model_dump(mode="json")
            row["why"] = ";".join(row["why"])
            write({**common, "row_kind": "claim", **row})
            rows += 1
    return rows


def claimreview_items(articles: Iterable[SettledArticle], desk: Desk) -> list[dict[str, Any]]:
    """One schema.org ClaimReview per worklist claim. The rating says what the desk knows
    at triage time (the settled label): the claim is unconfirmed and names the source that
    would settle it. Known fact-checks the article matches are cited (``citation``, with
    ``factcheck_matches``)."""
    reviews: list[dict[str, Any]] = []
    for item in claims_worklist(articles):
        article, claim = item.article.result.article, item.claim
        appearance: dict[str, Any] = {"@type": "CreativeWork", "headline": article.title or article.source_path}
        if article.url:
            appearance["url"] = article.url
        if article.published:
            appearance["datePublished"] = article.published
        claimed: dict[str, Any] = {"@type": "Claim", "appearance": [appearance]}
        if claim.attributed_to or claim.who:
            claimed["author"] = {"@type": "Person", "name": claim.attributed_to or claim.who}
        if article.published:
            claimed["datePublished"] = article.published
        reviews.append(
            {
                "@context": "https://schema.org",
                "@type": "ClaimReview",
                "url": f"{desk.url.rstrip('/')}/articles/{article.article_id}",
                "datePublished": item.article.result.created_at[:10],
                "author": {"@type": "Organization", "name": desk.name, "url": desk.url},
                "claimReviewed": claim.event,
                "itemReviewed": claimed,
                "reviewRating": {
                    "@type": "Rating",
                    "alternateName": rating_text(item.article.label),
                    "ratingExplanation": f"Priority {claim.priority.value}; check with {claim.check_with}. "
                    f"Reasons: {', '.join(reason.value for reason in claim.why) or 'none given'}.",
                },
            }
        )
        matched = item.article.findings.factchecks
        if matched:
            reviews[-1]["citation"] = [{"@type": "CreativeWork", "url": m.url} for m in matched]
            reviews[-1]["factcheck_matches"] = [m.to_record() for m in matched]
    return reviews


def rating_text(label: Label) -> str:
    """ClaimReview's ``alternateName`` for a claim of an article with this settled label."""
    return "Unverified, likely fabricated" if label is Label.likely_fabrication else "Unverified"


def write_claimreview(articles: Iterable[SettledArticle], out: TextIO) -> int:
    """A JSON array of ClaimReview objects for the high-priority claims, safe to place in a
    ``<script type="application/ld+json">`` element as it is; returns how many."""
    reviews = claimreview_items(articles, Desk.from_env())
    out.write(script_safe_json(reviews, indent=2) + "\n")
    return len(reviews)


EXPORT_FORMATS = {"jsonl": write_jsonl, "csv": write_csv, "claimreview": write_claimreview}


def export_results(
    store: Store, format: str, out: TextIO, run_id: int | None = None, clock: NightClock = DEFAULT_NIGHT_CLOCK
) -> int:
    """Write the run's (or every article's latest) settled analyses in a format of ``EXPORT_FORMATS``."""
    if format not in EXPORT_FORMATS:
        raise UsageError(f"unknown export format {format!r}: choose one of {', '.join(EXPORT_FORMATS)}")
    if run_id is not None:
        store.run_summary(run_id)
    return EXPORT_FORMATS[format](read_settled(store, clock, run_id=run_id), out)
