// A game's whole state in readable form for the operator console: the facts, the seats with every
// player's cards, the board and pots, the newest events, then the rest as a tree; the compact dump
// (what a snapshot stores) folded away at the end. Built with DOM calls only (no innerHTML): every
// value comes from players (names) or the game and is shown as text.

const SUITS = { s: "♠", h: "♥", d: "♦", c: "♣" };
const SHOWN_ELSEWHERE = new Set(["seats", "board", "pots"]);

function node(tag, className, text) {
  const found = document.createElement(tag);
  if (className) found.className = className;
  if (text !== undefined) found.textContent = text;
  return found;
}

export function card(text) {
  if (typeof text !== "string" || text.length !== 2) return node("span", "null", text === null ? "hidden" : String(text));
  const shown = node("span", `card${"hd".includes(text[1]) ? " red" : ""}`, `${text[0]}${SUITS[text[1]] || text[1]}`);
  shown.title = text;
  return shown;
}

function cards(list) {
  const box = node("span", "cards");
  if (!Array.isArray(list) || !list.length) box.append(node("span", "null", "—"));
  else for (const one of list) box.append(card(one));
  return box;
}

function valueText(value) {
  if (value === null || value === undefined) return "—";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

// A JSON value as nested lists: `key: value` for scalars, a sub-list for objects and arrays.
export function tree(value) {
  const list = node("ul", "tree");
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value || {});
  for (const [key, item] of entries) {
    const li = node("li");
    li.append(node("span", "key", `${key}: `));
    if (item !== null && typeof item === "object" && Object.keys(item).length) li.append(tree(item));
    else li.append(document.createTextNode(valueText(item)));
    list.append(li);
  }
  return list;
}

function facts(rows) {
  const table = node("table", "fields");
  for (const [label, value] of rows) {
    const tr = node("tr");
    tr.append(node("th", "", label));
    const td = node("td");
    if (value instanceof Node) td.append(value);
    else td.textContent = valueText(value);
    tr.append(td);
    table.append(tr);
  }
  return table;
}

function seatsTable(seats, toAct, button) {
  const columns = ["seat", "name", "playerId", "stack", "bet", "folded", "allIn", "connected", "holeCards"];
  const extra = [...new Set(seats.flatMap((s) => Object.keys(s || {})))].filter((k) => !columns.includes(k));
  const table = node("table", "grid seats");
  const head = node("tr");
  for (const name of [...columns, ...extra]) head.append(node("th", "", name));
  const thead = node("thead");
  thead.append(head);
  table.append(thead);
  const body = node("tbody");
  for (const seat of seats) {
    const tr = node("tr");
    tr.dataset.playerId = seat.playerId || "";
    if (seat.seat === toAct) tr.className = "me";
    if (seat.connected === false) tr.classList.add("disconnected");
    for (const name of [...columns, ...extra]) {
      const td = node("td");
      if (name === "holeCards") td.append(cards(seat.holeCards));
      else td.textContent = valueText(seat[name]) + (name === "seat" && seat.seat === button ? " (button)" : "");
      tr.append(td);
    }
    body.append(tr);
  }
  table.append(body);
  return table;
}

function potsText(pots) {
  if (!Array.isArray(pots) || !pots.length) return "—";
  return pots.map((p) => `${p.amount} (seats ${(p.eligibleSeats || []).join(", ")})`).join("; ");
}

// The panel for `full`, the answer of GET /api/admin/games/{id}.
export function renderState(panel, full) {
  const table = full.table || {};
  panel.replaceChildren();
  const snapshot = full.version !== undefined;
  panel.append(node("h2", "", snapshot ? `Game ${full.gameId}: snapshot ${full.version}` : `Game ${full.gameId}`));
  if (snapshot) panel.append(node("p", "hint", `Stored at ${full.snapshotAt}; opened apart from the game being played, which it leaves as it is.`));
  panel.append(
    facts([
      ["kind", full.kind],
      ["status", full.status],
      ["phase", table.phase],
      ["hand", table.handNumber],
      snapshot ? ["seq", full.seq] : ["seq (stored / snapshot)", `${full.seq} (${full.durableSeq} / ${full.snapshotSeq})`],
      ["durability", full.durability],
      ["last stored", snapshot ? full.snapshotAt : full.storedAt],
      ["last action", full.lastActionAt],
      ["to act", table.toAct],
      ["action deadline", typeof table.actionDeadline === "number" ? new Date(table.actionDeadline).toISOString() : table.actionDeadline],
      ["board", cards(table.board)],
      ["pots", potsText(table.pots)],
    ]),
  );
  if (Array.isArray(table.seats)) {
    panel.append(node("h3", "", "Seats (every player's cards)"));
    panel.append(seatsTable(table.seats, table.toAct, table.button));
  }
  const rest = Object.fromEntries(Object.entries(table).filter(([k]) => !SHOWN_ELSEWHERE.has(k)));
  panel.append(node("h3", "", "The rest of the table"));
  panel.append(tree(rest));
  panel.append(node("h3", "", "Settings"));
  panel.append(tree(full.settings));
  if (snapshot) return appendDump(panel, full);
  panel.append(node("h3", "", `Newest events (${(full.recentEvents || []).length})`));
  const events = node("ol", "events");
  for (const event of [...(full.recentEvents || [])].reverse()) {
    const li = node("li");
    li.append(node("span", "seq", `#${event.seq}`));
    li.append(node("strong", "", event.kind));
    li.append(node("span", "", JSON.stringify(event.data)));
    events.append(li);
  }
  panel.append(events);
  appendDump(panel, full);
}

function appendDump(panel, full) {
  const details = node("details");
  details.append(node("summary", "", "Compact dump (what a snapshot stores)"));
  details.append(node("pre", "", JSON.stringify(full.dump, null, 1)));
  panel.append(details);
}

// The stored snapshots of a game (GET …/snapshots), each with a button that opens it.
export function renderSnapshots(panel, listing, open) {
  const box = node("div", "snapshots");
  box.append(node("h3", "", `Stored snapshots (${listing.snapshots.length})`));
  if (!listing.snapshots.length) box.append(node("p", "hint", "None stored (yet, or kept in memory only)."));
  const list = node("ul", "tree");
  for (const snap of listing.snapshots) {
    const li = node("li");
    li.dataset.version = snap.version;
    li.append(node("span", "", `version ${snap.version}, ${snap.createdAt}, ${snap.bytes} bytes `));
    if (snap.verified) {
      const button = node("button", "small secondary open-snapshot", "Inspect");
      button.type = "button";
      button.addEventListener("click", () => open(snap.version));
      li.append(button);
    } else {
      li.append(node("span", "error", `cannot be restored: ${snap.problem}`));
    }
    list.append(li);
  }
  box.append(list);
  panel.insertBefore(box, panel.children[2] || null);
}
