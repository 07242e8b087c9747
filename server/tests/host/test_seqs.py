"""`SeqMarks`, the rules of how far a game's events have gone, alone; the host tests check them
through play (a store that goes down, relaxed durability, `persist`)."""

from __future__ import annotations

from rejoin_server.games.poker import PokerEngine
from rejoin_server.host.history import History
from rejoin_server.host.live import LiveGame
from rejoin_server.host.seqs import SeqMarks

from .support import T0


def test_a_loaded_game_has_published_and_stored_everything_up_to_its_seq() -> None:
    marks = SeqMarks(7, 5, T0)
    assert (marks.published_seq, marks.durable_seq, marks.stored_at_ms) == (7, 7, T0)
    assert (marks.last_snapshot_seq, marks.stored_snapshot_seq) == (5, 5)
    assert marks.is_durable(7)
    assert not marks.is_durable(8)
    assert marks.unstored(7) == 0


def test_the_durable_seq_only_grows() -> None:
    marks = SeqMarks(0, 0, T0)
    assert marks.stored(3, T0 + 1)
    assert (marks.durable_seq, marks.stored_at_ms) == (3, T0 + 1)
    # A write reported again (its retry found it stored), or an older one: nothing moves.
    assert not marks.stored(3, T0 + 2)
    assert not marks.stored(2, T0 + 3)
    assert (marks.durable_seq, marks.stored_at_ms) == (3, T0 + 1)
    assert marks.unstored(5) == 2


def test_publishing_does_not_make_anything_durable() -> None:
    marks = SeqMarks(0, 0, T0)
    marks.published(4)
    assert marks.published_seq == 4
    assert marks.durable_seq == 0
    assert not marks.is_durable(1)


def test_a_queued_snapshot_counts_for_the_next_one_but_is_not_stored() -> None:
    marks = SeqMarks(0, 0, T0)
    assert marks.snapshot_due(10, every=10)
    assert not marks.snapshot_due(9, every=10)
    marks.snapshot_taken(10, stored=False)
    assert (marks.last_snapshot_seq, marks.stored_snapshot_seq) == (10, 0)
    assert not marks.snapshot_due(19, every=10)  # counted from the queued one
    marks.snapshot_taken(20, stored=True)
    assert (marks.last_snapshot_seq, marks.stored_snapshot_seq) == (20, 20)


def test_a_snapshot_written_on_its_own_is_stored_now() -> None:
    marks = SeqMarks(12, 0, T0)
    marks.snapshot_stored(12, T0 + 9)
    assert (marks.last_snapshot_seq, marks.stored_snapshot_seq, marks.stored_at_ms) == (
        12,
        12,
        T0 + 9,
    )


def test_a_live_game_marks_its_epoch_stored_only_when_its_events_reach_the_store() -> None:
    state = PokerEngine().new_game("g", {"seats": 2})
    live = LiveGame(
        state=state,
        kind="poker",
        last_activity_ms=T0,
        marks=SeqMarks(4, 0, T0),
        history=History.begin((), 5),
    )
    live.note_stored(4, T0 + 1)  # not past what was stored at load: no news
    assert live.history.to_store() is not None
    assert live.marks.stored_at_ms == T0
    live.note_stored(5, T0 + 2)
    assert live.history.to_store() is None
    assert (live.marks.durable_seq, live.marks.stored_at_ms) == (5, T0 + 2)
