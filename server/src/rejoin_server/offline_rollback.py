"""`rejoin-server rollback`: roll a game back with the server stopped, or list its versions
(docs/operations.md, "Rolling a game back").

It does what `POST /api/game/{id}/rollback` does, on the database alone: the game is restored
from the store (`restore_game`), the snapshot at the version opened and handed the
`snapshot_restored` event at the next seq (`store.rollback.build_rollback`), and the event and a
snapshot of the result appended in one transaction, fenced on the seq the game was restored at.
So a server that runs the game cannot be overtaken silently:

- SQLite: the file is locked by the server that serves it (`store.single_node`); held, it is
  refused here, pointing at the HTTP route.
- PostgreSQL: the game is claimed for the time of the rollback, as a node would (`claim_game`):
  a live node that hosts it keeps it, and the rollback is refused naming that node. Released
  after, so the next node that touches the game loads it, rolled back.
- Between the restore and the append another writer moved the game on: the append's seq (and
  ownership epoch) fence refuses it, and nothing is written.

It never prunes snapshots (the server keeps its `--keep-snapshots` at its next snapshot).
"""

from __future__ import annotations

import asyncio
import socket
from typing import TYPE_CHECKING, TextIO

from rejoin_server.invocation import (
    EXIT_DATABASE,
    EXIT_USAGE,
    PROG,
    Invocation,
    RollbackRequest,
    mask_url,
)
from rejoin_server.serve import StartupError, database_error, one_line

if TYPE_CHECKING:
    from rejoin_server.games.kinds import GameKinds
    from rejoin_server.store.base import GameStore

# Snapshots kept by this command's appends: none pruned (see the module's docstring).
KEEP_ALL = 1_000_000
LEASE_MS = 3000  # as a node's (`host.ownership.LEASE_MS`)


def run_rollback(invocation: Invocation, out: TextIO) -> int:
    """Exit status 0 once rolled back (or listed); `StartupError` (2, or 4 for a database that
    cannot be opened) with one line saying why not."""
    request = invocation.rollback
    assert request is not None
    url = invocation.settings.database_url
    _check_database(url)
    from rejoin_server.store.single_node import DatabaseInUse, hold_sqlite_file

    try:
        hold = hold_sqlite_file(url)
    except DatabaseInUse:
        raise StartupError(
            f"a rejoin-server is serving this SQLite database: roll the game back through it, "
            f"POST /api/game/{request.game_id}/rollback (admin), or stop it first"
        ) from None
    try:
        return asyncio.run(_run(invocation, request, out))
    finally:
        if hold is not None:
            hold.release()


def _check_database(url: str) -> None:
    """The database opens and holds the server's tables at their current revision; never
    migrated (nor created) here: a URL that is not the server's must not become a database."""
    from rejoin_server.store import migrate as migrations

    try:
        current = migrations.is_current(url)
    except Exception as exc:
        if not database_error(exc):
            raise
        raise StartupError(
            f"cannot open the database {mask_url(url)}: {one_line(exc)}", EXIT_DATABASE
        ) from None
    if not current:
        raise StartupError(
            f"the database {mask_url(url)} is not a rejoin database at schema revision "
            f"{migrations.HEAD_REVISION}: give the server's --database-url (an older one: run "
            f"`{PROG} migrate` first)"
        )


async def _run(invocation: Invocation, request: RollbackRequest, out: TextIO) -> int:
    from rejoin_server.errors import CodedError
    from rejoin_server.games.kinds import GameKinds, load_engine
    from rejoin_server.games.poker import PokerEngine
    from rejoin_server.privatedata import DataKeyMissing, open_sealer
    from rejoin_server.store.sql import SqlGameStore

    settings = invocation.settings
    try:
        # As the server's (`app._kinds`): poker unless a --game replaces it, then --game's.
        given = [load_engine(spec) for spec in settings.games]
        poker = [] if any(e.kind == PokerEngine.kind for e in given) else [PokerEngine()]
        kinds = GameKinds([*poker, *given])
    except ValueError as exc:  # a --game that does not load
        raise StartupError(str(exc)) from exc
    store = SqlGameStore(settings.database_url, keep_snapshots=KEEP_ALL)
    await store.open()
    try:
        # As the server's: refused when the database holds a key not given; else sealing
        # with the newest key given (a keyed database read without keys would list nothing
        # verified and restore nothing).
        store.sealer = await open_sealer(store, settings, kinds)
        if request.list_only:
            await _list(store, kinds, request.game_id, out)
            return 0
        await _roll_back(store, kinds, request, out)
        return 0
    except CodedError as exc:
        raise StartupError(exc.message) from None
    except DataKeyMissing as exc:
        raise StartupError(str(exc)) from None
    finally:
        await store.close()


