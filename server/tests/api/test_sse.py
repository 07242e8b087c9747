"""The event stream's blocks beside the events (docs/protocol.md, "Server-Sent Events"), in-process:
presence, token pushes (header-authenticated streams only) and the final `close` of a stream the
server ends. None of them has an `id:`: a browser's lastEventId stays the last seq."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from rejoin_protocol.errors import CLOSE_FORBIDDEN, CLOSE_SUPERSEDED
from rejoin_server.api import sse_frames
from rejoin_server.errors import StorageUnavailable
from rejoin_server.host.live import (
    END_HOLE,
    END_MOVED,
    END_NOT_IN_GAME,
    END_RELOADED,
    END_SHUTDOWN,
    END_SLOW,
    END_SUPERSEDED,
    END_TOO_MANY_STREAMS,
)
from rejoin_server.store.base import TokenRow
from rejoin_server.store.memory import MemoryGameStore

from .support import ISO_MS, Api, Clock, Player, bearer, running

Block = dict[str, Any]


class Stream:
    """One open event stream, read a block at a time (a comment block is `{":": "ping"}`)."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = lines

    def block(self) -> Block | None:
        """The next block, or None when the stream has ended."""
        current: Block = {}
        for line in self._lines:
            if line == "":
                if current:
                    return current
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            current[name] = json.loads(value) if name == "data" else value
        return current or None

    def until(self, kind: str) -> tuple[list[Block], Block]:
        """The blocks before the first `event: kind`, and that block."""
        before: list[Block] = []
        while (found := self.block()) is not None:
            if found.get("event") == kind:
                return before, found
            before.append(found)
        raise AssertionError(f"the stream ended without `{kind}`: {before}")

    def pings(self, count: int) -> list[Block]:
        """The blocks up to the `count`th heartbeat."""
        seen: list[Block] = []
        while sum(1 for b in seen if b.get("") == "ping") < count:
            found = self.block()
            assert found is not None, f"the stream ended: {seen}"
            seen.append(found)
        return seen

    def rest(self) -> list[Block]:
        """Every block until the stream ends (bounded by the test's timeout)."""
        seen: list[Block] = []
        while (found := self.block()) is not None:
            seen.append(found)
        return seen


@contextmanager
def stream(api: Api, player: Player, *, by_query: bool = False) -> Iterator[Stream]:
    """`player`'s event stream, its opening and backlog read."""
    url = f"/api/game/{player.game_id}/events"
    after = api.state(player)["seq"]
    if by_query:
        url, headers = f"{url}?session={player.session}&after={after}", {}
    else:
        url, headers = f"{url}?after={after}", player.auth
    with api.client.stream("GET", url, headers=headers) as reply:
        assert reply.status_code == 200, reply.read()
        opened = Stream(reply.iter_lines())
        assert opened.block() == {"retry": "300", "": "connected"}
        yield opened


def events_of(blocks: list[Block]) -> list[Block]:
    return [b for b in blocks if "data" in b and "id" in b]


# --- presence ------------------------------------------------------------------------------------


@pytest.mark.timeout(30)
def test_a_stream_is_told_when_another_player_connects_and_disconnects() -> None:
    with running(ping_interval_ms=20) as api:
        p0, p1 = api.table(2)
        with stream(api, p0) as mine:
            # First who is at the table as the stream opens (p1 is not), then the changes.
            assert mine.block() == {
                "event": "presence",
                "data": {"playerId": p1.player_id, "connected": False},
            }
            with stream(api, p1):
                _, arrived = mine.until("presence")
                assert arrived == {
                    "event": "presence",
                    "data": {"playerId": p1.player_id, "connected": True},
                }
            _, left = mine.until("presence")
            assert left["data"] == {"playerId": p1.player_id, "connected": False}
            assert "id" not in left


@pytest.mark.timeout(30)
def test_a_stream_opens_with_every_other_players_presence() -> None:
    """Said at once, under the lock the stream subscribes under: a change between a reconnect's
    answer and the stream opening is not missed."""
    with running(ping_interval_ms=20) as api:
        p0, p1, p2 = api.table(3)
        with stream(api, p1), stream(api, p0) as mine:
            opening = [mine.block(), mine.block()]
            assert opening == [
                {"event": "presence", "data": {"playerId": p1.player_id, "connected": True}},
                {"event": "presence", "data": {"playerId": p2.player_id, "connected": False}},
            ]


