"""A local OpenAI-compatible server for benchmarks and fault tests (127.0.0.1 only).

It answers ``/v1/chat/completions`` with ``tool_calls`` when the request has tools and
with ``content`` otherwise. For an evidence-first prompt (the article carries ``⟦Qn⟧``
and ``[Sn]`` marks) the answer is an evidence-first one: quotes by id, one extra quote
copied verbatim from the text, a claim by sentence id, cut down to the fields the
request's schema asks for (a re-ask asks for fewer). For an older prompt it is an
``ArticleVerdict`` whose quotes are copied from the text. Every quote it reports is in
the article and verifies. It can add latency and jitter,
enforce RPM/TPM caps (429 with ``Retry-After`` / ``retry-after-ms`` unless told
not to send them, and ``x-ratelimit-*`` headers on every answer), inject faults
at a rate (or always, for an article containing ``[[fault:NAME]]``), refuse a wrong model (404), a wrong key (401) or an exhausted quota
(429 ``insufficient_quota``), and serve the Files and Batches endpoints.

It counts *paid* requests per article (successful answers delivered to a client
still connected), keyed by the article fence in the prompt, at ``GET /_stats``, so
a test can see whether any article was paid for twice. ``POST /_config`` changes
the config of a running server; ``POST /_reset`` zeroes the counters.

Run it: ``python bench/fake_server.py --port 8080 --latency 0.2 --rpm 3000``.
In-process: ``with FakeServer(ServerConfig(...)) as server: server.base_url``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import re
import threading
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from aiohttp import web

__all__ = [
    "FAULTS",
    "HOSTILE_ANSWERS",
    "STATE",
    "ServerConfig",
    "FakeServer",
    "build_app",
    "verdict_for",
    "evidence_answer_for",
    "example_for_schema",
    "chat_completion",
    "main",
]

FAULTS = (
    "http_500",
    "http_502",
    "http_503",
    "connection_reset",
    "read_timeout",
    "malformed_json",
    "schema_invalid",
    "length",
    "cut_json",
    "invented_id",
    "refusal",
    "content_filter",
    "context_overflow",
)
# Answers that are not usable completions, or lie about what they cost (issue 23): never drawn
# at random (``faults``), only asked for by marker, e.g. ``[[fault:no_choices]]``.
HOSTILE_ANSWERS = (
    "no_choices",
    "null_message",
    "html_page",
    "unrelated_json",
    "negative_usage",
    "missing_usage",
    "other_model",
    "batch_no_custom_id",
    "batch_response_not_object",
)
_HTML_PAGE = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
_ARTICLE = re.compile(r"<<<ARTICLE (\w+)>>>\n(.*?)\n<<<END ARTICLE \1>>>", re.DOTALL)
_FAULT_MARKER = re.compile(r"\[\[fault:(\w+)\]\]")
_QUOTED = re.compile(r"[“\"]([^”\"\n]{8,200})[”\"]")
_MARKED = re.compile(r"⟦Q(\d+)⟧[“\"]([^”\"\n]{8,200})[”\"]")
_MARKS = re.compile(r"⟦Q\d+⟧|\[S\d+\] ")
_MAX_QUOTES = 3


@dataclass
class ServerConfig:
    """What the server does; tests change it between runs (it is read per request)."""

    latency: float = 0.0
    jitter: float = 0.0
    rpm: int | None = None
    tpm: int | None = None
    send_retry_after: bool = True
    fault_rate: float = 0.0
    faults: tuple[str, ...] = FAULTS
    model: str | None = None
    api_key: str | None = None
    quota_exhausted: bool = False
    hang_seconds: float = 600.0
    seed: int = 0
    extra_batch_lines: tuple[str, ...] = ()  # raw lines added to every batch output file


class _Bucket:
    """A token bucket holding one second's worth of a per-minute cap."""

    def __init__(self, per_minute: int):
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, self.rate)
        self.tokens = self.capacity
        self.updated = time.monotonic()

    def _refill(self) -> None:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def take(self, amount: float) -> float:
        """0 when granted, else the seconds until ``amount`` would be."""
        self._refill()
        if self.tokens >= amount:
            self.tokens -= amount
            return 0.0
        return (amount - self.tokens) / self.rate

    def headers(self, kind: str, limit: int) -> dict[str, str]:
        self._refill()
        until_full = (self.capacity - self.tokens) / self.rate
        return {
            f"x-ratelimit-limit-{kind}": str(limit),
            f"x-ratelimit-remaining-{kind}": str(int(self.tokens)),
            f"x-ratelimit-reset-{kind}": f"{until_full * 1000:.0f}ms",
        }


