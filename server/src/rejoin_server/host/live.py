"""One game loaded in memory: its state and what the host keeps beside it.

Beside the `GameState`: a lock (one command at a time per game), the actionIds already applied (so
a resent action is answered, not applied again), the recent events (missed-event replay without a
database read), who is connected, and the subscribers that receive new events.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from rejoin_server.games.base import Event, GameState

# ActionIds remembered per game: far more than any client keeps unacknowledged.
ACTIONS_REMEMBERED = 1000
# Events kept in memory per game for replay; older ones are read from the store.
RECENT_EVENTS = 1000
# A subscriber that falls this far behind is dropped; it resumes from its last seq.
SUBSCRIBER_QUEUE = 1000


class Subscriber:
    """A live reader of one player's visibility (an SSE stream; the WebSocket channel later)."""

    def __init__(self, player_id: str | None) -> None:
        self.player_id = player_id
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue(SUBSCRIBER_QUEUE)
        self.overflowed = False

    def push(self, event: Event) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True

    def close(self) -> None:
        """End the stream: the reader sees `None` (or, with a full queue, `overflowed`)."""
        self.overflowed = True
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(None)


@dataclass(slots=True)
class LiveGame:
    state: GameState
    kind: str
    last_activity_ms: int  # the last player command (abandonment is measured from it)
    durable_seq: int  # everything up to here is in the store
    stored_at_ms: int  # when the store last took a write of this game
    last_snapshot_seq: int  # the last snapshot taken (stored or queued)
    stored_snapshot_seq: int  # the last snapshot known to be stored
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    actions: OrderedDict[str, int] = field(default_factory=OrderedDict)
    recent: deque[Event] = field(default_factory=deque)
    subscribers: set[Subscriber] = field(default_factory=set)
    connections: dict[str, int] = field(default_factory=dict)  # player_id → open channels
    timer: asyncio.TimerHandle | None = None
    published_seq: int = 0  # the last event handed to readers (the state's seq when loaded)

    @property
    def game_id(self) -> str:
        return self.state.game_id

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
            self.published_seq = event.seq
            for subscriber in self.subscribers:
                subscriber.push(event)
        # Keep the newest RECENT_EVENTS, and beyond them every event not stored yet: while the
        # store is down, memory is the only place a missed event can be replayed from.
        recent = self.recent
        while len(recent) > RECENT_EVENTS and recent[0].seq <= self.durable_seq:
            recent.popleft()

    def recent_after(self, seq: int) -> list[Event] | None:
        """The published events after `seq` if memory holds all of them, else None (read the
        store). Measured against what was published, not `state.seq`: a command in flight has
        applied events that nobody may see yet."""
        if seq >= self.published_seq:
            return []
        if not self.recent or self.recent[0].seq > seq + 1:
            return None
        return [event for event in self.recent if event.seq > seq]

    def is_connected(self, player_id: str) -> bool:
        return self.connections.get(player_id, 0) > 0

    def connect(self, player_id: str) -> None:
        self.connections[player_id] = self.connections.get(player_id, 0) + 1

    def disconnect(self, player_id: str) -> None:
        left = self.connections.get(player_id, 0) - 1
        if left > 0:
            self.connections[player_id] = left
        else:
            self.connections.pop(player_id, None)
