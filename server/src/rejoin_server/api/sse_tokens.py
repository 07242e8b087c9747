"""Fresh tokens pushed down an event stream, so that a player on SSE is never stranded with an
expired reconnect or session token (docs/protocol.md, "Server-Sent Events").

Only on a stream authenticated by the `Authorization` header: a `?session=` URL ends up in access
logs and browser history, and whoever reads it there may read the events but must not be handed
the seat's reconnect token. Once half the reconnect token's life or half the session token's
(whichever is shorter) has gone since the stream opened or since the last push, the seat's
current reconnect token (`ReconnectTokens.current`, as `GET …/connection-token` hands it out) and
a fresh session token go out as an `event: token`. The store is asked in a task of its own: a
store that is slow or down must not hold up the events; a failure is logged and tried again
later, with backoff.
"""

from __future__ import annotations

import asyncio
import logging

from rejoin_server.api import sse_frames
from rejoin_server.api.auth import session_token
from rejoin_server.api.channel import MAX_REFRESH_BACKOFF_S, TOKEN_REFRESH_AT
from rejoin_server.api.context import Services
from rejoin_server.errors import CodedError
from rejoin_server.host.live import LiveGame, Subscriber

log = logging.getLogger(__name__)


class TokenPush:
    """The token pushes of one stream opened under `claim`. `check` on every wake of the stream
    (an item or a heartbeat, so a push may go out up to a ping interval after it is due): it
    starts a push when one is due; the push queues its block behind the events, unless by then
    the stream has ended or the seat has been won anew."""

    def __init__(
        self, svc: Services, live: LiveGame, subscriber: Subscriber, claim: str | None
    ) -> None:
        assert subscriber.player_id is not None
        self._svc = svc
        self._live = live
        self._subscriber = subscriber
        self._player_id = subscriber.player_id
        # The claim the stream opened under (`live.claims` as it subscribed): its tokens are that
        # claim's (`api.auth`). Once the seat is won anew (`note_claim`), the seat's tokens are
        # the new holder's, never this stream's.
        self._claim = claim
        settings = svc.settings
        self._every_ms = min(settings.token_ttl_ms, settings.session_ttl_ms) * TOKEN_REFRESH_AT
        self._due = svc.host.clock() + self._every_ms
        self._loop = asyncio.get_running_loop()
        self._task: asyncio.Task[None] | None = None
        self._interval_s = settings.ping_interval_ms / 1000
        self._backoff_s = self._interval_s
        self._retry_after = 0.0  # loop time before which a failed push is not tried again

    def check(self) -> None:
        if self._task is not None or self._loop.time() < self._retry_after:
            return
        if not self._still_ours():
            return
        if self._svc.host.clock() < self._due:
            return
        self._task = self._loop.create_task(self._push())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _push(self) -> None:
        svc = self._svc
        try:
            issued = await svc.tokens.current(self._live.game_id, self._player_id, svc.host.clock())
        except CodedError as exc:  # the store down: the stream goes on, and this is tried again
            svc.host.note_failure(exc)
            log.warning(
                "token push for player %s in game %s: %s", self._player_id, self._live.game_id, exc
            )
            self._retry_after = self._loop.time() + self._backoff_s
            self._backoff_s = min(self._backoff_s * 2, MAX_REFRESH_BACKOFF_S)
            return
        finally:
            self._task = None
        if not self._still_ours():
            return  # ended, or the seat won anew while the store was asked: not this stream's
        self._backoff_s = self._interval_s
        self._due = svc.host.clock() + self._every_ms
        fresh_session = session_token(svc, self._live, self._player_id)
        self._subscriber.push(sse_frames.token(issued, fresh_session))

    def _still_ours(self) -> bool:
        """Whether the stream goes on under the claim it opened with (a function: both change
        across an await)."""
        return (
            self._subscriber.end is None and self._live.claims.get(self._player_id) == self._claim
        )
