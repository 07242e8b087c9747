"""The SDK in the browser (Pyodide): the `WebSocket` link, `fetch` for the HTTP API, and the table
pages' controllers: poker's table (`table`), the generic page of any other kind of game
(`generic`), and what both share (`seat_page`). Importable only under Pyodide (they import `js`
and `pyodide`), except `table_text` (the pages' words) and `action_forms` (the generic page's
forms), which are plain Python."""
