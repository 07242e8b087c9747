"""The browser machinery on its own: Chromium, the request log, screenshots, the status helpers and
the console-error collector, against static pages from a tiny local HTTP server."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, Playwright

from e2e.support import browser as support
from e2e.support import chromium
from e2e.support.browser import (
    ContextFactory,
    RequestLog,
    TrackedContext,
    artifact_dir,
    origin_of,
    screenshot,
)
from e2e.support.chromium import ChromiumMissing
from e2e.support.spawn import Spawn
from e2e.support.table_page import status, wait_status
from rejoin_testkit.processes import ServerProcess

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A static HTTP server on 127.0.0.1 serving `tmp_path/site`: (base URL, its directory)."""
    root = tmp_path / "site"
    root.mkdir()
    handler = functools.partial(Quiet, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", root
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def write_page(root: Path, name: str, body: str) -> str:
    # Chromium fetches /favicon.ico on its own (no `request` event) and logs a 404 as a console
    # error: the pages name an inline icon.
    head = '<link rel="icon" href="data:,">'
    html = f"<!doctype html><html><head>{head}</head><body>{body}</body></html>"
    (root / name).write_text(html, encoding="utf-8")
    return name


def test_chromium_launches(playwright_instance: Playwright) -> None:
    began = time.monotonic()
    started = chromium.launch(playwright_instance)
    launched = time.monotonic() - began
    try:
        assert started.version.split(".")[0].isdigit()
        page = started.new_page()
        page.set_content("<p id=p>hello</p>")
        assert page.inner_text("#p") == "hello"
    finally:
        started.close()
    print(f"Chromium {started.version} launched in {launched:.3f} s")  # shown with -s


def test_missing_chromium_is_an_error_not_a_skip(
    playwright_instance: Playwright, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chromium, "CHROMIUM", "/nonexistent/chromium")
    with pytest.raises(ChromiumMissing, match="apt-get install -y chromium") as raised:
        chromium.launch(playwright_instance)
    assert "Chromium not found at /nonexistent/chromium" in str(raised.value)
    assert "REJOIN_CHROMIUM" in str(raised.value)


def test_every_test_here_is_marked_browser(request: pytest.FixtureRequest) -> None:
    assert request.node.get_closest_marker("browser") is not None


def test_origin_of() -> None:
    assert origin_of("http://127.0.0.1:8000/play/x?y=1") == "http://127.0.0.1:8000"
    assert origin_of("ws://127.0.0.1:8000/api/game/x/ws") == "http://127.0.0.1:8000"
    assert origin_of("wss://Example.COM/ws") == "https://example.com:443"
    assert origin_of("http://example.invalid/x.js") == "http://example.invalid:80"
    assert origin_of("http://[::1]:9/") == "http://[::1]:9"
    for local in ("data:text/plain,hi", "blob:http://127.0.0.1:8000/uuid", "about:blank"):
        assert origin_of(local) is None


def test_request_log_names_a_foreign_request(
    site: tuple[str, Path], context: TrackedContext, pw_page: Page
) -> None:
    tracked = context
    base, root = site
    write_page(
        root,
        "index.html",
        """<p id=p>page</p>
        <img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
        <script>
          window.fetchDone = false;
          fetch('http://example.invalid/x.js')
            .catch(() => null)
            .finally(() => { window.fetchDone = true; });
          fetch('/local.txt').catch(() => null);
        </script>""",
    )
    (root / "local.txt").write_text("local", encoding="utf-8")
    pw_page.goto(f"{base}/index.html")
    pw_page.wait_for_function("window.fetchDone === true")

    assert tracked.context is pw_page.context
    assert f"{base}/index.html" in tracked.requests.urls
    assert "http://example.invalid/x.js" in tracked.requests.urls
    with pytest.raises(AssertionError, match=r"example\.invalid/x\.js") as raised:
        tracked.requests.assert_only(base)
    message = str(raised.value)
    assert "1 request(s)" in message  # the page, /local.txt and data: are not listed
    assert "/index.html" not in message
    assert "local.txt" not in message
    # Its failure is in the log too.
    foreign = tracked.requests.foreign(base)
    assert foreign[0].failure is not None


def test_request_log_counts_websockets_to_the_server_as_its_own(
    site: tuple[str, Path], context: TrackedContext, pw_page: Page
) -> None:
    tracked = context
    base, root = site
    port = base.rsplit(":", 1)[1]
    write_page(
        root,
        "ws.html",
        f"""<script>
          window.opened = 0;
          for (const url of ['ws://127.0.0.1:{port}/ws', 'ws://example.invalid/ws']) {{
            const ws = new WebSocket(url);
            ws.onerror = ws.onclose = () => {{ window.opened += 1; }};
          }}
        </script>""",
    )
    pw_page.goto(f"{base}/ws.html")
    pw_page.wait_for_function("window.opened >= 2")
    websockets = [e.url for e in tracked.requests.entries if e.kind == "websocket"]
    assert f"ws://127.0.0.1:{port}/ws" in websockets
    assert "ws://example.invalid/ws" in websockets
    with pytest.raises(AssertionError) as raised:
        tracked.requests.assert_only(base)
    assert "ws://example.invalid/ws" in str(raised.value)
    assert f"ws://127.0.0.1:{port}/ws" not in str(raised.value)


def test_assert_only_passes_when_everything_stayed_home(
    site: tuple[str, Path], context_factory: ContextFactory
) -> None:
    base, root = site
    write_page(root, "home.html", "<p>home</p><script src='/app.js'></script>")
    (root / "app.js").write_text("window.ok = true;", encoding="utf-8")
    # only_origin: the fixture's teardown asserts it too.
    tracked = context_factory("home", only_origin=base)
    page = tracked.new_page()
    page.goto(f"{base}/home.html")
    assert page.evaluate("window.ok") is True
    tracked.requests.assert_only(base)
    assert len(tracked.requests.entries) == 2
    assert "2 request(s)" in tracked.requests.tail()


def test_request_log_is_empty_for_set_content(browser: Browser) -> None:
    context = browser.new_context()
    try:
        log = RequestLog("bare").attach(context)
        context.new_page().set_content("<p>no network</p>")
        log.assert_only("http://127.0.0.1:1")
    finally:
        context.close()


def test_screenshot_writes_a_png(pw_page: Page, request: pytest.FixtureRequest) -> None:
    pw_page.set_content("<h1 style='color:red'>screenshot</h1>")
    path = screenshot(pw_page, request, "table view")
    assert path.parent == artifact_dir(request)
    assert path.name == "table_view.png"
    assert path.parent.is_relative_to(support.REPO_ROOT / ".reports" / "e2e-artifacts")
    assert path.parent.name == "test_browser_support.test_screenshot_writes_a_png"
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC)
    assert len(data) > 100


