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
| workers        | --workers        | PIPELINE_WORKERS         | workers         |
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
| audit_sample   | (none)           | PIPELINE_AUDIT_SAMPLE    | audit_sample    |
| serve_token    | (none: secret)   | PIPELINE_SERVE_TOKEN     | (never)         |
| model_aliases  | (none)           | PIPELINE_MODEL_ALIASES   | model_aliases   |
| journal_max_bytes | (none)        | PIPELINE_JOURNAL_MAX_BYTES | journal_max_bytes |
| journal_max_age_days | (none)     | PIPELINE_JOURNAL_MAX_AGE_DAYS | journal_max_age_days |
| desk_name      | (none)           | PIPELINE_DESK_NAME       | desk_name       |
| desk_url       | (none)           | PIPELINE_DESK_URL        | desk_url        |
| learn_min_verdicts | (none)       | PIPELINE_LEARN_MIN_VERDICTS | learn_min_verdicts |
| learn_shrinkage | (none)          | PIPELINE_LEARN_SHRINKAGE | learn_shrinkage |
| learn_on_run   | (none)           | PIPELINE_LEARN_ON_RUN    | learn_on_run    |

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
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pipeline.errors import ConfigError

__all__ = [
    "Engine",
    "LLMMode",
    "NightClock",
    "DEFAULT_NIGHT_CLOCK",
    "Settings",
    "load_settings",
    "settings_table",
    "DEFAULT_PROMPT_VERSION",
]

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

    def bounds(self, night: str) -> tuple[datetime, datetime]:
        """When the night named ``night`` (YYYY-MM-DD) starts and the next one starts, in UTC."""
        day = date.fromisoformat(night)
        return self._start(day), self._start(day + timedelta(days=1))

    def _start(self, day: date) -> datetime:
        start = datetime.combine(day, self.starts, tzinfo=self.zone)
        return (start if self.zone else start.astimezone()).astimezone(UTC)


DEFAULT_NIGHT_CLOCK = NightClock()
"""Nights from 18:00 in the machine's local zone: the settings' defaults."""


