"""The CPython SDK's resume after kill -9 over each transport: `GameClient(…, transport="sse")`
beside `GameClient(…, transport="websocket")`, at one table on one server (a real
`python -m rejoin_server` process on SQLite), brought down and back by the same kills.

Each kill: the server is SIGKILLed (its whole group) and restarted at once on the same port and
file; each client's resume is timed from the restart call (the new process spawned), and from the
restarted server's first healthy answer, to its status reading connected again (its `on_status`
callback, on the clients' own loop: the kill and the restart run in a thread, so the clients go on
dialling meanwhile); beside it the SDK's own figure, `last_resume.outage` (`ResumeFigures`: from
losing the connection to the welcome). A client must resume on the transport it was given
(`client.transport`). After each kill one move is made, and every client must have been given
every event once, in order. `python bench/run.py --only sdk [--quick]` runs this alone.

An SDK without the transport parameter (before issue 19's SSE link) fails here at once, saying
so: this never measures the WebSocket twice under two names.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

from bench.goals import Goal
from bench.report import Target
from bench.server_procs import served
from bench.server_suite import ServerRow, print_row, render_rows
from bench.stats import Summary, fmt_ms
from rejoin import ActionRejectedError, GameClient, MemoryTokenStore, SessionState
from rejoin_protocol.session_outputs import StatusChanged
from rejoin_testkit.processes import ServerProcess

SQLITE = "SQLite"
TRANSPORTS = ("websocket", "sse")
RESUME_TIMEOUT_S = 30.0
SETTLE_S = 6.0  # connected this long before a kill: the SDK resets its backoff count after 5 s
TABLE: dict[str, Any] = {"autoNextHand": False, "actionTimeoutMs": 600_000}


@dataclass(frozen=True, slots=True)
class SdkPlan:
    per_transport: int  # clients on each transport, all at one table
    kills: int


QUICK_SDK = SdkPlan(per_transport=2, kills=2)
FULL_SDK = SdkPlan(per_transport=4, kills=8)


@dataclass(slots=True)
class SdkResults:
    rows: list[ServerRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)


@dataclass(slots=True)
class Seated:
    transport: str
    client: GameClient
    seen: list[int] = field(default_factory=list)  # the seqs of the events it was given
    heard: asyncio.Event = field(default_factory=asyncio.Event)  # set at each event
    welcomed: list[float] = field(default_factory=list)  # time.monotonic() of each welcome
    welcome: asyncio.Event = field(default_factory=asyncio.Event)  # set at each welcome

    def watch(self) -> None:
        def changed(change: StatusChanged) -> None:
            if change.current == SessionState.CONNECTED:
                self.welcomed.append(time.monotonic())
                self.welcome.set()

        self.client.on_status(changed)

    async def wait_welcomed(self, count: int) -> None:
        while len(self.welcomed) < count:
            self.welcome.clear()
            await self.welcome.wait()

    async def read(self) -> None:
        async for event in self.client.events():
            self.seen.append(int(event["seq"]))
            self.heard.set()

    async def wait_seen(self, seq: int) -> None:
        while not self.seen or self.seen[-1] < seq:
            self.heard.clear()
            await self.heard.wait()


@dataclass(slots=True)
class Tally:
    """Per transport, the seconds from the restart call and from the first healthy answer to
    each client's welcome; what went wrong."""

    from_restart: dict[str, list[float]] = field(default_factory=dict)
    from_healthy: dict[str, list[float]] = field(default_factory=dict)
    outage: dict[str, list[float]] = field(default_factory=dict)  # `last_resume.outage`
    wrong: list[str] = field(default_factory=list)

    def add(self, transport: str, restart_s: float, healthy_s: float, outage: float) -> None:
        self.from_restart.setdefault(transport, []).append(restart_s)
        self.from_healthy.setdefault(transport, []).append(healthy_s)
        self.outage.setdefault(transport, []).append(outage)


def make_client(base: str, game_id: str, transport: str) -> GameClient:
    """A client on `transport`; a RuntimeError saying what is missing if this SDK has no such
    parameter."""
    options: dict[str, Any] = {"transport": transport}  # an SDK before the parameter: TypeError
    try:
        return GameClient(base, game_id, store=MemoryTokenStore(), **options)
    except TypeError as exc:
        raise RuntimeError(
            f"this SDK's GameClient takes no transport={transport!r} ({exc}): the SSE transport "
            "(issue 19) is not in this checkout, so its resume cannot be measured"
        ) from exc


