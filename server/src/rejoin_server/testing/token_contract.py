"""The contract of a store's reconnect tokens, seat claims, signing keys and action ids. Part of
`testing.store_contract.StoreContract`; the races between several connections or servers are the
SQL store's own tests."""

from __future__ import annotations

import asyncio

import pytest

from rejoin_server.store.base import Deleted, GameStore, TokenRow, TokenUse
from rejoin_server.testing.store_samples import (
    NOW,
    TTL,
    claims_of,
    events,
    jti,
    new_game,
    token,
)


class TokenContract:
    """Tests of a `store` fixture."""

    async def test_an_inserted_token_reads_back(self, store: GameStore) -> None:
        row = token()
        await store.insert_token(row)
        assert await store.get_token(row.jti) == row
        assert await store.get_token(jti()) is None

    async def test_a_jti_is_stored_once(self, store: GameStore) -> None:
        row = token()
        await store.insert_token(row)
        with pytest.raises(ValueError, match="already stored"):
            await store.insert_token(TokenRow(row.jti, "other", "p9", NOW + 1, NOW + 2))
        assert await store.get_token(row.jti) == row

    async def test_consuming_wins_once_and_stores_the_replacement(self, store: GameStore) -> None:
        first = token()
        await store.insert_token(first)
        fresh = token(issued_at=NOW + 5)
        use = await store.consume_token(
            first.jti, client_id="c1", now_ms=NOW + 5, replacement=fresh
        )
        used = TokenRow(
            first.jti,
            first.game_id,
            first.player_id,
            first.issued_at,
            first.expires_at,
            consumed_at=NOW + 5,
            client_id="c1",
            next_jti=fresh.jti,
        )
        assert use == TokenUse(won=True, row=used)
        assert await store.get_token(first.jti) == used
        assert await store.get_token(fresh.jti) == fresh

        # Again, by anyone (the same client included): lost, with the row as the winner left it, and
        # no second replacement stored.
        other = token()
        for client in ("c1", "c2"):
            again = await store.consume_token(
                first.jti, client_id=client, now_ms=NOW + 9, replacement=other
            )
            assert again == TokenUse(won=False, row=used)
        assert await store.get_token(other.jti) is None

        # The replacement is a token like any other.
        chained = await store.consume_token(
            fresh.jti, client_id="c2", now_ms=NOW + 10, replacement=other
        )
        assert chained.won
        assert chained.row is not None
        assert (chained.row.client_id, chained.row.next_jti) == ("c2", other.jti)

    async def test_consuming_an_unknown_token_finds_nothing(self, store: GameStore) -> None:
        replacement = token()
        use = await store.consume_token(jti(), client_id="c1", now_ms=NOW, replacement=replacement)
        assert use == TokenUse(won=False, row=None)
        assert await store.get_token(replacement.jti) is None

    async def test_a_replacement_that_exists_consumes_nothing(self, store: GameStore) -> None:
        game_id = await new_game(store)
        first, taken = token(game_id), token(game_id)
        await store.insert_token(first, claim="joined")
        await store.insert_token(taken)
        with pytest.raises(ValueError, match="already stored"):
            await store.consume_token(
                first.jti, client_id="c1", now_ms=NOW, replacement=taken, claim="never"
            )
        assert await store.get_token(first.jti) == first
        assert await store.get_token(taken.jti) == taken
        assert await claims_of(store, game_id) == {"p1": "joined"}  # nothing of it was written

    async def test_of_twenty_concurrent_consumers_exactly_one_wins(self, store: GameStore) -> None:
        """Batched in one transaction on a SQL store; each claims the seat: the winner's claim is it."""
        game_id = await new_game(store)
        first = token(game_id)
        await store.insert_token(first, claim="joined")
        replacements = [token(game_id) for _ in range(20)]
        uses = await asyncio.gather(
            *(
                store.consume_token(
                    first.jti, client_id=f"c{i}", now_ms=NOW + i, replacement=r, claim=f"claim-{i}"
                )
                for i, r in enumerate(replacements)
            )
        )
        winners = [i for i, use in enumerate(uses) if use.won]
        assert len(winners) == 1
        won = uses[winners[0]].row
        assert won is not None
        assert (won.client_id, won.next_jti) == (f"c{winners[0]}", replacements[winners[0]].jti)
        assert all(use.row == won for use in uses)
        stored = [await store.get_token(r.jti) for r in replacements]
        assert [r is not None for r in stored].count(True) == 1
        assert await claims_of(store, game_id) == {"p1": f"claim-{winners[0]}"}

    async def test_expired_tokens_are_deleted(self, store: GameStore) -> None:
        old, edge, fresh = (
            token(issued_at=NOW),
            token(issued_at=NOW + 10),
            token(issued_at=NOW + 20),
        )
        for row in (old, edge, fresh):
            await store.insert_token(row)
        assert await store.delete_expired_tokens(edge.expires_at) == 1  # strictly before
        assert await store.get_token(old.jti) is None
        assert await store.get_token(edge.jti) == edge
        assert await store.delete_expired_tokens(NOW + TTL + 1000) == 2
        assert await store.delete_expired_tokens(NOW + TTL + 1000) == 0

    async def test_deleting_a_game_deletes_its_tokens(self, store: GameStore) -> None:
        keep, drop = await new_game(store), await new_game(store)
        await store.append(drop, events(1, 2), status="playing", now_ms=NOW)
        kept = token(keep)
        await store.insert_token(kept)
        dropped = [token(drop, f"p{i}") for i in range(3)]
        for row in dropped:
            await store.insert_token(row)
        deleted = await store.delete_game(drop)
        assert (deleted.events, deleted.snapshots, deleted.games, deleted.tokens) == (2, 0, 1, 3)
        assert all([await store.get_token(row.jti) is None for row in dropped])
        assert await store.get_token(kept.jti) == kept
        assert await store.delete_game(drop) == Deleted(events=0, snapshots=0, games=0, tokens=0)

    async def test_eviction_deletes_the_tokens_of_evicted_games(self, store: GameStore) -> None:
        old, quota, playing = await new_game(store), await new_game(store), await new_game(store)
        await store.append(old, events(1, 1), status="completed", now_ms=NOW + 100)
        await store.append(quota, events(1, 1), status="completed", now_ms=NOW + 300)
        await store.append(playing, events(1, 1), status="playing", now_ms=NOW)
        rows = {g: token(g) for g in (old, quota, playing)}
        for row in rows.values():
            await store.insert_token(row)
        assert await store.evict_completed(NOW + 200) == [old]
        assert await store.get_token(rows[old].jti) is None
        assert await store.evict_for_quota(max_games=1, max_bytes=None) == [quota]
        assert await store.get_token(rows[quota].jti) is None
        assert await store.get_token(rows[playing].jti) == rows[playing]

    async def test_the_first_candidate_key_is_kept(self, store: GameStore) -> None:
        assert await store.signing_keys("first-secret", NOW) == ["first-secret"]
        assert await store.signing_keys("second-secret", NOW + 1) == ["first-secret"]

    async def test_no_candidate_only_reads(self, store: GameStore) -> None:
        assert await store.signing_keys(None, NOW) == []
        assert await store.signing_keys("kept", NOW + 1) == ["kept"]
        assert await store.signing_keys(None, NOW + 2) == ["kept"]

    async def test_racing_servers_keep_one_candidate(self, store: GameStore) -> None:
        answers = await asyncio.gather(*(store.signing_keys(f"k{i}", NOW) for i in range(10)))
        assert len({tuple(a) for a in answers}) == 1
        assert len(answers[0]) == 1

    async def test_an_action_id_is_stored_on_the_last_event_of_its_append(
        self, store: GameStore
    ) -> None:
        game_id = await new_game(store)
        await store.append(game_id, events(1, 3), status="playing", now_ms=NOW, action_id="a1")
        await store.append(game_id, events(4, 1), status="playing", now_ms=NOW)  # a timeout, say
        await store.append(game_id, events(5, 2), status="playing", now_ms=NOW, action_id="a2")
        await store.append(game_id, [], status="playing", now_ms=NOW, action_id="ignored")
        assert await store.recent_actions(game_id) == {"a1": 3, "a2": 6}
        assert await store.recent_actions(game_id, limit=1) == {"a2": 6}
        assert await store.recent_actions(game_id, limit=0) == {}
        assert await store.recent_actions("nope") == {}
        # Loading a game is unchanged by them.
        assert [e.seq for e in (await store.load(game_id)).events] == [1, 2, 3, 4, 5, 6]

    async def test_recent_actions_are_the_newest_ones(self, store: GameStore) -> None:
        game_id = await new_game(store)
        for seq in range(1, 31):
            await store.append(
                game_id, events(seq, 1), status="playing", now_ms=NOW, action_id=f"a{seq}"
            )
        assert await store.recent_actions(game_id, limit=5) == {f"a{s}": s for s in range(26, 31)}

    async def test_action_ids_of_many_games_appended_together(self, store: GameStore) -> None:
        game_ids = [await new_game(store) for _ in range(8)]
        appends = [
            store.append(
                g, events(first, 2), status="playing", now_ms=NOW, action_id=f"{g}:{first}"
            )
            for first in (1, 3, 5)
            for g in game_ids
        ]
        await asyncio.gather(*appends)
        for g in game_ids:
            assert await store.recent_actions(g) == {f"{g}:1": 2, f"{g}:3": 4, f"{g}:5": 6}

    async def test_a_claim_is_set_with_a_token_and_changed_only_by_a_winning_use(
        self,
        store: GameStore,
    ) -> None:
        game_id = await new_game(store)
        first = token(game_id, "p1")
        await store.insert_token(first, claim="c-join")
        await store.insert_token(token(game_id, "p2"), claim="c-other")
        assert await claims_of(store, game_id) == {"p1": "c-join", "p2": "c-other"}

        fresh = token(game_id, "p1", issued_at=NOW + 5)
        won = await store.consume_token(
            first.jti, client_id="c1", now_ms=NOW + 5, replacement=fresh, claim="c-resumed"
        )
        assert won.won
        assert (await claims_of(store, game_id))["p1"] == "c-resumed"
        lost = await store.consume_token(
            first.jti, client_id="c2", now_ms=NOW + 6, replacement=token(game_id, "p1"), claim="c-x"
        )
        assert not lost.won
        assert (await claims_of(store, game_id))["p1"] == "c-resumed"  # a loser claims nothing
        rotated = await store.consume_token(
            fresh.jti, client_id="c1", now_ms=NOW + 7, replacement=token(game_id, "p1")
        )
        assert rotated.won
        assert (await claims_of(store, game_id))["p1"] == "c-resumed"  # no claim: kept
        await store.insert_token(token(game_id, "p1"))  # a token without a claim keeps it too
        assert await claims_of(store, game_id) == {"p1": "c-resumed", "p2": "c-other"}
        assert await claims_of(store, await new_game(store)) == {}

    async def test_claims_go_with_their_game(self, store: GameStore) -> None:
        keep, drop, old = await new_game(store), await new_game(store), await new_game(store)
        for game_id in (keep, drop, old):
            await store.insert_token(token(game_id, "p1"), claim=f"claim-{game_id}")
        await store.delete_game(drop)
        await store.append(old, events(1, 1), status="completed", now_ms=NOW)
        assert await store.evict_completed(NOW + 1) == [old]
        assert await claims_of(store, drop) == {}
        assert await claims_of(store, old) == {}
        assert await claims_of(store, keep) == {"p1": f"claim-{keep}"}

    async def test_the_current_token_is_the_newest_unused_unexpired_one(
        self, store: GameStore
    ) -> None:
        game_id = await new_game(store)
        assert await store.current_token(game_id, "p1", NOW) is None
        older = token(game_id, "p1", issued_at=NOW)
        newer = token(game_id, "p1", issued_at=NOW + 10)
        await store.insert_token(older)
        await store.insert_token(newer)
        await store.insert_token(token(game_id, "p2", issued_at=NOW + 20))
        assert await store.current_token(game_id, "p1", NOW + 11) == newer
        successor = token(game_id, "p1", issued_at=NOW + 12)
        await store.consume_token(newer.jti, client_id="c", now_ms=NOW + 12, replacement=successor)
        assert await store.current_token(game_id, "p1", NOW + 13) == successor
        assert await store.current_token(game_id, "p1", successor.expires_at) is None  # expired

    async def test_stored_keys_are_retired_once_and_back_in_service_on_demand(
        self,
        store: GameStore,
    ) -> None:
        await store.signing_keys("generated", NOW)
        assert await store.retire_signing_keys(NOW + 10) == NOW + 10
        assert await store.retire_signing_keys(NOW + 99) == NOW + 10  # the first time is kept
        assert await store.retire_signing_keys(None) is None
        assert await store.retire_signing_keys(NOW + 500) == NOW + 500
