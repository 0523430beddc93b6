"""``pipeline serve``: the worklist as a local web page where the desk gives its verdicts.

``page`` gathers what the page shows (the worklist every door shows, the run's reviews);
``app`` is the Starlette application (``create_app``, testable without a socket) with its
guards: the loopback interface unless a token is set, HTTP basic auth with the token, a
per-process CSRF token with a SameSite cookie and an Origin check on every write, Jinja2
autoescaping and a strict Content-Security-Policy.
"""

from pipeline.views.serve.app import LOOPBACK_HOSTS, ServeConfig, check_bind, create_app

__all__ = ["LOOPBACK_HOSTS", "ServeConfig", "check_bind", "create_app"]
