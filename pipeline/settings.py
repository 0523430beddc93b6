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
| strict         | (none)           | PIPELINE_STRICT          | strict          |
| field_guide    | (none)           | PIPELINE_FIELD_GUIDE     | field_guide     |
| max_article_tokens | (none)       | PIPELINE_MAX_ARTICLE_TOKENS | max_article_tokens |
| failed_retries | (none)           | PIPELINE_FAILED_RETRIES  | failed_retries  |
| fabrication_prior | --prior       | PIPELINE_FABRICATION_PRIOR | fabrication_prior |
| min_file_age   | (none)           | PIPELINE_MIN_FILE_AGE    | min_file_age    |
| night_starts   | (none)           | PIPELINE_NIGHT_STARTS    | night_starts    |
| timezone       | (none)           | PIPELINE_TIMEZONE        | timezone        |
| learn_min_verdicts | (none)       | PIPELINE_LEARN_MIN_VERDICTS | learn_min_verdicts |
| learn_shrinkage | (none)          | PIPELINE_LEARN_SHRINKAGE | learn_shrinkage |
| learn_on_run   | (none)           | PIPELINE_LEARN_ON_RUN    | learn_on_run    |
| audit_sample   | (none)           | PIPELINE_AUDIT_SAMPLE    | audit_sample    |
| serve_token    | (none: secret)   | PIPELINE_SERVE_TOKEN     | (never)         |

The key and the serve token are read from the environment only, so they never sit in a file
that gets committed or copied. Several identical servers (replicas of one model):
``--base-url`` repeated, or ``base_url = ["http://a/v1", "http://b/v1"]`` in the
file; the first is ``base_url``, the rest ``replica_urls``.
"""

from __future__ import annotations

import logging
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pipeline.errors import ConfigError

__all__ = ["Engine", "LLMMode", "NightClock", "DEFAULT_NIGHT_CLOCK", "Settings", "load_settings", "DEFAULT_PROMPT_VERSION"]

_LOG = logging.getLogger(__name__)

DEFAULT_PROMPT_VERSION = "analyse-v2"


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
class NightClock:
    """The desk's nights: each starts at ``starts`` in ``zone`` (None: the machine's local
    zone) and is named by the date it starts on."""

    starts: time = time(18, 0)
    zone: tzinfo | None = None

    def night_of(self, moment: datetime | str) -> str:
        """The night (YYYY-MM-DD) containing ``moment``; a moment without a zone is UTC, as
        the store's timestamps are."""
        if isinstance(moment, str):
            moment = datetime.fromisoformat(moment)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        local = moment.astimezone(self.zone)
        day = local.date() if local.time() >= self.starts else local.date() - timedelta(days=1)
        return day.isoformat()


DEFAULT_NIGHT_CLOCK = NightClock()
"""Nights from 18:00 in the machine's local zone: the settings' defaults."""


