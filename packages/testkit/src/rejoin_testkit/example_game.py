"""The repository's example game, Liar's Dice (examples/liars_dice), for the servers tests start.

It is not installed in the test environments: a server finds it on its PYTHONPATH, which
`liars_dice_env()` extends (keeping this process's own), so a clean checkout needs no install step.
Start a server with `args=LIARS_DICE_ARGS, env=liars_dice_env()`.
"""

from __future__ import annotations

import os
from pathlib import Path

# packages/testkit/src/rejoin_testkit/ → the repository (the testkit is only ever used from it).
REPOSITORY = Path(__file__).resolve().parents[4]
LIARS_DICE_DIR = REPOSITORY / "examples" / "liars_dice"
LIARS_DICE_ARGS = ("--game", "liars_dice:LiarsDiceEngine")
LIARS_DICE = "liars-dice"


def liars_dice_env() -> dict[str, str]:
    """The `env` of a server that serves the example game: examples/liars_dice first on its
    PYTHONPATH."""
    if not (LIARS_DICE_DIR / "liars_dice" / "__init__.py").is_file():
        raise AssertionError(f"the example game is not at {LIARS_DICE_DIR}")
    inherited = os.environ.get("PYTHONPATH")
    path = str(LIARS_DICE_DIR) if not inherited else f"{LIARS_DICE_DIR}{os.pathsep}{inherited}"
    return {"PYTHONPATH": path}
