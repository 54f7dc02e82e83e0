/**
 * The built CLI (bin/hostmaint.js -> dist/cli/main.bundle.js, see the build
 * script) works end to end, and its start-up stays light: what `--help` loads
 * statically holds no HTTP client, logger, schema validator, state machine or
 * emulator (structure, not time, so the test is stable). Needs `npm run build`
 * (npm test builds first).
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(root, 'bin', 'hostmaint.js');
const bundle = path.join(root, 'dist', 'cli', 'main.bundle.js');

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, NO_COLOR: '1', ...env }, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every file the entry imports statically, transitively (relative imports of the bundle's own files). */
function staticGraph(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^(?:import|export)\s[^;]*?from\s*["'](\.[^"']+)["']/gms)) visit(path.resolve(path.dirname(file), m[1]!));
    for (const m of text.matchAll(/^import\s*["'](\.[^"']+)["']/gm)) visit(path.resolve(path.dirname(file), m[1]!));
  };
  visit(entry);
  return seen;
}

describe('the built CLI (bundle)', function () {
  this.timeout(180_000);

  before(function () {
    if (!existsSync(bundle)) throw new Error('dist/cli/main.bundle.js is missing: run `npm run build` (npm test does)');
  });

  it('loads nothing heavy before a command needs it', () => {
    const files = [...staticGraph(bundle)];
    const text = files.map((f) => readFileSync(f, 'utf8')).join('\n');
    for (const heavy of ['node_modules/axios/', 'node_modules/winston/', 'node_modules/ajv/', 'node_modules/xstate/', 'src/emulator/', 'node_modules/yaml/']) {
      assert.ok(!text.includes(heavy), `${heavy} is in the static graph of the CLI entry (${files.map((f) => path.basename(f)).join(', ')})`);
    }
    assert.ok(text.includes('node_modules/yargs/'), 'yargs is bundled in');
    assert.equal((text.match(/new Intl\.Segmenter\(/g) ?? []).length, 1, 'one string-width (with its ASCII fast path) for yargs and cliui');
  });

  it('answers --version and --help, and status on an empty state directory', () => {
    const version = cli(['--version']);
    assert.equal(version.code, 0, version.stderr);
    assert.equal(version.stdout.trim(), (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version);
    const help = cli(['--help']);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /Usage: hostmaint <command> \[options\]/);
    assert.match(help.stdout, /drain <host>/);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hostmaint-perf-'));
    const status = cli(['status', '--state-dir', dir]);
    assert.equal(status.code, 0, status.stderr);
  });

  it('drains the demo cloud (emulator, schemas, logger and HTTP client loaded from the bundle)', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hostmaint-perf-'));
    const env = { HOSTMAINT_DEMO_SPEED: 'virtual' };
    const drain = cli(['drain', 'compute-01', '--os-cloud', 'demo', '--yes', '--format', 'json', '--state-dir', dir, '-v', '--log-file', path.join(dir, 'drain.log')], env);
    assert.equal(drain.code, 0, drain.stderr.slice(-2000));
    const result = JSON.parse(drain.stdout) as { outcome: string };
    assert.equal(result.outcome, 'drained');
    assert.ok(readFileSync(path.join(dir, 'drain.log'), 'utf8').length > 0, 'the log file was written');
  });
});
