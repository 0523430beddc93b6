"""The morning report at newsroom scale: its size, and the time headless Chromium takes to load
and screenshot it.

    .venv/bin/python bench/report_scale.py [--articles 10000] [--out /tmp/report-scale]

Builds a night of ``--articles`` distinct articles from the repository's own texts (the seeds,
the labelled and tribute fixtures), each with its own people, place and closing line, half of
them without a title (the report then heads them by their first line), runs the offline engine
over them, writes the HTML report, and prints its size in MB and, when Chromium is installed,
the wall-clock seconds of one headless load-and-screenshot (the best of three). Targets for
10,000 articles: at most 3 MB and 3 s.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.views.morning_report import write_report  # noqa: E402
from pipeline.runs import run as run_pipeline  # noqa: E402
from pipeline.settings import Engine, Settings  # noqa: E402
from pipeline.store import Store  # noqa: E402

SEED = 7
_FIRST = ("Ava", "Liam", "Noah", "Mia", "Omar", "Lena", "Ravi", "Sofia", "Kenji", "Zara", "Ines", "Tomas")
_LAST = ("Hart", "Moreno", "Okafor", "Lindqvist", "Tanaka", "Brennan", "Castillo", "Novak", "Adeyemi", "Duarte")
_PLACES = ("Leeds", "Tucson", "Lyon", "Porto", "Nagoya", "Cork", "Tampa", "Graz", "Quito", "Perth")


def _texts() -> list[tuple[str, str | None]]:
    texts = [(path.read_text(encoding="utf-8"), None) for path in sorted((ROOT / "seeds").glob("*.txt"))]
    for fixture in (ROOT / "tests" / "fixtures" / "labelled" / "articles.jsonl", ROOT / "tests" / "fixtures" / "tributes.jsonl"):
        for line in fixture.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                texts.append((record["text"], record["id"].replace("-", " ").title()))
    return texts


def build(count: int, rng: random.Random) -> list[dict]:
    bases = _texts()
    records = []
    for index in range(count):
        text, title = bases[index % len(bases)]
        name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
        place = rng.choice(_PLACES)
        body = f"{text}\n\nReporting for this piece by {name} in {place}, desk note {index}."
        records.append(
            {"id": f"scale-{index:05d}", "title": f"{title} ({place}, {index})" if title and index % 2 else "", "text": body}
        )
    return records


def _chromium_seconds(html: Path, workdir: Path) -> float | None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        return None
    best = None
    for attempt in range(3):
        command = [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={workdir / f'profile{attempt}'}",
            "--window-size=1280,3000",
            f"--screenshot={workdir / 'report.png'}",
            html.as_uri(),
        ]
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, timeout=120, check=True)
        elapsed = time.perf_counter() - started
        best = elapsed if best is None else min(best, elapsed)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=Path("/tmp/report-scale"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    night = args.out / "night.jsonl"
    with night.open("w", encoding="utf-8") as handle:
        for record in build(args.articles, random.Random(SEED)):
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    db = args.out / "scale.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    started = time.perf_counter()
    result = run_pipeline([str(night)], Settings(engine=Engine.offline, db=db))
    analysed = time.perf_counter() - started
    html = args.out / "report.html"
    started = time.perf_counter()
    with Store(db) as store:
        report = write_report(store, html_path=html, run_id=result.run_id)
    rendered = time.perf_counter() - started
    size_mb = html.stat().st_size / 1_000_000
    seconds = _chromium_seconds(html, args.out)
    print(
        json.dumps(
            {
                "articles": len(report.results),
                "worklist_items": report.worklist.total,
                "analysis_seconds": round(analysed, 1),
                "render_seconds": round(rendered, 2),
                "report_mb": round(size_mb, 3),
                "report_mb_target_ratio": round(size_mb / 3, 3),
                "chromium_load_and_screenshot_seconds": None if seconds is None else round(seconds, 2),
                "chromium_target_ratio": None if seconds is None else round(seconds / 3, 3),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
