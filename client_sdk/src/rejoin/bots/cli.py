"""The load tool's command line: options, a `rich` progress bar of rounds played (poker hands, or
Liar's Dice rounds with `--kind liars-dice`) on a terminal, a plain progress line every few seconds
elsewhere (`progress.PlainProgress`), and a closing summary. Exit status: 0 when every bot
finished without an error, 1 when any bot had one, 2 when the load could not even start (server
unreachable, a table refused, or `rich` missing: see `__main__`).

`rich` is the `bots` extra's (`pip install 'rejoin-client[bots]'`): the SDK itself does not need it."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from rejoin.bots.games import DEFAULT_STRATEGY, KINDS, LIARS_DICE, POKER, bot_game
from rejoin.bots.load import LoadReport, LoadSettings, run_load
from rejoin.bots.progress import DEFAULT_EVERY_S, PlainProgress
from rejoin.errors import RejoinError
from rejoin.transport import TRANSPORTS
from rejoin.urls import server_base

__all__ = ["main", "parse_args"]

EXIT_OK, EXIT_BOT_ERRORS, EXIT_CANNOT_START = 0, 1, 2
# Seats at a table of each kind (the games' own bounds).
MAX_PLAYERS = {POKER: 9, LIARS_DICE: 6}
DEFAULT_DICE, MAX_DICE = 5, 10


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, not {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text}")
    return value


def _server_url(text: str) -> str:
    try:
        return server_base(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m rejoin.bots",
        description="Create game tables (poker, or --kind liars-dice) on a rejoin server and play "
        "them with bots, one reconnecting GameClient per seat; print hands (rounds), actions, "
        "reconnects and, when any, how long a reconnect took from losing the link to the welcome "
        "back (p50, p99).",
    )
    parser.add_argument(
        "--server",
        required=True,
        type=_server_url,
        help="server URL, e.g. http://127.0.0.1:8000, or http://127.0.0.1:8000/games where "
        "rejoin is mounted under /games",
    )
    parser.add_argument(
        "--kind",
        choices=list(KINDS),
        default=POKER,
        help="the game: poker, or liars-dice (a server run with "
        "--game liars_dice:LiarsDiceEngine) (default poker)",
    )
    parser.add_argument("--tables", type=_positive, default=1, help="tables to create (default 1)")
    parser.add_argument(
        "--players",
        type=_positive,
        default=2,
        help="bots per table, 2..9 for poker, 2..6 for liars-dice (default 2)",
    )
    parser.add_argument(
        "--hands",
        "--rounds",
        dest="hands",
        type=_positive,
        default=10,
        help="hands (poker) or rounds (liars-dice) each table plays, fewer if its game ends "
        "first (default 10)",
    )
    parser.add_argument(
        "--strategy",
        choices=sorted({name for names in KINDS.values() for name in names}),
        help="poker: random (weighted random legal actions) or call (check or call); liars-dice: "
        "odds (challenge a bid more likely false than true, else the likeliest smallest raise) "
        f"(default {', '.join(f'{s} for {k}' for k, s in DEFAULT_STRATEGY.items())})",
    )
    parser.add_argument(
        "--dice",
        type=_positive,
        help=f"liars-dice: dice each player starts with, 1..10 (default {DEFAULT_DICE})",
    )
    parser.add_argument("--seed", type=int, help="seed of the bots' choices (default: random)")
    parser.add_argument(
        "--transport",
        choices=TRANSPORTS,
        default="auto",
        help="how each bot connects: websocket; sse (events over Server-Sent Events, each "
        "action an HTTP request: for networks that refuse WebSocket upgrades); or auto, the "
        "WebSocket where it gets through, else SSE (default auto)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=600.0,
        help="give up (exit 1) when the run takes longer than this many seconds (default 600)",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="no progress bar or progress lines, only the summary"
    )
    parser.add_argument(
        "--progress-every",
        type=_seconds,
        default=DEFAULT_EVERY_S,
        metavar="SECONDS",
        help="when stdout is not a terminal (a file, a pipe, a CI log), where no progress bar "
        f"is drawn, print a progress line this often (default {DEFAULT_EVERY_S:g})",
    )
    args = parser.parse_args(argv)
    most = MAX_PLAYERS[args.kind]
    if not 2 <= args.players <= most:
        parser.error(
            f"--players must be 2..{most} (seats at a {args.kind} table), not {args.players}"
        )
    try:
        bot_game(args.kind, args.strategy)
    except ValueError as error:
        parser.error(f"--strategy: {error}")
    if args.dice is not None and args.kind != LIARS_DICE:
        parser.error("--dice is for --kind liars-dice")
    if args.dice is not None and args.dice > MAX_DICE:
        parser.error(f"--dice must be 1..{MAX_DICE}, not {args.dice}")
    return args


async def _run(args: argparse.Namespace, console: Console) -> int:
    settings = LoadSettings(
        server=args.server,
        tables=args.tables,
        players=args.players,
        hands=args.hands,
        strategy=args.strategy,
        seed=args.seed,
        kind=args.kind,
        dice=args.dice or DEFAULT_DICE,
        transport=args.transport,
    )
    # rich draws its bar only on a terminal; anywhere else a plain line says how far it got.
    plain = None
    if not args.quiet and not console.is_terminal:
        plain = PlainProgress(lambda line: print(line, flush=True), every=args.progress_every)
    with Progress(
        TextColumn(bot_game(args.kind, args.strategy).rounds),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=args.quiet or plain is not None,
        transient=True,
    ) as progress:
        task = progress.add_task("rounds", total=settings.tables * settings.hands)

        def show(report: LoadReport) -> None:
            progress.update(task, completed=report.hands)
            if plain is not None:
                plain.update(report)

        ticker = asyncio.create_task(plain.run()) if plain is not None else None
        try:
            report = await asyncio.wait_for(run_load(settings, show), args.timeout)
        except TimeoutError:
            console.print(f"[red]error:[/] the run took longer than --timeout {args.timeout:g} s")
            return EXIT_BOT_ERRORS
        except httpx.TransportError as error:
            console.print(
                f"[red]error:[/] cannot reach the server at {args.server} "
                f"({type(error).__name__}: {error}); is rejoin-server running there?"
            )
            return EXIT_CANNOT_START
        except RejoinError as error:  # a table or a seat refused before play began
            console.print(f"[red]error:[/] the server refused to set up the tables: {error}")
            return EXIT_CANNOT_START
        finally:
            if ticker is not None:
                ticker.cancel()
    for line in report.errors[:20]:
        console.print(f"[red]error:[/] {line}", highlight=False, soft_wrap=True)
    # One line, never wrapped at the terminal's width: scripts grep for it.
    console.print(report.summary(), highlight=False, soft_wrap=True)
    return EXIT_BOT_ERRORS if report.errors else EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    return asyncio.run(_run(args, Console()))
