/**
 * The placement contract: hostmaint's PlacementApi and capacity arithmetic
 * against a real (or emulated) Placement, through CloudUnderTest. Servers are
 * booted on computes[1] (SRC); SRC is disabled (trait COMPUTE_STATUS_DISABLED,
 * excluded from allocation candidates), its servers are live-migrated away, and
 * the allocations are watched following them. SRC is restored in `after`.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { ComputeApi, PlacementApi } from '../../src/openstack/api.js';
import { fits, flavorResources, providerCapacity } from '../../src/openstack/placement/capacity.js';
import type { ComputeService, ResourceProvider } from '../../src/openstack/types.js';
import { compareMicroversions } from '../../src/openstack/service-client.js';
import type { CloudUnderTest } from './cloud-under-test.js';
import { assertFree, poll, restoreService } from './compute-contract.js';

const DISABLED = 'COMPUTE_STATUS_DISABLED';

export function definePlacementContract(getCloud: () => CloudUnderTest): void {
  describe('placement contract', function () {
    this.timeout(300_000);
    const tag = `hm-pt-${randomBytes(3).toString('hex')}`;
    let cloud: CloudUnderTest;
    let compute: ComputeApi;
    let placement: PlacementApi;
    let SRC = '';
    let rp: ResourceProvider;
    let serviceBefore: ComputeService | undefined;
    const booted: string[] = [];

    before(async function () {
      cloud = getCloud();
      compute = cloud.session.compute;
      placement = cloud.session.placement;
      if (compareMicroversions(placement.microversion, '1.10') < 0) {
        // Traits (1.6) and allocation candidates (1.10) are what a drain needs from Placement.
        console.log(`    SKIPPED: the placement contract needs microversion 1.10+, the session speaks ${placement.microversion}`);
        this.skip();
      }
      SRC = cloud.computes[1]!;
      [serviceBefore] = await compute.listServices({ host: SRC, binary: 'nova-compute' });
      assertFree(serviceBefore, SRC);
      for (const [i, flavor] of (['m1.tiny', 'm1.small'] as const).entries()) {
        booted.push(await cloud.bootServer({ name: `${tag}-${i}`, host: SRC, flavor, project: cloud.projects[i % cloud.projects.length] }));
      }
    });

    after(async function () {
      if (!cloud) return;
      const problems: unknown[] = [];
      for (const id of booted) await cloud.deleteServer(id).catch((e: unknown) => problems.push(e));
      if (serviceBefore) await restoreService(compute, serviceBefore).catch((e: unknown) => problems.push(e));
      if (problems.length > 0) throw new Error(`cleanup: ${problems.map(String).join('; ')}`);
    });

    it('finds the provider of a host by its hypervisor hostname', async () => {
      const [h] = await compute.findHypervisors(SRC);
      assert.ok(h);
      const rps = await placement.listProviders({ name: h.hostname });
      assert.equal(rps.length, 1);
      rp = rps[0]!;
      assert.equal(rp.name, h.hostname);
      assert.equal(rp.rootProviderUuid, rp.uuid);
      assert.equal(rp.parentProviderUuid, null);
      assert.deepEqual(await placement.getProvider(rp.uuid), rp);
      if (compareMicroversions(placement.microversion, '1.14') >= 0) {
        const tree = await placement.listProviders({ inTree: rp.uuid });
        assert.ok(tree.some((x) => x.uuid === rp.uuid));
        assert.ok(tree.every((x) => x.rootProviderUuid === rp.uuid));
      }
      assert.deepEqual(await placement.listProviders({ uuid: rp.uuid }), [rp]);
    });

    it('reads inventories and usages; capacity arithmetic agrees with Placement', async () => {
      const inv = await placement.getInventories(rp.uuid);
      for (const rc of ['VCPU', 'MEMORY_MB', 'DISK_GB']) assert.ok(inv[rc], `inventory ${rc}`);
      const usages = await placement.getUsages(rp.uuid);
      assert.ok((usages.MEMORY_MB ?? 0) >= 512 + 2048);
      const cap = providerCapacity(inv, usages);
      // Placement's own numbers for the same provider: allocation candidates' provider summary.
      const ac = await placement.getAllocationCandidates({ resources: { VCPU: 1, MEMORY_MB: 1, DISK_GB: 1 }, inTree: compareMicroversions(placement.microversion, '1.31') >= 0 ? rp.uuid : undefined, limit: 1000 });
      const summary = ac.providerSummaries[rp.uuid];
      assert.ok(summary, 'the host is a candidate while enabled');
      for (const rc of ['VCPU', 'MEMORY_MB', 'DISK_GB']) {
        assert.equal(summary.resources[rc]!.capacity, cap[rc]!.capacity, `${rc} capacity`);
        assert.equal(summary.resources[rc]!.used, cap[rc]!.used, `${rc} used`);
      }
      assert.equal(fits({ MEMORY_MB: cap.MEMORY_MB!.free + 1 }, cap).ok, false);
    });

    it('holds each server as a consumer with exactly the resources of its flavor', async () => {
      const byProvider = await placement.getProviderAllocations(rp.uuid);
      for (const id of booted) {
        const s = await compute.getServer(id);
        const want = flavorResources(s.flavor);
        assert.deepEqual(byProvider[id], want, `provider allocation of ${s.name}`);
        const c = await placement.getConsumerAllocations(id);
        assert.deepEqual(c.allocations, { [rp.uuid]: want });
        if (compareMicroversions(placement.microversion, '1.12') >= 0) assert.equal(c.projectId, s.projectId);
        if (compareMicroversions(placement.microversion, '1.28') >= 0) assert.equal(typeof c.consumerGeneration, 'number');
      }
    });

    it('a disabled service puts COMPUTE_STATUS_DISABLED on the provider and out of the candidates', async () => {
      const [svc] = await compute.listServices({ host: SRC, binary: 'nova-compute' });
      await compute.disableService(svc!, `hostmaint:${tag}: placement contract (restored in after)`);
      await poll(`${DISABLED} on ${SRC}`, () => placement.getTraits(rp.uuid), (t) => t.includes(DISABLED), 60_000);
      if (compareMicroversions(placement.microversion, '1.22') < 0) {
        await assert.rejects(placement.getAllocationCandidates({ resources: { VCPU: 1 }, required: [`!${DISABLED}`] }), (e: { kind?: string }) => e.kind === 'not-acceptable');
        return;
      }
      const ac = await placement.getAllocationCandidates({ resources: { VCPU: 1, MEMORY_MB: 512, DISK_GB: 1 }, required: [`!${DISABLED}`], limit: 1000 });
      assert.equal(ac.providerSummaries[rp.uuid], undefined, 'disabled host excluded');
      assert.ok(Object.keys(ac.providerSummaries).length >= 1, 'other hosts remain');
      for (const req of ac.allocationRequests) assert.equal(req[rp.uuid], undefined);
      const all = await placement.getAllocationCandidates({ resources: { VCPU: 1, MEMORY_MB: 512, DISK_GB: 1 }, limit: 1000 });
      assert.ok(all.providerSummaries[rp.uuid], 'without the forbidden trait the host is a candidate');
      if (compareMicroversions(placement.microversion, '1.17') >= 0) assert.ok(all.providerSummaries[rp.uuid]!.traits.includes(DISABLED));
    });

    it('allocations follow the servers when they move; the source ends with none of them', async () => {
      const dests = new Map<string, string>();
      for (const id of booted) {
        await compute.liveMigrate(id, { host: null });
        const s = await cloud.waitForServer(id, (x) => (x.status === 'ACTIVE' && x.taskState === null && x.host !== SRC) || x.status === 'ERROR', 120_000);
        assert.equal(s.status, 'ACTIVE');
        dests.set(id, s.host!);
        await poll(`migration of ${id} completed`, () => compute.listMigrations({ instanceUuid: id, migrationType: 'live-migration' }), (l) => l.some((m) => m.status === 'completed'), 60_000);
      }
      const src = await poll('source allocations released', () => placement.getProviderAllocations(rp.uuid), (a) => booted.every((id) => a[id] === undefined), 60_000);
      for (const id of booted) {
        const [h] = await compute.findHypervisors(dests.get(id)!);
        const [destRp] = await placement.listProviders({ name: h!.hostname });
        const c = await placement.getConsumerAllocations(id);
        assert.deepEqual(Object.keys(c.allocations), [destRp!.uuid], `allocations of ${id} moved to ${dests.get(id)}`);
      }
      const left = await compute.listServersOnHost(SRC);
      if (left.length === 0) {
        // Nothing else on the host: Placement must agree it is empty (migration consumers included).
        assert.deepEqual(await poll('empty source provider', () => placement.getProviderAllocations(rp.uuid), (a) => Object.keys(a).length === 0, 60_000), {});
        assert.deepEqual(await placement.getUsages(rp.uuid).then((u) => Object.values(u).filter((n) => n > 0)), []);
      } else {
        assert.ok(Object.keys(src).every((c) => !booted.includes(c)));
      }
    });

    it('re-enabling removes the trait', async () => {
      const [svc] = await compute.listServices({ host: SRC, binary: 'nova-compute' });
      await compute.enableService(svc!);
      await poll(`${DISABLED} gone from ${SRC}`, () => placement.getTraits(rp.uuid), (t) => !t.includes(DISABLED), 60_000);
    });
  });
}
