/**
 * `hostmaint doctor HOST` through the CLI against an emulated cloud that outlives each command:
 * every finding it knows, set up as operators meet them (a killed drain, a failed migration, a
 * cold migration someone else left, a stuck queue, a stray marker, Placement and Nova out of
 * step), each asserted by exit code, output and what Nova shows; --repair only ever confirms
 * hostmaint's own resize.
 */
import { strict as assert } from 'node:assert';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { hostmaint, tempDir } from './helpers.js';
import { isMigrationStarted, requireBuiltCli, runsScenario, spawnHostmaint, startCloud, whenJournal, type TestCloud } from './runs-helpers.js';

interface DoctorJson {
  findings: Array<{ kind: string; serverId: string | null; name: string | null; fix: string[]; repairable: boolean; evidence: string[] }>;
  repaired: Array<{ kind: string; repaired: string }>;
  exitCode: number;
}

describe('hostmaint doctor (issue 19)', function () {
  this.timeout(120_000);
  let dir: string;
  let cloud: TestCloud | null = null;
  beforeEach(() => {
    dir = tempDir('hm-doctor-');
  });
  afterEach(async () => {
    await cloud?.stop();
    cloud = null;
    rmSync(dir, { recursive: true, force: true });
  });
  const state = () => path.join(dir, 'state');
  const doctor = (host: string, ...extra: string[]) => hostmaint(['doctor', host, ...cloud!.args, '--state-dir', state(), ...extra], cloud!.env);
  const json = async (host: string, ...extra: string[]) => {
    const r = await doctor(host, '-f', 'json', ...extra);
    return { code: r.code, body: r.json<DoctorJson>(), stderr: r.stderr };
  };
  const admin = () => {
    const emu = cloud!.emu;
    return async (method: string, p: string, body?: unknown, svc = { path: '/compute/v2.1', version: 'compute 2.93' }) => {
      const tok = await fetch(`${emu.authUrl}/auth/tokens`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: emu.credentials.username, domain: { name: 'Default' }, password: emu.credentials.password } } }, scope: { project: { name: emu.credentials.projectName, domain: { name: 'Default' } } } } }),
      });
      const token = tok.headers.get('x-subject-token')!;
      const base = emu.authUrl.replace(/\/identity\/v3$|\/v3$/, '');
      const url = `${base}${svc.path}${p}`;
      const r = await fetch(url, { method, headers: { 'content-type': 'application/json', 'x-auth-token': token, 'openstack-api-version': svc.version }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
      return r.status;
    };
  };
  const waitFor = async (what: () => boolean, ms = 20_000) => {
    for (let t = 0; t < ms && !what(); t += 50) await new Promise((r) => setTimeout(r, 50));
    assert.ok(what(), 'timed out');
  };

  it('a healthy host: exit 0, "nothing found", what was read; an unknown host: exit 2 with the close names', async () => {
    cloud = await startCloud(dir, runsScenario());
    const ok = await doctor('compute-01');
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^compute-01: nothing found \(nova-compute enabled, up; read: 5 server\(s\) on the host, 0 migration record\(s\)/);
    const unknown = await doctor('compute-9');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no nova-compute service on a host named 'compute-9'[\s\S]*compute-01/);
    assert.equal(cloud.emu.requests.records.filter((r) => r.method !== 'GET' && !r.path.includes('/auth/tokens')).length, 0, 'doctor wrote to the cloud');
  });

  it('VERIFY_RESIZE left by a killed drain: exit 10 with the confirm command; --repair confirms it (its own), reads back, exit 0', async function () {
    requireBuiltCli.call(this);
    cloud = await startCloud(dir, runsScenario({ instances: [{ name: 'batch-1', project: 'tenant-a', flavor: 'm1.small', host: 'compute-01', state: 'SHUTOFF' }], migration: { cold_migration_ms: 20_000 } }));
    const child = spawnHostmaint(['drain', 'compute-01', ...cloud.args, '--yes', '--state-dir', state(), '--poll-interval', '200ms'], cloud.env);
    await whenJournal(state(), isMigrationStarted);
    child.proc.kill('SIGKILL');
    await child.exited;
    const emu = cloud.emu;
    await waitFor(() => emu.state.server('batch-1')!.status === 'VERIFY_RESIZE');
    const id = emu.state.server('batch-1')!.id;

    const seen = await doctor('compute-01');
    assert.equal(seen.code, 10, seen.stderr);
    assert.match(seen.stdout, /verify-resize: batch-1 \(.*\) waits in VERIFY_RESIZE on compute-0[23]: its cold migration was never confirmed \(a hostmaint run of this state directory requested it\)/);
    assert.match(seen.stdout, new RegExp(`fix: +openstack server resize confirm ${id}`));
    assert.match(seen.stdout, /hostmaint doctor compute-01 --repair/);
    assert.equal(emu.requests.count({ action: 'confirmResize' }), 0, 'diagnosing changes nothing');

    const fixed = await json('compute-01', '--repair');
    assert.equal(fixed.code, 0, fixed.stderr);
    assert.deepEqual(fixed.body.findings, [], 'read back after the repair: nothing left');
    assert.equal(fixed.body.repaired.length, 1);
    assert.match(fixed.body.repaired[0]!.repaired, /^resize confirmed: now SHUTOFF on compute-0[23]$/);
    assert.equal(emu.requests.count({ action: 'confirmResize' }), 1);
    assert.equal(emu.state.server('batch-1')!.status, 'SHUTOFF');
  });

  it('someone else\'s VERIFY_RESIZE is reported, never repaired', async () => {
    cloud = await startCloud(dir, runsScenario({ instances: [{ name: 'batch-1', project: 'tenant-a', flavor: 'm1.small', host: 'compute-01', state: 'SHUTOFF' }] }));
    const id = cloud.emu.state.server('batch-1')!.id;
    assert.equal(await admin()('POST', `/servers/${id}/action`, { migrate: null }), 202);
    await waitFor(() => cloud!.emu.state.server('batch-1')!.status === 'VERIFY_RESIZE');
    const r = await json('compute-01', '--repair');
    assert.equal(r.code, 10);
    assert.deepEqual(r.body.findings.map((f) => [f.kind, f.name, f.repairable]), [['verify-resize', 'batch-1', false]]);
    assert.deepEqual(r.body.repaired, []);
    assert.equal(cloud.emu.requests.count({ action: 'confirmResize' }), 0);
    assert.equal(cloud.emu.state.server('batch-1')!.status, 'VERIFY_RESIZE');
  });

  it('ERROR after a failed live migration: the evidence and the commands (virsh, reset-state, drain again)', async () => {
    cloud = await startCloud(dir, runsScenario({ instances: [{ name: 'web-01', project: 'tenant-a', flavor: 'm1.small', host: 'compute-01' }], faults: [{ kind: 'migration-error', server: 'web-01', count: 5 }] }));
    const drain = await hostmaint(['drain', 'compute-01', ...cloud.args, '--yes', '--state-dir', state(), '--retries', '0', '--poll-interval', '200ms'], cloud.env);
    assert.equal(drain.code, 4, drain.stderr);
    assert.equal(cloud.emu.state.server('web-01')!.status, 'ERROR');
    const r = await doctor('compute-01');
    assert.equal(r.code, 10);
    assert.match(r.stdout, /error-after-migration: web-01 \(.*\) is in ERROR on compute-01 after its migration \d+ error/);
    assert.match(r.stdout, /virsh list --all +# on compute-01 and compute-0[23]/);
    assert.match(r.stdout, /openstack server set --state active /);
  });

  it('a live migration queued longer than --stuck-after: abort command with the migration id', async () => {
    cloud = await startCloud(dir, runsScenario({ instances: [{ name: 'web-{i}', count: 2, project: 'tenant-a', flavor: 'm1.small', host: 'compute-01' }], faults: [{ kind: 'migration-stall', server: 'web-01' }] }));
    const call = admin();
    for (const n of ['web-01', 'web-02']) assert.equal(await call('POST', `/servers/${cloud.emu.state.server(n)!.id}/action`, { 'os-migrateLive': { host: null, block_migration: 'auto' } }), 202);
    await waitFor(() => cloud!.emu.state.migrations({ serverId: cloud!.emu.state.server('web-02')!.id })[0]?.status === 'queued');
    await new Promise((r) => setTimeout(r, 1500));
    const r = await json('compute-01', '--stuck-after', '1s');
    assert.equal(r.code, 10, r.stderr);
    const stuck = r.body.findings.filter((f) => f.kind === 'stuck-migration');
    assert.deepEqual(stuck.map((f) => f.name), ['web-02'], 'the queued one (web-1 runs, stalled)');
    const mig = cloud.emu.state.migrations({ serverId: cloud.emu.state.server('web-02')!.id })[0]!;
    assert.match(stuck[0]!.fix[0]!, new RegExp(`^nova live-migration-abort ${stuck[0]!.serverId} ${mig.id}`));
  });

  it('a hostmaint marker no saved run explains; a run of this state directory explains its own', async () => {
    cloud = await startCloud(dir, runsScenario({ instances: [] }));
    const svc = cloud.emu.state.host('compute-02')!;
    assert.equal(await admin()('PUT', `/os-services/${svc.serviceId}`, { status: 'disabled', disabled_reason: 'hostmaint:20261201T101500Z-beef: kernel (by bob@jump-2)' }), 200);
    const r = await doctor('compute-02');
    assert.equal(r.code, 10);
    assert.match(r.stdout, /unexplained-marker: nova-compute on compute-02 is disabled by hostmaint run 20261201T101500Z-beef, which no saved run in this state directory explains/);
    assert.match(r.stdout, /hostmaint undrain compute-02 --force/);
    const drained = await hostmaint(['drain', 'compute-03', ...cloud.args, '--yes', '--state-dir', state()], cloud.env);
    assert.equal(drained.code, 0, drained.stderr);
    const own = await doctor('compute-03');
    assert.equal(own.code, 0, own.stdout);
  });

  it('Nova and Placement out of step: a server not where its last migration put it; a consumer holding two providers', async () => {
    cloud = await startCloud(dir, runsScenario({ instances: [{ name: 'web-{i}', count: 2, project: 'tenant-a', flavor: 'm1.small', host: 'compute-01' }] }));
    const drain = await hostmaint(['drain', 'compute-01', ...cloud.args, '--yes', '--state-dir', state(), '--target', 'compute-02', '--poll-interval', '200ms'], cloud.env);
    assert.equal(drain.code, 0, drain.stderr);
    assert.equal((await doctor('compute-02')).code, 0, 'a clean drain leaves nothing to find');
    // web-02 moves on, compute-02 -> compute-03: a migration compute-01 never saw; not a mismatch.
    const web02 = cloud.emu.state.server('web-02')!.id;
    assert.equal(await admin()('POST', `/servers/${web02}/action`, { 'os-migrateLive': { host: 'compute-03', block_migration: 'auto' } }), 202);
    await waitFor(() => cloud!.emu.state.server('web-02')!.host === 'compute-03' && cloud!.emu.state.server('web-02')!.status === 'ACTIVE');
    const moved = await doctor('compute-01');
    assert.equal(moved.code, 0, moved.stdout);
    const model = cloud.emu.state.cloud;
    // web-01: Nova's record says compute-02, the database says compute-03 (a lost update).
    const web1 = model.nova.servers.byId.get(cloud.emu.state.server('web-01')!.id)!;
    model.nova.servers.setHost(web1, model.hosts.get('compute-03')!);
    // web-02: a stray hold left on compute-01's provider.
    const web2 = cloud.emu.state.server('web-02')!.id;
    const alloc = model.nova.placement;
    const c1 = cloud.emu.state.host('compute-01')!.providerUuid;
    const res = { ...alloc.consumers.get(web2)!.byRp.values().next().value! };
    alloc.consumers.get(web2)!.byRp.set(c1, res);
    alloc.byProvider.get(c1)!.set(web2, res);

    const r = await json('compute-01');
    assert.equal(r.code, 10, r.stderr);
    const kinds = r.body.findings.map((f) => `${f.kind}:${f.name ?? f.serverId}`).sort();
    assert.deepEqual(kinds, ['host-mismatch:web-01', `split-allocations:${web2}`]);
    const split = r.body.findings.find((f) => f.kind === 'split-allocations')!;
    assert.equal(split.evidence.length, 2, 'both providers with their resources');
    assert.match(split.fix.join('\n'), new RegExp(`allocation unset --provider ${c1} ${web2}`));
    const mismatch = r.body.findings.find((f) => f.kind === 'host-mismatch')!;
    assert.match(mismatch.evidence.join('\n'), /live-migration\): completed, compute-01 -> compute-02[\s\S]*on compute-03/);
  });

  it("a hold left by hostmaint's own migration: --repair releases it with the consumer generation (its own state directory only); another state directory only reports it", async () => {
    cloud = await startCloud(dir, runsScenario({ instances: [{ name: 'web-{i}', count: 2, project: 'tenant-a', flavor: 'm1.small', host: 'compute-01' }] }));
    const drain = await hostmaint(['drain', 'compute-01', ...cloud.args, '--yes', '--state-dir', state(), '--target', 'compute-02', '--poll-interval', '200ms'], cloud.env);
    assert.equal(drain.code, 0, drain.stderr);
    // web-01's completed migration still holds its source's resources (a lost cleanup), and a bit of the target's.
    const model = cloud.emu.state.cloud;
    const alloc = model.nova.placement;
    const web1 = cloud.emu.state.server('web-01')!.id;
    const mig = cloud.emu.state.migrations({ serverId: web1 })[0]!;
    const c1 = cloud.emu.state.host('compute-01')!.providerUuid;
    const c2 = cloud.emu.state.host('compute-02')!.providerUuid;
    const inst = alloc.consumers.get(web1)!;
    const res = { ...inst.byRp.values().next().value! };
    alloc.consumers.set(mig.uuid, { projectId: inst.projectId, userId: inst.userId, generation: 3, consumerType: 'MIGRATION', byRp: new Map([[c1, res], [c2, { ...res }]]) });
    alloc.byProvider.get(c1)!.set(mig.uuid, res);
    alloc.byProvider.get(c2)!.set(mig.uuid, { ...res });

    const other = await hostmaint(['doctor', 'compute-01', ...cloud.args, '--state-dir', path.join(dir, 'elsewhere'), '--repair', '-f', 'json'], cloud.env);
    assert.equal(other.code, 10, other.stderr);
    assert.ok(alloc.consumers.has(mig.uuid), 'another state directory never releases it');
    const found = (JSON.parse(other.stdout) as { findings: Array<{ kind: string; repairable: boolean; consumer?: string }> }).findings;
    // (The drain's marker is another state directory's too: unexplained there.)
    assert.deepEqual(found.filter((f) => f.kind === 'split-allocations').map((f) => [f.repairable, f.consumer]), [[false, mig.uuid]]);

    const r = await json('compute-01', '--repair');
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!alloc.consumers.has(mig.uuid), 'released');
    assert.ok(!alloc.byProvider.get(c1)!.has(mig.uuid) && !alloc.byProvider.get(c2)!.has(mig.uuid));
    assert.ok(alloc.consumers.has(web1), "the server's own allocation is untouched");
    const put = cloud.emu.requests.records.filter((q) => q.method === 'PUT' && q.path.endsWith(`/allocations/${mig.uuid}`));
    assert.equal(put.length, 1, 'one release request');
  });

  it("the emulated Placement releases a consumer only with its current generation (409 otherwise), as Placement does", async () => {
    cloud = await startCloud(dir, runsScenario({ instances: [{ name: 'web-{i}', count: 1, project: 'tenant-a', flavor: 'm1.small', host: 'compute-01' }] }));
    const model = cloud.emu.state.cloud;
    const alloc = model.nova.placement;
    const web = cloud.emu.state.server('web-01')!.id;
    const gen = alloc.consumers.get(web)!.generation;
    const put = (g: number) => admin()('PUT', `/allocations/${web}`, { allocations: {}, consumer_generation: g, project_id: 'p', user_id: 'u' }, { path: '/placement', version: 'placement 1.28' });
    assert.equal(await put(gen + 1), 409, 'a stale generation is refused');
    assert.ok(alloc.consumers.has(web));
    assert.equal(await put(gen), 204, 'the generation just read releases it');
    assert.ok(!alloc.consumers.has(web));
  });
});
