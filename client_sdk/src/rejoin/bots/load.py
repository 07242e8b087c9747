"""The load tool's engine: create N tables, seat M bots at each, have the first bot of each
table start the first hand, run every bot until its table has dealt H hands, and sum it up.

Tables are created with `autoNextHand` and a short `nextHandDelayMs`, so hands follow one
another without anyone calling `start` again, and a long `actionTimeoutMs`, so that a slow
bot (or a server restart) never turns into a timeout fold.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rejoin.bots.bot import Bot
from rejoin.bots.strategy import STRATEGIES
from rejoin.client import GameClient
from rejoin.http_api import post_json
from rejoin.urls import api_url, game_url

__all__ = ["LoadReport", "LoadSettings", "percentile", "run_load", "table_settings"]


@dataclass(frozen=True, slots=True)
class LoadSettings:
    server: str
    tables: int
    players: int
    hands: int
    strategy: str = "call"
    seed: int | None = None
    small_blind: int = 1
    big_blind: int = 2
    starting_stack: int = 200
    action_timeout_ms: int = 120_000
    # The shortest a server allows by default (its --min-next-hand-delay).
    next_hand_delay_ms: int = 1_000


@dataclass(slots=True)
class LoadReport:
    settings: LoadSettings
    game_ids: list[str] = field(default_factory=list)
    bots: list[list[Bot]] = field(default_factory=list)  # by table

    @property
    def hands(self) -> int:
        """Hands dealt to the end, summed over the tables (each table counts once)."""
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
        """`time_to_resume` of every welcome (first connects included), in seconds."""
        return [figures.time_to_resume for bot in self.all_bots for figures in bot.resumes]

    @property
    def all_bots(self) -> list[Bot]:
        return [bot for table in self.bots for bot in table]

    def summary(self) -> str:
        times = self.resume_times
        resume = (
            f"resume p50 {percentile(times, 50) * 1000:.1f} ms p99 {percentile(times, 99) * 1000:.1f} ms"
            if times
            else "resume p50 - p99 -"
        )
        completed = f" ({self.completed_tables} games completed)" if self.completed_tables else ""
        return (
            f"hands {self.hands}/{self.hands_wanted}{completed}, actions {self.actions}, "
            f"reconnects {self.reconnects}, {resume}, errors {len(self.errors)}"
        )


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile: a value that was measured, never an interpolation."""
    if not values:
        raise ValueError("percentile of nothing")
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def table_settings(settings: LoadSettings) -> dict[str, Any]:
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
    strategy = STRATEGIES[settings.strategy]
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
                client = GameClient(settings.server, game["gameId"])
                await client.join(f"bot-{table}-{index}")
                # A string seed is hashed the same way in every process: runs repeat by --seed.
                rng = random.Random(f"{seed}/{table}/{index}")
                seated.append(
                    Bot(
                        client, hands=settings.hands, strategy=strategy, rng=rng, on_hand=progressed
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
        await asyncio.gather(*(bot.play() for bot in report.all_bots))
    finally:
        await asyncio.gather(*(bot.close() for bot in report.all_bots))
    return report
