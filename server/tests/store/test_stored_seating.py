"""A game row's seating (the lobby's, `host.seating`) that is not a JSON object, on SQLite and on
PostgreSQL: read as none, with a warning, so that neither the lobby's list nor the game's load
fails on it."""

from __future__ import annotations

import logging

import pytest

from rejoin_server.store.base import Seating
from rejoin_server.store.connection import Database
from rejoin_server.store.sql import SqlGameStore
from rejoin_server.store.urls import parse_url


def write_seating(database_url: str, game_id: str, text: str) -> None:
    """Set the row's seating column to `text` behind the store's back (as a hand or a bug would)."""
    db = Database(parse_url(database_url), keep_snapshots=3)
    conn = db.connect()
    try:
        quoted = text.replace("'", "''")
        conn.execute(f"UPDATE games SET seating = '{quoted}' WHERE game_id = '{game_id}'")
    finally:
        db.disconnect(conn)


@pytest.mark.parametrize("bad", ["{not json", "[0, 1]", '"open"'])
async def test_a_malformed_stored_seating_reads_as_none(
    sql_store: SqlGameStore, database_url: str, bad: str, caplog: pytest.LogCaptureFixture
) -> None:
    await sql_store.create_game("g1", "poker", {"seats": 2}, 1_000, seating=Seating({}, open=True))
    await sql_store.create_game("g2", "poker", {"seats": 2}, 2_000, seating=Seating({}, open=True))
    write_seating(database_url, "g1", bad)
    with caplog.at_level(logging.WARNING, logger="rejoin_server.store.reads"):
        listed = await sql_store.open_games(10)
        assert [(r.game_id, r.seating) for r in listed] == [("g2", {}), ("g1", None)]
        record = await sql_store.get_game("g1")
        assert record is not None
        assert record.seating is None
        assert (await sql_store.load("g1")).game.seating is None
    assert "game g1: its stored seating is not" in caplog.text
