/**
 * Issue 17, through the real CLI: the demo cloud kept between commands (and reset), the demo's own
 * maintenance command, stdout that carries only events, a declined confirmation's own exit code,
 * a closed pipe, help that fits each command, words for a mistyped flag or a missing argument.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { hostmaint, tempDir } from './helpers.js';
import { requireBuiltCli, spawnHostmaint } from './runs-helpers.js';
import { runCli } from '../../src/cli/main.js';

describe('issue 17: the demo cloud between commands', function () {
  this.timeout(120_000);
  let dir: string;
  beforeEach(() => { dir = tempDir('hm-demo-keep-'); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const demo = (...args: string[]) => hostmaint([...args, '--os-cloud', 'demo', '--state-dir', dir]);

  it('drain, then undrain --return on the next command moves the instances back; the cloud is saved in the state directory', async () => {
    const d = await demo('drain', 'compute-01', '--yes', '-q');
    assert.equal(d.code, 0, d.stderr);
    assert.ok(existsSync(path.join(dir, 'demo', 'cloud.json')), 'the demo cloud is saved under <state-dir>/demo');
    // the next process sees the drained host: its plan has nothing to move
    const p = await demo('plan', 'compute-01', '-f', 'json');
    const plan = p.json<{ plan: unknown[] }>();
    assert.equal(plan.plan.length, 0, p.stdout);
    const u = await demo('undrain', 'compute-01', '--return', '-q');
    assert.equal(u.code, 0, u.stderr);
    assert.doesNotMatch(u.stdout, /already-enabled/);
    assert.match(u.stdout, /12 moved/);
    const again = await demo('plan', 'compute-01', '-f', 'json');
    assert.equal(again.json<{ plan: unknown[] }>().plan.length, 12, 'the instances are back on compute-01');
  });

  it('`hostmaint emulator reset` forgets the demo cloud and its runs: the next command starts a new one', async () => {
    assert.equal((await demo('drain', 'compute-01', '--yes', '-q')).code, 0);
    const r = await hostmaint(['emulator', 'reset', '--state-dir', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Forgot the demo cloud/);
    assert.equal(existsSync(path.join(dir, 'demo')), false);
    const u = await demo('undrain', 'compute-01', '-f', 'json');
    assert.equal(u.code, 0, u.stderr);
    assert.equal(u.json<{ outcome: string }>().outcome, 'already-enabled');
    const fresh = await hostmaint(['emulator', 'reset', '--state-dir', tempDir()]);
    assert.match(fresh.stdout, /nothing to do/);
  });

  it('status and history list the demo runs in the order they ran', async () => {
    assert.equal((await demo('drain', 'compute-01', '--yes', '-q')).code, 0);
    assert.equal((await demo('undrain', 'compute-01', '-q')).code, 0);
    const h = await hostmaint(['history', '--state-dir', dir, '-f', 'json']);
    const runs = h.json<{ runs: Array<{ command: string; outcome: string }> }>().runs;
    assert.deepEqual(runs.map((x) => `${x.command} ${x.outcome}`), ['undrain undrained', 'drain drained']);
  });
});

describe('issue 17: a partial drain on the demo (scenario demo-failures)', function () {
  this.timeout(60_000);
  it('db-1 fails every attempt, cache-1 stalls once and moves on its retry: partial, exit 4, db-1 left on the disabled host', async () => {
    const dir = tempDir();
    const r = await hostmaint(['drain', 'compute-01', '--os-cloud', 'demo', '--yes', '--stall-timeout', '10s', '--retries', '1', '--state-dir', dir, '-f', 'json'], { HOSTMAINT_DEMO_SCENARIO: 'demo-failures' });
    assert.equal(r.code, 4, r.stderr);
    const doc = r.json<{ outcome: string; instances: Array<{ name: string; status: string }> }>();
    assert.equal(doc.outcome, 'partial');
    assert.equal(doc.instances.find((i) => i.name === 'db-1')?.status, 'failed');
    assert.equal(doc.instances.find((i) => i.name === 'cache-1')?.status, 'moved');
    assert.match(r.stderr, /cache-1: no memory progress for 10s; action: abort/);
  });
});

describe('issue 17: the maintenance cycle on the demo (its own reboot)', function () {
  this.timeout(180_000);
  before(requireBuiltCli);
  let dir: string;
  beforeEach(() => { dir = tempDir('hm-demo-cycle-'); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('run maintenance-cycle with no HOSTMAINT_MAINTENANCE_COMMAND: the demo reboots the host, waits for it, gives the instances back (exit 0)', async () => {
    const events = path.join(dir, 'events.ndjson');
    const c = spawnHostmaint(['run', 'maintenance-cycle', 'compute-01', '--os-cloud', 'demo', '--yes', '--state-dir', dir, '-f', 'json', '--events', `ndjson=${events}`], { HOSTMAINT_DEMO_SPEED: '50' });
    const { code } = await c.exited;
    assert.equal(code, 0, c.stderr());
    const doc = JSON.parse(c.stdout()) as { steps: Array<{ name: string; status: string }> };
    assert.deepEqual(doc.steps.map((s) => `${s.name}:${s.status}`), ['disable:ok', 'preflight:ok', 'migrate:ok', 'verify-empty:ok', 'maintenance:ok', 'wait-for-service:ok', 'enable:ok', 'return-instances:ok']);
    // The wait step says what it waits for, and until when (the live view shows it with the time left).
    const all = readFileSync(events, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; step?: string; waitingFor?: string; deadline?: string; time: string });
    const waits = all.filter((e) => e.type === 'step-waiting');
    assert.ok(waits.length >= 1, 'a step-waiting event');
    const last = waits[waits.length - 1]!;
    assert.equal(last.step, 'wait-for-service');
    assert.match(last.waitingFor!, /^nova-compute on compute-01 to report up with a heartbeat newer than \S+/);
    const started = all.find((e) => e.type === 'step-started' && e.step === 'wait-for-service')!;
    assert.ok(Date.parse(last.deadline!) > Date.parse(started.time), 'its deadline is after the step began');
  });

  it('`emulator reboot` outside a demo run says what is missing (exit 2)', async () => {
    const r = await hostmaint(['emulator', 'reboot', 'compute-01']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /HOSTMAINT_DEMO_URL is not set/);
  });
});

describe('issue 17: output a script can trust', function () {
  this.timeout(120_000);
  let dir: string;
  beforeEach(() => { dir = tempDir('hm-demo-out-'); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('--events ndjson: every stdout line is an event; the result goes to stderr', async () => {
    const r = await hostmaint(['drain', 'compute-01', '--os-cloud', 'demo', '--yes', '--state-dir', dir, '--events', 'ndjson', '-q']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.ok(lines.length > 12);
    for (const l of lines) assert.equal(typeof (JSON.parse(l) as { type: unknown }).type, 'string', l);
    assert.match(r.stderr, /^INSTANCE +PROJECT/m);
  });

  it('status and history take -f yaml|value|csv and -c COLUMN, as openstackclient listings do', async () => {
    assert.equal((await hostmaint(['drain', 'compute-01', '--os-cloud', 'demo', '--yes', '--state-dir', dir, '-q'])).code, 0);
    const value = await hostmaint(['history', '--state-dir', dir, '-f', 'value', '-c', 'command', '-c', 'outcome']);
    assert.equal(value.code, 0, value.stderr);
    assert.equal(value.stdout, 'drain drained\n');
    const csv = await hostmaint(['status', '--state-dir', dir, '-f', 'csv', '-c', 'HOST', '-c', 'STATE']);
    assert.equal(csv.stdout, 'HOST,STATE\ncompute-01,finished\n');
    const yaml = await hostmaint(['status', '--state-dir', dir, '-f', 'yaml', '-c', 'host']);
    assert.equal(yaml.stdout, '- HOST: compute-01\n');
    const bad = await hostmaint(['history', '--state-dir', dir, '-c', 'nope']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /-c nope: no such column[\s\S]*The columns are: 'STARTED \(UTC\)', COMMAND/);
  });

  it('plan and workflow list take -f yaml|value|csv and -c COLUMN too; an unknown column is exit 2 before the cloud is asked', async () => {
    const csv = await hostmaint(['plan', 'compute-01', '--os-cloud', 'demo', '--state-dir', dir, '-q', '-f', 'csv', '-c', 'instance', '-c', 'project', '-c', 'target']);
    assert.equal(csv.code, 0, csv.stderr);
    const lines = csv.stdout.trim().split('\n');
    assert.equal(lines[0], 'INSTANCE,PROJECT,TARGET');
    assert.equal(lines.length, 13, 'a header and the 12 instances of compute-01');
    assert.ok(lines.includes('db-2,shop,compute-04'), csv.stdout);
    const value = await hostmaint(['plan', 'compute-01', '--os-cloud', 'demo', '--state-dir', dir, '-q', '-f', 'value', '-c', 'instance']);
    assert.equal(value.stdout.trim().split('\n').length, 12);
    assert.doesNotMatch(value.stdout, /Plan:|Next:/, 'only the listing on stdout');
    const yaml = await hostmaint(['plan', 'compute-01', '--os-cloud', 'demo', '--state-dir', dir, '-q', '-f', 'yaml', '-c', 'instance', '-c', 'method']);
    assert.match(yaml.stdout, /^- INSTANCE: db-2\n  METHOD: live$/m);
    const columns = await hostmaint(['plan', 'compute-01', '--os-cloud', 'demo', '--state-dir', dir, '-q', '-c', 'instance', '-c', 'target']);
    assert.match(columns.stdout, /^INSTANCE +TARGET\n/);
    const fresh = tempDir('hm-demo-col-');
    try {
      const bad = await hostmaint(['plan', 'compute-01', '--os-cloud', 'demo', '--state-dir', fresh, '-c', 'nope']);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /-c nope: no such column[\s\S]*INSTANCE, ID, PROJECT, METHOD, POLICY, TARGET, NEEDS, NOTE/);
      assert.equal(existsSync(path.join(fresh, 'demo', 'cloud.json')), false, 'no demo cloud was started');
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
    const wf = await hostmaint(['workflow', 'list', '-f', 'value', '-c', 'name']);
    assert.equal(wf.code, 0, wf.stderr);
    assert.deepEqual(wf.stdout.trim().split('\n').sort(), ['drain', 'example-webhooks-approval', 'maintenance-cycle', 'undrain']);
    const wfCsv = await hostmaint(['workflow', 'list', '-f', 'csv', '-c', 'name', '-c', 'where']);
    assert.match(wfCsv.stdout, /^NAME,WHERE\ndrain,shipped$/m);
  });

  it('answering no to the confirmation exits 9 (not confirmed), documented, and changes nothing', async () => {
    const out = new PassThrough();
    const err = new PassThrough();
    let stderr = '';
    err.on('data', (d: Buffer) => (stderr += d.toString()));
    out.resume();
    const code = await runCli(['drain', 'compute-01', '--os-cloud', 'demo', '--state-dir', dir], {
      stdout: out, stderr: err, env: { PATH: process.env.PATH, HOME: process.env.HOME, HOSTMAINT_DEMO_SPEED: 'virtual' }, interactive: true, confirm: async () => false,
    });
    assert.equal(code, 9);
    assert.match(stderr, /Not confirmed: nothing was changed/);
    const undrain = await hostmaint(['undrain', 'compute-01', '--os-cloud', 'demo', '--state-dir', dir, '-f', 'json']);
    assert.equal(undrain.json<{ outcome: string }>().outcome, 'already-enabled');
  });

  it('a closed pipe (`plan -v 2>&1 | head`) ends hostmaint quietly with 141', function () {
    requireBuiltCli.call(this);
    const r = spawnSync('bash', ['-c', `set -o pipefail; HOSTMAINT_DEMO_SPEED=virtual node bin/hostmaint.js plan compute-01 --os-cloud demo --state-dir '${dir}' -v 2>&1 | head -3 >/dev/null; echo "code=$?"`], { encoding: 'utf8' });
    assert.match(r.stdout, /code=141/, r.stdout + r.stderr);
    assert.doesNotMatch(r.stderr, /EPIPE|Error/);
  });
});

/** --help output of the built CLI (yargs prints help on the process's own stdout). */
function help(args: string[]): string {
  const r = spawnSync(process.execPath, ['bin/hostmaint.js', ...args, '--help'], { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: process.env.HOME, COLUMNS: '100' } });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

