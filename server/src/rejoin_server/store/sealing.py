"""Sealing: a game's private data (`PrivateData`) encrypted at rest, the rest left plain JSON.

The values a game declares private are taken out of the JSON (left as null in place) and stored,
encrypted, in one reserved top-level key:

    "$sealed": "<key id>.<base64url(nonce ‖ AES-256-GCM ciphertext and tag)>"

whose plaintext is canonical JSON `{JSON Pointer: value}` (`store.sealpaths`). The associated
data binds the ciphertext to its row and to everything public beside it:

    event:    rejoin-sealed\\0event\\0<game id>\\0<seq>\\0<event kind>\\0<sha256 hex of public>
    snapshot: rejoin-sealed\\0snapshot\\0<game id>\\0<version>\\0<sha256 hex of public>

where "public" is the canonical JSON of the row's data without `$sealed`, nulls in place: moved
to another row, its kind changed (redaction is by kind) or a public value edited, it does not
decrypt. Opening needs no declaration (the plaintext names its paths), so a row reads back
whatever the engine declares today. A row without the key (stored before keys were set, or by a
server without any) reads as it is.

A sealed snapshot's `checksum` column is the SHA-256 of its stored (sealed) canonical text: it
still finds a corrupt row, and says nothing about the hidden values (the plaintext's checksum,
beside a known public part, would let a reader test guesses of the hole cards). The plaintext's
checksum is sealed with the private values (`"$checksum"` in the plaintext), and after opening
the state is verified against it: "this is the state at version V". A snapshot with nothing
private is stored in the clear with its plaintext's checksum, as without keys.
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import orjson

from rejoin_server.games.base import Event, PrivateData
from rejoin_server.store.base import RawEvent, SnapshotWrite, StoredLog, StoredSnapshot
from rejoin_server.store.codec import canonical_json, checksum
from rejoin_server.store.sealpaths import WHOLE, Path, find, keys_of, parse, pointer, put

if TYPE_CHECKING:
    from rejoin_server.store.datakeys import DataKeys

SEALED = "$sealed"
_MARK = f'"{SEALED}"'  # in a row's text only if it may be sealed: the rest is not parsed
_NONCE = 12
# A snapshot's plaintext checksum, inside its sealed value (never a JSON Pointer: no "/").
CHECKSUM = "$checksum"
# Games whose kind the sealer remembers (noted at creation and at load); one it does not know
# is sealed whole, which is safe, only less queryable.
_REMEMBERED = 100_000


class SealError(ValueError):
    """A sealed value that cannot be opened: unknown key, tampered, moved, or malformed.
    `missing_key`: the id of the key it is sealed with, when only that key was not given."""

    def __init__(self, message: str, *, missing_key: str | None = None) -> None:
        super().__init__(message)
        self.missing_key = missing_key


@dataclass(frozen=True, slots=True)
class Plan:
    """A `PrivateData` with its paths parsed. `events` None: every event's data is private."""

    events: Mapping[str, tuple[Path, ...]] | None
    state: tuple[Path, ...]


EVERYTHING = Plan(None, (WHOLE,))


def plan_of(private: PrivateData | None) -> Plan:
    """ValueError for a path that does not parse; None (nothing declared): everything private."""
    if private is None:
        return EVERYTHING
    events = {kind: tuple(map(parse, paths)) for kind, paths in private.events.items()}
    return Plan(events, tuple(map(parse, private.state)))


def event_paths(plan: Plan, kind: str) -> tuple[Path, ...]:
    return (WHOLE,) if plan.events is None else plan.events.get(kind, ())


def split(data: Mapping[str, Any], paths: Iterable[Path]) -> tuple[Any, dict[str, Any]]:
    """(public, private): `data` with the values at `paths` made null, and those values by JSON
    Pointer. `data` itself comes back (not copied) when nothing is private."""
    found = sorted((hit for path in paths for hit in find(data, path)), key=lambda h: len(h[0]))
    if SEALED in data:  # the game's own key of that name: kept, sealed with the rest
        found = [(WHOLE, data)]
    if not found:
        return data, {}
    if found[0][0] == WHOLE:
        return {}, {"": dict(data)}
    public = orjson.loads(orjson.dumps(data))
    private: dict[str, Any] = {}
    taken: list[Path] = []
    for keys, value in found:
        if any(keys[: len(t)] == t for t in taken):
            continue  # inside a value already taken
        taken.append(keys)
        put(public, keys, None)
        private[pointer(keys)] = value
    return public, private


def _digest(public: Any) -> str:
    return hashlib.sha256(canonical_json(public)).hexdigest()


