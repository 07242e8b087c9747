"""JWTs made by hand, for the refusals PyJWT will not make: `alg: none`, and HS256 keyed with a
public key's text (the algorithm-confusion attack)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any


def part(value: dict[str, Any]) -> str:
    """One base64url part of a JWT made by hand."""
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def unsigned(payload: dict[str, Any]) -> str:
    """An `alg: none` JWT: no signature at all."""
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(payload)}."


def hand_signed(header: dict[str, Any], payload: dict[str, Any], key: bytes) -> str:
    """A JWT made by hand, HS256 over `key` (PyJWT refuses to make this one: that is the
    algorithm-confusion attack, HMAC keyed with a public key's text)."""

    signing_input = f"{part(header)}.{part(payload)}"
    mac = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
