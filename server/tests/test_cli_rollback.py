"""`rejoin-server rollback` against a stopped server's database (SQLite and PostgreSQL): it rolls
the game back, a server started after it serves the rolled-back state; `--list` prints the
versions kept; a database a running server holds is refused, pointing at the HTTP route."""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from rejoin_server.app import create_app
from rejoin_server.cli import main, parse_args
from rejoin_server.errors import SeqConflict
from rejoin_server.settings import ServerSettings
from rejoin_server.store.sql import SqlGameStore
from rejoin_server.store.urls import sqlalchemy_url

from .api.support import Api
from .api.test_rollback_edges import corrupt_last_event

ADMIN = "admin-secret-token"
AUTH = {"Authorization": f"Bearer {ADMIN}"}


def _client(url: str) -> TestClient:
    return TestClient(create_app(ServerSettings(database_url=url, admin_token=ADMIN)))


def _play_two_hands(client: TestClient) -> tuple[str, dict[str, Any], int]:
    """A heads-up game: hand 1 folded to its end (a snapshot there), hand 2 begun. Returns the
    game, a player's session header and the version at the end of hand 1."""
    game_id = client.post("/api/games", json={"seats": 2, "autoNextHand": False}).json()["gameId"]
    players = [client.post(f"/api/game/{game_id}/join", json={"name": n}).json() for n in "AB"]
    auth = {p["seat"]: {"Authorization": f"Bearer {p['sessionToken']}"} for p in players}
    client.post(f"/api/game/{game_id}/start", headers=auth[0])
    to_act = client.get(f"/api/game/{game_id}/state", headers=auth[0]).json()["gameState"]
    client.post(
        f"/api/game/{game_id}/action",
        json={"actionId": "a1", "type": "fold"},
        headers=auth[to_act["toAct"]],
    )
    version = client.get(f"/api/game/{game_id}/state", headers=auth[0]).json()["seq"]
    client.post(f"/api/game/{game_id}/start", headers=auth[0])
    return game_id, auth[0], version


