"""The PostgreSQL helper for pytest: a PostgreSQL that cannot be reached FAILS the test that needs
it, with a message saying how to start it. A skipped database test would let CI pass without
testing the database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from .postgres import POSTGRES_URL, PostgresUnreachable, throwaway_database


@contextmanager
def postgres_database(url: str = POSTGRES_URL, *, prefix: str = "rejoin_test") -> Iterator[str]:
    """`throwaway_database`, failing the test (no traceback) when PostgreSQL is unreachable."""
    try:
        with throwaway_database(url, prefix=prefix) as created:
            yield created
    except PostgresUnreachable as exc:
        pytest.fail(str(exc), pytrace=False)
