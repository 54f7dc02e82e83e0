import assert from 'node:assert/strict';
import { startEmulator, VirtualClock } from '../../src/emulator/index.js';
import type { Emulator, Scenario } from '../../src/emulator/index.js';
import { C, P, client, liveMigrate, serverId, until } from './helpers.js';
import type { Client } from './helpers.js';

const GiB = 1024 * 1024 * 1024;

const scenario: Scenario = {
  name: 'migration',
  migration: { bandwidth_mbps: 1000, dirty_rate_mbps: 100, schedule_ms: 200, preparing_ms: 1000, post_migrating_ms: 1000, cold_migration_ms: 3000, confirm_ms: 500 },
  defaults: { host: { vcpus: 16, ram_mb: 32768, disk_gb: 1000, reserved_host_memory_mb: 0 } },
  hosts: [{ name: 'compute-01', ram_mb: 65536 }, { name: 'compute-02' }, { name: 'compute-03' }],
  flavors: [
    { name: 'm1.small', id: '2', vcpus: 1, ram_mb: 2048, disk_gb: 20 },
    { name: 'm1.large', id: '4', vcpus: 4, ram_mb: 8192, disk_gb: 80 },
    { name: 'm1.huge', id: '9', vcpus: 8, ram_mb: 31744, disk_gb: 100 },
  ],
  projects: [{ name: 'alpha', users: [{ name: 'alice', password: 'pw' }] }],
  server_groups: [{ name: 'anti', policy: 'anti-affinity', project: 'alpha' }],
  instances: [
    { name: 'web-1', project: 'alpha', flavor: 'm1.large', host: 'compute-01' },
    { name: 'web-2', project: 'alpha', flavor: 'm1.small', host: 'compute-01' },
    { name: 'huge', project: 'alpha', flavor: 'm1.huge', host: 'compute-01' },
    { name: 'off', project: 'alpha', flavor: 'm1.small', host: 'compute-01', state: 'SHUTOFF' },
    { name: 'paused', project: 'alpha', flavor: 'm1.small', host: 'compute-01', state: 'PAUSED' },
    { name: 'locked', project: 'alpha', flavor: 'm1.small', host: 'compute-01', locked: true },
    { name: 'g-1', project: 'alpha', flavor: 'm1.small', host: 'compute-01', server_group: 'anti' },
    { name: 'g-2', project: 'alpha', flavor: 'm1.small', host: 'compute-02', server_group: 'anti' },
    { name: 'filler', project: 'alpha', flavor: 'm1.large', host: 'compute-03' },
  ],
};

