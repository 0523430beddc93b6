"""pipeline: nightly fact-check triage of articles.

The library is the product; the ``pipeline`` command is a thin layer over it::

    import sys
    from pipeline import Store, export_results, load_settings, run

    result = run(["seeds/"], load_settings({}))
    with Store("pipeline.db") as store:
        export_results(store, "jsonl", sys.stdout)

Public names, by stage (``tests/test_public_api.py`` pins ``__all__`` to this list):

- errors: ``PipelineError``, ``UsageError``, ``ConfigError``, ``InputError``, ``ProviderError``,
  ``TransientProviderError``, ``RateLimitError``, ``FatalProviderError``, ``AnswerError``,
  ``StoreError``, ``RunLockedError``, ``OutputError``
- settings: ``Settings``, ``Engine``, ``LLMMode``, ``load_settings``, ``NightClock``
- schema: ``Article``, ``ArticleVerdict``, ``Analysis``, ``Label``, ``ReasonCode``
- sources and verification: ``iter_articles``, ``locate_quote``, ``verify_quotes``
- engines: ``make_engine``, ``analyse_offline``
- runs: ``analyse_article``, ``run``, ``run_batch``, ``Budget``, ``RunResult``
- store: ``Store``, ``StoredResult``, ``parse_since``
- insight and views: ``update_batch_insight``, ``SettledArticle``, ``read_settled``, ``refresh_verdicts``,
  ``article_record``, ``export_results``, ``write_report``
- the desk's memory: ``death_statements``, ``death_register``, ``add_death``, ``remove_death``,
  ``import_factchecks``, ``list_factchecks``, ``Verdict``, ``add_review``, ``import_reviews``,
  ``review_figures``, ``SourceStanding``, ``add_sources``, ``remove_sources``, ``listed_sources``,
  ``audit_draws``, ``audit_verdicts``
- measurement: ``evaluate_file``, ``render_eval``
"""

from pipeline.errors import (
    AnswerError,
    ConfigError,
    FatalProviderError,
    InputError,
    OutputError,
    PipelineError,
    ProviderError,
    RateLimitError,
    RunLockedError,
    StoreError,
    TransientProviderError,
    UsageError,
)
from pipeline.evaluate import evaluate_file, render_eval
from pipeline.views.export import export_results
from pipeline.desk.audits import audit_draws, audit_verdicts
from pipeline.desk.factchecks import import_factchecks, list_factchecks
from pipeline.views.morning_report import write_report
from pipeline.desk.insight import update_batch_insight
from pipeline.models import Analysis, Article, ArticleVerdict, Label, ReasonCode
from pipeline.engines import make_engine
from pipeline.offline import analyse_offline
from pipeline.desk.people import death_statements
from pipeline.desk.posthumous import add_death, death_register, remove_death
from pipeline.desk.settled import SettledArticle, refresh_verdicts
from pipeline.views.read import read_settled
from pipeline.views.record import article_record
from pipeline.desk.reviews import Verdict, add_review, import_reviews, review_figures
from pipeline.runs import Budget, RunResult, analyse_article, run, run_batch
from pipeline.settings import Engine, LLMMode, NightClock, Settings, load_settings
from pipeline.desk.source_lists import SourceStanding, add_sources, listed_sources, remove_sources
from pipeline.inputs import iter_articles
from pipeline.store import Store, StoredResult, parse_since
from pipeline.checks.quotes import locate_quote, verify_quotes

__all__ = [
    "PipelineError",
    "UsageError",
    "ConfigError",
    "InputError",
    "ProviderError",
    "TransientProviderError",
    "RateLimitError",
    "FatalProviderError",
    "AnswerError",
    "StoreError",
    "RunLockedError",
    "OutputError",
    "Settings",
    "Engine",
    "LLMMode",
    "load_settings",
    "NightClock",
    "Article",
    "ArticleVerdict",
    "Analysis",
    "Label",
    "ReasonCode",
    "iter_articles",
    "locate_quote",
    "verify_quotes",
    "make_engine",
    "analyse_offline",
    "analyse_article",
    "run",
    "run_batch",
    "Budget",
    "RunResult",
    "Store",
    "StoredResult",
    "parse_since",
    "update_batch_insight",
    "SettledArticle",
    "read_settled",
    "refresh_verdicts",
    "article_record",
    "export_results",
    "write_report",
    "death_statements",
    "death_register",
    "add_death",
    "remove_death",
    "import_factchecks",
    "list_factchecks",
    "Verdict",
    "add_review",
    "import_reviews",
    "review_figures",
    "audit_draws",
    "audit_verdicts",
    "SourceStanding",
    "add_sources",
    "remove_sources",
    "listed_sources",
    "evaluate_file",
    "render_eval",
]
