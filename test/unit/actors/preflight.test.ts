import { strict as assert } from 'node:assert';
import { runPreflight } from '../../../src/actors/preflight.js';
import { resolveHostRef } from '../../../src/actors/service.js';
import { resolveDrainOptions } from '../../../src/policies/options.js';
import { type DrainOptions } from '../../../src/machines/options.js';
import type { ActorDeps } from '../../../src/actors/deps.js';
import { actorDeps as deps, closer, emulated, hostsN, setInventory, type Emulated, type EmulatedOptions, type ServerOpts } from '../../support/emulated.js';

const clouds = closer();
const open = async (o: EmulatedOptions) => clouds.track(await emulated(o));
/** compute-01 (to drain) + compute-02..N, with `servers`. */
const cloudWith = (hosts: number, servers: ServerOpts[] = [], o: Partial<EmulatedOptions> = {}) => open({ hosts: hostsN(hosts), servers, ...o });

async function preflight(cloud: Emulated, options: DrainOptions = {}, d: ActorDeps = deps(cloud)) {
  const r = await resolveHostRef(d, 'compute-01');
  cloud.reset();
  return runPreflight(d, { runId: 'r1', ref: r.ref!, options: resolveDrainOptions({ pollIntervalMs: 5000, ...options }) });
}

describe('actors/preflight (on the emulator)', () => {
  afterEach(() => clouds.closeAll());

  it('classifies every instance, plans each onto a target with Placement numbers, and passes', async () => {
    const cloud = await cloudWith(3, [
      { id: 'a', status: 'ACTIVE', vcpus: 4, ramMb: 8192 },
      { id: 'b', status: 'SHUTOFF' },
      { id: 'c', status: 'SHELVED' },
      { id: 'd', status: 'SHELVED_OFFLOADED', host: null },
    ]);
    const rep = await preflight(cloud);
    assert.equal(rep.ok, true);
    assert.deepEqual(rep.instances.map((c) => [c.serverId, c.class]), [
      ['a', 'live'],
      ['b', 'cold'],
      ['c', 'offload'],
    ]);
    assert.deepEqual(rep.plan.map((p) => [p.serverId, p.fits]), [
      ['a', true],
      ['b', true],
    ]);
    assert.deepEqual(rep.targets.map((t) => [t.host, t.usable]), [
      ['compute-02', true],
      ['compute-03', true],
    ]);
    assert.equal(rep.targets[0]!.free.VCPU, 64);
    assert.equal(cloud.count('disableService') + cloud.count('liveMigrate') + cloud.count('enableService'), 0, 'read-only');
  });

  it('reports every problem at once, grouped with the flag that overrides each', async () => {
    const cloud = await open({
      hosts: hostsN(2, { 'compute-02': { vcpus: 4, cpu_allocation_ratio: 1, ram_mb: 8192, reserved_host_memory_mb: 0 } }),
      servers: [
        { id: 's1', name: 'suspended-1', status: 'SUSPENDED' },
        { id: 's2', name: 'suspended-2', status: 'SUSPENDED' },
        { id: 'e1', name: 'broken', status: 'ERROR' },
        { id: 'g1', name: 'gpu', status: 'ACTIVE', extraSpecs: { 'pci_passthrough:alias': 'a100:1' } },
        { id: 'big', name: 'big', status: 'ACTIVE', vcpus: 8, ramMb: 16384 },
        { id: 'ok', name: 'ok', status: 'ACTIVE', vcpus: 1, ramMb: 1024 },
      ],
    });
    const rep = await preflight(cloud);
    assert.equal(rep.ok, false);
    const byCategory = Object.fromEntries(rep.blocking.map((g) => [g.category ?? g.kind, g]));
    assert.deepEqual(byCategory.suspended!.servers.map((s) => s.name), ['suspended-1', 'suspended-2']);
    assert.match(byCategory.suspended!.message, /SUSPENDED instances cannot be migrated: suspended-1, suspended-2 \(override: --skip-blocked\)/);
    assert.ok(byCategory.error && byCategory.hardware);
    assert.equal(byCategory.capacity!.servers[0]!.name, 'big');
    assert.match(byCategory.capacity!.servers[0]!.reason, /big \(big\): needs 8 VCPU, 16384 MB RAM, 20 GB disk; largest free: 4 VCPU on compute-02, 8192 MB RAM on compute-02 \(larger than one allocation may be: VCPU max_unit is 4, MEMORY_MB max_unit is 8192\)/);
    assert.equal(byCategory.capacity!.override, null);
    assert.ok(rep.findings.find((f) => f.serverId === 's1')!.remedy!.includes('openstack server resume s1'));
  });

  it('skipBlocked turns blocked instances into warnings', async () => {
    const cloud = await cloudWith(2, [{ id: 's1', status: 'SUSPENDED' }, { id: 'a', status: 'ACTIVE' }]);
    const rep = await preflight(cloud, { skipBlocked: true });
    assert.equal(rep.ok, true);
    assert.ok(rep.warnings.some((w) => /s1: SUSPENDED.*left on the host/.test(w)));
  });

  it('checks targets: enabled and up, reachable at host_ip (route, or the TCP probe port), else at the name', async () => {
    const cloud = await open({
      hosts: hostsN(5, { 'compute-02': { address: '10.0.0.2' }, 'compute-03': { address: null }, 'compute-04': { state: 'down' }, 'compute-05': { status: 'disabled', disabled_reason: 'AUTO: x' } }),
      servers: [{ id: 'a' }],
    });
    const looked: string[] = [];
    const probed: Array<[string, number, number]> = [];
    const net = {
      resolve: async (n: string) => {
        looked.push(n);
        return n === 'compute-03' ? '10.0.0.3' : null;
      },
      routeTo: async () => null,
      probeTcp: async (h: string, p: number, t: number) => {
        probed.push([h, p, t]);
        return true;
      },
    };
    const rep = await preflight(cloud, {}, deps(cloud, { net }));
    const t = Object.fromEntries(rep.targets.map((x) => [x.host, x]));
    assert.equal(rep.ok, true);
    assert.deepEqual([t['compute-02']!.usable, t['compute-02']!.address, t['compute-02']!.reachedVia], [true, '10.0.0.2', 'host_ip']);
    assert.deepEqual([t['compute-03']!.usable, t['compute-03']!.address, t['compute-03']!.reachedVia], [true, '10.0.0.3', 'name'], 'no host_ip: its name');
    assert.deepEqual(looked, ['compute-03'], 'a name is looked up only when host_ip is missing or fails');
    assert.deepEqual(t['compute-04']!.reasons, ['service down']);
    assert.match(t['compute-05']!.reasons[0]!, /disabled/);
    assert.deepEqual(probed, [], 'no probe port: a route check');

    const withPort = await preflight(cloud, { probePort: 16509, probeTimeoutMs: 1000 }, deps(cloud, { net }));
    assert.equal(withPort.ok, true);
    assert.deepEqual(probed, [['10.0.0.2', 16509, 1000], ['10.0.0.3', 16509, 1000]]);
  });

  it('refuses targets reachable neither at host_ip nor by name, naming each target and every failed check; --allow-unreachable-targets uses them', async () => {
    const cloud = await open({ hosts: hostsN(3, { 'compute-02': { address: '10.0.0.2' }, 'compute-03': { address: null } }), servers: [{ id: 'a' }] });
    const net = { resolve: async () => null, routeTo: async (a: string) => (a === '10.0.0.2' ? 'no route (ENETUNREACH)' : null), probeTcp: async () => false };
    const rep = await preflight(cloud, {}, deps(cloud, { net }));
    assert.equal(rep.ok, false);
    const g = rep.blocking.find((x) => x.kind === 'unreachable')!;
    assert.deepEqual(g.hosts, [
      'compute-02: host_ip 10.0.0.2: no route (ENETUNREACH); name compute-02 does not resolve',
      'compute-03: Nova reports no host_ip; name compute-03 does not resolve',
    ]);
    assert.deepEqual(g.override, { option: 'allowUnreachableTargets', flag: '--allow-unreachable-targets' });
    assert.equal(g.message, 'target hosts this machine cannot reach (override: --allow-unreachable-targets)');
    assert.deepEqual(rep.targets.map((x) => x.usable), [false, false]);

    const probe = await preflight(cloud, { probePort: 22 }, deps(cloud, { net: { ...net, routeTo: async () => null } }));
    assert.match(probe.blocking.find((x) => x.kind === 'unreachable')!.hosts[0]!, /^compute-02: host_ip 10\.0\.0\.2: TCP port 22 does not answer within 3000 ms/);

    const allowed = await preflight(cloud, { allowUnreachableTargets: true }, deps(cloud, { net }));
    assert.equal(allowed.ok, true);
    assert.ok(allowed.warnings.some((w) => /target compute-02 was not reached from here .*used anyway \(--allow-unreachable-targets\)/.test(w)));
    assert.equal(allowed.plan[0]!.fits, true);
  });

  it('restricts targets to named hosts / an aggregate / an AZ; an unknown name fails the preflight', async () => {
    // compute-04 is the only member of the aggregate "fast".
    const cloud = await open({ hosts: hostsN(4, { 'compute-04': { aggregates: ['fast'] } }), aggregates: [{ name: 'fast' }], servers: [{ id: 'a' }] });
    const named = await preflight(cloud, { targets: ['compute-03'] });
    assert.deepEqual(named.targets.map((t) => t.host), ['compute-03']);
    assert.equal(named.plan[0]!.target, 'compute-03');
    const typo = await preflight(cloud, { targets: ['compute-33'] });
    assert.equal(typo.ok, false);
    assert.ok(typo.findings.some((f) => f.kind === 'target' && /compute-33 is not a nova-compute host/.test(f.message)));
    const agg = await preflight(cloud, { aggregate: 'fast' });
    assert.deepEqual(agg.targets.map((t) => t.host), ['compute-04']);
    const noAgg = await preflight(cloud, { aggregate: 'slow' });
    assert.ok(noAgg.findings.some((f) => f.kind === 'aggregate'));
  });

  it('respects anti-affinity with members elsewhere', async () => {
    const cloud = await cloudWith(3, [{ id: 'w1', name: 'web-1', group: 'web' }, { id: 'w2', name: 'web-2' }, { id: 'w3', name: 'web-3', host: 'compute-02', group: 'web' }], {
      serverGroups: [{ name: 'web', policy: 'anti-affinity' }],
    });
    // web-2 joins web-1 on compute-01: a policy already broken (a move forced past the scheduler before 2.68).
    // Nova's boot and the scenario check both refuse to make it, so the test sets the membership in the model.
    const web = [...cloud.emu.state.cloud.nova.groups.byId.values()].find((g) => g.name === 'web')!;
    web.members.push('w2');
    cloud.emu.state.cloud.servers.get('w2')!.groupId = web.id;
    const rep = await preflight(cloud);
    assert.equal(rep.ok, false, 'two members, one free target (compute-02 holds web-3)');
    const placed = rep.plan.filter((p) => p.fits);
    assert.deepEqual(placed.map((p) => p.target), ['compute-03']);
    assert.match(rep.plan.find((p) => !p.fits)!.reason!, /anti-affinity group 'web'/);
    assert.equal(cloud.count('getServer'), 1, 'one lookup for the member elsewhere');
  });

  it('waits for busy instances up to the bound, then reclassifies', async () => {
    // Spawning on compute-01: ACTIVE 10 s from now, seen at the third look (polls 5 s apart).
    const cloud = await cloudWith(2, [{ id: 'b', status: 'BUILD', taskState: 'spawning' }], { migration: { boot_ms: 10_000 } });
    const rep = await preflight(cloud, { waitTimeoutMs: 60_000 });
    assert.equal(rep.instances[0]!.class, 'live');
    assert.equal(rep.waitedMs, 10_000);

    const stuck = await cloudWith(2, [{ id: 'x', status: 'ACTIVE', taskState: 'rebooting' }]);
    const rep2 = await preflight(stuck, { waitTimeoutMs: 20_000 });
    assert.equal(rep2.ok, false);
    assert.equal(rep2.instances[0]!.class, 'blocked');
    assert.match(rep2.instances[0]!.reason, /task_state rebooting in progress, still busy after 20s/);
    assert.equal(rep2.blocking[0]!.override?.flag, '--skip-blocked');
  });

  it('costs Placement requests per distinct flavor, not per target or instance', async () => {
    const count = async (instances: number, hosts: number, flavors = 1) => {
      const servers = Array.from({ length: instances }, (_, i) => ({ id: `vm-${i}`, vcpus: 1, ramMb: 512 * (1 + (i % flavors)) }));
      const cloud = await open({ hosts: hostsN(hosts), hostDefaults: { vcpus: 64, ram_mb: 1_000_000 }, servers });
      const rep = await preflight(cloud);
      assert.equal(rep.ok, true);
      const placement = ['listProviders', 'getInventories', 'getUsages', 'getAllocationCandidates'].reduce((n, m) => n + cloud.count(m), 0);
      return { all: cloud.count(), placement, candidates: cloud.count('getAllocationCandidates'), exact: cloud.count('getInventories') + cloud.count('getUsages') };
    };
    const small = await count(2, 3);
    const many = await count(40, 3);
    const moreHosts = await count(2, 6);
    const twoFlavors = await count(40, 6, 2);
    assert.equal(many.all, small.all, 'the same number of calls for 2 or 40 instances');
    assert.equal(moreHosts.placement, small.placement, 'the same Placement calls for 2 or 5 targets');
    assert.deepEqual([small.candidates, small.exact], [1, 0], 'one allocation-candidates call, no per-target reads');
    assert.equal(twoFlavors.placement - moreHosts.placement, 1, 'one more call per distinct flavor');
    const q = (await (async () => {
      const cloud = await cloudWith(2, [{ id: 'a', vcpus: 2, ramMb: 1024 }]);
      await preflight(cloud);
      // The query Placement received: resources=DISK_GB:20,MEMORY_MB:1024,VCPU:2&required=...
      const query = cloud.calls('getAllocationCandidates')[0]!.query;
      const one = (k: string) => String(Array.isArray(query[k]) ? query[k]![0] : query[k]);
      return { resources: Object.fromEntries(one('resources').split(',').map((kv) => [kv.split(':')[0]!, Number(kv.split(':')[1])])), required: one('required').split(',') };
    })()) as { resources: Record<string, number>; required: string[] };
    assert.deepEqual(q.resources, { VCPU: 2, MEMORY_MB: 1024, DISK_GB: 20 });
    assert.deepEqual(q.required, ['!COMPUTE_STATUS_DISABLED']);
  });

  it('plans exactly as with per-target inventories and usages (max_unit, reserved, full hosts, ratios)', async () => {
    /** The same cloud; `placement`: Placement's highest microversion (1.26: before allocation candidates' summaries of every class). */
    const build = async (placement?: string) => {
      const sizes: Array<[number, number]> = [[8, 16384], [8, 16384], [4, 8192], [2, 4096], [2, 4096], [1, 2048], [1, 2048], [1, 512], [6, 12288], [4, 4096]];
      const c = await open({
        hosts: hostsN(6, {
          'compute-01': { ram_mb: 131072 }, // the source holds every guest below
          'compute-02': { vcpus: 8, cpu_allocation_ratio: 2, ram_mb: 16384, reserved_host_memory_mb: 1024 },
          'compute-03': { vcpus: 32, cpu_allocation_ratio: 1, ram_mb: 65536 }, // room, but no allocation above 4 VCPU (max_unit below)
          'compute-04': { vcpus: 2, cpu_allocation_ratio: 1, ram_mb: 4096, reserved_host_memory_mb: 0 }, // full after the guests below
          'compute-05': { vcpus: 16, cpu_allocation_ratio: 4, ram_mb: 32768 },
          'compute-06': { vcpus: 64, ram_mb: 262144, disk_gb: 100 },
        }),
        servers: [{ id: 'x1', host: 'compute-04', vcpus: 2, ramMb: 4096 }, { id: 'x2', host: 'compute-05', vcpus: 16, ramMb: 8192 }, ...sizes.map(([vcpus, ramMb], i) => ({ id: `vm-${i}`, vcpus, ramMb }))],
        ...(placement ? { placement: { max_microversion: placement } } : {}),
      });
      setInventory(c, 'compute-03', 'VCPU', { max_unit: 4 });
      return c;
    };
    const viaCandidates = await build();
    const rep = await preflight(viaCandidates);
    const viaInventories = await build('1.26');
    const old = await preflight(viaInventories);
    assert.equal(viaInventories.count('getAllocationCandidates'), 0, 'before 1.27: per-target inventories and usages');
    assert.deepEqual(rep.plan, old.plan);
    assert.deepEqual(rep.targets, old.targets);
    assert.deepEqual(rep.findings, old.findings);
    assert.ok(rep.plan.some((p) => p.target === 'compute-03') && rep.plan.every((p) => p.target !== 'compute-03' || p.request.VCPU! <= 4), 'max_unit respected');
    // Exact reads only for compute-03 (Placement refused a flavor its summary has room for) and compute-04 (room for none).
    const exact = [...viaCandidates.calls('getInventories'), ...viaCandidates.calls('getUsages')].map((r) => r.path.split('/resource_providers/')[1]!.split('/')[0]!);
    const uuid = (h: string) => viaCandidates.emu.state.host(h)!.providerUuid;
    assert.deepEqual([...new Set(exact)].sort(), [uuid('compute-03'), uuid('compute-04')].sort());
  });

  it('names max_unit exactly when something fits nowhere, reading inventories of the targets in its zone only then', async () => {
    const build = async (placement?: string) => {
      const c = await open({
        hosts: hostsN(3, { 'compute-02': { vcpus: 12, cpu_allocation_ratio: 1 }, 'compute-03': { vcpus: 12, cpu_allocation_ratio: 1 } }),
        servers: [{ id: 'huge', name: 'huge', vcpus: 16, ramMb: 4096 }, { id: 'ok', name: 'ok', vcpus: 2, ramMb: 4096 }],
        ...(placement ? { placement: { max_microversion: placement } } : {}),
      });
      for (const h of ['compute-02', 'compute-03']) setInventory(c, h, 'VCPU', { max_unit: 8 });
      return c;
    };
    const cloud = await build();
    const rep = await preflight(cloud);
    assert.equal(rep.ok, false);
    assert.match(rep.plan.find((p) => p.serverId === 'huge')!.reason!, /needs 16 VCPU, 4096 MB RAM, 20 GB disk; largest free: 1[02] VCPU on compute-0[23] \(larger than one allocation may be: VCPU max_unit is 8\)/);
    assert.equal(cloud.count('getInventories'), 2, 'one inventories read per target, for the message');
    assert.equal(cloud.count('getUsages'), 0, 'usages come from the summaries');
    assert.equal(rep.plan.find((p) => p.serverId === 'ok')!.fits, true);
    const old = await preflight(await build('1.26'));
    assert.deepEqual(rep.plan, old.plan, 'the same plan and reasons as with per-target reads');
    assert.deepEqual(rep.targets, old.targets);
  });
});
