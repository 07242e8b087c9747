"use strict";
// Node clients of the transient-disconnect benchmark (bench/ws_peer.py), for both servers:
//
//   node clients.js ours SPEC.json     players of our server (`ws`), SPEC = {url, players: [...]}
//   node clients.js socketio URL N     N `socket.io-client` sockets, WebSocket transport only
//
// Connects every client, then follows commands on stdin, one per line, answering each with one
// JSON line on stdout:
//   cut              drop every client's transport at once: the underlying WebSocket is
//                    terminate()d (TCP closed, no WebSocket close frame), which both servers see
//                    as a transport close: recoverable for Socket.IO, a lost link for ours
//   sync T           (Socket.IO) wait until every client has the event with seq T: a client
//                    that has received no packet yet has no offset, and its session cannot be
//                    recovered, so the benchmark sends one event before the first cut
//   reconnect [T]    every client reconnects at once and is timed until it has recovered what it
//                    missed. Ours: `hello` with its newest token and last seq, until the `welcome`
//                    (its missedEvents are the missed events). Socket.IO: connect() (the client
//                    sends its session id and offset), until the event with seq T has arrived
//   quit
// Times are from the moment the command is read, per client; the process's CPU time over the same
// span is reported, since the clients of one side share this one process.
const readline = require("readline");
const fs = require("fs");
const { performance } = require("perf_hooks");
const WebSocket = require("ws");
const { io } = require("socket.io-client");

const TIMEOUT_MS = 60000;
const out = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);

function ours(base, p) {
  const c = { p, ws: null, missed: 0, resync: false, bad: null };
  c.open = () =>
    new Promise((resolve, reject) => {
      const from = p.lastSeq;
      const ws = new WebSocket(`${base}/api/game/${p.gameId}/ws`, { perMessageDeflate: false });
      let welcomed = false;
      c.ws = ws;
      ws.on("open", () => {
        ws.send(
          JSON.stringify({
            type: "hello",
            playerId: p.playerId,
            token: p.token,
            clientId: p.clientId,
            lastSeq: from,
            protocol: 1,
          }),
        );
      });
      ws.on("message", (data) => {
        const m = JSON.parse(data.toString());
        if (m.type === "welcome") {
          const missed = m.missedEvents;
          c.missed = missed.length;
          c.resync = m.resync;
          if (!m.resync && (missed.length !== m.seq - from || (missed.length && missed[0].seq !== from + 1))) {
            c.bad = `welcome at ${m.seq} after ${from} carried ${missed.length} events`;
          }
          p.token = m.token.token;
          // Each welcome wins the seat anew: only its session token works from here on.
          p.sessionToken = m.sessionToken;
          p.lastSeq = m.seq;
          welcomed = true;
          resolve(performance.now());
        } else if (m.type === "event") {
          p.lastSeq = m.seq;
        } else if (m.type === "token") {
          p.token = m.token;
        } else if (m.type === "ping") {
          ws.send(JSON.stringify({ type: "pong", t: m.t }));
        } else if (m.type === "error" && !welcomed) {
          reject(new Error(`${m.code}: ${m.message}`));
        }
      });
      ws.on("error", (err) => {
        if (!welcomed) reject(err);
      });
      ws.on("close", () => {
        if (c.onclose) c.onclose();
      });
    });
  c.cut = () =>
    new Promise((resolve) => {
      c.onclose = resolve;
      c.ws.terminate();
    });
  c.recover = () => c.open();
  c.missedCount = () => c.missed;
  c.check = () => c.bad || (c.resync ? "resync" : null);
  return c;
}

function socketio(url) {
  const s = io(url, { transports: ["websocket"], reconnection: false, forceNew: true });
  const c = { s, last: 0, received: 0, before: 0, target: Infinity, resolve: null, gaps: 0 };
  s.on("event", (e) => {
    if (c.last && e.seq !== c.last + 1) c.gaps += 1;
    c.last = e.seq;
    c.received += 1;
    if (c.resolve && c.last >= c.target) {
      const resolve = c.resolve;
      c.resolve = null;
      resolve(performance.now());
    }
  });
  c.open = () =>
    new Promise((resolve, reject) => {
      if (s.connected) resolve(performance.now());
      s.once("connect", () => resolve(performance.now()));
      s.once("connect_error", reject);
    });
  c.cut = () =>
    new Promise((resolve) => {
      s.once("disconnect", (reason) => {
        c.reason = reason;
        resolve();
      });
      s.io.engine.transport.ws.terminate();
    });
  c.recover = (target) =>
    new Promise((resolve, reject) => {
      c.target = target;
      c.before = c.received;
      if (c.last >= target) {
        resolve(performance.now());
        return;
      }
      c.resolve = resolve;
      s.once("connect_error", reject);
      s.connect();
    });
  c.sync = (target) =>
    new Promise((resolve) => {
      c.target = target;
      if (c.last >= target) resolve(performance.now());
      else c.resolve = resolve;
    });
  c.missedCount = () => c.received - c.before;
  c.check = () => {
    if (!s.recovered) return "not recovered (new session)";
    if (c.gaps) return `${c.gaps} gaps in the counter`;
    return null;
  };
  return c;
}

function withTimeout(promise, what) {
  return Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: timeout`)), TIMEOUT_MS)),
  ]);
}

// Ours: each player's newest session token, for the HTTP actions the bench makes in their name.
function sessionsOf(clients) {
  return Object.fromEntries(
    clients.filter((c) => c.p && c.p.sessionToken).map((c) => [c.p.playerId, c.p.sessionToken]),
  );
}

async function main() {
  const [mode, ...args] = process.argv.slice(2);
  let clients;
  if (mode === "ours") {
    const spec = JSON.parse(fs.readFileSync(args[0], "utf8"));
    clients = spec.players.map((p) => ours(spec.url, p));
  } else if (mode === "socketio") {
    clients = Array.from({ length: Number(args[1]) }, () => socketio(args[0]));
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
  let began = performance.now();
  await withTimeout(Promise.all(clients.map((c) => c.open())), "connect");
  out({
    phase: "ready",
    clients: clients.length,
    connectMs: performance.now() - began,
    sessions: sessionsOf(clients),
  });

  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    const [command, arg] = line.trim().split(/\s+/);
    if (command === "cut") {
      began = performance.now();
      await withTimeout(Promise.all(clients.map((c) => c.cut())), "cut");
      out({ phase: "cut", ms: performance.now() - began });
    } else if (command === "sync") {
      await withTimeout(Promise.all(clients.map((c) => c.sync(Number(arg)))), "sync");
      out({ phase: "synced" });
    } else if (command === "reconnect") {
      const target = Number(arg || "0");
      const cpu = process.cpuUsage();
      began = performance.now();
      const done = await withTimeout(Promise.all(clients.map((c) => c.recover(target))), "recover");
      const used = process.cpuUsage(cpu);
      const problems = clients.map((c) => c.check()).filter((x) => x);
      out({
        phase: "recovered",
        perClientMs: done.map((t) => t - began),
        missed: clients.map((c) => c.missedCount()),
        cpuMs: (used.user + used.system) / 1000,
        problems: problems.slice(0, 5),
        problemCount: problems.length,
        sessions: sessionsOf(clients),
      });
    } else if (command === "quit") {
      break;
    }
  }
  process.exit(0);
}

main().catch((err) => {
  out({ phase: "failed", error: String(err && err.stack ? err.stack : err) });
  process.exit(1);
});
