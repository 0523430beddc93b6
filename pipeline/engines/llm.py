"""The one seam to the network: the client factory and the LLM engine.

Exactly one layer owns retries. The OpenAI SDK is built with ``max_retries=0``;
tenacity retries transient failures (429, 5xx, timeouts, dropped connections)
with jittered exponential backoff, or exactly as long as the provider's
``Retry-After`` / ``retry-after-ms`` asks when it says. Instructor's own loop
only re-asks when an answer fails schema validation.

When a request may start is the ``AdaptiveLimiter``'s call: every attempt holds
one of its slots, 429s shrink the limit, successes grow it, and every response's
``x-ratelimit-*`` headers reach it through an httpx response hook. Rate-limit
retries have their own, larger budget: pushing back is the provider's normal way
of pacing a nightly batch, not a sign the article is broken.

With several base URLs (replicas of one model) each endpoint has its own client,
limiter and health, and each attempt goes where ``engines.fleet`` says.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import replace
from functools import cached_property
from typing import Any

import instructor
import openai
from openai.types.chat import ChatCompletion
from instructor.core.exceptions import IncompleteOutputException, InstructorRetryException
from instructor.core.hooks import Hooks
from instructor.processing.response import handle_response_model, process_response
from instructor.v2.core.function_calls import response_schema
from pydantic import ValidationError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type
from tenacity.wait import wait_random_exponential

from ..errors import AnswerError, FatalProviderError, ProviderError, RateLimitError, TransientProviderError
from ..models import Article, ArticleVerdict, CacheIdentity, EngineAnswer, QuoteDraft, Usage, schema_hash
from ..prompts import Prompt
from ..ratelimit import AdaptiveLimiter
from ..settings import LLMMode, Settings
from .fleet import Endpoint, Fleet

__all__ = [
    "INSTRUCTOR_MODES", "RESPONSE_MODEL", "make_openai_client", "make_client", "LLMEngine", "classify_error",
    "generation_params", "parse_completion",
]

INSTRUCTOR_MODES = {
    LLMMode.tools: instructor.Mode.TOOLS,
    LLMMode.json_schema: instructor.Mode.JSON_SCHEMA,
    LLMMode.json: instructor.Mode.JSON,
    LLMMode.md_json: instructor.Mode.MD_JSON,
}
_VALIDATION_ATTEMPTS = 2
# Instructor wraps a plain model in a fresh ResponseSchema class on every call, which
# defeats its own schema cache and costs ~15 ms of CPU per request; wrapped once here,
# the class and its schema are reused. The request it sends is the same.
RESPONSE_MODEL = response_schema(ArticleVerdict)
# Instructor logs every failed attempt at ERROR with the provider's message unredacted
# (a provider may echo the key). This module classifies, redacts and reports failures
# itself, so instructor's records stop here even when the application configures logging.
_INSTRUCTOR_LOG = logging.getLogger("instructor")
_INSTRUCTOR_LOG.addHandler(logging.NullHandler())
_INSTRUCTOR_LOG.propagate = False
_MAX_WAIT_SECONDS = 120.0
_RATE_LIMIT_RETRIES = 50
_RETRY_AFTER_JITTER = 0.1


def make_openai_client(
    settings: Settings, on_response: Callable[[Any], Awaitable[None]] | None = None
) -> openai.AsyncOpenAI:
    """The raw SDK client, without SDK retries; ``on_response`` sees every HTTP response."""
    return openai.AsyncOpenAI(
        base_url=settings.base_url,
        # Local servers (llama.cpp, vLLM, Ollama) take any key; the SDK insists on one.
        api_key=settings.api_key or "no-key-required",
        timeout=settings.timeout,
        max_retries=0,
        http_client=openai.DefaultAsyncHttpxClient(event_hooks={"response": [on_response]} if on_response else None),
    )


def make_client(
    settings: Settings, on_response: Callable[[Any], Awaitable[None]] | None = None
) -> instructor.AsyncInstructor:
    """An instructor client over ``openai.AsyncOpenAI`` for any compatible endpoint."""
    return instructor.from_openai(make_openai_client(settings, on_response), mode=INSTRUCTOR_MODES[settings.mode])


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


def _retry_after_seconds(error: openai.APIStatusError) -> float | None:
    headers = error.response.headers
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value:
            try:
                return float(value) / scale
            except ValueError:
                return None
    return None


def _redact(message: str, secret: str | None) -> str:
    return message.replace(secret, "***") if secret else message


def classify_error(error: BaseException, secret: str | None = None) -> ProviderError:
    """Map an SDK or instructor exception onto the pipeline's error tree."""
    if isinstance(error, InstructorRetryException) and error.__cause__ is not None:
        error = error.__cause__
    message = _redact(str(error), secret)
    if isinstance(error, AssertionError) and "Unable to generate a response due to" in message:
        # instructor's way of reporting the provider's `refusal` field
        return AnswerError(f"the model refused to answer: {message[:200]}")
    if isinstance(error, IncompleteOutputException):
        return AnswerError("answer truncated (finish_reason=length): raise max_tokens")
    if isinstance(error, (ValidationError, InstructorRetryException, json.JSONDecodeError)):
        return AnswerError(f"answer does not fit the schema: {message[:500]}")
    if isinstance(error, openai.AuthenticationError | openai.PermissionDeniedError):
        return FatalProviderError(f"the provider refused the key: check OPENAI_API_KEY ({message[:200]})")
    if isinstance(error, openai.NotFoundError):
        return FatalProviderError(f"the provider does not know this model or URL: check --model and --base-url ({message[:200]})")
    if isinstance(error, openai.RateLimitError):
        if "insufficient_quota" in message:
            return FatalProviderError("the account's quota is exhausted: check billing for OPENAI_API_KEY")
        limited = RateLimitError(f"rate limited: {message[:200]}")
        limited.retry_after = _retry_after_seconds(error)
        return limited
    if isinstance(error, openai.APIStatusError) and error.status_code >= 500:
        transient = TransientProviderError(f"provider error {error.status_code}: {message[:200]}")
        transient.retry_after = _retry_after_seconds(error)
        return transient
    if isinstance(error, openai.APITimeoutError | openai.APIConnectionError):
        return TransientProviderError(f"{type(error).__name__}: {message[:200]}")
    if isinstance(error, openai.APIStatusError) and "context_length_exceeded" in message:
        return AnswerError(
            "the article is longer than the model's context window: lower PIPELINE_MAX_INPUT_CHARS "
            f"({message[:200]})"
        )
    if isinstance(error, openai.APIStatusError):
        return AnswerError(f"provider rejected the request ({error.status_code}): {message[:300]}")
    return AnswerError(f"{type(error).__name__}: {message[:300]}")


