"""The browser bundle's build (client_sdk/web/build_bundle.py and precompress.py): the layout the
server serves, compressed siblings that decompress to their originals, Pyodide's stdlib re-stored
with bytecode in place of the page's modules and without the dropped ones, the wheels stored with
their modules' bytecode, and Pyodide's folder kept while its sources do not change.

The build runs for real (pip builds the two wheels) on a stand-in Pyodide package: a tiny one
compresses in milliseconds where the real one takes a minute (and the bytecode, which only the
real one can compile, is a stand-in too: e2e/browser/test_stdlib_bytecode.py runs the real one)."""

from __future__ import annotations

import base64
import gzip
import hashlib
import importlib
import importlib.util
import json
import os
import zipfile
import zipimport
from pathlib import Path
from types import ModuleType
from typing import Any

import brotli
import pytest

WEB = Path(__file__).resolve().parents[1] / "web"
VERSION = "314.0.7"
TEXT = b"def answer():\n    return 42\n" * 400
# What a stand-in for compile_bytecode.mjs returns (a stand-in Pyodide cannot run under Node).
COMPILED = {"os.py": b"bytecode of os"}
PYODIDE_FILES = [
    "pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json"
]  # fmt: skip
SDK_PYC = "rejoin/__pycache__/urls.cpython-314.pyc"
SDK_COMPILED = {SDK_PYC: b"bytecode of rejoin.urls", "elsewhere/__pycache__/x.cpython-314.pyc": b""}


@pytest.fixture
def modules(monkeypatch: pytest.MonkeyPatch) -> tuple[ModuleType, ModuleType]:
    """build_bundle and precompress, imported as the script imports them (from their folder)."""
    monkeypatch.syspath_prepend(str(WEB))
    return importlib.import_module("build_bundle"), importlib.import_module("precompress")


def assert_siblings_decode(path: Path) -> set[str]:
    """Each sibling of `path` decompresses to `path`'s bytes; the codings found."""
    found = set()
    original = path.read_bytes()
    brotli_copy = path.with_name(path.name + ".br")
    if brotli_copy.exists():
        assert brotli.decompress(brotli_copy.read_bytes()) == original, brotli_copy
        found.add("br")
    gzip_copy = path.with_name(path.name + ".gz")
    if gzip_copy.exists():
        assert gzip.decompress(gzip_copy.read_bytes()) == original, gzip_copy
        found.add("gzip")
    return found


def test_siblings_are_written_where_they_save_and_removed_where_not(
    tmp_path: Path, modules: tuple[ModuleType, ModuleType]
) -> None:
    _, precompress = modules
    text = tmp_path / "module.mjs"
    text.write_bytes(TEXT)
    written = precompress.precompress(text)
    assert set(written) == {"br", "gzip"}
    assert assert_siblings_decode(text) == {"br", "gzip"}
    assert written["br"] < written["gzip"] < len(TEXT) / 10

    # Bytes that do not compress (a wheel is a zip already) get no sibling, and stale ones go.
    noise = tmp_path / "noise.whl"
    noise.write_bytes(os.urandom(50_000))
    noise.with_name("noise.whl.br").write_bytes(b"stale")
    assert precompress.precompress(noise) == {}
    assert not noise.with_name("noise.whl.br").exists()
    assert not noise.with_name("noise.whl.gz").exists()


