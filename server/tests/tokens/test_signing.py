"""`TokenSigner`: reconnect and session tokens, what makes them invalid or expired, key rotation."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from itsdangerous import URLSafeTimedSerializer
from itsdangerous.timed import TimestampSigner

from rejoin_protocol.errors import ErrorCode
from rejoin_server.errors import ApiError
from rejoin_server.tokens.signing import Claims, TokenSigner

TTL_MS = 30 * 60_000
SESSION_TTL_MS = 24 * 3_600_000


def signer(*keys: str, token_ttl_ms: int = TTL_MS) -> TokenSigner:
    return TokenSigner(list(keys), token_ttl_ms=token_ttl_ms, session_ttl_ms=SESSION_TTL_MS)


@contextmanager
def signing_clock(seconds_ago: int) -> Iterator[None]:
    """Tokens signed inside carry a timestamp `seconds_ago` in the past (itsdangerous stamps the
    time of signing; checking uses the real clock)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - seconds_ago)
        yield


def refused(code: ErrorCode, check: Callable[[str], Claims], token: str) -> ApiError:
    with pytest.raises(ApiError) as caught:
        check(token)
    assert caught.value.code == code, caught.value.message
    return caught.value


def test_a_reconnect_token_round_trips() -> None:
    s = signer("key")
    token = s.reconnect_token("game-1", "player-1", "jti-1")
    assert s.check_reconnect(token) == Claims("game-1", "player-1", "jti-1")
    assert "." in token
    assert token.isascii()


def test_a_session_token_round_trips() -> None:
    s = signer("key")
    token = s.session_token("game-1", "player-1", "claim-1")
    assert s.check_session(token) == Claims("game-1", "player-1", "", "claim-1")


def test_a_session_token_from_before_claims_has_the_empty_claim() -> None:
    legacy = URLSafeTimedSerializer(["key"], salt="rejoin.session").dumps({"g": "g", "p": "p"})
    assert signer("key").check_session(str(legacy)) == Claims("g", "p", "", "")


@pytest.mark.parametrize(
    ("salt", "payload", "check"),
    [
        ("rejoin.reconnect", {"g": "game-1", "p": "player-1", "j": "jti-1"}, "check_reconnect"),
        ("rejoin.session", {"g": "game-1", "p": "player-1", "c": "claim-1"}, "check_session"),
    ],
)
def test_tokens_are_itsdangerous_tokens_both_ways(
    salt: str, payload: dict[str, str], check: str
) -> None:
    """The cheaper signing path (one signer per salt, uncompressed payloads) keeps the format:
    tokens issued by plain itsdangerous (compressed, as before) verify, and ours verify there."""
    plain = URLSafeTimedSerializer(["old-key", "key"], salt=salt)
    ours = signer("key", "old-key")
    # Long enough that itsdangerous compresses it, as it did most tokens before.
    before = str(plain.dumps({**payload, "p": "player-1", "g": "game-1", "x": "ab" * 100}))
    assert before.startswith(".")
    claims = getattr(ours, check)(before)
    assert (claims.game_id, claims.player_id) == ("game-1", "player-1")
    older_key = str(URLSafeTimedSerializer(["old-key"], salt=salt).dumps(payload))
    assert getattr(ours, check)(older_key).player_id == "player-1"
    if check == "check_reconnect":
        mine = ours.reconnect_token("game-1", "player-1", "jti-1")
    else:
        mine = ours.session_token("game-1", "player-1", "claim-1")
    assert plain.loads(mine) == payload


def test_a_token_holds_ids_only() -> None:
    s = signer("a-very-secret-key")
    token = s.reconnect_token("game-1", "player-1", "jti-1")
    assert "a-very-secret-key" not in token


def test_a_token_signed_with_another_key_is_invalid() -> None:
    forged = signer("not-the-servers-key").reconnect_token("game-1", "player-1", "jti-1")
    refused(ErrorCode.TOKEN_INVALID, signer("key").check_reconnect, forged)


# Not the last character: its low bits are padding, so some changes there decode the same bytes.
@pytest.mark.parametrize("position", [0, 5, -2, -10])
def test_an_altered_token_is_invalid(position: int) -> None:
    s = signer("key")
    token = s.reconnect_token("game-1", "player-1", "jti-1")
    chars = list(token)
    chars[position] = "A" if chars[position] != "A" else "B"
    refused(ErrorCode.TOKEN_INVALID, s.check_reconnect, "".join(chars))


def test_a_token_with_another_players_payload_is_invalid() -> None:
    s = signer("key")
    mine = s.reconnect_token("game-1", "player-1", "jti-1")
    theirs = s.reconnect_token("game-1", "player-2", "jti-2")
    spliced = theirs.split(".")[0] + "." + ".".join(mine.split(".")[1:])
    refused(ErrorCode.TOKEN_INVALID, s.check_reconnect, spliced)


@pytest.mark.parametrize(
    "garbage",
    ["", "x", "....", "a.b.c", "not a token at all", "é" * 10, "\x00", "eyJnIjoiZyJ9", "A" * 2000],
)
def test_garbage_is_invalid(garbage: str) -> None:
    refused(ErrorCode.TOKEN_INVALID, signer("key").check_reconnect, garbage)
    refused(ErrorCode.UNAUTHORIZED, signer("key").check_session, garbage)


