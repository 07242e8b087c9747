"""The OpenAPI document says what the server does: schemathesis (its CLI, in a child process)
against a real `python -m rejoin_server`, with every conformance check that applies.

Every check is on: not_a_server_error, status_code_conformance, content_type_conformance,
response_headers_conformance, response_schema_conformance, negative_data_rejection (what the
schema refuses, the server refuses), positive_data_acceptance (what it admits, the server
accepts), missing_required_header, unsupported_method (405 with `Allow`), allow_header_conformance,
ignored_auth, use_after_free, ensure_resource_availability, object_level_authorization (each where
it applies; max_response_time needs a budget, and this is no benchmark); plus
`schemathesis_hooks.py`'s check for the rules between fields or with the game's state that no
schema can state. Phases: coverage (boundaries, missing and unexpected parts, undeclared methods),
fuzzing, and stateful (sequences through the links schemathesis infers, e.g. create then join).

Requests carry the session token of a seated player who is not to act, at a table of nine seats
whose clocks never run out, so the table stays the same game whatever is sent: most cases name
that table (a dictionary binding), the others ids schemathesis draws. The rate limits are off: a
fuzzer is a client far above any limit. SQLite is enough; the seed is fixed, so a failure replays.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from e2e.support.spawn import Spawn
from rejoin_testkit.api import Api
from rejoin_testkit.processes import ServerProcess
from rejoin_testkit.tables import Table

HOOKS = Path(__file__).with_name("schemathesis_hooks.py")
SEED = 20261204
MAX_EXAMPLES = 100  # per operation and phase: the run takes about 30 s on two cores
RUN_TIMEOUT_S = 200
RATE_LIMITS_OFF = (
    "--rate-create", "off", "--rate-join", "off", "--rate-token", "off",
    "--rate-force-persist", "off",
)  # fmt: skip
OUTPUT_CHARS = 30_000
# Where a 422 may answer schema-valid data: each has its rule in schemathesis_hooks.RULES, whose
# check fails any such 422 that no rule explains. (Not imported from there: importing schemathesis
# patches Hypothesis for the whole pytest process.)
RELAXED = (
    ("POST", "/api/games"),
    ("POST", "/api/game/{gameId}/join"),
    ("POST", "/api/game/{gameId}/reconnect"),
    ("POST", "/api/game/{gameId}/persist"),
    ("POST", "/api/game/{gameId}/action"),
)


def config(server: ServerProcess, game_id: str, session: str) -> str:
    relaxed = "".join(
        f"""
[[operations]]
include-method = "{method}"
include-path = "{path}"
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "404", "409", "422"]
"""
        for method, path in RELAXED
    )
    return f"""
base-url = "{server.url}"
seed = {SEED}
workers = 1
color = false
continue-on-failure = true
request-timeout = 10
hooks = "{HOOKS}"

[generation]
max-examples = {MAX_EXAMPLES}

[checks]
enabled = true

[auth.openapi.bearer]
bearer = "{session}"

[dictionaries.table]
values = ["{game_id}"]

[parameters]
"path.gameId" = {{ dictionary = "table", probability = 0.8 }}
# A body's gameId must be the path's (a rule between fields): the table, whenever it is given.
"body.gameId" = {{ dictionary = "table", probability = 1.0 }}

# An event stream never ends: one event is enough to check, and a stream with nothing to send
# yet is cut after a second.
[[operations]]
include-path = "/api/game/{{gameId}}/events"
max-stream-events = 1
request-timeout = 1
{relaxed}"""


def test_the_server_does_what_its_openapi_document_says(
    spawn: Spawn, tmp_path: Path, make_api: Callable[[ServerProcess], Api]
) -> None:
    server = spawn(f"sqlite:///{tmp_path / 'rejoin.db'}", *RATE_LIMITS_OFF)
    api = make_api(server)
    table = Table.create(api, seats=9, actionTimeoutMs=86_400_000, autoNextHand=False)
    first, second = table.join_many(2)
    table.start()
    waiting = second if table.to_act() is first else first
    (tmp_path / "schemathesis.toml").write_text(config(server, table.game_id, waiting.session))
    paths = api.request("GET", "/openapi.json").ok()["paths"]
    # Every operation but the document itself, which schemathesis does not test.
    operations = sum(len(ops) for path, ops in paths.items() if path != "/openapi.json")

    began = time.monotonic()
    done = subprocess.run(  # noqa: S603 - argv is built here, not from input
        [
            sys.executable, "-m", "schemathesis.cli",
            "--config-file", str(tmp_path / "schemathesis.toml"),
            "run", f"{server.url}/openapi.json",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )  # fmt: skip
    took = time.monotonic() - began
    out = done.stdout + done.stderr
    shown = out if len(out) <= OUTPUT_CHARS else f"…{out[-OUTPUT_CHARS:]}"
    assert done.returncode == 0, f"schemathesis found the server and its document apart:\n{shown}"

    # A run that tested nothing would pass too: it must have reached every operation and phase.
    assert f"Tested: {operations}" in out, shown
    for phase in ("Coverage", "Fuzzing", "Stateful"):
        assert re.search(rf"✅ {phase}\b", out), f"the {phase} phase did not pass:\n{shown}"
    counted = re.search(r"(\d+) generated, (\d+) passed", out)
    assert counted is not None, shown
    generated, passed = map(int, counted.groups())
    assert generated == passed >= 1000, shown
    print(f"schemathesis: {generated} cases over {operations} operations in {took:.1f} s")
    # The table was never disturbed into another game: the hand is still the first one.
    assert waiting.view()["handNumber"] == 1
    assert "Traceback" not in server.log(), server.log_tail()
