"""pokerkit imported through `lazy_lookups`: no variant's hand table is built at import, the
hands it ranks rank exactly as with pokerkit imported as it is, and a pokerkit release the hook
was not checked against is left alone."""

from __future__ import annotations

import json
import subprocess
import sys

from rejoin_server.games.poker import lazy_lookups

RANK_HANDS = """
import json, random, sys
if sys.argv[1] == "lazy":
    import rejoin_server.games.poker  # installs the hook before pokerkit loads
from pokerkit import StandardHighHand
rng = random.Random(7)
deck = [r + s for r in "23456789TJQKA" for s in "cdhs"]
hands = []
for _ in range(300):
    cards = rng.sample(deck, 7)
    hands.append(StandardHighHand.from_game("".join(cards[:2]), "".join(cards[2:])))
order = sorted(range(len(hands)), key=lambda i: hands[i])
print(json.dumps({"order": order, "labels": [str(h) for h in hands]}))
"""

BUILT_AFTER_IMPORT = """
import json
import rejoin_server.app  # what the server imports
import pokerkit.hands as hands
from rejoin_server.games.poker.lazy_lookups import is_built
lookups = {  # each table once, named by the class that made it
    name: vars(cls)["lookup"] for name, cls in vars(hands).items()
    if isinstance(cls, type) and "lookup" in vars(cls)
}
before = sorted(name for name, lookup in lookups.items() if is_built(lookup))
hands.StandardHighHand.from_game("AsKs", "QsJsTs2c3d")
after = sorted(name for name, lookup in lookups.items() if is_built(lookup))
print(json.dumps({"count": len(lookups), "before": before, "after": after}))
"""


def run(script: str, *args: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, check=True
    )
    loaded: dict[str, object] = json.loads(done.stdout)
    return loaded


def test_importing_the_server_builds_no_hand_table_and_a_showdown_builds_only_its_own() -> None:
    seen = run(BUILT_AFTER_IMPORT)
    assert isinstance(seen["count"], int)
    assert seen["count"] >= 8  # every variant's hand class was looked at
    assert seen["before"] == []
    assert seen["after"] == ["StandardHand"]  # the table StandardHighHand inherits


def test_hands_rank_exactly_as_with_pokerkit_imported_as_it_is() -> None:
    assert run(RANK_HANDS, "lazy") == run(RANK_HANDS, "eager")


UNCHECKED_RELEASE = """
import json
import rejoin_server.games.poker.lazy_lookups as lazy_lookups
lazy_lookups.CHECKED_RELEASE = "0.0.0"  # as if the installed pokerkit were another release
import rejoin_server.app
import pokerkit.hands as hands
lookups = [vars(c)["lookup"] for c in vars(hands).values() if isinstance(c, type) and "lookup" in vars(c)]
print(json.dumps({"unbuilt": sum(not lazy_lookups.is_built(lookup) for lookup in lookups)}))
"""


def test_another_pokerkit_release_is_imported_as_it_is() -> None:
    """The hook acts only on the release it was checked against: any other loads unpatched."""
    assert run(UNCHECKED_RELEASE) == {"unbuilt": 0}


def test_the_installed_pokerkit_is_the_release_the_hook_was_checked_against() -> None:
    """Moving pokerkit in the lock file without reading its `Lookup` again fails here, not in a
    slower restart nobody notices."""
    assert lazy_lookups.installed_release() == lazy_lookups.CHECKED_RELEASE


READ_WHILE_BUILDING = """
import json, threading
import rejoin_server.games.poker  # installs the hook before pokerkit loads
from pokerkit import StandardHighHand
from pokerkit.lookups import Label, Lookup
lookup = StandardHighHand.lookup
# Straight flushes go into the table last: a reader of a table half built would not find them.
cards = "AsKsQsJsTs"
answers = {}
# The first reader's build stops before the straight flushes until the second reader is done (or
# 2 s): without the lock the second reads the half-built table meanwhile; with it, it waits.
inside, second_done = threading.Event(), threading.Event()
add_straights = Lookup._add_straights
def paused(self, count, suitednesses, label, *rest):
    if label is Label.STRAIGHT_FLUSH and not inside.is_set():
        inside.set()
        second_done.wait(2)
    return add_straights(self, count, suitednesses, label, *rest)
Lookup._add_straights = paused
def read(name):
    try:
        answers[name] = str(lookup.get_entry(cards).label)
    except Exception as exc:
        answers[name] = repr(exc)
first = threading.Thread(target=read, args=("first",))
first.start()
inside.wait(30)
read("second")
second_done.set()
first.join()
print(json.dumps(answers))
"""


def test_a_reader_during_the_build_waits_for_the_whole_table() -> None:
    """The warm-up thread (`ranking.prepare`) and a showdown may read the table first at once."""
    expected = "Straight flush"
    assert run(READ_WHILE_BUILDING) == {"first": expected, "second": expected}
