"""The reference poker engine passes the engine contract checks (`rejoin_server.testing
.engine_contract`), as any game's engine should: replay equals live, dump/load round trip,
redaction of hole cards, clocks, refusals. `play` and `secrets` below are what the checks need to
know of poker; everything else they learn from the engine."""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from typing import Any

import pytest

from rejoin_server.games.base import Act, Command, Join, PrivateData, Start
from rejoin_server.games.poker import PokerEngine, PokerTable
from rejoin_server.games.poker import cards as poker_cards
from rejoin_server.games.poker.settings import PokerSettings
from rejoin_server.testing.engine_contract import (
    check_clocks,
    check_engine,
    check_redaction,
    check_refusals,
    check_replay,
    check_round_trip,
    check_sealing,
)
from rejoin_server.testing.engine_rollback import check_rollback

PLAYERS = [f"player{n:06d}" for n in range(4)]
# Short stacks, so that games reach all-ins, showdowns and their end; a short clock, and none
# between hands; hands started by hand.
SETTINGS = [
    {"seats": 4, "startingStack": 100, "actionTimeoutMs": 10_000, "nextHandDelayMs": 2_000},
    {"seats": 3, "startingStack": 20, "actionTimeoutMs": 1_000, "nextHandDelayMs": 0},
    {"seats": 4, "startingStack": 60, "autoNextHand": False},
]
ENGINE = PokerEngine()


