"""`?transport=` on a table page's address (`rejoin.browser.transport_choice`): the transport its
`GameClient` runs, `auto` when none or an unknown one is asked for (said in the console)."""

from __future__ import annotations

import logging

import pytest

from rejoin.browser.transport_choice import requested_transport


@pytest.mark.parametrize(
    ("query", "transport"),
    [
        ("", "auto"),
        ("?seat=2", "auto"),
        ("?transport=sse", "sse"),
        ("?seat=1&transport=websocket", "websocket"),
        ("transport=auto", "auto"),
        ("?transport=SSE", "sse"),
    ],
)
def test_the_address_chooses_the_transport(query: str, transport: str) -> None:
    assert requested_transport(query) == transport


def test_an_unknown_transport_is_said_and_auto_is_used(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert requested_transport("?transport=longpoll") == "auto"
    assert "longpoll" in caplog.text
    assert "websocket" in caplog.text  # what to write instead
