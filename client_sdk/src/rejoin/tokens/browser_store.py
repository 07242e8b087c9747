"""`BrowserTokenStore`: seats in the browser's `localStorage`, for the SDK under Pyodide.

It imports `js` only when it needs the real `localStorage`, so this module imports (and is
tested, with any object that has `getItem`/`setItem`/`removeItem`) under CPython too. A missing
key comes back from JavaScript as `pyodide.ffi.jsnull`, which is falsy but not None: anything that
is not a string counts as absent.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from rejoin.tokens.seat import SavedSeat, TokenStoreCorrupt

__all__ = ["BrowserTokenStore", "WebStorage"]

KEY_PREFIX = "rejoin.seat."


class WebStorage(Protocol):
    """The part of the Web Storage API used here (`localStorage`, `sessionStorage`, a fake)."""

    def getItem(self, key: str) -> Any: ...

    def setItem(self, key: str, value: str) -> None: ...

    def removeItem(self, key: str) -> None: ...


class BrowserTokenStore:
    """One `localStorage` key per game: `rejoin.seat.<gameId>`, the seat as JSON."""

    def __init__(self, storage: WebStorage | None = None) -> None:
        self._given = storage

    def load(self, game_id: str) -> SavedSeat | None:
        text = self._storage().getItem(KEY_PREFIX + game_id)
        if not isinstance(text, str):
            return None  # None, or jsnull: a missing key
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise TokenStoreCorrupt(f"localStorage {KEY_PREFIX + game_id} is not JSON") from exc
        return SavedSeat.from_json(data)

    def save(self, seat: SavedSeat) -> None:
        self._storage().setItem(KEY_PREFIX + seat.game_id, json.dumps(seat.to_json()))

    def delete(self, game_id: str) -> None:
        self._storage().removeItem(KEY_PREFIX + game_id)

    def _storage(self) -> WebStorage:
        if self._given is None:
            from js import localStorage  # type: ignore[import-not-found]  # Pyodide only

            self._given = localStorage
        return self._given
