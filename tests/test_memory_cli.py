"""The desk's memory from the command line: deaths, factchecks, review, sources, eval --reviews.

Every command's --json output is parsed; bad input is one line naming the file (and row or
line), exit 2, no traceback, and nothing written.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from support.memory_fixtures import CLAIM_REVIEW as REVIEW
from typer.testing import CliRunner

from pipeline.cli import app

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
ACTING = "Len Goodman was honoured on Sunday. Len smiles at the crowd, and the crowd cheers.\n"


@pytest.fixture
def cli(tmp_path):
    db = tmp_path / "p.db"

    def invoke(*args: str):
        return CliRunner().invoke(app, [*args, "--db", str(db)], env={"COLUMNS": "400"})

    return invoke


def _json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _refused(result, message: str) -> None:
    """One line naming what was wrong, exit 2, no traceback."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    [line] = result.stderr.strip().splitlines()
    assert message in line, line


def _run(cli, path: Path) -> None:
    result = cli("run", str(path), "--engine", "offline")
    assert result.exit_code == 0, result.output


def _seeds(tmp_path) -> Path:
    inputs = tmp_path / "seeds"
    shutil.copytree(SEEDS, inputs, ignore=shutil.ignore_patterns("README.md"))
    return inputs


def _article_id(cli, ref: str) -> str:
    return _json(cli("show", ref, "--json"))["article_id"]


def test_deaths_add_and_remove_apply_to_analysed_articles_at_the_next_run_and_report(cli, tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "acting.txt").write_text(ACTING)
    _run(cli, inputs)
    assert _json(cli("deaths", "--json")) == []
    assert "Posthumous attribution" not in cli("report").stdout

    entry = _json(cli("deaths", "add", "Len Goodman", "--date", "2023-04-22", "--source", "https://example.org/obit", "--json"))
    assert (entry["name"], entry["added_by_desk"], entry["date"], entry["evidence"]) == ("Len Goodman", True, "2023-04-22", [])
    [listed] = _json(cli("deaths", "--json"))
    assert listed["name"] == "Len Goodman" and listed["source"] == "https://example.org/obit"
    _run(cli, inputs)  # every article cached: the flag comes from the register, not a new analysis
    assert "**Posthumous attribution**: Len Goodman" in cli("report").stdout
    [flag] = _json(cli("show", "acting.txt", "--json"))["batch"]["posthumous"]
    assert (flag["person"], flag["kind"], flag["evidence_article_id"]) == ("Len Goodman", "act", None)

    removed = _json(cli("deaths", "remove", "len goodman", "--json"))
    assert removed["name"] == "Len Goodman"
    assert _json(cli("deaths", "--json")) == []
    _run(cli, inputs)
    assert "Posthumous attribution" not in cli("report").stdout
    assert _json(cli("show", "acting.txt", "--json"))["batch"]["posthumous"] == []
    _refused(cli("deaths", "remove", "Len Goodman"), "deaths remove: 'Len Goodman' is not in the death register")
    _refused(cli("deaths", "add", "  "), "deaths add: the name is empty")


def test_factchecks_import_reimport_list_and_a_malformed_file(cli, tmp_path):
    _run(cli, _seeds(tmp_path))
    checks = tmp_path / "checks.json"
    checks.write_text(
        json.dumps(
            {
                "@context": "https://schema.org",
                "@type": "DataFeed",
                "dataFeedElement": [{"@type": "DataFeedItem", "item": REVIEW}],
            }
        )
    )
    counts = _json(cli("factchecks", "import", str(checks), "--json"))
    assert (counts["read"], counts["added"], counts["updated"]) == (1, 1, 0)
    assert counts["matches"] >= 1  # the seed about Derek Hough and Len Goodman
    checks.write_text(json.dumps([{**REVIEW, "reviewRating": {"alternateName": "Pants on Fire"}}]))
    counts = _json(cli("factchecks", "import", str(checks), "--json"))
    assert (counts["read"], counts["added"], counts["updated"]) == (1, 0, 1)
    [stored] = _json(cli("factchecks", "--json"))
    assert (stored["url"], stored["rating"], stored["publisher"]) == (REVIEW["url"], "Pants on Fire", "Example Checks")

    other = {**REVIEW, "url": "https://checks.example.org/other"}
    malformed = tmp_path / "malformed.json"
    malformed.write_text(json.dumps([other, {"@type": "ClaimReview", "url": "https://x.example/1"}]))
    _refused(cli("factchecks", "import", str(checks), str(malformed)), f"{malformed}: $[1]: ClaimReview without claimReviewed")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json\n")
    _refused(cli("factchecks", "import", str(broken)), f"{broken}: not JSON")
    assert [c["url"] for c in _json(cli("factchecks", "--json"))] == [REVIEW["url"]]  # nothing half-written


