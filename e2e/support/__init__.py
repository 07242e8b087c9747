"""What only the e2e tests stand on: a PostgreSQL cluster of their own, direct access to a server's
rows, poker view readers, raw HTTP and WebSocket clients, the browser machinery. Server processes,
fresh databases and the HTTP driver they share with the other tests come from `rejoin_testkit`.
Nothing here imports the server, except `guess_game`: a game the servers of the generic page's
browser test load with `--game`."""
