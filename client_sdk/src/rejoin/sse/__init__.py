"""The SSE transport: the game's events over Server-Sent Events and its requests over plain HTTP,
for networks that block WebSocket upgrades.

`bridge.SseBridge` (sans-I/O) speaks HTTP to the server and the WebSocket protocol's frames to the
unchanged `ClientSession`; `parser.SseParser` reads the stream; `link.SseLink` (httpx, CPython)
and `rejoin.browser.sse_link` (the browser's `fetch`, Pyodide) only do the I/O they are told.
"""
