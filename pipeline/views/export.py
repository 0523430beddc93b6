"""Exports for other tools: JSONL (one analysis a line), CSV (one row per article; the claims
and the quotes in their own CSVs), the review sheet ``review import`` reads back, and
ClaimReview (schema.org JSON-LD for the claims the desk has rated).

Every export reads settled articles (``pipeline.views.read``): the label, probabilities and
reasons are those after the batch's and the desk's evidence, as in ``show`` and the report,
and every one carries the desk's review status and verdict; ``batch`` says what the batch added
and why (see ``pipeline.desk.insight``).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from pipeline.errors import UsageError
from pipeline.desk.references import short_id
from pipeline.desk.reviews import Verdict
from pipeline.desk.settled import SettledArticle
from pipeline.models import Article, ClaimDraft
from pipeline.settings import DEFAULT_NIGHT_CLOCK, NightClock, Settings
from pipeline.store import Store
from pipeline.views.read import read_settled
from pipeline.views.record import article_record
from pipeline.views.worklist import claims_worklist, headline, top_claims

__all__ = [
    "EXPORT_FORMATS",
    "CSV_FIELDS",
    "QUOTE_FIELDS",
    "CLAIM_FIELDS",
    "REVIEW_FIELDS",
    "RATINGS",
    "Desk",
    "write_jsonl",
    "write_csv",
    "write_quotes_csv",
    "write_claims_csv",
    "write_review_sheet",
    "write_claimreview",
    "claimreview_items",
    "claim_author",
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

_ARTICLE_FIELDS = ["article_id", "ref", "title", "url", "source_path", "record_id"]
_VERDICT_FIELDS = ["label", "p_fabrication", "confidence", "review_status", "review_verdict"]
CSV_FIELDS = [
    *_ARTICLE_FIELDS,
    "night",
    *_VERDICT_FIELDS,
    "fabrication_score",
    "reasons",
    "reviewed_by",
    "review_note",
    "template_cluster",
    "quotes",
    "claims",
    "top_claim",
    "check_with",
    "factcheck_matches",
    "source",
    "engine",
    "model",
    "prompt_version",
]
"""``--format csv``: one row per article, the desk's verdict beside the settled label
(``template_cluster``, not ``story_id``: a filled sheet imports verdicts per article)."""
QUOTE_FIELDS = [
    *_ARTICLE_FIELDS,
    *_VERDICT_FIELDS,
    "speaker",
    "speaker_kind",
    "speaker_check",
    "text",
    "cue",
    "channel",
    "start",
    "end",
    "posthumous",
]
"""``--format quotes-csv``: one row per verified quote."""
CLAIM_FIELDS = [
    *_ARTICLE_FIELDS,
    *_VERDICT_FIELDS,
    "event",
    "who",
    "when",
    "where",
    "attributed_to",
    "why",
    "check_with",
    "priority",
]
"""``--format claims-csv``: one row per claim."""
REVIEW_FIELDS = [
    "story_id",
    "article_id",
    "title",
    "url",
    "source_path",
    "record_id",
    "label",
    "p_fabrication",
    "reasons",
    "review_status",
    "verdict",
    "note",
    "reviewed_by",
]
"""``--format review``: the sheet ``pipeline review import`` reads back once ``verdict`` is
filled (a row with ``story_id`` reviews the whole story; clear it to review one article)."""


@dataclass(frozen=True)
class Desk:
    """Who publishes the reviews: ClaimReview's ``author`` (settings ``desk_name``, ``desk_url``)."""

    name: str = "Fact-check desk"
    url: str = "https://example.org/fact-check-desk"

    @classmethod
    def of(cls, settings: Settings) -> Desk:
        return cls(name=settings.desk_name, url=settings.desk_url)


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


def _verdict_cells(article: SettledArticle) -> dict[str, Any]:
    """The cells every CSV row carries: the article, its settled label and the desk's verdict."""
    result, review = article.result, article.findings.review
    return {
        "article_id": article.article_id,
        "ref": short_id(article.article_id),
        "title": result.article.title,
        "url": result.article.url,
        "source_path": result.article.source_path,
        "record_id": result.article.record_id,
        "label": article.label.value,
        "p_fabrication": f"{article.p_fabrication:.4f}",
        "confidence": f"{article.confidence:.4f}",
        "review_status": article.review_status,
        "review_verdict": review.review.verdict.value if review else "",
    }


def _write_rows(out: TextIO, fields: list[str], rows: Iterable[dict[str, Any]]) -> int:
    """A CSV of these columns whose every cell is ``spreadsheet_cell``: text that starts like a
    formula gets a leading ``'`` (JSONL keeps the original); returns the number of rows."""
    writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow({name: spreadsheet_cell(value) for name, value in row.items()})
        count += 1
    return count


