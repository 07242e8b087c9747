"""`ReconnectTokens` over the in-memory store: issuing, the single use, first-wins races, the same
client retrying, replays and unknown tokens (docs/architecture.md)."""

from __future__ import annotations

import asyncio
import re
import uuid

import pytest

from rejoin_protocol.errors import ErrorCode
from rejoin_server.errors import ApiError
from rejoin_server.metrics import Metrics
from rejoin_server.store.base import TokenRow
from rejoin_server.store.memory import MemoryGameStore
from rejoin_server.testing.store_samples import claims_of
from rejoin_server.tokens.service import (
    CONFLICT_WINDOW_MS,
    RECLAIM_ATTEMPTS,
    IssuedToken,
    ReconnectTokens,
)
from rejoin_server.tokens.signing import Claims, TokenSigner

T0 = 1_700_000_000_000
TTL_MS = 30 * 60_000


@pytest.fixture
def store() -> MemoryGameStore:
    return MemoryGameStore()


@pytest.fixture
def signer() -> TokenSigner:
    return TokenSigner(["key"], token_ttl_ms=TTL_MS, session_ttl_ms=3_600_000)


@pytest.fixture
def tokens(store: MemoryGameStore, signer: TokenSigner) -> ReconnectTokens:
    return ReconnectTokens(store, signer, ttl_ms=TTL_MS)


async def use(
    tokens: ReconnectTokens,
    signer: TokenSigner,
    issued: IssuedToken,
    client_id: str | None,
    now_ms: int,
) -> IssuedToken:
    return await tokens.use(signer.check_reconnect(issued.token), client_id, now_ms, reclaim=True)


async def refused(
    code: ErrorCode,
    tokens: ReconnectTokens,
    signer: TokenSigner,
    issued: IssuedToken,
    client_id: str | None,
    now_ms: int,
) -> ApiError:
    with pytest.raises(ApiError) as caught:
        await use(tokens, signer, issued, client_id, now_ms)
    assert caught.value.code == code, caught.value.message
    return caught.value


def jti(signer: TokenSigner, issued: IssuedToken) -> str:
    return signer.check_reconnect(issued.token).jti


async def test_issue_stores_a_row_and_signs_ids_only(
    tokens: ReconnectTokens, signer: TokenSigner, store: MemoryGameStore
) -> None:
    issued = await tokens.issue("game-1", "player-1", T0)
    claims = signer.check_reconnect(issued.token)
    assert (claims.game_id, claims.player_id) == ("game-1", "player-1")
    assert re.fullmatch(r"[0-9a-f]{32}", claims.jti)  # uuid4().hex
    row = await store.get_token(claims.jti)
    assert row is not None
    assert (row.game_id, row.player_id, row.issued_at, row.expires_at) == (
        "game-1",
        "player-1",
        T0,
        T0 + TTL_MS,
    )
    assert row.consumed_at is None
    assert issued.expires_at == T0 + TTL_MS
    assert issued.to_json() == {
        "token": issued.token,
        "expiresAt": "2023-11-14T22:43:20.000Z",
        "playerId": "player-1",
    }
    other = await tokens.issue("game-1", "player-1", T0)
    assert jti(signer, other) != claims.jti


async def test_using_a_token_consumes_it_and_returns_a_successor(
    tokens: ReconnectTokens, signer: TokenSigner, store: MemoryGameStore
) -> None:
    issued = await tokens.issue("game-1", "player-1", T0)
    fresh = await use(tokens, signer, issued, "client-a", T0 + 10)
    assert fresh.player_id == "player-1"
    assert fresh.expires_at == T0 + 10 + TTL_MS
    old = await store.get_token(jti(signer, issued))
    assert old is not None
    assert (old.consumed_at, old.client_id, old.next_jti) == (
        T0 + 10,
        "client-a",
        jti(signer, fresh),
    )
    new = await store.get_token(jti(signer, fresh))
    assert new is not None
    assert new.consumed_at is None
    # The successor is itself usable once.
    third = await use(tokens, signer, fresh, "client-a", T0 + 20)
    assert jti(signer, third) not in (jti(signer, issued), jti(signer, fresh))


