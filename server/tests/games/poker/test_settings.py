"""Settings: defaults, and every bad value refused with `invalid_request` naming what to fix."""

from __future__ import annotations

from typing import Any

import pytest

from rejoin_server.games.base import GameRuleError
from rejoin_server.games.poker import PokerEngine, PokerSettings

ENGINE = PokerEngine()


def test_defaults() -> None:
    table = ENGINE.new_game("g", {})
    assert table.settings.to_json() == {
        "seats": 6,
        "smallBlind": 1,
        "bigBlind": 2,
        "startingStack": 200,
        "actionTimeoutMs": 30000,
        "autoNextHand": True,
        "nextHandDelayMs": 3000,
    }
    assert table.seq == 0
    assert table.status == "waiting"
    assert table.next_deadline() is None


def test_all_settings_round_trip() -> None:
    raw = {
        "seats": 9,
        "smallBlind": 5,
        "bigBlind": 10,
        "startingStack": 1000,
        "actionTimeoutMs": 0,
        "autoNextHand": False,
        "nextHandDelayMs": 0,
    }
    assert PokerSettings.parse(raw).to_json() == raw


def test_whole_numbers_written_as_floats_are_integers() -> None:
    parsed = PokerSettings.parse({"seats": 4.0, "bigBlind": 2.0})
    assert (parsed.seats, parsed.big_blind) == (4, 2)
    assert isinstance(parsed.seats, int)


@pytest.mark.parametrize(
    ("raw", "mentions"),
    [
        ({"seats": 1}, "seats"),
        ({"seats": 10}, "seats"),
        ({"seats": "6"}, "seats"),
        ({"seats": 6.5}, "seats"),
        ({"seats": True}, "seats"),
        ({"smallBlind": 0}, "smallBlind"),
        ({"smallBlind": 2, "bigBlind": 1}, "bigBlind"),
        ({"bigBlind": 10, "smallBlind": 5, "startingStack": 9}, "startingStack"),
        ({"startingStack": 10**12}, "startingStack"),
        ({"actionTimeoutMs": -1}, "actionTimeoutMs"),
        ({"actionTimeoutMs": 10**10}, "actionTimeoutMs"),
        ({"nextHandDelayMs": -5}, "nextHandDelayMs"),
        ({"nextHandDelayMs": 10**9}, "nextHandDelayMs"),
        ({"autoNextHand": 1}, "autoNextHand"),
        ({"autoNextHand": "yes"}, "autoNextHand"),
        ({"bigBlinds": 2}, "bigBlinds"),
    ],
)
def test_bad_settings_are_refused(raw: dict[str, Any], mentions: str) -> None:
    with pytest.raises(GameRuleError) as info:
        ENGINE.new_game("g", raw)
    assert info.value.code == "invalid_request"
    assert mentions in info.value.message


def test_load_with_bad_settings_is_a_value_error() -> None:
    dump = ENGINE.new_game("g", {}).dump()
    with pytest.raises(ValueError, match="settings"):
        ENGINE.load("g", {"seats": 0}, dump)
