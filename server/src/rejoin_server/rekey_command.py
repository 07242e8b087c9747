"""`rejoin-server rekey` as a command: the database checked as `serve` checks it, the engines of
`--game` loaded for what their games declare private, then `store.rekey` on one connection,
printing its progress and a summary (docs/operations.md, "Private data at rest")."""

from __future__ import annotations

from typing import TextIO

from rejoin_server.invocation import PROG, Invocation, mask_url
from rejoin_server.timefmt import now_ms

# Exit statuses (besides 2, a usage error or keys that miss one the database holds, and 4, a
# database that cannot be opened): rows that do not open were found (tampered with), or rows
# sealed with a key that was not given; no key was retired. A crash is Python's 1.
EXIT_BROKEN_ROWS = 5
EXIT_MISSING_KEY = 6
EXIT_KEY_IN_USE = 7


def run_rekey(invocation: Invocation, out: TextIO, err: TextIO) -> int:
    from rejoin_server.games.kinds import GameKinds, load_engine
    from rejoin_server.games.poker import PokerEngine
    from rejoin_server.serve import StartupError, prepare_database
    from rejoin_server.store.connection import Database
    from rejoin_server.store.datakeys import IN_USE_WITHIN_MS, DataKeys
    from rejoin_server.store.rekey import KeysRefused, rekey
    from rejoin_server.store.sealing import plan_of
    from rejoin_server.store.urls import parse_url

    settings = invocation.settings
    prepare_database(settings.database_url, migrate=False)
    try:
        given = [load_engine(spec) for spec in settings.games]
    except ValueError as exc:
        raise StartupError(str(exc)) from None
    poker = [] if any(e.kind == PokerEngine.kind for e in given) else [PokerEngine()]
    kinds = GameKinds([*poker, *given])
    plans = {kind: plan_of(kinds.private_data(kind)) for kind in kinds.kinds}
    keys = DataKeys(settings.data_keys)

    def say(line: str) -> None:
        print(line, file=out, flush=True)

    say(
        f"rekey {mask_url(settings.database_url)}: every row under data key {keys.newest.id} "
        f"(batches of {invocation.batch_size})"
    )
    db = Database(parse_url(settings.database_url), settings.keep_snapshots)
    conn = db.connect()
    try:
        report = rekey(
            db,
            conn,
            keys,
            plans,
            batch_size=invocation.batch_size,
            now_ms=now_ms(),
            say=say,
            resplit=invocation.resplit,
        )
    except KeysRefused as exc:
        raise StartupError(f"rekey: {exc}; nothing was changed") from None
    finally:
        db.disconnect(conn)
    events, snapshots = report.events, report.snapshots
    say(
        f"done: {events.rewritten:,} of {events.read:,} events and {snapshots.rewritten:,} of "
        f"{snapshots.read:,} snapshots rewritten under data key {keys.newest.id}"
    )
    missing = [*events.missing, *snapshots.missing]
    for line in missing:
        print(f"{PROG} rekey: cannot open {line}", file=err, flush=True)
    broken = [*events.broken, *snapshots.broken]
    for line in broken:
        print(f"{PROG} rekey: cannot open {line}", file=err, flush=True)
    if broken:
        print(
            f"{PROG} rekey: {len(broken)} rows do not open (tampered with?): no key was retired; "
            "roll their games back or delete them, then run rekey again",
            file=err,
            flush=True,
        )
    if missing:
        print(
            f"{PROG} rekey: {len(missing)} rows are sealed with a data key that was not given: "
            "no key was retired; run rekey again with that key among the keys (after the newest)",
            file=err,
            flush=True,
        )
    if broken:
        return EXIT_BROKEN_ROWS
    if missing:
        return EXIT_MISSING_KEY
    if report.in_use:
        ids = ", ".join(report.in_use)
        print(
            f"{PROG} rekey: data key {ids} is still sealed with by a running server (it said so "
            f"within the last {IN_USE_WITHIN_MS // 1000} s): not retired; give every server the "
            "new key first, then run rekey again",
            file=err,
            flush=True,
        )
        say(f"retired data keys: {', '.join(report.retired) or 'none'}")
        return EXIT_KEY_IN_USE
    retired = ", ".join(report.retired) or "none"
    say(f"retired data keys: {retired} (servers may now be started without them)")
    return 0
