"""The signer a server starts with: the operator's keys, or the key it generated and keeps in its
store (docs/architecture.md, "Reconnect tokens")."""

from __future__ import annotations

import secrets

from rejoin_server.settings import ServerSettings
from rejoin_server.store.base import GameStore
from rejoin_server.timefmt import now_ms
from rejoin_server.tokens.signing import TokenSigner


async def open_signer(store: GameStore, settings: ServerSettings) -> TokenSigner:
    """Keys given by the operator (REJOIN_SECRET_KEYS) sign. The key the server generated and
    kept in the store signs when none are given; once they are, it only verifies, and only for
    one token lifetime after the first start with them (tokens issued before stay valid until
    they expire; after that, whoever can read the database can no longer forge tokens). With
    `--retire-stored-key` it stops at once."""
    now = now_ms()
    token_ttl_ms, session_ttl_ms = settings.token_ttl_ms, settings.session_ttl_ms
    if not settings.secret_keys:
        stored = await store.signing_keys(secrets.token_urlsafe(32), now)
        await store.retire_signing_keys(None)
        return TokenSigner(stored, token_ttl_ms=token_ttl_ms, session_ttl_ms=session_ttl_ms)
    stored = await store.signing_keys(None, now)  # none is generated: the operator's sign
    retired_at = await store.retire_signing_keys(now) or now
    grace = 0 if settings.retire_stored_key else max(token_ttl_ms, session_ttl_ms)
    return TokenSigner(
        list(settings.secret_keys),
        token_ttl_ms=token_ttl_ms,
        session_ttl_ms=session_ttl_ms,
        retiring_keys=[key for key in stored if key not in settings.secret_keys],
        retiring_until_ms=retired_at + grace,
    )
