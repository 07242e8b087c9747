"""The type of the e2e `spawn` fixture (e2e/conftest.py), for the tests that take it."""

from __future__ import annotations

from typing import Protocol

from rejoin_testkit.processes import ServerProcess


class Spawn(Protocol):
    """The `spawn` fixture: start a server on a database with extra flags (ready unless told)."""

    def __call__(
        self,
        database_url: str,
        *flags: str,
        env: dict[str, str] | None = None,
        ready: bool = True,
        open_files: int | None = None,
    ) -> ServerProcess: ...
