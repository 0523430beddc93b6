"""Where the work runs: reading a run's inputs, analysing what the cache lacks, and recording
every outcome, in this process (asyncio), on Ray Data workers, or through a provider's Batch API."""
