"""The SDK in the browser (Pyodide): the `WebSocket` link, `fetch` for the HTTP API, and the demo
table page's controller (`table`). Importable only under Pyodide (they import `js` and `pyodide`),
except `table_text`, the page's words, which is plain Python."""
