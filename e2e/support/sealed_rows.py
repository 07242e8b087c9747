"""The database as someone who can read it sees it: every row of `events` and `snapshots`, the
cards written in them in the clear, and the hole cards players were dealt, per hand, as the
players' own event streams show them (each sees their own). For the tests of private data at
rest (e2e/server/test_private_data_at_rest.py)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa

from e2e.support.poker import cards_in
from rejoin_server.store.urls import sqlalchemy_url

SEALED = "$sealed"


@dataclass(frozen=True)
class Row:
    table: str  # "event" or "snapshot"
    game_id: str
    number: int  # seq or version
    value: dict[str, Any]


@dataclass(frozen=True)
class Hand:
    first: int  # the seq of its hand_started
    last: int
    hidden: frozenset[str]  # hole cards dealt that no showdown of it showed


def rows(url: str, game_id: str | None = None) -> list[Row]:
    postgres = url.startswith("postgresql")
    engine = sa.create_engine(sqlalchemy_url(url))
    found = []
    try:
        with engine.connect() as conn:
            for table, sql in (
                ("event", _EVENTS_PG if postgres else _EVENTS),
                ("snapshot", _SNAPSHOTS_PG if postgres else _SNAPSHOTS),
            ):
                for gid, number, text in conn.execute(sa.text(sql)):
                    if game_id is None or gid == game_id:
                        found.append(Row(table, gid, int(number), orjson.loads(text)))
    finally:
        engine.dispose()
    return found


# PostgreSQL's JSON columns read as text, not as what psycopg would decode.
_EVENTS = "SELECT game_id, seq, data FROM events"
_EVENTS_PG = "SELECT game_id, seq, data::text FROM events"
_SNAPSHOTS = "SELECT game_id, version, state FROM snapshots"
_SNAPSHOTS_PG = "SELECT game_id, version, state::text FROM snapshots"
_UPDATE_EVENT = "UPDATE events SET data = :value WHERE game_id = :g AND seq = :s"
_UPDATE_EVENT_PG = "UPDATE events SET data = CAST(:value AS jsonb) WHERE game_id = :g AND seq = :s"


def update_event(url: str, game_id: str, seq: int, text: str) -> int:
    """Write an event row's data behind the store's back."""
    statement = _UPDATE_EVENT_PG if url.startswith("postgresql") else _UPDATE_EVENT
    return execute(url, statement, value=text, g=game_id, s=seq)


def execute(url: str, statement: str, **params: object) -> int:
    engine = sa.create_engine(sqlalchemy_url(url))
    try:
        with engine.begin() as conn:
            return conn.execute(sa.text(statement), params).rowcount
    finally:
        engine.dispose()


def data_keys(url: str) -> dict[str, bool]:
    """key id -> retired."""
    engine = sa.create_engine(sqlalchemy_url(url))
    try:
        with engine.connect() as conn:
            result = conn.execute(sa.text("SELECT key_id, retired_at FROM data_keys"))
            return {str(k): r is not None for k, r in result}
    finally:
        engine.dispose()


def hands(streams: Iterable[Iterable[dict[str, Any]]]) -> list[Hand]:
    """The hands of a game from its players' event streams (each holds its own hole cards)."""
    by_seq: dict[int, dict[str, Any]] = {}
    dealt: dict[int, list[str]] = {}
    for stream in streams:
        for event in stream:
            by_seq.setdefault(event["seq"], event)
            if event["kind"] == "hole_cards" and event["data"]["cards"]:
                dealt[event["seq"]] = list(event["data"]["cards"])
    seqs = sorted(by_seq)
    starts = [seq for seq in seqs if by_seq[seq]["kind"] == "hand_started"]
    ends = [*(seq - 1 for seq in starts[1:]), seqs[-1] if seqs else 0]
    out = []
    for first, last in zip(starts, ends, strict=True):
        shown = {
            card
            for seq in range(first, last + 1)
            if seq in by_seq and by_seq[seq]["kind"] == "showdown"
            for hand in by_seq[seq]["data"]["hands"]
            for card in hand["cards"]
        }
        cards = {card for seq, pair in dealt.items() if first <= seq <= last for card in pair}
        out.append(Hand(first, last, frozenset(cards - shown)))
    return out


def clear_cards(stored: list[Row], first: int, last: int) -> set[str]:
    """The cards written in the clear in the rows of seqs (versions) `first`..`last`: strings
    made only of cards, the sealed value left out (its base64 is no card)."""
    found: set[str] = set()
    for row in stored:
        if first <= row.number <= last:
            found |= cards_in({k: v for k, v in row.value.items() if k != SEALED})
    return found


def sealed_with(stored: list[Row]) -> set[str]:
    """The key ids the sealed rows name."""
    return {str(row.value[SEALED]).partition(".")[0] for row in stored if SEALED in row.value}
