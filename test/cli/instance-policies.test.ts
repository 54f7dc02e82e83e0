/**
 * Issue 19, item 2: owners state how their instance moves (server metadata hostmaint:policy live,
 * cold or stop), within what the operator allows (--instance-policies, default live,cold). Asserted
 * on the requests the emulated Nova received, the servers' state, and plan's JSON.
 */
import { strict as assert } from 'node:assert';
import { rmSync } from 'node:fs';
import { hostmaint, tempDir } from './helpers.js';
import { runsScenario, startCloud, type TestCloud } from './runs-helpers.js';

const instances = [
  { name: 'live-1', project: 'tenant-a', flavor: 'm1.small', host: 'compute-01' },
  { name: 'cold-1', project: 'tenant-a', flavor: 'm1.small', host: 'compute-01', metadata: { 'hostmaint:policy': 'cold' } },
  { name: 'stop-1', project: 'tenant-a', flavor: 'm1.small', host: 'compute-01', metadata: { 'hostmaint:policy': 'stop' } },
  { name: 'odd-1', project: 'tenant-a', flavor: 'm1.small', host: 'compute-01', metadata: { 'hostmaint:policy': 'never' } },
];

interface PlanJson {
  preflight: { instances: Array<{ name: string; class: string; policy: { value: string; source: string }; notes: string[] }> };
}

