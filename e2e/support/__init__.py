"""What the e2e tests stand on: server processes, databases, a PostgreSQL cluster of their own,
an HTTP client for the API and poker helpers. Nothing here imports the server."""
