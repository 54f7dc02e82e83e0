/**
 * The live view on a real terminal: `node bin/hostmaint.js drain` on the demo
 * cloud inside a pseudo-terminal. tmux (when installed) gives the screen as a
 * person sees it, checked mid-drain and at the end; `script` (util-linux)
 * gives the raw byte stream, checked for in-place redraws and a restored
 * cursor. Needs `npm run build` (npm test builds first).
 */
import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from './helpers.js';
import { builtCliReady } from './runs-helpers.js';
import { displayWidth, stripAnsi } from '../../src/report/ansi.js';

const root = path.resolve('.');
const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function skipUnless(ctx: Mocha.Context, ok: boolean, why: string): void {
  if (!ok) {
    console.log(`    (skipped: ${why})`);
    ctx.skip();
  }
}

/** A tmux server of our own (its own socket), one window of a fixed size. */
class Tmux {
  private readonly sock = `hm-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  constructor(cols: number, rows: number, command: string) {
    execFileSync('tmux', ['-L', this.sock, '-f', '/dev/null', 'new-session', '-d', '-x', String(cols), '-y', String(rows), '-s', 'run', command]);
    execFileSync('tmux', ['-L', this.sock, 'set-option', '-g', 'history-limit', '5000']);
  }
  /** The screen (and the scrollback with `all`), as text; `escapes` keeps colours. */
  capture(opts: { all?: boolean; escapes?: boolean } = {}): string {
    const args = ['-L', this.sock, 'capture-pane', '-p', '-t', 'run', ...(opts.all ? ['-S', '-'] : []), ...(opts.escapes ? ['-e'] : [])];
    return execFileSync('tmux', args, { encoding: 'utf8' });
  }
  async waitFor(test: (screen: string) => boolean, timeoutMs = 30_000): Promise<string> {
    const until = Date.now() + timeoutMs;
    let screen = '';
    while (Date.now() < until) {
      screen = this.capture();
      if (test(screen)) return screen;
      await sleep(50);
    }
    throw new Error(`timed out; the screen:\n${screen}`);
  }
  kill(): void {
    spawnSync('tmux', ['-L', this.sock, 'kill-server']);
  }
}

describe('the live view on a terminal (real process in a pseudo-terminal)', function () {
  this.timeout(90_000);
  let dir: string;
  before(function () {
    const ready = builtCliReady();
    skipUnless(this, ready.ok, ready.why);
  });
  beforeEach(() => { dir = tempDir('hm-tty-'); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const drain = (extra: string[], env: Record<string, string> = {}) =>
    `cd ${q(root)} && env ${Object.entries({ HOSTMAINT_DEMO_SPEED: '25', LANG: 'C.UTF-8', ...env }).map(([k, v]) => `${k}=${q(v)}`).join(' ')} ` +
    `node bin/hostmaint.js drain compute-01 --os-cloud demo --yes --state-dir ${q(dir)} ${extra.map(q).join(' ')}; echo "[exit $?]"; sleep 600`;

  it('tmux, 100x60: mid-drain the screen shows the phase, the bar, the migrations in flight and recent events, redrawn in place; at the end the result and what next', async function () {
    skipUnless(this, has('tmux'), 'tmux is not installed (apt-get install tmux)');
    const t = new Tmux(100, 60, drain([]));
    try {
      const mid = await t.waitFor((s) => /▶ migrate/.test(s) && /^ {2}INSTANCE +PROJECT +FROM → TO +STATE/m.test(s) && /running|queued/.test(s));
      const lines = mid.split('\n');
      assert.match(lines[0] ?? '', /^hostmaint drain compute-01 · cloud demo · run \S+ +\d+:\d\d$/);
      assert.match(lines[1] ?? '', /^✓ resolve {2}✓ disable {2}✓ preflight {2}▶ migrate {2}· verify$/);
      assert.match(lines[2] ?? '', /^[█░]{40} {2}\d+\/12 moved( · ETA (—|\d+:\d\d))?( · \d+ running)?( · \d+ queued in Nova)?( · \d+ waiting)?$/);
      assert.match(mid, /^ {2}\S+ +(shop|analytics) +compute-01 → \S+ +(queued|running|requested)/m, 'each row names the project, by name');
      assert.doesNotMatch(mid, /[0-9a-f]{12}/, 'no project id where Keystone gave the name');
      // once Nova has chosen a destination, the row shows it (from the queued/progress events)
      await t.waitFor((s) => /^ {2}\S+ +\S+ +compute-01 → compute-0[2-4] +(queued|running)/m.test(s));
      assert.match(mid, /^ +\+\d:\d\d [✓·!✗] /m);
      assert.equal(mid.match(/hostmaint drain compute-01 ·/g)?.length, 1, `the frame is drawn once, in place:\n${mid}`);
      const end = await t.waitFor((s) => /\[exit \d+\]/.test(s));
      assert.match(end, /\[exit 0\]/);
      const all = t.capture({ all: true });
      assert.equal(all.match(/hostmaint drain compute-01 ·/g)?.length, 1, `one frame in the whole scrollback:\n${all}`);
      assert.match(all, /✓ drained \(exit 0\)/);
      assert.match(all, /█{40} {2}12\/12 moved/);
      assert.match(all, /^INSTANCE +PROJECT +FROM +TO +METHOD +TIME +RESULT/m);
      assert.match(all, /^ {4}hostmaint undrain compute-01 --os-cloud demo --state-dir /m);
    } finally {
      t.kill();
    }
  });

  it('tmux, 50 columns, NO_COLOR: no colour, no wrapped line, still one frame', async function () {
    skipUnless(this, has('tmux'), 'tmux is not installed');
    const t = new Tmux(50, 40, drain([], { NO_COLOR: '1' }));
    try {
      const mid = await t.waitFor((s) => /phase migrate \(4\/5\)/.test(s) && /INSTANCE/.test(s));
      assert.equal(mid.match(/hostmaint drain compute-01/g)?.length, 1, mid);
      const styled = t.capture({ escapes: true });
      assert.doesNotMatch(styled, /\u001b\[(3\d|9\d|4\d)(;\d+)*m/, 'a colour code with NO_COLOR');
      await t.waitFor((s) => /\[exit \d+\]/.test(s));
      const all = t.capture({ all: true });
      assert.equal(all.match(/hostmaint drain compute-01 ·/g)?.length, 1, all);
      for (const line of all.split('\n').slice(0, 12)) assert.ok(displayWidth(line) <= 50, line);
    } finally {
      t.kill();
    }
  });

  it('script: the byte stream hides the cursor, redraws with cursor-up, never draws past the width, and shows the cursor again', function () {
    skipUnless(this, has('script'), 'script (util-linux) is not installed');
    const cmd = `stty cols 90 rows 40; cd ${q(root)} && HOSTMAINT_DEMO_SPEED=virtual node bin/hostmaint.js drain compute-01 --os-cloud demo --yes --state-dir ${q(dir)}`;
    // An operator's terminal: node's hasColors() answers 2 colours whenever CI is set, so drop it.
    const env: NodeJS.ProcessEnv = { ...process.env, LANG: 'C.UTF-8', TERM: 'xterm-256color' };
    delete env.CI;
    const r = spawnSync('script', ['-q', '-e', '-c', cmd, '/dev/null'], { encoding: 'utf8', timeout: 60_000, env });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const raw = r.stdout;
    assert.ok(raw.includes('\u001b[?25l'), 'cursor hidden while drawing');
    assert.ok(raw.lastIndexOf('\u001b[?25h') > raw.lastIndexOf('\u001b[?25l'), 'cursor shown again at the end');
    assert.match(raw, /\u001b\[\d+F/, 'redraws in place (cursor up to the frame)');
    assert.match(raw, /\u001b\[32m✓ drained \(exit 0\)/, 'the final frame, in colour');
    // The live view (stderr), up to the result on stdout, whose table may be as wide as it needs.
    const view = raw.slice(0, raw.indexOf('compute-01: drained'));
    for (const line of view.split(/\r?\n|\u001b\[\d+F/)) {
      assert.ok(displayWidth(stripAnsi(line).replace(/\r/g, '')) <= 90, `wider than 90: ${JSON.stringify(stripAnsi(line))}`);
    }
    assert.match(stripAnsi(raw), /compute-01: drained/);
  });
});
