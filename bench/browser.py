"""The browser benchmarks: the demo table page (`/play/{gameId}`) in headless Chromium, driven by
Playwright, against real `python -m rejoin_server` processes on SQLite.

- **Pyodide boot**: a fresh browser context (no cache, no seat) opens the table page; the page's
  own figures (`window.rejoinBoot`, ms from boot.mjs's start) give the time to Pyodide booted
  (`pyodideMs`) and to the page usable, its Python controller started (`readyMs`). The first
  context of a browser is the cold one (the wasm compiled for the first time in that Chromium);
  it is reported apart from the others. Peer, in the same run: a page that only loads Pyodide
  (`/static/lobby.html`, then the manifest, `import("/pyodide/<version>/pyodide.mjs")` and
  `loadPyodide`, as boot.mjs does), timed in the page, in a second Chromium, one context each,
  alternating with ours. Ratio: what our SDK wheels and controller add on top of Pyodide.
- **page load** (bench/browser_load.py): a first visit's bytes, a reload's (Pyodide's part: none)
  and the reloaded page's time to ready, against the same page uncompressed and uncached.
- **kill -9 → pages resumed**: 10 players, each a browser context on its own table page (2 tables
  of 5: a table seats at most 9), joined through the page's form, a hand under way on both
  tables, every page connected for 6 s (its backoff count reset). The server is SIGKILLed and, once
  reaped, restarted at once on the same port and SQLite file. Each page records, with a
  MutationObserver, the wall-clock time (epoch ms, `performance.timeOrigin + performance.now()`)
  at which `#status` first reads `connected` after `reconnecting`; that minus the wall-clock time
  of the restart call (the new process spawned) is its resume time. A page not connected within
  30 s is counted, named with its uncaught page errors, left out of the figures and reopened.
  Floor: the server alone, restart → `GET /healthz` answers 200 (polled every 20 ms).

  Each page also records its dials (the "retry N" tooltip of every BACKING_OFF → CONNECTING), so
  a resume splits into restart → the dial that was welcomed (the page's backoff) and that dial →
  connected (the listen queue, the server's restore and welcome, the page's own work). What a
  page's WebSocket sees across a restart (measured with a bare dial loop): until the new process
  binds the port (~200 ms after the spawn here, over 800 ms on a loaded machine), each dial is
  refused within 2-7 ms (close 1006, never opened); a dial after the bind waits in the listen queue
  and opens when the server serves. So any dial queued before the server serves costs nothing,
  and what the backoff adds is how late the first dial after the bind comes.

**"Target crashed".** A renderer may die while the pages are seated or between kills: seen once in
some fifteen seatings here, on a machine that other benchmarks kept at a load average of 15-25, two
connected, idle pages 5 s apart, after every page had joined. It is not memory: 10 contexts run ~21
renderer processes (Chromium gives each context two), together 1.6-1.7 GiB (PSS; their RSS sum, ~4
GiB, counts the zygote's shared pages in each), the largest 174 MiB, with 20 GiB still available
when it happened. (Chromium marks every renderer oom_score_adj 300: on a machine that does run out
they are the kernel's first victims.) Why it died is not known yet: a renderer says so on its
stderr only (V8's "javascript OOM", a FATAL check), never in Chromium's log file, and Playwright
passes that on only with DEBUG=pw:browser. So the suite now captures it (`chromium_stderr`),
samples the renderers' memory (`bench.renderers`), and reopens a page whose renderer crashed in its
own context (its seat is in that context's localStorage, so it resumes it; one that crashed before
joining joins); the crash, the memory then and Chromium's last words are printed and go into the
notes. A page that crashed during a kill is left out of that kill's figures.

`python bench/run.py --only browser [--quick]` runs this part alone. Chromium is Debian's
(`/usr/bin/chromium`, or REJOIN_CHROMIUM); never `playwright install`.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import httpx
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    WebError,
    sync_playwright,
)
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from rich.console import Console
from rich.markup import escape

from bench import browser_load
from bench.browser_sse import NativeStreams, NativeTally
from bench.goals import Goal
from bench.renderers import RendererPeak, RendererWatch, available_mib, renderers_now
from bench.report import Target
from bench.server_procs import served
from bench.server_suite import ServerRow, print_row, render_rows
from bench.stats import Summary, fmt_ms
from e2e.support.chromium import launch
from e2e.support.table_page import SEAT_KEY, saved_seat, wait_connected
from rejoin_server.settings import ServerSettings
from rejoin_testkit.processes import ServerProcess

T = TypeVar("T")

SQLITE = "SQLite"
NO_DB = "—"
BOOT_TIMEOUT_S = 120.0  # one Pyodide boot; ten at once on 2 cores take far longer than one
RESUME_TIMEOUT_S = 30.0
# No action clock fires and no hand is dealt by itself while the pages are measured.
TABLE_SETTINGS: dict[str, Any] = {"autoNextHand": False, "actionTimeoutMs": 600_000}

_BOOT_DONE = """() => {
    const b = window.rejoinBoot;
    return b !== undefined && (b.readyMs !== null || b.error !== null);
}"""

_BARE_PYODIDE = """async () => {
    const began = performance.now();
    const manifest = await (await fetch("/sdk/manifest.json", { cache: "no-cache" })).json();
    const root = `/pyodide/${manifest.pyodide.version}/`;
    const { loadPyodide } = await import(`${root}pyodide.mjs`);
    const stdlib = manifest.pyodide.stdlib; // absent from a bundle of the older layout
    await loadPyodide({ indexURL: root, stdLibURL: stdlib ? `${root}${stdlib}` : undefined });
    return performance.now() - began;
}"""

# Records when #status first reads connected again after it read reconnecting (epoch ms), and
# each dial on the way: the session's "retry N" reason, the tooltip of every BACKING_OFF →
# CONNECTING (epoch ms of each).
_WATCH_RESUME = """() => {
    const status = document.querySelector('#status');
    if (window.__benchObserver) window.__benchObserver.disconnect();
    window.__benchDropped = false;
    window.__benchResumedAt = null;
    window.__benchDials = [];
    let title = status.title;
    window.__benchObserver = new MutationObserver(() => {
        const now = performance.timeOrigin + performance.now();
        if (status.dataset.status === 'reconnecting') window.__benchDropped = true;
        if (window.__benchDropped && status.title !== title && status.title.startsWith('retry')
                && window.__benchResumedAt === null) {
            window.__benchDials.push(now);
        }
        title = status.title;
        if (window.__benchDropped && status.dataset.status === 'connected'
                && window.__benchResumedAt === null) {
            window.__benchResumedAt = now;
        }
    });
    window.__benchObserver.observe(status, { attributes: true });
}"""

_STATUS_TEXT = """() => {
    const s = document.querySelector('#status');
    return s === null ? 'no #status' : `${s.dataset.status} (${s.textContent})`;
}"""

_PAGE_CLOCK = "() => performance.timeOrigin + performance.now()"


@dataclass(frozen=True, slots=True)
class BrowserPlan:
    boot_contexts: int  # fresh contexts per series (ours, bare Pyodide); the first is cold
    kills: int
    load_runs: int  # fresh contexts per series of the page-load benchmark (ours, uncompressed)
    tables: int = 2
    seats: int = 5  # per table: tables x seats browser pages
    # Each page stays connected this long before a kill: the SDK resets its backoff count only
    # after a connection has lasted 5 s (SessionConfig.stable_after).
    settle_s: float = 6.0


QUICK_BROWSER = BrowserPlan(boot_contexts=5, kills=2, load_runs=3)
FULL_BROWSER = BrowserPlan(boot_contexts=10, kills=5, load_runs=7)


@dataclass(slots=True)
class BrowserResults:
    rows: list[ServerRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)
    loads: browser_load.LoadResults | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """One kill: per page the seconds from the restart call to connected (None: never), to its
    last dial (the one that was welcomed) and how many dials it made, what each page showed, and
    the server's restart → /healthz."""

    resumed: list[float | None]
    last_dial: list[float | None]
    dials: list[int]
    seen: list[str]
    healthy_s: float
    restarted_ms: float  # epoch ms of the restart call
    ready_ms: float  # epoch ms of the restarted server's first healthy answer (restart returned)


