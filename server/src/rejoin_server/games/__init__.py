"""Games the server can host, behind the small interface of `games.base`."""
