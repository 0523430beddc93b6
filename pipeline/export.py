"""Exports for other tools: JSONL (one analysis a line) and CSV (one row per quote and per claim)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import TextIO

from .store import StoredResult

__all__ = ["EXPORT_FORMATS", "write_jsonl", "write_csv", "CSV_FIELDS"]

CSV_FIELDS = [
    "article_id", "title", "source_path", "label", "confidence", "row_kind",
    "speaker", "speaker_kind", "text", "cue", "channel", "start", "end",
    "event", "who", "when", "where", "attributed_to", "why", "check_with", "priority",
    "engine", "model", "prompt_version",
]


def write_jsonl(results: Iterable[StoredResult], out: TextIO) -> int:
    """One analysis a line with its provenance; returns the number written."""
    count = 0
    for result in results:
        out.write(json.dumps(result.to_record(), ensure_ascii=False) + "\n")
        count += 1
    return count


def write_csv(results: Iterable[StoredResult], out: TextIO) -> int:
    """One row per verified quote and per claim; returns the number of rows."""
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, extrasaction="ignore")
    writer.writeheader()
    rows = 0
    for result in results:
        common = {
            "article_id": result.article.article_id,
            "title": result.article.title,
            "source_path": result.article.source_path,
            "label": result.analysis.label.value,
            "confidence": f"{result.analysis.confidence:.3f}",
            "engine": result.engine,
            "model": result.model,
            "prompt_version": result.prompt_version,
        }
        for quote in result.analysis.quotes:
            writer.writerow({**common, "row_kind": "quote", **quote.model_dump(mode="json", exclude={"spans", "verified"})})
            rows += 1
        for claim in result.analysis.claims:
            row = claim.model_dump(mode="json")
            row["why"] = ";".join(row["why"])
            writer.writerow({**common, "row_kind": "claim", **row})
            rows += 1
    return rows


EXPORT_FORMATS = {"jsonl": write_jsonl, "csv": write_csv}
