"""Where the work runs: reading a run's inputs, analysing what the cache lacks, and recording
every outcome, in this process (asyncio), on Ray Data workers, or through a provider's Batch API.

``run`` is the dispatcher: it opens the store (with ``learn_on_run``, learns from the desk's
new verdicts first) and hands the run to an executor
(``local.run_batch``, or ``ray.run_with_ray``, imported only when asked for). Every
executor reads its inputs through ``inputs.RunInputs``, analyses an article with
``article.analyse_article`` and records it in ``ledger.RunLedger``, as ``batch collect``
(``batch_api``) does with the Batch API's answers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from enum import StrEnum

from pipeline.desk.settled import learn_and_settle
from pipeline.runs.article import analyse_article
from pipeline.runs.budget import Budget
from pipeline.runs.ledger import RunResult
from pipeline.runs.local import run_batch
from pipeline.settings import Settings
from pipeline.store import Store

__all__ = ["Executor", "run", "run_batch", "analyse_article", "Budget", "RunResult"]


class Executor(StrEnum):
    """Where the analysis runs: this process's asyncio loop, or Ray Data workers (``pipeline[ray]``)."""

    local = "local"
    ray = "ray"


def run(
    paths: Sequence[str],
    settings: Settings,
    *,
    refresh: bool = False,
    rescan: bool = False,
    executor: Executor = Executor.local,
    ray_address: str | None = None,
    **kwargs,
) -> RunResult:
    """Synchronous entry point: open the store, run the batch on the executor, close the store.
    ``kwargs`` go to the executor (``run_batch``, ``run_with_ray``)."""
    with Store(settings.db) as store:
        if settings.learn_on_run:
            learn_and_settle(store, settings, only_when_new=True)
        if executor is Executor.ray:
            from pipeline.runs.ray import run_with_ray

            return run_with_ray(paths, settings, store, address=ray_address, refresh=refresh, rescan=rescan, **kwargs)
        return asyncio.run(run_batch(paths, settings, store, refresh=refresh, rescan=rescan, **kwargs))
