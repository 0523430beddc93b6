"""The one seam to the network: the OpenAI SDK client, retries, error mapping, and the base
of every LLM engine.

Exactly one layer owns retries. The OpenAI SDK is built with ``max_retries=0``;
tenacity retries transient failures (429, 5xx, timeouts, dropped connections)
with jittered exponential backoff, or exactly as long as the provider's
``Retry-After`` / ``retry-after-ms`` asks when it says.

When a request may start is the ``AdaptiveLimiter``'s call: every attempt holds
one of its slots, 429s shrink the limit, successes grow it, and every response's
``x-ratelimit-*`` headers reach it through an httpx response hook. Rate-limit
retries have their own, larger budget: pushing back is the provider's normal way
of pacing a nightly batch, not a sign the article is broken.

With several base URLs (replicas of one model) each endpoint has its own client,
limiter and health, and each attempt goes where ``engines.fleet`` says.

Only commands that call the LLM import this module (``make_engine`` imports it when the
settings ask for the LLM): the SDK costs about a second of imports.
"""

from __future__ import annotations

import json
import logging
import random
import sys
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from functools import cached_property
from typing import Any

import openai
from pydantic import BaseModel, ValidationError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type
from tenacity.wait import wait_random_exponential

from pipeline.engines.answers import answer_usage, check_completion, completion_problem, estimated_usage
from pipeline.engines.fleet import Endpoint, Fleet
from pipeline.engines.prompts import Prompt
from pipeline.engines.ratelimit import LOGGED_WAIT_SECONDS, AdaptiveLimiter, capped_wait, parse_retry_after
from pipeline.errors import AnswerError, FatalProviderError, ProviderError, RateLimitError, TransientProviderError
from pipeline.models import Article, ArticleVerdict, CacheIdentity, EngineAnswer, Usage, schema_hash
from pipeline.parsed import ParsedArticle
from pipeline.settings import LLMMode, Settings

__all__ = [
    "LLMEngine",
    "Attempts",
    "make_openai_client",
    "raw_client",
    "classify_error",
    "generation_params",
    "completion_usage",
    "answer_body",
]

_LOG = logging.getLogger(__name__)
_RATE_LIMIT_RETRIES = 50
_RETRY_AFTER_JITTER = 0.1
# A server that cannot do the asked-for response format says so in the message of a 400, 422
# or (llama-cpp-python's request validation) 500; retrying it would fail the same way.
_FORMAT_WORDS = ("response_format", "json_schema", "tool_choice", "'tools'", "tools.", "strict")
_FORMAT_STATUSES = frozenset({400, 422, 500, 501})
_CONTEXT_WORDS = ("context_length_exceeded", "context window", "context length", "maximum context")


def make_openai_client(settings: Settings, on_response: Callable[[Any], Awaitable[None]] | None = None) -> openai.AsyncOpenAI:
    """The raw SDK client, without SDK retries; ``on_response`` sees every HTTP response."""
    return openai.AsyncOpenAI(
        base_url=settings.base_url,
        # Local servers (llama.cpp, vLLM, Ollama) take any key; the SDK insists on one.
        api_key=settings.api_key or "no-key-required",
        timeout=settings.timeout,
        max_retries=0,
        http_client=openai.DefaultAsyncHttpxClient(event_hooks={"response": [on_response]} if on_response else None),
    )


def raw_client(client: Any) -> openai.AsyncOpenAI:
    """The SDK client itself, also when an instructor client over it was injected (tests do)."""
    return client if isinstance(client, openai.AsyncOpenAI) else client.client


def _header_observer(limiter: AdaptiveLimiter) -> Callable[[Any], Awaitable[None]]:
    """An httpx response hook handing every response's rate-limit headers to ``limiter``."""

    async def observe(response: Any) -> None:
        limiter.observe_headers(response.headers)

    return observe


def generation_params(settings: Settings) -> dict[str, Any]:
    """The request parameters that change answers, and so belong in the cache key."""
    params: dict[str, Any] = {"temperature": settings.temperature, "max_tokens": settings.max_tokens}
    # Sent only when set: some providers' reasoning models reject them, and unset
    # penalties must not change the cache keys of results stored before they existed.
    for name in ("frequency_penalty", "presence_penalty"):
        if getattr(settings, name):
            params[name] = getattr(settings, name)
    return params