async def test_of_twenty_concurrent_uses_one_wins_the_others_get_seat_conflict(
    tokens: ReconnectTokens, signer: TokenSigner
) -> None:
    issued = await tokens.issue("game-1", "player-1", T0)
    results = await asyncio.gather(
        *(use(tokens, signer, issued, f"client-{i}", T0 + 5) for i in range(20)),
        return_exceptions=True,
    )
    winners = [r for r in results if isinstance(r, IssuedToken)]
    losers = [r for r in results if not isinstance(r, IssuedToken)]
    assert len(winners) == 1
    assert len(losers) == 19
    assert all(isinstance(r, ApiError) and r.code == ErrorCode.SEAT_CONFLICT for r in losers)
    message = losers[0].message if isinstance(losers[0], ApiError) else ""
    assert "first one wins" in message


async def test_the_same_client_retrying_gets_the_same_successor(
    tokens: ReconnectTokens, signer: TokenSigner
) -> None:
    issued = await tokens.issue("game-1", "player-1", T0)
    first = await use(tokens, signer, issued, "client-a", T0 + 5)
    retry = await use(tokens, signer, issued, "client-a", T0 + 6)
    assert jti(signer, retry) == jti(signer, first)
    assert retry.expires_at == first.expires_at
    # A lost answer must not lock the player out, however late the retry (within the lifetime).
    late = await use(tokens, signer, issued, "client-a", T0 + CONFLICT_WINDOW_MS + 60_000)
    assert jti(signer, late) == jti(signer, first)


async def test_the_same_client_wins_a_race_with_itself_once(
    tokens: ReconnectTokens, signer: TokenSigner
) -> None:
    issued = await tokens.issue("game-1", "player-1", T0)
    results = await asyncio.gather(
        *(use(tokens, signer, issued, "client-a", T0 + 5) for _ in range(5))
    )
    assert len({jti(signer, r) for r in results}) == 1


async def test_a_client_without_an_id_is_never_taken_for_a_retry(
    tokens: ReconnectTokens, signer: TokenSigner
) -> None:
    issued = await tokens.issue("game-1", "player-1", T0)
    await use(tokens, signer, issued, None, T0 + 5)
    await refused(ErrorCode.SEAT_CONFLICT, tokens, signer, issued, None, T0 + 6)


async def test_another_client_after_the_conflict_window_gets_token_reused(
    tokens: ReconnectTokens, signer: TokenSigner
) -> None:
    issued = await tokens.issue("game-1", "player-1", T0)
    await use(tokens, signer, issued, "client-a", T0 + 5)
    await refused(
        ErrorCode.SEAT_CONFLICT, tokens, signer, issued, "client-b", T0 + CONFLICT_WINDOW_MS + 4
    )
    error = await refused(
        ErrorCode.TOKEN_REUSED, tokens, signer, issued, "client-b", T0 + CONFLICT_WINDOW_MS + 5
    )
    assert "already used" in error.message


async def test_once_the_winner_used_its_successor_another_client_gets_token_reused(
    tokens: ReconnectTokens, signer: TokenSigner
) -> None:
    issued = await tokens.issue("game-1", "player-1", T0)
    successor = await use(tokens, signer, issued, "client-a", T0 + 5)
    await use(tokens, signer, successor, "client-a", T0 + 6)
    await refused(ErrorCode.TOKEN_REUSED, tokens, signer, issued, "client-b", T0 + 7)


async def test_once_the_winner_used_its_successor_its_old_token_is_token_reused(
    tokens: ReconnectTokens, signer: TokenSigner
) -> None:
    """The retry rule is for a lost answer. Once the successor has been used, the answer to the old
    token evidently arrived: a later use of the old token is a replay, even with the same clientId
    (a clientId travels in request bodies; it is not a secret). Otherwise any old token plus the
    clientId walks the chain up to the seat's live token."""
    issued = await tokens.issue("game-1", "player-1", T0)
    successor = await use(tokens, signer, issued, "client-a", T0 + 5)
    newest = await use(tokens, signer, successor, "client-a", T0 + 6)
    assert jti(signer, newest) != jti(signer, successor)
    await refused(ErrorCode.TOKEN_REUSED, tokens, signer, issued, "client-a", T0 + 7)


