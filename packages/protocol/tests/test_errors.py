from rejoin_protocol.errors import ErrorCode

# DESIGN §2, verbatim: code -> HTTP status. Clients branch on these; a change is a breaking change.
DESIGN_TABLE = {
    "invalid_request": 422, "unauthorized": 401, "forbidden": 403, "game_not_found": 404,
    "game_completed": 410, "game_active": 409, "seat_taken": 409, "table_full": 409,
    "not_your_turn": 409, "invalid_action": 422, "stale_state": 409, "no_hand_in_progress": 409,
    "hand_in_progress": 409, "token_invalid": 401, "token_expired": 401, "token_reused": 401,
    "seat_conflict": 409, "player_not_in_game": 403, "state_corrupted": 409,
    "storage_unavailable": 503, "storage_full": 507, "rate_limited": 429, "internal": 500,
}  # fmt: skip


def test_every_code_of_the_design_and_no_other() -> None:
    assert {code.value: code.http_status for code in ErrorCode} == DESIGN_TABLE


def test_token_errors_close_the_socket_with_4401() -> None:
    for code in (ErrorCode.TOKEN_INVALID, ErrorCode.TOKEN_EXPIRED, ErrorCode.TOKEN_REUSED):
        assert code.close_code == 4401
    assert ErrorCode.SEAT_CONFLICT.close_code == 4409
    assert ErrorCode.GAME_COMPLETED.close_code == 4410
    assert ErrorCode.NOT_YOUR_TURN.close_code is None