@pytest.mark.parametrize(
    "payload",
    [
        [1, 2],
        "text",
        {"g": "game-1", "p": "player-1"},  # no jti
        {"g": "game-1", "p": "player-1", "j": ""},
        {"g": "game-1", "p": "player-1", "j": 7},
        {"g": 1, "p": "player-1", "j": "jti"},
        {"g": "game-1", "p": None, "j": "jti"},
    ],
)
def test_a_well_signed_token_with_a_bad_payload_is_invalid(payload: object) -> None:
    # Signed with the server's key and salt: only the payload is wrong.
    token = URLSafeTimedSerializer(["key"], salt="rejoin.reconnect").dumps(payload)
    refused(ErrorCode.TOKEN_INVALID, signer("key").check_reconnect, str(token))


def test_tokens_of_one_kind_are_not_accepted_as_the_other() -> None:
    s = signer("key")
    session = s.session_token("game-1", "player-1", "c")
    reconnect = s.reconnect_token("game-1", "player-1", "jti-1")
    refused(ErrorCode.TOKEN_INVALID, s.check_reconnect, session)
    refused(ErrorCode.UNAUTHORIZED, s.check_session, reconnect)


def test_an_expired_reconnect_token_is_token_expired() -> None:
    s = signer("key")
    with signing_clock(seconds_ago=31 * 60):
        old = s.reconnect_token("game-1", "player-1", "jti-1")
    error = refused(ErrorCode.TOKEN_EXPIRED, s.check_reconnect, old)
    assert "expired" in error.message


def test_a_reconnect_token_inside_its_lifetime_is_accepted() -> None:
    s = signer("key")
    with signing_clock(seconds_ago=29 * 60):
        recent = s.reconnect_token("game-1", "player-1", "jti-1")
    assert s.check_reconnect(recent).jti == "jti-1"


def test_the_lifetime_follows_the_setting() -> None:
    s = signer("key", token_ttl_ms=60_000)
    with signing_clock(seconds_ago=120):
        old = s.reconnect_token("game-1", "player-1", "jti-1")
    refused(ErrorCode.TOKEN_EXPIRED, s.check_reconnect, old)
    # Below a second, the lifetime is one second (itsdangerous stamps whole seconds).
    short = signer("key", token_ttl_ms=1)
    assert short.check_reconnect(short.reconnect_token("g", "p", "j")).jti == "j"


def test_an_expired_or_bad_session_token_is_unauthorized_never_token_codes() -> None:
    s = signer("key")
    with signing_clock(seconds_ago=25 * 3_600):
        old = s.session_token("game-1", "player-1", "c")
    refused(ErrorCode.UNAUTHORIZED, s.check_session, old)
    forged = signer("other").session_token("game-1", "player-1", "c")
    refused(ErrorCode.UNAUTHORIZED, s.check_session, forged)


def test_a_rotated_key_still_verifies_and_the_newest_signs() -> None:
    old_token = signer("old").reconnect_token("game-1", "player-1", "jti-1")
    rotated = signer("new", "old")
    assert rotated.check_reconnect(old_token).jti == "jti-1"
    refused(ErrorCode.TOKEN_INVALID, signer("new").check_reconnect, old_token)

    new_token = rotated.reconnect_token("game-1", "player-1", "jti-2")
    assert signer("new").check_reconnect(new_token).jti == "jti-2"
    refused(ErrorCode.TOKEN_INVALID, signer("old").check_reconnect, new_token)

    old_session = signer("old").session_token("game-1", "player-1", "c")
    assert rotated.check_session(old_session).player_id == "player-1"
    refused(ErrorCode.UNAUTHORIZED, signer("new").check_session, old_session)


def test_a_signer_needs_a_key() -> None:
    with pytest.raises(ValueError, match="key"):
        signer()


def test_a_retiring_key_verifies_until_its_deadline_and_never_signs() -> None:
    """The key a server generated, once the operator gives keys (issue 12): anyone who can read
    the database holds it, so it must stop verifying."""
    now = [1_000_000]
    old_reconnect = signer("stored").reconnect_token("game-1", "player-1", "jti-1")
    old_session = signer("stored").session_token("game-1", "player-1", "c")
    s = TokenSigner(
        ["operator"],
        token_ttl_ms=TTL_MS,
        session_ttl_ms=SESSION_TTL_MS,
        retiring_keys=["stored"],
        retiring_until_ms=1_000_500,
        clock=lambda: now[0],
    )
    assert s.check_reconnect(old_reconnect).jti == "jti-1"
    assert s.check_session(old_session).player_id == "player-1"
    fresh = s.reconnect_token("game-1", "player-1", "jti-2")
    refused(ErrorCode.TOKEN_INVALID, signer("stored").check_reconnect, fresh)  # it never signs
    assert signer("operator").check_reconnect(fresh).jti == "jti-2"
    now[0] = 1_000_500
    refused(ErrorCode.TOKEN_INVALID, s.check_reconnect, old_reconnect)
    refused(ErrorCode.UNAUTHORIZED, s.check_session, old_session)
    assert s.check_reconnect(fresh).jti == "jti-2"
