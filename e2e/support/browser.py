"""Chromium for the browser tests: launching it, and what a test needs to see into a page.

- `launch(playwright)` (from `support.chromium`): headless Debian Chromium (`REJOIN_CHROMIUM`,
  default /usr/bin/chromium). A missing Chromium is an error, never a skip.
- `RequestLog`: every request (and WebSocket) a browser context makes; `assert_only(origin)` fails
  naming each one that went anywhere but the test server.
- `ErrorLog`: every `console.error` and uncaught page error, per page, for failure reports;
  `csp_violations()`: those that are the page's Content-Security-Policy refusing something (every
  page reports each violation as a console error: `TrackedContext` installs `CSP_WATCH`).
- `artifact_dir(request)` / `screenshot(page, request, name)`: PNGs under
  `.reports/e2e-artifacts/<test>/` at the repository root.
- The table page's `#status` element: `support.table_page.status` / `wait_status`.

The sync Playwright API keeps its asyncio loop marked as running in this thread while it is
started: `asyncio.run` fails inside a browser test (use sync clients: httpx, `support.ws`).
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Request,
    WebError,
    WebSocket,
)
from playwright.sync_api import Error as PlaywrightError

# Playwright's own timeout for each action / navigation, in ms (a Pyodide boot takes 2-6 s).
DEFAULT_TIMEOUT_MS = 30_000

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / ".reports" / "e2e-artifacts"

# URLs that are no request to anyone.
_LOCAL_SCHEMES = ("data", "blob", "about")
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
# A WebSocket to the server is the same server: compare ws:// as http://, wss:// as https://.
_SCHEME_FAMILY = {"ws": "http", "wss": "https"}


# Origins.


def origin_of(url: str) -> str | None:
    """`scheme://host:port` of `url` (ws/wss counted as http/https, default ports spelled out);
    None for data:, blob: and about: URLs, which go nowhere."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in _LOCAL_SCHEMES:
        return None
    family = _SCHEME_FAMILY.get(scheme, scheme)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port if parts.port is not None else _DEFAULT_PORTS.get(scheme)
    return f"{family}://{host}:{port}" if port is not None else f"{family}://{host}"


# Requests.


@dataclass
class RequestEntry:
    kind: str  # a Playwright resource type (document, script, fetch, ...) or "websocket"
    method: str
    url: str
    page: str = ""
    failure: str | None = None

    def __str__(self) -> str:
        failed = f"  FAILED: {self.failure}" if self.failure else ""
        return f"{self.method:6} {self.kind:10} {self.url}{failed}"


@dataclass
class RequestLog:
    """Every request and WebSocket a browser context (all its pages and workers) makes, in order."""

    label: str = "context"
    entries: list[RequestEntry] = field(default_factory=list)
    _by_request: dict[int, RequestEntry] = field(default_factory=dict, repr=False)

    def attach(self, context: BrowserContext) -> RequestLog:
        context.on("request", self._on_request)
        context.on("requestfailed", self._on_failed)
        # WebSockets are no `request` event; they are announced per page.
        context.on("page", self._watch_page)
        for page in context.pages:
            self._watch_page(page)
        return self

    def _on_request(self, request: Request) -> None:
        entry = RequestEntry(request.resource_type, request.method, request.url)
        self._by_request[id(request)] = entry
        self.entries.append(entry)

    def _on_failed(self, request: Request) -> None:
        entry = self._by_request.get(id(request))
        if entry is not None:
            entry.failure = request.failure or "failed"

    def _watch_page(self, page: Page) -> None:
        def on_websocket(ws: WebSocket) -> None:
            self.entries.append(RequestEntry("websocket", "WS", ws.url))

        page.on("websocket", on_websocket)

    @property
    def urls(self) -> list[str]:
        return [entry.url for entry in self.entries]

    def foreign(self, origin: str) -> list[RequestEntry]:
        """The entries that went to another origin than `origin` (any URL on the server)."""
        allowed = origin_of(origin)
        return [
            entry
            for entry in self.entries
            if (seen := origin_of(entry.url)) is not None and seen != allowed
        ]

    def assert_only(self, origin: str) -> None:
        """Fail, listing them, if any request or WebSocket went elsewhere than `origin`."""
        foreign = self.foreign(origin)
        if foreign:
            listed = "\n".join(f"  {entry}" for entry in foreign)
            raise AssertionError(
                f"{self.label}: {len(foreign)} request(s) to origins other than "
                f"{origin_of(origin)}:\n{listed}"
            )

    def tail(self, count: int = 40) -> str:
        shown = self.entries[-count:]
        head = f"{self.label}: {len(self.entries)} request(s)"
        if len(shown) < len(self.entries):
            head += f", the last {len(shown)}"
        return "\n".join([head + ":", *(f"  {entry}" for entry in shown)])


