"""Chromium's own `EventSource` (no SDK, no Pyodide) on players' event streams, killed and brought
back by the same kill -9 and restart as the table pages of the browser resume benchmark
(bench/browser.py), so the two resumes are measured side by side, in the same run.

`NativeStreams.open(browser, server, tables, seats)` seats `tables x seats` players of their own
(tables of their own, a hand under way on each) through the API, and opens one EventSource per
player, each in its own browser context (Chromium allows 6 connections to one host per context),
on `GET /api/game/{id}/events?after=0&session=…` from a page of the server's origin. Each page
records, in its own clock (epoch ms), every open of its stream and the id of every event heard.

Around each kill: `mark()` before it (each stream's opens so far, and the page clock's offset from
ours); `reopened(restarted_ms, healthy_ms, timeout_s)` after the restart, per stream the seconds
from the restart call, and from the server's first healthy answer, to the stream open again (None:
not within `timeout_s`); `check_every_event_once()` then makes one move at each table and requires
every stream's ids to be 1..seq, each once, in order.
"""

from __future__ import annotations

import contextlib
import statistics
import time
from dataclasses import dataclass, field

from playwright.sync_api import Browser, BrowserContext, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from bench.goals import Goal
from bench.report import Target
from bench.server_suite import ServerRow
from bench.stats import Summary, fmt_ms
from e2e.support.eventsource import KINDS, LISTEN
from rejoin_testkit.api import Api
from rejoin_testkit.processes import ServerProcess
from rejoin_testkit.tables import Player, Table

SQLITE = "SQLite"
OPEN_TIMEOUT_S = 30.0
_PAGE_CLOCK = "() => performance.timeOrigin + performance.now()"
_LAST_ID = "() => window.__ids.length ? window.__ids[window.__ids.length - 1] : 0"


@dataclass(frozen=True, slots=True)
class Reopened:
    """One kill: per stream the seconds from the restart call, and from the server's first healthy
    answer, to its open again (None: not within the timeout)."""

    from_restart: list[float | None]
    from_healthy: list[float | None]


@dataclass(slots=True)
class Stream:
    player: Player
    table: Table
    context: BrowserContext
    page: Page
    opens_before: int = 0
    offset_ms: float = 0.0  # the page's epoch clock minus ours


@dataclass(slots=True)
class NativeStreams:
    api: Api
    tables: list[Table] = field(default_factory=list)
    streams: list[Stream] = field(default_factory=list)

    @classmethod
    def open(
        cls, browser: Browser, server: ServerProcess, tables: int, seats: int
    ) -> NativeStreams:
        made = cls(Api(server.url, server.admin_token))
        for _ in range(tables):
            table = Table.create(made.api, seats=seats, autoNextHand=False, actionTimeoutMs=600_000)
            table.join_many(seats)
            table.start()
            made.tables.append(table)
            for player in table.players:
                context = browser.new_context()
                page = context.new_page()
                page.goto(f"{server.url}/healthz")  # a page of the origin: the stream's
                url = f"/api/game/{table.game_id}/events?after=0&session={player.session}"
                page.evaluate(LISTEN, [url, KINDS])
                made.streams.append(Stream(player, table, context, page))
        for stream in made.streams:
            _wait_last_id(stream.page, stream.table.view()["seq"])
        return made

    def close(self) -> None:
        for stream in self.streams:
            stream.context.close()
        self.api.close()

    def mark(self) -> None:
        """Before a kill: each stream's opens so far, and its page clock's offset from ours."""
        for stream in self.streams:
            stream.opens_before = len(stream.page.evaluate("() => window.__opens"))
            before = time.time() * 1000
            theirs = float(stream.page.evaluate(_PAGE_CLOCK))
            stream.offset_ms = theirs - (before + time.time() * 1000) / 2

    def reopened(self, restarted_ms: float, healthy_ms: float, timeout_s: float) -> Reopened:
        deadline = time.monotonic() + timeout_s
        from_restart: list[float | None] = []
        from_healthy: list[float | None] = []
        for stream in self.streams:
            try:
                stream.page.wait_for_function(
                    "(n) => window.__opens.length > n",
                    arg=stream.opens_before,
                    timeout=max(1.0, deadline - time.monotonic()) * 1000,
                    polling=20,
                )
            except PlaywrightTimeout:
                from_restart.append(None)
                from_healthy.append(None)
                continue
            opens: list[float] = stream.page.evaluate("() => window.__opens")
            at = opens[stream.opens_before] - stream.offset_ms
            from_restart.append((at - restarted_ms) / 1000)
            from_healthy.append((at - healthy_ms) / 1000)
        return Reopened(from_restart, from_healthy)

    def check_every_event_once(self) -> list[str]:
        """One move at each table (a new hand where the last one ended), then every stream must
        have heard ids 1..seq, each once, in order. Returns what was wrong, per stream."""
        for table in self.tables:
            if table.to_act() is None:
                table.start()
            else:
                table.act_passively()
        wrong: list[str] = []
        for number, stream in enumerate(self.streams):
            seq = int(stream.table.view()["seq"])
            with contextlib.suppress(PlaywrightTimeout):  # told below, with what it heard
                _wait_last_id(stream.page, seq)
            ids: list[int] = stream.page.evaluate("() => window.__ids")
            if ids != list(range(1, seq + 1)):
                wrong.append(f"stream {number}: heard {_runs(ids)}, the log is 1-{seq}")
        return wrong