def _wait(retry_state: RetryCallState) -> float:
    error = retry_state.outcome.exception() if retry_state.outcome else None
    asked = getattr(error, "retry_after", None)
    if asked:
        # A little jitter so requests told the same moment do not all return at once.
        return min(asked * (1 + random.uniform(0, _RETRY_AFTER_JITTER)), _MAX_WAIT_SECONDS)
    return wait_random_exponential(multiplier=1, max=60)(retry_state)


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


class _Attempts:
    """Raw responses and token usage of every attempt for one article."""

    def __init__(self) -> None:
        self.raw_responses: list[str] = []
        self.usage = Usage(requests=0, input_tokens=0, output_tokens=0)
        self.hooks = Hooks()
        self.hooks.on("completion:response", self._record)

    def _record(self, response: Any) -> None:
        self.raw_responses.append(response.model_dump_json() if hasattr(response, "model_dump_json") else str(response))
        self.usage = self.usage + _completion_usage(response)


def _completion_usage(response: Any) -> Usage:
    """What one chat completion cost, as its ``usage`` reports it."""
    usage = getattr(response, "usage", None)
    return Usage(
        requests=1,
        input_tokens=getattr(usage, "prompt_tokens", 0) or 0,
        output_tokens=getattr(usage, "completion_tokens", 0) or 0,
    )


def parse_completion(body: dict[str, Any], mode: LLMMode) -> EngineAnswer:
    """Parse a chat completion that arrived another way (a Batch API answer) as a live one is parsed."""
    try:
        completion = ChatCompletion.model_validate(body)
        verdict = process_response(completion, response_model=RESPONSE_MODEL, stream=False, strict=False,
                                   mode=INSTRUCTOR_MODES[mode])
    except Exception as error:  # classified into the error tree right here
        raise classify_error(error) from None
    return EngineAnswer(verdict=verdict, raw_responses=[json.dumps(body)], usage=_completion_usage(completion))