# What every synthetic claim says beyond its event, in both answer shapes.
_CLAIM_DETAILS: dict[str, Any] = {
    "who": None,
    "when": None,
    "where": None,
    "attributed_to": None,
    "why": ["uncorroborated_event"],
    "check_with": "the official record",
    "priority": "low",
}


def verdict_for(article_text: str, fence: str) -> dict[str, Any]:
    """An ``ArticleVerdict`` whose quotes are copied from the article."""
    quotes = [
        {"speaker": "a speaker", "speaker_kind": "anonymous", "text": match.group(1).strip(), "cue": "said", "channel": None}
        for match in _QUOTED.finditer(article_text)
    ][:_MAX_QUOTES]
    return {
        "label": "news",
        "confidence": 0.7,
        "reasons": ["named_sourcing"],
        "rationale": f"Synthetic verdict for article {fence}.",
        "quotes": quotes,
        "claims": [
            {
                "event": article_text[:80],
                **_CLAIM_DETAILS,
            }
        ],
    }


def evidence_answer_for(marked_text: str, fence: str) -> dict[str, Any]:
    """An evidence-first answer: marked quotations by id, the last quote copied verbatim as
    an extra one, the first sentence as a claim."""
    plain = _MARKS.sub("", marked_text)
    marked = list(_MARKED.finditer(marked_text))[:_MAX_QUOTES]
    copied = [match.group(1).strip() for match in _QUOTED.finditer(plain)][-1:]
    speaker = {"speaker": "a speaker", "speaker_kind": "anonymous", "cue": "said", "channel": None}
    return {
        "quotes": [{"ids": [int(match.group(1)) for match in marked], **speaker}] if marked else [],
        "extra_quotes": [{"text": text, **speaker} for text in copied],
        "claims": [
            {
                "sentences": [1],
                "summary": " ".join(plain.split()[:12]),
                **_CLAIM_DETAILS,
            }
        ],
        "reasons": ["named_sourcing"],
        "rationale": f"Synthetic verdict for article {fence}.",
        "label": "news",
        "confidence": 0.7,
    }


def _asked_schema(body: dict[str, Any]) -> dict[str, Any] | None:
    if body.get("tools"):
        return body["tools"][0]["function"].get("parameters")
    return ((body.get("response_format") or {}).get("json_schema") or {}).get("schema")


