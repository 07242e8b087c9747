"""What rejoin's tests and benchmarks stand on, in one place: server processes, throwaway PostgreSQL
databases, and an HTTP driver for tables. Nothing here imports the server: it is driven from the
outside, as a user runs it."""
