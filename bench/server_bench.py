"""The server benchmarks, each against real `python -m rejoin_server` processes (`server_procs`).

- **reconnect**: players seated at tables stopped mid-hand each `POST …/reconnect` with their
  newest token and a `lastSeq` a few events back, then keep the fresh token for the next round.
  One client on loopback, keep-alive, one request at a time; then every player at once.
- **restore**: games written to the store while the server runs (so its start-up warm-up never saw
  them), then `GET …/restore` as admin, once per game: every request is a first touch, a load from
  the store. Beside it, the same load in-process (`restore_game` + `recent_actions`, what
  `GameHost._load` does) on the same games.
- **action**: `POST …/action` round trips (strict durability, then a relaxed server), beside the
  same play in-process through `GameHost.execute` and through `PokerTable.handle` +
  `store.append` alone, so the HTTP and the host's shares are differences of medians.
- **kill → answer**: a server with tables mid-hand is SIGKILLed and relaunched at once; every
  player reconnects as soon as the port takes connections; timed from the kill.

The floor is `server_floor.py`: a bare Starlette app on the same uvicorn, answering a small JSON
POST (per-request floor) and launched the same way (launch-to-answer floor).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from bench.play import Bot, has_hand_end
from bench.play import settings as bot_settings
from bench.server_games import (
    JSON_HEADERS,
    TABLE_SETTINGS,
    admin_headers,
    choose,
    expect,
    mid_hand,
    play_http,
    reconnect_body,
)
from rejoin_server.games.base import Act, GameEngine, Join, Start
from rejoin_server.games.kinds import GameKinds
from rejoin_server.games.poker import PokerEngine
from rejoin_server.host.host import GameHost
from rejoin_server.metrics import Metrics
from rejoin_server.settings import Durability, ServerSettings
from rejoin_server.store.restore import restore_game, take_snapshot
from rejoin_server.store.sql import SqlGameStore
from rejoin_testkit.processes import ServerProcess
from rejoin_testkit.tables import Player, Table

RETRY_S = 0.01  # how often a client dials a server that is not up yet
PROBE_S = 0.002  # how often the port probe dials
STORM_TIMEOUT_S = 30.0
# A client median this far above the handler's own mean is time lost outside the app.
STALL_MS = 20.0
TRANSPORT_ERRORS = (httpx.TransportError,)


# --- the server's own histograms ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Histogram:
    """A Prometheus histogram read from /metrics: cumulative bucket counts, sum and count."""

    buckets: tuple[tuple[float, float], ...]  # (le, cumulative count), ascending
    total_s: float
    count: float

    def minus(self, earlier: Histogram) -> Histogram:
        before = dict(earlier.buckets)
        return Histogram(
            tuple((le, n - before.get(le, 0.0)) for le, n in self.buckets),
            self.total_s - earlier.total_s,
            self.count - earlier.count,
        )

    def mean_ms(self) -> float:
        return self.total_s / self.count * 1e3 if self.count else math.nan

    def bound_ms(self, pct: float) -> float:
        """The upper bound of the bucket that holds the `pct` percentile."""
        need = pct / 100 * self.count
        for le, n in self.buckets:
            if n >= need:
                return le * 1e3
        return math.inf

    def describe(self) -> str:
        if not self.count:
            return "no samples"
        return (
            f"{self.count:.0f} samples, mean {self.mean_ms():.2f} ms, p50 ≤ {self.bound_ms(50):g} "
            f"ms, p99 ≤ {self.bound_ms(99):g} ms (bucket bounds)"
        )


_SAMPLE = re.compile(r'^(?P<name>[a-z_]+)(?:\{le="(?P<le>[^"]+)"\})? (?P<value>\S+)$')


def read_histogram(client: httpx.Client, name: str) -> Histogram:
    text = client.get("/metrics").text
    buckets: list[tuple[float, float]] = []
    total = count = 0.0
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if match is None:
            continue
        metric, value = match["name"], float(match["value"])
        if metric == f"{name}_bucket" and match["le"] is not None:
            buckets.append((float(match["le"]), value))
        elif metric == f"{name}_sum":
            total = value
        elif metric == f"{name}_count":
            count = value
    return Histogram(tuple(sorted(buckets)), total, count)


def read_counter(client: httpx.Client, name: str) -> float:
    """One unlabelled sample of /metrics (0 when the server has none yet)."""
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[1])
    return 0.0


# --- results ------------------------------------------------------------------------------------


@dataclass(slots=True)
class Timed:
    """Per-request seconds; `wall_s` of the whole burst when requests ran at once."""

    samples: list[float]
    wall_s: float | None = None
    server: Histogram | None = None  # the server's own histogram of the same requests
    extra: dict[str, list[float]] = field(default_factory=dict)  # breakdowns


@dataclass(slots=True)
class Storm:
    """One kill (or launch) → answered, in seconds from the kill (`perf_counter` deltas)."""

    dead_s: float  # the killed process reaped
    spawned_s: float  # Popen returned
    accept_s: float  # the port took a TCP connection (listen queue)
    listening_s: float | None  # the server printed "listening" (imports, DB check, app built)
    first_s: float  # the first request answered 200
    all_s: float  # every request answered 200
    answers: list[float]  # each request's answer, from the kill
    retries: int  # dials or requests that had to be retried


# --- the floor ----------------------------------------------------------------------------------


def floor_sequential(proc: ServerProcess, requests: int) -> Timed:
    """Sequential `POST /echo` round trips, keep-alive, one untimed request first."""
    body = orjson.dumps({"actionId": uuid.uuid4().hex, "type": "check", "atSeq": 42})
    headers = {**JSON_HEADERS, "authorization": f"Bearer {'x' * 150}"}
    samples: list[float] = []
    with httpx.Client(base_url=proc.url, timeout=30.0) as client:
        expect(client.post("/echo", content=body, headers=headers))
        for _ in range(requests):
            began = time.perf_counter()
            response = client.post("/echo", content=body, headers=headers)
            samples.append(time.perf_counter() - began)
            expect(response)
    return Timed(samples)


async def _burst(
    base_url: str,
    clients: int,
    rounds: int,
    send: Callable[[httpx.AsyncClient, int], Awaitable[None]],
) -> Timed:
    """`rounds` rounds of `clients` requests at once (one untimed round first, which also opens
    the connections); every request timed, and the wall time of the timed rounds."""
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    samples: list[float] = []

    async def one(client: httpx.AsyncClient, index: int, timed: bool) -> None:
        began = time.perf_counter()
        await send(client, index)
        if timed:
            samples.append(time.perf_counter() - began)

    async with httpx.AsyncClient(base_url=base_url, timeout=30.0, limits=limits) as client:
        await asyncio.gather(*(one(client, i, False) for i in range(clients)))
        began = time.perf_counter()
        for _ in range(rounds):
            await asyncio.gather(*(one(client, i, True) for i in range(clients)))
        wall = time.perf_counter() - began
    return Timed(samples, wall)


def floor_burst(proc: ServerProcess, clients: int, rounds: int) -> Timed:
    body = orjson.dumps({"actionId": uuid.uuid4().hex, "type": "check", "atSeq": 42})
    headers = {**JSON_HEADERS, "authorization": f"Bearer {'x' * 150}"}

    async def send(client: httpx.AsyncClient, index: int) -> None:
        expect(await client.post("/echo", content=body, headers=headers))

    return asyncio.run(_burst(proc.url, clients, rounds, send))


# --- 1. reconnect -------------------------------------------------------------------------------


def seat_players(proc: ServerProcess, tables: int, per_table: int) -> list[Table]:
    with httpx.Client(base_url=proc.url, timeout=30.0) as client:
        return mid_hand(client, per_table, tables)


def _back(round_: int, player: int) -> int:
    """How many events back a reconnect's lastSeq is: 2 to 5, varied."""
    return 2 + (round_ + player) % 4


