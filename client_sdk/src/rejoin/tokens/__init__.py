"""Token stores: where a client keeps its seat (reconnect token, session token, player id,
client id, last seq) per game, so that it can resume after it or the server died.

- `MemoryTokenStore`: a dict; gone with the process.
- `FileTokenStore(path)`: a JSON file, mode 0600, replaced atomically on every save.
- `BrowserTokenStore()`: `localStorage` under Pyodide (any Web Storage object can be passed in).
"""

from rejoin.tokens.browser_store import BrowserTokenStore, WebStorage
from rejoin.tokens.file_store import FileTokenStore
from rejoin.tokens.seat import MemoryTokenStore, SavedSeat, TokenStore, TokenStoreCorrupt

__all__ = [
    "BrowserTokenStore",
    "FileTokenStore",
    "MemoryTokenStore",
    "SavedSeat",
    "TokenStore",
    "TokenStoreCorrupt",
    "WebStorage",
]
