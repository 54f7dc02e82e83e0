/**
 * Hostile input and a hostile environment (issue 15): the 25 cases an
 * adversarial operator found beyond test/cli/bad-input.test.ts, one test per
 * group, the cases as a table. Every row runs the real CLI (in this process,
 * or bin/hostmaint.js as a child for signals) against an emulated cloud and
 * asserts what a user sees: the exit code, the message, the files, and the
 * cloud's state.
 */
import { strict as assert } from 'node:assert';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { hostmaint, tempDir } from './helpers.js';
import { isMigrationStarted, journalEntries, requireBuiltCli, runsScenario, spawnHostmaint, startCloud, whenJournal, type TestCloud } from './runs-helpers.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { DRAIN_MACHINE_VERSION } from '../../src/machines/drain.machine.js';
import { newRecord } from '../../src/runs/recorder.js';
import { lockFileFor } from '../../src/runs/lock.js';

function fingerprint(emu: Emulator): string {
  return JSON.stringify({
    hosts: emu.state.hosts().map((h) => [h.name, h.status, h.disabledReason, h.servers.slice().sort()]),
    servers: emu.state.servers().map((s) => [s.name, s.host, s.status, s.taskState]),
    migrations: emu.state.migrations().length,
  });
}

function writes(emu: Emulator): number {
  return emu.requests.records.filter((r) => r.method !== 'GET' && r.method !== 'HEAD' && r.service !== 'identity').length;
}

/** Every string value of a JSON document (deep). */
function strings(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) strings(x, out);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) strings(x, out);
  return out;
}

function runIds(state: string): string[] {
  const dir = path.join(state, 'runs');
  return existsSync(dir) ? readdirSync(dir).filter((n) => !n.endsWith('.tmp')) : [];
}

/** Drain compute-01 in this process and stop it (SIGTERM, as a runbook job killed) once a migration started. */
async function interruptedDrain(cloud: TestCloud, state: string, extra: string[] = []): Promise<{ code: number; stderr: string; runId: string }> {
  const p = hostmaint(['drain', 'compute-01', ...cloud.args, '--yes', '--state-dir', state, '--poll-interval', '200ms', ...extra], cloud.env);
  await whenJournal(state, isMigrationStarted);
  process.emit('SIGTERM', 'SIGTERM');
  const r = await p;
  const runId = String(journalEntries(state).find((e) => e.decision === 'run-created')?.runId);
  return { code: r.code, stderr: r.stderr, runId };
}