def _mentions(message: str, words: tuple[str, ...]) -> bool:
    lowered = message.lower()
    return any(word in lowered for word in words)


def _redact(message: str, secret: str | None) -> str:
    return message.replace(secret, "***") if secret else message


def classify_error(error: BaseException, secret: str | None = None, mode: LLMMode | None = None) -> ProviderError:
    """Map an SDK or instructor exception onto the pipeline's error tree (``mode``: the
    structured-output mode the request used, named when the server rejects it)."""
    retried, incomplete = _instructor_errors()
    if isinstance(error, retried) and error.__cause__ is not None:
        error = error.__cause__
    message = _redact(str(error), secret)
    if isinstance(error, AssertionError) and "Unable to generate a response due to" in message:
        # instructor's way of reporting the provider's `refusal` field
        return AnswerError(f"the model refused to answer: {message[:200]}", kind="refusal")
    if isinstance(error, incomplete):
        return AnswerError("answer truncated (finish_reason=length): raise max_tokens", kind="truncated")
    if isinstance(error, (ValidationError, json.JSONDecodeError, *retried)):
        return AnswerError(f"answer does not fit the schema: {message[:500]}")
    if isinstance(error, openai.AuthenticationError | openai.PermissionDeniedError):
        return FatalProviderError(f"the provider refused the key: check OPENAI_API_KEY ({message[:200]})")
    if isinstance(error, openai.NotFoundError):
        return FatalProviderError(f"the provider does not know this model or URL: check --model and --base-url ({message[:200]})")
    if isinstance(error, openai.RateLimitError):
        if "insufficient_quota" in message:
            return FatalProviderError("the account's quota is exhausted: check billing for OPENAI_API_KEY")
        limited = RateLimitError(f"rate limited: {message[:200]}")
        limited.retry_after = parse_retry_after(error.response.headers)
        return limited
    if isinstance(error, openai.APIStatusError) and error.status_code in _FORMAT_STATUSES and _mentions(message, _FORMAT_WORDS):
        used = f"--mode {mode.value}" if mode else "this --mode"
        return FatalProviderError(
            f"the server rejects the response format of {used} (strict schemas are PIPELINE_STRICT): "
            f"choose another --mode, or set PIPELINE_STRICT=0 ({message[:200]})"
        )
    if isinstance(error, openai.APIStatusError) and error.status_code >= 500:
        transient = TransientProviderError(f"provider error {error.status_code}: {message[:200]}")
        transient.retry_after = parse_retry_after(error.response.headers)
        return transient
    if isinstance(error, openai.APITimeoutError | openai.APIConnectionError):
        return TransientProviderError(f"{type(error).__name__}: {message[:200]}")
    if isinstance(error, openai.APIStatusError) and _mentions(message, _CONTEXT_WORDS):
        return AnswerError(
            f"the article is longer than the model's context window: lower PIPELINE_MAX_INPUT_CHARS ({message[:200]})",
            kind="context",
        )
    if isinstance(error, openai.APIStatusError):
        return AnswerError(f"provider rejected the request ({error.status_code}): {message[:300]}", kind="rejected")
    return AnswerError(f"{type(error).__name__}: {message[:300]}")


def _instructor_errors() -> tuple[tuple[type[BaseException], ...], tuple[type[BaseException], ...]]:
    """instructor's retry and truncation exceptions, where the verdict-first engine loaded
    instructor; none can be raised where it did not."""
    exceptions = sys.modules.get("instructor.core.exceptions")
    if exceptions is None:
        return (), ()
    return (exceptions.InstructorRetryException,), (exceptions.IncompleteOutputException,)


def _wait(retry_state: RetryCallState) -> float:
    error = retry_state.outcome.exception() if retry_state.outcome else None
    asked = getattr(error, "retry_after", None)
    if asked:
        # A little jitter so requests told the same moment do not all return at once.
        seconds = capped_wait(asked * (1 + random.uniform(0, _RETRY_AFTER_JITTER)))
    else:
        seconds = wait_random_exponential(multiplier=1, max=60)(retry_state)
    if seconds >= LOGGED_WAIT_SECONDS:
        _LOG.warning(
            "a request waits %.1f s before retry %d%s: %s",
            seconds,
            retry_state.attempt_number,
            f" (the provider asked {asked:g} s)" if asked else "",
            error,
        )
    return seconds


