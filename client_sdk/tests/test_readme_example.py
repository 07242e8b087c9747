"""The README's "Use the SDK" bot is `client_sdk/examples/simple_bot.py`, and it runs as written
against a real server: it plays its hand and exits by itself."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from rejoin_testkit.processes import ServerProcess

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "client_sdk" / "examples" / "simple_bot.py"
RUN_TIMEOUT_S = 60.0  # an upper bound for hangs, never a measure of anything


def readme_bot() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Use the SDK\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    bots = [block for block in blocks if "asyncio.run(main())" in block]
    assert len(bots) == 1, "the section has one complete bot"
    bot: str = bots[0]
    return bot


def test_the_readme_bot_is_the_example_file() -> None:
    assert readme_bot() == EXAMPLE.read_text()
    assert len(EXAMPLE.read_text().splitlines()) < 30


def test_the_example_plays_a_hand_and_exits(server: ServerProcess) -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), server.url],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    # Both bots print the hand from its start to its end, and someone acted in it.
    for seat in (0, 1):
        kinds = [line.split()[2] for line in lines if line.split()[0] == str(seat)]
        assert kinds[0] == "player_joined"
        assert "hand_started" in kinds
        assert kinds[-1] == "hand_ended"
    assert any(line.split()[2] == "action" for line in lines)
