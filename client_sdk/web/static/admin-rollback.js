// The operator console's rollback box (docs/operations.md, "Rolling a game back"): the versions a
// game can return to (GET /api/game/{id}/versions: its kept snapshots, newest first), each with a
// "Roll back here" button that asks for a second click, and the reason every rollback must give.
// Built with DOM calls only: names come from players and are shown as text.

const ARMED_MS = 5000; // a rollback asks for a second click within this

function node(tag, className, text) {
  const found = document.createElement(tag);
  if (className) found.className = className;
  if (text !== undefined) found.textContent = text;
  return found;
}

function when(at) {
  if (typeof at === "number") return new Date(at).toISOString();
  return at ?? "?";
}

// "version 14: between hands, hand #2, hand_over, stacks ann 190 · bo 210, stored 2026-…": what a
// version was. "between hands" (`handBoundary`): the safe place to return to; any other version is
// mid-hand, and rolling back there replays a hand whose hole cards the players may have seen.
export function versionText(v) {
  const parts = [`version ${v.version}`];
  const facts = [v.handBoundary ? "between hands" : "mid-hand"];
  if (v.handNumber !== null && v.handNumber !== undefined) facts.push(v.handNumber ? `hand #${v.handNumber}` : "before the first hand");
  if (v.phase) facts.push(v.phase);
  if (v.status && v.status !== "playing") facts.push(v.status);
  if (Array.isArray(v.stacks) && v.stacks.length) {
    facts.push(`stacks ${v.stacks.map((s) => `${s.name ?? `seat ${Number(s.seat) + 1}`} ${s.stack}`).join(" · ")}`);
  }
  facts.push(`stored ${when(v.at)}`);
  if (v.verified === false) facts.push(`NOT VERIFIED: ${v.problem ?? "it does not open"}`);
  return `${parts[0]}: ${facts.join(", ")}`;
}

// `game`: the inspected game (`GET /api/admin/games/{id}`); `listing`: its versions; `rollBack(version,
// reason, reopen)`: the console's call, which redraws the panel when done; `note(text)`: the
// console's status line.
export function renderVersions(panel, game, listing, rollBack, note) {
  const box = node("div", "versions");
  const versions = listing.versions || [];
  box.append(node("h3", "", `Roll back (${versions.length} versions kept)`));
  box.append(
    node(
      "p",
      "hint",
      "A rollback appends an event: the log keeps everything, every player's table returns to the version's " +
        "state and its clocks start again from now. Prefer a version between hands: a mid-hand one replays a " +
        "hand whose hole cards players may have seen (board cards still to come are dealt afresh). A version " +
        "that is not verified cannot be rolled back to. Give the reason players and the log will see.",
    ),
  );
  const form = node("p", "inline-form");
  const label = node("label", "", "Reason ");
  const reason = node("input");
  reason.name = "reason";
  reason.maxLength = 200;
  reason.autocomplete = "off";
  reason.placeholder = "e.g. misdeal reported by a player";
  label.append(reason);
  form.append(label);
  const completed = game.status === "completed";
  const reopen = node("input");
  reopen.type = "checkbox";
  reopen.name = "reopen";
  if (completed) {
    const again = node("label", "", " Reopen the completed game");
    again.prepend(reopen);
    form.append(again);
  }
  box.append(form);
  if (listing.problem) box.append(node("p", "error", `The versions could not be listed: ${listing.problem}`));
  else if (!versions.length) box.append(node("p", "hint", "No version is kept (none stored yet, or the game is kept in memory only)."));
  let armed = { version: null, until: 0 };
  const list = node("ul", "tree");
  for (const v of versions) {
    const li = node("li", v.handBoundary ? "boundary" : "mid-hand");
    li.dataset.version = v.version;
    li.dataset.handBoundary = String(Boolean(v.handBoundary));
    if (v.verified === false) {
      // Its checksum or its game refuses it: the server would refuse the rollback. No button.
      li.classList.add("unverified");
      li.append(node("span", "error", versionText(v)));
      list.append(li);
      continue;
    }
    const button = node("button", "small secondary rollback", "Roll back here");
    button.type = "button";
    button.addEventListener("click", () => {
      const why = reason.value.trim();
      if (!why) {
        note("Say why in Reason first: players and the log see it.");
        reason.focus();
        return;
      }
      if (completed && !reopen.checked) {
        note("The game is completed: tick “Reopen the completed game” to roll it back.");
        return;
      }
      if (armed.version !== v.version || Date.now() > armed.until) {
        armed = { version: v.version, until: Date.now() + ARMED_MS };
        for (const other of list.querySelectorAll("button.rollback")) other.textContent = "Roll back here";
        button.textContent = "Really roll back?";
        note(`Click "Really roll back?" to return ${game.gameId} to version ${v.version}.`);
        return;
      }
      armed = { version: null, until: 0 };
      rollBack(v.version, why, completed && reopen.checked);
    });
    li.append(node("span", "", `${versionText(v)} `), button);
    list.append(li);
  }
  box.append(list);
  panel.append(box);
}
