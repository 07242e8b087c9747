// The lobby page: create a table through the HTTP API, join one of the open tables it lists, or
// open one by id. A server that serves more kinds of game than poker (GET /api/games/kinds) gets
// a choice of kind; another kind's settings are written as JSON, started with the defaults its
// schema gives.
//
// Addresses are taken from the app's root, the folder above this script's /static/: the app may
// be mounted under a prefix in another site (docs/games.md).

const ROOT = new URL("../", import.meta.url);
const tablePath = (id) => new URL(`play/${encodeURIComponent(id)}`, ROOT).pathname;

const createForm = document.getElementById("create-form");
const errorBox = document.getElementById("lobby-error");
const created = document.getElementById("created");
const link = document.getElementById("table-link");
const kindSelect = createForm.elements.kind;
const schemas = new Map(); // kind -> its settings' JSON Schema

function pokerBody() {
  const field = (name) => Number(createForm.elements[name].value);
  return {
    seats: field("seats"),
    smallBlind: field("smallBlind"),
    bigBlind: field("bigBlind"),
    startingStack: field("startingStack"),
    actionTimeoutMs: Math.round(field("actionTimeoutSeconds") * 1000),
  };
}

// Another kind's body: {kind, …the JSON settings}; null (and said why) when they are not a JSON object.
function otherBody(kind) {
  let settings;
  try {
    settings = JSON.parse(createForm.elements.settings.value || "{}");
  } catch (err) {
    errorBox.textContent = `The settings are not JSON (${err.message}).`;
    return null;
  }
  if (settings === null || typeof settings !== "object" || Array.isArray(settings)) {
    errorBox.textContent = 'The settings are a JSON object, e.g. {"seats": 2}.';
    return null;
  }
  return { ...settings, kind };
}

function showKind() {
  const kind = kindSelect.value;
  const poker = kind === "poker";
  for (const label of createForm.querySelectorAll("label.poker")) {
    label.hidden = !poker;
    for (const input of label.querySelectorAll("input")) input.disabled = !poker; // not checked while hidden
  }
  document.getElementById("settings-box").hidden = poker;
  if (poker) return;
  const schema = schemas.get(kind) || {};
  const defaults = {};
  for (const [name, property] of Object.entries(schema.properties || {})) {
    if (property && "default" in property) defaults[name] = property.default;
  }
  createForm.elements.settings.value = JSON.stringify(defaults, null, 1);
  document.getElementById("settings-schema").textContent = `Settings of ${kind}: ${JSON.stringify(schema.properties || schema)}`;
}

async function loadKinds() {
  try {
    const reply = await fetch(new URL("api/games/kinds", ROOT), { headers: { Accept: "application/json" } });
    if (!reply.ok) return;
    const { kinds } = await reply.json();
    for (const { kind, settings } of kinds) schemas.set(kind, settings);
    if (kinds.length < 2) return; // poker alone: the form as it always was
    kindSelect.replaceChildren(...kinds.map(({ kind }) => {
      const option = document.createElement("option");
      option.value = kind;
      option.textContent = kind;
      return option;
    }));
    document.getElementById("kind-box").hidden = false;
    kindSelect.addEventListener("change", showKind);
    showKind();
  } catch (err) {
    console.warn("rejoin: the kinds of game could not be listed", err); // poker's form still works
  }
}
loadKinds();