@dataclass(slots=True)
class SeatPage:
    """One player: a browser context (its localStorage holds the seat) and its table page, which
    is replaced if its renderer crashes."""

    name: str
    game_id: str
    context: BrowserContext
    page: Page
    crashed: bool = False  # its renderer crashed, and the page has not been reopened yet

    @property
    def key(self) -> str:
        return SEAT_KEY.format(self.game_id)


@dataclass(frozen=True, slots=True)
class Boot:
    started_ms: float  # boot.mjs began, from navigation start
    pyodide_ms: float
    sdk_ms: float
    ready_ms: float


def create_game(http: httpx.Client, seats: int) -> str:
    reply = http.post("/api/games", json={"seats": seats, **TABLE_SETTINGS})
    if reply.status_code != 201:
        raise RuntimeError(f"POST /api/games: {reply.status_code} {reply.text}")
    game_id: str = reply.json()["gameId"]
    return game_id


def _ms(values: list[float]) -> list[float]:
    """Milliseconds to the seconds `Summary.of` takes."""
    return [v / 1e3 for v in values]


class BrowserSuite:
    def __init__(self, plan: BrowserPlan, folder: Path, console: Console) -> None:
        self.plan = plan
        self.folder = folder
        self.console = console
        self.results = BrowserResults()
        self.page_errors: list[str] = []
        self.crashes: list[str] = []
        self.watch: RendererWatch | None = None
        self.stderr_log = folder / "chromium-stderr.log"

    def run(self, *, resume_only: bool = False) -> BrowserResults:
        with chromium_stderr(self.stderr_log) as playwright:
            if not resume_only:
                self.load(playwright)
                self.boot(playwright)
            self.resume(playwright)
        return self.results

    # --- 0. page load: bytes, and a reload's time to ready ---------------------------------------

    def load(self, playwright: Playwright) -> None:
        loads = browser_load.measure(playwright, self.folder, self.console, self.plan.load_runs)
        for row in loads.rows:
            self.row(row)
        self.results.notes += loads.notes
        self.results.goals += loads.goals
        self.results.loads = loads

    # --- 1. Pyodide boot ----------------------------------------------------------------------

    def boot(self, playwright: Playwright) -> None:
        plan = self.plan
        ours: list[Boot] = []
        bare: list[float] = []
        with served(self.folder, "browser-boot") as server:
            with httpx.Client(base_url=server.url, timeout=30.0) as http:
                game_id = create_game(http, 6)
            mine, peer = launch(playwright), launch(playwright)
            try:
                for _ in range(plan.boot_contexts):
                    ours.append(self._boot_table(mine, server.url, game_id))
                    bare.append(self._boot_bare(peer, server.url))
                    self.console.print(
                        f"  boot #{len(ours)}: table page ready {fmt_ms(ours[-1].ready_ms)} "
                        f"(Pyodide {fmt_ms(ours[-1].pyodide_ms)}); bare Pyodide "
                        f"{fmt_ms(bare[-1])}",
                        highlight=False,
                    )
            finally:
                mine.close()
                peer.close()
        warm, warm_bare = ours[1:], bare[1:]
        self.row(
            ServerRow(
                "browser: fresh context → table page ready (cold: first context)",
                NO_DB,
                Summary.of(_ms([ours[0].ready_ms])),
                "bare Pyodide boot, cold",
                Summary.of(_ms([bare[0]])),
            )
        )
        ready = Summary.of(_ms([b.ready_ms for b in warm]))
        self.row(
            ServerRow(
                "browser: fresh context → table page ready (warm)",
                NO_DB,
                ready,
                "bare Pyodide boot, warm",
                Summary.of(_ms(warm_bare)),
            )
        )
        self.row(
            ServerRow(
                "  its Pyodide part (pyodideMs, warm)",
                NO_DB,
                Summary.of(_ms([b.pyodide_ms for b in warm])),
                "bare Pyodide boot, warm",
                Summary.of(_ms(warm_bare)),
            )
        )
        sdk = statistics.median(b.sdk_ms - b.pyodide_ms for b in warm)
        start = statistics.median(b.ready_ms - b.sdk_ms for b in warm)
        began = statistics.median(b.started_ms for b in warm)
        self.note(
            f"Boot ({plan.boot_contexts} fresh contexts per series, one at a time, ours and the "
            f"bare page alternating, each series in its own Chromium): of the table page's warm "
            f"ready time (median {fmt_ms(ready.median_ms)}), the SDK wheels (fetch + unpack) take "
            f"{fmt_ms(sdk)} and importing and starting the Python controller {fmt_ms(start)}; "
            f"boot.mjs itself starts {fmt_ms(began)} after navigation (not counted in either "
            f"figure). Cold (first context of a fresh Chromium): ours "
            f"{fmt_ms(ours[0].ready_ms)}, bare Pyodide {fmt_ms(bare[0])}. Every context starts "
            "with an empty HTTP cache, so each one fetches Pyodide from the server again (compressed: "
            "see the page-load figures)."
        )

    def _boot_table(self, browser: Browser, base: str, game_id: str) -> Boot:
        context = browser.new_context()
        try:
            page = context.new_page()
            page.goto(f"{base}/play/{game_id}")
            page.wait_for_function(_BOOT_DONE, timeout=BOOT_TIMEOUT_S * 1000, polling=20)
            figures: dict[str, Any] = page.evaluate("() => window.rejoinBoot")
            if figures.get("error"):
                raise RuntimeError(f"the table page failed to boot: {figures['error']}")
            return Boot(
                float(figures["started"]),
                float(figures["pyodideMs"]),
                float(figures["sdkMs"]),
                float(figures["readyMs"]),
            )
        finally:
            context.close()

    def _boot_bare(self, browser: Browser, base: str) -> float:
        context = browser.new_context()
        try:
            page = context.new_page()
            page.goto(f"{base}/static/lobby.html")
            elapsed = page.evaluate(_BARE_PYODIDE)
            return float(elapsed)
        finally:
            context.close()

    # --- 2. kill -9 → every page resumed -------------------------------------------------------

    def resume(self, playwright: Playwright) -> None:
        plan = self.plan
        per_page: list[float] = []
        per_page_ready: list[float] = []  # the same from the server's first healthy answer
        slowest: list[float] = []
        healthy: list[float] = []
        offsets: list[float] = []
        waited: list[float] = []  # restart → the dial that was welcomed
        answered: list[float] = []  # that dial → connected
        dials: list[int] = []
        stuck: list[str] = []
        native = NativeTally(plan.tables * plan.seats)
        with served(self.folder, "browser-resume") as server, RendererWatch() as watch:
            browser = launch(playwright)
            self.watch = watch
            try:
                seats, joined_s = self._seat_pages(browser, server)
                streams = NativeStreams.open(browser, server, plan.tables, plan.seats)
                self.console.print(
                    f"  {len(seats)} pages booted and joined in {joined_s:.1f} s, "
                    f"{len(streams.streams)} native EventSource streams open; "
                    f"{watch.peak.describe()}",
                    highlight=False,
                )
                for kill in range(plan.kills):
                    time.sleep(plan.settle_s)
                    self._reopen_crashed(seats, server.url)
                    offset = self._clock_offsets(seats, server.url)
                    offsets.extend(offset)
                    streams.mark()
                    outcome = self._kill_and_resume(server, seats, offset)
                    back = streams.reopened(
                        outcome.restarted_ms, outcome.ready_ms, RESUME_TIMEOUT_S
                    )
                    line = native.add(kill + 1, back, streams.check_every_event_once())
                    resumed = [r for r in outcome.resumed if r is not None]
                    lost = [i for i, r in enumerate(outcome.resumed) if r is None]
                    per_page.extend(resumed)
                    ready_s = (outcome.ready_ms - outcome.restarted_ms) / 1000
                    per_page_ready.extend(r - ready_s for r in resumed)
                    for r, d in zip(outcome.resumed, outcome.last_dial, strict=True):
                        if r is not None and d is not None:
                            waited.append(d)
                            answered.append(r - d)
                    dials.extend(
                        n
                        for r, n in zip(outcome.resumed, outcome.dials, strict=True)
                        if r is not None
                    )
                    if resumed:
                        slowest.append(max(resumed))
                    healthy.append(outcome.healthy_s)
                    stuck += [f"kill #{kill + 1}, page {i}: {outcome.seen[i]}" for i in lost]
                    self.console.print(
                        f"  kill #{kill + 1}: /healthz {fmt_ms(outcome.healthy_s * 1e3)} after "
                        "the restart; pages connected "
                        + (
                            f"median {fmt_ms(statistics.median(resumed) * 1e3)}, max "
                            f"{fmt_ms(max(resumed) * 1e3)} "
                            f"({', '.join(f'{r * 1e3:.0f}' for r in sorted(resumed))} ms); "
                            f"dials per page {min(outcome.dials)}-{max(outcome.dials)}"
                            if resumed
                            else "none"
                        )
                        + (
                            f"; {len(lost)} page(s) NOT connected within {RESUME_TIMEOUT_S:g} s "
                            f"(pages {lost}; reopened)"
                            if lost
                            else ""
                        ),
                        highlight=False,
                    )
                    self.console.print(line, highlight=False)
                    for i in lost:
                        self._reopen(seats[i], server.url, "not connected after a kill")
                streams.close()
            finally:
                browser.close()
            peak = watch.peak
        pages_n = plan.tables * plan.seats
        floor = Summary.of(healthy)
        never = f"; {len(stuck)} never resumed" if stuck else ""
        if per_page:
            each = Summary.of(per_page)
            self.row(
                ServerRow(
                    f"browser kill -9 → restart → page connected, per page ({pages_n} pages"
                    f"{never})",
                    SQLITE,
                    each,
                    "server alone: restart → /healthz 200",
                    floor,
                    Target("≤ 1 s (2 s required)", each.p99_ms <= 1000 and not stuck),
                )
            )
            self.results.goals.append(
                Goal(
                    f"browser: kill -9 → {pages_n} pages connected, per page p99{never}",
                    SQLITE,
                    fmt_ms(each.p99_ms),
                    "≤ 1.0 s",
                    each.p99_ms <= 1000 and not stuck,
                    f"server alone, restart → /healthz: p99 {fmt_ms(floor.p99_ms)}",
                    each.p99_ms / floor.p99_ms if floor.p99_ms > 0 else None,
                )
            )
            pages_ready = Summary.of(per_page_ready)
            for row in native.rows_beside(each, pages_ready, pages_n):
                self.row(row)
            native_goal = native.goal(pages_ready)
            if native_goal is not None:
                self.results.goals.append(native_goal)
            self.note(native.note(ServerSettings().sse_retry_ms))
        if slowest:
            self.row(
                ServerRow(
                    f"  slowest of the {pages_n} pages, per kill{never}",
                    SQLITE,
                    Summary.of(slowest),
                    "server alone: restart → /healthz 200",
                    floor,
                    Target("≤ 1 s (2 s required)", max(slowest) <= 1.0 and not stuck),
                )
            )
        if waited:
            self.row(
                ServerRow(
                    "  of which: restart → the page's welcomed dial",
                    SQLITE,
                    Summary.of(waited),
                    "server alone: restart → /healthz 200",
                    floor,
                )
            )
            self.row(
                ServerRow(
                    "  of which: that dial → page connected",
                    SQLITE,
                    Summary.of(answered),
                    "server alone: restart → /healthz 200",
                    floor,
                )
            )
        self.note(
            f"Resume ({plan.kills} kills, {pages_n} browser contexts on {plan.tables} tables of "
            f"{plan.seats}, a hand under way on each, every page connected for "
            f"{plan.settle_s:g} s before each kill so that its backoff count has reset): timed "
            "from the restart call (right after the killed server was reaped; the new process "
            "spawned at once) to each page's #status reading 'connected' again after "
            "'reconnecting', recorded in the page. Page clock vs ours "
            "(performance.timeOrigin + now() against time.time(), read around one evaluate): "
            f"largest gap {max(abs(o) for o in offsets):.1f} ms, subtracted. The floor polls "
            "/healthz every 20 ms from this process. The server binds its port before it loads: "
            "a dial before the bind is refused within a few ms (1006, never opened), a dial "
            "after it waits in the listen queue and opens when the server serves. The pages "
            "dial on the SDK's schedule (docs/protocol.md): the first retry within 100 ms, then, "
            "for a dial refused right after the drop, up to 10 quick retries 50-150 ms apart, "
            "then the full-jitter ladder. Each page's dials are the 'retry N' tooltips of its "
            "#status"
            + (
                f" (median {statistics.median(dials):g}, max {max(dials)} per page per kill); "
                "'restart → the page's welcomed dial' is the backoff part of its time, "
                "'that dial → connected' the server's (queue, restore, welcome) and the page's."
                if dials
                else "."
            )
        )
        self.note(
            f"Renderers while the {pages_n} pages ran: {peak.describe()}. Chromium gives each "
            "browser context two renderer processes and marks every renderer the kernel's "
            "first OOM victim (oom_score_adj 300). " + self._crash_note()
        )
        if stuck:
            errors = sorted({e for e in self.page_errors if e})
            self.note(
                f"{len(stuck)} page(s) never read 'connected' again within "
                f"{RESUME_TIMEOUT_S:g} s of the restart (left out of the figures above, "
                f"reopened before the next kill): {'; '.join(stuck)}. Page errors seen during "
                f"the kills: {' | '.join(errors) if errors else 'none'}."
            )

    def _crash_note(self) -> str:
        if not self.crashes:
            return "No renderer crashed."
        said = chromium_said(self.stderr_log)
        return (
            f"{len(self.crashes)} renderer crash(es) ('Target crashed'), each page reopened in "
            f"its own context (its seat is in that context's localStorage): "
            f"{'; '.join(self.crashes)}. Chromium's stderr (a renderer's last words, such as "
            "'V8 javascript OOM' or a FATAL check, land there), known noise left out: "
            # escape: its "[pid=…]" would read as console markup and vanish.
            + (escape(" | ".join(said)) if said else "nothing")
            + "."
        )

    def _reopen(self, seat: SeatPage, base: str, why: str) -> None:
        """A page that crashed or is stuck: a new page in its context, which resumes the seat
        saved there (or joins, if it crashed before it had one), connected."""
        with contextlib.suppress(PlaywrightError):
            seat.page.close()
        seat.page = seat.context.new_page()
        seat.crashed = False
        self._watch_crash(seat)
        seat.page.goto(f"{base}/play/{seat.game_id}")
        self._join(seat, seat.page)
        self.console.print(f"  {seat.name}: reopened ({why})", highlight=False)

    def _surviving(self, seat: SeatPage, base: str, step: Callable[[Page], T]) -> T:
        """`step(page)`, and once more on a reopened page if the renderer crashed meanwhile."""
        try:
            return step(seat.page)
        except PlaywrightError as exc:
            if not seat.crashed and "crash" not in exc.message.lower():
                raise
            self._reopen(seat, base, f"its renderer crashed: {exc.message.strip()}")
        return step(seat.page)

    def _reopen_crashed(self, seats: list[SeatPage], base: str) -> None:
        for seat in seats:
            if seat.crashed:
                self._reopen(seat, base, "its renderer crashed")

    def _watch_crash(self, seat: SeatPage) -> None:
        seat.page.on("crash", lambda _page: self._crashed(seat))

    def _crashed(self, seat: SeatPage) -> None:
        seat.crashed = True
        peak = self.watch.peak if self.watch is not None else RendererPeak()
        now = renderers_now()
        what = (
            f"{seat.name} at {time.strftime('%H:%M:%S')} ({len(now)} renderers left, "
            f"{sum(now):.0f} MiB together (PSS), MemAvailable {available_mib():.0f} MiB)"
        )
        self.crashes.append(what)
        self.console.print(
            f"  RENDERER CRASHED ('Target crashed'): {what}; peaks so far: {peak.describe()}",
            highlight=False,
        )

    def _join(self, seat: SeatPage, page: Page) -> None:
        """Join through the form, or, when its context holds the seat already, wait for the
        page to resume it."""
        if page.evaluate("(key) => localStorage.getItem(key) !== null", seat.key):
            wait_connected(page, BOOT_TIMEOUT_S)
            return
        form = page.locator("#join-form input[name=name]")
        form.wait_for(state="visible", timeout=BOOT_TIMEOUT_S * 1000)
        page.fill("#join-form input[name=name]", seat.name)
        page.click("#join-form button[type=submit]")
        wait_connected(page, BOOT_TIMEOUT_S)

    def _seat_pages(self, browser: Browser, server: ServerProcess) -> tuple[list[SeatPage], float]:
        """Every page open first (their boots overlap), then each joins in turn; a hand started
        at every table; every page connected at the server's seq. A page whose renderer crashes
        meanwhile is reopened once in its context (and the crash reported)."""
        plan = self.plan
        began = time.monotonic()
        with httpx.Client(base_url=server.url, timeout=30.0) as http:
            games = [create_game(http, plan.seats) for _ in range(plan.tables)]
            seats: list[SeatPage] = []
            for game_id in games:
                for _ in range(plan.seats):
                    context = browser.new_context()
                    context.on("weberror", self._page_error)
                    page = context.new_page()
                    seat = SeatPage(f"player {len(seats)}", game_id, context, page)
                    self._watch_crash(seat)
                    page.goto(f"{server.url}/play/{game_id}")
                    seats.append(seat)
            for seat in seats:
                # A page reopened here joins, or resumes what its context saved, in _reopen.
                self._surviving(seat, server.url, partial(self._join, seat))
            for game_id in games:
                first = next(s for s in seats if s.game_id == game_id)
                saved = self._surviving(first, server.url, partial(saved_seat, game_id=game_id))
                auth = {"authorization": f"Bearer {saved['sessionToken']}"}
                reply = http.post(f"/api/game/{game_id}/start", headers=auth)
                if reply.status_code != 200:
                    raise RuntimeError(f"start a hand: {reply.status_code} {reply.text}")
                state = http.get(f"/api/game/{game_id}/state", headers=auth)
                seq = int(state.json()["gameState"]["seq"])
                for seat in seats:
                    if seat.game_id == game_id:
                        self._surviving(
                            seat,
                            server.url,
                            partial(wait_connected, timeout_s=30.0, seq=seq),
                        )
        return seats, time.monotonic() - began

    def _page_error(self, error: WebError) -> None:
        lines = [line for line in str(error.error).splitlines() if line.strip()]
        self.page_errors.append(lines[-1] if lines else "?")

    def _clock_offsets(self, seats: list[SeatPage], base: str) -> list[float]:
        """Per page, its epoch clock minus ours (ms), read around one evaluate: the MutationObserver
        times are corrected by it. Also (re)installs the resume watch."""

        def offset(page: Page) -> float:
            page.evaluate(_WATCH_RESUME)
            before = time.time() * 1000
            theirs = float(page.evaluate(_PAGE_CLOCK))
            after = time.time() * 1000
            return theirs - (before + after) / 2

        return [self._surviving(seat, base, offset) for seat in seats]

    def _kill_and_resume(
        self, server: ServerProcess, seats: list[SeatPage], offsets: list[float]
    ) -> Outcome:
        """kill -9 and restart at once; per page the seconds from the restart call to connected
        (None: not within `RESUME_TIMEOUT_S`, or its renderer crashed), and the server's own
        restart → /healthz."""
        self.page_errors.clear()
        server.kill9()
        restarted_ms = time.time() * 1000
        healthy_s = server.restart()
        ready_ms = time.time() * 1000
        deadline = time.monotonic() + RESUME_TIMEOUT_S
        resumed: list[float | None] = []
        last_dial: list[float | None] = []
        dials: list[int] = []
        seen: list[str] = []
        for seat, offset in zip(seats, offsets, strict=True):
            page = seat.page
            try:
                page.wait_for_function(
                    "() => window.__benchResumedAt !== null",
                    timeout=max(1.0, deadline - time.monotonic()) * 1000,
                    polling=50,
                )
                figures = page.evaluate("() => [window.__benchResumedAt, window.__benchDials]")
            except PlaywrightTimeout:
                resumed.append(None)
                last_dial.append(None)
                dials.append(0)
                seen.append(str(page.evaluate(_STATUS_TEXT)))
                continue
            except PlaywrightError as exc:  # its renderer crashed
                resumed.append(None)
                last_dial.append(None)
                dials.append(0)
                seen.append(f"page gone: {exc.message}")
                continue
            at, dialled = float(figures[0]) - offset, [float(d) - offset for d in figures[1]]
            resumed.append((at - restarted_ms) / 1000)
            last_dial.append((dialled[-1] - restarted_ms) / 1000 if dialled else None)
            dials.append(len(dialled))
            seen.append("connected")
        return Outcome(resumed, last_dial, dials, seen, healthy_s, restarted_ms, ready_ms)

    # --- printing -----------------------------------------------------------------------------

    def note(self, text: str) -> None:
        self.results.notes.append(text)

    def row(self, row: ServerRow) -> None:
        self.results.rows.append(row)
        print_row(self.console, row)


