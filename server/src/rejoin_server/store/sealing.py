"""Sealing: a game's private data (`PrivateData`) encrypted at rest, the rest left plain JSON.

The values a game declares private are taken out of the JSON (left as null in place) and stored,
encrypted, in one reserved top-level key:

    "$sealed": "<key id>.<base64url(nonce ‖ AES-256-GCM ciphertext and tag)>"

whose plaintext is canonical JSON `{JSON Pointer: value}` (`store.sealpaths`). The associated
data binds the ciphertext to its row, `rejoin-sealed\\0<event|snapshot>\\0<game id>\\0<seq or
version>`: moved to another row it does not decrypt. Opening needs no declaration (the plaintext
names its paths), so a row reads back whatever the engine declares today. A row without the key
(stored before keys were set, or by a server without any) reads as it is.

A snapshot's checksum stays the SHA-256 of its plaintext canonical JSON: it still proves "this is
the state at version V", checked after opening.
"""

from __future__ import annotations

import base64
import os
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import orjson

from rejoin_server.errors import StateCorrupted
from rejoin_server.games.base import Event, PrivateData
from rejoin_server.store.base import RawEvent, SnapshotWrite, StoredLog, StoredSnapshot
from rejoin_server.store.codec import canonical_json
from rejoin_server.store.sealpaths import WHOLE, Path, find, keys_of, parse, pointer, put

if TYPE_CHECKING:
    from rejoin_server.store.datakeys import DataKeys

SEALED = "$sealed"
_MARK = f'"{SEALED}"'  # in a row's text only if it may be sealed: the rest is not parsed
_NONCE = 12
# Games whose kind the sealer remembers (noted at creation and at load); one it does not know
# is sealed whole, which is safe, only less queryable.
_REMEMBERED = 100_000


class SealError(ValueError):
    """A sealed value that cannot be opened: unknown key, tampered, moved, or malformed."""


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


def aad(row: str, game_id: str, number: int) -> bytes:
    return f"rejoin-sealed\x00{row}\x00{game_id}\x00{number}".encode()


def seal(keys: DataKeys, associated: bytes, public: Any, private: Mapping[str, Any]) -> Any:
    nonce = os.urandom(_NONCE)
    box = keys.newest.aead.encrypt(nonce, canonical_json(private), associated)
    token = base64.urlsafe_b64encode(nonce + box).rstrip(b"=").decode()
    return {**public, SEALED: f"{keys.newest.id}.{token}"}


def sealed_by(data: Mapping[str, Any]) -> str | None:
    """The key id a row's data is sealed with, None when it is not sealed."""
    value = data.get(SEALED)
    return value.partition(".")[0] if isinstance(value, str) else None


def unseal(keys: DataKeys | None, associated: bytes, data: dict[str, Any]) -> Any:
    """`data` (a parsed row, changed in place) with its sealed values back. SealError."""
    private = _open(keys, associated, data.pop(SEALED))
    value: Any = data
    try:
        for where, item in private.items():
            value = put(value, keys_of(where), item)
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise SealError(f"a sealed value has no place in the row ({exc!r})") from None
    return value


def reseal(keys: DataKeys, associated: bytes, text: str, paths: Iterable[Path]) -> str | None:
    """A row's JSON sealed under the newest key, or None when it is already (or has nothing
    private): a row sealed with an older key keeps its public part and its private values; a
    row in the clear is split by `paths`. SealError for a sealed row that does not open."""
    data = orjson.loads(text)
    if not isinstance(data, dict):
        return None
    if SEALED in data and isinstance(data[SEALED], str):
        if sealed_by(data) == keys.newest.id:
            return None
        private = _open(keys, associated, data.pop(SEALED))
        return orjson.dumps(seal(keys, associated, data, private)).decode()
    public, private = split(data, paths)
    if not private:
        return None
    return orjson.dumps(seal(keys, associated, public, private)).decode()


