"""Fixtures of the browser tests: Playwright's sync API driving Debian's Chromium.

- `browser`: one headless Chromium for the package (see `support.browser.launch`). A missing
  Chromium fails the tests; they never skip.
- `context_factory(label=None, *, only_origin=None, **new_context_options)`: a new
  `TrackedContext` (one player: its own cookies and localStorage) with a `RequestLog` and an
  `ErrorLog` attached. With `only_origin`, its teardown also asserts that no request left it. All
  are closed at teardown, which fails if any page broke its Content-Security-Policy.
- `context` / `pw_page`: one tracked context and a page in it.
- `cluster`: three nodes on a fresh PostgreSQL behind HAProxy (`e2e.support.cluster.pg_cluster`),
  whose logs (the proxy's too) a failing test's report carries.
- `server` is overridden here to run on SQLite alone (the parent conftest's `sqlite_url`). A test
  that should also run on PostgreSQL asks for `spawn` and `db_url` (the parent conftest's) itself.

Every test here gets the `browser` marker (`pytest e2e -m "not browser"`). A failing test's report
carries each context's console errors, page errors and request log tail, and a screenshot of each
open page is saved under `.reports/e2e-artifacts/<test>/`.

Playwright and Chromium live only as long as this package's tests (package scope): between its
sync calls Playwright leaves its asyncio loop marked as running in this thread, which would break
pytest-asyncio tests run after it in the same session.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from e2e.conftest import SERVERS
from e2e.support.browser import ContextFactory, TrackedContext, artifact_dir_for, sanitize
from e2e.support.chromium import launch
from e2e.support.cluster import Cluster, pg_cluster
from e2e.support.spawn import Spawn
from rejoin_testkit.api import Api
from rejoin_testkit.processes import ServerProcess

HERE = Path(__file__).parent
CONTEXTS = pytest.StashKey[list[TrackedContext]]()
FAILURE_SCREENSHOT_TIMEOUT_MS = 5_000


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: drives Chromium through Playwright (every test under e2e/browser)"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    contexts = item.stash.get(CONTEXTS, [])
    if report.failed and report.when in ("setup", "call") and contexts:
        shots = _failure_screenshots(item, contexts)
        for tracked in contexts:
            report.sections.append((f"browser {tracked.label}", tracked.report()))
        if shots:
            report.sections.append(("browser screenshots", "\n".join(shots)))
    return report


def _failure_screenshots(item: pytest.Item, contexts: list[TrackedContext]) -> list[str]:
    saved: list[str] = []
    for tracked in contexts:
        for number, page in enumerate(tracked.pages, 1):
            path = artifact_dir_for(item) / f"failure-{sanitize(tracked.label)}-{number}.png"
            try:
                page.screenshot(
                    path=str(path), full_page=True, timeout=FAILURE_SCREENSHOT_TIMEOUT_MS
                )
            except PlaywrightError as exc:
                saved.append(f"{tracked.label} page {number}: no screenshot ({exc.message})")
            else:
                saved.append(str(path))
    return saved


@pytest.fixture(autouse=True)
def fresh_artifacts(request: pytest.FixtureRequest) -> None:
    """A test's artifact folder holds only its latest run's screenshots."""
    shutil.rmtree(artifact_dir_for(request.node), ignore_errors=True)


@pytest.fixture(scope="package")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="package")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    chromium = launch(playwright_instance)
    try:
        yield chromium
    finally:
        with contextlib.suppress(PlaywrightError):
            chromium.close()


@pytest.fixture
def context_factory(request: pytest.FixtureRequest, browser: Browser) -> Iterator[ContextFactory]:
    made: list[TrackedContext] = []
    request.node.stash[CONTEXTS] = made
    origins: dict[int, str] = {}

    def make(
        label: str | None = None, *, only_origin: str | None = None, **options: Any
    ) -> TrackedContext:
        tracked = TrackedContext.open(browser, label or f"context-{len(made) + 1}", **options)
        made.append(tracked)
        if only_origin is not None:
            origins[id(tracked)] = only_origin
        return tracked

    yield make
    for tracked in made:
        tracked.close()
    for tracked in made:
        if id(tracked) in origins:
            tracked.requests.assert_only(origins[id(tracked)])
    # The pages' Content-Security-Policy must never have to refuse anything they do.
    violations = [f"{t.label}: {v}" for t in made for v in t.errors.csp_violations()]
    assert not violations, "the page broke its Content-Security-Policy:\n" + "\n".join(violations)


@pytest.fixture
def context(context_factory: ContextFactory) -> TrackedContext:
    return context_factory("context")


@pytest.fixture
def pw_page(context: TrackedContext) -> Page:
    return context.new_page()


@pytest.fixture
def server(spawn: Spawn, sqlite_url: str) -> ServerProcess:
    """One ready server on SQLite (the browser tests do not run every case on both databases)."""
    return spawn(sqlite_url)


@pytest.fixture
def db_server(db_url: str, spawn: Spawn) -> ServerProcess:
    """A server on SQLite, then on PostgreSQL (the parent conftest's `db_url`)."""
    return spawn(db_url)


@pytest.fixture
def db_api(db_server: ServerProcess, make_api: Callable[[ServerProcess], Api]) -> Api:
    return make_api(db_server)


@pytest.fixture
def cluster(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cluster]:
    """Three nodes on one fresh PostgreSQL behind HAProxy; a failing test's report carries the
    tail of each node's log and the proxy's."""
    with pg_cluster(tmp_path) as running:
        request.node.stash[SERVERS] = [*running.nodes.values(), running.proxy]
        yield running
