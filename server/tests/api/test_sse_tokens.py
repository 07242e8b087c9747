"""`TokenPush` against a store that holds its token read until the test lets it go: what happens
between the push asking the store and the push going out is set by the test, not by timing."""

from __future__ import annotations

import asyncio

import pytest

from rejoin_server.api.sse_tokens import TokenPush
from rejoin_server.host.live import Subscriber
from rejoin_server.store.base import TokenRow
from rejoin_server.store.memory import MemoryGameStore

from .support import AsyncApi, Player, running_async

TTL = 60_000


class HeldTokenStore(MemoryGameStore):
    """The memory store; while `held`, a token read says it began and waits for `release`."""

    def __init__(self) -> None:
        super().__init__()
        self.held = False
        self.reading = asyncio.Event()
        self.release = asyncio.Event()

    async def current_token(self, game_id: str, player_id: str, now_ms: int) -> TokenRow | None:
        if self.held:
            self.reading.set()
            await self.release.wait()
        return await super().current_token(game_id, player_id, now_ms)


def blocks(subscriber: Subscriber) -> list[str]:
    """The text blocks (token pushes) waiting in the subscriber's queue."""
    items = []
    while not subscriber.queue.empty():
        items.append(subscriber.queue.get_nowait())
    return [item for item in items if isinstance(item, str)]


@pytest.mark.timeout(30)
@pytest.mark.parametrize("meanwhile", ["nothing", "claim won anew", "seat resumed elsewhere"])
async def test_a_push_goes_out_only_if_the_stream_still_reads_under_its_claim(
    meanwhile: str,
) -> None:
    store = HeldTokenStore()
    async with running_async(store, token_ttl_ms=TTL) as api:
        p0, _ = await api.table(2)
        svc = api.services
        host = svc.host
        live = await host.get(p0.game_id)
        subscriber = host.subscribe(live, p0.player_id, presence=True)
        try:
            push = TokenPush(svc, live, subscriber, live.claims.get(p0.player_id))
            real_clock = host.clock
            host.clock = lambda: real_clock() + TTL // 2 + 1_000  # a push is due
            store.held = True
            push.check()
            task = push._task
            assert task is not None, "no push started"
            await store.reading.wait()
            store.held = False
            if meanwhile == "claim won anew":
                # The stream not (yet) ended for it: the claim alone must stop the push.
                live.claims[p0.player_id] = "another claim"
            elif meanwhile == "seat resumed elsewhere":
                await resume(api, p0)
                assert subscriber.end is not None
            store.release.set()
            await task
            pushed = blocks(subscriber)
            if meanwhile == "nothing":
                assert len(pushed) == 1
                assert pushed[0].startswith("event: token\n")
            else:
                assert pushed == []
        finally:
            host.unsubscribe(live, subscriber)


async def resume(api: AsyncApi, player: Player) -> None:
    """`POST …/reconnect` with the player's token: the seat won anew, with a new claim."""
    reply = await api.client.post(
        f"/api/game/{player.game_id}/reconnect",
        json={"playerId": player.player_id, "reconnectToken": player.reconnect},
    )
    assert reply.status_code == 200, reply.text
