"""A SQLite file is served by one process: a second `rejoin-server` on it refuses to start (exit 2,
one line naming the file) and leaves the first serving; once the first is gone, even by kill -9,
the file serves again at once. PostgreSQL is where several nodes share one database."""

from __future__ import annotations

from pathlib import Path

from e2e.support.spawn import Spawn
from rejoin_testkit.api import Api
from rejoin_testkit.processes import free_port, run_server_command
from rejoin_testkit.tables import Table


def test_a_second_server_on_the_same_sqlite_file_refuses_to_start(
    spawn: Spawn, tmp_path: Path
) -> None:
    database = tmp_path / "one.db"
    url = f"sqlite:///{database}"
    first = spawn(url)
    api = Api(first.url, "unused-admin-token")
    try:
        table = Table.create(api, seats=2)
        table.join("alice")

        second = run_server_command(
            "--port", str(free_port()), "--database-url", url, cwd=tmp_path, timeout=30
        )
        assert second.returncode == 2, second.stderr
        assert "another rejoin-server is serving the SQLite database" in second.stderr
        assert str(database) in second.stderr
        assert "Traceback" not in second.stderr
        assert second.stderr.count("\n") == 1, second.stderr  # one line, nothing else

        # The first server was not disturbed: its table is still there.
        assert table.view()["gameId"] == table.game_id

        first.kill9()
        first.start()  # the kernel dropped the lock with the process: no stale lock to wait on
        first.wait_ready()
        assert Table.create(api, seats=2).game_id
    finally:
        api.close()
