"""`FileTokenStore`: seats in one JSON file, private to the user and never half-written.

Every save writes the whole file to a temporary file in the same directory (created 0600, so the
tokens are never readable by others, not even briefly), fsyncs it, renames it over the old one
with `os.replace` and fsyncs the directory. A crash at any point leaves either the old file or
the new one, never a torn mix; a leftover temporary file is ignored by `load`.

A save or delete reads the file, changes one game and writes it back: several processes sharing
one file (a bot per game, say) would undo each other's saves, so the read-modify-write holds an
exclusive `flock` on a lock file beside it (`<name>.lock`; where `fcntl` is missing, as on
Windows, it runs unlocked).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rejoin.tokens.seat import SavedSeat, TokenStoreCorrupt

__all__ = ["FileTokenStore"]

FORMAT_VERSION = 1
FILE_MODE = 0o600


class FileTokenStore:
    """Seats of any number of games in the JSON file at `path` (created on the first save)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def load(self, game_id: str) -> SavedSeat | None:
        raw = self._read().get(game_id)
        return None if raw is None else SavedSeat.from_json(raw)

    def save(self, seat: SavedSeat) -> None:
        with self._locked():
            seats = self._read()
            seats[seat.game_id] = seat.to_json()
            self._write(seats)

    def delete(self, game_id: str) -> None:
        with self._locked():
            seats = self._read()
            if seats.pop(game_id, None) is not None:
                self._write(seats)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            import fcntl
        except ImportError:  # no flock here: one process per file, then
            yield
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(
            self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, FILE_MODE
        )
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _read(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise TokenStoreCorrupt(f"{self.path} is not JSON: {exc}") from exc
        seats = document.get("seats") if isinstance(document, dict) else None
        if not isinstance(seats, dict):
            raise TokenStoreCorrupt(f"{self.path} holds no 'seats' object")
        return seats

    def _write(self, seats: dict[str, Any]) -> None:
        data = json.dumps({"version": FORMAT_VERSION, "seats": seats}, indent=1).encode()
        directory = self.path.parent
        directory.mkdir(parents=True, exist_ok=True)
        # mkstemp creates the file 0600 with O_EXCL: no window in which others could read it.
        fd, temp_name = tempfile.mkstemp(dir=directory, prefix=f".{self.path.name}.", suffix=".tmp")
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temp_name, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp_name)
            raise
        _fsync_directory(directory)


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable; not every platform can open a directory (Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on a directory; the rename is still atomic
    finally:
        os.close(fd)
