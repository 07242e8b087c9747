"""The WebSocket suite's action → ack round trips (`WsSuite.run`, part "rtt"): a heads-up table
alone on a server, then the same beside busy tables of bots on the same server, with issue 16's
goal on PostgreSQL read beside PostgreSQL's own commit (`pg_floor`). `heads_up` is the lone run as
a function, which the ASGI servers' benchmark reuses.
"""

from __future__ import annotations

import asyncio
import statistics
import threading
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import httpx

from bench import server_bench as sb
from bench.databases import POSTGRES
from bench.goals import Goal
from bench.pg_floor import commit_floor
from bench.report import Target
from bench.server_procs import running, server_proc
from bench.server_suite import ServerRow
from bench.stats import Summary, fmt_ms, percentile
from bench.ws_clients import Client, Seat, Tally, open_all
from bench.ws_fanout import BLINDS, run_fanout, seat_idle, start_hand
from bench.ws_storm import ws_base

if TYPE_CHECKING:
    from bench.ws_suite import WsSuite

ROUND_TRIP_WARMUP = 20
# Issue 16's goal for one action on PostgreSQL while other tables play on the same server.
BUSY_TARGET_P50_MS = 1.0
BUSY_TARGET_P99_MS = 5.0


# --- the heads-up table -------------------------------------------------------------------------


async def heads_up(base_ws: str, http: httpx.Client, round_trips: int) -> Tally:
    """`round_trips` + ROUND_TRIP_WARMUP actions at a new heads-up table, both players over
    WebSocket, one at a time: each one's latency until its ack (the first ROUND_TRIP_WARMUP are
    the warm-up, for the caller to drop)."""
    tally = Tally(target_acks=round_trips + ROUND_TRIP_WARMUP)
    timeout = 60.0 + round_trips * 0.05
    await play_heads_up(
        base_ws,
        http,
        seat_idle(http, 2),
        tally,
        lambda: asyncio.wait_for(tally.done.wait(), timeout),
    )
    return tally


async def play_heads_up(
    base_ws: str,
    http: httpx.Client,
    seats: list[Seat],
    tally: Tally,
    until: Callable[[], Awaitable[object]],
) -> None:
    """Connect both players of a heads-up table as bots acting at once, deal its first hand and
    play until `until()` returns."""
    clients = [Client(base_ws, s, tally, act=True, blinds=BLINDS) for s in seats]
    await open_all(clients)
    tasks = [asyncio.create_task(c.serve()) for c in clients]
    try:
        start_hand(http, seats[0], seats[0].session)  # the welcome's
        await until()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(*(c.close() for c in clients))


