"""Measure an engine against labelled JSONL (the formats in ``../shared/eval/dev``).

Three tasks, detected from the records when not given:

- ``label``: records carry ``label`` news / likely_fabrication. Confusion matrix, per-class
  precision/recall/F1, accuracy, balanced accuracy (mean recall over the gold classes present)
  and expected calibration error (10 equal-width bins of the verdict's confidence).
- ``quotes``: records carry ``quotes`` (PolNeAR). The engine's quotes are located in the text
  as ``pipeline.checks.quotes`` locates them (each piece of a split quote on its own) and matched one-to-one to gold quotes, best overlap
  first. Both sides are trimmed of quote marks, whitespace and edge punctuation before comparing.
  A PolNeAR *mixed* quote's span runs over the writer's paraphrase as well as the words inside
  quotation marks ("said he was “not worried”"); an engine reports only the quoted words (the
  schema's quote text is the words copied exactly), so a mixed gold quote is compared on the
  characters inside its quotation marks (on its whole span when it has none). Without this a
  correctly reported fragment of a mixed quote could never reach the overlap threshold and
  would count as a wrong prediction against every type.
  Quotes that cannot be found in the text count as wrong predictions.
  *Exact*: identical character sets. *Overlap*: the shared characters are at least half of the
  longer side. Per quote type, recall is over the gold quotes of that type and precision counts
  the predictions matched to that type plus the predictions matched to nothing (a prediction
  matched to another type is neither right nor wrong for this one).
  *Speaker accuracy* on overlap-matched quotes. PolNeAR speakers are the words as written, often
  a pronoun or a name with its appositive ("Rosette Pambakian, a Tinder spokeswoman,"). A
  predicted speaker is right when it shares a content word (not a title, article or pronoun)
  with the gold words, or equals them; a gold pronoun also stands for the nearest preceding gold
  speaker in the article that is not a pronoun, so "Trump" is right where the gold says "he"
  after "Donald Trump said".
- ``claims``: records carry ``label`` check_worthy / not_check_worthy, one sentence each. A
  sentence is predicted check-worthy iff the engine returns at least one claim for it.
"""

from __future__ import annotations

import asyncio
from functools import partial
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from pipeline.views.console import SafeConsole
from pipeline.models import Article, ArticleVerdict, Label
from pipeline.offline import analyse_offline
from pipeline.engines import OfflineEngine, make_engine
from pipeline.errors import InputError, UsageError
from pipeline.settings import Settings
from pipeline.inputs import article_id, load_json
from pipeline.checks.quotes import verify_quotes

__all__ = ["evaluate_file", "render_eval", "detect_task", "speaker_matches", "engine_analyser", "TASKS"]

TASKS = ("label", "quotes", "claims")
_QUOTE_TYPES = ("direct", "mixed", "indirect")
_CALIBRATION_BINS = 10
_MIN_OVERLAP = 0.5
_TRIM = " \t\n\r\"'“”‘’,.;:!?—–-…"
_SPEAKER_STOPWORDS = frozenset(
    """a an the of for and or in on at to by with from as his her their its our my your this that
    mr mrs ms dr sen rep gov gen lt col sgt prof rev capt sir former who which said says
    he she they we i it you him them us me one""".split()
)
_PRONOUNS = frozenset({"he", "she", "they", "we", "i", "it", "who", "you"})


def _read_records(path: Path) -> list[dict[str, Any]]:
    records = []
    try:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    record = load_json(line)
                    if not isinstance(record, dict):
                        raise InputError(str(path), f"line {number}: a record is a JSON object")
                    records.append(record)
    except json.JSONDecodeError as error:
        raise InputError(str(path), f"line {number}: not JSON ({error.msg})") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(str(path), f"cannot read it ({error})") from None
    return records


def detect_task(records: Iterable[dict[str, Any]]) -> str:
    """The task the records are labelled for; UsageError when none fits."""
    for record in records:
        if "quotes" in record:
            return "quotes"
        label = record.get("label")
        if label in ("check_worthy", "not_check_worthy"):
            return "claims"
        if label in (Label.news, Label.likely_fabrication, Label.tribute):
            return "label"
    raise UsageError("cannot tell the task from these records: no `quotes` and no known `label`; give --task")


def _article(record: dict[str, Any], path: Path) -> Article:
    text = record.get("text")
    if not isinstance(text, str):
        raise InputError(str(path), f"record {record.get('id', '(no id)')!r} has no `text`")
    return Article(
        article_id=article_id(text),
        text=text,
        title=record.get("title") or None,
        url=None,
        published=record.get("publication_date"),
        source_path=str(path),
        record_id=record.get("id"),
    )


