/**
 * drainHost / undrainHost end to end against the emulated cloud, through
 * hostmaint's real clients (connect() over HTTP). The emulator runs on a
 * VirtualClock shared with the workflow, so half an hour of polling takes
 * milliseconds. Assertions are what an operator would see: the cloud's state
 * (emu.state), the outcome / exit code, the result's instance list, and the
 * requests hostmaint sent (emu.requests).
 */
import { strict as assert } from 'node:assert';
import { emulatorCloud } from './helpers.js';
import { drainHost, undrainHost, type RunDeps } from '../../src/library/drain.js';
import { startEmulator, VirtualClock } from '../../src/emulator/index.js';
import { DEFAULT_VIRTUAL_START } from '../../src/emulator/clock.js';
import type { Emulator, FaultSpec, Scenario } from '../../src/emulator/index.js';
import { memoryLogger } from '../../src/core/log.js';
import { connect, type HostmaintSession } from '../../src/openstack/session.js';
import type { DrainEvent } from '../../src/machines/events.js';
import type { DrainOptions } from '../../src/machines/options.js';
import type { Clock } from '../../src/core/clock.js';
import { selectReturns } from '../../src/actors/returns.js';

const FAST = { schedule_ms: 300, preparing_ms: 500, post_migrating_ms: 500, cold_migration_ms: 4000, confirm_ms: 500, bandwidth_mbps: 1000, dirty_rate_mbps: 50 };

function scenario(o: Partial<Scenario> & Pick<Scenario, 'instances'>): Scenario {
  return {
    name: 'drain-test',
    migration: FAST,
    defaults: { host: { vcpus: 16, ram_mb: 32768, disk_gb: 1000, max_concurrent_live_migrations: 1 } },
    hosts: [{ name: 'compute-01' }, { name: 'compute-02' }, { name: 'compute-03', hypervisor_hostname: 'compute-03.lab.internal' }],
    ...o,
  } as Scenario;
}

interface Env {
  emu: Emulator;
  session: HostmaintSession;
  events: DrainEvent[];
  deps: RunDeps;
}

/** `clock`: hostmaint's own clock, made from the cloud's (default: the same). */
async function open(sc: Scenario | string, faults: FaultSpec[] = [], clockOf: (cloud: VirtualClock) => Clock = (c) => c, start?: number): Promise<Env> {
  const cloudClock = new VirtualClock(start !== undefined ? { start } : {});
  const emu = await startEmulator({ scenario: sc, clock: cloudClock, faults });
  const resolved = emulatorCloud(emu);
  const clock = clockOf(cloudClock);
  const session = await connect(resolved, { logger: memoryLogger(), clock, timeoutMs: 30_000 });
  const events: DrainEvent[] = [];
  // The runs this test ran to their end are the ones it knows are over (what a runner's saved runs say).
  const over = (runId: string) => events.find((e) => e.type === 'run-finished' && e.runId === runId);
  const started = (runId: string) => events.find((e) => e.type === 'run-started' && e.runId === runId)!.time;
  const runs = { lookup: async (runId: string) => (over(runId) ? { runId, command: 'drain', host: 'compute-01', finished: true, state: 'finished', who: 'test', startedAt: started(runId) } : null) };
  const deps: RunDeps = { logger: memoryLogger(), clock, emit: (e) => events.push(e), runs };
  return { emu, session, events, deps };
}

async function close(env: Env | null): Promise<void> {
  if (!env) return;
  await env.session.close();
  await env.emu.stop();
}

const OPTS: DrainOptions = { pollIntervalMs: 5000, stallTimeoutMs: 60_000 };