class LLMEngine:
    """Asks an OpenAI-compatible endpoint (or a fleet of replicas) for one ``ArticleVerdict`` per article."""

    name = "llm"
    reasks = True

    def __init__(
        self,
        settings: Settings,
        prompt: Prompt,
        client: instructor.AsyncInstructor | None = None,
        sleep: Callable[[float], Any] | None = None,
        limiter_for: Callable[[str | None], AdaptiveLimiter] | None = None,
    ):
        """``client``: one injected client instead of one per endpoint; ``limiter_for``: each
        endpoint's limiter by its URL (default: a new ``AdaptiveLimiter`` of ``concurrency`` each)."""
        self.settings = settings
        self.prompt = prompt
        self._client = client
        self._limiter_for = limiter_for or (lambda _url: AdaptiveLimiter(settings.concurrency))
        self._sleep = sleep
        self.identity = CacheIdentity(
            engine="llm",
            model=settings.model or "",
            mode=settings.mode.value,
            prompt_version=prompt.version,
            prompt_hash=prompt.hash,
            schema_hash=schema_hash(),
            params=generation_params(settings),
        )

    @cached_property
    def fleet(self) -> Fleet:
        """Every endpoint's client and limiter, made at the first request: a run the cache
        answers whole never loads the SDK's resources (seconds of imports)."""
        endpoints = []
        for url in [self.settings.base_url] if self._client else self.settings.endpoints:
            limiter = self._limiter_for(url)
            client = self._client or make_client(replace(self.settings, base_url=url), _header_observer(limiter))
            endpoints.append(Endpoint(url, client, limiter))
        return Fleet(endpoints)

    async def _ask(self, messages: list[dict[str, str]], attempts: _Attempts) -> ArticleVerdict:
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
                    verdict, _completion = await endpoint.client.chat.completions.create_with_completion(
                        model=self.settings.model,
                        messages=messages,  # type: ignore[arg-type]  # role/content dicts, as the SDK sends them
                        response_model=RESPONSE_MODEL,
                        max_retries=_VALIDATION_ATTEMPTS,
                        # Lax validation: a model that writes 0.9 as "0.9" is still understood;
                        # the verifier, not pydantic, decides what is true.
                        strict=False,
                        hooks=attempts.hooks,
                        **generation_params(self.settings),
                    )
                except Exception as error:  # classified into the error tree right here
                    classified = classify_error(error, self.settings.api_key)
                    if isinstance(classified, RateLimitError):
                        endpoint.limiter.rate_limited(ticket, classified.retry_after)
                    elif isinstance(classified, TransientProviderError):
                        self.fleet.failed(endpoint)
                    raise classified from None
                finally:
                    endpoint.limiter.release()
                endpoint.limiter.succeeded()
                self.fleet.succeeded(endpoint)
        return verdict

    async def _answer(self, messages: list[dict[str, str]]) -> EngineAnswer:
        attempts = _Attempts()
        try:
            verdict = await self._ask(messages, attempts)
        except ProviderError as error:
            # Failed attempts are paid for too: the run ledger and --max-cost count them.
            error.usage = attempts.usage
            error.raw_responses = tuple(attempts.raw_responses)
            raise
        return EngineAnswer(verdict=verdict, raw_responses=attempts.raw_responses, usage=attempts.usage)

    def request_body(self, article: Article) -> dict[str, Any]:
        """The body of the chat-completion request ``analyse`` sends first, for the Batch API."""
        _model, body = handle_response_model(
            RESPONSE_MODEL,
            mode=INSTRUCTOR_MODES[self.settings.mode],
            model=self.settings.model,
            messages=self.prompt.messages(article, self.settings.max_input_chars),
            **generation_params(self.settings),
        )
        return body

    async def analyse(self, article: Article) -> EngineAnswer:
        """One request (plus validation re-asks) covering label, quotes and claims."""
        return await self._answer(self.prompt.messages(article, self.settings.max_input_chars))

    async def reask_quotes(self, article: Article, previous: EngineAnswer, missing: list[QuoteDraft]) -> EngineAnswer:
        """Ask once more, naming the quotes the article does not contain."""
        return await self._answer([
            *self.prompt.messages(article, self.settings.max_input_chars),
            {"role": "assistant", "content": previous.verdict.model_dump_json()},
            self.prompt.reask_message(missing),
        ])
