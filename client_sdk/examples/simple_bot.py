import asyncio
import sys

from rejoin import GameClient
from rejoin.http_api import post_json

SERVER = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"  # a rejoin-server


async def play(bot: GameClient) -> None:
    async for event in bot.events():  # every event once, in seq order, across reconnects
        print(bot.seat, event["seq"], event["kind"], event["data"])
        view = await bot.fetch_state()  # whose turn is it now?
        if event["kind"] == "hand_ended":
            await bot.close()  # which ends events()
        elif view["toAct"] == bot.seat:
            await bot.act("check" if {"type": "check"} in view["you"]["legalActions"] else "call")


async def main() -> None:
    game_id = (await post_json(f"{SERVER}/api/games", {"seats": 2}))["gameId"]
    bots = [GameClient(SERVER, game_id) for _ in range(2)]  # two seats, heads-up
    await asyncio.gather(*(bot.join(f"bot-{i}") for i, bot in enumerate(bots)))
    await asyncio.gather(*(bot.connect() for bot in bots))
    await post_json(f"{SERVER}/api/game/{game_id}/start", {}, bearer=bots[0].session_token)
    await asyncio.gather(*(play(bot) for bot in bots))


asyncio.run(main())
