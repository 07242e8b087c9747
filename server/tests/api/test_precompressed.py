"""Pre-compressed files (api/precompressed.py): the coding chosen by Accept-Encoding, the headers
of each variant, caching by folder, and the bundle's folders served through it (api/web.py).

The server never decodes its siblings, so `.br` files here hold marker bytes, not brotli: the
server's tests need no brotli library. Bodies are read raw (httpx would decode gzip and br)."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from rejoin_server.api.precompressed import IMMUTABLE, PrecompressedFiles, negotiate

from .support import running
from .test_web import GAME_ID, PYODIDE_VERSION, built_bundle

WASM = b"\0asm\1\0\0\0" + bytes(range(256)) * 64
BROTLI = b"marker: the brotli sibling"
GZIP = gzip.compress(WASM, mtime=0)
BOTH = ("br", "gzip")


@pytest.mark.parametrize(
    ("header", "available", "chosen"),
    [
        ("gzip, deflate, br, zstd", BOTH, "br"),  # Chromium's: br first on equal q
        ("gzip, deflate", BOTH, "gzip"),
        ("br;q=0.5, gzip;q=0.8", BOTH, "gzip"),
        ("br;q=0, gzip", BOTH, "gzip"),
        ("BR", BOTH, "br"),  # codings are case-insensitive
        ("x-gzip", BOTH, "gzip"),
        ("*", BOTH, "br"),
        ("gzip;q=0, *", BOTH, "br"),
        ("*;q=0", BOTH, None),
        ("br;q=0, gzip;q=0", BOTH, None),
        ("identity", BOTH, None),
        ("br;q=0.5, identity", BOTH, None),  # identity preferred
        ("br, identity;q=0", BOTH, "br"),
        ("br", ("gzip",), None),  # no brotli sibling: the file as it is
        ("gzip, br", ("gzip",), "gzip"),
        ("br;q=2", BOTH, None),  # not a q-value: counts as 0
        ("br;q=abc, gzip", BOTH, "gzip"),
        ("", BOTH, None),
        (None, BOTH, None),  # no header: the file as it is (curl without --compressed)
        (" , ;q=1", BOTH, None),
    ],
)
def test_the_coding_follows_accept_encoding(
    header: str | None, available: tuple[str, ...], chosen: str | None
) -> None:
    assert negotiate(header, available) == chosen


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "files"
    (root / "v1").mkdir(parents=True)
    (root / "v1" / "pyodide.asm.wasm").write_bytes(WASM)
    (root / "v1" / "pyodide.asm.wasm.br").write_bytes(BROTLI)
    (root / "v1" / "pyodide.asm.wasm.gz").write_bytes(GZIP)
    (root / "v1" / "plain.js").write_text("export {};")
    (root / "manifest.json").write_text('{"a": 1}')
    (root / "manifest.json.gz").write_bytes(gzip.compress(b'{"a": 1}', mtime=0))
    (tmp_path / "secret.txt").write_text("the-secret-content")
    return root


@pytest.fixture
def client(folder: Path) -> Iterator[TestClient]:
    files = PrecompressedFiles(folder, immutable=True, revalidated=["manifest.json"])
    with TestClient(Starlette(routes=[Mount("/f", files)])) as test_client:
        yield test_client


@dataclass(frozen=True, slots=True)
class Sent:
    status_code: int
    headers: dict[str, str]  # names in lower case


def fetch(client: TestClient, path: str, **headers: str) -> tuple[Sent, bytes]:
    """GET `path` with these request headers (Accept-Encoding: none unless given); the answer
    and its body as sent, not decoded."""
    headers.setdefault("accept-encoding", "")
    with client.stream("GET", path, headers=headers) as reply:
        body = b"".join(reply.iter_raw())
        sent = Sent(reply.status_code, {k.lower(): v for k, v in reply.headers.items()})
    return sent, body


def test_brotli_is_sent_when_accepted(client: TestClient) -> None:
    reply, body = fetch(client, "/f/v1/pyodide.asm.wasm", **{"accept-encoding": "gzip, br"})
    assert reply.status_code == 200
    assert body == BROTLI
    assert reply.headers["content-encoding"] == "br"
    assert reply.headers["content-type"] == "application/wasm"  # the original's, not brotli's
    assert reply.headers["content-length"] == str(len(BROTLI))
    assert reply.headers["vary"] == "Accept-Encoding"
    assert reply.headers["cache-control"] == IMMUTABLE
    assert reply.headers["etag"].endswith('-br"')


def test_gzip_is_sent_to_a_client_without_brotli(client: TestClient) -> None:
    reply, body = fetch(client, "/f/v1/pyodide.asm.wasm", **{"accept-encoding": "gzip"})
    assert reply.headers["content-encoding"] == "gzip"
    assert gzip.decompress(body) == WASM
    assert reply.headers["content-length"] == str(len(GZIP))
    assert reply.headers["content-type"] == "application/wasm"


@pytest.mark.parametrize("accept", ["", "identity", "br;q=0, gzip;q=0"])
def test_the_file_as_it_is_when_no_coding_is_accepted(client: TestClient, accept: str) -> None:
    reply, body = fetch(client, "/f/v1/pyodide.asm.wasm", **{"accept-encoding": accept})
    assert body == WASM
    assert "content-encoding" not in reply.headers
    assert reply.headers["content-length"] == str(len(WASM))
    assert reply.headers["vary"] == "Accept-Encoding"  # another client may get another body


def test_each_coding_has_its_own_etag_and_304(client: TestClient) -> None:
    path = "/f/v1/pyodide.asm.wasm"
    tags = {
        accept: fetch(client, path, **{"accept-encoding": accept})[0].headers["etag"]
        for accept in ("br", "gzip", "identity")
    }
    assert len(set(tags.values())) == 3, tags
    again, body = fetch(client, path, **{"accept-encoding": "br", "if-none-match": tags["br"]})
    assert again.status_code == 304
    assert body == b""
    assert again.headers["cache-control"] == IMMUTABLE
    assert again.headers["vary"] == "Accept-Encoding"
    # gzip's tag does not validate the brotli body: the whole brotli body comes.
    other, body = fetch(client, path, **{"accept-encoding": "br", "if-none-match": tags["gzip"]})
    assert other.status_code == 200
    assert body == BROTLI


def test_head_answers_the_headers_of_the_variant_get_would_send(client: TestClient) -> None:
    reply = client.head("/f/v1/pyodide.asm.wasm", headers={"accept-encoding": "br"})
    assert reply.status_code == 200
    assert reply.content == b""
    assert reply.headers["content-encoding"] == "br"
    assert reply.headers["content-length"] == str(len(BROTLI))


def test_a_range_gets_bytes_of_the_file_as_it_is(client: TestClient) -> None:
    reply, body = fetch(
        client, "/f/v1/pyodide.asm.wasm", **{"accept-encoding": "br, gzip", "range": "bytes=0-3"}
    )
    assert reply.status_code == 206
    assert body == WASM[:4]
    assert "content-encoding" not in reply.headers
    assert reply.headers["content-range"] == f"bytes 0-3/{len(WASM)}"


def test_a_file_without_siblings_is_sent_as_it_is_without_vary(client: TestClient) -> None:
    reply, body = fetch(client, "/f/v1/plain.js", **{"accept-encoding": "br, gzip"})
    assert body == b"export {};"
    assert "content-encoding" not in reply.headers
    assert "vary" not in reply.headers
    assert reply.headers["content-type"].startswith("text/javascript")
    assert reply.headers["cache-control"] == IMMUTABLE


def test_the_manifest_is_revalidated_even_compressed(client: TestClient) -> None:
    reply, body = fetch(client, "/f/manifest.json", **{"accept-encoding": "gzip"})
    assert reply.headers["content-encoding"] == "gzip"
    assert gzip.decompress(body) == b'{"a": 1}'
    assert reply.headers["cache-control"] == "no-cache"
    again, _ = fetch(
        client,
        "/f/manifest.json",
        **{"accept-encoding": "gzip", "if-none-match": reply.headers["etag"]},
    )
    assert again.status_code == 304


@pytest.mark.parametrize(
    "path",
    [
        "/f/v1/missing.wasm",
        "/f/v1/pyodide.asm.wasm.br",  # a sibling is no resource of its own
        "/f/v1/pyodide.asm.wasm.gz",
        "/f/%2e%2e/secret.txt",
        "/f/v1/..%2f..%2fsecret.txt",
    ],
)
def test_missing_files_siblings_and_paths_outside_are_404(client: TestClient, path: str) -> None:
    reply, body = fetch(client, path, **{"accept-encoding": "br, gzip"})
    assert reply.status_code == 404
    assert b"the-secret-content" not in body
    assert b"marker" not in body


@pytest.mark.parametrize("path", ["/f/../secret.txt", "/f/v1/../../secret.txt"])
async def test_a_raw_dot_dot_path_is_404(folder: Path, path: str) -> None:
    """`..` as the server may receive it: an HTTP client (httpx, a browser) removes dot segments
    before sending, so the request goes to the app as its ASGI scope, path and raw path as is."""
    app = Starlette(routes=[Mount("/f", PrecompressedFiles(folder, immutable=True))])
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": b"", "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 1), "server": ("testserver", 80),
    }  # fmt: skip
    sent: list[MutableMapping[str, Any]] = []

    requested = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if requested.is_set():  # the body is in: the client stays until the answer is sent
            await asyncio.Event().wait()
        requested.set()
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    assert sent[0]["status"] == 404
    body = b"".join(m.get("body", b"") for m in sent[1:])
    assert b"the-secret-content" not in body


def test_other_methods_are_refused(client: TestClient) -> None:
    assert client.post("/f/v1/pyodide.asm.wasm").status_code == 405


def test_the_bundle_sends_pyodide_compressed_and_keeps_pages_revalidated(tmp_path: Path) -> None:
    web = built_bundle(tmp_path / "web")
    wasm = web / "dist" / "pyodide" / PYODIDE_VERSION / "pyodide.asm.wasm"
    wasm.with_name(wasm.name + ".br").write_bytes(BROTLI)
    with running(web_dir=str(web)) as api:
        reply, body = fetch(
            api.client, f"/pyodide/{PYODIDE_VERSION}/pyodide.asm.wasm", **{"accept-encoding": "br"}
        )
        assert (reply.status_code, body) == (200, BROTLI)
        assert reply.headers["content-encoding"] == "br"
        assert reply.headers["cache-control"] == IMMUTABLE
        for path in (f"/play/{GAME_ID}", "/", "/static/boot.mjs", "/sdk/manifest.json"):
            page = api.client.get(path)
            assert page.headers["cache-control"] == "no-cache", path
            assert "immutable" not in page.headers["cache-control"], path
        # The manifest names a hashed wheel; without a manifest of this layout nothing boots.
        assert api.client.get("/pyodide/pyodide.mjs").status_code == 404


def test_a_manifest_of_an_older_build_is_a_bundle_to_rebuild(tmp_path: Path) -> None:
    web = built_bundle(tmp_path / "web")
    (web / "dist" / "manifest.json").write_text('{"wheels": []}')  # before Pyodide's version
    with running(web_dir=str(web)) as api:
        page = api.client.get(f"/play/{GAME_ID}")
        assert page.status_code == 503
        assert "manifest.json" in page.text
        assert "nox -s bundle" in page.text


def test_a_lost_wheel_is_a_missing_bundle(tmp_path: Path) -> None:
    web = built_bundle(tmp_path / "web")
    for wheel in (web / "dist" / "wheels").rglob("*.whl"):
        wheel.unlink()
    with running(web_dir=str(web)) as api:
        page = api.client.get(f"/play/{GAME_ID}")
        assert page.status_code == 503
        assert "rejoin_client-0.1.0-py3-none-any.whl" in page.text
