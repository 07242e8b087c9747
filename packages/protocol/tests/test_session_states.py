import itertools

import pytest

from rejoin_protocol.session_states import (
    TRANSITIONS,
    SessionState,
    SessionStateError,
    Trigger,
    next_state,
)

S, T = SessionState, Trigger
ABSENT = [pair for pair in itertools.product(S, T) if pair not in TRANSITIONS]


@pytest.mark.parametrize(("state", "trigger"), ABSENT)
def test_a_pair_the_table_does_not_hold_raises_naming_it(
    state: SessionState, trigger: Trigger
) -> None:
    with pytest.raises(SessionStateError) as caught:
        next_state(state, trigger)
    assert (caught.value.state, caught.value.trigger) == (state, trigger)
    assert f"state {state.value!r} cannot take {trigger.value!r}" in str(caught.value)


def test_every_state_is_reachable_from_idle() -> None:
    reached, frontier = {S.IDLE}, [S.IDLE]
    while frontier:
        state = frontier.pop()
        for (source, _), target in TRANSITIONS.items():
            if source is state and target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(S)


def test_the_application_can_close_from_every_state_and_nothing_leaves_closed() -> None:
    assert all(next_state(state, T.CLOSE) is S.CLOSED for state in S)
    assert [t for (s, t) in TRANSITIONS if s is S.CLOSED] == [T.CLOSE]


def test_only_the_end_of_a_backoff_dials_again_and_only_a_welcome_connects() -> None:
    into = {(s, t) for (s, t), target in TRANSITIONS.items() if target is not s}
    assert {(s, t) for (s, t) in into if TRANSITIONS[s, t] is S.CONNECTING} == {
        (S.IDLE, T.START),
        (S.BACKING_OFF, T.RETRY),
    }
    assert {(s, t) for (s, t) in into if TRANSITIONS[s, t] is S.CONNECTED} == {
        (S.HANDSHAKING, T.WELCOMED)
    }


def test_a_failure_always_closes_and_a_drop_always_backs_off() -> None:
    assert {TRANSITIONS[s, t] for (s, t) in TRANSITIONS if t is T.FAILED} == {S.CLOSED}
    assert {TRANSITIONS[s, t] for (s, t) in TRANSITIONS if t is T.DROPPED} == {S.BACKING_OFF}


def test_actions_may_be_requested_in_every_state_but_closed() -> None:
    assert {s for (s, t) in TRANSITIONS if t is T.ACT} == set(S) - {S.CLOSED}
    assert all(TRANSITIONS[s, T.ACT] is s for s in set(S) - {S.CLOSED})
