"""The kill-and-restart loop of scripts/sigkill_runs.py, for tests/test_durability.py."""

from sigkill_runs import final_check, kill_rounds, start_run, write_articles

__all__ = ["final_check", "kill_rounds", "start_run", "write_articles"]
