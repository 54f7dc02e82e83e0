import assert from 'node:assert/strict';
import { capacityOf, fits, flavorResources, normalizeResourceClass, parseCpuSpec, providerCapacity } from '../../../src/openstack/placement/capacity.js';
import type { Inventories } from '../../../src/openstack/types.js';

const inv = (total: number, over: Partial<Inventories[string]> = {}): Inventories[string] => ({ total, reserved: 0, minUnit: 1, maxUnit: total, stepSize: 1, allocationRatio: 1.0, ...over });
const flavor = (over: Partial<Parameters<typeof flavorResources>[0]> = {}) => ({ vcpus: 2, ramMb: 4096, diskGb: 20, ephemeralGb: 0, swapMb: 0, extraSpecs: {}, ...over });

describe('placement capacity arithmetic', () => {
  describe('capacity = int((total - reserved) * allocation_ratio)', () => {
    const cases: Array<[number, number, number, number]> = [
      // total, reserved, ratio, capacity
      [8, 0, 1.0, 8],
      [8, 2, 1.0, 6],
      [8, 0, 16.0, 128],
      [4, 1, 1.5, 4], // 4.5 truncated
      [3, 0, 1.5, 4], // 4.5 truncated
      [7, 0, 0.5, 3], // 3.5
      [1000, 0, 0.9, 900], // float noise must not drop to 899
      [10, 0, 1.1, 11],
      [800000, 795904, 1.0, 4096], // the lab's "small host" trick
      [10, 10, 2.0, 0],
    ];
    for (const [total, reserved, ratio, want] of cases) {
      it(`total ${total}, reserved ${reserved}, ratio ${ratio} -> ${want}`, () => {
        assert.equal(capacityOf({ total, reserved, allocationRatio: ratio }), want);
      });
    }
    it('truncates toward zero like Python int() (a negative capacity stays negative)', () => {
      assert.equal(capacityOf({ total: 1, reserved: 4, allocationRatio: 1.5 }), -4);
    });
  });

  it('providerCapacity: capacity, used, free and the unit limits per class', () => {
    const cap = providerCapacity(
      { VCPU: inv(8, { allocationRatio: 4.0, maxUnit: 8 }), MEMORY_MB: inv(16384, { reserved: 512, maxUnit: 16384 }), DISK_GB: inv(100, { stepSize: 10, minUnit: 10 }) },
      { VCPU: 30, MEMORY_MB: 8192, DISK_GB: 0, CUSTOM_GONE: 3 },
    );
    assert.deepEqual(cap.VCPU, { total: 8, reserved: 0, allocationRatio: 4.0, capacity: 32, used: 30, free: 2, minUnit: 1, maxUnit: 8, stepSize: 1 });
    assert.deepEqual(cap.MEMORY_MB, { total: 16384, reserved: 512, allocationRatio: 1.0, capacity: 15872, used: 8192, free: 7680, minUnit: 1, maxUnit: 16384, stepSize: 1 });
    assert.equal(cap.DISK_GB!.free, 100);
    assert.equal(cap.CUSTOM_GONE, undefined, 'usage without inventory is not capacity');
  });

  it('providerCapacity: a class with no usage row counts as 0 used; over-commit shows a negative free', () => {
    const cap = providerCapacity({ VCPU: inv(4), MEMORY_MB: inv(1024) }, { MEMORY_MB: 2048 });
    assert.equal(cap.VCPU!.used, 0);
    assert.equal(cap.VCPU!.free, 4);
    assert.equal(cap.MEMORY_MB!.free, -1024);
  });

  describe('fits', () => {
    const cap = providerCapacity(
      { VCPU: inv(4, { maxUnit: 4 }), MEMORY_MB: inv(8192, { maxUnit: 4096 }), DISK_GB: inv(100, { stepSize: 5, minUnit: 5 }) },
      { VCPU: 0, MEMORY_MB: 2048, DISK_GB: 50 },
    );

    it('ok when every class has room and respects min/max/step', () => {
      assert.deepEqual(fits({ VCPU: 4, MEMORY_MB: 4096, DISK_GB: 50 }, cap), { ok: true });
    });
    it('exactly the free amount fits (n <= free)', () => {
      assert.deepEqual(fits({ MEMORY_MB: 4096 }, providerCapacity({ MEMORY_MB: inv(6144) }, { MEMORY_MB: 2048 })), { ok: true });
    });
    it('"needs 8 VCPU, has 4 free" and the max_unit reason together', () => {
      assert.deepEqual(fits({ VCPU: 8 }, cap), { ok: false, reasons: ['needs 8 VCPU, has 4 free', 'needs 8 VCPU, at most 4 in one allocation (max_unit)'] });
    });
    it('max_unit alone (room in total, too big for one allocation)', () => {
      assert.deepEqual(fits({ MEMORY_MB: 6000 }, cap), { ok: false, reasons: ['needs 6000 MEMORY_MB, at most 4096 in one allocation (max_unit)'] });
    });
    it('step_size and min_unit', () => {
      assert.deepEqual(fits({ DISK_GB: 3 }, cap), { ok: false, reasons: ['needs 3 DISK_GB, at least 5 in one allocation (min_unit)', 'needs 3 DISK_GB, not a multiple of 5 (step_size)'] });
      assert.deepEqual(fits({ DISK_GB: 12 }, cap), { ok: false, reasons: ['needs 12 DISK_GB, not a multiple of 5 (step_size)'] });
    });
    it('a class the provider has no inventory of', () => {
      assert.deepEqual(fits({ PCPU: 2 }, cap), { ok: false, reasons: ['needs 2 PCPU, has no PCPU inventory'] });
    });
    it('zero amounts are not asked for; an over-committed provider reports 0 free', () => {
      assert.deepEqual(fits({ PCPU: 0, VCPU: 1 }, cap), { ok: true });
      const over = providerCapacity({ MEMORY_MB: inv(1024) }, { MEMORY_MB: 2048 });
      assert.deepEqual(fits({ MEMORY_MB: 1 }, over), { ok: false, reasons: ['needs 1 MEMORY_MB, has 0 free'] });
    });
    it('reports every class at once', () => {
      const r = fits({ VCPU: 5, MEMORY_MB: 8000, DISK_GB: 55 }, cap);
      assert.equal(r.ok, false);
      assert.equal(!r.ok && r.reasons.length, 5);
    });
  });
});