describe('hostile input and a hostile environment (issue 15)', function () {
  this.timeout(180_000);
  let dir: string;
  beforeEach(() => {
    dir = tempDir('hm-hostile-');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  // ------------------------------------------------------------------ group 1
  it('the secret scrubber never corrupts saved data: short passwords that are JSON words, host names or ordinary words', async () => {
    const rows: Array<{ name: string; password: string }> = [
      { name: 'a password of `true` (a JSON literal)', password: 'true' },
      { name: 'a password of `compute` (part of every host name)', password: 'compute' },
    ];
    for (const row of rows) {
      const cloud = await startCloud(dir, runsScenario({ adminPassword: row.password, migration: { bandwidth_mbps: 100 } }));
      // As an operator writes it: quoted, so YAML reads `true` as a string.
      const yamlFile = cloud.env.OS_CLIENT_CONFIG_FILE!;
      writeFileSync(yamlFile, readFileSync(yamlFile, 'utf8').replace(/password: (.*)/, 'password: "$1"'));
      const state = path.join(dir, `state-${row.password}`);
      try {
        const log = path.join(dir, `${row.password}.log`);
        const stopped = await interruptedDrain(cloud, state, ['--log-file', log]);
        assert.equal(stopped.code, 130, `${row.name}: ${stopped.stderr}`);
        const file = path.join(state, 'runs', stopped.runId, 'run.json');
        const rec = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
        assert.deepEqual([rec.host, rec.cloud, rec.state], ['compute-01', 'emu', 'interrupted'], row.name);
        assert.ok(!strings(rec).includes(row.password), `${row.name}: the password is a value in run.json`);
        for (const line of readFileSync(log, 'utf8').split('\n').filter(Boolean)) assert.ok(!strings(JSON.parse(line)).includes(row.password), `${row.name}: the password is a value in the log`);
        const st = await hostmaint(['status', stopped.runId, '--state-dir', state, '-f', 'json']);
        assert.equal(st.code, 0, `${row.name}: status: ${st.stderr}`);
        assert.match(st.stdout, /"compute-01"/);
        const resumed = await hostmaint(['resume', stopped.runId, '--state-dir', state], cloud.env);
        assert.equal(resumed.code, 0, `${row.name}: resume: ${resumed.stderr}`);
        assert.equal(cloud.emu.state.hosts().find((h) => h.name === 'compute-01')!.servers.length, 0, `${row.name}: the host is not empty`);
      } finally {
        await cloud.stop();
      }
    }
    // A password that is an ordinary word: the words of a message stay.
    const cloud = await startCloud(dir, runsScenario());
    try {
      const yaml = cloud.emu.cloudsYaml('emu').replace(/password: .*/, 'password: wrong');
      writeFileSync(path.join(dir, 'wrongpw.yaml'), yaml);
      const r = await hostmaint(['drain', 'compute-01', '--os-cloud', 'emu', '--yes', '--state-dir', path.join(dir, 'st-wrong')], { OS_CLIENT_CONFIG_FILE: path.join(dir, 'wrongpw.yaml') });
      assert.equal(r.code, 6, r.stderr);
      assert.match(r.stderr, /Keystone does not say which one is wrong/);
      assert.equal(writes(cloud.emu), 0);
    } finally {
      await cloud.stop();
    }
  });

  // ------------------------------------------------------------------ group 2
  it('secrets in places not covered before: URL user-info in argv, the --log-file mode', async () => {
    const cloud = await startCloud(dir, runsScenario());
    try {
      const state = path.join(dir, 'state');
      const c = cloud.emu.credentials;
      const authUrl = cloud.emu.authUrl.replace('://', '://admin:Url-PW-7731@');
      const stopped = await (async () => {
        const p = hostmaint(['drain', 'compute-01', '--os-auth-url', authUrl, '--os-username', c.username, '--os-password', c.password, '--os-project-name', c.projectName, '--os-user-domain-name', 'Default', '--os-project-domain-name', 'Default', '--yes', '--state-dir', state, '--poll-interval', '200ms'], {});
        await whenJournal(state, isMigrationStarted);
        process.emit('SIGTERM', 'SIGTERM');
        return p;
      })();
      assert.equal(stopped.code, 130, stopped.stderr);
      const [runId] = runIds(state);
      const text = readFileSync(path.join(state, 'runs', runId!, 'run.json'), 'utf8');
      assert.doesNotMatch(text, /Url-PW-7731/, 'the URL password is in run.json');
      assert.doesNotMatch(text, new RegExp(c.password), 'the password is in run.json');
      const rec = JSON.parse(text) as { argv: string[] };
      assert.ok(rec.argv.includes('--os-auth-url'), 'the argv is recorded');
      const st = await hostmaint(['status', runId!, '--state-dir', state, '-f', 'json']);
      assert.equal(st.code, 0, st.stderr);
      assert.doesNotMatch(st.stdout + st.stderr, /Url-PW-7731/);

      // --log-file: created 0600 whatever the umask; an existing 0644 file of ours becomes 0600.
      const fresh = path.join(dir, 'fresh.log');
      const old = path.join(dir, 'old.log');
      writeFileSync(old, '');
      chmodSync(old, 0o644);
      for (const file of [fresh, old]) {
        const r = await hostmaint(['plan', 'compute-03', ...cloud.args, '--state-dir', state, '--log-file', file, '-v'], cloud.env);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(statSync(file).mode & 0o777, 0o600, `${file} is not 0600`);
        assert.ok(readFileSync(file, 'utf8').length > 0, `${file} is empty`);
      }
    } finally {
      await cloud.stop();
    }
  });

  // ------------------------------------------------------------------ group 3
  it('output targets: checked before the cloud is touched (exit 2, naming the path); a target failing mid-run only warns', async () => {
    const cloud = await startCloud(dir, runsScenario());
    try {
      const before = fingerprint(cloud.emu);
      const rows: Array<{ name: string; args: string[]; message: RegExp }> = [
        { name: '--log-file under a directory that cannot exist (plan)', args: ['plan', 'compute-01', '--log-file', '/proc/nope/x.json'], message: /--log-file \/proc\/nope\/x.json: cannot write there \(its directory does not exist\)/ },
        { name: '--log-file under a directory that cannot exist (drain)', args: ['drain', 'compute-01', '--yes', '--log-file', '/proc/nope/x.json'], message: /--log-file \/proc\/nope\/x.json: cannot write there/ },
        { name: '--log-file a directory', args: ['drain', 'compute-01', '--yes', '--log-file', '<dir>'], message: /--log-file \S+: cannot write there \(it is a directory\)/ },
        { name: '--events into a directory', args: ['drain', 'compute-01', '--yes', '--events', 'ndjson=<dir>'], message: /--events \S+: cannot write there \(it is a directory\)/ },
        { name: '--events in a missing directory', args: ['drain', 'compute-01', '--yes', '--events', 'ndjson=<dir>/no/such/e.ndjson'], message: /--events \S+no\/such\/e.ndjson: cannot write there/ },
        { name: '--report a directory', args: ['drain', 'compute-01', '--yes', '--report', '<dir>/sub.md'], message: /--report \S+sub.md: cannot write there \(it is a directory\)/ },
      ];
      mkdirSync(path.join(dir, 'sub.md'));
      for (const row of rows) {
        const t0 = Date.now();
        const r = await hostmaint([...row.args.map((a) => a.replace('<dir>', dir)), ...cloud.args, '--state-dir', path.join(dir, 'state')], cloud.env);
        assert.equal(r.code, 2, `${row.name}: exit ${r.code}\n${r.stderr}`);
        assert.match(r.stderr, row.message, row.name);
        assert.ok(Date.now() - t0 < 10_000, `${row.name}: took ${Date.now() - t0} ms`);
        assert.equal(fingerprint(cloud.emu), before, `${row.name}: the cloud changed`);
        assert.equal(writes(cloud.emu), 0, `${row.name}: a write reached the cloud`);
      }
      // A target that fails during the run (a full disk): one warning, the drain goes on, the end says what was lost.
      const full: Array<{ name: string; host: string; args: string[]; flag: string }> = [
        { name: '--events ndjson=/dev/full', host: 'compute-01', args: ['--events', 'ndjson=/dev/full'], flag: '--events' },
        { name: '--log-file /dev/full', host: 'compute-02', args: ['--log-file', '/dev/full', '-v'], flag: '--log-file' },
      ];
      for (const row of full) {
        cloud.emu.state.cloud.hosts.get(row.host)!.disabled = false;
        const state = path.join(dir, `state-full-${row.flag}`);
        const r = await hostmaint(['drain', row.host, ...cloud.args, '--yes', '--state-dir', state, '--poll-interval', '200ms', ...row.args], cloud.env);
        assert.equal(r.code, 0, `${row.name}: exit ${r.code}\n${r.stderr}`);
        const warnings = r.stderr.split('\n').filter((l) => l.startsWith(`hostmaint: warning: cannot write ${row.flag} /dev/full`));
        assert.equal(warnings.length, 1, `${row.name}: one warning\n${r.stderr}`);
        assert.match(r.stderr, new RegExp(`${row.flag} /dev/full is incomplete: \\d+ write\\(s\\) were dropped \\(no space left on the device\\)`));
        const [runId] = runIds(state);
        const rec = JSON.parse(readFileSync(path.join(state, 'runs', runId!, 'run.json'), 'utf8')) as { state: string; outcome: string };
        assert.deepEqual([rec.state, rec.outcome], ['finished', 'drained'], row.name);
      }
    } finally {
      await cloud.stop();
    }
  });

  // ------------------------------------------------------------------ group 4
  describe('values that reach the cloud, or crash: exit 2 naming the input, the cloud unchanged', () => {
    let emu: Emulator;
    let env: Record<string, string>;
    let base: string;
    const EVIL = '\u001b[31mEVIL\u0007 maintenance';
    before(async () => {
      base = tempDir('hm-hostile-values-');
      emu = await startEmulator({
        scenario: {
          name: 'hostile',
          defaults: { host: { vcpus: 16, ram_mb: 32768, disk_gb: 500 } },
          hosts: [{ name: 'compute-01' }, { name: 'compute-02' }, { name: 'compute-03' }],
          flavors: [{ name: 'm1.small', id: '2', vcpus: 1, ram_mb: 2048, disk_gb: 20 }],
          projects: [{ name: 'tenant-a' }],
          instances: [{ name: 'web-{i}', count: 2, project: 'tenant-a', flavor: 'm1.small', host: 'compute-01' }],
        } as never,
      });
      const yaml = emu.cloudsYaml('emu');
      writeFileSync(path.join(base, 'clouds.yaml'), yaml);
      // A merge key, as openstacksdk accepts: the auth comes from an anchor.
      const auth = /( {4}auth:\n(?: {6}.*\n)+)/.exec(`${yaml}\n`)![1]!;
      writeFileSync(path.join(base, 'merge.yaml'), `base: &base\n${auth.replace(/^ {4}/gm, '  ')}  region_name: RegionOne\nclouds:\n  emu:\n    <<: *base\n`);
      const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]', 'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]', 'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]', 'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]', 'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]', 'f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]'].join('\n');
      writeFileSync(path.join(base, 'bomb-clouds.yaml'), `${bomb}\nclouds: {}\n`);
      writeFileSync(path.join(base, 'bomb-workflow.yaml'), `${bomb}\nname: bomb\nsteps: []\n`);
      env = { OS_CLIENT_CONFIG_FILE: path.join(base, 'clouds.yaml') };
    });
    after(async () => {
      await emu.stop();
      rmSync(base, { recursive: true, force: true });
    });

    const saveRun = (state: string, runId: string, over: Record<string, unknown>) => {
      const d = path.join(state, 'runs', runId);
      mkdirSync(d, { recursive: true, mode: 0o700 });
      const rec = { ...newRecord({ runId, command: 'drain', host: 'compute-01', cloud: 'emu', user: 'admin', who: 't@box', argv: [], startedAt: '2024-01-01T00:00:00.000Z', workflowVersion: DRAIN_MACHINE_VERSION, options: {} }), state: 'interrupted', ...over };
      writeFileSync(path.join(d, 'run.json'), JSON.stringify(rec));
    };
    const snapshot = (runId: string, value: unknown, options: Record<string, unknown> = {}) => ({
      status: 'active',
      value,
      historyValue: {},
      context: { runId, host: 'compute-01', options: { pollIntervalMs: 2000, ...options }, pool: [], pollErrors: 0, ticks: 0, warnings: [] },
      children: {},
    });

    interface Row {
      name: string;
      args: string[];
      code: number;
      message: RegExp;
      env?: Record<string, string>;
      setup?: (state: string) => void;
      undo?: () => void;
      /** Output that must not appear. */
      absent?: RegExp;
      maxGets?: number;
    }
    const rows: Row[] = [
      { name: '--target empty', args: ['drain', 'compute-01', '--yes', '--target', ''], code: 2, message: /--target "" names no host/ },
      { name: '--target of commas only', args: ['drain', 'compute-01', '--yes', '--target', ',,'], code: 2, message: /--target ",," names no host/ },
      { name: 'unknown --target', args: ['drain', 'compute-01', '--yes', '--target', 'compute-99'], code: 2, message: /--target names a host with no nova-compute service: 'compute-99'/ },
      { name: 'unknown --aggregate', args: ['drain', 'compute-01', '--yes', '--aggregate', 'rack-9'], code: 2, message: /--aggregate 'rack-9': no host aggregate has that name or id/ },
      { name: 'unknown --availability-zone', args: ['drain', 'compute-01', '--yes', '--availability-zone', 'az-9'], code: 2, message: /--availability-zone 'az-9': the cloud has no such availability zone/ },
      { name: 'unknown --target of a workflow run', args: ['run', 'maintenance-cycle', 'compute-01', '--yes', '--target', 'compute-99'], env: { HOSTMAINT_MAINTENANCE_COMMAND: 'true' }, code: 2, message: /--target names a host with no nova-compute service: 'compute-99'/ },
      { name: 'a 300-character host name', args: ['drain', 'c'.repeat(300), '--yes'], code: 2, message: /'c{40}…' is not a host name: it is 300 characters long; Nova's host names have at most 255/ },
      { name: 'a YAML alias bomb in clouds.yaml', args: ['drain', 'compute-01', '--yes'], env: { OS_CLIENT_CONFIG_FILE: '<base>/bomb-clouds.yaml' }, code: 2, message: /bomb-clouds.yaml is not usable YAML: its aliases expand to too much/ },
      { name: 'a YAML alias bomb in a workflow', args: ['run', '<base>/bomb-workflow.yaml', 'compute-01', '--yes'], code: 2, message: /bomb-workflow.yaml[\s\S]*aliases expand to too much/ },
      {
        name: 'a saved snapshot in a state the workflow does not have',
        args: ['resume', '20240101T000000Z-5a01'],
        setup: (state) => saveRun(state, '20240101T000000Z-5a01', { snapshot: snapshot('20240101T000000Z-5a01', 'teleporting') }),
        code: 2,
        message: /saved snapshot of run 20240101T000000Z-5a01 is not valid: it is in state 'teleporting', which the drain workflow does not have/,
        absent: /resuming/,
      },
      { name: '--reason of 200 emoji', args: ['drain', 'compute-01', '--yes', '--reason', '😀'.repeat(200)], code: 2, message: /--reason holds the character 😀 \(U\+1F600, outside the Basic Multilingual Plane\)/ },
      {
        name: 'a saved run with pollIntervalMs 0',
        args: ['resume', '20240101T000000Z-5a02'],
        setup: (state) => saveRun(state, '20240101T000000Z-5a02', { options: { pollIntervalMs: 0 }, snapshot: snapshot('20240101T000000Z-5a02', 'migrating', { pollIntervalMs: 0 }) }),
        code: 2,
        message: /saved run 20240101T000000Z-5a02 has options out of range: pollIntervalMs \(--poll-interval\) is 0 ms, not a duration from 200ms/,
        absent: /resuming/,
        maxGets: 0,
      },
      { name: 'clouds.yaml with a YAML merge key (supported: a plan works)', args: ['plan', 'compute-01'], env: { OS_CLIENT_CONFIG_FILE: '<base>/merge.yaml' }, code: 0, message: /preflight passed/ },
      {
        name: 'a disabled reason with ESC and BEL (printed escaped; the drain of the empty host goes on)',
        args: ['drain', 'compute-02', '--yes'],
        setup: () => {
          const h = emu.state.cloud.hosts.get('compute-02')!;
          h.disabled = true;
          h.disabledReason = EVIL;
        },
        undo: () => {
          const h = emu.state.cloud.hosts.get('compute-02')!;
          h.disabled = false;
          h.disabledReason = null;
        },
        code: 0,
        message: /already disabled by someone else \("\\x1b\[31mEVIL\\x07 maintenance/,
        // eslint-disable-next-line no-control-regex
        absent: /[\u001b\u0007]/,
      },
    ];

    rows.forEach((row, i) => {
      it(`${row.name}: exit ${row.code}`, async () => {
        const state = path.join(base, `state-${i}`);
        const sub = (s: string) => s.replace('<base>', base);
        row.setup?.(state);
        const before = fingerprint(emu);
        const writesBefore = writes(emu);
        const getsBefore = emu.requests.records.length;
        try {
          const cloudArgs = row.args[0] === 'resume' ? [] : ['--os-cloud', 'emu'];
          const envRow = Object.fromEntries(Object.entries(row.env ?? {}).map(([k, v]) => [k, sub(v)]));
          const t0 = Date.now();
          const r = await hostmaint([...row.args.map(sub), ...cloudArgs, '--state-dir', state], { ...env, ...envRow });
          const all = r.stdout + r.stderr;
          assert.equal(r.code, row.code, `${row.name}: exit ${r.code}\n${all}`);
          assert.match(all, row.message, `${row.name}:\n${all}`);
          assert.doesNotMatch(all, /unexpected error/);
          if (row.absent) assert.doesNotMatch(all, row.absent, `${row.name}:\n${all}`);
          assert.ok(Date.now() - t0 < 20_000, `${row.name}: took ${Date.now() - t0} ms`);
          assert.equal(fingerprint(emu), before, `${row.name}: the cloud changed`);
          assert.equal(writes(emu), writesBefore, `${row.name}: a write request reached the cloud`);
          if (row.maxGets !== undefined) assert.ok(emu.requests.records.length - getsBefore <= row.maxGets + 10, `${row.name}: ${emu.requests.records.length - getsBefore} requests`);
          if (row.name.startsWith('a disabled reason')) {
            // status prints what the run saw from the cloud: escaped as well.
            const st = await hostmaint(['status', 'compute-02', '--state-dir', state]);
            // eslint-disable-next-line no-control-regex
            assert.doesNotMatch(st.stdout + st.stderr, /[\u001b\u0007]/, `status:\n${st.stdout}${st.stderr}`);
          }
        } finally {
          row.undo?.();
        }
      });
    });
  });

  // ------------------------------------------------------------------ group 5
  describe('signals', () => {
    before(requireBuiltCli);
    it('a signal at start-up, before the handlers are installed, is harmless: nothing changed, no lock, no run left running', async () => {
      const cloud = await startCloud(dir, runsScenario());
      try {
        const before = fingerprint(cloud.emu);
        for (const delayMs of [0, 30, 100, 250]) {
          const state = path.join(dir, `state-${delayMs}`);
          const child = spawnHostmaint(['drain', 'compute-01', ...cloud.args, '--yes', '--state-dir', state], cloud.env);
          await new Promise((r) => setTimeout(r, delayMs));
          child.proc.kill('SIGTERM');
          const { code, signal } = await child.exited;
          assert.ok(signal === 'SIGTERM' || code === 130, `delay ${delayMs}: exit ${code} ${signal}\n${child.stderr()}`);
          if (code === 130) continue; // the handlers were in: the documented Ctrl-C path (runs-process.test.ts)
          assert.equal(fingerprint(cloud.emu), before, `delay ${delayMs}: the cloud changed`);
          assert.equal(writes(cloud.emu), 0, `delay ${delayMs}: a write reached the cloud`);
          assert.equal(existsSync(lockFileFor(path.join(state, 'locks'), 'compute-01')), false, `delay ${delayMs}: a lock is left`);
          assert.deepEqual(runIds(state), [], `delay ${delayMs}: a run was saved`);
        }
      } finally {
        await cloud.stop();
      }
    });
  });
});