class RoundTrips:
    """The round-trip rows, notes and goal of a `WsSuite`."""

    def __init__(self, suite: WsSuite) -> None:
        self.suite = suite

    def lone(self, db: str, echo: Summary) -> None:
        """A heads-up table's action → ack, one action at a time, on a server of its own."""
        url = self.suite.dbs.url(db == POSTGRES, "ws_rtt")
        server = server_proc(url, f"ws-rtt-{db}")
        with running(server), httpx.Client(base_url=server.url, timeout=30.0) as http:
            before = sb.read_histogram(http, "rejoin_action_seconds")
            tally = asyncio.run(heads_up(ws_base(server), http, self.suite.plan.round_trips))
            hist = sb.read_histogram(http, "rejoin_action_seconds").minus(before)
        samples = tally.latencies[ROUND_TRIP_WARMUP:]
        mine = Summary.of(samples)
        self.suite.row(
            ServerRow(
                "WS action → ack, heads-up",
                db,
                mine,
                "bare app WS echo",
                echo,
            )
        )
        self.suite.note(
            f"{db} WS action → ack: {mine.count} actions, one at a time (the next player acts once "
            f"its own socket has the events); the server's rejoin_action_seconds for the same "
            f"actions: {hist.describe()} (the host's work: game, store, publish; its mean carries "
            f"the showdown tails). Beyond it: the client, the socket, uvicorn's WebSocket "
            f"protocol, the channel (decode, queue, encode) and the action's events sent before "
            f"the ack, whose floor is {fmt_ms(echo.median_ms)} for one echo through the bare app."
            + (f" Errors: {tally.errors[:3]}" if tally.errors else "")
        )

    def busy(self, db: str, echo: Summary) -> None:
        """The heads-up table's action → ack while `busy_tables` tables of bots play on the same
        server: the heads-up players act at once, the bots after their think time."""
        plan = self.suite.plan
        url = self.suite.dbs.url(db == POSTGRES, "ws_rtt_busy")
        server = server_proc(url, f"ws-rtt-busy-{db}")
        tally = Tally()
        failed: list[BaseException] = []
        threads: list[threading.Thread] = []

        def beside(begin: float, end: float) -> None:
            # The heads-up clients get a thread and an event loop of their own in this process
            # (the fan-out's bots are in worker processes), connect during the warm-up, and play
            # until the window ends; only actions sent inside it are timed.
            tally.window = (begin, end)

            async def window_end() -> None:
                await asyncio.sleep(max(0.0, end - time.perf_counter()))

            def play() -> None:
                try:
                    with httpx.Client(base_url=server.url, timeout=30.0) as own:
                        seats = seat_idle(own, 2)
                        asyncio.run(play_heads_up(ws_base(server), own, seats, tally, window_end))
                except BaseException as exc:  # reported on the main thread
                    failed.append(exc)

            thread = threading.Thread(target=play, name="heads-up", daemon=True)
            thread.start()
            threads.append(thread)

        floor = commit_floor(url) if db == POSTGRES else None
        with running(server), httpx.Client(base_url=server.url, timeout=30.0) as http:
            tables = [seat_idle(http, 6) for _ in range(plan.busy_tables)]
            measured = run_fanout(
                http,
                ws_base(server),
                tables,
                [server],
                processes=plan.processes,
                warmup_s=plan.busy_warmup_s,
                window_s=plan.busy_window_s,
                think_s=plan.busy_think_s,
                on_window=beside,
            )
            for thread in threads:
                thread.join(60.0)
        if failed:
            raise RuntimeError(f"heads-up beside busy tables on {db} failed") from failed[0]
        if not tally.latencies:
            raise RuntimeError(f"heads-up beside busy tables on {db}: no action acknowledged")
        mine = Summary.of(tally.latencies)
        target = None
        if db == POSTGRES:
            met = mine.median_ms <= BUSY_TARGET_P50_MS and mine.p99_ms <= BUSY_TARGET_P99_MS
            target = Target(
                f"p50 ≤ {BUSY_TARGET_P50_MS:g} ms, p99 ≤ {BUSY_TARGET_P99_MS:g} ms", met
            )
            self.suite.results.goals.append(
                Goal(
                    f"WS action → durable ack beside {plan.busy_tables} busy tables (p50 / p99)",
                    db,
                    f"{fmt_ms(mine.median_ms)} / {fmt_ms(mine.p99_ms)}",
                    target.text,
                    met,
                    f"PostgreSQL's own commit: {fmt_ms(floor.median_ms)} / {fmt_ms(floor.p99_ms)}"
                    if floor is not None
                    else "",
                    mine.median_ms / floor.median_ms if floor and floor.median_ms > 0 else None,
                )
            )
        self.suite.row(
            ServerRow(
                f"  the same beside {plan.busy_tables} busy tables",
                db,
                mine,
                "bare app WS echo",
                echo,
                target,
            )
        )
        window = measured.window_s
        bots = sorted(measured.latencies)
        server_cpu = measured.server_cpu_s[0] / window
        client_cpu = ", ".join(f"{s.cpu_s / window:.0%}" for s in measured.shares)
        self.suite.note(
            f"{db} WS action → ack beside busy tables: {mine.count} heads-up actions over "
            f"{window:g} s, while {plan.busy_tables} tables of 6 bots (acting "
            f"{plan.busy_think_s * 1e3:.0f} ms ±50% after their turn comes, hands dealt back to "
            f"back) played on the same server: {measured.acks / window:,.0f} actions/s and "
            f"{measured.showdowns / window:,.1f} showdowns/s at those tables, "
            f"{measured.events / window:,.0f} event frames delivered/s; their own action → ack "
            f"p50 {fmt_ms(statistics.median(bots) * 1e3) if bots else '?'} "
            f"p99 {fmt_ms(percentile(bots, 99) * 1e3) if bots else '?'}. CPU over the window: "
            f"server {server_cpu:.0%} of a core, bot processes {client_cpu}, the machine "
            f"{measured.machine_busy:.0%} busy."
            + (
                f" PostgreSQL's own durable commit on this machine just before (one small INSERT "
                f"in autocommit, {floor.count} times): p50 {fmt_ms(floor.median_ms)} p99 "
                f"{fmt_ms(floor.p99_ms)}: the floor of a durable ack, below which no p50 can go."
                if floor is not None
                else ""
            )
            + (f" Errors: {tally.errors[:3]}" if tally.errors else "")
            + (f" Bot errors: {measured.errors[:2]}" if measured.errors else "")
        )
