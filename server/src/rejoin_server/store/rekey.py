"""`rejoin-server rekey`: every event and snapshot row under the newest data key, while servers run.

Rows are read in pages in key order (keyset pagination on `(game_id, seq)` and `(game_id,
version)`: each page one short read, then one short write transaction, so servers appending
meanwhile wait at most one page). A row sealed with an older key is opened and sealed again
under the newest, its public part unchanged; a row in the clear is sealed as its game's kind
declares (a kind not given is sealed whole). Events never change once written, so rewriting one
races nothing; a snapshot is rewritten only if it is still there with the same checksum.

Then the older keys are retired (`data_keys.retired_at`): nothing is sealed with them any more,
so servers may be started without them. A row that does not open (tampered with) is reported and
keeps its key from being retired.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rejoin_server.store import datakeys
from rejoin_server.store.sealing import (
    EVERYTHING,
    Plan,
    SealError,
    aad,
    event_paths,
    reseal,
)

if TYPE_CHECKING:
    from rejoin_server.store.connection import Connection, Database
    from rejoin_server.store.datakeys import DataKeys


@dataclass
class Tally:
    read: int = 0
    rewritten: int = 0
    broken: list[str] = field(default_factory=list)  # rows that do not open, and why


@dataclass
class Report:
    events: Tally
    snapshots: Tally
    retired: list[str]


def rekey(
    db: Database,
    conn: Connection,
    keys: DataKeys,
    plans: Mapping[str, Plan],
    *,
    batch_size: int,
    now_ms: int,
    say: Callable[[str], None],
) -> Report:
    datakeys.register(db, conn, keys.newest.id, now_ms)
    run = _Rekeying(db, conn, keys, plans, batch_size, say)
    events = run.pages("events", db.sql.rekey_events, db.sql.reseal_event)
    snapshots = run.pages("snapshots", db.sql.rekey_snapshots, db.sql.reseal_snapshot)
    retired: list[str] = []
    if not events.broken and not snapshots.broken:
        retired = [
            row.key_id
            for row in datakeys.read_rows(db, conn)
            if row.key_id != keys.newest.id and row.retired_at is None
        ]
        datakeys.retire(db, conn, retired, now_ms)
    return Report(events, snapshots, retired)


@dataclass
class _Rekeying:
    db: Database
    conn: Connection
    keys: DataKeys
    plans: Mapping[str, Plan]
    batch_size: int
    say: Callable[[str], None]

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
                with self.db.transaction(self.conn, write=True) as cursor:
                    for change in changes:
                        cursor.execute(update, change)
            tally.read += len(page)
            tally.rewritten += len(changes)
            after = (page[-1][0], page[-1][1])
            self.say(f"{table}: {tally.read:,} read, {tally.rewritten:,} rewritten")

    def _row(self, table: str, row: tuple[object, ...], tally: Tally) -> tuple[object, ...] | None:
        """The UPDATE's parameters for one row read, None when it stays as it is."""
        if table == "events":
            game_id, number, kind, text, game_kind = row
            paths = event_paths(self.plans.get(str(game_kind), EVERYTHING), str(kind))
            tail: tuple[object, ...] = (game_id, number)
        else:
            game_id, number, checksum, text, game_kind = row
            paths = self.plans.get(str(game_kind), EVERYTHING).state
            tail = (game_id, number, checksum)
        associated = aad(table[:-1], str(game_id), int(str(number)))
        try:
            new = reseal(self.keys, associated, _text(text), paths)
        except SealError as exc:
            tally.broken.append(f"{table[:-1]} {game_id}/{number}: {exc}")
            return None
        return None if new is None else (new, *tail)


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
