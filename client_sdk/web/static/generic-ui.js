// The generic table page's DOM (game.html, for any kind of game but poker): it draws what the
// Python controller (rejoin.browser.generic, under Pyodide) hands it and reports the forms back.
// It knows no game: the view is drawn as tables (you, the seats, every other field) and as JSON,
// and the forms come ready-made from Python (rejoin.browser.action_forms). Every method takes JS
// strings, numbers or null (views, forms and events arrive as JSON strings), so no Pyodide proxy
// leaks into the DOM code.

import { createJoinForm } from "./join-ui.js";
import { drawOutage, drawResume, drawStatus, elementMaker, requestControls } from "./seat-ui.js";

const ENABLE_FALLBACK_MS = 5000;
const LONG_TEXT = 400; // an event's data longer than this shows its start; the whole is its tooltip

const SEAT_KEYS = ["seats", "players"];
const DEADLINE = /Deadline$/; // a view's clocks: `actionDeadline` and the like, ms since the epoch

const parse = (value) => (typeof value === "string" ? JSON.parse(value) : value);
const isObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);
const asText = (value) => (typeof value === "string" ? value : JSON.stringify(value));

export function createGenericUi(doc) {
  const $ = (id) => doc.getElementById(id);
  const el = elementMaker(doc);

  let handlers = null;
  let fatal = false;
  let viewSeq = null; // the seq of the view whose forms are shown: sent with a submit (atSeq)
  let deadline = null; // {key, at}: the view's first clock

  // The last `/play/`: the app may be mounted under a prefix (/games/play/<gameId>).
  const gameId = decodeURIComponent(doc.location.pathname.split("/play/").slice(1).pop() || "");
  if (gameId && $("game-id")) $("game-id").textContent = gameId;
  const seatAsked = new URLSearchParams(doc.location.search).get("seat");
  // The link's seat is the API's (from 0); the box shows it as people count (from 1).
  if (seatAsked !== null && /^\d+$/.test(seatAsked)) $("join-form").elements.seat.value = String(Number(seatAsked) + 1);

  const { setDisabled, setPaused, sync: syncControls, call } = requestControls(
    doc, "#actions button, #start, #forget-seat, #join-form button",
    () => handlers, (text) => showMessage(text), ENABLE_FALLBACK_MS,
    "#actions button, #actions input, #actions select, #start",
  );
  const joinForm = createJoinForm(doc, call);

  // --- values as the page shows them --------------------------------------------------------

  function valueNode(value) {
    if (value === null || value === undefined) return el("span", { class: "null", text: "null" });
    if (typeof value === "object") return el("code", { text: JSON.stringify(value) });
    return el("span", { class: typeof value, text: String(value) });
  }

  function fieldTable(node, object, skip) {
    const rows = Object.entries(object).filter(([key]) => !skip.has(key)).map(([key, value]) =>
      el("tr", { dataset: { key } }, [el("th", { scope: "row", text: key }), el("td", {}, [valueNode(value)])]));
    node.replaceChildren(...rows);
  }

  // The view's list of seats (`seats`, else `players`): one row each, a column for every key any
  // of them has (in the order they first appear).
  function seatsKey(view) {
    return SEAT_KEYS.find((key) => Array.isArray(view[key]) && view[key].length > 0 && view[key].every(isObject)) ?? null;
  }

  function seatTable(seats, you, key) {
    const table = $("seats");
    const rows = Array.isArray(seats) ? seats : [];
    $("seats-box").hidden = rows.length === 0;
    $("seats-title").textContent = key === "seats" || key === null ? "Seats" : `Seats (${key})`;
    const columns = [];
    for (const seat of rows) for (const key of Object.keys(seat)) if (!columns.includes(key)) columns.push(key);
    const head = el("tr", {}, columns.map((key) => el("th", { scope: "col", text: key })));
    const body = rows.map((seat) => {
      const mine = isObject(you) && ((you.playerId && seat.playerId === you.playerId) || (Number.isInteger(you.seat) && seat.seat === you.seat));
      const row = el("tr", { dataset: { seat: String(seat.seat ?? ""), playerId: String(seat.playerId ?? "") } },
        columns.map((key) => el("td", {}, key in seat ? [valueNode(seat[key])] : [])));
      row.classList.toggle("me", Boolean(mine));
      row.classList.toggle("disconnected", seat.connected === false);
      return row;
    });
    table.replaceChildren(el("thead", {}, [head]), el("tbody", {}, body));
  }

  // --- the forms ----------------------------------------------------------------------------

  function inputFor(field, previous) {
    const name = field.name;
    let input;
    if (field.input === "choice") {
      input = el("select", { name }, field.choices.map((choice, i) => el("option", { value: String(i), text: choice })));
      input.value = String(field.default ?? 0);
    } else if (field.input === "boolean") {
      input = el("input", { type: "checkbox", name });
      input.checked = Boolean(field.default);
    } else if (field.input === "integer" || field.input === "number") {
      input = el("input", { type: "number", name, step: field.input === "integer" ? "1" : "any" });
      if (field.min !== undefined) input.min = String(field.min);
      if (field.max !== undefined) input.max = String(field.max);
      input.value = field.default === null || field.default === undefined ? "" : String(field.default);
    } else {
      input = el("input", { type: "text", name, autocomplete: "off" });
      input.value = field.default ?? "";
      if (field.input === "json") input.placeholder = "a JSON value";
    }
    // What the player typed into this field of this move before the view changed stays, if it still fits.
    if (previous) {
      if (input.type === "checkbox") input.checked = previous.checked;
      else if (input.tagName === "SELECT") { if (previous.value < field.choices.length) input.value = previous.value; }
      else if (input.type !== "number" || fits(previous.value, field)) input.value = previous.value;
    }
    return input;
  }

  function fits(text, field) {
    const n = Number(text);
    return text !== "" && Number.isFinite(n) && (field.min === undefined || n >= field.min) && (field.max === undefined || n <= field.max);
  }

  function readForm(form) {
    const values = {};
    for (const input of form.querySelectorAll("[name]")) {
      values[input.name] = input.type === "checkbox" ? input.checked : input.value;
    }
    return values;
  }

  function renderForms(spec) {
    const box = $("actions");
    // Before redrawing: what is typed in each (move, field), and where the focus is.
    const typed = new Map();
    for (const input of box.querySelectorAll("form [name]")) {
      typed.set(`${input.form.dataset.action}/${input.name}`, { value: input.value, checked: input.checked, focused: doc.activeElement === input });
    }
    box.replaceChildren();
    const forms = fatal ? [] : spec.forms;
    forms.forEach((action, index) => {
      // novalidate: the browser's own checks would stop a submit without a word on the page; the
      // controller checks every field and says beside it what fits.
      const form = el("form", { class: "action-form", novalidate: "", dataset: { action: action.type, index: String(index) } });
      for (const field of action.fields) {
        const before = typed.get(`${action.type}/${field.name}`);
        const input = inputFor(field, before);
        const hint = field.input === "integer" || field.input === "number"
          ? [field.min, field.max].every((b) => b !== undefined) ? ` (${field.min}–${field.max})` : "" : "";
        form.append(el("label", { class: `field ${field.input}` }, [el("span", { text: field.name + hint }), input]),
          el("span", { class: "field-error", dataset: { field: field.name } }));
        if (before && before.focused) queueMicrotask(() => input.focus());
      }
      form.append(el("button", { type: "submit", dataset: { action: action.type }, text: action.label }));
      form.addEventListener("submit", (e) => {
        e.preventDefault();
        for (const node of form.querySelectorAll(".field-error")) node.textContent = "";
        $("message").textContent = "";
        call("act", index, action.type, JSON.stringify(readForm(form)), viewSeq);
      });
      box.append(form);
    });
    $("no-moves").hidden = fatal || forms.length > 0;
    $("form-problems").replaceChildren(...spec.problems.map((text) => el("li", { text })));
  }

  // --- the public methods -------------------------------------------------------------------

  function bind(h) {
    handlers = h;
    joinForm.bind();
    $("start").addEventListener("click", () => call("start"));
    $("forget-seat").addEventListener("click", () => call("forget"));
  }

  // `choiceJson`: the seats to offer (join-ui.js).
  function showJoin(message, choiceJson) {
    fatal = false;
    setDisabled(false);
    $("fatal").hidden = true;
    $("table").hidden = true;
    joinForm.show(message, choiceJson);
  }

  // `quiet`: the same view again with other presence (someone came or went): the seats are
  // redrawn, but the forms, what is typed in them and a message on show stay.
  function render(viewJson, quiet, formsJson) {
    const view = parse(viewJson);
    const you = isObject(view.you) ? view.you : null;
    $("join").hidden = true;
    $("table").hidden = false;
    $("table").dataset.viewSeq = String(view.seq ?? "");
    $("table").dataset.gameStatus = String(view.status ?? "");
    if (!quiet) {
      viewSeq = Number.isInteger(view.seq) ? view.seq : null;
      setDisabled(false);
      $("message").textContent = "";
      renderForms(parse(formsJson));
    }
    if (you) fieldTable($("you"), you, new Set(["legalActions"]));
    else $("you").replaceChildren(el("tr", {}, [el("td", { text: "You watch: no seat of yours is in this view." })]));
    const seats = seatsKey(view);
    seatTable(seats ? view[seats] : [], you, seats);
    fieldTable($("view-fields"), view, new Set(["you", seats]));
    $("view-json").textContent = JSON.stringify(view, null, 2);
    const clock = Object.entries(view).find(([key, value]) => DEADLINE.test(key) && typeof value === "number");
    deadline = clock ? { key: clock[0], at: clock[1] } : null;
    tick();
    $("start").hidden = fatal || view.status !== "waiting";
    syncControls(); // forms drawn while the page is paused stay disabled
  }

  function tick() {
    const clock = $("clock");
    const seconds = deadline === null ? null : Math.max(0, Math.ceil((deadline.at - Date.now()) / 1000));
    clock.textContent = seconds === null ? "" : `${deadline.key}: ${seconds} s`;
    clock.classList.toggle("urgent", seconds !== null && seconds <= 5);
  }
  setInterval(tick, 250);

  function setStatus(status, seq, reason, transport) {
    // While not connected a submit could only be queued for a game that may have moved on: the
    // forms stay visible but take no input until the next welcome.
    $("actions").inert = status !== "connected";
    $("actions").classList.toggle("paused", status !== "connected");
    setPaused(status !== "connected" && !fatal);
    drawOutage(doc, status === "reconnecting");
    drawStatus($("status"), status, seq, reason, transport);
  }

  function showResume(ms, missed, resync, server, moved, transport) {
    drawResume($("resume-note"), ms, missed, resync, server, moved, transport);
  }

  // Newest last, each event once (the controller hands each over once, also after a resume).
  function appendEvent(eventJson) {
    const event = parse(eventJson);
    const list = $("events");
    const stick = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    let data;
    if (event.kind === "resync") {
      const seq = (event.data && event.data.gameState && event.data.gameState.seq) ?? event.seq;
      data = el("span", { text: `state refreshed at seq ${seq}` });
    } else if (event.kind === "snapshot_restored") {
      // An operator's rollback: the page fetches the restored view like after any event.
      const d = event.data || {};
      const why = typeof d.reason === "string" && d.reason ? `: ${d.reason}` : "";
      data = el("span", { text: `an operator rolled the game back to its state at seq ${d.version ?? "?"}${why}` });
    } else {
      const text = asText(event.data ?? null);
      data = el("code", { text: text.length > LONG_TEXT ? `${text.slice(0, LONG_TEXT - 1)}…` : text });
      if (text.length > LONG_TEXT) data.title = text;
    }
    list.append(el("li", { dataset: { seq: String(event.seq ?? ""), kind: String(event.kind) } }, [
      el("span", { class: "seq", text: `#${event.seq}` }), el("span", { class: "kind", text: String(event.kind) }), data,
    ]));
    if (stick) list.scrollTop = list.scrollHeight;
  }

  // `code` (optional): the error code of a refusal (`invalid_action`, `not_your_turn`, …).
  function showMessage(text, code) {
    setDisabled(false);
    $("message").dataset.code = code || "";
    $("message").textContent = text || "";
  }

  // What the player typed into field `name` of form `index` does not fit: said beside it.
  function showFieldError(index, name, text) {
    setDisabled(false);
    const form = $("actions").querySelector(`form[data-index="${Number(index)}"]`);
    const node = form && [...form.querySelectorAll(".field-error")].find((n) => n.dataset.field === name);
    if (node) node.textContent = text;
    else showMessage(`${name}: ${text}`, "invalid_input");
  }

  function showFatal(code, message, canForget) {
    fatal = true;
    const node = $("fatal");
    node.dataset.code = code;
    $("fatal-message").textContent = message || `The connection ended (${code}).`;
    $("forget-seat").hidden = !canForget;
    $("forget-seat").disabled = false;
    node.hidden = false;
    $("actions").replaceChildren();
    $("start").hidden = true;
    drawOutage(doc, false);
    $("table").classList.add("greyed");
  }

  function showBootError(message) {
    const node = $("boot-error");
    node.querySelector(".detail").textContent = message;
    node.hidden = false;
    $("join").hidden = true;
    $("status").dataset.status = "closed";
    $("status").textContent = "not loaded";
  }

  return { bind, showJoin, render, setStatus, showResume, appendEvent, showMessage, showFieldError, showFatal, showBootError };
}