def test_status_helpers_read_the_status_element(site: tuple[str, Path], pw_page: Page) -> None:
    base, root = site
    write_page(
        root,
        "status.html",
        """<div id=status data-status=connected data-seq=5></div>
        <script>
          setTimeout(() => {
            const el = document.getElementById('status');
            el.dataset.status = 'reconnecting';
            setTimeout(() => { el.dataset.status = 'connected'; el.dataset.seq = '9'; }, 200);
          }, 100);
        </script>""",
    )
    pw_page.goto(f"{base}/status.html")
    # The page may already have moved on by the time we read: read it first thing.
    assert status(pw_page) in {("connected", 5), ("reconnecting", 5)}
    waited = wait_status(pw_page, "reconnecting", 5)
    assert waited < 5
    waited = wait_status(pw_page, "connected", 5, min_seq=9)
    assert 0.05 < waited < 5
    assert status(pw_page) == ("connected", 9)


def test_status_of_a_page_without_the_element(pw_page: Page) -> None:
    pw_page.set_content("<p>nothing</p>")
    assert status(pw_page) == (None, None)
    pw_page.set_content("<div id=status data-status=connecting data-seq=''></div>")
    assert status(pw_page) == ("connecting", None)


def test_wait_status_times_out_with_what_it_saw(pw_page: Page) -> None:
    pw_page.set_content("<div id=status data-status=connecting data-seq=0></div>")
    began = time.monotonic()
    with pytest.raises(AssertionError, match=r"last seen .* \('connecting', 0\)"):
        wait_status(pw_page, "connected", 0.3)
    assert time.monotonic() - began < 5
    with pytest.raises(ValueError, match="unknown status"):
        wait_status(pw_page, "online", 1)


def test_console_errors_and_page_errors_are_collected(
    site: tuple[str, Path], context: TrackedContext
) -> None:
    base, root = site
    write_page(
        root,
        "errors.html",
        """<script>
          console.log('just a log');
          console.warn('just a warning');
          console.error('boom from console', 42);
          setTimeout(() => { throw new Error('uncaught kaboom'); }, 0);
        </script>""",
    )
    page = context.new_page()
    # The throw comes after the load (a setTimeout): wait for it on the context, where the log
    # listens, so the log has it when the wait returns.
    thrown = context.context.expect_event(
        "weberror", predicate=lambda error: "uncaught kaboom" in error.error.message
    )
    with thrown:
        page.goto(f"{base}/errors.html")
    errors = context.errors
    kinds = [(e.kind, e.text) for e in errors.entries]
    assert ("console.error", "boom from console 42") in kinds
    assert any(kind == "pageerror" and "uncaught kaboom" in text for kind, text in kinds)
    assert not any("just a" in text for _, text in kinds)
    assert all(e.page == f"{base}/errors.html" for e in errors.entries)
    assert len(errors.for_page(page)) == 2
    other = context.new_page()
    other.set_content("<script>console.error('other page')</script>")
    assert [e.text for e in errors.for_page(other)] == ["other page"]
    assert len(errors.for_page(page)) == 2
    report = context.report()
    assert "boom from console" in report
    assert "uncaught kaboom" in report
    assert "errors.html" in report  # the request log tail


