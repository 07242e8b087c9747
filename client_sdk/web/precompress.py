"""Pre-compressed siblings of the bundle's files, for the server to send as they are: `NAME.br`
(brotli) and `NAME.gz` (gzip) beside `NAME`. The server picks one by the request's
`Accept-Encoding` (rejoin_server.api.precompressed) and needs neither library itself: it only
serves files. Used by build_bundle.py; a build tool, never imported by the server.

Both are made once per build at the strongest setting (brotli quality 11 takes ~30 s for Pyodide's
9.6 MB wasm, so build_bundle.py keeps Pyodide's folder while its sources are unchanged), and a
sibling is kept only where it saves at least `MIN_SAVING` of the bytes: an already compressed file
gets none and is served as it is (the zips, python_stdlib.zip and the wheels, are rewritten with
their members stored so that they compress).
"""

from __future__ import annotations

import gzip
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import cast

try:
    import brotli
except ImportError:  # pragma: no cover - says how to install it
    raise SystemExit(
        "the bundle's build needs brotli: python3 -m pip install -r requirements/bundle.txt "
        "(or run `python3 -m nox -s bundle`, which installs it)"
    ) from None

# Content coding → the suffix of its sibling; the server reads the same names.
SUFFIXES = {"br": ".br", "gzip": ".gz"}
MIN_SAVING = 0.10


def _brotli(data: bytes) -> bytes:
    return cast(bytes, brotli.compress(data, quality=11))


def _gzip(data: bytes) -> bytes:
    # mtime=0: the same input gives the same bytes (no build time in the header).
    return gzip.compress(data, compresslevel=9, mtime=0)


_COMPRESSORS = {"br": _brotli, "gzip": _gzip}


def precompress(path: Path) -> dict[str, int]:
    """Writes `path`'s siblings that are worth it and removes the others; returns the size of
    each one written, by content coding."""
    data = path.read_bytes()
    written: dict[str, int] = {}
    for coding, suffix in SUFFIXES.items():
        sibling = path.with_name(path.name + suffix)
        packed = _COMPRESSORS[coding](data)
        if len(packed) <= len(data) * (1 - MIN_SAVING):
            sibling.write_bytes(packed)
            written[coding] = len(packed)
        else:
            sibling.unlink(missing_ok=True)
    return written


def store_zip(
    source: Path,
    target: Path,
    compiled: Mapping[str, bytes] | None = None,
    drop: Callable[[str], bool] = lambda name: False,
) -> None:
    """`source`'s zip rewritten with every member stored (uncompressed), same names, contents,
    dates and order. Pyodide's python_stdlib.zip comes deflated member by member, which brotli
    cannot shrink further (2.55 MB → 2.49 MB); stored, the whole archive compresses as one text,
    to 1.6 MB. Pyodide imports the stdlib from it with zipimport, which reads stored members as
    well as deflated ones (and skips inflating them).

    `compiled` maps a member `NAME.py` to its bytecode: `NAME.pyc` (same date) takes its place.
    Members for which `drop(name)` is true are left out."""
    compiled = compiled or {}
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w") as stored:
        for member in original.infolist():
            if drop(member.filename):
                continue
            data = original.read(member)
            if member.filename in compiled:
                data = compiled[member.filename]
                member.filename += "c"
            member.compress_type = zipfile.ZIP_STORED
            stored.writestr(member, data)
        stored.comment = original.comment
