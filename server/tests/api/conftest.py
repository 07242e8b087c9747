"""Fixtures of the HTTP tests: the app with the in-memory store, its lifespan running."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .support import Api, running


@pytest.fixture
def api() -> Iterator[Api]:
    with running() as found:
        yield found
