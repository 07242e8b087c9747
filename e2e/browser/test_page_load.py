"""The table page's bytes (issue 17, part 7), in real Chromium against a real server: a first
visit gets Pyodide compressed (brotli), a reload takes all of it from the HTTP cache (its
addresses carry its version and the wheels' hash: cached for good) while the page and the
manifest are asked for again, and the page still boots and plays a seat after the reload."""

from __future__ import annotations

import re

from playwright.sync_api import Response

from e2e.support.browser import ContextFactory
from e2e.support.page_load import fetched, total
from e2e.support.table_page import BOOT_TIMEOUT_S, join
from rejoin_testkit.api import Api
from rejoin_testkit.processes import ServerProcess

IMMUTABLE = "public, max-age=31536000, immutable"


def test_pyodide_comes_compressed_once_and_from_the_cache_after(
    context_factory: ContextFactory, server: ServerProcess
) -> None:
    api = Api(server.url)
    try:
        game_id = api.create_game(seats=2, actionTimeoutMs=600_000).ok(201)["gameId"]
    finally:
        api.close()
    tracked = context_factory("fresh", only_origin=server.url)
    page = tracked.new_page()
    answers: dict[str, Response] = {}

    def answered(reply: Response) -> None:
        answers.setdefault(reply.url, reply)

    page.on("response", answered)
    page.goto(f"{server.url}/play/{game_id}")
    page.locator("#join").wait_for(state="visible", timeout=BOOT_TIMEOUT_S * 1000)

    wasm = next(url for url in answers if url.endswith("/pyodide.asm.wasm"))
    assert "/pyodide/314.0.7/" in wasm, wasm  # its address names Pyodide's version
    # What boot.mjs loads and what Pyodide fetches itself, relative to indexURL: all brotli,
    # all cached for good.
    pyodide = {url.rsplit("/", 1)[-1]: answers[url] for url in answers if "/pyodide/" in url}
    stdlib = [name for name in pyodide if re.fullmatch(r"python_stdlib\.[0-9a-f]{16}\.zip", name)]
    assert len(stdlib) == 1, sorted(pyodide)  # the build's stdlib: its name has its hash
    assert set(pyodide) == {
        "pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", stdlib[0], "pyodide-lock.json",
    }, sorted(pyodide)  # fmt: skip
    for name, reply in pyodide.items():
        headers = reply.all_headers()
        assert headers["content-encoding"] == "br", (name, headers)
        assert headers["cache-control"] == IMMUTABLE, (name, headers)
    first = fetched(page)
    sent = {entry.path.rsplit("/", 1)[-1]: entry for entry in first}
    # Sent compressed (brotli: a quarter of the 9.6 MB), decoded to the whole wasm.
    assert sent["pyodide.asm.wasm"].encoded < sent["pyodide.asm.wasm"].decoded / 3, sent
    assert total(first, under="/pyodide/") < 5_000_000, first

    page.reload()
    page.locator("#join").wait_for(state="visible", timeout=BOOT_TIMEOUT_S * 1000)
    again = fetched(page)
    cached = [entry for entry in again if "/pyodide/" in entry.path]
    names = {entry.path.rsplit("/", 1)[-1] for entry in cached}
    assert names == set(pyodide), again
    assert total(cached) == 0, cached  # every byte of Pyodide from the HTTP cache
    wheels = [entry for entry in again if "/sdk/wheels/" in entry.path]
    assert len(wheels) == 2, again
    assert total(wheels) == 0, wheels
    # The page and the manifest are revalidated: asked again, answered 304 (headers only).
    manifest = next(entry for entry in again if entry.path.endswith("/sdk/manifest.json"))
    assert manifest.transfer > 0, manifest
    assert manifest.transfer < 1_000, manifest

    seat = join(page, "Ann", game_id)  # the reloaded page boots and takes a seat
    assert seat.session_token
