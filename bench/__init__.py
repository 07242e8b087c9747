"""rejoin's benchmarks: `python bench/run.py [--quick]` (or `nox -s bench`). See `bench.suite`."""
