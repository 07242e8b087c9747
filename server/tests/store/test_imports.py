"""The store's runtime path imports no SQLAlchemy, SQLModel, pydantic or Alembic: they cost
hundreds of milliseconds of start-up, and a restarted server must answer reconnects within well
under a second. Checked in a fresh interpreter that runs every `SqlGameStore` method."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HEAVY = ("sqlalchemy", "sqlmodel", "pydantic", "alembic")

SCRIPT = """
import asyncio
import sys

sys.path.insert(0, sys.argv[2])
import rejoin_server.store.migrate
import rejoin_server.store.restore
import rejoin_server.store.sql
from counter_game import CounterEngine
from rejoin_server.games.base import Act
from rejoin_server.games.kinds import GameKinds
from rejoin_server.store import SqlGameStore, migrate
from rejoin_server.store.base import TokenRow
from rejoin_server.store.restore import restore_game, take_snapshot

URL = sys.argv[1]


async def main() -> None:
    assert migrate.is_current(URL)
    store = SqlGameStore(URL)
    await store.open()
    try:
        engine = CounterEngine()
        for game_id, target in (("g1", 99), ("g2", 1)):  # g2 completes at once
            await store.create_game(game_id, "counter", {"target": target}, 1)
            state = engine.new_game(game_id, {"target": target})
            for n in range(1, 6):
                events = state.handle(Act("p", "add", {"amount": n}), 10 + n)
                snap = take_snapshot(state) if n == 3 else None
                await store.append(
                    game_id, events, status=state.status, now_ms=10 + n, snapshot=snap,
                    action_id=f"a{n}",
                )
        assert (await restore_game(store, GameKinds([engine]), "g1")).state.dump()["total"] == 15
        assert len(await store.read_events("g1", 0)) == 5
        assert (await store.load("g1")).game.last_seq == 5
        assert await store.recent_actions("g1", limit=2) == {"a4": 4, "a5": 5}
        assert [g.game_id for g in await store.list_games()] == ["g1", "g2"]
        assert (await store.get_game("g2")).status == "completed"
        first = TokenRow("j1", "g1", "p", 1, 100)
        await store.insert_token(first)
        use = await store.consume_token(
            "j1", client_id="c", now_ms=2, replacement=TokenRow("j2", "g1", "p", 2, 200)
        )
        assert use.won
        assert (await store.get_token("j2")) is not None
        assert await store.delete_expired_tokens(150) == 1
        assert await store.signing_keys("secret", 1) == ["secret"]
        assert (await store.usage()).games == 2
        assert await store.evict_completed(0) == []
        assert await store.evict_for_quota(max_games=1, max_bytes=None) == ["g2"]
        assert (await store.delete_game("g1")).games == 1
    finally:
        await store.close()


asyncio.run(main())
loaded = sorted({name.split(".")[0] for name in sys.modules})
print(" ".join(loaded))
"""


def loaded_by_a_store_run(database_url: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, database_url, str(Path(__file__).parent)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


def test_a_running_store_imports_no_orm(database_url: str) -> None:
    loaded = loaded_by_a_store_run(database_url)
    assert not loaded & set(HEAVY)
    if database_url.startswith("sqlite"):  # and a server on SQLite never loads psycopg
        assert "psycopg" not in loaded


def test_importing_the_store_package_loads_no_sql_store() -> None:
    script = (
        "import sys\n"
        "import rejoin_server.store, rejoin_server.store.memory, rejoin_server.store.migrate\n"
        "assert 'rejoin_server.store.sql' not in sys.modules\n"
        "from rejoin_server.store import SqlGameStore\n"
        "assert SqlGameStore.__module__ == 'rejoin_server.store.sql'\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)


def test_the_server_needs_no_pytest() -> None:
    # pytest is a dependency of `rejoin_server.testing` only (the `testing` extra): every other
    # module imports with it missing.
    script = (
        "import importlib, pkgutil, sys\n"
        "sys.modules['pytest'] = None  # as if it were not installed: importing it fails\n"
        "import rejoin_server\n"
        "for module in pkgutil.walk_packages(rejoin_server.__path__, 'rejoin_server.'):\n"
        "    skip = module.name.startswith('rejoin_server.testing')\n"
        "    skip = skip or module.name.endswith('__main__')  # which starts a server\n"
        "    if not skip:\n"
        "        importlib.import_module(module.name)\n"
        "try:\n"
        "    import rejoin_server.testing.store_contract\n"
        "except ImportError:\n"
        "    pass\n"
        "else:\n"
        "    raise AssertionError('the contract suite imported without pytest')\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
