"""Tables of bots over WebSocket, played as fast as the server acknowledges: the fan-out window that
the WebSocket suite (one server) and the cluster suite (one node, or two behind HAProxy) measure.

Tables of `WS_TABLE_SETTINGS` are seated over HTTP with no hand dealt (`seat_idle`); worker
processes (`ws_clients.fanout_process`) connect every player as a bot, which sends its `action`
(check, else call) as soon as its own stream says its turn has come; once all are connected each
table's first hand is dealt, and hands follow at once (autoNextHand, no delay). After a warm-up,
every `event` frame and every `ack` is counted over a fixed window (`run_fanout`), with the CPU
time of the servers and of the client processes and how busy the whole machine was, so a
printout can say what the limit was.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

from bench.server_games import TABLE_SETTINGS, expect, seat_table
from bench.ws_clients import FanoutShare, Seat, fanout_process
from bench.ws_storm import collect, context, cpu_seconds, shards, stop
from rejoin_testkit.processes import ServerProcess

BLINDS = (int(TABLE_SETTINGS["smallBlind"]), int(TABLE_SETTINGS["bigBlind"]))
# Tables that deal their next hand by themselves at once: bots over WebSocket play on and on.
WS_TABLE_SETTINGS = {**TABLE_SETTINGS, "autoNextHand": True, "nextHandDelayMs": 0}


def seat_idle(client: httpx.Client, players: int) -> list[Seat]:
    """A new table of `WS_TABLE_SETTINGS` with `players` joined and no hand dealt yet (the bots'
    clients connect first and see the first hand start, with the session token of their
    welcome)."""
    table = seat_table(client, players, WS_TABLE_SETTINGS, deal=False)
    return [
        Seat(table.game_id, p.player_id, p.seat, p.token, p.client_id, 0, p.session)
        for p in table.players
    ]


def start_hand(client: httpx.Client, seat: Seat, session: str) -> None:
    headers = {"authorization": f"Bearer {session}"}
    expect(client.post(f"/api/game/{seat.game_id}/start", headers=headers))


@dataclass(slots=True)
class FanoutRun:
    """What one window saw."""

    window_s: float
    shares: list[FanoutShare]  # per client process
    server_cpu_s: list[float]  # per server process, CPU seconds inside the window
    machine_busy: float  # the share of every CPU of the machine busy inside the window
    table_size: int = 6

    @property
    def events(self) -> int:
        return sum(s.events for s in self.shares)

    @property
    def acks(self) -> int:
        return sum(s.acks for s in self.shares)

    @property
    def showdowns(self) -> float:
        """Showdowns inside the window, at all tables (each is seen by every player of its
        table: the frames are divided by the table size)."""
        return sum(s.showdowns for s in self.shares) / self.table_size

    @property
    def latencies(self) -> list[float]:
        return [x for s in self.shares for x in s.latencies]

    @property
    def errors(self) -> list[str]:
        return [e for s in self.shares for e in s.errors]


def run_fanout(
    http: httpx.Client,
    base_ws: str,
    tables: Sequence[list[Seat]],
    servers: Sequence[ServerProcess],
    *,
    processes: int,
    warmup_s: float,
    window_s: float,
    think_s: float = 0.0,
    on_window: Callable[[float, float], None] | None = None,
) -> FanoutRun:
    """Connect every player of `tables` at `base_ws` as bots, deal each table's first hand through
    `http` and count over `window_s` after `warmup_s`; `servers` are the processes whose CPU time
    is read. Bots act `think_s` (±50%) after their turn comes (0: at once). `on_window`, when
    given, is told the window's (start, end) `perf_counter` as soon as it is chosen, before the
    warm-up: a measurement beside the load starts there (in a thread of its own)."""
    ctx = context()
    out = ctx.Queue()
    go = ctx.Event()
    start_at = ctx.Value("d", 0.0)
    procs = [
        ctx.Process(
            target=fanout_process,
            args=(
                i,
                base_ws,
                [s for t in part for s in t],
                BLINDS,
                window_s,
                out,
                go,
                start_at,
                think_s,
            ),
            daemon=True,
        )
        for i, part in enumerate(shards(tables, processes))
    ]
    for proc in procs:
        proc.start()
    try:
        welcomed: dict[tuple[str, str], str] = {}
        for sessions in collect(out, procs, "ready").values():
            welcomed.update(sessions)
        for table in tables:
            first = table[0]
            start_hand(http, first, welcomed[(first.game_id, first.player_id)])
        begin = time.perf_counter() + warmup_s
        start_at.value = begin
        go.set()
        if on_window is not None:
            on_window(begin, begin + window_s)
        time.sleep(max(0.0, begin - time.perf_counter()))
        cpu0 = [cpu_seconds(s.pid) for s in servers]
        machine0 = machine_times()
        time.sleep(max(0.0, begin + window_s - time.perf_counter()))
        cpu = [cpu_seconds(s.pid) - c for s, c in zip(servers, cpu0, strict=True)]
        machine = machine_times()
        done: dict[int, FanoutShare] = collect(out, procs, "done")
    finally:
        stop(procs)
    busy, total = machine[0] - machine0[0], machine[1] - machine0[1]
    return FanoutRun(
        window_s,
        [done[i] for i in sorted(done)],
        cpu,
        busy / total if total else 0.0,
        len(tables[0]) if tables else 6,
    )


def machine_times() -> tuple[int, int]:
    """(busy, total) clock ticks of every CPU since boot, from the first line of /proc/stat."""
    with open("/proc/stat") as stat:
        fields = [int(x) for x in stat.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])  # guest time is already counted in user
    return total - idle, total