class SdkResume:
    def __init__(self, plan: SdkPlan, server: ServerProcess, console: Console) -> None:
        self.plan = plan
        self.server = server
        self.console = console
        self.seated: list[Seated] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.game_id = ""
        self.tally = Tally()

    async def run(self) -> Tally:
        await self.seat()
        try:
            for kill in range(1, self.plan.kills + 1):
                await asyncio.sleep(SETTLE_S)
                await self.kill_and_resume(kill)
                await self.move_and_check(kill)
        finally:
            for one in self.seated:
                await one.client.close()
            for task in self.tasks:
                task.cancel()
        return self.tally

    async def seat(self) -> None:
        """Every client joins, then connects on its transport; a hand is started."""
        seats = self.plan.per_transport * len(TRANSPORTS)
        async with httpx.AsyncClient(base_url=self.server.url, timeout=30.0) as http:
            reply = await http.post("/api/games", json={"seats": seats, **TABLE})
            reply.raise_for_status()
            self.game_id = reply.json()["gameId"]
            for number in range(self.plan.per_transport):
                for transport in TRANSPORTS:
                    client = make_client(self.server.url, self.game_id, transport)
                    await client.join(f"{transport}-{number}")
                    self.seated.append(Seated(transport, client))
            for one in self.seated:
                one.watch()
                await one.client.connect()
                if one.client.transport != one.transport:
                    raise RuntimeError(
                        f"a client given transport={one.transport!r} connected over "
                        f"{one.client.transport!r}"
                    )
                self.tasks.append(asyncio.create_task(one.read()))
            token = self.seated[0].client.session_token
            started = await http.post(
                f"/api/game/{self.game_id}/start", headers={"authorization": f"Bearer {token}"}
            )
            started.raise_for_status()

    async def kill_and_resume(self, kill: int) -> None:
        before = [len(one.welcomed) for one in self.seated]
        await asyncio.to_thread(self.server.kill9)
        restarted = time.monotonic()
        await asyncio.to_thread(self.server.restart)
        healthy = time.monotonic()
        with contextlib.suppress(TimeoutError):  # told below, client by client
            await asyncio.wait_for(
                asyncio.gather(
                    *(one.wait_welcomed(n + 1) for one, n in zip(self.seated, before, strict=True))
                ),
                RESUME_TIMEOUT_S,
            )
        times: dict[str, list[float]] = {}
        for one, n in zip(self.seated, before, strict=True):
            figures = one.client.last_resume
            if len(one.welcomed) <= n or figures is None or figures.outage is None:
                self.tally.wrong.append(
                    f"kill #{kill}: a {one.transport} client not welcomed within "
                    f"{RESUME_TIMEOUT_S:g} s"
                )
                continue
            at = one.welcomed[n]
            self.tally.add(one.transport, at - restarted, at - healthy, figures.outage)
            times.setdefault(one.transport, []).append(at - restarted)
            if one.client.transport != one.transport:
                self.tally.wrong.append(
                    f"kill #{kill}: a {one.transport} client resumed over {one.client.transport}"
                )
        self.console.print(
            f"  kill #{kill}: /healthz {fmt_ms((healthy - restarted) * 1e3)} after the restart "
            "call; welcomed after it: "
            + "; ".join(
                f"{t} {', '.join(f'{s * 1e3:.0f}' for s in sorted(times.get(t, [])))} ms"
                for t in TRANSPORTS
            ),
            highlight=False,
        )

    async def move_and_check(self, kill: int) -> None:
        """One move (a new hand where the last ended); every client given every event once."""
        state = await self.seated[0].client.fetch_state()
        seat = state.get("toAct")
        async with httpx.AsyncClient(base_url=self.server.url, timeout=30.0) as http:
            if seat is None:
                token = self.seated[0].client.session_token
                reply = await http.post(
                    f"/api/game/{self.game_id}/start",
                    headers={"authorization": f"Bearer {token}"},
                )
                reply.raise_for_status()
            else:
                mover = next(one for one in self.seated if one.client.seat == seat)
                try:
                    await mover.client.act("check")
                except ActionRejectedError:
                    await mover.client.act("call")
        seq = int((await self.seated[0].client.fetch_state())["seq"])
        with contextlib.suppress(TimeoutError):  # told below, with what each was given
            await asyncio.wait_for(
                asyncio.gather(*(one.wait_seen(seq) for one in self.seated)), RESUME_TIMEOUT_S
            )
        for one in self.seated:
            if one.seen != list(range(1, seq + 1)):
                self.tally.wrong.append(
                    f"kill #{kill}: a {one.transport} client was given {one.seen}, "
                    f"the log is 1-{seq}"
                )


