/**
 * Translation of bodies recorded from the real lab (test/fixtures/placement)
 * and the capacity arithmetic checked against Placement's own numbers of the
 * same recording run.
 */
import assert from 'node:assert/strict';
import { memoryLogger } from '../../../src/core/log.js';
import { createPlacementClient } from '../../../src/openstack/placement/index.js';
import { fits, flavorResources, providerCapacity } from '../../../src/openstack/placement/capacity.js';
import { FakeServiceClient } from '../../support/fake-service-client.js';
import { fixture } from '../../support/fixtures.js';

const pl = (name: string, mv: string) => fixture('placement', name, mv);
const nova = (name: string, mv: string) => fixture('nova', name, mv);

function setup(mv: string) {
  const fake = new FakeServiceClient({ serviceType: 'placement', microversion: mv });
  return { fake, api: createPlacementClient(fake, memoryLogger()) };
}

const RP = pl('resource-providers-name', '1.39').resource_providers[0];

describe('placement translation of recorded lab bodies', () => {
  it('provider by name at 1.39 (tree fields) and 1.13 (none: its own root)', async () => {
    for (const mv of ['1.39', '1.13']) {
      const { fake, api } = setup(mv);
      fake.json('GET', '/resource_providers', pl('resource-providers-name', mv));
      const [rp] = await api.listProviders({ name: 'compute-01' });
      assert.deepEqual(rp, { uuid: RP.uuid, name: 'compute-01', generation: pl('resource-providers-name', mv).resource_providers[0].generation, rootProviderUuid: RP.uuid, parentProviderUuid: null }, mv);
    }
    const { fake, api } = setup('1.39');
    fake.json('GET', '/resource_providers', pl('resource-providers-in-tree', '1.39'));
    assert.deepEqual((await api.listProviders({ inTree: RP.uuid })).map((p) => p.uuid), [RP.uuid]);
    fake.json('GET', `/resource_providers/${RP.uuid}`, pl('resource-provider-show', '1.39'));
    assert.equal((await api.getProvider(RP.uuid)).name, 'compute-01');
  });

  it('inventories and usages; capacity equals Placement\'s provider summary of the same moment', async () => {
    const { fake, api } = setup('1.39');
    fake.json('GET', `/resource_providers/${RP.uuid}/inventories`, pl('inventories', '1.39'));
    fake.json('GET', `/resource_providers/${RP.uuid}/usages`, pl('usages', '1.39'));
    const inv = await api.getInventories(RP.uuid);
    const usages = await api.getUsages(RP.uuid);
    const raw = pl('inventories', '1.39').inventories;
    for (const rc of Object.keys(raw)) {
      assert.deepEqual(inv[rc], { total: raw[rc].total, reserved: raw[rc].reserved, minUnit: raw[rc].min_unit, maxUnit: raw[rc].max_unit, stepSize: raw[rc].step_size, allocationRatio: raw[rc].allocation_ratio });
    }
    assert.deepEqual(usages, pl('usages', '1.39').usages);
    const cap = providerCapacity(inv, usages);
    const summary = pl('allocation-candidates', '1.39').provider_summaries[RP.uuid];
    assert.ok(summary, 'compute-01 is a candidate when the forbidden trait is not asked');
    for (const rc of ['VCPU', 'MEMORY_MB', 'DISK_GB']) {
      assert.equal(cap[rc]!.capacity, summary.resources[rc].capacity, `${rc} capacity`);
      assert.equal(cap[rc]!.used, summary.resources[rc].used, `${rc} used`);
    }
    assert.deepEqual(fits({ MEMORY_MB: cap.MEMORY_MB!.free }, cap), { ok: true });
    assert.equal(fits({ MEMORY_MB: cap.MEMORY_MB!.free + 1 }, cap).ok, false);
  });

  it('provider allocations: every consumer holds exactly flavorResources(its flavor)', async () => {
    const { fake, api } = setup('1.39');
    fake.json('GET', `/resource_providers/${RP.uuid}/allocations`, pl('resource-provider-allocations', '1.39'));
    const allocs = await api.getProviderAllocations(RP.uuid);
    const servers = nova('servers-detail-host', '2.93').servers as Array<{ id: string; flavor: { vcpus: number; ram: number; disk: number; ephemeral: number; swap: number; extra_specs: Record<string, string> } }>;
    let checked = 0;
    for (const [consumer, resources] of Object.entries(allocs)) {
      const s = servers.find((x) => x.id === consumer);
      if (!s) continue; // a migration record's consumer, or a server recorded elsewhere
      const f = s.flavor;
      assert.deepEqual(resources, flavorResources({ vcpus: f.vcpus, ramMb: f.ram, diskGb: f.disk, ephemeralGb: f.ephemeral, swapMb: f.swap, extraSpecs: f.extra_specs }));
      checked += 1;
    }
    assert.ok(checked >= 1);
    const sum: Record<string, number> = {};
    for (const r of Object.values(allocs)) for (const [rc, n] of Object.entries(r)) sum[rc] = (sum[rc] ?? 0) + n;
    assert.deepEqual(sum, Object.fromEntries(Object.entries(pl('usages', '1.39').usages).filter(([, n]) => (n as number) > 0)), 'usages are the sum of allocations');
  });

  it('consumer allocations: project/user from 1.12, consumer generation from 1.28; none is {}', async () => {
    for (const [mv, pu, gen] of [['1.39', true, true], ['1.28', true, true], ['1.12', true, false], ['1.11', false, false]] as const) {
      const body = pl('consumer-allocations', mv);
      const { fake, api } = setup(mv);
      fake.json('GET', /^\/allocations\//, body);
      const c = await api.getConsumerAllocations('x');
      assert.deepEqual(c.allocations, { [RP.uuid]: body.allocations[RP.uuid].resources }, mv);
      assert.equal(c.projectId !== null, pu, mv);
      assert.equal(c.userId !== null, pu, mv);
      assert.equal(c.consumerGeneration !== null, gen, mv);
    }
    const { fake, api } = setup('1.39');
    fake.json('GET', /^\/allocations\//, pl('consumer-allocations-none', '1.39'));
    assert.deepEqual(await api.getConsumerAllocations('none'), { allocations: {}, projectId: null, userId: null, consumerGeneration: null });
  });

  it('traits of a disabled compute include COMPUTE_STATUS_DISABLED', async () => {
    const { fake, api } = setup('1.39');
    fake.json('GET', `/resource_providers/${RP.uuid}/traits`, pl('traits-disabled', '1.39'));
    const t = await api.getTraits(RP.uuid);
    assert.ok(t.includes('COMPUTE_STATUS_DISABLED'));
    assert.deepEqual(t, [...t].sort());
  });

  it('allocation candidates: the forbidden trait drops the disabled host', async () => {
    const { fake, api } = setup('1.39');
    fake.json('GET', '/allocation_candidates', pl('allocation-candidates-not-disabled', '1.39'));
    const ac = await api.getAllocationCandidates({ resources: { VCPU: 1, MEMORY_MB: 512, DISK_GB: 1 }, required: ['!COMPUTE_STATUS_DISABLED'], limit: 10 });
    assert.equal(ac.providerSummaries[RP.uuid], undefined);
    assert.equal(Object.keys(ac.providerSummaries).length, 2);
    for (const r of ac.allocationRequests) assert.deepEqual(Object.values(r), [{ VCPU: 1, MEMORY_MB: 512, DISK_GB: 1 }]);
    for (const s of Object.values(ac.providerSummaries)) {
      assert.ok(s.traits.includes('COMPUTE_NODE'));
      assert.ok(!s.traits.includes('COMPUTE_STATUS_DISABLED'));
      assert.equal(s.parentProviderUuid, null);
      assert.ok(s.rootProviderUuid);
    }
  });

  it('allocation candidates at 1.39, 1.17 (traits, no tree) and 1.10 (list-shaped requests, requested classes only)', async () => {
    const want = { VCPU: 1, MEMORY_MB: 512, DISK_GB: 1 };
    for (const mv of ['1.39', '1.17', '1.10']) {
      const { fake, api } = setup(mv);
      fake.json('GET', '/allocation_candidates', pl('allocation-candidates', mv));
      const ac = await api.getAllocationCandidates({ resources: want });
      assert.equal(ac.allocationRequests.length, 3, mv);
      assert.ok(ac.allocationRequests.every((r) => Object.values(r).length === 1 && JSON.stringify(Object.values(r)[0]) === JSON.stringify(want)), mv);
      const s = ac.providerSummaries[RP.uuid]!;
      assert.equal(s.traits.length > 0, mv !== '1.10', mv);
      assert.equal(s.rootProviderUuid === null, mv !== '1.39', mv);
    }
  });

  it("Placement's own 400 for a forbidden trait before 1.22 (the client refuses before sending)", () => {
    const body = pl('allocation-candidates-forbidden-too-old', '1.21');
    assert.equal(body.errors[0].status, 400);
    assert.match(body.errors[0].detail, /!COMPUTE_STATUS_DISABLED/);
  });
});
