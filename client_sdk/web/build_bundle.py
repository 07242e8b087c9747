"""Build the browser bundle the server serves, in client_sdk/web/dist:

    dist/manifest.json                      what to load: Pyodide's version, the wheels' paths
    dist/wheels/<sha256[:16]>/<wheel>       `rejoin-protocol` and `rejoin-client`     (at /sdk/)
    dist/pyodide/<version>/<file>(.br|.gz)  Pyodide's boot files, from node_modules    (at /pyodide/)

    python client_sdk/web/build_bundle.py [--dist DIR] [--pyodide DIR]

Pyodide comes from `npm ci` in this folder (`nox -s bundle` runs both). Every file but the
manifest has an address that changes with its content (the wheel's hash, Pyodide's npm version),
so the server lets browsers cache them for a year without asking again; boot.mjs reads the
manifest, revalidated on every load, to find them. Each file gets pre-compressed siblings
(precompress.py) that the server sends by the request's Accept-Encoding.

The wheels are pure Python and unpacked without their dependencies: under Pyodide the SDK uses
the browser's WebSocket and fetch instead of `websockets` and `httpx` (see rejoin.transport).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from precompress import precompress, store_zip

WEB = Path(__file__).resolve().parent
ROOT = WEB.parent.parent
PACKAGES = [ROOT / "packages" / "protocol", ROOT / "client_sdk"]
# What `loadPyodide()` fetches to boot offline; the server checks the manifest's list.
PYODIDE_FILES = (
    "pyodide.mjs",
    "pyodide.asm.mjs",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
    "pyodide-lock.json",
)
HASH_CHARS = 16  # of a wheel's sha256 in its address: 64 bits, no two builds collide
# Bumped when what the build does to Pyodide's files changes, so a kept folder is remade. Browsers
# keep /pyodide/<version>/ for a year: a recipe may change how the files are compressed, never
# what they decode to (that would need an address of its own).
PYODIDE_RECIPE = "stored-stdlib+br11+gz9"


def build(dist: Path, pyodide: Path) -> dict[str, Any]:
    """Builds `dist` (see the module's doc) and returns its manifest."""
    previous = _read_manifest(dist / "manifest.json")
    dist.mkdir(parents=True, exist_ok=True)
    # Everything but Pyodide's folder goes: a wheel of an older version, or a file of an older
    # layout, must not stay beside the new ones.
    for entry in dist.iterdir():
        if entry.name != "pyodide":
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    manifest = {"pyodide": _pyodide(pyodide, dist / "pyodide", previous), "wheels": _wheels(dist)}
    (dist / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def _wheels(dist: Path) -> list[dict[str, str]]:
    with tempfile.TemporaryDirectory(prefix="rejoin-bundle-") as scratch:
        subprocess.run(  # noqa: S603 - fixed argv
            [
                sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check",
                "--no-deps", "--wheel-dir", scratch, *map(str, PACKAGES),
            ],
            check=True,
        )  # fmt: skip
        wheels = sorted(Path(scratch).glob("*.whl"))
        if len(wheels) != len(PACKAGES):
            raise SystemExit(f"expected {len(PACKAGES)} wheels, pip built {len(wheels)}")
        entries = []
        for wheel in wheels:
            digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
            folder = dist / "wheels" / digest[:HASH_CHARS]
            folder.mkdir(parents=True)
            shutil.copyfile(wheel, folder / wheel.name)
            precompress(folder / wheel.name)
            path = f"wheels/{digest[:HASH_CHARS]}/{wheel.name}"
            entries.append({"file": path, "sha256": digest})
    return entries


def _pyodide(source: Path, target: Path, previous: dict[str, Any]) -> dict[str, Any]:
    """Pyodide's boot files copied into `target/<version>/`, with their compressed siblings; the
    folder is kept as it is when the same sources went through the same recipe last time."""
    absent = [name for name in PYODIDE_FILES if not (source / name).is_file()]
    if absent:
        raise SystemExit(
            f"Pyodide is not installed in {source} ({', '.join(absent)} missing): "
            "run `npm ci --prefix client_sdk/web` first (or `nox -s bundle`)"
        )
    version = str(json.loads((source / "package.json").read_text())["version"])
    digest = hashlib.sha256(PYODIDE_RECIPE.encode())
    for name in PYODIDE_FILES:
        digest.update(name.encode() + b"\0" + (source / name).read_bytes())
    entry = {"version": version, "files": list(PYODIDE_FILES), "source": digest.hexdigest()}
    folder = target / version
    kept = previous.get("pyodide") == entry and all(
        (folder / name).is_file() for name in PYODIDE_FILES
    )
    if not kept:
        shutil.rmtree(target, ignore_errors=True)  # other versions too: one Pyodide is served
        folder.mkdir(parents=True)
        for name in PYODIDE_FILES:
            if name == "python_stdlib.zip":
                store_zip(source / name, folder / name)
            else:
                shutil.copyfile(source / name, folder / name)
            precompress(folder / name)
    return entry


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
