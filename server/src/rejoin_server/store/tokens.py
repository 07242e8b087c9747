"""The SQL store's writes of reconnect tokens, seat claims and signing keys (writer thread).

Consuming a token is `UPDATE … WHERE jti = ? AND consumed_at IS NULL`, and only the call whose
UPDATE changed the row stores the replacement. The database decides who wins, so this holds across
servers too: on PostgreSQL a concurrent UPDATE of the row waits for the first to commit, then finds
`consumed_at` set and changes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rejoin_server.store.base import (
    DEFAULT_KEY_ID,
    TokenClaimUse,
    TokenRow,
    TokenUse,
    duplicate_token,
)
from rejoin_server.store.rows import SeatClaimRow, SigningKeyRow, TokenConsumed
from rejoin_server.store.statements import TOKEN_FIELDS

if TYPE_CHECKING:
    from rejoin_server.store.connection import Connection, Database


def token_params(row: TokenRow) -> tuple[Any, ...]:
    """A token's values in the order of `TOKEN_FIELDS`, the columns its statements name."""
    return tuple(getattr(row, name) for name in TOKEN_FIELDS)


def insert_token(db: Database, conn: Connection, row: TokenRow, claim: str | None) -> None:
    try:
        with db.transaction(conn, write=True) as cursor:
            cursor.execute(db.sql.insert_token, token_params(row))
            if claim is not None:
                cursor.execute(db.sql.claim_seat, _claim(row, claim))
    except db.duplicate as exc:
        raise duplicate_token(row.jti) from exc


def _claim(row: TokenRow, claim: str | None) -> SeatClaimRow:
    return SeatClaimRow(row.game_id, row.player_id, claim, row.issued_at)


def consume_tokens(db: Database, conn: Connection, uses: list[TokenClaimUse]) -> list[TokenUse]:
    """Each use in turn, all in one transaction (on the writer thread, batched: see
    `DbWorker.batched`). Two uses of one token in a batch meet as they would one after the
    other: the first wins, the second reads the row the first left."""
    # Row locks taken in jti order (a stable sort keeps two uses of one token in arrival order):
    # two servers' batches on one PostgreSQL then never wait for each other in a circle. The
    # answers go back in the callers' order.
    order = sorted(range(len(uses)), key=lambda i: uses[i].jti)
    results: dict[int, TokenUse] = {}
    try:
        if db.pg is not None and len(uses) == 1:
            # One use on PostgreSQL is one statement (`consume_token_at_once`), its own
            # transaction: one round trip, not three. The read after a lost compare-and-set needs
            # no transaction either: it looks at what the winner committed.
            with db.statement(conn) as cursor:
                return [_consume_token(db, cursor, uses[0])]
        with db.transaction(conn, write=True) as cursor:
            for i in order:
                results[i] = _consume_token(db, cursor, uses[i])
            return [results[i] for i in range(len(uses))]
    except db.duplicate as exc:
        raise duplicate_token(uses[0].replacement.jti if len(uses) == 1 else "?") from exc


def _consume_token(db: Database, cursor: Any, use: TokenClaimUse) -> TokenUse:
    replacement = use.replacement
    consumed = TokenConsumed(use.now_ms, use.client_id, replacement.jti, use.jti)
    if db.pg is not None:
        # One round trip for the compare-and-set, the replacement and the claim: a restart's
        # storm of a thousand resumes pays it a thousand times.
        claim = _claim(replacement, use.claim)
        params = (*consumed, *token_params(replacement), *claim, use.claim)
        cursor.execute(db.pg.consume_token_at_once, params)
        changed = cursor.fetchall()
    else:
        cursor.execute(db.sql.consume_token, consumed)
        changed = cursor.fetchall()  # SQLite finishes the UPDATE only once it is read out
        if len(changed) == 1:
            cursor.execute(db.sql.insert_token, token_params(replacement))
            if use.claim is not None:
                cursor.execute(db.sql.claim_seat, _claim(replacement, use.claim))
    if len(changed) == 1:
        return TokenUse(won=True, row=TokenRow(*changed[0]))
    # Lost (or no such token): read the row as the winner left it. On PostgreSQL this statement
    # sees what the winner committed while our UPDATE waited for it.
    cursor.execute(db.sql.token_row, (use.jti,))
    row = cursor.fetchone()
    return TokenUse(won=False, row=None if row is None else TokenRow(*row))


def delete_expired_tokens(db: Database, conn: Connection, before_ms: int) -> int:
    with db.transaction(conn, write=True) as cursor:
        cursor.execute(db.sql.delete_expired_tokens, (before_ms,))
        return int(cursor.rowcount)


def signing_keys(db: Database, conn: Connection, candidate: str | None, now_ms: int) -> list[str]:
    with db.transaction(conn, write=True) as cursor:
        cursor.execute(db.sql.signing_keys)
        secrets = [secret for (secret,) in cursor.fetchall()]
        if secrets or candidate is None:
            return secrets
        cursor.execute(db.sql.store_first_key, SigningKeyRow(DEFAULT_KEY_ID, candidate, now_ms))
        cursor.execute(db.sql.signing_keys)
        return [secret for (secret,) in cursor.fetchall()]


def retire_signing_keys(db: Database, conn: Connection, since_ms: int | None) -> int | None:
    with db.transaction(conn, write=True) as cursor:
        if since_ms is None:
            cursor.execute(db.sql.unretire_keys)
        else:
            cursor.execute(db.sql.retire_keys, (since_ms,))
        cursor.execute(db.sql.keys_retired_at)
        (retired_at,) = cursor.fetchone()
        return None if retired_at is None else int(retired_at)
