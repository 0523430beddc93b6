"""The ``pipeline`` application: the typer app, its one error handler, the consoles and the
options every command shares. The commands live beside it, by what they do: ``running``
(run, batch), ``reading`` (show, worklist, report, export, runs, eval), ``desk`` (deaths,
fact-checks, review, sources)."""

from __future__ import annotations

import functools
import json
import os
import sys
from importlib.metadata import version
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from typer.models import CommandFunctionType

from pipeline.views.console import SafeConsole, log_to, styled
from pipeline.errors import PipelineError
from pipeline.store import Store
from pipeline.settings import load_settings, Engine, LLMMode, Settings


__all__ = [
    "app",
    "console",
    "stdout",
    "Commands",
    "settings_from_flags",
    "PathsArgument",
    "DbOption",
    "ModelOption",
    "BaseUrlOption",
    "ModeOption",
    "EngineOption",
    "RunOption",
    "NightOption",
    "SinceOption",
    "JsonOption",
    "RetryFailedOption",
    "open_memory",
    "emit",
]

# A log file (cron) has no width: rich's default of 80 columns would fold tables and lines;
# COLUMNS, when set, says the width wanted either way.
_WIDE = None if "COLUMNS" in os.environ else 160
console = SafeConsole(stderr=True, width=None if sys.stderr.isatty() else _WIDE)
stdout = SafeConsole(width=None if sys.stdout.isatty() else _WIDE)
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


class Commands(typer.Typer):
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


# rich_markup_mode None: help is shown as written ("pipeline[ray]" stays), flags without a metavar.
app = Commands(no_args_is_help=True, add_completion=False, rich_markup_mode=None, help="Nightly fact-check triage of articles.")


def _print_version(wanted: bool) -> None:
    if wanted:
        stdout.print(f"pipeline {version('pipeline')}")
        raise typer.Exit()


@app.callback()
def _options(
    show_version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Nightly fact-check triage of articles."""


# Options several commands share.
PathsArgument = Annotated[list[str], typer.Argument(metavar="PATHS", help="Files, folders, globs, or - for stdin.")]
DbOption = Annotated[Optional[Path], typer.Option("--db", help="SQLite database (default ./pipeline.db).")]
ModelOption = Annotated[Optional[str], typer.Option(help="Model name at the endpoint.")]
BaseUrlOption = Annotated[Optional[str], typer.Option(help="OpenAI-compatible base URL.")]
ModeOption = Annotated[Optional[LLMMode], typer.Option(help="Structured-output mode.")]
EngineOption = Annotated[Optional[Engine], typer.Option(help="auto: the LLM when an endpoint is configured.")]
RunOption = Annotated[Optional[int], typer.Option("--run", help="Only the articles of this run.")]
NightOption = Annotated[
    Optional[str], typer.Option("--night", help="The night starting on this date, e.g. 2026-12-01 (default: tonight).")
]
SinceOption = Annotated[Optional[str], typer.Option(help="Every run started since this date or time, e.g. 2026-11-23.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
RetryFailedOption = Annotated[
    bool,
    typer.Option("--retry-failed", help="Try again articles whose deterministic failure used up PIPELINE_FAILED_RETRIES."),
]


def settings_from_flags(**flags: Any) -> Settings:
    return load_settings(flags)


def open_memory(db: Path | None, *, create: bool = False, read_only: bool = False) -> Store:
    """The store of the desk's memory commands (deaths, factchecks, review, sources): only the
    commands that add to the memory (``create``) may create one; a missing or mistyped
    ``--db`` is otherwise one line and exit 2, never an empty store that says "nothing"."""
    return Store(settings_from_flags(db=db, engine=Engine.offline).db, create=create, read_only=read_only)


def emit(as_json: bool, record: object, text: str) -> None:
    if as_json:
        stdout.print(json.dumps(record, ensure_ascii=False, indent=2), soft_wrap=True)
    else:
        stdout.print(text, end="" if text.endswith("\n") or not text else "\n", soft_wrap=True)
