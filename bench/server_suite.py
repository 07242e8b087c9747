"""The server benchmarks of `nox -s bench`: real `python -m rejoin_server` processes on SQLite and
PostgreSQL, measured from a client on loopback, beside a floor measured in the same run.

`run(dbs, console, quick=…)` measures and prints each figure as it comes; `render` prints the
table. Targets are printed as met or MISSED, never asserted. The floor is a bare Starlette app on
the same uvicorn (`server_floor.py`): the per-request floor for the reconnect and action round
trips, and the launch-to-answer floor for kill → answer. Ratios are ours / the compared figure.
"""

from __future__ import annotations

import asyncio
import statistics
from dataclasses import dataclass, field

from rich.console import Console

from bench import ours
from bench import server_bench as sb
from bench.databases import Databases
from bench.report import Target, columns_table, target_cell
from bench.server_procs import (
    ServerDatabases,
    discard,
    floor_proc,
    running,
    server_databases,
    server_proc,
)
from bench.stats import Summary, fmt_ms, fmt_ratio, ratio
from rejoin_server.games.base import GameEngine
from rejoin_server.games.poker import PokerEngine
from rejoin_testkit.processes import ServerProcess

SQLITE = "SQLite"
POSTGRES = "PostgreSQL"


@dataclass(frozen=True, slots=True)
class ServerPlan:
    floor_requests: int  # sequential echo round trips of the per-request floor
    reconnect_tables: int
    reconnect_seats: int  # players per table
    reconnect_rounds: int  # timed rounds, each player once per round
    burst_rounds: int  # timed rounds of every player at once
    restore_games: int  # games written, each restored once (first touch)
    restore_hands: int  # hands played before a game's mid-hand stop
    actions: int  # timed actions per variant
    kill_tables: int
    kill_seats: int
    kill_repeats: int
    settle_s: float  # pause before each kill (the server's warm-up and writes finish)


FULL_PLAN = ServerPlan(
    floor_requests=2000,
    reconnect_tables=8,
    reconnect_seats=6,
    reconnect_rounds=25,
    burst_rounds=20,
    restore_games=300,
    restore_hands=3,
    actions=1500,
    kill_tables=10,
    kill_seats=5,
    kill_repeats=10,
    settle_s=0.5,
)
QUICK_PLAN = ServerPlan(
    floor_requests=200,
    reconnect_tables=3,
    reconnect_seats=6,
    reconnect_rounds=5,
    burst_rounds=3,
    restore_games=40,
    restore_hands=2,
    actions=100,
    kill_tables=4,
    kill_seats=5,
    kill_repeats=5,
    settle_s=0.2,
)


@dataclass(frozen=True, slots=True)
class ServerRow:
    name: str
    db: str
    ours: Summary
    against: str = ""  # what `theirs` is
    theirs: Summary | None = None
    target: Target | None = None


