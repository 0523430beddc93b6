"""Cassette policy for every replayed test: scrubbed, body-matched, replay-only in CI.

A test marked ``vcr`` fails before it starts when its cassette file is missing, and
after it ends when it sent a request the cassette does not hold, each time with the
command that records cassettes, instead of surfacing as a connection error deep in
the SDK.
"""

import os
import re
from pathlib import Path

import pytest
from hypothesis import settings

# CI must not fail on an example nobody has seen before: property tests replay a fixed
# set of examples; HYPOTHESIS_PROFILE=explore (and scripts/fuzz_inputs.py) searches anew.
settings.register_profile("replay", derandomize=True, deadline=None)
settings.register_profile("explore", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "replay"))

RECORD_COMMAND = "scripts/record_cassettes.sh"
_KEEP_RESPONSE_HEADERS = {"content-type"}
_REAL_KEY = re.compile(r"^(sk|sess|key)-[A-Za-z0-9_\-]{16,}$")


def _scrub_response(response):
    response["headers"] = {name: value for name, value in response["headers"].items() if name.lower() in _KEEP_RESPONSE_HEADERS}
    return response


@pytest.fixture
def vcr_config():
    return {
        "filter_headers": [
            "authorization",
            "cookie",
            "set-cookie",
            "openai-organization",
            "openai-project",
            "x-api-key",
            "api-key",
        ],
        "before_record_response": _scrub_response,
        "match_on": ["method", "path", "body"],
        "decode_compressed_response": True,
    }


@pytest.fixture(scope="session", autouse=True)
def inputs_are_complete():
    """Tests write their inputs whole before they run, so none is "still being written";
    tests of that guard set ``min_file_age`` themselves."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PIPELINE_MIN_FILE_AGE", "0")
        yield


@pytest.fixture(scope="session", autouse=True)
def refuse_to_record_with_a_real_key(record_mode):
    key = os.environ.get("OPENAI_API_KEY", "")
    if record_mode != "none" and _REAL_KEY.match(key) and os.environ.get("PIPELINE_ALLOW_REAL_KEY") != "1":
        pytest.exit(
            "OPENAI_API_KEY looks like a real key: unset it to record cassettes, or set PIPELINE_ALLOW_REAL_KEY=1 if you mean it",
            returncode=2,
        )


@pytest.fixture(autouse=True)
def cassette_guard(request, vcr, record_mode, vcr_cassette_dir, default_cassette_name):
    if vcr is None or record_mode != "none":
        yield vcr
        return
    path = Path(vcr_cassette_dir) / f"{default_cassette_name}.yaml"
    if not path.is_file():
        pytest.fail(f"cassette {path} is missing: record it with {RECORD_COMMAND}", pytrace=False)
    misses = []
    can_play = vcr.can_play_response_for

    def noting_misses(vcr_request):
        playable = can_play(vcr_request)
        if not playable:
            misses.append(f"{vcr_request.method} {vcr_request.path}")
        return playable

    vcr.can_play_response_for = noting_misses
    yield vcr
    if misses:
        pytest.fail(
            f"{len(misses)} request(s) not in cassette {path} ({misses[0]}, ...): the prompt, "
            f"schema or settings changed; re-record with {RECORD_COMMAND}",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def desk_night(tmp_path_factory):
    """The desk's night (``support.batch_fixtures.desk_store``), analysed once per session."""
    from support.batch_fixtures import desk_store

    return desk_store(tmp_path_factory.mktemp("desk-night"))


@pytest.fixture
def desk_db(desk_night, tmp_path):
    """A fresh copy of the desk's night for one test, which may write to it."""
    from support.batch_fixtures import copy_store

    return copy_store(desk_night, tmp_path / "desk.db")
