/**
 * The building blocks of rolling maintenance (src/rolling/) against the
 * emulated cloud, through hostmaint's real clients: the host list from every
 * source, the 'emptiest' order and what it costs, the "hosts are back" gate
 * and the per-host capacity check with the wave's hosts excluded (read-only).
 */
import { strict as assert } from 'node:assert';
import { emulatorCloud } from './helpers.js';
import { startEmulator, VirtualClock } from '../../src/emulator/index.js';
import type { Emulator, Scenario } from '../../src/emulator/index.js';
import { HostmaintError } from '../../src/core/errors.js';
import { memoryLogger } from '../../src/core/log.js';
import { connect, type HostmaintSession } from '../../src/openstack/session.js';
import { checkCapacityFor, checkHostsBack, rollingGate, waitHostsBack, type CapacityDeps } from '../../src/rolling/gate.js';
import { resolveHostList } from '../../src/rolling/hosts.js';
import { orderHosts } from '../../src/rolling/order.js';
import { defaultPolicies } from '../../src/policies/policies.js';
import type { WorkflowPolicies } from '../../src/policies/types.js';

/**
 * Hosts of 20 GiB RAM (two m1.large and change): compute-01 is full (2 large),
 * compute-02 and -03 have room for one more large, -04 and -05 for two.
 * Zones az-a (01-03) and az-b (04-05); aggregates rack-1 (01, 02) and rack-2 (04, 05).
 */
const SCENARIO = {
  name: 'rolling-test',
  defaults: { host: { vcpus: 16, ram_mb: 20480, disk_gb: 1000 } },
  aggregates: [{ name: 'rack-1' }, { name: 'rack-2' }],
  hosts: [
    { name: 'compute-01', az: 'az-a', aggregates: ['rack-1'] },
    { name: 'compute-02', az: 'az-a', aggregates: ['rack-1'] },
    { name: 'compute-03', az: 'az-a' },
    { name: 'compute-04', az: 'az-b', aggregates: ['rack-2'] },
    { name: 'compute-05', az: 'az-b', aggregates: ['rack-2'] },
  ],
  instances: [
    { name: 'big-{i}', flavor: 'm1.large', host: 'compute-01', count: 2 },
    { name: 'db-2', flavor: 'm1.large', host: 'compute-02' },
    { name: 'db-3', flavor: 'm1.large', host: 'compute-03' },
    { name: 'tiny-{i}', flavor: 'm1.tiny', host: 'compute-03', count: 2 },
    { name: 'web-5', flavor: 'm1.small', host: 'compute-05' },
  ],
} as unknown as Scenario;

/** The defaults, with no wait for busy instances (none here) and a reason of our own. */
const POLICIES: WorkflowPolicies = { ...defaultPolicies(), reason: 'rolling test', waitTimeoutMs: 0, targets: null, aggregate: null, availabilityZone: null, probePort: null };

function computeCalls(session: HostmaintSession): number {
  return session.requestCount()['compute'] ?? 0;
}

/** Everything a read-only check must leave alone. */
function cloudState(emu: Emulator): string {
  return JSON.stringify({
    hosts: emu.state.hosts().map((h) => [h.name, h.status, h.disabledReason, h.state]),
    servers: emu.state.servers().map((s) => [s.name, s.host, s.status, s.taskState]),
  });
}

async function rejectsWith(p: Promise<unknown>, kind: string, re: RegExp): Promise<HostmaintError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof HostmaintError, String(e));
    assert.equal(e.kind, kind, e.message);
    assert.match(e.message, re);
    return e;
  }
  assert.fail('expected a rejection');
}