@dataclass(slots=True)
class ServerResults:
    plan: ServerPlan
    rows: list[ServerRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class LaunchFloor:
    accept: Summary
    first: Summary
    all: Summary


class ServerSuite:
    def __init__(self, plan: ServerPlan, dbs: ServerDatabases, console: Console) -> None:
        self.plan = plan
        self.dbs = dbs
        self.console = console
        self.engine: GameEngine = PokerEngine()
        self.results = ServerResults(plan)
        self.stalls: list[str] = []

    def run(self) -> ServerResults:
        players = self.plan.kill_tables * self.plan.kill_seats
        bare = self.launch_floor("floor", players, server_imports=False)
        heavy = self.launch_floor("floor-imports", players, server_imports=True)
        self.results.notes.append(
            f"Launch floors (launch → answered, median): bare Starlette app "
            f"{fmt_ms(bare.first.median_ms)} (port accepting {fmt_ms(bare.accept.median_ms)}); "
            f"the same app importing rejoin_server.app first {fmt_ms(heavy.first.median_ms)}. "
            "uvicorn binds its port only once the app has started, so for these accept ≈ answer."
        )
        for db in (SQLITE, POSTGRES):
            with running(floor_proc(f"floor-{db}")) as floor:
                self.reconnect(db, floor)
                self.restore(db)
                self.actions(db, floor)
            self.kill(db, bare, heavy)
        self.stall_note()
        return self.results

    # --- the benchmarks ---------------------------------------------------------------------------

    def reconnect(self, db: str, floor: ServerProcess) -> None:
        plan = self.plan
        url = self.dbs.url(db == POSTGRES, "reconnect")
        with running(server_proc(url, f"reconnect-{db}")) as server:
            tables = sb.seat_players(server, plan.reconnect_tables, plan.reconnect_seats)
            one = sb.reconnect_sequential(server, tables, plan.reconnect_rounds)
            burst = sb.reconnect_burst(server, tables, plan.burst_rounds)
        players = len(burst.samples) // plan.burst_rounds
        floor_one = Summary.of(sb.floor_sequential(floor, plan.floor_requests).samples)
        floor_burst = sb.floor_burst(floor, players, plan.burst_rounds)
        ours_one = Summary.of(one.samples)
        self.row(
            ServerRow(
                f"reconnect, 1 at a time, {players} players",
                db,
                ours_one,
                "bare app POST",
                floor_one,
                Target("p99 ≤ 20 ms (spec 500)", ours_one.p99_ms <= 20),
            )
        )
        assert burst.wall_s is not None
        assert floor_burst.wall_s is not None
        self.row(
            ServerRow(
                f"reconnect, {players} at once",
                db,
                Summary.of(burst.samples, burst.wall_s),
                f"bare app, {players} at once",
                Summary.of(floor_burst.samples, floor_burst.wall_s),
            )
        )
        self.server_note(
            f"{db} reconnect 1 at a time", "rejoin_reconnect_seconds", one, sequential=True
        )
        self.server_note(
            f"{db} reconnect {players} at once", "rejoin_reconnect_seconds", burst, sequential=False
        )

    def restore(self, db: str) -> None:
        plan = self.plan
        url = self.dbs.url(db == POSTGRES, "restore")
        with running(server_proc(url, f"restore-{db}")) as server:
            written = asyncio.run(
                sb.write_games(url, self.engine, plan.restore_games + 1, plan.restore_hands)
            )
            http = sb.restore_first_touch(server, written)
        local = asyncio.run(sb.restore_in_process(url, self.engine, written))
        ours_s = Summary.of(http.samples)
        self.row(
            ServerRow(
                "restore, first touch",
                db,
                ours_s,
                "in-process load",
                Summary.of(local.samples),
                Target("p99 ≤ 10 ms (spec 100)", ours_s.p99_ms <= 10),
            )
        )
        replayed = statistics.median(written.replayed) if written.replayed else 0
        self.note(
            f"{db} restore: games of {written.events // max(1, len(written.game_ids))} events "
            f"on average ({plan.restore_hands} hands, then stopped after the flop), written "
            "while the server ran (its start-up warm-up never saw them); restore starts from the "
            f"hand-boundary snapshot and applies {replayed:g} events (median). The in-process "
            "load is restore() + recent_actions() in the benchmark's process, as GameHost._load."
        )
        self.server_note(
            f"{db} restore (the load alone)", "rejoin_restore_seconds", http, sequential=True
        )

    def actions(self, db: str, floor: ServerProcess) -> None:
        plan = self.plan
        postgres = db == POSTGRES
        with running(server_proc(self.dbs.url(postgres, "action"), f"action-{db}")) as server:
            strict = sb.actions_http(server, plan.actions)
        relaxed_url = self.dbs.url(postgres, "action_relaxed")
        relaxed_proc = server_proc(relaxed_url, f"action-relaxed-{db}", durability="relaxed")
        with running(relaxed_proc) as server:
            relaxed = sb.actions_http(server, plan.actions)
        local_url = self.dbs.url(postgres, "action_local")
        ours.prepare(local_url)
        via_host, bare = asyncio.run(
            sb.actions_host(local_url, self.engine, "strict", plan.actions)
        )
        floor_s = Summary.of(sb.floor_sequential(floor, plan.floor_requests).samples)
        strict_s, relaxed_s = Summary.of(strict.samples), Summary.of(relaxed.samples)
        host_s, bare_s = Summary.of(via_host.samples), Summary.of(bare.samples)
        self.row(
            ServerRow(
                "action over HTTP, strict",
                db,
                strict_s,
                "bare app POST",
                floor_s,
                Target("p50 ≤ 2 ms (spec 10)", strict_s.median_ms <= 2),
            )
        )
        self.row(ServerRow("  in-process GameHost.execute", db, host_s))
        self.row(ServerRow("  in-process handle + append", db, bare_s))
        self.row(
            ServerRow(
                "action over HTTP, relaxed",
                db,
                relaxed_s,
                "HTTP strict",
                strict_s,
                Target("p50 ≤ 2 ms (spec 10)", relaxed_s.median_ms <= 2),
            )
        )
        http_part = strict_s.median_ms - host_s.median_ms
        host_part = host_s.median_ms - bare_s.median_ms
        api_part = http_part - floor_s.median_ms
        self.note(
            f"{db} action, medians: HTTP strict {fmt_ms(strict_s.median_ms)} = in-process "
            f"GameHost.execute {fmt_ms(host_s.median_ms)} + {fmt_ms(http_part)} for the client, "
            f"HTTP, uvicorn, Starlette and the API (auth, body, answer). The bare app's whole "
            f"round trip is {fmt_ms(floor_s.median_ms)}, so the API's own share is "
            f"{_share(api_part)}. "
            f"GameHost.execute = handle + append {fmt_ms(bare_s.median_ms)} + "
            f"{_share(host_part)} for the host (lock, dedup, writer queue, publish, clock). "
            f"Relaxed / strict over HTTP: "
            f"{fmt_ratio(ratio(relaxed_s.median_ms, strict_s.median_ms))}."
        )
        showdowns = bare.extra.get("showdown handle", [])
        if showdowns:
            shown = Summary.of(showdowns)
            self.note(
                f"{db} action tails: every hand here ends in a 6-way showdown (the players only "
                f"check and call), and the action that ends it spends {fmt_ms(shown.median_ms)} "
                f"(median, max {fmt_ms(max(showdowns) * 1e3)}) in PokerTable.handle alone "
                f"({shown.count} showdowns): pokerkit evaluating "
                "every hand on the event loop. That, not HTTP or the store, is the p99 of every "
                "action row, in-process ones included."
            )
        for label, timed in (("strict", strict), ("relaxed", relaxed)):
            self.server_note(
                f"{db} action {label}", "rejoin_action_seconds", timed, sequential=True
            )

    def kill(self, db: str, bare: LaunchFloor, heavy: LaunchFloor) -> None:
        plan = self.plan
        url = self.dbs.url(db == POSTGRES, "kill")
        server = server_proc(url, f"kill-{db}")
        try:
            server.start_ready()
            tables = sb.seat_players(server, plan.kill_tables, plan.kill_seats)
            storms = sb.kill_storms(server, tables, plan.kill_repeats, plan.settle_s)
        finally:
            discard(server)
        players = len(storms[0].answers)
        first = Summary.of([s.first_s for s in storms])
        everyone = Summary.of([s.all_s for s in storms])
        target = "max ≤ 600 ms"
        self.row(
            ServerRow(
                "kill -9 → first answer",
                db,
                first,
                "bare app: launch → answer",
                bare.first,
                Target(target, first.p99_ms <= 600),
            )
        )
        self.row(
            ServerRow(
                f"kill -9 → all {players} answered",
                db,
                everyone,
                f"bare app: → {players} answered",
                bare.all,
                Target(target, everyone.p99_ms <= 600),
            )
        )
        self.row(
            ServerRow(
                "  kill → port accepts",
                db,
                Summary.of([s.accept_s for s in storms]),
                "bare app: launch → accept",
                bare.accept,
            )
        )
        listening = [s.listening_s for s in storms if s.listening_s is not None]
        if listening:
            self.row(
                ServerRow(
                    "  kill → 'listening' printed",
                    db,
                    Summary.of(listening),
                    "bare app + server imports",
                    heavy.first,
                )
            )
        dead = statistics.median(s.dead_s for s in storms)
        spawned = statistics.median(s.spawned_s for s in storms)
        retries = statistics.median(s.retries for s in storms)
        per_player = Summary.of([a for s in storms for a in s.answers])
        self.note(
            f"{db} kill -9 ({plan.kill_repeats} times, {players} players at "
            f"{plan.kill_tables} tables mid-hand; medians from the kill): reaped "
            f"{fmt_ms(dead * 1e3)}, relaunched (Popen returned) {fmt_ms(spawned * 1e3)}, port "
            f"accepting {fmt_ms(Summary.of([s.accept_s for s in storms]).median_ms)}, "
            f"'listening' printed (imports, database check, app built) "
            f"{fmt_ms(Summary.of(listening).median_ms) if listening else '?'}, first answer "
            f"{fmt_ms(first.median_ms)}, all answered {fmt_ms(everyone.median_ms)}; a player's "
            f"answer p50 {fmt_ms(per_player.median_ms)} p99 {fmt_ms(per_player.p99_ms)}. A probe "
            f"dials every {sb.PROBE_S * 1e3:g} ms; once the port accepts, every player sends its "
            "reconnect, which waits in the listen queue until the app answers "
            f"({retries:g} retried, median)."
        )

    def launch_floor(self, name: str, clients: int, *, server_imports: bool) -> LaunchFloor:
        proc = floor_proc(name, server_imports=server_imports)
        try:
            proc.start_ready()
            storms = sb.floor_storms(proc, clients, self.plan.kill_repeats, self.plan.settle_s)
        finally:
            discard(proc)
        return LaunchFloor(
            Summary.of([s.accept_s for s in storms]),
            Summary.of([s.first_s for s in storms]),
            Summary.of([s.all_s for s in storms]),
        )

    # --- printing ---------------------------------------------------------------------------------

    def note(self, text: str) -> None:
        self.results.notes.append(text)

    def server_note(self, what: str, metric: str, timed: sb.Timed, *, sequential: bool) -> None:
        """The server's own histogram of the timed requests. For requests sent one at a time,
        remember when the client waited far longer than the handler ran: time lost outside the
        app (the transport, the event loop)."""
        if timed.server is None or not timed.server.count:
            return
        self.note(f"{what}: the server's {metric}: {timed.server.describe()}.")
        gap = Summary.of(timed.samples).median_ms - timed.server.mean_ms()
        if sequential and gap >= sb.STALL_MS:
            self.stalls.append(f"{what} +{fmt_ms(gap)}")

    def stall_note(self) -> None:
        if not self.stalls:
            return
        self.note(
            "One request at a time, the client's median exceeds the handler's own mean by "
            f"{', '.join(self.stalls)}: the answer waits outside the app. About 40 ms is Nagle's "
            "algorithm meeting delayed ACKs (the answer's head and body leave as two segments): "
            "the server's accepted sockets lack TCP_NODELAY. asyncio sets it only on sockets whose "
            "proto is IPPROTO_TCP, and a listening socket made by socket.socket(family, "
            "SOCK_STREAM) has proto 0, as do the connections it accepts. The bare app's socket, "
            "made by uvicorn through getaddrinfo, has it."
        )

    def row(self, row: ServerRow) -> None:
        self.results.rows.append(row)
        print_row(self.console, row)


def print_row(console: Console, row: ServerRow) -> None:
    """One figure as it comes, on one line (the table at the end repeats them all)."""
    mine, theirs = row.ours, row.theirs
    line = (
        f"{row.name.strip()} · {row.db}: p50 {fmt_ms(mine.median_ms)} "
        f"p99 {fmt_ms(mine.p99_ms)} (n={mine.count})"
    )
    if mine.rate:
        line += f" {mine.rate:,.0f}/s"
    if theirs is not None:
        line += (
            f" | {row.against} p50 {fmt_ms(theirs.median_ms)} p99 {fmt_ms(theirs.p99_ms)}"
            f" | ratio p50 {fmt_ratio(ratio(mine.median_ms, theirs.median_ms))}"
        )
    if row.target is not None:
        line += f" | target {row.target.text}: {'met' if row.target.met else 'MISSED'}"
    console.print(line, highlight=False)


def _share(ms: float) -> str:
    return f"about {fmt_ms(ms)}" if ms > 0 else "nothing measurable (within noise)"


def run(dbs: Databases, console: Console, *, quick: bool) -> ServerResults:
    """Every server benchmark on SQLite and PostgreSQL (databases of their own, dropped after)."""
    plan = QUICK_PLAN if quick else FULL_PLAN
    with server_databases(dbs) as made:
        return ServerSuite(plan, made, console).run()


def render(results: ServerResults, console: Console) -> None:
    render_rows(
        console,
        "rejoin server benchmarks (real server processes, client on loopback; "
        "floor = bare Starlette app on the same uvicorn)",
        results.rows,
        "Server notes:",
        results.notes,
        "p99 is nearest-rank: with fewer than 100 samples (kill -9 rows: one per repeat) it is the "
        "maximum. Ratios are ours / the compared figure (below 1x: ours takes less time).",
    )


def render_rows(
    console: Console,
    title: str,
    rows: list[ServerRow],
    notes_heading: str,
    notes: list[str],
    footer: str,
) -> None:
    """The closing table of a server-side suite (this one and the WebSocket one), its notes."""
    table = columns_table(
        title,
        (
            ("benchmark", "left"),
            ("db", "left"),
            ("n", "right"),
            ("p50", "right"),
            ("p99", "right"),
            ("/s", "right"),
            ("compared with", "left"),
            ("its p50", "right"),
            ("its p99", "right"),
            ("p50 ratio", "right"),
            ("p99 ratio", "right"),
            ("target", "left"),
        ),
    )
    for row in rows:
        mine, theirs = row.ours, row.theirs
        cells = [
            row.name,
            row.db,
            str(mine.count),
            fmt_ms(mine.median_ms),
            fmt_ms(mine.p99_ms),
            f"{mine.rate:,.0f}" if mine.rate else "",
        ]
        if theirs is not None:
            cells += [
                row.against,
                fmt_ms(theirs.median_ms),
                fmt_ms(theirs.p99_ms),
                fmt_ratio(ratio(mine.median_ms, theirs.median_ms)),
                fmt_ratio(ratio(mine.p99_ms, theirs.p99_ms)),
            ]
        else:
            cells += [""] * 5
        table.add_row(*cells, target_cell(row.target))
    console.print(table)
    console.print(notes_heading, style="bold")
    for note in notes:
        console.print(f"- {note}", highlight=False)
    console.print(footer, highlight=False)
