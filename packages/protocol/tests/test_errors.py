from rejoin_protocol import errors
from rejoin_protocol.errors import ErrorCode

# docs/http-api.md, verbatim: code -> HTTP status. Clients branch on these; a change is a breaking change.
DOCUMENTED_STATUSES = {
    "invalid_request": 422, "unauthorized": 401, "forbidden": 403, "game_not_found": 404,
    "game_completed": 410, "game_active": 409, "seat_taken": 409, "table_full": 409,
    "not_your_turn": 409, "invalid_action": 422, "stale_state": 409, "no_hand_in_progress": 409,
    "hand_in_progress": 409, "token_invalid": 401, "token_expired": 401, "token_reused": 401,
    "seat_conflict": 409, "player_not_in_game": 403, "state_corrupted": 409,
    "storage_unavailable": 503, "storage_full": 507, "rate_limited": 429, "internal": 500,
}  # fmt: skip


def test_every_code_of_the_design_and_no_other() -> None:
    assert {code.value: code.http_status for code in ErrorCode} == DOCUMENTED_STATUSES


def test_token_errors_close_the_socket_with_4401() -> None:
    for code in (ErrorCode.TOKEN_INVALID, ErrorCode.TOKEN_EXPIRED, ErrorCode.TOKEN_REUSED):
        assert code.close_code == 4401
    assert ErrorCode.SEAT_CONFLICT.close_code == 4409
    assert ErrorCode.GAME_COMPLETED.close_code == 4410
    assert ErrorCode.NOT_YOUR_TURN.close_code is None


# The close code of every error code that ends a connection wherever it is met (the others answer
# one action and the connection stays), and of every error code at a refused `hello`.
ENDS_WITH = {
    "unauthorized": 4401, "forbidden": 4403, "game_not_found": 4404, "game_completed": 4410,
    "token_invalid": 4401, "token_expired": 4401, "token_reused": 4401, "seat_conflict": 4409,
    "player_not_in_game": 4403,
}  # fmt: skip
HELLO_CLOSES_WITH = {
    **ENDS_WITH,
    "invalid_request": 4400, "game_active": 4400, "seat_taken": 4400, "table_full": 4400,
    "not_your_turn": 4400, "invalid_action": 4400, "no_hand_in_progress": 4400,
    "hand_in_progress": 4400, "stale_state": 1012, "state_corrupted": 1011,
    "storage_unavailable": 1013, "storage_full": 1013, "rate_limited": 1013, "internal": 1011,
}  # fmt: skip


def test_the_close_code_of_every_error_code() -> None:
    assert {c.value: c.close_code for c in ErrorCode if c.close_code is not None} == ENDS_WITH
    assert {c.value: c.hello_close_code for c in ErrorCode} == HELLO_CLOSES_WITH


def test_the_close_codes_keep_their_numbers() -> None:
    assert {name: getattr(errors, name) for name in dir(errors) if name.startswith("CLOSE_")} == {
        "CLOSE_NORMAL": 1000,
        "CLOSE_SERVER_BROKE_PROTOCOL": 1002,
        "CLOSE_INTERNAL": 1011,
        "CLOSE_SERVER_RESTARTING": 1012,
        "CLOSE_TRY_AGAIN_LATER": 1013,
        "CLOSE_PROTOCOL_ERROR": 4400,
        "CLOSE_UNAUTHORIZED": 4401,
        "CLOSE_FORBIDDEN": 4403,
        "CLOSE_GAME_NOT_FOUND": 4404,
        "CLOSE_HEARTBEAT_TIMEOUT": 4408,
        "CLOSE_SUPERSEDED": 4409,
        "CLOSE_GAME_COMPLETED": 4410,
    }
    assert {4400, 4401, 4403, 4404, 4409, 4410} == errors.FATAL_CLOSE_CODES
