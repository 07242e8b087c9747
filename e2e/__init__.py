"""End-to-end tests: real server processes, real databases, real SIGKILL (and, later, browsers)."""
