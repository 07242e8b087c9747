"""Build the browser bundle the server serves, in client_sdk/web/dist:

    dist/manifest.json                      what to load: Pyodide's version, the wheels' paths
    dist/wheels/<sha256[:16]>/<wheel>       `rejoin-protocol` and `rejoin-client`     (at /sdk/)
    dist/wheels-history.json                the wheel paths of the last builds' manifests
    dist/pyodide/<version>/<file>(.br|.gz)  Pyodide's boot files, from node_modules    (at /pyodide/)
                                            (python_stdlib.zip as python_stdlib.<sha256[:16]>.zip)

    python client_sdk/web/build_bundle.py [--dist DIR] [--pyodide DIR]

Pyodide comes from `npm ci` in this folder (`nox -s bundle` runs both). Every file but the
manifest has an address that changes with its content (the wheel's and the stdlib's hash,
Pyodide's npm version), so the server lets browsers cache them for a year without asking again;
boot.mjs reads the manifest, revalidated on every load, to find them. Each file gets pre-compressed siblings
(precompress.py) that the server sends by the request's Accept-Encoding.

Pyodide's python_stdlib.zip is rewritten (precompress.store_zip): every member stored, so that
brotli compresses the archive as one text; the stdlib modules a table page imports replaced by
their bytecode, compiled by Pyodide's own Python under Node (compile_bytecode.mjs), so that the page
does not compile them at each load; and the members of STDLIB_DROPPED left out. The wheels get the
bytecode of their modules the page imports too, beside the sources (add_bytecode).

A rebuild never leaves the bundle without a manifest, or a manifest without its wheels: the new
wheels' folders are written first (content-addressed: a folder already there is that wheel), the
manifest is replaced in one rename, and only then are wheel folders pruned, keeping those of the
last `KEEP_BUILDS` manifests, so a page that read an older manifest still finds its wheels (also
in a cluster whose nodes are not all updated at the same moment).

The wheels are pure Python and unpacked without their dependencies: under Pyodide the SDK uses
the browser's WebSocket and fetch instead of `websockets` and `httpx` (see rejoin.transport).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from precompress import precompress, store_zip

WEB = Path(__file__).resolve().parent
ROOT = WEB.parent.parent
PACKAGES = [ROOT / "packages" / "protocol", ROOT / "client_sdk"]
# What `loadPyodide()` fetches to boot offline, as npm has them. The served stdlib's name carries
# its hash (`python_stdlib.<sha256[:16]>.zip`, given to loadPyodide as `stdLibURL`): the build
# changes what it holds. The server checks the manifest's list, which has that name.
PYODIDE_FILES = (
    "pyodide.mjs",
    "pyodide.asm.mjs",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
    "pyodide-lock.json",
)
STDLIB = "python_stdlib.zip"
HASH_CHARS = 16  # of a wheel's sha256 in its address: 64 bits, no two builds collide
# Bumped when what the build does to Pyodide's files changes, so a kept folder is remade. Browsers
# keep /pyodide/<version>/ for a year: a recipe may change how the files are compressed, never
# what they decode to, but for the stdlib, whose address has its own hash.
PYODIDE_RECIPE = "stored-stdlib+page-pyc+slim+hashed-stdlib+br11+gz9"
# Stdlib members (a top-level package or module) the zip leaves out: none is imported by a table
# page, and none can serve a page in a browser: a debugger, a REPL, test runners and help need a
# terminal; multiprocessing needs processes; the mail, FTP and XML-RPC clients and servers need
# sockets. Together ~0.25 MB once compressed, what the startup modules' bytecode adds.
STDLIB_DROPPED = frozenset(
    {
        "_pyrepl", "bdb.py", "doctest.py", "pdb.py", "pydoc.py", "unittest",
        "multiprocessing",
        "ftplib.py", "imaplib.py", "poplib.py", "smtplib.py", "wsgiref", "xmlrpc",
        "__hello__.py", "__phello__", "antigravity.py", "this.py",
    }
)  # fmt: skip
# Wheel folders are kept for the manifests of this many builds, the current one included.
KEEP_BUILDS = 3
MANIFEST = "manifest.json"
WHEEL_HISTORY = "wheels-history.json"


def build(dist: Path, pyodide: Path) -> dict[str, Any]:
    """Builds `dist` (see the module's doc) and returns its manifest."""
    absent = [name for name in PYODIDE_FILES if not (pyodide / name).is_file()]
    if absent:
        raise SystemExit(
            f"Pyodide is not installed in {pyodide} ({', '.join(absent)} missing): "
            "run `npm ci --prefix client_sdk/web` first (or `nox -s bundle`)"
        )
    previous = _read_manifest(dist / MANIFEST)
    dist.mkdir(parents=True, exist_ok=True)
    # A file of an older layout goes; the manifest, the wheels and Pyodide are replaced in place.
    for entry in dist.iterdir():
        if entry.name not in ("pyodide", "wheels", MANIFEST, WHEEL_HISTORY):
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    with tempfile.TemporaryDirectory(prefix="rejoin-bundle-") as scratch:
        built = _build_wheels(Path(scratch))
        bytecode = compile_bytecode(pyodide, built)
        for wheel in built:
            add_bytecode(wheel, bytecode.sdk)
        manifest = {
            "pyodide": _pyodide(pyodide, dist / "pyodide", previous, bytecode.stdlib),
            "wheels": [_place_wheel(dist / "wheels", wheel) for wheel in built],
        }
    _write_atomically(dist / MANIFEST, json.dumps(manifest, indent=2) + "\n")
    _prune_wheels(dist, [entry["file"] for entry in manifest["wheels"]], previous)
    return manifest


def _write_atomically(path: Path, text: str) -> None:
    """`path` holds its old text or `text`, never a part: a reader (the server) sees one or the
    other."""
    with tempfile.NamedTemporaryFile(
        "w", dir=path.parent, prefix=f".{path.name}.", delete=False
    ) as temp:
        temp.write(text)
    os.chmod(temp.name, 0o644)  # NamedTemporaryFile makes it 0600; it is served as it is
    os.replace(temp.name, path)


def _prune_wheels(dist: Path, current: list[str], previous: dict[str, Any]) -> None:
    """Remove the wheel folders (and anything else under `wheels/`) that none of the last
    `KEEP_BUILDS` manifests names; note this build's wheels in the history."""
    builds = _read_history(dist / WHEEL_HISTORY)
    if not builds:  # a bundle built before the history was kept: its manifest is the history
        wheels = previous.get("wheels")
        if isinstance(wheels, list):
            builds = [[str(w["file"]) for w in wheels if isinstance(w, dict) and "file" in w]]
    builds = [current, *(paths for paths in builds if paths != current)][:KEEP_BUILDS]
    _write_atomically(dist / WHEEL_HISTORY, json.dumps(builds, indent=2) + "\n")
    kept = {Path(path).parent.name for paths in builds for path in paths}
    folders = dist / "wheels"
    for entry in folders.iterdir() if folders.is_dir() else ():
        if entry.name not in kept:
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()


def _read_history(path: Path) -> list[list[str]]:
    try:
        loaded = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    if not isinstance(loaded, list):
        return []
    return [
        [str(p) for p in paths]
        for paths in loaded
        if isinstance(paths, list) and all(isinstance(p, str) for p in paths)
    ]


def _build_wheels(scratch: Path) -> list[Path]:
    """The two wheels, built by pip into `scratch`."""
    subprocess.run(  # noqa: S603 - fixed argv
        [
            sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check",
            "--no-deps", "--wheel-dir", str(scratch), *map(str, PACKAGES),
        ],
        check=True,
    )  # fmt: skip
    wheels = sorted(scratch.glob("*.whl"))
    if len(wheels) != len(PACKAGES):
        raise SystemExit(f"expected {len(PACKAGES)} wheels, pip built {len(wheels)}")
    return wheels


def _place_wheel(target: Path, wheel: Path) -> dict[str, str]:
    """`wheel` in `target/<sha256[:16]>/`, with its compressed siblings, and its manifest entry.
    The folder is content-addressed: when it holds the wheel already it is left as it is (it may
    be in use); otherwise it is written beside and renamed into place whole."""
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    folder = target / digest[:HASH_CHARS]
    if not (folder / wheel.name).is_file():
        target.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".new-", dir=target))
        staging.chmod(0o755)  # mkdtemp makes it 0700; it is served as it is
        shutil.copyfile(wheel, staging / wheel.name)
        precompress(staging / wheel.name)
        shutil.rmtree(folder, ignore_errors=True)  # a folder without its wheel: a torn copy
        os.replace(staging, folder)
    return {"file": f"wheels/{digest[:HASH_CHARS]}/{wheel.name}", "sha256": digest}


