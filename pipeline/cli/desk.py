"""The desk's memory: ``deaths``, ``factchecks``, ``review`` (and ``serve``, the review page),
``sources``, and ``learn`` from its verdicts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from pipeline.errors import InputError, StoreError
from pipeline.desk.factchecks import import_factchecks, list_factchecks
from pipeline.desk.posthumous import add_death, articles_containing, death_register, remove_death
from pipeline.desk.reviews import Verdict, add_review, import_reviews
from pipeline.desk.source_lists import (
    SourceStanding,
    add_sources,
    article_ids_at_domains,
    listed_sources,
    read_domain_file,
    remove_sources,
)
from pipeline.desk.learning import describe_calibration
from pipeline.desk.settled import learn_and_settle, refresh_verdicts, rollback_and_settle
from pipeline.settings import Engine
from pipeline.store import Store

from pipeline.cli.app import app, console, Commands, settings_from_flags, DbOption, JsonOption, open_memory, emit


def _refresh(store: Store, db: Path | None, article_ids: list[str] | None) -> None:
    """Settle again the verdicts a desk change touched (None: every article's)."""
    refresh_verdicts(store, settings_from_flags(db=db, engine=Engine.offline).night_clock, article_ids)


deaths_app = Commands(help="The death register: who the store holds as dead, and on what evidence.")
app.add_typer(deaths_app, name="deaths")


@deaths_app.callback(invoke_without_command=True)
def deaths(ctx: typer.Context, as_json: JsonOption = False, db: DbOption = None) -> None:
    """List the register: each person with the articles and sentences that say they died."""
    if ctx.invoked_subcommand is not None:
        return
    with open_memory(db, read_only=True) as store:
        entries = death_register(store)
    lines = []
    for entry in entries:
        backing = "; ".join(f"{e.article_id[:12]} {e.kind}: {e.sentence[:100]}" for e in entry.evidence)
        desk = f"desk ({entry.desk_date or 'no date'}, {entry.desk_source or 'no source'})" if entry.by_desk else ""
        unconfirmed = "" if entry.confirmed else "unconfirmed (one source: not evidence until another or the desk confirms)"
        lines.append(f"{entry.name}: {' | '.join(filter(None, [desk, unconfirmed, backing]))}")
    emit(as_json, [entry.to_record() for entry in entries], "\n".join(lines) or "the death register is empty")


@deaths_app.command("add")
def deaths_add(
    name: Annotated[str, typer.Argument(help="The person's full name.")],
    date: Annotated[Optional[str], typer.Option(help="Date of death, e.g. 2023-04-22.")] = None,
    source: Annotated[Optional[str], typer.Option(help="Where the desk confirmed it (URL or note).")] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Register a death on the desk's word."""
    with open_memory(db, create=True) as store:
        entry = add_death(store, name, date=date, source=source)
        _refresh(store, db, articles_containing(store, [entry.name.casefold()]))
    emit(as_json, entry.to_record(), f"registered {entry.name}")


@deaths_app.command("remove")
def deaths_remove(
    name: Annotated[str, typer.Argument(help="The name as the register lists it (case and spacing ignored).")],
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Take a name out of the register; the same evidence never puts it back, and the
    posthumous flags resting on it are dropped."""
    with open_memory(db) as store:
        entry = remove_death(store, name)
        _refresh(store, db, articles_containing(store, [entry.name.casefold()]))
    emit(as_json, entry.to_record(), f"removed {entry.name} ({len(entry.evidence)} evidence suppressed)")


factchecks_app = Commands(help="Known fact-checks (ClaimReview), matched against every article and claim.")
app.add_typer(factchecks_app, name="factchecks")


@factchecks_app.callback(invoke_without_command=True)
def factchecks(ctx: typer.Context, as_json: JsonOption = False, db: DbOption = None) -> None:
    """List the stored fact-checks."""
    if ctx.invoked_subcommand is not None:
        return
    with open_memory(db, read_only=True) as store:
        checks = list_factchecks(store)
    text = "\n".join(f"{c.rating or 'unrated'} ({c.publisher or '?'}): {c.claim_reviewed}  {c.url}" for c in checks)
    emit(as_json, [check.to_record() for check in checks], text or "no fact-checks stored")


@factchecks_app.command("import")
def factchecks_import(
    files: Annotated[list[Path], typer.Argument(help="ClaimReview JSON / JSON-LD files, lists or feeds.")],
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Import ClaimReview files (a re-import updates by URL) and match every stored article."""
    with open_memory(db, create=True) as store:
        counts = import_factchecks(store, files)
        _refresh(store, db, None)
    emit(
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
    with open_memory(db) as store:
        if target[0] == "import":
            if len(target) != 2 or verdict is not None:
                raise InputError("review import", "give one CSV file and no --verdict")
            done = import_reviews(store, Path(target[1]), by=by)
        elif len(target) != 1 or verdict is None:
            raise InputError("review", "give one ARTICLE_OR_STORY and --verdict")
        else:
            done = [add_review(store, target[0], verdict, note=note, by=by)]
        _refresh(store, db, [article_id for r in done for article_id in r.article_ids])
    emit(
        as_json,
        [r.to_record() for r in done],
        "\n".join(f"{r.verdict.value}: {r.target} ({len(r.article_ids)} articles)" for r in done) or "no verdicts in the file",
    )


@app.command()
def learn(
    roll_back: Annotated[bool, typer.Option("--rollback", help="Put back the fit the one in force replaced.")] = False,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Refit the probability of fabrication from the desk's verdicts (confirmed fabrication,
    false positive; audits weighted by how rarely they are drawn). A fit that scores worse on
    held-back verdicts than the one in force is kept but refused; every verdict is settled again.
    Exit 1 when nothing was fitted (fewer verdicts than PIPELINE_LEARN_MIN_VERDICTS)."""
    settings = settings_from_flags(db=db, engine=Engine.offline)
    with Store(settings.db) as store:
        if roll_back:
            calibration = rollback_and_settle(store, settings.night_clock)
            emit(as_json, {"fit_id": calibration.fit_id}, describe_calibration(store))
            return
        outcome = learn_and_settle(store, settings)
        assert outcome is not None, "learn_and_settle learns unless told to wait for new verdicts"
        emit(
            as_json,
            outcome.to_record(),
            f"fit {outcome.fit_id}: {outcome.status} ({outcome.reason})\n{describe_calibration(store)}",
        )
    if outcome.fit_id is None:
        raise typer.Exit(1)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on; beyond 127.0.0.1 needs PIPELINE_SERVE_TOKEN.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8321,
    limit: Annotated[int, typer.Option(help="Ranked items the page shows (0: all), before the audit sample.", min=0)] = 25,
    db: DbOption = None,
) -> None:
    """The latest run's worklist as a local web page where the desk records its verdicts
    (with a token, the page asks for it as the password of any user name)."""
    from pipeline.views.serve import ServeConfig, check_bind, create_app

    settings = settings_from_flags(db=db, engine=Engine.offline)
    check_bind(host, settings.serve_token)
    if not settings.db.is_file():
        raise StoreError(f"{settings.db}: no database there (check --db; `pipeline run` creates one)")
    Store(settings.db).close()  # a store that cannot be opened or upgraded stops here, in one line
    config = ServeConfig(settings.db, settings.night_clock, settings.audit_sample, limit or None, settings.serve_token, host)
    application = create_app(config)
    import uvicorn

    console.print(f"serving the worklist of {settings.db} on http://{host}:{port}/ (Ctrl-C stops)")
    uvicorn.run(application, host=host, port=port, log_level="warning")


sources_app = Commands(help="Trusted and unreliable source domains, read against article URLs.")
app.add_typer(sources_app, name="sources")


@sources_app.callback(invoke_without_command=True)
def sources(ctx: typer.Context, as_json: JsonOption = False, db: DbOption = None) -> None:
    """List the listed domains."""
    if ctx.invoked_subcommand is not None:
        return
    with open_memory(db, read_only=True) as store:
        listed = listed_sources(store)
    emit(
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
    with open_memory(db, create=True) as store:
        listed = add_sources(store, listings)
        _refresh(store, db, article_ids_at_domains(store, (s.domain for s in listed)))
    emit(as_json, [s.to_record() for s in listed], "\n".join(f"{s.standing.value}: {s.domain}" for s in listed))


@sources_app.command("remove")
def sources_remove(
    domains: Annotated[list[str], typer.Argument(help="Domains to unlist.")], as_json: JsonOption = False, db: DbOption = None
) -> None:
    """Unlist domains."""
    with open_memory(db) as store:
        removed = remove_sources(store, domains)
        _refresh(store, db, article_ids_at_domains(store, domains))
    emit(as_json, {"removed": removed}, f"{removed} domains unlisted")
