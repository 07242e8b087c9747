"""Import pokerkit's rules without its hand-history notation and analysis tools.

`import pokerkit` runs the package's `__init__`, which imports every module of it. The table needs
five (`utilities`, `lookups`, `hands`, `state`, `games`); `notation` (hand histories: parsing,
TOML, its dataclasses) and `analysis` (statistics over hand histories) are most of the rest and
about 45 ms of a relaunched server's CPU here (`python -X importtime`: 110 ms for all of pokerkit,
notation 75 ms of it with the state and games modules it imports), on the path of the first
welcome of every restart with a hand on the table.

How: `install` puts a `pokerkit` module in `sys.modules` before anything imports pokerkit, made
from pokerkit's own spec without running its `__init__` (so `import pokerkit.state` finds the
package and loads only what it names). The names pokerkit's `__init__` takes from those five (read
from its source, not run) are set on it as they load, so `from pokerkit import State` works as
before. A name it does not have yet (a game of
the user's own reaching for `pokerkit.HandHistory`, say) runs pokerkit's real `__init__` into the
same module, once: every name is then there, exactly as `import pokerkit` would have made them.
So nothing can break for a reader of pokerkit, only load later.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import sys
import threading
from types import ModuleType
from typing import Any

_PACKAGE = "pokerkit"
# What the table uses, in the order pokerkit's own modules import each other.
CORE = ("utilities", "lookups", "hands", "state", "games")

_lock = threading.Lock()


def install() -> None:
    """Make `import pokerkit` load the core only, if pokerkit is not imported yet (and is
    installed: without it the table's first hand says so, as before)."""
    if _PACKAGE in sys.modules:
        return
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return
    package = importlib.util.module_from_spec(spec)
    state = _Lean(package)
    package.__getattr__ = state.attribute  # type: ignore[method-assign]
    sys.modules[_PACKAGE] = package


def _exported_by_init(package: ModuleType) -> dict[str, list[str]]:
    """The names pokerkit's `__init__` imports from each of its modules (`from pokerkit.state
    import (...)`, `from .state import ...`), read from its source."""
    origin = package.__spec__.origin if package.__spec__ is not None else None
    if origin is None:
        return {}
    with open(origin, encoding="utf-8") as source:
        tree = ast.parse(source.read(), origin)
    names: dict[str, list[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module is not None:
            module = node.module.removeprefix(f"{_PACKAGE}.")
            names.setdefault(module, []).extend(alias.asname or alias.name for alias in node.names)
    return names


class _Lean:
    """The lean package's state: its core loaded on first use, the whole package on demand."""

    def __init__(self, package: ModuleType) -> None:
        self.package = package
        self.core_loaded = False
        self.whole = False

    def attribute(self, name: str) -> Any:
        """`pokerkit.<name>` that is not set yet (PEP 562): the core's names first, then, for
        anything else, the whole package."""
        if name.startswith("__"):  # the import system probing (__path__, __file__ are set)
            raise AttributeError(name)
        with _lock:
            if not self.core_loaded:
                self._load_core()
            if name not in self.package.__dict__ and not self.whole:
                self._load_whole()
        try:
            return self.package.__dict__[name]
        except KeyError:
            raise AttributeError(f"module 'pokerkit' has no attribute {name!r}") from None

    def _load_core(self) -> None:
        exported = _exported_by_init(self.package)
        for module in CORE:
            loaded = importlib.import_module(f"{_PACKAGE}.{module}")
            for name in exported.get(module, ()):
                self.package.__dict__.setdefault(name, getattr(loaded, name))
        self.core_loaded = True

    def _load_whole(self) -> None:
        spec = self.package.__spec__
        assert spec is not None
        assert spec.loader is not None
        del self.package.__dict__["__getattr__"]  # from now on an ordinary package
        self.whole = True
        spec.loader.exec_module(self.package)
