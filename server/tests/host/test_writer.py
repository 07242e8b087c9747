"""`GameWriter`: strict writes, degraded mode, the in-order drain, ambiguous commits, fencing,
relaxed durability and `flush`, against a scripted in-memory store."""

from __future__ import annotations

import pytest

from rejoin_server.errors import GameNotFound, SeqConflict
from rejoin_server.games.base import Event
from rejoin_server.host import writer as writer_module
from rejoin_server.host.writer import GameWriter, PendingWrite
from rejoin_server.metrics import Metrics
from rejoin_server.store.base import SnapshotWrite
from rejoin_server.store.codec import canonical_json, checksum

from .scripted_store import ScriptedStore
from .waiting import settle, wait_until

T0 = 1_700_000_000_000


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The drain's backoff in milliseconds instead of 50 ms … 5 s: tests wait for conditions."""
    monkeypatch.setattr(writer_module, "FIRST_RETRY_S", 0.001)
    monkeypatch.setattr(writer_module, "MAX_RETRY_S", 0.002)


class Recorder:
    def __init__(self) -> None:
        self.stored: list[tuple[str, int]] = []
        self.lost: list[tuple[str, BaseException]] = []

    def on_stored(self, game_id: str, seq: int) -> None:
        self.stored.append((game_id, seq))

    def on_lost(self, game_id: str, exc: BaseException) -> None:
        self.lost.append((game_id, exc))

    def durable(self, game_id: str) -> int:
        return max((seq for g, seq in self.stored if g == game_id), default=0)


class Harness:
    def __init__(self, *, strict: bool = True) -> None:
        self.store = ScriptedStore()
        self.metrics = Metrics()
        self.calls = Recorder()
        self.writer = GameWriter(
            self.store, self.metrics, on_stored=self.calls.on_stored, on_lost=self.calls.on_lost
        )
        self.strict = strict  # how `item` hands writes over, unless told
        self.next_seq: dict[str, int] = {}

    async def game(self, game_id: str) -> str:
        await self.store.create_game(game_id, "counter", {}, T0)
        self.next_seq[game_id] = 1
        return game_id

    def item(
        self,
        game_id: str,
        count: int = 1,
        action_id: str | None = None,
        *,
        strict: bool | None = None,
    ) -> PendingWrite:
        """The next `count` events of `game_id`, as the host would hand them over."""
        first = self.next_seq[game_id]
        self.next_seq[game_id] = first + count
        events = [
            Event(seq, "added", T0 + seq, {"n": seq, "game": game_id})
            for seq in range(first, first + count)
        ]
        strict = self.strict if strict is None else strict
        return PendingWrite(game_id, events, "playing", T0 + first, None, action_id, strict=strict)

    def is_degraded(self) -> bool:
        return self.writer.degraded

    def gauge(self, name: str) -> float | None:
        return self.metrics.registry.get_sample_value(name)

    def assert_log(self, game_id: str, last: int) -> None:
        """The stored log is 1..last, gapless, each event once, with the data written."""
        log = self.store.stored(game_id)
        assert [seq for seq, _, _ in log] == list(range(1, last + 1))
        assert [data for _, _, data in log] == [
            {"n": seq, "game": game_id} for seq in range(1, last + 1)
        ]


async def test_a_strict_write_is_stored_before_it_returns() -> None:
    h = Harness()
    game = await h.game("g")
    assert await h.writer.write(h.item(game, 3)) is True
    h.assert_log(game, 3)
    assert h.calls.stored == [(game, 3)]
    assert not h.is_degraded()
    assert h.writer.pending_events == 0
    assert not h.writer.has_pending(game)
    assert h.gauge("rejoin_degraded") == 0
    assert h.gauge("rejoin_pending_writes") == 0


async def test_an_action_id_is_stored_with_the_last_event() -> None:
    h = Harness()
    game = await h.game("g")
    await h.writer.write(h.item(game, 2, action_id="act-1"))
    assert await h.store.recent_actions(game) == {"act-1": 2}


async def test_a_store_that_is_down_queues_the_write_and_the_writer_is_degraded() -> None:
    h = Harness()
    game = await h.game("g")
    h.store.down = True
    assert await h.writer.write(h.item(game, 2)) is False
    assert h.is_degraded()
    assert h.writer.pending_events == 2
    assert h.writer.has_pending(game)
    assert h.gauge("rejoin_degraded") == 1
    assert h.gauge("rejoin_pending_writes") == 2
    assert h.store.stored(game) == []
    assert h.calls.stored == []
    await h.writer.close()


