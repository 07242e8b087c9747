"""Which of a game's stored seqs its state still holds, after operators' rollbacks.

A rollback at seq S to version V leaves the log append-only: the state after S is the state at V,
so the events between V and S are no longer in it. An actionId remembered at such a seq must not
be answered "duplicate" (its effect is gone), nor applied anew (the player acted on a state that
is no more): `host.command_path` answers it `stale_state`. A later rollback may go back past the
first one to a version that holds the action again: what counts is the chain of states the
current one descends from, walked back from the head (each rollback jumps to its version).

The rollbacks of a game are known in memory from those made here; those stored before the game
was loaded are read from the store on the first resend that needs them (a rare path: at load the
server reads nothing more than before).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rejoin_server.store.base import GameStore
from rejoin_server.store.replay import SNAPSHOT_RESTORED, restored_version
from rejoin_server.store.restore import decode_event


@dataclass(slots=True)
class Lineage:
    """The rollbacks of one game: every one at a seq past `known_after` is in `rollbacks`."""

    known_after: int = 0
    rollbacks: dict[int, int] = field(default_factory=dict)  # its seq -> the version it restored

    def rolled_back(self, seq: int, version: int) -> None:
        self.rollbacks[seq] = version

    def holds(self, seq: int, head: int) -> bool:
        """Whether the state at `head` descends from the one at `seq` (`seq` ≥ `known_after`)."""
        at = head
        for rolled_at in sorted(self.rollbacks, reverse=True):
            if rolled_at <= seq:
                break
            if rolled_at <= at:
                at = self.rollbacks[rolled_at]
                if at < seq:
                    return False
        return True

    async def holds_stored(self, store: GameStore, game_id: str, seq: int, head: int) -> bool:
        """`holds`, reading the rollbacks stored between `seq` and `known_after` first."""
        if seq < self.known_after:
            for raw in await store.read_events(game_id, seq, self.known_after - seq):
                if raw.kind != SNAPSHOT_RESTORED:
                    continue
                try:
                    self.rollbacks[raw.seq] = restored_version(decode_event(game_id, raw))
                except ValueError:
                    continue  # the game's restore refused it already: it was not loaded
            self.known_after = seq
        return self.holds(seq, head)