describe('emulator: live and cold migration', () => {
  let emu: Emulator;
  let clock: VirtualClock;
  let c: Client;
  beforeEach(async () => {
    clock = new VirtualClock();
    emu = await startEmulator({ scenario, clock });
    c = await client(emu);
  });
  afterEach(() => emu.stop());

  before(async () => {
    // Warm up the JIT and the HTTP stack so the real-time assertion below measures the emulator, not start-up.
    const warm = await startEmulator({ scenario, clock: new VirtualClock() });
    const wc = await client(warm);
    for (let i = 0; i < 30; i++) await wc.get(`${C}/os-migrations?instance_uuid=x`);
    await warm.stop();
  });

  const migrations = async (id: string) => (await c.get(`${C}/servers/${id}/migrations`)).body.migrations as any[];
  const server = async (id: string) => (await c.get(`${C}/servers/${id}`)).body.server;
  const osMigration = async (id: string) => (await c.get(`${C}/os-migrations?instance_uuid=${id}`)).body.migrations[0];

  it('drives a live migration accepted -> queued -> preparing -> running -> post-migrating -> completed in < 1 s of real time', async () => {
    const started = performance.now();
    const id = serverId(emu, 'web-2');
    const r = await c.post(`${C}/servers/${id}/action`, liveMigrate());
    assert.equal(r.status, 202);
    assert.equal(r.body, null);
    const statuses: string[] = [(await osMigration(id)).status];
    const processed: number[] = [];
    let last: any;
    let seenHostChangeBeforeCompleted = false;
    for (let i = 0; i < 200; i++) {
      await clock.sleep(300);
      const m = await osMigration(id);
      if (statuses[statuses.length - 1] !== m.status) statuses.push(m.status);
      if (m.status === 'running') {
        const live = await migrations(id);
        if (live[0]?.status === 'running') processed.push(live[0].memory_processed_bytes);
      }
      const s = await server(id);
      if (m.status === 'post-migrating' && s['OS-EXT-SRV-ATTR:host'] !== 'compute-01') seenHostChangeBeforeCompleted = true;
      if (m.status !== 'completed') assert.equal(s.status === 'MIGRATING' || s['OS-EXT-SRV-ATTR:host'] !== 'compute-01', true);
      last = { m, s };
      if (m.status === 'completed') break;
    }
    assert.deepEqual(statuses, ['accepted', 'preparing', 'running', 'post-migrating', 'completed']);
    assert.ok(processed.length >= 4, `progress samples: ${processed.length}`);
    for (let i = 1; i < processed.length; i++) assert.ok(processed[i]! > processed[i - 1]!, 'memory_processed_bytes rises');
    assert.ok(seenHostChangeBeforeCompleted, 'the host changes during post-migrating, before completed');
    assert.equal(last.s.status, 'ACTIVE');
    assert.notEqual(last.s['OS-EXT-SRV-ATTR:host'], 'compute-01');
    assert.equal(last.s['OS-EXT-STS:task_state'], null);
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 1000, `took ${elapsed.toFixed(0)} ms of real time`);
    // queued is passed through when a slot is free (visible in the second migration test)
    const action = (await c.get(`${C}/servers/${id}/os-instance-actions/${r.requestId}`)).body.instanceAction;
    assert.equal(action.action, 'live-migration');
    assert.equal(action.request_id, r.requestId);
    const events = action.events.map((e: any) => `${e.event}:${e.result}`);
    assert.ok(events.includes('conductor_live_migrate_instance:Success'));
    assert.ok(events.includes('compute_live_migration:Success'));
  });

  it('reports progress bytes from the flavor RAM and the modelled bandwidth', async () => {
    const id = serverId(emu, 'web-1');
    await c.post(`${C}/servers/${id}/action`, liveMigrate('compute-02'));
    const running = await until(emu, async () => (await migrations(id)).find((m) => m.status === 'running'), { everyMs: 100 });
    assert.equal(running.memory_total_bytes, 8 * GiB);
    assert.equal(running.memory_processed_bytes + running.memory_remaining_bytes >= 8 * GiB - 1, true);
    assert.equal(running.dest_compute, 'compute-02');
    assert.equal(running.source_compute, 'compute-01');
    assert.match(running.uuid, /^[0-9a-f-]{36}$/);
    await clock.sleep(1000);
    const later = (await migrations(id))[0];
    // 1000 MB/s for 1 s
    assert.equal(later.memory_processed_bytes - running.memory_processed_bytes, 1000 * 1024 * 1024);
    // remaining shrinks by bandwidth - dirty rate
    assert.equal(running.memory_remaining_bytes - later.memory_remaining_bytes, 900 * 1024 * 1024);
    const one = await c.get(`${C}/servers/${id}/migrations/${later.id}`);
    assert.equal(one.body.migration.status, 'running');
  });

  it('max_concurrent_live_migrations=1: the second migration from the same source is queued', async () => {
    const a = serverId(emu, 'web-1');
    const b = serverId(emu, 'web-2');
    await c.post(`${C}/servers/${a}/action`, liveMigrate());
    await c.post(`${C}/servers/${b}/action`, liveMigrate());
    await clock.sleep(300);
    assert.equal((await osMigration(a)).status, 'preparing');
    assert.equal((await osMigration(b)).status, 'queued');
    assert.equal((await migrations(b))[0].status, 'queued');
    assert.equal(emu.state.host('compute-01')!.queuedMigrations, 1);
    await until(emu, async () => (await osMigration(a)).status === 'completed');
    await until(emu, async () => ['preparing', 'running'].includes((await osMigration(b)).status), { everyMs: 50 });
    await until(emu, async () => (await osMigration(b)).status === 'completed');
  });

  it('NoValidHost after 202: migration error, server ACTIVE on the source, instance action details (2.84+)', async () => {
    const id = serverId(emu, 'huge');
    const r = await c.post(`${C}/servers/${id}/action`, liveMigrate());
    assert.equal(r.status, 202);
    assert.equal((await server(id)).status, 'MIGRATING');
    await clock.sleep(500);
    const m = await osMigration(id);
    assert.equal(m.status, 'error');
    const s = await server(id);
    assert.equal(s.status, 'ACTIVE');
    assert.equal(s['OS-EXT-SRV-ATTR:host'], 'compute-01');
    const action = (await c.get(`${C}/servers/${id}/os-instance-actions/${r.requestId}`)).body.instanceAction;
    const ev = action.events.find((e: any) => e.event === 'conductor_live_migrate_instance');
    assert.equal(ev.result, 'Error');
    assert.equal(ev.details, 'No valid host was found. ');
    const old = (await c.get(`${C}/servers/${id}/os-instance-actions/${r.requestId}`, { 'openstack-api-version': 'compute 2.83' })).body.instanceAction;
    assert.equal(old.events[0].details, undefined);
    assert.deepEqual(Object.keys(emu.state.allocations(id)), [emu.state.host('compute-01')!.providerUuid]);
  });

  it('before 2.34 the pre-checks are synchronous: NoValidHost is a 400', async () => {
    const id = serverId(emu, 'huge');
    const r = await c.post(`${C}/servers/${id}/action`, { 'os-migrateLive': { host: null, block_migration: false, disk_over_commit: false } }, { 'openstack-api-version': 'compute 2.24' });
    assert.equal(r.status, 400);
    assert.match(r.body.badRequest.message, /No valid host was found/);
  });

  it('409 for a stopped server; 409 for a locked server as non-admin, admin may', async () => {
    const off = serverId(emu, 'off');
    const r = await c.post(`${C}/servers/${off}/action`, liveMigrate());
    assert.equal(r.status, 409);
    assert.deepEqual(r.body, { conflictingRequest: { code: 409, message: `Cannot 'os-migrateLive' instance ${off} while it is in vm_state stopped` } });
    const locked = serverId(emu, 'locked');
    const member = await startEmulator({ scenario: { ...scenario, nova: { members_can_migrate: true } }, clock });
    try {
      const alice = await client(member, { username: 'alice', password: 'pw', project: 'alpha' });
      const lockedId = serverId(member, 'locked');
      const denied = await alice.post(`${C}/servers/${lockedId}/action`, liveMigrate());
      assert.equal(denied.status, 409);
      assert.equal(denied.body.conflictingRequest.message, `Instance ${lockedId} is locked`);
    } finally {
      await member.stop();
    }
    const alice = await client(emu, { username: 'alice', password: 'pw', project: 'alpha' });
    assert.equal((await alice.post(`${C}/servers/${locked}/action`, liveMigrate())).status, 403, 'live migration is admin-only by default');
    assert.equal((await c.post(`${C}/servers/${locked}/action`, liveMigrate())).status, 202, 'admin overrides the lock');
    // busy task_state
    const again = await c.post(`${C}/servers/${locked}/action`, liveMigrate());
    assert.equal(again.status, 409);
    assert.match(again.body.conflictingRequest.message, /task_state migrating/);
    // unknown host
    const web = serverId(emu, 'web-2');
    const bad = await c.post(`${C}/servers/${web}/action`, liveMigrate('compute-99'));
    assert.equal(bad.status, 400);
    assert.equal(bad.body.badRequest.message, 'Compute host compute-99 could not be found.');
  });

  it('live-migrates a PAUSED server and keeps it PAUSED', async () => {
    const id = serverId(emu, 'paused');
    await c.post(`${C}/servers/${id}/action`, liveMigrate());
    assert.equal((await server(id)).status, 'MIGRATING');
    await until(emu, async () => (await osMigration(id)).status === 'completed');
    const s = await server(id);
    assert.equal(s.status, 'PAUSED');
    assert.notEqual(s['OS-EXT-SRV-ATTR:host'], 'compute-01');
  });

  it('requested host is validated by the scheduler (disabled host -> error)', async () => {
    const svc = (await c.get(`${C}/os-services?binary=nova-compute&host=compute-02`)).body.services[0];
    await c.put(`${C}/os-services/${svc.id}`, { status: 'disabled', disabled_reason: 'x' });
    const id = serverId(emu, 'web-2');
    await c.post(`${C}/servers/${id}/action`, liveMigrate('compute-02'));
    await clock.sleep(500);
    assert.equal((await osMigration(id)).status, 'error');
    // the scheduler's own choice skips the disabled host
    await c.post(`${C}/servers/${id}/action`, liveMigrate());
    await until(emu, async () => (await osMigration(id)).status === 'completed');
    assert.equal(emu.state.server(id)!.host, 'compute-03');
  });

  it('respects anti-affinity: g-1 cannot go where g-2 is', async () => {
    const id = serverId(emu, 'g-1');
    const r = await c.post(`${C}/servers/${id}/action`, liveMigrate('compute-02'));
    assert.equal(r.status, 202);
    await clock.sleep(500);
    assert.equal((await osMigration(id)).status, 'error');
    await c.post(`${C}/servers/${id}/action`, liveMigrate());
    await until(emu, async () => (await osMigration(id)).status === 'completed');
    assert.equal(emu.state.server(id)!.host, 'compute-03');
  });

  it('allocations: during the move the migration holds the source and the instance the destination', async () => {
    const id = serverId(emu, 'web-1');
    const src = emu.state.host('compute-01')!.providerUuid;
    const dst = emu.state.host('compute-02')!.providerUuid;
    const usedBefore = (await c.get(`${P}/resource_providers/${dst}/usages`)).body.usages.MEMORY_MB;
    await c.post(`${C}/servers/${id}/action`, liveMigrate('compute-02'));
    const running = await until(emu, async () => (await migrations(id)).find((m) => m.status === 'running'), { everyMs: 100 });
    const inst = await c.get(`${P}/allocations/${id}`);
    assert.deepEqual(Object.keys(inst.body.allocations), [dst]);
    assert.deepEqual(inst.body.allocations[dst].resources, { VCPU: 4, MEMORY_MB: 8192, DISK_GB: 80 });
    const mig = await c.get(`${P}/allocations/${running.uuid}`);
    assert.deepEqual(Object.keys(mig.body.allocations), [src]);
    assert.equal(mig.body.consumer_type, 'MIGRATION');
    const srcAllocs = (await c.get(`${P}/resource_providers/${src}/allocations`)).body.allocations;
    assert.ok(srcAllocs[running.uuid] && !srcAllocs[id]);
    assert.equal((await c.get(`${P}/resource_providers/${dst}/usages`)).body.usages.MEMORY_MB, usedBefore + 8192);
    await until(emu, async () => (await osMigration(id)).status === 'completed');
    assert.deepEqual((await c.get(`${P}/allocations/${running.uuid}`)).body.allocations, {});
    assert.deepEqual(Object.keys((await c.get(`${P}/allocations/${id}`)).body.allocations), [dst]);
    assert.ok(!(id in (await c.get(`${P}/resource_providers/${src}/allocations`)).body.allocations));
  });

  it('abort: running (2.24+) and queued (2.65+) end cancelled, server stays on the source', async () => {
    const a = serverId(emu, 'web-1');
    const b = serverId(emu, 'web-2');
    await c.post(`${C}/servers/${a}/action`, liveMigrate());
    await c.post(`${C}/servers/${b}/action`, liveMigrate());
    await clock.sleep(300);
    const queued = (await migrations(b))[0];
    assert.equal(queued.status, 'queued');
    const old = await c.del(`${C}/servers/${b}/migrations/${queued.id}`, { 'openstack-api-version': 'compute 2.64' });
    assert.equal(old.status, 400, 'queued cannot be aborted before 2.65');
    assert.equal((await c.del(`${C}/servers/${b}/migrations/${queued.id}`)).status, 202);
    assert.equal((await osMigration(b)).status, 'cancelled');
    const running = await until(emu, async () => (await migrations(a)).find((m) => m.status === 'running'), { everyMs: 100 });
    assert.equal((await c.del(`${C}/servers/${a}/migrations/${running.id}`, { 'openstack-api-version': 'compute 2.24' })).status, 202);
    await until(emu, async () => (await osMigration(a)).status === 'cancelled', { everyMs: 100 });
    for (const id of [a, b]) {
      const s = await server(id);
      assert.equal(s.status, 'ACTIVE');
      assert.equal(s['OS-EXT-SRV-ATTR:host'], 'compute-01');
      assert.deepEqual(Object.keys(emu.state.allocations(id)), [emu.state.host('compute-01')!.providerUuid]);
    }
    assert.equal((await c.del(`${C}/servers/${a}/migrations/${running.id}`)).status, 409, 'no longer migrating');
    assert.equal((await c.del(`${C}/servers/${a}/migrations/9999`)).status, 409);
  });

  it('force-complete: only while running (400 otherwise); completes promptly', async () => {
    const id = serverId(emu, 'web-1');
    emu.inject({ kind: 'migration-stall', server: 'web-1' });
    await c.post(`${C}/servers/${id}/action`, liveMigrate());
    await clock.sleep(300);
    const preparing = (await migrations(id))[0];
    assert.equal(preparing.status, 'preparing');
    const early = await c.post(`${C}/servers/${id}/migrations/${preparing.id}/action`, { force_complete: null });
    assert.equal(early.status, 400);
    assert.match(early.body.badRequest.message, /Cannot force complete while the migration is in this state/);
    await clock.sleep(1000);
    await clock.sleep(5000);
    assert.equal(preparing.memory_total_bytes, null, 'no figures before the copy starts');
    const stalled = (await migrations(id))[0];
    assert.equal(stalled.status, 'running');
    // what remains swings (each pass re-sends the pages dirtied meanwhile) but never sets a new low
    const seen: number[] = [];
    for (let i = 0; i < 16; i++) {
      await clock.sleep(500);
      seen.push((await migrations(id))[0].memory_remaining_bytes);
    }
    const low = Math.min(stalled.memory_remaining_bytes, ...seen.slice(0, 8));
    assert.ok(Math.max(...seen) > Math.min(...seen), `it swings: ${seen.join(' ')}`);
    assert.ok(Math.min(...seen.slice(8)) >= low, `no lower low later: ${seen.join(' ')}`);
    const t0 = clock.now();
    assert.equal((await c.post(`${C}/servers/${id}/migrations/${stalled.id}/action`, { force_complete: null })).status, 202);
    await until(emu, async () => (await osMigration(id)).status === 'completed', { everyMs: 200 });
    assert.ok(clock.now() - t0 < 10_000, `completed ${clock.now() - t0} ms after force-complete`);
    const done = await c.post(`${C}/servers/${id}/migrations/${stalled.id}/action`, { force_complete: null });
    assert.equal(done.status, 409, 'server no longer migrating');
  });

  it('cold migration of a SHUTOFF server: VERIFY_RESIZE on the new host, confirm -> SHUTOFF, source released', async () => {
    const id = serverId(emu, 'off');
    const r = await c.post(`${C}/servers/${id}/action`, { migrate: null });
    assert.equal(r.status, 202);
    assert.equal((await server(id)).status, 'RESIZE');
    const m0 = await osMigration(id);
    assert.equal(m0.migration_type, 'migration');
    await clock.sleep(3500);
    const s = await server(id);
    assert.equal(s.status, 'VERIFY_RESIZE');
    assert.equal(s['OS-EXT-STS:vm_state'], 'resized');
    assert.notEqual(s['OS-EXT-SRV-ATTR:host'], 'compute-01');
    const m = await osMigration(id);
    assert.equal(m.status, 'finished');
    assert.ok(emu.state.allocations(m.uuid)[emu.state.host('compute-01')!.providerUuid], 'source held by the migration until confirmed');
    assert.equal((await c.get(`${C}/servers/${id}/migrations`)).body.migrations.length, 0, 'server migrations list live ones only');
    const conf = await c.post(`${C}/servers/${id}/action`, { confirmResize: null });
    assert.equal(conf.status, 204);
    await clock.sleep(600);
    const after = await server(id);
    assert.equal(after.status, 'SHUTOFF');
    assert.equal((await osMigration(id)).status, 'confirmed');
    assert.deepEqual(emu.state.allocations(m.uuid), {});
    const again = await c.post(`${C}/servers/${id}/action`, { confirmResize: null });
    assert.equal(again.status, 409);
  });

  it('cold migration of an ACTIVE server to a named host (2.56) ends ACTIVE there', async () => {
    const id = serverId(emu, 'web-2');
    assert.equal((await c.post(`${C}/servers/${id}/action`, { migrate: { host: 'compute-01' } })).status, 400, 'same host');
    assert.equal((await c.post(`${C}/servers/${id}/action`, { migrate: { host: 'compute-03' } })).status, 202);
    await until(emu, async () => (await server(id)).status === 'VERIFY_RESIZE');
    await c.post(`${C}/servers/${id}/action`, { confirmResize: null });
    await until(emu, async () => (await server(id)).status === 'ACTIVE');
    assert.equal(emu.state.server(id)!.host, 'compute-03');
    const paused = serverId(emu, 'paused');
    assert.equal((await c.post(`${C}/servers/${paused}/action`, { migrate: null })).status, 409);
  });

  it('os-migrations filters by host, type and status; pages from 2.59', async () => {
    for (const n of ['web-1', 'web-2']) await c.post(`${C}/servers/${serverId(emu, n)}/action`, liveMigrate());
    await c.post(`${C}/servers/${serverId(emu, 'off')}/action`, { migrate: null });
    await clock.sleep(300);
    const all = await c.get(`${C}/os-migrations?host=compute-01`);
    assert.equal(all.body.migrations.length, 3);
    const live = await c.get(`${C}/os-migrations?host=compute-01&migration_type=live-migration`);
    assert.equal(live.body.migrations.length, 2);
    const queued = await c.get(`${C}/os-migrations?status=queued`);
    assert.equal(queued.body.migrations.length, 1);
    const page = await c.get(`${C}/os-migrations?limit=2`);
    assert.equal(page.body.migrations.length, 2);
    assert.ok(page.body.migrations_links[0].href.includes('marker='));
    const old = await c.get(`${C}/os-migrations`, { 'openstack-api-version': 'compute 2.58' });
    assert.equal(old.body.migrations[0].uuid, undefined);
    const since = await c.get(`${C}/os-migrations?changes-since=${encodeURIComponent(new Date(clock.now() + 1000).toISOString())}`);
    assert.equal(since.body.migrations.length, 0);
  });
});