# --- tokens --------------------------------------------------------------------------------------


@pytest.mark.timeout(30)
def test_a_header_stream_is_pushed_a_fresh_token_at_half_the_tokens_life() -> None:
    ttl = 60_000
    with running(ping_interval_ms=20, token_ttl_ms=ttl) as api:
        p0, _ = api.table(2)
        clock = Clock(api.services.host)
        with stream(api, p0) as mine:
            # Beats with the token young: no token.
            assert all(b.get("event") != "token" for b in mine.pings(3))
            clock.offset = ttl // 2 + 1_000
            _, pushed = mine.until("token")
            assert set(pushed) == {"event", "data"}  # no id
            data = pushed["data"]
            assert set(data) == {"token", "expiresAt", "sessionToken"}
            assert ISO_MS.match(data["expiresAt"])
            # The join's token had less than half its life left: the seat's new one (another
            # jti, not the same one signed anew).
            signer = api.services.signer
            given = signer.check_reconnect(p0.reconnect).jti
            assert signer.check_reconnect(data["token"]).jti != given
            state = api.client.get(
                f"/api/game/{p0.game_id}/state", headers=bearer(data["sessionToken"])
            )
            assert state.status_code == 200, state.text
            # Not again until half a life after this push.
            assert all(b.get("event") != "token" for b in mine.pings(3))
            clock.offset += ttl // 2 + 1_000
            _, again = mine.until("token")
            assert again["data"]["token"] != data["token"]
        # The pushed token resumes the seat.
        resumed = api.reconnect(p0, data["token"], lastSeq=0)
        assert resumed.status_code == 200, resumed.text


@pytest.mark.timeout(30)
def test_a_token_is_pushed_at_half_the_session_tokens_life_when_that_is_shorter() -> None:
    session_ttl = 60_000
    with running(ping_interval_ms=20, token_ttl_ms=3_600_000, session_ttl_ms=session_ttl) as api:
        p0, _ = api.table(2)
        clock = Clock(api.services.host)
        with stream(api, p0) as mine:
            assert all(b.get("event") != "token" for b in mine.pings(3))
            clock.offset = session_ttl // 2 + 1_000
            _, pushed = mine.until("token")
        # Pushed for the session token (the reconnect token has most of its hour left): a session
        # token of the seat signed now (on the signer's clock: the same bytes as the join's
        # within a second), and the seat's live reconnect token, signed anew (its bytes differ
        # when the second has turned: the same token is the same jti).
        signer = api.services.signer
        fresh = pushed["data"]["sessionToken"]
        assert signer.check_session(fresh).player_id == p0.player_id
        pushed_token = signer.check_reconnect(pushed["data"]["token"])
        assert pushed_token == signer.check_reconnect(p0.reconnect)


@pytest.mark.timeout(30)
def test_a_stream_opened_with_the_session_in_the_url_is_never_pushed_a_token() -> None:
    """A `?session=` URL ends up in access logs: whoever reads it may read the events, never get
    the seat's reconnect token. Both streams are open, the clock past half the token's life: the
    header's is pushed one, the URL's gets beats only."""
    ttl = 60_000
    with running(ping_interval_ms=20, token_ttl_ms=ttl) as api:
        p0, _ = api.table(2)
        clock = Clock(api.services.host)
        with stream(api, p0, by_query=True) as by_url, stream(api, p0) as by_header:
            clock.offset = ttl // 2 + 1_000
            by_header.until("token")
            seen = by_url.pings(10)
        assert [b for b in seen if b.get("event") == "token"] == [], seen


class FlakyTokenStore(MemoryGameStore):
    """The memory store, its token reads failing `failures` times."""

    def __init__(self) -> None:
        super().__init__()
        self.failures = 0

    async def current_token(self, game_id: str, player_id: str, now_ms: int) -> TokenRow | None:
        if self.failures > 0:
            self.failures -= 1
            raise StorageUnavailable("scripted outage")
        return await super().current_token(game_id, player_id, now_ms)


