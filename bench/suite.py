"""The benchmark suite: runs every benchmark on SQLite and PostgreSQL, ours then the peer's, and
prints each result as it comes and a final table with the targets and the ratios ours/theirs.

Figures are medians and p99 of per-operation latencies, and durable actions per second where
throughput matters. The machine is small and noisy: compare the ratios measured in one run, not
absolute times across runs.

The cost of private data at rest (`sealing`: appends and a mid-hand restore with data keys beside
the same in the clear) follows ours; `--only seal` runs it alone.

`--only live` runs ours alone on the live-play rows (100 tables playing on each database, then
the store alone replaying the same batches), to measure that one figure.

The WebSocket benchmarks (`ws_suite`) come next. `--only ws` runs them alone (`--only rtt`,
`fanout`, `storm` or `peer`: one of them), e.g. `python bench/run.py --only ws --quick`. Then the
ASGI servers' WebSocket cost (`asgi_suite`: uvicorn's implementations and Granian, on the bare app
and on ours); `--only asgi` runs it alone. Then the cluster ones (`cluster_suite`: nodes on one
PostgreSQL behind HAProxy); `--only cluster` runs them alone. The browser ones (`browser`:
headless Chromium + Pyodide) come next; `--only browser` runs them alone, `--only resume` only
their kill -9 resume (the table pages and, beside them, Chromium's own EventSource). Last, the README's
serve command (`nox -s serve`) killed and restarted beside `rejoin-server` started directly
(`serve_restart`); `--only serve` runs it alone; and the CPython SDK's resume after kill -9 with
`transport="sse"` beside `transport="websocket"` (`sdk_resume`); `--only sdk` runs it alone.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench import (
    asgi_suite,
    browser,
    cluster_suite,
    goals,
    ours,
    peer,
    profiler,
    sdk_resume,
    sealing,
    serve_restart,
    server_suite,
    ws_suite,
)
from bench.databases import Databases, bench_databases
from bench.goals import Goal
from bench.report import Target, columns_table, target_cell
from bench.stats import Summary, fmt_ms, fmt_ratio, ratio
from bench.workload import SEATS, AppendRun, Recording
from rejoin_server.games.base import GameEngine
from rejoin_server.games.poker import PokerEngine

SQLITE = "SQLite"
POSTGRES = "PostgreSQL"


@dataclass(frozen=True, slots=True)
class Plan:
    single_actions: int  # commands timed on the 1-table run
    tables: int
    table_actions: int  # commands timed per table on the many-table runs
    hands: int  # hands played before the restored mid-hand state
    restore_repeats: int
    size_hands: int  # hands played before measuring a snapshot's size


FULL = Plan(
    single_actions=5000,
    tables=100,
    table_actions=120,
    hands=50,
    restore_repeats=500,
    size_hands=20,
)
QUICK = Plan(
    single_actions=300, tables=100, table_actions=5, hands=50, restore_repeats=30, size_hands=5
)


@dataclass(slots=True)
class Row:
    name: str
    db: str
    ours: Summary
    theirs: Summary | None
    target: Target | None = None


@dataclass(slots=True)
class Results:
    rows: list[Row] = field(default_factory=list)
    sizes: dict[int, dict[str, int]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)


class Suite:
    """`peer=False`: ours alone, no eventsourcing run beside it (`--only live`)."""

    def __init__(self, plan: Plan, dbs: Databases, console: Console, *, peer: bool = True) -> None:
        self.plan = plan
        self.dbs = dbs
        self.console = console
        self.peer = peer
        self.engine: GameEngine = PokerEngine()
        self.results = Results()
        self.recordings: list[Recording] = []

    # Where each side writes.

    def ours_url(self, db: str, name: str) -> str:
        if db == SQLITE:
            url = self.dbs.sqlite_url(f"ours-{name}")
            ours.prepare(url)
            return url
        return self.dbs.postgres_url

    def peer_env(self, db: str, name: str, pool_size: int | None = None) -> dict[str, str]:
        if db == SQLITE:
            return peer.sqlite_env(str(self.dbs.sqlite_path(f"peer-{name}")))
        url = self.dbs.postgres
        return peer.postgres_env(
            url.host or "127.0.0.1",
            url.port or 5432,
            url.database or "",
            url.username or "postgres",
            url.password or "",
            pool_size,
        )

    # Benchmarks.

    def run(self) -> Results:
        ours.prepare(self.dbs.postgres_url)
        for db in (SQLITE, POSTGRES):
            self.append_single(db)
            self.append_many(db)
            self.append_replayed(db)
            self.restore(db)
        self.snapshot_sizes()
        self.note_unevenness()
        return self.results

    def run_live(self) -> Results:
        """The live-play rows alone, ours only (`--only live`): the game's CPU on the loop and the
        store, then the store alone replaying the same batches."""
        ours.prepare(self.dbs.postgres_url)
        for db in (SQLITE, POSTGRES):
            self.append_many(db)
            self.append_replayed(db)
        return self.results

    def append_single(self, db: str) -> None:
        n = self.plan.single_actions
        mine = asyncio.run(ours.append_live(self.ours_url(db, "append1"), self.engine, "one", 1, n))
        theirs = peer.append_live(self.peer_env(db, "append1"), "one", 1, n)
        limit = 0.5 if db == SQLITE else 1.0
        ours_s = self._summary(mine)
        self._row(
            "append, 1 table",
            db,
            ours_s,
            self._summary(theirs),
            Target(f"p50 ≤ {limit:g} ms", ours_s.median_ms <= limit),
        )

    def append_many(self, db: str) -> None:
        tables, n = self.plan.tables, self.plan.table_actions
        record = not self.recordings
        mine = asyncio.run(
            ours.append_live(
                self.ours_url(db, "append100"), self.engine, "many", tables, n, record=record
            )
        )
        if record:
            self.recordings = mine.recordings
        pool = peer.POSTGRES_POOL_SIZE_100 if db == POSTGRES else None
        theirs = None
        if self.peer:
            theirs = peer.append_live(self.peer_env(db, "append100", pool), "many", tables, n)
        ours_s = self._summary(mine)
        target = None
        if db == POSTGRES:
            rate = ours_s.rate or 0.0
            target = Target("≥ 3,000 actions/s", rate >= 3000)
            self.results.goals.append(
                Goal(
                    f"live durable actions/s, one node, {tables} tables",
                    db,
                    f"{rate:,.0f}/s",
                    "≥ 3,000/s",
                    rate >= 3000,
                )
            )
        self._row(
            f"append, {tables} tables, live play",
            db,
            ours_s,
            self._summary(theirs) if theirs is not None else None,
            target,
        )
        per_command = mine.game_s / max(1, len(mine.latencies))
        self.results.notes.append(
            f"{db}, {tables} tables, live play: the game itself (handle + the bots' view calls) "
            f"took {per_command * 1e3:.2f} ms per command on the event loop, "
            f"{mine.game_s / mine.wall_s:.0%} of the wall time: at most "
            f"{1 / per_command:,.0f} commands/s on one core before any storage work."
        )
        for run in (mine, theirs):
            if run is not None and run.games_completed:
                self.results.notes.append(
                    f"{db}, {tables} tables: {run.games_completed} table(s) ended (one player won "
                    "every chip) and were replaced by new ones, untimed."
                )

    def append_replayed(self, db: str) -> None:
        """The store alone: the very batches of the live run, replayed with no game CPU."""
        recs = self.recordings
        mine = asyncio.run(ours.append_replay(self.ours_url(db, "replay"), "replay", recs))
        pool = peer.POSTGRES_POOL_SIZE_100 if db == POSTGRES else None
        theirs = None
        if self.peer:
            theirs = peer.append_replay(self.peer_env(db, "replay", pool), "replay", recs)
        ours_s = self._summary(mine)
        target = None
        if db == POSTGRES:
            target = Target("≥ 3,000 actions/s", (ours_s.rate or 0.0) >= 3000)
        self._row(
            f"append, {len(recs)} tables, store only",
            db,
            ours_s,
            self._summary(theirs) if theirs is not None else None,
            target,
        )

    def restore(self, db: str) -> None:
        game_id = f"restore-{db.lower()}"
        run, rec, live = asyncio.run(
            ours.restore_mid_hand(
                self.ours_url(db, "restore"),
                self.engine,
                game_id,
                self.plan.hands,
                self.plan.restore_repeats,
            )
        )
        theirs = peer.reconstruct(
            self.peer_env(db, "restore"), rec, live, self.plan.restore_repeats
        )
        ours_s = Summary.of(run.latencies)
        self._row(
            f"restore mid-hand, {self.plan.hands} hands in",
            db,
            ours_s,
            Summary.of(theirs.latencies),
            Target("p99 ≤ 10 ms", ours_s.p99_ms <= 10),
        )
        self._row(
            "  its storage part only",
            db,
            Summary.of(run.extra["storage"]),
            Summary.of(theirs.extra["storage"]),
        )
        self.results.notes.append(
            f"{db} restore: our log holds {run.events} events; restore starts from the snapshot "
            f"at seq {run.snapshot_version} and applies {run.replayed}. The peer's aggregate holds "
            f"{theirs.events} events (its creation event + the same {run.events}), snapshot at "
            f"version {theirs.snapshot_version}, {theirs.replayed} after it. Both restored states "
            "were checked equal to the live one on every repeat. Of our restore, "
            f"engine.load of the hand-boundary snapshot alone takes "
            f"{fmt_ms(Summary.of(run.extra['engine.load']).median_ms)} (median)."
        )

    def snapshot_sizes(self) -> None:
        for seats in (6, 9):
            sizes: dict[str, int] = {}
            for db in (SQLITE, POSTGRES):
                url = self.ours_url(db, f"size{seats}")
                measured = asyncio.run(
                    ours.snapshot_sizes(url, self.engine, seats, self.plan.size_hands)
                )
                sizes.update(measured)
            self.results.sizes[seats] = sizes
            self.console.print(f"snapshot size, {seats} seats: {sizes}")

    def note_unevenness(self) -> None:
        app = peer.PeerApp(env=self.peer_env(SQLITE, "pragma"))
        try:
            sync = peer.sqlite_synchronous(app)
        finally:
            app.close()
        modes = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
        self.results.notes.extend(
            [
                f"SQLite: eventsourcing's connections run synchronous={modes.get(sync, sync)} "
                "(its default, WAL) and ours NORMAL (WAL): each of its commits waits for an "
                "fsync of the WAL, ours do not (both survive kill -9; ours may lose the last "
                "commits on an OS crash).",
                "PostgreSQL: same server and database for both, synchronous_commit as configured. "
                "eventsourcing's recorder takes LOCK TABLE … IN EXCLUSIVE MODE and sends NOTIFY in "
                "every insert transaction (its default, for a gapless notification log), which "
                "serializes its writers; we group-commit on one writer connection.",
                f"Peer with {self.plan.tables} tables: one thread per table; its PostgreSQL pool is "
                f"{peer.POSTGRES_POOL_SIZE_100} connections (max_overflow 0): writes serialize on "
                "its table lock anyway and 100 would exhaust max_connections. 1 table: its default "
                "pool.",
                "Timed per action: ours = take_snapshot at a hand boundary + await append (one "
                "transaction with the snapshot); peer = trigger the events + app.save, and at a "
                "hand boundary put a snapshot (a second transaction: its snapshot store is "
                "separate).",
                "Live many-table latencies include waiting for the other tables' game CPU "
                "(pokerkit; per-command figure above): the event loop for ours, the GIL for the "
                "peer's threads. The 'store only' rows replay the same batches without it.",
            ]
        )

    # Helpers.

    def _summary(self, run: AppendRun) -> Summary:
        return Summary.of(run.latencies, run.wall_s)

    def _row(
        self,
        name: str,
        db: str,
        mine: Summary,
        theirs: Summary | None,
        target: Target | None = None,
    ) -> None:
        self.results.rows.append(Row(name, db, mine, theirs, target))
        line = f"{name.strip()} · {db}: ours p50 {fmt_ms(mine.median_ms)} p99 {fmt_ms(mine.p99_ms)}"
        if mine.rate:
            line += f" {mine.rate:,.0f}/s"
        if theirs is not None:
            line += (
                f" | eventsourcing p50 {fmt_ms(theirs.median_ms)} p99 {fmt_ms(theirs.p99_ms)}"
                + (f" {theirs.rate:,.0f}/s" if theirs.rate else "")
                + f" | ours/theirs p50 {fmt_ratio(ratio(mine.median_ms, theirs.median_ms))}"
            )
        if target is not None:
            line += f" | target {target.text}: {'met' if target.met else 'MISSED'}"
        self.console.print(line, highlight=False)


def render(results: Results, plan: Plan, console: Console, elapsed: float) -> None:
    table = columns_table(
        "rejoin benchmarks (ours vs eventsourcing 9.5.6, same databases)",
        (
            ("benchmark", "left"),
            ("db", "left"),
            ("ours p50", "right"),
            ("ours p99", "right"),
            ("ours/s", "right"),
            ("theirs p50", "right"),
            ("theirs p99", "right"),
            ("theirs/s", "right"),
            ("ours/theirs p50", "right"),
            ("p99", "right"),
            ("/s", "right"),
            ("target", "left"),
        ),
    )
    for row in results.rows:
        mine, theirs = row.ours, row.theirs
        cells = [
            row.name,
            row.db,
            fmt_ms(mine.median_ms),
            fmt_ms(mine.p99_ms),
            _rate(mine.rate),
        ]
        if theirs is not None:
            cells += [
                fmt_ms(theirs.median_ms),
                fmt_ms(theirs.p99_ms),
                _rate(theirs.rate),
                fmt_ratio(ratio(mine.median_ms, theirs.median_ms)),
                fmt_ratio(ratio(mine.p99_ms, theirs.p99_ms)),
                fmt_ratio(ratio(mine.rate, theirs.rate)) if mine.rate and theirs.rate else "",
            ]
        else:
            cells += [""] * 6
        table.add_row(*cells, target_cell(row.target))
    console.print(table)

    sizes = Table(
        title=f"stored snapshot size, mid-hand (after the flop of hand {plan.size_hands + 1})"
    )
    for header in (
        "seats",
        "canonical JSON",
        "largest mid-hand seen",
        "SQLite stored",
        "PG pg_column_size",
        "PG JSONB as text",
        "target",
    ):
        sizes.add_column(header, justify="right" if header != "target" else "left")
    for seats, measured in sorted(results.sizes.items()):
        target = ""
        if seats == 6:
            met = measured["canonical"] <= 600
            target = f"≤ 600 B (spec 1 KB) {'[green]met[/]' if met else '[red]MISSED[/]'}"
        sizes.add_row(
            str(seats),
            f"{measured['canonical']} B",
            f"{measured['largest mid-hand']} B",
            f"{measured.get('stored', 0)} B",
            f"{measured.get('pg_column_size', 0)} B",
            f"{measured.get('jsonb as text', 0)} B",
            target,
        )
    if results.sizes:  # none measured with `--only live`
        console.print(sizes)
    console.print("Notes:", style="bold")
    for note in results.notes:
        console.print(f"- {note}", highlight=False)
    console.print(
        "Ratios are ours/theirs: below 1x we take less time; for /s above 1x we do more. "
        f"{SEATS}-seat tables, random legal actions, player ids of 32 hex characters. "
        f"Total {elapsed:.0f} s.",
        highlight=False,
    )


def _rate(value: float | None) -> str:
    return f"{value:,.0f}" if value else ""


def compile_sources() -> None:
    """Write the bytecode of our packages, as installing them from a wheel does. A checkout
    installed editable has none until a process writes it, and none is written where
    PYTHONDONTWRITEBYTECODE is set: every relaunched server would then compile its modules
    again, a cost no deployment pays (and the floor app, whose libraries came as wheels, does
    not pay either)."""
    import compileall

    import rejoin_protocol
    import rejoin_server

    for package in (rejoin_server, rejoin_protocol):
        compileall.compile_dir(Path(str(package.__file__)).parent, quiet=1)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench/run.py", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="small counts (a few minutes): a smoke test"
    )
    parser.add_argument(
        "--only",
        choices=[
            "ws",
            "rtt",
            "fanout",
            "storm",
            "peer",
            "asgi",
            "cluster",
            "browser",
            "resume",
            "live",
            "serve",
            "seal",
            "sdk",
        ],
        help="only the WebSocket benchmarks (ws), or one of them, or the ASGI servers' (asgi), "
        "or the cluster ones, or the browser ones, or their kill -9 resume alone (resume: the "
        "table pages and Chromium's own EventSource beside them), or ours alone on the live-play "
        "rows (live: "
        "100 tables playing, then the store alone), or the README's serve command restarted after a "
        "kill -9 beside rejoin-server started directly (serve), or the cost of private data at "
        "rest: appends and restores with data keys beside the same in the clear (seal), or the "
        "CPython SDK's resume after kill -9 over SSE beside the WebSocket (sdk)",
    )
    parser.add_argument(
        "--profile-dir",
        type=Path,
        default=profiler.DEFAULT_OUT,
        help="where py-spy's flame graphs of profiled runs go (default: bench/out)",
    )
    parser.add_argument("--no-profile", action="store_true", help="skip the profiled runs (py-spy)")
    args = parser.parse_args(argv)
    profiles = profiler.Profiler(None if args.no_profile else args.profile_dir)
    compile_sources()
    plan = QUICK if args.quick else FULL
    console = Console(width=None if sys.stdout.isatty() else 180)
    began = time.perf_counter()
    if args.only == "serve":  # a SQLite file of its own: no PostgreSQL needed
        restarts = serve_restart.run(console, quick=args.quick)
        serve_restart.render(restarts, console)
        goals.render(restarts.goals, console)
        return 0
    if args.only == "sdk":  # a SQLite file of its own: no PostgreSQL needed
        transports = sdk_resume.run(console, quick=args.quick)
        sdk_resume.render(transports, console)
        goals.render(transports.goals, console)
        return 0
    if args.only in ("browser", "resume"):  # SQLite files of its own: no PostgreSQL needed
        pages = browser.run(console, quick=args.quick, resume_only=args.only == "resume")
        browser.render(pages, console)
        goals.render(pages.goals, console)
        return 0
    with bench_databases() as dbs:
        console.print(
            f"databases: {dbs.postgres.render_as_string()} and SQLite in {dbs.sqlite_dir}"
        )
        if args.only == "seal":
            sealed = sealing.run(dbs, console, quick=args.quick)
            sealing.render(sealed, console)
            goals.render(sealed.goals, console)
            return 0
        if args.only == "live":
            results = Suite(plan, dbs, console, peer=False).run_live()
            render(results, plan, console, time.perf_counter() - began)
            goals.render(results.goals, console)
            return 0
        if args.only is None:
            results = Suite(plan, dbs, console).run()
            sealed = sealing.run(dbs, console, quick=args.quick)
            served = server_suite.run(dbs, console, quick=args.quick)
        if args.only not in ("asgi", "cluster"):
            sockets = ws_suite.run(
                dbs, console, quick=args.quick, only=args.only, profiler=profiles
            )
        if args.only in (None, "asgi"):
            servers = asgi_suite.run(dbs, console, quick=args.quick)
        if args.only in (None, "cluster"):
            clustered = cluster_suite.run(dbs, console, quick=args.quick)
    if args.only is None:
        pages = browser.run(console, quick=args.quick)
        restarts = serve_restart.run(console, quick=args.quick)
        transports = sdk_resume.run(console, quick=args.quick)
        render(results, plan, console, time.perf_counter() - began)
        sealing.render(sealed, console)
        server_suite.render(served, console)
    if args.only not in ("asgi", "cluster"):
        ws_suite.render(sockets, console)
    if args.only in (None, "asgi"):
        asgi_suite.render(servers, console)
    if args.only in (None, "cluster"):
        cluster_suite.render(clustered, console)
        console.print(f"Total {time.perf_counter() - began:.0f} s.", highlight=False)
    if args.only is None:
        browser.render(pages, console)
        serve_restart.render(restarts, console)
        sdk_resume.render(transports, console)
    measured: list[Goal] = []
    if args.only is None:
        measured += results.goals + sealed.goals + pages.goals + restarts.goals
        measured += transports.goals
    if args.only not in ("asgi", "cluster"):
        measured += sockets.goals
    goals.render(measured, console)
    return 0
