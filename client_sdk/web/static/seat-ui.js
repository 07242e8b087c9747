// What the table pages' scripts share: table-ui.js (poker) and generic-ui.js (any other kind)
// show a seat's connection the same way, so the tests and the docs describe one status line:
// `#status` (data-status, data-seq, data-transport, the reason as its tooltip: "connected over
// SSE · seq 12"), `#resume-note` ("resumed in N ms over WebSocket, M missed events") and `#outage`,
// the overlay that pauses the table while reconnecting.

const STATUS_WORDS = {
  unseated: "not seated", connecting: "connecting…", connected: "connected", reconnecting: "reconnecting…", closed: "disconnected",
};
// What the connection runs over (the SDK's `GameClient.transport`): a WebSocket, or SSE (the game's
// news as server-sent events, the player's moves as plain requests) where no WebSocket gets through.
const TRANSPORT_WORDS = { websocket: "WebSocket", sse: "SSE" };

function over(transport) {
  return TRANSPORT_WORDS[transport] ? ` over ${TRANSPORT_WORDS[transport]}` : "";
}

// `el("li", { class, text, dataset, …attributes }, children)`: a new element of `doc`.
export function elementMaker(doc) {
  return (tag, props = {}, children = []) => {
    const node = doc.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else node.setAttribute(key, value);
    }
    node.append(...children);
    return node;
  };
}

// `reason` (optional): why the connection changed, in words; shown as the tooltip. `transport`
// (optional): "websocket" or "sse", said while connected.
export function drawStatus(node, status, seq, reason, transport) {
  if (reason) node.title = reason;
  node.dataset.status = status;
  node.dataset.seq = seq === null || seq === undefined ? "" : String(seq);
  node.dataset.transport = status === "connected" && transport ? transport : "";
  const label = (STATUS_WORDS[status] || status) + (status === "connected" ? over(transport) : "");
  node.textContent = node.dataset.seq ? `${label} · seq ${node.dataset.seq}` : label;
}

// `server` (optional): the node that welcomed (a cluster names each one); `moved`: the game moved
// there from another node since the previous welcome (its node was drained, stopped or died).
// `transport` (optional): what the welcome came over ("websocket" or "sse").
export function drawResume(node, ms, missed, resync, server, moved, transport) {
  const rounded = Math.round(ms);
  node.dataset.ms = String(rounded);
  node.dataset.missed = String(missed);
  node.dataset.resync = resync ? "true" : "false";
  node.dataset.node = server || "";
  node.dataset.moved = server && moved ? "true" : "false";
  node.dataset.transport = transport || "";
  const where = `${over(transport)}${server ? ` on node ${server}${moved ? " (moved)" : ""}` : ""}`;
  node.textContent = resync ? `resumed in ${rounded} ms${where}, state refreshed`
    : `resumed in ${rounded} ms${where}, ${missed} missed event${missed === 1 ? "" : "s"}`;
  node.hidden = false;
}

// While the connection is being resumed (`#status` reconnecting) the table pauses: `#outage`
// shows over `#table` (which is dimmed), saying the seat is kept. `#table[data-paused]` says so
// to tests and styles.
export function drawOutage(doc, paused) {
  const overlay = doc.getElementById("outage");
  if (overlay) overlay.hidden = !paused;
  const table = doc.getElementById("table");
  if (table) table.dataset.paused = paused ? "true" : "false";
}

// The page's controls while a request it sent is unanswered: `setDisabled(true)` disables every
// control `selector` finds, and a fallback enables them again after `fallbackMs` (a request
// normally ends in a render or a message; the fallback keeps the page usable if neither comes).
// `setPaused(true)`: the controls of the game (`pausedSelector`) stay disabled whatever else
// happens (the connection is down) until `setPaused(false)`; `sync()` applies both to controls
// drawn since.
// `call(name, …args)` hands a click to the page's Python handler `name` (from `getHandlers()`,
// none before they are bound), disabling the controls, and says on the page why it could not.
export function requestControls(doc, selector, getHandlers, showMessage, fallbackMs, pausedSelector) {
  let timer = null;
  let busy = false;
  let paused = false;
  function sync() {
    const pausedOnes = new Set(pausedSelector ? doc.querySelectorAll(pausedSelector) : []);
    for (const control of doc.querySelectorAll(selector)) control.disabled = busy || (paused && pausedOnes.has(control));
    // The paused controls a request does not disable (a form's inputs) follow the pause alone.
    for (const control of pausedOnes) if (!control.matches(selector)) control.disabled = paused;
  }
  function setDisabled(disabled) {
    busy = disabled;
    sync();
    clearTimeout(timer);
    if (disabled) timer = setTimeout(() => setDisabled(false), fallbackMs);
  }
  function setPaused(on) {
    paused = on;
    sync();
  }
  function call(name, ...args) {
    const handlers = getHandlers();
    if (!handlers) return;
    setDisabled(true);
    try {
      handlers[name](...args);
    } catch (err) {
      console.error(err);
      showMessage(`Could not ${name}: ${err && err.message ? err.message : err}`);
    }
  }
  return { setDisabled, setPaused, sync, call };
}
