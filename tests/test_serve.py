"""``pipeline serve`` without a socket: the page, its escaping and headers, verdicts written
through the library, and the guards (CSRF token, SameSite cookie, Origin, Host, token, bind)."""

from __future__ import annotations

import base64
import re

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.desk.audits import audit_verdicts
from pipeline.errors import UsageError
from pipeline.settings import NightClock
from pipeline.store import Store
from pipeline.views.serve import ServeConfig, check_bind, create_app
from pipeline.views.serve.app import CSRF_COOKIE

from support.batch_fixtures import HOSTILE_TITLE

ORIGIN = "http://127.0.0.1:8321"


def client(desk_db, **config) -> TestClient:
    return TestClient(create_app(ServeConfig(desk_db, NightClock(), audit_sample=5, **config)), base_url=ORIGIN)


def page_form(page: str, number: int) -> dict[str, str]:
    """The hidden fields of the verdict form of item ``number``."""
    section = re.search(rf'<section class="item[^"]*" id="item-{number}".*?</section>', page, re.S).group()
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', section))


def test_the_page_shows_the_worklist_escaped_under_a_strict_policy(desk_db):
    with client(desk_db) as browser:
        response = browser.get("/")
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert response.headers["x-frame-options"] == "DENY"
    page = response.text
    assert "<script" not in page and "<b>vote</b>" not in page
    assert "&lt;script&gt;document.title=&#39;PWNED&#39;&lt;/script&gt;Council &lt;b&gt;vote&lt;/b&gt; delayed" in page
    assert HOSTILE_TITLE not in page
    assert page.count('<section class="item audit"') == 5 and page.count('<span class="mark">audit</span>') == 5
    assert "fabrication &gt;0.99" in page and "likely_fabrication" in page and "check with:" in page
    assert "not reviewed" in page and "http" not in page.split("<body>")[1].replace(ORIGIN, "")  # nothing loaded from elsewhere
    cookie = response.headers["set-cookie"]
    assert f"{CSRF_COOKIE}=" in cookie and "samesite=strict" in cookie.lower() and "httponly" in cookie.lower()


def test_a_verdict_is_written_through_the_library_and_shown(desk_db):
    with client(desk_db) as browser:
        form = page_form(browser.get("/").text, 1)
        answer = browser.post(
            "/review", data={**form, "verdict": "confirmed_fabrication", "note": "<i>invented</i>"}, headers={"origin": ORIGIN}
        )
        assert answer.status_code == 200 and answer.url.path == "/"  # after the 303 redirect
        page = answer.text
    assert "confirmed_fabrication" in page and "&lt;i&gt;invented&lt;/i&gt;" in page
    assert f'data-target="{form["target"]}"' in page.split('id="reviewed"')[1]
    with Store(desk_db) as store:
        statuses = [row[0] for row in store.db.execute("SELECT review_status FROM verdicts")]
    assert sum(status.startswith("reviewed confirmed_fabrication") for status in statuses) == 3  # the story's three variants


def test_writes_without_the_token_cookie_or_origin_are_refused(desk_db):
    with client(desk_db) as browser:
        form = page_form(browser.get("/").text, 1)
        vote = {**form, "verdict": "false_positive"}
        refused = [
            browser.post("/review", data={**vote, "csrf": "forged"}, headers={"origin": ORIGIN}),
            browser.post("/review", data=vote, headers={"origin": "http://evil.example"}),
            browser.post("/review", data=vote, headers={"referer": "http://evil.example/page"}),
            browser.post("/review", data=vote),  # neither Origin nor Referer
        ]
        browser.cookies.clear()
        refused.append(browser.post("/review", data=vote, headers={"origin": ORIGIN}))  # no SameSite cookie
        assert browser.get("/review").status_code == 405
    assert [answer.status_code for answer in refused] == [403] * 5
    with Store(desk_db) as store:
        assert store.db.execute("SELECT COUNT(*) FROM review").fetchone()[0] == 0


def test_a_bad_verdict_is_one_line_on_the_page_and_writes_nothing(desk_db):
    with client(desk_db) as browser:
        form = page_form(browser.get("/").text, 1)
        answer = browser.post("/review", data={**form, "verdict": "<b>maybe</b>"}, headers={"origin": ORIGIN})
    assert answer.status_code == 400
    assert "unknown verdict &#39;&lt;b&gt;maybe&lt;/b&gt;&#39;" in answer.text
    with Store(desk_db) as store:
        assert store.db.execute("SELECT COUNT(*) FROM review").fetchone()[0] == 0


def test_a_verdict_on_an_audit_item_is_an_audit_verdict(desk_db):
    with client(desk_db) as browser:
        page = browser.get("/").text
        number = int(re.search(r'<section class="item audit" id="item-(\d+)"', page).group(1))
        form = page_form(page, number)
        browser.post("/review", data={**form, "verdict": "accurate"}, headers={"origin": ORIGIN})
        after = browser.get("/").text
    assert after.count('<section class="item audit"') == 4  # reviewed: off the list, in the reviewed list, marked
    assert '<span class="mark">audit</span> <code>' in after.split('id="reviewed"')[1]
    with Store(desk_db) as store:
        (found,) = audit_verdicts(store)
        population = store.db.execute("SELECT DISTINCT population FROM audit_draws").fetchall()
    assert (found.article_id, found.verdict) == (form["target"], "accurate")
    assert [(found.population, found.propensity)] == [(population[0][0], 5 / population[0][0])]


def test_an_unknown_host_is_refused(desk_db):
    with client(desk_db) as browser:
        assert browser.get("/", headers={"host": "rebound.example:8321"}).status_code == 400


def test_binding_beyond_loopback_needs_the_token_which_the_page_then_asks_for(desk_db, monkeypatch):
    check_bind("127.0.0.1", None)
    with pytest.raises(UsageError, match="PIPELINE_SERVE_TOKEN"):
        check_bind("0.0.0.0", None)
    monkeypatch.delenv("PIPELINE_SERVE_TOKEN", raising=False)
    result = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0", "--db", str(desk_db)])
    assert result.exit_code == 2
    assert "needs a token: set PIPELINE_SERVE_TOKEN" in result.output and len(result.output.strip().splitlines()) == 1
    missing = desk_db.parent / "missing.db"
    result = CliRunner().invoke(app, ["serve", "--db", str(missing)])
    assert result.exit_code == 2 and "no database there" in result.output and not missing.exists()
    with client(desk_db, token="s3cret", host="0.0.0.0") as browser:
        assert browser.get("/").status_code == 401
        wrong = base64.b64encode(b"desk:guess").decode()
        assert browser.get("/", headers={"authorization": f"Basic {wrong}"}).status_code == 401
        right = base64.b64encode(b"desk:s3cret").decode()
        answer = browser.get("/", headers={"authorization": f"Basic {right}"})
    assert answer.status_code == 200 and "content-security-policy" in answer.headers
