"""`rejoin-server rekey` as a command, in process (its run against a live server is
e2e/server/test_private_data_at_rest.py): its progress and summary, exit 5 and the rows named
for rows that do not open, 6 for rows under a key not given, exit 2 for a database not
migrated or keys that miss a registered one."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from rejoin_server.cli import main
from rejoin_server.store.datakeys import decode_key, key_id

from .sealed_poker import execute, play, rows
from .test_sealed_store import _flip, keyed

OLD, NEW = secrets.token_urlsafe(32), secrets.token_urlsafe(32)


@pytest.fixture(autouse=True)
def no_keys_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("REJOIN_DATA_KEYS", "REJOIN_DATA_KEY_FILE", "REJOIN_DATABASE_URL", "REJOIN_GAMES"):
        monkeypatch.delenv(name, raising=False)


def key_file(tmp_path: Path, *keys: str) -> str:
    path = tmp_path / "keys"
    path.write_text("\n".join(keys) + "\n")
    return str(path)


async def test_rekey_prints_its_progress_and_retires_the_old_key(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = keyed(database_url, OLD)
    await store.open()
    await store.register_data_key(key_id(decode_key(OLD)), 1)
    await play(store, hands=1)
    await store.close()
    argv = [
        "rekey",
        "--database-url",
        database_url,
        "--data-key-file",
        key_file(tmp_path, NEW, OLD),
    ]
    assert main([*argv, "--batch-size", "4"]) == 0
    out = capsys.readouterr().out.splitlines()
    new_id, old_id = key_id(decode_key(NEW)), key_id(decode_key(OLD))
    assert out[0].startswith("rekey ")
    assert f"under data key {new_id} (batches of 4)" in out[0]
    assert sum(line.startswith("events: ") for line in out) > 3
    assert out[-2].startswith("done: ")
    assert out[-1] == f"retired data keys: {old_id} (servers may now be started without them)"
    assert main(argv) == 0
    again = capsys.readouterr().out.splitlines()
    assert again[-2].startswith("done: 0 of ")
    assert " and 0 of " in again[-2]
    assert again[-1].startswith("retired data keys: none")


async def test_rows_that_do_not_open_are_named_and_no_key_is_retired(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = keyed(database_url, OLD)
    await store.open()
    played = await play(store, hands=1)
    await store.close()
    version, value = next(
        (n, v) for t, g, n, v in rows(database_url) if t == "snapshot" and "$sealed" in v
    )
    statement = "UPDATE snapshots SET state = :value WHERE game_id = :g AND version = :v"
    execute(database_url, statement, value=_flip(value), g=played.game_id, v=version)
    keys = key_file(tmp_path, NEW, OLD)
    assert main(["rekey", "--database-url", database_url, "--data-key-file", keys]) == 5
    err = capsys.readouterr().err
    assert f"cannot open snapshot {played.game_id}/{version}: checksum mismatch" in err
    assert "no key was retired" in err
    assert "tampered with?" in err


async def test_a_wrong_key_is_refused_before_anything_is_registered(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old_id, new_id = key_id(decode_key(OLD)), key_id(decode_key(NEW))
    store = keyed(database_url, OLD)
    await store.open()
    await store.register_data_key(old_id, 1)
    await play(store, hands=1)
    try:
        keys = key_file(tmp_path, NEW)  # the old one left out: a mistake
        assert main(["rekey", "--database-url", database_url, "--data-key-file", keys]) == 2
        err = capsys.readouterr().err
        assert f"data key {old_id}, which is not among the keys given" in err
        assert "nothing was changed" in err
        # Not registered: servers given the right key still start.
        assert [r.key_id for r in await store.data_keys()] == [old_id]
        assert new_id not in {r.key_id for r in await store.data_keys()}
    finally:
        await store.close()


async def test_rows_under_a_key_not_given_are_named_as_such(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = secrets.token_urlsafe(32)
    store = keyed(database_url, other)  # its key never registered: only its rows tell
    await store.open()
    await play(store, hands=1)
    await store.close()
    keys = key_file(tmp_path, NEW)
    assert main(["rekey", "--database-url", database_url, "--data-key-file", keys]) == 6
    err = capsys.readouterr().err
    assert f"sealed with data key {key_id(decode_key(other))}, which was not given" in err
    assert "tampered" not in err
    assert "delete them" not in err
    assert "no key was retired" in err


def test_a_database_not_migrated_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    keys = key_file(tmp_path, NEW)
    assert main(["rekey", "--database-url", url, "--data-key-file", keys]) == 2
    assert "is not at schema revision" in capsys.readouterr().err
