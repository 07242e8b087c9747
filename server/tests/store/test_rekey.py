"""`store.rekey` on real databases: rows under an older key and rows in the clear end up under
the newest key, games restore with the newest key alone, the older keys are retired, and a second
run rewrites nothing. (While a server plays: e2e/server/test_private_data_at_rest.py.)"""

from __future__ import annotations

import secrets

import pytest

from rejoin_server.games.base import PrivateData
from rejoin_server.games.kinds import GameKinds
from rejoin_server.games.poker import PokerEngine
from rejoin_server.store import datakeys
from rejoin_server.store.codec import canonical_json, checksum
from rejoin_server.store.connection import Database
from rejoin_server.store.datakeys import IN_USE_WITHIN_MS, DataKeys, decode_key, key_id
from rejoin_server.store.rekey import Report, rekey
from rejoin_server.store.restore import restore_game
from rejoin_server.store.sealing import SEALED, Sealer, plan_of, sealed_by
from rejoin_server.store.sql import SqlGameStore
from rejoin_server.store.urls import parse_url
from rejoin_server.timefmt import now_ms as wall_clock_ms

from .sealed_poker import NOW, execute, leaks, play, rows, scalar
from .test_sealed_store import _flip, keyed

OLD, NEW = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
OLD_ID, NEW_ID = key_id(decode_key(OLD)), key_id(decode_key(NEW))
KINDS = GameKinds([PokerEngine()])
PLANS = {"poker": plan_of(PokerEngine.private_data)}


def run_rekey(
    url: str,
    *keys: str,
    batch_size: int = 7,
    resplit: bool = False,
    clock_ms: int | None = None,
) -> tuple[Report, list[str]]:
    """`rekey` with `keys`; at `clock_ms` (its start and its clock) when given, else at NOW
    with the wall clock for the keys servers still write with."""
    said: list[str] = []
    db = Database(parse_url(url), 3)
    conn = db.connect()
    try:
        report = rekey(
            db,
            conn,
            DataKeys(keys),
            PLANS,
            batch_size=batch_size,
            now_ms=NOW if clock_ms is None else clock_ms,
            say=said.append,
            resplit=resplit,
            clock=wall_clock_ms if clock_ms is None else (lambda: clock_ms),
        )
    finally:
        db.disconnect(conn)
    return report, said


async def test_old_and_clear_rows_end_under_the_newest_key(database_url: str) -> None:
    clear = SqlGameStore(database_url)
    await clear.open()
    in_the_clear = await play(clear, hands=1, seed=1)
    await clear.close()
    old = keyed(database_url, OLD)
    await old.open()
    await old.register_data_key(OLD_ID, NOW)
    under_old = await play(old, hands=2, seed=2)
    await old.close()
    assert leaks(database_url, in_the_clear.hands())  # the scan sees them before

    report, said = run_rekey(database_url, NEW, OLD)
    assert report.events.rewritten > 0
    assert report.snapshots.rewritten > 0
    assert report.retired == [OLD_ID]
    assert said[-1].startswith("snapshots: ")
    assert any(line.startswith("events: ") for line in said)
    keys = {sealed_by(value) for _, _, _, value in rows(database_url) if SEALED in value}
    assert keys == {NEW_ID}
    assert leaks(database_url, [*in_the_clear.hands(), *under_old.hands()]) == []

    new = keyed(database_url, NEW)
    await new.open()
    try:
        for played in (in_the_clear, under_old):
            restored = await restore_game(new, KINDS, played.game_id)
            assert restored.rejected_snapshots == []
            assert restored.state.dump() == played.table.dump()
        assert {(r.key_id, r.retired_at is not None) for r in await new.data_keys()} == {
            (OLD_ID, True),
            (NEW_ID, False),
        }
    finally:
        await new.close()

    again, _ = run_rekey(database_url, NEW, OLD, batch_size=1000)
    assert (again.events.rewritten, again.snapshots.rewritten) == (0, 0)
    assert again.events.read == report.events.read


async def test_a_row_that_does_not_open_keeps_its_key(database_url: str) -> None:
    old = keyed(database_url, OLD)
    await old.open()
    await old.register_data_key(OLD_ID, NOW)
    played = await play(old, hands=1)
    await old.close()
    [(version, value)] = [
        (n, v) for t, g, n, v in rows(database_url) if t == "snapshot" and SEALED in v
    ][:1]
    statement = "UPDATE snapshots SET state = :value WHERE game_id = :g AND version = :v"
    execute(database_url, statement, value=_flip(value), g=played.game_id, v=version)
    report, _ = run_rekey(database_url, NEW, OLD)
    assert report.retired == []
    assert [line.split(":")[0] for line in report.snapshots.broken] == [
        f"snapshot {played.game_id}/{version}"
    ]


