import assert from 'node:assert/strict';
import { startEmulator, VirtualClock } from '../../src/emulator/index.js';
import type { Emulator, Scenario } from '../../src/emulator/index.js';
import { C, client, liveMigrate, serverId, until } from './helpers.js';
import type { Client } from './helpers.js';

const scenario: Scenario = {
  name: 'faults',
  nova: { service_down_time_s: 60, report_interval_s: 10 },
  migration: { bandwidth_mbps: 1000, dirty_rate_mbps: 100, schedule_ms: 200, preparing_ms: 500, post_migrating_ms: 500 },
  defaults: { host: { vcpus: 16, ram_mb: 32768, disk_gb: 1000 } },
  hosts: [{ name: 'compute-01' }, { name: 'compute-02' }, { name: 'compute-03' }],
  instances: [
    { name: 'vm-{i}', count: 4, flavor: 'm1.small', host: 'compute-01' },
    { name: 'hot', flavor: 'm1.small', host: 'compute-01', migration: { dirty_rate_mbps: 5000 } },
  ],
};

describe('emulator: faults', () => {
  let emu: Emulator;
  let clock: VirtualClock;
  let c: Client;
  beforeEach(async () => {
    clock = new VirtualClock();
    emu = await startEmulator({ scenario, clock, seed: 42 });
    c = await client(emu);
  });
  afterEach(() => emu.stop());

  const osMigration = async (id: string) => (await c.get(`${C}/os-migrations?instance_uuid=${id}`)).body.migrations[0];

  it('http-error on named calls: the next 2 os-migrateLive get 503, then they pass', async () => {
    emu.inject({ kind: 'http-error', status: 503, count: 2, match: { method: 'POST', action: 'os-migrateLive' } });
    const id = serverId(emu, 'vm-01');
    const r1 = await c.post(`${C}/servers/${id}/action`, liveMigrate());
    assert.equal(r1.status, 503);
    assert.equal(r1.body.serviceUnavailable.code, 503);
    assert.equal((await c.get(`${C}/servers/${id}`)).status, 200, 'other calls unaffected');
    assert.equal((await c.post(`${C}/servers/${id}/action`, liveMigrate())).status, 503);
    assert.equal((await c.post(`${C}/servers/${id}/action`, liveMigrate())).status, 202);
    assert.equal(emu.requests.count({ action: 'os-migrateLive' }), 3);
    assert.equal(emu.requests.count({ action: 'os-migrateLive', status: 503 }), 2);
    assert.equal(emu.state.migrations({ serverId: id }).length, 1, 'the failed calls had no effect');
  });

  it('http-error with a message: the error body says it, under the status Nova names it by', async () => {
    emu.inject({ kind: 'http-error', status: 409, message: 'Instance vm-01 is locked', count: 1, match: { action: 'os-migrateLive' } });
    const id = serverId(emu, 'vm-01');
    const r = await c.post(`${C}/servers/${id}/action`, liveMigrate());
    assert.equal(r.status, 409);
    assert.deepEqual(r.body, { conflictingRequest: { code: 409, message: 'Instance vm-01 is locked' } });
    assert.equal(emu.state.migrations({ serverId: id }).length, 0, 'before: no effect');
  });

  it('http-error with when=after: the action took effect but the client saw a 500', async () => {
    emu.inject({ kind: 'http-error', status: 500, count: 1, when: 'after', match: { action: 'os-migrateLive' } });
    const id = serverId(emu, 'vm-01');
    assert.equal((await c.post(`${C}/servers/${id}/action`, liveMigrate())).status, 500);
    assert.equal(emu.state.migrations({ serverId: id }).length, 1);
  });

  it('500s on a seeded fraction of requests are deterministic', async () => {
    const run = async (seed: number) => {
      const e = await startEmulator({ scenario, clock: new VirtualClock(), seed, faults: [{ kind: 'http-error', status: 500, probability: 0.3, match: { service: 'compute', method: 'GET' } }] });
      try {
        const cc = await client(e);
        const out: number[] = [];
        for (let i = 0; i < 40; i++) out.push((await cc.get(`${C}/os-services`)).status);
        return out;
      } finally {
        await e.stop();
      }
    };
    const a = await run(7);
    const b = await run(7);
    assert.deepEqual(a, b);
    const fails = a.filter((s) => s === 500).length;
    assert.ok(fails > 3 && fails < 25, `${fails} of 40 failed`);
  });

  it('connection reset (before and after handling)', async () => {
    emu.inject({ kind: 'reset', count: 1, match: { path: '/os-services' } });
    await assert.rejects(fetch(`${emu.url}${C}/os-services`, { headers: { 'x-auth-token': c.token } }));
    assert.equal((await c.get(`${C}/os-services`)).status, 200);
    emu.inject({ kind: 'reset', when: 'after', count: 1, match: { action: 'os-stop' } });
    const id = serverId(emu, 'vm-02');
    await assert.rejects(c.post(`${C}/servers/${id}/action`, { 'os-stop': null }));
    assert.equal(emu.state.server(id)!.taskState, 'powering-off', 'the request took effect: an unknown outcome for the client');
    assert.equal(emu.requests.filter({ action: 'os-stop' })[0]!.status, 0);
  });

  it('slow responses: delay is in the emulator clock and does not block a virtual clock', async () => {
    emu.inject({ kind: 'delay', ms: 30_000, count: 1, match: { path: '/servers/detail' } });
    const t0 = clock.now();
    const r = await c.get(`${C}/servers/detail?all_tenants=1`);
    assert.equal(r.status, 200);
    assert.ok(clock.now() - t0 >= 30_000);
  });

  it('migration-fail (running): rolls back, status failed, ACTIVE on the source, event details', async () => {
    emu.inject({ kind: 'migration-fail', server: 'vm-01', message: 'libvirt: operation failed' });
    const id = serverId(emu, 'vm-01');
    const r = await c.post(`${C}/servers/${id}/action`, liveMigrate());
    const m = await until(emu, async () => {
      const x = await osMigration(id);
      return ['failed', 'completed', 'error'].includes(x.status) ? x : null;
    });
    assert.equal(m.status, 'failed');
    const s = (await c.get(`${C}/servers/${id}`)).body.server;
    assert.equal(s.status, 'ACTIVE');
    assert.equal(s['OS-EXT-SRV-ATTR:host'], 'compute-01');
    const ev = (await c.get(`${C}/servers/${id}/os-instance-actions/${r.requestId}`)).body.instanceAction.events.find((e: any) => e.event === 'compute_live_migration');
    assert.equal(ev.result, 'Error');
    assert.equal(ev.details, 'libvirt: operation failed');
    assert.deepEqual(Object.keys(emu.state.allocations(id)), [emu.state.host('compute-01')!.providerUuid]);
    // only one attempt fails
    await c.post(`${C}/servers/${id}/action`, liveMigrate());
    await until(emu, async () => (await osMigration(id)).status === 'completed');
  });

  it('migration-fail on the Nth attempt and at precheck', async () => {
    emu.inject({ kind: 'migration-fail', attempt: 2, phase: 'precheck', message: 'Migration pre-check error: emulated' });
    const a = serverId(emu, 'vm-01');
    const b = serverId(emu, 'vm-02');
    await c.post(`${C}/servers/${a}/action`, liveMigrate());
    await c.post(`${C}/servers/${b}/action`, liveMigrate());
    await clock.sleep(300);
    assert.notEqual((await osMigration(a)).status, 'error');
    assert.equal((await osMigration(b)).status, 'error');
    assert.equal((await c.get(`${C}/servers/${b}`)).body.server.status, 'ACTIVE');
  });

  it('migration-stall and a scenario dirty rate >= bandwidth: remaining stops shrinking', async () => {
    for (const name of ['hot', 'vm-03']) {
      if (name === 'vm-03') emu.inject({ kind: 'migration-stall', server: 'vm-03' });
      const id = serverId(emu, name);
      await c.post(`${C}/servers/${id}/action`, liveMigrate());
      const running = await until(emu, async () => (await c.get(`${C}/servers/${id}/migrations`)).body.migrations.find((m: any) => m.status === 'running'), { everyMs: 100 });
      await clock.sleep(10_000);
      const a = (await c.get(`${C}/servers/${id}/migrations`)).body.migrations[0];
      await clock.sleep(60_000);
      const b = (await c.get(`${C}/servers/${id}/migrations`)).body.migrations[0];
      assert.equal(b.status, 'running', name);
      assert.equal(b.memory_remaining_bytes, a.memory_remaining_bytes, `${name}: remaining flat`);
      assert.ok(b.memory_processed_bytes > a.memory_processed_bytes, `${name}: still copying`);
      assert.ok(a.memory_remaining_bytes > 0);
      await c.del(`${C}/servers/${id}/migrations/${running.id}`);
      await until(emu, async () => (await osMigration(id)).status === 'cancelled', { everyMs: 100 });
    }
  });

  it('migration-error: the instance ends in ERROR on the source', async () => {
    emu.inject({ kind: 'migration-error', server: 'vm-04' });
    const id = serverId(emu, 'vm-04');
    await c.post(`${C}/servers/${id}/action`, liveMigrate());
    const m = await until(emu, async () => {
      const x = await osMigration(id);
      return x.status === 'error' ? x : null;
    });
    assert.equal(m.status, 'error');
    const s = (await c.get(`${C}/servers/${id}`)).body.server;
    assert.equal(s.status, 'ERROR');
    assert.equal(s['OS-EXT-STS:vm_state'], 'error');
    assert.equal(s['OS-EXT-SRV-ATTR:host'], 'compute-01');
    assert.equal(s.fault.code, 500);
  });

  it('host-down mid-drain: the service reports down after service_down_time; migrations from it freeze', async () => {
    const id = serverId(emu, 'vm-01');
    await c.post(`${C}/servers/${id}/action`, liveMigrate('compute-02'));
    await until(emu, async () => (await osMigration(id)).status === 'running', { everyMs: 100 });
    emu.inject({ kind: 'host-down', host: 'compute-01', in_ms: 100 });
    const svc = async () => (await c.get(`${C}/os-services?binary=nova-compute&host=compute-01`)).body.services[0];
    assert.equal((await svc()).state, 'up');
    await clock.sleep(30_000);
    assert.equal((await svc()).state, 'up', 'not yet: service_down_time is 60 s');
    await clock.sleep(31_000);
    const down = await svc();
    assert.equal(down.state, 'down');
    assert.ok(Date.parse(down.updated_at + 'Z') <= clock.now() - 60_000);
    const hyp = (await c.get(`${C}/os-hypervisors?hypervisor_hostname_pattern=compute-01`)).body.hypervisors[0];
    assert.equal(hyp.state, 'down');
    assert.equal((await c.get(`${C}/servers/${id}`)).body.server.host_status, 'UNKNOWN');
    const a = (await c.get(`${C}/servers/${id}/migrations`)).body.migrations[0];
    await clock.sleep(10_000);
    const b = (await c.get(`${C}/servers/${id}/migrations`)).body.migrations[0];
    assert.equal(b.status, 'running');
    assert.equal(b.memory_processed_bytes, a.memory_processed_bytes, 'frozen');
    // new migrations from a down source fail their pre-checks
    const other = serverId(emu, 'vm-02');
    await c.post(`${C}/servers/${other}/action`, liveMigrate());
    await clock.sleep(500);
    assert.equal((await osMigration(other)).status, 'error');
  });

  it('a down destination is skipped by the scheduler', async () => {
    emu.inject({ kind: 'host-down', host: 'compute-02', immediate: true });
    const id = serverId(emu, 'vm-01');
    await c.post(`${C}/servers/${id}/action`, liveMigrate());
    await until(emu, async () => (await osMigration(id)).status === 'completed');
    assert.equal(emu.state.server(id)!.host, 'compute-03');
  });

  it('revoke-tokens: every token is refused until the client re-authenticates', async () => {
    emu.inject({ kind: 'revoke-tokens' });
    assert.equal((await c.get(`${C}/servers`)).status, 401);
  });

  it('faults through the HTTP admin endpoint', async () => {
    const add = await fetch(`${emu.url}/_emulator/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'http-error', status: 502, count: 1, match: { path: '/os-services' } }),
    });
    assert.equal(add.status, 201);
    assert.equal((await c.get(`${C}/os-services`)).status, 502);
    const bad = await fetch(`${emu.url}/_emulator/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'nope' }) });
    assert.equal(bad.status, 400);
    emu.inject({ kind: 'http-error', status: 500, match: { path: '/os-services' } });
    assert.equal((await fetch(`${emu.url}/_emulator/faults`, { method: 'DELETE' })).status, 204);
    assert.equal((await c.get(`${C}/os-services`)).status, 200);
    const log = (await (await fetch(`${emu.url}/_emulator/requests?path=os-services`)).json()) as any;
    assert.equal(log.requests.length, 2);
    assert.throws(() => emu.inject({ kind: 'delay' } as never), /invalid fault/);
  });

  it('scenario faults apply from the start', async () => {
    const e = await startEmulator({ scenario: { ...scenario, faults: [{ kind: 'http-error', status: 503, count: 1, match: { service: 'compute' } }] }, clock: new VirtualClock() });
    try {
      const cc = await client(e);
      assert.equal((await cc.get(`${C}/servers`)).status, 503);
      assert.equal((await cc.get(`${C}/servers`)).status, 200);
    } finally {
      await e.stop();
    }
  });
});
