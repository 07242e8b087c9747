"""The demo table page's words (`rejoin.browser.table_text`), which import nothing of Pyodide: the
`#status` word of each session state, and the message of each fatal refusal."""

from __future__ import annotations

import pytest

from rejoin.browser.table_text import (
    ANOTHER_TAB,
    FATAL_MESSAGES,
    STATUS_TOOLTIPS,
    TRANSPORT_TOOLTIPS,
    UNSEATED,
    fatal_message,
    status_of,
    status_tooltip,
)
from rejoin_protocol.errors import FATAL_CLOSE_CODES, ErrorCode
from rejoin_protocol.session import SessionState


@pytest.mark.parametrize(
    ("state", "before_welcome", "after_welcome"),
    [
        (SessionState.IDLE, "connecting", "reconnecting"),
        (SessionState.CONNECTING, "connecting", "reconnecting"),
        (SessionState.HANDSHAKING, "connecting", "reconnecting"),
        (SessionState.BACKING_OFF, "connecting", "reconnecting"),
        (SessionState.CONNECTED, "connected", "connected"),
        (SessionState.CLOSED, "closed", "closed"),
    ],
)
def test_the_status_word_says_reconnecting_only_after_a_first_welcome(
    state: SessionState, before_welcome: str, after_welcome: str
) -> None:
    assert status_of(state, welcomed=False) == before_welcome
    assert status_of(state, welcomed=True) == after_welcome


def test_every_fatal_refusal_the_server_can_send_has_its_own_message() -> None:
    fatal_codes = {code.value for code in ErrorCode if code.close_code in FATAL_CLOSE_CODES}
    assert fatal_codes - {"unauthorized", "forbidden"} <= set(FATAL_MESSAGES)
    assert "superseded" in FATAL_MESSAGES  # a close reason, not an error code
    assert ANOTHER_TAB in FATAL_MESSAGES


def test_a_game_that_is_over_offers_no_forgetting_and_an_unknown_code_shows_the_server() -> None:
    assert fatal_message("game_completed", "x") == ("This game is over.", False)
    text, forgettable = fatal_message("brand_new_code", "the server's words")
    assert text == "The server refused this seat: the server's words"
    assert forgettable


def test_every_status_word_has_a_plain_tooltip_without_close_codes() -> None:
    words = {status_of(state, welcomed) for state in SessionState for welcomed in (False, True)}
    assert words | {UNSEATED} == set(STATUS_TOOLTIPS)
    for word in STATUS_TOOLTIPS:
        tooltip = status_tooltip(word)
        assert tooltip, word
        assert not any(ch.isdigit() for ch in tooltip), (word, tooltip)
    assert status_tooltip("reconnecting") == (
        "The connection to the server was lost; your seat is kept while we reconnect."
    )
    assert "offline" in status_tooltip("reconnecting", offline=True)
    assert "kept" in status_tooltip("reconnecting", offline=True)
    assert status_tooltip("connected", offline=True) == "Connected to the server."


def test_connected_says_over_what_in_plain_words() -> None:
    assert status_tooltip("connected", transport="websocket") == TRANSPORT_TOOLTIPS["websocket"]
    over_sse = status_tooltip("connected", transport="sse")
    assert over_sse == TRANSPORT_TOOLTIPS["sse"]
    assert "block WebSockets" in over_sse
    assert "Play is the same" in over_sse


def test_the_transport_changes_only_the_connected_tooltip() -> None:
    assert status_tooltip("connected") == STATUS_TOOLTIPS["connected"]
    for status in ("connecting", "reconnecting", "closed"):
        assert status_tooltip(status, transport="sse") == STATUS_TOOLTIPS[status]
    assert "offline" in status_tooltip("reconnecting", offline=True, transport="sse")
