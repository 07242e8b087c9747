"""One game loaded in memory: its state and what the host keeps beside it.

Beside the `GameState`: a lock (one command at a time per game), the actionIds already applied (so
a resent action is answered, not applied again), the recent events (missed-event replay without a
database read), who is connected, and the subscribers that receive new events (SSE streams and
WebSocket channels, each with a bounded queue).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import OrderedDict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from rejoin_protocol.errors import (
    CLOSE_FORBIDDEN,
    CLOSE_SERVER_RESTARTING,
    CLOSE_SUPERSEDED,
    CLOSE_TRY_AGAIN_LATER,
    REASON_TOO_MANY_STREAMS,
)
from rejoin_protocol.messages import Presence, encode
from rejoin_server.durability import MEMORY, GameDurability
from rejoin_server.games.base import Event, GameState
from rejoin_server.host.history import History
from rejoin_server.host.lineage import Lineage
from rejoin_server.host.seqs import SeqMarks

# ActionIds remembered per game: far more than any client keeps unacknowledged.
ACTIONS_REMEMBERED = 1000
# Events kept in memory per game for replay; older ones are read from the store (a game kept in
# memory only has no older ones: a reader that needs them resyncs).
RECENT_EVENTS = 1000
# A subscriber that falls this far behind is dropped; it resumes from its last seq.
SUBSCRIBER_QUEUE = 1000
# Event streams (SSE) one player may hold open at once; opening one more ends their oldest. A
# player has one WebSocket at a time (a newer one supersedes it); without a bound, one join could
# hold any number of connections open.
STREAMS_PER_PLAYER = 4
# `LiveGame.unconnected` is pruned of players no longer seated once it holds more than this.
UNCONNECTED_PRUNED_AT = 64

# Why a subscriber's stream ended: a WebSocket close code and reason (an SSE stream says them in
# its final `close` event).
END_SHUTDOWN = (CLOSE_SERVER_RESTARTING, "server restarting")
# The game was deleted, evicted or lost from memory:
END_RELOADED = (CLOSE_SERVER_RESTARTING, "game reloaded: resume from your last seq")
# The game moved to another node of a cluster (handed over, drained, or taken over):
END_MOVED = (CLOSE_SERVER_RESTARTING, "game moved: resume from your last seq")
END_SLOW = (CLOSE_TRY_AGAIN_LATER, "too far behind: resume from your last seq")
# A reader's next event is not the one after its last (a hole would be a lost event): it ends and
# resumes from its last seq at once, reading the missing ones from the store.
END_HOLE = (CLOSE_SERVER_RESTARTING, "resume from your last seq")
# The seat was resumed elsewhere (docs/protocol.md): the older connection ends, and does not come back.
END_SUPERSEDED = (CLOSE_SUPERSEDED, "superseded")
# A player opened one event stream more than `STREAMS_PER_PLAYER`: their oldest ends (the SSE
# close event tells it apart by the reason; the code is the same: a page must not open it again,
# but the SDK's session, whose seat it still is, resumes: see `REASON_TOO_MANY_STREAMS`).
END_TOO_MANY_STREAMS = (CLOSE_SUPERSEDED, REASON_TOO_MANY_STREAMS)
# An operator's rollback restored a state the player had not joined yet: they have no seat in it.
END_NOT_IN_GAME = (CLOSE_FORBIDDEN, "player_not_in_game")


class Outgoing:
    """One published event on its way to every reader of a game: its JSON is encoded once per
    visibility (in full, and redacted for the players it is private from), not once per reader.

    It relies on `GameState.event_for` returning the event itself to whoever may see all of it,
    and one same redaction to everyone else."""

    __slots__ = ("_full", "_redacted", "event")

    def __init__(self, event: Event) -> None:
        self.event = event
        self._full: str | None = None
        self._redacted: str | None = None

    def json_for(self, state: GameState, player_id: str | None) -> str:
        """The event as JSON text, as `player_id` may see it."""
        seen = state.event_for(self.event, player_id)
        if seen is self.event:
            if self._full is None:
                self._full = orjson.dumps(seen.to_json()).decode()
            return self._full
        if self._redacted is None:
            self._redacted = orjson.dumps(seen.to_json()).decode()
        return self._redacted


@dataclass(frozen=True, slots=True)
class PresenceNote:
    """Another player's connection count went from 0 to 1 or back (for the readers that asked:
    WebSocket channels and SSE streams), with its WebSocket `presence` frame encoded once for
    every reader (after a restart each player's arrival is told to each of its table's players:
    thousands of frames)."""

    player_id: str
    connected: bool
    frame: str = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "frame", encode(Presence(self.player_id, self.connected)))


# What a subscriber's queue carries: events, presence, frames of the reader's own channel (an ack,
# a pong) that must go out in order with the events, and None to wake a reader that must end.
Item = Outgoing | PresenceNote | str | None


class Subscriber:
    """A live reader of one player's visibility: an SSE stream or a WebSocket channel."""

    _opened = itertools.count()

    def __init__(
        self, player_id: str | None, *, presence: bool = False, stream: bool = False
    ) -> None:
        self.player_id = player_id
        self.presence = presence  # wants PresenceNote items
        self.stream = stream  # an SSE stream (else a WebSocket channel)
        self.serial = next(Subscriber._opened)  # the order subscribers were opened in
        self.counted = False  # counted in `LiveGame.connections`
        self.queue: asyncio.Queue[Item] = asyncio.Queue(SUBSCRIBER_QUEUE)
        self.end: tuple[int, str] | None = None  # set once: why the reader must stop

    def push(self, item: Item) -> None:
        if self.end is not None:
            return
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            # Too slow: ending it bounds memory and never stalls the table; it resumes later.
            self.end = END_SLOW

    def close(self, end: tuple[int, str] = END_SHUTDOWN) -> None:
        """End the stream: the reader sees `end` set (and `None` when the queue has room)."""
        if self.end is None:
            self.end = end
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(None)


