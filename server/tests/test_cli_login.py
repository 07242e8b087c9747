"""The player login options of `rejoin-server` (`cli.login`): flags and variables → settings, and
every way to get them wrong stopping the command with one line (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from rejoin_server.cli import parse_args
from rejoin_server.settings import ServerSettings
from rejoin_testkit.processes import run_server_command

SECRET = "a-shared-secret-of-forty-characters-xyz!"
KEY = ec.generate_private_key(ec.SECP256R1())
PEM = (
    KEY.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)


def usage_error(argv: list[str], capsys: pytest.CaptureFixture[str], **env: str) -> str:
    with pytest.raises(SystemExit) as exited:
        parse_args(argv, env)
    assert exited.value.code == 2
    return capsys.readouterr().err


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "idp.pem"
    path.write_text(PEM)
    return path


def test_without_the_options_there_is_no_login() -> None:
    settings = parse_args([], {}).settings
    assert not settings.jwt_login
    assert (settings.auth_jwt_secret, settings.auth_jwt_public_key) == (None, None)


def test_a_shared_secret_with_its_audience_and_issuer() -> None:
    argv = ["--auth-jwt-secret", SECRET, "--auth-jwt-audience", "poker", "--auth-jwt-issuer", "me"]
    settings = parse_args(argv, {}).settings
    assert settings == ServerSettings(
        auth_jwt_secret=SECRET, auth_jwt_audience="poker", auth_jwt_issuer="me"
    )
    assert settings.jwt_login
    assert SECRET not in repr(settings)


def test_a_public_key_file_is_read_into_the_settings(key_file: Path) -> None:
    argv = ["--auth-jwt-public-key", str(key_file), "--auth-jwt-audience", "poker"]
    settings = parse_args(argv, {}).settings
    assert (settings.auth_jwt_public_key, settings.auth_jwt_audience) == (PEM, "poker")


def test_the_environment_variables(key_file: Path) -> None:
    env = {
        "REJOIN_AUTH_JWT_SECRET": SECRET,
        "REJOIN_AUTH_JWT_AUDIENCE": "poker",
        "REJOIN_AUTH_JWT_ISSUER": "https://id.example.com/",
    }
    settings = parse_args([], env).settings
    assert (settings.auth_jwt_secret, settings.auth_jwt_audience) == (SECRET, "poker")
    assert settings.auth_jwt_issuer == "https://id.example.com/"
    # The key as a file, or as the PEM text itself (a container's secret variable).
    for value in (str(key_file), PEM):
        env = {"REJOIN_AUTH_JWT_PUBLIC_KEY": value, "REJOIN_AUTH_JWT_AUDIENCE": "poker"}
        assert parse_args([], env).settings.auth_jwt_public_key == PEM


def test_a_flag_beats_its_variable() -> None:
    env = {"REJOIN_AUTH_JWT_SECRET": "x" * 40, "REJOIN_AUTH_JWT_AUDIENCE": "from-env"}
    argv = ["--auth-jwt-secret", SECRET, "--auth-jwt-audience", "from-flag"]
    settings = parse_args(argv, env).settings
    assert (settings.auth_jwt_secret, settings.auth_jwt_audience) == (SECRET, "from-flag")


def test_a_missing_key_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.pem"
    argv = ["--auth-jwt-public-key", str(missing), "--auth-jwt-audience", "poker"]
    err = usage_error(argv, capsys)
    assert f"argument --auth-jwt-public-key: cannot read '{missing}': No such file" in err


def test_a_file_that_is_not_a_public_key_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a key\n")
    err = usage_error(["--auth-jwt-public-key", str(text), "--auth-jwt-audience", "a"], capsys)
    assert "argument --auth-jwt-public-key" in err
    assert "not a PEM public key" in err
    private = tmp_path / "private.pem"
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private.write_bytes(
        rsa_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    err = usage_error(["--auth-jwt-public-key", str(private), "--auth-jwt-audience", "a"], capsys)
    assert "this is a private key: give the public one" in err
    err = usage_error([], capsys, REJOIN_AUTH_JWT_PUBLIC_KEY="-----BEGIN PUBLIC KEY-----\nx\n")
    assert "error: REJOIN_AUTH_JWT_PUBLIC_KEY: the PEM text: not a PEM public key" in err


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--auth-jwt-secret", SECRET], "--auth-jwt-audience is required with player login"),
        (["--auth-jwt-audience", "poker"], "--auth-jwt-audience and --auth-jwt-issuer need"),
        (["--auth-jwt-issuer", "me"], "--auth-jwt-audience and --auth-jwt-issuer need"),
        (
            ["--auth-jwt-secret", "short", "--auth-jwt-audience", "poker"],
            "--auth-jwt-secret must be at least 32 bytes",
        ),
        (["--auth-jwt-secret", ""], "argument --auth-jwt-secret: must not be empty"),
        (["--auth-jwt-audience", " "], "argument --auth-jwt-audience: must not be empty"),
    ],
)
def test_incomplete_login_options_are_usage_errors(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert says in usage_error(argv, capsys)


def test_a_secret_and_a_key_together_are_a_usage_error(
    key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--auth-jwt-secret", SECRET, "--auth-jwt-public-key", str(key_file)]
    err = usage_error([*argv, "--auth-jwt-audience", "poker"], capsys)
    assert "give --auth-jwt-secret (HS256) or --auth-jwt-public-key (RS256, ES256), not both" in err
    assert SECRET not in err


def test_help_shows_the_login_options_and_variables(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--help"], {})
    text = capsys.readouterr().out
    for name in (
        "--auth-jwt-secret",
        "--auth-jwt-public-key",
        "--auth-jwt-audience",
        "--auth-jwt-issuer",
        "REJOIN_AUTH_JWT_SECRET",
        "REJOIN_AUTH_JWT_PUBLIC_KEY",
        "REJOIN_AUTH_JWT_AUDIENCE",
        "REJOIN_AUTH_JWT_ISSUER",
    ):
        assert name in text


def test_the_server_with_a_missing_key_file_stops_with_one_line(tmp_path: Path) -> None:
    done = run_server_command(
        "--auth-jwt-public-key", "missing.pem", "--auth-jwt-audience", "poker", cwd=tmp_path
    )
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if "error:" in line]
    assert errors == [
        "rejoin-server: error: argument --auth-jwt-public-key: cannot read 'missing.pem': "
        "No such file or directory; give the PEM file of your identity provider's public key "
        "or certificate (RSA, or EC P-256 or P-384)"
    ]
    assert "Traceback" not in done.stderr