async def test_an_unknown_jti_is_token_invalid(
    tokens: ReconnectTokens, signer: TokenSigner
) -> None:
    never_stored = IssuedToken(
        signer.reconnect_token("game-1", "player-1", "0" * 32), "p", T0, "game-1", "0" * 32
    )
    error = await refused(ErrorCode.TOKEN_INVALID, tokens, signer, never_stored, "client-a", T0)
    assert "not known" in error.message


async def test_a_jti_of_another_player_or_game_is_token_invalid(
    tokens: ReconnectTokens, signer: TokenSigner
) -> None:
    issued = await tokens.issue("game-1", "player-1", T0)
    await use(tokens, signer, issued, "client-a", T0 + 1)  # consumed: the row is read back
    stolen_jti = jti(signer, issued)
    for game_id, player_id in (("game-1", "player-2"), ("game-2", "player-1")):
        with pytest.raises(ApiError) as caught:
            await tokens.use(
                Claims(game_id, player_id, stolen_jti), "client-a", T0 + 2, reclaim=True
            )
        assert caught.value.code == ErrorCode.TOKEN_INVALID


async def test_a_deleted_games_token_is_token_invalid(
    tokens: ReconnectTokens, signer: TokenSigner, store: MemoryGameStore
) -> None:
    await store.create_game("game-1", "poker", {}, T0)
    issued = await tokens.issue("game-1", "player-1", T0)
    await store.delete_game("game-1")
    await refused(ErrorCode.TOKEN_INVALID, tokens, signer, issued, "client-a", T0 + 1)


async def test_a_token_used_after_its_stored_expiry_is_token_expired(
    tokens: ReconnectTokens, signer: TokenSigner, store: MemoryGameStore
) -> None:
    """`GameStore.consume_token` leaves expiry to its caller ("the caller compares `expires_at`
    with its clock"): a row past its `expires_at` must not be consumed as if it were fresh."""
    issued = await tokens.issue("game-1", "player-1", T0)
    row = await store.get_token(jti(signer, issued))
    assert row is not None
    await refused(ErrorCode.TOKEN_EXPIRED, tokens, signer, issued, "client-a", row.expires_at + 1)


async def test_a_use_refused_as_expired_is_counted_neither_issued_nor_consumed(
    store: MemoryGameStore, signer: TokenSigner
) -> None:
    """The use wins the store's race with a row past its expiry: the client is refused, so the
    console's and Prometheus's counts must not call it a resume's successor issued."""
    metrics = Metrics()
    tokens = ReconnectTokens(store, signer, ttl_ms=TTL_MS, metrics=metrics)
    issued = await tokens.issue("game-1", "player-1", T0)
    row = await store.get_token(jti(signer, issued))
    assert row is not None
    await refused(ErrorCode.TOKEN_EXPIRED, tokens, signer, issued, "client-a", row.expires_at + 1)
    sample = metrics.registry.get_sample_value
    assert sample("rejoin_tokens_issued_total") == 1  # the join's only
    assert sample("rejoin_tokens_consumed_total") == 0


async def test_the_winner_retrying_is_told_it_retried(
    tokens: ReconnectTokens, signer: TokenSigner
) -> None:
    issued = await tokens.issue("game-1", "player-1", T0)
    first = await use(tokens, signer, issued, "client-a", T0 + 10)
    again = await use(tokens, signer, issued, "client-a", T0 + 20)
    assert (first.retried, again.retried) == (False, True)
    assert again.token == first.token


# --- a seat taken back by its player's login (`reclaim`) -------------------------------------


