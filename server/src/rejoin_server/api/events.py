"""`GET /api/game/{gameId}/events`: the player's events as Server-Sent Events, or as JSON pages.

SSE (the blocks are `sse_frames`'): `id:` is the seq, so a browser's `EventSource` resumes by
itself with `Last-Event-ID`, also across a server restart, after the `retry:` the stream opens
with (`--sse-retry`). The stream subscribes *before* reading the backlog, then drops live events
it already sent, so nothing falls between the two. Beside the events it carries the other
players' presence, as the WebSocket does, and, on a stream authenticated by the header, fresh
tokens (`sse_tokens`). A heartbeat comment every ping interval of silence keeps proxies from
closing an idle stream. When the server ends the stream on purpose (the seat resumed elsewhere,
too far behind, shutting down) its last block is `event: close` with the WebSocket's close code
for the same end and what to do.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from rejoin_protocol.errors import ErrorCode
from rejoin_server.api import bodies, sse_frames
from rejoin_server.api.auth import bearer, player_claims, seated
from rejoin_server.api.context import Services, services
from rejoin_server.api.responses import ok
from rejoin_server.api.sse_tokens import TokenPush
from rejoin_server.errors import ApiError
from rejoin_server.host.host import GameHost
from rejoin_server.host.live import (
    END_HOLE,
    END_SLOW,
    LiveGame,
    Outgoing,
    PresenceNote,
    Subscriber,
)
from rejoin_server.host.reading import require_in_memory


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
        subscriber = svc.host.subscribe(live, claims.player_id, presence=True)
        # Who is at the table now, read under the same lock: with the presence the subscriber
        # gets from here on, the reader knows each player's presence exactly, even one that
        # changed between a `POST …/reconnect` and this stream (the SDK's SSE transport).
        present = _present(svc.host.view(live, claims.player_id), claims.player_id)
        upto = game.seq
        # The claim the stream opens under (`seated` checked it is the token's): its token
        # pushes stop once the seat is won anew.
        claim = live.claims.get(claims.player_id)
    # Tokens only to a stream that sent its session token in the header (see `sse_tokens`):
    # `player_claims` read the header when there was one.
    by_header = bearer(request) is not None
    stream = _stream(
        svc,
        live,
        subscriber,
        after=after,
        upto=upto,
        present=present,
        push_tokens=by_header,
        claim=claim,
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


async def _backlog(
    host: GameHost, live: LiveGame, player_id: str, *, after: int, upto: int, page: int
) -> AsyncIterator[tuple[int, bytes]]:
    """The events after `after` up to `upto` (each seq and block), read a page at a time."""
    sent = after
    while sent < upto:
        backlog = await host.events_after(live, sent, max(page, 1))
        if not backlog:
            return
        for event in backlog:
            seen = live.state.event_for(event, player_id)
            yield event.seq, sse_frames.event(event, orjson.dumps(seen.to_json()).decode())
            sent = event.seq


async def _stream(
    svc: Services,
    live: LiveGame,
    subscriber: Subscriber,
    *,
    after: int,
    upto: int,
    present: list[PresenceNote],
    push_tokens: bool,
    claim: str | None,
) -> AsyncIterator[bytes]:
    player_id = subscriber.player_id
    assert player_id is not None
    host, settings = svc.host, svc.settings
    # The server's ping interval (5 s by default): well under the SDK's 15 s silence timeout, and
    # under the minute or so after which proxies close an idle connection.
    heartbeat_s = settings.ping_interval_ms / 1000
    tokens = TokenPush(svc, live, subscriber, claim) if push_tokens else None
    try:
        yield sse_frames.opening(settings.sse_retry_ms) + b"".join(
            map(sse_frames.presence, present)
        )
        sent = after
        page = settings.replay_limit
        async for seq, block in _backlog(host, live, player_id, after=after, upto=upto, page=page):
            yield block
            sent = seq
        while True:
            if subscriber.end is not None:
                yield _closing(svc, subscriber.end)
                return
            if tokens is not None:
                tokens.check()  # on every wake: an item, or a heartbeat
            try:
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation
                # (the client gone) that arrives as an item does.
                async with asyncio.timeout(heartbeat_s):
                    item = await subscriber.queue.get()
            except TimeoutError:
                yield sse_frames.PING
                continue
            if _ended(subscriber):
                # Ended while this item waited (as the WebSocket's writer): nothing more goes out
                # but the close, not even an event queued before the end (a player a rollback
                # unseated gets neither its `snapshot_restored` nor anything after it).
                continue
            if isinstance(item, Outgoing):
                event = item.event
                if event.seq <= sent:
                    continue
                if event.seq != sent + 1:
                    # A hole would be a lost event. The end the WebSocket gets in the same case
                    # (1012): the missing events are in the store, so the client resumes from
                    # `sent` at once (1013 would make it wait, as for an overload).
                    yield _closing(svc, END_HOLE)
                    return
                yield sse_frames.event(event, item.json_for(live.state, player_id))
                sent = event.seq
            elif item is not None:  # None only wakes the stream to look at `end`
                yield _other_block(item)
    finally:
        if tokens is not None:
            tokens.stop()
        host.unsubscribe(live, subscriber)


def _present(view: dict[str, Any], player_id: str) -> list[PresenceNote]:
    """Each other seated player's presence in `view` (a game whose view has no `seats` has none)."""
    seats = view.get("seats")
    return [
        PresenceNote(seat["playerId"], bool(seat.get("connected")))
        for seat in (seats if isinstance(seats, list) else ())
        if isinstance(seat, dict)
        and isinstance(seat.get("playerId"), str)
        and seat["playerId"] != player_id
    ]


def _other_block(item: PresenceNote | str) -> bytes:
    if isinstance(item, PresenceNote):
        return sse_frames.presence(item)
    return item.encode()  # a block queued by the stream's own task (a token)


def _closing(svc: Services, end: tuple[int, str]) -> bytes:
    """The stream's final block, counted as the WebSocket's ends are."""
    if end is END_SLOW:
        svc.metrics.readers_dropped.labels("slow").inc()
    elif end[1].startswith("superseded"):
        svc.metrics.readers_dropped.labels("superseded").inc()
    return sse_frames.close(end)


def _ended(subscriber: Subscriber) -> bool:
    """Whether the stream must end (a function: `end` changes across an await)."""
    return subscriber.end is not None
