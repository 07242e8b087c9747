"""Three nodes on one real PostgreSQL behind a real HAProxy (configured by `rejoin-server
proxy-config`), with SDK bots playing through the proxy: kill -9 of a game's owner mid-hand, and a
rolling restart of every node (SIGTERM, start again, next) while six tables play. The bots must
see no error, every acknowledged action must be in the log, and every bot's stream must be gapless
and equal to the log (docs/cluster.md)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from e2e.support.bot_thread import BotsInThread
from e2e.support.cluster import Cluster, pg_cluster
from e2e.support.poker import assert_gapless
from rejoin.bots.bot import Bot
from rejoin_testkit.api import JsonObject
from rejoin_testkit.polling import wait_for

pytestmark = pytest.mark.postgres

# Hands move on by themselves, a second apart; a bot that stops acting is folded after 10 s.
TABLE = {"actionTimeoutMs": 10_000, "nextHandDelayMs": 1000, "startingStack": 10_000}
BACK_WITHIN_S = 2.0


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    with pg_cluster(tmp_path) as running:
        yield running


@pytest.fixture(params=["direct", "pgbouncer"])
def any_cluster(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cluster]:
    """The cluster on PostgreSQL directly, then through PgBouncer in transaction mode."""
    with pg_cluster(tmp_path, pooled=request.param == "pgbouncer") as running:
        yield running


def new_table(cluster: Cluster) -> str:
    body = cluster.api.create_game(**TABLE).ok(201)
    game_id: str = body["gameId"]
    return game_id


def seat_bots(cluster: Cluster, names: list[str], hands: int) -> BotsInThread:
    """Bots at a new table, joined, connected and dealt their first hand."""
    bots = BotsInThread(cluster.proxy.url, new_table(cluster), names, hands=hands)
    bots.start()
    cluster.api.start(bots.game_id, bots.bots[0].client.session_token).ok(200)
    return bots


def check_streams(cluster: Cluster, bots: list[Bot]) -> None:
    """Each bot saw exactly the log, in its own visibility, with no gap; every ack is in it."""
    for bot in bots:
        assert bot.errors == [], bot.errors
        session = bot.client.session_token
        log: list[JsonObject] = cluster.api.events(bot.client.game_id, session).ok(200)["events"]
        assert_gapless(log)
        seen = [int(event["seq"]) for event in bot.events]
        assert seen == list(range(1, len(seen) + 1)), f"{bot.client.player_id}: {seen}"
        assert [(e["seq"], e["kind"]) for e in bot.events] == [
            (e["seq"], e["kind"]) for e in log[: len(bot.events)]
        ]
        for ack in bot.acks:
            assert ack.seq <= int(log[-1]["seq"]), f"acked seq {ack.seq} is not in the log"


def test_kill9_of_a_games_owner_mid_hand_brings_every_bot_back_within_2s(
    any_cluster: Cluster,
) -> None:
    cluster = any_cluster
    bots = seat_bots(cluster, ["Ann", "Ben", "Cat"], hands=8)
    game_id = bots.game_id
    wait_for(
        lambda: all(bot.hands_done >= 2 for bot in bots.bots) or None,
        timeout=60,
        what="two hands played",
    )
    owner = cluster.owner_of(game_id)
    resumes_before = [len(bot.resumes) for bot in bots.bots]
    cluster.nodes[owner].kill9()
    killed = time.monotonic()
    wait_for(
        lambda: (
            all(
                len(bot.resumes) > before
                for bot, before in zip(bots.bots, resumes_before, strict=True)
            )
            or None
        ),
        timeout=10,
        what="every bot resumed after the kill",
    )
    back = time.monotonic() - killed
    assert back < BACK_WITHIN_S, f"the last bot was back {back:.2f} s after the kill"
    for bot in bots.bots:
        assert bot.resumes[-1].missed >= 0
        assert bot.resumes[-1].node != owner
    bots.wait(120)
    check_streams(cluster, bots.bots)


def test_a_rolling_restart_of_every_node_loses_nothing_and_shows_no_bot_an_error(
    cluster: Cluster,
) -> None:
    tables = [seat_bots(cluster, [f"A{i}", f"B{i}"], hands=10) for i in range(6)]
    wait_for(
        lambda: all(b.hands_done >= 1 for bots in tables for b in bots.bots) or None,
        timeout=60,
        what="a hand at every table",
    )
    for node in cluster.nodes.values():
        assert node.terminate() == 0, node.log_tail()
        node.start()
        node.wait_ready()
        time.sleep(1.0)  # let the tables play on the new set of nodes
    for bots in tables:
        bots.wait(180)
    for bots in tables:
        check_streams(cluster, bots.bots)
    moved = sum(bot.reconnects for bots in tables for bot in bots.bots)
    assert moved > 0, "no bot was ever moved: the restarts did not touch the tables"
