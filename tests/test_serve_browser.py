"""The review page in a real browser: Debian's chromium, driven by Selenium through its
chromium-driver (``apt-get install -y chromium chromium-driver``), against ``pipeline serve``'s
application on a free port. The desk loads the page, records a verdict, reloads and sees it;
a page on another site that posts a verdict (even with the page's CSRF token) is refused."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pipeline.settings import NightClock
from pipeline.store import Store
from pipeline.views.serve import ServeConfig, create_app

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[test]')")
uvicorn = pytest.importorskip("uvicorn")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="Chromium or its driver is not installed (apt-get install -y chromium chromium-driver)",
)

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402


@pytest.fixture
def served(desk_db) -> Iterator[tuple[str, Path]]:
    """The review page of a desk night, listening on a free loopback port."""
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    server = uvicorn.Server(
        uvicorn.Config(create_app(ServeConfig(desk_db, NightClock(), audit_sample=5)), log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the server did not start"
    try:
        yield f"http://127.0.0.1:{listening.getsockname()[1]}", desk_db
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listening.close()


@pytest.fixture
def browser(tmp_path):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--window-size=1280,2000",
    ):
        options.add_argument(argument)
    options.add_argument(f"--user-data-dir={tmp_path / 'profile'}")
    os.environ.setdefault("SE_AVOID_STATS", "true")  # Selenium Manager reports nothing; the driver is given
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def _reviews(db: Path) -> list[tuple[str, str]]:
    with Store(db) as store:
        return [tuple(row) for row in store.db.execute("SELECT target, verdict FROM review ORDER BY review_id")]


def test_the_desk_records_a_verdict_reloads_and_sees_it(served, browser, tmp_path):
    url, db = served
    browser.get(url + "/")
    assert browser.title.startswith("Worklist · night of ") and "PWNED" not in browser.title
    assert not browser.find_elements(By.ID, "pwned")
    items = browser.find_elements(By.CSS_SELECTOR, "section.item")
    assert len(browser.find_elements(By.CSS_SELECTOR, "section.item.audit")) == 5 and len(items) > 5
    first = items[0]
    target = first.get_attribute("data-target")
    Select(first.find_element(By.NAME, "verdict")).select_by_value("confirmed_fabrication")
    first.find_element(By.NAME, "note").send_keys("invented: no such clip")
    first.find_element(By.NAME, "by").send_keys("ann")
    first.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 30).until(lambda driver: driver.current_url.endswith("/#reviewed"))
    browser.refresh()
    reviewed = browser.find_element(By.CSS_SELECTOR, f'#reviewed li[data-target="{target}"]')
    assert "confirmed_fabrication" in reviewed.text and "invented: no such clip" in reviewed.text and "by ann" in reviewed.text
    assert target not in [item.get_attribute("data-target") for item in browser.find_elements(By.CSS_SELECTOR, "section.item")]
    assert _reviews(db) == [(target, "confirmed_fabrication")]
    artefacts = Path(os.environ.get("PIPELINE_ARTIFACTS") or tmp_path)
    artefacts.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(artefacts / "serve.png"))


def test_a_verdict_posted_from_another_site_is_refused(served, browser):
    url, db = served
    browser.get(url + "/")
    token = browser.find_element(By.NAME, "csrf").get_attribute("value")
    target = browser.find_element(By.CSS_SELECTOR, "section.item").get_attribute("data-target")
    # Another site (localhost is another site than 127.0.0.1) that knows even the page's token.
    forged = (
        f'<form method="post" action="{url}/review"><input name="csrf" value="{token}">'
        f'<input name="target" value="{target}"><input name="verdict" value="false_positive"></form>'
        "<script>document.forms[0].submit()</script>"
    ).encode()

    class Attacker(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(forged)

        def log_message(self, *args: object) -> None:
            pass

    attacker = ThreadingHTTPServer(("127.0.0.1", 0), Attacker)
    threading.Thread(target=attacker.serve_forever, daemon=True).start()
    try:
        browser.get(f"http://localhost:{attacker.server_address[1]}/")
        WebDriverWait(browser, 30).until(lambda driver: driver.current_url == f"{url}/review")
        assert "refused" in browser.find_element(By.TAG_NAME, "body").text
    finally:
        attacker.shutdown()
        attacker.server_close()
    assert _reviews(db) == []
