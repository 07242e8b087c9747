"""The load tool's engine: create N tables of a kind (poker by default, or liars-dice), seat M bots
at each, have the first bot of each table start the first round, run every bot until its table has
played H rounds (hands) or its game is over, and sum it up.

Tables are created so that rounds follow one another without anyone calling `start` again (a short
`nextHandDelayMs` / `nextRoundDelayMs`), and with a long `actionTimeoutMs`, so that a slow bot (or
a server restart) never turns into a move the clock makes.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rejoin.bots.bot import Bot
from rejoin.bots.games import LIARS_DICE, POKER, bot_game
from rejoin.client import GameClient
from rejoin.http_api import post_json
from rejoin.transport import Transport
from rejoin.urls import api_url, game_url

__all__ = ["LoadReport", "LoadSettings", "percentile", "run_load", "table_settings"]


@dataclass(frozen=True, slots=True)
class LoadSettings:
    server: str
    tables: int
    players: int
    hands: int
    strategy: str | None = None  # None: the kind's default (`games.DEFAULT_STRATEGY`)
    seed: int | None = None
    kind: str = POKER
    dice: int = 5  # liars-dice: dice per player
    small_blind: int = 1
    big_blind: int = 2
    starting_stack: int = 200
    action_timeout_ms: int = 120_000
    # The shortest a server allows by default (its --min-next-hand-delay).
    next_hand_delay_ms: int = 1_000
    transport: Transport = "auto"  # each bot's GameClient's (`rejoin.transport`)


@dataclass(slots=True)
class LoadReport:
    settings: LoadSettings
    game_ids: list[str] = field(default_factory=list)
    bots: list[list[Bot]] = field(default_factory=list)  # by table

    @property
    def rounds_word(self) -> str:
        return bot_game(self.settings.kind, self.settings.strategy).rounds

    @property
    def hands(self) -> int:
        """Rounds (hands) played to the end, summed over the tables (each table counts once)."""
        return sum(max((bot.hands_done for bot in table), default=0) for table in self.bots)

    @property
    def hands_wanted(self) -> int:
        return self.settings.tables * self.settings.hands

    @property
    def actions(self) -> int:
        return sum(len(bot.acks) for bot in self.all_bots)

    @property
    def reconnects(self) -> int:
        return sum(bot.reconnects for bot in self.all_bots)

    @property
    def completed_tables(self) -> int:
        return sum(any(bot.completed for bot in table) for table in self.bots)

    @property
    def errors(self) -> list[str]:
        return [f"{bot.client.player_id}: {error}" for bot in self.all_bots for error in bot.errors]

    @property
    def resume_times(self) -> list[float]:
        """For every reconnect, the seconds from the moment its client lost the link to the
        moment it was welcomed back (`ResumeFigures.outage`, on the client's monotonic clock):
        what a player waits through. First connects have no outage and are not counted; the
        welcome's own round trip (`time_to_resume`, from the last dial) would hide a long
        outage behind a few milliseconds."""
        return [
            figures.outage
            for bot in self.all_bots
            for figures in bot.resumes
            if figures.outage is not None
        ]

    @property
    def all_bots(self) -> list[Bot]:
        return [bot for table in self.bots for bot in table]

    def progress(self) -> str:
        """Where the run stands, in one line (the load tool prints it while it runs)."""
        completed = f" ({self.completed_tables} games completed)" if self.completed_tables else ""
        return (
            f"{self.rounds_word} {self.hands}/{self.hands_wanted}{completed}, "
            f"actions {self.actions}, reconnects {self.reconnects}"
        )

    def summary(self) -> str:
        """The closing line. Resume figures only when something reconnected: with none there is
        nothing to report, and a figure of first connects would read as one."""
        times = self.resume_times
        resume = (
            f", resume (lost link to welcome) p50 {percentile(times, 50) * 1000:.1f} ms "
            f"p99 {percentile(times, 99) * 1000:.1f} ms"
            if times
            else ""
        )
        return f"{self.progress()}{resume}, errors {len(self.errors)}{self._over()}"

    def _over(self) -> str:
        """What the bots' last connections ran over (with `--transport auto`, what got through):
        ", over websocket", or, mixed, each transport with its count in alphabetical order
        (", over sse 2, websocket 4"); nothing when no link said."""
        counted = Counter(
            bot.resumes[-1].transport
            for bot in self.all_bots
            if bot.resumes and bot.resumes[-1].transport is not None
        )
        if not counted:
            return ""
        if len(counted) == 1:
            return f", over {next(iter(counted))}"
        return ", over " + ", ".join(f"{name} {n}" for name, n in sorted(counted.items()))


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile: a value that was measured, never an interpolation."""
    if not values:
        raise ValueError("percentile of nothing")
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def table_settings(settings: LoadSettings) -> dict[str, Any]:
    """The body of `POST /api/games` for one table."""
    if settings.kind == LIARS_DICE:
        return {
            "kind": LIARS_DICE,
            "seats": settings.players,
            "dice": settings.dice,
            "actionTimeoutMs": settings.action_timeout_ms,
            "nextRoundDelayMs": settings.next_hand_delay_ms,
        }
    return {
        "seats": settings.players,
        "smallBlind": settings.small_blind,
        "bigBlind": settings.big_blind,
        "startingStack": settings.starting_stack,
        "actionTimeoutMs": settings.action_timeout_ms,
        "autoNextHand": True,
        "nextHandDelayMs": settings.next_hand_delay_ms,
    }


async def run_load(
    settings: LoadSettings, on_progress: Callable[[LoadReport], None] | None = None
) -> LoadReport:
    """Run the whole load; errors of the bots are in the report. Raises (httpx or
    `HttpApiError`) only if a table cannot be created, joined or started."""
    report = LoadReport(settings)
    game_of_bots = bot_game(settings.kind, settings.strategy)
    seed = settings.seed if settings.seed is not None else random.randrange(2**32)

    def progressed() -> None:
        if on_progress is not None:
            on_progress(report)

    try:
        for table in range(settings.tables):
            game = await post_json(api_url(settings.server, "games"), table_settings(settings))
            report.game_ids.append(game["gameId"])
            seated: list[Bot] = []
            report.bots.append(seated)
            for index in range(settings.players):
                client = GameClient(settings.server, game["gameId"], transport=settings.transport)
                await client.join(f"bot-{table}-{index}")
                # A string seed is hashed the same way in every process: runs repeat by --seed.
                rng = random.Random(f"{seed}/{table}/{index}")
                seated.append(
                    Bot(
                        client, hands=settings.hands, game=game_of_bots, rng=rng, on_hand=progressed
                    )
                )
            for bot in seated:
                await bot.connect()
            first = seated[0].client
            await post_json(
                game_url(settings.server, first.game_id, "start"),
                {},
                bearer=first.session_token,
            )
        progressed()  # the tables are set up: the progress can say so before a round ends
        await asyncio.gather(*(bot.play() for bot in report.all_bots))
    finally:
        await asyncio.gather(*(bot.close() for bot in report.all_bots))
    return report
