// Compiles, under Pyodide's own Python (same version, same bytecode magic), the stdlib modules a
// table page imports: those Pyodide imports to boot plus those the SDK's page controllers import.
// build_bundle.py runs it and puts each .pyc in python_stdlib.zip in place of its .py, so that a
// page no longer compiles them at every load (that was most of loadPyodide's time on a reload).
//
//   node client_sdk/web/compile_stdlib.mjs PYODIDE_DIR OUT_DIR WHEEL...
//
// Writes OUT_DIR/<member>c for each stdlib member <member>.py imported (e.g. OUT_DIR/json/
// decoder.pyc). The .pyc are unchecked hash-based ones (PEP 552: no timestamp, and zipimport
// loads them without the source), compiled with PYTHONHASHSEED=0 (set and frozenset constants
// in a stable order) in a fresh interpreter: the same Pyodide and wheels give the same bytes.
// PYTHONNODEBUGRANGES=1 leaves out the column ranges of tracebacks (their ^^^ marks), a quarter
// of the bytes once compressed, useless without the source beside them.

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";

const CONTROLLERS = ["rejoin.browser.table", "rejoin.browser.generic"]; // boot.mjs's PAGES
const STDLIB = "/lib/python314.zip/"; // where Pyodide mounts python_stdlib.zip

const [pyodideDir, outDir, ...wheels] = process.argv.slice(2);
if (!pyodideDir || !outDir || wheels.length === 0) {
  console.error("usage: node compile_stdlib.mjs PYODIDE_DIR OUT_DIR WHEEL...");
  process.exit(2);
}

const { loadPyodide } = await import(pathToFileURL(join(pyodideDir, "pyodide.mjs")).href);
const pyodide = await loadPyodide({
  indexURL: `${pyodideDir}/`,
  env: { PYTHONHASHSEED: "0", PYTHONNODEBUGRANGES: "1" },
});
for (const file of wheels) {
  const bytes = readFileSync(file);
  pyodide.unpackArchive(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), "wheel");
}
// What the page's modules read from the browser at import; set after the boot, which would take
// Node for a browser if they were there before.
globalThis.location = new URL("http://localhost/play/g");
globalThis.navigator ??= {};
pyodide.globals.set("_controllers", pyodide.toPy(CONTROLLERS));
pyodide.globals.set("_stdlib", STDLIB);
const compiled = pyodide
  .runPython(`
import importlib, importlib.util, sys, zipfile
from importlib._bootstrap_external import _code_to_hash_pyc

for name in _controllers:
    importlib.import_module(name)
# By the spec's origin, not __file__: a frozen module (os, codecs...) names its .py in __file__
# but is never read from the zip.
origins = [getattr(module.__spec__, "origin", None) or "" for module in list(sys.modules.values())]
members = sorted({
    origin[len(_stdlib):]
    for origin in origins
    if origin.startswith(_stdlib) and origin.endswith(".py")
})
out = {}
with zipfile.ZipFile(_stdlib.rstrip("/")) as stdlib:
    for member in members:
        source = stdlib.read(member)
        # As zipimport compiles it: same file name, so tracebacks name the same path.
        code = compile(source, _stdlib + member, "exec", dont_inherit=True)
        out[member] = bytes(_code_to_hash_pyc(code, importlib.util.source_hash(source), checked=False))
out
`)
  .toJs({ dict_converter: Object.fromEntries });
for (const [member, data] of Object.entries(compiled)) {
  const path = join(outDir, `${member}c`);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
}
console.log(`compile_stdlib: ${Object.keys(compiled).length} stdlib modules compiled`);
