"""Every endpoint fed garbage answers with its documented error (docs/http-api.md's form, status matching the
code), never a 500 and never a traceback - and the server log has no traceback afterwards."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from e2e.support.poker import without_presence
from rejoin_testkit.api import Api, Reply
from rejoin_testkit.processes import ServerProcess
from rejoin_testkit.tables import Table

MEGABYTE = 1024 * 1024
BAD = "invalid_request"
NO_AUTH = "unauthorized"
NOT_FOUND = "game_not_found"
UNKNOWN_GAME = "nosuchgame00"


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: str
    codes: tuple[str, ...]
    body: Any = None  # JSON-encoded when not None and `raw` is None
    raw: bytes | None = None
    auth: str | None = None
    params: dict[str, Any] | None = None

    def send(self, api: Api) -> Reply:
        # JSON answers only: the events endpoint would otherwise open a stream.
        common: dict[str, Any] = {
            "auth": self.auth,
            "params": self.params,
            "headers": {"Accept": "application/json"},
        }
        if self.raw is not None:
            return api.request(self.method, self.path, content=self.raw, **common)
        if self.body is not None:
            return api.request(self.method, self.path, json_body=self.body, **common)
        return api.request(self.method, self.path, **common)


def junk_bodies(prefix: str, method: str, path: str, auth: str | None) -> list[Case]:
    """The same garbage for any endpoint that takes a JSON body."""
    deep = ('{"a":' * 5000 + "1" + "}" * 5000).encode()
    huge = json.dumps({"name": "x", "pad": "x" * MEGABYTE}).encode()
    return [
        Case(f"{prefix}: malformed JSON", method, path, (BAD,), raw=b'{"name": ', auth=auth),
        Case(f"{prefix}: a JSON array", method, path, (BAD,), body=[1, 2], auth=auth),
        Case(f"{prefix}: JSON null", method, path, (BAD,), raw=b"null", auth=auth),
        Case(f"{prefix}: a JSON string", method, path, (BAD,), raw=b'"hello"', auth=auth),
        Case(f"{prefix}: not UTF-8", method, path, (BAD,), raw=b"\xff\xfe{}", auth=auth),
        Case(f"{prefix}: 5000 levels deep", method, path, (BAD,), raw=deep, auth=auth),
        Case(f"{prefix}: a 1 MB body", method, path, (BAD,), raw=huge, auth=auth),
    ]


def cases(game: str, session: str, other_session: str, admin: str, seat: int) -> list[Case]:
    act = f"/api/game/{game}/action"
    join = f"/api/game/{game}/join"
    reconnect = f"/api/game/{game}/reconnect"
    ok_reconnect = {"gameId": game, "playerId": "p", "reconnectToken": "t"}
    out: list[Case] = []
    # Creating games.
    out += junk_bodies("create", "POST", "/api/games", None)
    create_bodies: list[dict[str, Any]] = [
        {"seats": "6"},
        {"seats": True},
        {"seats": 1},
        {"seats": 10},
        {"seats": 6.5},
        {"smallBlind": -1},
        {"bigBlind": 2.5},
        {"bigBlind": None},
        {"startingStack": "lots"},
        {"actionTimeoutMs": "fast"},
        {"actionTimeoutMs": -1},
        {"autoNextHand": "yes"},
        {"autoNextHand": 1},
        {"nextHandDelayMs": [1]},
    ]
    for bad in create_bodies:
        out.append(Case(f"create {bad}", "POST", "/api/games", (BAD,), body=bad))
    # Joining.
    out += junk_bodies("join", "POST", join, None)
    join_bodies: list[dict[str, Any]] = [
        {},
        {"name": 5},
        {"name": None},
        {"name": ["Zed"]},
        {"name": "x" * 1000},
        {"name": "Zed", "seat": "1"},
        {"name": "Zed", "seat": -1},
        {"name": "Zed", "seat": 99},
        {"name": "Zed", "seat": True},
        {"name": "Zed", "seat": 1.5},
    ]
    for bad in join_bodies:
        out.append(Case(f"join {bad}", "POST", join, (BAD,), body=bad))
    out.append(
        Case("join a taken seat", "POST", join, ("seat_taken",), {"name": "Z", "seat": seat})
    )
    out.append(
        Case(
            "join unknown game",
            "POST",
            f"/api/game/{UNKNOWN_GAME}/join",
            (NOT_FOUND,),
            {"name": "Z"},
        )
    )
    # Starting.
    start = f"/api/game/{game}/start"
    out.append(Case("start without auth", "POST", start, (NO_AUTH,)))
    out.append(Case("start with a garbage session", "POST", start, (NO_AUTH,), auth="garbage"))
    out.append(Case("start while a hand runs", "POST", start, ("hand_in_progress",), auth=session))
    out.append(
        Case(
            "start an unknown game",
            "POST",
            f"/api/game/{UNKNOWN_GAME}/start",
            (NOT_FOUND, "forbidden"),
            auth=session,
        )
    )
    # Acting.
    out += junk_bodies("action", "POST", act, session)
    action_bodies: list[dict[str, Any]] = [
        {"actionId": "a1", "type": 5},
        {"actionId": "a1", "type": "dance"},
        {"actionId": "a1", "type": "raise", "amount": "10"},
        {"actionId": "a1", "type": "raise", "amount": True},
        {"actionId": "a1", "type": "raise", "amount": 10.5},
        {"actionId": "a1", "type": "raise", "amount": -5},
        {"actionId": "a1", "type": "call", "atSeq": "3"},
        {"actionId": "a1", "type": "call", "atSeq": -1},
        {"actionId": 5, "type": "call"},
        {"actionId": ["a"], "type": "call"},
        {"actionId": "a1"},
        {"type": "call"},
    ]
    for bad in action_bodies:
        # A value out of range may be refused by the rules rather than by the schema.
        lenient = bad.get("type") == "dance" or bad.get("amount") == -5
        codes = (BAD, "invalid_action") if lenient else (BAD,)
        out.append(Case(f"action {bad}", "POST", act, codes, body=bad, auth=session))
    out.append(
        Case("action without auth", "POST", act, (NO_AUTH,), {"actionId": "a", "type": "call"})
    )
    out.append(
        Case(
            "action with another game's session",
            "POST",
            act,
            ("forbidden", "player_not_in_game"),
            {"actionId": "a", "type": "call"},
            auth=other_session,
        )
    )
    # Reading.
    for what in ("state", "events", "connection-token"):
        path = f"/api/game/{game}/{what}"
        out.append(Case(f"{what} without auth", "GET", path, (NO_AUTH,)))
        out.append(Case(f"{what} with a garbage session", "GET", path, (NO_AUTH,), auth="x.y.z"))
        out.append(
            Case(
                f"{what} with another game's session",
                "GET",
                path,
                ("forbidden", "player_not_in_game"),
                auth=other_session,
            )
        )
        out.append(
            Case(
                f"{what} of an unknown game",
                "GET",
                f"/api/game/{UNKNOWN_GAME}/{what}",
                (NOT_FOUND, "forbidden"),
                auth=session,
            )
        )
    events = f"/api/game/{game}/events"
    for after in ("abc", "-1", "1.5"):
        out.append(
            Case(
                f"events after={after!r}",
                "GET",
                events,
                (BAD,),
                auth=session,
                params={"after": after},
            )
        )
    # Reconnecting.
    out += junk_bodies("reconnect", "POST", reconnect, None)
    for key, value in (
        ("playerId", 5),
        ("reconnectToken", 123),
        ("reconnectToken", None),
        ("lastSeq", "3"),
        ("lastSeq", -1),
        ("lastSeq", True),
        ("lastSeq", 2.5),
        ("clientId", 5),
        ("gameId", ["x"]),
    ):
        out.append(
            Case(
                f"reconnect {key}={value!r}",
                "POST",
                reconnect,
                (BAD,),
                {**ok_reconnect, key: value},
            )
        )
    for missing in ("playerId", "reconnectToken"):
        body = {k: v for k, v in ok_reconnect.items() if k != missing}
        out.append(Case(f"reconnect without {missing}", "POST", reconnect, (BAD,), body))
    out.append(
        Case("reconnect with a garbage token", "POST", reconnect, ("token_invalid",), ok_reconnect)
    )
    # Persist, restore, delete.
    persist = f"/api/game/{game}/persist"
    out += junk_bodies("persist", "POST", persist, admin)
    out.append(
        Case(
            "persist forceOverwrite='yes'",
            "POST",
            persist,
            (BAD,),
            {"forceOverwrite": "yes"},
            auth=admin,
        )
    )
    out.append(Case("persist without auth", "POST", persist, (NO_AUTH,), {}))
    for method, what in (("POST", "persist"), ("GET", "restore"), ("DELETE", "persist")):
        out.append(
            Case(
                f"{method} {what} of an unknown game",
                method,
                f"/api/game/{UNKNOWN_GAME}/{what}",
                (NOT_FOUND,),
                auth=admin,
            )
        )
        out.append(
            Case(f"{method} {what} without auth", method, f"/api/game/{game}/{what}", (NO_AUTH,))
        )
    return out


def test_garbage_in_documented_errors_out(server: ServerProcess, api: Api) -> None:
    table = Table.create(api, seats=4, actionTimeoutMs=600_000, autoNextHand=False)
    alice, bob = table.join_many(2)
    table.start()
    other = Table.create(api, seats=2)
    outsider = other.join("Mallory")
    before = without_presence(table.view())
    actor = table.to_act()
    assert actor is not None

    failures: list[str] = []
    for case in cases(
        table.game_id, actor.session, outsider.session, api.admin_token or "", alice.seat
    ):
        try:
            case.send(api).error(*case.codes)
        except (AssertionError, httpx.HTTPError) as exc:
            failures.append(f"{case.name}: {type(exc).__name__}: {exc}")
    assert not failures, f"{len(failures)} endpoints misbehaved:\n" + "\n".join(failures)

    # None of it changed the game, and the game still plays.
    assert without_presence(table.view()) == before
    table.act_passively()
    assert bob.view()["seq"] == before["seq"] + 1
    assert "Traceback" not in server.log(), server.log_tail()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/nope"),
        ("GET", "/api/game/{game}/nope"),
        ("POST", "/api/game/{game}/state"),
        ("PUT", "/api/games"),
        ("DELETE", "/api/game/{game}/state"),
        ("GET", "/nope"),
    ],
)
def test_unknown_routes_and_methods(
    server: ServerProcess, api: Api, method: str, path: str
) -> None:
    game = Table.create(api).game_id
    reply = api.request(method, path.format(game=game))
    assert reply.status in (404, 405), reply.describe()
    assert "Traceback" not in reply.text
    if path.startswith("/api/"):
        assert isinstance(reply.body, dict), f"an API error must be JSON: {reply.describe()}"
        assert reply.body.get("success") is False, reply.describe()
        assert isinstance(reply.body.get("error", {}).get("code"), str), reply.describe()
    assert "Traceback" not in server.log(), server.log_tail()
