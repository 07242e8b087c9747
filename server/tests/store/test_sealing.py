"""Sealing without a database: what is taken out, how it is put back, and what does not open."""

from __future__ import annotations

import base64
import secrets
from typing import Any

import orjson
import pytest

from rejoin_server.errors import StateCorrupted
from rejoin_server.games.base import Event, PrivateData
from rejoin_server.store.base import DataKeyRow, RawEvent, SnapshotWrite, StoredSnapshot
from rejoin_server.store.codec import canonical_json, checksum
from rejoin_server.store.datakeys import DataKeys, decode_key, key_id, missing_key
from rejoin_server.store.restore import decode_event
from rejoin_server.store.sealing import SEALED, Sealer, plan_of, split
from rejoin_server.store.sealpaths import parse

OLD, NEW = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
POKERISH = PrivateData(events={"dealt": ("cards",)}, state=("seats.*.hole", "deck"))


def sealer(*keys: str) -> Sealer:
    made = Sealer(DataKeys(keys), {"pokerish": plan_of(POKERISH)})
    made.note_kind("g1", "pokerish")
    made.note_kind("g2", "pokerish")
    return made


def raw(seq: int, kind: str, text: str) -> RawEvent:
    return RawEvent(seq, kind, 1, text)


def test_a_declared_path_is_taken_out_and_put_back() -> None:
    s = sealer(NEW)
    event = Event(3, "dealt", 1, {"seat": 1, "playerId": "ann", "cards": ["As", "Kd"]})
    text = s.event_text("g1", event)
    stored = orjson.loads(text)
    assert stored["cards"] is None
    assert (stored["seat"], stored["playerId"]) == (1, "ann")
    assert stored[SEALED].startswith(key_id(decode_key(NEW)) + ".")
    # Outside the envelope (whose base64 may hold any two letters by chance): no card.
    public = orjson.dumps({k: v for k, v in stored.items() if k != SEALED}).decode()
    assert "As" not in public
    assert "Kd" not in public
    assert orjson.loads(s.open_event("g1", raw(3, "dealt", text)).data) == event.data


def test_stars_name_every_element_of_lists_and_values_of_objects() -> None:
    data: dict[str, Any] = {
        "seats": [{"hole": "AsKd", "n": 1}, {"hole": None}, {"hole": "2c3c"}],
        "deck": {},
    }
    public, private = split(data, [parse("seats.*.hole")])
    assert public["seats"] == [{"hole": None, "n": 1}, {"hole": None}, {"hole": None}]
    assert private == {"/seats/0/hole": "AsKd", "/seats/2/hole": "2c3c"}
    assert data["seats"][0]["hole"] == "AsKd"  # the data given is left as it was
    public, private = split({"by": {"a/b": [1], "c~": [2]}}, [parse("by.*")])
    assert private == {"/by/a~1b": [1], "/by/c~0": [2]}


def test_a_kind_not_declared_stays_plain_and_an_undeclared_game_is_sealed_whole() -> None:
    s = sealer(NEW)
    plain_event = Event(1, "joined", 1, {"playerId": "ann"})
    assert orjson.loads(s.event_text("g1", plain_event)) == {"playerId": "ann"}
    s.note_kind("g3", "unknown-kind")
    whole = orjson.loads(s.event_text("g3", plain_event))
    assert list(whole) == [SEALED]
    assert orjson.loads(
        s.open_event("g3", raw(1, "joined", orjson.dumps(whole).decode())).data
    ) == {"playerId": "ann"}
    # No declaration at all (PrivateData left out): everything.
    assert plan_of(None).events is None


def problem_of(s: Sealer, game_id: str, event: RawEvent) -> str:
    """Why `event` does not open: not when it is read, when it is decoded (`decode_event`)."""
    opened = s.open_event(game_id, event)
    with pytest.raises(StateCorrupted) as caught:
        decode_event(game_id, opened)
    return str(caught.value)


