"""A hostile model's quotes through ``pipeline run`` (a canned engine, verified as a live
answer is): invented, narration, stitched, appended-narration and lone-word quotes end in
``rejected_quotes`` with their reason, a swapped speaker in ``speaker_verified: false``, and
``pipeline runs`` counts the reasons."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

from rich.console import Console

from pipeline.engines.canned import CannedEngine
from pipeline.views.export import export_results
from pipeline.models import (
    Article,
    ArticleVerdict,
    CacheIdentity,
    EngineAnswer,
    Label,
    QuoteDraft,
    ReasonCode,
    SpeakerKind,
    Usage,
)
from pipeline.views.read import read_settled
from pipeline.views.terminal import analysis_view, runs_table
from pipeline.runs import analyse_article, run
from pipeline.settings import Engine, Settings
from pipeline.inputs import iter_articles
from pipeline.store import Store
from pipeline.checks.quotes import LONE_WORD, NARRATION, NOT_FOUND, NOT_QUOTED, STITCHED

ARTICLE = (
    "Derek Hough and Len Goodman worked together for years.\n"
    "“He was tough,” Derek once said, “but that’s what made his approval mean everything.”\n"
    "“We won the final,” Smith told reporters. “They were lucky tonight,” said Jones.\n"
)

HOSTILE = {
    "He was tough, but that's what made his approval mean everything.": ("Derek Hough", None),
    "He was tough": ("Len Goodman", "swapped"),
    "the": ("Derek Hough", LONE_WORD),
    "Derek Hough and Len Goodman worked together for years.": ("Derek Hough", NOT_QUOTED),
    "We won the final, They were lucky tonight": ("Smith", STITCHED),
    "We won the final,” Smith told reporters": ("Smith", NARRATION),
    "Len would have wanted this on the main stage.": ("Len Goodman", NOT_FOUND),
}


def _answer() -> EngineAnswer:
    quotes = [
        QuoteDraft(speaker=speaker, speaker_kind=SpeakerKind.named, text=text, cue="said", channel=None)
        for text, (speaker, _) in HOSTILE.items()
    ]
    verdict = ArticleVerdict(label=Label.news, confidence=0.6, reasons=[], rationale="canned", quotes=quotes, claims=[])
    return EngineAnswer(verdict=verdict, raw_responses=["{}"], usage=Usage(requests=1, input_tokens=10, output_tokens=10))


def _article_file(tmp_path: Path) -> tuple[Path, Article]:
    path = tmp_path / "article.txt"
    path.write_text(ARTICLE, encoding="utf-8")
    [article] = list(iter_articles([str(path)]))
    return path, article


IDENTITY = CacheIdentity(
    engine="canned", model="hostile", mode="test", prompt_version="-", prompt_hash="-", schema_hash="-", params={}
)


def test_hostile_quotes_are_rejected_or_unconfirmed_and_counted(tmp_path: Path) -> None:
    path, article = _article_file(tmp_path)
    engine = CannedEngine("canned", IDENTITY, {article.article_id: _answer()})
    settings = Settings(engine=Engine.offline, db=tmp_path / "pipeline.db", min_file_age=0).validated()
    result = run([str(path)], settings, engine=engine)
    assert result.counts["ok"] == 1
    with Store(settings.db) as store:
        [stored] = list(store.iter_results(result.run_id, analysed_only=True))
        [settled] = read_settled(store, settings.night_clock, run_id=result.run_id)
        runs = store.runs(1)
        csv_out = io.StringIO()
        export_results(store, "quotes-csv", csv_out)
    analysis = stored.analysis
    verified = {quote.text: quote for quote in analysis.quotes}
    split = verified["He was tough, but that’s what made his approval mean everything."]
    assert split.speaker_verified and len(split.spans) == 2
    assert not verified["He was tough"].speaker_verified
    assert verified["He was tough"].speaker_check == "speaker unconfirmed"
    rejected = {quote.text: quote.reason for quote in analysis.rejected_quotes}
    assert rejected == {text: reason for text, (_, reason) in HOSTILE.items() if reason not in (None, "swapped")}
    assert runs[0]["rejected_quotes"] == {reason: 1 for reason in rejected.values()}
    assert "5: " in "".join(str(cell) for column in runs_table(runs).columns for cell in column._cells)
    shown = io.StringIO()
    Console(file=shown, width=200).print(analysis_view(settled))
    assert shown.getvalue().count("speaker unconfirmed") == 1
    assert csv_out.getvalue().count("speaker unconfirmed") == 1


def _named_sourcing_answer(speaker: str) -> EngineAnswer:
    quote = QuoteDraft(speaker=speaker, speaker_kind=SpeakerKind.named, text="He was tough", cue="said", channel=None)
    verdict = ArticleVerdict(
        label=Label.news, confidence=0.6, reasons=[ReasonCode.named_sourcing], rationale="canned", quotes=[quote], claims=[]
    )
    return EngineAnswer(verdict=verdict, raw_responses=["{}"], usage=Usage(requests=1, input_tokens=1, output_tokens=1))


def test_named_sourcing_stands_only_on_a_quote_whose_speaker_the_text_confirms(tmp_path: Path) -> None:
    _, article = _article_file(tmp_path)
    reasons = {}
    for speaker in ("Derek Hough", "Len Goodman"):
        engine = CannedEngine("canned", IDENTITY, {article.article_id: _named_sourcing_answer(speaker)})
        analysis, _ = asyncio.run(analyse_article(article, engine))
        [quote] = analysis.quotes
        reasons[speaker] = (quote.speaker_verified, analysis.reasons)
    assert reasons == {"Derek Hough": (True, [ReasonCode.named_sourcing]), "Len Goodman": (False, [])}
