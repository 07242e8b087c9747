"""pokerkit loads in the background (`warmup`): importing the server does not load it, and a hand
that needs it before the warm-up has finished waits for it instead of failing; the warm-up then
prepares the showdown (`ranking.prepare`).

Each check runs in a fresh interpreter: in this one, other tests have long imported pokerkit.
"""

from __future__ import annotations

import json
import subprocess
import sys

IMPORT_THE_SERVER = """
import json, sys
import rejoin_server.app, rejoin_server.cli, rejoin_server.serve  # what a restart imports
import rejoin_server.games.poker
print(json.dumps({"pokerkit": "pokerkit.state" in sys.modules}))
"""

DEAL_WHILE_WARMING_UP = """
import json, sys, threading
from rejoin_server.games.poker import warmup
from rejoin_server.games.poker.hand import Hand
warmup._PREPARE_AFTER_S = 0  # the showdown at once, not after a restart's rush
thread = warmup.start()
again = warmup.start()
# At once, while the warm-up thread is still importing pokerkit (about 250 ms of CPU).
warming_at_deal = thread.is_alive()
hand = Hand([1, 2, 3], [1000, 1000, 1000], 5, 10)
blinds = hand.blinds()
thread.join(timeout=60)
from pokerkit import StandardHighHand
from rejoin_server.games.poker import lazy_lookups, ranking
print(json.dumps({
    "table_built": lazy_lookups.is_built(StandardHighHand.lookup),
    "kinds_noted": len(ranking._ENTRIES),
    "warming_at_deal": warming_at_deal,
    "same_thread": thread is again,
    "daemon": thread.daemon,
    "alive": thread.is_alive(),
    "blinds": blinds,
    "first_dealt": hand.next_hole_seat(),
    "pokerkit": "pokerkit.state" in sys.modules,
}))
"""


def run(script: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr
    loaded: dict[str, object] = json.loads(done.stdout)
    return loaded


def test_importing_the_server_does_not_load_pokerkit() -> None:
    assert run(IMPORT_THE_SERVER) == {"pokerkit": False}


def test_a_hand_dealt_during_the_warm_up_waits_for_it_and_the_showdown_is_prepared() -> None:
    seen = run(DEAL_WHILE_WARMING_UP)
    assert seen == {
        # The showdown prepared too: pokerkit's table built, every kind of hand in it noted.
        "table_built": True,
        "kinds_noted": 7462,
        "warming_at_deal": True,
        "same_thread": True,
        "daemon": True,
        "alive": False,
        "blinds": [[1, "small", 5], [2, "big", 10]],
        "first_dealt": 1,
        "pokerkit": True,
    }
