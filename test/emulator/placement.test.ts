import assert from 'node:assert/strict';
import { startEmulator, VirtualClock } from '../../src/emulator/index.js';
import type { Emulator, Scenario } from '../../src/emulator/index.js';
import { P, client, serverId } from './helpers.js';
import type { Client } from './helpers.js';

const scenario: Scenario = {
  name: 'placement',
  hosts: [
    { name: 'compute-01', hypervisor_hostname: 'compute-01.example.org', vcpus: 8, ram_mb: 16384, disk_gb: 100, cpu_allocation_ratio: 2.0, reserved_host_memory_mb: 1024 },
    { name: 'compute-02', vcpus: 8, ram_mb: 8192, disk_gb: 100, reserved_host_memory_mb: 0 },
    { name: 'compute-03', vcpus: 8, ram_mb: 8192, disk_gb: 100, reserved_host_memory_mb: 0, status: 'disabled', disabled_reason: 'AUTO: hypervisor failed' },
  ],
  instances: [
    { name: 'a', flavor: 'm1.medium', host: 'compute-01' },
    { name: 'b', flavor: 'm1.small', host: 'compute-02' },
  ],
};

describe('emulator: placement', () => {
  let emu: Emulator;
  let c: Client;
  beforeEach(async () => {
    emu = await startEmulator({ scenario, clock: new VirtualClock() });
    c = await client(emu);
  });
  afterEach(() => emu.stop());

  it('serves the versions document (1.0 - 1.39) and negotiates microversions', async () => {
    const r = await fetch(`${emu.url}/placement/`);
    assert.equal(r.status, 200);
    const j = (await r.json()) as any;
    assert.deepEqual([j.versions[0].min_version, j.versions[0].max_version], ['1.0', '1.39']);
    const bad = await c.get(`${P}/resource_providers`, { 'openstack-api-version': 'placement 1.40' });
    assert.equal(bad.status, 406);
    assert.equal(bad.body.errors[0].status, 406);
    const ok = await c.get(`${P}/resource_providers`, { 'openstack-api-version': 'placement 1.14' });
    assert.equal(ok.headers.get('openstack-api-version'), 'placement 1.14');
  });

  it('finds a provider by hypervisor hostname with its inventories, usages and allocations', async () => {
    const r = await c.get(`${P}/resource_providers?name=compute-01.example.org`);
    assert.equal(r.body.resource_providers.length, 1);
    const rp = r.body.resource_providers[0];
    assert.equal(rp.uuid, emu.state.host('compute-01')!.providerUuid);
    assert.equal(rp.root_provider_uuid, rp.uuid);
    assert.equal(rp.parent_provider_uuid, null);
    assert.equal((await c.get(`${P}/resource_providers?name=compute-01`)).body.resource_providers.length, 0, 'exact name match');
    assert.equal((await c.get(`${P}/resource_providers?in_tree=${rp.uuid}`)).body.resource_providers.length, 1);
    const inv = (await c.get(`${P}/resource_providers/${rp.uuid}/inventories`)).body;
    assert.deepEqual(inv.inventories.VCPU, { total: 8, reserved: 0, min_unit: 1, max_unit: 8, step_size: 1, allocation_ratio: 2.0 });
    assert.deepEqual(inv.inventories.MEMORY_MB, { total: 16384, reserved: 1024, min_unit: 1, max_unit: 16384, step_size: 1, allocation_ratio: 1.0 });
    assert.equal(typeof inv.resource_provider_generation, 'number');
    const usages = (await c.get(`${P}/resource_providers/${rp.uuid}/usages`)).body.usages;
    assert.deepEqual(usages, { VCPU: 2, MEMORY_MB: 4096, DISK_GB: 40 });
    const allocs = (await c.get(`${P}/resource_providers/${rp.uuid}/allocations`)).body.allocations;
    const a = serverId(emu, 'a');
    assert.deepEqual(allocs[a].resources, { VCPU: 2, MEMORY_MB: 4096, DISK_GB: 40 });
    const consumer = (await c.get(`${P}/allocations/${a}`)).body;
    assert.deepEqual(consumer.allocations[rp.uuid].resources, { VCPU: 2, MEMORY_MB: 4096, DISK_GB: 40 });
    assert.equal(consumer.consumer_type, 'INSTANCE');
    assert.equal(consumer.project_id, emu.state.server('a')!.projectId);
    assert.deepEqual((await c.get(`${P}/allocations/00000000-0000-4000-8000-000000000000`)).body, { allocations: {} });
  });

  it('COMPUTE_STATUS_DISABLED on a disabled host; 404 in the Placement error shape', async () => {
    const rp3 = emu.state.host('compute-03')!.providerUuid;
    assert.ok((await c.get(`${P}/resource_providers/${rp3}/traits`)).body.traits.includes('COMPUTE_STATUS_DISABLED'));
    const nf = await c.get(`${P}/resource_providers/00000000-0000-4000-8000-000000000000/usages`);
    assert.equal(nf.status, 404);
    assert.equal(nf.body.errors[0].status, 404);
    assert.equal(nf.body.errors[0].title, 'Not Found');
    assert.match(nf.body.errors[0].detail, /No resource provider with uuid/);
    assert.match(nf.body.errors[0].request_id, /^req-/);
  });

  it('allocation candidates honour capacity, forbidden traits and limit, with provider summaries', async () => {
    const r = await c.get(`${P}/allocation_candidates?resources=VCPU:1,MEMORY_MB:6144&required=!COMPUTE_STATUS_DISABLED`);
    assert.equal(r.status, 200);
    const rps = Object.keys(r.body.provider_summaries);
    // compute-01: 15360 - 4096 = 11264 free; compute-02: 8192 - 2048 = 6144 free; compute-03 disabled
    assert.deepEqual(rps.sort(), [emu.state.host('compute-01')!.providerUuid, emu.state.host('compute-02')!.providerUuid].sort());
    const s1 = r.body.provider_summaries[emu.state.host('compute-01')!.providerUuid];
    assert.deepEqual(s1.resources.MEMORY_MB, { capacity: 15360, used: 4096 });
    assert.deepEqual(s1.resources.VCPU, { capacity: 16, used: 2 });
    assert.ok(Array.isArray(s1.traits));
    assert.equal(r.body.allocation_requests.length, 2);
    assert.ok(r.body.allocation_requests[0].allocations);
    const tooBig = await c.get(`${P}/allocation_candidates?resources=MEMORY_MB:6145&required=!COMPUTE_STATUS_DISABLED`);
    assert.deepEqual(Object.keys(tooBig.body.provider_summaries).length, 1);
    const withDisabled = await c.get(`${P}/allocation_candidates?resources=VCPU:1`);
    assert.equal(Object.keys(withDisabled.body.provider_summaries).length, 3);
    const limited = await c.get(`${P}/allocation_candidates?resources=VCPU:1&limit=1`);
    assert.equal(limited.body.allocation_requests.length, 1);
    const bad = await c.get(`${P}/allocation_candidates?resources=VCPU`);
    assert.equal(bad.status, 400);
  });
});
