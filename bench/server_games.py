"""Tables played through a real server's HTTP API (docs/http-api.md), and the same play in-process.

Every table is `TABLE_SETTINGS`: deep stacks and a 24-hour action clock, so that no timeout fires
during a benchmark and no table ends; no automatic next hand, so that the driver deals each hand
itself (`POST …/start`) and nothing happens on a table between two requests. The players check
when they can and call otherwise (`choose`), the same policy over HTTP and in-process, so both
sides see the same kinds of commands and events.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any

import httpx
import orjson

from bench.server_procs import ADMIN_TOKEN
from rejoin_testkit.api import Api
from rejoin_testkit.tables import Player, Table

JsonObject = dict[str, Any]

TABLE_SETTINGS: JsonObject = {
    "seats": 6,
    "smallBlind": 1,
    "bigBlind": 2,
    "startingStack": 1_000_000,
    "actionTimeoutMs": 24 * 3_600_000,
    "autoNextHand": False,
    "nextHandDelayMs": 0,
}
JSON_HEADERS = {"content-type": "application/json"}


def bearer(player: Player) -> dict[str, str]:
    return {"authorization": f"Bearer {player.session}"}


def reconnect_body(player: Player, last_seq: int) -> bytes:
    """A `POST …/reconnect` body with the player's newest reconnect token (every reconnect returns
    its successor, which `Player.adopt` keeps)."""
    return orjson.dumps(
        {
            "gameId": player.game_id,
            "playerId": player.player_id,
            "reconnectToken": player.token,
            "lastSeq": last_seq,
            "clientId": player.client_id,
        }
    )


def choose(view: Mapping[str, Any]) -> tuple[int, str] | None:
    """The seat to act and its command (check, else call), or None when no hand is running."""
    seat = view.get("toAct")
    if seat is None:
        return None
    seats = view["seats"]
    top = max(s["bet"] for s in seats)
    mine = next(s for s in seats if s["seat"] == seat)
    return seat, ("check" if mine["bet"] >= top else "call")


def expect(response: httpx.Response, status: int = 200) -> JsonObject:
    """The JSON body of a response that must have `status`; a benchmark cannot go on otherwise."""
    if response.status_code != status:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path} answered "
            f"{response.status_code}, not {status}: {response.text[:500]}"
        )
    body = response.json()
    assert isinstance(body, dict)
    return body


def admin_headers() -> dict[str, str]:
    return {"authorization": f"Bearer {ADMIN_TOKEN}"}


# --- over HTTP ----------------------------------------------------------------------------------


def seat_table(
    client: httpx.Client, players: int, settings: JsonObject = TABLE_SETTINGS, *, deal: bool = True
) -> Table:
    """A new table with `players` players joined and, with `deal`, the first hand dealt."""
    table = Table.create(Api(str(client.base_url), client=client), **settings)
    for i in range(players):
        table.join(f"bot {i}")
    if deal:
        table.start()
    return table


def view_of(client: httpx.Client, table: Table) -> JsonObject:
    answer = expect(
        client.get(f"/api/game/{table.game_id}/state", headers=bearer(table.players[0]))
    )
    table.seq = answer["seq"]
    state = answer["gameState"]
    assert isinstance(state, dict)
    return state


def play_http(client: httpx.Client, table: Table, actions: int) -> list[float]:
    """`actions` timed `POST …/action` round trips (the state read and the deals between them are
    not timed); a new hand is dealt whenever one ends. The requests are written here rather than
    through `rejoin_testkit`'s `Api` so that the clock sees the round trip alone: the body is
    encoded before it starts, and no check of the driver's runs inside it."""
    samples: list[float] = []
    while len(samples) < actions:
        view = view_of(client, table)
        chosen = choose(view)
        if chosen is None:
            auth = bearer(table.players[0])
            expect(client.post(f"/api/game/{table.game_id}/start", headers=auth))
            continue
        seat, kind = chosen
        player = table.by_seat(seat)
        body = orjson.dumps({"actionId": uuid.uuid4().hex, "type": kind, "atSeq": table.seq})
        headers = {**JSON_HEADERS, **bearer(player)}
        url = f"/api/game/{table.game_id}/action"
        began = time.perf_counter()
        response = client.post(url, content=body, headers=headers)
        samples.append(time.perf_counter() - began)
        expect(response)
    return samples


def mid_hand(client: httpx.Client, players_per_table: int, tables: int) -> list[Table]:
    """`tables` tables, each stopped mid-hand after a few actions (the flop dealt)."""
    seated = [seat_table(client, players_per_table) for _ in range(tables)]
    for table in seated:
        play_http(client, table, players_per_table + 1)
        view_of(client, table)
    return seated
