"""What the host tells the API layer about the store: `storage` (for /healthz) and
`note_failure`, the one way a failed request reports the store down."""

from __future__ import annotations

from rejoin_protocol.errors import ErrorCode
from rejoin_server.errors import ApiError, StorageUnavailable
from rejoin_server.games.base import Act
from rejoin_server.host.host import GameHost

from .scripted_store import ScriptedStore
from .support import started_table, to_act
from .waiting import wait_until


async def test_a_failure_that_found_the_store_down_marks_it_unavailable_until_it_is_back(
    host: GameHost, store: ScriptedStore
) -> None:
    host.note_failure(ApiError(ErrorCode.STALE_STATE, "not the store's doing"))
    after_a_rule_error = host.storage
    assert after_a_rule_error.available
    store.down = store.reads_fail_too = True
    host.note_failure(StorageUnavailable("connection refused"))
    after_an_outage = host.storage
    assert not after_an_outage.available
    store.down = store.reads_fail_too = False
    await wait_until(lambda: host.storage.available, what="the probe to find the store back")


async def test_storage_counts_the_events_queued_while_the_store_is_down(
    host: GameHost, store: ScriptedStore
) -> None:
    game_id, _ = await started_table(host)
    live = await host.get(game_id)
    store.down = True
    outcome = await host.execute(game_id, Act(to_act(live), "call"))
    assert host.storage.pending_events == len(outcome.events) > 0
    assert not host.storage.available
    store.down = False
    await wait_until(lambda: host.storage.pending_events == 0, what="the queue to drain")
    assert host.storage.available