def event_aad(game_id: str, seq: int, kind: str, public: Any) -> bytes:
    """An event's associated data: its row, its kind (redaction is by kind: a kind changed in
    the database must not turn a private event into one served to every seat) and its public
    part, nulls in place (no public value changed or moved beside a sealed one)."""
    return f"rejoin-sealed\x00event\x00{game_id}\x00{seq}\x00{kind}\x00{_digest(public)}".encode()


def snapshot_aad(game_id: str, version: int, public: Any) -> bytes:
    return f"rejoin-sealed\x00snapshot\x00{game_id}\x00{version}\x00{_digest(public)}".encode()


def seal(keys: DataKeys, associated: bytes, public: Any, private: Mapping[str, Any]) -> Any:
    nonce = os.urandom(_NONCE)
    box = keys.newest.aead.encrypt(nonce, canonical_json(private), associated)
    token = base64.urlsafe_b64encode(nonce + box).rstrip(b"=").decode()
    return {**public, SEALED: f"{keys.newest.id}.{token}"}


def sealed_by(data: Mapping[str, Any]) -> str | None:
    """The key id a row's data is sealed with, None when it is not sealed."""
    value = data.get(SEALED)
    return value.partition(".")[0] if isinstance(value, str) else None


def is_sealed(data: object) -> bool:
    return isinstance(data, dict) and SEALED in data


def _place(data: dict[str, Any], private: Mapping[str, Any]) -> Any:
    value: Any = data
    try:
        for where, item in private.items():
            value = put(value, keys_of(where), item)
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise SealError(f"a sealed value has no place in the row ({exc!r})") from None
    return value


# --- one row, either way (the store's `Sealer` and `rekey` both use these)


def seal_event(
    keys: DataKeys,
    game_id: str,
    seq: int,
    kind: str,
    data: Mapping[str, Any],
    *,
    paths: Iterable[Path],
) -> Any:
    """An event's data as stored: `data` itself when nothing in it is private."""
    public, private = split(data, paths)
    if not private:
        return public
    return seal(keys, event_aad(game_id, seq, kind, public), public, private)


def open_event(
    keys: DataKeys | None, game_id: str, seq: int, kind: str, data: dict[str, Any]
) -> Any:
    """A sealed event's data (`data` parsed, changed in place) with its values back. SealError."""
    envelope = data.pop(SEALED)
    return _place(data, _open(keys, event_aad(game_id, seq, kind, data), envelope))


def seal_snapshot(
    keys: DataKeys,
    game_id: str,
    version: int,
    state: Any,
    sum_: str,
    *,
    paths: Iterable[Path],
) -> tuple[bytes, str] | None:
    """(stored text, stored checksum) of a snapshot whose plaintext `state` has checksum `sum_`,
    None when nothing in it is private. The plaintext's checksum goes inside the sealed value;
    the column holds the SHA-256 of the stored text, which says nothing of the hidden values."""
    public, private = split(state, paths)
    if not private:
        return None
    sealed = seal(keys, snapshot_aad(game_id, version, public), public, {**private, CHECKSUM: sum_})
    body = canonical_json(sealed)
    return body, checksum(body)


def open_snapshot(
    keys: DataKeys | None, game_id: str, version: int, stored_sum: str, data: dict[str, Any]
) -> tuple[Any, str]:
    """(plaintext state, its checksum) of a sealed snapshot (`data` parsed, changed in place).
    SealError when the stored text is not the one checksummed or does not open."""
    if checksum(canonical_json(data)) != stored_sum:
        raise SealError("checksum mismatch (the stored row was changed)")
    envelope = data.pop(SEALED)
    private = _open(keys, snapshot_aad(game_id, version, data), envelope)
    inner = private.pop(CHECKSUM, None)
    if not isinstance(inner, str):
        raise SealError("its sealed value holds no checksum")
    return _place(data, private), inner


def _open(keys: DataKeys | None, associated: bytes, envelope: object) -> dict[str, Any]:
    if not isinstance(envelope, str) or "." not in envelope:
        raise SealError(f"its {SEALED} value is not <key id>.<ciphertext>")
    kid, _, token = envelope.partition(".")
    key = None if keys is None else keys.get(kid)
    if key is None:
        raise SealError(f"it is sealed with data key {kid}, which was not given", missing_key=kid)
    try:
        box = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        plain = key.aead.decrypt(box[:_NONCE], box[_NONCE:], associated)
        private = orjson.loads(plain)
    except Exception as exc:  # InvalidTag, bad base64, short box: all "does not decrypt"
        raise SealError(
            f"its private data does not decrypt with data key {kid} (tampered with: its sealed "
            f"value, kind or public part changed, or moved from another row: "
            f"{type(exc).__name__})"
        ) from None
    if not isinstance(private, dict):
        raise SealError("its sealed plaintext is not a JSON object")
    return private


