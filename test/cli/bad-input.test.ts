/**
 * The bad-input table: every row is something an operator can get wrong, the
 * exit code and message hostmaint must answer with, and — checked after every
 * row — the cloud unchanged (same services, same servers where they were, no
 * write request at all). The cloud is an emulator that outlives the runs.
 */
import { DRAIN_MACHINE_VERSION } from '../../src/machines/drain.machine.js';
import { strict as assert } from 'node:assert';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hostmaint, tempDir } from './helpers.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { newRecord } from '../../src/runs/recorder.js';
import { lockFileFor } from '../../src/runs/lock.js';

interface Row {
  name: string;
  args: string[];
  /** Cloud name in the test's clouds.yaml (default emu), or null for none. */
  cloud?: string | null;
  env?: Record<string, string>;
  code: number;
  message: RegExp;
  /** Prepare the state directory / the cloud; undo after. */
  setup?: (ctx: Ctx) => void;
  undo?: (ctx: Ctx) => void;
}

interface Ctx {
  emu: Emulator;
  dir: string;
  state: string;
}

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

function saveRecord(state: string, runId: string, over: Record<string, unknown> = {}, raw?: string): void {
  const dir = path.join(state, 'runs', runId);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const rec = { ...newRecord({ runId, command: 'drain', host: 'compute-01', cloud: 'emu', user: 'admin', who: 't@box', argv: [], startedAt: '2024-01-01T00:00:00.000Z', workflowVersion: DRAIN_MACHINE_VERSION, options: {} }), state: 'interrupted', ...over };
  writeFileSync(path.join(dir, 'run.json'), raw ?? JSON.stringify(rec));
}

const D = '--state-dir';

