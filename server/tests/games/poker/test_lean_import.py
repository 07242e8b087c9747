"""`lean_import`: the server process loads pokerkit's rules without its notation and analysis
modules, and anything else of pokerkit is still there for whoever asks, star imports included.

Each check runs in a fresh interpreter: in this one, other tests have long imported pokerkit.
"""

from __future__ import annotations

import json
import subprocess
import sys

LEAN_THEN_WHOLE = """
import json, sys
from rejoin_server.games.poker import lean_import
lean_import.install()  # as `serve` does
from rejoin_server.games.poker.hand import Hand
hand = Hand([1, 2], [1000, 1000], 5, 10)
hand.blinds()
lean = sorted(m for m in sys.modules if m.startswith("pokerkit"))
import pokerkit
public = list(pokerkit.__all__)  # there before the whole package is
history = pokerkit.HandHistory  # not in the core: the whole package loads
from pokerkit import calculate_equities
import pokerkit.analysis
real = {name for name in pokerkit.__all__ if not hasattr(pokerkit, name)}
star = {}
exec("from pokerkit import *", star)
print(json.dumps({
    "public": public == list(pokerkit.__all__),
    "star": sorted(set(pokerkit.__all__) - set(star)),
    "lean": lean,
    "whole": "pokerkit.notation" in sys.modules,
    "missing": sorted(real),
    "same_state": pokerkit.State is sys.modules["pokerkit.state"].State,
    "history": history.__module__,
}))
"""


STAR_FIRST = """
import json, sys
from rejoin_server.games.poker import lean_import
lean_import.install()
names = {}
exec("from pokerkit import *", names)
print(json.dumps({"HandHistory": "HandHistory" in names, "State": "State" in names}))
"""


def run(script: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    seen: dict[str, object] = json.loads(done.stdout)
    return seen


def test_a_star_import_before_anything_else_gets_every_name() -> None:
    assert run(STAR_FIRST) == {"HandHistory": True, "State": True}


def test_the_table_loads_the_core_and_the_rest_loads_on_demand() -> None:
    seen = run(LEAN_THEN_WHOLE)
    assert seen["lean"] == [
        "pokerkit",
        "pokerkit.games",
        "pokerkit.hands",
        "pokerkit.lookups",
        "pokerkit.state",
        "pokerkit.utilities",
    ]
    assert seen["whole"] is True
    assert seen["public"] is True
    assert seen["star"] == []
    assert seen["missing"] == []
    assert seen["same_state"] is True
    assert seen["history"] == "pokerkit.notation"
