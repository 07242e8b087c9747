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
before. A name it does not have yet (a game of the user's own reaching for `pokerkit.HandHistory`,
say) runs pokerkit's real `__init__` into the same module, once: every name is then there, exactly
as `import pokerkit` would have made them. A star import works the same way: `__all__` is set from
the `__init__`'s own, and its names past the core load the whole package. A pokerkit whose
`__init__` does not read as expected (no source, another layout) is imported as it comes.

Only the `rejoin-server` process does this (`serve` installs it before the app loads, as it tunes
the collector); an app embedded in another process, and the tests, import pokerkit as it comes.
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

# Reentrant: nothing in pokerkit's modules reads the package while they load, but if a release
# ever did, it would find the lock its own thread holds.
_lock = threading.RLock()


def install() -> None:
    """Make `import pokerkit` load the core only, if pokerkit is not imported yet. Nothing is
    done (pokerkit imports as it comes) when it is not installed or its `__init__` cannot be
    read as expected."""
    if _PACKAGE in sys.modules:
        return
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return
    try:
        exported, public = _read_init(spec.origin)
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return  # a build without sources, or an `__init__` written otherwise: load it whole
    package = importlib.util.module_from_spec(spec)
    # A star import reads `__all__`, then takes each name through `attribute`.
    setattr(package, "__all__", public)  # noqa: B010 - a module's attribute mypy cannot see
    package.__getattr__ = _Lean(package, exported).attribute  # type: ignore[method-assign]
    sys.modules[_PACKAGE] = package


def _read_init(origin: str | None) -> tuple[dict[str, list[str]], tuple[str, ...]]:
    """From the source of pokerkit's `__init__`: the names it imports from each of its modules
    (`from pokerkit.state import (...)`), and its `__all__`."""
    if origin is None or not origin.endswith(".py"):
        raise ValueError("no source")
    with open(origin, encoding="utf-8") as source:
        tree = ast.parse(source.read(), origin)
    exported: dict[str, list[str]] = {}
    public: tuple[str, ...] | None = None
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module is not None:
            module = node.module.removeprefix(f"{_PACKAGE}.")
            exported.setdefault(module, []).extend(a.asname or a.name for a in node.names)
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            public = tuple(ast.literal_eval(node.value))
    if public is None or not all(module in exported for module in CORE):
        raise ValueError("not the __init__ this was written for")
    return exported, public


class _Lean:
    """The lean package's state: its core loaded on first use, the whole package on demand."""

    def __init__(self, package: ModuleType, exported: dict[str, list[str]]) -> None:
        self.package = package
        self.exported = exported
        self.core_loaded = False
        self.whole = False

    def attribute(self, name: str) -> Any:
        """`pokerkit.<name>` that is not set yet (PEP 562): the core's names first, then, for
        anything else (any other name of pokerkit, or a name it has not), the whole package."""
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
        self.core_loaded = True
        for module in CORE:
            loaded = importlib.import_module(f"{_PACKAGE}.{module}")
            for name in self.exported.get(module, ()):
                self.package.__dict__.setdefault(name, getattr(loaded, name))

    def _load_whole(self) -> None:
        spec = self.package.__spec__
        assert spec is not None
        assert spec.loader is not None
        del self.package.__dict__["__getattr__"]  # from now on an ordinary package
        self.whole = True
        spec.loader.exec_module(self.package)