def test_the_stored_zip_holds_the_same_members_and_imports(
    tmp_path: Path, modules: tuple[ModuleType, ModuleType]
) -> None:
    _, precompress = modules
    source, stored = tmp_path / "deflated.zip", tmp_path / "stored.zip"
    with zipfile.ZipFile(source, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("answer.py", TEXT)
        archive.writestr("pkg/__init__.py", b"NAME = 'pkg'\n")
    precompress.store_zip(source, stored)
    with zipfile.ZipFile(source) as before, zipfile.ZipFile(stored) as after:
        assert [m.filename for m in after.infolist()] == [m.filename for m in before.infolist()]
        for member in after.infolist():
            assert member.compress_type == zipfile.ZIP_STORED
            assert after.read(member) == before.read(member.filename)
            assert member.date_time == before.getinfo(member.filename).date_time
    # What Pyodide does with python_stdlib.zip: import from it.
    spec = zipimport.zipimporter(str(stored)).find_spec("answer")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.answer() == 42


def test_the_stored_zip_puts_bytecode_in_place_of_sources_and_leaves_out_dropped_members(
    tmp_path: Path, modules: tuple[ModuleType, ModuleType]
) -> None:
    _, precompress = modules
    source, stored = tmp_path / "deflated.zip", tmp_path / "stored.zip"
    with zipfile.ZipFile(source, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("answer.py", (2020, 1, 2, 3, 4, 6)), TEXT)
        archive.writestr("kept.py", b"KEPT = True\n")
        archive.writestr("pdb.py", b"import sys\n")
        archive.writestr("unittest/__init__.py", b"")
    # Bytecode as compile_bytecode.mjs writes it: unchecked and hash-based (here the host's Python,
    # whose zipimport checks the magic number as Pyodide's does).
    code = compile(b"def answer():\n    return 'compiled'\n", "answer.py", "exec")
    pyc = bytes(
        importlib._bootstrap_external._code_to_hash_pyc(  # type: ignore[attr-defined]
            code, importlib.util.source_hash(TEXT), checked=False
        )
    )
    dropped = {"pdb.py", "unittest"}
    precompress.store_zip(
        source, stored, {"answer.py": pyc}, lambda name: name.split("/")[0] in dropped
    )
    with zipfile.ZipFile(stored) as after:
        assert [m.filename for m in after.infolist()] == ["answer.pyc", "kept.py"]
        assert after.read("answer.pyc") == pyc
        assert after.getinfo("answer.pyc").date_time == (2020, 1, 2, 3, 4, 6)
        assert after.read("kept.py") == b"KEPT = True\n"
    importer = zipimport.zipimporter(str(stored))
    spec = importer.find_spec("answer")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.answer() == "compiled"  # the bytecode ran, not a source (there is none)
    assert importer.find_spec("pdb") is None


def test_a_wheel_gets_the_bytecode_of_its_modules_listed_in_its_record_and_stored(
    tmp_path: Path, modules: tuple[ModuleType, ModuleType]
) -> None:
    build_bundle, _ = modules
    wheel = tmp_path / "pkg-1.0-py3-none-any.whl"
    when = (2020, 2, 2, 0, 0, 0)
    record = b"pkg/__init__.py,sha256=x,1\npkg/mod.py,sha256=y,2\npkg-1.0.dist-info/RECORD,,\n"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("pkg/__init__.py", when), b"")
        archive.writestr(zipfile.ZipInfo("pkg/mod.py", when), TEXT)
        archive.writestr("pkg-1.0.dist-info/RECORD", record)
    pyc = b"bytecode of pkg.mod"
    build_bundle.add_bytecode(
        wheel,
        {"pkg/__pycache__/mod.cpython-314.pyc": pyc, "other/__pycache__/x.cpython-314.pyc": b"?"},
    )
    with zipfile.ZipFile(wheel) as after:
        assert after.namelist() == [
            "pkg/__init__.py", "pkg/mod.py", "pkg/__pycache__/mod.cpython-314.pyc",
            "pkg-1.0.dist-info/RECORD",
        ]  # fmt: skip
        assert {m.compress_type for m in after.infolist()} == {zipfile.ZIP_STORED}
        assert after.read("pkg/__pycache__/mod.cpython-314.pyc") == pyc
        assert after.getinfo("pkg/__pycache__/mod.cpython-314.pyc").date_time == when
        assert after.read("pkg/mod.py") == TEXT
        digest = base64.urlsafe_b64encode(hashlib.sha256(pyc).digest()).rstrip(b"=").decode()
        line = f"pkg/__pycache__/mod.cpython-314.pyc,sha256={digest},{len(pyc)}\n"
        assert after.read("pkg-1.0.dist-info/RECORD") == record + line.encode()


def fake_pyodide(folder: Path, version: str = VERSION) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "package.json").write_text(json.dumps({"name": "pyodide", "version": version}))
    (folder / "pyodide.mjs").write_bytes(b"export const loadPyodide = () => 1;\n" * 200)
    (folder / "pyodide.asm.mjs").write_bytes(b"var Module = {};\n" * 500)
    (folder / "pyodide.asm.wasm").write_bytes(b"\0asm\1\0\0\0" + bytes(4096))
    (folder / "pyodide-lock.json").write_text(json.dumps({"packages": {}}, indent=2) * 50)
    with zipfile.ZipFile(folder / "python_stdlib.zip", "w", zipfile.ZIP_DEFLATED) as stdlib:
        stdlib.writestr("os.py", TEXT)
        stdlib.writestr("json/__init__.py", TEXT)
        stdlib.writestr("pdb.py", TEXT)  # in build_bundle.STDLIB_DROPPED
    return folder


