"""Python WebSocket players of our server (docs/protocol.md) for the WS benchmarks, on `websockets`.

A `Client` is one player's socket: it says `hello` with its newest reconnect token and last seq,
keeps what the `welcome` and later `token` messages give it, answers the server's `ping`, and, as a
bot, sends its `action` (check, else call) as soon as its own stream says that its turn has come,
or a think time after. The turn is followed by `Turn` from the public events alone (`hand_started`,
`action`, `street`, the hand's end): with players who only check and call nobody folds, so the
order is pokerkit's seat order of `hand_started` (first to the button's left … the button), preflop
starts after the big blind and ends with it, and every later street starts at the first seat and
ends with the last. A bot decides only where a batch of events ends: after the last `hole_cards` of
a deal, after an `action` that does not close the street, after `street`.

`Tally` collects what the clients of one process saw: `event` frames and acks inside a time
window, action → ack latencies, errors. The process entry points (`fanout_process`,
`storm_process`) run a shard of the clients in a process of their own, so that the client side
of the big runs is not one Python process (two cores: see the CPU figures each prints).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import time
import uuid
from dataclasses import dataclass, field
from multiprocessing.queues import Queue
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event as MpEvent
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from rejoin_testkit.tables import Player, Table

OPEN_TIMEOUT_S = 20.0  # a handshake waiting in a restarting server's listen queue
FIRST_RETRY_S = 0.1  # a dropped client dials again within this (uniformly spread)
BACKOFF_MIN_S = 0.05
BACKOFF_MAX_S = 0.25
BACKOFF_FACTOR = 1.5
STORM_TIMEOUT_S = 30.0
# Close codes after which a client may dial again (server restarting, try again later, internal).
RETRY_CLOSE_CODES = {1011, 1012, 1013}
RETRY_ERROR_CODES = {"storage_unavailable", "rate_limited", "stale_state", "internal"}


class Refused(Exception):
    """The server answered `hello` with an `error` that a retry will not fix."""


@dataclass(slots=True)
class Seat:
    """One player as the clients need it; plain fields, so that it pickles to a worker process."""

    game_id: str
    player_id: str
    seat: int
    token: str
    client_id: str
    last_seq: int
    # The session token of the seat's current claim: each welcome wins the seat anew, and a
    # session token from before it no longer works (for `start`, say).
    session: str = ""


class Turn:
    """Whose turn it is at one table, from the public events of a check/call-only game."""

    def __init__(self, blinds: tuple[int, int]) -> None:
        self.blinds = blinds
        self.seq = 0
        self.order: list[int] = []
        self.bets: dict[int, int] = {}
        self.top = 0
        self.closer: int | None = None  # the seat whose action closes the street
        self.actor: int | None = None
        self.dealing = 0  # hole cards still to come in this deal's batch

    @property
    def to_act(self) -> int | None:
        """The seat to act, once the batch of events that made it so has fully arrived."""
        return None if self.dealing else self.actor

    def apply(self, event: dict[str, Any]) -> None:
        kind = event["kind"]
        data = event["data"]
        if kind == "hand_started":
            self.order = list(data["seats"])
            sb, bb = data["sb"], data["bb"]
            self.bets = {seat: 0 for seat in self.order}
            self.bets[sb], self.bets[bb] = self.blinds
            self.top = self.blinds[1]
            self.closer = bb
            self.actor = self._after(bb)
            self.dealing = len(self.order)
        elif kind == "hole_cards":
            self.dealing = max(0, self.dealing - 1)
        elif kind == "blind_posted":
            self.bets[data["seat"]] = data["amount"]
            self.top = max(self.top, data["amount"])
        elif kind == "action":
            seat, kind_ = data["seat"], data["type"]
            if kind_ == "call":
                self.bets[seat] = self.top
            elif kind_ in ("bet", "raise", "allin"):
                self.bets[seat] = data["amount"]
                self.top = max(self.top, data["amount"])
            self.actor = None if seat == self.closer else self._after(seat)
        elif kind == "street":
            self.bets = dict.fromkeys(self.order, 0)
            self.top = 0
            self.closer = self.order[-1]
            self.actor = self.order[0]
        elif kind in ("showdown", "pot_awarded", "hand_ended", "game_completed", "timeout"):
            self.actor = None

    def choice(self, seat: int) -> str:
        return "check" if self.bets.get(seat, 0) >= self.top else "call"

    def _after(self, seat: int) -> int:
        return self.order[(self.order.index(seat) + 1) % len(self.order)]


@dataclass(slots=True)
class Tally:
    """What the clients of one process saw; events and acks count only inside `window`."""

    window: tuple[float, float] = (-math.inf, math.inf)
    events: int = 0
    showdowns: int = 0  # `showdown` event frames (one per player of the table that saw it)
    acks: int = 0
    acks_total: int = 0
    latencies: list[float] = field(default_factory=list)  # action → ack, inside the window
    errors: list[str] = field(default_factory=list)
    target_acks: int | None = None  # set `done` once this many acks (any time) were received
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def inside(self, now: float) -> bool:
        return self.window[0] <= now < self.window[1]


class Client:
    def __init__(
        self,
        base_ws: str,
        seat: Seat,
        tally: Tally,
        *,
        act: bool = False,
        blinds: tuple[int, int] = (1, 2),
        floor: bool = False,
        think_s: float = 0.0,
    ) -> None:
        self.seat = seat
        self.tally = tally
        self.act = act
        # A bot with a think time waits this long (±50%) before it acts: a table that is busy
        # without being played as fast as the server answers.
        self.think_s = think_s
        self._thinking: asyncio.Task[None] | None = None
        self.floor = floor
        self.url = f"{base_ws}/ws" if floor else f"{base_ws}/api/game/{seat.game_id}/ws"
        self.turn = Turn(blinds)
        self.ws: ClientConnection | None = None
        self.sent: dict[str, float] = {}  # actionId → perf_counter when sent
        self.acted_seq = -1
        self.missed = 0  # events in the last welcome's missedEvents
        self.resync = False
        self.node = ""  # the node of the last welcome (`welcome.node`; a cluster's node id)

    # --- connecting -----------------------------------------------------------------------------

    async def open(self) -> float:
        """Connect and say hello; the perf_counter at which the welcome (the floor: the echo)
        arrived. Raises OSError, InvalidHandshake, ConnectionClosed or TimeoutError when a retry
        may help, `Refused` when it will not."""
        ws = await connect(
            self.url,
            compression=None,
            max_size=None,
            ping_interval=None,
            open_timeout=OPEN_TIMEOUT_S,
            close_timeout=1.0,
        )
        try:
            seat = self.seat
            hello = {
                "type": "hello",
                "playerId": seat.player_id,
                "token": seat.token,
                "clientId": seat.client_id,
                "lastSeq": seat.last_seq,
                "protocol": 1,
            }
            await ws.send(orjson.dumps(hello).decode())
            raw = await asyncio.wait_for(ws.recv(), OPEN_TIMEOUT_S)
            at = time.perf_counter()
            if not self.floor:
                self._welcome(orjson.loads(raw))
        except BaseException:
            await _abort(ws)
            raise
        self.ws = ws
        return at

    def _welcome(self, message: dict[str, Any]) -> None:
        if message["type"] == "error":
            code = message.get("code", "")
            if code in RETRY_ERROR_CODES:
                raise ConnectionError(f"hello answered {code}")
            raise Refused(f"{self.seat.player_id}: hello answered {code}: {message.get('message')}")
        if message["type"] != "welcome":
            raise Refused(f"first frame was {message['type']!r}, not welcome")
        seat = self.seat
        missed = message["missedEvents"]
        self.resync = bool(message["resync"])
        if not self.resync:
            expected = message["seq"] - seat.last_seq
            if len(missed) != expected or (missed and missed[0]["seq"] != seat.last_seq + 1):
                raise Refused(
                    f"welcome at seq {message['seq']} after lastSeq {seat.last_seq} carried "
                    f"{len(missed)} missed events"
                )
        self.missed = len(missed)
        self.node = str(message.get("node") or "")
        seat.token = message["token"]["token"]
        seat.session = message["sessionToken"]
        seat.last_seq = message["seq"]
        self.turn.seq = message["seq"]
        for event in missed:
            self.turn.apply(event)

    async def resume(self) -> tuple[float, int]:
        """Dial again after a drop until welcomed: first within FIRST_RETRY_S, then backing off
        from BACKOFF_MIN_S by BACKOFF_FACTOR up to BACKOFF_MAX_S (±20% jitter). The welcome's
        perf_counter and the number of attempts."""
        deadline = time.monotonic() + STORM_TIMEOUT_S
        delay = random.uniform(0.0, FIRST_RETRY_S)
        step = BACKOFF_MIN_S
        attempts = 0
        while True:
            await asyncio.sleep(delay)
            attempts += 1
            try:
                return await self.open(), attempts
            except (OSError, InvalidHandshake, ConnectionClosed, TimeoutError):
                if time.monotonic() > deadline:
                    raise
            delay = step * random.uniform(0.8, 1.2)
            step = min(BACKOFF_MAX_S, step * BACKOFF_FACTOR)

    # --- serving --------------------------------------------------------------------------------

    async def serve(self) -> None:
        """Read frames until the connection ends (either side)."""
        ws = self.ws
        assert ws is not None
        with contextlib.suppress(ConnectionClosed):
            if self.act:
                await self._maybe_act(ws)
            async for raw in ws:
                await self._frame(ws, raw)

    async def _frame(self, ws: ClientConnection, raw: str | bytes) -> None:
        message = orjson.loads(raw)
        kind = message["type"]
        tally = self.tally
        if kind == "event":
            now = time.perf_counter()
            if tally.inside(now):
                tally.events += 1
                if message["event"]["kind"] == "showdown":
                    tally.showdowns += 1
            self.seat.last_seq = self.turn.seq = message["seq"]
            self.turn.apply(message["event"])
            if self.act:
                await self._maybe_act(ws)
        elif kind == "ack":
            now = time.perf_counter()
            sent = self.sent.pop(message["actionId"], None)
            tally.acks_total += 1
            if sent is not None and tally.inside(sent):
                tally.acks += 1
                tally.latencies.append(now - sent)
            if tally.target_acks is not None and tally.acks_total >= tally.target_acks:
                tally.done.set()
        elif kind == "error":
            tally.errors.append(f"{message.get('code')}: {message.get('message')}")
        elif kind == "token":
            self.seat.token = message["token"]
        elif kind == "ping":
            await ws.send(orjson.dumps({"type": "pong", "t": message["t"]}).decode())

    async def _maybe_act(self, ws: ClientConnection) -> None:
        turn = self.turn
        if turn.to_act != self.seat.seat or self.acted_seq == turn.seq:
            return
        self.acted_seq = turn.seq
        if self.think_s > 0:
            self._thinking = asyncio.create_task(self._act_later(ws, turn.seq))
            return
        await self._send_action(ws)

    async def _act_later(self, ws: ClientConnection, seq: int) -> None:
        await asyncio.sleep(self.think_s * random.uniform(0.5, 1.5))
        if self.turn.seq == seq:  # nothing happened meanwhile (a turn timer, say)
            with contextlib.suppress(ConnectionClosed):
                await self._send_action(ws)

    async def _send_action(self, ws: ClientConnection) -> None:
        turn = self.turn
        action_id = uuid.uuid4().hex
        frame = orjson.dumps(
            {
                "type": "action",
                "actionId": action_id,
                "action": {"type": turn.choice(self.seat.seat)},
                "atSeq": turn.seq,
            }
        ).decode()
        self.sent[action_id] = time.perf_counter()
        await ws.send(frame)

    async def close(self) -> None:
        if self._thinking is not None:
            self._thinking.cancel()
        if self.ws is not None:
            await _abort(self.ws)


async def _abort(ws: ClientConnection) -> None:
    """Drop the connection at once (no closing handshake: the benchmark is over)."""
    transport = ws.transport
    if transport is not None:
        transport.abort()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(ws.wait_closed(), 1.0)


async def open_all(clients: list[Client], at_once: int = 200) -> None:
    """Connect every client, at most `at_once` handshakes in flight."""
    gate = asyncio.Semaphore(at_once)

    async def one(client: Client) -> None:
        async with gate:
            await client.open()

    await asyncio.gather(*(one(c) for c in clients))


# --- the floor's round trip ---------------------------------------------------------------------


async def echo_round_trips(base_ws: str, count: int, warmup: int = 20) -> list[float]:
    """Sequential round trips of an action-sized JSON frame through the floor app's echo."""
    frame = orjson.dumps(
        {
            "type": "action",
            "actionId": uuid.uuid4().hex,
            "action": {"type": "check"},
            "atSeq": 42,
        }
    ).decode()
    samples: list[float] = []
    async with connect(f"{base_ws}/ws", compression=None, max_size=None, ping_interval=None) as ws:
        for index in range(count + warmup):
            began = time.perf_counter()
            await ws.send(frame)
            await ws.recv()
            if index >= warmup:
                samples.append(time.perf_counter() - began)
    return samples


