"""The identity provider's public key (`--auth-jwt-public-key`), and the one algorithm it verifies.

Its own module, with cryptography alone, so that the CLI checks the key file before anything
starts (a file that is not a usable key stops it with one line, exit 2) without importing the
web stack.
"""

from __future__ import annotations

from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

MIN_RSA_BITS = 2048
_CURVES = {"secp256r1": "ES256", "secp384r1": "ES384"}
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey


def load_public_key(pem: str | bytes) -> tuple[PublicKey, str]:
    """The key from its PEM text (a `PUBLIC KEY`, or an X.509 `CERTIFICATE` holding it, as some
    providers publish it), and the one algorithm it verifies: RSA RS256, EC P-256 ES256, EC P-384
    ES384. Raises ValueError saying what the key must be."""
    data = pem.encode() if isinstance(pem, str) else pem
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            key: Any = x509.load_pem_x509_certificate(data).public_key()
        else:
            key = serialization.load_pem_public_key(data)
    except ValueError:
        hint = "; this is a private key: give the public one" if b"PRIVATE KEY" in data else ""
        raise ValueError(
            f"not a PEM public key (-----BEGIN PUBLIC KEY-----) or certificate{hint}"
        ) from None
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise ValueError(f"an RSA key of {key.key_size} bits; use {MIN_RSA_BITS} or more")
        return key, "RS256"
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name in _CURVES:
        return key, _CURVES[key.curve.name]
    raise ValueError("use an RSA (RS256), EC P-256 (ES256) or EC P-384 (ES384) public key")
