"""Figures of `pipeline.evaluate` on small hand-made files, with stub engines where the
expected numbers must be exact."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.errors import UsageError
from pipeline.evaluate import detect_task, evaluate_file, render_eval, speaker_matches
from pipeline.models import Article, ArticleVerdict, ClaimDraft, Label, Priority, QuoteDraft, SpeakerKind

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "labelled" / "articles.jsonl"


def _write(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _verdict(label: Label = Label.news, confidence: float = 0.5, quotes=(), claims=()) -> ArticleVerdict:
    return ArticleVerdict(label=label, confidence=confidence, reasons=[], rationale="", quotes=list(quotes), claims=list(claims))


def test_detect_task() -> None:
    assert detect_task([{"label": "news"}]) == "label"
    assert detect_task([{"label": "check_worthy"}]) == "claims"
    assert detect_task([{"quotes": []}]) == "quotes"
    with pytest.raises(UsageError):
        detect_task([{"label": "other"}])


def test_labels_on_the_hand_written_fixtures() -> None:
    figures = evaluate_file(FIXTURES)
    assert figures["task"] == "label"
    assert figures["records"] == 9
    assert figures["accuracy"] == 1.0
    assert figures["balanced_accuracy"] == 1.0
    assert figures["confusion"]["tribute"]["tribute"] == 3
    assert figures["per_class"]["likely_fabrication"]["f1"] == 1.0
    text = render_eval(figures)
    assert "balanced accuracy 1.000" in text and "tribute" in text


def test_label_figures_and_calibration_with_a_stub(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "labels.jsonl",
        [
            {"id": "a", "text": "fake one", "label": "likely_fabrication"},
            {"id": "b", "text": "fake two", "label": "likely_fabrication"},
            {"id": "c", "text": "real one", "label": "news"},
            {"id": "d", "text": "real two", "label": "news"},
        ],
    )

    def analyse(article: Article) -> ArticleVerdict:
        if article.text == "fake two":
            return _verdict(Label.news, 0.9)
        return _verdict(Label.likely_fabrication if "fake" in article.text else Label.news, 0.9)

    figures = evaluate_file(path, analyse=analyse)
    assert figures["accuracy"] == 0.75
    assert figures["balanced_accuracy"] == pytest.approx((0.5 + 1.0) / 2)
    assert figures["per_class"]["news"]["precision"] == pytest.approx(2 / 3)
    # All four at confidence 0.9, three right: |0.9 - 0.75|.
    assert figures["ece"] == pytest.approx(0.15)


def _polnear_record() -> dict:
    text = "Donald Trump spoke in Iowa.\n\n“We will win so much,” he said.\n\nCritics called it “a show.”"
    first = text.index("“We")
    return {
        "id": "p1",
        "text": text,
        "quotes": [
            {
                "speaker": "he",
                "speaker_start": text.index("he said"),
                "start": first,
                "end": text.index(" he said"),
                "quote_spans": [[first, text.index(" he said")]],
                "quote_type": "direct",
            },
            {
                "speaker": "Donald Trump",
                "speaker_start": 0,
                "start": 0,
                "end": 12,
                "quote_spans": [[0, 12]],
                "quote_type": "indirect",
            },
        ],
    }


def test_quote_figures(tmp_path: Path) -> None:
    path = _write(tmp_path / "quotes.jsonl", [_polnear_record()])

    def analyse(article: Article) -> ArticleVerdict:
        return _verdict(
            quotes=[
                QuoteDraft(
                    speaker="Trump", speaker_kind=SpeakerKind.named, text="We will win so much,", cue="said", channel=None
                ),
                QuoteDraft(speaker="Critics", speaker_kind=SpeakerKind.crowd, text="a show.", cue="called", channel=None),
                QuoteDraft(speaker="x", speaker_kind=SpeakerKind.named, text="never in the text", cue=None, channel=None),
            ]
        )

    figures = evaluate_file(path, analyse=analyse)
    direct = figures["by_type"]["direct"]
    assert direct["exact"]["recall"] == 1.0
    assert direct["overlap"]["precision"] == pytest.approx(1 / 3)  # one right, "a show." and the missing one wrong
    assert direct["speaker_accuracy"] == 1.0  # "he" stands for the earlier gold speaker Donald Trump
    assert figures["unlocated"] == 1
    assert "direct" in render_eval(figures)


def test_a_mixed_quote_is_compared_on_its_quoted_words(tmp_path: Path) -> None:
    text = "Critics said the plan was “a gift to the rich and nothing else” on Monday."
    start = text.index("the plan")
    end = text.index(" on Monday")
    record = {
        "id": "m",
        "text": text,
        "quotes": [
            {
                "speaker": "Critics",
                "speaker_start": 0,
                "start": start,
                "end": end,
                "quote_spans": [[start, end]],
                "quote_type": "mixed",
            }
        ],
    }
    path = _write(tmp_path / "mixed.jsonl", [record])

    def analyse(article: Article) -> ArticleVerdict:
        return _verdict(
            quotes=[
                QuoteDraft(
                    speaker="Critics",
                    speaker_kind=SpeakerKind.crowd,
                    text="a gift to the rich and nothing else",
                    cue="said",
                    channel=None,
                )
            ]
        )

    figures = evaluate_file(path, analyse=analyse)
    assert figures["by_type"]["mixed"]["overlap"]["recall"] == 1.0
    assert figures["unmatched_predictions"] == 0  # so it is not a wrong direct quote either
    assert figures["by_type"]["mixed"]["speaker_accuracy"] == 1.0


def test_offline_engine_on_a_polnear_like_record(tmp_path: Path) -> None:
    figures = evaluate_file(_write(tmp_path / "quotes.jsonl", [_polnear_record()]))
    assert figures["task"] == "quotes"
    assert figures["by_type"]["direct"]["overlap"]["f1"] == 1.0
    assert figures["by_type"]["direct"]["speaker_accuracy"] == 1.0


def test_speaker_rule() -> None:
    assert speaker_matches("Rosette Pambakian", "Rosette Pambakian, a Tinder spokeswoman,", None)
    assert speaker_matches("he", "he", None)
    assert speaker_matches("Donald Trump", "he", "Trump")
    assert not speaker_matches("Hillary Clinton", "he", "Trump")
    assert not speaker_matches("Mr. Smith", "Ms. Jones", None)


def test_claim_figures(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "claims.jsonl",
        [
            {"id": "1", "text": "Taxes rose 10 percent.", "label": "check_worthy"},
            {"id": "2", "text": "Crime fell 5 percent.", "label": "check_worthy"},
            {"id": "3", "text": "I love this country.", "label": "not_check_worthy"},
            {"id": "4", "text": "Thank you, percent.", "label": "not_check_worthy"},
            {"id": "5", "text": "We built 300 schools.", "label": "check_worthy"},
        ],
    )
    claim = ClaimDraft(
        event="e", who=None, when=None, where=None, attributed_to=None, why=[], check_with="x", priority=Priority.low
    )

    def analyse(article: Article) -> ArticleVerdict:
        return _verdict(claims=[claim] if "percent" in article.text else [])

    figures = evaluate_file(path, analyse=analyse)
    worthy = figures["check_worthy"]
    assert (worthy["precision"], worthy["recall"]) == (pytest.approx(2 / 3), pytest.approx(2 / 3))
    assert figures["accuracy"] == pytest.approx(3 / 5)
    assert "check_worthy" in render_eval(figures)


def test_progress_bar_does_not_change_figures(tmp_path: Path) -> None:
    assert evaluate_file(FIXTURES, progress=True)["accuracy"] == evaluate_file(FIXTURES)["accuracy"]


def test_unknown_task_is_refused() -> None:
    with pytest.raises(UsageError):
        evaluate_file(FIXTURES, task="sentiment")
