"""The cluster benchmarks of `nox -s bench` (docs/cluster.md): real nodes on one PostgreSQL, real
HAProxy in front (`rejoin-server proxy-config`), WebSocket clients on loopback, and the figures
they are read against measured in the same run.

- **failover storm** (`cluster_storm`): 1,002 players at 167 tables through HAProxy to 2 nodes;
  kill -9 one node → every one of its players welcomed by the other; kill -9 both and relaunch →
  every player welcomed. Beside them, the single-node storm on PostgreSQL and the bare app's
  floor (`ws_suite`), run first.
- **live durable actions/s** (`cluster_rate`): 100 tables of bots over WebSocket on 1 node
  (direct, then behind HAProxy) and on 2 nodes behind HAProxy; the ratio of 2 nodes to 1.
- **handover** (`cluster_handover`): a request for a game on the node that does not host it,
  beside the same request on the node that does.
- **drain** (`cluster_drain`): `POST /api/cluster/drain` on a node holding 50 games with their
  players connected → its /healthz at 0 games, every player welcomed elsewhere, every game
  answered by the other node.

`python bench/run.py --only cluster [--quick]` runs this part alone.
"""

from __future__ import annotations

import dataclasses
import functools
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from rich.console import Console

from bench import server_bench as sb
from bench.cluster_clients import Followers, rebalance
from bench.cluster_drain import DrainRun, drain
from bench.cluster_handover import handover
from bench.cluster_procs import Cluster, cluster, touch
from bench.cluster_rate import SETUPS, RateRun, measure, ws_url
from bench.cluster_storm import FailoverRun, kill_all, kill_one
from bench.databases import POSTGRES, Databases
from bench.report import Target
from bench.server_games import play_http, seat_table, view_of
from bench.server_procs import ServerDatabases, server_databases
from bench.server_suite import ServerRow, print_row, render_rows
from bench.stats import Summary, fmt_ms
from bench.ws_clients import Seat, seats_of
from bench.ws_suite import FULL_WS, WsResults, WsSuite
from rejoin_server.api.cluster import DRAIN_GRACE_S

DB = "PG, 2 nodes"
BACK_GOAL_S = 1.0  # kill one node → all its players welcomed again
RATE_GOAL = 3000.0  # actions/s on 2 nodes
SCALE_GOAL = 1.7  # 2 nodes over 1
HANDOVER_GOAL_MS = 100.0
DRAIN_GOAL_S = 1.0


@dataclass(frozen=True, slots=True)
class ClusterPlan:
    storm_tables: int  # of 6 players
    kills: int  # kill -9 of one node (alternating), each followed by a relaunch and a rebalance
    full_kills: int  # kill -9 of both nodes, relaunched at once
    single_storms: int  # the single-node storm and the floor's, for comparison
    rate_tables: int
    rate_warmup_s: float
    rate_window_s: float
    handover_moves: int
    drain_games: int
    drains: int
    processes: int = 2  # client worker processes
    settle_s: float = 0.5  # idle time before a kill
    quiet_s: float = 0.5  # no socket moved for this long: the clients have settled


FULL_CLUSTER = ClusterPlan(
    storm_tables=167,
    kills=2,
    full_kills=1,
    single_storms=2,
    rate_tables=100,
    rate_warmup_s=2.0,
    rate_window_s=6.0,
    handover_moves=200,
    drain_games=50,
    drains=3,
)
QUICK_CLUSTER = ClusterPlan(
    storm_tables=167,
    kills=1,
    full_kills=1,
    single_storms=1,
    rate_tables=50,  # a smoke test: half the tables to seat, three times over
    rate_warmup_s=1.0,
    rate_window_s=3.0,
    handover_moves=60,
    drain_games=50,
    drains=1,
    settle_s=0.3,
)


