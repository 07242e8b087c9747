"""The load tool's figures (`LoadReport`) and its plain progress line, on clocks the test moves.

A bot's client plays against a scripted server (`scripted_link`) on a `ManualClock`: the link is
lost, the server stays down for seven seconds (every dial in between fails), then a dial is
welcomed a few milliseconds after it opens. The resume figure the tool reports must be the
seven seconds a player waited, not those few milliseconds of the last dial."""

from __future__ import annotations

import asyncio
import random

import pytest

from rejoin import GameClient, MemoryTokenStore, SavedSeat
from rejoin.bots import Bot, LoadReport, LoadSettings, poker_bots
from rejoin.bots.progress import PlainProgress
from rejoin.bots.strategy import STRATEGIES
from rejoin.results import ResumeFigures

from .scripted_link import GAME, PLAYER, ManualClock, ScriptedServer, welcome

SERVER_URL = "http://game.test:8000"
HANG_S = 5.0
OUTAGE_S = 7.0  # from the lost link until the server answers again
WELCOME_RTT_S = 0.004  # from the welcomed link opening to its welcome


def settings() -> LoadSettings:
    return LoadSettings(server=SERVER_URL, tables=1, players=1, hands=3, strategy="call")


async def seated_bot() -> tuple[Bot, ScriptedServer, ManualClock]:
    """A bot whose client is connected (its first welcome) on a scripted server at t = 100 s."""
    store = MemoryTokenStore()
    store.save(SavedSeat(GAME, PLAYER, "c0", "t0", "s0"))
    server, clock = ScriptedServer(), ManualClock(100.0)
    client = GameClient(SERVER_URL, GAME, store=store, link_factory=server, clock=clock)
    bot = Bot(client, hands=3, game=poker_bots(STRATEGIES["call"]), rng=random.Random(1))
    connecting = asyncio.ensure_future(bot.connect())
    await asyncio.sleep(0)  # connect() has dialled
    server.link.open()
    server.link.play(welcome(0))
    await asyncio.wait_for(connecting, HANG_S)
    return bot, server, clock


async def outage(server: ScriptedServer, clock: ManualClock) -> None:
    """The link is lost now; every dial fails for `OUTAGE_S`; then one opens and is welcomed
    `WELCOME_RTT_S` later."""
    lost_at = clock.time()
    server.link.drop(None, "connection lost")
    for _ in range(1000):  # a bound, never reached: the backoff dials every few seconds at most
        clock.advance(clock.pending[0] - clock.time())  # to the next dial
        if clock.time() >= lost_at + OUTAGE_S:
            break
        server.link.drop(None, "connection refused")
    clock.advance(lost_at + OUTAGE_S - clock.time())
    server.link.open()
    clock.advance(WELCOME_RTT_S)
    server.link.play(welcome(0, token="t2"))
    await asyncio.sleep(0)  # the bot notes the resume on the next loop turn


async def test_a_resume_is_timed_from_the_lost_link_to_the_welcome_not_the_last_dial() -> None:
    bot, server, clock = await seated_bot()
    clock.advance(10.0)  # a connection that stayed up (less than the silence timeout)
    await outage(server, clock)
    report = LoadReport(settings(), game_ids=[GAME], bots=[[bot]])
    assert report.reconnects == 1
    (resume,) = report.resume_times
    assert resume == pytest.approx(OUTAGE_S + WELCOME_RTT_S)
    # What the tool reported before: the welcome's round trip from the last dial, not the wait.
    last = bot.client.last_resume
    assert last is not None
    assert last.time_to_resume < 1.0
    assert ", resume (lost link to welcome) p50 7004.0 ms p99 7004.0 ms, errors 0" in (
        report.summary()
    )
    await bot.close()


async def test_no_reconnect_no_resume_figures() -> None:
    bot, _server, _clock = await seated_bot()
    report = LoadReport(settings(), game_ids=[GAME], bots=[[bot]])
    assert report.resume_times == []  # the first connect is not a resume
    assert report.summary() == "hands 0/3, actions 0, reconnects 0, errors 0"
    assert "resume" not in report.summary()
    await bot.close()


async def test_the_summary_says_what_the_bots_last_connections_ran_over() -> None:
    first, _, _ = await seated_bot()
    second, _, _ = await seated_bot()
    report = LoadReport(settings(), game_ids=[GAME], bots=[[first, second]])

    def ran_over(bot: Bot, *transports: str) -> None:
        bot.resumes = [ResumeFigures(0, False, 0, None, 0.0, transport=t) for t in transports]

    ran_over(first, "sse")
    ran_over(second, "websocket", "sse")  # its last connection counts
    assert report.summary().endswith(", errors 0, over sse")
    ran_over(second, "sse", "websocket")
    assert report.summary().endswith(", errors 0, over sse 1, websocket 1")
    await first.close()
    await second.close()


def test_the_plain_progress_line_comes_every_few_seconds_never_more_often() -> None:
    now = [0.0]
    lines: list[str] = []
    progress = PlainProgress(lines.append, every=5.0, clock=lambda: now[0])
    report = LoadReport(settings())
    assert not progress.line_if_due()  # nothing before the first period
    now[0] = 5.0
    assert progress.line_if_due()
    assert lines == ["[5 s] setting up the tables"]
    now[0] = 6.0
    progress.update(report)  # a round ended: no line yet, the last was a second ago
    assert len(lines) == 1
    now[0] = 10.5
    progress.update(report)
    assert lines[-1] == "[10 s] hands 0/3, actions 0, reconnects 0"
    now[0] = 12.0
    assert not progress.line_if_due()
    assert len(lines) == 2
