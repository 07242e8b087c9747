"""The shape of the source trees: no import cycle between modules, and no module over 400 lines
without a reason.

Every module of `server/src`, `client_sdk/src` and `packages/protocol/src` is parsed (never
imported), and every import counts: at module level, inside functions and classes, and under
`if TYPE_CHECKING:`. An import inside a function still means the two modules know each other, and
a type-only import is still a dependency a reader follows; a cycle of either kind is one concern
split over two modules. `from pkg import name` is an edge to `pkg.name` when that is a module, else
to `pkg`; importing a submodule is not counted as importing its package's `__init__`.

`ALLOWED_EDGES` lists the deliberate lazy platform switches (the SDK picks its browser or
CPython implementation at run time). None closes a cycle today; they are the only imports that
would be let through if one did, and each must carry a `#` comment on the line just above it (or
after it on its line), saying why.

A module may be longer than `MAX_LINES` only when its docstring says why, with the phrase in
`LONG_MARKER` ("Longer than 400 lines: …" and the reason).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCE_TREES = (
    ROOT / "server" / "src",
    ROOT / "client_sdk" / "src",
    ROOT / "packages" / "protocol" / "src",
)

# (importer, imported): the lazy platform switches, each commented where it is made.
ALLOWED_EDGES: dict[tuple[str, str], str] = {
    ("rejoin.transport", "rejoin.ws_link"): "the CPython WebSocket link, chosen at run time",
    ("rejoin.transport", "rejoin.browser.link"): "the browser WebSocket link under Pyodide",
    ("rejoin.http_api", "rejoin.browser.fetch"): "the browser's fetch under Pyodide",
}

MAX_LINES = 400
LONG_MARKER = "Longer than 400 lines"


@dataclass(frozen=True, slots=True)
class Module:
    name: str
    path: Path
    tree: ast.Module

    @property
    def is_package(self) -> bool:
        return self.path.name == "__init__.py"

    @property
    def relative(self) -> str:
        return self.path.relative_to(ROOT).as_posix()


def _modules() -> dict[str, Module]:
    found: dict[str, Module] = {}
    for tree_root in SOURCE_TREES:
        for path in sorted(tree_root.rglob("*.py")):
            parts = path.relative_to(tree_root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            name = ".".join(parts)
            found[name] = Module(name, path, ast.parse(path.read_text(), str(path)))
    return found


MODULES = _modules()


def _imports(module: Module) -> Iterator[tuple[str, int]]:
    """(imported module, line) for every import anywhere in `module`, of modules in the trees."""
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            for imported in _imported_by(module, node):
                yield imported, node.lineno


def _imported_by(module: Module, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    """The modules of the trees one import statement of `module` imports."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names if alias.name in MODULES)
        return
    base = _from_base(module, node)
    plain = False
    for alias in node.names:
        sub = f"{base}.{alias.name}"
        if sub in MODULES:
            yield sub
        else:
            plain = True
    if plain and base in MODULES:
        yield base


def _from_base(module: Module, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module.name.split(".") if module.is_package else module.name.split(".")[:-1]
    package = package[: len(package) - node.level + 1]
    return ".".join([*package, *([node.module] if node.module else [])])


def _graph() -> dict[str, dict[str, int]]:
    """importer → {imported: line of its first import}."""
    graph: dict[str, dict[str, int]] = {}
    for name, module in MODULES.items():
        edges: dict[str, int] = {}
        for imported, line in _imports(module):
            if imported != name:
                edges.setdefault(imported, line)
        graph[name] = edges
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start, successors_of_start in graph.items():
        if start in index:
            continue
        work = [(start, iter(sorted(successors_of_start)))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for succ in successors:
                if succ not in index:
                    index[succ] = low[succ] = len(index)
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(sorted(graph[succ]))))
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


GRAPH = _graph()


def test_the_trees_are_found() -> None:
    """Guards the other tests against passing on an empty or misread tree."""
    assert {
        "rejoin_server.cli",
        "rejoin_server.serve",
        "rejoin.transport",
        "rejoin_protocol",
    } <= set(MODULES)
    assert "rejoin_server.invocation" in GRAPH["rejoin_server.serve"]
    # Imports inside functions and under TYPE_CHECKING count.
    assert "rejoin_server.serve" in GRAPH["rejoin_server.cli"]
    assert "rejoin.ws_link" in GRAPH["rejoin.transport"]


