"""History epochs: a client whose events a crash erased is told to resync, never resumed on top.

Events can reach clients before they are stored (degraded mode while the store is down, or
`--durability relaxed`). If the server then dies, those events are gone, and the game, loaded
again, goes on from what the store holds, giving the same seqs to different events. A client
that saw the lost ones and resumes with its last seq would get the new events after it and keep
a history the server no longer has.

So each time a game is loaded into memory it is a new *incarnation* with an epoch of its own: a
random id and the first seq it writes (the stored last seq + 1). The game's row keeps the list of
epochs that stored events, oldest first; an incarnation's epoch is stored with its first events,
in the same transaction. A client keeps the epoch of its latest welcome (`"id.first"`, opaque to
it) and sends it back with its last seq. Its events up to that seq are ours exactly when:

- the epoch is ours (the incarnation serving now): it got them from us;
- its last seq is before the epoch's first seq: that incarnation only passed on what the store
  held when it was loaded, which no crash can take back;
- or the epoch is in our list and the next epoch begins after that seq: its events up to there
  were stored.

Anything else (an epoch that stored nothing, or whose later events a newer epoch rewrote) is a
history that was lost: the answer is a resync with the fresh state. A client that sends no epoch
(an older one, or plain `Last-Event-ID`) cannot be checked and resumes as before.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from rejoin_server.store.base import Epoch

# Epochs kept in a game's row; a client resuming from an older one than these resyncs.
EPOCHS_KEPT = 32
# What a client sends back: "<epoch>.<first seq>". ASCII digits only: str.isdigit() takes "²",
# which int() refuses.
_TOKEN = re.compile(r"(?P<epoch>[^.]+)\.(?P<first>[0-9]{1,15})")


@dataclass(slots=True)
class History:
    epochs: list[Epoch]  # the stored ones, then this incarnation's own (last)
    stored: bool = False  # this incarnation's epoch is in the store

    @classmethod
    def begin(cls, stored: Sequence[Epoch], next_seq: int) -> History:
        """The epoch of an incarnation loaded with `stored` epochs, writing from `next_seq`."""
        own = (secrets.token_hex(4), next_seq)
        return cls([*stored, own][-EPOCHS_KEPT:])

    @property
    def own(self) -> Epoch:
        return self.epochs[-1]

    def token(self) -> str:
        """What a client keeps (`welcome.epoch`, the reconnect answer's `epoch`)."""
        epoch, first = self.own
        return f"{epoch}.{first}"

    def to_store(self) -> list[Epoch] | None:
        """The epochs to write with the next append, until this incarnation's is stored."""
        return None if self.stored else list(self.epochs)

    def stored_through(self, seq: int) -> None:
        """The store took this game's events up to `seq`."""
        if seq >= self.own[1]:
            self.stored = True

    def holds(self, token: str | None, last_seq: int) -> bool:
        """Are a client's events up to `last_seq`, got under epoch `token`, ours?"""
        if token is None:
            return True
        parsed = _TOKEN.fullmatch(token)
        if parsed is None:
            return False
        epoch, first = parsed["epoch"], int(parsed["first"])
        if (epoch, first) == self.own or last_seq < first:
            return True
        for index, kept in enumerate(self.epochs[:-1]):
            if kept == (epoch, first):
                return self.epochs[index + 1][1] > last_seq
        return False
