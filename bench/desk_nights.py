"""Nights of a desk that learns from its verdicts, beside a desk that never does.

    .venv/bin/python bench/desk_nights.py [--data ../shared/eval/dev] [--out /tmp/desk_nights]
        [--nights 10] [--articles 200] [--restyles 7] [--split validation|train|all] [--audits 5]

The feed is built from the dev data with ``bench/night.py``'s builders (its sources, its
``restyle``, its split; default the validation fifth, which the shipped scorer never saw: on the
training part its word score is in-sample, AUC near 0.99): every genuine article of the split
as written and in ``--restyles`` restyled versions (each a different text; the validation fifth
holds 305 genuine articles, too few for 10 nights otherwise, so a genuine story recurs across
nights in another register), and fabricated stories (one version of each, a FakeNewsAMT fake
never beside its own genuine pair) for 5 % of each night. Nights of ``--articles`` are drawn
without replacement, so no article is in two nights; the pool must hold them all (the
validation fifth's 100 fabricated stories bound it to 10 nights of 200).

Each night both desks run the same file through the CLI a desk uses: ``pipeline run``, then
``pipeline worklist --json``; the figures are taken there, on the settled verdicts the desk
reads that morning. Then the simulated desk rates the worklist's top 25 by their gold labels
and the audit sample (the worklist's ``"audit": true`` items: ``--audits`` articles drawn at
random from those without evidence, ``PIPELINE_AUDIT_SAMPLE``), with ``pipeline review import``.
The learning desk then runs ``pipeline learn``; the control desk never does.

Per night and desk: flagged share (label likely_fabrication), flag precision, P@25 (fabricated
items among the worklist's first 25, over 25), AUC of the settled probability of fabrication,
ECE (night.py's: the label's confidence against its correctness, 10 bins). Noise: for AUC, the
90 % interval of the learning-minus-control difference over 1,000 bootstrap resamples of the
night's articles (paired: the same articles for both desks); for P@25, two binomial standard
errors of the difference over 25 items each. A difference inside its noise prints ``~``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from fit_offline import _group, _is_validation, _read  # noqa: E402
from night import _auc, _ece, _fields, restyle  # noqa: E402

from pipeline.settings import DEFAULT_NIGHT_CLOCK  # noqa: E402
from pipeline.store import Store  # noqa: E402
from pipeline.views.read import read_settled  # noqa: E402

SEED = 20261206
FABRICATED_SHARE = 0.05
TOP = 25
BOOTSTRAP = 1000
FABRICATION = "likely_fabrication"


def build_pool(data: Path, split: str, restyles: int, rng: random.Random) -> tuple[list[dict], list[dict]]:
    """(genuine articles, fabricated articles) of the split, each list shuffled: every genuine
    article as written and in ``restyles`` restyled versions (each a different text)."""

    def wanted(record: dict) -> bool:
        return split == "all" or _is_validation(_group(record)) == (split == "validation")

    labelled = [r for r in _read(data / "fakenewsamt.jsonl") + _read(data / "llmfake_gossipcop.jsonl") if wanted(r)]
    fakes_by_story: dict[str, list[dict]] = {}
    for record in (r for r in labelled if r["label"] == FABRICATION):
        fakes_by_story.setdefault(_group(record), []).append(record)
    fabricated = []
    for story in sorted(fakes_by_story):
        record = rng.choice(sorted(fakes_by_story[story], key=lambda r: r["id"]))
        fabricated.append({**_fields(record), "story": story})
    rng.shuffle(fabricated)
    genuine_records = [r for r in labelled if r["label"] == "news"]
    polnear = data / "polnear.jsonl"
    if polnear.exists():
        genuine_records += [{**r, "label": "news"} for r in _read(polnear) if wanted(r)]
    genuine = []
    for record in genuine_records:
        genuine.append({**_fields(record), "story": _group(record)})
        for number in range(1, restyles + 1):
            text = restyle(record["text"], rng)
            genuine.append({**_fields(record), "id": f"{record['id']}-restyled-{number}", "text": text, "story": _group(record)})
    rng.shuffle(genuine)
    return genuine, fabricated


def draw_nights(genuine: list[dict], fabricated: list[dict], nights: int, size: int) -> list[list[dict]]:
    """``nights`` nights of ``size`` articles, 5 % fabricated, no article in two nights; a
    fabricated FakeNewsAMT story's genuine pair is never in the feed."""
    fakes = round(size * FABRICATED_SHARE)
    chosen_fakes = fabricated[: fakes * nights]
    paired = {fake["story"] for fake in chosen_fakes}
    genuine = [article for article in genuine if article["story"] not in paired]
    needed = (size - fakes) * nights
    if len(chosen_fakes) < fakes * nights or len(genuine) < needed:
        raise SystemExit(
            f"the pool holds {len(genuine)} genuine and {len(fabricated)} fabricated articles: "
            f"{nights} nights of {size} need {needed} and {fakes * nights}; lower --articles or --nights"
        )
    rng = random.Random(SEED)
    drawn = []
    for night in range(nights):
        articles = (
            genuine[night * (size - fakes) : (night + 1) * (size - fakes)] + chosen_fakes[night * fakes : (night + 1) * fakes]
        )
        rng.shuffle(articles)
        drawn.append(articles)
    return drawn


