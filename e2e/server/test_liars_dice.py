"""Liar's Dice, the example game (examples/liars_dice, served with `--game
liars_dice:LiarsDiceEngine` from PYTHONPATH, not installed), through real servers on SQLite and
PostgreSQL: two SDK bots (`rejoin.bots`, the `odds` strategy) play complete games to the end, once
undisturbed and once through a kill -9 mid-game. Afterwards:

- each bot's events (over its WebSocket, replays after the kill included) are gapless, each once,
  and equal to the server's log for that player, as JSON and as SSE (`GET …/events`);
- a bot never saw the other's dice before a challenge revealed them, and the dice a challenge
  reveals are the ones each player was dealt;
- every move a bot sent was acknowledged once and is in the log once; the clock never played;
- the game is completed with one player holding dice, the winner.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from e2e.support.spawn import Spawn
from rejoin import GameClient
from rejoin.bots import Bot, liars_dice_bots
from rejoin.bots.dice import odds_strategy
from rejoin.http_api import get_json, post_json
from rejoin_testkit.api import Api
from rejoin_testkit.example_game import LIARS_DICE, LIARS_DICE_ARGS, liars_dice_env
from rejoin_testkit.processes import ServerProcess

pytestmark = pytest.mark.slow

PLAYERS = 2
# More rounds than a game can last: the bots play until the game is over.
ALL_ROUNDS = 1_000
WAIT_S = 120.0  # an upper bound for hangs, never a measure of anything


@pytest.fixture
def dice_server(spawn: Spawn, db_url: str) -> ServerProcess:
    return spawn(db_url, *LIARS_DICE_ARGS, env=liars_dice_env())


async def seat_bots(server: ServerProcess, dice: int, seed: int) -> tuple[str, list[Bot]]:
    # A clock that never runs out while bots play, even across a restart: every move is a bot's.
    game = await post_json(
        f"{server.url}/api/games",
        {"kind": LIARS_DICE, "seats": PLAYERS, "dice": dice, "actionTimeoutMs": 600_000,
         "nextRoundDelayMs": 0},
    )  # fmt: skip
    assert game["kind"] == LIARS_DICE
    bots = []
    for index in range(PLAYERS):
        client = GameClient(server.url, game["gameId"])
        await client.join(f"dice-bot-{index}")
        rng = random.Random(f"{seed}/{index}")
        bot = Bot(client, hands=ALL_ROUNDS, game=liars_dice_bots(odds_strategy), rng=rng)
        await bot.connect()
        bots.append(bot)
    first = bots[0].client
    started = await post_json(
        f"{server.url}/api/game/{game['gameId']}/start", {}, bearer=first.session_token
    )
    assert started["success"] is True
    return game["gameId"], bots


async def get(server: ServerProcess, path: str, bot: Bot) -> Any:
    token = bot.client.session_token
    assert token is not None
    return await get_json(f"{server.url}{path}", bearer=token)


async def until(check: Callable[[], Awaitable[bool]]) -> None:
    """Poll `check` until it holds; a hang fails after WAIT_S (its traceback names the check)."""
    async with asyncio.timeout(WAIT_S):
        while True:
            if await check():
                return
            await asyncio.sleep(0.01)


async def check_complete_game(server: ServerProcess, game_id: str, bots: list[Bot]) -> None:
    for bot in bots:
        assert bot.errors == [], bot.errors
        assert bot.completed
    view = (await get(server, f"/api/game/{game_id}/state", bots[0]))["gameState"]
    assert view["status"] == "completed"
    assert view["phase"] == "completed"
    holding = [seat["seat"] for seat in view["seats"] if seat["diceCount"] > 0]
    assert holding == [view["winner"]]
    final_seq = view["seq"]

    async def delivered() -> bool:
        return all(bot.events and bot.events[-1]["seq"] == final_seq for bot in bots)

    await until(delivered)
    dealt: dict[tuple[int, int], list[int]] = {}  # (round, seat) → the dice its player saw
    for bot in bots:
        log = (await get(server, f"/api/game/{game_id}/events?after=0", bot))["events"]
        assert [e["seq"] for e in bot.events] == list(range(1, final_seq + 1))
        assert bot.events == log
        assert await sse_events(server, game_id, bot, final_seq) == log
        assert not any(e["kind"] == "timeout" for e in log)
        seat = bot.client.seat
        moves = [e for e in log if e["kind"] in ("bid", "challenged") and e["data"]["seat"] == seat]
        assert len(bot.acks) == len(bot.sent) == len(moves)
        assert len({ack.action_id for ack in bot.acks}) == len(bot.acks)
        assert_private(bot.events, seat, dealt)
    challenges = [e["data"] for e in bots[0].events if e["kind"] == "challenged"]
    assert challenges, "a complete game has challenges"
    for challenge in challenges:
        for hand in challenge["reveal"]:
            assert hand["dice"] == dealt[(challenge["round"], hand["seat"])]
    assert challenges[-1]["loser"] != view["winner"]


async def sse_events(
    server: ServerProcess, game_id: str, bot: Bot, until_seq: int
) -> list[dict[str, Any]]:
    """The player's whole log over SSE (`GET …/events` as `text/event-stream`)."""
    api = Api(server.url)
    try:
        stream = await asyncio.to_thread(
            api.sse, game_id, bot.client.session_token, until_seq=until_seq, after=0
        )
    finally:
        api.close()
    assert stream.status == 200, stream.error_text
    return [event for event in stream.events if "seq" in event]


