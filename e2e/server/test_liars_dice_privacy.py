"""Liar's Dice through a real server killed with SIGKILL in the middle of a round (SQLite and
PostgreSQL): each player's dice stay private through every door a player has — the state, the
events as JSON and as SSE, the reconnect's missed events and the WebSocket welcome's replay —
before and after the kill; each player resumes with exactly the state and log they had; and the
challenge that ends the round reveals the dice each was dealt."""

from __future__ import annotations

from typing import Any

import pytest

from e2e.support.spawn import Spawn
from e2e.support.ws import Resume, WsClient
from rejoin_testkit.api import Api, JsonObject
from rejoin_testkit.example_game import LIARS_DICE, LIARS_DICE_ARGS, liars_dice_env
from rejoin_testkit.processes import ServerProcess
from rejoin_testkit.tables import Player, Table

SETTINGS = {"kind": LIARS_DICE, "seats": 3, "dice": 5, "actionTimeoutMs": 600_000}


def readings(server: ServerProcess, api: Api, player: Player) -> dict[str, Any]:
    """Everything `player` can read of the game, by door: all from seq 0."""
    state = player.state_reply().ok(200)
    seq = int(state["seq"])
    stream = api.sse(player.game_id, player.session, after=0, until_seq=seq)
    assert stream.status == 200, stream.error_text
    reconnect = player.reconnect(last_seq=0).ok(200)
    ws = WsClient(server.url, player.game_id, Resume.of(player))
    try:
        ws.hello(last_seq=0)
        welcome = ws.welcome()
    finally:
        ws.close()
    player.token = welcome["token"]["token"]
    player.session = welcome["sessionToken"]
    return {
        "state": state,
        "events": api.events(player.game_id, player.session, after=0).ok(200)["events"],
        "sse": stream.events,
        "reconnect": reconnect["missedEvents"],
        "reconnect state": reconnect["gameState"],
        "welcome": welcome["missedEvents"],
        "welcome state": welcome["gameState"],
    }


def dice_shown(payload: Any, seat: int) -> list[list[int]]:
    """Every list of dice shown for `seat` anywhere in `payload`: an object with that `seat` and a
    list as `dice` (`player_joined`'s `dice` is how many)."""
    found = []
    if isinstance(payload, dict):
        if payload.get("seat") == seat and isinstance(payload.get("dice"), list):
            found.append(payload["dice"])
        for value in payload.values():
            found += dice_shown(value, seat)
    elif isinstance(payload, list):
        for item in payload:
            found += dice_shown(item, seat)
    return found


def check_private(
    seen: dict[str, Any], viewer: Player, others: list[Player], mine: list[int]
) -> None:
    for door, payload in seen.items():
        for other in others:
            assert not dice_shown(payload, other.seat), f"{door} shows seat {other.seat}'s dice"
        if door in ("events", "sse", "reconnect", "welcome"):
            seqs = [e["seq"] for e in payload]
            assert seqs == list(range(1, len(seqs) + 1)), f"{door}: {seqs}"
            rolled = [e for e in payload if e["kind"] == "dice_rolled"]
            assert len(rolled) == 3, door  # one per seat, the others' with `dice: null`
    for door in ("state", "reconnect state", "welcome state"):
        view = seen[door] if door != "state" else seen[door]["gameState"]
        assert view["you"]["dice"] == mine, door


def without_presence(view: JsonObject) -> JsonObject:
    """A view without who is connected right now (a kill drops everyone)."""
    return {**view, "seats": [{**s, "connected": None} for s in view["seats"]]}


@pytest.mark.slow
def test_dice_stay_private_through_every_door_and_a_kill(
    spawn: Spawn, db_url: str, admin_token: str
) -> None:
    server = spawn(db_url, *LIARS_DICE_ARGS, env=liars_dice_env())
    api = Api(server.url, admin_token)
    table = Table.create(api, **SETTINGS)
    players = table.join_many(3)
    table.start()
    dealt = {p.seat: p.view()["you"]["dice"] for p in players}
    assert all(len(dice) == 5 for dice in dealt.values())
    opener = players[table.view()["toAct"]]
    api.act(table.game_id, opener.session, "bid", count=2, face=3).ok(200)

    before = {}
    for player in players:
        others = [p for p in players if p is not player]
        before[player.seat] = seen = readings(server, api, player)
        check_private(seen, player, others, dealt[player.seat])

    server.kill9()
    server.restart()
    api.reset()
    for player in players:
        others = [p for p in players if p is not player]
        after = readings(server, api, player)
        check_private(after, player, others, dealt[player.seat])
        old = before[player.seat]
        assert without_presence(after["state"]["gameState"]) == without_presence(
            old["state"]["gameState"]
        )
        for door in ("events", "sse", "reconnect", "welcome"):
            assert after[door] == old[door], f"{door} changed across the kill"

    # The challenge reveals every die, and they are the ones dealt before the kill.
    challenger = players[table.view()["toAct"]]
    api.act(table.game_id, challenger.session, "challenge").ok(200)
    for player in players:
        events = player.events()
        [challenge] = [e for e in events if e["kind"] == "challenged"]
        revealed = {r["seat"]: r["dice"] for r in challenge["data"]["reveal"]}
        assert revealed == dealt
        # And the search that found nothing before finds them now (it is not blind).
        for other in players:
            if other is not player:
                assert dice_shown(events, other.seat) == [dealt[other.seat]]
    api.close()