def _with_progress(items: list[dict[str, Any]], enabled: bool, description: str) -> Iterator[dict[str, Any]]:
    if not enabled:
        yield from items
        return
    from rich.progress import Progress, TextColumn

    # The description names the dataset file: plain text, never markup.
    columns = (TextColumn("{task.description}", markup=False), *Progress.get_default_columns()[1:])
    with Progress(*columns, console=SafeConsole(stderr=True), transient=True) as progress:
        task = progress.add_task(description, total=len(items))
        for item in items:
            yield item
            progress.advance(task)


def engine_analyser(settings: Settings) -> Callable[[Article], ArticleVerdict]:
    """The engine the settings choose, as the synchronous ``analyse`` that ``evaluate_file`` takes.

    LLM answers are taken as the model gives them, before quote verification, so the
    figures measure the model; one event loop serves every call so the HTTP client's
    connections are reused.
    """
    engine = make_engine(settings)
    if isinstance(engine, OfflineEngine):
        return partial(analyse_offline, prior=engine.prior)
    loop = asyncio.new_event_loop()

    def analyse(article: Article) -> ArticleVerdict:
        return loop.run_until_complete(engine.analyse(article))[-1].verdict

    return analyse


def evaluate_file(
    path: Path,
    task: str | None = None,
    analyse: Callable[[Article], ArticleVerdict] = analyse_offline,
    progress: bool = False,
) -> dict[str, Any]:
    """Run `analyse` over every record of a labelled JSONL file and return the figures."""
    if task is not None and task not in TASKS:
        raise UsageError(f"unknown task {task!r}: choose one of {', '.join(TASKS)}")
    records = _read_records(path)
    task = task or detect_task(records)
    rows = _with_progress(records, progress, f"{task} · {path.name}")
    if task == "label":
        figures = _label_figures(rows, path, analyse)
    elif task == "quotes":
        figures = _quote_figures(rows, path, analyse)
    else:
        figures = _claim_figures(rows, path, analyse)
    return {"task": task, "path": str(path), "records": len(records), **figures}


def _prf(tp: int, predicted: int, actual: int) -> dict[str, float]:
    precision = tp / predicted if predicted else 0.0
    recall = tp / actual if actual else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def _label_figures(rows: Iterable[dict[str, Any]], path: Path, analyse: Callable[[Article], ArticleVerdict]) -> dict[str, Any]:
    pairs: list[tuple[str, str, float]] = []
    for record in rows:
        verdict = analyse(_article(record, path))
        pairs.append((record["label"], verdict.label.value, verdict.confidence))
    labels = [label.value for label in Label]
    confusion = {gold: {pred: 0 for pred in labels} for gold in labels}
    for gold, pred, _ in pairs:
        confusion[gold][pred] += 1
    per_class = {}
    for label in labels:
        tp = confusion[label][label]
        predicted = sum(confusion[gold][label] for gold in labels)
        actual = sum(confusion[label].values())
        per_class[label] = {**_prf(tp, predicted, actual), "support": actual}
    present = [label for label in labels if per_class[label]["support"]]
    correct = sum(gold == pred for gold, pred, _ in pairs)
    return {
        "labels": labels,
        "confusion": confusion,
        "per_class": per_class,
        "accuracy": correct / len(pairs) if pairs else 0.0,
        "balanced_accuracy": sum(per_class[label]["recall"] for label in present) / len(present) if present else 0.0,
        "ece": _expected_calibration_error([(conf, gold == pred) for gold, pred, conf in pairs]),
    }


def _expected_calibration_error(outcomes: list[tuple[float, bool]]) -> float:
    bins: list[list[tuple[float, bool]]] = [[] for _ in range(_CALIBRATION_BINS)]
    for confidence, correct in outcomes:
        bins[min(int(confidence * _CALIBRATION_BINS), _CALIBRATION_BINS - 1)].append((confidence, correct))
    total = len(outcomes)
    return sum(
        len(group) / total * abs(sum(c for c, _ in group) / len(group) - sum(ok for _, ok in group) / len(group))
        for group in bins
        if group
    )


def _trimmed_chars(text: str, spans: Iterable[tuple[int, int]]) -> frozenset[int]:
    chars: set[int] = set()
    for start, end in spans:
        while start < end and text[start] in _TRIM:
            start += 1
        while end > start and text[end - 1] in _TRIM:
            end -= 1
        chars.update(range(start, end))
    return frozenset(chars)


