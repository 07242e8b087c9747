"""Private game data at rest, at start (docs/operations.md, "Private data at rest"): the store's
`Sealer` from the operator's data keys and what each kind of game declares private, and the
refusal to serve a database holding data sealed with a key this server was not given.

A server given no key stores private data in the clear, and says so: once at start in the log,
and in `/healthz` (`privateData: "clear"`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from rejoin_server.timefmt import now_ms

if TYPE_CHECKING:
    from rejoin_server.games.kinds import GameKinds
    from rejoin_server.settings import ServerSettings
    from rejoin_server.store.base import GameStore
    from rejoin_server.store.sealing import Sealer

log = logging.getLogger("rejoin_server")


class DataKeyMissing(ValueError):
    """The store holds private data sealed with a key this server was not given."""


def given_ids(settings: ServerSettings) -> tuple[str, ...]:
    from rejoin_server.store.datakeys import decode_key, key_id

    return tuple(key_id(decode_key(text)) for text in settings.data_keys)


def say_at_start(settings: ServerSettings) -> None:
    """Once, when the CLI starts serving without keys: hole cards are stored in the clear
    (`/healthz` says it too; the app logs which key encrypts otherwise). Its own logger: the
    server's (`rejoin_server`) says nothing else at a plain start."""
    if not settings.data_keys:
        logging.getLogger("rejoin_server.privatedata").warning(
            "private game data (hole cards) is stored in the clear: no REJOIN_DATA_KEYS or "
            "--data-key-file given, so whoever reads the database sees every hole card"
        )


def refusal(settings: ServerSettings) -> str | None:
    """Why a server with `settings` must not start on its database (a key missing), or None.
    Reads the `data_keys` table on a connection of its own: for the CLI, before it serves."""
    from rejoin_server.store import datakeys
    from rejoin_server.store.connection import Database
    from rejoin_server.store.urls import parse_url

    db = Database(parse_url(settings.database_url), settings.keep_snapshots)
    conn = db.connect()
    try:
        rows = datakeys.read_rows(db, conn)
    finally:
        db.disconnect(conn)
    return datakeys.missing_key(given_ids(settings), rows)


async def open_sealer(store: GameStore, settings: ServerSettings, kinds: GameKinds) -> Sealer:
    """The sealer a server's store writes and reads with. Raises `DataKeyMissing` when the store
    holds data it could not read; registers the newest key, which seals from now on."""
    from rejoin_server.store.datakeys import DataKeys, missing_key
    from rejoin_server.store.sealing import Sealer, plan_of

    keys = DataKeys(settings.data_keys) if settings.data_keys else None
    problem = missing_key(() if keys is None else keys.ids, await store.data_keys())
    if problem is not None:
        raise DataKeyMissing(problem)
    plans = {kind: plan_of(kinds.private_data(kind)) for kind in kinds.kinds}
    if keys is None:
        # INFO: the CLI says it as a WARNING at start (`serve`); an embedding app logs this.
        log.info(
            "no data key given (REJOIN_DATA_KEYS, --data-key-file): private game data (hole "
            "cards) is stored in the clear, readable by anyone who can read the database"
        )
    else:
        await store.register_data_key(keys.newest.id, now_ms())
        log.info("private game data is encrypted at rest with data key %s", keys.newest.id)
    return Sealer(keys, plans)


@contextlib.asynccontextmanager
async def saying_which_key_writes(store: GameStore, sealer: Sealer) -> AsyncIterator[None]:
    """While the server runs, its newest key's `written_at` refreshed every `WRITTEN_EVERY_MS`
    (one short write: `rekey` reads it, docs/operations.md "Rotating a data key")."""
    from rejoin_server.store.datakeys import WRITTEN_EVERY_MS

    keys = sealer.keys
    if keys is None:
        yield
        return

    async def refresh() -> None:
        while True:
            await asyncio.sleep(WRITTEN_EVERY_MS / 1000)  # `store.datakeys`
            try:
                await store.register_data_key(keys.newest.id, now_ms())
            except Exception as exc:  # the store down a moment: said again next time
                log.warning("cannot note data key %s as in use: %s", keys.newest.id, exc)

    task = asyncio.create_task(refresh(), name="data key in use")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
