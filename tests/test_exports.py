"""The exports other tools read: JSONL, CSV and schema.org ClaimReview."""

from __future__ import annotations

import csv
import io
import json
import shutil

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.desk.reviews import Verdict
from pipeline.views.export import (
    CLAIM_FIELDS,
    CSV_FIELDS,
    QUOTE_FIELDS,
    RATINGS,
    REVIEW_FIELDS,
    claim_author,
    export_results,
)
from pipeline.views.morning_report import collect_report
from pipeline.models import ClaimDraft, Usage
from pipeline.pricing import ledger_cost, run_cost
from pipeline.store import Store

from support.batch_fixtures import analysed_store

# The JSONL fields documented in README; consumers depend on every one of them.
JSONL_FIELDS = {
    "article_id",
    "title",
    "url",
    "published",
    "sources",
    "label",
    "confidence",
    "reasons",
    "rationale",
    "quotes",
    "rejected_quotes",
    "claims",
    "signals",
    "engine",
    "model",
    "mode",
    "prompt_version",
    "prompt_hash",
    "schema_hash",
    "params",
    "usage",
    "latency_ms",
    "run_id",
    "created_at",
    "cache_key",
    "review_status",
    "review_verdict",
    "fabrication_score",
    "batch",
}


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    return analysed_store(tmp_path_factory.mktemp("exports"))


def exported(store_path, format: str) -> tuple[str, int]:
    out = io.StringIO()
    with Store(store_path) as store:
        count = export_results(store, format, out)
    return out.getvalue(), count


def test_jsonl_has_the_stable_fields_and_the_batch_reasons(store_path):
    text, count = exported(store_path, "jsonl")
    records = [json.loads(line) for line in text.splitlines()]
    assert count == len(records) == 4
    for record in records:
        assert JSONL_FIELDS <= set(record)
        assert set(record["batch"]) == {"reasons", "cluster", "posthumous", "unconfirmed_deaths", "review", "source"}
        assert record["factcheck_matches"] == []
        assert set(record["batch"]["reasons"]) <= set(record["reasons"])
    seeds = [r for r in records if not r["sources"][0]["source_path"].endswith("hostile.txt")]
    assert len({r["batch"]["cluster"]["cluster_id"] for r in seeds}) == 1
    assert all("template_language" in r["reasons"] for r in seeds)


def test_csv_is_one_row_per_article_with_the_desks_verdict_and_claims_and_quotes_have_their_own(store_path):
    text, count = exported(store_path, "csv")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert list(rows[0]) == CSV_FIELDS
    records = {r["article_id"]: r for r in map(json.loads, exported(store_path, "jsonl")[0].splitlines())}
    assert count == len(rows) == len(records) and {row["article_id"] for row in rows} == set(records)
    for row in rows:
        record = records[row["article_id"]]
        assert (row["label"], row["review_status"], row["review_verdict"]) == (
            record["label"],
            record["review_status"],
            record["review_verdict"] or "",
        )
        assert row["ref"] == row["article_id"][:12]
    quotes = list(csv.DictReader(io.StringIO(exported(store_path, "quotes-csv")[0], newline="")))
    claims = list(csv.DictReader(io.StringIO(exported(store_path, "claims-csv")[0], newline="")))
    assert list(quotes[0]) == QUOTE_FIELDS and list(claims[0]) == CLAIM_FIELDS
    assert len(quotes) == sum(len(r["quotes"]) for r in records.values())
    assert len(claims) == sum(len(r["claims"]) for r in records.values())
    assert all(row["review_status"] and row["label"] for row in quotes + claims)
    assert any("<b>final</b>" in row["text"] for row in quotes)  # multi-line, quoted, markup-bearing text survives
    assert {row["speaker"] for row in quotes if row["posthumous"] == "yes"} == {"Len", "Goodman"}


