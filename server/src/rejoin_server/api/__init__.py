"""The HTTP API of docs/http-api.md: one module per group of endpoints, plus bodies, auth and answers."""
