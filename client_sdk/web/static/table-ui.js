// The table page's DOM: it draws what the Python SDK (under Pyodide) hands it and reports clicks back.
// It holds no game logic. Every method takes JS strings, numbers or null (views and events arrive as
// JSON strings) so no Pyodide proxies leak into the DOM code.

import { createJoinForm } from "./join-ui.js";
import { drawOutage, drawResume, drawStatus, elementMaker, requestControls } from "./seat-ui.js";

const SUITS = { s: "♠", h: "♥", d: "♦", c: "♣" };
// The protocol's action types (rejoin_protocol.messages.ACTION_TYPES), in the order buttons show;
// client_sdk/tests/test_table_ui.py checks the two agree.
const ACTION_ORDER = ["fold", "check", "call", "bet", "raise", "allin"];
const ACTIVE_PHASES = new Set(["preflop", "flop", "turn", "river", "showdown"]);
const FATAL_TEXT = {
  token_invalid: "This seat's reconnect token is not valid on this server.",
  token_expired: "This seat's reconnect token has expired.",
  token_reused: "This seat's reconnect token was already used elsewhere.",
  seat_conflict: "Another connection claimed this seat at the same moment.",
  superseded: "This seat was taken over by another connection.",
  another_tab: "This seat is open in another tab of this browser. Use that tab, or close it and reload.",
  game_completed: "This game is over.",
  game_not_found: "There is no table with this id.",
  player_not_in_game: "You no longer hold a seat at this table.",
};
const ENABLE_FALLBACK_MS = 5000;

const parse = (value) => (typeof value === "string" ? JSON.parse(value) : value);