def results_of(tally: Tally, plan: SdkPlan) -> SdkResults:
    results = SdkResults()
    ws, sse = tally.from_restart.get("websocket", []), tally.from_restart.get("sse", [])
    if not ws or not sse:
        results.notes.append(f"No figures for both transports: {'; '.join(tally.wrong)}")
        return results
    ws_ready = Summary.of(tally.from_healthy["websocket"])
    sse_ready = Summary.of(tally.from_healthy["sse"])
    sound = not tally.wrong
    results.rows += [
        ServerRow(
            f"SDK (CPython) kill -9 → restart → welcomed, transport='sse' ({plan.per_transport} "
            "clients)",
            SQLITE,
            Summary.of(sse),
            "the same, transport='websocket'",
            Summary.of(ws),
        ),
        ServerRow(
            "  the same, from the restarted server's first healthy answer",
            SQLITE,
            sse_ready,
            "the same, transport='websocket'",
            ws_ready,
            Target("≤ 1 s", sse_ready.p99_ms <= 1000 and sound),
        ),
        ServerRow(
            "  the SDK's own figure: connection lost → welcomed (last_resume.outage)",
            SQLITE,
            Summary.of(tally.outage["sse"]),
            "the same, transport='websocket'",
            Summary.of(tally.outage["websocket"]),
        ),
    ]
    results.goals.append(
        Goal(
            "SDK: kill -9 → healthy → welcomed over SSE, p99, every event once",
            SQLITE,
            fmt_ms(sse_ready.p99_ms),
            "≤ 1.0 s",
            sse_ready.p99_ms <= 1000 and sound,
            f"the same over the WebSocket: p99 {fmt_ms(ws_ready.p99_ms)}",
            sse_ready.p99_ms / ws_ready.p99_ms if ws_ready.p99_ms > 0 else None,
        )
    )
    results.notes.append(
        f"SDK resume ({plan.kills} kills; {plan.per_transport} GameClients per transport at one "
        "table, a hand under way, each connected for "
        f"{SETTLE_S:g} s before each kill): timed on the clients' loop from the restart call, and "
        "from the restarted server's first healthy answer, to the client's status reading "
        "connected again (on_status); medians "
        f"from healthy: sse {fmt_ms(statistics.median(tally.from_healthy['sse']) * 1e3)}, "
        f"websocket {fmt_ms(statistics.median(tally.from_healthy['websocket']) * 1e3)}. "
        "After each kill one move, and every client must have been given every event once, in "
        "order, on the transport it was given: "
        + ("all were." if sound else f"NOT SO: {'; '.join(tally.wrong)}.")
    )
    return results


def run(console: Console, *, quick: bool) -> SdkResults:
    plan = QUICK_SDK if quick else FULL_SDK
    with (
        tempfile.TemporaryDirectory(prefix="rejoin_bench_sdk_") as folder,
        served(Path(folder), "sdk-resume") as server,
    ):
        console.print(
            f"SDK resume: {plan.per_transport} clients per transport, {plan.kills} kills",
            highlight=False,
        )
        tally = asyncio.run(SdkResume(plan, server, console).run())
    results = results_of(tally, plan)
    for row in results.rows:
        print_row(console, row)
    return results


def render(results: SdkResults, console: Console) -> None:
    render_rows(
        console,
        "rejoin SDK resume after kill -9 (CPython, a real server process on SQLite): "
        "transport='sse' beside transport='websocket', the same kills",
        results.rows,
        "SDK resume notes:",
        results.notes,
        "p99 is nearest-rank: with fewer than 100 samples it is the maximum. Ratios are sse / "
        "websocket (below 1x: SSE takes less time).",
    )
