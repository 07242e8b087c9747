"""`JwtLogin`, the built-in authenticator: the tokens it accepts (HS256 with a shared secret, RS256
and ES256 with a public key or certificate) and each refusal with its reason: expired, another
audience or issuer, a bad signature, `alg: none`, HS256 signed with the public key's text (the
algorithm-confusion attack), missing claims. Keys are generated here with cryptography."""

from __future__ import annotations

import datetime
import time
from typing import Any

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID
from starlette.requests import Request

from rejoin_protocol.errors import ErrorCode
from rejoin_server.login import Identity, LoginRefused
from rejoin_server.login.jwt_login import LEEWAY_S, MAX_JWT_CHARS, JwtLogin
from rejoin_server.login.keys import load_public_key

from .support import hand_signed, part, unsigned

SECRET = "a-shared-secret-of-forty-characters-xyz!"
AUDIENCE = "rejoin-poker"
ISSUER = "https://id.example.com/"
SUBJECT = "auth0|5f7c8ec7c33c6c004bbafe82"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def public_pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def claims(**changes: Any) -> dict[str, Any]:
    """A valid login's claims, with `changes` (a value None: the claim left out)."""
    base: dict[str, Any] = {
        "sub": SUBJECT,
        "name": "Alice",
        "aud": AUDIENCE,
        "iss": ISSUER,
        "exp": int(time.time()) + 600,
    }
    base.update(changes)
    return {key: value for key, value in base.items() if value is not None}


def hs256(secret: str = SECRET, **changes: Any) -> str:
    return jwt.encode(claims(**changes), secret, algorithm="HS256")


def signed(key: Any, algorithm: str, **changes: Any) -> str:
    return jwt.encode(claims(**changes), key, algorithm=algorithm)


def refused(login: JwtLogin, token: str, reason: str) -> str:
    with pytest.raises(LoginRefused) as caught:
        login.verify(token)
    assert caught.value.code == ErrorCode.UNAUTHORIZED
    assert caught.value.details == {"reason": reason}, caught.value.message
    assert caught.value.message.strip()
    return caught.value.message


@pytest.fixture
def shared() -> JwtLogin:
    return JwtLogin(audience=AUDIENCE, secret=SECRET)


@pytest.fixture
def rsa_login() -> JwtLogin:
    return JwtLogin(audience=AUDIENCE, public_key=public_pem(RSA_KEY), issuer=ISSUER)


# --- accepted ------------------------------------------------------------------------------------


def test_a_good_hs256_login_is_its_subject_and_name(shared: JwtLogin) -> None:
    assert shared.algorithm == "HS256"
    assert shared.verify(hs256()) == Identity(SUBJECT, "Alice")


def test_a_good_rs256_login(rsa_login: JwtLogin) -> None:
    assert rsa_login.algorithm == "RS256"
    assert rsa_login.verify(signed(RSA_KEY, "RS256")) == Identity(SUBJECT, "Alice")


def test_a_good_es256_login() -> None:
    login = JwtLogin(audience=AUDIENCE, public_key=public_pem(EC_KEY))
    assert login.algorithm == "ES256"
    assert login.verify(signed(EC_KEY, "ES256")) == Identity(SUBJECT, "Alice")


def test_an_es384_key_verifies_es384() -> None:
    key = ec.generate_private_key(ec.SECP384R1())
    login = JwtLogin(audience=AUDIENCE, public_key=public_pem(key))
    assert login.algorithm == "ES384"
    assert login.verify(signed(key, "ES384")).subject == SUBJECT
    refused(login, signed(EC_KEY, "ES256"), "algorithm")