def _pyodide(
    source: Path, target: Path, previous: dict[str, Any], compiled: Mapping[str, bytes]
) -> dict[str, Any]:
    """Pyodide's boot files copied into `target/<version>/`, with their compressed siblings; the
    folder is kept as it is when the same sources went through the same recipe last time (the
    stdlib's bytecode, compiled at each build, is one of them)."""
    version = str(json.loads((source / "package.json").read_text())["version"])
    needed = sorted(member for member in compiled if _dropped(member))
    if needed:
        raise SystemExit(f"the table page imports {', '.join(needed)}, which STDLIB_DROPPED drops")
    digest = hashlib.sha256(PYODIDE_RECIPE.encode() + "\0".join(sorted(STDLIB_DROPPED)).encode())
    for name in PYODIDE_FILES:
        digest.update(name.encode() + b"\0" + (source / name).read_bytes())
    for member, code in sorted(compiled.items()):
        digest.update(member.encode() + b"\0" + code)
    folder = target / version
    kept = previous.get("pyodide", {})
    if (
        kept.get("version") == version
        and kept.get("source") == digest.hexdigest()
        and kept.get("stdlib") in kept.get("files", ())
        and all((folder / name).is_file() for name in kept.get("files", ()))
    ):
        return kept
    shutil.rmtree(target, ignore_errors=True)  # other versions too: one Pyodide is served
    folder.mkdir(parents=True)
    files, stdlib = [], ""
    for name in PYODIDE_FILES:
        if name == STDLIB:
            store_zip(source / name, folder / name, compiled, _dropped)
            stdlib = _hashed_stdlib_name(folder / name)
            (folder / name).rename(folder / stdlib)
            name = stdlib  # noqa: PLW2901 - served under its hashed name
        else:
            shutil.copyfile(source / name, folder / name)
        precompress(folder / name)
        files.append(name)
    return {"version": version, "files": files, "stdlib": stdlib, "source": digest.hexdigest()}


