"""Session tokens bound to the seat's current claim (issue 12): a reconnect or `hello` that wins
the seat ends every older session token of that seat; `connection-token` hands out the seat's
current reconnect token instead of minting live ones without end; session tokens are renewed."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rejoin_protocol.errors import ErrorCode

from .support import Api, Player, assert_error, bearer, running, running_async
from .ws_support import sockets

STALE = ErrorCode.TOKEN_REUSED


def calls(player: Player) -> list[tuple[str, str, dict[str, Any] | None]]:
    """Every endpoint a session token opens (method, path, JSON body)."""
    base = f"/api/game/{player.game_id}"
    return [
        ("GET", f"{base}/state", None),
        ("GET", f"{base}/events?after=0", None),
        ("GET", f"{base}/connection-token", None),
        ("GET", f"{base}/restore", None),
        ("POST", f"{base}/start", None),
        ("POST", f"{base}/persist", {}),
        ("POST", f"{base}/action", {"actionId": "a1", "type": "check"}),
    ]


def refused_everywhere(api: Api, player: Player) -> None:
    for method, path, body in calls(player):
        headers = {**player.auth, "Accept": "application/json"}
        reply = api.client.request(method, path, json=body, headers=headers)
        error = assert_error(reply, STALE)
        assert "resumed" in error["message"], (method, path)


def test_a_reconnect_ends_every_older_session_token_of_the_seat(api: Api) -> None:
    ann, bob = api.table(2)
    reply = api.reconnect(ann, lastSeq=0)
    assert reply.status_code == 200, reply.text
    refused_everywhere(api, ann)
    now = replace(ann, session=reply.json()["sessionToken"])
    assert api.state(now)["gameState"]["you"]["playerId"] == ann.player_id
    assert api.state(bob)["seq"] > 0  # another seat is a claim of its own: untouched


def test_the_stolen_session_token_of_the_issue() -> None:
    """Before: with only a session token, anyone could mint unlimited reconnect tokens and take
    the seat, and the session token kept working after the player came back."""
    with running() as api:
        ann, _ = api.table(2)
        thief = ann  # the same session token, copied
        path = f"/api/game/{ann.game_id}/connection-token"
        minted = [api.client.get(path, headers=thief.auth).json()["token"] for _ in range(5)]
        jtis = {api.services.signer.check_reconnect(token).jti for token in minted}
        assert jtis == {api.services.signer.check_reconnect(ann.reconnect).jti}  # one live token

        # The player comes back first, with their own token: the thief's copy is dead.
        back = api.reconnect(ann, lastSeq=0, clientId="ann-laptop")
        assert back.status_code == 200, back.text
        assert_error(api.client.get(path, headers=thief.auth), STALE)
        assert_error(api.reconnect(ann, minted[0], clientId="thief"), ErrorCode.SEAT_CONFLICT)
        session = back.json()["sessionToken"]
        assert api.client.get(path, headers=bearer(session)).status_code == 200


def test_claims_outlive_the_game_in_memory(api: Api) -> None:
    ann, _ = api.table(2)
    reply = api.reconnect(ann, lastSeq=0)
    assert reply.status_code == 200, reply.text
    api.forget(ann.game_id)  # reloaded from the store on the next touch
    refused_everywhere(api, ann)
    assert api.state(replace(ann, session=reply.json()["sessionToken"]))["seq"] > 0


async def test_a_hello_ends_the_older_session_tokens() -> None:
    async with running_async(token_ttl_ms=60_000) as api:
        ann, _ = await api.table(2)
        async with sockets(api.app) as ws:
            _, welcome = await ws.hello(ann)
        state = f"/api/game/{ann.game_id}/state"
        assert_error(await api.client.get(state, headers=ann.auth), STALE)
        fresh = await api.client.get(state, headers=bearer(welcome["sessionToken"]))
        assert fresh.status_code == 200, fresh.text


def test_connection_token_renews_the_session_token_of_the_same_claim(api: Api) -> None:
    """How a player who plays over plain HTTP keeps a session token alive."""
    ann, _ = api.table(2)
    path = f"/api/game/{ann.game_id}/connection-token"
    body = api.client.get(path, headers=ann.auth).json()
    signer = api.services.signer
    renewed, held = signer.check_session(body["sessionToken"]), signer.check_session(ann.session)
    assert (renewed.player_id, renewed.claim) == (held.player_id, held.claim)
    assert renewed.claim  # a join's seat has a claim
    assert api.client.get(path, headers=bearer(body["sessionToken"])).status_code == 200
    assert api.client.get(path, headers=ann.auth).status_code == 200  # both, until they expire