describe('drain / undrain against the emulator', function () {
  this.timeout(60_000);
  let env: Env | null = null;
  afterEach(async () => {
    await close(env);
    env = null;
  });

  it('demo: drains compute-01 completely (live, paused, locked, cold, anti-affinity), then undrain returns every instance', async () => {
    env = await open('demo');
    const { emu, session, deps, events } = env;
    const before = emu.state.serversOn('compute-01').map((s) => s.name).sort();
    assert.equal(before.length, 12);

    const result = await drainHost(session, 'compute-01', { ...OPTS, runId: 'demo-1', reason: 'RAM replacement' }, deps);
    assert.equal(result.outcome, 'drained', `${result.message}\n${JSON.stringify(result.leftovers)}`);
    assert.equal(result.exitCode, 0);

    const host = emu.state.host('compute-01')!;
    assert.equal(host.status, 'disabled');
    assert.equal(host.disabledReason, 'hostmaint:demo-1: RAM replacement');
    assert.deepEqual(emu.state.serversOn('compute-01'), []);
    assert.deepEqual(emu.state.providerAllocations('compute-01'), {});
    assert.equal(emu.state.server('web-1')!.host, 'compute-04', 'anti-affinity: the only host without a web member');
    assert.equal(emu.state.server('cache-1')!.status, 'PAUSED');
    assert.equal(emu.state.server('report-1')!.status, 'SHUTOFF');
    assert.notEqual(emu.state.server('report-1')!.host, 'compute-01');
    assert.equal(emu.state.server('api-2')!.locked, true);
    assert.equal(emu.state.migrations({ type: 'migration' })[0]!.status, 'confirmed');

    assert.deepEqual(result.instances.map((i) => i.name).sort(), before);
    assert.ok(result.instances.every((i) => i.status === 'moved'), JSON.stringify(result.instances.filter((i) => i.status !== 'moved')));
    assert.equal(result.provider?.name, 'compute-01');
    assert.equal(result.preflight?.targets.find((t) => t.host === 'compute-04')?.providerUuid, emu.state.host('compute-04')!.providerUuid, 'FQDN hypervisor -> provider');
    assert.equal(result.manifest.length, 12);
    assert.ok(events.some((e) => e.type === 'migration-queued'), 'one slot per source compute: the rest are shown queued');
    assert.ok(events.some((e) => e.type === 'migration-progress' && e.percent !== null && e.percent > 0));
    assert.equal(emu.requests.count({ action: 'os-migrateLive' }), 11);
    assert.equal(emu.requests.count({ action: 'migrate' }), 1);
    assert.equal(emu.requests.count({ action: 'confirmResize' }), 1);

    const back = await undrainHost(session, 'compute-01', { returnInstances: true, manifest: result.manifest, pollIntervalMs: 5000 }, deps);
    assert.equal(back.outcome, 'undrained', back.message);
    assert.equal(back.exitCode, 0);
    assert.equal(emu.state.host('compute-01')!.status, 'enabled');
    assert.deepEqual(emu.state.serversOn('compute-01').map((s) => s.name).sort(), before);
    assert.equal(emu.state.server('report-1')!.status, 'SHUTOFF');
    assert.equal(emu.state.server('cache-1')!.status, 'PAUSED');
    assert.equal(back.returns.length, 12);
  });

  it('refuses a drain that cannot fit (exit 3): nothing moves, the service is exactly as before', async () => {
    env = await open('tight-capacity');
    const { emu, session, deps } = env;
    const prior = emu.state.host('compute-01')!;
    const r = await drainHost(session, 'compute-01', OPTS, deps);
    assert.equal(r.outcome, 'preflight-refused');
    assert.equal(r.exitCode, 3);
    const cap = r.preflight!.blocking.find((g) => g.kind === 'capacity')!;
    assert.equal(cap.servers.length, 3, 'eight 8 GiB instances, five fit');
    assert.match(cap.servers[0]!.reason, /needs \d+ VCPU, 8192 MB RAM.*; largest free: \d+ MB RAM on compute-0\d/);
    assert.equal(emu.requests.count({ action: 'os-migrateLive' }), 0);
    const after = emu.state.host('compute-01')!;
    assert.equal(after.status, prior.status);
    assert.equal(after.disabledReason, prior.disabledReason);
    assert.equal(emu.requests.count({ method: 'PUT', path: '/os-services' }), 2, 'disabled, then put back');
    assert.equal(r.service.restored, true);
  });

  it('refuses when anti-affinity cannot be kept, naming the group', async () => {
    env = await open('anti-affinity-unsatisfiable');
    const r = await drainHost(env.session, 'compute-01', OPTS, env.deps);
    assert.equal(r.outcome, 'preflight-refused');
    assert.ok(r.preflight!.findings.some((f) => f.kind === 'capacity' && /anti-affinity group '.+' already has a member on every possible target/.test(f.message)), JSON.stringify(r.preflight!.findings));
    assert.equal(env.emu.requests.count({ action: 'os-migrateLive' }), 0);
  });

  it('vGPU instances refuse the drain (exit 3) in one hardware group naming both; nothing in the cloud changed but the disable, put back', async () => {
    env = await open(
      scenario({
        flavors: [
          { name: 'm1.small', vcpus: 1, ram_mb: 2048, disk_gb: 20 },
          { name: 'g1.vgpu', vcpus: 2, ram_mb: 4096, disk_gb: 20, extra_specs: { 'resources:VGPU': '1' } },
        ],
        instances: [
          { name: 'render-1', flavor: 'g1.vgpu', host: 'compute-01' },
          { name: 'render-2', flavor: 'g1.vgpu', host: 'compute-01' },
          { name: 'web-1', flavor: 'm1.small', host: 'compute-01' },
        ],
      }),
    );
    const { emu, session, deps } = env;
    const r = await drainHost(session, 'compute-01', OPTS, deps);
    assert.equal(r.outcome, 'preflight-refused');
    assert.equal(r.exitCode, 3);
    const hw = r.preflight!.blocking.filter((g) => g.category === 'hardware');
    assert.equal(hw.length, 1);
    assert.deepEqual(hw[0]!.servers.map((s) => s.name).sort(), ['render-1', 'render-2']);
    assert.deepEqual(emu.state.serversOn('compute-01').map((s) => s.name).sort(), ['render-1', 'render-2', 'web-1']);
    const writes = emu.requests.records.filter((x) => x.service !== 'identity' && x.method !== 'GET');
    assert.deepEqual(writes.map((x) => `${x.method} ${/\/os-services\b/.test(x.path) ? 'os-services' : x.path}`), ['PUT os-services', 'PUT os-services'], 'the disable and its undo, nothing else');
    assert.equal(emu.state.host('compute-01')!.status, 'enabled');
    assert.equal(emu.state.host('compute-01')!.disabledReason, null);
  });

  it('plan mode (dryRun) sends no write at all', async () => {
    env = await open('demo');
    const r = await drainHost(env.session, 'compute-01', { ...OPTS, dryRun: true }, env.deps);
    assert.equal(r.outcome, 'planned');
    assert.equal(r.plan.length, 12);
    const writes = env.emu.requests.records.filter((x) => x.service !== 'identity' && x.method !== 'GET');
    assert.deepEqual(writes.map((x) => `${x.method} ${x.path}`), []);
  });

  it('a stalled migration is aborted after stallTimeoutMs and retried; the host ends empty', async () => {
    env = await open(scenario({ instances: [{ name: 'app-1', flavor: 'm1.medium', host: 'compute-01' }, { name: 'app-2', flavor: 'm1.small', host: 'compute-01' }] }), [
      { kind: 'migration-stall', server: 'app-1', attempt: 1 },
    ]);
    const { emu, session, deps, events } = env;
    const r = await drainHost(session, 'compute-01', OPTS, deps);
    assert.equal(r.outcome, 'drained', r.message);
    const app1 = r.instances.find((i) => i.name === 'app-1')!;
    assert.equal(app1.attempts, 2);
    assert.match(app1.errors[0]!, /aborted by hostmaint: no memory progress for \d+s/);
    assert.equal(emu.requests.count({ method: 'DELETE', path: /\/migrations\/\d+$/ }), 1, 'one abort');
    assert.ok(events.some((e) => e.type === 'migration-stalled' && e.action === 'abort'));
    assert.equal(emu.state.migrations({ serverId: emu.state.server('app-1')!.id })[0]!.status, 'cancelled');
    assert.notEqual(emu.state.server('app-1')!.host, 'compute-01');
  });

  it('onTimeout=force-complete finishes a stalled migration without aborting', async () => {
    env = await open(scenario({ instances: [{ name: 'app-1', flavor: 'm1.medium', host: 'compute-01' }] }), [{ kind: 'migration-stall', server: 'app-1' }]);
    const r = await drainHost(env.session, 'compute-01', { ...OPTS, onTimeout: 'force-complete' }, env.deps);
    assert.equal(r.outcome, 'drained', r.message);
    assert.equal(r.instances[0]!.attempts, 1);
    assert.equal(env.emu.requests.count({ method: 'POST', path: /\/migrations\/\d+\/action$/ }), 1);
    assert.equal(env.emu.requests.count({ method: 'DELETE', path: /\/migrations\/\d+$/ }), 0);
  });

  it('a migration that keeps failing is read for its reason, retried, and reported: partial (exit 4), instance unharmed on the source', async () => {
    env = await open(scenario({ instances: [{ name: 'ok-1', flavor: 'm1.small', host: 'compute-01' }, { name: 'bad-1', flavor: 'm1.small', host: 'compute-01' }] }), [
      { kind: 'migration-fail', server: 'bad-1', count: 3, phase: 'precheck', message: 'Migration pre-check error: Unacceptable CPU info: CPU doesn\'t have compatibility.' },
    ]);
    const { emu, session, deps } = env;
    const r = await drainHost(session, 'compute-01', { ...OPTS, retries: 2 }, deps);
    assert.equal(r.outcome, 'partial', r.message);
    assert.equal(r.exitCode, 4);
    const bad = r.instances.find((i) => i.name === 'bad-1')!;
    assert.equal(bad.status, 'failed');
    assert.equal(bad.attempts, 3);
    assert.match(bad.errors[2]!, /CPU doesn't have compatibility/);
    const left = r.leftovers.find((l) => l.name === 'bad-1')!;
    assert.match(left.reason, /migration failed after 3 attempt\(s\)/);
    const s = emu.state.server('bad-1')!;
    assert.equal(s.host, 'compute-01');
    assert.equal(s.status, 'ACTIVE');
    assert.equal(emu.state.host('compute-01')!.status, 'disabled', 'partial leaves the service disabled');
    assert.equal(r.instances.find((i) => i.name === 'ok-1')!.status, 'moved');
  });

  it('an ERROR instance refuses the preflight with its remedy; skipBlocked drains the rest and lists it (partial)', async () => {
    env = await open(scenario({ instances: [{ name: 'ok-1', flavor: 'm1.small', host: 'compute-01' }, { name: 'broken-1', flavor: 'm1.small', host: 'compute-01', state: 'ERROR' }] }));
    const { emu, session, deps } = env;
    const refused = await drainHost(session, 'compute-01', OPTS, deps);
    assert.equal(refused.outcome, 'preflight-refused');
    const g = refused.preflight!.blocking.find((x) => x.category === 'error')!;
    assert.equal(g.servers[0]!.name, 'broken-1');
    assert.match(g.servers[0]!.remedy!, /openstack server set --state active/);
    assert.equal(g.override?.flag, '--skip-blocked');
    assert.equal(emu.state.host('compute-01')!.status, 'enabled');

    const skipped = await drainHost(session, 'compute-01', { ...OPTS, skipBlocked: true }, deps);
    assert.equal(skipped.outcome, 'partial');
    assert.deepEqual(skipped.leftovers.filter((l) => l.kind === 'server').map((l) => l.name), ['broken-1']);
    assert.equal(emu.state.server('ok-1')!.host !== 'compute-01', true);
  });

  it('a locked instance blocks a non-admin run; admin moves it', async () => {
    env = await open(scenario({ instances: [{ name: 'frozen', flavor: 'm1.small', host: 'compute-01', locked: true, locked_reason: 'change freeze' }] }));
    const member = await drainHost(env.session, 'compute-01', { ...OPTS, admin: false, dryRun: true }, env.deps);
    assert.equal(member.outcome, 'preflight-refused');
    assert.equal(member.preflight!.blocking[0]!.category, 'locked');
    const admin = await drainHost(env.session, 'compute-01', OPTS, env.deps);
    assert.equal(admin.outcome, 'drained');
    assert.equal(env.emu.state.server('frozen')!.locked, true);
  });

  it("drains a host someone else disabled, keeps their reason; undrain refuses (exit 5) unless forced", async () => {
    env = await open(
      scenario({
        hosts: [{ name: 'compute-01', status: 'disabled', disabled_reason: 'AUTO: Connection to libvirt lost: 1' }, { name: 'compute-02' }, { name: 'compute-03' }],
        instances: [{ name: 'app-1', flavor: 'm1.small', host: 'compute-01' }],
      }),
    );
    const { emu, session, deps } = env;
    const r = await drainHost(session, 'compute-01', OPTS, deps);
    assert.equal(r.outcome, 'drained');
    assert.equal(r.service.ownership, 'foreign');
    assert.ok(r.warnings.some((w) => /libvirt/.test(w)));
    assert.equal(emu.state.host('compute-01')!.disabledReason, 'AUTO: Connection to libvirt lost: 1');
    assert.equal(emu.requests.count({ method: 'PUT', path: '/os-services' }), 0);

    const u = await undrainHost(session, 'compute-01', {}, deps);
    assert.equal(u.outcome, 'ownership-refused');
    assert.equal(u.exitCode, 5);
    assert.match(u.message, /libvirt driver/);
    assert.equal(emu.state.host('compute-01')!.status, 'disabled');
    const forced = await undrainHost(session, 'compute-01', { force: true }, deps);
    assert.equal(forced.outcome, 'undrained');
    assert.equal(emu.state.host('compute-01')!.status, 'enabled');
    const again = await undrainHost(session, 'compute-01', {}, deps);
    assert.equal(again.outcome, 'already-enabled');
  });

  it('undrain returns only instances still where the drain put them', async () => {
    env = await open(scenario({ instances: [{ name: 'a', flavor: 'm1.small', host: 'compute-01' }, { name: 'b', flavor: 'm1.small', host: 'compute-01' }] }));
    const { emu, session, deps } = env;
    const d = await drainHost(session, 'compute-01', OPTS, deps);
    assert.equal(d.outcome, 'drained');
    // Someone moves b on to another host after the drain.
    const b = d.manifest.find((m) => m.name === 'b')!;
    const elsewhere = b.to === 'compute-02' ? 'compute-03' : 'compute-02';
    await session.compute.liveMigrate(b.serverId, { host: elsewhere });
    for (let i = 0; i < 100 && emu.state.server('b')!.host !== elsewhere; i++) await emu.clock.sleep(1000);
    assert.equal(emu.state.server('b')!.host, elsewhere);
    const u = await undrainHost(session, 'compute-01', { returnInstances: true, manifest: d.manifest, pollIntervalMs: 5000 }, deps);
    assert.equal(u.outcome, 'undrained');
    assert.equal(emu.state.server('a')!.host, 'compute-01');
    assert.equal(emu.state.server('b')!.host, elsewhere);
    assert.match(u.notReturned[0]!.reason, new RegExp(`no longer on ${b.to}.*now ACTIVE on ${elsewhere}`));
  });

  it('a live-migrate POST whose response is lost (connection reset after it took effect) is reconciled, not sent twice', async () => {
    env = await open(scenario({ instances: [{ name: 'app-1', flavor: 'm1.small', host: 'compute-01' }] }), [
      { kind: 'reset', when: 'after', match: { method: 'POST', action: 'os-migrateLive' }, count: 1 },
    ]);
    const r = await drainHost(env.session, 'compute-01', OPTS, env.deps);
    assert.equal(r.outcome, 'drained', r.message);
    assert.equal(r.instances[0]!.attempts, 1);
    assert.equal(env.emu.requests.count({ action: 'os-migrateLive' }), 1);
    assert.equal(env.emu.state.migrations({ type: 'live-migration' }).length, 1);
  });

  it('resumes a crashed run from its persisted snapshot (JSON): in-flight migrations are adopted, never requested twice', async () => {
    env = await open(scenario({ migration: { ...FAST, bandwidth_mbps: 200 }, instances: [{ name: 'vm-{i}', flavor: 'm1.small', host: 'compute-01', count: 4 }] }));
    const { emu, session, deps } = env;
    let saved: string | null = null;
    const crash = new AbortController();
    const first = await drainHost(session, 'compute-01', { ...OPTS, runId: 'crashy' }, {
      ...deps,
      signal: crash.signal,
      onSnapshot: (p) => {
        const pool = (p.snapshot as { context: { pool: Array<{ phase: string }> } }).context.pool;
        if (saved === null && pool.filter((x) => x.phase !== 'pending').length >= 2) {
          saved = JSON.stringify(p.snapshot);
          crash.abort(new Error('power cut'));
        }
      },
    });
    assert.equal(first.outcome, 'interrupted');
    assert.ok(saved);
    const requested = emu.requests.count({ action: 'os-migrateLive' });
    assert.ok(requested >= 2 && requested < 4, `requested before the crash: ${requested}`);
    const resumed = await drainHost(session, 'compute-01', {}, { ...deps, snapshot: JSON.parse(saved) });
    assert.equal(resumed.outcome, 'drained', resumed.message);
    assert.equal(resumed.runId, 'crashy');
    assert.equal(emu.requests.count({ action: 'os-migrateLive' }), 4, 'one request per instance across both runs');
    assert.deepEqual(emu.state.serversOn('compute-01'), []);
    assert.equal(emu.state.host('compute-01')!.disabledReason, 'hostmaint:crashy: maintenance');
  });

  it('an unknown host changes nothing (exit 2); compute-1 is not compute-10', async () => {
    env = await open(scenario({ hosts: [{ name: 'compute-10' }, { name: 'compute-11' }], instances: [] }));
    const r = await drainHost(env.session, 'compute-1', OPTS, env.deps);
    assert.equal(r.outcome, 'unknown-host');
    assert.equal(r.exitCode, 2);
    assert.equal(env.emu.requests.count({ method: 'PUT' }), 0);
  });

  it('polls economically: requests per poll do not grow with waiting instances, and stay within a per-instance budget', async () => {
    const run = async (n: number) => {
      // ~10 s of memory copy each at 200 MB/s: several polls see each one running.
      const e = await open(scenario({ migration: { ...FAST, bandwidth_mbps: 200, dirty_rate_mbps: 10 }, instances: [{ name: 'vm-{i}', flavor: 'm1.small', host: 'compute-01', count: n }] }));
      try {
        // Mark where the migrate phase starts and ends in the request log.
        const marks: Record<string, number> = {};
        const r = await drainHost(e.session, 'compute-01', { ...OPTS, concurrency: 2 }, {
          ...e.deps,
          emit: (ev) => {
            if (ev.type === 'phase-changed') marks[ev.phase] = e.emu.requests.records.length;
          },
        });
        assert.equal(r.outcome, 'drained', r.message);
        const compute = e.emu.requests.records.filter((x) => x.service === 'compute' || x.service === 'placement');
        const inMigrate = e.emu.requests.records.slice(marks.migrating, marks.verifyingEmpty).filter((x) => x.service !== 'identity');
        const byPoll = new Map<number, typeof compute>();
        for (const x of inMigrate) byPoll.set(x.time, [...(byPoll.get(x.time) ?? []), x]);
        const listings = [...byPoll.values()].map((xs) => xs.filter((x) => x.method === 'GET' && x.path.endsWith('/servers/detail')).length);
        const migrationLists = [...byPoll.values()].map((xs) => xs.filter((x) => x.method === 'GET' && x.path.endsWith('/os-migrations')).length);
        const progress = [...byPoll.values()].map((xs) => xs.filter((x) => x.method === 'GET' && /\/servers\/[^/]+\/migrations\/\d+$/.test(x.path)).length);
        return { total: compute.length, polls: byPoll.size, maxListings: Math.max(...listings), maxMigrationLists: Math.max(...migrationLists), maxProgress: Math.max(...progress) };
      } finally {
        await close(e);
      }
    };
    const small = await run(3);
    const big = await run(12);
    // listServersOnHost is two GETs (live + soft-deleted) in the real client; one /os-migrations; progress only for running ones.
    for (const x of [small, big]) {
      assert.ok(x.maxListings <= 2, `servers/detail per poll: ${x.maxListings}`);
      assert.ok(x.maxMigrationLists <= 1, `os-migrations per poll: ${x.maxMigrationLists}`);
      assert.ok(x.maxProgress >= 1 && x.maxProgress <= 1, `progress reads per poll: ${x.maxProgress} (one compute slot: one running migration)`);
    }
    const perInstance = big.total / 12;
    assert.ok(perInstance <= 16, `requests per instance: ${perInstance.toFixed(1)}`);
    // The fixed cost (resolve, preflight, verify) is paid once: 4x the instances costs well under 4x the requests.
    assert.ok(big.total < small.total * 4, `3 instances: ${small.total} requests, 12 instances: ${big.total}`);
  });

  it('the wall clock steps 2 h forward, then 2 h back, mid-drain (NTP, a VM resumed): the drain neither aborts nor reports a negative or 2-hour duration', async () => {
    let offset = 0;
    env = await open(
      scenario({ instances: [{ name: 'web-{i}', count: 4, flavor: 'm1.small', host: 'compute-01' }], flavors: [{ name: 'm1.small', id: '2', vcpus: 1, ram_mb: 2048, disk_gb: 20 }] }),
      [],
      (c) => ({ now: () => c.now() + offset, steady: () => c.now(), sleep: (ms, signal) => c.sleep(ms, signal) }),
    );
    const { session, deps, events } = env;
    const emit = deps.emit!;
    let started = 0;
    deps.emit = (e) => {
      if (e.type === 'migration-started') offset = ++started === 1 ? 2 * 3600_000 : started === 3 ? -2 * 3600_000 : offset;
      emit(e);
    };
    const result = await drainHost(session, 'compute-01', { ...OPTS, runId: 'clock-1', migrationTimeoutMs: 30 * 60_000 }, deps);
    assert.equal(result.outcome, 'drained', result.message);
    assert.equal(result.exitCode, 0);
    const durations = [result.timings.durationMs, ...result.timings.phases.map((p) => p.durationMs ?? 0), ...result.instances.map((i) => i.durationMs ?? 0)];
    assert.ok(durations.every((d) => d >= 0 && d < 3600_000), `durations: ${durations.join(', ')}`);
    assert.ok(events.filter((e) => e.type === 'migration-started').length === 4);
  });

  it('the source host goes down mid-drain and stays down: no more moves are asked of it; partial (exit 4) with the reason', async () => {
    env = await open(
      scenario({ instances: [{ name: 'web-{i}', count: 4, flavor: 'm1.small', host: 'compute-01' }], flavors: [{ name: 'm1.small', id: '2', vcpus: 1, ram_mb: 2048, disk_gb: 20 }] }),
      [{ kind: 'host-down', host: 'compute-01', in_ms: 3000, immediate: true }],
    );
    const { emu, session, deps, events } = env;
    const result = await drainHost(session, 'compute-01', { ...OPTS, runId: 'down-1' }, deps);
    assert.equal(result.outcome, 'partial', result.message);
    assert.equal(result.exitCode, 4);
    assert.match(result.message, /down/);
    assert.ok(events.some((e) => e.type === 'source-down'));
    assert.ok(emu.state.serversOn('compute-01').length > 0, 'instances are left where they are');
    const asked = emu.requests.count({ action: 'os-migrateLive' });
    assert.ok(asked < 4, `${asked} moves asked of a dead host's instances`);
    assert.equal(emu.state.host('compute-01')!.status, 'disabled', 'the host stays disabled for a person');
  });

  it('cold migrations off the host left in VERIFY_RESIZE: a move is planned for the drain to confirm; an owner\'s resize is left, listed with the command that finishes it', async () => {
    env = await open(scenario({
      instances: [
        { name: 'moved', flavor: 'm1.small', host: 'compute-01', state: 'SHUTOFF' },
        { name: 'resized', flavor: 'm1.small', host: 'compute-01', state: 'SHUTOFF' },
      ],
      flavors: [{ name: 'm1.small', id: '2', vcpus: 1, ram_mb: 2048, disk_gb: 20 }],
    }));
    const { emu, session, deps } = env;
    for (const name of ['moved', 'resized']) await session.compute.coldMigrate(emu.state.server(name)!.id, { host: 'compute-02' });
    while (['moved', 'resized'].some((n) => emu.state.server(n)!.status !== 'VERIFY_RESIZE')) await emu.clock.sleep(1000);
    // An owner's resize to another flavor looks the same on the host, but its record says resize.
    const resize = [...emu.state.cloud.migrations.values()].find((m) => m.serverId === emu.state.server('resized')!.id)!;
    (resize as { type: string }).type = 'resize'; // the emulator models no resize of its own
    const result = await drainHost(session, 'compute-01', { ...OPTS, runId: 'confirm-1', dryRun: true }, deps);
    assert.deepEqual(result.preflight?.awaitingConfirm?.map((a) => a.name), ['moved']);
    const id = emu.state.server('resized')!.id;
    assert.ok(result.preflight?.warnings.some((w) => w.includes(`openstack server resize confirm ${id}`)), JSON.stringify(result.preflight?.warnings));
  });

  it('--return at Nova\'s precision: a move made in the second its run started (Nova keeps whole seconds) is still given back', async () => {
    // A clock 0.7 s into a second: the drain's moves are created at fractions of a second.
    env = await open(scenario({ instances: [{ name: 'web-{i}', count: 3, flavor: 'm1.small', host: 'compute-01' }], flavors: [{ name: 'm1.small', id: '2', vcpus: 1, ram_mb: 2048, disk_gb: 20 }] }), [], (c) => c, DEFAULT_VIRTUAL_START + 700);
    const { emu, session, deps } = env;
    const result = await drainHost(session, 'compute-01', { ...OPTS, runId: 'second-1' }, deps);
    assert.equal(result.outcome, 'drained', result.message);
    const m = emu.state.migrations().find((x) => x.createdAt % 1000 > 0)!;
    assert.ok(m, 'a move created at a fraction of a second');
    // The run started a moment before that move, within the same second: Nova shows the move's created_at before it.
    const since = new Date(m.createdAt - 1).toISOString();
    assert.equal(Math.floor(Date.parse(since) / 1000), Math.floor(m.createdAt / 1000));
    const out = await selectReturns({ compute: session.compute, placement: session.placement, logger: memoryLogger(), clock: emu.clock }, { host: 'compute-01', since, manifest: [] });
    assert.ok(out.pool.some((r) => r.serverId === m.serverId), `${JSON.stringify(out.notReturned)}`);
  });
});
