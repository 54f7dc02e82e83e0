/**
 * hostmaint as an operator runs it: the CLI in this process against the demo
 * cloud (the emulator on virtual time), asserting the exit code, the output
 * and what the run records say. Every documented exit code is reached here
 * (6 and 130 too).
 */
import { strict as assert } from 'node:assert';
import { readFileSync, rmSync } from 'node:fs';
import { hostmaint, smallScenario, tempDir, writeScenario } from './helpers.js';
import { startEmulator } from '../../src/emulator/index.js';
import { runsScenario, startCloud } from './runs-helpers.js';
import { createServer, type AddressInfo } from 'node:net';

describe('hostmaint CLI against the demo cloud', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => { dir = tempDir(); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const demo = (scenarioFile: string) => ({ HOSTMAINT_DEMO_SCENARIO: scenarioFile });

  it('drain empties the host, leaves it disabled with our marker, exit 0, JSON manifest', async () => {
    const scenario = writeScenario(dir, 's', smallScenario());
    const r = await hostmaint(['drain', 'compute-01', '--os-cloud', 'demo', '--yes', '-f', 'json', '--state-dir', dir, '--reason', 'kernel CHG-1'], demo(scenario));
    assert.equal(r.code, 0, r.stderr);
    const result = r.json<{ outcome: string; manifest: Array<{ from: string; to: string; method: string }>; service: { after: { status: string; disabledReason: string } }; verification: { empty: boolean } }>();
    assert.equal(result.outcome, 'drained');
    assert.equal(result.manifest.length, 5);
    assert.ok(result.manifest.every((m) => m.from === 'compute-01' && m.to !== 'compute-01'));
    assert.deepEqual(result.manifest.map((m) => m.method).sort(), ['cold', 'live', 'live', 'live', 'live']);
    assert.equal(result.service.after.status, 'disabled');
    assert.match(result.service.after.disabledReason, /^hostmaint:[^:]+: kernel CHG-1 \(by /);
    assert.equal(result.verification.empty, true);
    // progress went to stderr, plain lines without control codes
    assert.match(r.stderr, /phase: migrating/);
    assert.doesNotMatch(r.stderr, /\u001b\[/);
    // and the run is recorded for `status` (under demo/ for the demo cloud)
    const st = await hostmaint(['status', '-f', 'json', '--state-dir', `${dir}/demo`]);
    assert.equal(st.code, 0);
    assert.equal(st.json<{ runs: Array<{ host: string; outcome: string }> }>().runs[0]?.outcome, 'drained');
  });

  it('NDJSON events name each instance\'s project and, while it moves, its destination', async () => {
    const scenario = writeScenario(dir, 's', smallScenario());
    const file = `${dir}/events.ndjson`;
    const r = await hostmaint(['drain', 'compute-01', '--os-cloud', 'demo', '--yes', '-f', 'json', '--state-dir', dir, '--events', `ndjson=${file}`], demo(scenario));
    assert.equal(r.code, 0, r.stderr);
    const events = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const result = r.json<{ preflight: { instances: Array<{ serverId: string; projectId: string }> }; manifest: Array<{ serverId: string; to: string }> }>();
    const project = new Map(result.preflight.instances.map((i) => [i.serverId, i.projectId]));
    const classified = events.filter((e) => e.type === 'instance-classified');
    assert.equal(classified.length, 5);
    for (const e of classified) assert.equal(e.projectId, project.get(String(e.serverId)));
    assert.equal(new Set(classified.map((e) => e.projectId)).size, 2, 'two projects');
    const moving = events.filter((e) => (e.type === 'migration-progress' || e.type === 'migration-queued') && e.to);
    assert.ok(moving.length > 0, 'no progress event named a destination');
    const dest = new Map(result.manifest.map((m) => [m.serverId, m.to]));
    for (const e of moving) assert.equal(e.to, dest.get(String(e.serverId)));
  });

  it('plan changes nothing and shows where each instance would go (exit 0)', async () => {
    const scenario = writeScenario(dir, 's', smallScenario());
    const r = await hostmaint(['plan', 'compute-01', '--os-cloud', 'demo', '--state-dir', dir], demo(scenario));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Plan:/);
    assert.match(r.stdout, /web-01 .* live/);
    assert.match(r.stdout, /compute-01: nova-compute enabled/);
  });

  it('an unknown host is exit 2 and says which hosts exist', async () => {
    const scenario = writeScenario(dir, 's', smallScenario());
    const r = await hostmaint(['drain', 'compute-1', '--os-cloud', 'demo', '--yes', '--state-dir', dir], demo(scenario));
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /compute-1/);
  });

  it('not enough room anywhere: preflight refused, exit 3, service back to enabled', async () => {
    const r = await hostmaint(['drain', 'compute-01', '--os-cloud', 'demo', '--yes', '-f', 'json', '--state-dir', dir], { HOSTMAINT_DEMO_SCENARIO: 'tight-capacity' });
    assert.equal(r.code, 3, r.stderr);
    const result = r.json<{ outcome: string; plan: Array<{ fits: boolean; reason: string | null }>; service: { after: { status: string } | null; before: { status: string } } }>();
    assert.equal(result.outcome, 'preflight-refused');
    const unplaced = result.plan.filter((p) => !p.fits);
    assert.equal(unplaced.length, 3);
    assert.ok(unplaced.every((p) => /needs/.test(p.reason ?? '')), JSON.stringify(unplaced));
    assert.equal((result.service.after ?? result.service.before).status, 'enabled');
  });

  it("targets are reached at Nova's host_ip when their names do not resolve; unreachable ones refuse (exit 3) naming each target and check, --allow-unreachable-targets lets it through", async () => {
    // The scenario's hosts have names no resolver knows; Nova's host_ip for them is loopback, as the emulator serves it.
    const hosts = [{ name: 'compute-01', address: '127.0.0.1' }, { name: 'cmp-02.hostmaint.invalid', address: '127.0.0.1' }, { name: 'cmp-03.hostmaint.invalid', address: '127.0.0.1' }];
    const scenario = writeScenario(dir, 's', smallScenario({ hosts }));
    const plan = await hostmaint(['plan', 'compute-01', '--os-cloud', 'demo', '-f', 'json', '--state-dir', dir], demo(scenario));
    assert.equal(plan.code, 0, plan.stderr);
    const targets = plan.json<{ preflight: { targets: Array<{ host: string; usable: boolean; address: string; reachedVia: string }> } }>().preflight.targets;
    assert.deepEqual(targets.map((t) => [t.host, t.usable, t.address, t.reachedVia]), [
      ['cmp-02.hostmaint.invalid', true, '127.0.0.1', 'host_ip'],
      ['cmp-03.hostmaint.invalid', true, '127.0.0.1', 'host_ip'],
    ]);

    const closed = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const port = (srv.address() as AddressInfo).port;
        srv.close(() => resolve(port));
      });
    });
    const refused = await hostmaint(['drain', 'compute-01', '--os-cloud', 'demo', '--yes', '--state-dir', dir, '--probe-port', String(closed), '--probe-timeout', '500ms'], demo(scenario));
    assert.equal(refused.code, 3, refused.stderr);
    for (const h of ['cmp-02.hostmaint.invalid', 'cmp-03.hostmaint.invalid']) {
      assert.match(refused.stdout + refused.stderr, new RegExp(`${h.replace(/\./g, '\\.')}: host_ip 127\\.0\\.0\\.1: TCP port ${closed} does not answer within 500 ms; name ${h.replace(/\./g, '\\.')} does not resolve`));
    }
    assert.match(refused.stdout + refused.stderr, /target hosts this machine cannot reach \(override: --allow-unreachable-targets\)\n {6}cmp-02/);
    const json = await hostmaint(['drain', 'compute-01', '--os-cloud', 'demo', '--yes', '-f', 'json', '--state-dir', `${dir}/a`, '--probe-port', String(closed), '--probe-timeout', '500ms'], demo(scenario));
    const result = json.json<{ outcome: string; preflight: { blocking: Array<{ kind: string; hosts: string[] }> }; service: { after: { status: string } | null; before: { status: string } } }>();
    assert.equal(result.outcome, 'preflight-refused');
    assert.deepEqual(result.preflight.blocking.map((g) => [g.kind, g.hosts.length]), [['unreachable', 2]]);
    assert.equal((result.service.after ?? result.service.before).status, 'enabled', 'the refused drain left the service as it was');

    const allowed = await hostmaint(['drain', 'compute-01', '--os-cloud', 'demo', '--yes', '-f', 'json', '--state-dir', `${dir}/b`, '--probe-port', String(closed), '--probe-timeout', '500ms', '--allow-unreachable-targets'], demo(scenario));
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.match(allowed.stdout + allowed.stderr, /target cmp-02\.hostmaint\.invalid was not reached from here .*used anyway \(--allow-unreachable-targets\)/);
  });

  it('a migration that keeps failing: partial, exit 4, the instance stays ACTIVE where it was', async () => {
    const scenario = writeScenario(dir, 's', smallScenario({
      faults: [{ kind: 'migration-fail', server: 'web-02', count: 10 }],
    }));
    const r = await hostmaint(['drain', 'compute-01', '--os-cloud', 'demo', '--yes', '-f', 'json', '--retries', '1', '--state-dir', dir], demo(scenario));
    assert.equal(r.code, 4, r.stderr);
    const result = r.json<{ outcome: string; instances: Array<{ name: string; status: string; attempts: number }>; leftovers: Array<{ name: string | null }>; service: { after: { status: string } } }>();
    assert.equal(result.outcome, 'partial');
    const web2 = result.instances.find((i) => i.name === 'web-02');
    assert.equal(web2?.status, 'failed');
    assert.equal(web2?.attempts, 2);
    assert.ok(result.leftovers.some((l) => l.name === 'web-02'));
    assert.equal(result.service.after.status, 'disabled');
  });

  it('undrain refuses a service someone else disabled: exit 5; --force enables it', async () => {
    const scenario = writeScenario(dir, 's', smallScenario({
      hosts: [{ name: 'compute-01', status: 'disabled', disabled_reason: 'AUTO: Connection to libvirt lost: 1' }, { name: 'compute-02' }],
      instances: [],
    }));
    const r = await hostmaint(['undrain', 'compute-01', '--os-cloud', 'demo', '--state-dir', dir], demo(scenario));
    assert.equal(r.code, 5, r.stdout + r.stderr);
    assert.match(r.stdout, /AUTO: Connection to libvirt lost/);
    const forced = await hostmaint(['undrain', 'compute-01', '--os-cloud', 'demo', '--force', '-f', 'json', '--state-dir', dir], demo(scenario));
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(forced.json<{ service: { after: { status: string } } }>().service.after.status, 'enabled');
  });

  it('undrain of an enabled host is a no-op that says so (exit 0)', async () => {
    const scenario = writeScenario(dir, 's', smallScenario());
    const r = await hostmaint(['undrain', 'compute-01', '--os-cloud', 'demo', '--state-dir', dir], demo(scenario));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /already-enabled/);
  });

  it('impossible flags are usage errors (exit 2) before touching any cloud', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['drain', 'compute-01', '--concurrency', '0'], /--concurrency 0 is not allowed/],
      [['drain', 'compute-01', '--migration-timeout', '-5'], /--migration-timeout/],
      [['drain', 'compute-01', '--target', 'compute-01'], /is the host being drained/],
      [['drain', 'compute-01', '--events', 'ndjson', '-f', 'json'], /both want stdout/],
      [['drain', 'compute-01', '--stopped', 'maybe'], /Invalid values|Choices/],
      [['drain'], /Not enough non-option arguments|host/],
      [['frobnicate'], /Unknown argument|Did you mean|command/i],
    ];
    for (const [args, re] of cases) {
      const r = await hostmaint([...args, '--os-auth-url', 'http://127.0.0.1:9/v3']);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re, args.join(' '));
    }
  });

  it('undrain --dry-run says what undrain would do, exits with its code, and changes nothing', async () => {
    const scenario = smallScenario({
      hosts: [{ name: 'compute-01', status: 'disabled', disabled_reason: 'AUTO: Connection to libvirt lost: 1' }, { name: 'compute-02', status: 'disabled', disabled_reason: 'hostmaint:20240101T000000Z-abcd: kernel' }, { name: 'compute-03' }],
      instances: [],
    });
    const emu = await startEmulator({ scenario: scenario as never });
    try {
      const env = {
        OS_AUTH_URL: emu.authUrl, OS_USERNAME: emu.credentials.username, OS_PASSWORD: emu.credentials.password,
        OS_PROJECT_NAME: emu.credentials.projectName, OS_USER_DOMAIN_NAME: 'Default', OS_PROJECT_DOMAIN_NAME: 'Default',
      };
      const foreign = await hostmaint(['undrain', 'compute-01', '--dry-run', '--state-dir', dir], env);
      assert.equal(foreign.code, 5, foreign.stderr);
      assert.match(foreign.stdout, /would refuse: .*libvirt.*--force/);
      const ours = await hostmaint(['undrain', 'compute-02', '--dry-run', '-f', 'json', '--state-dir', dir], env);
      assert.equal(ours.code, 0, ours.stderr);
      assert.equal(ours.json<{ action: string }>().action, 'enable');
      const enabled = await hostmaint(['undrain', 'compute-03', '--dry-run', '--state-dir', dir], env);
      assert.equal(enabled.code, 0, enabled.stderr);
      assert.match(enabled.stdout, /already enabled/);
      const unknown = await hostmaint(['undrain', 'compute-9', '--dry-run', '--state-dir', dir], env);
      assert.equal(unknown.code, 2, unknown.stderr);
      // the cloud is as it was
      assert.equal(emu.state.host('compute-01')?.status, 'disabled');
      assert.equal(emu.state.host('compute-02')?.status, 'disabled');
      assert.equal(emu.state.host('compute-02')?.disabledReason, 'hostmaint:20240101T000000Z-abcd: kernel');
      assert.equal(emu.requests.records.filter((r) => r.method !== 'GET' && !r.path.includes('/auth/tokens')).length, 0, 'a write was sent');
    } finally {
      await emu.stop();
    }
  });

  it('wrong password: exit 6, and the password is printed nowhere', async () => {
    const emu = await startEmulator({ scenario: 'demo' });
    try {
      const secret = 'Not-The-Password-4242';
      const r = await hostmaint(['plan', 'compute-01', '-vv'], {
        OS_AUTH_URL: emu.authUrl, OS_USERNAME: emu.credentials.username, OS_PASSWORD: secret,
        OS_PROJECT_NAME: emu.credentials.projectName, OS_USER_DOMAIN_NAME: 'Default', OS_PROJECT_DOMAIN_NAME: 'Default',
      });
      assert.equal(r.code, 6, r.stderr);
      assert.match(r.stderr, /what to do:/);
      assert.ok(!(r.stdout + r.stderr).includes(secret), 'the password leaked');
    } finally {
      await emu.stop();
    }
  });

  it('nothing configured: exit 2 with how to configure a cloud and how to try the demo', async () => {
    const r = await hostmaint(['plan', 'compute-01'], { HOME: dir });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--os-cloud demo/);
  });

  it('a cloud answering 500 to the disable request: exit 1 with the request id', async () => {
    const scenario = writeScenario(dir, 's', smallScenario({
      faults: [{ kind: 'http-error', status: 500, match: { method: 'PUT', path: '/os-services/**' } }],
    }));
    const r = await hostmaint(['drain', 'compute-01', '--os-cloud', 'demo', '--yes', '--state-dir', dir], demo(scenario));
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /req-/);
  });

  it('SIGINT during a drain: exit 130, in-flight migrations finish in Nova, the run says how to go on', async () => {
    const scenario = writeScenario(dir, 's', smallScenario());
    let sent = false;
    const r = await hostmaint(['drain', 'compute-01', '--os-cloud', 'demo', '--yes', '-f', 'json', '--state-dir', dir], demo(scenario), {
      onStderr: (all) => {
        if (!sent && /migration requested/.test(all)) {
          sent = true;
          setImmediate(() => process.emit('SIGINT', 'SIGINT'));
        }
      },
    });
    assert.ok(sent, 'no migration was ever requested');
    assert.equal(r.code, 130, r.stderr);
    assert.equal(r.json<{ outcome: string }>().outcome, 'interrupted');
    assert.match(r.stderr, /SIGINT: stopping/);
  });
});

