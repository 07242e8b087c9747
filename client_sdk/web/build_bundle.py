"""Build the browser bundle's SDK part: the `rejoin-protocol` and `rejoin-client` wheels and
`manifest.json` in client_sdk/web/dist, which the server serves at /sdk/ and boot.mjs unpacks
into Pyodide. (Pyodide itself comes from `npm ci` in this folder; `nox -s bundle` runs both.)

    python client_sdk/web/build_bundle.py [--dist DIR]

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

WEB = Path(__file__).resolve().parent
ROOT = WEB.parent.parent
PACKAGES = [ROOT / "packages" / "protocol", ROOT / "client_sdk"]


def build(dist: Path) -> list[dict[str, str]]:
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
        # Replace the folder whole: a wheel of an older version must not stay beside the new one.
        shutil.rmtree(dist, ignore_errors=True)
        dist.mkdir(parents=True)
        entries = []
        for wheel in wheels:
            target = dist / wheel.name
            shutil.copyfile(wheel, target)
            digest = hashlib.sha256(target.read_bytes()).hexdigest()
            entries.append({"file": wheel.name, "sha256": digest})
    (dist / "manifest.json").write_text(json.dumps({"wheels": entries}, indent=2) + "\n")
    return entries


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dist", type=Path, default=WEB / "dist", help="output folder")
    args = parser.parse_args()
    names = ", ".join(entry["file"] for entry in build(args.dist))
    print(f"bundle: {names} in {args.dist}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
