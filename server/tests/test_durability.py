"""The rollout rule and the ids of games kept in memory only (`rejoin_server.durability`): the rule
is a stable function of the id, persists about the fraction asked for, and reads the same on the
id a memory game ends up with."""

from __future__ import annotations

import hashlib
import uuid

import pytest

from rejoin_server.durability import (
    MEMORY_PREFIX,
    is_memory_id,
    new_game_id,
    of_stored,
    persisted_by_rule,
    rollout_point,
)
from rejoin_server.settings import ServerSettings

IDS = [uuid.UUID(int=n * 0x9E3779B97F4A7C15 % 2**128).hex for n in range(1, 20_001)]


def test_the_point_is_the_first_8_bytes_of_sha256_as_a_fraction() -> None:
    game_id = "ae82c17bf2a349cf879268440b48b7d9"
    digest = hashlib.sha256(game_id.encode()).digest()
    assert rollout_point(game_id) == int.from_bytes(digest[:8], "big") / 2**64
    assert 0.0 <= rollout_point(game_id) < 1.0


def test_the_rule_is_stable_for_an_id() -> None:
    # The same answer every time, and not a function of anything but the id (no salt, no clock).
    for game_id in IDS[:200]:
        assert {persisted_by_rule(game_id, 0.5) for _ in range(3)} == {rollout_point(game_id) < 0.5}
    # Pinned: the side a game fell on must not move with a new Python or a new release (Python's
    # own `hash` of a str changes from one process to the next; this must not).
    assert rollout_point("ae82c17bf2a349cf879268440b48b7d9") == 0xD91A735AB2FB174C / 2**64
    assert rollout_point("mem-ae82c17bf2a349cf879268440b48b7d9") == 0xD91A735AB2FB174C / 2**64


@pytest.mark.parametrize("fraction", [0.01, 0.1, 0.25, 0.5, 0.9])
def test_about_the_fraction_asked_for_is_persisted(fraction: float) -> None:
    persisted = sum(persisted_by_rule(game_id, fraction) for game_id in IDS)
    # 20,000 ids: the binomial's standard deviation is at most 71 games (0.35 %); 1.5 % is a
    # bound no fair hash misses, and a rule ignoring the fraction always does.
    assert abs(persisted / len(IDS) - fraction) < 0.015


def test_a_larger_fraction_keeps_every_game_a_smaller_one_persisted() -> None:
    # Raising the fraction during a rollout moves games from memory to stored only, never back.
    at_10 = {game_id for game_id in IDS if persisted_by_rule(game_id, 0.1)}
    at_50 = {game_id for game_id in IDS if persisted_by_rule(game_id, 0.5)}
    assert at_10 < at_50


def test_the_ends_of_the_range_are_every_game_and_none() -> None:
    assert all(persisted_by_rule(game_id, 1.0) for game_id in IDS)
    assert not any(persisted_by_rule(game_id, 0.0) for game_id in IDS)


def test_a_new_game_gets_what_it_asks_for_whatever_the_rule() -> None:
    for _ in range(50):
        game_id, durability = new_game_id("relaxed", 0.0, "strict")
        assert (durability, is_memory_id(game_id)) == ("relaxed", False)
        game_id, durability = new_game_id("memory", 1.0, "strict")
        assert durability == "memory"
        assert game_id.startswith(MEMORY_PREFIX)
        assert len(game_id) == len(MEMORY_PREFIX) + 32


def test_a_new_game_that_does_not_ask_follows_the_rule_and_the_server() -> None:
    made = [new_game_id(None, 0.5, "relaxed") for _ in range(400)]
    assert {durability for _, durability in made} == {"relaxed", "memory"}
    for game_id, durability in made:
        # The rule reads the same on the id the game got, prefix or not.
        assert persisted_by_rule(game_id, 0.5) == (durability == "relaxed")
        assert is_memory_id(game_id) == (durability == "memory")
    assert all(d == "strict" for _, d in (new_game_id(None, 1.0, "strict") for _ in range(50)))
    assert all(d == "memory" for _, d in (new_game_id(None, 0.0, "strict") for _ in range(50)))


def test_a_stored_game_without_a_durability_follows_the_server() -> None:
    assert of_stored("relaxed", "strict") == "relaxed"
    assert of_stored("strict", "relaxed") == "strict"
    assert of_stored(None, "relaxed") == "relaxed"
    assert of_stored("memory", "strict") == "strict"  # never stored; read as the server's


@pytest.mark.parametrize("fraction", [-0.1, 1.5, float("nan")])
def test_the_settings_refuse_a_fraction_outside_0_to_1(fraction: float) -> None:
    with pytest.raises(ValueError, match="persist_fraction"):
        ServerSettings(persist_fraction=fraction)
