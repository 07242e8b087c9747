"""Player names on a real server: hidden characters and names with nothing visible are refused
with what to change; names that need joiners are seated, stored and read back after a kill -9."""

from __future__ import annotations

from rejoin_testkit.api import Api
from rejoin_testkit.processes import ServerProcess
from rejoin_testkit.tables import Table

EMOJI = "\U0001f469\u200d\U0001f4bb"  # woman technologist: two emoji joined by a ZWJ
PERSIAN = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # a word that needs a ZWNJ


def test_names_hidden_characters_refused_joiners_kept_across_a_kill(
    server: ServerProcess, api: Api
) -> None:
    table = Table.create(api, seats=4, actionTimeoutMs=600_000, autoNextHand=False)
    for name in ("\u202eevil", "\u200b\u200b", "\ufeff", "Ann\u0085", "\u200d \u200c"):
        error = api.join(table.game_id, name).error("invalid_request")
        assert "`name`" in error["message"], error
        assert "remove them" in error["message"] or "others can read" in error["message"], error

    emoji = table.join(EMOJI)
    persian = table.join(PERSIAN)
    names = {s["playerId"]: s["name"] for s in emoji.view()["seats"]}
    assert names == {emoji.player_id: EMOJI, persian.player_id: PERSIAN}

    server.kill9()
    server.restart()
    names = {s["playerId"]: s["name"] for s in persian.view()["seats"]}
    assert names == {emoji.player_id: EMOJI, persian.player_id: PERSIAN}
