"""A bot's view fetch across a restart: a resume that won the seat anew replaces the session
token, and a fetch sent with the one before it is answered 401. The bot tries again (with the
newest token) instead of giving up its seat, which left a table waiting for it for ever."""

from __future__ import annotations

import random
from typing import Any

import pytest

from rejoin import GameClient
from rejoin.bots import Bot, poker_bots
from rejoin.bots import bot as bot_module
from rejoin.bots.strategy import STRATEGIES
from rejoin.errors import HttpApiError

VIEW: dict[str, Any] = {"seq": 7, "toAct": None, "you": {"seat": 0, "legalActions": []}}


def bot_whose_fetches(answers: list[HttpApiError | dict[str, Any]]) -> Bot:
    client = GameClient("http://game.test:8000", "g1")
    bot = Bot(client, hands=1, game=poker_bots(STRATEGIES["call"]), rng=random.Random(1))

    async def fetch_state(**_: object) -> dict[str, Any]:
        answer = answers.pop(0)
        if isinstance(answer, HttpApiError):
            raise answer
        return answer

    client.fetch_state = fetch_state  # type: ignore[method-assign]
    return bot


async def test_a_fetch_refused_401_is_tried_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bot_module, "FETCH_RETRY_EVERY_S", 0.0)
    stale = HttpApiError(401, "unauthorized", "This session token was replaced.")
    bot = bot_whose_fetches([stale, stale, VIEW])
    assert await bot._fetch_view() == VIEW
    assert bot.errors == []
    await bot.close()


@pytest.mark.parametrize(("status", "code"), [(403, "player_not_in_game"), (404, "game_not_found")])
async def test_other_refusals_end_the_bots_play(status: int, code: str) -> None:
    bot = bot_whose_fetches([HttpApiError(status, code, "no"), VIEW])
    assert await bot._fetch_view() is None
    assert bot.errors == [f"GET state: {code} ({status}): no"]
    await bot.close()