# --- worker processes ---------------------------------------------------------------------------


@dataclass(slots=True)
class FanoutShare:
    """What one fan-out process reports."""

    events: int
    acks: int
    latencies: list[float]
    errors: list[str]
    cpu_s: float  # the process's CPU time inside the window
    showdowns: int = 0  # `showdown` frames received inside the window (each table's players')


def fanout_process(
    index: int,
    base_ws: str,
    seats: list[Seat],
    blinds: tuple[int, int],
    window_s: float,
    out: Queue[Any],
    go: MpEvent,
    start_at: Synchronized[float],
    think_s: float = 0.0,
) -> None:
    """Connect `seats` as bots (acting after `think_s`, see `Client`), say ready, wait for `go`,
    count over [start_at, +window_s]."""
    try:
        share = asyncio.run(
            _fanout(index, base_ws, seats, blinds, window_s, out, go, start_at, think_s)
        )
        out.put(("done", index, share))
    except BaseException as exc:
        out.put(("failed", index, repr(exc)))
        raise


async def _fanout(
    index: int,
    base_ws: str,
    seats: list[Seat],
    blinds: tuple[int, int],
    window_s: float,
    out: Queue[Any],
    go: MpEvent,
    start_at: Synchronized[float],
    think_s: float,
) -> FanoutShare:
    tally = Tally()
    clients = [Client(base_ws, s, tally, act=True, blinds=blinds, think_s=think_s) for s in seats]
    await open_all(clients)
    tasks = [asyncio.create_task(c.serve()) for c in clients]
    # The welcomes' session tokens, by seat: the parent starts each table's first hand with one.
    out.put(("ready", index, {(s.game_id, s.player_id): s.session for s in seats}))
    await asyncio.to_thread(go.wait)
    begin = start_at.value
    tally.window = (begin, begin + window_s)
    await asyncio.sleep(max(0.0, begin - time.perf_counter()))
    cpu0 = time.process_time()
    await asyncio.sleep(max(0.0, begin + window_s - time.perf_counter()))
    cpu = time.process_time() - cpu0
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.gather(*(c.close() for c in clients))
    return FanoutShare(
        tally.events, tally.acks, tally.latencies, tally.errors, cpu, tally.showdowns
    )


