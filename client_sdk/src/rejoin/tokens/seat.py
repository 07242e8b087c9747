"""What a client keeps between runs to get its seat back: `SavedSeat`, one per game, and the
`TokenStore` interface every store implements (memory, file, browser `localStorage`).

Stores are synchronous on purpose: a seat is a few hundred bytes, `localStorage` is synchronous,
and the client saves on every event, so an await per save would only add scheduling points.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Protocol

__all__ = ["MemoryTokenStore", "SavedSeat", "TokenStore", "TokenStoreCorrupt"]


class TokenStoreCorrupt(ValueError):
    """What a store holds cannot be read back as seats (edited by hand, or not ours)."""


@dataclass(frozen=True, slots=True)
class SavedSeat:
    """A player's seat in one game: enough to resume it after the client or the server died."""

    game_id: str
    player_id: str
    client_id: str
    """Sent with every `hello`: the server answers a retry with an already spent token from the
    same client id again instead of calling it reuse (a lost welcome must not lock us out)."""
    reconnect_token: str
    """Single use: each resume spends it and the welcome brings the next one."""
    session_token: str
    """The bearer token of the HTTP API (start, state, events)."""
    last_seq: int | None = 0
    """The seq of the last event the application was given; None asks the server for a resync.
    A fresh seat starts at 0 so that the first welcome replays the game so far."""
    epoch: str | None = None
    """The history epoch of the latest welcome (opaque), sent back with `last_seq`: if the
    server lost the history those events came from (a crash), it answers with a resync."""

    def with_changes(self, **changes: Any) -> SavedSeat:
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        return {
            "gameId": self.game_id,
            "playerId": self.player_id,
            "clientId": self.client_id,
            "reconnectToken": self.reconnect_token,
            "sessionToken": self.session_token,
            "lastSeq": self.last_seq,
            "epoch": self.epoch,
        }

    @classmethod
    def from_json(cls, data: object) -> SavedSeat:
        """Read `to_json`'s output back; `TokenStoreCorrupt` names the field that is wrong."""
        if not isinstance(data, dict):
            raise TokenStoreCorrupt(
                f"a saved seat must be a JSON object, not {type(data).__name__}"
            )
        texts = {}
        for key in ("gameId", "playerId", "clientId", "reconnectToken", "sessionToken"):
            value = data.get(key)
            if not isinstance(value, str) or not value:
                raise TokenStoreCorrupt(f"saved seat field {key!r} must be a non-empty string")
            texts[key] = value
        last_seq = data.get("lastSeq")
        if last_seq is not None and (
            not isinstance(last_seq, int) or isinstance(last_seq, bool) or last_seq < 0
        ):
            raise TokenStoreCorrupt("saved seat field 'lastSeq' must be null or an integer >= 0")
        epoch = data.get("epoch")  # absent in seats saved before epochs existed
        if epoch is not None and (not isinstance(epoch, str) or not epoch):
            raise TokenStoreCorrupt("saved seat field 'epoch' must be null or a non-empty string")
        return cls(
            game_id=texts["gameId"],
            player_id=texts["playerId"],
            client_id=texts["clientId"],
            reconnect_token=texts["reconnectToken"],
            session_token=texts["sessionToken"],
            last_seq=last_seq,
            epoch=epoch,
        )


class TokenStore(Protocol):
    """Where seats are kept, by game id. `save` replaces the game's seat whole."""

    def load(self, game_id: str) -> SavedSeat | None: ...

    def save(self, seat: SavedSeat) -> None: ...

    def delete(self, game_id: str) -> None: ...


class MemoryTokenStore:
    """Seats in a dict: for tests, and for clients that need not outlive their process."""

    def __init__(self) -> None:
        self._seats: dict[str, SavedSeat] = {}

    def load(self, game_id: str) -> SavedSeat | None:
        return self._seats.get(game_id)

    def save(self, seat: SavedSeat) -> None:
        self._seats[seat.game_id] = seat

    def delete(self, game_id: str) -> None:
        self._seats.pop(game_id, None)
