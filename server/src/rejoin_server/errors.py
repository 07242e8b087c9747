"""The server's domain errors: a small tree, each with a stable code (docs/http-api.md).

Transports map `code` to an HTTP status or a WebSocket close code through `rejoin_protocol.errors`;
nothing else decides a status.
"""

from __future__ import annotations

from typing import Any

from rejoin_protocol.errors import ErrorCode


class CodedError(Exception):
    """An error a client may see, under its stable `code`. `message` is a sentence that says
    what to do."""

    code: ErrorCode = ErrorCode.INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] | None = None


class GameNotFound(CodedError):
    code = ErrorCode.GAME_NOT_FOUND

    def __init__(self, game_id: str) -> None:
        super().__init__(f"No game {game_id!r} exists here; check the id or create a new game.")
        self.game_id = game_id


class MemoryGameGone(GameNotFound):
    """A game kept in memory only (durability `memory`: its id says so) that this server does not
    hold. Nothing of it was ever stored, so nothing can bring it back."""

    def __init__(self, game_id: str) -> None:
        super().__init__(game_id)
        self.message = (
            f'Game {game_id!r} was kept in memory only (durability "memory") and this server '
            "does not hold it: such a game is lost when the server that created it restarts "
            "(or it was deleted or ended). Create a new game."
        )
        self.args = (self.message,)


class StateCorrupted(CodedError):
    """A game's stored log cannot be turned back into a state."""

    code = ErrorCode.STATE_CORRUPTED

    def __init__(
        self, game_id: str, seq: int | None, problem: str, detail: str = "", *, served: bool = False
    ) -> None:
        where = f"event {seq}" if seq is not None else "its log"
        if served:  # read for a replay (`?after=`) of a game that is being served
            text = (
                f"Game {game_id!r}: stored {where} cannot be read: {problem}. The game goes on; "
                "ask for its state instead of a replay from before it, or have an operator "
                "roll it back to a version before that event."
            )
        else:
            text = (
                f"Game {game_id!r} cannot be restored: {where}: {problem}. "
                "Roll back to a snapshot or delete the game."
            )
        super().__init__(text)
        self.game_id = game_id
        self.seq = seq
        self.problem = problem
        self.detail = detail  # for the server log only

    def __str__(self) -> str:
        return f"{self.message} ({self.detail})" if self.detail else self.message


class SeqConflict(CodedError):
    """Another writer already stored this seq: the in-memory game is behind the log (fencing)."""

    code = ErrorCode.STALE_STATE

    def __init__(self, game_id: str, seq: int) -> None:
        super().__init__(
            f"Event {seq} of game {game_id!r} was already stored by another writer; "
            "reload the game and try again."
        )
        self.game_id = game_id
        self.seq = seq


class Fenced(SeqConflict):
    """The game's ownership epoch moved on: another node took it over, and this node may never
    write to it again (docs/cluster.md)."""

    def __init__(self, game_id: str, seq: int) -> None:
        super().__init__(game_id, seq)
        self.message = (
            f"Game {game_id!r} is now hosted by another node; reconnect and it will serve you."
        )


class OwnedElsewhere(Exception):
    """A live node other than this one owns the game (`GameStore.claim_game`)."""

    def __init__(self, game_id: str, owner: str) -> None:
        super().__init__(f"game {game_id!r} is owned by node {owner!r}")
        self.game_id = game_id
        self.owner = owner


class ClaimContended(Exception):
    """Another transaction held the game's row past the claim's lock timeout (a node paused in
    the middle of a write): try again later."""

    def __init__(self, game_id: str) -> None:
        super().__init__(f"game {game_id!r} is locked by another node's transaction")
        self.game_id = game_id


class StorageUnavailable(CodedError):
    code = ErrorCode.STORAGE_UNAVAILABLE

    def __init__(self, problem: str) -> None:
        # The problem (driver text: host, port, user) goes to the server log, not to clients.
        super().__init__("The game store cannot be reached right now; try again shortly.")
        self.problem = problem

    def __str__(self) -> str:
        return f"{self.message} ({self.problem})"


class RateLimited(CodedError):
    """A client asked too often (docs/operations.md, "Limits"). The answer carries `Retry-After`."""

    code = ErrorCode.RATE_LIMITED

    def __init__(self, what: str, retry_after_s: int) -> None:
        super().__init__(f"Too many {what}; try again in {retry_after_s} s.")
        self.retry_after_s = retry_after_s
        self.details = {"retryAfter": retry_after_s}


class ApiError(CodedError):
    """Any other refusal with its code chosen where it is raised (bad input, auth, tokens)."""

    def __init__(
        self, code: ErrorCode, message: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.details = details


class KindNotServed(CodedError):
    """A game of a kind this server has no engine for: asked for by `POST /api/games`, or stored
    by a server started with more `--game`s than this one."""

    code = ErrorCode.INVALID_REQUEST

    def __init__(self, kind: str, served: tuple[str, ...], game_id: str | None = None) -> None:
        kinds = ", ".join(served)
        if game_id is None:
            message = f"This server has no game of kind {kind!r}; it serves: {kinds}."
        else:
            message = (
                f"Game {game_id} is a game of kind {kind!r}, which this server does not serve "
                f"(it serves: {kinds}); start the server with --game for that kind."
            )
        super().__init__(message)
        self.details = {"kind": kind, "kinds": list(served)}