@dataclass(slots=True)
class StormShare:
    """What one storm process reports: per client, when its connection dropped and when it was
    welcomed again (perf_counter, comparable across processes on Linux), its attempts."""

    dropped: list[float]
    welcomed: list[float]
    attempts: list[int]
    missed: list[int]
    cpu_s: float  # CPU time from the first drop to the last welcome
    busy_s: float  # wall time of the same span
    seats: list[Seat]  # with their newest tokens, for the next storm


def storm_process(
    index: int, base_ws: str, seats: list[Seat], floor: bool, out: Queue[Any]
) -> None:
    """Connect `seats`, say ready, then wait for the server to die: every client dials again
    (`Client.resume`) until welcomed, and the process reports."""
    try:
        share = asyncio.run(_storm(index, base_ws, seats, floor, out))
        out.put(("done", index, share))
    except BaseException as exc:
        out.put(("failed", index, repr(exc)))
        raise


async def _storm(
    index: int, base_ws: str, seats: list[Seat], floor: bool, out: Queue[Any]
) -> StormShare:
    tally = Tally()
    clients = [Client(base_ws, s, tally, floor=floor) for s in seats]
    await open_all(clients)
    out.put(("ready", index, None))
    first_drop: list[float] = []
    cpu_at_drop: list[float] = []

    async def one(client: Client) -> tuple[float, float, int]:
        await client.serve()
        dropped = time.perf_counter()
        if not first_drop:
            first_drop.append(dropped)
            cpu_at_drop.append(time.process_time())
        welcomed, attempts = await client.resume()
        return dropped, welcomed, attempts

    results = await asyncio.wait_for(
        asyncio.gather(*(one(c) for c in clients)), STORM_TIMEOUT_S + 600
    )
    cpu = time.process_time() - cpu_at_drop[0]
    busy = max(r[1] for r in results) - first_drop[0]
    await asyncio.gather(*(c.close() for c in clients))
    return StormShare(
        [r[0] for r in results],
        [r[1] for r in results],
        [r[2] for r in results],
        [c.missed for c in clients],
        cpu,
        busy,
        [c.seat for c in clients],
    )


# --- seats of tables seated over HTTP -------------------------------------------------------------


def seats_of(tables: list[Table]) -> list[Seat]:
    return [_seat(t, p) for t in tables for p in t.players]


def _seat(table: Table, player: Player) -> Seat:
    return Seat(
        table.game_id, player.player_id, player.seat, player.token, player.client_id, table.seq
    )
