"""The seat a `GameClient` holds, and its saving to the `TokenStore`.

Changes are remembered as they come (a token from a welcome, the epoch, the last seq the
application took) and saved together by `flush()`, once per batch of session outputs, before the
client sends anything else. A store that fails (a full disk, a corrupt file, a browser quota)
does not stop the game: the save is tried again at the next flush, and the failure is logged once
per streak. Until it succeeds, a restarted client would resume from older tokens (which the
server still honours for this client id while they are unused).
"""

from __future__ import annotations

import logging
from typing import Any

from rejoin.tokens import SavedSeat, TokenStore

__all__ = ["SeatKeeper"]

log = logging.getLogger(__name__)


class SeatKeeper:
    """One game's `SavedSeat` as the client knows it, and whether the store has it yet."""

    def __init__(self, store: TokenStore) -> None:
        self.store = store
        self.seat: SavedSeat | None = None
        self._dirty = False
        self._failing = False

    def require(self) -> SavedSeat:
        if self.seat is None:
            raise RuntimeError("no seat: join() or connect() first")
        return self.seat

    def remember(self, **changes: Any) -> None:
        """Change the seat's fields (`SavedSeat.with_changes`); saved at the next `flush()`."""
        self.seat = self.require().with_changes(**changes)
        self._dirty = True

    def flush(self) -> None:
        """Save the seat if it changed since the last save that succeeded."""
        if not self._dirty or self.seat is None:
            return
        try:
            self.store.save(self.seat)
        except Exception:
            if not self._failing:
                log.exception("the token store failed; saving again at the next change")
            self._failing = True
            return
        self._dirty = False
        self._failing = False