describe('CLI: instance policies (issue 19)', function () {
  this.timeout(120_000);
  let dir: string;
  let cloud: TestCloud;
  beforeEach(async () => {
    dir = tempDir();
    cloud = await startCloud(dir, runsScenario({ instances, maxConcurrent: 2 }));
  });
  afterEach(async () => {
    await cloud.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  /** The actions Nova was asked for on one server, in order. */
  const actions = (name: string) => {
    const id = cloud.emu.state.server(name)!.id;
    return cloud.emu.requests.records.filter((r) => r.method === 'POST' && r.path.includes(`/servers/${id}/action`)).map((r) => r.action);
  };

  it('plan shows each policy in force and where it came from; an owner asking for what is not allowed is told so', async () => {
    const r = await hostmaint(['plan', 'compute-01', ...cloud.args, '--state-dir', dir, '-f', 'json'], cloud.env);
    assert.equal(r.code, 0, r.stderr);
    const byName = new Map(r.json<PlanJson>().preflight.instances.map((i) => [i.name, i]));
    assert.deepEqual(byName.get('live-1')!.policy, { value: 'live', source: 'default' });
    assert.deepEqual(byName.get('cold-1')!.policy, { value: 'cold', source: 'owner' });
    assert.equal(byName.get('cold-1')!.class, 'cold');
    // stop is not allowed by default (live,cold): the owner's wish is ignored, said in the notes.
    assert.deepEqual(byName.get('stop-1')!.policy, { value: 'live', source: 'default' });
    assert.match(byName.get('stop-1')!.notes.join(' '), /asks for stop .*does not allow/);
    assert.match(byName.get('odd-1')!.notes.join(' '), /hostmaint:policy is "never", not live, cold or stop: ignored/);
    const table = await hostmaint(['plan', 'compute-01', ...cloud.args, '--state-dir', dir], cloud.env);
    assert.match(table.stdout, /cold-1[^\n]*cold \(owner\)/, table.stdout);
    assert.equal(cloud.emu.state.host('compute-01')!.status, 'enabled', 'plan changes nothing');
  });

  it('drain honours the owners within --instance-policies live,cold,stop: cold-1 cold, stop-1 stopped, moved, started; all ACTIVE elsewhere', async () => {
    const r = await hostmaint(['drain', 'compute-01', ...cloud.args, '--yes', '--state-dir', dir, '--instance-policies', 'live,cold,stop', '--poll-interval', '200ms'], cloud.env);
    assert.equal(r.code, 0, r.stderr);
    for (const n of ['live-1', 'cold-1', 'stop-1', 'odd-1']) {
      const s = cloud.emu.state.server(n)!;
      assert.notEqual(s.host, 'compute-01', `${n} left`);
      assert.equal(s.status, 'ACTIVE', `${n} is ACTIVE again`);
    }
    assert.deepEqual(actions('live-1'), ['os-migrateLive']);
    assert.deepEqual(actions('odd-1'), ['os-migrateLive']);
    assert.deepEqual(actions('cold-1'), ['migrate', 'confirmResize']);
    assert.deepEqual(actions('stop-1'), ['os-stop', 'migrate', 'confirmResize', 'os-start']);
  });

  it('--instance-policies cold: running instances move cold (source operator); a PAUSED one, which Nova cannot cold-migrate, is a blocker (exit 3, nothing changed)', async () => {
    await cloud.stop();
    cloud = await startCloud(dir, runsScenario({ instances: [...instances.slice(0, 2), { name: 'paused-1', project: 'tenant-a', flavor: 'm1.small', host: 'compute-01', state: 'PAUSED' }] }));
    const plan = await hostmaint(['plan', 'compute-01', ...cloud.args, '--state-dir', dir, '--instance-policies', 'cold', '-f', 'json'], cloud.env);
    assert.equal(plan.code, 3, plan.stderr);
    const byName = new Map(plan.json<PlanJson>().preflight.instances.map((i) => [i.name, i]));
    assert.deepEqual(byName.get('live-1')!.policy, { value: 'cold', source: 'operator' });
    assert.equal(byName.get('paused-1')!.class, 'blocked');
    const drain = await hostmaint(['drain', 'compute-01', ...cloud.args, '--yes', '--state-dir', dir, '--instance-policies', 'cold'], cloud.env);
    assert.equal(drain.code, 3, drain.stderr);
    assert.match(drain.stderr + drain.stdout, /paused-1[\s\S]*--instance-policies/);
    assert.equal(cloud.emu.state.host('compute-01')!.status, 'enabled');
    assert.equal(cloud.emu.state.migrations().length, 0);
  });

  it('host-bound hardware that forbids only a live migration (vTPM): blocked by default; its owner asking for cold moves it cold', async () => {
    await cloud.stop();
    const tpm = (name: string, metadata?: Record<string, string>) => ({ name, project: 'tenant-a', flavor: 't1.tpm', host: 'compute-01', ...(metadata ? { metadata } : {}) });
    const sc = runsScenario({ instances: [tpm('tpm-1', { 'hostmaint:policy': 'cold' }), tpm('tpm-2')] });
    cloud = await startCloud(dir, { ...sc, flavors: [...(sc as { flavors: unknown[] }).flavors, { name: 't1.tpm', id: '9', vcpus: 1, ram_mb: 2048, disk_gb: 20, extra_specs: { 'hw:tpm_version': '2.0' } }] } as typeof sc);
    const refused = await hostmaint(['drain', 'compute-01', ...cloud.args, '--yes', '--state-dir', dir, '-f', 'json'], cloud.env);
    assert.equal(refused.code, 3, refused.stderr);
    const blocked = refused.json<PlanJson>().preflight.instances.filter((i) => i.class === 'blocked').map((i) => i.name);
    assert.deepEqual(blocked, ['tpm-2'], 'only the one whose owner said nothing');
    assert.match(refused.stdout + refused.stderr, /hostmaint:policy=cold/, 'the remedy names the owner policy');
    const r = await hostmaint(['drain', 'compute-01', ...cloud.args, '--yes', '--state-dir', dir, '--skip-blocked', '--poll-interval', '200ms'], cloud.env);
    assert.equal(r.code, 4, r.stderr);
    assert.notEqual(cloud.emu.state.server('tpm-1')!.host, 'compute-01');
    assert.equal(cloud.emu.state.server('tpm-1')!.status, 'ACTIVE');
    assert.deepEqual(actions('tpm-1'), ['migrate', 'confirmResize']);
    assert.equal(cloud.emu.state.server('tpm-2')!.host, 'compute-01', 'left (--skip-blocked)');
  });

  it('list flags take one word (comma-separated): a host after them is the host, not a list item', async () => {
    const r = await hostmaint(['plan', '--on-timeout', 'force-complete,abort', '--instance-policies', 'live,cold', 'compute-01', ...cloud.args, '--state-dir', dir, '-f', 'json'], cloud.env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json<{ host: string }>().host, 'compute-01');
  });

  it('an unknown policy in --instance-policies is exit 2 before the cloud is asked', async () => {
    const r = await hostmaint(['drain', 'compute-01', '--os-cloud', 'demo', '--instance-policies', 'live,skip', '--yes']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /instance-policies[\s\S]*"skip" is not allowed[\s\S]*live, cold, stop/);
  });
});