def test_the_build_lays_out_the_bundle_the_server_serves(
    tmp_path: Path, modules: tuple[ModuleType, ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    build_bundle, _ = modules
    bytecode = build_bundle.Bytecode(stdlib=COMPILED, sdk=SDK_COMPILED)
    monkeypatch.setattr(build_bundle, "compile_bytecode", lambda pyodide, wheels: bytecode)
    pyodide, dist = fake_pyodide(tmp_path / "pyodide"), tmp_path / "dist"
    dist.mkdir()
    (dist / "rejoin_client-0.0.1-py3-none-any.whl").write_bytes(b"an older layout's wheel")
    manifest = build_bundle.build(dist, pyodide)

    assert json.loads((dist / "manifest.json").read_text()) == manifest
    assert not (dist / "rejoin_client-0.0.1-py3-none-any.whl").exists()
    assert manifest["pyodide"]["version"] == VERSION
    files = manifest["pyodide"]["files"]
    served = dist / "pyodide" / VERSION
    # The stdlib the build rewrote is served under a name with its hash, the others as npm has
    # them; nothing else is in the folder.
    stdlib = manifest["pyodide"]["stdlib"]
    digest = hashlib.sha256((served / stdlib).read_bytes()).hexdigest()
    assert stdlib == f"python_stdlib.{digest[:16]}.zip"
    assert files == [stdlib if name == "python_stdlib.zip" else name for name in PYODIDE_FILES]
    assert {p.name for p in served.iterdir() if p.suffix not in (".br", ".gz")} == set(files)
    for name in files:
        assert (served / name).is_file(), name
        if name != stdlib:
            assert (served / name).read_bytes() == (pyodide / name).read_bytes(), name
        # Every one of these compresses: both siblings, each decoding to the file served.
        assert assert_siblings_decode(served / name) == {"br", "gzip"}, name
    with (
        zipfile.ZipFile(pyodide / "python_stdlib.zip") as before,
        zipfile.ZipFile(served / stdlib) as after,
    ):
        # The compiled module's bytecode in place of its source, the dropped module gone, the
        # rest as it was.
        assert {m.filename: after.read(m) for m in after.infolist()} == {
            "os.pyc": COMPILED["os.py"],
            "json/__init__.py": before.read("json/__init__.py"),
        }

    names = sorted(Path(wheel["file"]).name.split("-")[0] for wheel in manifest["wheels"])
    assert names == ["rejoin_client", "rejoin_protocol"]
    for wheel in manifest["wheels"]:
        path = dist / wheel["file"]
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert digest == wheel["sha256"]
        # Its address changes with its content: the hash is a folder of its path.
        assert wheel["file"] == f"wheels/{digest[:16]}/{path.name}"
        # Stored, the wheel compresses as one text: both siblings.
        assert assert_siblings_decode(path) == {"br", "gzip"}
    client = dist / next(w["file"] for w in manifest["wheels"] if "rejoin_client" in w["file"])
    with zipfile.ZipFile(client) as wheel_zip:
        assert wheel_zip.read(SDK_PYC) == SDK_COMPILED[SDK_PYC]  # its module's, not another's
        assert "elsewhere/__pycache__/x.cpython-314.pyc" not in wheel_zip.namelist()


def test_pyodide_is_compressed_again_only_when_it_changed(
    tmp_path: Path, modules: tuple[ModuleType, ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    build_bundle, _ = modules
    # Pyodide's part alone: the wheels (a pip build each time) are the test above's.
    monkeypatch.setattr(build_bundle, "_build_wheels", lambda scratch: [])
    compiled = dict(COMPILED)
    bytecode = build_bundle.Bytecode(stdlib=compiled, sdk={})
    monkeypatch.setattr(build_bundle, "compile_bytecode", lambda pyodide, wheels: bytecode)
    pyodide, dist = fake_pyodide(tmp_path / "pyodide"), tmp_path / "dist"
    build_bundle.build(dist, pyodide)
    wasm_br = dist / "pyodide" / VERSION / "pyodide.asm.wasm.br"
    os.utime(wasm_br, ns=(0, 0))  # a mark: a remade file gets a new time
    build_bundle.build(dist, pyodide)
    assert wasm_br.stat().st_mtime_ns == 0  # kept

    # Other bytecode (another SDK imports other modules) remakes the folder, and the stdlib gets
    # a new address.
    before = build_bundle.build(dist, pyodide)["pyodide"]["stdlib"]
    compiled["json/__init__.py"] = b"other bytecode"
    after = build_bundle.build(dist, pyodide)["pyodide"]["stdlib"]
    assert wasm_br.stat().st_mtime_ns != 0
    assert after != before
    assert not (dist / "pyodide" / VERSION / before).exists()
    os.utime(wasm_br, ns=(0, 0))

    (pyodide / "pyodide.asm.wasm").write_bytes(b"\0asm\1\0\0\0" + bytes(8192))
    build_bundle.build(dist, pyodide)
    assert wasm_br.stat().st_mtime_ns != 0
    assert assert_siblings_decode(dist / "pyodide" / VERSION / "pyodide.asm.wasm") == {
        "br",
        "gzip",
    }

    # A new version replaces the old folder: one Pyodide is served.
    fake_pyodide(pyodide, "315.0.0")
    manifest = build_bundle.build(dist, pyodide)
    assert manifest["pyodide"]["version"] == "315.0.0"
    assert sorted(p.name for p in (dist / "pyodide").iterdir()) == ["315.0.0"]


def test_the_build_says_when_pyodide_is_not_installed(
    tmp_path: Path, modules: tuple[ModuleType, ModuleType]
) -> None:
    build_bundle, _ = modules
    with pytest.raises(SystemExit, match="npm ci"):
        build_bundle.build(tmp_path / "dist", tmp_path / "nowhere")


def test_a_rebuild_keeps_the_wheels_of_the_last_manifests_and_never_a_manifest_without_its_own(
    tmp_path: Path, modules: tuple[ModuleType, ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a rebuild runs, the old manifest and its wheels stay served; the new manifest lands
    whole once its wheels are in place; the folders of the last three manifests stay after it (a
    page, or a cluster node, that read an older manifest still finds its wheels)."""
    build_bundle, _ = modules
    pyodide, dist = fake_pyodide(tmp_path / "pyodide"), tmp_path / "dist"
    build_number = 0

    def pip_wheels(scratch: Path) -> list[Path]:
        # Mid-rebuild: the last manifest is there, with every wheel it names.
        if (dist / "manifest.json").exists():
            for wheel in json.loads((dist / "manifest.json").read_text())["wheels"]:
                assert (dist / wheel["file"]).is_file(), wheel
        made = []
        for name in ("rejoin_client", "rejoin_protocol"):
            wheel = scratch / f"{name}-0.1-py3-none-any.whl"
            wheel.write_bytes(f"{name} of build {build_number}\n".encode() * 500)
            made.append(wheel)
        return made

    write = build_bundle._write_atomically

    def checked_write(path: Path, text: str) -> None:
        if path.name == "manifest.json":  # what it names is in place before it lands
            for wheel in json.loads(text)["wheels"]:
                assert (dist / wheel["file"]).is_file(), wheel
        write(path, text)

    monkeypatch.setattr(build_bundle, "_build_wheels", pip_wheels)
    monkeypatch.setattr(build_bundle, "_write_atomically", checked_write)
    # The stand-in wheels are not zips: no bytecode goes into them.
    bytecode = build_bundle.Bytecode(stdlib=COMPILED, sdk={})
    monkeypatch.setattr(build_bundle, "compile_bytecode", lambda pyodide, wheels: bytecode)
    monkeypatch.setattr(build_bundle, "add_bytecode", lambda wheel, bytecode: None)

    def folders(manifest: dict[str, Any]) -> set[str]:
        return {Path(wheel["file"]).parent.name for wheel in manifest["wheels"]}

    manifests = []
    for build_number in range(4):  # noqa: B007 - read by pip_wheels
        manifests.append(build_bundle.build(dist, pyodide))
    assert json.loads((dist / "manifest.json").read_text()) == manifests[-1]
    on_disk = {entry.name for entry in (dist / "wheels").iterdir()}
    assert on_disk == folders(manifests[1]) | folders(manifests[2]) | folders(manifests[3])
    assert not folders(manifests[0]) & on_disk  # four builds ago: pruned
    history = json.loads((dist / "wheels-history.json").read_text())
    assert history == [[w["file"] for w in m["wheels"]] for m in reversed(manifests[1:])]

    # The same wheels again: their folders are left as they are, the history is not lengthened.
    wheel = dist / manifests[-1]["wheels"][0]["file"]
    os.utime(wheel, ns=(0, 0))
    (dist / "wheels" / ".new-torn").mkdir()  # a build that died mid-copy leaves this
    assert build_bundle.build(dist, pyodide) == manifests[-1]
    assert wheel.stat().st_mtime_ns == 0
    assert not (dist / "wheels" / ".new-torn").exists()
    assert json.loads((dist / "wheels-history.json").read_text()) == history
    assert not [p.name for p in dist.iterdir() if p.name.startswith(".")]  # no temp file left


def test_a_bundle_built_before_the_history_keeps_its_manifests_wheels(
    tmp_path: Path, modules: tuple[ModuleType, ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    build_bundle, _ = modules
    bytecode = build_bundle.Bytecode(stdlib=COMPILED, sdk=SDK_COMPILED)
    monkeypatch.setattr(build_bundle, "compile_bytecode", lambda pyodide, wheels: bytecode)
    pyodide, dist = fake_pyodide(tmp_path / "pyodide"), tmp_path / "dist"
    old = build_bundle.build(dist, pyodide)
    (dist / "wheels-history.json").unlink()
    monkeypatch.setattr(build_bundle, "HASH_CHARS", 12)  # new addresses for the same wheels
    new = build_bundle.build(dist, pyodide)
    for wheel in (*old["wheels"], *new["wheels"]):
        assert (dist / wheel["file"]).is_file(), wheel