def test_rollback_offline_then_a_server_serves_it(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with _client(database_url) as client:
        game_id, auth, version = _play_two_hands(client)
        seq = client.get(f"/api/game/{game_id}/state", headers=auth).json()["seq"]
        between = client.get(f"/api/game/{game_id}/versions", headers=AUTH).json()["versions"][0]
    assert between["version"] == version
    url = ["--database-url", database_url]
    assert main(["rollback", game_id, "--list", *url]) == 0
    listed = capsys.readouterr().out
    assert f"{version:>7}" in listed
    assert "hand_ended" in listed
    assert main(["rollback", game_id, str(version), "--reason", "misdeal", *url]) == 0
    said = capsys.readouterr().out
    assert f"snapshot_restored at seq {seq + 1}" in said
    with _client(database_url) as client:
        state = client.get(f"/api/game/{game_id}/state", headers=auth).json()
        assert state["seq"] == seq + 1
        assert state["gameState"]["handNumber"] == 1
        assert state["gameState"]["phase"] == "hand_over"
        events = client.get(
            f"/api/game/{game_id}/events?after={seq}",
            headers={**auth, "Accept": "application/json"},
        ).json()["events"]
        assert [(e["kind"], e["data"]) for e in events] == [
            ("snapshot_restored", {"version": version, "reason": "misdeal", "handNumber": 1})
        ]
        # The game goes on from there: hand 2 again.
        started = client.post(f"/api/game/{game_id}/start", headers=auth).json()
        assert started["handNumber"] == 2


def test_refusals_say_what_to_do(database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    with _client(database_url) as client:
        game_id, _, version = _play_two_hands(client)
        url = ["--database-url", database_url]
        # A server holds the game (SQLite: the file; PostgreSQL: the game, once loaded).
        assert main(["rollback", game_id, str(version), "--reason", "r", *url]) == 2
        err = capsys.readouterr().err
        assert f"POST /api/game/{game_id}/rollback" in err
    assert main(["rollback", game_id, "1", "--reason", "r", *url]) == 2
    assert "the versions kept are" in capsys.readouterr().err
    assert main(["rollback", "nosuchgame", "1", "--reason", "r", *url]) == 2
    assert "No game 'nosuchgame'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["rollback", "game-1", "4"], "--reason TEXT is required"),
        (["rollback", "game-1", "--reason", "r"], "give the VERSION"),
        (["rollback", "game-1", "4", "--reason", "r", "--list"], "--list takes only GAME"),
        (["rollback", "game 1", "--list"], "is not a game id"),
        (["rollback", "game-1", "four", "--reason", "r"], "not a whole number"),
        (["rollback", "game-1", "-1", "--reason", "r"], "out of range"),
    ],
)
def test_bad_arguments(argv: list[str], says: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_args(argv, {})
    assert exited.value.code == 2
    assert says in capsys.readouterr().err


def test_the_database_comes_from_the_environment_too() -> None:
    invocation = parse_args(["rollback", "g", "--list"], {"REJOIN_DATABASE_URL": "sqlite:///x.db"})
    assert invocation.command == "rollback"
    assert invocation.settings.database_url == "sqlite:///x.db"
    assert invocation.rollback is not None
    assert invocation.rollback.list_only


def test_a_game_that_moved_on_meanwhile_is_refused(
    database_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer appended between the restore and the append: the seq fence refuses it,
    nothing is written, and the message points at the running server's route."""
    with _client(database_url) as client:
        game_id, auth, version = _play_two_hands(client)
        seq = client.get(f"/api/game/{game_id}/state", headers=auth).json()["seq"]

    async def moved_on(self: SqlGameStore, game_id: str, events: Any, **kw: Any) -> None:
        raise SeqConflict(game_id, seq + 1)

    monkeypatch.setattr(SqlGameStore, "append", moved_on)
    argv = ["rollback", game_id, str(version), "--reason", "r", "--database-url", database_url]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "the game moved on: a server is running it" in err
    assert f"POST /api/game/{game_id}/rollback" in err
    monkeypatch.undo()
    with _client(database_url) as client:
        assert client.get(f"/api/game/{game_id}/state", headers=auth).json()["seq"] == seq


def test_a_database_that_is_not_the_servers_is_said_so_and_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "typo.db"
    assert main(["rollback", "g", "--list", "--database-url", f"sqlite:///{missing}"]) == 2
    assert "is not a rejoin database" in capsys.readouterr().err
    assert not missing.exists()  # never created, never migrated


def test_the_lobby_lists_the_seating_rolled_back_to(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A full table rolled back to before its last join has a free seat again in the lobby."""
    with _client(database_url) as client:
        game_id = client.post("/api/games", json={"seats": 2}).json()["gameId"]
        client.post(f"/api/game/{game_id}/join", json={"name": "A"})
        version = client.post(f"/api/game/{game_id}/persist", headers=AUTH).json()["version"]
        client.post(f"/api/game/{game_id}/join", json={"name": "B"})
        listed = client.get("/api/games/open").json()["games"]
        assert game_id not in [g["gameId"] for g in listed]  # full
    argv = ["rollback", game_id, str(version), "--reason", "B sat down by mistake"]
    assert main([*argv, "--database-url", database_url]) == 0
    capsys.readouterr()
    with _client(database_url) as client:
        listed = client.get("/api/games/open").json()["games"]
        table = next(g for g in listed if g["gameId"] == game_id)
        assert (table["seated"], table["freeSeats"], table["open"]) == (1, [1], True)
        assert client.get(f"/api/game/{game_id}").json()["seated"] == 1


def test_a_reopened_game_is_in_play_in_the_lobby(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with _client(database_url) as client:
        game_id, _, version = _play_two_hands(client)
        api = Api(client, client.app)  # type: ignore[arg-type]
        api.abandon(game_id)
        assert client.get(f"/api/game/{game_id}").status_code == 410
        completed = api.run(api.services.store.get_game, game_id)
        assert completed is not None
        assert "final" in (completed.seating or {})
    argv = ["rollback", game_id, str(version), "--reason", "ended by mistake", "--reopen"]
    assert main([*argv, "--database-url", database_url]) == 0
    capsys.readouterr()
    with _client(database_url) as client:
        table = client.get(f"/api/game/{game_id}")
        assert table.status_code == 200, table.text
        assert table.json()["status"] == "playing"
        api = Api(client, client.app)  # type: ignore[arg-type]
        record = api.run(api.services.store.get_game, game_id)
        assert record is not None
        assert record.seating is not None
        assert "final" not in record.seating  # the final view went with the completion


def test_a_corrupt_game_is_rolled_back_on_the_store_alone(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with _client(database_url) as client:
        game_id, auth, version = _play_two_hands(client)
        seq = client.get(f"/api/game/{game_id}/state", headers=auth).json()["seq"]
    corrupt_last_event(database_url, game_id)
    with _client(database_url) as client:
        spoiled = client.get(f"/api/game/{game_id}/state", headers=auth)
        assert spoiled.json()["error"]["code"] == "state_corrupted"
    argv = ["rollback", game_id, str(version), "--reason", "a spoiled event"]
    assert main([*argv, "--database-url", database_url]) == 0
    assert f"snapshot_restored at seq {seq + 1}" in capsys.readouterr().out
    with _client(database_url) as client:
        state = client.get(f"/api/game/{game_id}/state", headers=auth).json()
        assert (state["seq"], state["gameState"]["handNumber"]) == (seq + 1, 1)


def test_a_game_of_a_kind_not_served_and_a_version_not_kept_are_one_line(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with _client(database_url) as client:
        game_id, _, _ = _play_two_hands(client)
    url = ["--database-url", database_url]
    assert main(["rollback", game_id, "1", "--reason", "r", *url]) == 2
    err = capsys.readouterr().err
    assert f"`rejoin-server rollback {game_id} --list` lists them" in err
    assert "/api/" not in err
    spoil_kind(database_url, game_id)
    for argv in (["--list"], ["1", "--reason", "r"]):
        assert main(["rollback", game_id, *argv, *url]) == 2
        err = capsys.readouterr().err
        assert "kind 'gone', which this server does not serve" in err, err
        assert "Traceback" not in err
        assert len(err.strip().splitlines()) == 1, err


def spoil_kind(url: str, game_id: str) -> None:
    """The game's row says a kind this server was not started with."""
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            conn.execute("UPDATE games SET kind = 'gone' WHERE game_id = ?", (game_id,))
    else:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("UPDATE games SET kind = 'gone' WHERE game_id = %s", (game_id,))


def test_a_keyed_database_is_rolled_back_with_its_key(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = secrets.token_urlsafe(32)
    keyed = ServerSettings(database_url=database_url, admin_token=ADMIN, data_keys=(key,))
    with TestClient(create_app(keyed)) as client:
        game_id, auth, version = _play_two_hands(client)
        seq = client.get(f"/api/game/{game_id}/state", headers=auth).json()["seq"]
    url = ["--database-url", database_url]
    # Without the key: refused as the server refuses, one line, nothing written.
    assert main(["rollback", game_id, "--list", *url]) == 2
    assert "no data key was given" in capsys.readouterr().err
    keys = tmp_path / "keys"
    keys.write_text(key + "\n")
    keys.chmod(0o600)
    with_key = [*url, "--data-key-file", str(keys)]
    assert main(["rollback", game_id, "--list", *with_key]) == 0
    listed = capsys.readouterr().out
    assert "hand_ended" in listed
    assert "NOT VERIFIED" not in listed
    assert main(["rollback", game_id, str(version), "--reason", "misdeal", *with_key]) == 0
    assert f"snapshot_restored at seq {seq + 1}" in capsys.readouterr().out
    with TestClient(create_app(keyed)) as client:
        state = client.get(f"/api/game/{game_id}/state", headers=auth).json()
        assert (state["seq"], state["gameState"]["handNumber"]) == (seq + 1, 1)
        admin = client.get(f"/api/admin/games/{game_id}", headers=AUTH).json()
    cards = {c for s in admin["table"]["seats"] for c in s.get("holeCards") or []}
    assert cards, "the restored state holds hole cards"
    (row,) = _rows(
        database_url,
        "SELECT state FROM snapshots WHERE game_id = :g AND version = :v",
        g=game_id,
        v=seq + 1,
    )
    assert "$sealed" in row
    public = orjson.loads(row)
    del public["$sealed"]
    # By structure, not by text: a player id's hex may hold "4c" by chance.
    assert public["h"]["c"] is None  # the hand's packed hole cards, sealed
    assert not cards & set(_strings(public))


def _strings(value: object) -> Iterator[str]:
    """Every string in a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _rows(url: str, statement: str, **params: object) -> list[str]:
    engine = sa.create_engine(sqlalchemy_url(url))
    cast = "::text" if url.startswith("postgresql") else ""
    with engine.connect() as conn:
        found = conn.execute(
            sa.text(statement.replace("SELECT state", f"SELECT state{cast}")), params
        )
        texts = [t if isinstance(t, str) else orjson.dumps(t).decode() for (t,) in found]
    engine.dispose()
    return texts
