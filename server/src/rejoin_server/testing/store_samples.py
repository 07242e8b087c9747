"""What the store contract's tests write: games, events, snapshots and reconnect tokens with fresh
ids, so the tests of one store never meet each other's rows."""

from __future__ import annotations

import uuid

from rejoin_server.games.base import Event
from rejoin_server.store.base import GameStore, SnapshotWrite, TokenRow
from rejoin_server.store.codec import canonical_json, checksum

NOW = 1_700_000_000_000
TTL = 30 * 60 * 1000  # a reconnect token's lifetime


def gid() -> str:
    return uuid.uuid4().hex[:16]


def jti() -> str:
    return uuid.uuid4().hex


def events(first: int, count: int, kind: str = "added") -> list[Event]:
    # Non-ASCII text and nested values: a store must give back exactly the JSON it was given.
    return [
        Event(seq, kind, NOW + seq, {"n": seq, "name": "Zoë ♠", "cards": ["As", "Td"]})
        for seq in range(first, first + count)
    ]


def snapshot(version: int, total: int) -> SnapshotWrite:
    body = canonical_json({"total": total, "seq": version})
    return SnapshotWrite(version, body, checksum(body))


def token(game_id: str = "g1", player_id: str = "p1", issued_at: int = NOW) -> TokenRow:
    return TokenRow(jti(), game_id, player_id, issued_at, issued_at + TTL)


async def new_game(store: GameStore, settings: dict[str, object] | None = None) -> str:
    game_id = gid()
    await store.create_game(game_id, "counter", settings or {"target": 99}, NOW)
    return game_id


async def claims_of(store: GameStore, game_id: str) -> dict[str, str]:
    """The seat claims a load of the game reads (a game deleted since reads none: it is made
    again, empty, under its id, so that rows left behind would show)."""
    if await store.get_game(game_id) is None:
        await store.create_game(game_id, "counter", {}, NOW)
    return dict((await store.load(game_id)).claims)
