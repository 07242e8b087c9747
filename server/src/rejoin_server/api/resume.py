"""Getting a seat back: the one resume path of a WebSocket `hello` (api/ws.py) and of
`POST …/reconnect` (api/reconnect.py).

A resume names the game, the player, their reconnect token, and how far they had read (the last
seq and the epoch it belongs to). It is refused, in this order, when:

1. the token does not verify (`token_invalid`, or `token_expired` past its signed lifetime), or
   is for another game or player (`forbidden`);
2. the player has resumed too often (`rate_limited`, `--rate-connect`);
3. the game does not exist (`game_not_found`);
4. the player holds no seat in it (`player_not_in_game`);
5. the game is over (`game_completed`, with the final state in `details.gameState`);
6. the token cannot be used: unknown or expired in the store (`token_invalid`, `token_expired`),
   already used (`token_reused`), or used a moment ago by another client (`seat_conflict`).

Everything the answer says (the seat, the view, the missed events) is read under the game's lock,
so it is committed, and the token is used last: a refusal before that leaves it as it was. Once
the token is used the seat is this resume's, and a WebSocket that held it is closed with 4409
`superseded`.

The two transports differ only in what they add: a WebSocket subscribes to the game's events
under that same lock (so no event falls between the welcome and the live stream) and its view
shows the player as connected; an HTTP reconnect connects nobody. A refusal connects nobody either:
the final state a completed game answers with shows who is connected as it stands.

After a restart every client resumes at once. Past its game's load, a resume runs inside
`Services.resuming` (`RESUMES_AT_ONCE` at a time, first come first served): without it the event
loop takes each of a thousand resumes one step at a time, round-robin, and the first answer
waits until every resume has reached its token's write; with it, the first resumes are answered
while later ones wait their turn, and the token writes still go in batches. The game's load stays
outside: a resume that waits for its game (loaded from the store, or moving from another node)
holds no place. A place is held while the resume waits for its game's lock (behind a commit in
flight) and for the store, so while the store stalls (its connection timeout is 3 s) the resumes
holding the places wait with it, and the others wait for them: they would have waited for the same
store anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rejoin_protocol.errors import ErrorCode
from rejoin_server.api.context import Services
from rejoin_server.errors import ApiError, CodedError
from rejoin_server.games.base import GameState
from rejoin_server.host.live import LiveGame, Subscriber
from rejoin_server.tokens.service import IssuedToken
from rejoin_server.tokens.signing import Claims

# A resume refused for its reconnect token: `rejoin_tokens_refused_total{code}`.
TOKEN_REFUSALS = frozenset(
    {
        ErrorCode.TOKEN_INVALID,
        ErrorCode.TOKEN_EXPIRED,
        ErrorCode.TOKEN_REUSED,
        ErrorCode.SEAT_CONFLICT,
    }
)


@dataclass(frozen=True, slots=True)
class ResumeRequest:
    """What a client says to resume, over either transport."""

    game_id: str
    player_id: str
    token: str
    client_id: str | None
    last_seq: int | None
    last_epoch: str | None


@dataclass(frozen=True, slots=True)
class Resumed:
    """A resume that won the seat: what its answer (a `welcome`, a reconnect body) is made of."""

    live: LiveGame
    player_id: str
    seat: int
    seq: int  # the game's seq when everything below was read
    view: dict[str, Any]
    missed: list[dict[str, Any]]
    resync: bool
    token: IssuedToken  # the successor of the token the resume used
    now: int  # the host clock when the token was used
    # The WebSocket's reader of the events after `seq`, now the player's socket; None over HTTP.
    subscriber: Subscriber | None


async def resume(svc: Services, request: ResumeRequest, *, subscribe: bool) -> Resumed:
    """Resume `request`'s seat, or raise the refusal (see the module docstring for which, in
    what order). `subscribe`: a WebSocket's resume, which subscribes to the game's events and
    takes the seat's socket; its caller must `unsubscribe` should it fail before the channel
    runs."""
    try:
        claims = _checked_claims(svc, request.token, request.game_id, request.player_id)
        resuming = _limit_resumes(svc, claims)
        live = await svc.host.get(request.game_id)
        async with svc.resuming:
            return await _resume(svc, request, claims, resuming, live, subscribe=subscribe)
    except CodedError as exc:
        if exc.code in TOKEN_REFUSALS:
            svc.metrics.tokens_refused.labels(exc.code.value).inc()
        raise


async def _resume(
    svc: Services,
    request: ResumeRequest,
    claims: Claims,
    resuming: _Resuming,
    live: LiveGame,
    *,
    subscribe: bool,
) -> Resumed:
    """`resume` once the token checked out and the game is loaded: the answer read under the
    game's lock, then the token used."""
    host = svc.host
    player_id = request.player_id
    subscriber: Subscriber | None = None
    async with host.reading(live) as game:
        seat = _seat_held(game, player_id)
        if game.status == "completed":
            raise ApiError(
                ErrorCode.GAME_COMPLETED,
                "This game is over; its final result is in `details.gameState`. Join a new game.",
                # Who is connected as it stands: a refused resume connects nobody.
                details={"gameState": host.view(live, player_id)},
            )
        missed, resync = await host.missed_events(
            live, player_id, request.last_seq, request.last_epoch
        )
        seq = game.seq
        # The view (with who is connected) and the subscription with no await between them:
        # presence changes take no lock, and one in between would be in neither. Subscribed
        # under the lock, at a published seq: every later event reaches the queue.
        view = host.view(live, player_id, also=player_id if subscribe else None)
        if subscribe:
            subscriber = host.subscribe(live, player_id, presence=True, count=False)
    # Still connected (the drop not noticed yet, or another device taking the seat): the
    # console does not time this resume's outage (`console.activity`).
    connected = live.is_connected(player_id)
    try:
        now = host.clock()
        fresh = await svc.tokens.use(claims, request.client_id, now, reclaim=True)
        resuming.succeeded()
        host.activity.resumed(live.game_id, player_id, connected=connected, resync=resync)
        host.note_claim(live, player_id, fresh.claimed, keep=subscriber)
        if subscriber is not None:
            host.take_seat(live, subscriber)  # supersedes the seat's older socket
        else:
            host.supersede(live, player_id)
    except BaseException:
        if subscriber is not None:
            host.unsubscribe(live, subscriber)  # not this socket's seat after all
        raise
    return Resumed(live, player_id, seat, seq, view, missed, resync, fresh, now, subscriber)