describe('flavorResources (nova.scheduler.utils.resources_from_flavor)', () => {
  it('VCPU, MEMORY_MB, DISK_GB = root + ephemeral', () => {
    assert.deepEqual(flavorResources(flavor({ ephemeralGb: 5 })), { VCPU: 2, MEMORY_MB: 4096, DISK_GB: 25 });
  });
  it('swap MB counts into DISK_GB rounded up to whole GB', () => {
    assert.deepEqual(flavorResources(flavor({ swapMb: 1 })), { VCPU: 2, MEMORY_MB: 4096, DISK_GB: 21 });
    assert.deepEqual(flavorResources(flavor({ swapMb: 1024 })), { VCPU: 2, MEMORY_MB: 4096, DISK_GB: 21 });
    assert.deepEqual(flavorResources(flavor({ swapMb: 1025 })), { VCPU: 2, MEMORY_MB: 4096, DISK_GB: 22 });
  });
  it('boot from volume leaves the root disk out (ephemeral and swap stay)', () => {
    assert.deepEqual(flavorResources(flavor(), { bootFromVolume: true }), { VCPU: 2, MEMORY_MB: 4096 });
    assert.deepEqual(flavorResources(flavor({ ephemeralGb: 1, swapMb: 512 }), { bootFromVolume: true }), { VCPU: 2, MEMORY_MB: 4096, DISK_GB: 2 });
  });
  it('a root disk of 0 asks no DISK_GB', () => {
    assert.deepEqual(flavorResources(flavor({ diskGb: 0 })), { VCPU: 2, MEMORY_MB: 4096 });
  });
  it('resources:* extra specs override the flavor; 0 removes a class (baremetal)', () => {
    assert.deepEqual(
      flavorResources(flavor({ extraSpecs: { 'resources:VCPU': '0', 'resources:MEMORY_MB': '0', 'resources:DISK_GB': '0', 'resources:CUSTOM_BAREMETAL_GOLD': '1' } })),
      { CUSTOM_BAREMETAL_GOLD: 1 },
    );
    assert.deepEqual(flavorResources(flavor({ extraSpecs: { 'resources:MEMORY_MB': '1024', 'resources:VGPU': '1' } })), { MEMORY_MB: 1024, VGPU: 1, VCPU: 2, DISK_GB: 20 });
  });
  it('suffixed groups add up; bad amounts and unknown classes are skipped as Nova does', () => {
    assert.deepEqual(
      flavorResources(flavor({ extraSpecs: { 'resources1:VGPU': '1', 'resources_G2:VGPU': '2', 'resources:NOT_A_CLASS': '3', 'resources:SRIOV_NET_VF': '-1', 'resources:FPGA': '1.5', 'trait:HW_CPU_X86_AVX2': 'required' } })),
      { VGPU: 3, VCPU: 2, MEMORY_MB: 4096, DISK_GB: 20 },
    );
  });
  it('hw:cpu_policy=dedicated turns VCPU into PCPU', () => {
    assert.deepEqual(flavorResources(flavor({ vcpus: 4, extraSpecs: { 'hw:cpu_policy': 'dedicated' } })), { PCPU: 4, MEMORY_MB: 4096, DISK_GB: 20 });
  });
  it('dedicated + hw:emulator_threads_policy=isolate adds one PCPU', () => {
    assert.deepEqual(flavorResources(flavor({ vcpus: 4, extraSpecs: { 'hw:cpu_policy': 'dedicated', 'hw:emulator_threads_policy': 'isolate' } })), { PCPU: 5, MEMORY_MB: 4096, DISK_GB: 20 });
  });
  it('the image property hw_cpu_policy counts when the flavor says nothing', () => {
    assert.deepEqual(flavorResources(flavor(), { imageProperties: { hw_cpu_policy: 'dedicated' } }), { PCPU: 2, MEMORY_MB: 4096, DISK_GB: 20 });
    assert.deepEqual(flavorResources(flavor({ extraSpecs: { 'hw:cpu_policy': 'shared' } }), { imageProperties: { hw_cpu_policy: 'dedicated' } }), { VCPU: 2, MEMORY_MB: 4096, DISK_GB: 20 });
  });
  it('hw:cpu_policy=mixed splits by hw:cpu_dedicated_mask', () => {
    assert.deepEqual(flavorResources(flavor({ vcpus: 4, extraSpecs: { 'hw:cpu_policy': 'mixed', 'hw:cpu_dedicated_mask': '2-3' } })), { VCPU: 2, PCPU: 2, MEMORY_MB: 4096, DISK_GB: 20 });
    assert.deepEqual(flavorResources(flavor({ vcpus: 4, extraSpecs: { 'hw:cpu_policy': 'mixed', 'hw:cpu_dedicated_mask': '^0' } })), { VCPU: 1, PCPU: 3, MEMORY_MB: 4096, DISK_GB: 20 });
  });
  it('hw:cpu_policy=mixed falls back to the realtime mask', () => {
    assert.deepEqual(
      flavorResources(flavor({ vcpus: 4, extraSpecs: { 'hw:cpu_policy': 'mixed', 'hw:cpu_realtime': 'yes', 'hw:cpu_realtime_mask': '^0-1' } })),
      { VCPU: 2, PCPU: 2, MEMORY_MB: 4096, DISK_GB: 20 },
    );
  });
  it('hw:mem_encryption adds MEM_ENCRYPTION_CONTEXT; hw:pmem adds CUSTOM_PMEM_NAMESPACE_* per label', () => {
    assert.deepEqual(
      flavorResources(flavor({ extraSpecs: { 'hw:mem_encryption': 'True', 'hw:pmem': '4GB, 4GB,small-1' } })),
      { VCPU: 2, MEMORY_MB: 4096, DISK_GB: 20, MEM_ENCRYPTION_CONTEXT: 1, CUSTOM_PMEM_NAMESPACE_4GB: 2, CUSTOM_PMEM_NAMESPACE_SMALL_1: 1 },
    );
  });
  it('the lab flavors', () => {
    assert.deepEqual(flavorResources({ vcpus: 1, ramMb: 512, diskGb: 1, ephemeralGb: 0, swapMb: 0, extraSpecs: {} }), { VCPU: 1, MEMORY_MB: 512, DISK_GB: 1 });
    assert.deepEqual(flavorResources({ vcpus: 4, ramMb: 16384, diskGb: 1, ephemeralGb: 0, swapMb: 0, extraSpecs: {} }), { VCPU: 4, MEMORY_MB: 16384, DISK_GB: 1 });
  });

  it('parseCpuSpec and normalizeResourceClass', () => {
    assert.deepEqual([...parseCpuSpec('1-4,^3,6')].sort(), [1, 2, 4, 6]);
    assert.deepEqual([...parseCpuSpec('0-7,^2-5')].sort(), [0, 1, 6, 7]);
    assert.deepEqual([...parseCpuSpec(' 1 , ,2')].sort(), [1, 2]);
    assert.throws(() => parseCpuSpec('4-2'));
    assert.throws(() => parseCpuSpec('x'));
    assert.equal(normalizeResourceClass('PMEM_NAMESPACE_a.b-c'), 'CUSTOM_PMEM_NAMESPACE_A_B_C');
  });
});
