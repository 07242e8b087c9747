"""The load tool's command line: options, a `rich` progress bar of hands dealt, and a closing
summary. Exit status: 0 when every bot finished without an error, 1 when any bot had one,
2 when the load could not even start (server unreachable, a table refused)."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from rejoin.bots.load import LoadReport, LoadSettings, run_load
from rejoin.bots.strategy import STRATEGIES
from rejoin.errors import RejoinError
from rejoin.urls import server_base

__all__ = ["main", "parse_args"]

EXIT_OK, EXIT_BOT_ERRORS, EXIT_CANNOT_START = 0, 1, 2


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _server_url(text: str) -> str:
    try:
        return server_base(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m rejoin.bots",
        description="Create poker tables on a rejoin server and play them with bots, one "
        "reconnecting GameClient per seat; print hands, actions, reconnects and resume times.",
    )
    parser.add_argument(
        "--server",
        required=True,
        type=_server_url,
        help="server URL, e.g. http://127.0.0.1:8000, or http://127.0.0.1:8000/games where "
        "rejoin is mounted under /games",
    )
    parser.add_argument("--tables", type=_positive, default=1, help="tables to create (default 1)")
    parser.add_argument(
        "--players", type=_positive, default=2, help="bots per table, 2..9 (default 2)"
    )
    parser.add_argument(
        "--hands", type=_positive, default=10, help="hands each table plays (default 10)"
    )
    parser.add_argument(
        "--strategy",
        choices=sorted(STRATEGIES),
        default="random",
        help="random: weighted random legal actions; call: check or call (default random)",
    )
    parser.add_argument("--seed", type=int, help="seed of the bots' choices (default: random)")
    parser.add_argument(
        "--timeout",
        type=float,
        default=600.0,
        help="give up (exit 1) when the run takes longer than this many seconds (default 600)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar, only the summary")
    args = parser.parse_args(argv)
    if not 2 <= args.players <= 9:
        parser.error(f"--players must be 2..9 (seats at a table), not {args.players}")
    return args


async def _run(args: argparse.Namespace, console: Console) -> int:
    settings = LoadSettings(
        server=args.server,
        tables=args.tables,
        players=args.players,
        hands=args.hands,
        strategy=args.strategy,
        seed=args.seed,
    )
    with Progress(
        TextColumn("hands"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=args.quiet,
        transient=True,
    ) as progress:
        task = progress.add_task("hands", total=settings.tables * settings.hands)

        def show(report: LoadReport) -> None:
            progress.update(task, completed=report.hands)

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
    for line in report.errors[:20]:
        console.print(f"[red]error:[/] {line}", highlight=False, soft_wrap=True)
    # One line, never wrapped at the terminal's width: scripts grep for it.
    console.print(report.summary(), highlight=False, soft_wrap=True)
    return EXIT_BOT_ERRORS if report.errors else EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    return asyncio.run(_run(args, Console()))
