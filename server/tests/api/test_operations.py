"""Operating the server: signing keys across a change of configuration, migrating at start, what
the health check knows of an outage, inputs no database can store, and secrets kept out of logs."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from rejoin_protocol.errors import ErrorCode
from rejoin_server.app import create_app
from rejoin_server.errors import StorageUnavailable
from rejoin_server.host import writer as writer_module
from rejoin_server.settings import ServerSettings
from rejoin_server.store.base import GameRecord, TokenClaimUse, TokenUse
from rejoin_server.store.memory import MemoryGameStore

from .support import ADMIN, assert_error, running


class FlakyStore(MemoryGameStore):
    """Token use and game reads fail while `down`."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False

    def _check(self) -> None:
        if self.down:
            raise StorageUnavailable("connection refused (test)")

    async def _consume_token(self, use: TokenClaimUse) -> TokenUse:
        self._check()
        return await super()._consume_token(use)

    async def get_game(self, game_id: str) -> GameRecord | None:
        self._check()
        return await super().get_game(game_id)


def reconnect_body(player_id: str, token: str) -> dict[str, object]:
    return {"playerId": player_id, "reconnectToken": token, "lastSeq": 0, "clientId": "c"}


def test_tokens_signed_with_the_stored_key_still_verify_once_keys_are_configured() -> None:
    store = MemoryGameStore()
    with running(store) as api:
        game_id = api.create()
        ann = api.join(game_id, "Ann")
    # Restarted with REJOIN_SECRET_KEYS: new tokens use it, older ones still verify.
    with running(store, secret_keys=("operator-key",)) as api:
        reply = api.client.post(
            f"/api/game/{game_id}/reconnect", json=reconnect_body(ann.player_id, ann.reconnect)
        )
        assert reply.status_code == 200, reply.text
        fresh = reply.json()["connectionToken"]["token"]
    with running(store, secret_keys=("operator-key",)) as api:
        reply = api.client.post(
            f"/api/game/{game_id}/reconnect", json=reconnect_body(ann.player_id, fresh)
        )
        assert reply.status_code == 200, reply.text


def test_create_app_migrates_a_new_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    app = create_app(ServerSettings(database_url=url, admin_token=ADMIN))
    with TestClient(app) as client:
        reply = client.post("/api/games", json={})
        assert reply.status_code == 201, reply.text
    # And not when told not to: the tables are missing, which is a clear start-up failure.
    other = f"sqlite:///{tmp_path / 'unmigrated.db'}"
    app = create_app(ServerSettings(database_url=other, migrate=False))
    with pytest.raises(Exception, match="no such table"), TestClient(app):
        pass


@pytest.mark.parametrize("field", ["name"])
def test_control_characters_are_refused_not_stored(field: str) -> None:
    with running() as api:
        game_id = api.create()
        reply = api.client.post(f"/api/game/{game_id}/join", json={field: "a\u0000b"})
        assert_error(reply, ErrorCode.INVALID_REQUEST)
        ann = api.join(game_id, "Ann")
        reply = api.client.post(
            f"/api/game/{game_id}/reconnect",
            json={**reconnect_body(ann.player_id, ann.reconnect), "clientId": "c\u0000"},
        )
        assert_error(reply, ErrorCode.INVALID_REQUEST)


def test_health_tells_of_an_outage_seen_by_a_read_and_recovers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(writer_module, "FIRST_RETRY_S", 0.001)
    monkeypatch.setattr(writer_module, "MAX_RETRY_S", 0.002)
    store = FlakyStore()
    with running(store) as api:
        game_id = api.create()
        ann = api.join(game_id, "Ann")
        assert api.client.get("/healthz").json()["status"] == "ok"
        store.down = True
        # A reconnect needs the store for its token; no write has failed yet.
        reply = api.client.post(
            f"/api/game/{game_id}/reconnect", json=reconnect_body(ann.player_id, ann.reconnect)
        )
        assert_error(reply, ErrorCode.STORAGE_UNAVAILABLE)
        assert "test" not in reply.json()["error"]["message"], "driver text stays in the log"
        health = api.client.get("/healthz").json()
        assert (health["status"], health["storage"]) == ("degraded", "unavailable")
        store.down = False
        for _ in range(200):
            if api.client.get("/healthz").json()["status"] == "ok":
                break
            api.run(asyncio.sleep, 0.005)
        assert api.client.get("/healthz").json()["status"] == "ok"


def test_metrics_follow_what_happens() -> None:
    with running() as api:
        players = api.table(3, actionTimeoutMs=600_000, autoNextHand=False)
        api.start(players[0])
        seq_before = api.state(players[1])["seq"]
        assert api.act(api.to_act(players), "call").status_code == 200
        ann = players[1]
        ok_reply = api.client.post(
            f"/api/game/{ann.game_id}/reconnect",
            json=reconnect_body(ann.player_id, ann.reconnect) | {"lastSeq": seq_before},
        )
        assert ok_reply.status_code == 200, ok_reply.text
        missed = len(ok_reply.json()["missedEvents"])
        ann = replace(ann, session=ok_reply.json()["sessionToken"])  # the seat's new claim
        bad = api.client.post(
            f"/api/game/{ann.game_id}/reconnect", json=reconnect_body(ann.player_id, "forged")
        )
        assert_error(bad, ErrorCode.TOKEN_INVALID)
        api.services.host.forget(ann.game_id)
        api.state(ann)  # loads it again: one restore
        persisted = api.client.post(
            f"/api/game/{ann.game_id}/persist", headers={"Authorization": f"Bearer {ADMIN}"}
        )
        assert persisted.status_code == 200, persisted.text

        metric = api.services.metrics.registry.get_sample_value
        assert metric("rejoin_action_seconds_count") == 1
        assert (metric("rejoin_persist_seconds_count") or 0) >= 5  # joins, start, action
        assert metric("rejoin_restore_seconds_count") == 1
        assert metric("rejoin_reconnects_total", {"outcome": "ok"}) == 1
        assert metric("rejoin_reconnects_total", {"outcome": "token_invalid"}) == 1
        assert metric("rejoin_reconnect_seconds_count") == 1
        assert missed >= 1
        assert metric("rejoin_missed_events_replayed_total") == missed
        assert metric("rejoin_games_active") == 1
        assert metric("rejoin_degraded") == 0
        assert metric("rejoin_pending_writes") == 0


def test_events_json_past_the_end_is_stale_state() -> None:
    with running() as api:
        ann = api.table(1)[0]
        seq = api.state(ann)["seq"]
        url = f"/api/game/{ann.game_id}/events"
        headers = {**ann.auth, "Accept": "application/json"}
        assert api.client.get(f"{url}?after={seq}", headers=headers).json()["events"] == []
        assert_error(
            api.client.get(f"{url}?after={seq + 1}", headers=headers), ErrorCode.STALE_STATE
        )