async def test_a_key_that_opens_no_row_is_not_registered(database_url: str) -> None:
    """With the registry lost (emptied by hand), a wrong key opens no row: it must leave no
    trace, or the servers given the right key would refuse to start."""
    old = keyed(database_url, OLD)
    await old.open()
    await old.register_data_key(OLD_ID, NOW)
    await play(old, hands=1)
    await old.close()
    execute(database_url, "DELETE FROM data_keys")
    report, _ = run_rekey(database_url, NEW)
    assert report.events.missing
    assert (report.events.rewritten, report.snapshots.rewritten) == (0, 0)
    assert report.retired == []
    assert scalar(database_url, "SELECT COUNT(*) FROM data_keys") == 0


@pytest.mark.parametrize("batch_size", [1, 1000])
async def test_every_row_is_read_once_whatever_the_batch(
    database_url: str, batch_size: int
) -> None:
    store = keyed(database_url, OLD)
    await store.open()
    games = [await play(store, hands=1, seed=seed) for seed in (1, 2, 3)]
    await store.close()
    report, _ = run_rekey(database_url, NEW, OLD, batch_size=batch_size)
    assert report.events.read == sum(len(g.events) for g in games)


async def test_resplit_seals_what_a_game_declares_private_today(database_url: str) -> None:
    # Written while the game declared less: the hole cards' player sealed, the cards not.
    narrow = PrivateData(events={"hole_cards": ("playerId",)}, state=("h",))
    store = SqlGameStore(database_url, keep_snapshots=3)
    store.sealer = Sealer(DataKeys([NEW]), {"poker": plan_of(narrow)})
    await store.open()
    await store.register_data_key(NEW_ID, NOW)
    played = await play(store, hands=1)
    await store.close()
    assert leaks(database_url, played.hands())

    plain, _ = run_rekey(database_url, NEW)  # already under the newest key: left as it is
    assert plain.events.rewritten == 0
    assert leaks(database_url, played.hands())

    report, _ = run_rekey(database_url, NEW, resplit=True)
    assert report.events.rewritten > 0
    assert leaks(database_url, played.hands()) == []
    new = keyed(database_url, NEW)
    await new.open()
    try:
        restored = await restore_game(new, KINDS, played.game_id)
        assert restored.rejected_snapshots == []
        assert restored.state.dump() == played.table.dump()
    finally:
        await new.close()


async def test_a_snapshot_rekeyed_keeps_a_checksum_that_says_nothing(database_url: str) -> None:
    clear = SqlGameStore(database_url)
    await clear.open()
    played = await play(clear, hands=1)
    await clear.close()
    run_rekey(database_url, NEW)
    truth = checksum(canonical_json(played.table.dump()))
    statement = "SELECT checksum FROM snapshots WHERE game_id = :g AND version = :v"
    column = scalar(database_url, statement, g=played.game_id, v=played.table.seq)
    assert column != truth
    new = keyed(database_url, NEW)
    await new.open()
    try:
        restored = await restore_game(new, KINDS, played.game_id)
        assert (restored.rejected_snapshots, restored.snapshot_version) == ([], played.table.seq)
    finally:
        await new.close()


async def test_a_key_a_server_still_seals_with_is_not_retired(database_url: str) -> None:
    old = keyed(database_url, OLD)
    await old.open()
    await old.register_data_key(OLD_ID, wall_clock_ms())  # as a running server says it
    played = await play(old, hands=1)
    await old.close()
    report, _ = run_rekey(database_url, NEW, OLD)
    assert report.events.rewritten > 0
    assert (report.in_use, report.retired) == ([OLD_ID], [])
    db = Database(parse_url(database_url), 3)
    conn = db.connect()
    try:
        rows_now = {r.key_id: r for r in datakeys.read_rows(db, conn)}
    finally:
        db.disconnect(conn)
    assert rows_now[OLD_ID].retired_at is None
    assert rows_now[NEW_ID].written_at is not None
    # Said long enough ago (the server restarted with the new key first): retired.
    later, _ = run_rekey(database_url, NEW, OLD)
    assert later.in_use == [OLD_ID]  # the clock has not moved: still within the window
    past = wall_clock_ms() + IN_USE_WITHIN_MS + 1
    moved, _ = run_rekey(database_url, NEW, OLD, batch_size=50, clock_ms=past)
    assert (moved.in_use, moved.retired) == ([], [OLD_ID])
    assert played.game_id