@pytest.fixture(autouse=True)
def seeded_cards(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cards from a seeded shuffle, so that a failing game replays; the table's own `secrets`
    draw is tested in test_cards."""
    rng = random.Random(15)
    monkeypatch.setattr(
        poker_cards,
        "draw",
        lambda n, dealt: rng.sample([c for c in poker_cards.DECK if c not in dealt], n),
    )


def play(table: PokerTable, rng: random.Random) -> Command | None:
    """Players join (some late), start hands and act from their view's `legalActions`; one move
    in eight is one the rules refuse."""
    seated = [p for p in PLAYERS if table.seat_of(p) is not None]
    newcomers = [p for p in PLAYERS if table.seat_of(p) is None]
    room = newcomers and len(table.seats) < table.settings.seats
    if room and (len(seated) < 2 or rng.random() < 0.05):
        return Join(newcomers[0], f"Player {newcomers[0][-1]}")
    to_act = table.view(None)["toAct"]
    if to_act is None:  # between hands
        if table.next_deadline() is not None and rng.random() < 0.8:
            return None  # the next hand comes by the clock
        return Start(rng.choice(seated))  # refused without 2 players with chips
    actor = table.seats[to_act].player_id
    if rng.random() < 1 / 8:
        return _refused(table, actor, seated, rng)
    legal = {a["type"]: a for a in table.view(actor)["you"]["legalActions"]}
    # Weighted like a loose table, so that games last several hands and still reach all-ins.
    roll = rng.random()
    sizing = legal.get("bet") or legal.get("raise")
    if roll < 0.04 and "allin" in legal:
        return Act(actor, "allin")
    if roll < 0.2 and "fold" in legal:
        return Act(actor, "fold")
    if roll < 0.45 and sizing is not None:
        low, high = sizing["min"], sizing["max"]
        return Act(
            actor, sizing["type"], {"amount": rng.choice([low, low, rng.randint(low, high)])}
        )
    return Act(actor, "check" if "check" in legal else "call")


def _refused(table: PokerTable, actor: str, seated: list[str], rng: random.Random) -> Command:
    others = [p for p in seated if p != actor]
    options: list[Command] = [
        Act(rng.choice(others), "check"),  # not_your_turn
        Act(actor, "raise", {"amount": 0}),  # invalid_action
        Act(actor, "call", {"amount": 5, "tip": 1}),  # a field poker has not
        Start(actor),  # hand_in_progress
        Join(actor, "Twice"),  # already seated
        Join("player999999", ""),  # no name
    ]
    if len(table.seats) < table.settings.seats:
        taken = next(iter(table.seats))
        options.append(Join("player999998", "Late", taken))  # seat_taken
    return rng.choice(options)


def secrets(table: PokerTable, player_id: str) -> list[str]:
    """A player's hole cards, until a showdown shows them; while the hand is on the table."""
    seat = table.seat_of(player_id)
    hand = table.hand if table.hand is not None else table.last_hand
    if seat is None or hand is None or seat in table.shown:
        return []
    return list(hand.hole.get(seat, ()))


@pytest.mark.parametrize("settings", SETTINGS, ids=["clocked", "fast", "manual-start"])
def test_poker_keeps_the_engine_contract(settings: dict[str, Any]) -> None:
    check_engine(ENGINE, settings, PLAYERS, play, secrets, games=6, max_commands=250)


@pytest.mark.parametrize(
    "check",
    [check_replay, check_round_trip, check_clocks, check_refusals],
    ids=lambda c: c.__name__,
)
def test_each_check_alone(check: Any) -> None:
    check(ENGINE, SETTINGS[0], PLAYERS, play, games=3)


def test_redaction_alone() -> None:
    check_redaction(ENGINE, SETTINGS[0], PLAYERS, play, secrets, games=3)


def test_a_leak_of_hole_cards_is_caught() -> None:
    """The poker `secrets` above are not vacuous: a table that shows every hole card fails."""

    class Leaky(PokerTable):
        def view(self, player_id: str | None) -> dict[str, Any]:
            view = super().view(player_id)
            hand = self.hand if self.hand is not None else self.last_hand
            for seat in view["seats"]:
                if hand is not None and seat["seat"] in hand.hole:
                    seat["holeCards"] = list(hand.hole[seat["seat"]])
            return view

    class LeakyEngine(PokerEngine):
        def new_game(self, game_id: str, settings: Mapping[str, Any]) -> PokerTable:
            return Leaky(game_id, PokerSettings.parse(settings))

    with pytest.raises(AssertionError, match=r"\['holeCards'\]\[\d\] shows '\w\w' to"):
        check_redaction(LeakyEngine(), SETTINGS[0], PLAYERS, play, secrets, games=2)


@pytest.mark.parametrize("settings", SETTINGS, ids=["clocked", "fast", "manual-start"])
def test_poker_keeps_the_rollback_contract(settings: dict[str, Any]) -> None:
    """A rollback (`snapshot_restored`) takes the table at its version, restarts its clocks from
    the event's `at`, and the log replays from seq 1 to the live table."""
    check_rollback(ENGINE, settings, PLAYERS, play, games=6)


def test_hole_cards_are_sealed_at_rest() -> None:
    """Its `private_data` takes every hole card out of what stays plain in the database."""
    check_sealing(ENGINE, SETTINGS[0], PLAYERS, play, secrets, games=3)


class CardsInTheDump(PokerEngine):
    """A declaration that forgets the dump's hole cards (`h.c`): what the check must catch."""

    private_data = PrivateData(events={"hole_cards": ("cards",)})


class CardsInTheEvent(PokerEngine):
    """A declaration that forgets the `hole_cards` event."""

    private_data = PrivateData(state=("h.c",))


@pytest.mark.parametrize(
    ("engine", "where"), [(CardsInTheDump(), "dump()"), (CardsInTheEvent(), "(hole_cards)")]
)
def test_hole_cards_left_out_of_the_declaration_are_caught(engine: PokerEngine, where: str) -> None:
    with pytest.raises(AssertionError, match=r"^\[sealing\].*" + re.escape(where)):
        check_sealing(engine, SETTINGS[0], PLAYERS, play, secrets, games=2)


def test_an_engine_declaring_nothing_has_everything_sealed() -> None:
    class Undeclared(PokerEngine):
        private_data = None  # type: ignore[assignment]

    check_sealing(Undeclared(), SETTINGS[0], PLAYERS, play, secrets, games=2)
