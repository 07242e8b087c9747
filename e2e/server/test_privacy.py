"""Hole cards stay private through every door a player has: state, restore, reconnect (state and
missed events), the events endpoint as JSON and as SSE - before and after a kill -9, and for a
folded hand even after the showdown."""

from __future__ import annotations

from typing import Any

import pytest

from e2e.support.poker import cards_in, own_cards
from rejoin_testkit.api import Api, JsonObject
from rejoin_testkit.processes import ServerProcess
from rejoin_testkit.tables import Player, Table

TABLE = {"seats": 4, "actionTimeoutMs": 600_000, "autoNextHand": False}


def readings(api: Api, player: Player) -> dict[str, Any]:
    """Everything `player` can read about the game, by endpoint."""
    state = player.state_reply().ok(200)
    seq = int(state["seq"])
    stream = api.sse(player.game_id, player.session, after=0, until_seq=seq)
    assert stream.status == 200, stream.error_text
    assert stream.content_type.startswith("text/event-stream"), stream.content_type
    reconnect = player.reconnect(last_seq=0).ok(200)
    assert [e["seq"] for e in reconnect["missedEvents"]] == list(range(1, seq + 1))
    return {
        "state": state,
        "restore": api.restore(player.game_id, player.session).ok(200),
        "events": api.events(player.game_id, player.session, after=0).ok(200),
        "sse": stream.events,
        "sse ids": [m.id for m in stream.messages],
        "reconnect": reconnect,
    }


def assert_private(api: Api, viewer: Player, hidden: set[str], mine: list[str], when: str) -> None:
    seen = readings(api, viewer)
    for source, payload in seen.items():
        leaked = cards_in(payload) & hidden
        assert not leaked, f"{when}: {source} shows {viewer.name} others' hole cards {leaked}"
    assert set(mine) <= cards_in(seen["state"]), f"{when}: {viewer.name} cannot see own cards"
    # Others' hole_cards events arrive redacted, with their seq: the log stays gapless.
    for source in ("events", "sse", "reconnect"):
        payload = seen[source]
        events = payload["events"] if source == "events" else payload
        if source == "reconnect":
            events = payload["missedEvents"]
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1)), source
        for event in events:
            if event["kind"] != "hole_cards":
                continue
            if event["data"]["playerId"] == viewer.player_id:
                assert event["data"]["cards"] == mine, f"{when}: {source}: own hole_cards"
            else:
                assert event["data"]["cards"] is None, f"{when}: {source}: {event}"


def check_everyone(api: Api, table: Table, hole: dict[str, list[str]], when: str) -> None:
    for viewer in table.players:
        hidden = {c for pid, cards in hole.items() if pid != viewer.player_id for c in cards}
        assert_private(api, viewer, hidden, hole[viewer.player_id], when)


@pytest.mark.slow
def test_no_player_sees_another_players_hole_cards(server: ServerProcess, api: Api) -> None:
    table = Table.create(api, **TABLE)
    table.join_many(3)
    table.start()
    hole = {p.player_id: own_cards(p.view()) for p in table.players}
    everything = {c for cards in hole.values() for c in cards}
    assert len(everything) == 6, hole
    # The scan finds cards wherever they are: the operator's full state holds all of them.
    admin: JsonObject = api.restore(table.game_id, api.admin_token).ok(200)
    assert everything <= cards_in(admin["gameState"])

    folder = table.act_first_of("fold").player
    check_everyone(api, table, hole, "preflop")
    table.play_until(lambda view: view["phase"] == "flop")
    check_everyone(api, table, hole, "flop")

    server.kill9()
    server.restart()
    api.reset()
    check_everyone(api, table, hole, "after kill -9 and restart")
    table.play_until(lambda view: view["phase"] == "river")
    check_everyone(api, table, hole, "river")

    # Showdown: the hands shown may be seen; the folded hand never.
    table.play_hand_out()
    for viewer in table.players:
        if viewer is not folder:
            assert_private(api, viewer, set(hole[folder.player_id]), hole[viewer.player_id], "end")
