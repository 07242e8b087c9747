"""Private data at rest against real server processes, on SQLite and PostgreSQL: with data keys,
no hole card nobody was shown is written in the clear in any row; a wrong or missing key refuses
to start; a tampered ciphertext breaks its own game only; `rejoin-server rekey` while bots play
loses nothing, and the old key can then be dropped; a key a running server still seals with is
not retired."""

from __future__ import annotations

import dataclasses
import secrets
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from e2e.support.bot_thread import BotsInThread
from e2e.support.poker import assert_gapless, own_cards
from e2e.support.sealed_rows import (
    SEALED,
    clear_cards,
    data_keys,
    execute,
    hands,
    rows,
    sealed_with,
    update_event,
)
from e2e.support.spawn import Spawn
from rejoin_server.store.datakeys import decode_key, key_id
from rejoin_testkit.api import Api
from rejoin_testkit.fixtures import postgres_database
from rejoin_testkit.polling import wait_for
from rejoin_testkit.processes import ServerProcess, clean_env
from rejoin_testkit.tables import Table

OLD, NEW = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
OLD_ID, NEW_ID = key_id(decode_key(OLD)), key_id(decode_key(NEW))
TABLE = {"seats": 3, "actionTimeoutMs": 600_000, "autoNextHand": False}


def keys_env(*keys: str) -> dict[str, str]:
    return {"REJOIN_DATA_KEYS": ",".join(keys)}


def api_of(server: ServerProcess) -> Api:
    return Api(server.url, server.admin_token)


def running_hand(api: Api) -> tuple[Table, set[str]]:
    """A table of three with its first hand dealt and two moves in; the hole cards dealt."""
    table = Table.create(api, **TABLE)
    table.join_many(3)
    table.start()
    dealt = {card for player in table.players for card in own_cards(player.view())}
    table.act_passively()
    table.act_passively()
    return table, dealt


@pytest.mark.slow
def test_no_hole_card_nobody_was_shown_is_stored_in_the_clear(spawn: Spawn, db_url: str) -> None:
    server = spawn(db_url, env=keys_env(NEW))
    api = api_of(server)
    assert api.healthz().ok(200)["privateData"] == "encrypted"
    created = api.create_game(seats=3, nextHandDelayMs=1000).ok(201)
    bots = BotsInThread(server.url, created["gameId"], ["ann", "bob", "cyd"], hands=4)
    bots.start()
    api.start(bots.game_id, bots.bots[0].client.session_token).ok(200)
    bots.wait(120)
    played = hands(bot.events for bot in bots.bots)
    assert len(played) >= 4
    stored = rows(db_url, created["gameId"])
    # Cards shown at a showdown are public (its event says them); the others never show.
    for hand in played:
        leaked = clear_cards(stored, hand.first, hand.last) & hand.hidden
        assert not leaked, f"hand at seqs {hand.first}..{hand.last}: {leaked} in the clear"
    # Every deal is sealed, shown later or not: in its row, the cards are null.
    deals = [
        r for r in stored if r.table == "event" and r.value.get("playerId") and "cards" in r.value
    ]
    assert len(deals) >= 12
    assert all(r.value["cards"] is None and SEALED in r.value for r in deals), deals
    # A hand still on the table, its snapshot taken mid-hand: nothing of it either.
    table, dealt = running_hand(api)
    api.persist(table.game_id, api.admin_token).ok(200)
    stored = rows(db_url, table.game_id)
    assert any(row.table == "snapshot" and SEALED in row.value for row in stored)
    assert clear_cards(stored, 0, 10**9) & dealt == set()
    assert sealed_with(stored) == {NEW_ID}
    # After a kill -9 the game is read back through the key: each player holds their cards.
    server.kill9()
    server.restart()
    assert {card for p in table.players for card in own_cards(p.view())} == dealt


def test_without_keys_healthz_says_the_cards_are_in_the_clear(
    spawn: Spawn, sqlite_url: str
) -> None:
    server = spawn(sqlite_url)
    api = api_of(server)
    assert api.healthz().ok(200)["privateData"] == "clear"
    table, dealt = running_hand(api)
    # The scan above is not blind: without keys, the cards are there.
    assert clear_cards(rows(sqlite_url, table.game_id), 0, 10**9) & dealt == dealt
    assert "private game data (hole cards) is stored in the clear" in server.log()