async def _list(store: GameStore, kinds: GameKinds, game_id: str, out: TextIO) -> None:
    from rejoin_server.store.rollback import kept_versions
    from rejoin_server.timefmt import iso_ms

    versions = await kept_versions(store, kinds, game_id)
    if not versions:
        print(f"game {game_id} keeps no snapshot: no version to roll back to", file=out)
        return
    print("version  taken at                  event              hand  phase      status", file=out)
    for v in versions:
        stacks = v["stacks"]
        chips = "  " + ", ".join(f"{s['name']}={s['stack']}" for s in stacks) if stacks else ""
        mark = "" if v["verified"] else f"  NOT VERIFIED: {v['problem']}"
        boundary = " (between hands)" if v["handBoundary"] else ""
        print(
            f"{v['version']:>7}  {iso_ms(v['at'])}  {v['event'] or '-':<17}  "
            f"{v['handNumber'] if v['handNumber'] is not None else '-':>4}  "
            f"{v['phase'] or '-':<9}  {v['status'] or '-'}{boundary}{chips}{mark}",
            file=out,
        )


async def _roll_back(
    store: GameStore, kinds: GameKinds, request: RollbackRequest, out: TextIO
) -> None:
    from rejoin_server.errors import GameNotFound, OwnedElsewhere, SeqConflict, StateCorrupted
    from rejoin_server.host.rollback import prepare
    from rejoin_server.store.restore import restore_game
    from rejoin_server.store.rollback import engine_of
    from rejoin_server.timefmt import now_ms

    assert request.version is not None
    assert request.reason is not None
    game_id = request.game_id
    record = await store.get_game(game_id)
    if record is None:
        raise GameNotFound(game_id)
    engine_of(kinds, record.kind, game_id)  # KindNotServed: one line, naming the kind, first
    node = f"rollback@{socket.gethostname()}"[:64]
    try:
        claim = await store.claim_game(game_id, node, lease_ms=LEASE_MS)
    except OwnedElsewhere as exc:
        raise StartupError(
            f"game {game_id} is hosted by the live node {exc.owner!r}: roll it back there, "
            f"POST /api/game/{game_id}/rollback (admin)"
        ) from None
    try:
        log = await store.load(game_id)
        try:
            restored = await restore_game(store, kinds, game_id)
            seq, status = restored.state.seq + 1, restored.state.status
        except StateCorrupted:
            # An event its game cannot apply: what a rollback is for. On the row alone, fenced
            # on its last seq; the game then loads from the rollback's snapshot.
            seq, status = log.game.last_seq + 1, log.game.status
        if status == "completed" and not request.reopen:
            raise StartupError(
                f"game {game_id} is completed: add --reopen to roll it back and play it again"
            )
        now = now_ms()
        rolled, seating = prepare(
            kinds,
            log.game.kind,
            game_id,
            log.game.settings,
            log.snapshots,
            version=request.version,
            seq=seq,
            now_ms=now,
            reason=request.reason,
            listed_by=f"`{PROG} rollback {game_id} --list`",
        )
        try:
            await store.append(
                game_id,
                [rolled.event],
                status=rolled.state.status,
                now_ms=now,
                snapshot=rolled.snapshot,
                owner_epoch=claim.owner_epoch,
                seating=seating,
            )
        except SeqConflict:
            raise StartupError(
                f"the game moved on: a server is running it; use POST /api/game/{game_id}/"
                "rollback (admin)",
                EXIT_USAGE,
            ) from None
    finally:
        await store.release_game(game_id, node, None)
    print(
        f"{PROG}: game {game_id} rolled back to version {request.version}: "
        f"snapshot_restored at seq {rolled.event.seq} ({request.reason})",
        file=out,
        flush=True,
    )
