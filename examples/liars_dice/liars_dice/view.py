"""What one player may see: the game's view (`gameState`) and the redaction of events.

The only secrets are the dice of a round. A player sees their own; everybody sees every die of a
round once it is challenged (`revealed`), until the next round is rolled. A `dice_rolled` event of
another player reaches a viewer with `dice: None` and the same seq, so every log stays gapless. A
game abandoned mid-round keeps that round's dice hidden.
"""

from __future__ import annotations

from dataclasses import replace

from liars_dice import events as ev
from liars_dice import rules
from liars_dice.state import DiceState
from rejoin_server.games import Event, JsonDict

KIND = "liars-dice"


def build_view(state: DiceState, player_id: str | None) -> JsonDict:
    viewer = None if player_id is None else state.seat_of(player_id)
    running = state.round_running
    you = None
    if viewer is not None:
        acting = running and state.to_act == viewer
        you = {
            "playerId": player_id,
            "seat": viewer,
            "dice": _own_dice(state, viewer),
            "legalActions": rules.legal_actions(state) if acting else [],
        }
    challenge = state.last_challenge
    return {
        "gameId": state.game_id,
        "kind": KIND,
        "seq": state.seq,
        "status": state.status,
        "phase": state.phase,
        "round": state.round,
        "toAct": state.to_act if running else None,
        "actionDeadline": state.action_deadline if running else None,
        "currentBid": state.bid.to_json() if state.bid is not None and running else None,
        "diceInPlay": state.dice_in_play(),
        "seats": [_seat(state, number, viewer) for number in sorted(state.players)],
        "lastChallenge": challenge.to_json() if challenge is not None else None,
        "winner": state.winner,
        "you": you,
    }


def _own_dice(state: DiceState, seat: int) -> list[int]:
    return list(state.rolled.get(seat, ()))


def _seat(state: DiceState, number: int, viewer: int | None) -> JsonDict:
    player = state.players[number]
    dice: list[int] | None = None
    if number == viewer:
        dice = _own_dice(state, number)
    elif state.revealed and number in state.rolled:
        dice = list(state.rolled[number])
    return {
        "seat": number,
        "playerId": player.player_id,
        "name": player.name,
        "diceCount": player.dice_count,
        "dice": dice,
        "out": player.dice_count == 0,
    }


def redact(event: Event, player_id: str | None) -> Event:
    if event.kind != ev.DICE_ROLLED:
        return event
    # By player, not by seat: a seat is a player's for the whole game, but the rule is the same
    # one poker keeps, and it holds whatever a game does with its seats.
    if player_id is not None and event.data.get("playerId") == player_id:
        return event
    return replace(event, data={**event.data, "dice": None})
