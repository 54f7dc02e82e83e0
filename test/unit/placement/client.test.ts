import assert from 'node:assert/strict';
import { isHostmaintError } from '../../../src/core/errors.js';
import { memoryLogger } from '../../../src/core/log.js';
import { createPlacementClient } from '../../../src/openstack/placement/index.js';
import { FakeServiceClient } from '../../support/fake-service-client.js';

const RP = '4e8e5957-649f-477b-9e5b-f1f75b21c03c';
const RP2 = '7c2a8a4e-1f0e-4d55-8f0c-6b3e4a9b2d10';
const VM = '0b5e2c1a-7d5c-4d1b-9a57-0f1e2d3c4b5a';

function setup(microversion: string) {
  const fake = new FakeServiceClient({ serviceType: 'placement', microversion });
  const logger = memoryLogger();
  return { fake, logger, api: createPlacementClient(fake, logger) };
}

describe('placement client', () => {
  it('listProviders by name: GET /resource_providers?name=', async () => {
    const { fake, api } = setup('1.39');
    fake.json('GET', '/resource_providers', { resource_providers: [{ uuid: RP, name: 'compute-01', generation: 5, parent_provider_uuid: null, root_provider_uuid: RP, links: [] }] });
    const got = await api.listProviders({ name: 'compute-01' });
    assert.deepEqual(fake.only().query, { name: 'compute-01' });
    assert.equal(fake.only().microversion, '1.39');
    assert.deepEqual(got, [{ uuid: RP, name: 'compute-01', generation: 5, rootProviderUuid: RP, parentProviderUuid: null }]);
  });

  it('listProviders in_tree (1.14+) and by uuid; before 1.14 every provider is its own root', async () => {
    const { fake, api } = setup('1.14');
    fake.json('GET', '/resource_providers', { resource_providers: [] });
    await api.listProviders({ inTree: RP, uuid: RP2 });
    assert.deepEqual(fake.only().query, { uuid: RP2, in_tree: RP });
    const old = setup('1.13');
    await assert.rejects(old.api.listProviders({ inTree: RP }), (e: unknown) => isHostmaintError(e) && e.kind === 'not-acceptable');
    assert.equal(old.fake.requests.length, 0);
    old.fake.json('GET', '/resource_providers', { resource_providers: [{ uuid: RP, name: 'compute-01', generation: 1, links: [] }] });
    assert.deepEqual(await old.api.listProviders({ name: 'compute-01' }), [{ uuid: RP, name: 'compute-01', generation: 1, rootProviderUuid: RP, parentProviderUuid: null }]);
  });

  it('getProvider: the body is the provider itself', async () => {
    const { fake, api } = setup('1.39');
    fake.json('GET', `/resource_providers/${RP}`, { uuid: RP, name: 'compute-01', generation: 2, parent_provider_uuid: null, root_provider_uuid: RP, links: [] });
    assert.equal((await api.getProvider(RP)).name, 'compute-01');
  });

  it('inventories with Placement defaults for left-out fields', async () => {
    const { fake, api } = setup('1.39');
    fake.json('GET', `/resource_providers/${RP}/inventories`, {
      inventories: {
        VCPU: { allocation_ratio: 16.0, max_unit: 8, min_unit: 1, reserved: 0, step_size: 1, total: 8 },
        MEMORY_MB: { total: 4096 },
      },
      resource_provider_generation: 3,
    });
    assert.deepEqual(await api.getInventories(RP), {
      VCPU: { total: 8, reserved: 0, minUnit: 1, maxUnit: 8, stepSize: 1, allocationRatio: 16.0 },
      MEMORY_MB: { total: 4096, reserved: 0, minUnit: 1, maxUnit: 4096, stepSize: 1, allocationRatio: 1.0 },
    });
  });

  it('usages', async () => {
    const { fake, api } = setup('1.39');
    fake.json('GET', `/resource_providers/${RP}/usages`, { usages: { VCPU: 2, MEMORY_MB: 1024, DISK_GB: 2 }, resource_provider_generation: 3 });
    assert.deepEqual(await api.getUsages(RP), { VCPU: 2, MEMORY_MB: 1024, DISK_GB: 2 });
  });

  it('provider allocations by consumer; none is {}', async () => {
    const { fake, api } = setup('1.39');
    fake.json('GET', `/resource_providers/${RP}/allocations`, { allocations: { [VM]: { resources: { VCPU: 1, MEMORY_MB: 512, DISK_GB: 1 }, consumer_generation: 1 } }, resource_provider_generation: 3 }, 200);
    assert.deepEqual(await api.getProviderAllocations(RP), { [VM]: { VCPU: 1, MEMORY_MB: 512, DISK_GB: 1 } });
    fake.json('GET', `/resource_providers/${RP2}/allocations`, { allocations: {}, resource_provider_generation: 9 });
    assert.deepEqual(await api.getProviderAllocations(RP2), {});
  });

  it('consumer allocations: project/user (1.12+), consumer generation (1.28+)', async () => {
    const { fake, api } = setup('1.39');
    fake.json('GET', `/allocations/${VM}`, { allocations: { [RP]: { generation: 4, resources: { VCPU: 1, MEMORY_MB: 512 } } }, project_id: 'p1', user_id: 'u1', consumer_generation: 2, consumer_type: 'INSTANCE' });
    assert.deepEqual(await api.getConsumerAllocations(VM), { allocations: { [RP]: { VCPU: 1, MEMORY_MB: 512 } }, projectId: 'p1', userId: 'u1', consumerGeneration: 2 });
    const old = setup('1.11');
    old.fake.json('GET', `/allocations/${VM}`, { allocations: {} });
    assert.deepEqual(await old.api.getConsumerAllocations(VM), { allocations: {}, projectId: null, userId: null, consumerGeneration: null });
  });

  it('releaseConsumer (1.28+): PUT /allocations/{consumer} with none, the generation read, project and user; refused before 1.28 without a request', async () => {
    const { fake, api } = setup('1.39');
    fake.json('PUT', `/allocations/${VM}`, null, 204);
    await api.releaseConsumer(VM, { consumerGeneration: 3, projectId: 'p1', userId: 'u1' });
    const r = fake.only();
    assert.equal(r.method, 'PUT');
    assert.equal(r.microversion, '1.39');
    assert.deepEqual(r.body, { allocations: {}, consumer_generation: 3, project_id: 'p1', user_id: 'u1' });
    const old = setup('1.27');
    await assert.rejects(old.api.releaseConsumer(VM, { consumerGeneration: 3, projectId: 'p1', userId: 'u1' }), (e: unknown) => isHostmaintError(e) && e.kind === 'not-acceptable');
    assert.equal(old.fake.requests.length, 0);
  });

  it('traits (1.6+), sorted', async () => {
    const { fake, api } = setup('1.6');
    fake.json('GET', `/resource_providers/${RP}/traits`, { traits: ['COMPUTE_STATUS_DISABLED', 'COMPUTE_NET_ATTACH_INTERFACE'], resource_provider_generation: 7 });
    assert.deepEqual(await api.getTraits(RP), ['COMPUTE_NET_ATTACH_INTERFACE', 'COMPUTE_STATUS_DISABLED']);
    const old = setup('1.5');
    await assert.rejects(old.api.getTraits(RP), (e: unknown) => isHostmaintError(e) && e.kind === 'not-acceptable');
  });

  describe('allocation candidates', () => {
    const body139 = {
      allocation_requests: [
        { allocations: { [RP2]: { resources: { VCPU: 1, MEMORY_MB: 512, DISK_GB: 1 } } }, mappings: { '': [RP2] } },
      ],
      provider_summaries: {
        [RP2]: { resources: { VCPU: { capacity: 1000, used: 2 }, MEMORY_MB: { capacity: 4096, used: 1024 }, DISK_GB: { capacity: 600000, used: 2 } }, traits: ['COMPUTE_NODE'], parent_provider_uuid: null, root_provider_uuid: RP2 },
      },
    };

    it('1.39: resources, forbidden trait, limit, member_of (in: for several), in_tree', async () => {
      const { fake, api } = setup('1.39');
      fake.json('GET', '/allocation_candidates', body139);
      const got = await api.getAllocationCandidates({ resources: { VCPU: 1, MEMORY_MB: 512, DISK_GB: 1, PCPU: 0 }, required: ['!COMPUTE_STATUS_DISABLED'], limit: 50, memberOf: ['agg1', 'agg2'], inTree: RP2 });
      assert.deepEqual(fake.only().query, { resources: 'VCPU:1,MEMORY_MB:512,DISK_GB:1', required: '!COMPUTE_STATUS_DISABLED', member_of: 'in:agg1,agg2', in_tree: RP2, limit: 50 });
      assert.deepEqual(got, {
        allocationRequests: [{ [RP2]: { VCPU: 1, MEMORY_MB: 512, DISK_GB: 1 } }],
        providerSummaries: {
          [RP2]: { resources: { VCPU: { capacity: 1000, used: 2 }, MEMORY_MB: { capacity: 4096, used: 1024 }, DISK_GB: { capacity: 600000, used: 2 } }, traits: ['COMPUTE_NODE'], rootProviderUuid: RP2, parentProviderUuid: null },
        },
      });
    });

    it('one aggregate is sent bare', async () => {
      const { fake, api } = setup('1.21');
      fake.json('GET', '/allocation_candidates', body139);
      await api.getAllocationCandidates({ resources: { VCPU: 1 }, memberOf: ['agg1'] });
      assert.deepEqual(fake.only().query, { resources: 'VCPU:1', member_of: 'agg1' });
    });

    it('forbidden traits need 1.22, required 1.17, member_of 1.21, in_tree 1.31, the call 1.10: refused before sending', async () => {
      for (const [mv, q] of [
        ['1.21', { resources: { VCPU: 1 }, required: ['!COMPUTE_STATUS_DISABLED'] }],
        ['1.16', { resources: { VCPU: 1 }, required: ['HW_CPU_X86_AVX2'] }],
        ['1.20', { resources: { VCPU: 1 }, memberOf: ['a'] }],
        ['1.30', { resources: { VCPU: 1 }, inTree: RP }],
        ['1.9', { resources: { VCPU: 1 } }],
      ] as const) {
        const { fake, api } = setup(mv);
        await assert.rejects(api.getAllocationCandidates(q as never), (e: unknown) => isHostmaintError(e) && e.kind === 'not-acceptable', mv);
        assert.equal(fake.requests.length, 0, mv);
      }
    });

    it('before 1.16 the limit is dropped with a debug log', async () => {
      const { fake, api, logger } = setup('1.15');
      fake.json('GET', '/allocation_candidates', body139);
      await api.getAllocationCandidates({ resources: { VCPU: 1 }, limit: 5 });
      assert.deepEqual(fake.only().query, { resources: 'VCPU:1' });
      assert.ok(logger.records.some((r) => r.level === 'debug' && /limit/.test(r.message)));
    });

    it('1.10-1.11 list-shaped allocation requests and summaries without traits/roots', async () => {
      const { fake, api } = setup('1.10');
      fake.json('GET', '/allocation_candidates', {
        allocation_requests: [{ allocations: [{ resource_provider: { uuid: RP }, resources: { VCPU: 1 } }, { resource_provider: { uuid: RP }, resources: { MEMORY_MB: 64 } }] }],
        provider_summaries: { [RP]: { resources: { VCPU: { capacity: 8, used: 0 }, MEMORY_MB: { capacity: 1024, used: 0 } } } },
      });
      assert.deepEqual(await api.getAllocationCandidates({ resources: { VCPU: 1, MEMORY_MB: 64 } }), {
        allocationRequests: [{ [RP]: { VCPU: 1, MEMORY_MB: 64 } }],
        providerSummaries: { [RP]: { resources: { VCPU: { capacity: 8, used: 0 }, MEMORY_MB: { capacity: 1024, used: 0 } }, traits: [], rootProviderUuid: null, parentProviderUuid: null } },
      });
    });

    it('an all-zero request is a bad-request before sending', async () => {
      const { fake, api } = setup('1.39');
      await assert.rejects(api.getAllocationCandidates({ resources: { VCPU: 0 } }), (e: unknown) => isHostmaintError(e) && e.kind === 'bad-request');
      assert.equal(fake.requests.length, 0);
    });
  });
});
