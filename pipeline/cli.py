"""The ``pipeline`` command: each command parses, calls the library, prints."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from .errors import ConfigError, PipelineError
from .evaluate import TASKS, engine_analyser, evaluate_file, render_eval
from .export import EXPORT_FORMATS
from .report import analysis_view, runs_table, summary_table
from .runner import run as run_pipeline
from .settings import Engine, LLMMode, Settings, load_settings
from .store import Store

__all__ = ["app"]

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Nightly fact-check triage of articles.")
console = Console(stderr=True)
stdout = Console()

DbOption = Annotated[Optional[Path], typer.Option("--db", help="SQLite database (default ./pipeline.db).")]
_SUMMARY_ROWS = 50


def _settings(**flags) -> Settings:
    try:
        return load_settings(flags)
    except ConfigError as error:
        console.print(f"[red]configuration error:[/red] {error}")
        raise typer.Exit(2) from None


def _fail(error: PipelineError, code: int = 2) -> typer.Exit:
    console.print(f"[red]error:[/red] {error}")
    return typer.Exit(code)


@app.command()
def run(
    paths: Annotated[list[str], typer.Argument(help="Files, folders, globs, or - for stdin.")],
    model: Annotated[Optional[str], typer.Option(help="Model name at the endpoint.")] = None,
    base_url: Annotated[Optional[str], typer.Option(help="OpenAI-compatible base URL.")] = None,
    mode: Annotated[Optional[LLMMode], typer.Option(help="Structured-output mode.")] = None,
    engine: Annotated[Optional[Engine], typer.Option(help="auto: the LLM when an endpoint is configured.")] = None,
    db: DbOption = None,
    concurrency: Annotated[Optional[int], typer.Option(help="Articles analysed at once.")] = None,
    timeout: Annotated[Optional[float], typer.Option(help="Seconds per request.")] = None,
    max_retries: Annotated[Optional[int], typer.Option(help="Retries of transient provider failures.")] = None,
    prompt_version: Annotated[Optional[str], typer.Option(help="Prompt version in prompts/.")] = None,
    refresh: Annotated[bool, typer.Option("--refresh", help="Analyse again even when cached.")] = False,
) -> None:
    """Analyse every article under PATHS that has no stored result yet, and print a summary.

    Exit code 0: every article analysed or cached; 1: some failed; 2: usage,
    configuration or provider-account error.
    """
    settings = _settings(model=model, base_url=base_url, mode=mode, engine=engine, db=db,
                         concurrency=concurrency, timeout=timeout, max_retries=max_retries,
                         prompt_version=prompt_version)
    if settings.resolved_engine is Engine.offline and settings.engine is Engine.auto:
        console.print("No LLM endpoint configured (OPENAI_API_KEY / --base-url): using the offline engine.")
    try:
        result = run_pipeline(paths, settings, refresh=refresh)
    except PipelineError as error:
        raise _fail(error) from None
    with Store(settings.db) as store:
        outcomes = store.outcomes(result.run_id)
        if len(outcomes) <= _SUMMARY_ROWS:
            stdout.print(summary_table(list(store.iter_results(result.run_id)), outcomes))
    counts = ", ".join(f"{count} {status}" for status, count in result.counts.items())
    console.print(f"run {result.run_id} ({result.engine}, {result.model}): {counts}")
    if result.fatal:
        console.print(f"[red]run stopped:[/red] {result.fatal}")
    raise typer.Exit(result.exit_code)


@app.command()
def show(
    ref: Annotated[str, typer.Argument(help="Article id (or prefix), cache key, or source path.")],
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the stored record as JSON.")] = False,
) -> None:
    """Show the stored analysis of one article."""
    settings = _settings(db=db, engine=Engine.offline)
    with Store(settings.db) as store:
        results = store.find_results(ref)
    if not results:
        console.print(f"no stored analysis matches {ref!r}")
        raise typer.Exit(1)
    for result in results:
        if as_json:
            stdout.print_json(json.dumps(result.to_record(), ensure_ascii=False))
        else:
            stdout.print(analysis_view(result))


@app.command()
def export(
    format: Annotated[str, typer.Option("--format", help=f"One of: {', '.join(EXPORT_FORMATS)}.")] = "jsonl",
    run_id: Annotated[Optional[int], typer.Option("--run", help="Only the articles of this run.")] = None,
    db: DbOption = None,
) -> None:
    """Write stored analyses to standard output (latest result per article)."""
    if format not in EXPORT_FORMATS:
        console.print(f"unknown format {format!r}: choose one of {', '.join(EXPORT_FORMATS)}")
        raise typer.Exit(2)
    settings = _settings(db=db, engine=Engine.offline)
    with Store(settings.db) as store:
        written = EXPORT_FORMATS[format](store.iter_results(run_id), sys.stdout)
    console.print(f"{written} {format} records written")


@app.command()
def runs(db: DbOption = None, limit: Annotated[int, typer.Option(help="How many runs.")] = 20) -> None:
    """List recent runs with their counts and token usage."""
    settings = _settings(db=db, engine=Engine.offline)
    with Store(settings.db) as store:
        stdout.print(runs_table(store.runs(limit)))


@app.command("eval")
def evaluate(
    dataset: Annotated[Path, typer.Argument(help="Labelled JSONL (label, quotes or claims records).", exists=True, dir_okay=False)],
    task: Annotated[Optional[str], typer.Option(help=f"One of: {', '.join(TASKS)} (default: detected from the records).")] = None,
    engine: Annotated[Optional[Engine], typer.Option(help="auto: the LLM when an endpoint is configured.")] = None,
    model: Annotated[Optional[str], typer.Option(help="Model name at the endpoint.")] = None,
    base_url: Annotated[Optional[str], typer.Option(help="OpenAI-compatible base URL.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Measure an engine on a labelled dataset: label, quote or claim figures."""
    if task is not None and task not in TASKS:
        console.print(f"unknown task {task!r}: choose one of {', '.join(TASKS)}")
        raise typer.Exit(2)
    settings = _settings(engine=engine, model=model, base_url=base_url)
    try:
        figures = evaluate_file(dataset, task, analyse=engine_analyser(settings), progress=console.is_terminal)
    except PipelineError as error:
        raise _fail(error) from None
    if as_json:
        stdout.print_json(json.dumps(figures))
    else:
        print(render_eval(figures))
