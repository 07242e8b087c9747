"""An in-memory `GameStore` for fast unit tests. It keeps nothing across processes: never use it
where durability is the point. It passes the same contract suite as the SQL stores.

The server uses one beside its real store for the reconnect token rows of the games kept in
memory only (`GameHost.memory_tokens`): those must not outlive the process any more than their
games."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from rejoin_server.errors import Fenced, GameNotFound, SeqConflict
from rejoin_server.games.base import GameStatus
from rejoin_server.store.base import (
    DEFAULT_KEEP_SNAPSHOTS,
    DEFAULT_KEY_ID,
    AppendWrite,
    Claim,
    DataKeyRow,
    Deleted,
    GameRecord,
    GameStore,
    RawEvent,
    Seal,
    StoredLog,
    StoredSnapshot,
    TokenClaimUse,
    TokenRow,
    TokenUse,
    Usage,
    duplicate_token,
    first_action_seqs,
)
from rejoin_server.store.quota import CompletedGame, quota_victims
from rejoin_server.store.sealing import Sealer


@dataclass(slots=True)
class _Game:
    record: GameRecord
    events: dict[int, RawEvent] = field(default_factory=dict)
    snapshots: dict[int, StoredSnapshot] = field(default_factory=dict)
    events_bytes: int = 0
    actions: dict[int, str] = field(default_factory=dict)  # seq -> the action_id it carries

    def bytes(self) -> int:
        return self.events_bytes + sum(len(s.state.encode()) for s in self.snapshots.values())


class MemoryGameStore(GameStore):
    def __init__(self, *, keep_snapshots: int = DEFAULT_KEEP_SNAPSHOTS) -> None:
        self._keep = keep_snapshots
        self.sealer: Seal = Sealer()  # in the clear until the server sets its own
        self._games: dict[str, _Game] = {}
        self._tokens: dict[str, TokenRow] = {}
        self._keys: list[tuple[int, str, str]] = []  # (created_at, key_id, secret)
        self._keys_retired_at: int | None = None
        self._data_keys: dict[str, DataKeyRow] = {}
        # (game_id, player_id) -> the claim on that seat; deleted with the game, like tokens.
        self._claims: dict[tuple[str, str], str] = {}

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def _insert_game(self, record: GameRecord) -> None:
        if record.game_id in self._games:
            raise ValueError(f"game {record.game_id!r} already exists")
        self._games[record.game_id] = _Game(record)

    async def _write_append(self, write: AppendWrite) -> None:
        game = self._games.get(write.game_id)
        if game is None:
            raise GameNotFound(write.game_id)
        events, prev = write.events, write.prev_seq
        if write.owner_epoch is not None and game.record.owner_epoch != write.owner_epoch:
            raise Fenced(write.game_id, prev + 1)
        if game.record.last_seq != prev or any(e.seq in game.events for e in events):
            raise SeqConflict(write.game_id, prev + 1)
        for e, data in zip(events, write.data, strict=True):
            game.events[e.seq] = RawEvent(e.seq, e.kind, e.at, data)
            game.events_bytes += len(data)
        if events and write.action_id is not None:
            game.actions[events[-1].seq] = write.action_id
        completed_at = game.record.completed_at
        if write.status != "completed":
            completed_at = None  # a rollback reopened it (or it was never completed)
        elif completed_at is None:
            completed_at = write.now_ms
        game.record = replace(
            game.record,
            status=write.status,
            updated_at=write.now_ms,
            completed_at=completed_at,
            last_seq=events[-1].seq if events else prev,
            history=game.record.history if write.history is None else write.history,
        )
        if write.seating is not None:
            created_at = game.record.created_at
            game.record = replace(
                game.record,
                seating=dict(write.seating.data),
                open_at=created_at if write.seating.open else 0,
            )
        snapshot = write.snapshot
        if snapshot is not None:
            game.snapshots[snapshot.version] = StoredSnapshot(
                snapshot.version, snapshot.state.decode(), snapshot.checksum, write.now_ms
            )
            for version in sorted(game.snapshots)[: -self._keep]:
                del game.snapshots[version]

    async def claim_game(self, game_id: str, node: str, *, lease_ms: int) -> Claim:
        # One process: every other owner is gone (a node restarted in the same process).
        game = self._games.get(game_id)
        if game is None:
            raise GameNotFound(game_id)
        previous = game.record.owner
        epoch = game.record.owner_epoch + 1
        game.record = replace(game.record, owner=node, owner_epoch=epoch)
        return Claim(epoch, previous)

    async def release_game(
        self, game_id: str, node: str, owner_epoch: int | None, *, to: str | None = None
    ) -> bool:
        game = self._games.get(game_id)
        if game is None or game.record.owner != node:
            return False
        if owner_epoch is not None and game.record.owner_epoch != owner_epoch:
            return False
        game.record = replace(game.record, owner=to)
        return True

    async def load(self, game_id: str) -> StoredLog:
        game = self._games.get(game_id)
        if game is None:
            raise GameNotFound(game_id)
        snapshots = [game.snapshots[v] for v in sorted(game.snapshots, reverse=True)]
        after = snapshots[0].version if snapshots else 0
        claims = {
            player: claim for (game_of, player), claim in self._claims.items() if game_of == game_id
        }
        log = StoredLog(game.record, snapshots, self._events(game_id, after, None), claims)
        return self.sealer.open_log(log)

    async def read_events(
        self, game_id: str, after_seq: int, limit: int | None = None
    ) -> list[RawEvent]:
        return self.sealer.open_events(game_id, self._events(game_id, after_seq, limit))

    def _events(self, game_id: str, after_seq: int, limit: int | None) -> list[RawEvent]:
        game = self._games.get(game_id)
        if game is None:
            return []
        found = [game.events[s] for s in sorted(game.events) if s > after_seq]
        return found if limit is None else found[:limit]

    async def get_game(self, game_id: str) -> GameRecord | None:
        game = self._games.get(game_id)
        return None if game is None else game.record

    async def list_games(self, status: GameStatus | None = None) -> list[GameRecord]:
        records = [g.record for g in self._games.values()]
        records = [r for r in records if status is None or r.status == status]
        return sorted(records, key=lambda r: (r.created_at, r.game_id))

    async def open_games(self, limit: int) -> list[GameRecord]:
        records = [g.record for g in self._games.values() if (g.record.open_at or 0) > 0]
        records.sort(key=lambda r: (r.open_at, r.game_id), reverse=True)
        return records[:limit]

    async def _recent_actions(self, game_id: str, limit: int) -> dict[str, int]:
        game = self._games.get(game_id)
        if game is None:
            return {}
        return first_action_seqs((seq, game.actions[seq]) for seq in sorted(game.actions)[-limit:])

    async def delete_game(self, game_id: str) -> Deleted:
        tokens = self._delete_tokens([game_id])
        game = self._games.pop(game_id, None)
        if game is None:
            return Deleted(events=0, snapshots=0, games=0, tokens=tokens)
        return Deleted(
            events=len(game.events), snapshots=len(game.snapshots), games=1, tokens=tokens
        )

    def _delete_tokens(self, game_ids: list[str]) -> int:
        """Delete the tokens and seat claims of these games; return how many tokens."""
        doomed = set(game_ids)
        jtis = [jti for jti, row in self._tokens.items() if row.game_id in doomed]
        for jti in jtis:
            del self._tokens[jti]
        for seat in [seat for seat in self._claims if seat[0] in doomed]:
            del self._claims[seat]
        return len(jtis)

    async def evict_completed(self, completed_before_ms: int) -> list[str]:
        victims = [
            gid
            for gid, g in self._games.items()
            if g.record.status == "completed"
            and g.record.completed_at is not None
            and g.record.completed_at < completed_before_ms
        ]
        for gid in victims:
            del self._games[gid]
        self._delete_tokens(victims)
        return victims

    async def usage(self) -> Usage:
        games = self._games.values()
        return Usage(
            len(games), sum(g.bytes() for g in games), sum(len(g.snapshots) for g in games)
        )

    async def evict_for_quota(self, max_games: int | None, max_bytes: int | None) -> list[str]:
        usage = await self.usage()
        victims = quota_victims(
            usage.games,
            usage.bytes,
            [
                CompletedGame(g.record.game_id, g.record.completed_at or 0, g.bytes())
                for g in self._games.values()
                if g.record.status == "completed"
            ],
            max_games,
            max_bytes,
        )
        for gid in victims:
            del self._games[gid]
        self._delete_tokens(victims)
        return victims

    async def insert_token(self, row: TokenRow, *, claim: str | None = None) -> None:
        if row.jti in self._tokens:
            raise duplicate_token(row.jti)
        self._tokens[row.jti] = row
        if claim is not None:
            self._claims[(row.game_id, row.player_id)] = claim

    async def _consume_token(self, use: TokenClaimUse) -> TokenUse:
        # No await inside: on one event loop this runs whole, which is the atomicity it needs.
        row = self._tokens.get(use.jti)
        if row is None or row.consumed_at is not None:
            return TokenUse(won=False, row=row)
        replacement = use.replacement
        if replacement.jti in self._tokens:
            raise duplicate_token(replacement.jti)
        used = replace(
            row, consumed_at=use.now_ms, client_id=use.client_id, next_jti=replacement.jti
        )
        self._tokens[use.jti] = used
        self._tokens[replacement.jti] = replacement
        if use.claim is not None:
            self._claims[(replacement.game_id, replacement.player_id)] = use.claim
        return TokenUse(won=True, row=used)

    async def get_token(self, jti: str) -> TokenRow | None:
        return self._tokens.get(jti)

    async def current_token(self, game_id: str, player_id: str, now_ms: int) -> TokenRow | None:
        live = [
            row
            for row in self._tokens.values()
            if row.game_id == game_id
            and row.player_id == player_id
            and row.consumed_at is None
            and row.expires_at > now_ms
        ]
        return max(live, key=lambda row: (row.issued_at, row.jti), default=None)

    async def delete_expired_tokens(self, before_ms: int) -> int:
        expired = [jti for jti, row in self._tokens.items() if row.expires_at < before_ms]
        for jti in expired:
            del self._tokens[jti]
        return len(expired)

    async def signing_keys(self, candidate: str | None, now_ms: int) -> list[str]:
        if not self._keys and candidate is not None:
            self._keys.append((now_ms, DEFAULT_KEY_ID, candidate))
        return [secret for _, _, secret in sorted(self._keys, reverse=True)]

    async def data_keys(self) -> list[DataKeyRow]:
        return sorted(self._data_keys.values(), key=lambda row: (row.created_at, row.key_id))

    async def register_data_key(self, key_id: str, now_ms: int) -> None:
        row = self._data_keys.get(key_id)
        created = now_ms if row is None else row.created_at
        self._data_keys[key_id] = DataKeyRow(key_id, created, None, now_ms)

    async def retire_data_keys(self, key_ids: Sequence[str], now_ms: int) -> int:
        count = 0
        for key_id in key_ids:
            row = self._data_keys.get(key_id)
            if row is not None and row.retired_at is None:
                self._data_keys[key_id] = replace(row, retired_at=now_ms)
                count += 1
        return count

    async def retire_signing_keys(self, since_ms: int | None) -> int | None:
        if since_ms is None:
            self._keys_retired_at = None
        elif self._keys_retired_at is None:
            self._keys_retired_at = since_ms
        return self._keys_retired_at
