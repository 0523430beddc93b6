"""pipeline: nightly fact-check triage of articles.

The library is the product; the ``pipeline`` command is a thin layer over it::

    import sys
    from pipeline import Store, export_results, load_settings, run

    result = run(["seeds/"], load_settings({}))
    with Store("pipeline.db") as store:
        export_results(store, "jsonl", sys.stdout)
"""

from .errors import (
    AnswerError,
    ConfigError,
    FatalProviderError,
    InputError,
    PipelineError,
    ProviderError,
    RateLimitError,
    RunLockedError,
    StoreError,
    TransientProviderError,
)
from .evaluate import evaluate_file, render_eval
from .export import export_results
from .html_report import write_report
from .insight import update_batch_insight
from .models import Analysis, Article, ArticleVerdict, Label, ReasonCode
from .offline import analyse_offline
from .engines import make_engine
from .runner import Budget, RunResult, analyse_article, run, run_batch
from .settings import Engine, LLMMode, Settings, load_settings
from .sources import iter_articles
from .store import Store, StoredResult
from .verify import locate_quote, verify_quotes

__all__ = [
    "PipelineError", "ConfigError", "InputError", "ProviderError", "TransientProviderError", "RateLimitError",
    "FatalProviderError", "AnswerError", "StoreError", "RunLockedError",
    "Settings", "Engine", "LLMMode", "load_settings",
    "Article", "ArticleVerdict", "Analysis", "Label", "ReasonCode",
    "iter_articles", "locate_quote", "verify_quotes", "analyse_offline",
    "make_engine", "analyse_article", "run", "run_batch", "Budget", "RunResult",
    "Store", "StoredResult", "update_batch_insight", "export_results", "write_report",
    "evaluate_file", "render_eval",
]
