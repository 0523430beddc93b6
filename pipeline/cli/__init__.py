"""The ``pipeline`` command: each command parses, calls the library, prints."""

from pipeline.cli.app import app

# Importing the command modules registers their commands on ``app``, in the order help lists them.
from pipeline.cli import running  # noqa: E402
from pipeline.cli import reading  # noqa: E402
from pipeline.cli import desk  # noqa: E402

__all__ = ["app"]
_COMMANDS = (running, reading, desk)
