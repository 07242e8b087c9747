"""`rejoin-server rekey`: every event and snapshot row under the newest data key, while servers run.

Rows are read in pages in key order (keyset pagination on `(game_id, seq)` and `(game_id,
version)`: each page one short read, then one short write transaction, so servers appending
meanwhile wait at most one page). A row sealed with an older key is opened and sealed again
under the newest, its public part unchanged (with `resplit`, every row, the newest key's too, is
opened and split again by what its game declares today); a row in the clear is sealed as its game's kind
declares (a kind not given is sealed whole). Events never change once written, so rewriting one
races nothing; a snapshot is rewritten (state and checksum, `store.sealing`) only if it is
still there with the same checksum.

Then the older keys are retired (`data_keys.retired_at`): nothing is sealed with them any more,
so servers may be started without them — but not a key a server said it seals with
(`data_keys.written_at`, refreshed by each server every few seconds) since rekey began or just
before: that server still writes rows under it, so it is kept and named. A row that does not
open (tampered with, or sealed with a key not given) is reported and keeps every key from being
retired.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from rejoin_server.store import datakeys
from rejoin_server.store.codec import canonical_json
from rejoin_server.store.datakeys import IN_USE_WITHIN_MS
from rejoin_server.store.sealing import (
    EVERYTHING,
    Plan,
    SealError,
    event_paths,
    is_sealed,
    open_event,
    open_snapshot,
    seal_event,
    seal_snapshot,
    sealed_by,
)
from rejoin_server.timefmt import now_ms as wall_clock_ms

if TYPE_CHECKING:
    from rejoin_server.store.connection import Connection, Database
    from rejoin_server.store.datakeys import DataKeys


class KeysRefused(ValueError):
    """The keys given to rekey miss one the store holds: nothing was written."""


@dataclass
class Tally:
    read: int = 0
    rewritten: int = 0
    broken: list[str] = field(default_factory=list)  # rows that do not open, and why
    missing: list[str] = field(default_factory=list)  # rows sealed with a key not given


@dataclass
class Report:
    events: Tally
    snapshots: Tally
    retired: list[str]
    # Keys a server said it seals with (`written_at`) since rekey began, or just before: kept.
    in_use: list[str] = field(default_factory=list)


def rekey(
    db: Database,
    conn: Connection,
    keys: DataKeys,
    plans: Mapping[str, Plan],
    *,
    batch_size: int,
    now_ms: int,
    say: Callable[[str], None],
    resplit: bool = False,
    clock: Callable[[], int] = wall_clock_ms,
) -> Report:
    """Raises `KeysRefused` (nothing written) when the store holds a key not among `keys`: a
    wrong key registered here would stop every server that was given the right ones."""
    problem = datakeys.missing_key(keys.ids, datakeys.read_rows(db, conn))
    if problem is not None:
        raise KeysRefused(problem)
    # Registered before the first row it seals, not before: a key that opens no row (a wrong one,
    # with a registry that lost the right ones) must leave no trace that would stop the servers.
    run = _Rekeying(db, conn, keys, plans, batch_size, say, resplit, now_ms)
    events = run.pages("events", db.sql.rekey_events, db.sql.reseal_event)
    snapshots = run.pages("snapshots", db.sql.rekey_snapshots, db.sql.reseal_snapshot)
    retired: list[str] = []
    in_use: list[str] = []
    if not any((events.broken, events.missing, snapshots.broken, snapshots.missing)):
        # A key a running server still seals with must not be retired: its rows would be
        # written after the scan, and a server later started without it could not read them.
        since = min(now_ms, clock() - IN_USE_WITHIN_MS)
        for row in datakeys.read_rows(db, conn):
            if row.key_id == keys.newest.id or row.retired_at is not None:
                continue
            if row.written_at is not None and row.written_at > since:
                in_use.append(row.key_id)
            else:
                retired.append(row.key_id)
        datakeys.retire(db, conn, retired, now_ms)
    return Report(events, snapshots, retired, in_use)


@dataclass
class _Rekeying:
    db: Database
    conn: Connection
    keys: DataKeys
    plans: Mapping[str, Plan]
    batch_size: int
    say: Callable[[str], None]
    resplit: bool
    now_ms: int
    registered: bool = False

    def pages(self, table: str, select: str, update: str) -> Tally:
        tally = Tally()
        after: tuple[str, int] = ("", 0)
        while True:
            with self.db.transaction(self.conn, write=False) as cursor:
                cursor.execute(select, (*after, self.batch_size))
                page = cursor.fetchall()
            if not page:
                return tally
            changes = [change for row in page if (change := self._row(table, row, tally))]
            if changes:
                if not self.registered:
                    datakeys.register(self.db, self.conn, self.keys.newest.id, self.now_ms)
                    self.registered = True
                with self.db.transaction(self.conn, write=True) as cursor:
                    for change in changes:
                        cursor.execute(update, change)
            tally.read += len(page)
            tally.rewritten += len(changes)
            after = (page[-1][0], page[-1][1])
            self.say(f"{table}: {tally.read:,} read, {tally.rewritten:,} rewritten")

    def _row(self, table: str, row: tuple[object, ...], tally: Tally) -> tuple[object, ...] | None:
        """The UPDATE's parameters for one row read, None when it stays as it is."""
        game_id, number, third, text, game_kind = row
        game_id, number = str(game_id), int(str(number))
        plan = self.plans.get(str(game_kind), EVERYTHING)
        where = f"{table[:-1]} {game_id}/{number}"
        try:
            data = orjson.loads(_text(text))
        except orjson.JSONDecodeError as exc:
            tally.broken.append(f"{where}: not JSON ({exc})")
            return None
        if not isinstance(data, dict):
            return None  # not an object: `decode_event` / restore say what is wrong with it
        if is_sealed(data) and sealed_by(data) == self.keys.newest.id and not self.resplit:
            return None
        try:
            if table == "events":
                return self._event(game_id, number, str(third), data, plan)
            return self._snapshot(game_id, number, str(third), data, plan)
        except SealError as exc:
            (tally.broken if exc.missing_key is None else tally.missing).append(f"{where}: {exc}")
            return None

    def _event(
        self, game_id: str, seq: int, kind: str, data: dict[str, Any], plan: Plan
    ) -> tuple[object, ...] | None:
        sealed = is_sealed(data)
        value = open_event(self.keys, game_id, seq, kind, data) if sealed else data
        new = seal_event(self.keys, game_id, seq, kind, value, paths=event_paths(plan, kind))
        if new is value and not sealed:
            return None  # nothing private, in the clear: as it is
        return (orjson.dumps(new).decode(), game_id, seq)

    def _snapshot(
        self, game_id: str, version: int, stored: str, data: dict[str, Any], plan: Plan
    ) -> tuple[object, ...] | None:
        sealed = is_sealed(data)
        if sealed:
            value, plain_sum = open_snapshot(self.keys, game_id, version, stored, data)
        else:
            value, plain_sum = data, stored  # a wrong checksum stays wrong, sealed inside
        again = seal_snapshot(self.keys, game_id, version, value, plain_sum, paths=plan.state)
        if again is None:  # nothing private (any more): in the clear, its plaintext's checksum
            if not sealed:
                return None
            return (canonical_json(value).decode(), plain_sum, game_id, version, stored)
        return (again[0].decode(), again[1], game_id, version, stored)


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
