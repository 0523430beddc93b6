"""The old home of the shared text helpers, now :mod:`pipeline.text` (the quotation scanner and
the verifier need them without the offline engine). Kept only so imports written against the
old path keep working while other branches land; new code imports :mod:`pipeline.text`."""

from pipeline.text import *  # noqa: F403
from pipeline.text import __all__  # noqa: F401
