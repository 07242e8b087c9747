"""`GET /api/game/{gameId}/events`: the player's events as Server-Sent Events, or as JSON pages.

SSE: `id:` is the seq, so a browser's `EventSource` resumes by itself with `Last-Event-ID`, also
across a server restart. The stream subscribes *before* reading the backlog, then drops live
events it already sent, so nothing falls between the two. A heartbeat comment keeps proxies from
closing an idle stream. A reader that falls too far behind is cut off; it resumes from its last id.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from rejoin_server.api import bodies
from rejoin_server.api.auth import player_claims, seated
from rejoin_server.api.context import services
from rejoin_server.api.responses import ok
from rejoin_server.games.base import Event, GameState
from rejoin_server.host.host import GameHost
from rejoin_server.host.live import LiveGame, Subscriber

HEARTBEAT_S = 10.0


async def events(request: Request) -> Response:
    svc = services(request)
    game_id = request.path_params["game_id"]
    claims = player_claims(request, svc, game_id, allow_query=True)
    after = bodies.query_int(request, "after")
    live = await svc.host.get(game_id)
    seated(live, claims)
    accept = request.headers.get("accept", "")
    if "application/json" in accept and "text/event-stream" not in accept:
        start = after or 0
        found = await svc.host.events_after(live, start, svc.settings.replay_limit)
        state = live.state
        return ok(
            {
                "events": [state.event_for(e, claims.player_id).to_json() for e in found],
                "seq": state.seq,
            }
        )
    last_id = request.headers.get("last-event-id", "")
    if bodies.is_seq(last_id):
        after = int(last_id)
    stream = _stream(svc.host, live, claims.player_id, after or 0)
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _frame(state: GameState, event: Event, player_id: str) -> bytes:
    seen = state.event_for(event, player_id)
    data = orjson.dumps(seen.to_json()).decode()
    return f"id: {seen.seq}\nevent: {seen.kind}\ndata: {data}\n\n".encode()


async def _stream(
    host: GameHost, live: LiveGame, player_id: str, after: int
) -> AsyncIterator[bytes]:
    subscriber = host.subscribe(live, player_id)
    try:
        yield b": connected\n\n"
        sent = after
        backlog = await host.events_after(live, after)
        for event in backlog:
            yield _frame(live.state, event, player_id)
            sent = event.seq
        async for event in _live(subscriber):
            if event.seq <= sent:
                continue
            if event.seq != sent + 1:
                # A gap would mean a lost event: end the stream, the client resumes from `sent`.
                break
            yield _frame(live.state, event, player_id)
            sent = event.seq
    finally:
        host.unsubscribe(live, subscriber)


async def _live(subscriber: Subscriber) -> AsyncIterator[Event]:
    """New events, with `None` turned into the end of the stream and silence into heartbeats."""
    while True:
        if subscriber.overflowed and subscriber.queue.empty():
            return
        try:
            event = await asyncio.wait_for(subscriber.queue.get(), HEARTBEAT_S)
        except TimeoutError:
            yield _HEARTBEAT
            continue
        if event is None:
            return
        yield event


class _Heartbeat(Event):
    pass


_HEARTBEAT = _Heartbeat(seq=-1, kind="heartbeat", at=0, data={})
