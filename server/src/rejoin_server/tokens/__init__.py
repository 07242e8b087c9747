"""Reconnect and session tokens: signing (`signing`) and single-use rows in the store (`service`)."""