def test_a_missing_or_wrong_key_refuses_to_start(spawn: Spawn, db_url: str) -> None:
    server = spawn(db_url, env=keys_env(OLD))
    table, dealt = running_hand(api_of(server))
    server.terminate()
    for env, says in (
        (keys_env(NEW), f"data key {OLD_ID}, which is not among the keys given"),
        ({}, f"data key {OLD_ID}, and no data key was given: set REJOIN_DATA_KEYS"),
    ):
        refused = spawn(db_url, env=env, ready=False)
        wait_for(_exited(refused), timeout=30, what="the server exiting")
        assert refused.returncode == 2
        lines = [line for line in refused.log().splitlines() if "error:" in line]
        assert len(lines) == 1, refused.log_tail()
        assert says in lines[0]
    # The new key first, the old one after it: it serves, and reads what the old key wrote.
    server.env.update(keys_env(NEW, OLD))
    server.restart()
    assert {card for p in table.players for card in own_cards(p.view())} == dealt


def test_rekey_keeps_a_key_a_running_server_still_seals_with(
    spawn: Spawn, db_url: str, tmp_path: Path
) -> None:
    """The mistake of finding 4: rekey run while a server still writes with the old key alone.
    The old key is not retired (exit 7, named), so a server later started without it is refused
    at start instead of meeting rows it cannot read."""
    server = spawn(db_url, env=keys_env(OLD))  # runs through the rekey, sealing with OLD
    table, _ = running_hand(api_of(server))
    rekey = _rekey(db_url, tmp_path, (NEW, OLD))
    assert rekey.returncode == 7, rekey.stdout + rekey.stderr
    assert f"data key {OLD_ID} is still sealed with by a running server" in rekey.stderr
    assert data_keys(db_url) == {OLD_ID: False, NEW_ID: False}
    table.act_passively()  # the server goes on
    server.terminate()
    refused = spawn(db_url, env=keys_env(NEW), ready=False)
    wait_for(_exited(refused), timeout=30, what="the server exiting")
    assert refused.returncode == 2
    assert f"data key {OLD_ID}, which is not among the keys given" in refused.log()


