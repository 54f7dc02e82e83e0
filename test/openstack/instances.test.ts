/**
 * Issue 19 on the real OpenStack lab (fake-driver computes): server groups kept apart while
 * moving, the owners' hostmaint:policy within --instance-policies, a flavor's extra specs (a vGPU,
 * on a child resource provider of the source, as Nova's libvirt driver makes for mediated
 * devices), and --max-incoming. What is
 * asserted is what Nova says afterwards: its migration records (type, created_at, updated_at,
 * dest_compute), its instance actions, and where each server is.
 */
import { strict as assert } from 'node:assert';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { cleanUpAfterDrains, createLabCloud, enableAllComputes } from '../contract/lab-cloud.js';
import type { CloudUnderTest } from '../contract/cloud-under-test.js';
import type { Migration } from '../../src/openstack/types.js';
import { acquireLabLock, requireLab, type LabInfo } from './lab.js';
import { hostmaint, tempDir } from '../cli/helpers.js';

/** The [created, updated] interval of a finished migration, in ms. */
function span(m: Migration): [number, number] {
  const t = (s: string | null) => Date.parse(`${s}${s && !/Z|[+-]\d\d:?\d\d$/.test(s) ? 'Z' : ''}`);
  return [t(m.createdAt), t(m.updatedAt)];
}
function overlap(a: Migration, b: Migration): boolean {
  const [a0, a1] = span(a);
  const [b0, b1] = span(b);
  return a0 < b1 && b0 < a1;
}

