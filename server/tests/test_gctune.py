"""`gctune`: the collector is off while the server loads, then what it loaded is frozen and the
youngest generation is collected less often; a start that fails turns it back on."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from rejoin_server import gctune


@pytest.fixture
def collector() -> Iterator[None]:
    """The test session's collector as it was, afterwards."""
    thresholds = gc.get_threshold()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
        gc.enable()


@pytest.mark.usefixtures("collector")
def test_hold_then_settle_freezes_what_was_loaded_and_collects_less_often() -> None:
    gctune.hold()
    assert not gc.isenabled()
    loaded = [object() for _ in range(10)]  # noqa: F841 - alive when the server settles
    before = gc.get_freeze_count()
    gctune.settle()
    assert gc.isenabled()
    assert gc.get_freeze_count() > before
    young, middle, old = gc.get_threshold()
    assert young == gctune.YOUNG_THRESHOLD > 700
    assert (middle, old) == (10, 10)  # CPython's, unchanged


@pytest.mark.usefixtures("collector")
def test_release_turns_the_collector_back_on_without_freezing() -> None:
    gctune.hold()
    before = gc.get_freeze_count()
    gctune.release()
    assert gc.isenabled()
    assert gc.get_freeze_count() == before
