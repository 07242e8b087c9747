// The join form of the table pages (play.html and game.html): the name, and the seat. table-ui.js
// and generic-ui.js hand it their `call` (seat-ui.js's requestControls), so a click goes to the
// Python controller's `join(name, seat)` handler like every other.
//
// Seats are numbered from 0 in the API and from 1 for people: a seat button shows "Seat 1" and
// sends 0; game.html's seat box takes 1 and sends 0. The Python controller decides what to offer
// (rejoin.browser.join_text.join_choice) and hands it over as JSON: `summary` (one line about the
// table), `note` (why the seat asked for cannot be had), `free` (the seats to offer instead) and
// `closed` (the table takes nobody now: full, or started; no button is offered then).

export function createJoinForm(doc, call) {
  const $ = (id) => doc.getElementById(id);
  const form = $("join-form");
  let closed = false; // the table takes nobody: a join would only be refused

  function seatTyped() {
    const box = form.elements.seat;
    if (!box || box.closest("[hidden]")) return null;
    const typed = box.value.trim();
    return typed === "" ? null : Number(typed) - 1;
  }

  function bind() {
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      if (closed) return;
      const name = form.elements.name.value.trim();
      if (!name) return;
      $("join-error").textContent = "";
      const button = e.submitter;
      const chosen = button && button.dataset.seat !== undefined ? Number(button.dataset.seat) : seatTyped();
      call("join", name, chosen);
    });
  }

  // `choiceJson`: what to offer (see above); "null" clears the offer, undefined leaves it be.
  function drawChoice(choiceJson) {
    if (choiceJson === undefined) return;
    const choice = typeof choiceJson === "string" ? JSON.parse(choiceJson) : choiceJson;
    const summary = $("join-table");
    summary.textContent = (choice && choice.summary) || "";
    summary.hidden = !summary.textContent;
    const offer = $("seat-choice");
    const free = choice && Array.isArray(choice.free) ? choice.free : null;
    offer.hidden = !(choice && choice.note);
    $("seat-choice-note").textContent = (choice && choice.note) || "";
    $("free-seats").replaceChildren(...(free || []).map((seat) => {
      const button = doc.createElement("button");
      button.type = "submit";
      button.className = "free-seat";
      button.dataset.seat = String(seat);
      button.textContent = `Seat ${seat + 1}`;
      return button;
    }));
    // While seats are offered, a click on one is the join: no "any seat" button, no seat box.
    // A table that takes nobody offers nothing at all: its note says why.
    closed = Boolean(choice && choice.closed);
    const offering = Boolean(free && free.length);
    $("join-any").hidden = offering || closed;
    const box = form.elements.seat;
    if (box) box.closest("label").hidden = offering || closed;
  }

  function show(message, choiceJson) {
    drawChoice(choiceJson);
    $("join").hidden = false;
    $("join-error").textContent = message || "";
    form.elements.name.focus();
  }

  return { bind, show };
}
