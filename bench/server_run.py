"""`python bench/server_run.py [--quick]`: the server benchmarks alone (`nox -s bench` runs them
after the store benchmarks, through `bench.suite`)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console

from bench import server_suite
from bench.databases import bench_databases


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench/server_run.py", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small counts: a smoke test")
    args = parser.parse_args(argv)
    console = Console(width=None if sys.stdout.isatty() else 180)
    began = time.perf_counter()
    with bench_databases() as dbs:
        results = server_suite.run(dbs, console, quick=args.quick)
    server_suite.render(results, console)
    console.print(f"Total {time.perf_counter() - began:.0f} s.", highlight=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
