"use strict";
// The Socket.IO 4 peer server of bench/ws_peer.py: `node server.js PORT`.
//
// WebSocket transport only (as our server), no compression (its default, as ours), connection
// state recovery on: a socket cut by a transport close keeps its session for 2 minutes, and on
// reconnection the server replays every packet the client missed (in memory, the default
// adapter). `POST /emit?n=N` broadcasts N events, each {seq, kind, at, data} shaped like one of our
// `action` events, with a counter as `seq`, and answers {"counter": …}. `GET /healthz` answers 200.
const http = require("http");
const { Server } = require("socket.io");

const port = Number(process.argv[2]);
let counter = 0;

const httpServer = http.createServer((req, res) => {
  const url = new URL(req.url, "http://127.0.0.1");
  if (req.method === "POST" && url.pathname === "/emit") {
    const n = Number(url.searchParams.get("n") || "1");
    for (let i = 0; i < n; i += 1) {
      counter += 1;
      io.emit("event", {
        seq: counter,
        kind: "action",
        at: Date.now(),
        data: { seat: counter % 6, type: "call", amount: 2 },
      });
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ counter }));
  } else if (url.pathname === "/healthz") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ status: "ok", clients: io.engine.clientsCount, counter }));
  } else {
    res.writeHead(404);
    res.end();
  }
});

const io = new Server(httpServer, {
  transports: ["websocket"],
  connectionStateRecovery: { maxDisconnectionDuration: 2 * 60 * 1000, skipMiddlewares: true },
});
io.on("connection", () => {});

httpServer.listen(port, "127.0.0.1", () => {
  process.stdout.write(`listening on 127.0.0.1:${port}\n`);
});
