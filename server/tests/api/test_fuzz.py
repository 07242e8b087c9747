"""Random bodies on every POST endpoint: whatever arrives, the answer is never a 500 and every
refusal is docs/http-api.md's error body with the status its code has."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rejoin_protocol.errors import ErrorCode

from .support import ADMIN_AUTH, Api, Response, running

JSON: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
SMALL_INTS = st.integers(min_value=-3, max_value=12)


def shaped(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """Objects with some of the endpoint's own keys, holding plausible or random values."""
    return st.fixed_dictionaries(
        {}, optional={key: st.one_of(values, JSON) for key, values in fields.items()}
    )


def bodies(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[bytes]:
    as_json = st.one_of(shaped(fields), JSON).map(lambda value: json.dumps(value).encode())
    return st.one_of(as_json, as_json, st.binary(max_size=80))


def check(reply: Response) -> None:
    assert reply.status_code != 500, reply.text
    assert reply.headers["content-type"].startswith("application/json"), reply.text
    body = reply.json()
    assert isinstance(body, dict)
    if reply.status_code < 400:
        return
    assert set(body) == {"success", "error"}, body
    assert body["success"] is False
    error = body["error"]
    assert ErrorCode(error["code"]).http_status == reply.status_code, body
    assert isinstance(error["message"], str)
    assert error["message"]


def endpoint(api: Api, name: str) -> tuple[str, dict[str, str], st.SearchStrategy[bytes]]:
    """The URL, the auth headers and the bodies to try for endpoint `name`."""
    first, second = api.table(2)
    api.start(first)
    game_id = first.game_id
    url = f"/api/game/{game_id}"
    tokens = [first.reconnect, second.reconnect, "garbage", ""]
    players = [first.player_id, second.player_id, "nobody"]
    if name == "create":
        fields: dict[str, st.SearchStrategy[Any]] = {
            key: SMALL_INTS | st.integers(min_value=0, max_value=10**6)
            for key in ("seats", "smallBlind", "bigBlind", "startingStack", "nextHandDelayMs")
        }
        fields["actionTimeoutMs"] = st.integers(min_value=1, max_value=10**6)
        fields["autoNextHand"] = st.booleans()
        return "/api/games", {}, bodies(fields)
    if name == "join":
        fields = {"name": st.text(max_size=40), "seat": SMALL_INTS}
        return f"{url}/join", {}, bodies(fields)
    if name == "start":
        return f"{url}/start", first.auth, bodies({})
    if name == "action":
        fields = {
            "actionId": st.text(max_size=8),
            "type": st.sampled_from(["fold", "check", "call", "bet", "raise", "allin", "x"]),
            "amount": SMALL_INTS | st.integers(min_value=0, max_value=400),
            "atSeq": SMALL_INTS,
        }
        actor = first if api.state(first)["gameState"]["toAct"] == first.seat else second
        return f"{url}/action", actor.auth, bodies(fields)
    if name == "reconnect":
        fields = {
            "gameId": st.sampled_from([game_id, "other"]),
            "playerId": st.sampled_from(players),
            "reconnectToken": st.sampled_from(tokens),
            "lastSeq": SMALL_INTS,
            "clientId": st.text(max_size=8),
        }
        return f"{url}/reconnect", {}, bodies(fields)
    if name == "persist":
        fields = {"gameId": st.sampled_from([game_id, "other"]), "forceOverwrite": st.booleans()}
        return f"{url}/persist", first.auth, bodies(fields)
    if name == "persist-admin":
        fields = {"gameId": st.sampled_from([game_id, "other"]), "forceOverwrite": st.booleans()}
        return f"{url}/persist", ADMIN_AUTH, bodies(fields)
    raise AssertionError(name)


@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    "name", ["create", "join", "start", "action", "reconnect", "persist", "persist-admin"]
)
def test_random_bodies_never_answer_500(name: str) -> None:
    with running() as api:
        url, headers, strategy = endpoint(api, name)

        @settings(
            max_examples=150,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        )
        @given(raw=strategy, content_type=st.sampled_from(["application/json", "text/plain"]))
        def post(raw: bytes, content_type: str) -> None:
            check(
                api.client.post(url, content=raw, headers={**headers, "Content-Type": content_type})
            )

        post()