def _article_row(article: SettledArticle) -> dict[str, Any]:
    found, review = article.findings, article.findings.review
    claims = top_claims(article.result, shown=1)
    record = article_record(article)
    return {
        **_verdict_cells(article),
        "night": article.night,
        "fabrication_score": "" if record["fabrication_score"] is None else f"{record['fabrication_score']:.4f}",
        "reasons": ";".join(record["reasons"]),
        "reviewed_by": review.review.reviewed_by if review else "",
        "review_note": review.review.note if review else "",
        "template_cluster": found.cluster.cluster_id if found.cluster else "",
        "quotes": len(article.result.analysis.quotes),
        "claims": len(article.result.analysis.claims),
        "top_claim": claims[0].event if claims else "",
        "check_with": claims[0].check_with if claims else "",
        "factcheck_matches": json.dumps(record["factcheck_matches"], ensure_ascii=False) if found.factchecks else "",
        "source": f"{found.source.standing.value}: {found.source.domain}" if found.source else "",
        **{name: record[name] for name in ("engine", "model", "prompt_version")},
    }


def write_csv(articles: Iterable[SettledArticle], out: TextIO) -> int:
    """One row per article (``CSV_FIELDS``); returns the number of rows."""
    return _write_rows(out, CSV_FIELDS, map(_article_row, articles))


def _quote_rows(article: SettledArticle) -> Iterator[dict[str, Any]]:
    posthumous = {(flag.start, flag.end) for flag in article.findings.posthumous if flag.kind == "quote"}
    for quote in article.result.analysis.quotes:
        row = quote.model_dump(mode="json", exclude={"spans", "verified", "speaker_verified"})
        row["speaker_check"] = quote.speaker_check
        row["posthumous"] = "yes" if (quote.start, quote.end) in posthumous else ""
        yield {**_verdict_cells(article), **row}


def write_quotes_csv(articles: Iterable[SettledArticle], out: TextIO) -> int:
    """One row per verified quote (``QUOTE_FIELDS``); returns the number of rows."""
    return _write_rows(out, QUOTE_FIELDS, (row for article in articles for row in _quote_rows(article)))


def _claim_rows(article: SettledArticle) -> Iterator[dict[str, Any]]:
    for claim in article.result.analysis.claims:
        row = claim.model_dump(mode="json")
        row["why"] = ";".join(row["why"])
        yield {**_verdict_cells(article), **row}


def write_claims_csv(articles: Iterable[SettledArticle], out: TextIO) -> int:
    """One row per claim (``CLAIM_FIELDS``); returns the number of rows."""
    return _write_rows(out, CLAIM_FIELDS, (row for article in articles for row in _claim_rows(article)))


def _review_row(article: SettledArticle) -> dict[str, Any]:
    cells = _verdict_cells(article)
    cluster = article.findings.cluster
    return {
        **{name: cells[name] for name in ("article_id", "title", "url", "source_path", "record_id", "label", "p_fabrication")},
        "story_id": cluster.cluster_id if cluster else "",
        "reasons": ";".join(reason.value for reason in article.reasons),
        "review_status": article.review_status,
    }


def write_review_sheet(articles: Iterable[SettledArticle], out: TextIO) -> int:
    """The sheet ``review import`` reads (``REVIEW_FIELDS``), one row per article, ``verdict``
    empty for the desk to fill; returns the number of rows."""
    return _write_rows(out, REVIEW_FIELDS, map(_review_row, articles))


RATINGS = {
    Verdict.confirmed_fabrication: ("False", 1),
    Verdict.false_positive: ("Not a fabrication", 4),
    Verdict.accurate: ("True", 5),
}
"""The desk's verdicts that rate a claim, as ClaimReview's ``alternateName`` and
``ratingValue`` on a scale from 1 (worst) to 5 (best); ``needs_work`` rates nothing."""
_BEST, _WORST = 5, 1


def claim_author(claim: ClaimDraft) -> str:
    """Who made the claim, as ClaimReview's ``itemReviewed.author`` names them: the source the
    article cites when it is a named person or body, else "an unnamed source". Never the
    person the claim is about (``who``)."""
    cited = " ".join((claim.attributed_to or "").split())
    return cited if _named(cited) else "an unnamed source"


_UNNAMED_STARTS = ("a ", "an ", "the ", "one ", "some ", "sources", "insiders", "fans", "witnesses", "people", "reports")


