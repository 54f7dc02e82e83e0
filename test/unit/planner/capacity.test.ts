import { strict as assert } from 'node:assert';
import { capacityOf, consume, formatRequest, requestForServer, shortfalls } from '../../../src/planner/capacity.js';
import { inventory, makeServer } from '../../support/builders.js';

describe('planner/capacity', () => {
  it('capacity = floor((total - reserved) * allocation_ratio), free = capacity - used', () => {
    const cap = capacityOf(
      {
        VCPU: { total: 10, reserved: 1, minUnit: 1, maxUnit: 10, stepSize: 1, allocationRatio: 1.5 },
        MEMORY_MB: { total: 4096, reserved: 512, minUnit: 1, maxUnit: 4096, stepSize: 1, allocationRatio: 1 },
      },
      { VCPU: 5, MEMORY_MB: 1000 },
    );
    assert.equal(cap.VCPU!.capacity, 13); // (10-1)*1.5 = 13.5 -> 13
    assert.equal(cap.VCPU!.free, 8);
    assert.equal(cap.MEMORY_MB!.capacity, 3584);
    assert.equal(cap.MEMORY_MB!.free, 2584);
  });

  it('never reports negative free on an over-committed provider', () => {
    const cap = capacityOf({ VCPU: { total: 4, reserved: 0, minUnit: 1, maxUnit: 4, stepSize: 1, allocationRatio: 1 } }, { VCPU: 6 });
    assert.equal(cap.VCPU!.free, 0);
  });

  it('asks PCPU for hw:cpu_policy=dedicated, VCPU otherwise', () => {
    assert.deepEqual(requestForServer(makeServer({ vcpus: 4, ramMb: 8192, diskGb: 40 })), { VCPU: 4, MEMORY_MB: 8192, DISK_GB: 40 });
    const pinned = requestForServer(makeServer({ vcpus: 4, ramMb: 8192, diskGb: 40, extraSpecs: { 'hw:cpu_policy': 'dedicated' } }));
    assert.equal(pinned.PCPU, 4);
    assert.equal(pinned.VCPU, undefined);
  });

  it('DISK_GB = root + ephemeral + swap rounded up to GB; no root when volume-backed', () => {
    assert.equal(requestForServer(makeServer({ diskGb: 20, ephemeralGb: 10, swapMb: 1500 })).DISK_GB, 32);
    assert.equal(requestForServer(makeServer({ diskGb: 20, ephemeralGb: 0, swapMb: 0, imageId: null })).DISK_GB, undefined);
    assert.equal(requestForServer(makeServer({ diskGb: 20, ephemeralGb: 5, imageId: '' })).DISK_GB, 5);
  });

  it('reports each shortfall: free, max_unit, missing inventory', () => {
    const cap = capacityOf(inventory({ vcpus: 8, cpuRatio: 1, maxVcpu: 4, ramMb: 8192, ramReserved: 0 }), { MEMORY_MB: 6000 });
    const s = shortfalls({ VCPU: 6, MEMORY_MB: 4096, PCPU: 2 }, cap);
    const why = Object.fromEntries(s.map((x) => [x.resourceClass, x.why]));
    assert.deepEqual(why, { VCPU: 'max_unit', MEMORY_MB: 'free', PCPU: 'missing' });
    assert.deepEqual(shortfalls({ VCPU: 2, MEMORY_MB: 1024 }, cap), []);
  });

  it('consumes a placement and formats requests for messages', () => {
    const cap = capacityOf(inventory({ vcpus: 4, cpuRatio: 1, ramMb: 8192, ramReserved: 0 }), {});
    const after = consume(cap, { VCPU: 3, MEMORY_MB: 4096 });
    assert.equal(after.VCPU!.free, 1);
    assert.equal(after.MEMORY_MB!.free, 4096);
    assert.equal(cap.VCPU!.free, 4, 'the input is not modified');
    assert.equal(formatRequest({ MEMORY_MB: 16384, VCPU: 8, DISK_GB: 40 }), '8 VCPU, 16384 MB RAM, 40 GB disk');
  });
});
