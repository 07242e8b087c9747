"""The rows the SQL store sends, as named tuples whose fields are the columns they fill, in order.

A statement takes its column list from the tuple it is given (`store.statements`), so the order of
the values and the order of the columns are one declaration, not two lists matched by hand. The
records the store hands back (`GameRecord`, `RawEvent`, `StoredSnapshot`, `TokenRow`) are read the
same way: their fields are the columns selected.
"""

from __future__ import annotations

from typing import NamedTuple


class NewGame(NamedTuple):
    """A games row as `create_game` inserts it."""

    game_id: str
    kind: str
    settings: str  # JSON
    status: str
    created_at: int
    updated_at: int
    completed_at: int | None
    last_seq: int
    events_bytes: int
    owner: str | None
    owner_epoch: int
    durability: str | None
    seating: str | None  # JSON
    open_at: int | None


class GameAdvance(NamedTuple):
    """How an append changes its game's row (see `statements.ADVANCE`), then the fence: the row
    of `game_id` changes only while it still holds `prev_seq` (a compare-and-set)."""

    last_seq: int
    status: str
    updated_at: int
    completed_at: int | None  # set once: kept when the row has one
    events_bytes: int  # the bytes this append adds
    history: str | None  # JSON; None keeps the stored epochs
    seating: str | None  # JSON; None keeps the stored seating (and `open`)
    # 1: open (the row's `open_at` becomes its `created_at`), 0: not open, None: as it was.
    open_at: int | None
    game_id: str
    prev_seq: int
    owner_epoch: int | None  # None: any epoch (no owner to fence)


# The fields of `GameAdvance` that are not columns it sets but the fence.
FENCE = ("game_id", "prev_seq", "owner_epoch")


class EventRow(NamedTuple):
    game_id: str
    seq: int
    kind: str
    at: int
    data: str  # JSON
    action_id: str | None


class SnapshotRow(NamedTuple):
    game_id: str
    version: int
    state: str  # JSON
    checksum: str
    created_at: int


class SeatClaimRow(NamedTuple):
    game_id: str
    player_id: str
    claim: str | None  # None only in PostgreSQL's consume of a token, which then writes no row
    claimed_at: int


class TokenConsumed(NamedTuple):
    """The columns consuming a token sets, then the token's id."""

    consumed_at: int
    client_id: str
    next_jti: str
    jti: str


class SigningKeyRow(NamedTuple):
    key_id: str
    secret: str
    created_at: int