createForm.addEventListener("submit", async (e) => {
  e.preventDefault();
  errorBox.textContent = "";
  const kind = kindSelect.value;
  const body = kind === "poker" ? pokerBody() : otherBody(kind);
  if (body === null) return;
  const button = createForm.querySelector("button[type=submit]");
  button.disabled = true;
  created.hidden = true;
  try {
    const response = await fetch(new URL("api/games", ROOT), {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    });
    const answer = await response.json().catch(() => null);
    if (response.status === 201 && answer && answer.gameId) {
      const path = tablePath(answer.gameId);
      link.href = path;
      link.textContent = new URL(path, location.href).href;
      // One link per seat (seats are numbered from 0 on the wire, from 1 for people).
      const seatLinks = document.getElementById("seat-links");
      seatLinks.replaceChildren();
      const seats = Number.isInteger(answer.seats) ? answer.seats : 0; // a kind without seats: the table link alone
      for (let seat = 0; seat < seats; seat++) {
        const a = document.createElement("a");
        a.className = "seat-link";
        a.dataset.seat = String(seat);
        a.href = `${path}?seat=${seat}`;
        a.textContent = `seat ${seat + 1}`;
        seatLinks.append(a, " ");
      }
      document.getElementById("seat-links-hint").hidden = seats === 0;
      created.hidden = false;
      refreshOpenTables(); // the new table is open: list it
    } else {
      const message = answer && answer.error && answer.error.message;
      errorBox.textContent = message || `The server answered ${response.status}. Try again.`;
    }
  } catch (err) {
    errorBox.textContent = `Could not reach the server (${err.message}). Check that it is running, then try again.`;
  } finally {
    button.disabled = false;
  }
});

document.getElementById("open-form").addEventListener("submit", (e) => {
  e.preventDefault();
  let id = e.target.elements.gameId.value.trim();
  // Accept a pasted table link as well as a bare id.
  const match = id.match(/\/play\/([^/?#]+)/);
  if (match) id = decodeURIComponent(match[1]);
  if (id) location.href = tablePath(id);
});

// --- the open tables ---------------------------------------------------------------------------
// The tables waiting for players (GET /api/games/open: not over, a seat free), so that friends
// find a table without being sent its link. Seats are numbered from 0 in the API, from 1 here.
// Refreshed every REFRESH_MS while the page is shown, and at once when it is shown again.

const REFRESH_MS = 10_000;
const openList = document.getElementById("open-tables");

function tableFacts(table) {
  const facts = [];
  if (Number.isInteger(table.seats) && Number.isInteger(table.seated)) {
    facts.push(`${table.seated}/${table.seats} players`);
  }
  const settings = table.settings || {};
  if (table.kind === "poker" && Number.isInteger(settings.smallBlind)) {
    facts.push(`blinds ${settings.smallBlind}/${settings.bigBlind}`);
  }
  if (Array.isArray(table.freeSeats) && table.freeSeats.length) {
    const free = table.freeSeats.map((seat) => seat + 1).join(", ");
    facts.push(`free seat${table.freeSeats.length === 1 ? "" : "s"} ${free}`);
  }
  if (table.status === "playing") facts.push("playing");
  return facts.join(" · ");
}

function tableItem(table) {
  const item = document.createElement("li");
  item.dataset.gameId = table.gameId;
  const kind = document.createElement("span");
  kind.className = "kind";
  kind.textContent = table.kind;
  const facts = document.createElement("span");
  facts.className = "facts";
  facts.textContent = tableFacts(table);
  const open = document.createElement("a");
  open.className = "open-table";
  open.href = tablePath(table.gameId);
  open.textContent = "Join";
  item.append(kind, facts, open);
  return item;
}

let refreshing = false;

async function refreshOpenTables() {
  if (refreshing || document.hidden) return;
  refreshing = true;
  const failed = document.getElementById("open-tables-error");
  try {
    const reply = await fetch(new URL("api/games/open", ROOT), { headers: { Accept: "application/json" }, cache: "no-store" });
    const answer = await reply.json().catch(() => null);
    if (!reply.ok || !answer || !Array.isArray(answer.games)) {
      const message = answer && answer.error && answer.error.message;
      failed.textContent = `The open tables could not be listed: ${message || `the server answered ${reply.status}`}.`;
      return;
    }
    failed.textContent = "";
    openList.replaceChildren(...answer.games.map(tableItem));
    openList.dataset.loaded = "true";
    document.getElementById("open-tables-empty").hidden = answer.games.length > 0;
  } catch (err) {
    failed.textContent = `The open tables could not be listed (${err.message}); retrying.`;
  } finally {
    refreshing = false;
  }
}

refreshOpenTables();
setInterval(refreshOpenTables, REFRESH_MS);
document.addEventListener("visibilitychange", refreshOpenTables);
window.addEventListener("focus", refreshOpenTables);