class Sealer:
    """A store's seal: `keys` (None: private data is written in the clear, and only rows
    without a seal can be read) and what each kind of game declares private.

    It remembers the kind of the games it has seen (created, loaded, appended to: the most
    recently used `remember`); one it does not know is sealed whole, which is safe, only less
    queryable. The store's writer thread and the event loop both use it: a lock."""

    def __init__(
        self,
        keys: DataKeys | None = None,
        plans: Mapping[str, Plan] | None = None,
        *,
        remember: int = _REMEMBERED,
    ) -> None:
        self.keys = keys
        self._plans = dict(plans or {})
        self._kinds: OrderedDict[str, str] = OrderedDict()
        self._remember = remember
        self._lock = threading.Lock()

    @property
    def encrypts(self) -> bool:
        return self.keys is not None

    def note_kind(self, game_id: str, kind: str) -> None:
        if self.keys is None:
            return
        with self._lock:
            self._kinds[game_id] = kind
            self._kinds.move_to_end(game_id)
            if len(self._kinds) > self._remember:
                self._kinds.popitem(last=False)

    def plan(self, game_id: str) -> Plan:
        with self._lock:
            kind = self._kinds.get(game_id)
            if kind is not None:
                self._kinds.move_to_end(game_id)  # in use: the last to be forgotten
        return EVERYTHING if kind is None else self._plans.get(kind, EVERYTHING)

    # --- writing

    def event_text(self, game_id: str, event: Event) -> str:
        if self.keys is None:
            return orjson.dumps(event.data).decode()
        paths = event_paths(self.plan(game_id), event.kind)
        value = seal_event(self.keys, game_id, event.seq, event.kind, event.data, paths=paths)
        return orjson.dumps(value).decode()

    def snapshot(self, game_id: str, snap: SnapshotWrite) -> SnapshotWrite:
        """The snapshot with its private values sealed, and its checksum the stored text's."""
        if self.keys is None:
            return snap
        state, paths = orjson.loads(snap.state), self.plan(game_id).state
        sealed = seal_snapshot(self.keys, game_id, snap.version, state, snap.checksum, paths=paths)
        if sealed is None:
            return snap
        return replace(snap, state=sealed[0], checksum=sealed[1])

    # --- reading

    def open_event(self, game_id: str, raw: RawEvent) -> RawEvent:
        """The event with its private data back; one that cannot be opened comes back with
        `problem` set, raised (`StateCorrupted`) only where it is decoded (`decode_event`)."""
        if _MARK not in raw.data:
            return raw
        try:
            data = orjson.loads(raw.data)
        except orjson.JSONDecodeError:
            return raw  # `decode_event` says what is wrong with it
        if not is_sealed(data):
            return raw
        try:
            value = open_event(self.keys, game_id, raw.seq, raw.kind, data)
        except SealError as exc:
            return RawEvent(raw.seq, raw.kind, raw.at, raw.data, str(exc))
        # The constructor, not `dataclasses.replace`: this runs for each sealed row of a restore.
        return RawEvent(raw.seq, raw.kind, raw.at, orjson.dumps(value).decode())

    def open_snapshot(self, game_id: str, snap: StoredSnapshot) -> StoredSnapshot:
        """The snapshot as plaintext canonical JSON with its plaintext checksum (which restore
        verifies); one that cannot be opened comes back with `problem` set, so that restore
        passes over it like a checksum mismatch."""
        if _MARK not in snap.state:
            return snap
        try:
            data = orjson.loads(snap.state)
        except orjson.JSONDecodeError:
            return snap
        if not is_sealed(data):
            return snap
        size = len(snap.state.encode())
        try:
            value, inner = open_snapshot(self.keys, game_id, snap.version, snap.checksum, data)
        except SealError as exc:
            return replace(snap, problem=str(exc), stored_bytes=size)
        state = canonical_json(value).decode()
        return StoredSnapshot(snap.version, state, inner, snap.created_at, stored_bytes=size)

    def open_events(self, game_id: str, raws: list[RawEvent]) -> list[RawEvent]:
        return [self.open_event(game_id, raw) for raw in raws]

    def open_log(self, log: StoredLog) -> StoredLog:
        game_id = log.game.game_id
        self.note_kind(game_id, log.game.kind)
        return replace(
            log,
            snapshots=[self.open_snapshot(game_id, snap) for snap in log.snapshots],
            events=self.open_events(game_id, list(log.events)),
        )
