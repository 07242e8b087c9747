// Compiles, under Pyodide's own Python (same version, same bytecode magic), the modules a table
// page imports: the stdlib modules Pyodide imports to boot, and the SDK's page controllers with
// all they import. build_bundle.py runs it and ships the bytecode, so that a page no longer
// compiles them at every load (that was most of a reload's time, with every file cached).
//
//   node client_sdk/web/compile_bytecode.mjs PYODIDE_DIR OUT_DIR WHEEL...
//
// Boots Pyodide from PYODIDE_DIR, unpacks the wheels as boot.mjs does and imports the controllers,
// then writes
//   OUT_DIR/stdlib/<member>c    for each member <member>.py of python_stdlib.zip imported
//                               (build_bundle.py puts it in the zip in place of the source)
//   OUT_DIR/sdk/<pkg>/__pycache__/<module>.<cache tag>.pyc
//                               for each module of the wheels imported (added to its wheel,
//                               beside the source)
// and prints, last, how many modules the import compiled from source: none when PYODIDE_DIR's
// stdlib and the wheels already hold their bytecode (e2e/browser/test_stdlib_bytecode.py).
//
// The .pyc are unchecked hash-based ones (PEP 552: no timestamp; the importers load them without
// looking at the source), compiled with PYTHONHASHSEED=0 (set and frozenset constants in a stable
// order) in a fresh interpreter: the same Pyodide and wheels give the same bytes.
// PYTHONNODEBUGRANGES=1 leaves out the column ranges of tracebacks (their ^^^ marks): a quarter
// of the stdlib's bytecode once compressed, and useless there without the source beside it.

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";

const CONTROLLERS = ["rejoin.browser.table", "rejoin.browser.generic"]; // boot.mjs's PAGES
const SDK_PACKAGES = ["rejoin", "rejoin_protocol"]; // the wheels' top-level packages
const STDLIB = "/lib/python314.zip/"; // where Pyodide mounts python_stdlib.zip

const [pyodideDir, outDir, ...wheels] = process.argv.slice(2);
if (!pyodideDir || !outDir || wheels.length === 0) {
  console.error("usage: node compile_bytecode.mjs PYODIDE_DIR OUT_DIR WHEEL...");
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
pyodide.globals.set("_sdk_packages", pyodide.toPy(SDK_PACKAGES));
pyodide.globals.set("_stdlib", STDLIB);
const result = pyodide
  .runPython(`
import importlib, importlib.util, os, sys, zipfile
from importlib._bootstrap_external import SourceLoader, _code_to_hash_pyc

# Counts what the import compiles from source: the SDK's modules come through SourceLoader (a
# stdlib one from a .py would show in the origins below).
_from_source = []
_source_to_code = SourceLoader.source_to_code
def _counting(self, data, path, **kwargs):
    _from_source.append(path)
    return _source_to_code(self, data, path, **kwargs)
SourceLoader.source_to_code = _counting
try:
    for name in _controllers:
        importlib.import_module(name)
finally:
    SourceLoader.source_to_code = _source_to_code

def _pyc(source, path):
    code = compile(source, path, "exec", dont_inherit=True)  # as the importers compile it
    return bytes(_code_to_hash_pyc(code, importlib.util.source_hash(source), checked=False))

modules = list(sys.modules.items())
# By the spec's origin, not __file__: a frozen module (os, codecs...) names its .py in __file__
# but is never read from the zip.
origins = [getattr(module.__spec__, "origin", None) or "" for _, module in modules]
members = sorted({o[len(_stdlib):] for o in origins if o.startswith(_stdlib) and o.endswith(".py")})
out = {}
with zipfile.ZipFile(_stdlib.rstrip("/")) as stdlib:
    for member in members:
        out["stdlib/" + member + "c"] = _pyc(stdlib.read(member), _stdlib + member)
for name, module in sorted(modules):
    origin = getattr(module.__spec__, "origin", None) or ""
    if name.split(".")[0] in _sdk_packages and origin.endswith(".py"):
        root = os.path.dirname(sys.modules[name.split(".")[0]].__spec__.submodule_search_locations[0])
        cached = importlib.util.cache_from_source(origin)
        with open(origin, "rb") as source:
            out["sdk/" + os.path.relpath(cached, root)] = _pyc(source.read(), origin)
out["compiled from source at import"] = str(len(_from_source) + len(members)).encode()
out
`)
  .toJs({ dict_converter: Object.fromEntries });
const fromSource = new TextDecoder().decode(result["compiled from source at import"]);
delete result["compiled from source at import"];
for (const [path, data] of Object.entries(result)) {
  mkdirSync(dirname(join(outDir, path)), { recursive: true });
  writeFileSync(join(outDir, path), data);
}
const count = (prefix) => Object.keys(result).filter((path) => path.startsWith(prefix)).length;
console.log(`compile_bytecode: ${count("stdlib/")} stdlib and ${count("sdk/")} SDK modules compiled`);
console.log(`compile_bytecode: ${fromSource} modules compiled from source at import`);