def assert_private(events: list[dict[str, Any]], seat: int | None, dealt: dict[Any, Any]) -> None:
    """In one player's stream, every `dice_rolled` of another seat came without its dice; their
    own dice are recorded in `dealt` by round."""
    number = 0
    for event in events:
        data = event["data"]
        if event["kind"] == "round_started":
            number = data["round"]
        elif event["kind"] == "dice_rolled":
            if data["seat"] == seat:
                assert isinstance(data["dice"], list)
                dealt[(number, seat)] = data["dice"]
            else:
                assert data["dice"] is None, event


async def play(bots: list[Bot]) -> None:
    try:
        async with asyncio.timeout(WAIT_S):
            await asyncio.gather(*(bot.play() for bot in bots))
    finally:
        for bot in bots:
            await bot.close()


async def test_two_bots_play_complete_games(dice_server: ServerProcess) -> None:
    for seed, dice in ((1, 2), (2, 4)):
        game_id, bots = await seat_bots(dice_server, dice, seed)
        await play(bots)
        await check_complete_game(dice_server, game_id, bots)


async def test_a_game_survives_kill9_mid_game(dice_server: ServerProcess) -> None:
    game_id, bots = await seat_bots(dice_server, dice=5, seed=3)
    playing = asyncio.create_task(play(bots))

    async def first_round_over() -> bool:
        # Two players with five dice each: the game lasts at least five rounds.
        return all(bot.hands_done >= 1 for bot in bots) and sum(len(b.acks) for b in bots) >= 4

    await until(first_round_over)
    rounds_at_kill = max(bot.hands_done for bot in bots)
    resumed_before = [len(bot.resumes) for bot in bots]
    dice_server.kill9()
    await asyncio.to_thread(dice_server.restart)

    async def all_back() -> bool:
        return all(len(bot.resumes) > n for bot, n in zip(bots, resumed_before, strict=True))

    await until(all_back)
    # After the restart: each player's state shows their own dice and, until a challenge, nobody
    # else's.
    for bot in bots:
        view = await bot.client.fetch_state()
        assert view["you"]["seat"] == bot.client.seat
        for seat in view["seats"]:
            if seat["seat"] != bot.client.seat and view["phase"] == "bidding":
                assert seat["dice"] is None
    await playing
    await check_complete_game(dice_server, game_id, bots)
    rounds = [e for e in bots[0].events if e["kind"] == "challenged"]
    assert len(rounds) > rounds_at_kill, "the kill came before the end of the game"
