// ui-preview.html's harness: play.html's skeleton driven by table-ui.js with sample states, no
// server. A file of its own: the pages' Content-Security-Policy runs no inline script.
import { createTableUi } from "./table-ui.js";

const html = await (await fetch(new URL("play.html", import.meta.url))).text();
const page = new DOMParser().parseFromString(html, "text/html");
document.getElementById("page").append(...page.body.children);

const ui = createTableUi(document);
ui.bind({
  join: (name) => { console.log("join", name); samples.preflop(); },
  act: (type, amount) => { console.log("act", type, amount); ui.showMessage(`(preview) ${type} ${amount ?? ""}`); },
  start: () => { console.log("start"); ui.showMessage("(preview) start"); },
  forget: () => { console.log("forget"); ui.showJoin(null); },
});

const seat = (seat, name, stack, extra = {}) => ({ seat, playerId: `p${seat}`, name, stack, bet: 0,
  folded: false, allIn: false, connected: true, holeCards: null, ...extra });
const base = { gameId: "g-preview", status: "playing", button: 0, actionDeadline: null, minRaiseTo: 4 };
const view = (v) => JSON.stringify({ ...base, ...v });

const samples = {
  join: () => { ui.setStatus("unseated", null, "You have no seat at this table yet: choose a name to join."); ui.showJoin("That seat was just taken, pick another name."); },
  waiting: () => ui.render(view({ seq: 3, status: "waiting", handNumber: 0, phase: "waiting", board: [], pots: [],
    toAct: null, seats: [seat(0, "Ada", 200), seat(1, "Bob", 200)], you: { playerId: "p1", seat: 1, legalActions: [] } })),
  preflop: () => ui.render(view({ seq: 12, handNumber: 1, phase: "preflop", board: [], pots: [{ amount: 3, eligibleSeats: [0, 1, 2, 3] }],
    toAct: 2, actionDeadline: Date.now() + 20000,
    seats: [seat(0, "Ada", 200), seat(1, "Bob", 199, { bet: 1 }), seat(2, "Carmen", 198, { bet: 2, holeCards: ["As", "Td"] }),
      seat(3, "Dmitri with a very long name", 200, { connected: false })],
    you: { playerId: "p2", seat: 2, legalActions: [{ type: "fold" }, { type: "check" }, { type: "raise", min: 4, max: 200 }, { type: "allin", amount: 198 }] } })),
  flop: () => ui.render(view({ seq: 40, handNumber: 3, phase: "flop", board: ["Kh", "7c", "2d"],
    pots: [{ amount: 60, eligibleSeats: [0, 2, 4] }, { amount: 24, eligibleSeats: [2, 4] }], button: 4, toAct: 4,
    actionDeadline: Date.now() + 4000,
    seats: [seat(0, "Ada", 0, { allIn: true }), seat(1, "Bob", 150, { folded: true }), seat(2, "Carmen", 120, { bet: 12, holeCards: ["Qs", "Qh"] }),
      seat(4, "Eve", 300, { bet: 0 }), seat(5, "Femi", 90, { folded: true })],
    you: { playerId: "p2", seat: 2, legalActions: [] } })),
  showdown: () => ui.render(view({ seq: 77, handNumber: 3, phase: "hand_over", board: ["Kh", "7c", "2d", "Js", "9h"], pots: [],
    button: 4, toAct: null,
    seats: [seat(0, "Ada", 84, { holeCards: ["Ac", "Kd"] }), seat(2, "Carmen", 120, { holeCards: ["Qs", "Qh"] }), seat(4, "Eve", 300)],
    you: { playerId: "p2", seat: 2, legalActions: [] } })),
  outage: () => { samples.preflop(); ui.setStatus("reconnecting", 12, "The connection to the server was lost; your seat is kept while we reconnect."); },
  fatal: () => ui.showFatal("token_expired", null, true),
  anotherTab: () => ui.showFatal("another_tab", null, false),
  boot: () => ui.showBootError("The SDK bundle is missing: run `python3 -m nox -s bundle`, then reload."),
};
for (const [name, fn] of Object.entries(samples)) {
  const b = document.createElement("button");
  b.textContent = name;
  b.dataset.sample = name;
  b.addEventListener("click", fn);
  document.getElementById("preview-bar").append(b);
}

ui.setStatus("connected", 77, "Connected to the server over SSE.", "sse");
ui.showResume(312.4, 4, false, "n2", true, "sse");
// Each with its line as the controller words it (rejoin.browser.poker_log).
const events = [
  [{ seq: 10, kind: "player_joined", data: { seat: 3, playerId: "p3", name: "Dmitri", stack: 200 } }, "Dmitri sits down at seat 4 with 200 chips"],
  [{ seq: 11, kind: "hand_started", data: { handNumber: 1, button: 0, seats: [0, 1, 2, 3] } }, "hand #1 begins; Ada has the button"],
  [{ seq: 12, kind: "hole_cards", data: { seat: 2, cards: ["As", "Td"] } }, "Carmen is dealt A♠ 10♦"],
  [{ seq: 13, kind: "hole_cards", data: { seat: 3, cards: null } }, "Dmitri is dealt two cards"],
  [{ seq: 14, kind: "blind_posted", data: { seat: 1, amount: 1, blind: "small" } }, "Bob posts the small blind 1"],
  [{ seq: 15, kind: "action", data: { seat: 2, type: "raise", amount: 12 } }, "Carmen raises to 12"],
  [{ seq: 16, kind: "street", data: { street: "flop", cards: ["Kh", "7c", "2d"] } }, "the flop: K♥ 7♣ 2♦"],
  [{ seq: 17, kind: "pot_awarded", data: { amount: 96, winners: [{ seat: 0, amount: 84 }, { seat: 2, amount: 12 }] } }, "the pot of 96 is split: Ada 84, Carmen 12"],
  [{ seq: 18, kind: "resync", data: { gameState: { seq: 18 } } }, "state refreshed at seq 18"],
];
for (const [e, line] of events) ui.appendEvent(JSON.stringify({ at: 0, ...e }), line);
samples[new URLSearchParams(location.search).get("sample") || "preflop"]();
