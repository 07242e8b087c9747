"""Actions over HTTP: an actionId takes effect once (also across a kill -9), `atSeq` guards against
acting on a stale view, and the rule errors carry their codes."""

from __future__ import annotations

import pytest

from rejoin_testkit.api import Api
from rejoin_testkit.processes import ServerProcess
from rejoin_testkit.tables import Table

TABLE = {"seats": 3, "actionTimeoutMs": 600_000, "autoNextHand": False}


def test_create_and_join_answers(api: Api) -> None:
    created = api.create_game(seats=3, smallBlind=5, bigBlind=10, startingStack=500).ok(201)
    assert created["status"] == "waiting"
    assert isinstance(created["gameId"], str)
    for key, value in {"seats": 3, "smallBlind": 5, "bigBlind": 10, "startingStack": 500}.items():
        assert created[key] == value, created
    defaults = api.create_game().ok(201)
    assert defaults["seats"] == 6
    assert defaults["actionTimeoutMs"] == 30000
    assert defaults["autoNextHand"] is True
    joined = api.join(created["gameId"], "Alice", seat=2).ok(201)
    assert joined["seat"] == 2
    assert isinstance(joined["sessionToken"], str)
    assert joined["connectionToken"]["playerId"] == joined["playerId"]
    api.join("nosuchgame00", "Bob").error("game_not_found")


def test_same_action_id_twice_is_one_action(api: Api) -> None:
    table = Table.create(api, **TABLE)
    table.join_many(3)
    table.start()
    move = table.act_passively()
    assert move.ack == {**move.ack, "success": True, "duplicate": False, "durable": True}
    seq = table.view()["seq"]
    assert move.ack["seq"] == seq
    again = move.player.act(move.type, action_id=move.action_id).ok(200)
    assert again["seq"] == move.ack["seq"]
    assert again["duplicate"] is True
    assert table.view()["seq"] == seq
    # Even with a different body: the actionId names the action.
    other = move.player.act("fold", action_id=move.action_id).ok(200)
    assert other["duplicate"] is True
    assert table.view()["seq"] == seq


def test_at_seq_guards_against_stale_views(api: Api) -> None:
    table = Table.create(api, **TABLE)
    table.join_many(3)
    table.start()
    actor = table.to_act()
    assert actor is not None
    seq = actor.view()["seq"]
    legal = {a["type"] for a in actor.view()["you"]["legalActions"]}
    type_ = "check" if "check" in legal else "call"
    actor.act(type_, at_seq=seq - 1).error("stale_state")
    actor.act(type_, at_seq=seq + 1).error("stale_state")
    assert actor.view()["seq"] == seq
    ack = actor.act(type_, at_seq=seq).ok(200)
    assert ack["seq"] > seq


def test_rule_errors(api: Api) -> None:
    table = Table.create(api, **TABLE)
    alice, bob, _ = table.join_many(3)
    alice.act("call").error("no_hand_in_progress")
    api.join(table.game_id, "Dave").error("table_full")  # 3 seats, 3 players
    table.start()
    api.start(table.game_id, bob.session).error("hand_in_progress")
    actor = table.to_act()
    assert actor is not None
    waiting = next(p for p in table.players if p is not actor)
    waiting.act("fold").error("not_your_turn")
    actor.act("check").error("invalid_action")  # facing the big blind
    actor.act("raise", 3).error("invalid_action")  # below the minimum raise
    actor.act("bet", 10).error("invalid_action")  # there is a bet already: raise, not bet
    assert table.view()["seq"] == actor.view()["seq"]


@pytest.mark.slow
def test_an_acknowledged_action_resent_after_kill9_is_a_duplicate(
    server: ServerProcess, api: Api
) -> None:
    table = Table.create(api, **TABLE)
    table.join_many(3)
    table.start()
    moves = [table.act_passively() for _ in range(2)]
    seq = table.view()["seq"]
    server.kill9()
    server.restart()
    api.reset()
    for move in moves:
        again = move.player.act(move.type, action_id=move.action_id).ok(200)
        assert again["seq"] == move.ack["seq"]
        assert again["duplicate"] is True
    assert table.view()["seq"] == seq
