"""The server's logging: its loggers at the level of `--log-level`, repeated lines collapsed
(`logrepeats`) where they can flood, and session tokens kept out of uvicorn's access log.

`serve` calls `configure` once the app is built, and puts `mask_session_in_access_log` and
`collapse_repeats` on uvicorn's loggers once uvicorn has set them up.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

from rejoin_server.logrepeats import RepeatFilter


def configure(level: str) -> None:
    """uvicorn configures its own loggers; the server's go to stderr at the same level. Only
    `rejoin_server`: the root logger at INFO would make SQLAlchemy log every statement.
    Repeated lines are collapsed (`logrepeats`) here and on asyncio's logger, which reports every
    failed accept() (out of file descriptors: thousands a second) through the root logger."""
    logger = logging.getLogger("rejoin_server")
    logger.setLevel(logging.DEBUG if level == "trace" else level.upper())
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)-9s %(name)s: %(message)s"))
        handler.addFilter(RepeatFilter())
        logger.addHandler(handler)
        logger.propagate = False
    collapse_repeats(logging.getLogger("asyncio"))


def collapse_repeats(logger: logging.Logger) -> None:
    """A `RepeatFilter` on the records `logger` itself logs (once, however often called)."""
    if not any(isinstance(f, RepeatFilter) for f in logger.filters):
        logger.addFilter(RepeatFilter())


def mask_session(target: str) -> str:
    """A request target with the value of every `session` query parameter replaced by ***.

    `GET …/events?session=…` carries a bearer token in the URL (EventSource cannot send headers).
    The key is decoded as Starlette decodes it (`parse_qsl`, keep_blank_values), so a token sent
    as `?%73ession=…`, which works, is masked too; the rest is left as written."""
    path, question, query = target.partition("?")
    if not question:
        return target
    fields = query.split("&")  # parse_qsl's one separator
    masked = False
    for i, field in enumerate(fields):
        pairs = parse_qsl(field, keep_blank_values=True)
        if pairs and pairs[0][0] == "session":
            fields[i] = f"{field.partition('=')[0]}=***"
            masked = True
    return f"{path}?{'&'.join(fields)}" if masked else target


def mask_session_in_access_log(record: logging.LogRecord) -> bool:
    """Keeps session tokens out of the access log (`mask_session`)."""
    if isinstance(record.args, tuple):
        record.args = tuple(
            mask_session(arg) if isinstance(arg, str) else arg for arg in record.args
        )
    return True
