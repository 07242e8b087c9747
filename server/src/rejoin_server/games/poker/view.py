"""What one player may see: the `gameState` view (docs/protocol.md) and the redaction of events.

The only secrets are hole cards. A viewer sees their own, and others' once shown at showdown
(`table.shown`); a `hole_cards` event of another seat reaches them with `cards: None` and the same
seq, so every client still sees a gapless log.

A game abandoned mid-hand still shows that hand (board, pots, bets), but nobody is to act in it.
"""

from __future__ import annotations

from dataclasses import replace

from rejoin_server.games.base import Event, JsonDict
from rejoin_server.games.poker import events as ev
from rejoin_server.games.poker.actions import legal_actions, min_raise_to
from rejoin_server.games.poker.state import TableState


def build_view(table: TableState, player_id: str | None) -> JsonDict:
    viewer = None if player_id is None else table.seat_of(player_id)
    running = table.hand
    on_table = running if running is not None else table.last_hand
    # The hand still being played, if any: not one frozen by the end of the game.
    live = running if table.status != "completed" else None
    you = None
    if viewer is not None:
        mine = live if live is not None and live.actor_seat == viewer else None
        you = {
            "playerId": player_id,
            "seat": viewer,
            "legalActions": legal_actions(mine) if mine is not None else [],
        }
    return {
        "gameId": table.game_id,
        "seq": table.seq,
        "status": table.status,
        "handNumber": table.hand_number,
        "phase": _phase(table),
        "board": list(on_table.board) if on_table is not None else [],
        "pots": [
            {"amount": amount, "eligibleSeats": seats}
            for amount, seats in (running.pots() if running is not None else [])
        ],
        "button": table.button,
        "toAct": live.actor_seat if live is not None else None,
        "actionDeadline": table.action_deadline if live is not None else None,
        "minRaiseTo": min_raise_to(live) if live is not None else None,
        "seats": [_seat(table, number, viewer) for number in sorted(table.seats)],
        "you": you,
    }


def _phase(table: TableState) -> str:
    hand = table.hand
    if hand is None:
        return "hand_over" if table.last_hand is not None else "waiting"
    if hand.is_over:
        return "showdown"
    return ev.STREET_NAMES.get(len(hand.board), "preflop")


def _seat(table: TableState, number: int, viewer: int | None) -> JsonDict:
    seat = table.seats[number]
    running = table.hand
    hand = running if running is not None else table.last_hand
    stack, bet, folded, all_in = seat.stack, 0, False, False
    cards = None
    if hand is not None and number in hand.seats:
        folded = number in hand.folded
        cards = hand.hole.get(number)
        if running is not None:
            # Table stacks are the hand's starting stacks until it ends; the hand has the live ones.
            stack, bet = running.stack_of(number), running.bet_of(number)
            all_in = not running.is_over and not folded and stack == 0
    visible = cards is not None and (number == viewer or number in table.shown)
    return {
        "seat": number,
        "playerId": seat.player_id,
        "name": seat.name,
        "stack": stack,
        "bet": bet,
        "folded": folded,
        "allIn": all_in,
        "connected": False,
        "holeCards": list(cards) if visible and cards is not None else None,
    }


def redact(table: TableState, event: Event, player_id: str | None) -> Event:
    if event.kind != ev.HOLE_CARDS:
        return event
    # By player, not by seat: whoever sits at a seat later must not see its earlier cards.
    if player_id is not None and event.data.get("playerId") == player_id:
        return event
    return replace(event, data={**event.data, "cards": None})