describe('bad input: a table of mistakes, each with its exit code and message, the cloud unchanged', function () {
  this.timeout(120_000);
  let ctx: Ctx;
  let env: Record<string, string>;
  before(async () => {
    const dir = tempDir('hm-bad-');
    const emu = await startEmulator({
      scenario: {
        name: 'bad-input',
        defaults: { host: { vcpus: 16, ram_mb: 32768, disk_gb: 500 } },
        hosts: [{ name: 'compute-01' }, { name: 'compute-02' }, { name: 'compute-03' }],
        flavors: [{ name: 'm1.small', id: '2', vcpus: 1, ram_mb: 2048, disk_gb: 20 }],
        projects: [{ name: 'tenant-a', users: [{ name: 'alice', password: 'alice-pw', roles: ['member'] }] }],
        application_credentials: [{ id: 'ac-expired', name: 'runbook', secret: 'ac-secret', user: 'alice', project: 'tenant-a' }],
        instances: [{ name: 'web-{i}', count: 2, project: 'tenant-a', flavor: 'm1.small', host: 'compute-01' }],
      } as never,
    });
    // An application credential that has expired: Keystone no longer accepts it (401), as for an unknown one.
    emu.state.cloud.appCreds.delete('ac-expired');
    const url = emu.authUrl;
    const c = emu.credentials;
    const auth = (user: string, pw: string, project: string) =>
      `    auth:\n      auth_url: ${url}\n      username: ${user}\n      password: ${pw}\n      project_name: ${project}\n      user_domain_name: Default\n      project_domain_name: Default\n    region_name: RegionOne\n`;
    const yaml = [
      'clouds:',
      '  emu:',
      auth(c.username, c.password, c.projectName),
      '  wrongpw:',
      auth(c.username, 'Wrong-Passw0rd-77', c.projectName),
      '  member:',
      auth('alice', 'alice-pw', 'tenant-a'),
      '  unreachable:',
      auth(c.username, c.password, c.projectName).replace(url, 'http://127.0.0.1:9/v3'),
      '  appcred:',
      '    auth_type: v3applicationcredential',
      `    auth:\n      auth_url: ${url}\n      application_credential_id: ac-expired\n      application_credential_secret: ac-secret\n    region_name: RegionOne\n`,
      '  noauthurl:',
      '    auth:\n      username: admin\n      password: x\n',
    ].join('\n');
    writeFileSync(path.join(dir, 'clouds.yaml'), yaml);
    writeFileSync(path.join(dir, 'broken.yaml'), 'clouds:\n  emu:\n    auth: [unclosed\n');
    writeFileSync(path.join(dir, 'bad-scenario.json'), JSON.stringify({ name: 'x', hosts: [{ name: 'compute-01', vcpus: 'many' }] }));
    writeFileSync(path.join(dir, 'a-file'), 'not a directory');
    ctx = { emu, dir, state: path.join(dir, 'state') };
    env = { OS_CLIENT_CONFIG_FILE: path.join(dir, 'clouds.yaml') };
  });
  after(async () => {
    await ctx.emu.stop();
    rmSync(ctx.dir, { recursive: true, force: true });
  });

  const rows: Row[] = [
    // --- the host
    { name: 'unknown host', args: ['drain', 'compute-99', '--yes'], code: 2, message: /no nova-compute service named 'compute-99' \(did you mean compute-0\d/ },
    { name: 'host with no nova-compute (controller)', args: ['drain', 'controller', '--yes'], code: 2, message: /no nova-compute service named 'controller'/ },
    { name: 'empty host name', args: ['drain', '', '--yes'], code: 2, message: /'' is not a host name/ },
    { name: 'host name with a space', args: ['drain', 'compute 01', '--yes'], code: 2, message: /'compute 01' is not a host name/ },
    { name: 'no host at all', args: ['drain'], code: 2, message: /drain needs a host: hostmaint drain <host>/ },
    { name: 'undrain of an unknown host', args: ['undrain', 'compute-99'], code: 2, message: /no nova-compute service named 'compute-99'/ },
    // --- conflicting flags
    { name: 'target is the host being drained', args: ['drain', 'compute-01', '--target', 'compute-01'], code: 2, message: /--target compute-01 is the host being drained/ },
    { name: 'NDJSON events and a JSON result both on stdout', args: ['drain', 'compute-01', '--events', 'ndjson', '-f', 'json'], code: 2, message: /both want stdout/ },
    { name: '--adopt with a plan', args: ['drain', 'compute-01', '--dry-run', '--adopt'], code: 2, message: /--adopt cannot be used with a plan/ },
    { name: '--new-run with hostmaint plan', args: ['plan', 'compute-01', '--new-run'], code: 2, message: /--new-run cannot be used with a plan/ },
    { name: 'undrain --wait-up shorter than a second', args: ['undrain', 'compute-01', '--wait-up', '500ms'], code: 2, message: /--wait-up 500ms is out of range/ },
    { name: 'empty reason', args: ['drain', 'compute-01', '--reason', ' '], code: 2, message: /--reason is empty/ },
    { name: 'unknown option value', args: ['drain', 'compute-01', '--stopped', 'maybe'], code: 2, message: /Invalid values|Choices/ },
    { name: 'unknown events target', args: ['drain', 'compute-01', '--events', 'xml'], code: 2, message: /--events 'xml' is not understood/ },
    // --- numbers and durations
    { name: 'zero concurrency', args: ['drain', 'compute-01', '--concurrency', '0'], code: 2, message: /--concurrency 0 is not allowed/ },
    { name: 'negative concurrency', args: ['drain', 'compute-01', '--concurrency', '-3'], code: 2, message: /--concurrency -3 is not allowed/ },
    { name: 'absurd concurrency', args: ['drain', 'compute-01', '--concurrency', '100000'], code: 2, message: /--concurrency 100000 is not allowed/ },
    { name: 'fractional concurrency', args: ['drain', 'compute-01', '--concurrency', '2.5'], code: 2, message: /--concurrency 2.5 is not allowed/ },
    { name: 'negative migration timeout', args: ['drain', 'compute-01', '--migration-timeout=-5m'], code: 2, message: /--migration-timeout '-5m' is not a duration/ },
    { name: 'absurd migration timeout', args: ['drain', 'compute-01', '--migration-timeout', '9999h'], code: 2, message: /--migration-timeout 9999h is out of range/ },
    { name: 'too short stall timeout', args: ['drain', 'compute-01', '--stall-timeout', '1ms'], code: 2, message: /--stall-timeout 1ms is out of range/ },
    { name: 'zero poll interval', args: ['drain', 'compute-01', '--poll-interval', '0'], code: 2, message: /--poll-interval 0 is out of range/ },
    { name: 'request timeout of 0', args: ['drain', 'compute-01', '--timeout', '0'], code: 2, message: /--timeout 0 is out of range/ },
    { name: 'negative retries', args: ['drain', 'compute-01', '--retries', '-1'], code: 2, message: /--retries -1 is not allowed/ },
    { name: 'wait timeout over a day', args: ['drain', 'compute-01', '--wait-timeout', '25h'], code: 2, message: /--wait-timeout 25h is out of range/ },
    { name: 'malformed duration', args: ['drain', 'compute-01', '--wait-timeout', 'soon'], code: 2, message: /--wait-timeout 'soon' is not a duration/ },
    { name: 'probe port out of range', args: ['drain', 'compute-01', '--probe-port', '70000'], code: 2, message: /--probe-port 70000 is not allowed/ },
    { name: 'status --journal negative', args: ['status', 'compute-01', '--journal', '-1'], code: 2, message: /--journal -1 is not allowed/ },
    // --- the state directory and saved runs
    { name: 'state dir is a file', args: ['drain', 'compute-01', '--yes', D, '<dir>/a-file/state'], code: 2, message: /cannot use the state directory .*a-file\/state/ },
    { name: 'state dir cannot be created (under /proc)', args: ['drain', 'compute-01', '--yes', D, '/proc/hostmaint-state'], code: 2, message: /cannot use the state directory \/proc\/hostmaint-state/ },
    {
      name: 'state dir unusable (its runs/ is a file)',
      args: ['drain', 'compute-01', '--yes', D, '<dir>/odd-state'],
      setup: (c) => {
        mkdirSync(path.join(c.dir, 'odd-state'), { recursive: true });
        writeFileSync(path.join(c.dir, 'odd-state', 'runs'), 'x');
      },
      code: 2,
      message: /cannot use the state directory .*odd-state/,
    },
    { name: 'empty state dir', args: ['drain', 'compute-01', '--yes', D, ''], code: 2, message: /--state-dir '' is not a directory path/ },
    {
      name: 'corrupt saved run (resume)',
      args: ['resume', '20240101T000000Z-dead'],
      setup: (c) => saveRecord(c.state, '20240101T000000Z-dead', {}, '{"schemaVersion": 2, "runId": "20240101T0'),
      code: 2,
      message: /the saved run .*20240101T000000Z-dead\/run.json is corrupt: not valid JSON/,
    },
    {
      name: 'corrupt saved run named by the service marker (drain)',
      args: ['drain', 'compute-01', '--yes'],
      setup: (c) => {
        saveRecord(c.state, '20240101T000000Z-d00d', {}, '{"truncated');
        const h = c.emu.state.cloud.hosts.get('compute-01')!;
        h.disabled = true;
        h.disabledReason = 'hostmaint:20240101T000000Z-d00d: maintenance';
      },
      undo: (c) => {
        const h = c.emu.state.cloud.hosts.get('compute-01')!;
        h.disabled = false;
        h.disabledReason = null;
      },
      code: 2,
      message: /20240101T000000Z-d00d\/run.json is corrupt/,
    },
    {
      name: 'saved run of an old record schema',
      args: ['resume', '20240101T000000Z-0001'],
      setup: (c) => saveRecord(c.state, '20240101T000000Z-0001', { schemaVersion: 1 }),
      code: 2,
      message: /record schema version 1; this hostmaint reads version 2/,
    },
    {
      name: 'saved run of another workflow version',
      args: ['resume', '20240101T000000Z-0002'],
      setup: (c) => saveRecord(c.state, '20240101T000000Z-0002', { workflow: { name: 'drain', version: 99 } }),
      code: 2,
      message: /saved by drain workflow version 99; this hostmaint runs version \d+ and cannot resume it/,
    },
    {
      name: 'saved run whose snapshot does not validate',
      args: ['resume', '20240101T000000Z-0003'],
      setup: (c) => saveRecord(c.state, '20240101T000000Z-0003', { snapshot: { status: 'active', value: 'migrating', context: { runId: '20240101T000000Z-0003' } } }),
      code: 2,
      message: /saved snapshot of run 20240101T000000Z-0003 is not valid/,
    },
    { name: 'resume an unknown run', args: ['resume', '20240101T000000Z-ffff'], code: 2, message: /no run '20240101T000000Z-ffff' in/ },
    { name: 'resume a path, not a run id', args: ['resume', '../../etc/passwd'], code: 2, message: /'..\/..\/etc\/passwd' is not a run id/ },
    {
      name: 'resume a finished run',
      args: ['resume', '20240101T000000Z-0004'],
      setup: (c) => saveRecord(c.state, '20240101T000000Z-0004', { state: 'finished', outcome: 'drained', exitCode: 0 }),
      code: 2,
      message: /is finished \(drained\): there is nothing to resume/,
    },
    {
      name: 'resume against another cloud',
      args: ['resume', '20240101T000000Z-0005', '--os-cloud', 'emu'],
      cloud: null,
      setup: (c) => saveRecord(c.state, '20240101T000000Z-0005', { cloud: 'prod-east' }),
      code: 2,
      message: /ran on cloud 'prod-east', not 'emu'/,
    },
    { name: 'status of nothing known', args: ['status', 'compute-77'], code: 2, message: /hostmaint has no run for 'compute-77'/ },
    // --- who holds the host
    {
      name: 'host locked by a live hostmaint',
      args: ['drain', 'compute-01', '--yes'],
      setup: (c) => {
        mkdirSync(path.join(c.state, 'locks'), { recursive: true });
        writeFileSync(lockFileFor(path.join(c.state, 'locks'), 'compute-01'), JSON.stringify({ pid: process.pid, procStart: null, machine: os.hostname(), runId: '20240101T000000Z-1111', command: 'drain', host: 'compute-01', startedAt: '2024-01-01T09:00:00Z' }));
      },
      undo: (c) => rmSync(lockFileFor(path.join(c.state, 'locks'), 'compute-01'), { force: true }),
      code: 5,
      message: new RegExp(`compute-01 is being drained by another hostmaint: pid ${process.pid}, run 20240101T000000Z-1111 \\(drain\\), started 2024-01-01T09:00:00Z`),
    },
    {
      name: "another machine's run marker on the service",
      args: ['drain', 'compute-01', '--yes'],
      setup: (c) => {
        const h = c.emu.state.cloud.hosts.get('compute-01')!;
        h.disabled = true;
        h.disabledReason = 'hostmaint:20231231T000000Z-abcd: disk swap';
      },
      undo: (c) => {
        const h = c.emu.state.cloud.hosts.get('compute-01')!;
        h.disabled = false;
        h.disabledReason = null;
      },
      code: 5,
      message: /already disabled by hostmaint run 20231231T000000Z-abcd \(reason "disk swap"; started 2023-12-31T00:00:00Z; this machine has no record of it: it may be live on another machine\)/,
    },
    // --- the cloud and its configuration
    { name: 'unreachable cloud', args: ['drain', 'compute-01', '--yes', '--timeout', '2s'], cloud: 'unreachable', code: 6, message: /Cannot reach Keystone at http:\/\/127.0.0.1:9\/v3 \(ECONNREFUSED/ },
    { name: 'wrong password', args: ['drain', 'compute-01', '--yes'], cloud: 'wrongpw', code: 6, message: /401|authenticat/i },
    { name: 'expired application credential', args: ['drain', 'compute-01', '--yes'], cloud: 'appcred', code: 6, message: /401|authenticat/i },
    { name: 'not an admin', args: ['drain', 'compute-01', '--yes'], cloud: 'member', code: 6, message: /admin role|403|forbidden|Policy/i },
    { name: 'unknown cloud name', args: ['drain', 'compute-01', '--yes'], cloud: 'nosuch', code: 2, message: /nosuch/ },
    { name: 'cloud without an auth URL', args: ['drain', 'compute-01', '--yes'], cloud: 'noauthurl', code: 2, message: /auth_url|auth URL/i },
    { name: 'malformed clouds.yaml', args: ['drain', 'compute-01', '--yes'], env: { OS_CLIENT_CONFIG_FILE: '<dir>/broken.yaml' }, code: 2, message: /broken.yaml/ },
    { name: 'clouds.yaml that does not exist', args: ['drain', 'compute-01', '--yes'], env: { OS_CLIENT_CONFIG_FILE: '<dir>/missing.yaml' }, code: 2, message: /missing.yaml/ },
    { name: 'demo scenario file that does not validate', args: ['plan', 'compute-01', '--os-cloud', 'demo'], cloud: null, env: { HOSTMAINT_DEMO_SCENARIO: '<dir>/bad-scenario.json' }, code: 2, message: /bad-scenario.json/ },
  ];

  it(`has at least 25 rows (${rows.length})`, () => {
    assert.ok(rows.length >= 25);
  });

  rows.forEach((row, i) => {
    it(`${row.name}: exit ${row.code}`, async () => {
      ctx.state = path.join(ctx.dir, `state-${i}`);
      const sub = (s: string) => s.replace('<dir>', ctx.dir);
      const stateArgs = row.args.includes(D) ? [] : [D, ctx.state];
      const cloudArgs = row.cloud === null || ['status', 'resume'].includes(row.args[0] ?? '') && row.cloud === undefined ? [] : ['--os-cloud', row.cloud ?? 'emu'];
      row.setup?.(ctx);
      const before = fingerprint(ctx.emu);
      const writesBefore = writes(ctx.emu);
      try {
        const envRow = Object.fromEntries(Object.entries(row.env ?? {}).map(([k, v]) => [k, sub(v)]));
        const r = await hostmaint([...row.args.map(sub), ...cloudArgs, ...stateArgs], { ...env, ...envRow });
        const all = r.stdout + r.stderr;
        assert.equal(r.code, row.code, `${row.name}: exit ${r.code}\n${all}`);
        assert.match(all, row.message, `${row.name}:\n${all}`);
        assert.doesNotMatch(all, /unexpected error/);
        assert.equal(fingerprint(ctx.emu), before, `${row.name}: the cloud changed`);
        assert.equal(writes(ctx.emu), writesBefore, `${row.name}: a write request reached the cloud`);
      } finally {
        row.undo?.(ctx);
      }
    });
  });
});
