"""The adversarial articles' timing of bench/adversarial_speed.py, for tests/test_redteam_speed.py."""

from adversarial_speed import cpu_seconds

__all__ = ["cpu_seconds"]