def _wait_last_id(page: Page, seq: int) -> None:
    page.wait_for_function(
        f"() => ({_LAST_ID})() >= {int(seq)}", timeout=OPEN_TIMEOUT_S * 1000, polling=20
    )


def _runs(ids: list[int]) -> str:
    """`1-12, 12-15`: the ids as runs of consecutive numbers (a gap or a repeat shows)."""
    if not ids:
        return "nothing"
    runs: list[str] = []
    start = prev = ids[0]
    for seq in ids[1:]:
        if seq != prev + 1:
            runs.append(f"{start}-{prev}" if start != prev else str(start))
            start = seq
        prev = seq
    runs.append(f"{start}-{prev}" if start != prev else str(start))
    return ", ".join(runs)


@dataclass(slots=True)
class NativeTally:
    """The native streams' figures over every kill of the run, and their rows beside the table
    pages' (`rows_beside`)."""

    count: int
    from_restart: list[float] = field(default_factory=list)
    from_healthy: list[float] = field(default_factory=list)
    never: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)
    kills: int = 0

    def add(self, kill: int, back: Reopened, wrong: list[str]) -> str:
        """One kill's figures; returns its line for the console."""
        self.kills += 1
        got = [r for r in back.from_restart if r is not None]
        self.from_restart += got
        self.from_healthy += [h for h in back.from_healthy if h is not None]
        lost = [i for i, r in enumerate(back.from_restart) if r is None]
        self.never += [f"kill #{kill}, stream {i}" for i in lost]
        self.wrong += [f"kill #{kill}, {w}" for w in wrong]
        line = f"  kill #{kill}: native EventSource streams open again " + (
            f"median {fmt_ms(statistics.median(got) * 1e3)}, max {fmt_ms(max(got) * 1e3)} "
            "after the restart call"
            if got
            else "none"
        )
        if lost:
            line += f"; {len(lost)} NOT open again within the timeout (streams {lost})"
        if wrong:
            line += f"; EVENTS WRONG: {'; '.join(wrong)}"
        return line

    @property
    def sound(self) -> bool:
        return not self.never and not self.wrong

    def rows_beside(self, pages: Summary, pages_ready: Summary, pages_n: int) -> list[ServerRow]:
        """The native streams' rows, against the table pages' connected again in the same kills:
        from the restart call (`pages`), and from the server's first healthy answer."""
        if not self.from_restart:
            return []
        against = f"the {pages_n} table pages (SDK, WebSocket): restart → connected"
        healthy = Summary.of(self.from_healthy)
        failed = f"; {len(self.never)} never open again" if self.never else ""
        failed += f"; {len(self.wrong)} with events wrong" if self.wrong else ""
        return [
            ServerRow(
                f"native EventSource kill -9 → restart → stream open again, per stream "
                f"({self.count} streams{failed})",
                SQLITE,
                Summary.of(self.from_restart),
                against,
                pages,
            ),
            ServerRow(
                "  the same, from the restarted server's first healthy answer",
                SQLITE,
                healthy,
                f"the {pages_n} table pages: healthy → connected",
                pages_ready,
                Target("≤ 1 s", healthy.p99_ms <= 1000 and self.sound),
            ),
        ]

    def goal(self, pages_ready: Summary) -> Goal | None:
        """≤ 1 s from the restarted server's first healthy answer, at p99, beside the table
        pages' healthy → connected."""
        if not self.from_healthy:
            return None
        healthy = Summary.of(self.from_healthy)
        return Goal(
            f"browser: kill -9 → {self.count} native EventSource streams open again after the "
            "restart was healthy, p99, every event once",
            SQLITE,
            fmt_ms(healthy.p99_ms),
            "≤ 1.0 s",
            healthy.p99_ms <= 1000 and self.sound,
            f"the table pages, healthy → connected: p99 {fmt_ms(pages_ready.p99_ms)}",
            healthy.p99_ms / pages_ready.p99_ms if pages_ready.p99_ms > 0 else None,
        )

    def note(self, retry_ms: int) -> str:
        text = (
            f"Native EventSource ({self.kills} kills, the same as the table pages': "
            f"{self.count} streams, each Chromium's own EventSource in its own browser context, "
            "no SDK, players of tables of their own on the same server, a hand under way): "
            "timed from the same restart call to each stream's `open` again, recorded in the "
            "page (its clock's offset from ours subtracted), and from the restarted server's "
            "first healthy answer (`ServerProcess.restart` returning, as e2e/browser/"
            "test_native_eventsource.py defines ready). The stream tells the browser to retry "
            f"after {retry_ms} ms (`retry:`, --sse-retry): a retry refused before the server "
            "binds waits that long again, where the SDK's pages dial again within 50-150 ms. "
            "After each kill one move is made at each table and every stream must have heard "
            "ids 1..seq, each once, in order"
        )
        if self.sound:
            return text + ": all did."
        return text + f". Not so: {'; '.join(self.never + self.wrong)}."
