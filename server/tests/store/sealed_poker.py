"""Poker hands played straight into a store (no server), and a scan of the database's rows for the
hole cards nobody was shown: the support of the sealing tests on real databases."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import sqlalchemy as sa

from rejoin_server.games.base import Act, Command, Event, Join, Start
from rejoin_server.games.poker import PokerEngine, PokerTable
from rejoin_server.store.base import GameStore
from rejoin_server.store.restore import take_snapshot
from rejoin_server.store.sealing import SEALED
from rejoin_server.store.urls import sqlalchemy_url

NOW = 1_700_000_000_000
ENGINE = PokerEngine()
PLAYERS = ["ann", "bob", "cyd"]
SETTINGS = ENGINE.settings({"seats": 3, "startingStack": 1000, "autoNextHand": False})


@dataclass
class Played:
    game_id: str
    table: PokerTable
    events: list[Event] = field(default_factory=list)

    def hands(self) -> list[Hand]:
        """Each hand dealt: its seqs, and the pairs of hole cards no showdown of it showed (a card
        is dealt again in a later hand, and may then show on its board: each hand on its own)."""
        starts = [e.seq for e in self.events if e.kind == "hand_started"]
        ends = [*(seq - 1 for seq in starts[1:]), self.events[-1].seq]
        out = []
        for first, last in zip(starts, ends, strict=True):
            events = [e for e in self.events if first <= e.seq <= last]
            shown = {
                card
                for e in events
                if e.kind == "showdown"
                for hand in e.data["hands"]
                for card in hand["cards"]
            }
            pairs = [
                (e.data["cards"][0], e.data["cards"][1])
                for e in events
                if e.kind == "hole_cards" and not set(e.data["cards"]) & shown
            ]
            out.append(Hand(self.game_id, first, last, pairs))
        return out


@dataclass(frozen=True)
class Hand:
    game_id: str
    first: int
    last: int
    hidden: list[tuple[str, str]]


async def play(store: GameStore, *, hands: int, seed: int = 1) -> Played:
    """`hands` hands played to their end, then a hand left running a few actions in, with a
    snapshot taken mid-hand (`persist`) and another after each hand."""
    rng = random.Random(seed)
    game_id = uuid.uuid4().hex[:16]
    await store.create_game(game_id, "poker", SETTINGS, NOW)
    played = Played(game_id, ENGINE.new_game(game_id, SETTINGS))

    async def do(command: Command, *, snapshot: bool = False) -> list[Event]:
        table = played.table
        events = table.handle(command, NOW)
        boundary = any(e.kind in ENGINE.snapshot_after for e in events)
        snap = take_snapshot(table) if boundary or snapshot else None
        await store.append(game_id, events, status=table.status, now_ms=NOW, snapshot=snap)
        played.events.extend(events)
        return events

    for player in PLAYERS:
        await do(Join(player, player.title()))
    for number in range(hands + 1):
        await do(Start("ann"))
        acted = 0
        while played.table.view(None)["toAct"] is not None:
            if number == hands and acted == 2:
                break  # the last hand stays on the table, its cards dealt
            await do(_move(played.table, rng), snapshot=number == hands and acted == 1)
            acted += 1
    return played


def _to_act(table: PokerTable) -> str:
    return table.seats[table.view(None)["toAct"]].player_id


def _move(table: PokerTable, rng: random.Random) -> Act:
    actor = _to_act(table)
    legal = {a["type"] for a in table.view(actor)["you"]["legalActions"]}
    if "fold" in legal and rng.random() < 0.2:
        return Act(actor, "fold")
    return Act(actor, "check" if "check" in legal else "call")


def rows(url: str) -> Iterator[tuple[str, str, int, Any]]:
    """Every row of `events` and `snapshots`, as ("event"|"snapshot", game id, seq, JSON)."""
    engine = sa.create_engine(sqlalchemy_url(url))
    cast = "::text" if url.startswith("postgresql") else ""
    with engine.connect() as conn:
        for game_id, seq, data in conn.execute(
            sa.text(f"SELECT game_id, seq, data{cast} FROM events")
        ):
            yield "event", game_id, seq, orjson.loads(data)
        for game_id, version, state in conn.execute(
            sa.text(f"SELECT game_id, version, state{cast} FROM snapshots")
        ):
            yield "snapshot", game_id, version, orjson.loads(state)
    engine.dispose()


def leaks(url: str, hands: list[Hand]) -> list[str]:
    """Where a hidden hole card shows in the clear in the rows of its hand (events of its seqs,
    snapshots at them): as a JSON string of its own (an event's card list), or a player's pair
    side by side in a string (a dump's packed cards)."""
    found = []
    stored = list(rows(url))
    for hand in hands:
        cards = {card for pair in hand.hidden for card in pair}
        packed = ["".join(pair) for pair in hand.hidden]
        for table, game_id, number, value in stored:
            if game_id != hand.game_id or not hand.first <= number <= hand.last:
                continue
            for string in _strings(value):
                if string in cards or any(pair in string for pair in packed):
                    found.append(f"{table} {game_id}/{number}: {string!r}")
    return found


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key != SEALED:
                yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def execute(url: str, statement: str, **params: object) -> int:
    engine = sa.create_engine(sqlalchemy_url(url))
    with engine.begin() as conn:
        count = conn.execute(sa.text(statement), params).rowcount
    engine.dispose()
    return count


def json_param(url: str) -> str:
    """How an UPDATE writes a JSON parameter `:value` into `events.data`."""
    return "CAST(:value AS jsonb)" if url.startswith("postgresql") else ":value"


def scalar(url: str, statement: str, **params: object) -> object:
    engine = sa.create_engine(sqlalchemy_url(url))
    with engine.connect() as conn:
        value = conn.execute(sa.text(statement), params).scalar_one()
    engine.dispose()
    return value
