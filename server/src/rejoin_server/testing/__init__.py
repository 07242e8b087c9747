"""Test suites for code built on rejoin_server, run under pytest: `testing.store_contract` is the
contract every `GameStore` passes. Importing this package needs pytest and pytest-asyncio (the
`testing` extra: `pip install "rejoin-server[testing]"`); the server itself never imports it.
"""
