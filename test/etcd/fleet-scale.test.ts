/**
 * Fleet scale on a real etcd: many runners, one emulated cloud, a disruption
 * budget, and the etcd leader killed under a rolling run. What Nova's service
 * table shows is the proof.
 */
import { strict as assert } from 'node:assert';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '../cli/helpers.js';
import { requireBuiltCli, runsScenario, spawnHostmaint, startCloud, whenJournal, type TestCloud } from '../cli/runs-helpers.js';
import { doubleMoves } from '../emulator/crash-helpers.js';
import { requireEtcd, startEtcd, type EtcdCluster } from './cluster.js';
import { fleetScenario, runFleet } from './fleet-scenario.js';

describe('fleet scale through etcd (processes, emulated cloud, real etcd)', function () {
  this.timeout(900_000);
  let dir: string;
  let cloud: TestCloud | null = null;
  let etcd: EtcdCluster | null = null;
  before(function () {
    requireEtcd.call(this);
    requireBuiltCli.call(this);
  });
  beforeEach(() => {
    dir = tempDir('hm-scale-');
  });
  afterEach(async () => {
    await cloud?.stop();
    cloud = null;
    await etcd?.stop();
    etcd = null;
    rmSync(dir, { recursive: true, force: true });
  });

  it('20 runners, 200 hosts in 4 zones, --max-hosts-out 2: Nova never shows more than 2 hosts of a zone out, and every host is maintained exactly once', async () => {
    etcd = await startEtcd({ members: 1 });
    cloud = await startCloud(dir, fleetScenario(200, 4), { speed: 50 });
    const o = await runFleet(cloud, { etcdUrl: etcd.url, dir, runners: 20, maxOut: 2 });
    const ideal = (200 / (4 * 2)) * o.meanOutMs;
    console.log(`      20 runners, 200 hosts, 4 zones, budget 2/zone: makespan ${(o.makespanMs / 1000).toFixed(1)} s; a host out ${(o.meanOutMs / 1000).toFixed(2)} s on average; ideal under the budget ${(ideal / 1000).toFixed(1)} s (ratio ${(o.makespanMs / ideal).toFixed(2)}); ${o.samples} samples; most out per zone ${JSON.stringify(o.maxOut)}`);
    assert.deepEqual(o.exitCodes.filter((c) => c !== 0), [], o.stderr.filter(Boolean).join('\n---\n').slice(-4000));
    for (const [zone, n] of Object.entries(o.maxOut)) assert.ok(n <= 2, `${zone}: ${n} hosts out at once`);
    assert.equal(Object.keys(o.maxOut).length, 4, 'every zone had hosts out');
    assert.ok(Object.values(o.maxOut).every((n) => n === 2), `the budget was used, not just respected: ${JSON.stringify(o.maxOut)}`);
    const hosts = [...cloud.emu.state.cloud.hosts.keys()];
    const wrong = hosts.filter((h) => o.disableRequests.get(h) !== 1 || o.enabled.get(h) !== 1 || cloud!.emu.state.cloud.hosts.get(h)!.disabled);
    assert.deepEqual(wrong, [], 'each host disabled once, enabled once, and enabled at the end');
    assert.deepEqual(doubleMoves(cloud.emu), []);
  });

  it('three etcd members, the leader killed during a rolling run: the run goes on and finishes (exit 0), nothing moved twice', async () => {
    etcd = await startEtcd({ members: 3 });
    cloud = await startCloud(dir, runsScenario({
      migration: { bandwidth_mbps: 60 },
      hosts: [{ name: 'compute-01' }, { name: 'compute-02' }, { name: 'compute-03' }, { name: 'compute-04' }],
      instances: [
        { name: 'a-{i}', count: 2, project: 'tenant-a', flavor: 'm1.small', host: 'compute-01' },
        { name: 'b-{i}', count: 2, project: 'tenant-a', flavor: 'm1.small', host: 'compute-02' },
        { name: 'c-{i}', count: 2, project: 'tenant-a', flavor: 'm1.small', host: 'compute-03' },
      ],
    }));
    const state = path.join(dir, 'state');
    const wf = path.join(dir, 'cycle.yaml');
    writeFileSync(wf, 'version: 1\nname: cycle\nsteps:\n  - type: disable\n  - type: preflight\n  - type: migrate\n  - type: verify-empty\n  - type: exec\n    command: ["true"]\n  - type: enable\n');
    const child = spawnHostmaint(['run', wf, 'compute-01', 'compute-02', 'compute-03', ...cloud.args, '--yes', '--state-dir', state, '--poll-interval', '200ms', '--coordination', etcd.url, '--max-hosts-out', '1', '-f', 'json'], cloud.env);
    await whenJournal(state, (e) => e.kind === 'event' && e.type === 'migration-started' && e.host === 'compute-02', 90_000);
    const leader = await etcd.leader();
    await etcd.kill(leader);
    const done = await child.exited;
    assert.equal(done.code, 0, child.stderr());
    const result = JSON.parse(child.stdout()) as { outcome: string };
    assert.equal(result.outcome, 'completed', child.stdout());
    for (const h of ['compute-01', 'compute-02', 'compute-03']) assert.equal(cloud.emu.state.host(h)!.status, 'enabled', h);
    assert.deepEqual(doubleMoves(cloud.emu), []);
  });
});