class Settings(BaseModel):
    """Every setting of a run, each validated once, where it is read."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    base_url: str | None = Field(
        default=None,
        description="OpenAI-compatible endpoint (`--base-url`; a list: replicas of one model). Default: OpenAI's, when a key is set.",
    )
    api_key: str | None = Field(default=None, repr=False, description="The endpoint's key: environment only, never a file.")
    model: str | None = Field(default=None, description="Model name at the endpoint (`--model`); required for the LLM engine.")
    mode: LLMMode = Field(
        default=LLMMode.tools, description="Structured-output mode (`--mode`): tools, json_schema, json or md_json."
    )
    engine: Engine = Field(
        default=Engine.auto, description="`auto` (the LLM when an endpoint is configured), `llm` or `offline` (`--engine`)."
    )
    db: Path = Field(default=Path("pipeline.db"), description="The SQLite database (`--db`).")
    concurrency: int = Field(default=8, ge=1, le=1024, description="Articles analysed at once (`--concurrency`).")
    workers: int = Field(
        default=1,
        ge=1,
        le=256,
        description="Processes the offline engine analyses articles in, one core each (`--workers`); 1: this process alone.",
    )
    timeout: float = Field(default=120.0, gt=0, le=86_400, description="Seconds per request (`--timeout`).")
    max_retries: int = Field(default=4, ge=0, le=100, description="Retries of transient provider failures (`--max-retries`).")
    temperature: float = Field(default=0.0, ge=0, le=2, description="Sampling temperature.")
    max_tokens: int = Field(default=4096, ge=1, description="Most tokens of one answer.")
    frequency_penalty: float = Field(
        default=0.0,
        ge=-2,
        le=2,
        description="Repetition penalty: small local models loop on a quote until max_tokens; about 1 lets them finish.",
    )
    presence_penalty: float = Field(default=0.0, ge=-2, le=2, description="Repetition penalty, as frequency_penalty.")
    max_input_chars: int = Field(default=60_000, ge=1, description="Characters of an article sent to the LLM.")
    min_file_age: float = Field(
        default=5.0,
        ge=0,
        description="Seconds a file found in a folder must be unchanged before it is read (it is waited for); named files are read at once.",
    )
    strict: bool = Field(default=True, description="Strict tool / response schemas; `false` for servers that reject them.")
    field_guide: bool = Field(
        default=True,
        description="A field guide in the system prompt, for servers that never show the model the schema (llama.cpp).",
    )
    max_article_tokens: int = Field(
        default=40_000, ge=1, description="Tokens one article may spend before its re-ask is refused."
    )
    failed_retries: int = Field(
        default=2, ge=0, description="Later runs that retry a deterministic failure (`--retry-failed` ignores it)."
    )
    fabrication_prior: float = Field(
        default=0.05,
        gt=0,
        lt=1,
        description="Expected share of fabrications in the feed (`--prior`): the offline posterior is corrected to it.",
    )
    prompt_version: str = Field(default=DEFAULT_PROMPT_VERSION, description="Prompt version (`--prompt-version`).")
    prompts_dir: Path | None = Field(
        default=None, description="A folder of prompts; default: the prompts shipped in the package."
    )
    replica_urls: tuple[str, ...] = Field(default=(), description="The base URLs after the first, from a list in base_url.")
    night_starts: str = Field(
        default="18:00", description="When the desk's night starts (HH:MM), which the worklist and report group by."
    )
    timezone: str | None = Field(
        default=None, description="The desk's IANA time zone (e.g. Europe/Berlin); default: the machine's."
    )
    audit_sample: int = Field(
        default=5,
        ge=0,
        le=1000,
        description="Articles the ranker did not flag drawn at random into each run's worklist (the audit sample; 0: none).",
    )
    serve_token: str | None = Field(
        default=None,
        repr=False,
        description="The password of `pipeline serve`, required to listen beyond 127.0.0.1: environment only.",
    )
    model_aliases: tuple[str, ...] = Field(
        default=(),
        description="Other names the endpoint may answer with for the model (comma-separated); dated snapshots such as gpt-4o-mini-2024-07-18 are always accepted, any other name is an endpoint failure.",
    )
    journal_max_bytes: int = Field(
        default=64 * 1024 * 1024, ge=0, description="Bytes of unsettled answers the answer journal keeps (the newest)."
    )
    journal_max_age_days: float = Field(default=14.0, gt=0, description="Days the answer journal keeps an unsettled answer.")
    desk_name: str = Field(default="Fact-check desk", description="Who publishes the desk's ClaimReview (its `author`).")
    desk_url: str = Field(
        default="https://example.org/fact-check-desk",
        description="The desk's web address in its ClaimReview (http or https; example.org is a placeholder).",
    )
    learn_min_verdicts: int = Field(
        default=30, ge=2, description="Fewest desk verdicts `pipeline learn` fits the calibration from."
    )
    learn_shrinkage: float = Field(
        default=1.0,
        ge=0,
        description="How strongly a desk fit is pulled towards the shipped calibration (L2 penalty on the difference).",
    )
    learn_on_run: bool = Field(
        default=False, description="Learn at the start of a run when the desk gave verdicts since the last fit."
    )

    @field_validator("model_aliases", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(name.strip() for name in value.split(",") if name.strip())
        return value

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
        "workers",
        "timeout",
        "max_retries",
        "temperature",
        "max_tokens",
        "frequency_penalty",
        "presence_penalty",
        "max_input_chars",
        "min_file_age",
        "audit_sample",
        "journal_max_bytes",
        "journal_max_age_days",
        "learn_min_verdicts",
        "learn_shrinkage",
        mode="before",
    )
    @classmethod
    def _not_a_boolean(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("a number, not true/false")
        return value

    @field_validator("desk_url")
    @classmethod
    def _web_address(cls, value: str) -> str:
        if not _URL.fullmatch(value):
            raise ValueError("an http:// or https:// URL, e.g. https://news.example.com/fact-checks")
        return value

    @field_validator(
        "base_url",
        "api_key",
        "model",
        "prompt_version",
        "db",
        "prompts_dir",
        "serve_token",
        "desk_name",
        "desk_url",
        mode="before",
    )
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
    "workers": "PIPELINE_WORKERS",
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
    "audit_sample": "PIPELINE_AUDIT_SAMPLE",
    "serve_token": "PIPELINE_SERVE_TOKEN",
    "model_aliases": "PIPELINE_MODEL_ALIASES",
    "journal_max_bytes": "PIPELINE_JOURNAL_MAX_BYTES",
    "journal_max_age_days": "PIPELINE_JOURNAL_MAX_AGE_DAYS",
    "desk_name": "PIPELINE_DESK_NAME",
    "desk_url": "PIPELINE_DESK_URL",
    "learn_min_verdicts": "PIPELINE_LEARN_MIN_VERDICTS",
    "learn_shrinkage": "PIPELINE_LEARN_SHRINKAGE",
    "learn_on_run": "PIPELINE_LEARN_ON_RUN",
}
# The settings whose command-line flag is not their name (the table above).
_FLAG_NAMES = {"fabrication_prior": "--prior"}
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_FILE_FORBIDDEN = {"api_key", "serve_token", "replica_urls"}


def _shown_default(default: Any) -> str:
    if default is None:
        return "—"
    if isinstance(default, StrEnum):
        return f"`{default.value}`"
    return f"`{str(default).lower()}`" if isinstance(default, bool) else f"`{default}`"


def settings_table() -> str:
    """The ``pipeline.toml`` keys as a Markdown table, from the settings model: key, environment
    variable, default and meaning (README's table is this, kept equal by a test)."""
    rows = ["| `pipeline.toml` key | environment | default | what it sets |", "|---|---|---|---|"]
    for name, field in Settings.model_fields.items():
        if name in _FILE_FORBIDDEN:
            continue
        shown = _shown_default(field.default)
        rows.append(f"| `{name}` | `{_ENV_NAMES[name]}` | {shown} | {field.description or ''} |")
    return "\n".join(rows) + "\n"


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
