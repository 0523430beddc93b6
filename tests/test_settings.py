from pathlib import Path

import pytest

from pipeline.errors import ConfigError
from pipeline.settings import Engine, LLMMode, load_settings


def test_defaults_choose_the_offline_engine_without_an_endpoint(tmp_path):
    settings = load_settings({}, environ={}, config_file=tmp_path / "none.toml")
    assert settings.engine is Engine.auto
    assert settings.resolved_engine is Engine.offline
    assert settings.db == Path("pipeline.db")


def test_flags_beat_environment_which_beats_the_file(tmp_path):
    config = tmp_path / "pipeline.toml"
    config.write_text('model = "from-file"\nconcurrency = 3\nmode = "json"\n')
    environ = {"PIPELINE_MODEL": "from-env", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}
    settings = load_settings({"model": None}, environ=environ, config_file=config)
    assert (settings.model, settings.concurrency, settings.mode) == ("from-env", 3, LLMMode.json)
    settings = load_settings({"model": "from-flag"}, environ=environ, config_file=config)
    assert settings.model == "from-flag"
    assert settings.resolved_engine is Engine.llm


def test_the_key_is_never_read_from_the_file(tmp_path):
    config = tmp_path / "pipeline.toml"
    config.write_text('api_key = "sk-in-a-file"\n')
    with pytest.raises(ConfigError, match="unknown settings api_key"):
        load_settings({}, environ={}, config_file=config)


def test_the_key_is_not_in_the_repr():
    settings = load_settings({"model": "m"}, environ={"OPENAI_API_KEY": "sk-secret-123"}, config_file=Path("/nonexistent"))
    assert "sk-secret-123" not in repr(settings)


@pytest.mark.parametrize(
    ("flags", "environ", "message"),
    [
        ({"engine": "llm"}, {}, "needs a model"),
        ({"engine": "llm", "model": "m"}, {}, "needs an endpoint"),
        ({"concurrency": 0}, {}, "--concurrency"),
        ({}, {"PIPELINE_CONCURRENCY": "many"}, "invalid value for concurrency"),
        ({}, {"PIPELINE_MODE": "yaml"}, "invalid value for mode"),
        ({}, {"PIPELINE_MAX_TOKENS": "0"}, "PIPELINE_MAX_TOKENS"),
    ],
)
def test_bad_settings_name_what_to_fix(flags, environ, message, tmp_path):
    with pytest.raises(ConfigError, match=message):
        load_settings(flags, environ=environ, config_file=tmp_path / "none.toml")


def test_broken_toml_names_the_file(tmp_path):
    config = tmp_path / "pipeline.toml"
    config.write_text("model = \n")
    with pytest.raises(ConfigError, match="pipeline.toml: not valid TOML"):
        load_settings({}, environ={}, config_file=config)
