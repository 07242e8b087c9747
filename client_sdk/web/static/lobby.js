// The lobby page: create a table through the HTTP API, or open one by id.
//
// Addresses are taken from the app's root, the folder above this script's /static/: the app may
// be mounted under a prefix in another site (docs/games.md).

const ROOT = new URL("../", import.meta.url);
const tablePath = (id) => new URL(`play/${encodeURIComponent(id)}`, ROOT).pathname;

const createForm = document.getElementById("create-form");
const errorBox = document.getElementById("lobby-error");
const created = document.getElementById("created");
const link = document.getElementById("table-link");

createForm.addEventListener("submit", async (e) => {
  e.preventDefault();
  const field = (name) => Number(createForm.elements[name].value);
  const body = {
    seats: field("seats"),
    smallBlind: field("smallBlind"),
    bigBlind: field("bigBlind"),
    startingStack: field("startingStack"),
    actionTimeoutMs: Math.round(field("actionTimeoutSeconds") * 1000),
  };
  const button = createForm.querySelector("button[type=submit]");
  button.disabled = true;
  errorBox.textContent = "";
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
      for (let seat = 0; seat < body.seats; seat++) {
        const a = document.createElement("a");
        a.className = "seat-link";
        a.dataset.seat = String(seat);
        a.href = `${path}?seat=${seat}`;
        a.textContent = `seat ${seat + 1}`;
        seatLinks.append(a, " ");
      }
      created.hidden = false;
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
