"""A folder of static files, each sent compressed when the build left a sibling for it and the
request accepts that coding: `NAME.br` as `Content-Encoding: br`, `NAME.gz` as `gzip`
(client_sdk/web/precompress.py writes them). The server compresses nothing itself and needs no
compression library: it only picks a file.

- The coding is chosen by `Accept-Encoding` and its q-values: the highest q among the siblings
  there are, brotli before gzip on a tie (`*` stands for any coding not named); a coding with
  q=0 is refused; `identity` listed with a higher q than any of them wins. Without the header, or
  when nothing offered is acceptable, the file as it is (`identity`): a client that names no
  coding, like curl without --compressed, gets bytes it can read.
- Every variant keeps the original's Content-Type and has its own Content-Length, Last-Modified
  and ETag (a compressed one's ends in `-br` or `-gzip`), so a cache never takes one coding's
  304 for another's body. A file that has siblings answers `Vary: Accept-Encoding`.
- A `Range` request gets ranges of the file as it is: a range of compressed bytes cannot be
  decoded on its own.
- A sibling is not a resource of its own: `NAME.br` answers 404 while `NAME` exists.
- Cache-Control: a folder whose files' addresses change with their content (a version or a hash
  in the path) is `immutable`, cached for a year without asking again, but for the names in
  `revalidated` (the manifest that names those addresses); any other folder is `no-cache`, sent
  again only when its ETag changed.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import stat
from collections.abc import Collection, Mapping
from pathlib import Path

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, Response
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import Scope

__all__ = ["IMMUTABLE", "REVALIDATE", "SUFFIXES", "PrecompressedFiles", "negotiate"]

# Pyodide hangs for ever on a .wasm not served as application/wasm; Python's table may lack both.
mimetypes.add_type("application/wasm", ".wasm")
mimetypes.add_type("text/javascript", ".mjs")

# Content coding → its sibling's suffix, in the server's order of preference on equal q-values.
SUFFIXES = {"br": ".br", "gzip": ".gz"}
ALIASES = {"x-gzip": "gzip"}  # RFC 9110, section 8.4.1.3: the same coding
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


def negotiate(accept_encoding: str | None, available: Collection[str]) -> str | None:
    """The coding to send among `available` for this `Accept-Encoding`, or None for the file as
    it is. No header (or an empty one) asks for the file as it is."""
    weights = _weights(accept_encoding or "")
    wildcard = weights.get("*")
    best, best_q = None, 0.0
    for coding in SUFFIXES:
        if coding not in available:
            continue
        q = weights.get(coding, wildcard if wildcard is not None else 0.0)
        if q > best_q:
            best, best_q = coding, q
    # A compressed variant wins unless the client listed `identity` with a higher q.
    return best if best is not None and best_q >= weights.get("identity", 0.0) else None


def _weights(header: str) -> dict[str, float]:
    weights: dict[str, float] = {}
    for item in header.split(","):
        name, *params = (part.strip() for part in item.split(";"))
        name = ALIASES.get(name.lower(), name.lower())
        if not name:
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                q = _qvalue(value.strip())
        weights[name] = max(q, weights.get(name, 0.0))
    return weights


def _qvalue(text: str) -> float:
    """A q-value (RFC 9110, section 12.4.2): 0 to 1; anything else counts as 0, never as a preference."""
    try:
        value = float(text)
    except ValueError:
        return 0.0
    return value if 0.0 <= value <= 1.0 else 0.0


class PrecompressedFiles(StaticFiles):
    """StaticFiles (its path checks: no `..` or symlink out of `directory`, GET and HEAD only)
    that sends a compressed sibling when one fits the request (see the module's doc)."""

    def __init__(
        self, directory: Path, *, immutable: bool, revalidated: Collection[str] = ()
    ) -> None:
        super().__init__(directory=directory, check_dir=False)
        self._root = Path(directory)
        self._immutable = immutable
        self._revalidated = frozenset(revalidated)

    def cache_control(self, path: Path) -> str:
        if not self._immutable:
            return REVALIDATE
        try:
            relative = path.relative_to(self._root.resolve()).as_posix()
        except ValueError:
            return REVALIDATE
        return REVALIDATE if relative in self._revalidated else IMMUTABLE

    def file_response(
        self,
        full_path: os.PathLike[str] | str,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        path = Path(full_path)
        if _is_sibling(path):
            raise HTTPException(status_code=404)
        request = Headers(scope=scope)
        variants = _siblings(path)
        headers = {"Cache-Control": self.cache_control(path)}
        if variants:
            headers["Vary"] = "Accept-Encoding"
        coding = None if "range" in request else negotiate(request.get("accept-encoding"), variants)
        # The original's type whatever is sent: guessed from `NAME.br` it would be brotli's.
        media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if coding is None:
            response = FileResponse(path, status_code, headers, media_type, stat_result=stat_result)
        else:
            sent, sent_stat = variants[coding]
            headers["Content-Encoding"] = coding
            headers["ETag"] = _etag(sent_stat, coding)
            response = FileResponse(sent, status_code, headers, media_type, stat_result=sent_stat)
        if self.is_not_modified(response.headers, request):
            return NotModifiedResponse(response.headers)
        return response


def _siblings(path: Path) -> Mapping[str, tuple[Path, os.stat_result]]:
    """The compressed siblings of `path` that are regular files, by coding."""
    found = {}
    for coding, suffix in SUFFIXES.items():
        sibling = path.with_name(path.name + suffix)
        try:
            found_stat = sibling.stat()
        except OSError:
            continue
        if stat.S_ISREG(found_stat.st_mode):
            found[coding] = (sibling, found_stat)
    return found


def _is_sibling(path: Path) -> bool:
    return any(
        path.name.endswith(suffix) and path.with_name(path.name[: -len(suffix)]).is_file()
        for suffix in SUFFIXES.values()
    )


def _etag(stat_result: os.stat_result, coding: str) -> str:
    # Starlette's ETag of the file sent, with the coding named: distinct per coding however the
    # files' sizes and times fall.
    base = f"{stat_result.st_mtime}-{stat_result.st_size}".encode()
    return f'"{hashlib.md5(base, usedforsecurity=False).hexdigest()}-{coding}"'