# Console errors and page errors.

CSP_VIOLATION = "CSP violation:"
# Chromium logs most violations to the console itself, but not in one wording, and some (a
# blocked WebAssembly compile) only as the exception the page then sees. The page's own
# `securitypolicyviolation` event names every one alike. Init scripts run outside the policy.
CSP_WATCH = f"""
document.addEventListener("securitypolicyviolation", (e) => {{
  console.error(`{CSP_VIOLATION} ${{e.effectiveDirective}} refused ${{e.blockedURI || "inline code"}}`
    + ` (${{e.sourceFile || "?"}}:${{e.lineNumber}}; policy: ${{e.originalPolicy}})`);
}});
"""


@dataclass(frozen=True)
class PageError:
    kind: str  # "console.error" or "pageerror"
    page: str  # the page's URL when it happened
    text: str
    where: str = ""
    source: Page | None = field(default=None, repr=False, compare=False)

    def __str__(self) -> str:
        where = f" ({self.where})" if self.where else ""
        return f"[{self.kind}] {self.page}{where}: {self.text}"


@dataclass
class ErrorLog:
    """Every console message of type error and every uncaught error of a context's pages."""

    label: str = "context"
    entries: list[PageError] = field(default_factory=list)

    def attach(self, context: BrowserContext) -> ErrorLog:
        context.on("console", self._on_console)
        context.on("weberror", self._on_weberror)
        return self

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        loc = message.location
        where = f"{loc['url']}:{loc['lineNumber']}" if loc.get("url") else ""
        page = message.page
        self.entries.append(PageError("console.error", _page_url(page), message.text, where, page))

    def _on_weberror(self, error: WebError) -> None:
        exc = error.error
        text = exc.stack or f"{exc.name}: {exc.message}"
        self.entries.append(PageError("pageerror", _page_url(error.page), text, "", error.page))

    def for_page(self, page: Page) -> list[PageError]:
        return [entry for entry in self.entries if entry.source is page]

    def csp_violations(self) -> list[PageError]:
        """What a page's Content-Security-Policy refused (see `CSP_WATCH`)."""
        return [entry for entry in self.entries if entry.text.startswith(CSP_VIOLATION)]

    @property
    def texts(self) -> list[str]:
        return [entry.text for entry in self.entries]

    def report(self) -> str:
        if not self.entries:
            return f"{self.label}: no console errors or page errors"
        lines = [f"{self.label}: {len(self.entries)} console error(s) / page error(s):"]
        lines += [f"  {entry}" for entry in self.entries]
        return "\n".join(lines)


def _page_url(page: Page | None) -> str:
    if page is None:
        return "?"
    try:
        return page.url
    except PlaywrightError:
        return "?"


# A context with its logs.


@dataclass
class TrackedContext:
    """A browser context (its own cookies and localStorage: one player) with its request and
    error logs attached."""

    context: BrowserContext
    requests: RequestLog
    errors: ErrorLog
    label: str

    @classmethod
    def open(cls, browser: Browser, label: str, **options: Any) -> TrackedContext:
        """`browser.new_context(**options)` with both logs attached before any page exists."""
        context = browser.new_context(**options)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        context.add_init_script(CSP_WATCH)
        return cls(
            context, RequestLog(label).attach(context), ErrorLog(label).attach(context), label
        )

    def new_page(self) -> Page:
        return self.context.new_page()

    @property
    def pages(self) -> list[Page]:
        return self.context.pages

    def report(self, request_count: int = 40) -> str:
        return f"{self.errors.report()}\n{self.requests.tail(request_count)}"

    def close(self) -> None:
        """Close the context, never raising (the browser may already be gone)."""
        with contextlib.suppress(PlaywrightError):
            self.context.close()


# Artifacts.

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class ContextFactory(Protocol):
    """The `context_factory` fixture (e2e/browser/conftest.py)."""

    def __call__(
        self, label: str | None = None, *, only_origin: str | None = None, **options: Any
    ) -> TrackedContext: ...


def sanitize(name: str) -> str:
    return _UNSAFE.sub("_", name).strip("._")[:150] or "test"


def artifact_dir(request: pytest.FixtureRequest) -> Path:
    """`.reports/e2e-artifacts/<module>.<test name>/` at the repository root, created."""
    return artifact_dir_for(request.node)


def artifact_dir_for(node: pytest.Item) -> Path:
    module = Path(str(node.fspath)).stem
    path = ARTIFACTS / sanitize(f"{module}.{node.name}")
    path.mkdir(parents=True, exist_ok=True)
    return path


def screenshot(page: Page, request: pytest.FixtureRequest, name: str) -> Path:
    """Save a full-page `<name>.png` into the test's artifact directory; return its path."""
    path = artifact_dir(request) / f"{sanitize(name)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