describe('issue 19 on the real OpenStack lab: groups, owner policies, --max-incoming', function () {
  this.timeout(900_000);
  let lab: LabInfo;
  let cloud: CloudUnderTest;
  let stateDir: string;
  const created: string[] = [];
  const groups: string[] = [];
  /** Undone in order after a case (servers before the flavor and provider they use). */
  const cleanups: Array<() => Promise<unknown>> = [];
  let env: NodeJS.ProcessEnv;
  let releaseLock: (() => void) | null = null;

  before(async function () {
    lab = requireLab(this);
    releaseLock = await acquireLabLock('instances');
    cloud = await createLabCloud(lab);
    stateDir = tempDir('hm-lab-');
    env = { OS_CLIENT_CONFIG_FILE: lab.cloudsYaml, HOME: stateDir };
    await enableAllComputes(cloud);
  });

  after(async () => {
    if (!cloud) {
      releaseLock?.();
      return;
    }
    for (const c of cleanups.splice(0)) await c().catch(() => undefined);
    await cleanUpAfterDrains(cloud, created);
    for (const g of groups) await cloud.admin.request({ method: 'DELETE', path: `/os-server-groups/${g}` }).catch(() => undefined);
    await cloud.close?.();
    rmSync(stateDir, { recursive: true, force: true });
    releaseLock?.();
  });

  async function boot(name: string, host: string, o: { metadata?: Record<string, string>; group?: string } = {}): Promise<string> {
    const id = await cloud.bootServer({ name, host, flavor: 'm1.tiny', ...o });
    created.push(id);
    return id;
  }
  const migrationsOf = async (id: string) => (await cloud.session.compute.listMigrations({ instanceUuid: id })).filter((m) => m.serverId === id);
  const undrain = async (host: string) => {
    const u = await hostmaint(['undrain', host, '--os-cloud', 'lab', '--yes', '--state-dir', stateDir], env);
    assert.equal(u.code, 0, `${u.stdout}\n${u.stderr}`);
  };

  it('members of a soft-anti-affinity group on the host are moved one at a time (Nova bug 1821755), the others alongside', async () => {
    const src = cloud.computes[0]!;
    const g = await cloud.admin.request<{ server_group: { id: string } }>({ method: 'POST', path: '/os-server-groups', body: { server_group: { name: 'hm-lab-web', policy: 'soft-anti-affinity' } } });
    const group = g.data.server_group.id;
    groups.push(group);
    const members = await Promise.all([boot('hm-lab-web-1', src, { group }), boot('hm-lab-web-2', src, { group }), boot('hm-lab-web-3', src, { group })]);
    const solo = await boot('hm-lab-solo', src);
    const events = path.join(stateDir, 'groups.ndjson');
    const r = await hostmaint(['drain', src, '--os-cloud', 'lab', '--yes', '--state-dir', stateDir, '--concurrency', '4', '--poll-interval', '1s', '--events', `ndjson=${events}`], env);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const migs = (await Promise.all(members.map(migrationsOf))).map((ms) => ms.filter((m) => m.migrationType === 'live-migration' && m.status === 'completed'));
    for (const ms of migs) assert.equal(ms.length, 1, 'each member moved once');
    const [a, b, c] = migs.map((ms) => ms[0]!);
    for (const [x, y] of [[a!, b!], [a!, c!], [b!, c!]] as const) assert.ok(!overlap(x, y), `members moved at once: ${JSON.stringify([x, y].map(span))}`);
    const soloMig = (await migrationsOf(solo)).find((m) => m.status === 'completed')!;
    assert.ok([a!, b!, c!].some((m) => overlap(m, soloMig)), 'the instance outside the group moved alongside a member');
    for (const id of [...members, solo]) assert.notEqual((await cloud.session.compute.getServer(id)).host, src);
    const waits = readFileSync(events, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.type === 'instance-waiting' && e.waitingFor === 'group');
    assert.ok(waits.length >= 2, 'the held members said why');
    await undrain(src);
  });

  it('owners choose within --instance-policies: cold (Nova migrate of a running server), stop (stop, migrate, confirm, start), unset (live); all ACTIVE elsewhere', async () => {
    const src = cloud.computes[0]!;
    const live = await boot('hm-lab-pol-live', src);
    const cold = await boot('hm-lab-pol-cold', src, { metadata: { 'hostmaint:policy': 'cold' } });
    const stop = await boot('hm-lab-pol-stop', src, { metadata: { 'hostmaint:policy': 'stop' } });
    const plan = await hostmaint(['plan', src, '--os-cloud', 'lab', '--state-dir', stateDir, '--instance-policies', 'live,cold,stop', '-f', 'json'], env);
    assert.equal(plan.code, 0, `${plan.stdout}\n${plan.stderr}`);
    const policies = new Map(plan.json<{ preflight: { instances: Array<{ serverId: string; policy: { value: string; source: string } }> } }>().preflight.instances.map((i) => [i.serverId, i.policy]));
    assert.deepEqual([policies.get(live), policies.get(cold), policies.get(stop)], [{ value: 'live', source: 'default' }, { value: 'cold', source: 'owner' }, { value: 'stop', source: 'owner' }]);
    const r = await hostmaint(['drain', src, '--os-cloud', 'lab', '--yes', '--state-dir', stateDir, '--instance-policies', 'live,cold,stop', '--poll-interval', '1s'], env);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    for (const id of [live, cold, stop]) {
      const s = await cloud.session.compute.getServer(id);
      assert.notEqual(s.host, src, `${s.name} left`);
      assert.equal(s.status, 'ACTIVE', `${s.name} is ACTIVE again`);
    }
    const types = async (id: string) => (await migrationsOf(id)).map((m) => `${m.migrationType}:${m.status}`);
    assert.deepEqual(await types(live), ['live-migration:completed']);
    assert.deepEqual(await types(cold), ['migration:confirmed']);
    assert.deepEqual(await types(stop), ['migration:confirmed']);
    // Nova's own record of what was done to the stop one, oldest first.
    const actions = await cloud.session.compute.listInstanceActions(stop);
    const done = [...actions].sort((x, y) => String(x.startTime).localeCompare(String(y.startTime))).map((x) => x.action);
    assert.deepEqual(done.filter((x) => x !== 'create'), ['stop', 'migrate', 'confirmResize', 'start'], JSON.stringify(done));
    await undrain(src);
  });

  it('a vGPU flavor (resources:VGPU, inventory on a child provider of the source) refuses the drain: exit 3, every such instance named, nothing changed', async () => {
    const src = cloud.computes[0]!;
    const placement = cloud.placementAdmin!;
    const [hyp] = await cloud.session.compute.findHypervisors(src);
    const [root] = await cloud.session.placement.listProviders({ name: hyp!.hostname });
    // A child provider with VGPU inventory, as Nova's libvirt driver makes for mediated devices.
    const child = await placement.request<{ uuid: string; generation: number }>({ method: 'POST', path: '/resource_providers', body: { name: `hm-lab-vgpu-${src}`, parent_provider_uuid: root!.uuid } });
    const rpUuid = child.data.uuid;
    cleanups.push(() => placement.request({ method: 'DELETE', path: `/resource_providers/${rpUuid}` }));
    await placement.request({ method: 'PUT', path: `/resource_providers/${rpUuid}/inventories`, body: { resource_provider_generation: child.data.generation, inventories: { VGPU: { total: 4 } } } });
    const f = await cloud.admin.request<{ flavor: { id: string } }>({ method: 'POST', path: '/flavors', body: { flavor: { name: 'hm.vgpu', ram: 512, vcpus: 1, disk: 1 } } });
    const flavor = f.data.flavor.id;
    cleanups.push(() => cloud.admin.request({ method: 'DELETE', path: `/flavors/${flavor}` }));
    await cloud.admin.request({ method: 'POST', path: `/flavors/${flavor}/os-extra_specs`, body: { extra_specs: { 'resources:VGPU': '1' } } });
    const gpus = [];
    for (const name of ['hm-lab-gpu-1', 'hm-lab-gpu-2']) {
      const id = await cloud.bootServer({ name, host: src, flavor: 'hm.vgpu' });
      gpus.push(id);
      cleanups.unshift(() => cloud.deleteServer(id));
    }
    const plain = await boot('hm-lab-plain', src);
    const before = await cloud.session.compute.listServices({ binary: 'nova-compute' });
    const r = await hostmaint(['drain', src, '--os-cloud', 'lab', '--yes', '--state-dir', stateDir, '-f', 'json'], env);
    assert.equal(r.code, 3, `${r.stdout}\n${r.stderr}`);
    const blocking = r.json<{ preflight: { blocking: Array<{ category: string | null; servers: Array<{ id: string }> }> } }>().preflight.blocking;
    const hw = blocking.find((g) => g.category === 'hardware');
    assert.deepEqual(hw?.servers.map((s) => s.id).sort(), [...gpus].sort(), JSON.stringify(blocking));
    assert.match(r.stdout + r.stderr, /vGPU|VGPU/);
    const after = await cloud.session.compute.listServices({ binary: 'nova-compute' });
    assert.deepEqual(after.map((s) => [s.host, s.status, s.disabledReason]), before.map((s) => [s.host, s.status, s.disabledReason]), 'no service changed');
    for (const id of [...gpus, plain]) assert.equal((await cloud.session.compute.getServer(id)).host, src);
    for (const c of cleanups.splice(0)) await c().catch(() => undefined);
  });

  it('--max-incoming 1: never two moves in flight to one destination, by Nova migration records', async () => {
    const src = cloud.computes[0]!;
    const ids = await Promise.all([1, 2, 3, 4].map((i) => boot(`hm-lab-inc-${i}`, src)));
    const r = await hostmaint(['drain', src, '--os-cloud', 'lab', '--yes', '--state-dir', stateDir, '--concurrency', '4', '--max-incoming', '1', '--poll-interval', '1s'], env);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const migs = (await Promise.all(ids.map(migrationsOf))).flat().filter((m) => m.migrationType === 'live-migration' && m.status === 'completed');
    assert.equal(migs.length, 4);
    for (const x of migs) for (const y of migs) if (x !== y && x.destCompute === y.destCompute) assert.ok(!overlap(x, y), `two moves to ${x.destCompute} at once`);
    await undrain(src);
  });
});
