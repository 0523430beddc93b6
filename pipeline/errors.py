"""Every error the pipeline raises on purpose, in one tree.

Callers catch ``PipelineError`` for anything the pipeline itself reports; the
subclasses say which stage failed and whether retrying can help. Each class
carries what the command line does with it: ``kind`` prefixes the one line it
prints (``error.one_line()``) and ``exit_code`` is the status it exits with
(2: the command could not do its job; README lists the codes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.models import Usage

__all__ = [
    "PipelineError",
    "UsageError",
    "ConfigError",
    "InputError",
    "ProviderError",
    "TransientProviderError",
    "RateLimitError",
    "UnusableAnswerError",
    "FatalProviderError",
    "AnswerError",
    "StoreError",
    "RunLockedError",
    "OutputError",
]


class PipelineError(Exception):
    """Base of every error the pipeline raises on purpose."""

    kind = "error"
    exit_code = 2

    def one_line(self) -> str:
        """The message on one line, as the command line prints it."""
        return " ".join(str(self).split())


class UsageError(PipelineError):
    """A value given to a command is not one it takes (a format, a task, a run, a date)."""

    kind = "usage error"


class ConfigError(PipelineError):
    """Settings are missing or contradictory; the run cannot start."""

    kind = "configuration error"


class InputError(PipelineError):
    """An input cannot be read: in a run it is skipped and the batch goes on; a command
    that reads one file (``eval``) stops."""

    kind = "input error"

    def __init__(self, source: str, reason: str):
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class ProviderError(PipelineError):
    """The LLM endpoint failed for one article.

    The engine attaches what the failed attempts cost and returned, because failed
    requests are paid for too.
    """

    kind = "provider error"
    usage: Usage | None = None
    raw_responses: tuple[str, ...] = ()


class TransientProviderError(ProviderError):
    """A failure that may succeed later: rate limit, timeout, 5xx, dropped connection."""

    retry_after: float | None = None  # seconds the provider asked us to wait, when it said


class RateLimitError(TransientProviderError):
    """The provider asked us to slow down (429 other than an exhausted quota)."""


class UnusableAnswerError(TransientProviderError):
    """The endpoint answered, but not with a chat completion the pipeline can read: no
    choices, no message, an HTML page, unrelated JSON, or another model than the one asked.

    The endpoint's failure, not the article's: a replica sending it is left out for a while
    and the request goes to another; the article is tried again by a later run, never
    remembered as deterministic and never cached under the asked model's name.
    """


class FatalProviderError(ProviderError):
    """A failure no retry fixes (bad key, exhausted quota, unknown model): the run stops."""


class AnswerError(ProviderError):
    """The provider answered, but the answer cannot be used (invalid, truncated, refused).

    Deterministic: asking again the same way gets the same answer, so the failure memory
    stops re-paying for it after a few runs. ``kind`` says which way it failed.
    """

    def __init__(self, message: str, kind: str = "schema"):
        super().__init__(message)
        self.kind = kind


class StoreError(PipelineError):
    """The SQLite store cannot be opened or written."""

    kind = "store error"


class RunLockedError(StoreError):
    """Another live run holds the database's lock."""


class OutputError(PipelineError):
    """A report or export cannot be written where it was asked to go."""

    kind = "output error"