FAILING_TEST = """
from playwright.sync_api import Page

def test_it(pw_page: Page) -> None:
    pw_page.set_content("<script>console.error('child boom')</script><p>shown</p>")
    pw_page.goto("data:text/html,<p>second</p>")
    assert False, "child failure"
"""


def test_failure_report_carries_console_errors_requests_and_a_screenshot(tmp_path: Path) -> None:
    """Run a failing browser test in a child pytest with this conftest as a plugin."""
    (tmp_path / "test_child.py").write_text(FAILING_TEST, encoding="utf-8")
    shots = support.ARTIFACTS / "test_child.test_it"
    env = {**os.environ, "PYTHONPATH": str(support.REPO_ROOT)}
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-p",
                "e2e.browser.conftest",
                "-p",
                "no:cacheprovider",
                "-q",
                "test_child.py",
            ],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        out = done.stdout + done.stderr
        assert done.returncode == 1, out
        assert "child failure" in out
        assert "browser context" in out
        assert "[console.error]" in out
        assert "child boom" in out
        assert "data:text/html,<p>second</p>" in out  # the request log tail
        assert "browser screenshots" in out
        png = shots / "failure-context-1.png"
        assert str(png) in out
        assert png.read_bytes().startswith(PNG_MAGIC)
    finally:
        shutil.rmtree(shots, ignore_errors=True)


def test_real_server_page_stays_on_its_origin(
    spawn: Spawn, db_url: str, context_factory: ContextFactory
) -> None:
    """The pattern for the table tests: a real server (here on SQLite and on PostgreSQL), a page
    from it, and nothing fetched from anywhere else."""
    server = spawn(db_url)
    assert httpx.get(f"{server.url}/healthz", timeout=5).status_code == 200
    tracked = context_factory("player", only_origin=server.url)
    page = tracked.new_page()
    reply = page.goto(f"{server.url}/healthz")
    assert reply is not None
    assert reply.status == 200
    tracked.requests.assert_only(server.url)
    assert not tracked.errors.entries


def test_the_servers_page_policy_refuses_inline_code_and_the_error_log_sees_it(
    server: ServerProcess, browser: Browser
) -> None:
    """The server's pages carry a Content-Security-Policy: code injected into a page does not
    run, and each refusal reaches the ErrorLog as a CSP violation (which fails any test made
    with `context_factory`; this one opens its context itself, as the violations are its point)."""
    tracked = TrackedContext.open(browser, "csp")
    try:
        page = tracked.new_page()
        reply = page.goto(f"{server.url}/")
        assert reply is not None
        assert "'wasm-unsafe-eval'" in reply.headers["content-security-policy"]
        page.locator("#create-form").wait_for()
        assert tracked.errors.csp_violations() == [], tracked.errors.report()
        # DevTools' own evaluation is outside the policy; what it starts inside the page is not.
        page.evaluate(
            """() => {
              const script = document.createElement("script");
              script.textContent = "window.__injected = true";
              document.head.append(script);
              setTimeout("window.__evaluated = true", 0);
            }"""
        )
        for _ in range(50):  # Playwright delivers console events only while it is called
            if len(tracked.errors.csp_violations()) >= 2:
                break
            page.wait_for_timeout(100)
        assert page.evaluate("() => [window.__injected, window.__evaluated]") == [None, None]
        refused = "\n".join(v.text for v in tracked.errors.csp_violations())
        assert "script-src-elem refused inline" in refused, tracked.errors.report()
        assert "script-src refused eval" in refused, tracked.errors.report()
    finally:
        tracked.close()


def test_another_site_cannot_frame_the_servers_pages(
    site: tuple[str, Path], server: ServerProcess, browser: Browser
) -> None:
    base, root = site
    write_page(root, "framer.html", f'<iframe id="victim" src="{server.url}/"></iframe>')
    tracked = TrackedContext.open(browser, "framer")
    try:
        page = tracked.new_page()
        # Chromium reports the refusal as a console error, maybe after the load: wait for it.
        refused = tracked.context.expect_console_message(
            predicate=lambda message: "frame-ancestors" in message.text
        )
        with refused, page.expect_response(f"{server.url}/") as framed:
            page.goto(f"{base}/framer.html")
        assert framed.value.headers["x-frame-options"] == "DENY"
        frame = page.frame_locator("#victim")
        # Chromium puts its error page in the frame instead of the lobby.
        assert frame.locator("#create-form").count() == 0
        assert any("frame-ancestors" in text for text in tracked.errors.texts), (
            tracked.errors.report()
        )
    finally:
        tracked.close()
