"""Commands that read the store: ``show``, ``export``, ``report``, ``worklist``, ``runs``, and ``eval`` on labelled data."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from pipeline.errors import UsageError
from pipeline.desk.learning import describe_calibration
from pipeline.desk.reviews import render_review_figures, review_figures
from pipeline.evaluate import TASKS, engine_analyser, evaluate_file, render_eval
from pipeline.desk.references import find_reference
from pipeline.views.export import EXPORT_FORMATS, Desk, export_results
from pipeline.views.morning_report import render_markdown, write_report
from pipeline.views.read import read_scope, read_settled
from pipeline.views.terminal import analysis_view, runs_record, runs_table, worklist_view
from pipeline.views.worklist import DEFAULT_LIMIT, worklist_limit, worklist_of
from pipeline.views.record import article_record
from pipeline.settings import Engine
from pipeline.store import Store

from pipeline.cli.app import (
    open_memory,
    emit,
    app,
    console,
    stdout,
    settings_from_flags,
    DbOption,
    ModelOption,
    BaseUrlOption,
    EngineOption,
    RunOption,
    NightOption,
    SinceOption,
    JsonOption,
)


@app.command()
def show(
    ref: Annotated[
        str,
        typer.Argument(help="The id the worklist prints (article id prefix or story id), a cache key, PATH or PATH#RECORD-ID."),
    ],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show the stored analysis of one article, or of every article of a story (--json: the
    record of `export --format jsonl`); a reference naming several articles lists them, exit 2."""
    settings = settings_from_flags(db=db, engine=Engine.offline)
    with Store(settings.db, read_only=True) as store:
        found = find_reference(store, ref, "show")
        articles = read_settled(store, settings.night_clock, article_ids=found.article_ids) if found else []
    if not articles:
        console.print(f"no stored analysis matches {ref!r}")
        raise typer.Exit(1)
    for article in articles:
        if as_json:
            stdout.print(json.dumps(article_record(article), ensure_ascii=False), soft_wrap=True)
        else:
            stdout.print(analysis_view(article))


@app.command()
def export(
    format: Annotated[str, typer.Option("--format", help=f"One of: {', '.join(EXPORT_FORMATS)}.")] = "jsonl",
    run_id: RunOption = None,
    drafts: Annotated[
        bool, typer.Option("--drafts", help="ClaimReview: also the claims the desk has not rated, marked as drafts.")
    ] = False,
    db: DbOption = None,
) -> None:
    """Write stored analyses to standard output (latest result per article), with the desk's
    review and verdict; `--format review` writes the sheet `pipeline review import` reads."""
    settings = settings_from_flags(db=db, engine=Engine.offline)
    with Store(settings.db, read_only=True) as store:
        written = export_results(store, format, sys.stdout, run_id, settings.night_clock, desk=Desk.of(settings), drafts=drafts)
    console.print(f"{written} {format} records written")


def _unfinished(warnings: list[str], empty: bool) -> None:
    """Say each unfinished run in the read; an empty read with one is a failure, never a quiet night."""
    for line in warnings:
        console.print(f"warning: {line}", soft_wrap=True)
    if warnings and empty:
        raise typer.Exit(1)


@app.command()
def report(
    run_id: Annotated[Optional[int], typer.Option("--run", help="The run to report (default: tonight's runs).")] = None,
    night: NightOption = None,
    since: SinceOption = None,
    html: Annotated[Optional[Path], typer.Option("--html", help="Write the HTML page here.")] = None,
    md: Annotated[Optional[Path], typer.Option("--md", help="Write the Markdown summary here.")] = None,
    limit: Annotated[int, typer.Option(help="Worklist items the report shows in full (0: all).")] = DEFAULT_LIMIT,
    db: DbOption = None,
) -> None:
    """Write the morning report of tonight (every article first seen since the night began,
    across its runs): a self-contained HTML page and a chat-sized Markdown summary.

    Without --html or --md the summary is printed.
    """
    settings = settings_from_flags(db=db, engine=Engine.offline)
    with Store(settings.db, read_only=True) as store:
        written = write_report(
            store,
            html,
            md,
            run_id=run_id,
            since=since,
            limit=limit,
            clock=settings.night_clock,
            audit_sample=settings.audit_sample,
            night=night,
        )
    if html is None and md is None:
        stdout.print(render_markdown(written), end="", soft_wrap=True)
    console.print(
        f"report of {written.title}: {len(written.results)} articles" + "".join(f", {path}" for path in (html, md) if path)
    )
    _unfinished(written.warnings, not written.results)


