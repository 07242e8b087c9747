"""Declared request bodies (`api.fields`, `api.bodies`): one declaration is both what an endpoint
reads and what `/openapi.json` says, and the reading rules hold for every kind of field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import pytest

from rejoin_protocol.errors import ErrorCode
from rejoin_protocol.messages import ACTION_TYPES
from rejoin_server.api import bodies, openapi
from rejoin_server.api.fields import (
    Body,
    Flag,
    Integer,
    Text,
    object_schema,
    read_fields,
)
from rejoin_server.api.games import table_limits
from rejoin_server.errors import ApiError
from rejoin_server.games.kinds import GameKinds
from rejoin_server.games.poker import PokerEngine, PokerSettings
from rejoin_server.games.poker.settings import settings_schema
from rejoin_server.settings import ServerSettings
from rejoin_server.store import widths


@dataclass(frozen=True, slots=True)
class Sample(Body):
    some_text: Annotated[str, Text(8)]
    a_count: Annotated[int | None, Integer(1, 5)] = None
    a_flag: Annotated[bool, Flag()] = False


def refusal(body: dict[str, Any]) -> str:
    with pytest.raises(ApiError) as refused:
        read_fields(Sample, body, {})
    assert refused.value.code is ErrorCode.INVALID_REQUEST
    return refused.value.message


def test_keys_are_camel_case_and_left_out_ones_take_their_defaults() -> None:
    assert read_fields(Sample, {"someText": "x"}, {}) == Sample("x")
    read = read_fields(Sample, {"someText": "x", "aCount": 2.0, "aFlag": True, "other": 1}, {})
    assert read == Sample("x", 2, True)


def test_null_is_left_out_but_for_a_flag() -> None:
    assert read_fields(Sample, {"someText": "x", "aCount": None}, {}) == Sample("x")
    assert refusal({"someText": None}) == "`someText` is required (a string)."
    assert refusal({"someText": "x", "aFlag": None}) == "`aFlag` must be true or false."


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({}, "`someText` is required (a string)."),
        ({"someText": ""}, "`someText` must be a non-empty string."),
        ({"someText": "123456789"}, "`someText` must be at most 8 characters."),
        ({"someText": "a\x00"}, "`someText` must not contain control characters."),
        ({"someText": "x", "aCount": True}, "`aCount` must be an integer."),
        ({"someText": "x", "aCount": 6}, "`aCount` must be between 1 and 5."),
    ],
)
def test_each_refusal_names_the_key_and_what_it_must_be(body: dict[str, Any], says: str) -> None:
    assert refusal(body) == says


def test_the_schema_says_what_is_read() -> None:
    assert object_schema(Sample) == {
        "type": "object",
        "properties": {
            "someText": {
                "type": "string",
                "minLength": 1,
                "maxLength": 8,
                "pattern": "^[^\\u0000-\\u001f\\u007f]*$",
            },
            "aCount": {"type": ["integer", "null"], "minimum": 1, "maximum": 5},
            "aFlag": {"type": "boolean"},
        },
        "required": ["someText"],
    }


def test_a_field_without_a_kind_is_a_declaration_error() -> None:
    @dataclass(frozen=True, slots=True)
    class Undeclared(Body):
        name: str

    with pytest.raises(TypeError, match=r"Undeclared\.name"):
        object_schema(Undeclared)


def test_a_body_game_id_must_be_the_paths() -> None:
    path = {"game_id": "g1"}
    assert bodies.Persist.may_be_empty
    assert read_fields(bodies.Persist, {"gameId": "g1"}, path).game_id == "g1"
    with pytest.raises(ApiError, match="differs from the game in the path"):
        read_fields(bodies.Persist, {"gameId": "g2"}, path)


def test_the_documented_bodies_are_the_declared_ones() -> None:
    document = openapi.build(GameKinds([PokerEngine(table_limits(ServerSettings()))]))
    game = "/api/game/{gameId}"
    declared: dict[str, type[Body]] = {
        f"{game}/join": bodies.Join,
        f"{game}/action": bodies.Action,
        f"{game}/reconnect": bodies.Reconnect,
        f"{game}/persist": bodies.Persist,
    }
    for path, body in declared.items():
        request = document["paths"][path]["post"]["requestBody"]
        assert request["content"]["application/json"]["schema"] == object_schema(body), path
        assert request["required"] is not body.may_be_empty, path
    action = object_schema(bodies.Action)["properties"]
    # Any game's move: the type is a short string, and poker's are named in its description.
    assert action["type"]["maxLength"] == bodies.MAX_ACTION_TYPE
    assert all(name in action["type"]["description"] for name in ACTION_TYPES)
    reconnect = object_schema(bodies.Reconnect)["properties"]
    assert reconnect["playerId"]["maxLength"] == widths.PLAYER_ID
    assert reconnect["clientId"]["maxLength"] == widths.CLIENT_ID
    assert bodies.GAME_ID.fullmatch("g" * widths.GAME_ID)
    assert not bodies.GAME_ID.fullmatch("g" * (widths.GAME_ID + 1))


def test_the_settings_schema_describes_every_setting_and_no_other() -> None:
    limits = table_limits(ServerSettings())
    schema = settings_schema(limits)
    assert list(schema["properties"]) == list(PokerSettings().to_json())
    assert schema["additionalProperties"] is False
    for key, bound in limits.bounds().items():
        described = schema["properties"][key]
        assert (described["minimum"], described["maximum"]) == (bound.low, bound.high), key
