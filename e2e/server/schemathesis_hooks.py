"""The schemathesis process's hooks in test_openapi_conformance.py: what JSON Schema cannot state.

`GET …/events` answers JSON only to a request that accepts application/json and not
text/event-stream (OpenAPI has no say over `Accept`): `flatmap_headers` asks for JSON in half of
its cases, so both of its answers are held to the schema.

Some refusals depend on two fields at once or on the game's state, which no schema can say: a
big blind below the small blind, a seat beyond this table's seats, a body's `gameId` that is not
the path's, a move against the rules of the hand in play. For those operations the test lets
`positive_data_acceptance` take a 422, and this check makes sure a schema-valid request refused
with 422 was refused for exactly such a rule (read from the request itself), never anything else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import schemathesis
from hypothesis import strategies as st

EVENTS = "/api/game/{gameId}/events"


@schemathesis.hook
def flatmap_headers(
    context: schemathesis.HookContext, headers: dict[str, Any] | None
) -> st.SearchStrategy[dict[str, Any] | None]:
    if context.operation is None or context.operation.path != EVENTS:
        return st.just(headers)
    return st.sampled_from([headers, {**(headers or {}), "Accept": "application/json"}])


AnyCase = schemathesis.Case[Any]

# PokerSettings' defaults, which a body that leaves a setting out is held to.
_DEFAULT_BLINDS_AND_STACK = {"smallBlind": 1, "bigBlind": 2, "startingStack": 200}


def _body(case: AnyCase) -> dict[str, Any]:
    return case.body if isinstance(case.body, dict) else {}


def _number(value: object) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0


def _create_breaks_a_cross_field_rule(case: AnyCase, error: dict[str, Any]) -> bool:
    body = {**_DEFAULT_BLINDS_AND_STACK, **_body(case)}
    small, big, stack = (_number(body[k]) for k in ("smallBlind", "bigBlind", "startingStack"))
    message = str(error["message"])
    if big < small:
        return message.startswith("Invalid game settings: bigBlind must be between")
    if stack < big:
        return message.startswith("Invalid game settings: startingStack must be between")
    return False


def _join_asks_for_a_seat_the_table_lacks(case: AnyCase, error: dict[str, Any]) -> bool:
    # Every table has seats 0 and 1; which others it has is the table's own setting.
    return _number(_body(case).get("seat")) >= 2 and str(error["message"]).startswith(
        "Seat must be a number from 0 to"
    )


def _body_names_another_game(case: AnyCase, error: dict[str, Any]) -> bool:
    body_game = _body(case).get("gameId")
    return (
        body_game is not None
        and body_game != (case.path_parameters or {}).get("gameId")
        and "differs from the game in the path" in str(error["message"])
    )


def _move_against_the_rules(case: AnyCase, error: dict[str, Any]) -> bool:
    return bool(error["code"] == "invalid_action")


RULES: dict[tuple[str, str], Callable[[AnyCase, dict[str, Any]], bool]] = {
    ("POST", "/api/games"): _create_breaks_a_cross_field_rule,
    ("POST", "/api/game/{gameId}/join"): _join_asks_for_a_seat_the_table_lacks,
    ("POST", "/api/game/{gameId}/reconnect"): _body_names_another_game,
    ("POST", "/api/game/{gameId}/persist"): _body_names_another_game,
    ("POST", "/api/game/{gameId}/action"): _move_against_the_rules,
}
"""The operations whose 422 may answer schema-valid data: the test's RELAXED lists the same, and
a 422 that no rule here explains fails the check."""


@schemathesis.check
def refused_only_for_rules_the_schema_cannot_state(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: AnyCase
) -> bool | None:
    meta = case.meta
    if response.status_code != 422 or meta is None or not meta.generation.mode.is_positive:
        return None
    rule = RULES.get((case.method.upper(), case.operation.path))
    body = response.json()
    error = body.get("error") if isinstance(body, dict) else None
    if rule is None or not isinstance(error, dict) or not rule(case, error):
        raise AssertionError(
            "A request the schema admits was refused, and not for a rule between fields or with "
            f"the game's state that the schema cannot state: {response.text[:500]}"
        )
    return True