def example_for_schema(schema: dict[str, Any], defs: dict[str, Any] | None = None) -> Any:
    """A value that fits a JSON schema, for requests that carry no article (capability probes)."""
    defs = defs if defs is not None else schema.get("$defs", {})
    if "$ref" in schema:
        return example_for_schema(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return example_for_schema(schema[key][0], defs)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type", "object")
    if kind == "object":
        return {name: example_for_schema(part, defs) for name, part in schema.get("properties", {}).items()}
    if kind == "array":
        return []
    return {"string": "example", "integer": 1, "number": 0.5, "boolean": True, "null": None}[kind]


def _error(status: int, message: str, code: str, kind: str, headers: dict[str, str] | None = None) -> web.Response:
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return web.json_response(body, status=status, headers=headers)


class _State:
    def __init__(self, config: ServerConfig):
        self.config = config
        self.random = random.Random(config.seed)
        self.requests: Counter[str] = Counter()
        self.paid: Counter[str] = Counter()
        self.abandoned = 0
        self.buckets: dict[str, _Bucket] = {}
        self.files: dict[str, bytes] = {}
        self.cached_prompts: set[str] = set()
        self.batches: dict[str, dict[str, Any]] = {}

    def bucket(self, kind: str, per_minute: int | None) -> _Bucket | None:
        if per_minute is None:
            return None
        if kind not in self.buckets or self.buckets[kind].rate != per_minute / 60.0:
            self.buckets[kind] = _Bucket(per_minute)
        return self.buckets[kind]

    def stats(self) -> dict[str, Any]:
        return {
            "requests": dict(self.requests),
            "paid": dict(self.paid),
            "paid_total": sum(self.paid.values()),
            "duplicates": {fence: count - 1 for fence, count in self.paid.items() if count > 1},
            "abandoned": self.abandoned,
        }

    def reset(self) -> None:
        self.requests.clear()
        self.paid.clear()
        self.abandoned = 0
        self.buckets.clear()


def _pick_fault(state: _State, body: dict[str, Any]) -> str | None:
    """The fault an article asks for by marker, else one drawn at the configured rate."""
    for message in body.get("messages", []):
        marked = _FAULT_MARKER.search(str(message.get("content") or ""))
        if marked:
            return marked.group(1)
    config = state.config
    return state.random.choice(config.faults) if state.random.random() < config.fault_rate else None


STATE = web.AppKey("state", _State)


def _estimate_tokens(body: dict[str, Any]) -> int:
    characters = sum(len(str(message.get("content") or "")) for message in body.get("messages", []))
    return characters // 4 + 1


def chat_completion(body: dict[str, Any], fault: str | None, cached: set[str] | None = None) -> tuple[dict[str, Any] | str, str]:
    """The chat completion for one request body, shaped by the fault to inject; and its fence."""
    text = "\n".join(str(message.get("content") or "") for message in body.get("messages", []))
    found = _ARTICLE.search(text)
    schema = _asked_schema(body)
    if found and "⟦Q" in found.group(2) or found and "[S1]" in found.group(2):
        answer = evidence_answer_for(found.group(2), found.group(1))
        asked = set((schema or {}).get("properties") or answer)
        fence, arguments = found.group(1), json.dumps({name: value for name, value in answer.items() if name in asked})
    elif found or schema is None:
        fence, article = (found.group(1), found.group(2)) if found else ("none", text)
        arguments = json.dumps(verdict_for(article, fence))
    else:
        fence, arguments = "none", json.dumps(example_for_schema(schema))
    finish_reason = "stop"
    if fault == "malformed_json":
        arguments = arguments.replace(":", "", 1)  # well bracketed, not JSON: no truncation
    elif fault == "invented_id":  # a quotation number the article does not have
        answer = json.loads(arguments)
        for group in answer.get("quotes") or []:
            group["ids"] = [99]
        answer.setdefault("quotes", [{"ids": [99], "speaker": "x", "speaker_kind": "named", "cue": None, "channel": None}])
        arguments = json.dumps(answer)
    elif fault == "schema_invalid":
        arguments = json.dumps({"label": "maybe", "confidence": "high"})
    elif fault == "length":
        arguments, finish_reason = arguments[: len(arguments) // 3], "length"
    elif fault == "cut_json":  # cut, yet reported as finished (llama.cpp does this at max_tokens)
        arguments = arguments[: len(arguments) // 3]
    message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": None}
    if fault == "refusal":
        message["refusal"] = "I can't help with that."
    elif fault == "content_filter":
        finish_reason = "content_filter"
    elif body.get("tools"):
        name = body["tools"][0]["function"]["name"]
        message["tool_calls"] = [
            {"id": f"call_{uuid.uuid4().hex[:12]}", "type": "function", "function": {"name": name, "arguments": arguments}}
        ]
        if finish_reason == "stop":
            finish_reason = "tool_calls"
    else:
        message["content"] = arguments
    prompt_tokens = _estimate_tokens(body)
    # Like a provider's prompt cache: a system prompt seen before is reported as cached input.
    system = str((body.get("messages") or [{}])[0].get("content") or "")
    cached_tokens = min(len(system) // 4 + 1, prompt_tokens) if cached is not None and system in cached else 0
    if cached is not None:
        cached.add(system)
    completion = {
        "id": f"chatcmpl-{uuid.uuid4().hex[:16]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "fake"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason, "logprobs": None}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": len(arguments) // 4 + 1,
            "total_tokens": prompt_tokens + len(arguments) // 4 + 1,
            "prompt_tokens_details": {"cached_tokens": cached_tokens},
        },
    }
    return _hostile(completion, fault), fence


def _hostile(completion: dict[str, Any], fault: str | None) -> dict[str, Any] | str:
    """``completion`` as a hostile endpoint would send it instead (``HOSTILE_ANSWERS``)."""
    if fault == "no_choices":
        completion["choices"] = []
    elif fault == "null_message":
        completion["choices"][0]["message"] = None
    elif fault == "html_page":
        return _HTML_PAGE
    elif fault == "unrelated_json":
        return {"status": "ok", "data": [{"id": 1, "name": "widget"}], "next": None}
    elif fault == "negative_usage":
        completion["usage"].update(prompt_tokens=-100_000, completion_tokens=-50_000, total_tokens=-150_000)
    elif fault == "missing_usage":
        del completion["usage"]
    elif fault == "other_model":
        completion["model"] = "other-model-7b-instruct"
    return completion


def _account_error(state: _State, request: web.Request, model: str | None) -> web.Response | None:
    config = state.config
    if config.api_key is not None and request.headers.get("Authorization") != f"Bearer {config.api_key}":
        return _error(401, "Incorrect API key provided.", "invalid_api_key", "invalid_request_error")
    if config.quota_exhausted:
        return _error(
            429,
            "You exceeded your current quota, please check your plan and billing details.",
            "insufficient_quota",
            "insufficient_quota",
        )
    if config.model is not None and model is not None and model != config.model:
        return _error(
            404,
            f"The model `{model}` does not exist or you do not have access to it.",
            "model_not_found",
            "invalid_request_error",
        )
    return None


def _rate_limit(state: _State, body: dict[str, Any]) -> tuple[web.Response | None, dict[str, str]]:
    config = state.config
    headers: dict[str, str] = {}
    for kind, cap, cost in (("requests", config.rpm, 1), ("tokens", config.tpm, _estimate_tokens(body))):
        bucket = state.bucket(kind, cap)
        if bucket is None:
            continue
        wait = bucket.take(cost)
        headers.update(bucket.headers(kind, cap))
        if wait:
            if config.send_retry_after:
                headers["retry-after-ms"] = f"{wait * 1000:.0f}"
                headers["retry-after"] = str(math.ceil(wait))
            return _error(429, f"Rate limit reached for {kind}.", "rate_limit_exceeded", "requests", headers), headers
    return None, headers


def _delivered(request: web.Request) -> bool:
    transport = request.transport
    return transport is not None and not transport.is_closing()


async def _chat(request: web.Request) -> web.StreamResponse:
    state: _State = request.app[STATE]
    body = await request.json()
    state.requests["chat"] += 1
    refused = _account_error(state, request, body.get("model"))
    if refused is not None:
        return refused
    limited, headers = _rate_limit(state, body)
    if limited is not None:
        state.requests["429"] += 1
        return limited
    try:
        return await _answer(request, state, body, headers)
    except asyncio.CancelledError:  # the client went away (killed, or timed out) before the answer
        state.abandoned += 1
        raise


async def _answer(request: web.Request, state: _State, body: dict[str, Any], headers: dict[str, str]) -> web.StreamResponse:
    config = state.config
    fault = _pick_fault(state, body)
    await asyncio.sleep(max(0.0, config.latency + state.random.uniform(-config.jitter, config.jitter)))
    if fault in ("http_500", "http_502", "http_503"):
        state.requests[fault] += 1
        return _error(int(fault[-3:]), "The server had an error while processing your request.", "server_error", "server_error")
    if fault == "context_overflow":
        state.requests[fault] += 1
        return _error(
            400,
            "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.",
            "context_length_exceeded",
            "invalid_request_error",
        )
    if fault == "connection_reset":
        state.requests[fault] += 1
        request.transport.abort()
        return web.Response()
    if fault == "read_timeout":
        state.requests[fault] += 1
        await asyncio.sleep(config.hang_seconds)
    completion, fence = chat_completion(body, fault, state.cached_prompts)
    if isinstance(completion, str):
        response = web.Response(text=completion, content_type="text/html", headers=headers)
    else:
        response = web.json_response(completion, headers=headers)
    await response.prepare(request)
    await response.write_eof()
    if _delivered(request):
        state.paid[fence] += 1
    else:
        state.abandoned += 1
    return response


async def _upload_file(request: web.Request) -> web.Response:
    state: _State = request.app[STATE]
    form = await request.post()
    upload = form["file"]
    content = upload.file.read()
    file_id = f"file-{uuid.uuid4().hex[:20]}"
    state.files[file_id] = content
    return web.json_response(_file_object(file_id, content, upload.filename, str(form.get("purpose", "batch"))))


def _file_object(file_id: str, content: bytes, filename: str, purpose: str) -> dict[str, Any]:
    return {
        "id": file_id,
        "object": "file",
        "bytes": len(content),
        "created_at": int(time.time()),
        "filename": filename,
        "purpose": purpose,
        "status": "processed",
    }


async def _file_content(request: web.Request) -> web.Response:
    state: _State = request.app[STATE]
    content = state.files.get(request.match_info["file_id"])
    if content is None:
        return _error(404, "No such file.", "not_found", "invalid_request_error")
    return web.Response(body=content, content_type="application/octet-stream")


def _run_batch_file(state: _State, content: bytes) -> tuple[list[str], list[str]]:
    """Answer every line of a batch input file at once: output lines and error lines."""
    outputs, errors = [], []
    for line in content.decode().splitlines():
        request_line = json.loads(line)
        custom_id, body = request_line["custom_id"], request_line["body"]
        fault = _pick_fault(state, body)
        if fault in ("http_500", "http_502", "http_503", "connection_reset", "read_timeout"):
            errors.append(
                json.dumps(
                    {
                        "id": f"batch_req_{uuid.uuid4().hex[:12]}",
                        "custom_id": custom_id,
                        "response": {
                            "status_code": 500,
                            "request_id": uuid.uuid4().hex,
                            "body": {"error": {"message": "The server had an error.", "type": "server_error"}},
                        },
                        "error": None,
                    }
                )
            )
            continue
        completion, fence = chat_completion(body, fault)
        state.paid[fence] += 1
        line: dict[str, Any] = {
            "id": f"batch_req_{uuid.uuid4().hex[:12]}",
            "custom_id": custom_id,
            "response": {"status_code": 200, "request_id": uuid.uuid4().hex, "body": completion},
            "error": None,
        }
        if fault == "batch_no_custom_id":
            del line["custom_id"]
        elif fault == "batch_response_not_object":
            line["response"] = "200 OK"
        outputs.append(json.dumps(line))
    outputs.extend(state.config.extra_batch_lines)
    # The real service returns answers in no particular order; so does this one.
    state.random.shuffle(outputs)
    return outputs, errors


async def _create_batch(request: web.Request) -> web.Response:
    state: _State = request.app[STATE]
    body = await request.json()
    refused = _account_error(state, request, None)
    if refused is not None:
        return refused
    content = state.files.get(body["input_file_id"])
    if content is None:
        return _error(404, "No such input file.", "not_found", "invalid_request_error")
    outputs, errors = _run_batch_file(state, content)
    batch_id = f"batch_{uuid.uuid4().hex[:20]}"
    files = {}
    for kind, lines in (("output", outputs), ("error", errors)):
        if lines:
            file_id = f"file-{uuid.uuid4().hex[:20]}"
            state.files[file_id] = ("\n".join(lines) + "\n").encode()
            files[kind] = file_id
    now = int(time.time())
    state.batches[batch_id] = {
        "id": batch_id,
        "object": "batch",
        "endpoint": body["endpoint"],
        "input_file_id": body["input_file_id"],
        "completion_window": body["completion_window"],
        "status": "completed",
        "created_at": now,
        "completed_at": now,
        "output_file_id": files.get("output"),
        "error_file_id": files.get("error"),
        "request_counts": {"total": len(outputs) + len(errors), "completed": len(outputs), "failed": len(errors)},
        "metadata": body.get("metadata"),
    }
    return web.json_response({**state.batches[batch_id], "status": "validating"})


async def _get_batch(request: web.Request) -> web.Response:
    state: _State = request.app[STATE]
    batch = state.batches.get(request.match_info["batch_id"])
    if batch is None:
        return _error(404, "No such batch.", "not_found", "invalid_request_error")
    return web.json_response(batch)


async def _stats(request: web.Request) -> web.Response:
    return web.json_response(request.app[STATE].stats())


async def _reset(request: web.Request) -> web.Response:
    request.app[STATE].reset()
    return web.json_response({"reset": True})


async def _configure(request: web.Request) -> web.Response:
    """Change the config of a running server (a benchmark's next phase) and reset its counters."""
    state = request.app[STATE]
    for name, value in (await request.json()).items():
        setattr(state.config, name, tuple(value) if name == "faults" else value)
    state.reset()
    return web.json_response(asdict(state.config))


def build_app(config: ServerConfig) -> web.Application:
    """The aiohttp application; ``app[STATE]`` holds the config and the counters."""
    app = web.Application(client_max_size=256 * 1024 * 1024)
    app[STATE] = _State(config)
    app.add_routes(
        [
            web.post("/v1/chat/completions", _chat),
            web.post("/v1/files", _upload_file),
            web.get("/v1/files/{file_id}/content", _file_content),
            web.post("/v1/batches", _create_batch),
            web.get("/v1/batches/{batch_id}", _get_batch),
            web.get("/_stats", _stats),
            web.post("/_reset", _reset),
            web.post("/_config", _configure),
        ]
    )
    return app


@dataclass
class FakeServer:
    """The server on a background thread, for tests: ``with FakeServer(config) as server:``."""

    config: ServerConfig = field(default_factory=ServerConfig)
    port: int = 0

    def __post_init__(self) -> None:
        self.app = build_app(self.config)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def state(self) -> _State:
        return self.app[STATE]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def stats(self) -> dict[str, Any]:
        return self.state.stats()

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._runner = web.AppRunner(self.app, access_log=None, handler_cancellation=True)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        self._loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    def __enter__(self) -> FakeServer:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc_info: object) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--jitter", type=float, default=0.0)
    parser.add_argument("--rpm", type=int)
    parser.add_argument("--tpm", type=int)
    parser.add_argument("--no-retry-after", action="store_true")
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument("--faults", default=",".join(FAULTS))
    parser.add_argument("--model")
    parser.add_argument("--api-key")
    parser.add_argument("--quota-exhausted", action="store_true")
    parser.add_argument("--hang-seconds", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    config = ServerConfig(
        latency=args.latency,
        jitter=args.jitter,
        rpm=args.rpm,
        tpm=args.tpm,
        send_retry_after=not args.no_retry_after,
        fault_rate=args.fault_rate,
        faults=tuple(args.faults.split(",")),
        model=args.model,
        api_key=args.api_key,
        quota_exhausted=args.quota_exhausted,
        hang_seconds=args.hang_seconds,
        seed=args.seed,
    )
    web.run_app(build_app(config), host="127.0.0.1", port=args.port, access_log=None, handler_cancellation=True, print=None)


if __name__ == "__main__":
    main()