async def test_reclaim_uses_up_the_seats_live_token_as_a_reconnect_elsewhere_would(
    tokens: ReconnectTokens, signer: TokenSigner, store: MemoryGameStore
) -> None:
    joined = await tokens.issue("game-1", "player-1", T0, claim="first")
    held = await use(tokens, signer, joined, "laptop", T0 + 10)  # the laptop's live token
    taken = await tokens.reclaim("game-1", "player-1", T0 + 20)
    assert taken.claimed is not None
    assert taken.claimed not in ("first", held.claimed)
    assert await claims_of(store, "game-1") == {"player-1": taken.claimed}
    row = await store.get_token(jti(signer, held))
    assert row is not None
    assert (row.consumed_at, row.next_jti) == (T0 + 20, jti(signer, taken))
    assert row.client_id is not None
    assert row.client_id.startswith("login-")
    # The laptop's token now meets the refusals of a token used on another device.
    await refused(ErrorCode.SEAT_CONFLICT, tokens, signer, held, "laptop", T0 + 30)
    await refused(
        ErrorCode.TOKEN_REUSED, tokens, signer, held, "laptop", T0 + 20 + CONFLICT_WINDOW_MS
    )
    await refused(ErrorCode.TOKEN_REUSED, tokens, signer, joined, "laptop", T0 + 30)
    # The login's token is an ordinary one: used once, by whoever holds it.
    await use(tokens, signer, taken, "phone", T0 + 40)


async def test_reclaim_without_a_live_token_issues_one_with_a_new_claim(
    tokens: ReconnectTokens, signer: TokenSigner, store: MemoryGameStore
) -> None:
    joined = await tokens.issue("game-1", "player-1", T0, claim="first")
    later = T0 + TTL_MS + 1  # the join's token expired unused
    taken = await tokens.reclaim("game-1", "player-1", later)
    assert taken.claimed is not None
    assert taken.claimed != "first"
    assert await claims_of(store, "game-1") == {"player-1": taken.claimed}
    assert taken.expires_at == later + TTL_MS
    current = await store.current_token("game-1", "player-1", later)
    assert current is not None
    assert current.jti == jti(signer, taken)
    assert (await store.get_token(jti(signer, joined))) is not None


class RacedStore(MemoryGameStore):
    """A store where the seat's own connection uses the live token just after `reclaim` has
    read it, `races` times (as a channel rotating its token, or a `hello`, would)."""

    def __init__(self, races: int) -> None:
        super().__init__()
        self.races = races

    async def current_token(self, game_id: str, player_id: str, now_ms: int) -> TokenRow | None:
        row = await super().current_token(game_id, player_id, now_ms)
        if row is not None and self.races > 0:
            self.races -= 1
            successor = TokenRow(uuid.uuid4().hex, game_id, player_id, now_ms, now_ms + TTL_MS)
            use = await self.consume_token(
                row.jti, client_id="laptop", now_ms=now_ms, replacement=successor
            )
            assert use.won
        return row


async def test_reclaim_tries_again_when_the_live_token_is_used_under_its_feet(
    signer: TokenSigner,
) -> None:
    store = RacedStore(races=RECLAIM_ATTEMPTS - 1)
    tokens = ReconnectTokens(store, signer, ttl_ms=TTL_MS)
    await tokens.issue("game-1", "player-1", T0, claim="first")
    taken = await tokens.reclaim("game-1", "player-1", T0 + 10)
    assert await claims_of(store, "game-1") == {"player-1": taken.claimed}
    current = await store.current_token("game-1", "player-1", T0 + 10)
    assert current is not None
    assert current.jti == jti(signer, taken)


async def test_reclaim_that_always_loses_the_race_is_a_seat_conflict(signer: TokenSigner) -> None:
    store = RacedStore(races=RECLAIM_ATTEMPTS)
    tokens = ReconnectTokens(store, signer, ttl_ms=TTL_MS)
    await tokens.issue("game-1", "player-1", T0, claim="first")
    with pytest.raises(ApiError) as caught:
        await tokens.reclaim("game-1", "player-1", T0 + 10)
    assert caught.value.code == ErrorCode.SEAT_CONFLICT
    assert await claims_of(store, "game-1") == {"player-1": "first"}
