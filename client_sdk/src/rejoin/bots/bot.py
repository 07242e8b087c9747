"""One bot: one `GameClient` in one seat, playing until its table has played `hands` rounds
(poker hands, Liar's Dice rounds) or the game is over.

What it plays is a `BotGame` (`bots.games`): how to pick a move from the view, and how to tell
that a round ended. `strategy=` alone is poker's shorthand for `game=poker_bots(strategy)`.

How a bot knows it is its turn: the SDK does not fold events into a state (the rules live on
the server), so after anything that may have moved the turn (a batch of events, or a resume,
which may have been a resync that delivers no events) the bot fetches its view over HTTP and
acts if `toAct` is its seat and it has legal actions. It awaits each action's ack before
fetching again, so a view it acts on is never one from before its own previous action: it cannot
act twice on one turn.

The view comes over one keep-alive `httpx.AsyncClient` per bot (`fetch_state(http=…)`): a bot
fetches after every batch of events, and building a new HTTP client per call cost more CPU than
the game itself. A connection to a
killed server fails once and the retry dials afresh.

Everything the bot saw and did is kept (`events`, `sent`, `acks`, `resumes`, `errors`) for the
load tool's summary and for tests that compare it with the server's log.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any, cast

import httpx

from rejoin.bots.games import BotGame, poker_bots
from rejoin.bots.strategy import Choice, Strategy
from rejoin.client import GameClient
from rejoin.errors import (
    ActionAbandonedError,
    ActionRejectedError,
    HttpApiError,
    SessionFailedError,
)
from rejoin.http_api import HTTP_TIMEOUT_S
from rejoin.results import ActionResult, ResumeFigures
from rejoin_protocol.session import SessionState
from rejoin_protocol.session_outputs import StatusChanged

__all__ = ["Bot"]

# How long a bot keeps retrying `GET …/state` while the server is down or restarting. A
# restarted server is back in well under a second; this bound only turns a dead one into an error.
FETCH_RETRY_FOR_S = 30.0
FETCH_RETRY_EVERY_S = 0.05
UNAUTHORIZED = 401


class Bot:
    def __init__(
        self,
        client: GameClient,
        *,
        hands: int,
        rng: random.Random,
        strategy: Strategy | None = None,
        game: BotGame | None = None,
        on_hand: Callable[[], None] | None = None,
    ) -> None:
        """`hands`: rounds to play (fewer if the game ends first); `game` what to play, or, for
        poker, `strategy` alone. `on_hand` is called each time another round has ended."""
        if (game is None) == (strategy is None):
            raise ValueError("give a Bot one of `game` or (for poker) `strategy`, not both or none")
        self.client = client
        self.hands = hands
        self.game = game or poker_bots(cast(Strategy, strategy))
        self.rng = rng
        self.on_hand = on_hand
        self.events: list[dict[str, Any]] = []
        self.sent: list[Choice] = []
        self.acks: list[ActionResult] = []
        self.resumes: list[ResumeFigures] = []
        self.errors: list[str] = []
        self.hands_done = 0  # rounds ended
        self.completed = False  # the game ended (one player holds every chip, or every die)
        self.view: dict[str, Any] | None = None  # the last view fetched
        self._wake = asyncio.Event()
        self._consumer: asyncio.Task[None] | None = None
        self._stream_over = False
        self._http = httpx.AsyncClient(timeout=HTTP_TIMEOUT_S)

    @property
    def reconnects(self) -> int:
        """Welcomes after the first one: each is a resume after a drop."""
        return max(0, len(self.resumes) - 1)

    def done(self) -> bool:
        return self.hands_done >= self.hands or self.completed or self._stream_over

    async def connect(self) -> None:
        """Connect (resume the joined seat) and start collecting events."""
        self.client.on_status(self._status_changed)
        await self.client.connect()
        self._note_resume()
        self._consumer = asyncio.create_task(self._consume())

    async def play(self) -> None:
        """Act whenever it is this bot's turn, until the table has played `hands` rounds."""
        self._wake.set()  # the turn may be ours already (a bot that resumed its seat)
        while not self.done():
            await self._wake.wait()
            self._wake.clear()
            if self.done():
                break
            view = await self._fetch_view()
            if view is None:
                return
            self.view = view
            self._count_hands(view)
            you = view["you"]
            if self.done() or view["toAct"] != you["seat"] or not you["legalActions"]:
                continue
            await self._act(view)
            self._wake.set()  # look again: the ack may have come before its events

    async def close(self) -> None:
        """Close the client; the events that arrived until then stay in `events`."""
        await self.client.close()
        await self._http.aclose()
        if self._consumer is not None:
            await self._consumer

    # --- internals ----------------------------------------------------------------------------

    async def _act(self, view: dict[str, Any]) -> None:
        choice = self.game.choose(view, self.rng)
        self.sent.append(choice)
        try:
            result = await self.client.act(
                choice.type, choice.amount, at_seq=view["seq"], **(choice.fields or {})
            )
        except ActionRejectedError as rejected:
            self.errors.append(f"{choice} rejected: {rejected.code}: {rejected.message}")
        except (SessionFailedError, ActionAbandonedError) as failed:
            self._failed(failed)
        else:
            self.acks.append(result)

    async def _fetch_view(self) -> dict[str, Any] | None:
        """The bot's view, retried while the server is unreachable or answering 5xx, and on 401:
        a resume that won the seat anew (a restart) replaces the session token, and a fetch sent
        with the one before it is refused; the next try reads the newest."""
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + FETCH_RETRY_FOR_S
        while True:
            try:
                return await self.client.fetch_state(http=self._http)
            except httpx.TransportError as error:
                problem = f"GET state: {type(error).__name__}: {error}"
            except HttpApiError as error:
                if error.status < 500 and error.status != UNAUTHORIZED:
                    self.errors.append(f"GET state: {error}")
                    return None
                problem = f"GET state: {error}"
            if loop.time() >= give_up_at:
                self.errors.append(f"{problem} (for {FETCH_RETRY_FOR_S:.0f} s)")
                return None
            await asyncio.sleep(FETCH_RETRY_EVERY_S)

    async def _consume(self) -> None:
        try:
            async for event in self.client.events():
                self.events.append(event)
                if event["kind"] == self.game.round_event:
                    self._hand_ended(int(event["data"][self.game.round_key]))
                elif event["kind"] == "game_completed":
                    self.completed = True
                self._wake.set()
        except SessionFailedError as failed:
            self._failed(failed)
        self._stream_over = True
        self._wake.set()

    def _count_hands(self, view: dict[str, Any]) -> None:
        """A resync delivers no events: the view says how many hands have ended too."""
        if view["status"] == "completed":
            self.completed = True
        self._hand_ended(self.game.rounds_ended(view))

    def _hand_ended(self, hand_number: int) -> None:
        if hand_number > self.hands_done:
            self.hands_done = hand_number
            if self.on_hand is not None:
                self.on_hand()

    def _failed(self, failed: Exception) -> None:
        if isinstance(failed, SessionFailedError) and failed.code == "game_completed":
            self.completed = True  # the end of the game, not an error
        else:
            self.errors.append(str(failed))
        self._stream_over = True
        self._wake.set()

    def _status_changed(self, change: StatusChanged) -> None:
        if change.current is SessionState.CONNECTED:
            # The client records the resume figures in the same batch of outputs; read them
            # once that batch is handled.
            asyncio.get_running_loop().call_soon(self._note_resume)
            self._wake.set()

    def _note_resume(self) -> None:
        figures = self.client.last_resume
        if figures is not None and (not self.resumes or self.resumes[-1] is not figures):
            self.resumes.append(figures)
