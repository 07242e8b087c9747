"""Test suites for code built on rejoin_server; the server itself never imports this package.

- `testing.engine_contract`: the checks any game engine passes (replay equals live, dump/load round
  trip, redaction, clocks, refusals), plain functions that raise AssertionError, usable from any
  test runner; they need nothing beyond the server (docs/games.md, "Checking your engine").
- `testing.engine_rollback`: `check_rollback`, the same for an engine that supports an operator's
  rollback (`snapshot_restored`; docs/games.md, "Rolling back").
- `testing.store_contract`: the contract every `GameStore` passes, a pytest suite; it needs pytest
  and pytest-asyncio (the `testing` extra: `pip install "rejoin-server[testing]"`).
"""