_CLOSING_MARK = {"“": "”", '"': '"', "''": "''"}
_DOUBLE_MARK = re.compile(r"“|”|''|\"")


def _quoted_chars(text: str, spans: Iterable[tuple[int, int]]) -> frozenset[int]:
    """The trimmed characters of `spans` that lie inside double quotation marks (nesting
    followed); a closing mark met before any opening one means the span began inside a quotation."""
    regions: list[tuple[int, int]] = []
    for start, end in spans:
        opened: list[str] = []
        region_start = start
        for mark in _DOUBLE_MARK.finditer(text, start, end):
            symbol = mark.group()
            if opened and symbol == _CLOSING_MARK[opened[-1]]:
                opened.pop()
                if not opened:
                    regions.append((region_start, mark.start()))
            elif symbol == "”":
                if not opened and not regions:
                    regions.append((start, mark.start()))
            else:
                if not opened:
                    region_start = mark.end()
                opened.append(symbol)
        if opened:
            regions.append((region_start, end))
    return _trimmed_chars(text, regions)


def _gold_chars(text: str, gold: dict[str, Any]) -> frozenset[int]:
    spans = [tuple(s) for s in gold["quote_spans"]]
    if gold["quote_type"] == "mixed":
        return _quoted_chars(text, spans) or _trimmed_chars(text, spans)
    return _trimmed_chars(text, spans)


def _content_words(speaker: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]+", speaker.lower().replace("’s", "").replace("'s", "")) if w not in _SPEAKER_STOPWORDS}


def speaker_matches(predicted: str, gold: str, gold_referent: str | None) -> bool:
    """The speaker rule documented at the top of this module."""
    if predicted.strip().lower() == gold.strip().lower():
        return True
    target = _content_words(gold) | (_content_words(gold_referent) if gold_referent else set())
    return bool(_content_words(predicted) & target)


def _gold_referents(quotes: list[dict[str, Any]]) -> list[str | None]:
    """For each gold quote, the nearest preceding non-pronoun gold speaker (by speaker position)."""
    named = sorted(
        (q["speaker_start"], q["speaker"])
        for q in quotes
        if q.get("speaker") and q.get("speaker_start") is not None and q["speaker"].strip().lower() not in _PRONOUNS
    )
    referents: list[str | None] = []
    for quote in quotes:
        referent = None
        if quote.get("speaker") and quote["speaker"].strip().lower() in _PRONOUNS:
            position = quote["speaker_start"] if quote.get("speaker_start") is not None else quote["start"]
            for start, speaker in named:
                if start >= position:
                    break
                referent = speaker
        referents.append(referent)
    return referents


def _quote_figures(rows: Iterable[dict[str, Any]], path: Path, analyse: Callable[[Article], ArticleVerdict]) -> dict[str, Any]:
    counts: dict[str, Counter[str]] = {t: Counter() for t in _QUOTE_TYPES}
    predicted_total = unmatched_predictions = unlocated = 0
    for record in rows:
        text = record["text"]
        verdict = analyse(_article(record, path))
        verified, missing = verify_quotes(text, verdict.quotes)
        unlocated += len(missing)
        predictions = [(_trimmed_chars(text, [(s.start, s.end) for s in q.spans]), q.speaker) for q in verified]
        predicted_total += len(verdict.quotes)
        golds = record["quotes"]
        referents = _gold_referents(golds)
        gold_chars = [_gold_chars(text, g) for g in golds]
        for gold in golds:
            counts[gold["quote_type"]]["gold"] += 1
        candidates = []
        for p_index, (p_chars, _) in enumerate(predictions):
            for g_index, g_chars in enumerate(gold_chars):
                shared = len(p_chars & g_chars)
                if shared:
                    candidates.append((shared / max(len(p_chars), len(g_chars)), p_index, g_index))
        matched_p: set[int] = set()
        matched_g: set[int] = set()
        for ratio, p_index, g_index in sorted(candidates, reverse=True):
            if ratio < _MIN_OVERLAP or p_index in matched_p or g_index in matched_g:
                continue
            matched_p.add(p_index)
            matched_g.add(g_index)
            gold = golds[g_index]
            tally = counts[gold["quote_type"]]
            tally["overlap"] += 1
            tally["exact"] += predictions[p_index][0] == gold_chars[g_index]
            if gold.get("speaker"):
                tally["speaker_scored"] += 1
                tally["speaker_right"] += speaker_matches(predictions[p_index][1], gold["speaker"], referents[g_index])
        unmatched_predictions += len(predictions) - len(matched_p)
    unmatched_predictions += unlocated
    by_type = {}
    for quote_type, tally in counts.items():
        judged = tally["overlap"] + unmatched_predictions
        by_type[quote_type] = {
            "gold": tally["gold"],
            "matched": tally["overlap"],
            "exact": _prf(tally["exact"], judged, tally["gold"]),
            "overlap": _prf(tally["overlap"], judged, tally["gold"]),
            "speaker_accuracy": tally["speaker_right"] / tally["speaker_scored"] if tally["speaker_scored"] else 0.0,
        }
    quoted: Counter[str] = Counter()
    for quote_type in ("direct", "mixed"):
        quoted.update(counts[quote_type])
    return {
        "predicted": predicted_total,
        "unlocated": unlocated,
        "unmatched_predictions": unmatched_predictions,
        "by_type": by_type,
        "direct_and_mixed": {
            "gold": quoted["gold"],
            "exact": _prf(quoted["exact"], predicted_total, quoted["gold"]),
            "overlap": _prf(quoted["overlap"], predicted_total, quoted["gold"]),
            "speaker_accuracy": quoted["speaker_right"] / quoted["speaker_scored"] if quoted["speaker_scored"] else 0.0,
        },
    }


