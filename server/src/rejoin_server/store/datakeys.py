"""Data keys: the AES-256 keys that encrypt private game data at rest (docs/operations.md,
"Private data at rest"), and the `data_keys` table that remembers which ones wrote data.

A key is 32 random bytes in URL-safe base64 (`secrets.token_urlsafe(32)`), given by the operator
(`REJOIN_DATA_KEYS`, `--data-key-file`), never stored. Its id is a short hash of it, written in
every sealed value, so a reader finds the key without trying each; the id reveals nothing of the
key. The table holds ids only: a server refuses to start when the store holds a key id it was
not given, instead of serving games it cannot read.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rejoin_server.store.base import DataKeyRow

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from rejoin_server.store.connection import Connection, Database

KEY_BYTES = 32
# How often a server says again which key it seals with (`data_keys.written_at`), and how recent
# such a word keeps `rekey` from retiring that key: a server still sealing with an old key is
# seen, and one restarted with the new key first frees the old one within the window.
WRITTEN_EVERY_MS = 10_000
IN_USE_WITHIN_MS = 3 * WRITTEN_EVERY_MS
HOW_TO_MAKE_ONE = "make one with python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"


def key_id(raw: bytes) -> str:
    """16 hex digits of a SHA-256 of the key, domain-separated: names the key, never reveals it."""
    return hashlib.sha256(b"rejoin data key id\x00" + raw).hexdigest()[:16]


def decode_key(text: str) -> bytes:
    """A key's 32 bytes from its URL-safe base64; ValueError saying what is wrong (never
    quoting the key)."""
    text = text.strip()
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise ValueError(f"it is not URL-safe base64: {HOW_TO_MAKE_ONE}") from None
    if any(c not in _B64URL for c in text) or len(raw) != KEY_BYTES:
        raise ValueError(
            f"it is not {KEY_BYTES} bytes in URL-safe base64 (43 characters): {HOW_TO_MAKE_ONE}"
        )
    return raw


_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=")


@dataclass(frozen=True, slots=True)
class DataKey:
    id: str
    aead: AESGCM

    def __repr__(self) -> str:  # never the key
        return f"DataKey({self.id})"


class DataKeys:
    """The operator's keys, newest first: the first seals, all of them open."""

    def __init__(self, texts: Sequence[str]) -> None:
        # Imported here: `cryptography` costs start-up time, which is restart time, and a
        # server without keys never needs it.
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if not texts:
            raise ValueError("no data key given")
        keys = [DataKey(key_id(raw), AESGCM(raw)) for raw in map(decode_key, texts)]
        self.newest = keys[0]
        self._by_id = {key.id: key for key in keys}

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self._by_id)

    def get(self, kid: str) -> DataKey | None:
        return self._by_id.get(kid)


def missing_key(given: Iterable[str], rows: Iterable[DataKeyRow]) -> str | None:
    """Why a server given keys `given` (ids, newest first; none: it stores private data in the
    clear) must not start on a store that registered `rows`, or None when it may."""
    have = set(given)
    rows = list(rows)
    if not have and rows:  # data keys were used here: the server needs them, retired or not
        live = [row.key_id for row in rows if row.retired_at is None] or [rows[-1].key_id]
    else:
        live = [row.key_id for row in rows if row.retired_at is None and row.key_id not in have]
    if not live:
        return None
    ids = ", ".join(live)
    if not have:
        return (
            f"the database holds private data encrypted with data key {ids}, and no data key "
            "was given: set REJOIN_DATA_KEYS (or --data-key-file) to the keys it was written "
            "with, newest first"
        )
    return (
        f"the database holds private data encrypted with data key {ids}, which is not among "
        "the keys given: add it to REJOIN_DATA_KEYS (or the --data-key-file) after the newest "
        "key, or run `rejoin-server rekey` with it first"
    )


# The SQL store's side of the table (statements in `store.statements`), on its writer thread.


def read_rows(db: Database, conn: Connection) -> list[DataKeyRow]:
    with db.transaction(conn, write=False) as cursor:
        cursor.execute(db.sql.data_keys)
        rows = cursor.fetchall()
    return [
        DataKeyRow(str(k), int(c), None if r is None else int(r), None if w is None else int(w))
        for k, c, r, w in rows
    ]


def register(db: Database, conn: Connection, kid: str, now_ms: int) -> None:
    """Register `kid` (a key that writes, at `now_ms`), no longer retired if it was."""
    with db.transaction(conn, write=True) as cursor:
        cursor.execute(db.sql.register_data_key, (kid, now_ms, now_ms))


def retire(db: Database, conn: Connection, kids: Sequence[str], now_ms: int) -> int:
    count = 0
    with db.transaction(conn, write=True) as cursor:
        for kid in kids:
            cursor.execute(db.sql.retire_data_key, (now_ms, kid))
            count += max(cursor.rowcount, 0)
    return count