def _open(keys: DataKeys | None, associated: bytes, envelope: object) -> dict[str, Any]:
    if not isinstance(envelope, str) or "." not in envelope:
        raise SealError(f"its {SEALED} value is not <key id>.<ciphertext>")
    kid, _, token = envelope.partition(".")
    key = None if keys is None else keys.get(kid)
    if key is None:
        raise SealError(f"it is encrypted with data key {kid}, which this server was not given")
    try:
        box = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        plain = key.aead.decrypt(box[:_NONCE], box[_NONCE:], associated)
        private = orjson.loads(plain)
    except Exception as exc:  # InvalidTag, bad base64, short box: all "does not decrypt"
        raise SealError(
            f"its private data does not decrypt with data key {kid} (tampered with, or "
            f"moved from another row: {type(exc).__name__})"
        ) from None
    if not isinstance(private, dict):
        raise SealError("its sealed plaintext is not a JSON object")
    return private


class Sealer:
    """A store's seal: `keys` (None: private data is written in the clear, and only rows
    without a seal can be read) and what each kind of game declares private."""

    def __init__(self, keys: DataKeys | None = None, plans: Mapping[str, Plan] | None = None):
        self.keys = keys
        self._plans = dict(plans or {})
        self._kinds: OrderedDict[str, str] = OrderedDict()

    @property
    def encrypts(self) -> bool:
        return self.keys is not None

    def note_kind(self, game_id: str, kind: str) -> None:
        if self.keys is None:
            return
        self._kinds[game_id] = kind
        self._kinds.move_to_end(game_id)
        if len(self._kinds) > _REMEMBERED:
            self._kinds.popitem(last=False)

    def plan(self, game_id: str) -> Plan:
        kind = self._kinds.get(game_id)
        return EVERYTHING if kind is None else self._plans.get(kind, EVERYTHING)

    # --- writing

    def event_text(self, game_id: str, event: Event) -> str:
        if self.keys is None:
            return orjson.dumps(event.data).decode()
        public, private = split(event.data, event_paths(self.plan(game_id), event.kind))
        if private:
            public = seal(self.keys, aad("event", game_id, event.seq), public, private)
        return orjson.dumps(public).decode()

    def snapshot(self, game_id: str, snap: SnapshotWrite) -> SnapshotWrite:
        """The snapshot with its private values sealed; its checksum stays the plaintext's."""
        if self.keys is None:
            return snap
        public, private = split(orjson.loads(snap.state), self.plan(game_id).state)
        if not private:
            return snap
        sealed = seal(self.keys, aad("snapshot", game_id, snap.version), public, private)
        return replace(snap, state=canonical_json(sealed))

    # --- reading

    def open_event(self, game_id: str, raw: RawEvent) -> RawEvent:
        """The event with its private data back; `StateCorrupted` when it cannot be opened."""
        if _MARK not in raw.data:
            return raw
        try:
            data = orjson.loads(raw.data)
        except orjson.JSONDecodeError:
            return raw  # `decode_event` says what is wrong with it
        if not isinstance(data, dict) or SEALED not in data:
            return raw
        try:
            value = unseal(self.keys, aad("event", game_id, raw.seq), data)
        except SealError as exc:
            raise StateCorrupted(game_id, raw.seq, str(exc)) from None
        # The constructor, not `dataclasses.replace`: this runs for each sealed row of a restore.
        return RawEvent(raw.seq, raw.kind, raw.at, orjson.dumps(value).decode())

    def open_snapshot(self, game_id: str, snap: StoredSnapshot) -> StoredSnapshot:
        """The snapshot as plaintext canonical JSON; one that cannot be opened comes back with
        `problem` set, so that restore passes over it like a checksum mismatch."""
        if _MARK not in snap.state:
            return snap
        try:
            data = orjson.loads(snap.state)
        except orjson.JSONDecodeError:
            return snap
        if not isinstance(data, dict) or SEALED not in data:
            return snap
        try:
            value = unseal(self.keys, aad("snapshot", game_id, snap.version), data)
        except SealError as exc:
            return replace(snap, problem=str(exc))
        state = canonical_json(value).decode()
        return StoredSnapshot(snap.version, state, snap.checksum, snap.created_at)

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
