import itertools
from collections.abc import Callable, Iterable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rejoin_protocol.backoff import Backoff, BackoffPolicy


def draws(values: Iterable[float]) -> Callable[[], float]:
    """A random source that returns these values in turn."""
    return iter(values).__next__


def always(value: float) -> Callable[[], float]:
    return draws(itertools.repeat(value))


def test_the_default_schedule_is_100_ms_doubling_to_a_5_s_cap() -> None:
    policy = BackoffPolicy()
    bounds = [policy.bound(attempt) for attempt in range(10)]
    assert bounds == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0, 5.0, 5.0])


def test_the_first_retry_comes_within_100_ms_even_at_the_top_draw() -> None:
    backoff = Backoff(random_source=always(0.999999))
    assert backoff.next_delay() < 0.1


def test_delays_are_full_jitter_over_the_bound() -> None:
    backoff = Backoff(random_source=draws([0.0, 0.5, 0.25, 1.0]))
    delays = [backoff.next_delay() for _ in range(4)]
    assert delays == pytest.approx([0.0, 0.1, 0.1, 0.8])


def test_delays_never_pass_the_cap() -> None:
    backoff = Backoff(random_source=always(0.999999))
    delays = [backoff.next_delay() for _ in range(50)]
    assert max(delays) < 5.0
    assert delays[-1] == pytest.approx(5.0)


def test_a_source_outside_0_1_cannot_push_a_delay_out_of_its_bound() -> None:
    backoff = Backoff(random_source=draws([1.5, -0.5]))
    assert backoff.next_delay() == pytest.approx(0.1)
    assert backoff.next_delay() == 0.0


def test_reset_starts_again_from_the_first_bound() -> None:
    backoff = Backoff(random_source=always(1.0))
    for _ in range(5):
        backoff.next_delay()
    assert backoff.attempts == 5
    backoff.reset()
    assert backoff.attempts == 0
    assert backoff.next_delay() == pytest.approx(0.1)


def test_soon_stays_within_the_first_bound_but_still_counts() -> None:
    backoff = Backoff(random_source=always(1.0))
    for _ in range(8):
        backoff.next_delay()
    assert backoff.next_delay(soon=True) == pytest.approx(0.1)
    assert backoff.attempts == 9
    assert backoff.next_delay() == pytest.approx(5.0)


def test_the_default_quick_retries_are_ten_between_50_and_150_ms() -> None:
    backoff = Backoff(random_source=draws([0.0, 0.5, 1.0] + [1.0] * 8))
    delays = [backoff.next_delay(quick=True) for _ in range(11)]
    assert delays[:3] == pytest.approx([0.05, 0.1, 0.15])
    assert delays[3:10] == pytest.approx([0.15] * 7)
    assert backoff.quick_left == 0
    assert delays[10] == pytest.approx(0.1)  # none left: the ladder's first step


def test_quick_retries_do_not_climb_the_ladder_but_count_as_attempts() -> None:
    backoff = Backoff(random_source=always(1.0))
    assert backoff.next_delay() == pytest.approx(0.1)
    for _ in range(10):
        backoff.next_delay(quick=True)
    assert backoff.attempts == 11
    assert [backoff.next_delay() for _ in range(3)] == pytest.approx([0.2, 0.4, 0.8])


def test_a_quick_retry_never_passes_the_cap() -> None:
    backoff = Backoff(BackoffPolicy(first=0.01, cap=0.02), random_source=always(1.0))
    assert backoff.next_delay(quick=True) == pytest.approx(0.02)


def test_reset_gives_the_quick_retries_back() -> None:
    backoff = Backoff(BackoffPolicy(quick_tries=2), random_source=always(1.0))
    delays = [backoff.next_delay(quick=True) for _ in range(3)]
    assert delays == pytest.approx([0.15, 0.15, 0.1])
    backoff.reset()
    assert backoff.quick_left == 2
    assert backoff.next_delay(quick=True) == pytest.approx(0.15)


def test_thousands_of_failures_do_not_overflow() -> None:
    assert BackoffPolicy().bound(100_000) == 5.0


@pytest.mark.parametrize(
    ("first", "cap", "factor", "complaint"),
    [
        (0.0, 5.0, 2.0, "first must be a positive"),
        (-1.0, 5.0, 2.0, "first must be a positive"),
        (1.0, 0.5, 2.0, "cap (0.5) must be at least first"),
        (0.1, 5.0, 0.5, "factor must be at least 1"),
        (float("nan"), 5.0, 2.0, "first must be a positive"),
    ],
)
def test_a_policy_that_makes_no_sense_is_refused(
    first: float, cap: float, factor: float, complaint: str
) -> None:
    with pytest.raises(ValueError, match=complaint.replace("(", r"\(").replace(")", r"\)")):
        BackoffPolicy(first, cap, factor)


@pytest.mark.parametrize(
    ("low", "high", "tries"),
    [
        (0.0, 0.15, 10),  # no floor: a tight loop
        (0.2, 0.1, 10),
        (0.05, float("inf"), 10),
        (float("nan"), 0.15, 10),
        (0.05, 0.15, -1),
    ],
)
def test_quick_retries_that_make_no_sense_are_refused(low: float, high: float, tries: int) -> None:
    with pytest.raises(ValueError, match="quick"):
        BackoffPolicy(quick_low=low, quick_high=high, quick_tries=tries)


@given(
    first=st.floats(min_value=0.001, max_value=2.0),
    extra=st.floats(min_value=0.0, max_value=30.0),
    factor=st.floats(min_value=1.0, max_value=4.0),
    steps=st.lists(
        st.tuples(st.sampled_from(["next", "soon", "quick", "reset"]), st.floats(0.0, 1.0)),
        max_size=60,
    ),
    quick_tries=st.integers(0, 5),
)
def test_every_delay_is_within_its_bound(
    first: float, extra: float, factor: float, steps: list[tuple[str, float]], quick_tries: int
) -> None:
    low, high = 0.05, 0.15
    policy = BackoffPolicy(first, first + extra, factor, low, high, quick_tries)
    source = draws(draw for _, draw in steps)
    backoff = Backoff(policy, source)
    previous_bound = 0.0
    quick_used = 0  # the model: the ladder's step is the attempts that were not quick
    for step, draw in steps:
        attempt = backoff.attempts
        if step == "reset":
            source()  # keep the draws in step with the steps
            backoff.reset()
            assert backoff.attempts == 0
            assert backoff.quick_left == quick_tries
            previous_bound, quick_used = 0.0, 0
            continue
        delay = backoff.next_delay(soon=step == "soon", quick=step == "quick")
        assert backoff.attempts == attempt + 1
        assert 0.0 <= delay <= policy.cap
        if step == "quick" and quick_used < quick_tries:
            quick_used += 1
            assert delay == pytest.approx(min(low + draw * (high - low), policy.cap))
            assert backoff.quick_left == quick_tries - quick_used
            continue
        bound = policy.first if step == "soon" else policy.bound(attempt - quick_used)
        assert delay == pytest.approx(draw * bound)
        if step != "soon":
            # The bounds never shrink between resets.
            assert bound >= previous_bound
            previous_bound = bound