def _named(cited: str) -> bool:
    """A cited source with a name: capitalised, not a description ("a source close to...")."""
    return bool(cited) and cited[0].isupper() and not cited.casefold().startswith(_UNNAMED_STARTS)


def _appearance(article: Article) -> dict[str, Any]:
    """Where the claim appeared: the article's URL and title (its first line without one),
    never a local path."""
    appearance: dict[str, Any] = {"@type": "CreativeWork", "headline": headline(article)}
    if article.url:
        appearance["url"] = article.url
    if article.published:
        appearance["datePublished"] = article.published
    return appearance


def claimreview_items(articles: Iterable[SettledArticle], desk: Desk, *, drafts: bool = False) -> list[dict[str, Any]]:
    """One schema.org ClaimReview per high-priority claim of an article the desk has rated
    (``RATINGS``), rated by the desk's verdict and dated by its review; with ``drafts``, the
    claims nobody has rated too, marked ``creativeWorkStatus: Draft`` with no rating value.
    Known fact-checks the article matches are cited (``citation``, with ``factcheck_matches``)."""
    reviews: list[dict[str, Any]] = []
    for number, item in enumerate(claims_worklist(articles)):
        status = item.article.findings.review
        rated = RATINGS.get(status.review.verdict) if status else None
        if rated is None and not drafts:
            continue
        result, claim = item.article.result, item.claim
        rating: dict[str, Any] = {"@type": "Rating", "bestRating": _BEST, "worstRating": _WORST}
        if rated and status:
            rating.update(alternateName=rated[0], ratingValue=rated[1])
            explanation = f"The desk's verdict: {status.review.verdict.value}" + (
                f" ({status.review.note})" if status.review.note else ""
            )
        else:
            rating["alternateName"] = "Not yet rated (draft)"
            explanation = f"Not checked yet: check with {claim.check_with}"
        rating["ratingExplanation"] = (
            f"{explanation}. Priority {claim.priority.value}; "
            f"reasons: {', '.join(reason.value for reason in claim.why) or 'none given'}."
        )
        review: dict[str, Any] = {
            "@context": "https://schema.org",
            "@type": "ClaimReview",
            "url": f"{desk.url.rstrip('/')}/articles/{result.article.article_id}#claim-{number}",
            "datePublished": (status.review.reviewed_at if rated and status else result.created_at)[:10],
            "author": {"@type": "Organization", "name": desk.name, "url": desk.url},
            "claimReviewed": claim.event,
            "itemReviewed": {
                "@type": "Claim",
                "author": {"@type": "Person", "name": claim_author(claim)},
                # When the article was published, else the day the desk first read it: no later.
                "datePublished": result.article.published or item.article.stored.created_at[:10],
                "appearance": [_appearance(result.article)],
            },
            "reviewRating": rating,
        }
        if not rated:
            review["creativeWorkStatus"] = "Draft"
        matched = item.article.findings.factchecks
        if matched:
            review["citation"] = [{"@type": "CreativeWork", "url": m.url} for m in matched]
            review["factcheck_matches"] = [m.to_record() for m in matched]
        reviews.append(review)
    return reviews


def write_claimreview(articles: Iterable[SettledArticle], out: TextIO, desk: Desk = Desk(), drafts: bool = False) -> int:
    """A JSON array of ClaimReview objects (``claimreview_items``), safe to place in a
    ``<script type="application/ld+json">`` element as it is; returns how many."""
    reviews = claimreview_items(articles, desk, drafts=drafts)
    out.write(script_safe_json(reviews, indent=2) + "\n")
    return len(reviews)


EXPORT_FORMATS = {
    "jsonl": write_jsonl,
    "csv": write_csv,
    "claims-csv": write_claims_csv,
    "quotes-csv": write_quotes_csv,
    "review": write_review_sheet,
    "claimreview": write_claimreview,
}


def export_results(
    store: Store,
    format: str,
    out: TextIO,
    run_id: int | None = None,
    clock: NightClock = DEFAULT_NIGHT_CLOCK,
    *,
    desk: Desk = Desk(),
    drafts: bool = False,
) -> int:
    """Write the run's (or every article's latest) settled analyses in a format of ``EXPORT_FORMATS``."""
    if format not in EXPORT_FORMATS:
        raise UsageError(f"unknown export format {format!r}: choose one of {', '.join(EXPORT_FORMATS)}")
    if drafts and format != "claimreview":
        raise UsageError("--drafts is for --format claimreview")
    if run_id is not None:
        store.run_summary(run_id)
    articles = read_settled(store, clock, run_id=run_id)
    if format == "claimreview":
        return write_claimreview(articles, out, desk, drafts)
    return EXPORT_FORMATS[format](articles, out)
