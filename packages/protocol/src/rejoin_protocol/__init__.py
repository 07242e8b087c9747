"""rejoin's wire protocol, shared by the server and the client SDK. Standard library only."""

from rejoin_protocol.errors import ErrorCode

__all__ = ["ErrorCode"]
