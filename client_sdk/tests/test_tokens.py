"""The token stores: round trips, the file's mode and atomic replace, `localStorage` and jsnull."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rejoin.tokens import (
    BrowserTokenStore,
    FileTokenStore,
    MemoryTokenStore,
    SavedSeat,
    TokenStore,
    TokenStoreCorrupt,
)


def seat(game_id: str = "g1", last_seq: int | None = 7, token: str = "rt-1") -> SavedSeat:
    return SavedSeat(
        game_id=game_id,
        player_id=f"p-{game_id}",
        client_id="c-1",
        reconnect_token=token,
        session_token="st-1",
        last_seq=last_seq,
    )


class JsNull:
    """What Pyodide hands back for JavaScript `null`: falsy, and not None."""

    def __bool__(self) -> bool:
        return False


class FakeLocalStorage:
    def __init__(self) -> None:
        self.items: dict[str, str] = {}

    def getItem(self, key: str) -> Any:
        return self.items.get(key, JsNull())

    def setItem(self, key: str, value: str) -> None:
        assert isinstance(value, str)
        self.items[key] = value

    def removeItem(self, key: str) -> None:
        self.items.pop(key, None)


@pytest.fixture(params=["memory", "file", "browser"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> TokenStore:
    if request.param == "memory":
        return MemoryTokenStore()
    if request.param == "file":
        return FileTokenStore(tmp_path / "seats.json")
    return BrowserTokenStore(FakeLocalStorage())


def test_every_store_round_trips_seats_per_game(store: TokenStore) -> None:
    assert store.load("g1") is None
    store.save(seat("g1"))
    store.save(seat("g2", last_seq=None))
    store.save(seat("g1", last_seq=9, token="rt-2").with_changes(epoch="a1b2.7"))
    assert store.load("g1") == seat("g1", last_seq=9, token="rt-2").with_changes(epoch="a1b2.7")
    assert store.load("g2") == seat("g2", last_seq=None)
    store.delete("g1")
    store.delete("g1")  # deleting what is gone is fine
    assert store.load("g1") is None
    assert store.load("g2") == seat("g2", last_seq=None)


def test_file_store_is_readable_by_a_new_instance_and_private(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "seats.json"
    FileTokenStore(path).save(seat())
    assert FileTokenStore(path).load("g1") == seat()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    FileTokenStore(path).save(seat(last_seq=8))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_file_store_keeps_the_old_file_when_a_write_fails_midway(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "seats.json"
    store = FileTokenStore(path)
    store.save(seat(last_seq=1))
    before = path.read_bytes()
    real_write = os.write

    def write_half_then_fail(fd: int, data: Any) -> int:
        real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", write_half_then_fail)
    with pytest.raises(OSError, match="No space"):
        store.save(seat(last_seq=2))
    monkeypatch.undo()

    assert path.read_bytes() == before
    assert FileTokenStore(path).load("g1") == seat(last_seq=1)
    # No temp file left (the lock file beside it stays: it holds no data).
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seats.json", "seats.json.lock"]


def test_file_store_ignores_a_temp_file_left_by_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "seats.json"
    FileTokenStore(path).save(seat(last_seq=3))
    (tmp_path / ".seats.json.abc.tmp").write_text('{"version": 1, "seats": {"g1": {"las')
    assert FileTokenStore(path).load("g1") == seat(last_seq=3)


def test_file_store_says_when_the_file_is_not_its_own(tmp_path: Path) -> None:
    path = tmp_path / "seats.json"
    path.write_text("[1, 2]")
    with pytest.raises(TokenStoreCorrupt, match="seats"):
        FileTokenStore(path).load("g1")
    path.write_text(json.dumps({"version": 1, "seats": {"g1": {"gameId": "g1"}}}))
    with pytest.raises(TokenStoreCorrupt, match="playerId"):
        FileTokenStore(path).load("g1")


def test_browser_store_treats_jsnull_as_missing_and_keys_by_game() -> None:
    storage = FakeLocalStorage()
    store = BrowserTokenStore(storage)
    assert store.load("g1") is None  # getItem returned the jsnull stand-in
    store.save(seat())
    assert json.loads(storage.items["rejoin.seat.g1"])["reconnectToken"] == "rt-1"
    assert store.load("g1") == seat()


def test_browser_store_imports_js_only_when_used() -> None:
    store = BrowserTokenStore()  # no `js` module under CPython: constructing must still work
    with pytest.raises(ModuleNotFoundError, match="js"):
        store.load("g1")


SAVE_MANY = """
import os, sys, time
from rejoin.tokens import FileTokenStore, SavedSeat
path, game_id, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
store = FileTokenStore(path)
while not os.path.exists(path + ".go"):  # all start together: their saves overlap
    time.sleep(0.001)
for seq in range(1, count + 1):
    store.save(SavedSeat(game_id, "p", "c", f"token-{seq}", "s", seq))
"""


def test_processes_sharing_one_file_never_undo_each_others_saves(tmp_path: Path) -> None:
    """Save reads the file, changes one game and writes it back: without its lock a process
    could write back another's older seat (whose next resume then fails)."""
    path = str(tmp_path / "seats.json")
    workers = [
        subprocess.Popen([sys.executable, "-c", SAVE_MANY, path, f"game-{i}", "200"])
        for i in range(3)
    ]
    (tmp_path / "seats.json.go").touch()
    for worker in workers:
        assert worker.wait(60) == 0
    store = FileTokenStore(path)
    for i in range(3):
        seat = store.load(f"game-{i}")
        assert seat is not None
        assert (seat.last_seq, seat.reconnect_token) == (200, "token-200")


def test_a_seat_saved_before_epochs_existed_reads_back_without_one() -> None:
    old = seat("g1").to_json()
    del old["epoch"]
    assert SavedSeat.from_json(old) == seat("g1")
    with pytest.raises(TokenStoreCorrupt, match="epoch"):
        SavedSeat.from_json({**old, "epoch": 7})
