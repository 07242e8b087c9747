"""A host in a cluster (docs/cluster.md), over the in-memory store: a game another node took is
fenced (nothing more of it is stored or published here), a host hands a game over on request,
and a host whose lease is not known to be fresh publishes nothing."""

from __future__ import annotations

import pytest

from rejoin_protocol.errors import ErrorCode
from rejoin_server.errors import ApiError, Fenced
from rejoin_server.games.base import Act
from rejoin_server.host.host import GameHost
from rejoin_server.host.ownership import SoloCoordinator

from .scripted_store import ScriptedStore
from .support import HostFactory, started_table, to_act


class PausedCoordinator(SoloCoordinator):
    """A cluster node whose lease is stale (paused, or cut off from PostgreSQL)."""

    serving = False


async def test_a_game_taken_by_another_node_is_fenced_and_dropped(
    host: GameHost, store: ScriptedStore
) -> None:
    game_id, _ = await started_table(host)
    live = host.loaded(game_id)
    assert live is not None
    assert live.owner_epoch == 1
    before = [seq for seq, _, _ in store.stored(game_id)]
    subscriber = host.subscribe(live, None)
    await store.claim_game(game_id, "another-node", lease_ms=3000)  # epoch 2
    with pytest.raises(Fenced):
        await host.execute(game_id, Act(to_act(live), "call"), action_id="a1")
    assert [seq for seq, _, _ in store.stored(game_id)] == before
    assert host.loaded(game_id) is None
    assert subscriber.end is not None
    assert subscriber.end[0] == 1012  # its players resume on the owner
    assert subscriber.queue.get_nowait() is None  # nothing was published before the end
    assert host.metrics.fenced_writes._value.get() == 1


async def test_a_game_handed_over_is_stored_released_to_the_asker_and_closed(
    host: GameHost, store: ScriptedStore
) -> None:
    game_id, _ = await started_table(host)
    live = host.loaded(game_id)
    assert live is not None
    subscriber = host.subscribe(live, None)
    assert await host.handovers.hand_over(game_id, "n2") is True
    assert host.loaded(game_id) is None
    assert subscriber.end is not None
    assert subscriber.end[0] == 1012
    record = await store.get_game(game_id)
    assert record is not None
    assert (record.owner, record.owner_epoch) == ("n2", 1)
    assert host.metrics.handovers._value.get() == 1
    # The node it went to claims it next; this host's copy could no longer write.
    claim = await store.claim_game(game_id, "n2", lease_ms=3000)
    assert claim.owner_epoch == 2


async def test_a_host_that_may_not_serve_publishes_nothing(
    make_host: HostFactory, store: ScriptedStore
) -> None:
    host = make_host()
    game_id, _ = await started_table(host)
    live = host.loaded(game_id)
    assert live is not None
    stored = len(store.stored(game_id))
    subscriber = host.subscribe(live, None)
    host.ownership.coordinator = PausedCoordinator()
    with pytest.raises(ApiError) as caught:
        await host.execute(game_id, Act(to_act(live), "call"))
    assert caught.value.code == ErrorCode.STORAGE_UNAVAILABLE
    assert len(store.stored(game_id)) == stored
    assert subscriber.queue.empty() or subscriber.queue.get_nowait() is None
