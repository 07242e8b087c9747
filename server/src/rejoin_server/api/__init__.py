"""The HTTP API of DESIGN §2: one module per group of endpoints, plus bodies, auth and answers."""
