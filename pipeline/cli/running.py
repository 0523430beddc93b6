"""Commands that analyse: ``run`` and the Batch API's ``batch submit|status|collect``."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from pipeline.views.console import styled
from pipeline.views.read import read_settled
from pipeline.views.terminal import summary_table
from pipeline.views.progress import RunProgress
from pipeline.inputs import estimate_inputs
from pipeline.runs import Budget, Executor, RunResult
from pipeline.runs import run as run_pipeline
from pipeline.settings import Engine
from pipeline.store import Store

from pipeline.cli.app import (
    app,
    console,
    stdout,
    Commands,
    settings_from_flags,
    PathsArgument,
    DbOption,
    ModelOption,
    BaseUrlOption,
    ModeOption,
    EngineOption,
    RetryFailedOption,
)


_SUMMARY_ROWS = 50


@app.command()
def run(
    paths: PathsArgument,
    model: ModelOption = None,
    base_url: Annotated[
        Optional[list[str]],
        typer.Option(help="OpenAI-compatible base URL; repeat it for replicas of one model, which share the requests."),
    ] = None,
    mode: ModeOption = None,
    engine: EngineOption = None,
    db: DbOption = None,
    concurrency: Annotated[Optional[int], typer.Option(help="Articles analysed at once.")] = None,
    workers: Annotated[
        Optional[int], typer.Option(help="Processes the offline engine analyses in (one core each; default 1).")
    ] = None,
    timeout: Annotated[Optional[float], typer.Option(help="Seconds per request.")] = None,
    max_retries: Annotated[Optional[int], typer.Option(help="Retries of transient provider failures.")] = None,
    prompt_version: Annotated[
        Optional[str], typer.Option(help="Prompt version (files in prompts/ or PIPELINE_PROMPTS_DIR).")
    ] = None,
    refresh: Annotated[bool, typer.Option("--refresh", help="Analyse again even when cached.")] = False,
    rescan: Annotated[
        bool,
        typer.Option(
            "--rescan",
            help="Read every file again, even those whose size and modification time are unchanged since they were indexed.",
        ),
    ] = False,
    retry_failed: RetryFailedOption = False,
    limit: Annotated[Optional[int], typer.Option(help="Stop cleanly after sending this many articles to the engine.")] = None,
    max_cost: Annotated[
        Optional[float], typer.Option(min=0, help="Stop cleanly before the estimated cost passes this many USD.")
    ] = None,
    log_every: Annotated[
        int, typer.Option(min=1, help="Without a terminal, log one progress line per this many articles.")
    ] = 500,
    allow_empty: Annotated[bool, typer.Option("--allow-empty", help="Exit 0 even when PATHS hold no article.")] = False,
    prior: Annotated[
        Optional[float], typer.Option("--prior", help="Expected share of fabrications in the feed (default 0.05).")
    ] = None,
    executor: Annotated[
        Executor, typer.Option(help="local: this process; ray: Ray Data workers (pip install 'pipeline[ray]').")
    ] = Executor.local,
    ray_address: Annotated[
        Optional[str],
        typer.Option(help="With --executor ray: a running cluster (auto, or ray://host:port); default a local Ray."),
    ] = None,
) -> None:
    """Analyse every article under PATHS that has no stored result yet, and print a summary.

    Exit code 0: every article analysed or cached, or a --limit / --max-cost
    reached with no failure; 1: some failed, or PATHS held no article (unless
    --allow-empty); 2: usage, configuration or provider-account error; 130 / 143:
    interrupted by SIGINT / SIGTERM (articles in flight recorded as not finished).
    """
    settings = settings_from_flags(
        model=model,
        base_url=base_url or None,
        mode=mode,
        engine=engine,
        db=db,
        concurrency=concurrency,
        workers=workers,
        timeout=timeout,
        max_retries=max_retries,
        prompt_version=prompt_version,
        fabrication_prior=prior,
    )
    if settings.resolved_engine is Engine.offline and settings.engine is Engine.auto:
        console.print("No LLM endpoint configured (OPENAI_API_KEY / --base-url): using the offline engine.")
    # Counting the inputs first costs a directory walk; only a terminal shows the ETA it buys.
    total = estimate_inputs(paths) if console.is_terminal else None
    with RunProgress(console, total=total, every=log_every) as progress:
        result = run_pipeline(
            paths,
            settings,
            refresh=refresh,
            rescan=rescan,
            executor=executor,
            ray_address=ray_address,
            budget=Budget(limit=limit, max_cost=max_cost),
            on_outcome=progress,
            on_phase=progress.phase,
            allow_empty=allow_empty,
            retry_failed=retry_failed,
        )
    with Store(settings.db) as store:
        outcomes = store.outcomes(result.run_id)
        if len(outcomes) <= _SUMMARY_ROWS:
            stdout.print(summary_table(read_settled(store, settings.night_clock, run_id=result.run_id), outcomes))
        else:
            _print_problems(outcomes)
    _print_result(result)
    raise typer.Exit(result.exit_code)


def _print_problems(outcomes: list[dict]) -> None:
    """On a large run, the inputs that failed or were skipped, each with its reason."""
    problems = [outcome for outcome in outcomes if outcome["status"] in ("failed", "skipped")]
    for outcome in problems[:_SUMMARY_ROWS]:
        record = f" [{outcome['record_id']}]" if outcome["record_id"] else ""
        console.print(f"{outcome['status']}: {outcome['source_path']}{record}: {outcome['reason']}")
    if len(problems) > _SUMMARY_ROWS:
        console.print(f"... {len(problems) - _SUMMARY_ROWS} more in the store's outcome table and the report")


def _print_result(result: RunResult) -> None:
    counts = ", ".join(f"{count} {status}" for status, count in result.counts.items())
    cost = "" if result.cost is None else f", est. ${result.cost:.4f}"
    console.print(
        f"run {result.run_id} ({result.engine}, {result.model}): {counts}; "
        f"tokens {result.input_tokens} in ({result.cached_input_tokens} cached) / {result.output_tokens} out{cost}"
    )
    if result.usage.estimated_requests:
        console.print(
            styled(
                "cost estimated:",
                "yellow",
                f"{result.usage.estimated_requests} answers reported no usable token counts; "
                "counted at their requests' estimate (prompt at 3 characters a token, PIPELINE_MAX_TOKENS out)",
            )
        )
    if result.stopped:
        console.print(styled("run stopped cleanly:", "yellow", result.stopped))
    if result.fatal or result.crashed:
        console.print(styled("run stopped:", "red", result.fatal or result.crashed))
    if result.interrupted:
        console.print(
            styled(
                f"run interrupted by {result.interrupted}:",
                "yellow",
                "articles in flight are recorded as not finished; a re-run analyses the rest",
            )
        )
    if result.empty:
        console.print(styled("nothing to do:", "red", result.empty))
    if result.unclosed:
        console.print(styled("ledger:", "red", result.unclosed))


batch_app = Commands(no_args_is_help=True, help="OpenAI Batch API mode: half price, answers within 24 hours.")
app.add_typer(batch_app, name="batch")


@batch_app.command("submit")
def batch_submit(
    paths: PathsArgument,
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    mode: ModeOption = None,
    db: DbOption = None,
    refresh: Annotated[bool, typer.Option("--refresh", help="Submit again even when cached.")] = False,
    retry_failed: RetryFailedOption = False,
) -> None:
    """Submit every article under PATHS with no stored result as Batch API requests."""
    from pipeline.runs import batch_api as batch_mode  # needs the SDK: imported by the batch commands only

    settings = settings_from_flags(model=model, base_url=base_url, mode=mode, db=db, engine=Engine.llm)
    with Store(settings.db) as store:
        submitted = batch_mode.submit(paths, settings, store, refresh=refresh, retry_failed=retry_failed)
    for job in submitted:
        stdout.print(f"{job['batch_id']}  {job['status']}  {job['requests']} requests")
    console.print(f"{len(submitted)} batches submitted ({sum(job['requests'] for job in submitted)} requests)")


@batch_app.command("status")
def batch_status(
    base_url: BaseUrlOption = None,
    db: DbOption = None,
) -> None:
    """Show every submitted batch, asking the provider about those not yet collected."""
    from pipeline.runs import batch_api as batch_mode

    settings = settings_from_flags(base_url=base_url, db=db, engine=Engine.offline)
    with Store(settings.db) as store:
        jobs = batch_mode.status(settings, store)
    for job in jobs:
        collected = f"collected {job['collected_at']}" if job["collected_at"] else "not collected"
        stdout.print(
            f"{job['batch_id']}  {job['status']}  {job['requests']} requests  submitted {job['submitted_at']}  {collected}"
        )


@batch_app.command("collect")
def batch_collect(
    model: Annotated[Optional[str], typer.Option(help="Model for live re-asks of unverified quotes.")] = None,
    base_url: BaseUrlOption = None,
    mode: ModeOption = None,
    db: DbOption = None,
) -> None:
    """Store the verified answers of every finished batch; failed requests are left for `pipeline run`.

    Exit code 0: every request stored; 1: some failed (run `pipeline run` on the
    same inputs to analyse them live); 2: configuration or provider-account error.
    """
    from pipeline.runs import batch_api as batch_mode

    settings = settings_from_flags(model=model, base_url=base_url, mode=mode, db=db, engine=Engine.llm)
    with Store(settings.db) as store:
        result = batch_mode.collect(settings, store)
    if result is None:
        console.print("nothing to collect: no batch has finished since the last collect (see `pipeline batch status`)")
        raise typer.Exit(0)
    _print_result(result)
    raise typer.Exit(result.exit_code)
