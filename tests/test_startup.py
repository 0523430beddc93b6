"""The command line starts without the heavy libraries: the LLM SDKs, spaCy, Ray and
trafilatura, and the web stack of `pipeline serve` are imported only by the commands and inputs that use them."""

import subprocess
import sys

HEAVY = ("openai", "instructor", "spacy", "ray", "trafilatura", "starlette", "uvicorn")


def _imported_by(statement: str) -> list[str]:
    probe = f"import sys; {statement}; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return done.stdout.split()


def test_the_cli_and_the_library_import_no_heavy_library():
    assert _imported_by("import pipeline.cli") == []
    assert _imported_by("import pipeline") == []


def test_the_llm_engine_brings_the_sdk_when_asked_for():
    assert "openai" in _imported_by("from pipeline.engines import EvidenceEngine")
