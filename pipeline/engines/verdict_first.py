"""The verdict-first engine (``analyse-v1``): the model copies its quotes, instructor
validates the answer and re-asks when it fails the schema. Kept so its prompt version's
cached results stay valid; the default is :mod:`pipeline.engines.evidence`."""

from __future__ import annotations

import json
import logging
from typing import Any

import instructor
import openai
from instructor.core.hooks import Hooks
from instructor.processing.response import handle_response_model, process_response
from instructor.v2.core.function_calls import response_schema
from openai.types.chat import ChatCompletion

from pipeline.engines.openai_client import Attempts, LLMEngine, classify_error, completion_usage, generation_params
from pipeline.checks.quotes import verify_quotes
from pipeline.errors import AnswerError, UnusableAnswerError
from pipeline.models import Article, ArticleVerdict, EngineAnswer, QuoteDraft, Usage
from pipeline.parsed import ParsedArticle
from pipeline.settings import LLMMode

__all__ = ["INSTRUCTOR_MODES", "RESPONSE_MODEL", "VerdictFirstEngine", "parse_completion"]

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
# (a provider may echo the key). ``classify_error`` classifies, redacts and reports failures
# itself, so instructor's records stop here even when the application configures logging.
_INSTRUCTOR_LOG = logging.getLogger("instructor")
_INSTRUCTOR_LOG.addHandler(logging.NullHandler())
_INSTRUCTOR_LOG.propagate = False


def parse_completion(body: dict[str, Any], mode: LLMMode, estimate: Usage) -> EngineAnswer:
    """Parse a chat completion that arrived another way (a Batch API answer) as a live one is
    parsed (``estimate``: its request's, for token counts the answer does not honestly give)."""
    try:
        completion = ChatCompletion.model_validate(body)
        verdict = process_response(
            completion, response_model=RESPONSE_MODEL, stream=False, strict=False, mode=INSTRUCTOR_MODES[mode]
        )
    except Exception as error:  # classified into the error tree right here
        raise classify_error(error) from None
    return EngineAnswer(verdict=verdict, raw_responses=[json.dumps(body)], usage=completion_usage(completion, estimate))


class VerdictFirstEngine(LLMEngine):
    """Asks for one ``ArticleVerdict`` per article, quotes copied; a quote the article lacks
    earns one re-ask naming it (``follow_up``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._instructor: dict[int, instructor.AsyncInstructor] = {}
        self._generation = generation_params(self.settings)

    def _over(self, client: openai.AsyncOpenAI) -> instructor.AsyncInstructor:
        """The instructor client over one endpoint's SDK client, made once per endpoint."""
        if id(client) not in self._instructor:
            self._instructor[id(client)] = instructor.from_openai(client, mode=INSTRUCTOR_MODES[self.settings.mode])
        return self._instructor[id(client)]

    async def _ask(self, messages: list[dict[str, str]], attempts: Attempts) -> ArticleVerdict:
        hooks = Hooks()
        estimate = self.estimate(messages)
        problems: list[str] = []

        def on_response(response: Any) -> None:
            attempts.record(response, estimate)
            problem = self.answer_problem(response)
            if problem is not None:
                problems.append(problem)

        async def call(client: openai.AsyncOpenAI) -> Any:
            try:
                return await self._over(client).chat.completions.create_with_completion(
                    model=self.settings.model,
                    messages=messages,  # type: ignore[arg-type]  # role/content dicts, as the SDK sends them
                    response_model=RESPONSE_MODEL,
                    max_retries=_VALIDATION_ATTEMPTS,
                    # Lax validation: a model that writes 0.9 as "0.9" is still understood;
                    # the verifier, not pydantic, decides what is true.
                    strict=False,
                    hooks=hooks,
                    **self._generation,
                )
            except Exception:
                # instructor fails on what it cannot read; the endpoint's unusable answer is why
                if problems:
                    raise UnusableAnswerError(problems[-1]) from None
                raise

        hooks.on("completion:response", on_response)
        verdict, _completion = await self._send(call, lambda answered: self.check_answer(answered[1]))
        return verdict

    def request_body(self, article: Article) -> dict[str, Any]:
        """The body of the chat-completion request ``analyse`` sends first, for the Batch API."""
        _model, body = handle_response_model(
            RESPONSE_MODEL,
            mode=INSTRUCTOR_MODES[self.settings.mode],
            model=self.settings.model,
            messages=self.prompt.messages(article, self.settings.max_input_chars),
            **self._generation,
        )
        return body

    async def analyse(self, article: Article, parse: ParsedArticle | None = None) -> list[EngineAnswer]:
        """One request (plus validation re-asks) covering label, quotes and claims, and the
        quote re-ask it needs."""
        messages = self.prompt.messages(article, self.settings.max_input_chars)
        attempts = self._attempts(article, "analyse")
        first = await self._answered(attempts, self._ask(messages, attempts))
        return await self.follow_up(article, parse or ParsedArticle(article.text), first)

    async def follow_up(self, article: Article, parse: ParsedArticle, first: EngineAnswer) -> list[EngineAnswer]:
        """``first`` and, when some of its quotes are not the article's, one re-ask naming them.
        A failed re-ask leaves ``first`` standing: it comes back as an attempt that repeats
        ``first``'s verdict without quotes, so its tokens and raw responses reach the ledger."""
        _verified, rejected = verify_quotes(parse, first.verdict.quotes)
        if not rejected:
            return [first]
        try:
            return [first, await self._reask_quotes(article, first, [*rejected])]
        except AnswerError as error:
            return [
                first,
                EngineAnswer(
                    verdict=first.verdict.model_copy(update={"quotes": []}),
                    raw_responses=list(error.raw_responses),
                    usage=error.usage or Usage(requests=0, input_tokens=0, output_tokens=0),
                ),
            ]

    async def answer_from_completion(self, article: Article, body: dict[str, Any]) -> tuple[EngineAnswer, EngineAnswer | None]:
        """A completion that arrived another way (a Batch API answer), parsed as a live one is;
        and the live re-ask it needed, if any (none here: instructor's re-asks are live-only)."""
        self.check_answer(body)
        messages = self.prompt.messages(article, self.settings.max_input_chars)
        return parse_completion(body, self.settings.mode, self.estimate(messages)), None

    async def _reask_quotes(self, article: Article, previous: EngineAnswer, missing: list[QuoteDraft]) -> EngineAnswer:
        """Ask once more, naming the quotes the article does not contain."""
        messages = [
            *self.prompt.messages(article, self.settings.max_input_chars),
            {"role": "assistant", "content": previous.verdict.model_dump_json()},
            self.prompt.reask_message(missing),
        ]
        attempts = self._attempts(article, "reask")
        return await self._answered(attempts, self._ask(messages, attempts))
