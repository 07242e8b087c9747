"""History epochs (issue 12): a client whose events a crash erased resumes with a resync, never
on top of a history the server does not have; everyone else resumes as before.

`History` alone first, then the host: a store that goes down, a game that goes on in memory,
the process gone with its queue, and the game loaded again on the same store."""

from __future__ import annotations

from rejoin_server.games.base import Act, Start
from rejoin_server.host.history import EPOCHS_KEPT, History
from rejoin_server.host.host import GameHost

from .scripted_store import ScriptedStore
from .support import FakeClock, HostFactory, new_table, to_act


def test_the_rules_of_holds() -> None:
    history = History([("a", 1), ("b", 10), ("c", 20)], stored=True)  # c: ours, from seq 20
    assert history.token() == "c.20"
    assert history.holds(None, 99)  # a client without an epoch is not checked
    assert history.holds("c.20", 25)  # ours
    assert history.holds("a.1", 9)  # a's events up to 9 were stored (b began at 10)
    assert not history.holds("a.1", 10)  # a client of a saw a 10 that b rewrote
    assert history.holds("b.10", 19)
    assert not history.holds("b.10", 22)
    assert history.holds("zz.30", 29)  # before its first seq: what the store held at its load
    assert not history.holds("zz.30", 30)  # an epoch that stored nothing: its events are gone
    assert not history.holds("b.11", 15)  # not that epoch
    for garbage in ("", "c", "c.", ".20", "c.x", "c.-1", "c.²", "c.2\n", "a.1.20"):
        assert not history.holds(garbage, 25), garbage


def test_an_epoch_is_stored_once_then_no_more_is_written() -> None:
    history = History.begin([("a", 1)], next_seq=7)
    assert history.to_store() == [("a", 1), history.own]
    assert history.own[1] == 7
    history.stored_through(6)  # a snapshot of what was there: not ours yet
    assert history.to_store() is not None
    history.stored_through(7)
    assert history.to_store() is None


def test_old_epochs_are_dropped_past_the_kept_number() -> None:
    stored = [(f"e{i}", i * 10 + 1) for i in range(EPOCHS_KEPT + 5)]
    history = History.begin(stored, next_seq=10_000)
    assert len(history.epochs) == EPOCHS_KEPT
    assert history.epochs[-1] == history.own
    assert not history.holds("e0.1", 5)  # forgotten: resync, the safe answer
    assert history.holds(history.token(), 10_000)


async def play(host: GameHost, game_id: str, actions: int) -> None:
    live = await host.get(game_id)
    for _ in range(actions):
        player = to_act(live)
        legal = {a["type"] for a in live.state.view(player)["you"]["legalActions"]}
        await host.execute(game_id, Act(player, "check" if "check" in legal else "call"))


async def test_a_client_of_a_history_lost_in_a_crash_gets_a_resync(
    make_host: HostFactory, store: ScriptedStore, clock: FakeClock
) -> None:
    before = make_host()
    game_id, players = await new_table(before, 3, actionTimeoutMs=600_000)
    await before.execute(game_id, Start(players[0]))
    live = await before.get(game_id)
    durable = live.state.seq
    epoch_before = live.history.token()
    assert (await store.get_game(game_id)).history == (live.history.own,)  # type: ignore[union-attr]

    store.down = True  # degraded: the game goes on in memory
    await play(before, game_id, 2)
    seen = live.state.seq
    assert seen > durable
    assert live.marks.durable_seq == durable
    await before.stop(flush_timeout_s=0.01)  # the process dies with its queue
    store.down = False

    after = make_host(at=clock)
    relive = await after.get(game_id)
    assert relive.state.seq == durable
    assert relive.history.token() != epoch_before
    await play(after, game_id, 2)  # the same seqs, other events
    assert relive.state.seq >= seen
    player = players[0]
    async with after.reading(relive):
        # Saw the lost events: resync, whatever its last seq.
        for last in (durable + 1, seen):
            assert await after.missed_events(relive, player, last, epoch_before) == ([], True)
        # Saw only what was stored: the events after its seq, as before.
        missed, resync = await after.missed_events(relive, player, durable, epoch_before)
        assert not resync
        assert [e["seq"] for e in missed] == list(range(durable + 1, relive.state.seq + 1))
        # The new incarnation's own clients, and clients that send no epoch, resume as before.
        ours = relive.history.token()
        assert (await after.missed_events(relive, player, relive.state.seq, ours))[1] is False
        assert (await after.missed_events(relive, player, seen, None))[1] is False
    stored = await store.get_game(game_id)
    assert stored is not None
    assert [epoch for epoch, _ in stored.history] == [
        epoch_before.split(".")[0],
        relive.history.own[0],
    ]
    assert stored.history[1][1] == durable + 1