class _StopAfter:
    """Stop after ``max_retries`` transient failures, or after ``_RATE_LIMIT_RETRIES`` 429s."""

    def __init__(self, max_retries: int):
        self.max_retries = max_retries
        self.failures = 0
        self.rate_limits = 0

    def __call__(self, retry_state: RetryCallState) -> bool:
        if retry_state.outcome is not None and isinstance(retry_state.outcome.exception(), RateLimitError):
            self.rate_limits += 1
        else:
            self.failures += 1
        return self.failures > self.max_retries or self.rate_limits > _RATE_LIMIT_RETRIES


class Attempts:
    """Raw responses and token usage of every attempt for one article; ``on_raw`` sees each
    raw response as it arrives, before anything parses it."""

    def __init__(self, on_raw: Callable[[str], None] | None = None) -> None:
        self.raw_responses: list[str] = []
        self.usage = Usage(requests=0, input_tokens=0, output_tokens=0)
        self.on_raw = on_raw

    def record(self, response: Any, estimate: Usage) -> None:
        """Keep one response and add its tokens (``estimate``: the request's, for counts the
        response does not honestly give)."""
        raw = response.model_dump_json() if isinstance(response, BaseModel) else json.dumps(response)
        if self.on_raw is not None:
            self.on_raw(raw)
        self.raw_responses.append(raw)
        self.usage = self.usage + completion_usage(response, estimate)


def answer_body(response: Any) -> Any:
    """A response as JSON data: the SDK's object dumped, anything else (an HTML page the SDK
    handed back as text) as it came."""
    return response.model_dump(mode="json", warnings=False) if isinstance(response, BaseModel) else response


def completion_usage(response: Any, estimate: Usage) -> Usage:
    """What one chat completion cost, as its ``usage`` reports it (cached input tokens too,
    where it says), counts it does not honestly give taken from ``estimate`` (``answer_usage``)."""
    return answer_usage(answer_body(response), estimate)