async def test_later_writes_queue_behind_and_other_games_queue_too() -> None:
    h = Harness()
    game, other = await h.game("g"), await h.game("other")
    h.store.down = True
    assert await h.writer.write(h.item(game, 2)) is False
    attempts_before = len([a for a in h.store.attempts if a[0] == other])
    assert await h.writer.write(h.item(game, 1)) is False
    assert await h.writer.write(h.item(other, 3)) is False
    assert h.writer.pending_events == 6
    assert h.writer.has_pending(game)
    assert h.writer.has_pending(other)
    # While degraded, a write of another game queues at once: it does not try the store first.
    # (Its drain task may try later, so only attempts made during `write` itself count here.)
    assert len([a for a in h.store.attempts if a[0] == other]) == attempts_before
    h.store.down = False
    assert await h.writer.flush(5.0)
    h.assert_log(game, 3)
    h.assert_log(other, 3)
    assert not h.is_degraded()
    assert h.writer.pending_events == 0
    assert h.gauge("rejoin_degraded") == 0
    assert h.gauge("rejoin_pending_writes") == 0
    assert h.calls.durable(game) == 3
    assert h.calls.durable(other) == 3


async def test_the_queue_drains_in_order_and_a_new_write_never_overtakes_it() -> None:
    h = Harness()
    game = await h.game("g")
    h.store.fail_next(1)
    assert await h.writer.write(h.item(game, 1)) is False  # seq 1 queued
    h.store.block(game)  # the drain's retry of seq 1 now waits
    for _ in range(3):
        assert await h.writer.write(h.item(game, 2)) is False  # seqs 2..7 queue behind
    await settle()
    # Another game's queue drains: the store is reachable again and the writer not degraded.
    other = await h.game("other")
    assert await h.writer.write(h.item(other, 1)) is False
    await wait_until(lambda: not h.writer.has_pending(other), what="the other game to drain")
    assert not h.is_degraded()
    # A strict write of this game still queues behind its own earlier writes.
    assert await h.writer.write(h.item(game, 1)) is False  # seq 8
    assert h.writer.pending_events >= 8
    h.store.release(game)
    assert await h.writer.flush(5.0)
    h.assert_log(game, 8)
    stored_attempts = [seqs for g, seqs, outcome in h.store.attempts if g == game]
    assert stored_attempts[0] == (1,)
    written = [seqs for g, seqs, outcome in h.store.attempts if g == game and outcome == "stored"]
    assert written == [(1,), (2, 3), (4, 5), (6, 7), (8,)]
    game_stored = [seq for g, seq in h.calls.stored if g == game]
    assert game_stored == sorted(game_stored)
    assert game_stored[-1] == 8
    assert h.writer.pending_events == 0
    assert not h.is_degraded()


async def test_the_drain_retries_until_the_store_answers() -> None:
    h = Harness()
    game = await h.game("g")
    h.store.fail_next(5)
    assert await h.writer.write(h.item(game, 1)) is False
    assert await h.writer.flush(5.0)
    h.assert_log(game, 1)
    outcomes = [outcome for g, _, outcome in h.store.attempts if g == game]
    assert outcomes == ["unavailable"] * 5 + ["stored"]
    assert not h.is_degraded()
    assert h.calls.lost == []


async def test_an_ambiguous_commit_is_recognised_no_duplicate_no_give_up() -> None:
    h = Harness()
    game = await h.game("g")
    h.store.commit_then_fail_next(1)
    assert await h.writer.write(h.item(game, 2)) is False  # committed, but the answer was lost
    assert h.is_degraded()
    assert await h.writer.write(h.item(game, 1)) is False  # queued behind
    assert await h.writer.flush(5.0)
    h.assert_log(game, 3)
    assert h.calls.lost == []
    assert h.calls.durable(game) == 3
    assert not h.is_degraded()
    assert h.writer.pending_events == 0


async def test_an_ambiguous_commit_inside_the_drain_is_recognised() -> None:
    h = Harness()
    game = await h.game("g")
    h.store.fail_next(1)
    assert await h.writer.write(h.item(game, 1)) is False
    h.store.commit_then_fail_next(1)  # the drain's first retry commits but hears nothing back
    assert await h.writer.write(h.item(game, 1)) is False
    assert await h.writer.flush(5.0)
    h.assert_log(game, 2)
    assert h.calls.lost == []
    assert h.writer.pending_events == 0


