"""The verdict after the batch's evidence: one function, the same in every view, the cache untouched."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.checks.verdict import BATCH_EVIDENCE_WEIGHT, probability_text, settle_with_evidence
from pipeline.desk.insight import BatchFindings, batch_findings, names_swapped
from pipeline.models import Analysis, Label
from pipeline.store import Store
from pipeline.views.worklist import build_worklist

from support import SEEDS


def _settled(analysis: Analysis, found: BatchFindings | None) -> Analysis:
    return settle_with_evidence(analysis, (found or BatchFindings()).batch_evidence(analysis))


def _invoke(*arguments: str) -> str:
    result = CliRunner().invoke(app, list(arguments))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def seeds_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("verdict") / "seeds.db"
    _invoke("run", str(SEEDS), "--db", str(db), "--engine", "offline")
    return db


def _records(db) -> list[dict]:
    lines = _invoke("export", "--format", "jsonl", "--db", str(db)).splitlines()
    return [json.loads(line) for line in lines if line.startswith("{")]


def test_the_seeds_run_are_all_exported_as_fabrications_with_the_template_cluster(seeds_db):
    records = _records(seeds_db)
    assert len(records) == 3
    for record in records:
        assert record["label"] == Label.likely_fabrication.value, record["sources"]
        assert "template_language" in record["reasons"] and record["batch"]["cluster"] is not None
        assert record["confidence"] == pytest.approx(record["probabilities"]["likely_fabrication"], abs=1e-4)
        assert abs(sum(record["probabilities"].values()) - 1) < 1e-3


def test_show_the_worklist_and_the_export_agree_and_the_cache_keeps_the_engines_answer(seeds_db):
    records = {record["article_id"]: record for record in _records(seeds_db)}
    with Store(seeds_db) as store:
        stored = {result.article.article_id: result for result in store.iter_results()}
        item = build_worklist(store).items[0]
    # The name-swapped variant: the engine alone said news, the batch's template cluster flags it.
    swapped = [article_id for article_id, result in stored.items() if result.analysis.label is not Label.likely_fabrication]
    assert len(swapped) == 1
    for article_id, record in records.items():
        shown = json.loads(_invoke("show", article_id, "--json", "--db", str(seeds_db)))
        assert (shown["label"], shown["confidence"]) == (record["label"], record["confidence"])
    assert sorted(item.article_ids) == sorted(records)
    assert item.probability == max(record["probabilities"]["likely_fabrication"] for record in records.values())
    terminal = _invoke("show", swapped[0], "--db", str(seeds_db))
    assert "likely_fabrication" in terminal and "The batch adds evidence" in terminal


def test_a_single_seed_alone_gets_no_template_evidence(tmp_path):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    seed = sorted(SEEDS.glob("002_*.txt"))[0]
    shutil.copy(seed, inputs / seed.name)
    db = tmp_path / "one.db"
    _invoke("run", str(inputs), "--db", str(db), "--engine", "offline")
    [record] = _records(db)
    assert record["batch"]["cluster"] is None and "template_language" not in record["reasons"]
    with Store(db) as store:
        [result] = list(store.iter_results())
        assert _settled(result.analysis, batch_findings(store).get(result.article.article_id)) is result.analysis
    assert (record["label"], record["confidence"]) == (result.analysis.label.value, result.analysis.confidence)


def test_one_piece_of_batch_evidence_is_not_certainty(seeds_db):
    with Store(seeds_db) as store:
        results = list(store.iter_results())
        findings = batch_findings(store)
    result = next(r for r in results if r.analysis.label is not Label.likely_fabrication)
    found = findings[result.article.article_id]
    assert found.template and not found.posthumous and not found.evidence()
    at_prior = replace(
        result,
        analysis=result.analysis.model_copy(update={"probabilities": {"news": 0.9, "tribute": 0.05, "likely_fabrication": 0.05}}),
    )
    after = _settled(at_prior.analysis, found).probabilities["likely_fabrication"]
    assert 0.5 < after < 0.9, "one template cluster flags an article at the feed's prior, far from certainty"
    assert 2 < BATCH_EVIDENCE_WEIGHT < 5
    # Without evidence the batch changes nothing, whatever the cluster.
    assert _settled(result.analysis, BatchFindings(cluster=found.cluster, template=False)) is result.analysis


def test_names_swapped_needs_different_people_in_the_variants():
    story = "Derek Hough met Len Goodman in Los Angeles. Derek Hough said Len Goodman was kind."
    other = "Mark Ballas met Carrie Ann in Los Angeles. Mark Ballas said Carrie Ann was kind."
    assert names_swapped([story, other])
    assert not names_swapped([story, story])
    assert not names_swapped([story])


def test_a_rewrite_that_names_its_people_in_another_order_is_no_template():
    wire = (
        "Mike Shouhed said on Tuesday that dating after his divorce from Jessica Parido is hard. "
        "Mike Shouhed told The Daily Dish that Golnesa Gharachedaghi gave him advice. Jessica Parido declined to comment."
    )
    rewrite = (
        "HEARTBREAKING! Golnesa Gharachedaghi and Golnesa Gharachedaghi's advice to Mike Shouhed! "
        "Golnesa Gharachedaghi says Mike Shouhed finds dating hard since Jessica Parido left."
    )
    assert names_swapped([wire, wire.replace("Mike Shouhed", "Reza Farahan")])
    assert not names_swapped([wire, rewrite])


@pytest.mark.parametrize(
    ("probability", "shown"), [(1.0, ">0.99"), (0.9999, ">0.99"), (0.0, "<0.01"), (0.004, "<0.01"), (0.5, "0.50"), (0.99, "0.99")]
)
def test_a_probability_never_reads_as_certain(probability, shown):
    assert probability_text(probability) == shown


def test_no_view_prints_a_certain_probability(seeds_db, tmp_path):
    html = tmp_path / "report.html"
    md = tmp_path / "summary.md"
    _invoke("report", "--html", str(html), "--md", str(md), "--db", str(seeds_db))
    worklist = _invoke("worklist", "--db", str(seeds_db))
    certain = re.compile(r"(?<![\d.$])[01]\.00(?!\d)")
    for text in (worklist, md.read_text(), html.read_text()):
        assert not certain.findall(text)