def test_the_review_sheet_round_trips_through_review_import(store_path, tmp_path):
    db = tmp_path / "copy.db"
    shutil.copy(store_path, db)
    with Store(db) as store:
        out = io.StringIO()
        export_results(store, "review", out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    assert list(rows[0]) == REVIEW_FIELDS and all(row["verdict"] == "" for row in rows)
    hostile = next(row for row in rows if row["source_path"].endswith("hostile.txt"))
    hostile["verdict"], hostile["note"] = "false_positive", "a real council story"
    story = next(row for row in rows if row["story_id"])
    story["verdict"] = "confirmed_fabrication"
    sheet = tmp_path / "sheet.csv"
    with open(sheet, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=REVIEW_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    imported = CliRunner().invoke(app, ["review", "import", str(sheet), "--db", str(db)])
    assert imported.exit_code == 0, imported.output
    records = {r["article_id"]: r for r in map(json.loads, exported(db, "jsonl")[0].splitlines())}
    assert records[hostile["article_id"]]["review_verdict"] == "false_positive"
    story_members = [r for r in records.values() if (r["batch"]["cluster"] or {}).get("cluster_id") == story["story_id"]]
    assert len(story_members) == 3 and all(r["review_verdict"] == "confirmed_fabrication" for r in story_members)
    # The desk's verdict reaches every export: the CSV and the ClaimReview rating follow it.
    csv_rows = {row["article_id"]: row for row in csv.DictReader(io.StringIO(exported(db, "csv")[0], newline=""))}
    assert csv_rows[hostile["article_id"]]["review_verdict"] == "false_positive"
    reviews = json.loads(exported(db, "claimreview")[0])
    assert reviews and {r["reviewRating"]["alternateName"] for r in reviews} <= {"False", "Not a fabrication"}
    rated = {r["url"].rsplit("/", 1)[1].split("#")[0]: r["reviewRating"] for r in reviews}
    for article_id, rating in rated.items():
        verdict = records[article_id]["review_verdict"]
        assert (rating["alternateName"], rating["ratingValue"]) == RATINGS[Verdict(verdict)]


# schema.org ClaimReview: the fields Google's fact-check markup documentation requires.
REQUIRED_RATING = {"@type", "alternateName", "ratingValue", "bestRating", "worstRating"}


def test_claimreview_is_written_only_for_rated_claims_with_every_required_field(store_path, tmp_path):
    assert json.loads(exported(store_path, "claimreview")[0]) == [], "nobody has rated a claim yet"
    db = tmp_path / "rated.db"
    shutil.copy(store_path, db)
    runner = CliRunner()
    env = {"PIPELINE_DESK_NAME": "Night desk", "PIPELINE_DESK_URL": "https://desk.example.com/checks"}
    records = {r["article_id"]: r for r in map(json.loads, exported(db, "jsonl")[0].splitlines())}
    fabricated = next(r for r in records.values() if r["batch"]["cluster"])
    assert (
        runner.invoke(
            app, ["review", fabricated["batch"]["cluster"]["cluster_id"], "--verdict", "confirmed_fabrication", "--db", str(db)]
        ).exit_code
        == 0
    )
    published = runner.invoke(app, ["export", "--format", "claimreview", "--db", str(db)], env=env)
    assert published.exit_code == 0, published.output
    reviews = json.loads(published.stdout)
    assert reviews
    for review in reviews:
        assert review["@context"] == "https://schema.org" and review["@type"] == "ClaimReview"
        assert review["claimReviewed"].strip()
        assert review["url"].startswith("https://desk.example.com/checks/articles/")
        assert len(review["datePublished"]) == 10
        assert review["author"] == {"@type": "Organization", "name": "Night desk", "url": "https://desk.example.com/checks"}
        rating = review["reviewRating"]
        assert REQUIRED_RATING <= set(rating) and rating["worstRating"] <= rating["ratingValue"] <= rating["bestRating"]
        assert (rating["alternateName"], rating["ratingValue"]) == ("False", 1)
        item = review["itemReviewed"]
        assert item["@type"] == "Claim" and item["author"]["name"] and len(item["datePublished"]) >= 10
        article_id = review["url"].rsplit("/", 1)[1].split("#")[0]
        [appearance] = item["appearance"]
        assert appearance["headline"] and records[article_id]["sources"][0]["source_path"] not in json.dumps(appearance)
        assert "creativeWorkStatus" not in review
    drafted = runner.invoke(app, ["export", "--format", "claimreview", "--drafts", "--db", str(db)], env=env)
    drafts = [r for r in json.loads(drafted.stdout) if r.get("creativeWorkStatus") == "Draft"]
    assert drafts and all("ratingValue" not in r["reviewRating"] for r in drafts)
    assert len(json.loads(drafted.stdout)) == len(reviews) + len(drafts)


def test_claimreview_author_is_who_made_the_claim_never_whom_it_is_about():
    def claim(attributed_to, who="Derek Hough"):
        return ClaimDraft(
            event="He danced.",
            who=who,
            when=None,
            where=None,
            attributed_to=attributed_to,
            why=[],
            check_with="x",
            priority="high",
        )

    assert claim_author(claim("Reuters")) == "Reuters"
    assert claim_author(claim("Mayor Tom Jones")) == "Mayor Tom Jones"
    for unnamed in (None, "", "a source close to the family", "insiders", "the family's spokesperson", "fans"):
        assert claim_author(claim(unnamed)) == "an unnamed source", unnamed


def test_the_cli_exports_claimreview(store_path):
    from typer.testing import CliRunner

    from pipeline.cli import app

    result = CliRunner().invoke(app, ["export", "--format", "claimreview", "--drafts", "--db", str(store_path)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["@type"] == "ClaimReview"
    refused = CliRunner().invoke(app, ["export", "--format", "csv", "--drafts", "--db", str(store_path)])
    assert refused.exit_code == 2 and "--drafts is for --format claimreview" in refused.output


def test_show_json_is_the_jsonl_export_line(store_path):
    text, _count = exported(store_path, "jsonl")
    lines = text.splitlines()
    with_batch_reasons = 0
    for line in lines:
        record = json.loads(line)
        shown = CliRunner().invoke(app, ["show", record["cache_key"], "--json", "--db", str(store_path)])
        assert shown.exit_code == 0, shown.output
        assert shown.stdout.strip() == line
        with_batch_reasons += bool(record["batch"]["reasons"])
    assert with_batch_reasons == 3, "the seeds' cluster reasons are part of the compared records"


def test_runs_and_the_report_show_one_cost(store_path, tmp_path):
    runs = CliRunner().invoke(app, ["runs", "--db", str(store_path)], env={"COLUMNS": "400"})
    assert runs.exit_code == 0, runs.output
    with Store(store_path) as store:
        report = collect_report(store)
    assert report.cost == 0.0
    assert "$0.0000" in runs.stdout and "unknown" not in runs.stdout


@pytest.mark.parametrize(("engine", "expected"), [("offline", 0.0), ("llm", 0.75), ("llm-batch", 0.375), ("llm?", None)])
def test_one_cost_function_prices_every_kind_of_run(engine, expected):
    usage = Usage(requests=1, input_tokens=1_000_000, output_tokens=1_000_000)
    model = "gpt-4o-mini" if engine != "llm?" else "my-local-model"
    cost = run_cost(engine.rstrip("?"), model, usage)
    assert cost == (pytest.approx(expected) if expected is not None else None)
    assert (
        ledger_cost(
            {"engine": engine.rstrip("?"), "model": model, "requests": 1, "input_tokens": 1_000_000, "output_tokens": 1_000_000}
        )
        == cost
    )
