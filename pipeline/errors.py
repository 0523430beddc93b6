"""Every error the pipeline raises on purpose, in one tree.

Callers catch ``PipelineError`` for anything the pipeline itself reports; the
subclasses say which stage failed and whether retrying can help.
"""

__all__ = [
    "PipelineError",
    "ConfigError",
    "InputError",
    "ProviderError",
    "TransientProviderError",
    "RateLimitError",
    "FatalProviderError",
    "AnswerError",
    "StoreError",
    "RunLockedError",
]


class PipelineError(Exception):
    """Base of every error the pipeline raises on purpose."""


class ConfigError(PipelineError):
    """Settings are missing or contradictory; the run cannot start (exit code 2)."""


class InputError(PipelineError):
    """One input cannot be read as an article; it is skipped, the batch goes on."""

    def __init__(self, source: str, reason: str):
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class ProviderError(PipelineError):
    """The LLM endpoint failed for one article.

    The engine attaches what the failed attempts cost and returned, because failed
    requests are paid for too.
    """

    usage = None
    raw_responses: tuple[str, ...] = ()


class TransientProviderError(ProviderError):
    """A failure that may succeed later: rate limit, timeout, 5xx, dropped connection."""

    retry_after: float | None = None  # seconds the provider asked us to wait, when it said


class RateLimitError(TransientProviderError):
    """The provider asked us to slow down (429 other than an exhausted quota)."""


class FatalProviderError(ProviderError):
    """A failure no retry fixes (bad key, exhausted quota, unknown model): the run stops."""


class AnswerError(ProviderError):
    """The provider answered, but the answer cannot be used (invalid, truncated, refused)."""


class StoreError(PipelineError):
    """The SQLite store cannot be opened or written."""


class RunLockedError(StoreError):
    """Another live run holds the database's lock."""
