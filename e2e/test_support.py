"""The test machinery on its own (rejoin_testkit and e2e/support): process control against a
stand-in server, the throwaway PostgreSQL cluster, fresh databases, and the pure helpers."""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from e2e.support.databases import Rows
from e2e.support.pgcluster import ThrowawayPostgres
from e2e.support.poker import cards_in
from e2e.support.rawhttp import read_answer, until_closed
from rejoin_testkit.api import parse_utc
from rejoin_testkit.fixtures import postgres_database
from rejoin_testkit.polling import WaitTimeout, wait_for
from rejoin_testkit.processes import ServerProcess, free_port

ROOT = Path(__file__).parent.parent
FAKE = [sys.executable, "-m", "e2e.support.fake_server"]


def fake_server(tmp_path: Path, *args: str, open_files: int | None = None) -> ServerProcess:
    env = {"PYTHONPATH": str(ROOT)}
    return ServerProcess(
        tmp_path / "fake.log", command=FAKE, args=args, env=env, open_files=open_files
    )


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); ServerProcess reaps, so this is a live process.
    return True


def test_server_process_kill9_restart_terminate(tmp_path: Path) -> None:
    server = fake_server(tmp_path, "--delay", "0.3")
    try:
        server.start()
        health = server.wait_ready(timeout=10)
        assert health["status"] == "ok"
        first_pid = server.pid
        assert first_pid is not None
        assert "fake-server listening" in server.log()

        server.kill9()
        assert server.returncode == -9
        assert not alive(first_pid)
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{server.url}/healthz", timeout=1)

        port = server.port
        took = server.restart(timeout=10)
        assert server.port == port
        assert server.pid != first_pid
        assert 0.3 <= took < 10
        assert server.terminate() == 0
        assert "SIGTERM, bye" in server.log()
        assert server.log().count("=== testkit: start #") == 2
    finally:
        server.cleanup()


def test_stamped_stdout_says_when_each_line_came_and_restarts_afresh(tmp_path: Path) -> None:
    """What the benchmarks time a restart with: stdout read line by line, each line stamped."""
    server = ServerProcess(
        tmp_path / "fake.log", command=FAKE, env={"PYTHONPATH": str(ROOT)}, stamp_stdout=True
    )
    try:
        server.start_ready(timeout=10)
        listening = server.line_at("fake-server listening")
        assert listening is not None
        assert server.started_at <= listening <= time.perf_counter()
        assert server.line_at("no such line") is None
        assert "fake-server listening" not in server.log()  # stdout went to the stamps

        first_start = server.started_at
        server.kill9()
        server.start_ready(timeout=10)
        assert server.started_at > first_start
        again = server.line_at("fake-server listening")
        assert again is not None
        assert again >= server.started_at  # the lines of the newest start only
    finally:
        server.cleanup()


def test_a_command_that_takes_its_port_otherwise_gets_no_address_flags(tmp_path: Path) -> None:
    port = free_port()
    server = ServerProcess(
        tmp_path / "fake.log",
        command=[*FAKE, "--port", str(port)],
        env={"PYTHONPATH": str(ROOT)},
        port=port,
        address_flags=False,
    )
    assert server.argv == [*FAKE, "--port", str(port)]
    try:
        assert server.start_ready(timeout=10).wait_ready()["status"] == "ok"
    finally:
        server.cleanup()


def test_wait_ready_fails_with_the_log_when_the_server_exits(tmp_path: Path) -> None:
    server = fake_server(tmp_path, "--exit-code", "3")
    server.start()
    with pytest.raises(AssertionError, match=r"exited with code 3(.|\n)*failing on purpose"):
        server.wait_ready(timeout=10)


def test_wait_ready_times_out_with_the_log(tmp_path: Path) -> None:
    server = fake_server(tmp_path, "--delay", "30")
    try:
        server.start()
        with pytest.raises(WaitTimeout, match="healthz"):
            server.wait_ready(timeout=0.5)
    finally:
        server.cleanup()
    assert not server.running


