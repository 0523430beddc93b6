"""The one seam to the network: the client factory and the LLM engine.

Exactly one layer owns retries. The OpenAI SDK is built with ``max_retries=0``;
tenacity retries transient failures (429, 5xx, timeouts, dropped connections)
with jittered exponential backoff, waiting at least as long as the provider's
``Retry-After`` / ``retry-after-ms`` asks. Instructor's own loop only re-asks
when an answer fails schema validation.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import instructor
import openai
from instructor.core.exceptions import IncompleteOutputException, InstructorRetryException
from instructor.core.hooks import Hooks
from pydantic import ValidationError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_random_exponential

from .errors import AnswerError, FatalProviderError, ProviderError, TransientProviderError
from .models import Article, ArticleVerdict, EngineAnswer, QuoteDraft, Usage
from .prompts import Prompt
from .settings import LLMMode, Settings

__all__ = ["make_client", "LLMEngine", "classify_error", "generation_params"]

_MODES = {
    LLMMode.tools: instructor.Mode.TOOLS,
    LLMMode.json_schema: instructor.Mode.JSON_SCHEMA,
    LLMMode.json: instructor.Mode.JSON,
    LLMMode.md_json: instructor.Mode.MD_JSON,
}
_VALIDATION_ATTEMPTS = 2
_MAX_WAIT_SECONDS = 120.0


def make_client(settings: Settings) -> instructor.AsyncInstructor:
    """An instructor client over ``openai.AsyncOpenAI`` for any compatible endpoint."""
    client = openai.AsyncOpenAI(
        base_url=settings.base_url,
        # Local servers (llama.cpp, vLLM, Ollama) take any key; the SDK insists on one.
        api_key=settings.api_key or "no-key-required",
        timeout=settings.timeout,
        max_retries=0,
    )
    return instructor.from_openai(client, mode=_MODES[settings.mode])


def generation_params(settings: Settings) -> dict[str, Any]:
    """The request parameters that change answers, and so belong in the cache key."""
    return {"temperature": settings.temperature, "max_tokens": settings.max_tokens}


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
        transient = TransientProviderError(f"rate limited: {message[:200]}")
        transient.retry_after = _retry_after_seconds(error)
        return transient
    if isinstance(error, openai.APIStatusError) and error.status_code >= 500:
        transient = TransientProviderError(f"provider error {error.status_code}: {message[:200]}")
        transient.retry_after = _retry_after_seconds(error)
        return transient
    if isinstance(error, openai.APITimeoutError | openai.APIConnectionError):
        return TransientProviderError(f"{type(error).__name__}: {message[:200]}")
    if isinstance(error, openai.APIStatusError):
        return AnswerError(f"provider rejected the request ({error.status_code}): {message[:300]}")
    return AnswerError(f"{type(error).__name__}: {message[:300]}")


def _wait(retry_state: RetryCallState) -> float:
    backoff = wait_random_exponential(multiplier=1, max=60)(retry_state)
    error = retry_state.outcome.exception() if retry_state.outcome else None
    asked = getattr(error, "retry_after", None) or 0.0
    return min(max(asked, backoff), _MAX_WAIT_SECONDS)


class _Attempts:
    """Raw responses and token usage of every attempt for one article."""

    def __init__(self) -> None:
        self.raw_responses: list[str] = []
        self.usage = Usage(requests=0, input_tokens=0, output_tokens=0)
        self.hooks = Hooks()
        self.hooks.on("completion:response", self._record)

    def _record(self, response: Any) -> None:
        self.raw_responses.append(response.model_dump_json() if hasattr(response, "model_dump_json") else str(response))
        usage = getattr(response, "usage", None)
        self.usage = Usage(
            requests=self.usage.requests + 1,
            input_tokens=self.usage.input_tokens + (getattr(usage, "prompt_tokens", 0) or 0),
            output_tokens=self.usage.output_tokens + (getattr(usage, "completion_tokens", 0) or 0),
        )


class LLMEngine:
    """Asks an OpenAI-compatible endpoint for one ``ArticleVerdict`` per article."""

    name = "llm"

    def __init__(
        self,
        settings: Settings,
        prompt: Prompt,
        client: instructor.AsyncInstructor | None = None,
        sleep: Callable[[float], Any] | None = None,
    ):
        self.settings = settings
        self.prompt = prompt
        self.client = client or make_client(settings)
        self._sleep = sleep

    async def _ask(self, messages: list[dict[str, str]], attempts: _Attempts) -> ArticleVerdict:
        retrying_kwargs: dict[str, Any] = dict(
            retry=retry_if_exception_type(TransientProviderError),
            stop=stop_after_attempt(self.settings.max_retries + 1),
            wait=_wait,
            reraise=True,
        )
        if self._sleep is not None:
            retrying_kwargs["sleep"] = self._sleep
        async for attempt in AsyncRetrying(**retrying_kwargs):
            with attempt:
                try:
                    verdict, _completion = await self.client.chat.completions.create_with_completion(
                        model=self.settings.model,
                        messages=messages,
                        response_model=ArticleVerdict,
                        max_retries=_VALIDATION_ATTEMPTS,
                        # Lax validation: a model that writes 0.9 as "0.9" is still understood;
                        # the verifier, not pydantic, decides what is true.
                        strict=False,
                        hooks=attempts.hooks,
                        **generation_params(self.settings),
                    )
                except Exception as error:  # classified into the error tree right here
                    raise classify_error(error, self.settings.api_key) from None
        return verdict

    async def analyse(self, article: Article) -> EngineAnswer:
        """One request (plus validation re-asks) covering label, quotes and claims."""
        attempts = _Attempts()
        verdict = await self._ask(self.prompt.messages(article, self.settings.max_input_chars), attempts)
        return EngineAnswer(verdict=verdict, raw_responses=attempts.raw_responses, usage=attempts.usage)

    async def reask_quotes(self, article: Article, previous: EngineAnswer, missing: list[QuoteDraft]) -> EngineAnswer:
        """Ask once more, naming the quotes the article does not contain."""
        attempts = _Attempts()
        messages = [
            *self.prompt.messages(article, self.settings.max_input_chars),
            {"role": "assistant", "content": previous.verdict.model_dump_json()},
            self.prompt.reask_message(missing),
        ]
        verdict = await self._ask(messages, attempts)
        return EngineAnswer(verdict=verdict, raw_responses=attempts.raw_responses, usage=attempts.usage)
