"""Developer and CI entry points. `python3 -m pip install nox` is the one prerequisite.

nox -s tests   everything but the browser, on SQLite and PostgreSQL (REJOIN_TEST_POSTGRES_URL);
               then the protocol's tests again under Pyodide (Python 3.14, WebAssembly) on Node.js
nox -s e2e     the browser tests: Playwright driving Debian's Chromium (/usr/bin/chromium) against
               real server processes, with the bundle built first
nox -s lint    ruff and mypy --strict
nox -s bench   the benchmarks of bench/, with ratios against peers measured in the same run
               (`-- --quick`: short; `-- --only ws`: the WebSocket ones alone; needs node and npm)
nox -s bundle  the browser bundle: Pyodide (`npm ci` in client_sdk/web) and the SDK wheels,
               pre-compressed (brotli, gzip) in client_sdk/web/dist
nox -s serve   the server on ./rejoin.db with the demo table at / (options after --, e.g.
               nox -s serve -- --port 9000); builds the bundle first when it is missing
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import nox

nox.options.sessions = ["tests", "e2e", "lint"]
nox.options.reuse_venv = "yes"

ROOT = Path(__file__).parent
# packages/testkit (rejoin-testkit) is development only: the scaffolding of the tests and benchmarks,
# installed in every session beside the three distributions and never published. The SDK comes
# with its `bots` extra (rich, for `python -m rejoin.bots`): the tests, benchmarks and e2e run it.
PACKAGES = [
    "-e", "packages/protocol", "-e", "server", "-e", "client_sdk[bots]", "-e", "packages/testkit",
]  # fmt: skip
# The one lock of the distributions' dependencies, which declare compatible ranges.
CONSTRAINED = ["-c", "requirements/constraints.txt"]
REPORTS = ROOT / ".reports"
WEB = ROOT / "client_sdk" / "web"
PROTOCOL_PYODIDE = ROOT / "packages" / "protocol" / "pyodide"
CHROMIUM = os.environ.get("REJOIN_CHROMIUM", "/usr/bin/chromium")
BROWSER_TESTS = "e2e/browser"
# Pyodide's Python and wheel ABI (npm pyodide 314.0.7 in client_sdk/web/package-lock.json).
PYODIDE_WHEEL_TAGS = [
    "--python-version", "3.14", "--implementation", "cp", "--abi", "cp314", "--abi", "none",
    "--platform", "pyemscripten_2026_0_wasm32", "--platform", "any",
]  # fmt: skip


@nox.session
def tests(session: nox.Session) -> None:
    """Unit, contract and property tests on SQLite and PostgreSQL (PostgreSQL must be running),
    then packages/protocol's tests under Pyodide on Node.js (node and npm must be installed).
    Options after `--` go to the CPython pytest run only."""
    session.install(*CONSTRAINED, "-r", "requirements/dev.txt", *PACKAGES)
    REPORTS.mkdir(exist_ok=True)
    session.run(
        "pytest",
        f"--ignore={BROWSER_TESTS}",  # `nox -s e2e` runs those, with Chromium and the bundle
        f"--junitxml={REPORTS / 'junit-tests.xml'}",
        *session.posargs,
    )
    _protocol_tests_under_pyodide(session)


def _protocol_tests_under_pyodide(session: nox.Session) -> None:
    """rejoin_protocol must pass its tests under Pyodide too (issue 4): Pyodide from npm
    (client_sdk/web, `npm ci`), the pinned wheels of packages/protocol/pyodide/requirements.txt,
    and a rejoin_protocol wheel built now; packages/protocol/pyodide/run_tests.mjs runs them."""
    _require_node(session, "the protocol's tests under Pyodide")
    session.run("npm", "ci", "--prefix", str(WEB), "--no-audit", "--no-fund", external=True)
    wheels = Path(session.create_tmp()) / "pyodide-wheels"
    shutil.rmtree(wheels, ignore_errors=True)  # only this run's wheels may be installed
    session.run(
        "python", "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
        "--require-hashes", "--no-deps", "--only-binary=:all:", *PYODIDE_WHEEL_TAGS,
        "--dest", str(wheels), "-r", str(PROTOCOL_PYODIDE / "requirements.txt"),
    )  # fmt: skip
    session.run(
        "python", "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check", "--no-deps",
        "--wheel-dir", str(wheels), str(ROOT / "packages" / "protocol"),
    )  # fmt: skip
    session.run(
        "node", str(PROTOCOL_PYODIDE / "run_tests.mjs"),
        "--wheels", str(wheels), "--junitxml", str(REPORTS / "junit-pyodide.xml"),
        external=True,
    )  # fmt: skip


def _require_node(session: nox.Session, why: str) -> None:
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            session.error(
                f"`{tool}` is not on PATH: {why} needs Node.js 20+ and npm "
                "(e.g. `apt-get install -y nodejs npm`)"
            )


def _build_bundle(session: nox.Session) -> None:
    """Pyodide (`npm ci` in client_sdk/web, pinned by its package-lock.json) and the SDK wheels
    (client_sdk/web/build_bundle.py → client_sdk/web/dist), as the server serves them: each file
    with its brotli and gzip copies (brotli from requirements/bundle.txt). Pyodide's copies are
    remade only when its files change (the first build takes ~1 min, a later one seconds)."""
    _require_node(session, "the browser bundle (Pyodide from npm)")
    session.install("-r", "requirements/bundle.txt")
    session.run("npm", "ci", "--prefix", str(WEB), "--no-audit", "--no-fund", external=True)
    session.run("python", str(WEB / "build_bundle.py"))


@nox.session
def bundle(session: nox.Session) -> None:
    """The browser bundle the server serves at /pyodide/ and /sdk/ (see client_sdk/web)."""
    _build_bundle(session)


@nox.session
def e2e(session: nox.Session) -> None:
    """The browser tests (e2e/browser): Python Playwright driving Debian's Chromium against real
    server processes, after building the bundle. Missing Chromium fails the session (it never
    skips). Options after `--` go to pytest, e.g. `nox -s e2e -- -k reload`."""
    if not Path(CHROMIUM).exists():
        session.error(
            f"Chromium not found at {CHROMIUM}: install it with `apt-get install -y chromium` "
            "(Debian's; `playwright install` cannot download browsers here), or point "
            "REJOIN_CHROMIUM at a Chromium executable"
        )
    session.install(*CONSTRAINED, "-r", "requirements/e2e.txt", *PACKAGES)
    _build_bundle(session)
    REPORTS.mkdir(exist_ok=True)
    session.run(
        "pytest", BROWSER_TESTS, f"--junitxml={REPORTS / 'junit-e2e.xml'}", *session.posargs
    )


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint and format) and mypy --strict over every Python part of the repository."""
    session.install(
        *CONSTRAINED,
        "-r", "requirements/dev.txt", "-r", "requirements/bench.txt", "-r", "requirements/e2e.txt",
        *PACKAGES,
    )  # fmt: skip
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run(
        "mypy",
        "packages/protocol/src",
        "packages/testkit/src",
        "server/src",
        "client_sdk/src",
        "client_sdk/tests",
        "client_sdk/examples",
        "server/tests",
        "packages/protocol/tests",
        "bench",
        "migrations",
        "e2e",
        "examples/liars_dice",
        "examples/embedded",
    )


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks: median and p99 of ours and of peers, and the ratios. Not a test: no pass/fail.
    `-- --quick` for short counts, `-- --only ws` (or rtt, fanout, storm, peer) for the WebSocket
    benchmarks alone, `-- --only browser` for the browser ones (Chromium). The Socket.IO peer and
    the browser bundle need Node.js and npm; `npm ci` installs their pinned packages
    (bench/peers/socketio/package-lock.json, client_sdk/web/package-lock.json)."""
    session.install(*CONSTRAINED, "-r", "requirements/bench.txt", *PACKAGES)
    _require_node(session, "the Socket.IO peer (bench/peers/socketio) and the browser bundle")
    with session.chdir(ROOT / "bench" / "peers" / "socketio"):
        session.run("npm", "ci", "--no-audit", "--no-fund", external=True)
    _build_bundle(session)  # the browser benchmarks boot the table page in Chromium
    session.run("python", "bench/run.py", *session.posargs)


def _install_once(session: nox.Session, *args: str) -> None:
    """`session.install(*args)`, skipped when this environment already has them: the packages
    are installed editable (a change to their code needs no install), so only a change to what
    they require does, and that is in the files hashed here. A restart with `nox -s serve` then
    takes a second, not the 7-12 s of pip checking every requirement again."""
    inputs = [ROOT / "requirements" / "constraints.txt"]
    folders = [ROOT / path.partition("[")[0] for path in args]  # `client_sdk[bots]`: its folder
    inputs += [folder / "pyproject.toml" for folder in folders if folder.is_dir()]
    digest = hashlib.sha256(repr(args).encode())
    for path in inputs:
        digest.update(path.read_bytes())
    stamp = Path(session.virtualenv.location) / ".rejoin-installed"
    if stamp.is_file() and stamp.read_text() == digest.hexdigest():
        session.log("packages up to date in this environment (no install)")
        return
    session.install(*args)
    stamp.write_text(digest.hexdigest())


@nox.session
def serve(session: nox.Session) -> None:
    """The server, as a user runs it: `rejoin-server` on ./rejoin.db (or REJOIN_DATABASE_URL),
    with the lobby and demo table at http://127.0.0.1:8000/. Options after `--` go to
    `rejoin-server`, e.g. `nox -s serve -- --port 9000`."""
    _install_once(session, *CONSTRAINED, *PACKAGES)
    # The demo table works from this one command: the bundle is built when it is missing (an
    # existing one is kept; `nox -s bundle` rebuilds it after changing the SDK).
    if (
        not (WEB / "dist" / "manifest.json").is_file()
        or not (WEB / "dist" / "pyodide").is_dir()  # a bundle of the layout before Pyodide's copy
        or not (WEB / "node_modules" / "pyodide" / "pyodide.mjs").is_file()
    ):
        _build_bundle(session)
    # A flag beats REJOIN_DATABASE_URL: the default is passed only when that is unset.
    database = (
        [] if os.environ.get("REJOIN_DATABASE_URL") else ["--database-url", "sqlite:///./rejoin.db"]
    )
    session.run("rejoin-server", *database, *session.posargs)
