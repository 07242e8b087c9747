"""persist, restore and delete over HTTP; snapshots that rot on disk; logs that lose an event; and
games that end (all-in until one player has every chip)."""

from __future__ import annotations

import time

import pytest

from e2e.support.databases import Rows
from e2e.support.poker import cards_in, own_cards, without_presence
from e2e.support.spawn import Spawn
from rejoin_testkit.api import Api, JsonObject, parse_utc
from rejoin_testkit.polling import wait_for
from rejoin_testkit.processes import ServerProcess
from rejoin_testkit.tables import Table, play_to_completion

TABLE = {"seats": 4, "actionTimeoutMs": 600_000, "autoNextHand": False}


def started_table(api: Api, players: int = 3, actions: int = 1) -> Table:
    table = Table.create(api, **TABLE)
    table.join_many(players)
    table.start()
    for _ in range(actions):
        table.act_passively()
    return table


def test_persist_writes_a_snapshot_and_keeps_it_unless_forced(
    server: ServerProcess, api: Api, db_url: str
) -> None:
    table = started_table(api)
    game = table.game_id
    rows = Rows(db_url)
    seq = table.view()["seq"]

    first = api.persist(game, api.admin_token).ok(200)
    assert first["success"] is True
    assert first["version"] == seq
    parse_utc(first["persistedAt"], "persistedAt")
    assert seq in rows.snapshot_versions(game)
    state, checksum, created = rows.snapshot(game, seq)
    assert state.get("e2e_tampered") is None

    # A snapshot at that version exists: persisting again (a seated player may) leaves it alone,
    # even when it has rotted on disk.
    rows.tamper_snapshot(game, seq)
    time.sleep(0.01)  # so a rewrite would get a later created_at (milliseconds)
    again = api.persist(game, table.players[1].session).ok(200)
    assert again["version"] == seq
    parse_utc(again["persistedAt"], "persistedAt")
    kept, kept_checksum, kept_created = rows.snapshot(game, seq)
    assert kept["e2e_tampered"] is True
    assert (kept_checksum, kept_created) == (checksum, created)

    # forceOverwrite rewrites it from the live state.
    forced = api.persist(game, api.admin_token, force_overwrite=True).ok(200)
    assert forced["version"] == seq
    assert parse_utc(forced["persistedAt"]) >= parse_utc(first["persistedAt"])
    rewritten, new_checksum, new_created = rows.snapshot(game, seq)
    assert "e2e_tampered" not in rewritten
    assert rewritten == state
    assert new_checksum == checksum
    assert new_created > created

    # Who may persist.
    api.persist(game, None).error("unauthorized")
    api.persist(game, "not-a-token").error("unauthorized")
    outsider = started_table(api, players=2, actions=0).players[0]
    api.persist(game, outsider.session).error("forbidden", "player_not_in_game")
    api.persist("nosuchgame00", api.admin_token).error("game_not_found")


def test_restore_gives_the_operator_everything_and_a_player_their_view(
    server: ServerProcess, api: Api
) -> None:
    table = started_table(api)
    game = table.game_id
    views = {p.player_id: p.view() for p in table.players}
    hole = {c for view in views.values() for c in own_cards(view)}
    seq = views[table.players[0].player_id]["seq"]

    def check(label: str) -> None:
        full = api.restore(game, api.admin_token).ok(200)
        assert full["success"] is True, label
        assert isinstance(full["version"], int), label
        assert full["version"] <= seq, label
        assert hole <= cards_in(full["gameState"]), f"{label}: the operator sees every hole card"
        for player in table.players:
            mine = api.restore(game, player.session).ok(200)
            expected = without_presence(views[player.player_id])
            assert without_presence(mine["gameState"]) == expected, label

    check("live")
    api.persist(game, api.admin_token).ok(200)
    # Not in memory after a kill -9: restore loads it from storage (restore first, no other touch).
    server.kill9()
    server.restart()
    api.reset()
    check("after kill -9")
    api.restore(game, None).error("unauthorized")
    outsider = started_table(api, players=2, actions=0).players[0]
    api.restore(game, outsider.session).error("forbidden", "player_not_in_game")
    api.restore("nosuchgame00", api.admin_token).error("game_not_found")


def test_delete_by_the_operator_and_by_players_only_once_completed(
    server: ServerProcess, api: Api, db_url: str
) -> None:
    rows = Rows(db_url)
    table = started_table(api)
    game = table.game_id
    seq = table.view()["seq"]
    api.persist(game, api.admin_token).ok(200)

    player = table.players[0]
    api.delete(game, player.session).error("game_active")
    api.delete(game, None).error("unauthorized")
    deleted = api.delete(game, api.admin_token).ok(200)
    assert deleted["success"] is True
    counts = deleted["deleted"]
    assert counts["events"] == seq
    assert counts["snapshots"] >= 1
    assert counts["tokens"] >= len(table.players)
    assert rows.events(game) == []
    assert rows.snapshot_versions(game) == []
    for p in table.players:
        p.state_reply().error("game_not_found")
        p.reconnect(last_seq=0).error("game_not_found")
    api.restore(game, api.admin_token).error("game_not_found")
    api.delete(game, api.admin_token).error("game_not_found")

    # A seated player may delete a completed game.
    heads_up = started_table(api, players=2, actions=0)
    final = play_to_completion(heads_up)
    assert final["status"] == "completed"
    stacks = sorted(s["stack"] for s in final["seats"])
    assert stacks == [0, 400], final["seats"]
    winner = heads_up.players[0]
    deleted = api.delete(heads_up.game_id, winner.session).ok(200)
    assert deleted["deleted"]["events"] == final["seq"]
    winner.state_reply().error("game_not_found")