def test_wait_for_returns_the_first_truthy_result() -> None:
    calls: list[int] = []

    def probe() -> int | None:
        calls.append(1)
        return len(calls) if len(calls) >= 3 else None

    assert wait_for(probe, timeout=5, what="three calls", interval=0.001) == 3
    with pytest.raises(WaitTimeout, match="never"):
        wait_for(lambda: None, timeout=0.05, what="never", detail=lambda: "context")


@pytest.mark.postgres
def test_throwaway_postgres_stops_and_starts_on_the_same_port() -> None:
    cluster = ThrowawayPostgres()
    try:
        cluster.start()
        with psycopg.connect(cluster.url, autocommit=True) as conn:
            conn.execute("CREATE TABLE t (x int)")
            conn.execute("INSERT INTO t VALUES (1)")
        cluster.stop("immediate")
        assert not cluster.is_running()
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(cluster.url, connect_timeout=2)
        cluster.start()
        assert cluster.is_running()
        with psycopg.connect(cluster.url) as conn:
            assert conn.execute("SELECT x FROM t").fetchall() == [(1,)]
        cluster.stop("fast")
        cluster.start()
    finally:
        cluster.cleanup()
    assert not cluster.root.exists()


@pytest.mark.postgres
def test_postgres_database_is_fresh_and_dropped() -> None:
    with postgres_database() as url:
        rows = Rows(url)
        assert rows.query("SELECT current_database()")[0][0] in url
        rows.execute("CREATE TABLE t (x int)")
        rows.execute("INSERT INTO t VALUES (?)", [7])
        assert rows.query("SELECT x FROM t WHERE x = ?", [7]) == [(7,)]
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=2)


def test_rows_on_sqlite(tmp_path: Path) -> None:
    rows = Rows(f"sqlite:///{tmp_path / 'x.db'}")
    rows.execute("CREATE TABLE t (x int)")
    assert rows.execute("INSERT INTO t VALUES (?)", [1]) == 1
    assert rows.query("SELECT x FROM t") == [(1,)]


def test_cards_in_finds_single_and_run_together_cards() -> None:
    value = {"a": ["As", None, {"Kd": 1}], "c": "Th9c2s", "name": "Ask", "id": "deadbeef"}
    assert cards_in(value) == {"As", "Kd", "Th", "9c", "2s"}


def test_parse_utc() -> None:
    assert parse_utc("2026-11-28T10:00:00.123Z").year == 2026
    assert parse_utc("2026-11-28T10:00:00+00:00").hour == 10
    for bad in ("2026-11-28T10:00:00", "2026-11-28T10:00:00+01:00", "yesterday", 17):
        with pytest.raises(AssertionError):
            parse_utc(bad)


def test_spawn_fixture_kills_leftovers(tmp_path: Path) -> None:
    # What the `spawn` fixture does at teardown, shown on a stand-in that would run for a minute.
    server = fake_server(tmp_path, "--delay", "60")
    server.start()
    pid = server.pid
    assert pid is not None
    server.cleanup()
    deadline = time.monotonic() + 5
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not alive(pid)


def test_open_files_is_the_servers_limit_soft_and_hard(tmp_path: Path) -> None:
    server = fake_server(tmp_path, open_files=300)
    try:
        server.start_ready(timeout=10)
        limits = Path(f"/proc/{server.pid}/limits").read_text().splitlines()
        (line,) = [line for line in limits if line.startswith("Max open files")]
        assert line.split()[3:5] == ["300", "300"]
    finally:
        server.cleanup()


def test_until_closed_trickles_bytes_and_times_the_close() -> None:
    ours, theirs = socket.socketpair()
    got = bytearray()

    def peer() -> None:
        with theirs:
            while len(got) < 3:
                got.extend(theirs.recv(1))
            theirs.sendall(b"bye")

    thread = threading.Thread(target=peer)
    thread.start()
    with ours:
        took, received = until_closed(ours, 5, trickle=b"abcdef", every=0.05)
    thread.join()
    assert bytes(got) == b"abc"
    assert received == b"bye"
    assert 0.15 <= took < 2


def test_read_answer_reads_to_the_close_and_finds_the_status() -> None:
    ours, theirs = socket.socketpair()
    with ours:
        with theirs:
            theirs.sendall(b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n")
        answer, took = read_answer(ours, timeout=5)
    assert answer.status == 503
    assert answer.closed_at is not None
    assert took < 2