class Settings(BaseModel):
    """Every setting of a run, each validated once, where it is read."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    base_url: str | None = None
    api_key: str | None = Field(default=None, repr=False)
    model: str | None = None
    mode: LLMMode = LLMMode.tools
    engine: Engine = Engine.auto
    db: Path = Path("pipeline.db")
    concurrency: int = Field(default=8, ge=1, le=1024)
    timeout: float = Field(default=120.0, gt=0, le=86_400)
    max_retries: int = Field(default=4, ge=0, le=100)
    temperature: float = Field(default=0.0, ge=0, le=2)
    max_tokens: int = Field(default=4096, ge=1)
    # Small local models loop ("quotes": [the same quote, again, ...]) until max_tokens;
    # a penalty of about 1 lets them finish. Unset (0) for capable models.
    frequency_penalty: float = Field(default=0.0, ge=-2, le=2)
    presence_penalty: float = Field(default=0.0, ge=-2, le=2)
    max_input_chars: int = Field(default=60_000, ge=1)
    # A file modified more recently may still be being written: it waits for the next run.
    min_file_age: float = Field(default=5.0, ge=0)
    # Evidence-first prompts (analyse-v2 on): a strict tool / response schema, unless a
    # server rejects strict schemas; a field guide in the system prompt for servers that
    # never show the model the schema (llama.cpp); the most tokens one article may spend
    # before a validation re-ask is refused; how many later runs retry a deterministic failure.
    strict: bool = True
    field_guide: bool = True
    max_article_tokens: int = Field(default=40_000, ge=1)
    failed_retries: int = Field(default=2, ge=0)
    # The expected share of fabrications in the feed: the offline scorer's posterior is
    # corrected from its training base rate to this one.
    fabrication_prior: float = Field(default=0.05, gt=0, lt=1)
    prompt_version: str = DEFAULT_PROMPT_VERSION
    prompts_dir: Path | None = None  # None: the prompts shipped in the package
    replica_urls: tuple[str, ...] = ()
    # The desk's night, which the settled verdicts are grouped by: when it starts (HH:MM) in
    # which IANA zone (None: the machine's local zone).
    night_starts: str = "18:00"
    timezone: str | None = None
    # ``pipeline learn``: never fit the calibration from fewer desk verdicts than this; how
    # strongly a fit is pulled towards the shipped one (L2 penalty on the difference, per
    # verdict's weight); whether a run starts by learning when the desk has new verdicts.
    learn_min_verdicts: int = Field(default=30, ge=2)
    learn_shrinkage: float = Field(default=1.0, ge=0)
    learn_on_run: bool = False
    # How many articles the ranker did not flag each run's worklist carries, drawn at random, so
    # the desk's verdicts are not only on what the ranker already liked (0: no audit sample).
    audit_sample: int = Field(default=5, ge=0, le=1000)
    # The password of `pipeline serve` (HTTP basic auth, any user name): required to bind to
    # anything but the loopback interface.
    serve_token: str | None = Field(default=None, repr=False)

    @property
    def night_clock(self) -> NightClock:
        return NightClock(time.fromisoformat(self.night_starts), None if self.timezone is None else ZoneInfo(self.timezone))

    @field_validator("night_starts")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        if not re.fullmatch(r"\d{2}:\d{2}", value):
            raise ValueError("a time of day as HH:MM, e.g. 18:00")
        time.fromisoformat(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError("not a known time zone: give an IANA name, e.g. Europe/Berlin") from None
        return value

    @property
    def endpoints(self) -> list[str | None]:
        """Every base URL requests are spread over (None: the SDK's default, OpenAI's)."""
        return [self.base_url, *self.replica_urls]

    @field_validator("mode", "engine", mode="before")
    @classmethod
    def _any_case(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @field_validator(
        "concurrency",
        "timeout",
        "max_retries",
        "temperature",
        "max_tokens",
        "frequency_penalty",
        "presence_penalty",
        "max_input_chars",
        "min_file_age",
        "learn_min_verdicts",
        "learn_shrinkage",
        "audit_sample",
        mode="before",
    )
    @classmethod
    def _not_a_boolean(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("a number, not true/false")
        return value

    @field_validator("base_url", "api_key", "serve_token", "model", "prompt_version", "db", "prompts_dir", mode="before")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        # A newline or NUL pasted into a key or URL fails every request as a "connection error".
        if isinstance(value, str) and any(ord(char) < 32 or ord(char) == 127 for char in value):
            raise ValueError("contains a control character (a pasted newline?)")
        return value

    @property
    def resolved_engine(self) -> Engine:
        """The engine a run uses: ``auto`` means the LLM when an endpoint is configured."""
        if self.engine is not Engine.auto:
            return self.engine
        return Engine.llm if (self.base_url or self.api_key) else Engine.offline

    def validated(self) -> Settings:
        """Check the combination; raise ConfigError naming the setting to fix."""
        if self.resolved_engine is Engine.llm:
            if not self.model:
                raise ConfigError("the LLM engine needs a model: pass --model or set PIPELINE_MODEL")
            if not (self.base_url or self.api_key):
                raise ConfigError("the LLM engine needs an endpoint: set OPENAI_API_KEY, or pass --base-url")
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
    "strict": "PIPELINE_STRICT",
    "field_guide": "PIPELINE_FIELD_GUIDE",
    "max_article_tokens": "PIPELINE_MAX_ARTICLE_TOKENS",
    "failed_retries": "PIPELINE_FAILED_RETRIES",
    "fabrication_prior": "PIPELINE_FABRICATION_PRIOR",
    "min_file_age": "PIPELINE_MIN_FILE_AGE",
    "night_starts": "PIPELINE_NIGHT_STARTS",
    "timezone": "PIPELINE_TIMEZONE",
    "learn_min_verdicts": "PIPELINE_LEARN_MIN_VERDICTS",
    "learn_shrinkage": "PIPELINE_LEARN_SHRINKAGE",
    "learn_on_run": "PIPELINE_LEARN_ON_RUN",
    "audit_sample": "PIPELINE_AUDIT_SAMPLE",
    "serve_token": "PIPELINE_SERVE_TOKEN",
}
# The settings whose command-line flag is not their name (the table above).
_FLAG_NAMES = {"fabrication_prior": "--prior"}
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_FILE_FORBIDDEN = {"api_key", "serve_token", "replica_urls"}


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not valid TOML ({error})") from None
    known = set(Settings.model_fields) - _FILE_FORBIDDEN
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
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for name, value in _read_toml(config_file).items():
        values[name], origins[name] = value, str(config_file)
    for name, variable in _ENV_NAMES.items():
        if environ.get(variable):
            values[name], origins[name] = environ[variable], variable
    for name, value in (flags or {}).items():
        if value is not None:
            values[name], origins[name] = value, _FLAG_NAMES.get(name, "--" + name.replace("_", "-"))
    for name in _ENDPOINT:
        if isinstance(values.get(name), str):
            values[name] = _endpoint_value(name, values[name])
    if isinstance(values.get("base_url"), list | tuple):
        urls = [_endpoint_value("base_url", str(url)) for url in values.pop("base_url")]
        if urls:
            values["base_url"], values["replica_urls"] = urls[0], tuple(urls[1:])
    try:
        settings = Settings(**values)
    except ValidationError as error:
        problem = error.errors()[0]
        name = str(problem["loc"][0]) if problem["loc"] else "settings"
        shown = "***" if name in ("api_key", "serve_token") else repr(values.get(name))
        raise ConfigError(
            f"invalid value for {name}: {shown} from {origins.get(name, 'settings')} "
            f"({problem['msg'].removeprefix('Value error, ')})"
        ) from None
    return settings.validated()


_ENDPOINT = {"api_key": "OPENAI_API_KEY", "base_url": "OPENAI_BASE_URL / --base-url"}
_URL = re.compile(r"https?://[^\s/?#]+\S*", re.IGNORECASE)


def _endpoint_value(name: str, value: str) -> str:
    """The key or base URL without the whitespace a paste leaves around it (with a warning);
    ConfigError for whitespace or control characters inside, or a URL that is not http(s),
    which would otherwise fail every request as a "connection error" after all retries."""
    where = _ENDPOINT[name]
    stripped = value.strip()
    if stripped != value:
        _LOG.warning(
            "%s has leading or trailing whitespace (%d characters, a pasted newline?): ignored it",
            where,
            len(value) - len(stripped),
        )
    if any(character.isspace() or not character.isprintable() for character in stripped):
        raise ConfigError(f"{where} contains whitespace or a control character inside it: set it again, in one piece")
    if name == "base_url" and stripped and not _URL.fullmatch(stripped):
        raise ConfigError(f"{where} must be an http:// or https:// URL, got {stripped[:80]!r}")
    return stripped