def test_the_cycle_finder_finds_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_between_modules() -> None:
    graph = {
        importer: {imported for imported in edges if (importer, imported) not in ALLOWED_EDGES}
        for importer, edges in GRAPH.items()
    }
    cycles = _cycles(graph)
    described = [
        " ⇄ ".join(cycle)
        + "".join(
            f"\n    {a} imports {b} (line {GRAPH[a][b]})"
            for a in cycle
            for b in cycle
            if b in graph[a]
        )
        for cycle in cycles
    ]
    assert not cycles, "import cycles:\n" + "\n".join(described)


@pytest.mark.parametrize(("importer", "imported"), sorted(ALLOWED_EDGES))
def test_each_allowed_cycle_is_a_commented_import(importer: str, imported: str) -> None:
    """The allow-list names only imports that exist, and each says at the import why it is there."""
    assert imported in GRAPH[importer], f"{importer} no longer imports {imported}: drop the entry"
    module = MODULES[importer]
    lines = module.path.read_text().splitlines()
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import | ast.ImportFrom) and imported in set(
            _imported_by(module, node)
        ):
            assert _commented(lines, node.lineno), (
                f"{module.relative}:{node.lineno}: say in a comment at this import why it is "
                f"lazy ({ALLOWED_EDGES[importer, imported]})"
            )


def _commented(lines: list[str], lineno: int) -> bool:
    """A `#` comment on the line just above the import, or after it on its line (a `noqa` or
    `type: ignore` alone says nothing to a reader)."""
    above = lines[lineno - 2].strip() if lineno >= 2 else ""
    inline = lines[lineno - 1].partition("#")[2].strip()
    return above.startswith("#") or (bool(inline) and not inline.startswith(("noqa", "type:")))


def _line_count(module: Module) -> int:
    return len(module.path.read_text().splitlines())


def test_no_module_is_long_without_a_reason() -> None:
    long = sorted(
        f"{module.relative} ({_line_count(module)} lines)"
        for module in MODULES.values()
        if _line_count(module) > MAX_LINES
        and LONG_MARKER not in (ast.get_docstring(module.tree) or "")
    )
    assert not long, (
        f"over {MAX_LINES} lines: split these, or say why in the module docstring with "
        f"{LONG_MARKER!r}: " + ", ".join(long)
    )


# The layers (docs/architecture.md, "Map of the code"): importer prefix → prefixes it must never
# import. The store is below the host and the API; the host is below the API; a game knows only
# the game seam; the server and the SDK share nothing but the protocol, which imports neither.
FORBIDDEN_LAYERS: dict[str, tuple[str, ...]] = {
    "rejoin_server.store": ("rejoin_server.api", "rejoin_server.host", "rejoin_server.tokens"),
    "rejoin_server.host": ("rejoin_server.api", "rejoin_server.app", "rejoin_server.serve"),
    "rejoin_server.games": (
        "rejoin_server.api",
        "rejoin_server.host",
        "rejoin_server.store",
        "rejoin_server.tokens",
    ),
    "rejoin_server": ("rejoin.",),
    "rejoin.": ("rejoin_server",),
    "rejoin_protocol": ("rejoin_server", "rejoin."),
}


def _under(name: str, prefix: str) -> bool:
    """Whether module `name` is `prefix` or inside it (`rejoin.` means the SDK package)."""
    if prefix.endswith("."):
        return name == prefix[:-1] or name.startswith(prefix)
    return name == prefix or name.startswith(f"{prefix}.")


def test_the_layers_import_one_way() -> None:
    crossings = sorted(
        f"{importer} → {imported} (line {line})"
        for importer, edges in _graph().items()
        for imported, line in edges.items()
        for layer, forbidden in FORBIDDEN_LAYERS.items()
        if _under(importer, layer) and any(_under(imported, f) for f in forbidden)
    )
    assert not crossings, "imports against the layering: " + ", ".join(crossings)


def test_the_layer_check_sees_a_crossing() -> None:
    """The check above is not vacuous: the prefixes match real modules on both sides."""
    assert any(_under(name, "rejoin_server.store") for name in MODULES)
    assert any(_under(name, "rejoin.") for name in MODULES)
    assert not _under("rejoin_server.store", "rejoin.")
    assert _under("rejoin.client", "rejoin.")