async def test_an_ambiguous_commit_survives_a_store_that_flaps_while_it_is_checked() -> None:
    """The store comes back, the retried write conflicts (its first attempt had committed), and
    the store drops out again for the check of what it holds. Nothing queued may be lost: the
    drain must retry the check, not give the game up and drop the writes behind it."""
    h = Harness()
    game = await h.game("g")
    h.store.commit_then_fail_next(1)
    assert await h.writer.write(h.item(game, 1)) is False  # seq 1: committed, answer lost
    assert await h.writer.write(h.item(game, 2)) is False  # seqs 2, 3: only in the queue
    h.store.fail_get_game_next(1)
    assert await h.writer.flush(5.0)
    assert h.calls.lost == [], "a transient outage during the check gave the game up"
    h.assert_log(game, 3)
    assert h.writer.pending_events == 0


async def test_a_genuine_conflict_in_the_queue_reports_the_game_lost() -> None:
    h = Harness()
    game = await h.game("g")
    h.store.down = True
    assert await h.writer.write(h.item(game, 3)) is False  # seqs 1..3
    # Meanwhile another writer (another server that loaded the game) stored seq 1 only.
    await h.store.append_unscripted(
        game, [Event(1, "added", T0, {"n": 100})], status="playing", now_ms=T0
    )
    h.store.down = False
    assert await h.writer.flush(5.0)
    assert [g for g, _ in h.calls.lost] == [game]
    assert isinstance(h.calls.lost[0][1], SeqConflict)
    assert h.store.stored(game) == [(1, "added", {"n": 100})]  # the other writer's log, intact
    assert h.writer.pending_events == 0
    assert not h.writer.has_pending(game)
    assert h.calls.stored == []


async def test_a_genuine_conflict_as_long_as_the_queue_is_not_taken_for_our_own_commit() -> None:
    """Fencing (docs/architecture.md): another writer stored seqs 1..3 with other events while ours were
    queued. The log covering our last seq does not make it our commit: the content differs, so the
    game must be reported lost rather than marked durable with a history the log does not hold."""
    h = Harness()
    game = await h.game("g")
    h.store.down = True
    assert await h.writer.write(h.item(game, 3)) is False
    theirs = [Event(seq, "added", T0, {"n": 100 + seq}) for seq in (1, 2, 3, 4)]
    await h.store.append_unscripted(game, theirs, status="playing", now_ms=T0)
    h.store.down = False
    assert await h.writer.flush(5.0)
    assert [g for g, _ in h.calls.lost] == [game], (
        f"our queued seqs 1..3 were marked stored ({h.calls.stored}) though the log holds "
        "another writer's events"
    )
    assert h.calls.stored == []


async def test_the_writer_is_not_degraded_after_giving_a_game_up() -> None:
    """The store answered (with a conflict): it is reachable, so /healthz must not stay degraded."""
    h = Harness()
    game = await h.game("g")
    h.store.down = True
    assert await h.writer.write(h.item(game, 2)) is False
    await h.store.append_unscripted(
        game, [Event(1, "added", T0, {"n": 100})], status="playing", now_ms=T0
    )
    h.store.down = False
    assert await h.writer.flush(5.0)
    assert len(h.calls.lost) == 1
    assert not h.is_degraded()
    assert h.gauge("rejoin_degraded") == 0


async def test_a_game_deleted_while_its_writes_wait_is_reported_lost() -> None:
    h = Harness()
    game = await h.game("g")
    h.store.down = True
    assert await h.writer.write(h.item(game, 2)) is False
    await h.store.delete_game(game)
    h.store.down = False
    assert await h.writer.flush(5.0)
    assert [g for g, _ in h.calls.lost] == [game]
    assert isinstance(h.calls.lost[0][1], GameNotFound)
    assert h.writer.pending_events == 0


async def test_a_strict_write_that_conflicts_raises_and_queues_nothing() -> None:
    h = Harness()
    game = await h.game("g")
    await h.writer.write(h.item(game, 1))
    h.next_seq[game] = 1  # a second writer that is behind
    with pytest.raises(SeqConflict):
        await h.writer.write(h.item(game, 1))
    assert not h.writer.has_pending(game)
    assert h.writer.pending_events == 0
    assert not h.is_degraded()


