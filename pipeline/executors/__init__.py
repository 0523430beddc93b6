"""Executors: where the analysis of a run's uncached articles happens.

The default is the runner's own asyncio loop in this process (``pipeline.runner.run_batch``).
``pipeline.executors.ray`` runs the same engine and verification in Ray Data workers, for
fleets of self-hosted servers and more articles a night than one machine's client can send;
it needs the optional extra ``pipeline[ray]``.
"""

__all__: list[str] = []