def _worklist_csv(cli, path: Path, verdicts: dict[str, str], *, with_verdict: bool = True) -> None:
    """The CSV `export --format csv` writes, with the desk's `verdict` column filled in."""
    result = cli("export", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    fields = list(rows[0]) + (["verdict"] if with_verdict else [])
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, **({"verdict": verdicts.get(row["article_id"], "")} if with_verdict else {})})


def test_review_and_review_import_and_eval_reviews(cli, tmp_path):
    _run(cli, _seeds(tmp_path))
    first, second, third = (_article_id(cli, name) for name in sorted(p.name for p in SEEDS.glob("*.txt")))
    [review] = _json(
        cli("review", first[:10], "--verdict", "confirmed_fabrication", "--note", "invented", "--by", "ann", "--json")
    )
    assert (review["verdict"], review["article_ids"], review["reviewed_by"], review["note"]) == (
        "confirmed_fabrication",
        [first],
        "ann",
        "invented",
    )
    _refused(cli("review", "nosuchid", "--verdict", "accurate"), "review: no stored article or story matches 'nosuchid'")
    _refused(cli("review", first, "--verdict", "maybe"), "review: unknown verdict 'maybe'")

    nocolumn = tmp_path / "nocolumn.csv"
    _worklist_csv(cli, nocolumn, {}, with_verdict=False)
    _refused(cli("review", "import", str(nocolumn)), f"{nocolumn}: no 'verdict' column")
    unknown = tmp_path / "unknown.csv"
    unknown.write_text(f"article_id,verdict\n{second},false_positive\n{third},nonsense\n")
    _refused(cli("review", "import", str(unknown)), f"{unknown}: row 3: unknown verdict 'nonsense'")
    missing = tmp_path / "missing.csv"
    missing.write_text(f"article_id,verdict\n{second},false_positive\nnosuchid,accurate\n")
    _refused(cli("review", "import", str(missing)), f"{missing}: row 3: no stored article or story matches 'nosuchid'")
    assert len(_json(cli("eval", "--reviews", "--json"))["weeks"]) == 1
    assert _json(cli("eval", "--reviews", "--json"))["overall"]["reviewed"] == 1  # the bad files wrote nothing

    sheet = tmp_path / "worklist.csv"
    _worklist_csv(cli, sheet, {second: "false_positive", third: "confirmed_fabrication"})
    imported = _json(cli("review", "import", str(sheet), "--by", "bo", "--json"))
    assert sorted((r["article_ids"][0], r["verdict"], r["reviewed_by"]) for r in imported) == sorted(
        [(second, "false_positive", "bo"), (third, "confirmed_fabrication", "bo")]
    )  # one review per article, not per row
    figures = _json(cli("eval", "--reviews", "--json"))
    overall = figures["overall"]
    assert overall["reviewed"] == 3
    assert overall["tp"] + overall["fn"] == 2 and overall["fp"] + overall["tn"] == 1
    assert "week" in cli("eval", "--reviews").stdout


def test_sources_add_remove_and_a_file(cli, tmp_path):
    listed = _json(cli("sources", "add", "--trusted", "https://www.Wire.example/story", "--unreliable", "junk.example", "--json"))
    assert sorted((s["domain"], s["standing"]) for s in listed) == [("junk.example", "unreliable"), ("wire.example", "trusted")]
    domains = tmp_path / "domains.txt"
    domains.write_text("# unreliable sites\nfake.example\nhttps://more.example/path  # with a comment\n\n")
    listed = _json(cli("sources", "add", "--file", str(domains), "--standing", "unreliable", "--json"))
    assert [s["domain"] for s in listed] == ["fake.example", "more.example"]
    assert [(s["domain"], s["standing"]) for s in _json(cli("sources", "--json"))] == [
        ("fake.example", "unreliable"),
        ("junk.example", "unreliable"),
        ("more.example", "unreliable"),
        ("wire.example", "trusted"),
    ]
    assert _json(cli("sources", "remove", "fake.example", "nothere.example", "--json")) == {"removed": 1}

    bad = tmp_path / "bad.txt"
    bad.write_text("ok.example\nnot a domain\n")
    _refused(cli("sources", "add", "--file", str(bad), "--standing", "trusted"), f"{bad}: line 2: not a domain: 'not a domain'")
    _refused(cli("sources", "add", "--file", str(domains)), "give --standing trusted or --standing unreliable")
    _refused(cli("sources", "add", "--trusted", "ok.example", "--unreliable", "-nope-"), "not a domain: '-nope-'")
    assert [s["domain"] for s in _json(cli("sources", "--json"))] == ["junk.example", "more.example", "wire.example"]