async def test_a_strict_write_of_a_deleted_game_raises_game_not_found() -> None:
    h = Harness()
    game = await h.game("g")
    await h.store.delete_game(game)
    with pytest.raises(GameNotFound):
        await h.writer.write(h.item(game, 1))
    assert h.writer.pending_events == 0


async def test_relaxed_mode_always_queues_and_drains_in_order() -> None:
    h = Harness(strict=False)
    game, other = await h.game("g"), await h.game("other")
    results = [await h.writer.write(h.item(game, 1)) for _ in range(5)]
    results.append(await h.writer.write(h.item(other, 2)))
    assert results == [False] * 6
    assert not h.is_degraded()  # write-behind is not an outage
    assert await h.writer.flush(5.0)
    h.assert_log(game, 5)
    h.assert_log(other, 2)
    assert h.writer.pending_events == 0
    assert h.calls.durable(game) == 5
    assert not h.is_degraded()


async def test_strict_and_relaxed_writes_side_by_side_each_as_its_game_chose() -> None:
    # One writer, as on a server whose games chose their durability each: a strict write waits
    # for its commit, a relaxed one is queued at once, whatever the other games do.
    h = Harness()
    strict, relaxed = await h.game("strict"), await h.game("relaxed")
    h.store.block(relaxed)
    assert await h.writer.write(h.item(relaxed, 2, strict=False)) is False
    assert h.writer.has_pending(relaxed)
    assert await h.writer.write(h.item(strict, 1, strict=True)) is True
    h.assert_log(strict, 1)  # committed when the write answered
    assert h.store.stored_seqs(relaxed) == []  # held at the store: the answer did not wait
    assert not h.is_degraded()
    h.store.release(relaxed)
    assert await h.writer.flush(5.0)
    h.assert_log(relaxed, 2)
    assert h.calls.durable(relaxed) == 2


async def test_relaxed_mode_rides_out_an_outage() -> None:
    h = Harness(strict=False)
    game = await h.game("g")
    h.store.fail_next(3)
    for _ in range(4):
        assert await h.writer.write(h.item(game, 1)) is False
    assert await h.writer.flush(5.0)
    h.assert_log(game, 4)
    assert not h.is_degraded()
    assert h.calls.lost == []


async def test_flush_waits_for_the_drains() -> None:
    h = Harness()
    game = await h.game("g")
    h.store.fail_next(1)
    await h.writer.write(h.item(game, 1))
    h.store.block(game)
    await h.writer.write(h.item(game, 1))
    assert await h.writer.flush(0.01) is False  # still blocked: flush gives up at its timeout
    assert h.writer.pending_events == 2
    h.store.release(game)
    assert await h.writer.flush(5.0) is True
    h.assert_log(game, 2)
    assert h.writer.pending_events == 0


async def test_flush_with_nothing_queued_returns_at_once() -> None:
    h = Harness()
    assert await h.writer.flush(0.0) is True


async def test_close_cancels_the_drains() -> None:
    h = Harness()
    game = await h.game("g")
    h.store.down = True
    await h.writer.write(h.item(game, 1))
    await h.writer.close()
    await settle()
    h.store.down = False
    await settle()
    assert h.store.stored(game) == []  # a cancelled drain writes nothing afterwards


async def test_a_snapshot_only_write_counts_no_events() -> None:
    h = Harness()
    game = await h.game("g")
    await h.writer.write(h.item(game, 2))

    body = canonical_json({"total": 3, "seq": 2})
    snapshot = SnapshotWrite(version=2, state=body, checksum=checksum(body))
    h.store.down = True
    item = PendingWrite(game, [], "playing", T0, snapshot, None)
    assert item.last_seq == 2
    assert await h.writer.write(item) is False
    assert h.writer.pending_events == 0
    assert h.writer.has_pending(game)
    h.store.down = False
    assert await h.writer.flush(5.0)
    log = await h.store.load(game)
    assert [s.version for s in log.snapshots] == [2]
    assert h.calls.stored[-1] == (game, 2)


async def test_on_stored_reports_each_queued_write_as_it_lands() -> None:
    h = Harness()
    game = await h.game("g")
    h.store.fail_next(1)
    await h.writer.write(h.item(game, 1))
    await h.writer.write(h.item(game, 2))
    await wait_until(lambda: h.calls.durable(game) == 3, what="the queue to drain")
    assert [seq for g, seq in h.calls.stored if g == game] == [1, 3]
