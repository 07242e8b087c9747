// The operator console (/admin): polls GET /api/admin/overview with the admin token and shows it;
// inspects, snapshots and deletes games through the admin endpoints (docs/operations.md).
//
// The token is kept in this tab only (sessionStorage: gone when the tab closes), never in a
// longer-lived store or a cookie: whoever opens this browser later must not find it.

import { bars, lineAndDots } from "./admin-chart.js";
import { renderVersions } from "./admin-rollback.js";
import { renderSnapshots, renderState } from "./admin-state.js";

const ROOT = new URL("../", import.meta.url);
const TOKEN_KEY = "rejoin-admin-token";
const POLL_MS = 2000;
const ARMED_MS = 5000; // a delete asks for a second click within this

const $ = (id) => document.getElementById(id);
const figure = (name) => document.querySelector(`[data-figure="${name}"]`);
let timer = null;
let inspected = null; // the game id shown in the inspect panel
// The game whose Delete was clicked once, and until when: the table is drawn anew on every poll,
// so the armed state lives here, not in the button.
let armed = { gameId: null, until: 0 };

function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

class Refused extends Error {}

async function call(method, path, body) {
  const headers = { Authorization: `Bearer ${token()}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const reply = await fetch(new URL(path, ROOT), {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
  });
  const data = await reply.json().catch(() => ({}));
  if (reply.status === 401 || reply.status === 403) throw new Refused(data.error?.message || "The token was refused.");
  if (!reply.ok) throw new Error(data.error ? `${data.error.code}: ${data.error.message}` : `HTTP ${reply.status}`);
  return data;
}

function bytes(n) {
  if (n === null || n === undefined) return "?";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit ? value.toFixed(1) : value} ${units[unit]}`;
}

const ms = (v) => (v === null || v === undefined ? "–" : `${v} ms`);
const ago = (iso, now) => {
  const seconds = Math.max(0, Math.round((Date.parse(now) - Date.parse(iso)) / 1000));
  return seconds < 120 ? `${seconds} s ago` : `${Math.round(seconds / 60)} min ago`;
};

// A window's length: in minutes when it is whole minutes, else in seconds (never "0 min").
const span = (seconds) => (seconds >= 60 && seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`);

function showFigures(o) {
  const s = o.storage;
  figure("hosted").textContent = o.games.hosted;
  // Totals over every game hosted, counted by the server (the list shows at most 200).
  figure("players").textContent = `${o.games.players} players, ${o.games.connected} connected`;
  figure("bytes").textContent = bytes(s.bytes);
  // Measured at most every 15 s: say how old the count is.
  figure("storage").textContent = s.error
    ? `store unreachable: ${s.error}`
    : `${s.games} games, ${s.snapshots} snapshots (counted ${ago(s.measuredAt, o.now)})`;
  const quota = [];
  if (s.quota.maxGames !== null) quota.push(`${s.games ?? "?"} of ${s.quota.maxGames} games`);
  if (s.quota.maxBytes !== null) quota.push(`${bytes(s.bytes)} of ${bytes(s.quota.maxBytes)}`);
  figure("quota").textContent = quota.length ? `quota: ${quota.join(", ")}` : "no quota";
  figure("pending").textContent = `${s.pendingWrites} pending`;
  figure("degraded").textContent = s.degraded ? "DEGRADED: the store is unreachable, games run from memory" : "store reachable";
  $("fig-writes").classList.toggle("alert", s.degraded);
  const r = o.resumes;
  const minutes = span(r.windowS);
  figure("resumes").textContent = `${r.count} in ${minutes}`;
  const d = r.outage.drop;
  figure("outage").textContent = `after a drop: p50 ${ms(d.p50Ms)}, p99 ${ms(d.p99Ms)} (${d.count}); ${r.resyncs} resyncs`;
  const a = r.outage.restart;
  figure("restart").textContent = `after a restart: p50 ${ms(a.p50Ms)}, p99 ${ms(a.p99Ms)} (${a.count}); ${r.untimed} untimed`;
  figure("rate").textContent = `${o.actions.perSecond} /s`;
  figure("actions").textContent = `${o.actions.count} actions in ${minutes}`;
  const t = o.tokens;
  figure("issued").textContent = `${t.issued} issued`;
  const refused = Object.entries(t.refused).map(([code, n]) => `${code} ${n}`).join(", ");
  figure("tokens").textContent = `${t.consumed} consumed, ${t.refusedTotal} refused${refused ? ` (${refused})` : ""}`;
  const health = $("health");
  health.dataset.health = s.degraded ? "degraded" : "ok";
  health.textContent = s.degraded ? "degraded" : "ok";
  $("server-line").textContent = `node ${o.node} · ${o.backend} · ${o.durability} · up since ${new Date(o.startedAt).toLocaleString()}`;
  $("updated").textContent = `updated ${new Date(o.now).toLocaleTimeString()}`;
}

function showCharts(o) {
  const points = o.series.points;
  const per = o.series.bucketS;
  bars($("chart-actions"), points, (p) => p.actions / per, { label: "actions per second", unit: "/s" });
  lineAndDots($("chart-resumes"), points, (p) => p.outageP50Ms, (p) => p.outageMaxMs, {
    label: "resume outage in ms",
    lineName: "median",
    dotName: "longest",
  });
}

function button(text, className, onClick) {
  const found = document.createElement("button");
  found.type = "button";
  found.className = `small ${className}`;
  found.textContent = text;
  found.addEventListener("click", onClick);
  return found;
}

function cell(text, className) {
  const td = document.createElement("td");
  if (className) td.className = className;
  td.textContent = text;
  return td;
}

function gameRow(game, now) {
  const tr = document.createElement("tr");
  tr.dataset.gameId = game.gameId;
  if (game.gameId === inspected) tr.className = "selected";
  const stored = cell(`${game.durableSeq}`, game.durableSeq < game.seq ? "lag" : "");
  tr.append(
    cell(game.gameId),
    cell(game.kind),
    cell(game.status),
    cell(game.phase ?? "–"),
    cell(game.seq),
    stored,
    cell(game.snapshotSeq),
    cell(game.durability),
    cell(ago(game.lastActionAt, now)),
  );
  const players = cell("", "players");
  for (const p of game.players) {
    const span = document.createElement("span");
    span.className = `player ${p.connected ? "on" : "off"}`;
    span.textContent = `${p.name ?? p.playerId}${p.stack !== null && p.stack !== undefined ? ` (${p.stack})` : ""}`;
    span.title = `${p.playerId}, seat ${p.seat}, ${p.connected ? "connected" : "not connected"}`;
    players.append(span);
  }
  const actions = document.createElement("td");
  actions.append(
    button("Inspect", "inspect secondary", () => inspect(game.gameId)),
    button("Snapshot", "snapshot secondary", () => snapshot(game.gameId)),
    armedFor(game.gameId)
      ? button("Really delete?", "delete armed", () => remove(game.gameId))
      : button("Delete", "delete", () => remove(game.gameId)),
  );
  tr.append(players, actions);
  return tr;
}

function showGames(o) {
  const body = $("games").tBodies[0];
  body.replaceChildren(...o.games.listed.map((g) => gameRow(g, o.now)));
  const more = o.games.hosted - o.games.listed.length;
  $("games-note").textContent = o.games.hosted
    ? `Games in memory here, the most recently played first${more > 0 ? ` (${more} more not listed)` : ""}.`
    : "No game is in memory on this node.";
}

async function refresh() {
  try {
    const o = await call("GET", `api/admin/overview?windowS=${$("window").value}`);
    $("console-error").textContent = "";
    showFigures(o);
    showCharts(o);
    showGames(o);
  } catch (err) {
    if (err instanceof Refused) return logout(err.message);
    $("console-error").textContent = `The overview failed: ${err.message}`;
  }
}

function note(text) {
  $("action-note").textContent = text;
}

// The game as it is now, or (`version`) one of its stored snapshots, opened apart from it.
async function inspect(gameId, version = null) {
  inspected = gameId;
  const panel = $("inspect");
  const id = encodeURIComponent(gameId);
  try {
    const query = version === null ? "" : `?version=${version}`;
    const full = await call("GET", `api/admin/games/${id}${query}`);
    renderState(panel, full);
    if (version === null) {
      renderSnapshots(panel, await call("GET", `api/admin/games/${id}/snapshots`), (v) => inspect(gameId, v));
      const rollBack = (to, reason, reopen) => rollback(gameId, to, reason, reopen);
      renderVersions(panel, full, await versionsOf(id), rollBack, note);
    } else {
      const back = button("Back to the game being played", "secondary back", () => inspect(gameId));
      panel.insertBefore(back, panel.children[1] || null);
    }
    panel.hidden = false;
    note(version === null ? `Inspected ${gameId}.` : `Inspected snapshot ${version} of ${gameId}.`);
  } catch (err) {
    if (err instanceof Refused) return logout(err.message);
    note(`Inspect ${gameId} failed: ${err.message}`);
  }
  refresh();
}

async function snapshot(gameId) {
  try {
    const done = await call("POST", `api/game/${encodeURIComponent(gameId)}/persist`, { forceOverwrite: true });
    note(`Snapshot of ${gameId} stored at version ${done.version}.`);
  } catch (err) {
    if (err instanceof Refused) return logout(err.message);
    note(`Snapshot of ${gameId} failed: ${err.message}`);
  }
  refresh();
}

// The versions the game can return to; a refusal (a game kept in memory only) is shown, not thrown.
async function versionsOf(id) {
  try {
    return await call("GET", `api/game/${id}/versions`);
  } catch (err) {
    if (err instanceof Refused) throw err;
    return { versions: [], problem: err.message };
  }
}

// An operator's rollback (POST …/rollback): the game returns to `version` by a new event.
async function rollback(gameId, version, reason, reopen) {
  try {
    const body = reopen ? { toVersion: version, reason, reopen: true } : { toVersion: version, reason };
    const done = await call("POST", `api/game/${encodeURIComponent(gameId)}/rollback`, body);
    await inspect(gameId);
    note(`Rolled ${gameId} back to version ${done.version}: the rollback is event ${done.seq}.`);
  } catch (err) {
    if (err instanceof Refused) return logout(err.message);
    note(`Rollback of ${gameId} failed: ${err.message}`);
  }
}

function armedFor(gameId) {
  return armed.gameId === gameId && Date.now() < armed.until;
}

// The first click arms the button; a second one within ARMED_MS deletes.
async function remove(gameId) {
  if (!armedFor(gameId)) {
    armed = { gameId, until: Date.now() + ARMED_MS };
    note(`Click "Really delete?" to delete ${gameId} with its events, snapshots and tokens.`);
    return refresh();
  }
  armed = { gameId: null, until: 0 };
  try {
    const done = await call("DELETE", `api/game/${encodeURIComponent(gameId)}/persist`);
    const d = done.deleted;
    note(`Deleted ${gameId}: ${d.events} events, ${d.snapshots} snapshots, ${d.tokens} tokens.`);
    if (inspected === gameId) {
      inspected = null;
      $("inspect").hidden = true;
    }
  } catch (err) {
    if (err instanceof Refused) return logout(err.message);
    note(`Delete of ${gameId} failed: ${err.message}`);
  }
  refresh();
}

function start() {
  $("login").hidden = true;
  $("console").hidden = false;
  refresh();
  clearInterval(timer);
  timer = setInterval(refresh, POLL_MS);
}

function logout(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  clearInterval(timer);
  $("console").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message || "";
}

$("login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, event.target.elements.token.value.trim());
  event.target.reset();
  $("login-error").textContent = "";
  start();
});
$("logout").addEventListener("click", () => logout(""));
$("window").addEventListener("change", refresh);
$("lookup-form").addEventListener("submit", (event) => {
  event.preventDefault();
  inspect(event.target.elements.gameId.value.trim());
});

if (token()) start();
