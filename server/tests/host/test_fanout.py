"""Fan-out: each published event is encoded once per visibility and shared by every reader;
readers have bounded queues; presence is announced to the other players' sockets only; a newer
socket for a seat supersedes the older one."""

from __future__ import annotations

import json
from unittest import mock

import orjson
import pytest

from rejoin_protocol.errors import CLOSE_SUPERSEDED
from rejoin_server.games.base import Start
from rejoin_server.host import live as live_module
from rejoin_server.host.host import GameHost
from rejoin_server.host.live import END_SLOW, Outgoing, PresenceNote, Subscriber

from .support import new_table, started_table


def end_of(subscriber: Subscriber) -> tuple[int, str] | None:
    return subscriber.end


def outgoing(subscriber: Subscriber) -> list[Outgoing]:
    items = []
    while not subscriber.queue.empty():
        item = subscriber.queue.get_nowait()
        if isinstance(item, Outgoing):
            items.append(item)
    return items


async def test_each_event_is_encoded_once_per_visibility(host: GameHost) -> None:
    game_id, players = await new_table(host, 3)
    live = await host.get(game_id)
    readers = {
        p: [host.subscribe(live, p), host.subscribe(live, p)] for p in players
    }  # two readers per player: a WebSocket and an SSE stream, say
    outcome = await host.execute(game_id, Start(players[0]))
    queued = {p: [outgoing(r) for r in rs] for p, rs in readers.items()}
    with mock.patch.object(orjson, "dumps", wraps=orjson.dumps) as dumps:
        texts = {
            p: [[o.json_for(live.state, p) for o in items] for items in lists]
            for p, lists in queued.items()
        }
    hole_cards = [e for e in outcome.events if e.kind == "hole_cards"]
    public = len(outcome.events) - len(hole_cards)
    # Public events once; each hole_cards event twice: in full (its owner) and redacted (the rest).
    assert dumps.call_count == public + 2 * len(hole_cards)
    for player, (first, second) in texts.items():
        # The readers of one player share the very same strings, not equal copies.
        assert all(a is b for a, b in zip(first, second, strict=True))
        for text in first:
            event = json.loads(text)
            if event["kind"] == "hole_cards":
                mine = event["data"]["playerId"] == player
                assert (event["data"]["cards"] is not None) == mine
    # Two players who may not see a hand share its one redaction.
    p0, p1, p2 = players
    seq = hole_cards[0].seq
    owner = hole_cards[0].data["playerId"]
    others = [p for p in (p0, p1, p2) if p != owner]
    index = [e.seq for e in outcome.events].index(seq)
    assert texts[others[0]][0][index] is texts[others[1]][0][index]


async def test_a_reader_that_falls_too_far_behind_is_ended_and_the_table_goes_on(
    host: GameHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live_module, "SUBSCRIBER_QUEUE", 3)
    game_id, players = await new_table(host, 2)
    live = await host.get(game_id)
    slow = host.subscribe(live, players[0])
    outcome = await host.execute(game_id, Start(players[0]))
    assert len(outcome.events) > 3
    assert slow.end == END_SLOW
    assert slow.queue.qsize() == 3  # bounded: nothing more was kept for it
    assert live.state.seq == outcome.seq


async def test_presence_goes_to_the_other_players_sockets_only(host: GameHost) -> None:
    game_id, (p0, p1) = await new_table(host, 2)
    live = await host.get(game_id)
    socket0 = host.subscribe(live, p0, presence=True, count=False)
    host.take_seat(live, socket0)
    sse0 = host.subscribe(live, p0)  # a second connection of p0: no news for anyone
    socket1 = host.subscribe(live, p1, presence=True, count=False)
    host.take_seat(live, socket1)
    assert socket0.queue.get_nowait() == PresenceNote(p1, True)
    assert socket1.queue.empty()  # p1 hears nothing of itself
    host.unsubscribe(live, socket0)
    assert socket1.queue.empty()  # p0 is still connected by its stream
    host.unsubscribe(live, sse0)
    assert socket1.queue.get_nowait() == PresenceNote(p0, False)
    assert not live.is_connected(p0)
    assert live.is_connected(p1)


async def test_a_new_socket_for_a_seat_supersedes_the_old_one(host: GameHost) -> None:
    game_id, (p0, _) = await started_table(host, 2)
    live = await host.get(game_id)
    old = host.subscribe(live, p0, presence=True, count=False)
    host.take_seat(live, old)
    new = host.subscribe(live, p0, presence=True, count=False)
    host.take_seat(live, new)
    assert old.end == (CLOSE_SUPERSEDED, "superseded")
    assert end_of(new) is None
    assert live.sockets[p0] is new
    host.unsubscribe(live, old)  # the old socket leaving does not unseat the new one
    assert live.sockets[p0] is new
    assert live.is_connected(p0)
    host.supersede(live, p0)  # a `POST …/reconnect` of the seat
    assert end_of(new) == (CLOSE_SUPERSEDED, "superseded")
    assert p0 not in live.sockets