# Chromium's stderr lines that say nothing about a crash: no D-Bus, no cpufreq in a VM, the Debian
# wrapper's `[` on two /dev/shm mounts, and Playwright's own launch and close lines.
_STDERR_NOISE = (
    "dbus",
    "cpufreq",
    "unexpected operator",
    "idle_linux",
    "<launch",
    "<gracefully close",
    "<process did exit",
    "temporary directories",
)


@contextmanager
def chromium_stderr(path: Path) -> Iterator[Playwright]:
    """Playwright whose browsers write their stderr (and each renderer's) into `path`.

    A renderer that dies says why on stderr only (V8's OOM, a failed CHECK), never in a log file,
    and Playwright's driver passes it on only with DEBUG=pw:browser, to the stderr it was started
    with: so the driver is started with both, and the bench's own stderr is left alone."""
    with path.open("w") as log:
        saved_debug, saved_stderr = os.environ.get("DEBUG"), sys.stderr
        os.environ["DEBUG"] = "pw:browser"
        sys.stderr = log  # read once, when the driver starts
        try:
            manager = sync_playwright()
            playwright = manager.start()
        finally:
            sys.stderr = saved_stderr
            if saved_debug is None:
                del os.environ["DEBUG"]
            else:
                os.environ["DEBUG"] = saved_debug
        try:
            yield playwright
        finally:
            manager.__exit__(None, None, None)


