"""The data keys that encrypt private game data at rest (docs/operations.md, "Private data at
rest"): `REJOIN_DATA_KEYS` (comma-separated) or `--data-key-file PATH` (env
`REJOIN_DATA_KEY_FILE`: one key a line), newest first. Shared by `serve` and `rekey`.

Each key is checked here, before anything starts: a malformed one is a usage error (exit 2) that
names where it came from and which key, never printing any key.
"""

from __future__ import annotations

import argparse
import os
import stat
import sys
from collections.abc import Mapping
from pathlib import Path

from rejoin_server.invocation import PROG

# Names of variables, not secrets (S105).
ENV_DATA_KEYS = "REJOIN_DATA_KEYS"
ENV_DATA_KEY_FILE = "REJOIN_DATA_KEY_FILE"
HOW_TO_MAKE_ONE = "make one with python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"


def add_data_key_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-key-file",
        metavar="PATH",
        help="a file of data keys, one a line, newest first, that encrypt private game data "
        "(hole cards) in the database; as REJOIN_DATA_KEYS, which is given instead "
        f"(env {ENV_DATA_KEY_FILE})",
    )


def data_keys(
    parser: argparse.ArgumentParser, ns: argparse.Namespace, env: Mapping[str, str]
) -> tuple[str, ...]:
    """The keys given, newest first (none: private data is stored in the clear)."""
    path: str | None = ns.data_key_file or env.get(ENV_DATA_KEY_FILE) or None
    listed = env.get(ENV_DATA_KEYS, "").strip()
    if path is not None and listed:
        given = "--data-key-file" if ns.data_key_file else ENV_DATA_KEY_FILE
        parser.error(f"{ENV_DATA_KEYS} and {given} both give data keys: give one of them")
    if path is not None:
        where = f"--data-key-file {path}" if ns.data_key_file else f"{ENV_DATA_KEY_FILE} {path}"
        try:
            text = Path(path).read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not text"
            parser.error(f"{where}: cannot read it: {reason}")
        _warn_if_others_read(path, where)
        lines = [line.strip() for line in text.splitlines()]
        keys = tuple(line for line in lines if line and not line.startswith("#"))
        if not keys:
            parser.error(f"{where}: the file holds no key (one a line): {HOW_TO_MAKE_ONE}")
    else:
        where = ENV_DATA_KEYS
        keys = tuple(key.strip() for key in listed.split(",") if key.strip())
    from rejoin_server.store.datakeys import decode_key

    for position, key in enumerate(keys, 1):
        try:
            decode_key(key)
        except ValueError as exc:
            parser.error(f"{where} (key {position} of {len(keys)}): {exc}")
    if len(set(keys)) != len(keys):
        parser.error(f"{where}: a data key is given twice")
    return keys


def _warn_if_others_read(path: str, where: str) -> None:
    """A warning on stderr, not a refusal (a container's mounted secret may be 0644 behind a
    private mount): a key file the group or others can read gives the hole cards away."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return
    if mode & 0o077:
        print(
            f"{PROG}: warning: {where} can be read by its group or others (mode "
            f"{stat.S_IMODE(mode):04o}): anyone who can read it can read every hole card; "
            f"chmod 600 {path}",
            file=sys.stderr,
            flush=True,
        )
