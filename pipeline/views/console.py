"""The terminal: every line the pipeline prints goes through a ``SafeConsole``.

Article text, titles, quotes, record ids, file names and provider errors all reach the
terminal, so no string is ever read as markup (styles are given as ``Text`` styles, never
inline), and control characters and escape sequences, which can retitle, clear or rewrite a
terminal, are stripped from everything rendered, tables and log lines included.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from rich.console import Console, ConsoleOptions, RenderableType
from rich.logging import RichHandler
from rich.segment import Segment
from rich.text import Text

__all__ = ["SafeConsole", "clean", "styled", "log_to"]

# ESC and what makes it a command: a whole CSI sequence (cursor moves, clears, colours), the
# introducer of an OSC/DCS/PM/APC string (titles, hyperlinks) or a two-character escape; then
# any other C0/C1 control but tab and newline (BEL, CR, backspace, the 8-bit CSI), and the
# bidirectional overrides that reorder what a reader sees. A string's payload stays as
# visible text: without its ESC nothing reads it as a command, and rich has already dropped
# some terminators (BEL) by the time a segment is rendered.
_UNSAFE = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]?|\][0-9]*;?|[ -~]?)"
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
)


def clean(text: str) -> str:
    """``text`` without control characters (but tab and newline) or terminal escape sequences."""
    return _UNSAFE.sub("", text)


def styled(label: str, style: str, message: object) -> Text:
    """A line of ``label`` in ``style``, then ``message`` as plain text, whatever it contains."""
    return Text.assemble((label, style), " ", str(message))


class SafeConsole(Console):
    """A rich console for data: markup and emoji codes off, every rendered segment cleaned.

    Segments that rich marks as control (its own cursor moves for progress bars) pass as
    they are; every other segment's text is cleaned after layout, so no renderable, however
    built, can carry an escape sequence to the terminal.
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(markup=False, emoji=False, highlight=False, **kwargs)  # type: ignore[arg-type]

    def render(self, renderable: RenderableType, options: ConsoleOptions | None = None) -> Iterable[Segment]:
        for segment in super().render(renderable, options):
            yield segment if segment.control else Segment(clean(segment.text), segment.style)


def log_to(console: Console, level: int = logging.INFO) -> None:
    """Send the pipeline's log records (why a run waits, each phase after the articles, and the
    like) to ``console``, once, each line stamped with its ISO 8601 local time and offset."""
    logger = logging.getLogger("pipeline")
    if logger.getEffectiveLevel() > level:
        logger.setLevel(level)
    if not any(getattr(handler, "console", None) is console for handler in logger.handlers):
        handler = RichHandler(
            console=console,
            show_path=False,
            markup=False,
            rich_tracebacks=False,
            omit_repeated_times=False,
            log_time_format=lambda moment: Text(moment.astimezone().isoformat(timespec="seconds")),
        )
        handler.setLevel(level)
        logger.addHandler(handler)
