// Boots a table page: Pyodide from /pyodide/<version>/, the SDK wheels from /sdk/, then hands the page's
// UI to its Python controller, which runs the seat from then on: play.html (poker) is drawn by
// table-ui.js for rejoin.browser.table, game.html (any other kind, <body data-page="generic">) by
// generic-ui.js for rejoin.browser.generic. Everything comes from this server; nothing is
// fetched from anywhere else.
//
// Every address is taken from the app's root, the folder above this script's /static/: the app
// may be mounted under a prefix in another site (docs/games.md), so /play/x may be /games/play/x.
//
// A browser keeps one seat per table: the tab that holds the Web Lock "rejoin.table.<gameId>"
// plays it; another tab of the same browser is told so (the lock is released when its holder
// closes or reloads, so a reload takes it back within the wait below).
//
// /sdk/manifest.json (revalidated on every load) names what to load: Pyodide's version and each
// wheel's path, whose hash changes with its content. The server lets the browser keep those files
// for a year without asking (api/precompressed.py), so a reload fetches none of Pyodide again.
//
// window.rejoinBoot records the boot's figures (ms) for the benchmarks and tests.

import { createGenericUi } from "./generic-ui.js";
import { createTableUi } from "./table-ui.js";

// The server picks the page by the game's kind (api/web.py); the page names its UI and controller.
const PAGES = {
  poker: { createUi: createTableUi, controller: "rejoin.browser.table" },
  generic: { createUi: createGenericUi, controller: "rejoin.browser.generic" },
};

const ROOT = new URL("../", import.meta.url); // http://host/ or http://host/<prefix>/

const BOOT_TIMEOUT_MS = 60_000; // a .wasm served with the wrong type hangs loadPyodide for ever
const TAB_LOCK_WAIT_MS = 2_000;

const figures = { started: performance.now(), pyodideMs: null, sdkMs: null, readyMs: null, error: null };
window.rejoinBoot = figures;

function gameIdFromPath() {
  const path = location.pathname;
  if (!path.startsWith(ROOT.pathname)) return null;
  const match = /^play\/([^/]+)\/?$/.exec(path.slice(ROOT.pathname.length));
  return match ? decodeURIComponent(match[1]) : null;
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Resolves true once this tab holds the table's lock (kept until the page goes away), false if
// another tab still holds it after the wait.
function holdTableLock(gameId) {
  if (!navigator.locks) return Promise.resolve(true); // no Web Locks: cannot tell, play on
  return new Promise((resolve) => {
    navigator.locks
      .request(`rejoin.table.${gameId}`, { signal: AbortSignal.timeout(TAB_LOCK_WAIT_MS) }, () => {
        resolve(true);
        return new Promise(() => {}); // held for the page's lifetime
      })
      .catch(() => resolve(false));
  });
}

async function readManifest() {
  const sdk = new URL("sdk/", ROOT);
  // no-cache: the browser may keep it but asks the server (ETag) before each use.
  const reply = await fetch(new URL("manifest.json", sdk), { cache: "no-cache" });
  if (!reply.ok) {
    throw new Error(
      `the bundle is not built (${sdk.pathname}manifest.json is missing): run ` +
        "`python3 -m nox -s bundle` in the repository, then reload",
    );
  }
  return reply.json();
}

// The wheels' bytes, fetched while Pyodide boots (their addresses carry their hash: the HTTP
// cache may answer for them without asking).
function fetchWheels(manifest) {
  const sdk = new URL("sdk/", ROOT);
  const wheels = Promise.all(
    manifest.wheels.map(async (wheel) => {
      const file = await fetch(new URL(wheel.file, sdk));
      if (!file.ok) throw new Error(`${sdk.pathname}${wheel.file}: HTTP ${file.status}`);
      return file.arrayBuffer();
    }),
  );
  wheels.catch(() => {}); // awaited after Pyodide's boot; a failure is reported there
  return wheels;
}

async function boot() {
  const page = PAGES[document.body.dataset.page] || PAGES.poker;
  const ui = page.createUi(document);
  const gameId = gameIdFromPath();
  if (gameId === null) {
    ui.showBootError(`This address names no table: open ${ROOT.pathname}play/<gameId>.`);
    return;
  }
  const ownsTab = holdTableLock(gameId);
  try {
    const manifest = await readManifest();
    const wheels = fetchWheels(manifest);
    // Pyodide fetches its wasm, stdlib and lock file relative to indexURL: all versioned too.
    const pyodideRoot = new URL(`pyodide/${encodeURIComponent(manifest.pyodide.version)}/`, ROOT);
    const { loadPyodide } = await import(new URL("pyodide.mjs", pyodideRoot).href);
    // The stdlib's name has its hash: the build changes what it holds (bytecode in it). A bundle
    // built before that has npm's name, Pyodide's default.
    const stdlib = manifest.pyodide.stdlib;
    const stdLibURL = stdlib ? new URL(stdlib, pyodideRoot).href : undefined;
    const pyodide = await withTimeout(
      loadPyodide({ indexURL: pyodideRoot.href, stdLibURL }),
      BOOT_TIMEOUT_MS,
      "starting Python (Pyodide)",
    );
    figures.pyodideMs = performance.now() - figures.started;
    for (const wheel of await wheels) pyodide.unpackArchive(wheel, "wheel");
    figures.sdkMs = performance.now() - figures.started;
    const controller = pyodide.pyimport(page.controller);
    // The API's base: the root without its trailing slash (http://host or http://host/<prefix>).
    controller.start(gameId, ui, await ownsTab, ROOT.href.replace(/\/$/, ""));
    figures.readyMs = performance.now() - figures.started;
  } catch (error) {
    figures.error = String(error);
    console.error("rejoin: boot failed", error);
    ui.showBootError(`The page could not start: ${error.message ?? error}`);
  }
}

boot();
