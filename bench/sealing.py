"""The cost of private data at rest (docs/operations.md, "Private data at rest"): appends and a
mid-hand restore with data keys beside the same without, on SQLite and PostgreSQL, in one run.

Two stores on one database, one sealing with a data key and one in the clear, are given the
very same events: each command of a table is appended to one, then to the other, each going
first half the time (so that both do the same work and meet the same noise); each append is
timed as the server does it (`take_snapshot` at a hand boundary + `await store.append`). Then
each restores the same game stopped after the flop of hand N, the restores interleaved too.
Goals: append p50 with keys ≤ 1.10x without; restore median with keys ≤ 0.2 ms more than without.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass, field

from rich.console import Console

from bench.databases import Databases
from bench.goals import Goal
from bench.play import BASE_MS, Bot, has_hand_end, settings
from bench.report import columns_table
from bench.stats import Summary, fmt_ms, fmt_ratio, ratio
from bench.workload import SEATS
from rejoin_server.games.kinds import GameKinds
from rejoin_server.games.poker import PokerEngine
from rejoin_server.store import migrate
from rejoin_server.store.datakeys import DataKeys
from rejoin_server.store.restore import restore_game, take_snapshot
from rejoin_server.store.sealing import Sealer, plan_of
from rejoin_server.store.sql import SqlGameStore

SQLITE, POSTGRES = "SQLite", "PostgreSQL"
APPEND_GOAL = 1.10  # times the clear store's p50
RESTORE_GOAL_MS = 0.2  # more than the clear store's median


@dataclass(slots=True)
class Pair:
    clear: Summary
    sealed: Summary


@dataclass(slots=True)
class SealResults:
    appends: dict[str, Pair] = field(default_factory=dict)
    restores: dict[str, Pair] = field(default_factory=dict)
    goals: list[Goal] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _stores(url: str) -> tuple[SqlGameStore, SqlGameStore]:
    sealed = SqlGameStore(url)
    sealed.sealer = Sealer(
        DataKeys([secrets.token_urlsafe(32)]), {"poker": plan_of(PokerEngine.private_data)}
    )
    return SqlGameStore(url), sealed


async def _seat(
    stores: tuple[SqlGameStore, ...], engine: PokerEngine, game_id: str, seed: int
) -> Bot:
    """A new table, created on every store under its own id (`game_id` + its index)."""
    bot = Bot(engine, game_id, settings(SEATS), seed)
    for index, store in enumerate(stores):
        await store.create_game(f"{game_id}-{index}", engine.kind, settings(SEATS), BASE_MS)
    for events in bot.seat_players():
        for index, store in enumerate(stores):
            await store.append(
                f"{game_id}-{index}", events, status=bot.state.status, now_ms=bot.now_ms
            )
    return bot


async def _step(stores: tuple[SqlGameStore, ...], bot: Bot, times: tuple[list[float], ...]) -> None:
    """One command, its events appended to every store in turn, each append timed (the snapshot
    at a hand boundary included): the same work, with and without keys."""
    events = bot.step()
    order = list(enumerate(stores))
    if len(times[0]) % 2:
        order.reverse()  # each goes first half the time: the second append meets warm caches
    for index, store in order:
        began = time.perf_counter()
        snap = take_snapshot(bot.state) if has_hand_end(events) else None
        await store.append(
            f"{bot.state.game_id}-{index}",
            events,
            status=bot.state.status,
            now_ms=bot.now_ms,
            snapshot=snap,
        )
        times[index].append(time.perf_counter() - began)


async def appends(url: str, label: str, actions: int) -> tuple[list[float], list[float]]:
    engine = PokerEngine()
    stores = _stores(url)
    for store in stores:
        await store.open()
    try:
        times: tuple[list[float], list[float]] = ([], [])
        bot: Bot | None = None
        tables = 0
        while len(times[0]) < actions:
            if bot is None or bot.finished:
                tables += 1
                bot = await _seat(stores, engine, f"{label}-{tables}", tables)
            await _step(stores, bot, times)
        return times
    finally:
        for store in stores:
            await store.close()


async def restores(
    url: str, label: str, hands: int, repeats: int
) -> tuple[list[float], list[float]]:
    """One game played onto both stores (the same events, the same snapshots), stopped after the
    flop of hand `hands + 1`; its restores timed, interleaved."""
    engine = PokerEngine()
    kinds = GameKinds([engine])
    stores = _stores(url)
    for store in stores:
        await store.open()
    try:
        bot = await _seat(stores, engine, label, 7)
        untimed: tuple[list[float], list[float]] = ([], [])
        while bot.hand_number <= hands or not bot.mid_hand_after_flop():
            if bot.finished:
                raise RuntimeError(f"{label} ended after {bot.hand_number} hands; reseed")
            await _step(stores, bot, untimed)
        live = bot.state.dump()
        times: tuple[list[float], list[float]] = ([], [])
        for _ in range(repeats):
            order = list(enumerate(stores))
            if len(times[0]) % 2:
                order.reverse()
            for index, store in order:
                began = time.perf_counter()
                restored = await restore_game(store, kinds, f"{label}-{index}")
                times[index].append(time.perf_counter() - began)
                assert restored.state.dump() == live, "restore rebuilt a different state"
                assert restored.snapshot_version > 0
        return times
    finally:
        for store in stores:
            await store.close()


def run(dbs: Databases, console: Console, *, quick: bool) -> SealResults:
    actions, hands, repeats = (300, 5, 30) if quick else (3000, 30, 300)
    results = SealResults()
    for db in (SQLITE, POSTGRES):
        url = dbs.sqlite_url("sealing") if db == SQLITE else dbs.postgres_url
        migrate.upgrade(url)
        clear, sealed = asyncio.run(appends(url, f"seal-append-{db.lower()}", actions))
        results.appends[db] = Pair(Summary.of(clear), Summary.of(sealed))
        clear, sealed = asyncio.run(restores(url, f"seal-restore-{db.lower()}", hands, repeats))
        results.restores[db] = Pair(Summary.of(clear), Summary.of(sealed))
        _goals(results, db)
        for what, pair in (("append", results.appends[db]), ("restore", results.restores[db])):
            console.print(
                f"{what} · {db}: in the clear p50 {fmt_ms(pair.clear.median_ms)} p99 "
                f"{fmt_ms(pair.clear.p99_ms)} | encrypted p50 {fmt_ms(pair.sealed.median_ms)} "
                f"p99 {fmt_ms(pair.sealed.p99_ms)} | "
                f"{fmt_ratio(ratio(pair.sealed.median_ms, pair.clear.median_ms))}",
                highlight=False,
            )
    results.notes.append(
        f"Private data at rest: {actions} appends per side, interleaved one for one; restores of "
        f"a game stopped after the flop of hand {hands + 1}, {repeats} per side, interleaved. "
        "Encrypted: the hole_cards events and the snapshots' hole cards (AES-256-GCM)."
    )
    return results


def _goals(results: SealResults, db: str) -> None:
    append, restore = results.appends[db], results.restores[db]
    append_ratio = ratio(append.sealed.median_ms, append.clear.median_ms)
    results.goals.append(
        Goal(
            "append p50, private data encrypted",
            db,
            fmt_ms(append.sealed.median_ms),
            f"≤ {APPEND_GOAL:g}x in the clear",
            append_ratio <= APPEND_GOAL,
            against=f"in the clear {fmt_ms(append.clear.median_ms)}",
            ratio=append_ratio,
        )
    )
    extra = restore.sealed.median_ms - restore.clear.median_ms
    results.goals.append(
        Goal(
            "restore mid-hand (median), private data encrypted",
            db,
            fmt_ms(restore.sealed.median_ms),
            f"≤ +{RESTORE_GOAL_MS:g} ms over the clear",
            extra <= RESTORE_GOAL_MS,
            against=f"in the clear {fmt_ms(restore.clear.median_ms)} ({extra:+.3f} ms)",
            ratio=ratio(restore.sealed.median_ms, restore.clear.median_ms),
        )
    )


def render(results: SealResults, console: Console) -> None:
    table = columns_table(
        "private data at rest: with data keys vs in the clear (same run, interleaved)",
        (
            ("benchmark", "left"),
            ("db", "left"),
            ("clear p50", "right"),
            ("clear p99", "right"),
            ("encrypted p50", "right"),
            ("encrypted p99", "right"),
            ("p50 ratio", "right"),
            ("p50 delta", "right"),
        ),
    )
    for name, rows in (
        ("append, 1 table", results.appends),
        ("restore mid-hand", results.restores),
    ):
        for db, pair in rows.items():
            table.add_row(
                name,
                db,
                fmt_ms(pair.clear.median_ms),
                fmt_ms(pair.clear.p99_ms),
                fmt_ms(pair.sealed.median_ms),
                fmt_ms(pair.sealed.p99_ms),
                fmt_ratio(ratio(pair.sealed.median_ms, pair.clear.median_ms)),
                f"{pair.sealed.median_ms - pair.clear.median_ms:+.3f} ms",
            )
    console.print(table)
    for note in results.notes:
        console.print(f"- {note}", highlight=False)
