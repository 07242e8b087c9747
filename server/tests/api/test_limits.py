"""Rate limits on the endpoints (issue 12), in-process: which calls are limited, by what key, and
what a refusal looks like (429 `rate_limited`, `Retry-After`, nothing done); and that a refused
join writes no token row."""

from __future__ import annotations

from typing import Any

import pytest

from rejoin_protocol.errors import CLOSE_TRY_AGAIN_LATER, ErrorCode
from rejoin_server.errors import StorageUnavailable
from rejoin_server.settings import Rate
from rejoin_server.store.base import TokenRow
from rejoin_server.store.memory import MemoryGameStore

from .support import ADMIN_AUTH, Api, assert_error, running, running_async
from .ws_support import hello_frame, sockets

TWO_A_MINUTE = Rate(2, 60_000)


def limited(reply: Any) -> dict[str, Any]:
    error = assert_error(reply, ErrorCode.RATE_LIMITED)
    assert reply.headers["retry-after"] == str(error["details"]["retryAfter"])
    assert 1 <= int(reply.headers["retry-after"]) <= 30
    return error


def test_creating_games_is_limited_per_address() -> None:
    with running(rate_create=TWO_A_MINUTE) as api:
        api.create()
        api.create()
        error = limited(api.client.post("/api/games", json={}))
        assert "games created from your address" in error["message"]
        stored = api.run(api.services.store.list_games)
        assert len(stored) == 2  # the refused one made nothing


def test_joining_is_limited_per_address() -> None:
    with running(rate_join=TWO_A_MINUTE) as api:
        game_id = api.create()
        api.join(game_id, "Ann")
        api.join(game_id, "Bob")
        limited(api.client.post(f"/api/game/{game_id}/join", json={"name": "Cy"}))


def tokens(api: Api) -> list[TokenRow]:
    store = api.services.store
    assert isinstance(store, MemoryGameStore)
    return list(store._tokens.values())


def test_a_refused_join_writes_no_token_row() -> None:
    """Issue 12: 500 joins to a full table wrote 500 token rows."""
    with running() as api:
        game_id = api.create(seats=2)
        api.join(game_id, "Ann")
        api.join(game_id, "Bob", seat=1)
        before = len(tokens(api))
        for name in ("Cy", "Di", "Ed"):
            reply = api.client.post(f"/api/game/{game_id}/join", json={"name": name})
            assert_error(reply, ErrorCode.TABLE_FULL)
        reply = api.client.post(f"/api/game/{game_id}/join", json={"name": "Fi", "seat": 1})
        assert_error(reply, ErrorCode.SEAT_TAKEN)
        assert len(tokens(api)) == before == 2


class TokenlessStore(MemoryGameStore):
    """Token rows cannot be written while `down` is set (the rest of the store works)."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False

    async def insert_token(self, row: TokenRow, *, claim: str | None = None) -> None:
        if self.down:
            raise StorageUnavailable("scripted outage")
        await super().insert_token(row, claim=claim)


def test_a_join_whose_token_cannot_be_stored_joins_nobody() -> None:
    store = TokenlessStore()
    with running(store=store) as api:
        game_id = api.create(seats=2)
        store.down = True
        reply = api.client.post(f"/api/game/{game_id}/join", json={"name": "Ann"})
        assert_error(reply, ErrorCode.STORAGE_UNAVAILABLE)
        store.down = False
        ann = api.join(game_id, "Ann")
        assert ann.seat == 0  # the first join left no trace in the game
        view = api.state(ann)["gameState"]
        assert [s["name"] for s in view["seats"] if s["playerId"]] == ["Ann"]
        events = api.events(ann)["events"]
        assert [e["kind"] for e in events] == ["player_joined"]
        assert events[0]["seq"] == 1


def test_forced_persists_are_limited_per_caller_and_plain_ones_are_not() -> None:
    with running(rate_force_persist=TWO_A_MINUTE) as api:
        ann, bob = api.table(2)
        path = f"/api/game/{ann.game_id}/persist"
        for _ in range(5):
            assert api.client.post(path, json={}, headers=ann.auth).status_code == 200
        for _ in range(2):
            reply = api.client.post(path, json={"forceOverwrite": True}, headers=ann.auth)
            assert reply.status_code == 200, reply.text
        limited(api.client.post(path, json={"forceOverwrite": True}, headers=ann.auth))
        # Another caller has a bucket of their own.
        assert api.client.post(path, json={"forceOverwrite": True}, headers=bob.auth).is_success
        assert api.client.post(path, json={"forceOverwrite": True}, headers=ADMIN_AUTH).is_success


@pytest.mark.parametrize("rule", ["rate_connect", "rate_connect_address"])
async def test_websocket_connections_are_limited(rule: str) -> None:
    limits: dict[str, Any] = {rule: TWO_A_MINUTE}
    async with running_async(**limits) as api:
        ann, _ = await api.table(2)
        async with sockets(api.app) as opened:
            first, welcome = await opened.hello(ann)
            token = welcome["token"]["token"]
            await first.hang_up()
            second, welcome = await opened.hello(ann, token)
            await second.hang_up()
            close, error = await opened.refused(
                ann.game_id, hello_frame(ann, welcome["token"]["token"])
            )
        assert error["code"] == "rate_limited"
        assert error["details"]["retryAfter"] >= 1
        assert close.code == CLOSE_TRY_AGAIN_LATER


async def test_replaying_a_spent_token_does_not_use_up_the_players_resumes() -> None:
    """A resume counts against the player once it wins the seat: someone replaying a spent token
    of theirs (refused) cannot empty the bucket and lock the player out. HTTP reconnects and
    WebSocket hellos share it."""
    async with running_async(rate_connect=TWO_A_MINUTE) as api:
        ann, _ = await api.table(2)
        async with sockets(api.app) as opened:
            _, welcome = await opened.hello(ann)
            for _ in range(10):  # the join's token again, spent: refused, and not counted
                close, error = await opened.refused(ann.game_id, hello_frame(ann))
                assert error["code"] in {"seat_conflict", "token_reused"}
            reply = await api.client.post(
                f"/api/game/{ann.game_id}/reconnect",
                json={"playerId": ann.player_id, "reconnectToken": welcome["token"]["token"]},
            )
            assert reply.status_code == 200, reply.text  # the second resume
            spent = reply.json()["connectionToken"]["token"]
            close, error = await opened.refused(ann.game_id, hello_frame(ann, spent))
        assert error["code"] == "rate_limited"
        assert close.code == CLOSE_TRY_AGAIN_LATER
