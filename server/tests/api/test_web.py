"""The browser side of the server (api/web.py): the lobby, the table page, and the bundle's files,
with the content types a browser needs, and a page that says how to build a missing bundle."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from rejoin_server.api.web import WebBundle, default_web_dir
from rejoin_server.errors import StorageUnavailable
from rejoin_server.store.base import GameRecord
from rejoin_server.store.memory import MemoryGameStore

from .support import Response, answer, running
from .tally_game import TallyEngine

GAME_ID = "0123456789abcdef0123456789abcdef"


PYODIDE_VERSION = "314.0.7"
PYODIDE_FILES = (
    "pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json"
)  # fmt: skip
WHEEL = "wheels/0123456789abcdef/rejoin_client-0.1.0-py3-none-any.whl"


def built_bundle(root: Path) -> Path:
    """A bundle laid out as client_sdk/web/build_bundle.py lays it out, with stand-in files."""
    (root / "static").mkdir(parents=True)
    (root / "static" / "lobby.html").write_text("<title>lobby</title>")
    (root / "static" / "play.html").write_text("<title>table</title>")
    (root / "static" / "game.html").write_text("<title>generic</title>")
    (root / "static" / "boot.mjs").write_text("export {};")
    pyodide = root / "dist" / "pyodide" / PYODIDE_VERSION
    pyodide.mkdir(parents=True)
    (pyodide / "pyodide.mjs").write_text("export const loadPyodide = 1;")
    (pyodide / "pyodide.asm.wasm").write_bytes(b"\0asm\1\0\0\0")
    for name in ("pyodide.asm.mjs", "python_stdlib.zip", "pyodide-lock.json"):
        (pyodide / name).write_text("x")
    (root / "dist" / WHEEL).parent.mkdir(parents=True)
    (root / "dist" / WHEEL).write_bytes(b"PK")
    manifest = {
        "pyodide": {"version": PYODIDE_VERSION, "files": list(PYODIDE_FILES)},
        "wheels": [{"file": WHEEL, "sha256": "0123456789abcdef" * 4}],
    }
    (root / "dist" / "manifest.json").write_text(json.dumps(manifest))
    return root


def test_a_built_bundle_serves_the_pages_and_pyodide_with_the_right_types(tmp_path: Path) -> None:
    web = built_bundle(tmp_path / "web")
    with running(web_dir=str(web)) as api:
        lobby = api.client.get("/")
        assert lobby.status_code == 200
        assert "lobby" in lobby.text
        page = api.client.get(f"/play/{GAME_ID}")
        assert page.status_code == 200
        assert "table" in page.text
        assert page.headers["content-type"].startswith("text/html")
        wasm = api.client.get(f"/pyodide/{PYODIDE_VERSION}/pyodide.asm.wasm")
        assert wasm.status_code == 200
        # Anything else makes loadPyodide() hang for ever.
        assert wasm.headers["content-type"] == "application/wasm"
        module = api.client.get(f"/pyodide/{PYODIDE_VERSION}/pyodide.mjs")
        assert module.headers["content-type"].startswith("text/javascript")
        assert (
            api.client.get("/static/boot.mjs").headers["content-type"].startswith("text/javascript")
        )
        manifest = api.client.get("/sdk/manifest.json")
        assert manifest.json()["pyodide"]["version"] == PYODIDE_VERSION
        # Rebuilt with the checkout: revalidated on every load.
        assert manifest.headers["cache-control"] == "no-cache"
        assert api.client.get("/static/boot.mjs").headers["cache-control"] == "no-cache"
        # Pyodide's version and the wheel's hash are in their addresses: kept for good.
        assert wasm.headers["cache-control"] == "public, max-age=31536000, immutable"
        wheel = api.client.get(f"/sdk/{WHEEL}")
        assert wheel.headers["cache-control"] == "public, max-age=31536000, immutable"


def test_a_partial_pyodide_is_a_missing_bundle(tmp_path: Path) -> None:
    web = built_bundle(tmp_path / "web")
    (web / "dist" / "pyodide" / PYODIDE_VERSION / "pyodide.asm.wasm").unlink()
    with running(web_dir=str(web)) as api:
        page = api.client.get(f"/play/{GAME_ID}")
        assert page.status_code == 503
        assert "pyodide.asm.wasm" in page.text


def test_a_missing_bundle_says_how_to_build_it_and_the_api_still_works(tmp_path: Path) -> None:
    web = tmp_path / "web"
    (web / "static").mkdir(parents=True)
    (web / "static" / "play.html").write_text("<title>table</title>")
    with running(web_dir=str(web)) as api:
        page = api.client.get(f"/play/{GAME_ID}")
        assert page.status_code == 503
        assert "nox -s bundle" in page.text
        assert "Pyodide" in page.text
        assert "SDK wheels" in page.text
        assert api.client.get("/healthz").status_code == 200
        missing = api.client.get(f"/pyodide/{PYODIDE_VERSION}/pyodide.mjs")
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "invalid_request"


def test_a_game_gets_pokers_table_or_the_generic_page_by_its_kind(tmp_path: Path) -> None:
    web = built_bundle(tmp_path / "web")
    with running(games=[TallyEngine()], web_dir=str(web)) as api:
        poker = api.create()
        tally = answer(api.client.post("/api/games", json={"kind": "tally"}), 201)["gameId"]
        pages = {game_id: api.client.get(f"/play/{game_id}") for game_id in (poker, tally, GAME_ID)}
    assert {game_id: page.status_code for game_id, page in pages.items()} == {
        poker: 200,
        tally: 200,
        GAME_ID: 200,
    }
    assert "<title>table</title>" in pages[poker].text
    assert "<title>generic</title>" in pages[tally].text
    # No such game: poker's table, whose join form says there is no such table (as always).
    assert "<title>table</title>" in pages[GAME_ID].text
    for page in pages.values():
        _assert_page_headers(page)
        assert page.headers["cache-control"] == "no-cache"


def test_the_kind_of_a_game_not_in_memory_is_read_from_the_store_without_loading_it(
    tmp_path: Path,
) -> None:
    web = built_bundle(tmp_path / "web")
    with running(games=[TallyEngine()], web_dir=str(web)) as api:
        tally = answer(api.client.post("/api/games", json={"kind": "tally"}), 201)["gameId"]
        api.forget(tally)
        host = api.services.host
        assert host.loaded(tally) is None
        page = api.client.get(f"/play/{tally}")
        assert page.status_code == 200
        assert "<title>generic</title>" in page.text
        assert host.loaded(tally) is None  # the page's own requests load it, if it is played


class UnreadableStore(MemoryGameStore):
    """A store whose game rows cannot be read (the database went away)."""

    async def get_game(self, game_id: str) -> GameRecord | None:
        raise StorageUnavailable("scripted outage")


def test_a_store_that_cannot_say_the_kind_gives_a_page_that_says_so(tmp_path: Path) -> None:
    web = built_bundle(tmp_path / "web")
    with running(UnreadableStore(), web_dir=str(web)) as api:
        page = api.client.get(f"/play/{GAME_ID}")
        assert page.status_code == 503
        _assert_page_headers(page)
        assert "cannot be reached" in page.text
        assert "scripted outage" not in page.text  # the driver's words go to the log only
        assert api.client.get("/healthz").json()["status"] == "degraded"


def test_a_bundle_without_the_generic_page_is_not_built(tmp_path: Path) -> None:
    web = built_bundle(tmp_path / "web")
    (web / "static" / "game.html").unlink()
    with running(web_dir=str(web)) as api:
        page = api.client.get(f"/play/{GAME_ID}")
        assert page.status_code == 503
        assert "the pages" in page.text


@pytest.mark.parametrize("path", ["/play/..%2F..%2Fetc", "/play/" + "x" * 300, "/play/<script>"])
def test_a_table_page_for_a_malformed_id_is_a_404_page(tmp_path: Path, path: str) -> None:
    web = built_bundle(tmp_path / "web")
    with running(web_dir=str(web)) as api:
        page = api.client.get(path)
        assert page.status_code == 404
        assert "<script>" not in page.text


def test_files_outside_the_bundle_are_not_served(tmp_path: Path) -> None:
    web = built_bundle(tmp_path / "web")
    (tmp_path / "secret.txt").write_text("the-secret-content")
    with running(web_dir=str(web)) as api:
        for path in ("/static/../../secret.txt", "/sdk/%2e%2e/%2e%2e/secret.txt"):
            reply = api.client.get(path)
            assert reply.status_code == 404
            assert "the-secret-content" not in reply.text


def test_the_default_folder_is_this_checkouts_client_sdk_web() -> None:
    found = default_web_dir()
    assert found.name == "web"
    assert (found / "package.json").is_file()
    assert WebBundle.at(None).root == found


def _assert_page_headers(reply: Response) -> None:
    where = f"{reply.request.method} {reply.request.url.path} ({reply.status_code})"
    assert reply.headers["content-type"].startswith("text/html"), where
    policy = {
        directive.split()[0]: directive.split()[1:]
        for directive in reply.headers["content-security-policy"].split(";")
        if directive.strip()
    }
    assert policy["default-src"] == ["'self'"], where
    # Pyodide compiles WebAssembly; nothing else may be evaluated, and no inline script runs.
    assert policy["script-src"] == ["'self'", "'wasm-unsafe-eval'"], where
    assert policy["connect-src"] == ["'self'"], where
    assert policy["object-src"] == ["'none'"], where
    assert policy["frame-ancestors"] == ["'none'"], where
    assert reply.headers["x-frame-options"] == "DENY", where
    assert reply.headers["referrer-policy"] == "no-referrer", where
    assert reply.headers["x-content-type-options"] == "nosniff", where


def test_every_html_page_sends_the_security_headers(tmp_path: Path) -> None:
    web = built_bundle(tmp_path / "web")
    (web / "static" / "ui-preview.html").write_text("<title>preview</title>")
    with running(web_dir=str(web)) as api:
        pages = [
            api.client.get("/"),
            api.client.get(f"/play/{GAME_ID}"),
            api.client.get("/play/<script>"),  # the not-found page
            api.client.get("/static/ui-preview.html"),
            api.client.head(f"/play/{GAME_ID}"),
        ]
        assert [p.status_code for p in pages] == [200, 200, 404, 200, 200]
        for page in pages:
            _assert_page_headers(page)
        # A revalidated page keeps its policy.
        first = pages[3]
        again = api.client.get(
            "/static/ui-preview.html", headers={"If-None-Match": first.headers["etag"]}
        )
        assert again.status_code == 304
        assert again.headers["content-security-policy"] == first.headers["content-security-policy"]
        # Scripts are not pages: no policy of their own (the page's governs them).
        assert "content-security-policy" not in api.client.get("/static/boot.mjs").headers


def test_the_not_built_pages_send_the_security_headers(tmp_path: Path) -> None:
    with running(web_dir=str(tmp_path / "empty")) as api:
        pages = [api.client.get("/"), api.client.get(f"/play/{GAME_ID}")]
        assert [p.status_code for p in pages] == [503, 503]
        for page in pages:
            _assert_page_headers(page)


def test_the_repositorys_pages_have_no_inline_script_or_style() -> None:
    """The policy runs no inline script and applies no inline style: a page that had one would
    break in the browser, so none of the shipped pages may."""
    static = default_web_dir() / "static"
    pages = sorted(static.glob("*.html"))
    assert pages
    for page in pages:
        text = page.read_text()
        for script in re.findall(r"<script\b[^>]*>(.*?)</script>", text, re.DOTALL | re.IGNORECASE):
            assert not script.strip(), f"{page.name}: inline script"
        assert "<style" not in text.lower(), f"{page.name}: inline style"
        assert not re.search(r"\son\w+\s*=", text, re.IGNORECASE), f"{page.name}: inline handler"
        assert not re.search(r"\sstyle\s*=", text, re.IGNORECASE), f"{page.name}: style attribute"
