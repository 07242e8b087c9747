"""Each game's clock: one timer per loaded game, armed at its next deadline (a player's time to
act, the next hand), that fires what is due as a `Tick` through the command path's commit.

A game is ticked only while someone is at its table: when all that is due is a new round and
nobody is there, the clock *parks* (no timer runs) until a player connects or acts (`attend`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from rejoin_server.games.base import Event, Tick
from rejoin_server.host.live import LiveGame
from rejoin_server.host.loaded_games import LoadedGames
from rejoin_server.host.tasks import Tasks
from rejoin_server.store.codec import canonical_json, check_storable

log = logging.getLogger(__name__)

# Store and publish a tick's events, then re-arm (the command path's `commit`, without actionId).
Commit = Callable[[LiveGame, list[Event], int], Awaitable[bool]]


# How soon a clock that was due while this node could not serve looks again.
NOT_SERVING_RETRY_S = 0.25


class Clocks:
    """The only code that sets a game's `timer` and `parked`."""

    def __init__(
        self,
        games: LoadedGames,
        tasks: Tasks,
        *,
        clock: Callable[[], int],
        unattended_after_ms: int,
        commit: Commit,
        may_fire: Callable[[], bool] = lambda: True,
        forget: Callable[[str], None] = lambda game_id: None,
    ) -> None:
        self._games = games
        self._tasks = tasks
        self._clock = clock
        self._unattended_after_ms = unattended_after_ms
        self._commit = commit
        # Whether this node may change its games now (a cluster node whose lease is not known to
        # be fresh may not): a clock due meanwhile waits instead of firing.
        self._may_fire = may_fire
        self._halted = False
        self._forget = forget  # drop a game from memory: it reloads from the store on next touch

    def arm(self, live: LiveGame) -> None:
        """(Re)start the game's timer at its next deadline, if it has one."""
        live.parked = False
        self.cancel(live)
        action_or_round_due_at = live.state.next_deadline()
        if action_or_round_due_at is None or self._halted:
            return
        delay_s = max(0, action_or_round_due_at - self._clock()) / 1000
        live.timer = asyncio.get_running_loop().call_later(delay_s, self._on_timer, live)

    def cancel(self, live: LiveGame) -> None:
        if live.timer is not None:
            live.timer.cancel()
            live.timer = None

    def halt(self) -> None:
        """Shutdown has begun: no timer is armed from now on (running ones are `cancel`led)."""
        self._halted = True

    def attend(self, live: LiveGame) -> None:
        """A player is at the table again: a game whose next round waited for one goes on."""
        if live.parked and self._games.is_current(live):
            self.arm(live)

    def _on_timer(self, live: LiveGame) -> None:
        live.timer = None
        if not self._may_fire():
            # A pause or a lost connection: once the node has its games again (or has dropped
            # them), the clock fires late rather than on a copy another node may own.
            live.timer = asyncio.get_running_loop().call_later(
                NOT_SERVING_RETRY_S, self._on_timer, live
            )
            return
        self._tasks.spawn(self._fire(live))

    async def _fire(self, live: LiveGame) -> None:
        """Fire one thing that is due (a game fires one thing per `Tick`). If more is due, the
        commit re-arms the clock at once: each tick is its own loop turn, so a game whose clocks
        are all zero cannot starve the other games."""
        if not self._games.is_current(live):
            return
        try:
            async with live.lock:
                if not self._games.is_current(live):
                    return
                rearm = await self._fire_due(live)
        except Exception as exc:  # a clock must never die silently
            # The game's own code failed half-way, perhaps with its state half changed: what
            # players saw is in the store, so the game is dropped and reloads from there. A game
            # kept in memory only is back as it was before the tick (`_fire_due`); its clock
            # stays stopped (firing again would fail again) until the next command re-arms it.
            log.error("game %s: its clock failed: %s", live.game_id, exc, exc_info=True)
            if not live.in_memory_only:
                self._forget(live.game_id)
            return
        if rearm:
            self.arm(live)

    async def _fire_due(self, live: LiveGame) -> bool:
        """`_fire` under the game's lock; True when the clock is to be armed again here."""
        due_at = live.state.next_deadline()
        now = self._clock()
        if due_at is None or due_at > now:
            return True
        attended = live.attended(now, self._unattended_after_ms)
        # A game kept in memory only has no store to reload from should the tick fail.
        before = canonical_json(live.state.dump()) if live.in_memory_only else None
        try:
            events = live.state.handle(Tick(attended), now)
            check_storable(event.data for event in events)
            if events:
                await self._commit(live, events, now)  # re-arms the clock
                return False
        except Exception:
            if live.in_memory_only and not self._games.rewind_failed(live, before):
                self._forget(live.game_id)
            raise
        if not attended:
            # Only a new round was due, and nobody is there to play it: wait for a player
            # (`attend`) instead of dealing to an empty table for ever.
            live.parked = True
            log.info("game %s: nobody at the table; the next round waits", live.game_id)
            return False
        # Due but nothing to fire: re-arming now would spin; the next command will.
        log.error("game %s: a deadline is due but a tick fired nothing", live.game_id)
        return False