@app.command()
def worklist(
    limit: Annotated[int, typer.Option(help="How many items (0: all).")] = DEFAULT_LIMIT,
    as_json: Annotated[bool, typer.Option("--json", help="Print the items as JSON.")] = False,
    run_id: Annotated[Optional[int], typer.Option("--run", help="The run (default: tonight's runs).")] = None,
    night: NightOption = None,
    since: SinceOption = None,
    db: DbOption = None,
) -> None:
    """The ranked list the desk works from: tonight's articles (first seen since the night
    began, across its runs), one item per story or template, new tonight first, most likely
    fabricated first, each with the id `show` and `review` take, its evidence, three claims,
    source and review status."""
    worklist_limit(limit)
    settings = settings_from_flags(db=db, engine=Engine.offline)
    # Not read-only: the night's audit sample is kept the first time a door draws it (never a new store).
    with Store(settings.db, create=False) as store:
        scope = read_scope(store, settings.night_clock, run_id=run_id, since=since, night=night)
        found = worklist_of(scope, limit, store, settings.audit_sample, settings.night_clock)
    if as_json:
        stdout.print_json(json.dumps(found.to_record(), ensure_ascii=False))
    else:
        stdout.print(worklist_view(found))
    _unfinished(found.warnings, not scope.articles)


@app.command()
def runs(
    db: DbOption = None, limit: Annotated[int, typer.Option(help="How many runs.")] = 20, as_json: JsonOption = False
) -> None:
    """List recent runs: counts, tokens across retries, wall time and estimated cost."""
    settings = settings_from_flags(db=db, engine=Engine.offline)
    with Store(settings.db, read_only=True) as store:
        found = store.runs(limit)
        calibration = describe_calibration(store)
    if as_json:
        stdout.print_json(json.dumps(runs_record(found), ensure_ascii=False))
    else:
        stdout.print(runs_table(found, settings.night_clock.zone))
        stdout.print(calibration)


@app.command("eval")
def evaluate(
    dataset: Annotated[
        Optional[Path], typer.Argument(help="Labelled JSONL (label, quotes or claims records).", exists=True, dir_okay=False)
    ] = None,
    reviews: Annotated[
        bool, typer.Option("--reviews", help="Measure the stored labels against the desk's verdicts, by week.")
    ] = False,
    db: DbOption = None,
    task: Annotated[Optional[str], typer.Option(help=f"One of: {', '.join(TASKS)} (default: detected from the records).")] = None,
    engine: EngineOption = None,
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    as_json: JsonOption = False,
    prior: Annotated[
        Optional[float], typer.Option("--prior", help="Share of fabrications the dataset is expected to hold (default 0.05).")
    ] = None,
) -> None:
    """Measure an engine on a labelled dataset: label, quote or claim figures; or, with
    --reviews, the stored labels' precision and recall against the desk's verdicts by week."""
    if reviews:
        with open_memory(db, read_only=True) as store:
            figures = review_figures(store)
        emit(as_json, figures, render_review_figures(figures))
        return
    if dataset is None:
        raise UsageError("give a labelled DATASET, or --reviews")
    settings = settings_from_flags(engine=engine, model=model, base_url=base_url, fabrication_prior=prior)
    figures = evaluate_file(dataset, task, analyse=engine_analyser(settings), progress=console.is_terminal)
    if as_json:
        stdout.print_json(json.dumps(figures))
    else:
        stdout.print(render_eval(figures), soft_wrap=True)
