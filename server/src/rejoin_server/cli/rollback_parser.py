"""The parser of `rejoin-server rollback`: roll a game back with the server stopped, or list the
versions it can go back to (docs/operations.md, "Rolling a game back")."""

from __future__ import annotations

import argparse
import re

from rejoin_server.cli import values
from rejoin_server.cli.datakeys import add_data_key_option
from rejoin_server.invocation import PROG

_GAME_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

USAGE = (
    f"{PROG} rollback GAME VERSION --reason TEXT [--reopen] [--database-url URL] "
    "[--game MODULE:ATTR] [--data-key-file PATH]\n"
    f"       {PROG} rollback GAME --list [--database-url URL] [--game MODULE:ATTR] "
    "[--data-key-file PATH]"
)


def game_id(text: str) -> str:
    if not _GAME_ID.fullmatch(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a game id: 1 to 64 of A-Z a-z 0-9 _ -")
    return text


def reason(text: str) -> str:
    from rejoin_server.store.rollback import reason_problem  # as POST …/rollback's rule

    problem = reason_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(f"the reason {problem}")
    return text


def build_rollback_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{PROG} rollback",
        usage=USAGE,
        description="Roll a game back to one of its kept snapshots, with the server stopped: the "
        "game is restored from the database, and a snapshot_restored event and a snapshot are "
        "appended (the log stays append-only). A game a running server holds is refused: use "
        "POST /api/game/{id}/rollback there. --list prints the versions kept.",
    )
    add = parser.add_argument
    add("game_id", metavar="GAME", type=game_id, help="the game's id")
    add(
        "version",
        metavar="VERSION",
        nargs="?",
        type=values.integer(0),
        help="the kept snapshot to go back to (see --list)",
    )
    add("--reason", metavar="TEXT", type=reason, help="why, stored in the event (required)")
    add(
        "--reopen",
        action="store_true",
        default=None,
        help="roll a completed game back too, and play it again (default: refused)",
    )
    add("--list", action="store_true", default=None, help="print the versions kept, and exit")
    add(
        "--database-url",
        metavar="URL",
        type=values.database_url,
        help="the database, as the server's --database-url (env REJOIN_DATABASE_URL)",
    )
    add(
        "--game",
        metavar="MODULE:ATTR",
        action="append",
        type=values.game_spec,
        help="a kind of game besides poker, as the server's --game (env REJOIN_GAMES)",
    )
    add_data_key_option(parser)  # as the server's: a keyed database's games are sealed
    return parser


def check(parser: argparse.ArgumentParser, ns: argparse.Namespace) -> None:
    """The arguments that go together: a version and a reason, or --list alone."""
    if ns.list:
        if ns.version is not None or ns.reason is not None or ns.reopen:
            parser.error("--list takes only GAME (and --database-url, --game, --data-key-file)")
        return
    if ns.version is None:
        parser.error("give the VERSION to roll back to (--list prints the versions kept)")
    if ns.reason is None:
        parser.error("--reason TEXT is required: say why the game is rolled back")
