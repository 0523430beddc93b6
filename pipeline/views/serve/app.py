"""The review page's Starlette application and its guards.

- It listens on the loopback interface unless a token is set (``check_bind``); with a token,
  every request needs it as the password of HTTP basic auth (any user name).
- A write is a POST carrying this process's CSRF token in the form and in a ``SameSite=Strict``
  cookie, from a page of this server (``Origin``, else ``Referer``, names the host it was sent
  to); the Host header must be one the server answers to (DNS rebinding).
- Every value is escaped by Jinja2's autoescape; the page has no script at all, loads nothing
  from elsewhere and may not be framed (the Content-Security-Policy and X-Frame-Options).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pipeline.checks.verdict import probability_text
from pipeline.desk.reviews import Verdict, add_review
from pipeline.desk.settled import refresh_verdicts
from pipeline.errors import PipelineError, UsageError
from pipeline.settings import NightClock
from pipeline.store import Store
from pipeline.views.serve.page import item_target, review_page

__all__ = ["LOOPBACK_HOSTS", "ServeConfig", "check_bind", "create_app"]

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
CSRF_COOKIE = "pipeline_csrf"
_HERE = Path(__file__).parent
_SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self'; object-src 'none'; "
        b"base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
]


@dataclass(frozen=True)
class ServeConfig:
    """What the page reads and how it is guarded."""

    db: Path
    clock: NightClock
    audit_sample: int = 0
    limit: int | None = 25
    token: str | None = None
    host: str = "127.0.0.1"


def check_bind(host: str, token: str | None) -> None:
    """Refuse to listen beyond the loopback interface without a token."""
    if host not in LOOPBACK_HOSTS and not token:
        raise UsageError(f"serve: listening on {host} needs a token: set PIPELINE_SERVE_TOKEN (or bind to 127.0.0.1)")


class _Guard:
    """Adds the security headers to every response and, with a token, asks for it first."""

    def __init__(self, app: ASGIApp, token: str | None):
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_guarded(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *_SECURITY_HEADERS]
            await send(message)

        if self.token and not self._authorised(Request(scope)):
            refusal = PlainTextResponse(
                "the token is required", status_code=401, headers={"WWW-Authenticate": 'Basic realm="pipeline serve"'}
            )
            await refusal(scope, receive, send_guarded)
            return
        await self.app(scope, receive, send_guarded)

    def _authorised(self, request: Request) -> bool:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            _, _, password = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return hmac.compare_digest(password.encode(), (self.token or "").encode())


def _same_origin(request: Request) -> bool:
    """Whether a write comes from a page of this server: its Origin (else its Referer) names
    the scheme and host the request was sent to."""
    expected = f"{request.url.scheme}://{request.headers.get('host', '')}"
    origin = request.headers.get("origin")
    if origin is not None:
        return origin == expected
    referer = request.headers.get("referer", "")
    return referer == expected or referer.startswith(expected + "/")


def create_app(config: ServeConfig) -> Starlette:
    """The review page: ``GET /`` the worklist with a verdict form per item, ``POST /review``
    a verdict, ``GET /serve.css`` its style sheet."""
    csrf = secrets.token_urlsafe(32)
    templates = Environment(loader=FileSystemLoader(_HERE), autoescape=select_autoescape(default=True, default_for_string=True))
    templates.filters["probability"] = probability_text
    page_template = templates.get_template("page.html.j2")
    style = (_HERE / "serve.css").read_bytes()

    def render(status: int = 200, **context: Any) -> HTMLResponse:
        response = HTMLResponse(page_template.render(verdicts=list(Verdict), csrf=csrf, target=item_target, **context), status)
        response.set_cookie(CSRF_COOKIE, csrf, httponly=True, samesite="strict", path="/")
        return response

    def read_page() -> Any:
        with Store(config.db) as store:
            return review_page(store, config.clock, config.limit, config.audit_sample)

    async def home(request: Request) -> Response:
        try:
            return render(page=await run_in_threadpool(read_page))
        except PipelineError as error:
            return PlainTextResponse(f"{error.kind}: {error.one_line()}", status_code=500)

    async def review(request: Request) -> Response:
        form = await request.form()
        sent = str(form.get("csrf", ""))
        cookie = request.cookies.get(CSRF_COOKIE, "")
        if not (_same_origin(request) and hmac.compare_digest(sent, csrf) and hmac.compare_digest(cookie, csrf)):
            return PlainTextResponse("refused: a write must come from this page (cross-site request)", status_code=403)

        def write() -> None:
            with Store(config.db) as store:
                done = add_review(
                    store,
                    str(form.get("target", "")),
                    str(form.get("verdict", "")),
                    note=str(form.get("note", "")).strip() or None,
                    by=str(form.get("by", "")).strip() or None,
                )
                refresh_verdicts(store, config.clock, done.article_ids)

        try:
            await run_in_threadpool(write)
        except PipelineError as error:
            return render(400, page=await run_in_threadpool(read_page), problem=error.one_line())
        return RedirectResponse("/#reviewed", status_code=303)

    async def stylesheet(request: Request) -> Response:
        return Response(style, media_type="text/css")

    hosts = sorted(LOOPBACK_HOSTS - {"::1"}) if config.host in LOOPBACK_HOSTS else ["*"]
    return Starlette(
        routes=[
            Route("/", home, methods=["GET"]),
            Route("/review", review, methods=["POST"]),
            Route("/serve.css", stylesheet, methods=["GET"]),
        ],
        middleware=[Middleware(_Guard, token=config.token), Middleware(TrustedHostMiddleware, allowed_hosts=hosts)],
    )