class LLMEngine(ABC):
    """What every LLM engine shares: its cache identity, its endpoints and the one way a
    request goes out (``_send``). Subclasses say what they ask and how they read the answer."""

    name = "llm"
    # Sees every raw answer (article, phase "analyse" or "reask", raw JSON) the moment it
    # arrives: the runner journals it there, so a paid answer survives a failed store.
    on_raw: Callable[[Article, str, str], None] | None = None
    answer_model: type[BaseModel] = ArticleVerdict

    def __init__(
        self,
        settings: Settings,
        prompt: Prompt,
        client: Any = None,
        sleep: Callable[[float], Any] | None = None,
        limiter_for: Callable[[str | None], AdaptiveLimiter] | None = None,
        limiter: AdaptiveLimiter | None = None,
    ):
        """``client``: one injected client instead of one per endpoint; ``limiter_for``: each
        endpoint's limiter by its URL (default: a new ``AdaptiveLimiter`` of ``concurrency`` each);
        ``limiter``: the one limiter of an injected client."""
        self.settings = settings
        self.prompt = prompt
        self._client = None if client is None else raw_client(client)
        if limiter is not None:
            limiter_for = limiter_for or (lambda _url: limiter)
        self._limiter_for = limiter_for or (lambda _url: AdaptiveLimiter(settings.concurrency))
        self._sleep = sleep
        self.identity = CacheIdentity(
            engine="llm",
            model=settings.model or "",
            mode=settings.mode.value,
            prompt_version=prompt.version,
            prompt_hash=prompt.hash,
            schema_hash=schema_hash(self.answer_model),
            params=self._identity_params(),
        )

    @abstractmethod
    async def analyse(self, article: Article, parse: ParsedArticle | None = None) -> list[EngineAnswer]:
        """Every attempt's answer for one article, the engine's own re-asks included; the last
        one's verdict stands."""

    async def follow_up(self, article: Article, parse: ParsedArticle, first: EngineAnswer) -> list[EngineAnswer]:
        """``first`` (a live answer, or one that arrived another way) and the re-asks this
        engine makes after it: none here; an engine that re-asks says so."""
        return [first]

    @abstractmethod
    def request_body(self, article: Article) -> dict[str, Any]:
        """The body of the chat-completion request ``analyse`` sends first, for the Batch API."""

    @abstractmethod
    async def answer_from_completion(self, article: Article, body: dict[str, Any]) -> tuple[EngineAnswer, EngineAnswer | None]:
        """A completion that arrived another way (a Batch API answer), read as a live one is;
        and the live re-ask it needed, if any."""

    @cached_property
    def fleet(self) -> Fleet:
        """Every endpoint's client and limiter, made at the first request: a run the cache
        answers whole never loads the SDK's resources (seconds of imports)."""
        endpoints = []
        for url in [self.settings.base_url] if self._client else self.settings.endpoints:
            limiter = self._limiter_for(url)
            settings = self.settings.model_copy(update={"base_url": url})
            client = self._client or make_openai_client(settings, _header_observer(limiter))
            endpoints.append(Endpoint(url, client, limiter))
        return Fleet(endpoints)

    def _identity_params(self) -> dict[str, Any]:
        return generation_params(self.settings)

    def estimate(self, messages: list[dict[str, Any]]) -> Usage:
        """The most one request of ``messages`` may cost: what an answer without honest usage counts."""
        return estimated_usage(messages, self.settings.max_tokens)

    def answer_problem(self, response: Any) -> str | None:
        """Why ``response`` is no usable chat completion of the asked model, or None."""
        return completion_problem(answer_body(response), self.settings.model, self.settings.model_aliases)

    def check_answer(self, response: Any) -> None:
        """UnusableAnswerError unless ``response`` is a chat completion of the asked model
        (``pipeline.engines.answers``)."""
        check_completion(answer_body(response), self.settings.model, self.settings.model_aliases)

    async def _send(self, call: Callable[[openai.AsyncOpenAI], Awaitable[Any]], received: Callable[[Any], None]) -> Any:
        """One request to the endpoint the fleet picks (``call`` gets its client), holding that
        endpoint's limiter slot, retried by tenacity while it fails transiently. ``received``
        sees what each answer returned and raises where it is unusable: that is the endpoint's
        failure (a replica sending garbage or another model), retried at another."""
        retrying_kwargs: dict[str, Any] = dict(
            retry=retry_if_exception_type(TransientProviderError),
            stop=_StopAfter(self.settings.max_retries),
            wait=_wait,
            reraise=True,
        )
        if self._sleep is not None:
            retrying_kwargs["sleep"] = self._sleep
        async for attempt in AsyncRetrying(**retrying_kwargs):
            with attempt:
                endpoint = self.fleet.pick()
                ticket = await endpoint.limiter.acquire()
                try:
                    answer = await call(endpoint.client)
                    received(answer)
                except Exception as error:  # classified into the error tree right here
                    classified = (
                        error
                        if isinstance(error, ProviderError)
                        else classify_error(error, self.settings.api_key, self.settings.mode)
                    )
                    if isinstance(classified, RateLimitError):
                        endpoint.limiter.rate_limited(ticket, classified.retry_after)
                    elif isinstance(classified, TransientProviderError):
                        self.fleet.failed(endpoint)
                    raise classified from None
                finally:
                    endpoint.limiter.release()
                endpoint.limiter.succeeded()
                self.fleet.succeeded(endpoint)
        return answer

    def _attempts(self, article: Article, phase: str) -> Attempts:
        on_raw = self.on_raw
        return Attempts(None if on_raw is None else lambda raw: on_raw(article, phase, raw))

    async def _answered(self, attempts: Attempts, asked: Awaitable[ArticleVerdict]) -> EngineAnswer:
        """The answer ``asked`` gives, with every attempt's tokens and raw responses; a failure
        carries them too, as failed attempts are paid for (the run ledger and --max-cost count them)."""
        try:
            verdict = await asked
        except ProviderError as error:
            error.usage = attempts.usage
            error.raw_responses = tuple(attempts.raw_responses)
            raise
        return EngineAnswer(verdict=verdict, raw_responses=attempts.raw_responses, usage=attempts.usage)