def _rekey(
    db_url: str, cwd: Path, keys: tuple[str, ...], *flags: str
) -> subprocess.CompletedProcess[str]:
    """`rekey` as its own process, given `keys` in REJOIN_DATA_KEYS. The keys are their own
    argument: a urlsafe key may begin with "-", so it cannot be told from a flag by its look."""
    return subprocess.run(  # noqa: S603 - argv built here
        [sys.executable, "-m", "rejoin_server", "rekey", "--database-url", db_url, *flags],
        env={**clean_env(), **keys_env(*keys)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=cwd,
    )


def _exited(server: ServerProcess) -> Callable[[], bool | None]:
    return lambda: not server.running or None


def _flip(value: dict[str, object]) -> str:
    envelope = str(value[SEALED])
    last = envelope[-2]
    return orjson.dumps(
        dict(value, **{SEALED: envelope[:-2] + ("A" if last != "A" else "B") + envelope[-1]})
    ).decode()


def test_a_tampered_ciphertext_breaks_its_own_game_only(spawn: Spawn, db_url: str) -> None:
    server = spawn(db_url, env=keys_env(NEW))
    api = api_of(server)
    (victim, _), (bystander, dealt) = running_hand(api), running_hand(api)
    (snapshotted, snapshotted_cards) = running_hand(api)
    api.persist(snapshotted.game_id, api.admin_token).ok(200)
    snapshotted.act_passively()  # an event after the snapshot, so an older base is needed
    api.persist(snapshotted.game_id, api.admin_token).ok(200)
    server.kill9()
    event = next(
        r for r in rows(db_url, victim.game_id) if r.table == "event" and SEALED in r.value
    )
    assert update_event(db_url, victim.game_id, event.number, _flip(event.value)) == 1
    snaps = [r for r in rows(db_url, snapshotted.game_id) if r.table == "snapshot"]
    older, newest = sorted(snaps, key=lambda r: r.number)[-2:]
    assert SEALED in newest.value
    statement = "UPDATE snapshots SET state = :value WHERE game_id = :g AND version = :v"
    execute(db_url, statement, value=_flip(newest.value), g=snapshotted.game_id, v=newest.number)
    server.restart()
    victim.players[0].state_reply().error("state_corrupted")
    assert {card for p in bystander.players for card in own_cards(p.view())} == dealt
    # The tampered snapshot is passed over: the game comes back from the older one, not from a
    # replay of its first event.
    assert {c for p in snapshotted.players for c in own_cards(p.view())} == snapshotted_cards
    said = f"game {snapshotted.game_id}: snapshot {newest.number}: checksum mismatch"
    wait_for(lambda: said in server.log() or None, timeout=10, what="the restore's warning")
    assert f"{said} (the stored row was changed); restored from snapshot {older.number}" in (
        server.log()
    ), server.log_tail()
    assert api.healthz().ok(200)["status"] == "ok"


@pytest.mark.slow
def test_rekey_while_bots_play_loses_nothing(spawn: Spawn, db_url: str, tmp_path: Path) -> None:
    server = spawn(db_url, env=keys_env(OLD))
    api = api_of(server)
    created = api.create_game(seats=3, nextHandDelayMs=1000).ok(201)
    game_id = created["gameId"]
    bots = BotsInThread(server.url, game_id, ["ann", "bob", "cyd"], hands=12)
    bots.start()
    api.start(game_id, bots.bots[0].client.session_token).ok(200)
    wait_for(lambda: len(rows(db_url, game_id)) > 40 or None, timeout=60, what="hands played")
    # Step 1: the server gets the new key first (the bots ride the restart out).
    server.terminate()
    server.env.update(keys_env(NEW, OLD))
    server.restart()
    # Step 2: rekey, while the bots play on. Until the old process's word that it sealed with
    # OLD is older than the window (`data_keys.written_at`), rekey rewrites the rows and keeps
    # OLD (exit 7): run again, as the docs say, until it retires it.
    first = _rekey(db_url, tmp_path, (NEW, OLD), "--batch-size", "5")
    rekey = first
    for _ in range(30):  # the window is 30 s: a bound, not a wait
        if rekey.returncode != 7:
            break
        assert f"data key {OLD_ID} is still sealed with by a running server" in rekey.stderr
        time.sleep(2)
        rekey = _rekey(db_url, tmp_path, (NEW, OLD), "--batch-size", "5")
    assert rekey.returncode == 0, rekey.stdout + rekey.stderr
    said = rekey.stdout.splitlines()
    assert any(line.startswith("events: ") for line in said), said
    assert said[-2].startswith("done: "), said
    done = first.stdout.splitlines()
    assert [line for line in done if line.startswith("done: ")], done
    rewrote = next(line for line in done if line.startswith("done: "))
    assert not rewrote.startswith("done: 0 of"), done  # the rows the old key wrote
    assert f"under data key {NEW_ID}" in said[-2], said
    assert said[-1] == f"retired data keys: {OLD_ID} (servers may now be started without them)"
    bots.wait(180)
    for bot in bots.bots:
        assert bot.errors == [], bot.errors
        log = api.events(game_id, bot.client.session_token).ok(200)["events"]
        assert_gapless(log)
        seen = [int(event["seq"]) for event in bot.events]
        assert seen == list(range(1, len(seen) + 1)), f"{bot.client.player_id}: {seen}"
        assert bot.events == log[: len(bot.events)]
    stored = rows(db_url, game_id)
    assert sealed_with(stored) == {NEW_ID}
    assert data_keys(db_url) == {OLD_ID: True, NEW_ID: False}
    # Step 3: the old key dropped; the game restores and reads back every event.
    server.terminate()
    server.env.update(keys_env(NEW))
    server.restart()
    state = api.restore(game_id, api.admin_token).ok(200)
    assert state["version"] == max(row.number for row in stored if row.table == "event")
    again = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "rejoin_server", "rekey", "--database-url", db_url],
        env={**clean_env(), **keys_env(NEW)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert again.returncode == 0, again.stderr
    assert " 0 of " in again.stdout.splitlines()[-2]
    assert "0 of" in again.stdout.splitlines()[-2].split("and")[1]


@pytest.mark.postgres
def test_a_game_handed_over_in_a_cluster_reads_its_sealed_cards(spawn: Spawn) -> None:
    """Two nodes with the same keys: a game moved to the node its players reach, and one taken
    over from a killed owner, come back with every player's own cards; nothing in the clear."""
    with postgres_database(prefix="rejoin_cluster") as url:
        one = spawn(url, "--node-id", "n1", env=keys_env(NEW, OLD))
        two = spawn(url, "--node-id", "n2", env=keys_env(NEW, OLD))
        api1, api2 = api_of(one), api_of(two)
        moved, moved_cards = running_hand(api1)
        taken, taken_cards = running_hand(api1)
        there = [dataclasses.replace(p, api=api2) for p in moved.players]
        reply = there[0].state_reply()
        assert reply.headers["x-rejoin-node"] == "n2"
        assert {c for p in there for c in own_cards(p.view())} == moved_cards
        one.kill9()
        there = [dataclasses.replace(p, api=api2) for p in taken.players]
        assert {c for p in there for c in own_cards(p.view())} == taken_cards
        for table, dealt in ((moved, moved_cards), (taken, taken_cards)):
            stored = rows(url, table.game_id)
            assert clear_cards(stored, 0, 10**9) & dealt == set()
            assert sealed_with(stored) == {NEW_ID}