@dataclass(slots=True)
class LiveGame:
    state: GameState
    kind: str
    last_activity_ms: int  # the last player command (abandonment is measured from it)
    marks: SeqMarks  # how far the events are published, stored and snapshotted
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    actions: OrderedDict[str, int] = field(default_factory=OrderedDict)
    recent: deque[Event] = field(default_factory=deque)
    subscribers: set[Subscriber] = field(default_factory=set)
    connections: dict[str, int] = field(default_factory=dict)  # player_id → open channels
    sockets: dict[str, Subscriber] = field(default_factory=dict)  # player_id → its WebSocket
    timer: asyncio.TimerHandle | None = None
    # When a seated player's last live connection closed; with one open, a player is there now.
    last_connected_ms: int = 0
    # The clock found nothing but a new round to begin, and nobody there: no timer runs until a
    # player connects or acts (`Clocks.attend`).
    parked: bool = False
    # The game's settings as stored (what `GameEngine.load` takes back with a dump).
    settings: Mapping[str, Any] = field(default_factory=dict)
    # player_id → the current claim on their seat: a session token naming another is refused.
    # A seat with no entry (joined before claims existed) takes any session token.
    claims: dict[str, str] = field(default_factory=dict)
    # The ownership epoch this node holds the game at (docs/cluster.md): every write is fenced on
    # it, so once another node takes the game, nothing more of this copy is stored.
    owner_epoch: int | None = None
    # This incarnation's history epoch and the stored ones (`host.history`).
    history: History = field(default_factory=lambda: History.begin((), 1))
    # Chosen when the game was created (`rejoin_server.durability`); a `memory` game is never
    # written to the store, and lives as long as it stays here.
    durability: GameDurability = "strict"
    # When the game was completed here (the cleanup drops a memory game `--retention` after it).
    completed_at_ms: int | None = None
    # Players who joined while the game was in memory here and have not connected since: their
    # first WebSocket `hello` is their first connection, not a resume (the console's figures,
    # `console.activity`). At most the players seated (`note_joined`); gone with the game.
    unconnected: set[str] = field(default_factory=set)
    # (state.seq, players seated) when the console last counted them (`console.overview`): a
    # seat changes only with an event, so a game that did not move is not counted again.
    seated_at_seq: tuple[int, int] = field(default=(-1, 0), init=False, repr=False)
    # The seating last handed to the store (`host.seating`): an append whose seating is the same
    # does not send it again. None after a load: the first append sends it.
    seating: Mapping[str, Any] | None = None
    # Whether that seating was open: a game that starts keeps its seats but may close (an engine
    # that takes no players while playing), which the store must hear of too.
    seating_open: bool | None = None
    # The operators' rollbacks, to tell a resent action still in the state from one a rollback
    # undid (`host.lineage`); a game loaded from the store reads those before its load on need.
    lineage: Lineage = field(default_factory=Lineage)

    @property
    def in_memory_only(self) -> bool:
        return self.durability == MEMORY

    @property
    def game_id(self) -> str:
        return self.state.game_id

    def note_stored(self, seq: int, now_ms: int) -> None:
        """The writer stored this game's events up to `seq`."""
        if self.marks.stored(seq, now_ms):
            self.history.stored_through(seq)

    def remember_action(self, action_id: str, seq: int) -> None:
        self.actions[action_id] = seq
        while len(self.actions) > ACTIONS_REMEMBERED:
            self.actions.popitem(last=False)

    def remember_actions(self, actions: Iterable[tuple[str, int]]) -> None:
        for action_id, seq in sorted(actions, key=lambda pair: pair[1]):
            self.remember_action(action_id, seq)

    def publish(self, events: Iterable[Event]) -> None:
        for event in events:
            self.recent.append(event)
            self.marks.published(event.seq)
            outgoing = Outgoing(event)
            for subscriber in self.subscribers:
                subscriber.push(outgoing)
        # Keep the newest RECENT_EVENTS, and beyond them every event not stored yet: while the
        # store is down, memory is the only place a missed event can be replayed from. A game
        # kept in memory only stores none: it keeps the newest RECENT_EVENTS, not all it ever had.
        recent = self.recent
        while len(recent) > RECENT_EVENTS and (
            self.in_memory_only or self.marks.is_durable(recent[0].seq)
        ):
            recent.popleft()

    def recent_after(self, seq: int) -> list[Event] | None:
        """The published events after `seq` if memory holds all of them, else None (read the
        store). Measured against what was published, not `state.seq`: a command in flight has
        applied events that nobody may see yet."""
        if seq >= self.marks.published_seq:
            return []
        if not self.recent or self.recent[0].seq > seq + 1:
            return None
        return [event for event in self.recent if event.seq > seq]

    def attended(self, now_ms: int, window_ms: int) -> bool:
        """Is a seated player at the table: connected now (WebSocket or SSE), or connected or
        acting (over plain HTTP too) within the last `window_ms`?"""
        if self.connections:
            return True
        return now_ms - max(self.last_activity_ms, self.last_connected_ms) < window_ms

    def is_connected(self, player_id: str) -> bool:
        return self.connections.get(player_id, 0) > 0

    def note_joined(self, player_id: str) -> None:
        """`player_id` took a seat here (a join): not connected yet."""
        unconnected = self.unconnected
        unconnected.add(player_id)
        if len(unconnected) > UNCONNECTED_PRUNED_AT:
            # Players who joined and left without ever connecting: keep only the seated ones.
            state = self.state
            self.unconnected = {p for p in unconnected if state.seat_of(p) is not None}

    def connect(self, subscriber: Subscriber) -> None:
        """Count `subscriber` as a connection of its player; the first one is announced."""
        player_id = subscriber.player_id
        if player_id is None or subscriber.counted:
            return
        subscriber.counted = True
        self.unconnected.discard(player_id)
        count = self.connections.get(player_id, 0) + 1
        self.connections[player_id] = count
        if count == 1:
            self._announce(PresenceNote(player_id, True))

    def disconnect(self, subscriber: Subscriber) -> None:
        player_id = subscriber.player_id
        if player_id is None or not subscriber.counted:
            return
        subscriber.counted = False
        left = self.connections.get(player_id, 0) - 1
        if left > 0:
            self.connections[player_id] = left
            return
        self.connections.pop(player_id, None)
        self._announce(PresenceNote(player_id, False))

    def _announce(self, note: PresenceNote) -> None:
        for subscriber in self.subscribers:
            if subscriber.presence and subscriber.player_id != note.player_id:
                subscriber.push(note)
