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
import re
from collections.abc import Awaitable, Callable
from functools import cached_property
from typing import Any, cast

import instructor
import openai
from instructor.core.exceptions import IncompleteOutputException, InstructorRetryException
from instructor.core.hooks import Hooks
from instructor.processing.response import handle_response_model, process_response
from instructor.v2.core.function_calls import response_schema
from openai.lib._pydantic import to_strict_json_schema
from openai.types.chat import ChatCompletion
from pydantic import BaseModel, ConfigDict, ValidationError, create_model
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type
from tenacity.wait import wait_random_exponential

from pipeline.errors import AnswerError, FatalProviderError, ProviderError, RateLimitError, TransientProviderError
from pipeline.models import Article, ArticleVerdict, CacheIdentity, EngineAnswer, EvidenceVerdict, QuoteDraft, Usage, schema_hash
from pipeline.engines.prompts import Evidence, Prompt, field_guide
from pipeline.engines.ratelimit import LOGGED_WAIT_SECONDS, AdaptiveLimiter, capped_wait, parse_retry_after
from pipeline.settings import LLMMode, Settings
from pipeline.engines.fleet import Endpoint, Fleet

__all__ = [
    "INSTRUCTOR_MODES",
    "RESPONSE_MODEL",
    "ANSWER_NAME",
    "make_openai_client",
    "make_client",
    "LLMEngine",
    "EvidenceEngine",
    "classify_error",
    "generation_params",
    "parse_completion",
    "answer_schema",
    "answer_tool",
    "answer_format_params",
    "answer_guide",
    "completion_usage",
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
_LOG = logging.getLogger(__name__)
_RATE_LIMIT_RETRIES = 50
_RETRY_AFTER_JITTER = 0.1
ANSWER_NAME = "record_article_analysis"
_CHARS_PER_TOKEN = 4
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


def make_client(settings: Settings, on_response: Callable[[Any], Awaitable[None]] | None = None) -> instructor.AsyncInstructor:
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


def _mentions(message: str, words: tuple[str, ...]) -> bool:
    lowered = message.lower()
    return any(word in lowered for word in words)


def _redact(message: str, secret: str | None) -> str:
    return message.replace(secret, "***") if secret else message


def classify_error(error: BaseException, secret: str | None = None, mode: LLMMode | None = None) -> ProviderError:
    """Map an SDK or instructor exception onto the pipeline's error tree (``mode``: the
    structured-output mode the request used, named when the server rejects it)."""
    if isinstance(error, InstructorRetryException) and error.__cause__ is not None:
        error = error.__cause__
    message = _redact(str(error), secret)
    if isinstance(error, AssertionError) and "Unable to generate a response due to" in message:
        # instructor's way of reporting the provider's `refusal` field
        return AnswerError(f"the model refused to answer: {message[:200]}", kind="refusal")
    if isinstance(error, IncompleteOutputException):
        return AnswerError("answer truncated (finish_reason=length): raise max_tokens", kind="truncated")
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


class _Attempts:
    """Raw responses and token usage of every attempt for one article; ``on_raw`` sees each
    raw response as it arrives, before instructor parses it."""

    def __init__(self, on_raw: Callable[[str], None] | None = None) -> None:
        self.raw_responses: list[str] = []
        self.usage = Usage(requests=0, input_tokens=0, output_tokens=0)
        self.on_raw = on_raw
        self.hooks = Hooks()
        self.hooks.on("completion:response", self.record)

    def record(self, response: Any) -> None:
        """Keep one response and add its tokens (cached input tokens too, where the provider says)."""
        raw = response.model_dump_json() if hasattr(response, "model_dump_json") else str(response)
        if self.on_raw is not None:
            self.on_raw(raw)
        self.raw_responses.append(raw)
        self.usage = self.usage + completion_usage(response)


def completion_usage(response: Any) -> Usage:
    """What one chat completion cost, as its ``usage`` reports it (cached input tokens too, where it says)."""
    usage = getattr(response, "usage", None)
    details = getattr(usage, "prompt_tokens_details", None)
    return Usage(
        requests=1,
        input_tokens=getattr(usage, "prompt_tokens", 0) or 0,
        output_tokens=getattr(usage, "completion_tokens", 0) or 0,
        cached_input_tokens=getattr(details, "cached_tokens", 0) or 0,
    )


def parse_completion(body: dict[str, Any], mode: LLMMode) -> EngineAnswer:
    """Parse a chat completion that arrived another way (a Batch API answer) as a live one is parsed."""
    try:
        completion = ChatCompletion.model_validate(body)
        verdict = process_response(
            completion, response_model=RESPONSE_MODEL, stream=False, strict=False, mode=INSTRUCTOR_MODES[mode]
        )
    except Exception as error:  # classified into the error tree right here
        raise classify_error(error) from None
    return EngineAnswer(verdict=verdict, raw_responses=[json.dumps(body)], usage=completion_usage(completion))


class LLMEngine:
    """Asks an OpenAI-compatible endpoint (or a fleet of replicas) for one ``ArticleVerdict`` per article."""

    name = "llm"
    reasks = True
    # Sees every raw answer (article, phase "analyse" or "reask", raw JSON) the moment it
    # arrives: the runner journals it there, so a paid answer survives a failed store.
    on_raw: Callable[[Article, str, str], None] | None = None
    answer_model: type[BaseModel] = ArticleVerdict

    def __init__(
        self,
        settings: Settings,
        prompt: Prompt,
        client: instructor.AsyncInstructor | None = None,
        sleep: Callable[[float], Any] | None = None,
        limiter_for: Callable[[str | None], AdaptiveLimiter] | None = None,
        limiter: AdaptiveLimiter | None = None,
    ):
        """``client``: one injected client instead of one per endpoint; ``limiter_for``: each
        endpoint's limiter by its URL (default: a new ``AdaptiveLimiter`` of ``concurrency`` each);
        ``limiter``: the one limiter of an injected client."""
        self.settings = settings
        self.prompt = prompt
        self._client = client
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

    @cached_property
    def fleet(self) -> Fleet:
        """Every endpoint's client and limiter, made at the first request: a run the cache
        answers whole never loads the SDK's resources (seconds of imports)."""
        endpoints = []
        for url in [self.settings.base_url] if self._client else self.settings.endpoints:
            limiter = self._limiter_for(url)
            client = self._client or make_client(self.settings.model_copy(update={"base_url": url}), _header_observer(limiter))
            endpoints.append(Endpoint(url, client, limiter))
        return Fleet(endpoints)

    def _identity_params(self) -> dict[str, Any]:
        return generation_params(self.settings)

    async def _send(self, call: Callable[[instructor.AsyncInstructor], Awaitable[Any]]) -> Any:
        """One request to the endpoint the fleet picks (``call`` gets its client), holding that
        endpoint's limiter slot, retried by tenacity while it fails transiently."""
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
                except Exception as error:  # classified into the error tree right here
                    classified = classify_error(error, self.settings.api_key, self.settings.mode)
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

    async def _ask(self, messages: list[dict[str, str]], attempts: _Attempts) -> ArticleVerdict:
        verdict, _completion = await self._send(
            lambda client: client.chat.completions.create_with_completion(
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
        )
        return verdict

    def _attempts(self, article: Article, phase: str) -> _Attempts:
        on_raw = self.on_raw
        return _Attempts(None if on_raw is None else lambda raw: on_raw(article, phase, raw))

    async def _answer(self, messages: list[dict[str, str]], article: Article, phase: str) -> EngineAnswer:
        attempts = self._attempts(article, phase)
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
        return await self._answer(self.prompt.messages(article, self.settings.max_input_chars), article, "analyse")

    async def answer_from_completion(self, article: Article, body: dict[str, Any]) -> tuple[EngineAnswer, EngineAnswer | None]:
        """A completion that arrived another way (a Batch API answer), parsed as a live one is;
        and the live re-ask it needed, if any (none here: instructor's re-asks are live-only)."""
        return parse_completion(body, self.settings.mode), None

    async def reask_quotes(self, article: Article, previous: EngineAnswer, missing: list[QuoteDraft]) -> EngineAnswer:
        """Ask once more, naming the quotes the article does not contain."""
        return await self._answer(
            [
                *self.prompt.messages(article, self.settings.max_input_chars),
                {"role": "assistant", "content": previous.verdict.model_dump_json()},
                self.prompt.reask_message(missing),
            ],
            article,
            "reask",
        )


def _inline(schema: Any, defs: dict[str, Any]) -> Any:
    if isinstance(schema, dict):
        if "$ref" in schema:
            target = _inline(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
            return {**target, **_inline({k: v for k, v in schema.items() if k != "$ref"}, defs)}
        return {key: _inline(value, defs) for key, value in schema.items() if key not in ("$defs", "title")}
    if isinstance(schema, list):
        return [_inline(value, defs) for value in schema]
    return schema


def answer_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The answer's JSON schema as strict decoders want it (the openai SDK's own
    ``to_strict_json_schema``: every property required, ``additionalProperties: false``),
    with every ``$ref`` (enums and nested objects) inlined and titles dropped."""
    strict = to_strict_json_schema(model)
    return _inline(strict, strict.get("$defs", {}))


def answer_tool(model: type[BaseModel], *, strict: bool) -> dict[str, Any]:
    """The function tool built by the SDK's ``pydantic_function_tool``, its parameters inlined."""
    tool = openai.pydantic_function_tool(model, name=ANSWER_NAME)
    function = dict(tool["function"], parameters=answer_schema(model))
    if not strict:
        function.pop("strict", None)
    return {"type": "function", "function": function}


def answer_format_params(model: type[BaseModel], settings: Settings) -> dict[str, Any]:
    """The request parameters that ask for ``model``'s shape in ``settings.mode``."""
    if settings.mode is LLMMode.tools:
        return {
            "tools": [answer_tool(model, strict=settings.strict)],
            "tool_choice": {"type": "function", "function": {"name": ANSWER_NAME}},
        }
    if settings.mode is LLMMode.json_schema:
        return {
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": ANSWER_NAME, "schema": answer_schema(model), "strict": settings.strict},
            }
        }
    if settings.mode is LLMMode.json:
        return {"response_format": {"type": "json_object"}}
    return {}


def answer_guide(settings: Settings, model: type[BaseModel]) -> str:
    """What the system prompt says about the answer's shape: a compact field guide where the
    server may hide the schema (tools, json_schema), the schema itself where the prompt is the
    only place it can go (json, md_json)."""
    schema = answer_schema(model)
    if settings.mode in (LLMMode.json, LLMMode.md_json):
        as_json = json.dumps(schema, ensure_ascii=False, separators=(",", ":"))
        return f"\nAnswer with one JSON object matching this JSON schema:\n{as_json}"
    return field_guide(schema) if settings.field_guide else ""


def _answer_text(completion: ChatCompletion, mode: LLMMode) -> str:
    """The answer's JSON text; AnswerError naming how it failed when there is none to read."""
    choice = completion.choices[0]
    message = choice.message
    refusal = getattr(message, "refusal", None)
    if refusal:
        raise AnswerError(f"the model refused to answer: {refusal[:200]}", kind="refusal")
    if choice.finish_reason == "content_filter":
        raise AnswerError(
            "the provider's content filter stopped the answer (finish_reason=content_filter)", kind="content_filter"
        )
    calls = message.tool_calls or []
    function = getattr(calls[0], "function", None) if calls else None  # custom tool calls carry none
    text = function.arguments if function is not None and mode is LLMMode.tools else (message.content or "")
    if choice.finish_reason == "length":
        raise AnswerError(
            f"answer truncated (finish_reason=length) after {len(text)} characters: raise "
            "PIPELINE_MAX_TOKENS; it is not re-asked, the same request would stop at the same place",
            kind="truncated",
        )
    if mode is LLMMode.md_json:
        fenced = re.search(r"```(?:json)?\s*(.*?)```", text, re.DOTALL)
        text = fenced.group(1) if fenced else text
    return text


def _parse(text: str) -> dict[str, Any]:
    """The answer as a dict ({} when it is no JSON object); AnswerError when it stops mid-JSON."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        # A server may report a cut answer as a finished tool call (llama.cpp does): JSON
        # that is well formed as far as it goes but stops open is truncation, whatever
        # finish_reason says.
        if _stops_open(text):
            raise AnswerError(
                f"answer truncated (its JSON stops after {len(text)} characters though the server "
                "said it finished): raise PIPELINE_MAX_TOKENS",
                kind="truncated",
            ) from None
        return {}
    return data if isinstance(data, dict) else {}


def _stops_open(text: str) -> bool:
    """Whether ``text`` is a JSON object or array cut short: brackets that match so far,
    none closed past the outermost, and something still open at the end."""
    if not text.lstrip().startswith(("{", "[")):
        return False
    closers = {"{": "}", "[": "]"}
    open_brackets: list[str] = []
    in_string = escaped = False
    for char in text:
        if in_string:
            escaped, in_string = (False, True) if escaped else (char == "\\", char != '"')
        elif char == '"':
            in_string = True
        elif char in closers:
            open_brackets.append(closers[char])
        elif char in "}]":
            if not open_brackets or open_brackets.pop() != char:
                return False
            if not open_brackets:
                return False  # the outermost value closed: whatever follows, it was not cut
    return bool(open_brackets)


def _drop(data: Any, location: tuple[Any, ...]) -> None:
    for step in location[:-1]:
        data = data[step]
    del data[location[-1]]


def _validate(
    model: type[BaseModel], data: dict[str, Any], context: dict[str, int]
) -> tuple[BaseModel | None, list[str], list[str]]:
    """The answer, or the validation problems and the top-level fields they are in.

    Keys the schema does not know are dropped, not failed: a lax server's extras are
    not worth a paid re-ask."""
    data = json.loads(json.dumps(data))
    for _pass in range(2):  # every unknown key is reported at once: one pass drops them all
        try:
            return model.model_validate(data, context=context), [], []
        except ValidationError as error:
            problems = error.errors(include_url=False)
            extras = [problem["loc"] for problem in problems if problem["type"] == "extra_forbidden"]
            if not extras:
                break
            for location in extras:
                _drop(data, location)
    fields = [name for name in model.model_fields if any(problem["loc"][:1] == (name,) for problem in problems)]
    described = [f"{'.'.join(map(str, problem['loc'])) or 'answer'}: {problem['msg']}" for problem in problems]
    return None, described, fields or list(model.model_fields)


def _partial(model: type[BaseModel], fields: list[str]) -> type[BaseModel]:
    """``model`` cut down to ``fields``: what a re-ask asks for."""
    chosen = {name: (model.model_fields[name].annotation, model.model_fields[name]) for name in fields}
    return create_model(f"{model.__name__}Fix", __config__=ConfigDict(extra="forbid"), **chosen)  # type: ignore[call-overload]


class EvidenceEngine(LLMEngine):
    """Asks for an ``EvidenceVerdict`` (evidence by id first, verdict last) and resolves it.

    One request per article; at most one re-ask, and only for the fields that failed
    validation, sending only the problems. Truncation, refusal and content filtering
    are never re-asked; quotes are by id, so there is no quote re-ask either. See
    README "The LLM path".
    """

    reasks = False
    answer_model: type[BaseModel] = EvidenceVerdict

    def __init__(self, settings: Settings, prompt: Prompt, **kwargs: Any):
        super().__init__(settings, prompt, **kwargs)

    def _identity_params(self) -> dict[str, Any]:
        # Strict decoding changes what a model can answer, so it is part of the cache key.
        return {**generation_params(self.settings), "strict": self.settings.strict}

    def _body(self, messages: list[dict[str, str]], model: type[BaseModel]) -> dict[str, Any]:
        return {
            "model": self.settings.model,
            "messages": messages,
            **generation_params(self.settings),
            **answer_format_params(model, self.settings),
        }

    def request_body(self, article: Article) -> dict[str, Any]:
        """The body of the chat-completion request ``analyse`` sends first, for the Batch API."""
        return self._body(self.prompt.request(article, self.settings.max_input_chars)[0], self.answer_model)

    def _context_error(self, error: AnswerError, messages: list[dict[str, str]]) -> AnswerError:
        fixed = (
            len(messages[0]["content"])
            + len(json.dumps(answer_schema(self.answer_model)))
            + len(self.prompt.static_user_prefix())
        )
        article = len(messages[1]["content"]) - len(self.prompt.static_user_prefix())
        reask = sum(len(message["content"]) for message in messages[2:])
        parts = f"fixed prompt ≈{fixed // _CHARS_PER_TOKEN} tokens, article ≈{article // _CHARS_PER_TOKEN} tokens"
        if reask:
            parts += f", re-ask ≈{reask // _CHARS_PER_TOKEN} tokens"
        grew = "the re-ask pushed it over" if reask else "the article is the part that grows"
        return AnswerError(
            f"the request is longer than the model's context window ({parts}; {grew}): lower "
            f"PIPELINE_MAX_INPUT_CHARS (now {self.settings.max_input_chars}) or PIPELINE_MAX_TOKENS; "
            f"provider said: {str(error)[:200]}",
            kind="context",
        )

    async def _complete(self, messages: list[dict[str, str]], model: type[BaseModel], attempts: _Attempts) -> ChatCompletion:
        body = self._body(messages, model)
        try:
            completion = await self._send(lambda client: cast(openai.AsyncOpenAI, client.client).chat.completions.create(**body))
        except AnswerError as error:
            if error.kind == "context":
                raise self._context_error(error, messages) from None
            raise
        attempts.record(completion)
        return completion

    async def finish(
        self, messages: list[dict[str, str]], evidence: Evidence, completion: ChatCompletion, attempts: _Attempts
    ) -> ArticleVerdict:
        """Read one answer and, if some fields fail validation, re-ask once for those fields only."""
        context = evidence.context()
        data = _parse(_answer_text(completion, self.settings.mode))
        verdict, problems, fields = _validate(self.answer_model, data, context)
        if verdict is None:
            spent = attempts.usage.input_tokens + attempts.usage.output_tokens
            projected = spent + attempts.usage.input_tokens + self.settings.max_tokens
            if projected > self.settings.max_article_tokens:
                raise AnswerError(
                    f"answer does not fit the schema ({'; '.join(problems[:3])[:400]}); not re-asked: "
                    f"it would pass PIPELINE_MAX_ARTICLE_TOKENS={self.settings.max_article_tokens}"
                )
            fix_messages = [*messages, self.prompt.fix_message(problems[:10], fields)]
            fixed = await self._complete(fix_messages, _partial(self.answer_model, fields), attempts)
            data = {
                **data,
                **{name: value for name, value in _parse(_answer_text(fixed, self.settings.mode)).items() if name in fields},
            }
            verdict, problems, _fields = _validate(self.answer_model, data, context)
            if verdict is None:
                raise AnswerError(f"answer does not fit the schema after one re-ask: {'; '.join(problems[:3])[:400]}")
        return evidence.resolve(verdict)  # type: ignore[arg-type]

    async def analyse(self, article: Article) -> EngineAnswer:
        """One request (and at most one re-ask of failing fields) for evidence and verdict."""
        messages, evidence = self.prompt.request(article, self.settings.max_input_chars)
        assert evidence is not None, "an evidence-first prompt marks its evidence"
        attempts = self._attempts(article, "analyse")
        try:
            completion = await self._complete(messages, self.answer_model, attempts)
            verdict = await self.finish(messages, evidence, completion, attempts)
        except ProviderError as error:
            error.usage = attempts.usage
            error.raw_responses = tuple(attempts.raw_responses)
            raise
        return EngineAnswer(verdict=verdict, raw_responses=attempts.raw_responses, usage=attempts.usage)

    async def answer_from_completion(self, article: Article, body: dict[str, Any]) -> tuple[EngineAnswer, EngineAnswer | None]:
        """A Batch API answer read as a live one is; a failing field's re-ask goes out live and
        comes back as its own answer, so it is priced at the live rate."""
        messages, evidence = self.prompt.request(article, self.settings.max_input_chars)
        assert evidence is not None, "an evidence-first prompt marks its evidence"
        try:
            completion = ChatCompletion.model_validate(body)
        except ValidationError as error:
            raise AnswerError(f"the batch answer is no chat completion: {str(error)[:300]}") from None
        paid = completion_usage(completion)
        live = _Attempts()
        try:
            verdict = await self.finish(messages, evidence, completion, live)
        except ProviderError as error:
            # The batch answer itself is the caller's to price (batch rate); this is what went out live.
            error.usage = live.usage
            error.raw_responses = (json.dumps(body), *live.raw_responses)
            raise
        answer = EngineAnswer(verdict=verdict, raw_responses=[json.dumps(body)], usage=paid)
        if not live.usage.requests:
            return answer, None
        return answer, EngineAnswer(verdict=verdict, raw_responses=live.raw_responses, usage=live.usage)

    async def reask_quotes(self, article: Article, previous: EngineAnswer, missing: list[QuoteDraft]) -> EngineAnswer:
        raise NotImplementedError("evidence-first answers quote by id; a copied quote the article lacks is rejected")