class ClusterSuite:
    def __init__(self, plan: ClusterPlan, dbs: ServerDatabases, console: Console) -> None:
        self.plan = plan
        self.dbs = dbs
        self.console = console
        self.results = WsResults()

    def run(self) -> WsResults:
        began = time.perf_counter()
        single, per_client = self.single_storm()
        self._took("single-node storm and floor", began)
        parts: tuple[tuple[str, Callable[[], None]], ...] = (
            ("cluster storm", functools.partial(self.storms, single, per_client)),
            ("actions/s", self.rates),
            ("handover", self.handover),
            ("drain", self.drains),
        )
        for name, part in parts:
            began = time.perf_counter()
            part()
            self._took(name, began)
        return self.results

    def _took(self, name: str, began: float) -> None:
        self.console.print(f"  ({name}: {time.perf_counter() - began:.0f} s)", highlight=False)

    # --- 1. failover storm --------------------------------------------------------------------

    def single_storm(self) -> tuple[Summary, Summary]:
        """The WebSocket suite's storm on one PostgreSQL node, and its floor, in this run."""
        plan = dataclasses.replace(
            FULL_WS,
            storm_tables=self.plan.storm_tables,
            storm_repeats=self.plan.single_storms,
            processes=self.plan.processes,
            settle_s=self.plan.settle_s,
        )
        ws = WsSuite(plan, self.dbs, self.console)
        floor = ws.storm_floor()
        single = ws.storm(POSTGRES, floor)
        self.results.rows.extend(ws.results.rows)
        self.results.notes.extend(ws.results.notes)
        return single

    def storms(self, single: Summary, single_each: Summary) -> None:
        plan = self.plan
        ones: list[FailoverRun] = []
        alls: list[FailoverRun] = []
        with cluster(self.dbs, "cluster_storm", 2, proxy=True) as running:
            assert running.proxy is not None
            tables = sb.seat_players(running.proxy, plan.storm_tables, 6)
            game_ids = [t.game_id for t in tables]
            seats = seats_of(tables)
            with Followers(ws_url(running.url), seats, plan.processes) as followers:
                spread = dict(followers.nodes)
                for index in range(plan.kills):
                    time.sleep(plan.settle_s)
                    run = kill_one(followers, running.nodes[index % 2], plan.quiet_s)
                    self._storm_line(run)
                    ones.append(run)
                    rebalance(running, followers, game_ids, plan.quiet_s)
                for index in range(plan.full_kills):
                    time.sleep(plan.settle_s)
                    run = kill_all(running, followers, plan.quiet_s + 1.0)
                    self._storm_line(run)
                    alls.append(run)
                    if index + 1 < plan.full_kills:
                        rebalance(running, followers, game_ids, plan.quiet_s)
        players = len(seats)
        if ones:
            walls = Summary.of([r.wall_s for r in ones])
            worst = max(r.wall_s for r in ones)
            self.row(
                ServerRow(
                    f"cluster: kill -9 1 of 2 nodes → all its ~{ones[0].players} players "
                    "welcomed by the other",
                    DB,
                    walls,
                    f"1 node: kill -9 → all {players} welcomed",
                    single,
                    Target(f"all back ≤ {BACK_GOAL_S:g} s", worst <= BACK_GOAL_S),
                )
            )
            self.row(
                ServerRow(
                    "  per player: kill → its welcome",
                    DB,
                    Summary.of([w for r in ones for w in r.welcomed]),
                    "1 node, per client",
                    single_each,
                )
            )
        if alls:
            self.row(
                ServerRow(
                    f"cluster: kill -9 both nodes, relaunch → all {players} welcomed",
                    DB,
                    Summary.of([r.wall_s for r in alls]),
                    f"1 node: kill -9 → all {players} welcomed",
                    single,
                )
            )
            self.row(
                ServerRow(
                    "  per player: kill → its first welcome",
                    DB,
                    Summary.of([w for r in alls for w in r.welcomed]),
                    "1 node, per client",
                    single_each,
                )
            )
        self.note(
            f"{DB} failover storm: {players} players at {plan.storm_tables} tables mid-hand, "
            f"seated and connected through HAProxy (spread at the start: {spread}), clients in "
            f"{plan.processes} processes. "
            + " ".join(self._storm_note(r) for r in ones + alls)
            + " Between kills the dead nodes are relaunched and every game moved back to its "
            "node (untimed). The 1-node rows beside are the WebSocket suite's storm on "
            "PostgreSQL in this run (one process killed and relaunched; every player waits for "
            "its relaunch), the bare-app floor rows above them."
        )

    def _storm_line(self, run: FailoverRun) -> None:
        self.console.print(f"  cluster storm: {self._storm_note(run)}", highlight=False)

    @staticmethod
    def _storm_note(run: FailoverRun) -> str:
        ordered = sorted(run.welcomed)
        return (
            f"kill -9 {'+'.join(run.killed)}: its {run.players} players welcomed again: first "
            f"{fmt_ms(ordered[0] * 1e3)}, p50 "
            f"{fmt_ms(statistics.median(ordered) * 1e3)}, p99 "
            f"{fmt_ms(Summary.of(ordered).p99_ms)}, max {fmt_ms(run.wall_s * 1e3)} after the "
            f"kill (dials per player max {max(run.attempts)}); last socket settled "
            f"{fmt_ms(run.settled_s * 1e3)} ({run.moves} moves in all, {run.unexpected} players "
            f"of a surviving node dropped); players per node after: {dict(run.nodes_after)}; "
            f"client CPU {', '.join(f'{c:.2f} s' for c in run.client_cpu_s)}."
        )

    # --- 2. live durable actions/s ------------------------------------------------------------

    def rates(self) -> None:
        plan = self.plan
        runs: dict[str, RateRun] = {}
        for setup in SETUPS:
            run = measure(
                self.dbs,
                setup,
                tables=plan.rate_tables,
                processes=plan.processes,
                warmup_s=plan.rate_warmup_s,
                window_s=plan.rate_window_s,
            )
            runs[setup.label] = run
            fanout = run.fanout
            latencies = fanout.latencies
            if not latencies:
                raise RuntimeError(f"{setup.label}: no action acknowledged: {fanout.errors[:3]}")
            mine = dataclasses.replace(Summary.of(latencies), rate=run.rate)
            base = runs.get("1 node, HAProxy")
            target = None
            against, theirs = "", None
            if setup.nodes == 2 and base is not None:
                scale = run.rate / base.rate
                target = Target(
                    f"≥ {SCALE_GOAL:g}x 1 node ({scale:.2f}x) and ≥ {RATE_GOAL:,.0f}/s",
                    scale >= SCALE_GOAL and run.rate >= RATE_GOAL,
                )
                against = f"1 node, HAProxy: {base.rate:,.0f}/s"
                theirs = dataclasses.replace(Summary.of(base.fanout.latencies), rate=base.rate)
            self.row(
                ServerRow(
                    f"live durable actions/s, {plan.rate_tables}x6 bots, {setup.label} "
                    "(p50/p99: action → ack)",
                    "PostgreSQL",
                    mine,
                    against,
                    theirs,
                    target,
                )
            )
            servers = ", ".join(f"{c / fanout.window_s:.0%}" for c in fanout.server_cpu_s)
            clients = ", ".join(f"{s.cpu_s / fanout.window_s:.0%}" for s in fanout.shares)
            self.note(
                f"actions/s, {setup.label}: {run.rate:,.0f} actions/s over {fanout.window_s:g} s "
                f"after a {plan.rate_warmup_s:g} s warm-up ({fanout.events / fanout.window_s:,.0f} "
                f"event frames/s); CPU over the window: node(s) {servers} of a core, client "
                f"processes {clients}; the whole machine (nodes, PostgreSQL, HAProxy, clients) "
                f"{fanout.machine_busy:.0%} busy."
                + (
                    f" {len(fanout.errors)} errors, e.g. {fanout.errors[:2]}."
                    if fanout.errors
                    else ""
                )
            )
        one, two = runs["1 node, HAProxy"], runs["2 nodes, HAProxy"]
        self.note(
            f"Scaling: 2 nodes / 1 node behind the same HAProxy = {two.rate / one.rate:.2f}x "
            f"(goal ≥ {SCALE_GOAL:g}x and ≥ {RATE_GOAL:,.0f}/s on 2 nodes). With "
            f"{two.fanout.machine_busy:.0%} of the machine busy on 2 nodes, "
            + (
                "the machine's cores, shared by both nodes, PostgreSQL, HAProxy and the load "
                "generator, are the limit: a second node has no core of its own here, so this "
                "says nothing about 2 nodes on 2 machines."
                if two.fanout.machine_busy >= 0.85
                else "the cores were not saturated."
            )
        )

    # --- 3. handover --------------------------------------------------------------------------

    def handover(self) -> None:
        with cluster(self.dbs, "cluster_handover", 2, proxy=False) as running:
            run = handover(running, self.plan.handover_moves)
        moves = Summary.of(run.moves)
        self.row(
            ServerRow(
                "handover: GET …/state on the node that does not host the game",
                DB,
                moves,
                "the same on its node",
                Summary.of(run.local),
                Target(
                    f"p50, p99 ≤ {HANDOVER_GOAL_MS:g} ms",
                    moves.median_ms <= HANDOVER_GOAL_MS and moves.p99_ms <= HANDOVER_GOAL_MS,
                ),
            )
        )
        self.note(
            f"Handover: {len(run.moves)} requests alternating between the two nodes, each "
            f"answered by the node asked after it took the game from the other; the nodes "
            f"counted {run.handovers:.0f} handovers over them. One table of 6 mid-hand, no socket "
            "connected (a handover also closes the owner's sockets with 1012)."
        )

    # --- 4. drain -----------------------------------------------------------------------------

    def drains(self) -> None:
        plan = self.plan
        runs: list[DrainRun] = []
        with cluster(self.dbs, "cluster_drain", 2, proxy=True) as running:
            a, b = running.nodes[0], running.nodes[1]
            game_ids, on_a, seats = self._seat_for_drain(running, a.id)
            with Followers(ws_url(running.url), seats, plan.processes) as followers:
                for index in range(plan.drains):
                    if index:
                        a.proc.terminate()
                        rebalance(running, followers, game_ids, plan.quiet_s)
                    time.sleep(plan.settle_s)
                    run = drain(a, b, followers, on_a, plan.quiet_s)
                    self.console.print(f"  drain: {self._drain_note(run)}", highlight=False)
                    runs.append(run)
        total = Summary.of([r.empty_s for r in runs])
        worst = max(r.empty_s for r in runs)
        self.row(
            ServerRow(
                f"drain a node of {plan.drain_games} games → its /healthz at 0 games",
                DB,
                total,
                target=Target(f"≤ {DRAIN_GOAL_S:g} s", worst <= DRAIN_GOAL_S),
            )
        )
        self.row(
            ServerRow(
                f"  the same after the {DRAIN_GRACE_S:g} s grace",
                DB,
                Summary.of([r.empty_s - DRAIN_GRACE_S for r in runs]),
            )
        )
        self.row(
            ServerRow(
                "  per player: drain → welcomed by the other node",
                DB,
                Summary.of([w for r in runs for w in r.welcomed]),
            )
        )
        self.row(
            ServerRow(
                "  drain → every game answered by the other node",
                DB,
                Summary.of([r.answered_s for r in runs]),
            )
        )
        self.note(
            f"Drain ({len(runs)} drains of n1, relaunched and its games moved back between "
            f"them; every table's players connected through HAProxy, {len(seats)} in all): "
            + " ".join(self._drain_note(r) for r in runs)
            + f" The node answers /healthz 503 at once and waits {DRAIN_GRACE_S:g} s (2 failed "
            "checks of HAProxy's, 250 ms apart) before it hands anything over, so its players "
            "reconnect straight to the other node."
        )

    def _seat_for_drain(
        self, running: Cluster, node_id: str
    ) -> tuple[list[str], list[str], list[Seat]]:
        """Tables seated through the proxy until `node_id` holds `drain_games` of them; every
        table's id, those on `node_id`, and every player's seat."""
        assert running.proxy is not None
        tables = []
        on_node: list[str] = []
        with httpx.Client(base_url=running.url, timeout=30.0) as http:
            while len(on_node) < self.plan.drain_games:
                table = seat_table(http, 6)
                tables.append(table)
                if touch(running.url, [table.game_id])[table.game_id] == node_id:
                    on_node.append(table.game_id)
                play_http(http, table, 7)  # mid-hand, as the storm's tables
                view_of(http, table)  # its newest seq: the players' lastSeq
        return [t.game_id for t in tables], on_node, seats_of(tables)

    @staticmethod
    def _drain_note(run: DrainRun) -> str:
        each = Summary.of(run.welcomed)
        return (
            f"{run.games} games: 202 after {fmt_ms(run.accepted_s * 1e3)}, 0 games after "
            f"{fmt_ms(run.empty_s * 1e3)} ({fmt_ms((run.empty_s - DRAIN_GRACE_S) * 1e3)} after "
            f"the grace); its {len(run.welcomed)} players welcomed by the other node p50 "
            f"{fmt_ms(each.median_ms)} p99 {fmt_ms(each.p99_ms)} max "
            f"{fmt_ms(max(run.welcomed) * 1e3)} (dials per player max {max(run.attempts)}); "
            f"every game answered there "
            f"{fmt_ms(run.answered_s * 1e3)}; {run.unexpected} players of the other node "
            "dropped."
        )

    # --- printing -----------------------------------------------------------------------------

    def note(self, text: str) -> None:
        self.results.notes.append(text)

    def row(self, row: ServerRow) -> None:
        self.results.rows.append(row)
        print_row(self.console, row)


def run(dbs: Databases, console: Console, *, quick: bool) -> WsResults:
    plan = QUICK_CLUSTER if quick else FULL_CLUSTER
    with server_databases(dbs) as made:
        return ClusterSuite(plan, made, console).run()


def render(results: WsResults, console: Console) -> None:
    render_rows(
        console,
        "rejoin cluster benchmarks (nodes on one PostgreSQL behind HAProxy, clients on loopback; "
        "1 node and the bare app measured in the same run)",
        results.rows,
        "Cluster notes:",
        results.notes,
        "p99 is nearest-rank (with fewer than 100 samples, the maximum: storm and drain rows have "
        "one sample per repeat). Ratios are ours / the compared figure. On 2 cores the nodes, "
        "PostgreSQL, HAProxy and the clients share the same CPUs: read ratios, not absolute "
        "times.",
    )
