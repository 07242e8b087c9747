"""`RepeatFilter`: the first line of a kind, then a count on the next one after the window."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from rejoin_server import logrepeats
from rejoin_server.logrepeats import RepeatFilter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def logged(clock: Clock) -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger whose handler has the filter and writes `LEVEL name: message` lines."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RepeatFilter(window_s=10, clock=clock))
    logger = logging.getLogger("test.logrepeats")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        yield logger, out
    finally:
        logger.removeHandler(handler)


def lines(out: io.StringIO) -> list[str]:
    return out.getvalue().splitlines()


def test_repeats_within_the_window_are_counted_not_written(
    logged: tuple[logging.Logger, io.StringIO], clock: Clock
) -> None:
    logger, out = logged
    for port in range(1000):
        logger.warning("refused a connection from %s:%d", "10.0.0.1", port)
        clock.now += 0.001
    assert lines(out) == ["WARNING test.logrepeats: refused a connection from 10.0.0.1:0"]

    clock.now += 10
    logger.warning("refused a connection from %s:%d", "10.0.0.2", 7)
    assert lines(out)[1] == (
        "WARNING test.logrepeats: refused a connection from 10.0.0.2:7 "
        "(999 more like this in the last 11 s)"
    )
    # A new window: the next repeat is counted again.
    logger.warning("refused a connection from %s:%d", "10.0.0.3", 8)
    assert len(lines(out)) == 2


def test_after_a_quiet_window_the_next_line_has_no_count(
    logged: tuple[logging.Logger, io.StringIO], clock: Clock
) -> None:
    logger, out = logged
    logger.info("tick %d", 1)
    clock.now += 11
    logger.info("tick %d", 2)
    assert lines(out) == ["INFO test.logrepeats: tick 1", "INFO test.logrepeats: tick 2"]


def test_kinds_are_told_apart_by_template_and_level(
    logged: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, out = logged
    logger.info("closed %s", "a")
    logger.info("closed %s", "b")
    logger.warning("closed %s", "c")  # another level
    logger.info("opened %s", "d")  # another template
    assert lines(out) == [
        "INFO test.logrepeats: closed a",
        "WARNING test.logrepeats: closed c",
        "INFO test.logrepeats: opened d",
    ]


def test_multi_line_reports_are_one_kind_by_their_first_line(
    logged: tuple[logging.Logger, io.StringIO], clock: Clock
) -> None:
    """asyncio's reports: what failed, then the object it failed on (its repr varies)."""
    logger, out = logged
    error = OSError(24, "Too many open files")
    for fd in range(500):
        try:
            raise error
        except OSError:
            logger.exception(f"socket.accept() out of system resource\nsocket: <fd={fd}>")
    text = out.getvalue()
    assert text.count("Too many open files") == 1
    assert text.count("Traceback") == 1
    clock.now += 10
    try:
        raise error
    except OSError:
        logger.exception("socket.accept() out of system resource\nsocket: <fd=9>")
    assert "(499 more like this in the last 10 s)" in out.getvalue()


def test_two_different_failures_are_both_written(
    logged: tuple[logging.Logger, io.StringIO],
) -> None:
    """From ERROR up the text and the exception tell kinds apart: a second bug must not hide
    behind a first one of the same template (two 500s, uvicorn's "Exception in ASGI
    application" over two tracebacks)."""
    logger, out = logged
    logger.error("%s %s failed: %r", "POST", "/a", KeyError("x"))
    logger.error("%s %s failed: %r", "POST", "/b", ValueError("y"))
    for error in (KeyError("x"), ValueError("y"), ValueError("y")):
        try:
            raise error
        except Exception:
            logger.exception("Exception in ASGI application")
    text = out.getvalue()
    assert "POST /a failed: KeyError" in text
    assert "POST /b failed: ValueError" in text
    assert text.count("Exception in ASGI application") == 2  # the third is the second again
    assert text.count("Traceback") == 2


def test_a_message_with_a_percent_sign_and_no_arguments_keeps_it(
    logged: tuple[logging.Logger, io.StringIO], clock: Clock
) -> None:
    logger, out = logged
    logger.error("disk 100% full")
    logger.error("disk 100% full")
    clock.now += 10
    logger.error("disk 100% full")
    assert (
        lines(out)[-1]
        == "ERROR test.logrepeats: disk 100% full (1 more like this in the last 10 s)"
    )


def test_kinds_remembered_are_bounded(clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past MAX_KINDS, the kinds whose window has ended are forgotten, counts and all."""
    monkeypatch.setattr(logrepeats, "MAX_KINDS", 10)
    kept = RepeatFilter(window_s=10, clock=clock)

    def record(msg: str) -> logging.LogRecord:
        return logging.LogRecord("x", logging.INFO, __file__, 1, msg, (), None)

    for i in range(10):
        assert kept.filter(record(f"kind {i}"))
    assert not kept.filter(record("kind 0"))  # a repeat: counted
    clock.now += 10
    assert kept.filter(record("kind 10"))  # the eleventh kind: the ten are forgotten
    again = record("kind 0")
    assert kept.filter(again)
    assert again.getMessage() == "kind 0"  # its count went with it
