"""The `GameStore` base class, the records it hands back, and the logic every store shares.

A store keeps, per game: a row (kind, settings, status, times, last seq), the event log keyed
`(game_id, seq)` and the last K snapshots; and, apart from game state, a row per reconnect token
and the server's generated signing keys. It never interprets events or states: restoring a game
from them is `store.restore.restore_game`'s job. Every method is a coroutine; implementations do
their I/O off the event loop.

Longer than 400 lines: it is the whole seam a store implements, the records it takes and hands
back beside the abstract methods that document them; split, a store's author would read the
contract in two places.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from rejoin_server.games.base import Event, GameStatus

# How many snapshots a game keeps, newest first, unless a store is told otherwise.
DEFAULT_KEEP_SNAPSHOTS = 3
# The id of the signing key a server generates for itself: a fixed id, so that servers starting
# together on an empty store insert the same row and only the first one's secret is kept.
DEFAULT_KEY_ID = "default"


# One history epoch: an incarnation of a game (one per load) and the first seq it wrote.
Epoch = tuple[str, int]


@dataclass(frozen=True, slots=True)
class GameRecord:
    game_id: str
    kind: str
    settings: Mapping[str, Any]
    status: GameStatus
    created_at: int
    updated_at: int
    completed_at: int | None
    last_seq: int
    # The history epochs stored so far, oldest first (`append(history=…)`).
    history: tuple[Epoch, ...] = ()
    # The node hosting the game and its ownership epoch (`claim_game`); None: no node does.
    owner: str | None = None
    owner_epoch: int = 0
    # "strict" or "relaxed", chosen when the game was created; None for a game stored before
    # durability was chosen per game (it follows the server's `--durability`). A game kept in
    # memory only has no row at all.
    durability: str | None = None
    # Who may still sit down (`Seating.data`), for the lobby; None for a game stored before it
    # was kept, until its next append.
    seating: Mapping[str, Any] | None = None
    # `created_at` while the game is open to join, 0 while it is not, None while unknown.
    open_at: int | None = None


@dataclass(frozen=True, slots=True)
class Seating:
    """A game's seating as the lobby reads it (`GET /api/games/open`, `GET /api/game/{id}`):
    `data` is public JSON (`host.seating` builds it from the spectator's view), `open` says
    whether someone may still sit down (a seat free, and waiting, or playing for a kind that
    takes players then)."""

    data: Mapping[str, Any]
    open: bool


@dataclass(frozen=True, slots=True)
class Claim:
    """A won `claim_game`: the game's new ownership epoch, and the node that owned it before."""

    owner_epoch: int
    previous: str | None


@dataclass(frozen=True, slots=True)
class SnapshotWrite:
    """A snapshot ready to store: `state` is canonical JSON, `checksum` its SHA-256."""

    version: int
    state: bytes
    checksum: str


@dataclass(frozen=True, slots=True)
class StoredSnapshot:
    """A snapshot as read back: `state` is the stored JSON text (private values decrypted,
    `store.sealing`), unverified. `problem`, when not empty, says why it cannot be trusted (its
    sealed values do not decrypt): a restore passes over it. Not a column."""

    version: int
    state: str
    checksum: str
    created_at: int
    problem: str = ""
    # The stored text's length when it differs from `state`'s (sealed: `store.sealing`). Not a
    # column either.
    stored_bytes: int = 0

    @property
    def size(self) -> int:
        """The bytes the snapshot takes in the database."""
        return self.stored_bytes or len(self.state.encode())


@dataclass(frozen=True, slots=True)
class RawEvent:
    """An event row as read back: `data` is the stored JSON text, not yet decoded."""

    seq: int
    kind: str
    at: int
    data: str
    # Why its sealed data does not open (`store.sealing`): raised when it is decoded.
    problem: str = ""


@dataclass(frozen=True, slots=True)
class StoredLog:
    """What a restore starts from: the game row, its snapshots newest first, and the events after
    the newest snapshot (all events when there is none); and, read in the same go, the current
    claim on each seat (player_id -> claim; see `insert_token`, `consume_token`)."""

    game: GameRecord
    snapshots: Sequence[StoredSnapshot]
    events: Sequence[RawEvent]
    claims: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Deleted:
    events: int
    snapshots: int
    games: int
    tokens: int


@dataclass(frozen=True, slots=True)
class TokenRow:
    """The stored side of a reconnect token (docs/architecture.md); times are epoch milliseconds."""

    jti: str
    game_id: str
    player_id: str
    issued_at: int
    expires_at: int
    consumed_at: int | None = None
    client_id: str | None = None  # the client that consumed it
    next_jti: str | None = None  # the token issued in its place when it was consumed


@dataclass(frozen=True, slots=True)
class TokenUse:
    """What `consume_token` did. `won` says whether this call consumed the token; `row` is the row
    as stored after the attempt (None: no such token). A loser reads `row.client_id` to tell a
    retry by the winner (same client: answer again with `row.next_jti`) from a conflict."""

    won: bool
    row: TokenRow | None


@dataclass(frozen=True, slots=True)
class Usage:
    games: int
    bytes: int
    snapshots: int  # snapshot rows kept, all games together (the console shows them)


@dataclass(frozen=True, slots=True)
class AppendWrite:
    """One `append` that writes something, checked and encoded once (`GameStore.append`) for the
    implementation's `_write_append`. `prev_seq` is the seq the game's row must still hold."""

    game_id: str
    prev_seq: int
    events: Sequence[Event]
    data: Sequence[str]  # each event's data as JSON, encoded once
    status: GameStatus
    now_ms: int
    snapshot: SnapshotWrite | None
    action_id: str | None  # stored on the last event
    history: tuple[Epoch, ...] | None  # None: the stored epochs stay
    owner_epoch: int | None = None  # the ownership epoch the row must still hold (None: any)
    seating: Seating | None = None  # None: the stored seating stays


@dataclass(frozen=True, slots=True)
class TokenClaimUse:
    """One `consume_token` call, for the implementation's `_consume_token` (a SQL store batches
    them)."""

    jti: str
    client_id: str
    now_ms: int
    replacement: TokenRow
    claim: str | None


@dataclass(frozen=True, slots=True)
class DataKeyRow:
    """A data key that wrote private data (`store.datakeys`): its id, never the key."""

    key_id: str
    created_at: int
    retired_at: int | None
    written_at: int | None = None  # when a server last said it seals with it


class Seal(Protocol):
    """How a store encrypts private data at rest and opens it again (`store.sealing.Sealer`)."""

    @property
    def encrypts(self) -> bool: ...

    def note_kind(self, game_id: str, kind: str) -> None: ...

    def event_text(self, game_id: str, event: Event) -> str: ...

    def snapshot(self, game_id: str, snap: SnapshotWrite) -> SnapshotWrite: ...

    def open_events(self, game_id: str, raws: list[RawEvent]) -> list[RawEvent]: ...

    def open_log(self, log: StoredLog) -> StoredLog: ...


def duplicate_token(jti: str) -> ValueError:
    """What storing a token whose jti is already stored raises."""
    return ValueError(f"reconnect token {jti!r} is already stored")


def first_action_seqs(carried: Iterable[tuple[int, str]]) -> dict[str, int]:
    """action_id -> seq from `(seq, action_id)` pairs given oldest first: should one id appear
    twice, the earliest seq (the one that took effect) is kept."""
    found: dict[str, int] = {}
    for seq, action_id in carried:
        found.setdefault(action_id, seq)
    return found


class GameStore(ABC):
    """Durable home of games. Implementations: SQLite, PostgreSQL, and memory (unit tests only).

    A store subclasses this and implements the abstract methods. Four public methods check and
    shape their arguments here, once for every store, and hand on to an underscored half:
    `create_game` to `_insert_game`, `append` to `_write_append`, `recent_actions` to
    `_recent_actions`, `consume_token` to `_consume_token`. `rejoin_server.testing.store_contract`
    is the suite a store must pass.

    `sealer` (`store.sealing.Sealer`) encrypts the private data of what `append` writes, and an
    implementation's `load` and `read_events` hand back what it decrypts, so that callers see
    plaintext only. An implementation starts with one that writes in the clear; the server sets
    its own, from the data keys, before the first append (`rejoin_server.privatedata`)."""

    sealer: Seal

    @abstractmethod
    async def open(self) -> None:
        """Connect. Tables must exist already (`store.migrate.upgrade`)."""

    @abstractmethod
    async def close(self) -> None:
        """Finish pending writes and disconnect."""

    async def create_game(
        self,
        game_id: str,
        kind: str,
        settings: Mapping[str, Any],
        now_ms: int,
        *,
        owner: str | None = None,
        durability: str | None = None,
        seating: Seating | None = None,
    ) -> GameRecord:
        """Store a new game's row. With `owner`, that node owns it from the start, at ownership
        epoch 1 (see `claim_game`). `durability` ("strict" or "relaxed") is kept with it, and
        `seating` (None: not known, the game is not listed as open until an append says)."""
        record = GameRecord(
            game_id,
            kind,
            dict(settings),
            "waiting",
            now_ms,
            now_ms,
            None,
            0,
            owner=owner,
            owner_epoch=1 if owner is not None else 0,
            durability=durability,
            seating=None if seating is None else dict(seating.data),
            open_at=None if seating is None else now_ms if seating.open else 0,
        )
        await self._insert_game(record)
        self.sealer.note_kind(game_id, kind)
        return record

    @abstractmethod
    async def _insert_game(self, record: GameRecord) -> None:
        """Store a new game's row."""

    async def append(
        self,
        game_id: str,
        events: Sequence[Event],
        *,
        status: GameStatus,
        now_ms: int,
        snapshot: SnapshotWrite | None = None,
        action_id: str | None = None,
        history: Sequence[Epoch] | None = None,
        owner_epoch: int | None = None,
        seating: Seating | None = None,
    ) -> None:
        """Write `events` (and the game's new status, and optionally a snapshot taken after them)
        in one transaction, group-committed with other games' appends that are ready at the same
        time. A seq that is already stored raises `SeqConflict` and writes nothing of this call.
        Raises `StorageUnavailable` when the database cannot be reached.

        `action_id` is the client actionId of the player action that caused these events; it is
        stored on the last of them (ignored when there are none), for `recent_actions`.

        `history`, when given, replaces the game's stored history epochs (`GameRecord.history`)
        in the same transaction: a new incarnation's epoch is stored with its first events.

        `owner_epoch`, when given, is fenced like the seq: the append is stored only while the
        game's row still holds that ownership epoch (`claim_game`), else `Fenced` is raised and
        nothing of this call is written.

        `seating`, when given, replaces the game's stored seating (`GameRecord.seating`), and
        whether it is open to join (`open_games`), in the same transaction."""
        if events:
            prev = events[0].seq - 1
        elif snapshot is not None:
            prev = snapshot.version
        else:
            return
        sealer = self.sealer
        data = [sealer.event_text(game_id, e) for e in events]
        if snapshot is not None:
            snapshot = sealer.snapshot(game_id, snapshot)
        epochs = None if history is None else tuple(history)
        write = AppendWrite(
            game_id,
            prev,
            events,
            data,
            status,
            now_ms,
            snapshot,
            action_id,
            epochs,
            owner_epoch,
            seating,
        )
        await self._write_append(write)

    @abstractmethod
    async def _write_append(self, write: AppendWrite) -> None:
        """Store one append (see `append`) or raise `SeqConflict`, `Fenced`, `GameNotFound`,
        `StorageUnavailable`."""

    # --- ownership (docs/cluster.md) -------------------------------------------------------------

    @abstractmethod
    async def claim_game(self, game_id: str, node: str, *, lease_ms: int) -> Claim:
        """Make `node` the game's owner at a new ownership epoch (one more than the stored one),
        if nobody else may hold it: no owner, `node` itself (a restarted node), or an
        owner that is not alive (`cluster_nodes`: its heartbeat older than `lease_ms` by the
        database's clock, its coordination connection gone, or it left). A compare-and-set: of any
        number of nodes claiming at once, exactly one wins. Raises `OwnedElsewhere` (with the
        live owner), `GameNotFound`, `ClaimContended` (the row stayed locked by another
        transaction: try again)."""

    @abstractmethod
    async def release_game(
        self, game_id: str, node: str, owner_epoch: int | None, *, to: str | None = None
    ) -> bool:
        """Give the game up: its owner becomes `to` (None: no owner) if it is still `node` (and,
        when given, still at `owner_epoch`). The epoch stays: `to` bumps it when it claims the
        game. True when it was released."""

    @abstractmethod
    async def load(self, game_id: str) -> StoredLog:
        """Raises `GameNotFound`."""

    @abstractmethod
    async def read_events(
        self, game_id: str, after_seq: int, limit: int | None = None
    ) -> list[RawEvent]:
        """Events with seq > `after_seq`, in order."""

    @abstractmethod
    async def get_game(self, game_id: str) -> GameRecord | None: ...

    @abstractmethod
    async def list_games(self, status: GameStatus | None = None) -> list[GameRecord]: ...

    @abstractmethod
    async def open_games(self, limit: int) -> list[GameRecord]:
        """The newest `limit` games open to join (their last seating said so: a seat free, and a
        join would be taken), newest first (by `created_at`, then game id, descending). One indexed
        query: it reads no game but those it returns."""

    async def recent_actions(self, game_id: str, limit: int = 1000) -> dict[str, int]:
        """action_id -> seq of the event that carries it, for the newest `limit` events that carry
        one. After a restart the server seeds its duplicate filter from this, so an action a client
        resends because the crash ate its ack is answered with its first result, not applied
        twice. Should one id appear twice, the earliest seq (the one that took effect) is kept."""
        if limit <= 0:
            return {}
        return await self._recent_actions(game_id, limit)

    @abstractmethod
    async def _recent_actions(self, game_id: str, limit: int) -> dict[str, int]:
        """`recent_actions` for a `limit` of at least 1."""

    @abstractmethod
    async def delete_game(self, game_id: str) -> Deleted:
        """Remove every row of one game, its reconnect tokens included. A game that does not
        exist deletes nothing but stray tokens carrying its id."""

    @abstractmethod
    async def evict_completed(self, completed_before_ms: int) -> list[str]:
        """Delete the games completed before `completed_before_ms` (with their tokens); return
        their ids."""

    @abstractmethod
    async def usage(self) -> Usage:
        """How many games and snapshots are stored and roughly how many bytes of events and
        snapshots."""

    @abstractmethod
    async def evict_for_quota(self, max_games: int | None, max_bytes: int | None) -> list[str]:
        """While usage is over a limit, delete the oldest completed game (with its tokens); return
        the ids deleted. Games still in play are never evicted (the caller refuses new games with
        `storage_full`)."""

    # --- reconnect tokens and signing keys (docs/architecture.md) --------------------------------

    @abstractmethod
    async def insert_token(self, row: TokenRow, *, claim: str | None = None) -> None:
        """Store a freshly issued token. A `jti` that is already stored raises `ValueError`.
        With `claim`, the seat's claim (`StoredLog.claims`) becomes it in the same transaction."""

    async def consume_token(
        self,
        jti: str,
        *,
        client_id: str,
        now_ms: int,
        replacement: TokenRow,
        claim: str | None = None,
    ) -> TokenUse:
        """Use token `jti` up, atomically, in one transaction: if it exists and is not consumed
        yet, set its `consumed_at=now_ms`, `client_id` and `next_jti=replacement.jti`, and store
        `replacement`: `won=True`. Otherwise store nothing and answer `won=False` with the stored
        row (None when there is no such token). Of any number of concurrent calls with one `jti`,
        from any number of servers, exactly one wins: it is a compare-and-set in the database
        (`UPDATE … WHERE consumed_at IS NULL`), never a read then a write. Expiry is not checked
        here; the caller compares `expires_at` with its clock. A replacement whose jti is already
        stored raises `ValueError` and consumes nothing. With `claim`, a winning call also makes
        it the seat's claim, in the same transaction (a loser changes no claim)."""
        return await self._consume_token(TokenClaimUse(jti, client_id, now_ms, replacement, claim))

    @abstractmethod
    async def _consume_token(self, use: TokenClaimUse) -> TokenUse:
        """`consume_token`, its arguments in one record."""

    @abstractmethod
    async def get_token(self, jti: str) -> TokenRow | None: ...

    @abstractmethod
    async def current_token(self, game_id: str, player_id: str, now_ms: int) -> TokenRow | None:
        """The seat's newest token that is neither consumed nor expired at `now_ms`, if any."""

    @abstractmethod
    async def delete_expired_tokens(self, before_ms: int) -> int:
        """Delete the tokens with `expires_at < before_ms`; return how many."""

    @abstractmethod
    async def signing_keys(self, candidate: str | None, now_ms: int) -> list[str]:
        """The stored signing secrets, newest first. When none is stored yet, `candidate` is stored
        first, so the key a server generates on its first start survives restarts. Servers racing
        on an empty store all get the one candidate that was kept. None: only read (a server
        signing with the operator's keys stores none of its own)."""

    # --- data keys (store.datakeys) ---------------------------------------------------------------

    @abstractmethod
    async def data_keys(self) -> list[DataKeyRow]:
        """The ids of the data keys that wrote private data, oldest first."""

    @abstractmethod
    async def register_data_key(self, key_id: str, now_ms: int) -> None:
        """Note that the key `key_id` writes, at `now_ms` (`written_at`; no longer retired, if
        it was). A server calls it at start and every `privatedata.WRITTEN_EVERY_MS`."""

    @abstractmethod
    async def retire_data_keys(self, key_ids: Sequence[str], now_ms: int) -> int:
        """Mark these keys retired (nothing is sealed with them any more); how many were."""

    @abstractmethod
    async def retire_signing_keys(self, since_ms: int | None) -> int | None:
        """Mark the stored keys retired since `since_ms` (a key already retired keeps its earlier
        time), or no longer retired (None: they sign again). Returns since when the stored keys
        are retired (the earliest time), None when they are not."""
