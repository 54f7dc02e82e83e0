#!/usr/bin/env node
// hostmaint entry point. `npm run build` compiles src/ with tsc (dist/, the
// library) and bundles the CLI with esbuild (dist/cli/main.bundle.js and its
// lazily loaded chunks): one file to read at start-up instead of a hundred.
// Without the bundle (tsc alone), the compiled modules are used.
async function load(bundle, plain) {
  try {
    return await import(bundle);
  } catch (e) {
    if (e?.code !== 'ERR_MODULE_NOT_FOUND' || !String(e.message).includes(bundle.slice(bundle.lastIndexOf('/') + 1))) throw e;
    return import(plain);
  }
}

const { runCli } = await load('../dist/cli/main.bundle.js', '../dist/cli/main.js');
const { processIO } = await load('../dist/cli/io.bundle.js', '../dist/cli/io.js');

// A command whose work can never finish (nothing left to wait for) would end with
// Node's own exit 13 and no message; it is reported as the bug it is (exit 1).
let settled = false;
process.on('beforeExit', () => {
  if (settled) return;
  process.stderr.write('hostmaint: unexpected error: the command stopped before it finished (nothing was left to wait for)\n  what to do: this is likely a bug; run again with -v and --log-file, and report it with the log.\n');
  process.exit(1);
});
const code = await runCli(process.argv.slice(2), processIO());
settled = true;
process.exitCode = code;