def _hashed_stdlib_name(path: Path) -> str:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:HASH_CHARS]
    return f"python_stdlib.{digest}.zip"


@dataclass(frozen=True, slots=True)
class Bytecode:
    """What compile_bytecode.mjs compiled: the stdlib's (member `NAME.py` of python_stdlib.zip →
    its `NAME.pyc`) and the SDK's (a wheel's `pkg/__pycache__/NAME.cpython-314.pyc` → its bytes)."""

    stdlib: dict[str, bytes]
    sdk: dict[str, bytes]


def compile_bytecode(pyodide: Path, wheels: list[Path]) -> Bytecode:
    """The modules a table page imports, compiled by Pyodide's Python under Node
    (compile_bytecode.mjs, which says how)."""
    node = shutil.which("node")
    if node is None:
        raise SystemExit("the bundle's build needs Node.js (it runs Pyodide to compile bytecode)")
    with tempfile.TemporaryDirectory(prefix="rejoin-bytecode-") as scratch:
        subprocess.run(  # noqa: S603 - fixed argv
            [node, str(WEB / "compile_bytecode.mjs"), str(pyodide), scratch, *map(str, wheels)],
            check=True,
        )
        out = Path(scratch)
        stdlib, sdk = out / "stdlib", out / "sdk"
        return Bytecode(
            stdlib={
                path.relative_to(stdlib).as_posix()[:-1]: path.read_bytes()
                for path in sorted(stdlib.rglob("*.pyc"))
            },
            sdk={
                path.relative_to(sdk).as_posix(): path.read_bytes()
                for path in sorted(sdk.rglob("*.pyc"))
            },
        )


def add_bytecode(wheel: Path, bytecode: Mapping[str, bytes]) -> None:
    """Rewrites `wheel` with the .pyc of `bytecode` that belong to it (those of a module it holds)
    after its other files, dated as their source, and listed in its RECORD; every member stored
    (uncompressed), as in python_stdlib.zip: brotli then compresses the whole wheel as one text,
    to 125 kB where deflated member by member it was 219 kB (95 kB without the bytecode)."""
    with zipfile.ZipFile(wheel) as original:
        members = [(info, original.read(info)) for info in original.infolist()]
    names = {info.filename: info for info, _ in members}
    added = []
    for name, data in sorted(bytecode.items()):
        folder, _, file = name.rpartition("/__pycache__/")
        source = names.get(f"{folder}/{file.split('.', 1)[0]}.py")
        if source is not None:
            info = zipfile.ZipInfo(name, source.date_time)
            info.external_attr = source.external_attr
            added.append((info, data))
    record = next(i for i, (info, _) in enumerate(members) if info.filename.endswith("/RECORD"))
    lines = [
        f"{info.filename},sha256={_urlsafe_sha256(data)},{len(data)}\n".encode()
        for info, data in added
    ]
    info, text = members[record]
    members[record] = (info, text + b"".join(lines))
    # RECORD stays last, as wheel builders write it.
    ordered = members[:record] + added + members[record:]
    with zipfile.ZipFile(wheel, "w") as rewritten:
        for info, data in ordered:
            info.compress_type = zipfile.ZIP_STORED
            rewritten.writestr(info, data)


def _urlsafe_sha256(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _dropped(member: str) -> bool:
    return member.split("/", maxsplit=1)[0] in STDLIB_DROPPED


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        loaded = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dist", type=Path, default=WEB / "dist", help="output folder")
    parser.add_argument(
        "--pyodide",
        type=Path,
        default=WEB / "node_modules" / "pyodide",
        help="Pyodide's npm package (default: node_modules/pyodide here, from `npm ci`)",
    )
    args = parser.parse_args()
    manifest = build(args.dist, args.pyodide)
    names = ", ".join(Path(entry["file"]).name for entry in manifest["wheels"])
    print(f"bundle: Pyodide {manifest['pyodide']['version']}, {names} in {args.dist}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
