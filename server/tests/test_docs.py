"""The documentation in `docs/` says what the code does: every error code with its status and close
code, every WebSocket message and close code, every route of the app, every option; its links lead
somewhere, and nothing in the repository points to a file outside it. A change to the code that
the docs do not follow fails here, not in a reader's hands."""

from __future__ import annotations

import argparse
import re
import subprocess
from pathlib import Path
from typing import get_args

import pytest
from starlette.routing import Mount, Route, WebSocketRoute

from rejoin_protocol import errors
from rejoin_protocol.errors import ErrorCode
from rejoin_protocol.messages import ClientMessage, ServerMessage
from rejoin_server import cli
from rejoin_server.app import create_app
from rejoin_server.cli import parsers
from rejoin_server.settings import ServerSettings

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
# The pages whose relative links are checked: the docs, and every README a reader lands on.
LINKED_PAGES = [
    ROOT / "README.md",
    *sorted(DOCS.glob("*.md")),
    ROOT / "packages" / "protocol" / "README.md",
    ROOT / "server" / "README.md",
    ROOT / "client_sdk" / "README.md",
]
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6} +(.+?) *$", re.MULTILINE)


def read(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def table_rows(text: str) -> list[list[str]]:
    """The cells of every Markdown table row (`| a | b |`), stripped, header rows included."""
    return [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in text.splitlines()
        if line.lstrip().startswith("|")
    ]


# --- error codes -----------------------------------------------------------------------------


def test_every_error_code_has_its_row_with_its_http_status_and_close_code() -> None:
    rows = {row[0]: row for row in table_rows(read("http-api.md")) if len(row) >= 3}
    for code in ErrorCode:
        row = rows.get(f"`{code.value}`")
        assert row is not None, f"docs/http-api.md has no row for the error code {code.value}"
        assert row[1] == str(code.http_status), (
            f"docs/http-api.md gives {code.value} the status {row[1]}, the code {code.http_status}"
        )
        if code.close_code is not None:
            assert str(code.close_code) in row[2], (
                f"docs/http-api.md gives {code.value} no close code {code.close_code}"
            )
        if code.hello_close_code != errors.CLOSE_PROTOCOL_ERROR:  # a close of its own at hello
            assert f"{code.hello_close_code}" in row[2], (
                f"docs/http-api.md gives {code.value} no close code {code.hello_close_code} at hello"
            )


def test_every_close_code_has_its_row() -> None:
    documented = {row[0] for row in table_rows(read("protocol.md"))}
    named = {value for name, value in vars(errors).items() if name.startswith("CLOSE_")}
    of_codes = {code.close_code for code in ErrorCode if code.close_code is not None}
    constants = named | of_codes | set(errors.FATAL_CLOSE_CODES)
    for close in sorted(constants):
        assert str(close) in documented, f"docs/protocol.md has no row for close code {close}"


# --- messages --------------------------------------------------------------------------------


def test_every_websocket_message_has_its_section_with_an_example() -> None:
    text = read("protocol.md")
    headings = [h for h in _HEADING.findall(text) if h.startswith("`")]
    for message in {*get_args(ClientMessage), *get_args(ServerMessage)}:
        wire_type: str = message.TYPE
        assert any(f"`{wire_type}`" in heading for heading in headings), (
            f"docs/protocol.md has no section for the message {wire_type}"
        )
        assert re.search(rf'\{{"type": ?"{wire_type}"', text), (
            f"docs/protocol.md has no JSON example of the message {wire_type}"
        )


# --- routes ----------------------------------------------------------------------------------


def _documented_path(path: str) -> str:
    """A route's path as the docs write it: `{game_id}` → `{gameId}`, as on the wire."""
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), path)


def test_every_route_of_the_app_is_in_the_http_docs() -> None:
    text = read("http-api.md")
    app = create_app(ServerSettings())  # the routes only: the lifespan (the store) never runs
    checked = 0
    for route in app.routes:
        if isinstance(route, Route):
            for method in sorted((route.methods or set()) - {"HEAD"}):
                entry = f"`{method} {_documented_path(route.path)}`"
                assert entry in text, f"docs/http-api.md does not document {entry}"
                checked += 1
        elif isinstance(route, WebSocketRoute):
            entry = f"`GET {_documented_path(route.path)}`"
            assert entry in text, f"docs/http-api.md does not document {entry}"
            assert entry in read("protocol.md"), f"docs/protocol.md does not document {entry}"
            checked += 1
        elif isinstance(route, Mount):
            assert f"`{route.path}/`" in text, f"docs/http-api.md does not name {route.path}/"
            checked += 1
        else:
            pytest.fail(f"a route of a kind this test does not know: {route!r}")
    assert checked >= 15  # the API's routes, the socket, the pages and the static folders


