"""Canonical JSON and checksums: how states and events become bytes, the same on every database.

Canonical JSON (sorted keys, no spaces, UTF-8) makes a checksum independent of how a database
re-formats a JSON column (PostgreSQL's JSONB reorders keys and adds spaces): a snapshot is verified
by re-encoding what was read, not by comparing stored text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

_CANONICAL = orjson.OPT_SORT_KEYS


def canonical_json(value: Mapping[str, Any]) -> bytes:
    return orjson.dumps(value, option=_CANONICAL)


def check_storable(datas: Iterable[Mapping[str, Any]]) -> None:
    """Raise TypeError unless every mapping encodes as the store writes it (string keys, integers
    within 64 bits, no sets or other objects): found where a command makes events, not in a batch
    the writer commits for many games at once."""
    for data in datas:
        orjson.dumps(data, option=_CANONICAL)


def checksum(canonical: bytes) -> str:
    """SHA-256 of canonical JSON, hex."""
    return hashlib.sha256(canonical).hexdigest()


def decode_object(text: str | bytes) -> dict[str, Any]:
    """Parse a JSON object; ValueError (naming what was found) for anything else."""
    value = orjson.loads(text)
    if not isinstance(value, dict):
        raise ValueError(f"expected a JSON object, found {type(value).__name__}")
    return value
