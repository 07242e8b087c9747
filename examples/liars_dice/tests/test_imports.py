"""The game is written against the public game API alone: every module of `liars_dice` imports only
the standard library, its own modules and `rejoin_server.games` (no submodule of it, nothing else
of the server). Modules are parsed, never imported, and every import counts, also inside functions.
Each module stays under 400 lines, like the server's."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import rejoin_server.games

PACKAGE = Path(__file__).resolve().parents[1] / "liars_dice"
PUBLIC = set(rejoin_server.games.__all__)
MAX_LINES = 400


def imports(path: Path) -> list[tuple[str, list[str], int]]:
    """(module, names imported from it, line) for every import of the file."""
    found: list[tuple[str, list[str], int]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, [], node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}:{node.lineno}: a relative import"
            found.append((node.module or "", [a.name for a in node.names], node.lineno))
    return found


def test_the_package_is_found() -> None:
    assert {"engine.py", "commands.py", "appliers.py", "view.py"} <= {
        p.name for p in PACKAGE.glob("*.py")
    }


def test_only_the_standard_library_and_the_public_game_api_are_imported() -> None:
    wrong = []
    for path in sorted(PACKAGE.glob("*.py")):
        for module, names, line in imports(path):
            top = module.partition(".")[0]
            if top == "liars_dice" or top in sys.stdlib_module_names:
                continue
            if module == "rejoin_server.games" and set(names) <= PUBLIC:
                continue
            wrong.append(f"{path.name}:{line}: {module} {names}")
    assert not wrong, "imports beyond rejoin_server.games and the standard library:\n" + "\n".join(
        wrong
    )


def test_every_module_is_short() -> None:
    for path in PACKAGE.glob("*.py"):
        lines = len(path.read_text().splitlines())
        assert lines <= MAX_LINES, f"{path.name} has {lines} lines"
