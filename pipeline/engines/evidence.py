"""The default LLM engine: evidence first, verdict last.

The prompt marks each quotation ``⟦Qn⟧`` and each sentence ``[Sn]``; the model answers an
``EvidenceVerdict`` citing them by number, which resolves to the article's own words. The
request goes out through the SDK client alone (no per-call framework), its static part (the
strict answer schema, the response-format or tool parameters, the generation parameters) built
once per engine, that is once per prompt version and settings. See README "The LLM path".
"""

from __future__ import annotations

import json
import re
from typing import Any

import openai
from openai.lib._pydantic import to_strict_json_schema
from openai.types.chat import ChatCompletion
from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from pipeline.engines.openai_client import Attempts, LLMEngine, completion_usage, generation_params
from pipeline.engines.prompts import Evidence, Prompt, field_guide
from pipeline.errors import AnswerError, ProviderError, UnusableAnswerError
from pipeline.models import Article, ArticleVerdict, EngineAnswer, EvidenceVerdict
from pipeline.parsed import ParsedArticle
from pipeline.settings import LLMMode, Settings

__all__ = [
    "ANSWER_NAME",
    "EvidenceEngine",
    "answer_schema",
    "answer_tool",
    "answer_format_params",
    "answer_guide",
]

ANSWER_NAME = "record_article_analysis"
_CHARS_PER_TOKEN = 4


def _dumps(value: Any) -> str:
    """JSON as the SDK sends it (compact, UTF-8 kept)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


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


def answer_tool(model: type[BaseModel], *, strict: bool, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """The function tool built by the SDK's ``pydantic_function_tool``, its parameters inlined."""
    tool = openai.pydantic_function_tool(model, name=ANSWER_NAME)
    function = dict(tool["function"], parameters=answer_schema(model) if schema is None else schema)
    if not strict:
        function.pop("strict", None)
    return {"type": "function", "function": function}


def answer_format_params(model: type[BaseModel], settings: Settings, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """The request parameters that ask for ``model``'s shape in ``settings.mode`` (``schema``:
    its ``answer_schema``, where the caller has it)."""
    schema = answer_schema(model) if schema is None else schema
    if settings.mode is LLMMode.tools:
        return {
            "tools": [answer_tool(model, strict=settings.strict, schema=schema)],
            "tool_choice": {"type": "function", "function": {"name": ANSWER_NAME}},
        }
    if settings.mode is LLMMode.json_schema:
        return {
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": ANSWER_NAME, "schema": schema, "strict": settings.strict},
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

    answer_model: type[BaseModel] = EvidenceVerdict

    def __init__(self, settings: Settings, prompt: Prompt, **kwargs: Any):
        super().__init__(settings, prompt, **kwargs)
        # The static part of every request, built once: the strict schema alone cost ~7 ms a request.
        self._schema = answer_schema(self.answer_model)
        self._static = {
            "model": settings.model,
            **generation_params(settings),
            **answer_format_params(self.answer_model, settings, self._schema),
        }
        # ... and encoded once: a request's JSON is this prefix, its messages and a closing brace.
        self._static_json = _dumps(self._static)[:-1].encode()

    def _identity_params(self) -> dict[str, Any]:
        # Strict decoding changes what a model can answer, so it is part of the cache key.
        return {**generation_params(self.settings), "strict": self.settings.strict}

    def _body(self, messages: list[dict[str, str]], model: type[BaseModel]) -> dict[str, Any]:
        """The request for ``model``'s shape: the whole answer's static part, built once, or a
        re-ask's (a few fields, rare) built for it."""
        if model is self.answer_model:
            return {**self._static, "messages": messages}
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
        fixed = len(messages[0]["content"]) + len(json.dumps(self._schema)) + len(self.prompt.static_user_prefix())
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

    def _encoded(self, messages: list[dict[str, str]], model: type[BaseModel]) -> bytes:
        """The request's JSON as it goes out: the static prefix encoded once, and this article's messages."""
        if model is self.answer_model:
            return b"".join((self._static_json, b',"messages":', _dumps(messages).encode(), b"}"))
        return _dumps(self._body(messages, model)).encode()

    async def _complete(self, messages: list[dict[str, str]], model: type[BaseModel], attempts: Attempts) -> ChatCompletion:
        body = self._encoded(messages, model)
        estimate = self.estimate(messages)

        def received(completion: Any) -> None:
            attempts.record(completion, estimate)  # paid and journalled, whether usable or not
            self.check_answer(completion)

        try:
            # The SDK's post, not chat.completions.create: the body is plain JSON already, so the
            # SDK's per-request walk of it against its parameter types (a third of the client's CPU) buys nothing.
            completion = await self._send(
                lambda client: client.post("/chat/completions", content=body, cast_to=ChatCompletion), received
            )
        except AnswerError as error:
            if error.kind == "context":
                raise self._context_error(error, messages) from None
            raise
        return completion

    async def finish(
        self, messages: list[dict[str, str]], evidence: Evidence, completion: ChatCompletion, attempts: Attempts
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

    async def analyse(self, article: Article, parse: ParsedArticle | None = None) -> list[EngineAnswer]:
        """One request (and at most one re-ask of failing fields) for evidence and verdict;
        ``parse``: the article's parse, whose quotations and sentences the prompt marks."""
        messages, evidence = self.prompt.request(article, self.settings.max_input_chars, parse)
        assert evidence is not None, "an evidence-first prompt marks its evidence"
        attempts = self._attempts(article, "analyse")
        return [await self._answered(attempts, self._verdict(messages, evidence, attempts))]

    async def _verdict(self, messages: list[dict[str, str]], evidence: Evidence, attempts: Attempts) -> ArticleVerdict:
        completion = await self._complete(messages, self.answer_model, attempts)
        return await self.finish(messages, evidence, completion, attempts)

    async def answer_from_completion(self, article: Article, body: dict[str, Any]) -> tuple[EngineAnswer, EngineAnswer | None]:
        """A Batch API answer read as a live one is; a failing field's re-ask goes out live and
        comes back as its own answer, so it is priced at the live rate."""
        messages, evidence = self.prompt.request(article, self.settings.max_input_chars)
        assert evidence is not None, "an evidence-first prompt marks its evidence"
        self.check_answer(body)
        try:
            completion = ChatCompletion.model_validate(body)
        except ValidationError as error:
            raise UnusableAnswerError(f"the answer is no chat completion: {str(error)[:300]}") from None
        paid = completion_usage(completion, self.estimate(messages))
        live = Attempts()
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