# --- options ---------------------------------------------------------------------------------


def _options(parser: argparse.ArgumentParser) -> list[str]:
    return [
        flag
        for action in parser._actions
        for flag in action.option_strings
        if flag.startswith("--") and flag != "--help"
    ]


def test_every_option_and_variable_has_its_row_in_operations() -> None:
    first_cells = {row[0] for row in table_rows(read("operations.md"))}
    options = _options(cli.build_parser())
    assert len(options) > 30
    # The other commands' options too: `migrate`'s, `proxy-config`'s, `rollback`'s.
    commands = [
        cli.build_migrate_parser(),
        cli.build_proxy_config_parser(),
        cli.build_rollback_parser(),
    ]
    for option in [*options, *(flag for parser in commands for flag in _options(parser))]:
        assert f"`{option}`" in first_cells, f"docs/operations.md has no row for {option}"
    text = read("operations.md")
    variables = [value for name, value in vars(parsers).items() if name.startswith("ENV_")]
    assert len(variables) >= 5  # the check below reads the module that declares them
    for value in variables:
        assert f"`{value}`" in text, f"docs/operations.md does not name {value}"


def test_every_metric_has_its_row_in_operations() -> None:
    from rejoin_server.metrics import Metrics

    first_cells = {row[0].strip("`").split("{")[0] for row in table_rows(read("operations.md"))}
    names = {
        metric.name + ("_total" if metric.type == "counter" else "")
        for metric in Metrics().registry.collect()
    }
    assert len(names) > 10
    for name in sorted(names):
        assert name in first_cells, f"docs/operations.md has no row for the metric {name}"


# --- links -----------------------------------------------------------------------------------


def _slugs(markdown: str) -> set[str]:
    """The anchors a Markdown renderer gives the headings (GitHub's rule: lower case, punctuation
    but `-` and `_` dropped, spaces to `-`; a repeated heading gets `-1`, `-2`, …)."""
    seen: dict[str, int] = {}
    slugs = set()
    for heading in _HEADING.findall(markdown):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        slugs.add(slug if count == 0 else f"{slug}-{count}")
    return slugs


@pytest.mark.parametrize("page", LINKED_PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_lead_to_files_and_headings_that_exist(page: Path) -> None:
    links = _LINK.findall(page.read_text(encoding="utf-8"))
    for link in links:
        if re.match(r"^[a-z]+:", link):
            continue  # https:, mailto: … are not the repository's
        target, _, anchor = link.partition("#")
        path = (page.parent / target).resolve() if target else page
        assert path.exists(), f"{page.relative_to(ROOT)} links to {link}, which does not exist"
        assert ROOT in path.parents or path == ROOT, f"{link} leads out of the repository"
        if anchor and path.suffix == ".md":
            assert anchor in _slugs(path.read_text(encoding="utf-8")), (
                f"{page.relative_to(ROOT)} links to {link}: no such heading"
            )


def test_the_readme_links_every_docs_page() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    index = read("README.md")
    for page in sorted(DOCS.glob("*.md")):
        if page.name != "README.md":
            assert f"docs/{page.name}" in readme, f"README.md does not link docs/{page.name}"
            assert f"({page.name})" in index, f"docs/README.md does not link {page.name}"


# --- nothing outside the repository ----------------------------------------------------------

_DESIGN = "DE" + "SIGN"  # spelled apart, so that this file is no instance of what it looks for
OUTSIDE = re.compile(
    "|".join(
        [
            r"\.\./shar" + "ed",
            "shared/no" + "tes",
            "steering re" + "pository",
            rf"\b{_DESIGN}\b",
            rf"{_DESIGN}\.md",
            "seed sp" + "ec",
            "\u00a7",  # a section sign: a section of a document outside the repository
        ]
    )
)


def tracked_text_files() -> list[Path]:
    """Every file git tracks whose content is text (UTF-8, no NUL)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True
    ).stdout.split(b"\0")
    files = []
    for name in filter(None, listed):
        path = ROOT / name.decode()
        data = path.read_bytes() if path.is_file() else b"\0"
        if b"\0" not in data:
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                continue
            files.append(path)
    return files


def test_nothing_refers_to_a_file_outside_the_repository() -> None:
    files = tracked_text_files()
    assert ROOT / "README.md" in files  # the listing works: the tree is a git checkout
    assert ROOT / "docs" / "protocol.md" in files
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in files
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert not found, "references to files outside the repository:\n" + "\n".join(found)