def pipeline(db: Path, audits: int, *arguments: str, check: bool = True) -> str:
    """One CLI command, as the desk types it."""
    environment = {**os.environ, "PIPELINE_DB": str(db), "PIPELINE_MIN_FILE_AGE": "0", "PIPELINE_ENGINE": "offline"}
    environment["PIPELINE_AUDIT_SAMPLE"] = str(audits)
    done = subprocess.run(
        [str(Path(sys.executable).with_name("pipeline")), *arguments],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )
    if check and done.returncode != 0:
        raise SystemExit(f"pipeline {' '.join(arguments)} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return done.stdout


class Desk:
    def __init__(self, name: str, folder: Path, learns: bool, audits: int):
        self.name, self.learns, self.audits = name, learns, audits
        self.db = folder / f"{name}.db"
        self.db.unlink(missing_ok=True)
        self.folder = folder
        self.fits: list[str] = []

    def night(self, number: int, path: Path, gold: dict[str, str]) -> dict:
        """Run the night, read the morning's figures, review, and (learning desk) learn."""
        pipeline(self.db, self.audits, "run", str(path))
        # Every night of the bench runs within one real night: the worklist of this night's run.
        worklist = json.loads(pipeline(self.db, self.audits, "worklist", "--json", "--limit", "0", "--run", str(number)))
        with Store(self.db, read_only=True) as store:
            settled = read_settled(store, DEFAULT_NIGHT_CLOCK, run_id=worklist["run_id"])
        articles = [(a.article_id, a.stored.article.record_id or "", a) for a in settled]
        figures = measure(articles, worklist["items"], gold)
        self.review(number, worklist["items"], gold)
        if self.learns:
            self.fits.append(pipeline(self.db, self.audits, "learn", check=False).strip().splitlines()[0])
        return figures

    def review(self, number: int, items: list[dict], gold: dict[str, str]) -> None:
        """The desk's verdicts, by gold label, on the top 25 ranked items and the audit sample."""
        rated = [item for item in items if not item.get("audit")][:TOP] + [item for item in items if item.get("audit")]
        path = self.folder / f"{self.name}-reviews-{number}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["article_id", "verdict"])
            for variant in (variant for item in rated for variant in item["variants"]):
                fabricated = gold[variant["record_id"]] == FABRICATION
                writer.writerow([variant["article_id"], "confirmed_fabrication" if fabricated else "false_positive"])
        pipeline(self.db, self.audits, "review", "import", str(path))


def measure(articles: list, items: list[dict], gold: dict[str, str]) -> dict:
    labels = [(s.label.value == FABRICATION, gold[record] == FABRICATION, s) for _, record, s in articles]
    flagged = [truth for flag, truth, _ in labels if flag]
    top = [item for item in items if not item.get("audit")][:TOP]
    hits = sum(any(gold[v["record_id"]] == FABRICATION for v in item["variants"]) for item in top)
    scored = [(s.p_fabrication, truth) for _, truth, s in labels]
    return {
        "flagged_share": len(flagged) / len(labels),
        "flag_precision": sum(flagged) / len(flagged) if flagged else 0.0,
        "p_at_25": hits / TOP,
        "auc": _auc(scored),
        "ece": _ece([(s.confidence, flag == truth) for flag, truth, s in labels]),
        "scored": scored,
    }


def bootstrap_auc_difference(
    learning: list[tuple[float, bool]], control: list[tuple[float, bool]], rng: random.Random
) -> tuple[float, float]:
    """The 90 % interval of AUC(learning) - AUC(control) over resamples of the night's articles."""
    differences = []
    for _ in range(BOOTSTRAP):
        picks = [rng.randrange(len(learning)) for _ in learning]
        differences.append(_auc([learning[i] for i in picks]) - _auc([control[i] for i in picks]))
    differences.sort()
    return differences[int(0.05 * BOOTSTRAP)], differences[int(0.95 * BOOTSTRAP) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "eval" / "dev")
    parser.add_argument("--out", type=Path, default=Path("/tmp/desk_nights"))
    parser.add_argument("--nights", type=int, default=10)
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--split", choices=("validation", "train", "all"), default="validation")
    parser.add_argument("--restyles", type=int, default=7, help="Restyled versions of each genuine article in the pool.")
    parser.add_argument("--audits", type=int, default=5, help="The audit sample of each night's worklist.")
    args = parser.parse_args()
    root = Path(__file__).resolve().parents[1]
    if args.out.resolve().is_relative_to(root):
        parser.error("--out must lie outside the repository: the dev data is never copied into it")
    args.out.mkdir(parents=True, exist_ok=True)
    genuine, fabricated = build_pool(args.data, args.split, args.restyles, random.Random(SEED))
    nights = draw_nights(genuine, fabricated, args.nights, args.articles)
    desks = [
        Desk("learning", args.out, True, args.audits),
        Desk("control", args.out, False, args.audits),
    ]
    noise = random.Random(SEED)
    print(
        f"{args.nights} nights of {args.articles} articles ({args.split} split), {round(args.articles * FABRICATED_SHARE)} fabricated each"
    )
    header = "night  desk      flagged  precision  P@25   AUC    ECE   | ΔP@25 (±2se)    ΔAUC [90% bootstrap]"
    print(header)
    for number, articles in enumerate(nights, 1):
        path = args.out / f"night-{number:02d}.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            for article in articles:
                handle.write(
                    json.dumps({"id": article["id"], "title": article["title"], "text": article["text"]}, ensure_ascii=False)
                    + "\n"
                )
        gold = {article["id"]: article["label"] for article in articles}
        learning, control = (desk.night(number, path, gold) for desk in desks)
        low, high = bootstrap_auc_difference(learning["scored"], control["scored"], noise)
        p_diff = learning["p_at_25"] - control["p_at_25"]
        p_se = (sum(f["p_at_25"] * (1 - f["p_at_25"]) / TOP for f in (learning, control))) ** 0.5
        for desk, figures in (("learning", learning), ("control", control)):
            line = (
                f"{number:5}  {desk:8}  {figures['flagged_share']:7.3f}  {figures['flag_precision']:9.3f}  "
                f"{figures['p_at_25']:.2f}  {figures['auc']:.3f}  {figures['ece']:.3f}"
            )
            if desk == "learning":
                p_mark = "~" if abs(p_diff) <= 2 * p_se else ("+" if p_diff > 0 else "-")
                a_mark = "~" if low <= 0 <= high else ("+" if low > 0 else "-")
                line += f" | {p_diff:+.2f} (±{2 * p_se:.2f}) {p_mark}  {learning['auc'] - control['auc']:+.3f} [{low:+.3f}, {high:+.3f}] {a_mark}"
            print(line, flush=True)
    print("fits of the learning desk:")
    for number, fit in enumerate(desks[0].fits, 1):
        print(f"  after night {number}: {fit}")


if __name__ == "__main__":
    main()
