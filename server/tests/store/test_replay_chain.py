"""A replay through a chain of rollbacks folds the log once (`store.replay.rebuilder`), however
many of them go back past one another: counted in `apply` and `new_game` calls, never timed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rejoin_server.games.base import Event
from rejoin_server.store.replay import SNAPSHOT_RESTORED, fold, rebuilder, restored_data

GAME = "chain"


class Calls:
    def __init__(self) -> None:
        self.applied = 0
        self.new_games = 0
        self.loads = 0


class Counter:
    """The least a game can be: a count of `x` events, and the seq it is at."""

    def __init__(self, calls: Calls, seq: int = 0, count: int = 0) -> None:
        self.calls, self._seq, self.count = calls, seq, count

    @property
    def game_id(self) -> str:
        return GAME

    @property
    def seq(self) -> int:
        return self._seq

    def apply(self, event: Event) -> None:
        self.calls.applied += 1
        if event.kind == "x":
            self.count += 1
        self._seq = event.seq

    def dump(self) -> dict[str, Any]:
        return {"seq": self._seq, "count": self.count}


def chain(rollbacks: int) -> list[Event]:
    """`x` at each odd seq, and after each a rollback to it (to the `x` just before): every
    rollback's version lies past the rollback before it, so a replay of the state at a version
    meets every rollback before it."""
    log = []
    for i in range(rollbacks):
        log.append(Event(2 * i + 1, "x", 0, {}))
        log.append(Event(2 * i + 2, SNAPSHOT_RESTORED, 0, restored_data(2 * i + 1, "test", None)))
    return log


def test_a_chain_of_rollbacks_replays_in_linear_time() -> None:
    calls = Calls()

    def new_game() -> Any:
        calls.new_games += 1
        return Counter(calls)

    def load(data: Mapping[str, Any]) -> Any:
        calls.loads += 1
        return Counter(calls, data["seq"], data["count"])

    log = chain(12)
    state_at = rebuilder(new_game, log, GAME, load=load)
    state, replayed = fold(new_game(), log, GAME, state_at)
    assert (state.seq, replayed) == (24, 24)
    assert isinstance(state, Counter)
    assert state.count == 12  # each rollback kept its own `x`
    # Once through the log for the live fold, once for the rebuilt states: not 2^12.
    assert calls.applied <= 3 * len(log), calls.applied
    assert calls.new_games <= 2
    assert calls.loads <= 2 * len(log)