@pytest.mark.slow
def test_a_completed_game_refuses_reconnects_across_a_restart(
    server: ServerProcess, api: Api
) -> None:
    table = started_table(api, players=2, actions=0)
    final = play_to_completion(table)
    kinds = [e["kind"] for e in table.players[1].events(after=0)]
    assert kinds[-1] == "game_completed"
    for player in table.players:
        player.reconnect(last_seq=final["seq"]).error("game_completed")
    server.kill9()
    server.restart()
    api.reset()
    for player in table.players:
        player.reconnect(last_seq=final["seq"]).error("game_completed")
        # Reading a finished game is still allowed.
        assert player.view()["status"] == "completed"


def corrupt_newest_snapshot(rows: Rows, game: str) -> tuple[int, list[int]]:
    versions = rows.snapshot_versions(game)
    assert versions, "the test needs a snapshot"
    newest = versions[-1]
    rows.tamper_snapshot(game, newest)
    return newest, versions


@pytest.mark.slow
def test_a_rotten_snapshot_alone_falls_back_silently(
    server: ServerProcess, api: Api, db_url: str
) -> None:
    table = started_table(api, actions=2)
    api.persist(table.game_id, api.admin_token).ok(200)
    table.act_passively()
    before = {p.player_id: p.view() for p in table.players}
    server.kill9()
    corrupt_newest_snapshot(Rows(db_url), table.game_id)
    server.restart()
    api.reset()
    for player in table.players:
        assert without_presence(player.view()) == without_presence(before[player.player_id])
        body = player.reconnect(last_seq=before[player.player_id]["seq"]).ok(200)
        assert body["missedEvents"] == []
    full = api.restore(table.game_id, api.admin_token).ok(200)
    assert isinstance(full["gameState"], dict)
    table.act_passively()  # and the game goes on


@pytest.mark.slow
def test_a_log_with_a_hole_is_state_corrupted(server: ServerProcess, api: Api, db_url: str) -> None:
    rows = Rows(db_url)
    table = started_table(api, actions=1)
    game = table.game_id
    api.persist(game, api.admin_token).ok(200)
    for _ in range(2):
        table.act_passively()
    api.persist(game, api.admin_token).ok(200)
    table.act_passively()
    healthy = started_table(api, players=2, actions=1)  # an innocent bystander
    bystander_view = healthy.view()

    server.kill9()
    newest, _ = corrupt_newest_snapshot(rows, game)
    # The event the newest snapshot ends with: every way back to the present crosses the hole.
    rows.delete_event(game, newest)
    server.restart()
    api.reset()

    def corrupted(reply_error: JsonObject, label: str) -> None:
        message = reply_error["message"]
        assert str(newest) in message, f"{label}: the message must name seq {newest}: {message}"

    player = table.players[0]
    corrupted(player.state_reply().error("state_corrupted"), "state")
    corrupted(api.restore(game, api.admin_token).error("state_corrupted"), "restore (admin)")
    corrupted(api.restore(game, player.session).error("state_corrupted"), "restore (player)")
    corrupted(player.reconnect(last_seq=0).error("state_corrupted"), "reconnect")
    # The rest of the server is fine.
    assert api.healthz().ok(200)["status"] == "ok"
    assert without_presence(healthy.view()) == without_presence(bystander_view)
    healthy.act_passively()
    # The operator can still delete the broken game.
    api.delete(game, api.admin_token).ok(200)
    player.state_reply().error("game_not_found")


@pytest.mark.slow
def test_an_abandoned_game_is_completed_then_deleted_after_retention(
    spawn: Spawn, db_url: str
) -> None:
    """The cleanup job end to end: no player action for `--abandon-after` completes the game with
    reason `abandoned`; `--retention` later deletes it and all it stored."""
    server = spawn(
        db_url, "--abandon-after", "1s", "--retention", "2s", "--cleanup-interval", "500ms"
    )
    api = Api(server.url)
    try:
        table = started_table(api, players=2, actions=0)
        alice = table.players[0]
        table.wait_for_status(
            "completed",
            timeout=15,
            what="the cleanup job to complete the idle game",
            detail=server.log_tail,
        )
        kinds = [(e["kind"], e["data"]) for e in alice.events(after=0)]
        assert kinds[-1] == ("game_completed", {"reason": "abandoned"})
        wait_for(
            lambda: api.state(table.game_id, alice.session).status == 404,
            timeout=15,
            what="the cleanup job to delete the completed game after its retention",
            detail=server.log_tail,
        )
        api.state(table.game_id, alice.session).error("game_not_found")
        rows = Rows(db_url)
        for name in ("events", "snapshots", "reconnect_tokens", "games"):
            query = f"SELECT count(*) FROM {name} WHERE game_id = ?"  # noqa: S608 (fixed names)
            stored = rows.query(query, [table.game_id])
            assert stored == [(0,)], name
    finally:
        api.close()
