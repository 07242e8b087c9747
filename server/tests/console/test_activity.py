"""`Activity`: the console's recent counts and resume outages, on a clock the test moves."""

from __future__ import annotations

from rejoin_server.console.activity import (
    BUCKET_MS,
    BUCKETS,
    RESTART_TIMED_MS,
    SEATS_REMEMBERED,
    Activity,
)


class Clock:
    def __init__(self, now: int = 1_700_000_000_000) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def test_a_seen_drop_is_timed_from_the_close_to_the_resume() -> None:
    clock = Clock()
    activity = Activity(clock)
    clock.now += 60_000
    activity.seat_left("g", "ann")
    clock.now += 180
    activity.resumed("g", "ann", connected=False, resync=False)
    window = activity.window()
    assert (window.resumes, window.resyncs, window.untimed) == (1, 0, 0)
    assert (window.drop.count, window.restart.count) == (1, 0)
    assert window.drop.quantile(0.5) == 180
    # The drop is forgotten once resumed: the next resume of the seat is not timed from it.
    clock.now += 1_000
    activity.resumed("g", "ann", connected=True, resync=True)
    window = activity.window()
    assert (window.resumes, window.resyncs, window.untimed, window.drop.count) == (2, 1, 1, 1)


def test_a_seat_never_seen_connected_is_timed_from_the_process_start() -> None:
    clock = Clock()
    activity = Activity(clock)
    clock.now += 95
    activity.resumed("g", "bob", connected=False, resync=True)
    window = activity.window()
    assert (window.restart.count, window.drop.count) == (1, 0)
    assert window.restart.quantile(0.99) == 95
    assert window.resyncs == 1
    # Long after the start, a seat never seen connected has an outage nobody can tell: a game
    # moved here from another node, a player back after the game was unloaded.
    clock.now = activity.started_ms + RESTART_TIMED_MS + 1
    activity.resumed("g", "cy", connected=False, resync=False)
    window = activity.window()
    assert (window.resumes, window.restart.count, window.untimed) == (2, 1, 1)


def test_actions_and_resumes_fall_in_five_second_buckets_and_leave_the_window() -> None:
    clock = Clock(BUCKET_MS * 1000)  # at the start of a bucket
    activity = Activity(clock)
    activity.action()
    activity.action()
    clock.now += BUCKET_MS
    activity.action()
    window = activity.window(2 * BUCKET_MS)
    assert window.window_ms == 2 * BUCKET_MS
    assert [p.actions for p in window.points] == [2, 1]
    assert window.actions == 3
    # The last bucket alone.
    assert activity.window(BUCKET_MS).actions == 1
    # Every bucket of the ring is there, oldest first, empty ones with zeros.
    full = activity.window()
    assert len(full.points) == BUCKETS
    assert [p.actions for p in full.points[-3:]] == [0, 2, 1]
    assert full.points[-1].at_ms - full.points[0].at_ms == (BUCKETS - 1) * BUCKET_MS
    # 15 minutes later the ring has come round: the old counts are gone, not added to.
    clock.now += BUCKETS * BUCKET_MS
    activity.action()
    assert activity.window().actions == 1


def test_the_remembered_drops_are_bounded() -> None:
    clock = Clock()
    activity = Activity(clock)
    for n in range(SEATS_REMEMBERED + 1):
        activity.seat_left("g", f"p{n}")
    clock.now += 10
    activity.resumed("g", "p0", connected=False, resync=False)  # the oldest, forgotten
    activity.resumed("g", f"p{SEATS_REMEMBERED}", connected=False, resync=False)
    window = activity.window()
    assert (window.drop.count, window.restart.count) == (1, 1)
    assert window.drop.quantile(0.5) == 10
