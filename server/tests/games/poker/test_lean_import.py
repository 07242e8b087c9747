"""`lean_import`: the table loads pokerkit's rules without its notation and analysis modules, and
anything else of pokerkit is still there for whoever asks.

Each check runs in a fresh interpreter: in this one, other tests have long imported pokerkit.
"""

from __future__ import annotations

import json
import subprocess
import sys

LEAN_THEN_WHOLE = """
import json, sys
import rejoin_server.games.poker  # installs the hooks
from rejoin_server.games.poker.hand import Hand
hand = Hand([1, 2], [1000, 1000], 5, 10)
hand.blinds()
lean = sorted(m for m in sys.modules if m.startswith("pokerkit"))
import pokerkit
history = pokerkit.HandHistory  # not in the core: the whole package loads
from pokerkit import calculate_equities
import pokerkit.analysis
real = {name for name in pokerkit.__all__ if not hasattr(pokerkit, name)}
print(json.dumps({
    "lean": lean,
    "whole": "pokerkit.notation" in sys.modules,
    "missing": sorted(real),
    "same_state": pokerkit.State is sys.modules["pokerkit.state"].State,
    "history": history.__module__,
}))
"""


def test_the_table_loads_the_core_and_the_rest_loads_on_demand() -> None:
    done = subprocess.run(
        [sys.executable, "-c", LEAN_THEN_WHOLE],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["lean"] == [
        "pokerkit",
        "pokerkit.games",
        "pokerkit.hands",
        "pokerkit.lookups",
        "pokerkit.state",
        "pokerkit.utilities",
    ]
    assert seen["whole"] is True
    assert seen["missing"] == []
    assert seen["same_state"] is True
    assert seen["history"] == "pokerkit.notation"
