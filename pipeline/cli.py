"""The ``pipeline`` command: each command parses, calls the library, prints."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from typer.models import CommandFunctionType

from pipeline.views.console import SafeConsole, log_to, styled
from pipeline.errors import InputError, PipelineError, UsageError
from pipeline.desk.factchecks import import_factchecks, list_factchecks
from pipeline.desk.posthumous import add_death, articles_containing, death_register, remove_death
from pipeline.desk.reviews import Verdict, add_review, import_reviews, render_review_figures, review_figures
from pipeline.desk.source_lists import (
    SourceStanding,
    add_sources,
    article_ids_at_domains,
    listed_sources,
    read_domain_file,
    remove_sources,
)
from pipeline.evaluate import TASKS, engine_analyser, evaluate_file, render_eval
from pipeline.views.export import EXPORT_FORMATS, export_results
from pipeline.views.morning_report import render_markdown, write_report
from pipeline.desk.settled import refresh_verdicts
from pipeline.views.read import read_settled
from pipeline.views.terminal import analysis_view, runs_table, summary_table, worklist_view
from pipeline.views.worklist import DEFAULT_LIMIT, build_worklist
from pipeline.views.progress import RunProgress
from pipeline.views.record import article_record
from pipeline.inputs import estimate_inputs
from pipeline.runs import Budget, Executor, RunResult
from pipeline.runs import run as run_pipeline
from pipeline.settings import Engine, LLMMode, Settings, load_settings
from pipeline.store import Store

__all__ = ["app"]

# A log file (cron) has no width: rich's default of 80 columns would fold tables and lines.
console = SafeConsole(stderr=True, width=None if sys.stderr.isatty() else 160)
stdout = SafeConsole(width=None if sys.stdout.isatty() else 160)
log_to(console)


def _reporting_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """The one error handler: a ``PipelineError`` becomes one line and its class's exit code."""

    @functools.wraps(command)
    def handled(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except PipelineError as error:
            # soft_wrap: one line however long the path, never folded at the console's width.
            console.print(styled(f"{error.kind}:", "red", error.one_line()), soft_wrap=True)
            raise typer.Exit(error.exit_code) from None

    return handled


class _Commands(typer.Typer):
    """A typer app whose every command (and group callback) goes through ``_reporting_errors``."""

    def command(self, *args: Any, **kwargs: Any) -> Callable[[CommandFunctionType], CommandFunctionType]:
        return _registering(super().command(*args, **kwargs))

    def callback(self, *args: Any, **kwargs: Any) -> Callable[[CommandFunctionType], CommandFunctionType]:
        return _registering(super().callback(*args, **kwargs))


def _registering(register: Callable[[Callable[..., Any]], Any]) -> Callable[[CommandFunctionType], CommandFunctionType]:
    def decorator(function: CommandFunctionType) -> CommandFunctionType:
        register(_reporting_errors(function))
        return function

    return decorator


app = _Commands(no_args_is_help=True, add_completion=False, help="Nightly fact-check triage of articles.")

# Options several commands share.
PathsArgument = Annotated[list[str], typer.Argument(help="Files, folders, globs, or - for stdin.")]
DbOption = Annotated[Optional[Path], typer.Option("--db", help="SQLite database (default ./pipeline.db).")]
ModelOption = Annotated[Optional[str], typer.Option(help="Model name at the endpoint.")]
BaseUrlOption = Annotated[Optional[str], typer.Option(help="OpenAI-compatible base URL.")]
ModeOption = Annotated[Optional[LLMMode], typer.Option(help="Structured-output mode.")]
EngineOption = Annotated[Optional[Engine], typer.Option(help="auto: the LLM when an endpoint is configured.")]
RunOption = Annotated[Optional[int], typer.Option("--run", help="Only the articles of this run.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
RetryFailedOption = Annotated[
    bool,
    typer.Option("--retry-failed", help="Try again articles whose deterministic failure used up PIPELINE_FAILED_RETRIES."),
]
_SUMMARY_ROWS = 50


def _settings(**flags: Any) -> Settings:
    return load_settings(flags)


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
    settings = _settings(
        model=model,
        base_url=base_url or None,
        mode=mode,
        engine=engine,
        db=db,
        concurrency=concurrency,
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
    if result.stopped:
        console.print(styled("run stopped cleanly:", "yellow", result.stopped))
    if result.fatal:
        console.print(styled("run stopped:", "red", result.fatal))
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


@app.command()
def show(
    ref: Annotated[str, typer.Argument(help="Article id (or prefix), cache key, or source path.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show the stored analysis of one article (--json: the record of `export --format jsonl`)."""
    settings = _settings(db=db, engine=Engine.offline)
    with Store(settings.db, read_only=True) as store:
        articles = read_settled(store, settings.night_clock, refs=[ref])
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
    db: DbOption = None,
) -> None:
    """Write stored analyses to standard output (latest result per article)."""
    settings = _settings(db=db, engine=Engine.offline)
    with Store(settings.db, read_only=True) as store:
        written = export_results(store, format, sys.stdout, run_id, settings.night_clock)
    console.print(f"{written} {format} records written")


@app.command()
def report(
    run_id: Annotated[Optional[int], typer.Option("--run", help="The run to report (default: the latest).")] = None,
    since: Annotated[Optional[str], typer.Option(help="Every run started since this date or time, e.g. 2026-11-23.")] = None,
    html: Annotated[Optional[Path], typer.Option("--html", help="Write the HTML page here.")] = None,
    md: Annotated[Optional[Path], typer.Option("--md", help="Write the Markdown summary here.")] = None,
    limit: Annotated[int, typer.Option(help="Worklist items the report shows in full.")] = DEFAULT_LIMIT,
    db: DbOption = None,
) -> None:
    """Write the morning report: a self-contained HTML page and a chat-sized Markdown summary.

    Without --html or --md the summary is printed.
    """
    settings = _settings(db=db, engine=Engine.offline)
    with Store(settings.db, read_only=True) as store:
        written = write_report(store, html, md, run_id=run_id, since=since, limit=limit, clock=settings.night_clock)
    if html is None and md is None:
        stdout.print(render_markdown(written), end="", soft_wrap=True)
    console.print(
        f"report of {written.title}: {len(written.results)} articles" + "".join(f", {path}" for path in (html, md) if path)
    )


@app.command()
def worklist(
    limit: Annotated[int, typer.Option(help="How many items (0: all).")] = DEFAULT_LIMIT,
    as_json: Annotated[bool, typer.Option("--json", help="Print the items as JSON.")] = False,
    run_id: Annotated[Optional[int], typer.Option("--run", help="The run (default: the latest).")] = None,
    db: DbOption = None,
) -> None:
    """The ranked list the desk works from: one item per story or template, new tonight first,
    most likely fabricated first, each with its evidence, three claims, source and review status."""
    if limit < 0:
        console.print("--limit must be 0 (all) or more")
        raise typer.Exit(2)
    settings = _settings(db=db, engine=Engine.offline)
    with Store(settings.db) as store:
        found = build_worklist(store, run_id=run_id, limit=limit or None, clock=settings.night_clock)
    if as_json:
        stdout.print_json(json.dumps(found.to_record(), ensure_ascii=False))
    else:
        stdout.print(worklist_view(found))


@app.command()
def runs(db: DbOption = None, limit: Annotated[int, typer.Option(help="How many runs.")] = 20) -> None:
    """List recent runs: counts, tokens across retries, wall time and estimated cost."""
    settings = _settings(db=db, engine=Engine.offline)
    with Store(settings.db, read_only=True) as store:
        stdout.print(runs_table(store.runs(limit)))


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
        with _memory(db) as store:
            figures = review_figures(store)
        _emit(as_json, figures, render_review_figures(figures))
        return
    if dataset is None:
        raise UsageError("give a labelled DATASET, or --reviews")
    settings = _settings(engine=engine, model=model, base_url=base_url, fabrication_prior=prior)
    figures = evaluate_file(dataset, task, analyse=engine_analyser(settings), progress=console.is_terminal)
    if as_json:
        stdout.print_json(json.dumps(figures))
    else:
        stdout.print(render_eval(figures), soft_wrap=True)


batch_app = _Commands(no_args_is_help=True, help="OpenAI Batch API mode: half price, answers within 24 hours.")
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

    settings = _settings(model=model, base_url=base_url, mode=mode, db=db, engine=Engine.llm)
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

    settings = _settings(base_url=base_url, db=db, engine=Engine.offline)
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

    settings = _settings(model=model, base_url=base_url, mode=mode, db=db, engine=Engine.llm)
    with Store(settings.db) as store:
        result = batch_mode.collect(settings, store)
    if result is None:
        console.print("nothing to collect: no batch has finished since the last collect (see `pipeline batch status`)")
        raise typer.Exit(0)
    _print_result(result)
    raise typer.Exit(result.exit_code)


def _memory(db: Path | None):
    """The store of the desk's memory commands (deaths, factchecks, review, sources)."""
    return Store(_settings(db=db, engine=Engine.offline).db)


def _refresh(store: Store, db: Path | None, article_ids: list[str] | None) -> None:
    """Settle again the verdicts a desk change touched (None: every article's)."""
    refresh_verdicts(store, _settings(db=db, engine=Engine.offline).night_clock, article_ids)


def _emit(as_json: bool, record: object, text: str) -> None:
    if as_json:
        stdout.print(json.dumps(record, ensure_ascii=False, indent=2), soft_wrap=True)
    else:
        stdout.print(text, end="" if text.endswith("\n") or not text else "\n", soft_wrap=True)


deaths_app = _Commands(help="The death register: who the store holds as dead, and on what evidence.")
app.add_typer(deaths_app, name="deaths")


@deaths_app.callback(invoke_without_command=True)
def deaths(ctx: typer.Context, as_json: JsonOption = False, db: DbOption = None) -> None:
    """List the register: each person with the articles and sentences that say they died."""
    if ctx.invoked_subcommand is not None:
        return
    with _memory(db) as store:
        entries = death_register(store)
    lines = []
    for entry in entries:
        backing = "; ".join(f"{e.article_id[:12]} {e.kind}: {e.sentence[:100]}" for e in entry.evidence)
        desk = f"desk ({entry.desk_date or 'no date'}, {entry.desk_source or 'no source'})" if entry.by_desk else ""
        lines.append(f"{entry.name}: {' | '.join(filter(None, [desk, backing]))}")
    _emit(as_json, [entry.to_record() for entry in entries], "\n".join(lines) or "the death register is empty")


@deaths_app.command("add")
def deaths_add(
    name: Annotated[str, typer.Argument(help="The person's full name.")],
    date: Annotated[Optional[str], typer.Option(help="Date of death, e.g. 2023-04-22.")] = None,
    source: Annotated[Optional[str], typer.Option(help="Where the desk confirmed it (URL or note).")] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Register a death on the desk's word."""
    with _memory(db) as store:
        entry = add_death(store, name, date=date, source=source)
        _refresh(store, db, articles_containing(store, [entry.name.casefold()]))
    _emit(as_json, entry.to_record(), f"registered {entry.name}")


@deaths_app.command("remove")
def deaths_remove(
    name: Annotated[str, typer.Argument(help="The name as the register lists it (case and spacing ignored).")],
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Take a name out of the register; the same evidence never puts it back, and the
    posthumous flags resting on it are dropped."""
    with _memory(db) as store:
        entry = remove_death(store, name)
        _refresh(store, db, articles_containing(store, [entry.name.casefold()]))
    _emit(as_json, entry.to_record(), f"removed {entry.name} ({len(entry.evidence)} evidence suppressed)")


factchecks_app = _Commands(help="Known fact-checks (ClaimReview), matched against every article and claim.")
app.add_typer(factchecks_app, name="factchecks")


@factchecks_app.callback(invoke_without_command=True)
def factchecks(ctx: typer.Context, as_json: JsonOption = False, db: DbOption = None) -> None:
    """List the stored fact-checks."""
    if ctx.invoked_subcommand is not None:
        return
    with _memory(db) as store:
        checks = list_factchecks(store)
    text = "\n".join(f"{c.rating or 'unrated'} ({c.publisher or '?'}): {c.claim_reviewed}  {c.url}" for c in checks)
    _emit(as_json, [check.to_record() for check in checks], text or "no fact-checks stored")


@factchecks_app.command("import")
def factchecks_import(
    files: Annotated[list[Path], typer.Argument(help="ClaimReview JSON / JSON-LD files, lists or feeds.")],
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Import ClaimReview files (a re-import updates by URL) and match every stored article."""
    with _memory(db) as store:
        counts = import_factchecks(store, files)
        _refresh(store, db, None)
    _emit(
        as_json,
        counts,
        f"{counts['read']} fact-checks read: {counts['added']} added, {counts['updated']} updated; "
        f"{counts['matches']} matches with stored articles and claims",
    )


@app.command()
def review(
    target: Annotated[list[str], typer.Argument(help="ARTICLE_OR_STORY, or: import FILE.csv")],
    verdict: Annotated[Optional[str], typer.Option(help=f"One of: {', '.join(v.value for v in Verdict)}.")] = None,
    note: Annotated[Optional[str], typer.Option(help="What the desk found.")] = None,
    by: Annotated[Optional[str], typer.Option(help="Who reviewed it.")] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Record the desk's verdict on an article (id, prefix or path) or a story (cluster id);
    `pipeline review import FILE.csv` reads the worklist CSV with a filled `verdict` column.

    A reviewed story leaves the worklist until a new article joins it.
    """
    with _memory(db) as store:
        if target[0] == "import":
            if len(target) != 2 or verdict is not None:
                raise InputError("review import", "give one CSV file and no --verdict")
            done = import_reviews(store, Path(target[1]), by=by)
        elif len(target) != 1 or verdict is None:
            raise InputError("review", "give one ARTICLE_OR_STORY and --verdict")
        else:
            done = [add_review(store, target[0], verdict, note=note, by=by)]
        _refresh(store, db, [article_id for r in done for article_id in r.article_ids])
    _emit(
        as_json,
        [r.to_record() for r in done],
        "\n".join(f"{r.verdict.value}: {r.target} ({len(r.article_ids)} articles)" for r in done) or "no verdicts in the file",
    )


sources_app = _Commands(help="Trusted and unreliable source domains, read against article URLs.")
app.add_typer(sources_app, name="sources")


@sources_app.callback(invoke_without_command=True)
def sources(ctx: typer.Context, as_json: JsonOption = False, db: DbOption = None) -> None:
    """List the listed domains."""
    if ctx.invoked_subcommand is not None:
        return
    with _memory(db) as store:
        listed = listed_sources(store)
    _emit(
        as_json,
        [s.to_record() for s in listed],
        "\n".join(f"{s.standing.value}: {s.domain}" for s in listed) or "no sources listed",
    )


@sources_app.command("add")
def sources_add(
    trusted: Annotated[Optional[list[str]], typer.Option("--trusted", help="A trusted domain (repeatable).")] = None,
    unreliable: Annotated[Optional[list[str]], typer.Option("--unreliable", help="An unreliable domain (repeatable).")] = None,
    file: Annotated[Optional[Path], typer.Option("--file", help="Domains, one a line (# comments).")] = None,
    standing: Annotated[Optional[SourceStanding], typer.Option(help="The standing of the --file domains.")] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """List domains as trusted (lowers priority) or unreliable (evidence of fabrication)."""
    if file is not None and standing is None:
        raise InputError(str(file), "give --standing trusted or --standing unreliable for the file's domains")
    listings = {SourceStanding.trusted: list(trusted or []), SourceStanding.unreliable: list(unreliable or [])}
    if file is not None and standing is not None:
        listings[standing] += read_domain_file(file)
    with _memory(db) as store:
        listed = add_sources(store, listings)
        _refresh(store, db, article_ids_at_domains(store, (s.domain for s in listed)))
    _emit(as_json, [s.to_record() for s in listed], "\n".join(f"{s.standing.value}: {s.domain}" for s in listed))


@sources_app.command("remove")
def sources_remove(
    domains: Annotated[list[str], typer.Argument(help="Domains to unlist.")], as_json: JsonOption = False, db: DbOption = None
) -> None:
    """Unlist domains."""
    with _memory(db) as store:
        removed = remove_sources(store, domains)
        _refresh(store, db, article_ids_at_domains(store, domains))
    _emit(as_json, {"removed": removed}, f"{removed} domains unlisted")