def _claim_figures(rows: Iterable[dict[str, Any]], path: Path, analyse: Callable[[Article], ArticleVerdict]) -> dict[str, Any]:
    tp = predicted = actual = correct = total = 0
    for record in rows:
        flagged = bool(analyse(_article(record, path)).claims)
        worthy = record["label"] == "check_worthy"
        tp += flagged and worthy
        predicted += flagged
        actual += worthy
        correct += flagged == worthy
        total += 1
    return {
        "check_worthy": {**_prf(tp, predicted, actual), "support": actual, "predicted": predicted},
        "accuracy": correct / total if total else 0.0,
    }


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    lines = [
        "  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip() for line in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _pct(value: float) -> str:
    return f"{value:.3f}"


def render_eval(figures: dict[str, Any]) -> str:
    """The figures of `evaluate_file` as plain-text tables."""
    head = f"{figures['task']} · {figures['path']} · {figures['records']} records"
    if figures["task"] == "label":
        labels = figures["labels"]
        confusion = _table(
            ["gold \\ predicted", *labels],
            [[gold, *(str(figures["confusion"][gold][pred]) for pred in labels)] for gold in labels],
        )
        per_class = _table(
            ["label", "precision", "recall", "f1", "support"],
            [
                [
                    label,
                    *(_pct(figures["per_class"][label][k]) for k in ("precision", "recall", "f1")),
                    str(figures["per_class"][label]["support"]),
                ]
                for label in labels
            ],
        )
        summary = (
            f"accuracy {_pct(figures['accuracy'])}   balanced accuracy {_pct(figures['balanced_accuracy'])}   "
            f"expected calibration error {_pct(figures['ece'])}"
        )
        return "\n\n".join([head, confusion, per_class, summary])
    if figures["task"] == "quotes":
        rows = []
        for name, row in [*figures["by_type"].items(), ("direct+mixed", figures["direct_and_mixed"])]:
            rows.append(
                [
                    name,
                    str(row["gold"]),
                    *(_pct(row["exact"][k]) for k in ("precision", "recall", "f1")),
                    *(_pct(row["overlap"][k]) for k in ("precision", "recall", "f1")),
                    _pct(row["speaker_accuracy"]),
                ]
            )
        table = _table(
            ["type", "gold", "exact P", "exact R", "exact F1", "overlap P", "overlap R", "overlap F1", "speaker acc"], rows
        )
        note = (
            f"predicted {figures['predicted']}, not found in the text {figures['unlocated']}, "
            f"matched to no gold quote {figures['unmatched_predictions']}"
        )
        return "\n\n".join([head, table, note])
    worthy = figures["check_worthy"]
    table = _table(
        ["class", "precision", "recall", "f1", "support", "predicted"],
        [
            [
                "check_worthy",
                *(_pct(worthy[k]) for k in ("precision", "recall", "f1")),
                str(worthy["support"]),
                str(worthy["predicted"]),
            ]
        ],
    )
    return "\n\n".join([head, table, f"sentence accuracy {_pct(figures['accuracy'])}"])
