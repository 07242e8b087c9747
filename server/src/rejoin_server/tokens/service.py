"""Issuing and using reconnect tokens: the single-use rule (docs/protocol.md, resume rules).

Using a token is one compare-and-set in the store (`consume_token`): of concurrent uses exactly one
wins. A loser is told why:

- the winner itself retrying (same `clientId`; its answer was lost) gets the same new token again;
- a use within `CONFLICT_WINDOW_MS` of the winning one, while the winner's new token is still
  unused, is a race for the seat: `seat_conflict`;
- anything later (or once the winner has moved on to its next token) is a replay: `token_reused`.

A use that wins the seat anew (a reconnect, a `hello`) gives it a new *claim*, stored with the
token in one transaction: session tokens name their claim, and older claims stop working. A
connected channel rotating its own token keeps the claim. `current` answers the seat's newest
live token rather than minting one more: a seat has one live reconnect token at a time.

A player who logs in again (`reclaim`, docs/games.md "Players from your login") has no token: the
seat's live one is used up on their behalf, as a reconnect from another device would use it, so
whoever held it meets the same refusals (`seat_conflict` for a moment, then `token_reused`).

The rows of a game kept in memory only (durability `memory`, told by its id) are kept in memory
too (`memory_store`, the same compare-and-set on one event loop): such a game costs the store no
write, and its players reconnect, by the same rules, as long as the process that holds it lives.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rejoin_protocol.errors import ErrorCode
from rejoin_server.durability import is_memory_id
from rejoin_server.errors import ApiError
from rejoin_server.store.base import GameStore, TokenRow
from rejoin_server.timefmt import iso_ms
from rejoin_server.tokens.signing import Claims, TokenSigner

if TYPE_CHECKING:
    from rejoin_server.metrics import Metrics

# Long enough to cover a burst of clients racing for one seat after a restart, short enough that
# a stolen token replayed later is reported as what it is.
CONFLICT_WINDOW_MS = 5_000
# How often `reclaim` tries again when the seat's live token was used under its feet (each time
# by the seat's own connection, resuming or rotating its token), before it calls it a conflict.
RECLAIM_ATTEMPTS = 4


def new_claim() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    player_id: str
    expires_at: int
    game_id: str
    jti: str
    # The new claim on the seat this token came with (join, or a use that won the seat); None
    # when the claim did not change (a rotation, the winner retrying, `current`).
    claimed: str | None = None

    @property
    def claims(self) -> Claims:
        """What the token says, without verifying our own signature again."""
        return Claims(self.game_id, self.player_id, self.jti)

    def to_json(self) -> dict[str, Any]:
        return {
            "token": self.token,
            "expiresAt": iso_ms(self.expires_at),
            "playerId": self.player_id,
        }


class ReconnectTokens:
    def __init__(
        self,
        store: GameStore,
        signer: TokenSigner,
        *,
        ttl_ms: int,
        memory_store: GameStore | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._metrics = metrics  # counts issued and consumed rows (None: nobody counts)
        self._store = store
        # The token rows of the games kept in memory only (None: they go to `store` as well).
        self._memory_store = memory_store or store
        self._signer = signer
        self._ttl_ms = ttl_ms

    def _store_of(self, game_id: str) -> GameStore:
        return self._memory_store if is_memory_id(game_id) else self._store

    def _row(self, game_id: str, player_id: str, now_ms: int) -> TokenRow:
        return TokenRow(uuid.uuid4().hex, game_id, player_id, now_ms, now_ms + self._ttl_ms)

    def _count(self, *, consumed: bool) -> None:
        """A new row was stored, in place of a consumed one when `consumed`."""
        if self._metrics is not None:
            self._metrics.tokens_issued.inc()
            if consumed:
                self._metrics.tokens_consumed.inc()

    def _issued(self, row: TokenRow, claimed: str | None = None) -> IssuedToken:
        token = self._signer.reconnect_token(row.game_id, row.player_id, row.jti)
        return IssuedToken(token, row.player_id, row.expires_at, row.game_id, row.jti, claimed)

    async def issue(
        self, game_id: str, player_id: str, now_ms: int, *, claim: str | None = None
    ) -> IssuedToken:
        """A new token row; with `claim`, the seat's claim becomes it (a join)."""
        row = self._row(game_id, player_id, now_ms)
        await self._store_of(game_id).insert_token(row, claim=claim)
        self._count(consumed=False)
        return self._issued(row, claim)

    async def current(self, game_id: str, player_id: str, now_ms: int) -> IssuedToken:
        """The seat's newest unused token (signed anew) while more than half its life is left,
        else a new one, so that what is handed out lasts: a seat has one live token, two while
        the older runs out. The claim stays as it is."""
        row = await self._store_of(game_id).current_token(game_id, player_id, now_ms)
        if row is not None and row.expires_at - now_ms > self._ttl_ms / 2:
            return self._issued(row)
        return await self.issue(game_id, player_id, now_ms)

    async def reclaim(self, game_id: str, player_id: str, now_ms: int) -> IssuedToken:
        """A new token of the seat with a new claim, for its player logged in again without a
        token: the seat's live token (if any) is consumed in its favour, in one compare-and-set
        with storing it and the claim. Raises `seat_conflict` if that token keeps being used by
        someone else first."""
        claim = new_claim()
        client = f"login-{uuid.uuid4().hex}"  # recorded on the token it uses up; never retries
        store = self._store_of(game_id)
        for _ in range(RECLAIM_ATTEMPTS):
            live = await store.current_token(game_id, player_id, now_ms)
            replacement = self._row(game_id, player_id, now_ms)
            if live is None:
                await store.insert_token(replacement, claim=claim)
                self._count(consumed=False)
                return self._issued(replacement, claim)
            used = await store.consume_token(
                live.jti, client_id=client, now_ms=now_ms, replacement=replacement, claim=claim
            )
            if used.won:
                self._count(consumed=True)
                return self._issued(replacement, claim)
        raise ApiError(
            ErrorCode.SEAT_CONFLICT,
            "Your seat is being resumed by another connection at this very moment; try again.",
        )

    async def use(
        self, claims: Claims, client_id: str | None, now_ms: int, *, reclaim: bool
    ) -> IssuedToken:
        """Consume the token of `claims`, return its successor. `reclaim`: the seat is won anew
        (a reconnect or `hello`; False for a channel rotating its own token), so a win gives it
        a new claim. Raises the token_* codes and `seat_conflict`."""
        replacement = self._row(claims.game_id, claims.player_id, now_ms)
        claim = new_claim() if reclaim else None
        # A caller without a clientId can never be recognised as retrying.
        client = client_id or f"anonymous-{uuid.uuid4().hex}"
        store = self._store_of(claims.game_id)
        result = await store.consume_token(
            claims.jti, client_id=client, now_ms=now_ms, replacement=replacement, claim=claim
        )
        row = result.row
        if result.won:
            self._count(consumed=True)
            if row is not None and row.expires_at <= now_ms:
                raise _expired()
            return self._issued(replacement, claim)
        if row is None or row.game_id != claims.game_id or row.player_id != claims.player_id:
            raise ApiError(
                ErrorCode.TOKEN_INVALID,
                "This reconnect token is not known here (its game may have been deleted); "
                "join a game again.",
            )
        if row.consumed_at is None or row.expires_at <= now_ms:
            raise _expired()
        successor = await store.get_token(row.next_jti) if row.next_jti else None
        # The winner retrying (its answer was lost) gets its successor again, but only while
        # that successor is unused: an old token must not walk forward to the seat's newest one.
        if (
            client_id is not None
            and row.client_id == client_id
            and successor is not None
            and successor.consumed_at is None
            and successor.expires_at > now_ms
        ):
            return self._issued(successor)
        if (
            now_ms - row.consumed_at < CONFLICT_WINDOW_MS
            and successor is not None
            and successor.consumed_at is None
        ):
            raise ApiError(
                ErrorCode.SEAT_CONFLICT,
                "Another client reconnected to this seat with the same token a moment ago; "
                "the first one wins. Close the other tab or client to play here.",
            )
        raise ApiError(
            ErrorCode.TOKEN_REUSED,
            "This reconnect token was already used; reconnect with the newest token you were "
            "given, or join the game again.",
        )


def _expired() -> ApiError:
    return ApiError(
        ErrorCode.TOKEN_EXPIRED,
        "This reconnect token has expired; join the game again for a new seat.",
    )
