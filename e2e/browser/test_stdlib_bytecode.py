"""The python_stdlib.zip the server serves (client_sdk/web/dist, built by `nox -s bundle`), booted
for real by Pyodide under Node.js: it boots, the page controllers import from it, every stdlib
module and SDK module they import comes from bytecode (none is compiled at load), and the bytecode
is what Pyodide's Python makes again, byte for byte, from npm's stdlib and the wheels' sources."""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from rejoin_server.api.web import default_web_dir

WEB = default_web_dir()
NODE_MODULES_PYODIDE = WEB / "node_modules" / "pyodide"


@pytest.fixture(scope="module")
def build_bundle() -> Iterator[ModuleType]:
    """client_sdk/web/build_bundle.py, imported as the script imports it (from its folder)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(WEB))
        yield importlib.import_module("build_bundle")


def served() -> tuple[Path, list[Path]]:
    """The served stdlib and the SDK's wheels, from the built manifest."""
    manifest_path = WEB / "dist" / "manifest.json"
    assert manifest_path.is_file(), "the bundle is not built: run `python3 -m nox -s bundle`"
    manifest = json.loads(manifest_path.read_text())
    folder = WEB / "dist" / "pyodide" / manifest["pyodide"]["version"]
    stdlib = folder / manifest["pyodide"]["stdlib"]
    return stdlib, [WEB / "dist" / wheel["file"] for wheel in manifest["wheels"]]


def test_the_served_stdlib_boots_pyodide_and_the_page_imports_only_bytecode_from_it(
    tmp_path: Path, build_bundle: ModuleType
) -> None:
    stdlib_zip, wheels = served()
    with zipfile.ZipFile(stdlib_zip) as stdlib:
        names = stdlib.namelist()
    compiled = [name for name in names if name.endswith(".pyc")]
    assert len(compiled) > 100, compiled  # Pyodide's boot alone imports ~100 of them
    assert "json/decoder.pyc" in names
    assert "json/decoder.py" not in names  # in place of its source, not beside it
    assert not [name for name in names if build_bundle._dropped(name)]

    # A Pyodide of npm's files but the served stdlib.
    pyodide = tmp_path / "pyodide"
    pyodide.mkdir()
    for name in ("package.json", *build_bundle.PYODIDE_FILES):
        source = stdlib_zip if name == "python_stdlib.zip" else NODE_MODULES_PYODIDE / name
        shutil.copyfile(source, pyodide / name)
    # compile_bytecode.mjs boots it, unpacks the served wheels, imports both page controllers and
    # counts the modules the import compiled from source: none, the bytecode was all there.
    node = shutil.which("node")
    assert node is not None, "Node.js is not installed (the bundle's build needs it too)"
    run = subprocess.run(  # noqa: S603 - fixed argv
        [
            node, str(WEB / "compile_bytecode.mjs"), str(pyodide), str(tmp_path / "out"),
            *map(str, wheels),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    assert "compile_bytecode: 0 modules compiled from source at import" in run.stdout, run.stdout
    with zipfile.ZipFile(next(w for w in wheels if w.name.startswith("rejoin_client"))) as wheel:
        assert "rejoin/browser/__pycache__/table.cpython-314.pyc" in wheel.namelist()


def test_the_served_bytecode_is_what_pyodide_compiles_again(build_bundle: ModuleType) -> None:
    stdlib_zip, wheels = served()
    with zipfile.ZipFile(stdlib_zip) as stdlib:
        shipped = {
            name[:-1]: stdlib.read(name) for name in stdlib.namelist() if name.endswith(".pyc")
        }
    in_wheels: dict[str, bytes] = {}
    for path in wheels:
        with zipfile.ZipFile(path) as wheel:
            in_wheels |= {n: wheel.read(n) for n in wheel.namelist() if n.endswith(".pyc")}
    # A fresh interpreter, the same inputs: the same bytes (a build is reproducible, and the
    # served files are what this checkout's build makes).
    bytecode = build_bundle.compile_bytecode(NODE_MODULES_PYODIDE, wheels)
    assert bytecode.stdlib == shipped
    assert bytecode.sdk == in_wheels
