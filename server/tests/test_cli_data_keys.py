"""Data keys on the command line: `REJOIN_DATA_KEYS`, `--data-key-file` (`REJOIN_DATA_KEY_FILE`),
for `serve` and `rekey`; a malformed key is one usage error naming where it came from and which
key, never the key itself."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from rejoin_server.cli import parse_args

A, B = secrets.token_urlsafe(32), secrets.token_urlsafe(32)


def refused(argv: list[str], env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exited:
        parse_args(argv, env)
    assert exited.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[-1].startswith("rejoin-server")
    return lines[-1]


def test_keys_from_the_environment_newest_first() -> None:
    assert parse_args([], {"REJOIN_DATA_KEYS": f" {A} , {B} "}).settings.data_keys == (A, B)
    assert parse_args([], {}).settings.data_keys == ()


def test_keys_from_a_file_skip_blank_lines_and_comments(tmp_path: Path) -> None:
    path = tmp_path / "keys"
    path.write_text(f"# newest first\n{A}\n\n{B}\n")
    path.chmod(0o600)
    assert parse_args(["--data-key-file", str(path)], {}).settings.data_keys == (A, B)
    env = {"REJOIN_DATA_KEY_FILE": str(path)}
    assert parse_args(["rekey"], env).settings.data_keys == (A, B)


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("c2hvcnQ", "not 32 bytes in URL-safe base64 (43 characters)"),
        ("x" * 43 + "!", "not URL-safe base64"),
        (secrets.token_urlsafe(16), "not 32 bytes"),
    ],
)
def test_a_malformed_key_names_the_variable_and_its_place(
    value: str, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    message = refused([], {"REJOIN_DATA_KEYS": f"{A},{value}"}, capsys)
    assert "REJOIN_DATA_KEYS (key 2 of 2): it is" in message
    assert says in message
    assert "secrets.token_urlsafe(32)" in message
    assert value not in message
    assert A not in message


def test_a_file_that_holds_no_key_or_a_bad_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty"
    empty.write_text("# nothing yet\n")
    assert "holds no key" in refused(["--data-key-file", str(empty)], {}, capsys)
    bad = tmp_path / "bad"
    bad.write_text(f"{A}\nnot-a-key\n")
    message = refused(["rekey", "--data-key-file", str(bad)], {}, capsys)
    assert f"--data-key-file {bad} (key 2 of 2): it is not" in message


def test_keys_given_twice_over_or_twice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "keys"
    path.write_text(A)
    both = refused(["--data-key-file", str(path)], {"REJOIN_DATA_KEYS": B}, capsys)
    assert "REJOIN_DATA_KEYS and --data-key-file both give data keys" in both
    assert "given twice" in refused([], {"REJOIN_DATA_KEYS": f"{A},{A}"}, capsys)


def test_rekey_needs_a_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert "no data key given" in refused(["rekey"], {}, capsys)
    invocation = parse_args(["rekey", "--batch-size", "7"], {"REJOIN_DATA_KEYS": A})
    assert (invocation.command, invocation.batch_size) == ("rekey", 7)


def test_a_key_file_others_can_read_is_warned_of_not_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "keys"
    path.write_text(f"{A}\n")
    path.chmod(0o644)
    assert parse_args(["--data-key-file", str(path)], {}).settings.data_keys == (A,)
    err = capsys.readouterr().err
    assert "warning: --data-key-file" in err
    assert "mode 0644" in err
    assert f"chmod 600 {path}" in err
    assert A not in err
    path.chmod(0o600)
    assert parse_args(["rekey", "--data-key-file", str(path)], {}).settings.data_keys == (A,)
    assert capsys.readouterr().err == ""
