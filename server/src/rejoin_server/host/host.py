"""`GameHost`: the games in memory, and the one path by which a game changes.

That path (`execute`): validate and apply the command in memory, hand the events to the writer
(strict durability waits for the commit), then publish them and arm the game's clock. Nothing is
published or acknowledged before it is stored, unless the store is down (degraded) or the operator
chose relaxed durability; then the answer says `durable: false`.

Games load lazily: the first request that touches a game restores it (one load however many
requests arrive at once), and after a restart a background task loads the games in play so their
clocks fire from the persisted deadlines, without holding up the server's first answers.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from rejoin_protocol.errors import ErrorCode
from rejoin_server.errors import ApiError, GameNotFound, StateCorrupted, StorageUnavailable
from rejoin_server.games.base import (
    Abandon,
    Act,
    Command,
    Event,
    GameEngine,
    GameRuleError,
    GameState,
    Join,
    Start,
    Tick,
)
from rejoin_server.host.history import History
from rejoin_server.host.live import (
    END_RELOADED,
    END_SUPERSEDED,
    STREAMS_PER_PLAYER,
    LiveGame,
    Subscriber,
)
from rejoin_server.host.writer import GameWriter, PendingWrite
from rejoin_server.metrics import Metrics
from rejoin_server.settings import ServerSettings
from rejoin_server.store.base import Deleted, GameStore
from rejoin_server.store.restore import decode_event, restore_game, take_snapshot
from rejoin_server.timefmt import now_ms

log = logging.getLogger(__name__)

# Event kinds after which a game is at a natural boundary: its snapshot is small and loads fast.
BOUNDARY_KINDS = frozenset({"hand_ended", "game_completed"})
# How long `persist` waits for a game's queued writes before it answers storage_unavailable.
PERSIST_FLUSH_S = 5.0
# The `reason` of the `game_completed` that ends a game past `--max-events-per-game`.
EVENT_LIMIT_REASON = "event_limit"
# Games in play loaded at once by the background warm-up after a restart, and its first retry
# while the store is down (doubling up to 5 s).
WARM_UP_FIRST_RETRY_S = 0.1
WARM_UP_CONCURRENCY = 8


@dataclass(frozen=True, slots=True)
class Outcome:
    seq: int
    events: list[Event]
    durable: bool
    duplicate: bool = False


class GameHost:
    def __init__(
        self,
        store: GameStore,
        engine: GameEngine,
        settings: ServerSettings,
        metrics: Metrics,
        *,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.store = store
        self.engine = engine
        self.settings = settings
        self.metrics = metrics
        self.clock = clock
        self.writer = GameWriter(
            store,
            metrics,
            strict=settings.durability == "strict",
            on_stored=self._stored,
            on_lost=self._lost,
        )
        self._games: dict[str, LiveGame] = {}
        self._loading: dict[str, asyncio.Future[LiveGame]] = {}
        # Seat claims taken while their game was loading: the load may have read the store first.
        self._claimed_while_loading: dict[str, dict[str, str]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closing = False

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        """Begin loading the games in play in the background (after a restart: their clocks)."""
        self._spawn(self._warm_up())

    def begin_shutdown(self) -> None:
        """The server is going down: end every event stream now, so the server does not wait for
        the clients to hang up (they resume from their last seq on the next process)."""
        self._closing = True
        for live in self._games.values():
            for subscriber in list(live.subscribers):
                subscriber.close()

    async def stop(self, flush_timeout_s: float = 10.0) -> None:
        """Graceful shutdown: stop the clocks, end the streams, store what is queued."""
        self.begin_shutdown()
        for live in self._games.values():
            if live.timer is not None:
                live.timer.cancel()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if not await self.writer.flush(flush_timeout_s):
            log.error("shutdown: %d events could not be stored", self.writer.pending_events)
        await self.writer.close()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _warm_up(self) -> None:
        delay = WARM_UP_FIRST_RETRY_S
        while True:
            try:
                records = await self.store.list_games(status="playing")
                break
            except StorageUnavailable as exc:
                # Without the warm-up, clocks of games in play would wait for someone to touch
                # them: keep trying.
                log.warning("warm-up waits for the store (%s); retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        gate = asyncio.Semaphore(WARM_UP_CONCURRENCY)

        async def load(game_id: str) -> None:
            async with gate:
                try:
                    await self.get(game_id)
                except Exception as exc:  # one broken game must not stop the others loading
                    log.error("warm-up: game %s not loaded: %s", game_id, exc)

        await asyncio.gather(*(load(record.game_id) for record in records))

    # --- loading ---------------------------------------------------------------------------------

    @property
    def games_active(self) -> int:
        return len(self._games)

    def loaded(self, game_id: str) -> LiveGame | None:
        return self._games.get(game_id)

    async def get(self, game_id: str) -> LiveGame:
        """The game in memory, restored from the store on first touch. Raises `GameNotFound`,
        `StateCorrupted`, `StorageUnavailable`."""
        live = self._games.get(game_id)
        if live is not None:
            return live
        loading = self._loading.get(game_id)
        if loading is None:
            loading = asyncio.get_running_loop().create_future()
            self._loading[game_id] = loading
            self._spawn(self._load(game_id, loading))
        return await asyncio.shield(loading)

    async def _load(self, game_id: str, done: asyncio.Future[LiveGame]) -> None:
        try:
            if self.writer.has_pending(game_id):
                # Dropped from memory with writes still queued: the store is behind what players
                # saw, and a game loaded from it now would reuse their seqs.
                raise _still_storing("Its last moves are still being stored")
            started = time.perf_counter()
            restored = await restore_game(self.store, self.engine, game_id)
            actions = await self.store.recent_actions(game_id)
            self.metrics.restore_seconds.observe(time.perf_counter() - started)
            for problem in restored.rejected_snapshots:
                log.warning("game %s: %s; restored from an older state", game_id, problem)
            state = restored.state
            live = LiveGame(
                state=state,
                kind=self.engine.kind,
                # Before its first command here, a game's last activity is its last write.
                last_activity_ms=restored.last_stored_ms or self.clock(),
                durable_seq=state.seq,
                published_seq=state.seq,
                stored_at_ms=restored.last_stored_ms,
                last_snapshot_seq=restored.snapshot_version,
                stored_snapshot_seq=restored.snapshot_version,
                settings=restored.settings,
                claims=dict(restored.claims),
                history=History.begin(restored.history, state.seq + 1),
            )
            live.remember_actions(actions.items())
            live.claims.update(self._claimed_while_loading.pop(game_id, {}))
            self._games[game_id] = live
            self.metrics.games_active.set(len(self._games))
            self._arm(live)
            done.set_result(live)
        except BaseException as exc:
            done.set_exception(exc)
            done.exception()  # retrieved here: a load nobody awaits must not warn
            if not isinstance(exc, Exception):
                raise
        finally:
            self._loading.pop(game_id, None)
            self._claimed_while_loading.pop(game_id, None)

    def forget(self, game_id: str) -> None:
        """Drop a game from memory (deleted, evicted, or no longer safe to write)."""
        live = self._games.pop(game_id, None)
        if live is None:
            return
        if live.timer is not None:
            live.timer.cancel()
        for subscriber in list(live.subscribers):
            subscriber.close(END_RELOADED)
        self.metrics.games_active.set(len(self._games))

    def unload_idle(self, now: int, idle_ms: int) -> list[str]:
        """Drop from memory the games nobody needs there: no clock running (or completed), nobody
        streaming, nothing queued, no action for `idle_ms`. They reload on the next touch."""
        dropped = []
        for game_id, live in list(self._games.items()):
            if live.subscribers or live.lock.locked() or self.writer.has_pending(game_id):
                continue
            if live.state.status != "completed" and live.state.next_deadline() is not None:
                continue
            if now - live.last_activity_ms < idle_ms:
                continue
            self.forget(game_id)
            dropped.append(game_id)
        return dropped

    # --- creating and changing games -------------------------------------------------------------

    async def create_game(self, settings: Mapping[str, Any]) -> LiveGame:
        game_id = uuid.uuid4().hex
        state = self.engine.new_game(game_id, settings)  # raises GameRuleError on bad settings
        await self._make_room()
        now = self.clock()
        await self.store.create_game(game_id, self.engine.kind, settings, now)
        live = LiveGame(
            state=state,
            kind=self.engine.kind,
            last_activity_ms=now,
            durable_seq=0,
            stored_at_ms=now,
            last_snapshot_seq=0,
            stored_snapshot_seq=0,
            settings=settings,
        )
        self._games[game_id] = live
        self.metrics.games_active.set(len(self._games))
        return live

    async def _make_room(self) -> None:
        max_games, max_bytes = self.settings.max_games, self.settings.max_storage_bytes
        if max_games is None and max_bytes is None:
            return
        usage = await self.store.usage()
        over_games = max_games is not None and usage.games >= max_games
        over_bytes = max_bytes is not None and usage.bytes >= max_bytes
        if not (over_games or over_bytes):
            return
        # Room for one more: evict down to one below the game limit.
        evicted = await self.store.evict_for_quota(
            None if max_games is None else max_games - 1, max_bytes
        )
        for game_id in evicted:
            self.forget(game_id)
            self.metrics.games_evicted.labels("quota").inc()
        usage = await self.store.usage()
        if (max_games is not None and usage.games >= max_games) or (
            max_bytes is not None and usage.bytes >= max_bytes
        ):
            raise ApiError(
                ErrorCode.STORAGE_FULL,
                f"The game store is full ({usage.games} games, {usage.bytes} bytes) and every "
                "stored game is still in play; finish or delete games, or raise the quota.",
            )

    async def execute(
        self,
        game_id: str,
        command: Command,
        *,
        action_id: str | None = None,
        at_seq: int | None = None,
        prepare: Callable[[], Awaitable[None]] | None = None,
    ) -> Outcome:
        """Apply one command. Raises `ApiError` with the game's rule code when it is refused.

        `action_id` makes the command idempotent: the same id again answers the first result. It is
        opaque here; callers scope it (the API prefixes the player's id).

        `prepare` runs once the game has accepted the command and before its events are stored
        (a join writes the new player's token row there: a refused join writes none). If it
        raises, the game is put back as it was and nothing is stored.

        Once started, a command runs to its end even if the caller is cancelled (a WebSocket
        that closes while its action commits): its events are applied in memory before the
        commit, so stopping half-way would leave memory ahead of what was published and the
        actionId unremembered, and a resent action would then apply twice."""
        live = await self.get(game_id)
        return await asyncio.shield(self._execute(live, command, action_id, at_seq, prepare))

    async def _execute(
        self,
        live: LiveGame,
        command: Command,
        action_id: str | None,
        at_seq: int | None,
        prepare: Callable[[], Awaitable[None]] | None,
    ) -> Outcome:
        async with live.lock:
            self._still_loaded(live)
            if action_id is not None and (seq := live.actions.get(action_id)) is not None:
                return Outcome(seq, [], durable=seq <= live.durable_seq, duplicate=True)
            state = live.state
            if at_seq is not None and at_seq != state.seq:
                raise ApiError(
                    ErrorCode.STALE_STATE,
                    f"The game has moved on to seq {state.seq} (you acted at {at_seq}); "
                    "look at the new state and act again.",
                )
            now = self.clock()
            before = state.dump() if prepare is not None else None
            try:
                events = state.handle(command, now)
            except GameRuleError as exc:
                raise _rule_error(exc) from exc
            if prepare is not None:
                try:
                    await prepare()
                except BaseException:
                    # Applied in memory only: nobody has seen it. Back to the state before it.
                    assert before is not None
                    live.state = self.engine.load(live.game_id, live.settings, before)
                    raise
            seq = state.seq  # this command's; the commit may add a `game_completed` past it
            durable = await self._commit(live, events, now, action_id)
            if isinstance(command, Join | Start | Act):
                live.last_activity_ms = now
            return Outcome(seq, events, durable)

    async def _commit(
        self, live: LiveGame, events: list[Event], now: int, action_id: str | None
    ) -> bool:
        """Store (or queue) `events`, then publish them. The caller holds the game's lock."""
        state = live.state
        snapshot = None
        if events and (
            any(event.kind in BOUNDARY_KINDS for event in events)
            or state.seq - live.last_snapshot_seq >= self.settings.snapshot_every
        ):
            snapshot = take_snapshot(state)
        item = PendingWrite(
            state.game_id, events, state.status, now, snapshot, action_id, live.history.to_store()
        )
        try:
            durable = await self.writer.write(item)
        except Exception:
            # The store refused the write for good (another writer advanced this game, or it was
            # deleted): memory is now ahead of the log and must not serve anyone.
            self.forget(state.game_id)
            raise
        if snapshot is not None:
            # Counted from here even if it is only queued, so a degraded game does not take a
            # snapshot per command; `persist` checks durability itself.
            live.last_snapshot_seq = state.seq
            if durable:
                live.stored_snapshot_seq = state.seq
        if action_id is not None:
            live.remember_action(action_id, state.seq)
        live.publish(events)
        if state.status != "completed" and state.seq >= self.settings.max_events_per_game:
            # A game cannot grow its log without bound: past the budget it ends, saying why.
            log.warning(
                "game %s reached %d events (--max-events-per-game): completing it",
                state.game_id,
                state.seq,
            )
            await self._commit(live, state.handle(Abandon(EVENT_LIMIT_REASON), now), now, None)
            return durable
        self._arm(live)
        return durable

    def _still_loaded(self, live: LiveGame) -> None:
        """After waiting for a game's lock: it may have been dropped from memory meanwhile."""
        if self._games.get(live.game_id) is not live:
            raise ApiError(
                ErrorCode.STALE_STATE,
                "This game was reloaded while your request waited; send it again.",
            )

    def _stored(self, game_id: str, seq: int) -> None:
        live = self._games.get(game_id)
        if live is not None and seq > live.durable_seq:
            live.durable_seq = seq
            live.stored_at_ms = self.clock()
            live.history.stored_through(seq)

    def _lost(self, game_id: str, exc: BaseException) -> None:
        self.forget(game_id)

    # --- clocks ----------------------------------------------------------------------------------

    def _arm(self, live: LiveGame) -> None:
        live.parked = False
        if live.timer is not None:
            live.timer.cancel()
            live.timer = None
        deadline = live.state.next_deadline()
        if deadline is None or self._closing:
            return
        delay_s = max(0, deadline - self.clock()) / 1000
        loop = asyncio.get_running_loop()
        live.timer = loop.call_later(delay_s, self._on_timer, live)

    def _on_timer(self, live: LiveGame) -> None:
        live.timer = None
        self._spawn(self._fire(live))

    async def _fire(self, live: LiveGame) -> None:
        """Fire one thing that is due (a game fires one thing per `Tick`). If more is due,
        `_commit` re-arms the clock at once: each tick is its own loop turn, so a game whose
        clocks are all zero cannot starve the other games."""
        if self._games.get(live.game_id) is not live:
            return
        try:
            async with live.lock:
                if self._games.get(live.game_id) is not live:
                    return
                deadline = live.state.next_deadline()
                now = self.clock()
                if deadline is not None and deadline <= now:
                    attended = live.attended(now, self.settings.unattended_after_ms)
                    events = live.state.handle(Tick(attended), now)
                    if events:
                        await self._commit(live, events, now, None)  # re-arms the clock
                        return
                    if not attended:
                        # Only a new round was due, and nobody is there to play it: wait for a
                        # player (`attend`) instead of dealing to an empty table for ever.
                        live.parked = True
                        log.info("game %s: nobody at the table; the next round waits", live.game_id)
                        return
                    # Due but nothing to fire: re-arming now would spin; the next command will.
                    log.error("game %s: a deadline is due but a tick fired nothing", live.game_id)
                    return
        except Exception as exc:  # a clock must never die silently: log, re-arm on next command
            log.error("game %s: its clock failed: %s", live.game_id, exc, exc_info=True)
            return
        self._arm(live)

    # --- reading ---------------------------------------------------------------------------------

    @asynccontextmanager
    async def reading(self, live: LiveGame) -> AsyncIterator[GameState]:
        """Hold the game still while reading it. A command applies its events in memory *before*
        its commit; under the lock no commit is in flight, so what is read here is exactly what
        has been published (write-ahead: nobody sees an event that might not be stored)."""
        async with live.lock:
            self._still_loaded(live)
            yield live.state

    def view(
        self, live: LiveGame, player_id: str | None, *, also: str | None = None
    ) -> dict[str, Any]:
        """The game as `player_id` sees it, with who is connected right now (and `also`, a player
        about to be)."""
        view = live.state.view(player_id)
        for seat in view.get("seats", ()):
            if isinstance(seat, dict) and isinstance(seat.get("playerId"), str):
                seat_player = seat["playerId"]
                seat["connected"] = seat_player == also or live.is_connected(seat_player)
        return view

    async def events_after(
        self, live: LiveGame, after_seq: int, limit: int | None = None
    ) -> list[Event]:
        """Events with seq > `after_seq` as stored or in memory (raw, not yet redacted), in order,
        at most `limit` of them."""
        recent = live.recent_after(after_seq)
        if recent is None:
            raws = await self.store.read_events(live.game_id, after_seq, limit)
            stored = [decode_event(live.game_id, raw) for raw in raws]
            if limit is not None and len(stored) >= limit:
                return stored[:limit]  # a full page: what memory holds after it is not needed
            # Queued (not yet stored) events are in memory (`LiveGame.publish` keeps every event
            # that is not durable yet): join the two without gap or overlap.
            last = stored[-1].seq if stored else after_seq
            tail = live.recent_after(last)
            if tail is None:
                raise _still_storing(f"Events after {last} are not stored yet")
            recent = stored + tail
        return recent if limit is None else recent[:limit]

    def subscribe(
        self, live: LiveGame, player_id: str | None, *, presence: bool = False, count: bool = True
    ) -> Subscriber:
        """A reader of every event published from now on. `count`: it counts as the player being
        connected at once (an SSE stream, of which a player holds at most `STREAMS_PER_PLAYER`:
        the oldest ends); a WebSocket counts only once its `hello` has won the seat
        (`take_seat`)."""
        subscriber = Subscriber(player_id, presence=presence, stream=count)
        if count and player_id is not None:
            open_streams = sorted(
                (
                    s
                    for s in live.subscribers
                    if s.stream and s.player_id == player_id and s.end is None
                ),
                key=lambda s: s.serial,
            )
            for oldest in open_streams[: max(0, len(open_streams) - STREAMS_PER_PLAYER + 1)]:
                oldest.close(END_SUPERSEDED)
        live.subscribers.add(subscriber)
        if self._closing:
            # Shutdown has begun: this reader must end too, not hold the server open.
            subscriber.close()
        if count:
            live.connect(subscriber)
            self.attend(live)
        return subscriber

    def take_seat(self, live: LiveGame, subscriber: Subscriber) -> None:
        """`subscriber` is now the player's WebSocket: the one it replaces is closed with 4409
        `superseded` (DESIGN §3), and the player counts as connected."""
        player_id = subscriber.player_id
        assert player_id is not None
        self.supersede(live, player_id)
        live.sockets[player_id] = subscriber
        live.connect(subscriber)
        self.attend(live)

    def attend(self, live: LiveGame) -> None:
        """A player is at the table again: a game whose next round waited for one goes on."""
        if live.parked and self._games.get(live.game_id) is live:
            self._arm(live)

    def supersede(self, live: LiveGame, player_id: str) -> None:
        """The player's seat was resumed elsewhere (a `hello` or `POST …/reconnect` used their
        token): their WebSocket, if any, is closed with 4409 `superseded`."""
        previous = live.sockets.pop(player_id, None)
        if previous is not None:
            previous.close(END_SUPERSEDED)

    def note_claim(
        self,
        live: LiveGame,
        player_id: str,
        claim: str | None,
        *,
        keep: Subscriber | None = None,
    ) -> None:
        """A join, reconnect or `hello` won the seat with a new claim (`claim`; None: it did not,
        nothing to do), stored with its token already. From now on the seat's session tokens must
        name it, and the player's event streams opened under an older claim end (a copied session
        token no longer reads the player's cards); `keep` is the new connection itself. The
        player's WebSocket is `supersede`'s to close."""
        if claim is None:
            return
        current = self._games.get(live.game_id)
        for game in (live, current):
            if game is None:
                continue
            game.claims[player_id] = claim
            for subscriber in list(game.subscribers):
                if (
                    subscriber.player_id == player_id
                    and subscriber is not keep
                    and game.sockets.get(player_id) is not subscriber
                ):
                    subscriber.close(END_SUPERSEDED)
        if live.game_id in self._loading:
            self._claimed_while_loading.setdefault(live.game_id, {})[player_id] = claim

    def unsubscribe(self, live: LiveGame, subscriber: Subscriber) -> None:
        live.subscribers.discard(subscriber)
        if (
            subscriber.player_id is not None
            and live.sockets.get(subscriber.player_id) is subscriber
        ):
            del live.sockets[subscriber.player_id]
        if subscriber.counted:
            live.last_connected_ms = self.clock()  # there until now
        live.disconnect(subscriber)

    async def missed_events(
        self, live: LiveGame, player_id: str, last_seq: int | None, last_epoch: str | None = None
    ) -> tuple[list[dict[str, Any]], bool]:
        """What a player resuming from `last_seq` missed, in their visibility, or `([], True)`
        (resync: the fresh state is the catch-up) when there is no `last_seq`, it is past the
        end, its history up to there is not ours (`last_epoch`: lost in a crash, see
        `host.history`), or more than the replay limit is missing. Call it under `reading`."""
        state = live.state
        limit = self.settings.replay_limit
        if last_seq is None or last_seq > state.seq or state.seq - last_seq > limit:
            return [], True
        if not live.history.holds(last_epoch, last_seq):
            log.info(
                "game %s: player %s resumes from seq %d of a history this server does not "
                "have (epoch %s): resync",
                live.game_id,
                player_id,
                last_seq,
                last_epoch,
            )
            return [], True
        events = await self.events_after(live, last_seq)
        return [state.event_for(event, player_id).to_json() for event in events], False

    # --- operator actions ------------------------------------------------------------------------

    async def persist(self, game_id: str, force: bool) -> int:
        """Snapshot the game's state at its seq; return that version. Raises `StorageUnavailable`
        while its earlier events are not stored yet."""
        live = await self.get(game_id)
        async with live.lock:
            self._still_loaded(live)
            state = live.state
            # Relaxed durability (or a short outage) leaves writes queued: give them a moment.
            await self.writer.flush_game(game_id, PERSIST_FLUSH_S)
            if self.writer.has_pending(game_id) or live.durable_seq < state.seq:
                raise _still_storing(
                    f"{state.seq - live.durable_seq} of its events are not stored yet"
                )
            if not force and live.stored_snapshot_seq == state.seq and state.seq > 0:
                return state.seq
            snapshot = take_snapshot(state)
            await self.store.append(
                game_id, [], status=state.status, now_ms=self.clock(), snapshot=snapshot
            )
            live.last_snapshot_seq = live.stored_snapshot_seq = state.seq
            live.stored_at_ms = self.clock()
            return state.seq

    async def delete(self, game_id: str) -> Deleted:
        """Delete in the store first: if the store is down, the game stays as it was."""
        record = await self.store.get_game(game_id)
        if record is None:
            raise GameNotFound(game_id)
        live = self._games.get(game_id)
        if live is None:
            return await self.store.delete_game(game_id)
        async with live.lock:
            deleted = await self.store.delete_game(game_id)
            self.forget(game_id)
            return deleted

    async def abandon(self, game_id: str) -> None:
        """Complete a game nobody plays any more (the cleanup job)."""
        try:
            await self.execute(game_id, Abandon())
        except ApiError as exc:
            if exc.code != ErrorCode.GAME_COMPLETED:
                raise
        except StateCorrupted as exc:
            log.error("cleanup: game %s cannot be loaded to abandon it: %s", game_id, exc)


def _rule_error(exc: GameRuleError) -> ApiError:
    try:
        code = ErrorCode(exc.code)
    except ValueError:
        code = ErrorCode.INVALID_ACTION
    return ApiError(code, exc.message)


def _still_storing(what: str) -> ApiError:
    """The store is reachable but behind this game (its queue is draining): a 503 that is not an
    outage, so it does not mark the store unavailable."""
    return ApiError(ErrorCode.STORAGE_UNAVAILABLE, f"{what}; try again in a moment.")