export function createTableUi(doc) {
  const $ = (id) => doc.getElementById(id);
  const el = elementMaker(doc);

  let handlers = null;
  let deadline = null;
  let fatal = false;
  let viewSeq = null; // the seq of the view whose buttons are shown: sent with a click (atSeq)

  // The last `/play/`: the app may be mounted under a prefix (/games/play/<gameId>).
  const gameIdFromPath = decodeURIComponent(doc.location.pathname.split("/play/").slice(1).pop() || "");
  if (gameIdFromPath && $("game-id")) $("game-id").textContent = gameIdFromPath;

  // --- small drawing helpers ---------------------------------------------------------------

  function cardNode(card) {
    const rank = card[0] === "T" ? "10" : card[0];
    const suit = card[1];
    const red = suit === "h" || suit === "d";
    return el("span", { class: red ? "card red" : "card", dataset: { card }, text: rank + (SUITS[suit] || suit) });
  }

  const cardBack = () => el("span", { class: "card-back", "aria-label": "hidden card" });

  function seatCount(view) {
    let n = view.seats.length;
    for (const s of view.seats) n = Math.max(n, s.seat + 1);
    for (const s of [view.you && view.you.seat, view.button, view.toAct]) if (Number.isInteger(s)) n = Math.max(n, s + 1);
    return n;
  }

  const { setDisabled: setButtonsDisabled, setPaused, sync: syncControls, call } = requestControls(
    doc, "#actions button, #actions input, #start, #forget-seat, #join-form button",
    () => handlers, (text) => showMessage(text), ENABLE_FALLBACK_MS, "#actions button, #actions input, #start",
  );
  const joinForm = createJoinForm(doc, call);

  // --- seats -------------------------------------------------------------------------------

  function renderSeat(view, seatNo, player, slot, n) {
    const mine = view.you && view.you.seat === seatNo;
    // data-seat is the API's number (from 0); people read seats from 1.
    // data-player-id only where the view names the player: a finished game's view has none.
    const dataset = { seat: String(seatNo) };
    if (player && typeof player.playerId === "string") dataset.playerId = player.playerId;
    const node = el("div", { class: "seat", dataset });
    const label = el("div", { class: "seat-no", text: `seat ${seatNo + 1}` });
    // Seats sit on an ellipse, rotated so that your own seat is at the bottom centre.
    const angle = Math.PI / 2 + (2 * Math.PI * slot) / n;
    node.style.left = `${50 + 43 * Math.cos(angle)}%`;
    node.style.top = `${50 + 41 * Math.sin(angle)}%`;
    if (!player) {
      node.classList.add("empty");
      node.append(label, el("div", { class: "name", text: "open seat" }));
      return node;
    }
    const flags = { me: mine, "to-act": view.toAct === seatNo, folded: player.folded, "all-in": player.allIn,
      button: view.button === seatNo, disconnected: player.connected === false };
    for (const [cls, on] of Object.entries(flags)) if (on) node.classList.add(cls);

    const cards = el("div", { class: "cards" });
    if (Array.isArray(player.holeCards)) cards.append(...player.holeCards.map(cardNode));
    else if (ACTIVE_PHASES.has(view.phase) && !player.folded && !mine) cards.append(cardBack(), cardBack());

    const badges = el("div", { class: "badges" });
    if (mine) badges.append(el("span", { class: "badge you", text: "you" }));
    if (flags.button) badges.append(el("span", { class: "badge dealer", text: "D", title: "dealer button" }));
    if (player.allIn) badges.append(el("span", { class: "badge", text: "all-in" }));
    if (player.folded) badges.append(el("span", { class: "badge", text: "folded" }));
    if (flags.disconnected) badges.append(el("span", { class: "badge", text: "offline" }));

    // The bet of the current street (the view's `bet`; 0 once the street is over): a chip on the
    // felt in front of the seat, shown while the street lasts.
    node.append(
      label,
      el("div", { class: "name", text: player.name, title: player.name }),
      el("div", { class: "stack", dataset: { stack: String(player.stack) }, text: String(player.stack) }),
      cards,
      el("div", { class: "bet", dataset: { bet: String(player.bet) }, title: "bet this street", text: player.bet ? `bet ${player.bet}` : "" }),
      badges,
    );
    return node;
  }

  // --- actions -----------------------------------------------------------------------------

  function renderActions(legal) {
    const box = $("actions");
    // A re-render while you are choosing an amount keeps what you typed (and the focus) if it still fits.
    const before = box.querySelector("input[name=amount]");
    const typed = before ? { value: Number(before.value), focused: doc.activeElement === before } : null;
    box.replaceChildren();
    if (fatal || !legal || legal.length === 0) return;
    const sorted = [...legal].sort((a, b) => ACTION_ORDER.indexOf(a.type) - ACTION_ORDER.indexOf(b.type));
    for (const action of sorted) {
      const { type } = action;
      if (type === "bet" || type === "raise") {
        const input = el("input", { type: "number", name: "amount", min: String(action.min), max: String(action.max),
          step: "1", value: String(action.min), "aria-label": `${type} amount` });
        if (typed && typed.value >= action.min && typed.value <= action.max) input.value = String(typed.value);
        const button = el("button", { type: "button", dataset: { action: type }, text: type === "bet" ? "Bet to" : "Raise to" });
        const submit = () => {
          const amount = Number(input.value);
          if (!Number.isInteger(amount) || amount < action.min || amount > action.max) {
            showMessage(`Choose an amount from ${action.min} to ${action.max}.`);
            return;
          }
          call("act", type, amount, viewSeq);
        };
        button.addEventListener("click", submit);
        input.addEventListener("keydown", (e) => { if (e.key === "Enter") submit(); });
        box.append(el("span", { class: "sizing" }, [button, input]));
        if (typed && typed.focused) input.focus();
        continue;
      }
      const label = { fold: "Fold", check: "Check", call: `Call ${action.amount}`, allin: `All-in ${action.amount}` }[type] || type;
      const button = el("button", { type: "button", dataset: { action: type }, text: label });
      button.addEventListener("click", () => call("act", type, null, viewSeq));
      box.append(button);
    }
  }

  // --- the public methods ------------------------------------------------------------------

  function bind(h) {
    handlers = h;
    joinForm.bind();
    $("start").addEventListener("click", () => call("start"));
    $("forget-seat").addEventListener("click", () => call("forget"));
  }

  // `choiceJson`: the seats to offer (join-ui.js).
  function showJoin(message, choiceJson) {
    fatal = false;
    setButtonsDisabled(false);
    $("fatal").hidden = true;
    $("actions").hidden = false;
    $("table").classList.remove("greyed");
    $("table").hidden = true;
    joinForm.show(message, choiceJson);
  }

  // `quiet`: the same view again with other presence (someone came or went): the seats are
  // redrawn, but a message stays and the buttons of an action on its way stay as they are.
  function render(viewJson, quiet) {
    const raw = parse(viewJson);
    const view = { ...raw, seats: raw.seats || [], phase: raw.phase || "waiting" };
    $("join").hidden = true;
    $("table").hidden = false;
    $("table").dataset.viewSeq = String(view.seq ?? "");
    if (!quiet) {
      viewSeq = Number.isInteger(view.seq) ? view.seq : null;
      setButtonsDisabled(false);
      $("message").textContent = "";
    }
    if (view.gameId) $("game-id").textContent = view.gameId;

    $("hand").dataset.hand = String(view.handNumber ?? "");
    $("hand").textContent = view.handNumber ? `hand #${view.handNumber}` : "no hand yet";
    $("phase").dataset.phase = view.phase;
    $("phase").textContent = view.status === "completed" ? "game over" : view.phase.replace("_", " ");

    const board = view.board || [];
    $("board").replaceChildren(...board.map(cardNode),
      ...Array.from({ length: Math.max(0, 5 - board.length) }, () => el("span", { class: "card-slot" })));

    const pots = view.pots || [];
    $("pots").dataset.total = String(pots.reduce((sum, p) => sum + p.amount, 0));
    $("pots").replaceChildren(...pots.filter((p) => p.amount > 0).map((p, i) =>
      el("span", { class: "pot", dataset: { amount: String(p.amount) }, text: `${i === 0 ? "Pot" : `Side pot ${i}`} ${p.amount}` })));

    const n = seatCount(view);
    const bySeat = new Map(view.seats.map((s) => [s.seat, s]));
    const mySeat = view.you && Number.isInteger(view.you.seat) ? view.you.seat : 0;
    // A seat is taken by a player id, or by a name in a view without ids (a finished game's result
    // as anyone may see it, before joining).
    const seated = (s) => (s && (s.playerId || s.name) ? s : null);
    $("seats").replaceChildren(...Array.from({ length: n }, (_, seatNo) =>
      renderSeat(view, seatNo, seated(bySeat.get(seatNo)), (seatNo - mySeat + n) % n, n)));

    const me = view.you ? bySeat.get(mySeat) : null; // a spectator has no cards of their own
    $("hole-cards").replaceChildren(...(me && Array.isArray(me.holeCards) ? me.holeCards.map(cardNode) : []));

    const legal = (view.you && view.you.legalActions) || [];
    const myTurn = view.toAct !== null && view.toAct === mySeat && legal.length > 0;
    const actor = bySeat.get(view.toAct);
    $("turn").textContent = view.toAct === null || view.toAct === undefined ? ""
      : myTurn ? "Your turn" : `${actor ? actor.name : `seat ${view.toAct + 1}`} to act`;
    deadline = view.actionDeadline || null;
    $("clock").dataset.deadline = deadline ? String(deadline) : "";
    tick();

    if (!quiet) renderActions(legal);
    syncControls(); // buttons drawn while the table is paused stay disabled
    const funded = view.seats.filter((s) => s.playerId && s.stack > 0).length;
    $("start").hidden = fatal || view.status === "completed" || !["waiting", "hand_over"].includes(view.phase) || funded < 2;
  }

  // The action clock counts down to the view's real deadline, also while the connection is down
  // (the server's clock does not stop): the overlay repeats it so it stays readable.
  function tick() {
    const clock = $("clock");
    const outageClock = $("outage-clock");
    if (!deadline) {
      clock.textContent = "";
      clock.classList.remove("urgent");
      if (outageClock) outageClock.textContent = "";
      return;
    }
    const seconds = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
    clock.textContent = `${seconds} s`;
    clock.classList.toggle("urgent", seconds <= 5);
    if (outageClock) outageClock.textContent = `${$("turn").textContent || "The action clock"}: ${seconds} s left (the clock keeps running).`;
  }
  setInterval(tick, 250);

  // `reason` (optional): why the connection changed, in words; shown as the tooltip. `transport`:
  // see seat-ui.js.
  function setStatus(status, seq, reason, transport) {
    // While not connected a click could only be queued for a game that may have moved on:
    // the buttons stay visible but disabled until the next welcome, and while reconnecting the
    // whole table pauses under the overlay.
    $("actions").inert = status !== "connected";
    $("actions").classList.toggle("paused", status !== "connected");
    setPaused(status !== "connected" && !fatal);
    drawOutage(doc, status === "reconnecting");
    drawStatus($("status"), status, seq, reason, transport);
  }

  // `server`, `moved`, `transport`: see seat-ui.js.
  function showResume(ms, missed, resync, server, moved, transport) {
    drawResume($("resume-note"), ms, missed, resync, server, moved, transport);
  }

  // `line`: the event in words (rejoin.browser.poker_log: "bob raises to 8"), written by the
  // controller, which knows the players' names; the kind alone if none came.
  function appendEvent(eventJson, line) {
    const event = parse(eventJson);
    const text = typeof line === "string" && line ? line : String(event.kind);
    const list = $("events");
    const stick = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    list.append(el("li", { dataset: { seq: String(event.seq ?? ""), kind: event.kind } }, [
      el("span", { class: "seq", text: `#${event.seq}` }), el("span", { class: "line", text }),
    ]));
    if (stick) list.scrollTop = list.scrollHeight;
  }

  function showMessage(text) {
    setButtonsDisabled(false);
    $("message").textContent = text || "";
  }

  function showFatal(code, message, canForget) {
    fatal = true;
    const node = $("fatal");
    node.dataset.code = code;
    $("fatal-message").textContent = message || FATAL_TEXT[code] || `The connection ended (${code}).`;
    $("forget-seat").hidden = !canForget;
    $("forget-seat").disabled = false;
    node.hidden = false;
    $("actions").replaceChildren();
    $("actions").hidden = true;
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

  return { bind, showJoin, render, setStatus, showResume, appendEvent, showMessage, showFatal, showBootError };
}
