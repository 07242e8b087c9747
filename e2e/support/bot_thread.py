"""SDK bots (`rejoin.bots.Bot`, real `GameClient`s over real WebSockets) at a table, on an event
loop of their own in a background thread.

The browser tests use Playwright's sync API, which leaves its asyncio loop marked as running in
the main thread; the bots therefore get a thread (and `asyncio.run`) of their own.
"""

from __future__ import annotations

import asyncio
import random
import threading
from dataclasses import dataclass, field

from rejoin.bots.bot import Bot
from rejoin.bots.strategy import call_strategy
from rejoin.client import GameClient

JOIN_TIMEOUT_S = 30.0


@dataclass
class BotsInThread:
    """`names` join `game_id` on `base_url` in order and play passively (check or call) until
    the table has dealt `hands` hands."""

    base_url: str
    game_id: str
    names: list[str]
    hands: int
    bots: list[Bot] = field(default_factory=list)
    error: BaseException | None = None
    _joined: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        """Join and connect every bot; returns once they all are seated and welcomed."""
        self._thread = threading.Thread(target=self._run, name="e2e-bots", daemon=True)
        self._thread.start()
        if not self._joined.wait(JOIN_TIMEOUT_S):
            raise AssertionError(f"the bots did not join within {JOIN_TIMEOUT_S} s")
        if self.error is not None:
            raise AssertionError(f"the bots failed to join: {self.error!r}") from self.error

    def wait(self, timeout_s: float) -> None:
        """Until every bot has played its hands (or stopped); raises if they failed."""
        assert self._thread is not None, "start() first"
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            raise AssertionError(f"the bots were still playing after {timeout_s} s")
        if self.error is not None:
            raise AssertionError(f"the bots failed: {self.error!r}") from self.error

    @property
    def seats(self) -> list[int]:
        return [bot.client.seat for bot in self.bots if bot.client.seat is not None]

    def _run(self) -> None:
        try:
            asyncio.run(self._play())
        except BaseException as error:  # reported to the test thread
            self.error = error
        finally:
            self._joined.set()

    async def _play(self) -> None:
        for number, name in enumerate(self.names):
            client = GameClient(self.base_url, self.game_id)
            await client.join(name)
            bot = Bot(client, hands=self.hands, strategy=call_strategy, rng=random.Random(number))
            await bot.connect()
            self.bots.append(bot)
        self._joined.set()
        try:
            await asyncio.gather(*(bot.play() for bot in self.bots))
        finally:
            for bot in self.bots:
                await bot.close()