def chromium_said(path: Path, last: int = 12) -> list[str]:
    """The last `last` lines of Chromium's stderr that are not known noise."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return []
    kept = [line.strip() for line in lines if line.strip()]
    kept = [line for line in kept if not any(noise in line for noise in _STDERR_NOISE)]
    return kept[-last:]


def run(console: Console, *, quick: bool, resume_only: bool = False) -> BrowserResults:
    """Every browser benchmark, or (`resume_only`) the kill -9 resume alone: the table pages and
    the native EventSource streams."""
    plan = QUICK_BROWSER if quick else FULL_BROWSER
    with tempfile.TemporaryDirectory(prefix="rejoin_bench_browser_") as folder:
        return BrowserSuite(plan, Path(folder), console).run(resume_only=resume_only)


def render(results: BrowserResults, console: Console) -> None:
    render_rows(
        console,
        "rejoin browser benchmarks (headless Chromium + Pyodide, real server processes on "
        "SQLite; peers: bare Pyodide boot, the server's own restart → /healthz)",
        results.rows,
        "Browser notes:",
        results.notes,
        "p99 is nearest-rank: with fewer than 100 samples it is the maximum. Ratios are ours / "
        "the compared figure (below 1x: ours takes less time).",
    )
    if results.loads is not None:
        browser_load.render(results.loads, console)