describe('CLI: project names instead of project ids (issue 17)', function () {
  this.timeout(120_000);
  const HEX32 = /\b[0-9a-f]{32}\b/;
  const envOf = (emu: Awaited<ReturnType<typeof startEmulator>>) => ({
    OS_AUTH_URL: emu.authUrl, OS_USERNAME: emu.credentials.username, OS_PASSWORD: emu.credentials.password,
    OS_PROJECT_NAME: emu.credentials.projectName, OS_USER_DOMAIN_NAME: 'Default', OS_PROJECT_DOMAIN_NAME: 'Default',
  });

  it('plan shows each instance\'s project by name (one Keystone read per project); events and JSON carry projectName', async () => {
    const emu = await startEmulator({ scenario: 'demo' });
    const dir = tempDir();
    try {
      const r = await hostmaint(['plan', 'compute-01', '--state-dir', dir, '--events', `ndjson=${dir}/events.ndjson`], envOf(emu));
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^db-2 +shop +live/m);
      assert.match(r.stdout, /^ci-runner-1 +analytics +live/m);
      assert.doesNotMatch(r.stdout, HEX32, 'a project id where its name is known');
      const reads = emu.requests.records.filter((q) => q.method === 'GET' && /\/v3\/projects\//.test(q.path));
      assert.equal(reads.length, 2, 'shop and analytics, each read once');
      const classified = readFileSync(`${dir}/events.ndjson`, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; name?: string; projectName?: string | null }).filter((e) => e.type === 'instance-classified');
      assert.equal(classified.find((e) => e.name === 'db-2')?.projectName, 'shop');
      const json = await hostmaint(['plan', 'compute-01', '--state-dir', dir, '-f', 'json'], envOf(emu));
      const instances = json.json<{ preflight: { instances: Array<{ name: string; projectId: string; projectName: string | null }> } }>().preflight.instances;
      const db2 = instances.find((i) => i.name === 'db-2')!;
      assert.equal(db2.projectName, 'shop');
      assert.match(db2.projectId, HEX32, 'the id is kept next to the name');
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await emu.stop();
    }
  });

  it('Keystone refusing to name a project (403) leaves its id, and the plan is as good (exit 0, no warning)', async () => {
    const emu = await startEmulator({ scenario: 'demo' });
    const dir = tempDir();
    try {
      emu.inject({ kind: 'http-error', status: 403, match: { service: 'identity', path: '/v3/projects/*' } });
      const r = await hostmaint(['plan', 'compute-01', '--state-dir', dir], envOf(emu));
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^db-2 +${HEX32.source.replace(/\\b/g, '')} +live`, 'm'));
      assert.doesNotMatch(r.stderr, /project/i, 'no warning about names');
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await emu.stop();
    }
  });
});

describe('CLI: --instance-order (issue 19)', function () {
  this.timeout(120_000);
  const scenario = () => ({
    ...smallScenario(),
    flavors: [
      { name: 'm1.small', id: '2', vcpus: 1, ram_mb: 2048, disk_gb: 20 },
      { name: 'm1.medium', id: '3', vcpus: 2, ram_mb: 4096, disk_gb: 40 },
      { name: 'm1.large', id: '4', vcpus: 4, ram_mb: 8192, disk_gb: 80 },
    ],
    instances: [
      { name: 'mid', project: 'tenant-a', flavor: 'm1.medium', host: 'compute-01', metadata: { 'hostmaint:priority': '5' } },
      { name: 'big', project: 'tenant-a', flavor: 'm1.large', host: 'compute-01' },
      { name: 'tiny', project: 'tenant-a', flavor: 'm1.small', host: 'compute-01', metadata: { 'hostmaint:priority': '10' } },
      { name: 'odd', project: 'tenant-a', flavor: 'm1.small', host: 'compute-01', metadata: { 'hostmaint:priority': 'soon' } },
    ],
  });
  const requested = (emu: Awaited<ReturnType<typeof startEmulator>>) =>
    emu.requests.records.filter((r) => r.method === 'POST' && r.action === 'os-migrateLive').map((r) => emu.state.server(r.path.split('/')[4]!)!.name);

  for (const [order, expected] of [
    // tiny and odd are the same size: Nova's listing order (newest first) breaks the tie.
    ['largest-first', ['big', 'mid', 'odd', 'tiny']],
    ['smallest-first', ['odd', 'tiny', 'mid', 'big']],
    ['listing', ['odd', 'tiny', 'big', 'mid']],
    ['priority', ['tiny', 'mid', 'big', 'odd']],
  ] as const) {
    it(`${order}: the migrations are asked for in that order (one at a time)`, async () => {
      const dir = tempDir();
      const cloud = await startCloud(dir, scenario() as never);
      try {
        const r = await hostmaint(['drain', 'compute-01', ...cloud.args, '--yes', '--state-dir', dir, '--concurrency', '1', '--instance-order', order, '--poll-interval', '200ms'], cloud.env);
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(requested(cloud.emu), expected);
      } finally {
        await cloud.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it('an order it does not know is exit 2, naming the choices, before the cloud is asked', async () => {
    const r = await hostmaint(['drain', 'compute-01', '--os-cloud', 'demo', '--instance-order', 'random', '--yes']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /instance-order[\s\S]*largest-first[\s\S]*smallest-first[\s\S]*listing[\s\S]*priority/);
  });
});

describe('CLI: --deadline (issue 19)', function () {
  this.timeout(120_000);

  it('nothing starts after the deadline; the migration running then gets the on-timeout action; exit 4 naming the deadline', async () => {
    const dir = tempDir();
    // Real time (speed 1): about 20 s a migration (2 GB at 120 MB/s, 20 MB/s dirtied), a 10 s deadline.
    const cloud = await startCloud(dir, runsScenario({ instances: [{ name: 'web-{i}', count: 3, project: 'tenant-a', flavor: 'm1.small', host: 'compute-01' }], migration: { bandwidth_mbps: 120 } }), { speed: 1 });
    try {
      const r = await hostmaint(['drain', 'compute-01', ...cloud.args, '--yes', '--state-dir', dir, '--concurrency', '1', '--deadline', '10s', '--poll-interval', '1s', '-f', 'json'], cloud.env);
      assert.equal(r.code, 4, r.stderr);
      const result = r.json<{ outcome: string; instances: Array<{ name: string; status: string; reason: string | null; errors: string[] }> }>();
      assert.equal(result.outcome, 'partial');
      const emu = cloud.emu;
      const posts = emu.requests.records.filter((q) => q.method === 'POST' && q.action === 'os-migrateLive');
      const aborts = emu.requests.records.filter((q) => q.method === 'DELETE' && /\/migrations\/\d+$/.test(q.path));
      // --concurrency 1 keeps one request queued behind the running one: three asked for at the start.
      assert.equal(posts.length, 3, 'each asked for once, before the deadline');
      assert.ok(aborts.length === 3 && aborts.every((a) => a.time > Math.max(...posts.map((p) => p.time))), 'at the deadline the running one and the queued ones are aborted');
      const aborted = Math.min(...aborts.map((a) => a.time));
      assert.ok(aborts.every((a) => a.time - aborted < 3_000), 'within a few polls of each other');
      for (const i of result.instances) assert.match(i.errors.join(' '), /deadline \(--deadline\) passed/, JSON.stringify(i));
      for (const n of ['web-01', 'web-02', 'web-03']) assert.equal(emu.state.server(n)!.host, 'compute-01', `${n} is unharmed on the source`);
      assert.equal(emu.state.host('compute-01')!.status, 'disabled', 'the host stays disabled (partial)');
    } finally {
      await cloud.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a deadline under 10 s is refused (exit 2) before the cloud is asked', async () => {
    const r = await hostmaint(['drain', 'compute-01', '--os-cloud', 'demo', '--deadline', '5s', '--yes']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--deadline/);
  });
});