def test_a_certificate_holding_the_public_key_is_accepted_as_the_key() -> None:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "id.example.com")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(RSA_KEY.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(RSA_KEY, hashes.SHA256())
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    login = JwtLogin(audience=AUDIENCE, public_key=pem)
    assert login.verify(signed(RSA_KEY, "RS256")).subject == SUBJECT


def test_the_name_falls_back_to_preferred_username_then_nickname_then_none(
    shared: JwtLogin,
) -> None:
    assert shared.verify(hs256(name=None, preferred_username="ali")).name == "ali"
    assert shared.verify(hs256(name=None, nickname="al")).name == "al"
    assert shared.verify(hs256(name=None)).name is None
    assert shared.verify(hs256(name=42, nickname="al")).name == "al"  # not a string: skipped


def test_an_audience_among_several_is_accepted(shared: JwtLogin) -> None:
    assert shared.verify(hs256(aud=["other-app", AUDIENCE])).subject == SUBJECT


def test_a_login_expired_within_the_leeway_is_accepted(shared: JwtLogin) -> None:
    # A third of the leeway ago: the test has two thirds of it (20 s) to run these two lines.
    assert shared.verify(hs256(exp=int(time.time()) - LEEWAY_S // 3)).subject == SUBJECT


# --- refused -------------------------------------------------------------------------------------


def test_an_expired_login_is_refused(shared: JwtLogin) -> None:
    message = refused(shared, hs256(exp=int(time.time()) - LEEWAY_S - 60), "expired")
    assert "expired" in message


def test_a_login_for_another_audience_is_refused(shared: JwtLogin) -> None:
    message = refused(shared, hs256(aud="another-app"), "audience")
    assert AUDIENCE in message


def test_a_login_of_another_issuer_is_refused(rsa_login: JwtLogin) -> None:
    message = refused(rsa_login, signed(RSA_KEY, "RS256", iss="https://evil.example/"), "issuer")
    assert ISSUER in message


def test_without_an_issuer_configured_any_issuer_is_accepted(shared: JwtLogin) -> None:
    assert shared.verify(hs256(iss="https://anyone.example/")).subject == SUBJECT


def test_a_login_signed_with_another_secret_is_refused(shared: JwtLogin) -> None:
    refused(shared, hs256(secret="another-secret-of-forty-characters-xyz!!"), "signature")


def test_a_login_signed_by_another_key_is_refused(rsa_login: JwtLogin) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    refused(rsa_login, signed(other, "RS256"), "signature")


def test_an_altered_login_is_refused(shared: JwtLogin) -> None:
    header, _, signature = hs256().split(".")
    refused(shared, f"{header}.{part(claims(sub='admin'))}.{signature}", "signature")


@pytest.mark.parametrize("config", ["secret", "public key"])
def test_alg_none_is_refused(config: str, shared: JwtLogin, rsa_login: JwtLogin) -> None:
    login = shared if config == "secret" else rsa_login
    message = refused(login, unsigned(claims()), "algorithm")
    assert "`alg: none`" in message


def test_hs256_signed_with_the_public_keys_text_is_refused(rsa_login: JwtLogin) -> None:
    pem = public_pem(RSA_KEY).encode()
    token = hand_signed({"alg": "HS256", "typ": "JWT"}, claims(), pem)
    message = refused(rsa_login, token, "algorithm")
    assert "`alg: HS256`" in message
    assert "RS256 only" in message


def test_a_public_key_token_against_a_shared_secret_is_refused(shared: JwtLogin) -> None:
    refused(shared, signed(RSA_KEY, "RS256"), "algorithm")


@pytest.mark.parametrize("claim", ["sub", "exp", "aud"])
def test_a_login_without_a_required_claim_is_refused(claim: str, shared: JwtLogin) -> None:
    token = jwt.encode(claims(**{claim: None}), SECRET, algorithm="HS256")
    message = refused(shared, token, "claims")
    assert f"`{claim}`" in message


def test_the_issuer_is_required_when_configured(rsa_login: JwtLogin) -> None:
    assert "`iss`" in refused(rsa_login, signed(RSA_KEY, "RS256", iss=None), "claims")


def test_a_subject_that_is_not_a_string_is_refused(shared: JwtLogin) -> None:
    refused(shared, hs256(sub=12345), "claims")


def test_a_login_not_valid_yet_is_refused(shared: JwtLogin) -> None:
    refused(shared, hs256(nbf=int(time.time()) + LEEWAY_S + 600), "not_yet_valid")


@pytest.mark.parametrize("token", ["garbage", "a.b", "a.b.c", "x" * (MAX_JWT_CHARS + 1)])
def test_what_is_not_a_jwt_is_refused_as_malformed(token: str, shared: JwtLogin) -> None:
    refused(shared, token, "malformed")


# --- the request --------------------------------------------------------------------------------


def request(authorization: str | None) -> Request:
    headers = [] if authorization is None else [(b"authorization", authorization.encode())]
    return Request({"type": "http", "method": "POST", "path": "/", "headers": headers})


async def test_the_login_comes_as_a_bearer_and_none_without_one(shared: JwtLogin) -> None:
    assert await shared(request(f"Bearer {hs256()}")) == Identity(SUBJECT, "Alice")
    assert await shared(request(f"bearer  {hs256()} ")) == Identity(SUBJECT, "Alice")
    assert await shared(request(None)) is None
    assert await shared(request("Basic YWxpY2U6c2VjcmV0")) is None
    assert await shared(request("Bearer ")) is None
    with pytest.raises(LoginRefused):
        await shared(request("Bearer not-a-jwt"))


# --- the configuration ----------------------------------------------------------------------------


def test_a_secret_or_a_key_one_of_the_two() -> None:
    with pytest.raises(ValueError, match="one of the two"):
        JwtLogin(audience=AUDIENCE)
    with pytest.raises(ValueError, match="one of the two"):
        JwtLogin(audience=AUDIENCE, secret=SECRET, public_key=public_pem(RSA_KEY))


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        JwtLogin(audience=AUDIENCE, secret="short")


def test_keys_that_cannot_verify_are_refused_with_what_to_give() -> None:
    private = RSA_KEY.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(ValueError, match="private key: give the public one"):
        load_public_key(private)
    with pytest.raises(ValueError, match="not a PEM public key"):
        load_public_key("hello")
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(ValueError, match="1024 bits; use 2048 or more"):
        load_public_key(public_pem(small))
    edwards = ed25519.Ed25519PrivateKey.generate().public_key()
    pem = edwards.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(ValueError, match="use an RSA"):
        load_public_key(pem)
    p521 = ec.generate_private_key(ec.SECP521R1())
    with pytest.raises(ValueError, match="use an RSA"):
        load_public_key(public_pem(p521))
