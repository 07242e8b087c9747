"""Player names (`POST …/join`, `names.player_name`): no control or invisible formatting
characters, something visible in them, and the OpenAPI document's pattern says the same."""

from __future__ import annotations

import re
import sys
import unicodedata

import pytest

from rejoin_protocol.errors import ErrorCode
from rejoin_server.api import names, openapi
from rejoin_server.api.games import table_limits
from rejoin_server.errors import ApiError
from rejoin_server.games.kinds import GameKinds
from rejoin_server.games.poker import PokerEngine
from rejoin_server.settings import ServerSettings

from .support import Api, assert_error

REFUSED = {
    "a right-to-left override": "\u202eevil",
    "a left-to-right isolate": "Ann\u2066",
    "a zero-width space alone": "\u200b",
    "zero-width spaces inside": "A\u200bn\u200bn",
    "a byte order mark alone": "\ufeff",
    "a next-line control": "Ann\u0085",
    "a line separator": "Ann\u2028Bob",
    "a paragraph separator": "Ann\u2029",
    "a tab": "Ann\tBob",
    "a NUL": "Ann\x00",
    "a soft hyphen": "An\u00adn",
    "a tag character (beyond the BMP)": "Ann\U000e0041",
    "a zero-width joiner alone": "\u200d",
    "joiners and spaces only": " \u200c \u200d ",
    "ideographic spaces only": "\u3000\u3000",
    "spaces only": "   ",
    "nothing": "",
}

ACCEPTED = {
    "plain": "Ann",
    "with spaces around (the game trims them)": "  Ann  ",
    "accents": "Zoë Ørsted",
    "an emoji ZWJ sequence": "\U0001f469\u200d\U0001f4bb",
    "Persian with a ZWNJ": "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",
    "Devanagari with a ZWJ": "\u0915\u094d\u200d\u0937",
    "a no-break space inside": "Ann\u00a0Lee",
}


@pytest.mark.parametrize("name", REFUSED.values(), ids=REFUSED.keys())
def test_a_name_with_hidden_characters_or_nothing_visible_is_refused(api: Api, name: str) -> None:
    game_id = api.create()
    reply = api.client.post(f"/api/game/{game_id}/join", json={"name": name})
    error = assert_error(reply, ErrorCode.INVALID_REQUEST)
    message = error["message"]
    assert "`name`" in message
    # The message says what to change.
    assert "remove them" in message or "choose a name others can read" in message, message
    # And nobody joined.
    bob = api.join(game_id, "Bob")
    assert [s["name"] for s in api.state(bob)["gameState"]["seats"]] == ["Bob"]


@pytest.mark.parametrize("name", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_names_that_need_joiners_or_letters_beyond_ascii_are_seated(api: Api, name: str) -> None:
    game_id = api.create()
    player = api.join(game_id, name)
    seats = api.state(player)["gameState"]["seats"]
    assert [s["name"] for s in seats if s["playerId"] == player.player_id] == [name.strip()]


def test_the_refusal_names_the_character(api: Api) -> None:
    game_id = api.create()
    reply = api.client.post(f"/api/game/{game_id}/join", json={"name": "Ann\u202e"})
    assert "U+202E" in assert_error(reply, ErrorCode.INVALID_REQUEST)["message"]


def test_the_poker_length_rule_still_applies_after_the_character_rule(api: Api) -> None:
    game_id = api.create()
    reply = api.client.post(f"/api/game/{game_id}/join", json={"name": "x" * 33})
    assert "1 to 32" in assert_error(reply, ErrorCode.INVALID_REQUEST)["message"]


def test_the_documented_pattern_accepts_exactly_what_the_server_accepts() -> None:
    """Every code point alone and after a letter: the schema's pattern and `player_name` agree
    (surrogates aside: a JSON body cannot carry one)."""
    document = openapi.build(GameKinds([PokerEngine(table_limits(ServerSettings()))]))
    join = document["paths"]["/api/game/{gameId}/join"]["post"]
    schema = join["requestBody"]["content"]["application/json"]["schema"]["properties"]["name"]
    pattern = re.compile(schema["pattern"])
    disagree = []
    for cp in range(sys.maxunicode + 1):
        if 0xD800 <= cp <= 0xDFFF or (cp > 0x3FFFF and cp not in range(0xE0000, 0xE0100)):
            continue  # planes 4-13 hold no assigned character
        for name in (chr(cp), f"A{chr(cp)}"):
            try:
                names.player_name(name, "name", max_length=64)
                server = True
            except ApiError:
                server = False
            documented = pattern.search(name) is not None and not name.endswith("\n")
            if server != documented:
                disagree.append(f"U+{cp:04X} {unicodedata.name(chr(cp), '?')} in {name!r}")
    assert not disagree, disagree[:20]
