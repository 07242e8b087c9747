"""`GET /api/game/{gameId}/events`: the player's events as Server-Sent Events, or as JSON pages.

SSE: `id:` is the seq, so a browser's `EventSource` resumes by itself with `Last-Event-ID`, also
across a server restart, after the `retry:` the stream opens with (`--sse-retry`). The stream
subscribes *before* reading the backlog, then drops live events it already sent, so nothing falls
between the two. A heartbeat comment keeps proxies from closing an idle stream. A reader that
falls too far behind is cut off; it resumes from its last id.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from rejoin_protocol.errors import ErrorCode
from rejoin_server.api import bodies
from rejoin_server.api.auth import player_claims, seated
from rejoin_server.api.context import services
from rejoin_server.api.responses import ok
from rejoin_server.errors import ApiError
from rejoin_server.games.base import Event, GameState
from rejoin_server.host.host import GameHost
from rejoin_server.host.live import LiveGame, Outgoing, Subscriber
from rejoin_server.host.reading import require_in_memory

HEARTBEAT_S = 10.0


async def events(request: Request) -> Response:
    svc = services(request)
    game_id = request.path_params["game_id"]
    claims = player_claims(request, svc, game_id, allow_query=True)
    after = bodies.query_int(request, "after")
    live = await svc.host.get(game_id)
    accept = request.headers.get("accept", "")
    if "application/json" in accept and "text/event-stream" not in accept:
        async with svc.host.reading(live) as game:
            seated(live, claims)
            _not_past_the_end(after or 0, game.seq)
            found = await svc.host.events_after(live, after or 0, svc.settings.replay_limit)
            return ok(
                {
                    "events": [game.event_for(e, claims.player_id).to_json() for e in found],
                    "seq": game.seq,
                }
            )
    last_id = request.headers.get("last-event-id", "")
    if bodies.is_seq(last_id):
        after = int(last_id)
    after = after or 0
    async with svc.host.reading(live) as game:
        seated(live, claims)
        _not_past_the_end(after, game.seq)
        # Said now, as an answer: once the stream has begun, it could only break off.
        require_in_memory(live, after)
        # Subscribed under the lock, at a published seq: every later event reaches the queue.
        subscriber = svc.host.subscribe(live, claims.player_id)
        upto = game.seq
    stream = _stream(
        svc.host,
        live,
        subscriber,
        after=after,
        upto=upto,
        page=svc.settings.replay_limit,
        retry_ms=svc.settings.sse_retry_ms,
    )
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _not_past_the_end(after: int, seq: int) -> None:
    """A client ahead of the game saw events that are gone (relaxed durability and a crash): it
    must reload, not wait for seqs that will mean something else."""
    if after > seq:
        raise ApiError(
            ErrorCode.STALE_STATE,
            f"You are past this game's last event ({seq}); load its state again "
            "(GET …/state) and resume from its seq.",
        )


def _frame(event: Event, data: str) -> bytes:
    return f"id: {event.seq}\nevent: {event.kind}\ndata: {data}\n\n".encode()


def _backlog_frame(state: GameState, event: Event, player_id: str) -> bytes:
    return _frame(event, orjson.dumps(state.event_for(event, player_id).to_json()).decode())


async def _stream(
    host: GameHost,
    live: LiveGame,
    subscriber: Subscriber,
    *,
    after: int,
    upto: int,
    page: int,
    retry_ms: int,
) -> AsyncIterator[bytes]:
    player_id = subscriber.player_id
    assert player_id is not None
    try:
        # `retry:` first: a browser that loses this stream (a restart) tries again that soon,
        # not after its own default of 3 s.
        yield f"retry: {retry_ms}\n: connected\n\n".encode()
        sent = after
        while sent < upto:  # the backlog, a page at a time
            backlog = await host.events_after(live, sent, max(page, 1))
            if not backlog:
                break
            for event in backlog:
                yield _backlog_frame(live.state, event, player_id)
                sent = event.seq
        while True:
            if subscriber.end is not None:
                return  # too far behind, or shutting down: the client resumes from its last id
            try:
                item = await asyncio.wait_for(subscriber.queue.get(), HEARTBEAT_S)
            except TimeoutError:
                yield b": ping\n\n"
                continue
            if _ended(subscriber):
                # Ended while this item waited (as the WebSocket's writer): nothing more goes out,
                # not even an event queued before the end (a player a rollback unseated gets
                # neither its `snapshot_restored` nor anything after it).
                return
            if not isinstance(item, Outgoing):
                continue  # None wakes us to look at `end`; presence is not part of SSE
            event = item.event
            if event.seq <= sent:
                continue
            if event.seq != sent + 1:
                return  # a hole would be a lost event: end, the client resumes from `sent`
            yield _frame(event, item.json_for(live.state, player_id))
            sent = event.seq
    finally:
        host.unsubscribe(live, subscriber)


def _ended(subscriber: Subscriber) -> bool:
    """Whether the stream must end (a function: `end` changes across an await)."""
    return subscriber.end is not None
