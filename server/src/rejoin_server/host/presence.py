"""Who is at a game's table: its readers (SSE streams and WebSocket channels), each player's one
WebSocket, the claims on the seats, and what each player sees of the table.

A player counts as connected while one of their readers is counted: an SSE stream at once, a
WebSocket once its `hello` has won the seat (`take_seat`). A seat resumed elsewhere ends the
older connections (`supersede`, `note_claim`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from rejoin_server.host.live import (
    END_NOT_IN_GAME,
    END_RELOADED,
    END_SUPERSEDED,
    END_TOO_MANY_STREAMS,
    STREAMS_PER_PLAYER,
    LiveGame,
    Subscriber,
)
from rejoin_server.host.loaded_games import LoadedGames


class Presence:
    """The only code that opens and ends readers, seats WebSockets, and sets
    `last_connected_ms` and the claims of a loaded game."""

    def __init__(
        self,
        games: LoadedGames,
        *,
        clock: Callable[[], int],
        attend: Callable[[LiveGame], None],
        left: Callable[[str, str], None] = lambda game_id, player_id: None,
    ) -> None:
        self._games = games
        self._left = left  # a seat's last connection closed (the console times its resume)
        self._clock = clock
        self._attend = attend  # a player is at the table: a parked clock goes on
        self._closing = False
        self._open: set[Subscriber] = set()  # every reader not yet ended, of any game
        self._all_ended = asyncio.Event()  # set once closing and no reader is left

    def end_all(self) -> None:
        """The server is going down: end every reader now, and every one opened from now on."""
        self._closing = True
        for live in self._games:
            for subscriber in list(live.subscribers):
                subscriber.close()
        self._note_ended()

    async def ended(self) -> None:
        """Once `end_all` has run: every reader has ended (its channel sent its close and left),
        also those of games dropped from memory meanwhile (handed over)."""
        await self._all_ended.wait()

    def _note_ended(self) -> None:
        if self._closing and not self._open:
            self._all_ended.set()

    def game_dropped(self, live: LiveGame, end: tuple[int, str] = END_RELOADED) -> None:
        """`live` left memory: its readers resume from their last seq on its next load (`end`
        says why, in the WebSocket's close)."""
        for subscriber in list(live.subscribers):
            subscriber.close(end)

    def view(
        self, live: LiveGame, player_id: str | None, *, also: str | None = None
    ) -> dict[str, Any]:
        """The game as `player_id` sees it, with who is connected right now (and `also`, a player
        about to be), and its `durability`: said here, for every kind of game, so that a player
        of a game kept in memory only is told so by every view."""
        view = live.state.view(player_id)
        for seat in view.get("seats", ()):
            if isinstance(seat, dict) and isinstance(seat.get("playerId"), str):
                seat_player = seat["playerId"]
                seat["connected"] = seat_player == also or live.is_connected(seat_player)
        view["durability"] = live.durability
        return view

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
                oldest.close(END_TOO_MANY_STREAMS)
        live.subscribers.add(subscriber)
        self._open.add(subscriber)
        if self._closing:
            # Shutdown has begun: this reader must end too, not hold the server open.
            subscriber.close()
        if count:
            live.connect(subscriber)
            self._attend(live)
        return subscriber

    def take_seat(self, live: LiveGame, subscriber: Subscriber) -> None:
        """`subscriber` is now the player's WebSocket: the one it replaces is closed with 4409
        `superseded` (docs/protocol.md), and the player counts as connected."""
        player_id = subscriber.player_id
        assert player_id is not None
        self.supersede(live, player_id)
        live.sockets[player_id] = subscriber
        live.connect(subscriber)
        self._attend(live)

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
        current = self._games.loaded(live.game_id)
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
        self._games.claim_while_loading(live.game_id, player_id, claim)

    def unseated(self, live: LiveGame) -> None:
        """After a rollback: the readers of players the game no longer seats (they joined after
        the version restored) are closed with 4403 `player_not_in_game`."""
        state = live.state
        for subscriber in list(live.subscribers):
            player_id = subscriber.player_id
            if player_id is not None and state.seat_of(player_id) is None:
                subscriber.close(END_NOT_IN_GAME)
                if live.sockets.get(player_id) is subscriber:
                    del live.sockets[player_id]

    def unsubscribe(self, live: LiveGame, subscriber: Subscriber) -> None:
        live.subscribers.discard(subscriber)
        self._open.discard(subscriber)
        self._note_ended()
        if (
            subscriber.player_id is not None
            and live.sockets.get(subscriber.player_id) is subscriber
        ):
            del live.sockets[subscriber.player_id]
        player_id = subscriber.player_id
        counted = subscriber.counted
        if counted:
            live.last_connected_ms = self._clock()  # there until now
        live.disconnect(subscriber)
        if counted and player_id is not None and not live.is_connected(player_id):
            self._left(live.game_id, player_id)
