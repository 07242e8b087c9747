"""The one path by which a game changes: a player's command, or a clock's tick.

`execute`: validate and apply the command in memory, hand the events to the writer (strict
durability waits for the commit), then publish them and arm the game's clock. Nothing is
published or acknowledged before it is stored, unless the store is down (degraded) or the game
is relaxed; then the answer says `durable: false`. A game kept in memory only (durability
`memory`) skips the writer altogether: no event, snapshot or row of it is ever written, and every
answer says `durable: false`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from rejoin_protocol.errors import ErrorCode
from rejoin_server.errors import ApiError
from rejoin_server.games.base import (
    Abandon,
    Act,
    Command,
    Event,
    GameRuleError,
    GameState,
    Join,
    Start,
)
from rejoin_server.host.live import LiveGame
from rejoin_server.host.loaded_games import LoadedGames
from rejoin_server.host.ownership import not_serving
from rejoin_server.host.seating import seating_of
from rejoin_server.host.writer import GameWriter, PendingWrite
from rejoin_server.settings import ServerSettings
from rejoin_server.store.base import Seating, SnapshotWrite
from rejoin_server.store.codec import canonical_json, check_storable
from rejoin_server.store.restore import take_snapshot

log = logging.getLogger(__name__)

# The `reason` of the `game_completed` that ends a game past `--max-events-per-game`.
EVENT_LIMIT_REASON = "event_limit"


@dataclass(frozen=True, slots=True)
class Outcome:
    seq: int
    events: list[Event]
    durable: bool
    duplicate: bool = False


class CommandPath:
    """The only code that sets a game's `last_activity_ms` after its load, and that takes
    snapshots along with commits."""

    def __init__(
        self,
        settings: ServerSettings,
        writer: GameWriter,
        games: LoadedGames,
        *,
        clock: Callable[[], int],
        arm: Callable[[LiveGame], None],
        forget: Callable[[str], None],
        may_write: Callable[[], bool],
        acted: Callable[[], None],
    ) -> None:
        self._settings = settings
        self._writer = writer
        self._games = games
        self._clock = clock
        self._arm = arm  # start the game's clock at its next deadline
        self._forget = forget  # drop a game from memory
        self._may_write = may_write  # whether this node may write its games now (cluster)
        self._acted = acted  # a player's action was applied (the operator console counts them)

    async def execute(
        self,
        live: LiveGame,
        command: Command,
        action_id: str | None,
        at_seq: int | None,
        prepare: Callable[[], Awaitable[None]] | None,
    ) -> Outcome:
        """Apply one command to a loaded game (`GameHost.execute` says how)."""
        async with live.lock:
            self._games.require_current(live)
            if action_id is not None and (seq := live.actions.get(action_id)) is not None:
                if not await self._games.still_holds(live, seq):
                    raise ApiError(
                        ErrorCode.STALE_STATE,
                        f"An operator rolled the game back past this action (actionId "
                        f"{action_id!r}, seq {seq}): it is no longer in the game. Look at the new "
                        "state and act again.",
                    )
                return Outcome(seq, [], durable=live.marks.is_durable(seq), duplicate=True)
            state = live.state
            if at_seq is not None and at_seq != state.seq:
                raise ApiError(
                    ErrorCode.STALE_STATE,
                    f"The game has moved on to seq {state.seq} (you acted at {at_seq}); "
                    "look at the new state and act again.",
                )
            now = self._clock()
            # As JSON, as a snapshot is: a game whose dump shares its lists with its state must
            # still be put back as it was, not as the command left it. A game kept in memory only
            # cannot reload from the store should its engine fail: it goes back to this too.
            keep = prepare is not None or live.in_memory_only
            before = canonical_json(state.dump()) if keep else None
            try:
                events = state.handle(command, now)
                check_storable(event.data for event in events)
            except GameRuleError as exc:
                raise _rule_error(exc) from exc
            except Exception as exc:
                raise self._engine_failed(live, command, exc, before) from exc
            if prepare is not None:
                try:
                    await prepare()
                except BaseException:
                    # Applied in memory only: nobody has seen it. Back to the state before it.
                    assert before is not None
                    self._games.rewind(live, before)
                    raise
            seq = state.seq  # this command's; the commit may add a `game_completed` past it
            durable = await self.commit(live, events, now, action_id)
            if isinstance(command, Join | Start | Act):
                live.last_activity_ms = now
            if isinstance(command, Join):
                live.note_joined(command.player_id)  # its first `hello` is no resume
            if isinstance(command, Act):
                self._acted()
            return Outcome(seq, events, durable)

    def _engine_failed(
        self, live: LiveGame, command: Command, exc: Exception, before: bytes | None
    ) -> ApiError:
        # A bug in the game's code (not a refusal): its state may be half changed, so the game
        # is dropped from memory and reloads from the store, where everything players saw is.
        # Its readers resume as after a restart; the server goes on. A game kept in memory only
        # has no store to reload from: it goes back to the state before the command.
        log.error(
            "game %s (%s): the game failed on %s: %r",
            live.game_id,
            live.kind,
            type(command).__name__,
            exc,
            exc_info=exc,
        )
        if not live.in_memory_only or not self._games.rewind_failed(live, before):
            self._forget(live.game_id)
        return ApiError(
            ErrorCode.INTERNAL,
            "The game failed on this command and it has been logged; the game goes on as it "
            "was before it.",
        )

    async def commit(
        self, live: LiveGame, events: list[Event], now: int, action_id: str | None = None
    ) -> bool:
        """Store (or queue) `events`, then publish them and re-arm the game's clock. True when
        they are stored. The caller holds the game's lock."""
        state = live.state
        durable = False if live.in_memory_only else await self._store(live, events, now, action_id)
        if action_id is not None:
            live.remember_action(action_id, state.seq)
        live.publish(events)
        if state.status == "completed" and live.completed_at_ms is None:
            live.completed_at_ms = now
        if state.status != "completed" and state.seq >= self._settings.max_events_per_game:
            # A game cannot grow its log without bound: past the budget it ends, saying why.
            log.warning(
                "game %s reached %d events (--max-events-per-game): completing it",
                state.game_id,
                state.seq,
            )
            await self.commit(live, state.handle(Abandon(EVENT_LIMIT_REASON), now), now)
            return durable
        self._arm(live)
        return durable

    async def _store(
        self, live: LiveGame, events: list[Event], now: int, action_id: str | None
    ) -> bool:
        """Hand `events` (and a snapshot, when one is due) to the writer. True when stored."""
        state = live.state
        snapshot = None
        if events and (
            any(event.kind in self._games.kinds.snapshot_after(live.kind) for event in events)
            or live.marks.snapshot_due(state.seq, self._settings.snapshot_every)
        ):
            snapshot = _snapshot(state, live.kind)
        if not self._may_write():
            # This node's lease is not known to be fresh (a pause, a lost connection): another
            # node may own the game now, so nothing of this copy may be published. Memory holds
            # events nobody saw: drop it; the next touch reloads from the store.
            self._forget(state.game_id)
            raise not_serving(state.game_id)
        item = PendingWrite(
            state.game_id,
            events,
            state.status,
            now,
            snapshot,
            action_id,
            live.history.to_store(),
            live.owner_epoch,
            strict=live.durability == "strict",
            seating=_changed_seating(live, self._games.kinds.joins_while_playing(live.kind)),
        )
        try:
            durable = await self._writer.write(item)
        except Exception:
            # The store refused the write for good (another writer advanced this game, or it was
            # deleted): memory is now ahead of the log and must not serve anyone.
            self._forget(state.game_id)
            raise
        if snapshot is not None:
            live.marks.snapshot_taken(state.seq, stored=durable)
        return durable


def _changed_seating(live: LiveGame, joins_while_playing: bool) -> Seating | None:
    """The game's seating for the lobby when it differs from the one last sent (None: keep the
    stored one). Noted as sent now: writes reach the store in order, so the row ends with it."""
    seating = seating_of(live.state, live.settings, joins_while_playing=joins_while_playing)
    if seating is None or (seating.data, seating.open) == (live.seating, live.seating_open):
        return None
    live.seating, live.seating_open = seating.data, seating.open
    return seating


def _snapshot(state: GameState, kind: str) -> SnapshotWrite | None:
    """A snapshot of `state`, or None when the game's `dump()` fails or is not JSON: a snapshot
    is a cache, and the events it would have saved a replay of are stored all the same."""
    try:
        return take_snapshot(state)
    except Exception as exc:  # the game's own code: logged, never shown to the players
        log.error("game %s (%s): no snapshot, its dump() failed: %r", state.game_id, kind, exc)
        return None


def _rule_error(exc: GameRuleError) -> ApiError:
    try:
        code = ErrorCode(exc.code)
    except ValueError:
        code = ErrorCode.INVALID_ACTION
    return ApiError(code, exc.message)
