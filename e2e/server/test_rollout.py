"""Gradual rollout through a real server process on SQLite (docs/games.md, "Rolling out"): with
`--persist-fraction 0` a game that does not say is kept in memory only, one that asks is stored.
The memory game writes no row of any kind; after SIGKILL and a restart the strict game resumes
exactly where it was, and the memory game answers `game_not_found` saying it was kept in memory
only and is lost."""

from __future__ import annotations

from e2e.support.databases import Rows
from e2e.support.poker import without_presence
from e2e.support.spawn import Spawn
from rejoin_testkit.api import Api
from rejoin_testkit.tables import Table

TABLE = {"seats": 3, "actionTimeoutMs": 600_000, "autoNextHand": False}
EXPLAINED = "kept in memory only"
# Every table of the server that holds rows of a game.
GAME_TABLES = ("games", "events", "snapshots", "reconnect_tokens", "seat_claims")


def rows_of(rows: Rows, game_id: str) -> dict[str, int]:
    counts = {}
    for table in GAME_TABLES:  # names from the constant above, never from input
        found = rows.query(f"SELECT count(*) FROM {table} WHERE game_id = ?", (game_id,))  # noqa: S608
        counts[table] = int(found[0][0])
    return counts


def test_after_kill_9_a_strict_game_resumes_and_a_memory_game_is_gone_and_says_so(
    spawn: Spawn, sqlite_url: str, admin_token: str
) -> None:
    server = spawn(sqlite_url, "--persist-fraction", "0")
    api = Api(server.url, admin_token)
    rows = Rows(sqlite_url)
    try:
        strict = Table.create(api, durability="strict", **TABLE)
        memory = Table.create(api, **TABLE)  # the rollout rule: nothing is persisted by default
        assert (strict.settings["durability"], memory.settings["durability"]) == (
            "strict",
            "memory",
        )
        for table in (strict, memory):
            table.join_many(3)
            table.start()
            for _ in range(3):
                table.act_passively()
        assert memory.view()["durability"] == "memory"
        assert strict.view()["durability"] == "strict"
        health = api.healthz().ok(200)
        assert health["gamesByDurability"] == {"memory": 1, "relaxed": 0, "strict": 1}
        assert health["persistFraction"] == 0.0

        assert rows_of(rows, memory.game_id) == dict.fromkeys(GAME_TABLES, 0)
        stored = rows_of(rows, strict.game_id)
        assert stored["games"] == 1
        assert stored["reconnect_tokens"] == 3
        assert stored["events"] == strict.view()["seq"]
        views = {p.player_id: without_presence(p.view()) for p in strict.players}
        seqs = {p.player_id: p.last_seq for p in strict.players}

        server.kill9()
        server.restart()
        api.reset()

        for player in strict.players:
            back = player.reconnect(last_seq=seqs[player.player_id]).ok(200)
            assert back["missedEvents"] == []
            assert without_presence(back["gameState"]) == views[player.player_id]
        strict.act_passively()  # and it plays on

        for player in memory.players:
            error = player.reconnect(last_seq=player.last_seq).error("game_not_found")
            assert EXPLAINED in error["message"]
            assert "restarts" in error["message"]
            assert EXPLAINED in player.state_reply().error("game_not_found")["message"]
        missing = api.restore("ae82c17bf2a349cf879268440b48b7d9", admin_token)
        assert EXPLAINED not in missing.error("game_not_found")["message"]
        assert rows_of(rows, memory.game_id) == dict.fromkeys(GAME_TABLES, 0)
        after = api.healthz().ok(200)["gamesByDurability"]
        assert after == {"memory": 0, "relaxed": 0, "strict": 1}
    finally:
        api.close()
