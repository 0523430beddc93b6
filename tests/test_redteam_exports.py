"""Red team, causes 3 and 8 (and NUL, cause 5): exports are safe where they are opened.

An engine answers with hostile strings in every field an export writes; the article text,
titles and record ids carry them too. CSV cells never start like a formula, JSONL keeps every
original, ClaimReview JSON-LD can sit in a ``<script>`` element, and no export holds a NUL.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
from html.parser import HTMLParser

import pytest

from pipeline.views.export import export_results
from pipeline.models import ArticleVerdict, EngineAnswer, Usage
from pipeline.runs import run_batch
from pipeline.settings import load_settings
from pipeline.store import CacheIdentity, Store

FORMULAS = [
    '=HYPERLINK("http://evil.test","x")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "=cmd|'/c notepad'!_xlbgnm.A1",
]
SCRIPT = [
    "</script><script>document.title='PWNED'</script>",
    "</SCRIPT ><img src=x onerror=alert(1)>",
    "<!--<script>",
    "a & b &amp; c",
    "]]></x>",
]


class ScriptedEngine:
    """Answers every article with the quotes it contains and claims full of ``strings``."""

    name = "scripted"
    identity = CacheIdentity(
        engine="scripted", model="scripted", mode="test", prompt_version="p", prompt_hash="h", schema_hash="s", params={}
    )

    def __init__(self, strings: list[str]):
        self.strings = strings

    async def analyse(self, article, parse=None):
        quotes = [
            {"speaker": s, "speaker_kind": "named", "text": s, "cue": s, "channel": s}
            for s in self.strings
            if s.strip() in article.text
        ]
        claims = [
            {
                "event": s,
                "who": s,
                "when": s,
                "where": s,
                "attributed_to": s,
                "why": ["uncorroborated_event"],
                "check_with": s,
                "priority": "high",
            }
            for s in self.strings
        ]
        verdict = ArticleVerdict.model_validate(
            {
                "label": "likely_fabrication",
                "confidence": 0.9,
                "reasons": [],
                "rationale": self.strings[0],
                "quotes": quotes,
                "claims": claims,
            }
        )
        return [EngineAnswer(verdict=verdict, raw_responses=[], usage=Usage(requests=0, input_tokens=0, output_tokens=0))]


def _analysed(tmp_path, strings: list[str]) -> Store:
    inputs = tmp_path / "in"
    inputs.mkdir()
    records = [
        {
            "id": value,
            "title": value,
            "url": f"https://example.org/{number}",
            "text": f'Officials said "{value.strip()}" on Monday.\n{value} was posted online, number {number}.',
        }
        for number, value in enumerate(strings)
    ]
    (inputs / "records.jsonl").write_text("\n".join(json.dumps(record) for record in records), encoding="utf-8")
    settings = load_settings({"engine": "offline", "db": tmp_path / "p.db"})
    store = Store(settings.db)
    asyncio.run(run_batch([str(inputs)], settings, store, engine=ScriptedEngine(strings)))
    return store


def _export(store: Store, format: str) -> str:
    """The export, ClaimReview with its drafts: nobody has rated these claims."""
    out = io.StringIO()
    export_results(store, format, out, drafts=format == "claimreview")
    return out.getvalue()


@pytest.mark.cause(3)
def test_redteam_csvformula_no_cell_starts_like_a_formula_and_jsonl_keeps_the_original(tmp_path):
    with _analysed(tmp_path, FORMULAS) as store:
        rows = [
            row
            for format in ("csv", "claims-csv", "quotes-csv", "review")
            for row in list(csv.reader(io.StringIO(_export(store, format), newline="")))[1:]
        ]
        jsonl = [json.loads(line) for line in _export(store, "jsonl").splitlines()]
    cells = [cell for row in rows for cell in row]
    assert len(rows) > len(FORMULAS), "quotes and claims were exported"
    dangerous = [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert not dangerous, dangerous[:5]
    for formula in FORMULAS:
        assert "'" + formula in cells, f"{formula!r} is kept, neutralised, not dropped"
    assert {record["title"] for record in jsonl} == {formula.strip() for formula in FORMULAS}
    assert any(claim["event"] == FORMULAS[0] for record in jsonl for claim in record["claims"])


class _ScriptText(HTMLParser):
    """What a browser takes as the text of each <script> element, and any other element it meets."""

    def __init__(self):
        super().__init__()
        self.scripts: list[str] = []
        self.elements: list[str] = []
        self._inside = False

    def handle_starttag(self, tag, attrs):
        if tag == "script" and not self._inside:
            self._inside = True
            self.scripts.append("")
        else:
            self.elements.append(tag)

    def handle_endtag(self, tag):
        if tag == "script":
            self._inside = False

    def handle_data(self, data):
        if self._inside:
            self.scripts[-1] += data


@pytest.mark.cause(8)
def test_redteam_jsonld_claimreview_embeds_in_a_script_element_as_it_is(tmp_path):
    with _analysed(tmp_path, SCRIPT) as store:
        exported = _export(store, "claimreview")
    assert not re.search(r"[<>&]", exported), "every <, > and & is a \\u escape"
    page = f'<html><head><script type="application/ld+json">{exported}</script></head><body></body></html>'
    parser = _ScriptText()
    parser.feed(page)
    assert len(parser.scripts) == 1 and parser.elements == ["html", "head", "body"], "nothing escaped the element"
    reviews = json.loads(parser.scripts[0])
    assert {review["claimReviewed"] for review in reviews} == set(SCRIPT), "the claims read back exactly"
    assert {review["itemReviewed"]["appearance"][0]["headline"] for review in reviews} == {s.strip() for s in SCRIPT}


@pytest.mark.cause(5)
def test_redteam_markup_no_export_holds_a_nul(tmp_path):
    strings = ["nul\x00inside", "\x00=lead", "tail\x00"]
    with _analysed(tmp_path, strings) as store:
        for format in ("jsonl", "csv", "claims-csv", "review", "claimreview"):  # these articles hold no quote
            exported = _export(store, format)
            assert "\x00" not in exported and "\\u0000" not in exported, format
            assert "nulinside" in exported, f"{format}: the rest of the string is kept"