def test_the_snapshot_checksum_column_says_nothing_of_the_hidden_values() -> None:
    s = sealer(NEW)
    state = {"seats": [{"hole": "AsKd"}], "deck": "2c3c4c", "q": 7}
    body = canonical_json(state)
    sealed = s.snapshot("g1", SnapshotWrite(7, body, checksum(body)))
    assert b"AsKd" not in sealed.state
    assert b"2c3c" not in sealed.state
    # A reader of the row who knows the public part cannot test a guess of the cards against
    # the column: it is the stored text's checksum, not the plaintext's.
    assert sealed.checksum != checksum(body)
    assert sealed.checksum == checksum(sealed.state)
    public = orjson.loads(sealed.state)
    del public[SEALED]
    guess = canonical_json(public | {"seats": [{"hole": "AsKd"}], "deck": "2c3c4c"})
    assert guess == body  # the right guess: still no match
    assert checksum(guess) != sealed.checksum
    back = s.open_snapshot("g1", StoredSnapshot(7, sealed.state.decode(), sealed.checksum, 1))
    assert back.problem == ""
    assert back.checksum == checksum(body)  # the plaintext's, from inside the seal
    assert back.state.encode() == body


def test_a_snapshot_is_verified_against_the_checksum_sealed_inside() -> None:
    s = sealer(NEW)
    body = canonical_json({"deck": "2c3c", "q": 1})
    sealed = s.snapshot("g1", SnapshotWrite(7, body, checksum(b"something else")))
    back = s.open_snapshot("g1", StoredSnapshot(7, sealed.state.decode(), sealed.checksum, 1))
    assert back.problem == ""
    assert checksum(back.state.encode()) != back.checksum  # restore rejects it: a mismatch
    # The column no longer matching the stored text: refused before anything is opened.
    other = s.open_snapshot("g1", StoredSnapshot(7, sealed.state.decode(), checksum(body), 1))
    assert "checksum mismatch" in other.problem


def test_a_changed_kind_or_public_part_does_not_decrypt() -> None:
    s = sealer(NEW)
    text = s.event_text("g1", Event(3, "dealt", 1, {"seat": 1, "cards": ["As", "Kd"]}))
    # Redaction is by kind: a kind changed in the database would serve the cards to all.
    assert "does not decrypt" in problem_of(s, "g1", raw(3, "joined", text))
    edited = orjson.loads(text) | {"seat": 0}
    assert "does not decrypt" in problem_of(s, "g1", raw(3, "dealt", orjson.dumps(edited).decode()))
    body = canonical_json({"deck": "2c3c", "q": 1})
    snap = s.snapshot("g1", SnapshotWrite(3, body, checksum(body)))
    changed = orjson.loads(snap.state) | {"q": 2}
    text2 = canonical_json(changed)  # the column recomputed too, as a reader of it can
    back = s.open_snapshot("g1", StoredSnapshot(3, text2.decode(), checksum(text2), 1))
    assert "does not decrypt" in back.problem


def test_a_ciphertext_moved_to_another_row_does_not_decrypt() -> None:
    s = sealer(NEW)
    text = s.event_text("g1", Event(3, "dealt", 1, {"cards": ["As", "Kd"]}))
    assert "does not decrypt" in problem_of(s, "g1", raw(4, "dealt", text))  # another seq
    assert "does not decrypt" in problem_of(s, "g2", raw(3, "dealt", text))  # another game
    body = canonical_json({"deck": "2c3c"})
    snap = s.snapshot("g1", SnapshotWrite(3, body, checksum(body)))
    moved = s.open_snapshot("g1", StoredSnapshot(4, snap.state.decode(), snap.checksum, 1))
    assert "does not decrypt" in moved.problem
    # An event's ciphertext in a snapshot row of the same game and number: still refused.
    as_snapshot = StoredSnapshot(3, text, checksum(canonical_json(orjson.loads(text))), 1)
    assert "does not decrypt" in s.open_snapshot("g1", as_snapshot).problem