@pytest.mark.timeout(30)
def test_a_token_push_the_store_fails_is_logged_and_tried_again_the_stream_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ttl = 60_000
    store = FlakyTokenStore()
    with running(store, ping_interval_ms=20, token_ttl_ms=ttl) as api:
        p0, p1 = api.table(2)
        api.start(p0)
        clock = Clock(api.services.host)
        with caplog.at_level(logging.WARNING), stream(api, p0) as mine:
            store.failures = 2
            clock.offset = ttl // 2 + 1_000
            _, pushed = mine.until("token")
            assert store.failures == 0
            # Still the stream of the game: the live events follow, every one.
            seq = api.state(p0)["seq"]
            acted = api.act(api.to_act([p0, p1]), "fold").json()["seq"]
            live: list[Block] = []
            while not live or int(live[-1]["id"]) < acted:
                found = mine.block()
                assert found is not None, f"the stream ended: {live}"
                live += events_of([found])
            assert [int(b["id"]) for b in live] == list(range(seq + 1, acted + 1))
        assert ISO_MS.match(pushed["data"]["expiresAt"])
        failed = [r for r in caplog.records if "token push" in r.getMessage()]
        assert len(failed) == 2, caplog.text


# --- the close event -----------------------------------------------------------------------------


@pytest.mark.timeout(30)
def test_a_stream_whose_seat_is_resumed_elsewhere_ends_with_close_4409() -> None:
    with running(ping_interval_ms=20) as api:
        p0, _ = api.table(2)
        with stream(api, p0) as mine:
            assert api.reconnect(p0).status_code == 200
            rest = mine.rest()
        close = rest[-1]
        assert close["event"] == "close", rest
        assert "id" not in close
        assert close["data"]["code"] == CLOSE_SUPERSEDED == 4409
        assert close["data"]["reason"] == "superseded"
        assert "resumed by another connection" in close["data"]["message"]


@pytest.mark.timeout(30)
def test_a_stream_ends_with_close_1012_at_shutdown() -> None:
    with running(ping_interval_ms=20) as api:
        p0, _ = api.table(2)
        with stream(api, p0) as mine:
            api.run(api.services.host.begin_shutdown)
            rest = mine.rest()
    close = rest[-1]
    assert close["event"] == "close", rest
    assert "id" not in close
    assert (close["data"]["code"], close["data"]["reason"]) == (1012, "server restarting")
    assert "Last-Event-ID" in close["data"]["message"]


@pytest.mark.timeout(30)
def test_a_fifth_stream_ends_the_oldest_with_a_close_that_says_so() -> None:
    with running(ping_interval_ms=20) as api:
        p0, _ = api.table(2)
        # Opened in order, the oldest first.
        with (
            stream(api, p0) as oldest,
            stream(api, p0),
            stream(api, p0),
            stream(api, p0),
            stream(api, p0),
        ):
            rest = oldest.rest()
    close = rest[-1]["data"]
    assert close["code"] == 4409
    assert close["reason"] == "superseded: too many streams"
    assert "oldest" in close["message"]


def test_every_end_has_its_close_code_reason_and_what_to_do() -> None:
    ends = [
        END_SHUTDOWN,
        END_RELOADED,
        END_MOVED,
        END_SLOW,
        END_HOLE,
        END_SUPERSEDED,
        END_TOO_MANY_STREAMS,
        END_NOT_IN_GAME,
    ]
    said = {}
    for end in ends:
        block = sse_frames.close(end)
        assert block.startswith(b"event: close\ndata: ")
        assert block.endswith(b"\n\n")
        assert b"\nid:" not in block
        data = json.loads(block.removeprefix(b"event: close\ndata: "))
        assert (data["code"], data["reason"]) == end
        said[end] = data["message"]
    resume = "open the stream again after the last id"
    for end in (END_SHUTDOWN, END_RELOADED, END_MOVED, END_HOLE, END_SLOW):
        assert resume in said[end], said[end]
    assert "later" in said[END_SLOW]
    for end in (END_SUPERSEDED, END_TOO_MANY_STREAMS, END_NOT_IN_GAME):
        assert resume not in said[end], said[end]
    assert END_NOT_IN_GAME[0] == CLOSE_FORBIDDEN
    assert "Join the game again" in said[END_NOT_IN_GAME]
