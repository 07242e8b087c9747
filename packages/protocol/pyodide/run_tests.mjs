// Runs packages/protocol/tests inside Pyodide (Python 3.14, WebAssembly) under Node.js.
//
//   node packages/protocol/pyodide/run_tests.mjs --wheels DIR [--wheels DIR ...]
//        [--junitxml PATH] [-- PYTEST_ARGS...]
//
// `nox -s tests` runs it after the CPython tests, having run `npm ci` in client_sdk/web (Pyodide
// comes from there: npm `pyodide`, pinned) and filled the --wheels directories: the pinned
// wheels of ./requirements.txt and a freshly built rejoin_protocol wheel. Every *.whl found there
// is unpacked into Pyodide's site-packages; rejoin_protocol must be one of them, so that the
// tests import the package as built, not the source tree. The tests and the repository's
// pyproject.toml (the pytest configuration) are copied into Pyodide's in-memory file system,
// so nothing the run writes (.hypothesis, caches) reaches the checkout. ./pytest_in_pyodide.py
// does the Python side (see DESELECTED there for the tests that cannot run under Pyodide).
// The exit status is pytest's, or 1 on any other failure, including "no test passed".

import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "..", "..", "..");
const PYODIDE_DIR = join(ROOT, "client_sdk", "web", "node_modules", "pyodide");
const BOOT_TIMEOUT_MS = 60_000;
const WORKDIR = "/repo"; // the repository root inside Pyodide

function fail(message) {
  console.error(`run_tests.mjs: ${message}`);
  process.exit(2);
}

function parseArgs(argv) {
  const options = { wheels: [], junitxml: null, pytestArgs: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      options.pytestArgs = argv.slice(i + 1);
      break;
    } else if (arg === "--wheels" && i + 1 < argv.length) {
      options.wheels.push(resolve(argv[++i]));
    } else if (arg === "--junitxml" && i + 1 < argv.length) {
      options.junitxml = resolve(argv[++i]);
    } else {
      fail(`unknown or incomplete argument ${JSON.stringify(arg)}; see the header of this file`);
    }
  }
  if (options.wheels.length === 0) fail("no --wheels directory given");
  return options;
}

function wheelFiles(dirs) {
  const files = [];
  for (const dir of dirs) {
    if (!existsSync(dir)) fail(`--wheels ${dir} does not exist`);
    for (const name of readdirSync(dir).sort()) {
      if (name.endsWith(".whl")) files.push(join(dir, name));
    }
  }
  if (!files.some((file) => /\/rejoin_protocol-[^/]*\.whl$/.test(file))) {
    fail(`no rejoin_protocol-*.whl in ${dirs.join(", ")}`);
  }
  return files;
}

// Copies a host directory (or file) into the Pyodide file system, skipping caches.
function copyIn(pyodide, hostPath) {
  const target = `${WORKDIR}/${relative(ROOT, hostPath)}`;
  if (statSync(hostPath).isDirectory()) {
    pyodide.FS.mkdirTree(target);
    for (const name of readdirSync(hostPath)) {
      if (name === "__pycache__" || name.startsWith(".")) continue;
      copyIn(pyodide, join(hostPath, name));
    }
  } else {
    pyodide.FS.mkdirTree(dirname(target));
    pyodide.FS.writeFile(target, readFileSync(hostPath));
  }
}

async function boot() {
  const entry = join(PYODIDE_DIR, "pyodide.mjs");
  if (!existsSync(entry)) {
    fail(`${entry} is missing: run \`npm ci\` in client_sdk/web (nox -s tests does)`);
  }
  const { loadPyodide } = await import(pathToFileURL(entry).href);
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Pyodide did not boot within ${BOOT_TIMEOUT_MS} ms`)),
      BOOT_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([loadPyodide({ indexURL: `${PYODIDE_DIR}/` }), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const wheels = wheelFiles(options.wheels);
  // A report left by an earlier run must not stand for this one if Pyodide dies before writing.
  if (options.junitxml) rmSync(options.junitxml, { force: true });
  const started = performance.now();

  const pyodide = await boot();
  // Unbuffered, so that pytest's progress shows as it happens.
  const writer = (fd) => ({
    write: (buffer) => writeSync(fd, buffer),
    isatty: false,
  });
  pyodide.setStdout(writer(1));
  pyodide.setStderr(writer(2));
  console.log(
    `Pyodide ${pyodide.version} booted in ${Math.round(performance.now() - started)} ms ` +
      `from ${relative(ROOT, PYODIDE_DIR)}`,
  );

  const sitePackages = pyodide.runPython("import site; site.getsitepackages()[0]");
  for (const file of wheels) {
    const bytes = readFileSync(file);
    // A Node Buffer is refused ("Unknown typed array type"): hand over a plain Uint8Array view.
    pyodide.unpackArchive(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), "wheel", {
      extractDir: sitePackages,
    });
    console.log(`installed ${relative(ROOT, file)}`);
  }

  pyodide.FS.mkdirTree(WORKDIR);
  copyIn(pyodide, join(ROOT, "pyproject.toml"));
  copyIn(pyodide, join(ROOT, "packages", "protocol", "tests"));
  copyIn(pyodide, join(HERE, "pytest_in_pyodide.py"));
  pyodide.FS.chdir(WORKDIR);

  const junitInPyodide = options.junitxml ? "/tmp/junit-pyodide.xml" : null;
  pyodide.globals.set("_junitxml", junitInPyodide);
  pyodide.globals.set("_pytest_args", pyodide.toPy(options.pytestArgs));
  let currentTest = null;
  pyodide.globals.set("_on_test_start", (nodeid) => {
    currentTest = nodeid;
  });
  let status;
  try {
    status = pyodide.runPython(`
import sys
sys.path.insert(0, "${WORKDIR}/packages/protocol/pyodide")
import pytest_in_pyodide
pytest_in_pyodide.main(_junitxml, list(_pytest_args), _on_test_start)
`);
  } catch (error) {
    if (currentTest) {
      error.message = `${error.message}\n  Pyodide died during ${currentTest} (no later test ran)`;
    }
    throw error;
  }

  if (junitInPyodide) {
    if (pyodide.FS.analyzePath(junitInPyodide).exists) {
      mkdirSync(dirname(options.junitxml), { recursive: true });
      writeFileSync(options.junitxml, pyodide.FS.readFile(junitInPyodide));
      console.log(`JUnit report: ${relative(ROOT, options.junitxml)}`);
    } else {
      console.log("no JUnit report was written");
    }
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`Pyodide run finished in ${seconds} s with exit status ${status}`);
  return status;
}

main().then(
  (status) => {
    process.exitCode = status;
  },
  (error) => {
    // Pyodide's errors carry the whole minified runtime in their stack: print the message only.
    // Emscripten's file-system errors have no message, only an errno.
    const detail = error?.message || (error?.errno !== undefined ? `errno ${error.errno}` : "");
    console.error(`run_tests.mjs: ${error?.name ?? "error"}: ${detail || String(error)}`);
    process.exitCode = 2;
  },
);