def test_a_tampered_ciphertext_does_not_decrypt() -> None:
    s = sealer(NEW)
    stored = orjson.loads(s.event_text("g1", Event(3, "dealt", 1, {"cards": ["As", "Kd"]})))
    kid, _, token = stored[SEALED].partition(".")
    box = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    box[-1] ^= 1
    stored[SEALED] = kid + "." + base64.urlsafe_b64encode(bytes(box)).decode().rstrip("=")
    problem = problem_of(s, "g1", raw(3, "dealt", orjson.dumps(stored).decode()))
    assert "event 3: its private data does not decrypt" in problem


def test_older_keys_open_and_the_newest_seals() -> None:
    text = sealer(OLD).event_text("g1", Event(3, "dealt", 1, {"cards": ["As"]}))
    both = sealer(NEW, OLD)
    assert orjson.loads(both.open_event("g1", raw(3, "dealt", text)).data)["cards"] == ["As"]
    assert orjson.loads(both.event_text("g1", Event(3, "dealt", 1, {"cards": ["As"]})))[
        SEALED
    ].startswith(key_id(decode_key(NEW)))
    old_id = key_id(decode_key(OLD))
    assert f"data key {old_id}, which was not given" in problem_of(
        sealer(NEW), "g1", raw(3, "dealt", text)
    )
    assert "which was not given" in problem_of(Sealer(), "g1", raw(3, "dealt", text))


def test_a_game_in_use_is_not_forgotten_by_the_kinds_it_remembers() -> None:
    s = Sealer(DataKeys([NEW]), {"pokerish": plan_of(POKERISH)}, remember=2)
    s.note_kind("active", "pokerish")
    s.note_kind("b", "pokerish")
    event = Event(3, "dealt", 1, {"seat": 1, "cards": ["As"]})
    s.event_text("active", event)  # appended to: the most recently used
    s.note_kind("c", "pokerish")  # forgets "b", the least recently used
    assert orjson.loads(s.event_text("active", event))["seat"] == 1  # not sealed whole
    assert list(orjson.loads(s.event_text("b", event))) == [SEALED]


def test_rows_in_the_clear_read_as_they_are() -> None:
    text = '{"cards":["As","Kd"],"note":"\\"$sealed\\" in a string"}'
    assert sealer(NEW).open_event("g1", raw(3, "dealt", text)).data == text
    assert Sealer().event_text("g1", Event(3, "dealt", 1, {"cards": ["As"]})) == '{"cards":["As"]}'


def test_a_game_s_own_sealed_key_is_sealed_with_the_rest() -> None:
    s = sealer(NEW)
    data = {SEALED: "mine", "x": 1}
    text = s.event_text("g1", Event(5, "joined", 1, data))
    assert orjson.loads(s.open_event("g1", raw(5, "joined", text)).data) == data


def test_keys_are_checked_and_their_ids_reveal_nothing() -> None:
    with pytest.raises(ValueError, match="not 32 bytes in URL-safe base64"):
        decode_key("c2hvcnQ")
    with pytest.raises(ValueError, match="not URL-safe base64"):
        decode_key(NEW[:-1] + "!")
    kid = key_id(decode_key(NEW))
    assert len(kid) == 16
    assert kid not in NEW
    assert NEW not in repr(DataKeys([NEW]).newest)


def test_a_registered_key_not_given_is_named() -> None:
    rows = [DataKeyRow("aaaa", 1, None), DataKeyRow("bbbb", 1, 5)]
    assert missing_key(["aaaa"], rows) is None
    assert "aaaa" in (missing_key(["cccc"], rows) or "")
    assert "no data key was given" in (missing_key([], rows) or "")
    assert missing_key([], []) is None
    assert missing_key(["cccc"], [DataKeyRow("bbbb", 1, 5)]) is None  # retired: nothing under it
    assert "bbbb" in (missing_key([], [DataKeyRow("bbbb", 1, 5)]) or "")  # but keys were used
