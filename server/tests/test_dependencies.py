"""What the distributions require: compatible ranges, never exact pins (those are the one lock,
requirements/constraints.txt), and a client SDK that pulls only what a client needs."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYPROJECTS = sorted(
    path
    for path in ROOT.glob("**/pyproject.toml")
    if not {".nox", "node_modules", ".venv"} & set(path.relative_to(ROOT).parts)
)


def requirements(path: Path) -> list[str]:
    """Every requirement of the distribution at `path`, its extras' included (not its build's)."""
    project = tomllib.loads(path.read_text(encoding="utf-8")).get("project", {})
    found: list[str] = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        found += extra
    return found


def test_no_distribution_pins_an_exact_version() -> None:
    assert len(PYPROJECTS) >= 5, PYPROJECTS  # the root's, the three distributions, the testkit, …
    pinned = [
        f"{path.relative_to(ROOT)}: {requirement}"
        for path in PYPROJECTS
        for requirement in requirements(path)
        if re.search(r"===?", requirement)
    ]
    assert pinned == [], "pin exact versions in requirements/constraints.txt, not here"


def test_the_client_sdk_needs_no_rich_and_its_bots_extra_brings_it() -> None:
    project = tomllib.loads((ROOT / "client_sdk" / "pyproject.toml").read_text())["project"]
    names = [re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0] for r in project["dependencies"]]
    assert names == ["rejoin-protocol", "websockets", "httpx"]
    (bots,) = project["optional-dependencies"]["bots"]
    assert bots.startswith("rich>=")
    constraints = (ROOT / "requirements" / "constraints.txt").read_text()
    assert re.search(r"^rich==", constraints, re.MULTILINE)
