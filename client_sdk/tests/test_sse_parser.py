"""`SseParser`: the HTML standard's event stream interpretation, fed text split anywhere."""

from __future__ import annotations

import pytest

from rejoin.sse import parser
from rejoin.sse.parser import SseComment, SseMessage, SseParser

STREAM = (
    "\ufeffretry: 300\r\n"
    ": connected\r\n"
    "\r\n"
    "id: 7\r\n"
    "event: action\r\n"
    'data: {"seq": 7}\r\n'
    "\r\n"
    "event: presence\r"
    'data: {"playerId": "p2",\r'
    'data:  "connected": true}\r'
    "\r"
    ": ping\n"
    "\n"
    "id: 8\n"
    'data: {"seq": 8}\n'
    "\n"
)

EXPECTED = [
    SseComment("connected"),
    SseMessage("action", '{"seq": 7}', "7"),
    SseMessage("presence", '{"playerId": "p2",\n "connected": true}', None),
    SseComment("ping"),
    SseMessage("message", '{"seq": 8}', "8"),
]


def feed_all(chunks: list[str]) -> list[SseMessage | SseComment]:
    reader = SseParser()
    out: list[SseMessage | SseComment] = []
    for chunk in chunks:
        out.extend(reader.feed(chunk))
    return out


def test_a_whole_stream_in_one_chunk() -> None:
    assert feed_all([STREAM]) == EXPECTED


@pytest.mark.parametrize("cut", range(1, len(STREAM)))
def test_a_stream_cut_in_two_anywhere_reads_the_same(cut: int) -> None:
    # Among the cuts: between each CR and its LF, inside the BOM's line, inside a field name.
    assert feed_all([STREAM[:cut], STREAM[cut:]]) == EXPECTED


def test_a_stream_fed_one_character_at_a_time_with_empty_chunks_between() -> None:
    chunks = [piece for char in STREAM for piece in (char, "")]
    assert feed_all(chunks) == EXPECTED


def test_an_empty_chunk_between_a_cr_and_its_lf_does_not_make_an_empty_line() -> None:
    # An empty line dispatches: a CR/LF pair counted twice would end the message early.
    assert feed_all(["id: 1\r", "", "\ndata: a\r", "", "\ndata: b\n\n"]) == [
        SseMessage("message", "a\nb", "1")
    ]


def test_a_bom_only_at_the_very_start_is_dropped() -> None:
    assert feed_all(["", "\ufeff", "data: x\n\n"]) == [SseMessage("message", "x", None)]
    # Later, it is part of a field name: an unknown field, ignored.
    assert feed_all(["data: x\n\n\ufeffdata: y\n\n"]) == [SseMessage("message", "x", None)]


def test_the_id_belongs_to_its_own_message_only() -> None:
    got = feed_all(["id: 3\ndata: a\n\nevent: token\ndata: b\n\n"])
    assert got == [SseMessage("message", "a", "3"), SseMessage("token", "b", None)]


def test_fields_without_a_space_or_a_value_and_unknown_fields() -> None:
    got = feed_all(["data:a\ndata\nretry: 10\nfoo: bar\nevent:close\nid\n\n"])
    assert got == [SseMessage("close", "a\n", "")]


def test_a_message_without_data_dispatches_nothing_and_resets_its_fields() -> None:
    assert feed_all(["id: 4\nevent: close\n\ndata: z\n\n"]) == [SseMessage("message", "z", None)]


def test_an_id_with_a_nul_is_ignored() -> None:
    assert feed_all(["id: 1\0\ndata: a\n\n"]) == [SseMessage("message", "a", None)]


def test_a_message_not_yet_ended_waits() -> None:
    reader = SseParser()
    assert reader.feed("id: 1\ndata: a\n") == []
    assert reader.feed("\n") == [SseMessage("message", "a", "1")]


def test_a_message_growing_past_the_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parser, "MAX_PENDING_CHARS", 20)
    reader = SseParser()
    assert reader.feed("data: 0123456789\n") == []  # 10 pending: under the limit
    with pytest.raises(ValueError, match="larger than the SDK accepts"):
        reader.feed("data: 0123456789a\n")  # 21 pending in two data lines
    with pytest.raises(ValueError, match="larger"):
        SseParser().feed("data: " + "x" * 21)  # one line not yet ended


def test_messages_at_the_limit_pass_one_after_another(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parser, "MAX_PENDING_CHARS", 20)
    reader = SseParser()
    line = "data: " + "x" * 20 + "\n\n"
    assert reader.feed(line * 3) == [SseMessage("message", "x" * 20, None)] * 3
