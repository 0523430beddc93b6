"""Settings: command-line flags win over environment variables, which win over
``pipeline.toml`` in the working directory.

| setting        | flag             | environment              | pipeline.toml   |
|----------------|------------------|--------------------------|-----------------|
| base_url       | --base-url       | OPENAI_BASE_URL          | base_url        |
| api_key        | (none: secret)   | OPENAI_API_KEY           | (never)         |
| model          | --model          | PIPELINE_MODEL           | model           |
| mode           | --mode           | PIPELINE_MODE            | mode            |
| engine         | --engine         | PIPELINE_ENGINE          | engine          |
| db             | --db             | PIPELINE_DB              | db              |
| concurrency    | --concurrency    | PIPELINE_CONCURRENCY     | concurrency     |
| timeout        | --timeout        | PIPELINE_TIMEOUT         | timeout         |
| max_retries    | --max-retries    | PIPELINE_MAX_RETRIES     | max_retries     |
| prompt_version | --prompt-version | PIPELINE_PROMPT_VERSION  | prompt_version  |
| prompts_dir    | (none)           | PIPELINE_PROMPTS_DIR     | prompts_dir     |
| temperature    | (none)           | PIPELINE_TEMPERATURE     | temperature     |
| max_tokens     | (none)           | PIPELINE_MAX_TOKENS      | max_tokens      |
| frequency_penalty | (none)        | PIPELINE_FREQUENCY_PENALTY | frequency_penalty |
| presence_penalty  | (none)        | PIPELINE_PRESENCE_PENALTY  | presence_penalty  |
| max_input_chars| (none)           | PIPELINE_MAX_INPUT_CHARS | max_input_chars |

The key is read from the environment only, so it never sits in a file that
gets committed or copied. Several identical servers (replicas of one model):
``--base-url`` repeated, or ``base_url = ["http://a/v1", "http://b/v1"]`` in the
file; the first is ``base_url``, the rest ``replica_urls``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from typing import Any

from .errors import ConfigError

__all__ = ["Engine", "LLMMode", "Settings", "load_settings", "DEFAULT_PROMPT_VERSION"]

DEFAULT_PROMPT_VERSION = "analyse-v1"


class Engine(StrEnum):
    auto = "auto"
    llm = "llm"
    offline = "offline"


class LLMMode(StrEnum):
    tools = "tools"
    json_schema = "json_schema"
    json = "json"
    md_json = "md_json"


@dataclass(frozen=True)
class Settings:
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    model: str | None = None
    mode: LLMMode = LLMMode.tools
    engine: Engine = Engine.auto
    db: Path = Path("pipeline.db")
    concurrency: int = 8
    timeout: float = 120.0
    max_retries: int = 4
    temperature: float = 0.0
    max_tokens: int = 4096
    # Small local models loop ("quotes": [the same quote, again, ...]) until max_tokens;
    # a penalty of about 1 lets them finish. Unset (0) for capable models.
    frequency_penalty: float = 0.0
    presence_penalty: float = 0.0
    max_input_chars: int = 60_000
    prompt_version: str = DEFAULT_PROMPT_VERSION
    prompts_dir: Path | None = None  # None: the prompts shipped in the package
    replica_urls: tuple[str, ...] = ()

    @property
    def endpoints(self) -> list[str | None]:
        """Every base URL requests are spread over (None: the SDK's default, OpenAI's)."""
        return [self.base_url, *self.replica_urls]

    @property
    def resolved_engine(self) -> Engine:
        """The engine a run uses: ``auto`` means the LLM when an endpoint is configured."""
        if self.engine is not Engine.auto:
            return self.engine
        return Engine.llm if (self.base_url or self.api_key) else Engine.offline

    def validated(self) -> Settings:
        """Check the combination; raise ConfigError naming the setting to fix."""
        if self.concurrency < 1:
            raise ConfigError("concurrency must be at least 1 (--concurrency)")
        if self.max_retries < 0:
            raise ConfigError("max_retries must be 0 or more (--max-retries)")
        if self.max_tokens < 1 or self.max_input_chars < 1:
            raise ConfigError("max_tokens and max_input_chars must be positive (PIPELINE_MAX_TOKENS, PIPELINE_MAX_INPUT_CHARS)")
        if self.resolved_engine is Engine.llm:
            if not self.model:
                raise ConfigError(
                    "the LLM engine needs a model: pass --model or set PIPELINE_MODEL"
                )
            if not (self.base_url or self.api_key):
                raise ConfigError(
                    "the LLM engine needs an endpoint: set OPENAI_API_KEY, or pass --base-url"
                )
        return self


_ENV_NAMES = {
    "base_url": "OPENAI_BASE_URL",
    "api_key": "OPENAI_API_KEY",
    "model": "PIPELINE_MODEL",
    "mode": "PIPELINE_MODE",
    "engine": "PIPELINE_ENGINE",
    "db": "PIPELINE_DB",
    "concurrency": "PIPELINE_CONCURRENCY",
    "timeout": "PIPELINE_TIMEOUT",
    "max_retries": "PIPELINE_MAX_RETRIES",
    "prompt_version": "PIPELINE_PROMPT_VERSION",
    "prompts_dir": "PIPELINE_PROMPTS_DIR",
    "temperature": "PIPELINE_TEMPERATURE",
    "max_tokens": "PIPELINE_MAX_TOKENS",
    "frequency_penalty": "PIPELINE_FREQUENCY_PENALTY",
    "presence_penalty": "PIPELINE_PRESENCE_PENALTY",
    "max_input_chars": "PIPELINE_MAX_INPUT_CHARS",
}
_FILE_FORBIDDEN = {"api_key", "replica_urls"}


def _coerce(name: str, value: Any) -> Any:
    converters = {f.name: f.type for f in fields(Settings)}
    kind = converters[name]
    try:
        if kind == "LLMMode":
            return LLMMode(str(value).lower())
        if kind == "Engine":
            return Engine(str(value).lower())
        if kind in ("Path", "Path | None"):
            return Path(value)
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
    except ValueError as error:
        raise ConfigError(f"invalid value for {name}: {value!r} ({error})") from None
    return str(value)


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not valid TOML ({error})") from None
    known = {f.name for f in fields(Settings)} - _FILE_FORBIDDEN
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown settings {', '.join(unknown)}")
    return data


def load_settings(
    flags: dict[str, Any] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    config_file: Path = Path("pipeline.toml"),
) -> Settings:
    """Resolve settings from flags (None means not given), environment and file."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = dict(_read_toml(config_file))
    for name, variable in _ENV_NAMES.items():
        if environ.get(variable):
            values[name] = environ[variable]
    values.update({name: value for name, value in (flags or {}).items() if value is not None})
    replicas: tuple[str, ...] = ()
    if isinstance(values.get("base_url"), list | tuple):
        urls = [str(url) for url in values.pop("base_url")]
        if urls:
            values["base_url"], replicas = urls[0], tuple(urls[1:])
    settings = Settings(**{name: _coerce(name, value) for name, value in values.items()}, replica_urls=replicas)
    return settings.validated()