describe('rolling building blocks against the emulator', function () {
  this.timeout(30_000);
  let emu: Emulator;
  let session: HostmaintSession;
  let deps: CapacityDeps;

  beforeEach(async () => {
    emu = await startEmulator({ scenario: SCENARIO, clock: new VirtualClock() });
    session = await connect(emulatorCloud(emu), { logger: memoryLogger(), clock: emu.clock, timeoutMs: 30_000 });
    deps = { logger: memoryLogger(), clock: emu.clock };
  });
  afterEach(async () => {
    await session.close();
    await emu.stop();
  });

  describe('resolveHostList', () => {
    it('combines positional, file, aggregate and AZ hosts in that order, first position kept; two requests', async () => {
      const files: Record<string, string> = { '/hosts.txt': '# wave list\ncompute-02\n\n   compute-03   \ncompute-05 # last\n' };
      const before = computeCalls(session);
      const r = await resolveHostList(
        session.compute,
        { hosts: ['compute-03'], file: '/hosts.txt', aggregate: 'rack-2', availabilityZone: 'az-a' },
        { readFile: async (p) => files[p]! },
      );
      assert.deepEqual(r.hosts, ['compute-03', 'compute-02', 'compute-05', 'compute-04', 'compute-01']);
      assert.deepEqual(r.warnings, []);
      assert.equal(computeCalls(session) - before, 2, 'one listServices, one listAggregates');
    });

    it('an aggregate by id; an AZ includes its disabled hosts (they are in no AZ listing); warnings for hosts out of service', async () => {
      const svc = (await session.compute.listServices({ host: 'compute-02', binary: 'nova-compute' }))[0]!;
      await session.compute.disableService(svc, 'someone else');
      const aggs = await session.compute.listAggregates();
      const rack1 = aggs.find((a) => a.name === 'rack-1')!;
      const byId = await resolveHostList(session.compute, { hosts: [], aggregate: String(rack1.id) });
      assert.deepEqual(byId.hosts, ['compute-01', 'compute-02']);
      assert.deepEqual(byId.warnings, ['compute-02: nova-compute is already disabled (someone else)']);
      const zone = await resolveHostList(session.compute, { hosts: [], availabilityZone: 'az-a' });
      assert.deepEqual(zone.hosts, ['compute-01', 'compute-02', 'compute-03']);
    });

    it('unknown hosts: one unknown-host error naming every one, with close matches', async () => {
      const e = await rejectsWith(
        resolveHostList(session.compute, { hosts: ['compute-1', 'compute-02', 'bogus'], file: '/f' }, { readFile: async () => 'compute-0005\n' }),
        'unknown-host',
        /compute-1 \(from the command line\): did you mean compute-01 or [^;]*; bogus \(from the command line\); compute-0005 \(from file \/f\): did you mean compute-05\?/,
      );
      assert.deepEqual(e.details['unknown'], ['compute-1', 'bogus', 'compute-0005']);
    });

    it('unknown aggregate or AZ: usage errors listing the existing ones', async () => {
      await rejectsWith(resolveHostList(session.compute, { hosts: [], aggregate: 'rack-9' }), 'usage', /no host aggregate named 'rack-9'; the aggregates are: rack-1 \(id \d+\), rack-2 \(id \d+\)/);
      await rejectsWith(resolveHostList(session.compute, { hosts: [], availabilityZone: 'az-c' }), 'usage', /no availability zone named 'az-c'.*the zones are: az-a, az-b/);
    });

    it('no hosts at all, or an unreadable file: usage errors saying what to do', async () => {
      const e = await rejectsWith(resolveHostList(session.compute, { hosts: [] }), 'usage', /no hosts to work on/);
      assert.match(e.hint!, /--hosts-file/);
      await rejectsWith(resolveHostList(session.compute, { hosts: ['compute-01'], file: '/nonexistent/hosts.txt' }), 'usage', /cannot read the host file \/nonexistent\/hosts.txt: .*ENOENT/);
      const empty = resolveHostList(session.compute, { hosts: [], file: '/empty' }, { readFile: async () => '# nothing here\n\n' });
      await rejectsWith(empty, 'usage', /no hosts to work on/);
    });
  });

  describe('orderHosts', () => {
    it("'emptiest': fewest instances first, ties in the given order, from one server listing", async () => {
      const before = computeCalls(session);
      const r = await orderHosts(session.compute, ['compute-01', 'compute-02', 'compute-03', 'compute-04', 'compute-05'], 'emptiest');
      assert.equal(computeCalls(session) - before, 1);
      assert.deepEqual(r.sizes, { 'compute-01': 2, 'compute-02': 1, 'compute-03': 3, 'compute-04': 0, 'compute-05': 1 });
      assert.deepEqual(r.hosts, ['compute-04', 'compute-02', 'compute-05', 'compute-01', 'compute-03']);
    });

    it("'given' and a single host cost nothing", async () => {
      const before = computeCalls(session);
      assert.deepEqual((await orderHosts(session.compute, ['compute-03', 'compute-01'], 'given')).hosts, ['compute-03', 'compute-01']);
      assert.deepEqual((await orderHosts(session.compute, ['compute-03'], 'emptiest')).hosts, ['compute-03']);
      assert.equal(computeCalls(session) - before, 0);
    });
  });

  describe('checkHostsBack / waitHostsBack', () => {
    it('up and enabled is back; a disabled service and a down compute are not, with why', async () => {
      assert.deepEqual(await checkHostsBack(session.compute, ['compute-01', 'compute-02']), { ok: true, notBack: [] });
      const svc = (await session.compute.listServices({ host: 'compute-02', binary: 'nova-compute' }))[0]!;
      await session.compute.disableService(svc, 'hostmaint:roll-1-h2: patching');
      emu.inject({ kind: 'host-down', host: 'compute-04', immediate: true });
      const r = await checkHostsBack(session.compute, ['compute-01', 'compute-02', 'compute-04']);
      assert.equal(r.ok, false);
      assert.deepEqual(r.notBack, [
        { host: 'compute-02', state: 'up', status: 'disabled', reason: 'nova-compute is disabled (hostmaint:roll-1-h2: patching)' },
        { host: 'compute-04', state: 'down', status: 'enabled', reason: 'nova-compute is down' },
      ]);
      assert.deepEqual(await checkHostsBack(session.compute, []), { ok: true, notBack: [] });
    });

    it('waits until the host is back, or gives the last answer at the timeout', async () => {
      const svc = (await session.compute.listServices({ host: 'compute-02', binary: 'nova-compute' }))[0]!;
      const disabled = await session.compute.disableService(svc, 'patching');
      const enableLater = (async () => {
        await emu.clock.sleep(25_000);
        await session.compute.enableService(disabled);
      })();
      const r = await waitHostsBack(session.compute, ['compute-02'], { timeoutMs: 120_000, pollIntervalMs: 10_000, clock: emu.clock });
      await enableLater;
      assert.equal(r.ok, true);
      assert.ok(r.waitedMs >= 25_000 && r.waitedMs <= 40_000, String(r.waitedMs));
      assert.ok(r.checks >= 3 && r.checks <= 5, String(r.checks));

      emu.inject({ kind: 'host-down', host: 'compute-04', immediate: true });
      const t = await waitHostsBack(session.compute, ['compute-04'], { timeoutMs: 30_000, pollIntervalMs: 10_000, clock: emu.clock });
      assert.equal(t.ok, false);
      assert.equal(t.waitedMs, 30_000);
      assert.equal(t.checks, 4);
      assert.equal(t.notBack[0]!.reason, 'nova-compute is down');
    });

    it('an aborted signal stops the wait', async () => {
      emu.inject({ kind: 'host-down', host: 'compute-04', immediate: true });
      const ac = new AbortController();
      const p = waitHostsBack(session.compute, ['compute-04'], { timeoutMs: 600_000, pollIntervalMs: 10_000, clock: emu.clock, signal: ac.signal });
      setImmediate(() => ac.abort(new Error('interrupted')));
      await assert.rejects(p, /interrupted|cancelled/);
    });
  });

  describe('checkCapacityFor', () => {
    it('passes when the hosts outside the wave have room, and changes nothing', async () => {
      const before = cloudState(emu);
      emu.requests.clear();
      const r = await checkCapacityFor(session, 'compute-01', ['compute-01', 'compute-04'], POLICIES, deps);
      assert.equal(r.ok, true, r.message);
      assert.equal(r.exitCode, 0);
      assert.deepEqual(r.targets, ['compute-02', 'compute-03', 'compute-05']);
      assert.equal(r.result!.outcome, 'planned');
      assert.ok(r.result!.plan.every((p) => p.fits && p.target !== 'compute-04'), JSON.stringify(r.result!.plan));
      assert.equal(cloudState(emu), before);
      assert.equal(emu.requests.filter({ service: 'compute' }).filter((x) => x.method !== 'GET').length, 0, 'read-only');
    });

    it('refuses when the wave takes away the room (exit 3), and changes nothing', async () => {
      const before = cloudState(emu);
      emu.requests.clear();
      const r = await checkCapacityFor(session, 'compute-01', ['compute-01', 'compute-02', 'compute-04', 'compute-05'], POLICIES, deps);
      assert.equal(r.ok, false);
      assert.equal(r.exitCode, 3);
      assert.deepEqual(r.targets, ['compute-03']);
      assert.equal(r.result!.outcome, 'preflight-refused');
      assert.equal(r.result!.plan.filter((p) => !p.fits).length, 1, 'compute-03 has room for one of the two');
      assert.equal(cloudState(emu), before);
      assert.equal(emu.requests.filter({ service: 'compute' }).filter((x) => x.method !== 'GET').length, 0, 'read-only');
    });

    it('named targets minus the wave; none left: refused without a plan', async () => {
      const r = await checkCapacityFor(session, 'compute-01', ['compute-01', 'compute-04'], { ...POLICIES, targets: ['compute-02', 'compute-03', 'compute-04'] }, deps);
      assert.equal(r.ok, true, r.message);
      assert.deepEqual(r.targets, ['compute-02', 'compute-03']);
      assert.deepEqual(r.result!.plan.map((p) => p.target).sort(), ['compute-02', 'compute-03']);

      const short = await checkCapacityFor(session, 'compute-01', ['compute-01', 'compute-02'], { ...POLICIES, targets: ['compute-02', 'compute-03'] }, deps);
      assert.equal(short.exitCode, 3, 'compute-03 alone has room for one of the two');

      const none = await checkCapacityFor(session, 'compute-01', ['compute-01', 'compute-04'], { ...POLICIES, targets: ['compute-04'] }, deps);
      assert.equal(none.ok, false);
      assert.equal(none.exitCode, 3);
      assert.equal(none.result, null);
      assert.match(none.message, /no target host left for compute-01: every named target is in this wave \(compute-04\)/);
    });
  });

  describe('rollingGate (the machine\'s gate actor body)', () => {
    it('first wave: capacity per host with the whole wave excluded; a host without room is listed in skip', async () => {
      const before = cloudState(emu);
      const g = await rollingGate(session, { previous: [], next: ['compute-01', 'compute-03'] }, POLICIES, deps);
      assert.equal(g.ok, true);
      assert.deepEqual(g.skip.map((s) => [s.host, s.exitCode]), [['compute-01', 3]]);
      assert.equal(g.exitCode, 3);
      assert.equal(cloudState(emu), before);
    });

    it('a previous host not back in time: not ok, exit 7, no capacity check', async () => {
      const svc = (await session.compute.listServices({ host: 'compute-02', binary: 'nova-compute' }))[0]!;
      await session.compute.disableService(svc, 'still patching');
      emu.requests.clear();
      const g = await rollingGate(session, { previous: ['compute-02'], next: ['compute-03'] }, POLICIES, deps, { backTimeoutMs: 20_000, pollIntervalMs: 10_000 });
      assert.equal(g.ok, false);
      assert.equal(g.exitCode, 7);
      assert.match(g.message, /the previous wave is not back after 20 s \(compute-02: nova-compute is disabled \(still patching\)\)/);
      assert.equal(emu.requests.count({ service: 'placement' }), 0);
    });
  });
});
