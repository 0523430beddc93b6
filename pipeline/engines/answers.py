"""What an answer must be before anything reads it, on every path it arrives by (live, a
replica, the answer journal, a Batch API file, a Ray worker): a chat completion with a
first choice carrying a message of the expected types, from the model that was asked; and
what it cost, never trusted beyond what it can honestly say.

Plain data only (no SDK import): the journal's recovery reads answers with it in runs
that never load the SDK.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from pipeline.errors import UnusableAnswerError
from pipeline.models import Usage

__all__ = ["same_model", "completion_problem", "check_completion", "estimated_usage", "answer_usage"]

# A provider's dated snapshot of the asked model: gpt-4o-mini-2024-07-18, gpt-4-0613, claude-3-5-sonnet-20241022.
_DATED = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{8}|\d{4})")
_CHARS_PER_TOKEN_FLOOR = 3  # as CostReservations estimates: more tokens than any tokenizer makes of English
_PREVIEW = 80


def same_model(asked: str, answered: str, aliases: Iterable[str] = ()) -> bool:
    """Whether ``answered`` is the model ``asked`` for: the same name, a dated snapshot of it
    (or the undated name of an asked snapshot), or one of the ``aliases`` the settings accept for it (a local server's file name)."""
    if answered == asked or answered in aliases:
        return True
    longer, shorter = (answered, asked) if len(answered) > len(asked) else (asked, answered)
    return longer.startswith(shorter) and _DATED.fullmatch(longer[len(shorter) :]) is not None


def _preview(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return " ".join(text.split())[:_PREVIEW]


def _message_problem(message: Any) -> str | None:
    if not isinstance(message, Mapping):
        return "its first choice has no message" if message is None else f"its message is no object: {_preview(message)}"
    for name in ("content", "refusal"):
        if message.get(name) is not None and not isinstance(message[name], str):
            return f"its message's {name} is no text: {_preview(message[name])}"
    calls = message.get("tool_calls")
    if calls is None:
        return None
    if not isinstance(calls, list) or not all(isinstance(call, Mapping) for call in calls):
        return f"its tool_calls are no list of objects: {_preview(calls)}"
    for call in calls:
        function = call.get("function")
        if function is not None and not (isinstance(function, Mapping) and isinstance(function.get("arguments", ""), str)):
            return f"a tool call's function is no object with text arguments: {_preview(function)}"
    return None


def completion_problem(body: Any, asked: str | None, aliases: Iterable[str] = ()) -> str | None:
    """Why ``body`` (a chat completion as JSON data) is not a usable answer, or None."""
    if not isinstance(body, Mapping):
        shown = _preview(body)
        kind = "an HTML page" if shown.lstrip().lower().startswith(("<!doctype", "<html", "<")) else "no JSON object"
        return f"the endpoint's answer is {kind}: {shown!r}"
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices:
        keys = ", ".join(sorted(map(str, body))[:8]) or "none"
        return f"the endpoint's answer has no choices (it is no chat completion; its keys: {keys})"
    choice = choices[0]
    if not isinstance(choice, Mapping):
        return f"the endpoint's answer has a first choice that is no object: {_preview(choice)}"
    if choice.get("finish_reason") is not None and not isinstance(choice["finish_reason"], str):
        return f"the endpoint's answer has a finish_reason that is no text: {_preview(choice['finish_reason'])}"
    problem = _message_problem(choice.get("message"))
    if problem is not None:
        return f"the endpoint's answer is unusable: {problem}"
    answered = body.get("model")
    if asked and isinstance(answered, str) and answered and not same_model(asked, answered, aliases):
        return (
            f"the endpoint answered with model {answered!r}, not the asked {asked!r} (a replica serving another "
            "model?): not stored under the asked name; PIPELINE_MODEL_ALIASES lists names to accept"
        )
    return None


def check_completion(body: Any, asked: str | None, aliases: Iterable[str] = ()) -> Mapping[str, Any]:
    """``body`` when it is a usable answer; else UnusableAnswerError saying why."""
    problem = completion_problem(body, asked, aliases)
    if problem is not None:
        raise UnusableAnswerError(problem)
    return body


def estimated_usage(messages: Iterable[Mapping[str, Any]], max_tokens: int) -> Usage:
    """What one request may have cost at most, for an answer that does not say: its prompt at
    three characters a token, and ``max_tokens`` out (the reservation ``--max-cost`` held)."""
    characters = sum(len(str(message.get("content") or "")) for message in messages)
    return Usage(
        requests=1,
        input_tokens=characters // _CHARS_PER_TOKEN_FLOOR + 1,
        output_tokens=max_tokens,
        estimated_requests=1,
    )


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def answer_usage(body: Any, estimate: Usage) -> Usage:
    """What one answer cost, as its ``usage`` says where that is a whole, non-negative count;
    a count that is missing, negative or no number is replaced by ``estimate``'s, and the
    usage marked estimated, so no answer can make a run look cheaper than it was."""
    usage = body.get("usage") if isinstance(body, Mapping) else None
    usage = usage if isinstance(usage, Mapping) else {}
    prompt, completion = _count(usage.get("prompt_tokens")), _count(usage.get("completion_tokens"))
    details = usage.get("prompt_tokens_details")
    cached = _count(details.get("cached_tokens")) if isinstance(details, Mapping) else None
    input_tokens = estimate.input_tokens if prompt is None else prompt
    return Usage(
        requests=1,
        input_tokens=input_tokens,
        output_tokens=estimate.output_tokens if completion is None else completion,
        cached_input_tokens=min(cached or 0, input_tokens),
        estimated_requests=int(prompt is None or completion is None),
    )