describe('issue 17: help and flags', function () {
  this.timeout(60_000);
  before(requireBuiltCli);
  it('status, history, workflow, completion and emulator show no --os-* options; drain does', async () => {
    for (const cmd of [['status'], ['history'], ['workflow', 'list'], ['completion'], ['emulator', 'start']]) {
      const out = help(cmd);
      assert.match(out, /hostmaint/);
      assert.doesNotMatch(out, /^\s+--os-/m, cmd.join(' '));
    }
    assert.match(help(['drain']), /--os-cloud/);
  });

  it('plan --help offers neither --yes, --reason nor --on-timeout; drain --help does', async () => {
    const plan = help(['plan']);
    for (const f of ['--yes', '--reason', '--on-timeout']) assert.doesNotMatch(plan, new RegExp(`${f}\\b`), f);
    const drain = help(['drain']);
    for (const f of ['--yes', '--reason', '--on-timeout']) assert.match(drain, new RegExp(`${f}\\b`), f);
  });

  it('status --os-cloud is refused: it never reads the cloud', async () => {
    const r = await hostmaint(['status', '--os-cloud', 'demo']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /status: unknown option --os-cloud\n/);
  });

  it('a mistyped flag gets the closest one; a missing host is named in words', async () => {
    const typo = await hostmaint(['drain', 'compute-01', '--concurrancy', '2', '--os-cloud', 'demo']);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /unknown option --concurrancy; did you mean --concurrency\?/);
    const missing = await hostmaint(['drain']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /drain needs a host: hostmaint drain <host>/);
    assert.doesNotMatch(missing.stderr, /non-option arguments/);
  });

  it('run takes --target as drain does', async () => {
    const r = await hostmaint(['run', 'maintenance-cycle', 'compute-01', '--target', 'compute-02', '--dry-run', '--os-cloud', 'demo', '--state-dir', tempDir()], { HOSTMAINT_MAINTENANCE_COMMAND: 'true' });
    assert.doesNotMatch(r.stderr, /Unknown argument|unknown option/);
  });

  it('a refused plan suggests re-checking with the flags given; a passed plan, draining with them', async () => {
    const dir = tempDir();
    // the built CLI: the next steps repeat the process's own command line
    const cli = (args: string[]) => {
      const r = spawnSync(process.execPath, ['bin/hostmaint.js', ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: process.env.HOME, HOSTMAINT_DEMO_SPEED: 'virtual' } });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    const refused = cli(['plan', 'compute-01', '--stopped', 'leave', '--skip-blocked', '--target', 'compute-02', '--os-cloud', 'demo', '--state-dir', dir]);
    assert.equal(refused.code, 3, refused.stderr);
    assert.match(refused.stdout, /^ +hostmaint plan compute-01 --stopped leave --skip-blocked --target compute-02 --os-cloud demo --state-dir \S+$/m, refused.stdout);
    const passed = cli(['plan', 'compute-01', '--skip-blocked', '--concurrency', '3', '--os-cloud', 'demo', '--state-dir', dir]);
    assert.equal(passed.code, 0, passed.stderr);
    assert.match(passed.stdout, /^ +hostmaint drain compute-01 --skip-blocked --concurrency 3 --reason 'maintenance CHG-\.\.\.' --os-cloud demo --state-dir \S+$/m, passed.stdout);
  });

  it('the help footer lists every exit code, 7, 8 and 9 included', async () => {
    const out = help([]).replace(/\s+/g, ' ');
    for (const c of ['7 workflow step failed', '8 waiting for approval', '9 not confirmed', '130 interrupted']) assert.ok(out.includes(c), c);
  });

  it('piped, --help is not wrapped: every example stays on one line, never split mid-word', () => {
    const out = help(['completion']);
    assert.match(out, /^ {2}hostmaint completion bash > ~\/\.local\/share\/bash-completion\/completions\/hostmaint +Complete hostmaint in bash \(new shells\)$/m);
    for (const cmd of ['drain', 'run', 'history']) {
      for (const line of help([cmd]).split('\n').filter((l) => l.startsWith(`  hostmaint ${cmd}`))) assert.match(line, /\S {2,}\S/, `an example without its description: ${line}`);
    }
  });
});