def reconnect_sequential(proc: ServerProcess, tables: list[Table], rounds: int) -> Timed:
    """Every player reconnects in turn, `rounds` times (one untimed round first)."""
    players = [(t, p) for t in tables for p in t.players]
    samples: list[float] = []
    with httpx.Client(base_url=proc.url, timeout=30.0) as client:
        before = read_histogram(client, "rejoin_reconnect_seconds")
        for round_ in range(rounds + 1):
            for index, (table, player) in enumerate(players):
                body = reconnect_body(player, table.seq - _back(round_, index))
                url = f"/api/game/{table.game_id}/reconnect"
                began = time.perf_counter()
                response = client.post(url, content=body, headers=JSON_HEADERS)
                elapsed = time.perf_counter() - began
                player.adopt(expect(response))
                if round_:
                    samples.append(elapsed)
        server = read_histogram(client, "rejoin_reconnect_seconds").minus(before)
    return Timed(samples, server=server)


def reconnect_burst(proc: ServerProcess, tables: list[Table], rounds: int) -> Timed:
    """Every player reconnects at once, `rounds` times."""
    players = [(t, p) for t in tables for p in t.players]
    sent = [0]

    async def send(client: httpx.AsyncClient, index: int) -> None:
        table, player = players[index]
        body = reconnect_body(player, table.seq - _back(sent[0] // len(players), index))
        sent[0] += 1
        response = await client.post(
            f"/api/game/{table.game_id}/reconnect", content=body, headers=JSON_HEADERS
        )
        player.adopt(expect(response))

    with httpx.Client(base_url=proc.url, timeout=30.0) as client:
        before = read_histogram(client, "rejoin_reconnect_seconds")
        timed = asyncio.run(_burst(proc.url, len(players), rounds, send))
        timed.server = read_histogram(client, "rejoin_reconnect_seconds").minus(before)
    return timed


# --- 2. restore ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Written:
    game_ids: list[str]
    seqs: dict[str, int]
    events: int  # events per game, summed
    replayed: list[int] = field(default_factory=list)  # events after the newest snapshot


async def write_games(
    url: str, engine: GameEngine, games: int, hands: int, seed: int = 0
) -> Written:
    """`games` 6-seat tables played `hands` hands and stopped after the next flop, written to the
    store directly (snapshots at hand ends, as the server writes them). Their clocks start now and
    their action clock is 24 h, so no deadline falls due while the benchmark runs.

    Their rows say `waiting`, not `playing`: the server running beside this loads every game in
    play once at start (its warm-up), and on a busy machine that query could come after the first
    game was written and load it before its first touch. A row's status plays no part in a
    restore (the state's comes from the snapshot and the events)."""
    table_settings = {**bot_settings(6), "actionTimeoutMs": TABLE_SETTINGS["actionTimeoutMs"]}
    store = SqlGameStore(url)
    await store.open()
    try:
        out = Written([], {}, 0)
        for index in range(games):
            game_id = uuid.uuid4().hex
            bot = Bot(engine, game_id, table_settings, seed + index)
            bot.now_ms = int(time.time() * 1000)
            await store.create_game(game_id, engine.kind, table_settings, bot.now_ms)
            for events in bot.seat_players():
                await store.append(
                    game_id, events, status="waiting", now_ms=bot.now_ms, snapshot=None
                )
            while bot.hand_number <= hands or not bot.mid_hand_after_flop():
                if bot.finished:
                    raise RuntimeError(f"table {index} ended after {bot.hand_number} hands")
                events = bot.step()
                snap = take_snapshot(bot.state) if has_hand_end(events) else None
                await store.append(
                    game_id, events, status="waiting", now_ms=bot.now_ms, snapshot=snap
                )
            out.game_ids.append(game_id)
            out.seqs[game_id] = bot.state.seq
            out.events += bot.state.seq
        return out
    finally:
        await store.close()


def restore_first_touch(proc: ServerProcess, written: Written) -> Timed:
    """`GET …/restore` as admin, once per game, none of them in the server's memory; the first
    one is not timed (the endpoint's first use, e.g. SQLAlchemy compiling its query)."""
    samples: list[float] = []
    with httpx.Client(base_url=proc.url, timeout=30.0) as client:
        health = expect(client.get("/healthz"))
        if health.get("gamesActive"):
            raise RuntimeError(f"the server already holds {health['gamesActive']} games")
        before = read_histogram(client, "rejoin_restore_seconds")
        for index, game_id in enumerate(written.game_ids):
            url = f"/api/game/{game_id}/restore"
            began = time.perf_counter()
            response = client.get(url, headers=admin_headers())
            if index:  # the first game warms the endpoint up (and is left out of the histogram)
                samples.append(time.perf_counter() - began)
            else:
                before = read_histogram(client, "rejoin_restore_seconds")
            answer = expect(response)
            if answer["version"] != written.seqs[game_id]:
                raise RuntimeError(
                    f"{game_id} restored at seq {answer['version']}, "
                    f"written up to {written.seqs[game_id]}"
                )
        server = read_histogram(client, "rejoin_restore_seconds").minus(before)
    return Timed(samples, server=server)


async def restore_in_process(url: str, engine: GameEngine, written: Written) -> Timed:
    """What `GameHost._load` does for each game (restore + recent actionIds), in this process."""
    store = SqlGameStore(url)
    await store.open()
    try:
        samples: list[float] = []
        for game_id in written.game_ids:
            began = time.perf_counter()
            restored = await restore_game(store, GameKinds([engine]), game_id)
            await store.recent_actions(game_id)
            samples.append(time.perf_counter() - began)
            written.replayed.append(restored.events_replayed)
        return Timed(samples[1:])  # as over HTTP, the first game is not timed
    finally:
        await store.close()


# --- 3. per action ------------------------------------------------------------------------------


def actions_http(proc: ServerProcess, actions: int) -> Timed:
    """One 6-seat table played over HTTP: `actions` timed `POST …/action` (after 10 untimed)."""
    with httpx.Client(base_url=proc.url, timeout=30.0) as client:
        table = mid_hand(client, 6, 1)[0]
        play_http(client, table, 10)
        before = read_histogram(client, "rejoin_action_seconds")
        samples = play_http(client, table, actions)
        server = read_histogram(client, "rejoin_action_seconds").minus(before)
    return Timed(samples, server=server)


async def actions_host(
    url: str, engine: GameEngine, durability: Durability, actions: int
) -> tuple[Timed, Timed]:
    """The same play in this process: `GameHost.execute` (the host's path without HTTP), then on
    another table `state.handle` + `store.append` alone (the game and the store, no host)."""
    store = SqlGameStore(url)
    await store.open()
    settings = ServerSettings(database_url=url, durability=durability)
    host = GameHost(store, GameKinds([engine]), settings, Metrics())
    try:
        live = await host.create_game(TABLE_SETTINGS)
        game_id = live.game_id
        players = [uuid.uuid4().hex for _ in range(6)]
        for i, player in enumerate(players):
            await host.execute(game_id, Join(player, f"bot {i}"))
        await host.execute(game_id, Start(players[0]))
        samples: list[float] = []
        while len(samples) < actions + 10:
            chosen = choose(live.state.view(None))
            if chosen is None:
                await host.execute(game_id, Start(players[0]))
                continue
            seat, kind = chosen
            command = Act(_player_at(live.state.view(None), seat), kind)
            seq = live.state.seq
            began = time.perf_counter()
            await host.execute(game_id, command, action_id=uuid.uuid4().hex, at_seq=seq)
            samples.append(time.perf_counter() - began)
        via_host = Timed(samples[10:])
    finally:
        await host.stop()
    try:
        bare = await _actions_bare(store, engine, actions)
    finally:
        await store.close()
    return via_host, bare


def _player_at(view: dict[str, Any], seat: int) -> str:
    player = next(s["playerId"] for s in view["seats"] if s["seat"] == seat)
    assert isinstance(player, str)
    return player


async def _actions_bare(store: SqlGameStore, engine: GameEngine, actions: int) -> Timed:
    game_id = uuid.uuid4().hex
    state = engine.new_game(game_id, TABLE_SETTINGS)
    await store.create_game(game_id, engine.kind, TABLE_SETTINGS, int(time.time() * 1000))
    players = [uuid.uuid4().hex for _ in range(6)]
    last_snapshot = 0

    showdowns: list[float] = []  # `handle` alone, for the actions that end in a showdown

    async def run(command: Join | Start | Act) -> None:
        nonlocal last_snapshot
        now = int(time.time() * 1000)
        began = time.perf_counter()
        events = state.handle(command, now)
        if any(e.kind == "showdown" for e in events):
            showdowns.append(time.perf_counter() - began)
        snapshot = None
        if (
            any(e.kind in PokerEngine.snapshot_after for e in events)
            or state.seq - last_snapshot >= 100
        ):
            snapshot = take_snapshot(state)
            last_snapshot = state.seq
        await store.append(game_id, events, status=state.status, now_ms=now, snapshot=snapshot)

    for i, player in enumerate(players):
        await run(Join(player, f"bot {i}"))
    await run(Start(players[0]))
    samples: list[float] = []
    while len(samples) < actions + 10:
        view = state.view(None)
        chosen = choose(view)
        if chosen is None:
            await run(Start(players[0]))
            continue
        seat, kind = chosen
        command = Act(_player_at(view, seat), kind)
        began = time.perf_counter()
        await run(command)
        samples.append(time.perf_counter() - began)
    return Timed(samples[10:], extra={"showdown handle": showdowns})


# --- 4. kill → answer ---------------------------------------------------------------------------


async def _accepting(port: int) -> float:
    """The perf_counter at which the port first takes a TCP connection."""
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(PROBE_S)
            continue
        at = time.perf_counter()
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return at


Attempt = Callable[[httpx.AsyncClient], Awaitable[bool]]


async def _until_answered(client: httpx.AsyncClient, attempt: Attempt, retries: list[int]) -> float:
    deadline = time.monotonic() + STORM_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            if await attempt(client):
                return time.perf_counter()
        except TRANSPORT_ERRORS:
            pass
        retries[0] += 1
        await asyncio.sleep(RETRY_S)
    raise RuntimeError(f"no answer within {STORM_TIMEOUT_S:g} s")


async def storm(proc: ServerProcess, attempts: Sequence[Attempt]) -> Storm:
    """SIGKILL `proc`, relaunch it on the same port at once, and send every attempt; all times
    from the kill. One probe dials the port every PROBE_S until it takes a connection; then every
    attempt is sent (retried every RETRY_S on a transport error or a 503). Letting dozens of
    clients dial a closed port every few ms instead would burn the CPU the starting server needs
    (two cores), which hurts the bare app most: uvicorn opens its port only once it is ready."""
    t0 = time.perf_counter()
    proc.kill9()
    dead = time.perf_counter()
    spawned = proc.start().started_at
    limits = httpx.Limits(max_connections=len(attempts), max_keepalive_connections=len(attempts))
    retries = [0]
    async with httpx.AsyncClient(base_url=proc.url, timeout=30.0, limits=limits) as client:
        probe = asyncio.create_task(_accepting(proc.port))

        async def dial(attempt: Attempt) -> float:
            await probe  # a cheap raw dial stands in for the clients' refused ones
            return await _until_answered(client, attempt, retries)

        answers = await asyncio.gather(*(dial(a) for a in attempts))
        accept = probe.result()
    listening = proc.line_at("listening on")
    return Storm(
        dead - t0,
        spawned - t0,
        accept - t0,
        None if listening is None else listening - t0,
        min(answers) - t0,
        max(answers) - t0,
        sorted(a - t0 for a in answers),
        retries[0],
    )


def reconnect_attempt(table: Table, player: Player, back: int) -> Attempt:
    async def attempt(client: httpx.AsyncClient) -> bool:
        body = reconnect_body(player, table.seq - back)
        response = await client.post(
            f"/api/game/{table.game_id}/reconnect", content=body, headers=JSON_HEADERS
        )
        if response.status_code == 503:  # storage not reachable yet: a client retries
            return False
        player.adopt(expect(response))
        return True

    return attempt


def echo_attempt() -> Attempt:
    body = orjson.dumps({"actionId": uuid.uuid4().hex, "type": "check", "atSeq": 42})

    async def attempt(client: httpx.AsyncClient) -> bool:
        response = await client.post("/echo", content=body, headers=JSON_HEADERS)
        return response.status_code == 200

    return attempt


def kill_storms(
    proc: ServerProcess, tables: list[Table], repeats: int, settle_s: float
) -> list[Storm]:
    """`repeats` times: let the server settle, SIGKILL it, relaunch, every player reconnects."""
    storms: list[Storm] = []
    for rep in range(repeats):
        time.sleep(settle_s)
        attempts = [
            reconnect_attempt(t, p, _back(rep, i)) for t in tables for i, p in enumerate(t.players)
        ]
        storms.append(asyncio.run(storm(proc, attempts)))
    return storms


def floor_storms(proc: ServerProcess, clients: int, repeats: int, settle_s: float) -> list[Storm]:
    storms: list[Storm] = []
    for _ in range(repeats):
        time.sleep(settle_s)
        storms.append(asyncio.run(storm(proc, [echo_attempt() for _ in range(clients)])))
    return storms
