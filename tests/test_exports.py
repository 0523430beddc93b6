"""The exports other tools read: JSONL, CSV and schema.org ClaimReview."""

from __future__ import annotations

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.views.export import CSV_FIELDS, Desk, export_results
from pipeline.views.morning_report import collect_report
from pipeline.models import Usage
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


def test_csv_rereads_as_one_row_per_quote_and_per_claim(store_path):
    text, count = exported(store_path, "csv")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert list(rows[0]) == CSV_FIELDS
    records = [json.loads(line) for line in exported(store_path, "jsonl")[0].splitlines()]
    assert count == len(rows) == sum(len(r["quotes"]) + len(r["claims"]) for r in records)
    quotes = [row for row in rows if row["row_kind"] == "quote"]
    assert {row["row_kind"] for row in rows} == {"quote", "claim"}
    assert any("<b>final</b>" in row["text"] for row in quotes)  # multi-line, quoted, markup-bearing text survives
    assert {row["speaker"] for row in quotes if row["posthumous"] == "yes"} == {"Len", "Goodman"}


# schema.org ClaimReview: what Google's fact-check markup requires or recommends.
def test_claimreview_items_have_the_required_and_recommended_fields(store_path, monkeypatch):
    monkeypatch.setenv("PIPELINE_DESK_NAME", "Night desk")
    text, count = exported(store_path, "claimreview")
    reviews = json.loads(text)
    assert count == len(reviews) > 0
    for review in reviews:
        assert review["@context"] == "https://schema.org"
        assert review["@type"] == "ClaimReview"
        assert review["claimReviewed"].strip()
        assert review["url"].startswith("https://")
        assert len(review["datePublished"]) == 10
        assert review["author"] == {"@type": "Organization", "name": "Night desk", "url": Desk.url}
        item = review["itemReviewed"]
        assert item["@type"] == "Claim"
        assert item["appearance"] and item["appearance"][0]["@type"] == "CreativeWork"
        if "author" in item:
            assert item["author"]["name"]
        rating = review["reviewRating"]
        assert rating["@type"] == "Rating" and rating["alternateName"] and "check with" in rating["ratingExplanation"]


def test_the_cli_exports_claimreview(store_path):
    from typer.testing import CliRunner

    from pipeline.cli import app

    result = CliRunner().invoke(app, ["export", "--format", "claimreview", "--db", str(store_path)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["@type"] == "ClaimReview"


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
