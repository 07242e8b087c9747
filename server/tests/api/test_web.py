"""The browser side of the server (api/web.py): the lobby, the table page, and the bundle's files,
with the content types a browser needs, and a page that says how to build a missing bundle."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rejoin_server.api.web import WebBundle, default_web_dir

from .support import running

GAME_ID = "0123456789abcdef0123456789abcdef"


def built_bundle(root: Path) -> Path:
    (root / "static").mkdir(parents=True)
    (root / "static" / "lobby.html").write_text("<title>lobby</title>")
    (root / "static" / "play.html").write_text("<title>table</title>")
    (root / "static" / "boot.mjs").write_text("export {};")
    pyodide = root / "node_modules" / "pyodide"
    pyodide.mkdir(parents=True)
    (pyodide / "pyodide.mjs").write_text("export const loadPyodide = 1;")
    (pyodide / "pyodide.asm.wasm").write_bytes(b"\0asm\1\0\0\0")
    for name in ("pyodide.asm.mjs", "python_stdlib.zip", "pyodide-lock.json"):
        (pyodide / name).write_text("x")
    (root / "dist").mkdir()
    (root / "dist" / "manifest.json").write_text(json.dumps({"wheels": []}))
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
        wasm = api.client.get("/pyodide/pyodide.asm.wasm")
        assert wasm.status_code == 200
        # Anything else makes loadPyodide() hang for ever.
        assert wasm.headers["content-type"] == "application/wasm"
        module = api.client.get("/pyodide/pyodide.mjs")
        assert module.headers["content-type"].startswith("text/javascript")
        assert (
            api.client.get("/static/boot.mjs").headers["content-type"].startswith("text/javascript")
        )
        manifest = api.client.get("/sdk/manifest.json")
        assert manifest.json() == {"wheels": []}
        # Rebuilt with the checkout: revalidated on every load.
        assert manifest.headers["cache-control"] == "no-cache"
        assert api.client.get("/static/boot.mjs").headers["cache-control"] == "no-cache"


def test_a_partial_pyodide_is_a_missing_bundle(tmp_path: Path) -> None:
    web = built_bundle(tmp_path / "web")
    (web / "node_modules" / "pyodide" / "pyodide.asm.wasm").unlink()
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
        missing = api.client.get("/pyodide/pyodide.mjs")
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "invalid_request"


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
