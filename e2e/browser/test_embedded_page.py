"""The browser pages of rejoin mounted under /games in the example host app (examples/embedded),
in real Chromium: from the lobby at /games/ to a table at /games/play/<id>, every file, API call
and the WebSocket go to the prefix; the table plays, the process is SIGKILLed and started again,
and the page resumes its seat by itself with every event once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from e2e.support.browser import ContextFactory
from e2e.support.embedded import PREFIX, example_host, origin
from e2e.support.table_page import (
    assert_exactly_once,
    join,
    passive_click,
    server_seqs,
    server_view,
    wait_connected,
    wait_status,
)
from rejoin_testkit.api import Api
from rejoin_testkit.polling import wait_for
from rejoin_testkit.processes import ServerProcess
from rejoin_testkit.tables import Player

STEP_S = 15.0
# From the restart to the page connected again: well above the 2 s of the kill -9 tests, since
# this test is about the page finding its way back under the prefix, not about how fast.
RESUME_S = 20.0


@pytest.fixture
def host(tmp_path: Path) -> Iterator[ServerProcess]:
    server = example_host(tmp_path / "host.log", f"sqlite:///{tmp_path / 'games.db'}")
    try:
        server.start_ready()
        yield server
    finally:
        server.cleanup()


def past(player: Player, seq: int) -> Callable[[], int | None]:
    """A probe for `wait_for`: the game's seq once it is past `seq`."""

    def probe() -> int | None:
        now = int(player.view()["seq"])
        return now if now > seq else None

    return probe


def test_the_table_page_under_a_prefix_plays_and_resumes_after_kill9(
    context_factory: ContextFactory, host: ServerProcess
) -> None:
    api = Api(host.url)
    tracked = context_factory("embedded", only_origin=origin(host))
    page = tracked.new_page()
    try:
        page.goto(f"{host.url}/")  # the lobby, at /games/
        page.fill("#create-form input[name=seats]", "2")
        page.fill("#create-form input[name=actionTimeoutSeconds]", "600")
        page.click("#create-form button[type=submit]")
        link = page.locator("a#table-link")
        link.wait_for(state="visible", timeout=STEP_S * 1000)
        href = link.get_attribute("href") or ""
        assert href.startswith(f"{PREFIX}/play/"), href
        game_id = href.removeprefix(f"{PREFIX}/play/")
        link.click()
        page.wait_for_url(f"{host.url}/play/{game_id}")

        seat = join(page, "Guest", game_id)
        other = Player.joined(api, game_id, "Host")
        # The page's own call to …/start, built on the base it was given.
        page.locator("#start").wait_for(state="visible", timeout=STEP_S * 1000)
        page.click("#start")
        page.locator("#hole-cards .card[data-card]").first.wait_for(timeout=STEP_S * 1000)
        seq = int(server_view(host.url, game_id, seat.session_token)["seq"])
        wait_connected(page, STEP_S, seq=seq)

        host.kill9()
        wait_status(page, "reconnecting", STEP_S)
        host.restart()
        api.reset()  # its pooled connections died with the process
        wait_connected(page, RESUME_S, seq=seq)

        # The hand goes on after the resume, the page's player and the other one in turn.
        mine = int(server_view(host.url, game_id, seat.session_token)["you"]["seat"])
        for _ in range(2):
            view = other.view()
            if view["toAct"] == mine:
                page.locator("#actions button[data-action]").first.wait_for(timeout=STEP_S * 1000)
                assert passive_click(page) in ("check", "call")
            else:
                legal = {a["type"] for a in view["you"]["legalActions"]}
                other.act("check" if "check" in legal else "call").ok(200)
            seq = wait_for(past(other, seq), timeout=STEP_S, what="the action to reach the server")
            wait_connected(page, STEP_S, seq=seq)

        seqs = server_seqs(host.url, game_id, seat.session_token)
        assert_exactly_once(page, seqs, through=seq, label="embedded page")
        # Everything the page loaded or called was under the prefix: pages, scripts, Pyodide,
        # the SDK wheels, the API and the WebSocket.
        paths = {urlsplit(entry.url).path for entry in tracked.requests.entries}
        outside = sorted(path for path in paths if not path.startswith(f"{PREFIX}/"))
        assert not outside, outside
        sockets = [e.url for e in tracked.requests.entries if e.kind == "websocket"]
        assert len(sockets) >= 2, sockets  # one before the kill, one after
        assert all(url.endswith(f"{PREFIX}/api/game/{game_id}/ws") for url in sockets), sockets
        assert any(path.startswith(f"{PREFIX}/pyodide/") for path in paths), sorted(paths)
    finally:
        api.close()
