"""packages/protocol/tests inside Pyodide: imported and called by run_tests.mjs, never by CPython.

`main` first repeats, in this fresh interpreter, the standard-library-only check that the CPython
suite makes in a child process, then runs pytest over the tests with the repository's pytest
configuration, minus the tests listed in DESELECTED. It returns the process exit status: pytest's,
or 1 when pytest says success but no test passed, or a test was skipped (CI counts a skip as a
failure), or the standard-library check failed.

Nothing outside the standard library may be imported at module level here: the check must see an
interpreter in which only Pyodide's own start-up modules are loaded.
"""

from __future__ import annotations

import sys
from typing import Any

# Tests that cannot run under Pyodide, by node id (parametrized ids match by their prefix), with
# why. They still run under CPython: `nox -s tests` runs the whole suite there first. A listed id
# that is no longer collected fails a full run, so this list cannot silently outlive its tests.
DESELECTED = {
    "packages/protocol/tests/test_messages.py::test_messages_imports_nothing_outside_the_standard_library": (
        "it starts a child interpreter with subprocess, and Emscripten has no processes "
        "(OSError: [Errno 138]); its check runs in-process instead, before pytest is imported"
    ),
}

# The repository's pytest configuration sets options of pytest-asyncio, which the protocol tests
# do not use and which is not installed here: declared, so that they do not warn as unknown.
FOREIGN_INI_OPTIONS = ["asyncio_mode", "asyncio_default_fixture_loop_scope"]


def stdlib_only_check() -> list[str]:
    """The modules outside the standard library that `import rejoin_protocol.messages` loads."""
    before = set(sys.modules)
    import rejoin_protocol.messages  # noqa: F401  (imported for its side effect on sys.modules)

    tops = {name.partition(".")[0] for name in set(sys.modules) - before}
    return sorted(tops - set(sys.stdlib_module_names) - {"rejoin_protocol"})


class DeselectForPyodide:
    """Drops the DESELECTED tests, says why, and records the outcome counts for the summary."""

    def __init__(self, *, full_run: bool, on_test_start: Any = None) -> None:
        self.full_run = full_run
        self.on_test_start = on_test_start
        self.dropped: list[str] = []
        self.counts: dict[str, int] = {}

    def pytest_addoption(self, parser: Any) -> None:
        for name in FOREIGN_INI_OPTIONS:
            parser.addini(name, "pytest-asyncio's (not installed under Pyodide; unused here)")

    def pytest_collection_modifyitems(self, config: Any, items: list[Any]) -> None:
        keep: list[Any] = []
        drop: list[Any] = []
        for item in items:
            (drop if item.nodeid.partition("[")[0] in DESELECTED else keep).append(item)
        stale = set(DESELECTED) - {item.nodeid.partition("[")[0] for item in drop}
        if self.full_run and stale:
            import pytest

            raise pytest.UsageError(
                "pytest_in_pyodide.DESELECTED names tests that were not collected: "
                + ", ".join(sorted(stale))
            )
        if drop:
            items[:] = keep
            config.hook.pytest_deselected(items=drop)
            self.dropped = [item.nodeid for item in drop]
            for nodeid in self.dropped:
                print(
                    f"\nDESELECTED under Pyodide (runs under CPython): {nodeid}\n"
                    f"  because {DESELECTED[nodeid.partition('[')[0]]}"
                )

    def pytest_runtest_logstart(self, nodeid: str, location: Any) -> None:
        # A fatal Pyodide error (e.g. the JavaScript stack overflowing) kills the interpreter
        # mid-test, with no report: run_tests.mjs names the test from this.
        if self.on_test_start is not None:
            self.on_test_start(nodeid)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        self.counts = {
            key: len(values) for key, values in terminalreporter.stats.items() if key != "warnings"
        }
        if self.dropped:
            terminalreporter.write_sep("=", "deselected under Pyodide only")
            for nodeid in self.dropped:
                terminalreporter.write_line(f"{nodeid}: {DESELECTED[nodeid.partition('[')[0]]}")


def main(junitxml: str | None, extra_args: list[str], on_test_start: Any = None) -> int:
    import platform

    print(f"Python {sys.version} on {sys.platform} ({platform.machine()})")

    outside = stdlib_only_check()
    import rejoin_protocol

    print(f"rejoin_protocol from {rejoin_protocol.__file__}")
    if outside:
        print(f"FAILED: rejoin_protocol.messages imports outside the standard library: {outside}")
    else:
        print("standard-library-only check (in-process, before pytest): passed")

    import pytest

    plugin = DeselectForPyodide(full_run=not extra_args, on_test_start=on_test_start)
    args = ["packages/protocol/tests", "-p", "no:cacheprovider"]
    if junitxml:
        args.append(f"--junitxml={junitxml}")
    status = int(pytest.main([*args, *extra_args], plugins=[plugin]))

    counts = plugin.counts
    summary = ", ".join(f"{n} {key}" for key, n in sorted(counts.items()) if key) or "nothing ran"
    print(
        f"\nPyodide summary: Python {platform.python_version()} ({sys.platform}): {summary}"
        f"; standard-library-only check {'FAILED' if outside else 'passed'}"
    )
    problems = []
    if outside:
        problems.append("the standard-library-only check failed")
    if not counts.get("passed"):
        problems.append("no test passed")
    if counts.get("skipped"):
        problems.append(f"{counts['skipped']} test(s) skipped (CI counts a skip as a failure)")
    if problems and status == 0:
        status = 1
    for problem in problems:
        print(f"FAILED: {problem}")
    return status