def _checked_claims(svc: Services, token: str, game_id: str, player_id: str) -> Claims:
    """The claims of a reconnect token, checked to be for this game and this player. Raises
    token_invalid/token_expired, or forbidden."""
    claims = svc.signer.check_reconnect(token)
    if claims.game_id != game_id:
        raise ApiError(
            ErrorCode.FORBIDDEN, "This reconnect token is for another game; use that game's token."
        )
    if claims.player_id != player_id:
        raise ApiError(
            ErrorCode.FORBIDDEN,
            "This reconnect token belongs to another player; use your own token.",
        )
    return claims


@dataclass(frozen=True, slots=True)
class _Resuming:
    """A resume let through by the per-player limit, to be counted once it has won the seat."""

    svc: Services
    key: str

    def succeeded(self) -> None:
        self.svc.limiter.spend("resume", self.svc.settings.rate_connect, self.key)


def _limit_resumes(svc: Services, claims: Claims) -> _Resuming:
    """`--rate-connect`: resumes (a `hello`, a `POST …/reconnect`) per player. A resume counts
    once it has won the seat, so someone replaying a spent token of the player (refused) cannot
    empty the player's bucket; refusals count against their address (`--rate-connect-address`,
    charged at the WebSocket's upgrade and at the HTTP reconnect)."""
    key = f"{claims.game_id}/{claims.player_id}"
    svc.limiter.check("resume", svc.settings.rate_connect, key, "reconnects", spend=False)
    return _Resuming(svc, key)


def _seat_held(game: GameState, player_id: str) -> int:
    """The seat `player_id` holds, or player_not_in_game: only a seated player can resume."""
    seat = game.seat_of(player_id)
    if seat is None:
        raise ApiError(
            ErrorCode.PLAYER_NOT_IN_GAME,
            "That player holds no seat in this game; a player can only reconnect to a game "
            "they joined.",
        )
    return seat
