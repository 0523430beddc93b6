"""The offline engine: rules and a small fitted linear model, no network, no model weights."""

from pipeline.offline.engine import OFFLINE_VERSION, analyse_offline
from pipeline.offline.quotes import find_quotes
from pipeline.offline.signals import compute_signals

__all__ = ["analyse_offline", "find_quotes", "compute_signals", "OFFLINE_VERSION"]
