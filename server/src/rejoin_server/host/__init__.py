"""Hosting live games: loading, the command path, clocks, and the ordered writer."""
