"""`GameStore` on a SQL database: SQLite (the embedded default) and PostgreSQL.

Two threads per store, each with its own connection: a writer that group-commits appends (see
`store.worker`) and a reader, so a restore never waits behind a batch of writes. Writes of any kind
go through the writer thread, reads through the reader; on PostgreSQL a third thread claims and
releases games (a cluster's ownership, `store.ownership`). The units of work they run are in
`store.appends` (the write path), `store.reads`, `store.tokens` (tokens, seat claims, signing keys)
and `store.removal` (deletes and eviction), each taking the `store.connection.Database` and the
thread's connection; their SQL text is `store.statements` (and `store.postgres` for what only
PostgreSQL runs), built from the tables declared in `store.schema`.

The store imports neither SQLAlchemy nor `store.tables`, which needs it, because start-up time is
restart time: after a kill -9 every player waits for the relaunched server, and those imports cost
more than the rest of the store together. Measured on the 2-core VM
(medians of 5 runs, old and new interleaved): `import rejoin_server.store.sql` took 424 ms with
them and takes 73 ms without; `import rejoin_server.app`, 1,097 ms and 375 ms. `store.tables`
builds the SQLAlchemy tables for the migrations from the same `store.schema`; the tests check the
migrated schema against it, and that a running store never imports them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rejoin_server.games.base import GameStatus
from rejoin_server.store import appends, datakeys, ownership, reads, removal, tokens
from rejoin_server.store.base import (
    DEFAULT_KEEP_SNAPSHOTS,
    DEFAULT_KEY_ID,
    AppendWrite,
    Claim,
    DataKeyRow,
    Deleted,
    GameRecord,
    GameStore,
    RawEvent,
    Seal,
    StoredLog,
    TokenClaimUse,
    TokenRow,
    TokenUse,
    Usage,
)
from rejoin_server.store.connection import Database
from rejoin_server.store.sealing import Sealer
from rejoin_server.store.urls import parse_url
from rejoin_server.store.worker import DbWorker

if TYPE_CHECKING:
    from rejoin_server.store.connection import Connection

__all__ = ["DEFAULT_KEEP_SNAPSHOTS", "DEFAULT_KEY_ID", "SqlGameStore"]


class _Backend(Database):
    """The worker's view of the database (`store.worker.Backend`): the connection and the write
    path, whose batches the writer thread gathers."""

    def write_batch(self, conn: Connection, items: list[AppendWrite]) -> None:
        appends.write_batch(self, conn, items)


class SqlGameStore(GameStore):
    """A `GameStore` on SQLite or PostgreSQL, chosen by the URL (docs/operations.md). An in-memory
    SQLite URL is refused (ValueError): the reader and the writer would see two databases."""

    def __init__(self, url: str, *, keep_snapshots: int = DEFAULT_KEEP_SNAPSHOTS) -> None:
        if keep_snapshots < 1:
            raise ValueError("keep_snapshots must be at least 1")
        self.url = parse_url(url)
        self.postgres = self.url.postgres
        self.sealer: Seal = Sealer()  # in the clear until the server sets its own
        self._db = _Backend(self.url, keep_snapshots)
        self._writer: DbWorker[Connection, AppendWrite] = DbWorker(self._db, "rejoin-db-writer")
        self._reader: DbWorker[Connection, AppendWrite] = DbWorker(self._db, "rejoin-db-reader")
        # On PostgreSQL, claims and releases of games (a cluster's ownership) get a thread and a
        # connection of their own: a storm of them after a restart or a failover would otherwise
        # queue ahead of the appends and token uses on the writer, and a claim may wait for a
        # row another node holds (`store.ownership`). SQLite has one writer at a time anyway.
        self._owner: DbWorker[Connection, AppendWrite] = (
            DbWorker(self._db, "rejoin-db-owner") if self.postgres else self._writer
        )

    async def open(self) -> None:
        self._writer.start()
        self._reader.start()
        if self._owner is not self._writer:
            self._owner.start()

    async def close(self) -> None:
        await self._writer.stop()
        await self._reader.stop()
        if self._owner is not self._writer:
            await self._owner.stop()

    # --- writes (on the writer thread) -----------------------------------------------------------

    async def _insert_game(self, record: GameRecord) -> None:
        await self._writer.call(lambda conn: appends.insert_game(self._db, conn, record))

    async def _write_append(self, write: AppendWrite) -> None:
        await self._writer.write(write)

    async def claim_game(self, game_id: str, node: str, *, lease_ms: int) -> Claim:
        return await self._owner.call(
            lambda conn: ownership.claim_game(self._db, conn, game_id, node, lease_ms)
        )

    async def release_game(
        self, game_id: str, node: str, owner_epoch: int | None, *, to: str | None = None
    ) -> bool:
        return await self._owner.call(
            lambda conn: ownership.release_game(self._db, conn, game_id, node, owner_epoch, to=to)
        )

    async def delete_game(self, game_id: str) -> Deleted:
        return await self._writer.call(lambda conn: removal.delete_games(self._db, conn, [game_id]))

    async def evict_completed(self, completed_before_ms: int) -> list[str]:
        return await self._writer.call(
            lambda conn: removal.evict_completed(self._db, conn, completed_before_ms)
        )

    async def evict_for_quota(self, max_games: int | None, max_bytes: int | None) -> list[str]:
        return await self._writer.call(
            lambda conn: removal.evict_for_quota(self._db, conn, max_games, max_bytes)
        )

    async def insert_token(self, row: TokenRow, *, claim: str | None = None) -> None:
        await self._writer.call(lambda conn: tokens.insert_token(self._db, conn, row, claim))

    async def _consume_token(self, use: TokenClaimUse) -> TokenUse:
        return await self._writer.batched(self._consume_tokens, use)

    def _consume_tokens(self, conn: Connection, uses: list[TokenClaimUse]) -> list[TokenUse]:
        # A method, not a lambda: the writer batches the uses queued with one same function.
        return tokens.consume_tokens(self._db, conn, uses)

    async def delete_expired_tokens(self, before_ms: int) -> int:
        return await self._writer.call(
            lambda conn: tokens.delete_expired_tokens(self._db, conn, before_ms)
        )

    async def signing_keys(self, candidate: str | None, now_ms: int) -> list[str]:
        return await self._writer.call(
            lambda conn: tokens.signing_keys(self._db, conn, candidate, now_ms)
        )

    async def retire_signing_keys(self, since_ms: int | None) -> int | None:
        return await self._writer.call(
            lambda conn: tokens.retire_signing_keys(self._db, conn, since_ms)
        )

    async def data_keys(self) -> list[DataKeyRow]:
        return await self._writer.call(lambda conn: datakeys.read_rows(self._db, conn))

    async def register_data_key(self, key_id: str, now_ms: int) -> None:
        await self._writer.call(lambda conn: datakeys.register(self._db, conn, key_id, now_ms))

    async def retire_data_keys(self, key_ids: Sequence[str], now_ms: int) -> int:
        return await self._writer.call(
            lambda conn: datakeys.retire(self._db, conn, key_ids, now_ms)
        )

    # --- reads (on the reader thread) ------------------------------------------------------------

    async def load(self, game_id: str) -> StoredLog:
        # Decrypted on the reader thread, off the event loop (`store.sealing`).
        sealer = self.sealer
        return await self._reader.call(
            lambda conn: sealer.open_log(reads.load(self._db, conn, game_id))
        )

    async def read_events(
        self, game_id: str, after_seq: int, limit: int | None = None
    ) -> list[RawEvent]:
        sealer = self.sealer
        return await self._reader.call(
            lambda conn: sealer.open_events(
                game_id, reads.read_events(self._db, conn, game_id, after_seq, limit)
            )
        )

    async def _recent_actions(self, game_id: str, limit: int) -> dict[str, int]:
        return await self._reader.call(
            lambda conn: reads.recent_actions(self._db, conn, game_id, limit)
        )

    async def get_game(self, game_id: str) -> GameRecord | None:
        return await self._reader.call(lambda conn: reads.get_game(self._db, conn, game_id))

    async def list_games(self, status: GameStatus | None = None) -> list[GameRecord]:
        return await self._reader.call(lambda conn: reads.list_games(self._db, conn, status))

    async def open_games(self, limit: int) -> list[GameRecord]:
        return await self._reader.call(lambda conn: reads.open_games(self._db, conn, limit))

    async def usage(self) -> Usage:
        return await self._reader.call(lambda conn: reads.usage(self._db, conn))

    async def get_token(self, jti: str) -> TokenRow | None:
        return await self._reader.call(lambda conn: reads.get_token(self._db, conn, jti))

    async def current_token(self, game_id: str, player_id: str, now_ms: int) -> TokenRow | None:
        return await self._reader.call(
            lambda conn: reads.current_token(self._db, conn, game_id, player_id, now_ms)
        )
