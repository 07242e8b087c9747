"""Chaos: six bots play twenty hands at one table while the server is SIGKILLed and restarted
three times at seeded-random moments, over the WebSocket, then over SSE and HTTP actions.
Whatever the moments, afterwards:

- each bot's delivered events are gapless, without duplicates, and equal to the server's log
  for that player (`GET …/events?after=0`);
- a client resuming from each bot's token store gets the state `GET …/state` gives;
- every action a bot sent was acknowledged exactly once, and the i-th ack is the i-th `action`
  event of its seat (no action lost, none applied twice);
- no chip was created or lost.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from rejoin import GameClient, MemoryTokenStore
from rejoin.bots import Bot, LoadSettings
from rejoin.bots.load import table_settings
from rejoin.bots.strategy import call_strategy
from rejoin.http_api import get_json, post_json
from rejoin.transport import Transport
from rejoin_testkit.processes import ServerProcess

pytestmark = pytest.mark.slow

SEED = 20261202
PLAYERS, HANDS, KILLS = 6, 20, 3
STACK = 100
# A hand of six `call` bots takes 24 actions (6 preflop, 6 checks on each later street): the
# kills fall somewhere in the first ~60 % of the run, never after the bots are done.
KILL_AFTER_ACKS = (10, 290)
WAIT_S = 90.0  # an upper bound for hangs, never a measure of anything


async def until(check: Callable[[], Awaitable[bool]]) -> None:
    """Poll `check` until it holds; a hang fails after WAIT_S (its traceback names the check)."""
    async with asyncio.timeout(WAIT_S):
        while True:
            if await check():
                return
            await asyncio.sleep(0.01)


async def get(server: ServerProcess, path: str, bearer: str | None) -> Any:
    assert bearer is not None
    return await get_json(f"{server.url}{path}", bearer=bearer)


def without_connected(view: dict[str, Any]) -> dict[str, Any]:
    seats = [{k: v for k, v in seat.items() if k != "connected"} for seat in view["seats"]]
    return {**view, "seats": seats}


async def kill_at_random_moments(server: ServerProcess, bots: list[Bot], rng: random.Random) -> int:
    kills = 0
    for threshold in sorted(rng.sample(range(*KILL_AFTER_ACKS), KILLS)):

        async def acked(threshold: int = threshold) -> bool:
            return sum(len(bot.acks) for bot in bots) >= threshold

        await until(acked)
        await asyncio.sleep(rng.uniform(0, 0.05))  # not only right after an ack
        resumed_before = [len(bot.resumes) for bot in bots]
        server.kill9()
        kills += 1
        await asyncio.to_thread(server.restart)

        # Each kill is to find every bot connected: a bot still backing off from the last one
        # would live through two kills with one reconnect.
        async def all_back(before: list[int] = resumed_before) -> bool:
            return all(len(bot.resumes) > n for bot, n in zip(bots, before, strict=True))

        await until(all_back)
    return kills


@pytest.mark.parametrize("transport", ["websocket", "sse"])
async def test_six_bots_play_through_three_kill9s(
    server: ServerProcess, transport: Transport
) -> None:
    rng = random.Random(SEED)
    settings = LoadSettings(
        server=server.url,
        tables=1,
        players=PLAYERS,
        hands=HANDS,
        starting_stack=STACK,
        action_timeout_ms=600_000,
        next_hand_delay_ms=50,
    )
    game = await post_json(f"{server.url}/api/games", table_settings(settings))
    game_id = game["gameId"]
    stores = [MemoryTokenStore() for _ in range(PLAYERS)]
    bots: list[Bot] = []
    for index, store in enumerate(stores):
        client = GameClient(server.url, game_id, store=store, transport=transport)
        await client.join(f"bot-{index}")
        bots.append(Bot(client, hands=HANDS, strategy=call_strategy, rng=random.Random(index)))
    for bot in bots:
        await bot.connect()
    first = bots[0].client
    await post_json(f"{server.url}/api/game/{game_id}/start", {}, bearer=first.session_token)

    chaos = asyncio.create_task(kill_at_random_moments(server, bots, rng))
    async with asyncio.timeout(WAIT_S):
        await asyncio.gather(*(bot.play() for bot in bots))
        assert await chaos == KILLS

    for bot in bots:
        assert bot.errors == [], bot.errors
        assert not bot.completed
        assert bot.hands_done == HANDS
        assert bot.reconnects >= KILLS
        assert {figures.transport for figures in bot.resumes} == {transport}

    # The next hand starts by itself and waits for its first action (no one acts any more):
    # from then on the log does not grow.
    async def settled() -> bool:
        view = (await get(server, f"/api/game/{game_id}/state", first.session_token))["gameState"]
        return view["handNumber"] == HANDS + 1 and view["toAct"] is not None

    await until(settled)
    final_seq = (await get(server, f"/api/game/{game_id}/state", first.session_token))["seq"]

    async def delivered() -> bool:
        return all(bot.events[-1]["seq"] == final_seq for bot in bots)

    await until(delivered)

    for bot in bots:
        token = bot.client.session_token
        log = (await get(server, f"/api/game/{game_id}/events?after=0", token))["events"]
        assert [e["seq"] for e in bot.events] == list(range(1, final_seq + 1))
        assert bot.events == log
        assert not any(e["kind"] == "timeout" for e in log)

        seat = bot.client.seat
        acted = [e for e in log if e["kind"] == "action" and e["data"]["seat"] == seat]
        assert len(bot.acks) == len(bot.sent) == len(acted)
        assert len({ack.action_id for ack in bot.acks}) == len(bot.acks)
        for i, (ack, sent, event) in enumerate(zip(bot.acks, bot.sent, acted, strict=True)):
            assert event["data"]["type"] == sent.type
            # The ack's seq is the last event its action produced: at or after the action's
            # event, and before this seat's next action.
            assert event["seq"] <= ack.seq
            if i + 1 < len(acted):
                assert ack.seq < acted[i + 1]["seq"]

    view = (await get(server, f"/api/game/{game_id}/state", first.session_token))["gameState"]
    chips = sum(s["stack"] + s["bet"] for s in view["seats"]) + sum(
        p["amount"] for p in view["pots"]
    )
    assert chips == PLAYERS * STACK

    for bot in bots:
        await bot.close()
    # What each bot's store holds resumes to the server's current view of that player.
    for store in stores:
        saved = store.load(game_id)
        assert saved is not None
        assert saved.last_seq == final_seq
        resumed = GameClient(server.url, game_id, store=store, transport=transport)
        await resumed.connect()
        assert resumed.state is not None
        assert resumed.seq == final_seq
        path = f"/api/game/{game_id}/state"
        expected = (await get(server, path, resumed.session_token))["gameState"]
        assert without_connected(resumed.state) == without_connected(expected)
        await resumed.close()
