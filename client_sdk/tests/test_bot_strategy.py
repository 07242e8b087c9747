"""The strategies pick only what the server listed as legal, within its amounts."""

from __future__ import annotations

import random
from typing import Any

import pytest

from rejoin.bots.load import percentile
from rejoin.bots.strategy import STRATEGIES, call_strategy, random_strategy

FACING_A_BET: list[dict[str, Any]] = [
    {"type": "fold"},
    {"type": "call", "amount": 4},
    {"type": "raise", "min": 8, "max": 200},
    {"type": "allin", "amount": 200},
]
UNOPENED: list[dict[str, Any]] = [
    {"type": "fold"},
    {"type": "check"},
    {"type": "bet", "min": 2, "max": 50},
    {"type": "allin", "amount": 50},
]


def test_call_checks_when_it_can_and_calls_otherwise() -> None:
    rng = random.Random(0)
    assert call_strategy(UNOPENED, rng).type == "check"
    assert call_strategy(FACING_A_BET, rng).type == "call"
    assert call_strategy([{"type": "fold"}, {"type": "allin", "amount": 3}], rng).type == "allin"


@pytest.mark.parametrize("legal", [FACING_A_BET, UNOPENED])
def test_random_picks_legal_actions_and_amounts(legal: list[dict[str, Any]]) -> None:
    rng = random.Random(1)
    by_type = {action["type"]: action for action in legal}
    picked = [random_strategy(legal, rng) for _ in range(2000)]
    assert {choice.type for choice in picked} == set(by_type)  # each one, sooner or later
    for choice in picked:
        if choice.type in ("bet", "raise"):
            assert choice.amount is not None
            assert by_type[choice.type]["min"] <= choice.amount <= by_type[choice.type]["max"]
        else:
            assert choice.amount is None


def test_random_repeats_from_its_seed() -> None:
    first = [random_strategy(FACING_A_BET, random.Random(5)) for _ in range(3)]
    again = [random_strategy(FACING_A_BET, random.Random(5)) for _ in range(3)]
    assert first == again


def test_an_empty_list_is_a_bug_not_a_fold() -> None:
    for strategy in STRATEGIES.values():
        with pytest.raises(ValueError, match="no action"):
            strategy([], random.Random(0))


def test_percentile_is_a_measured_value() -> None:
    values = [0.5, 0.1, 0.3, 0.2, 0.4]
    assert percentile(values, 50) == 0.3
    assert percentile(values, 99) == 0.5
    assert percentile([7.0], 1) == 7.0
