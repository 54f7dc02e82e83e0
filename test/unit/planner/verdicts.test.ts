import { strict as assert } from 'node:assert';
import { capacityOf } from '../../../src/planner/capacity.js';
import { blockedByTargets, classify, describeCategory, hardwareFeatures } from '../../../src/planner/classify.js';
import { placeAll } from '../../../src/planner/place.js';
import type { ClassifyPolicy, PlaceableInstance, PlacementTarget } from '../../../src/planner/types.js';
import {
  blockMigrationNote,
  compareCpu,
  configDriveNote,
  copySeconds,
  dedicatedCpuProblem,
  formatCopyTime,
  instanceNotes,
  localDiskGb,
  topologyNotes,
} from '../../../src/planner/verdicts.js';
import { inventory, makeServer } from '../../support/builders.js';

const policy: ClassifyPolicy = { stopped: 'cold', shelved: 'offload', skipBlocked: false, admin: true };

function target(host: string, o: { pcpus?: number; usedPcpu?: number; zone?: string; liveExcluded?: string } = {}): PlacementTarget {
  return {
    host,
    zone: o.zone ?? 'nova',
    providerUuid: `rp-${host}`,
    capacity: capacityOf(inventory({ vcpus: 16, ramMb: 65536, ramReserved: 0, pcpus: o.pcpus }), o.usedPcpu ? { PCPU: o.usedPcpu } : {}),
    ...(o.liveExcluded ? { liveExcluded: o.liveExcluded } : {}),
  };
}

function pinnedInstance(pcpus: number, method: 'live' | 'cold' = 'live'): PlaceableInstance {
  return { serverId: 'db', name: 'db', method, request: { PCPU: pcpus, MEMORY_MB: 4096 }, availabilityZone: 'nova' };
}

describe('planner/verdicts', () => {
  describe('vGPU (resources:VGPU)', () => {
    it('a flavor asking VGPU=1 blocks a live migration (hardware), saying Nova refuses it before Xena', () => {
      const c = classify(makeServer({ status: 'ACTIVE', extraSpecs: { 'resources:VGPU': '1' } }), policy);
      assert.equal(c.class, 'blocked');
      assert.equal(c.category, 'hardware');
      assert.equal(c.blocking, true);
      assert.deepEqual(c.hardware, ['resources:VGPU']);
      assert.match(c.reason, /vGPU .*mediated device.*before Xena.*cannot be live-migrated/);
      assert.equal(c.override?.flag, '--skip-blocked');
      assert.match(c.remedy!, /openstack server stop/);
    });

    it('a granular group (resources1:VGPU) counts too; VGPU=0 or a non-number does not; a stopped vGPU instance is cold-migrated', () => {
      assert.deepEqual(hardwareFeatures({ 'resources1:VGPU': '2' }).map((h) => h.key), ['resources1:VGPU']);
      assert.deepEqual(hardwareFeatures({ 'resources:VGPU': '0' }), []);
      assert.deepEqual(hardwareFeatures({ 'resources:VGPU': 'x' }), []);
      assert.equal(classify(makeServer({ status: 'SHUTOFF', extraSpecs: { 'resources:VGPU': '1' } }), policy).class, 'cold');
    });
  });

  describe('dedicated CPUs', () => {
    it('no target with PCPU inventory: the instance, what it needs and every target are named', () => {
      const why = dedicatedCpuProblem(pinnedInstance(4), 'dedicated', [target('compute-02'), target('compute-03')]);
      assert.equal(why, 'needs 4 dedicated CPUs (hw:cpu_policy=dedicated); no target has PCPU inventory: compute-02, compute-03');
    });

    it('PCPU somewhere but not enough free: the largest free and how many targets have none', () => {
      const why = dedicatedCpuProblem(pinnedInstance(4), 'dedicated', [target('compute-02'), target('compute-03', { pcpus: 8, usedPcpu: 6 })]);
      assert.equal(why, 'needs 4 dedicated CPUs (hw:cpu_policy=dedicated); largest free: 2 PCPU on compute-03 (1 target(s) without PCPU inventory)');
    });

    it('a target with room for it, no PCPU asked, or no target at all: nothing to say', () => {
      assert.equal(dedicatedCpuProblem(pinnedInstance(4), 'dedicated', [target('compute-02'), target('compute-03', { pcpus: 8 })]), null);
      assert.equal(dedicatedCpuProblem({ ...pinnedInstance(0), request: { VCPU: 4 } }, undefined, [target('compute-02')]), null);
      assert.equal(dedicatedCpuProblem(pinnedInstance(4), 'dedicated', []), null);
    });

    it('only targets in its availability zone count', () => {
      const why = dedicatedCpuProblem(pinnedInstance(2), 'dedicated', [target('compute-02'), target('compute-09', { pcpus: 8, zone: 'other' })]);
      assert.match(why!, /no target has PCPU inventory: compute-02$/);
    });

    it('blockedByTargets makes a blocker of its own category with the --skip-blocked override; describeCategory names it', () => {
      const c = classify(makeServer({ status: 'ACTIVE', name: 'db', extraSpecs: { 'hw:cpu_policy': 'dedicated' } }), policy);
      const b = blockedByTargets(c, 'dedicated-cpu', 'needs 2 dedicated CPUs', 'add PCPU', policy);
      assert.equal(b.class, 'blocked');
      assert.equal(b.category, 'dedicated-cpu');
      assert.equal(b.blocking, true);
      assert.equal(b.reason, 'ACTIVE: needs 2 dedicated CPUs');
      assert.equal(b.override?.flag, '--skip-blocked');
      assert.equal(blockedByTargets(c, 'dedicated-cpu', 'x', 'y', { ...policy, skipBlocked: true }).blocking, false);
      assert.match(describeCategory('dedicated-cpu'), /dedicated CPUs/);
    });
  });

  describe('NUMA, huge pages, config drive', () => {
    it('hw:numa_nodes and huge-page sizes are notes (Nova checks the target), hw:mem_page_size=small is not', () => {
      const notes = topologyNotes({ 'hw:numa_nodes': '2', 'hw:mem_page_size': '1GB' });
      assert.equal(notes.length, 2);
      assert.match(notes[0]!, /^NUMA topology \(hw:numa_nodes=2\): the target must have matching NUMA cells; Nova checks it/);
      assert.match(notes[1]!, /^huge pages \(hw:mem_page_size=1GB\)/);
      for (const v of ['large', 'any', '2MB', '2048', '1GiB']) assert.equal(topologyNotes({ 'hw:mem_page_size': v }).length, 1, v);
      assert.deepEqual(topologyNotes({ 'hw:mem_page_size': 'small' }), []);
      assert.deepEqual(topologyNotes({}), []);
    });

    it('a config drive is a note for a live move only', () => {
      const s = makeServer({ status: 'ACTIVE' });
      s.configDrive = true;
      assert.equal(configDriveNote(s), 'config drive: live migration needs config_drive_format=vfat or block migration of the iso9660 drive');
      assert.deepEqual(instanceNotes(s, 'cold'), []);
      assert.equal(configDriveNote(makeServer({})), null);
    });

    it('classify keeps the notes of a live and a cold instance (not a blocker)', () => {
      const live = makeServer({ status: 'ACTIVE', extraSpecs: { 'hw:numa_nodes': '1' } });
      live.configDrive = true;
      const c = classify(live, policy);
      assert.equal(c.class, 'live');
      assert.equal(c.blocking, false);
      assert.equal(c.notes.length, 2);
      const cold = classify(makeServer({ status: 'SHUTOFF', extraSpecs: { 'hw:mem_page_size': 'large' } }), policy);
      assert.equal(cold.class, 'cold');
      assert.match(cold.notes[0]!, /^huge pages/);
    });
  });

  describe('block migration estimate', () => {
    it('local disk: root (unless volume-backed) + ephemeral + swap rounded up to GB', () => {
      assert.equal(localDiskGb(makeServer({ diskGb: 40, ephemeralGb: 1, swapMb: 512 })), 42);
      assert.equal(localDiskGb(makeServer({ diskGb: 40, imageId: null })), 0);
      assert.equal(localDiskGb(makeServer({ diskGb: 40, imageId: null, ephemeralGb: 10 })), 10);
    });

    it('~42 GB at an assumed 1 Gbit/s is ~6 min; formats seconds, minutes, hours', () => {
      assert.equal(blockMigrationNote(makeServer({ diskGb: 40, ephemeralGb: 1, swapMb: 1024 }), 'live'), 'block migration unless storage is shared: ~42 GB local disk, ~6 min at 1 Gbit/s (assumed)');
      assert.match(blockMigrationNote(makeServer({ diskGb: 20 }), 'cold')!, /^disk copy unless storage is shared: ~20 GB/);
      assert.equal(blockMigrationNote(makeServer({ diskGb: 40, imageId: null }), 'live'), null);
      assert.equal(Math.round(copySeconds(1)), 9);
      assert.equal(formatCopyTime(9), '~9 s');
      assert.equal(formatCopyTime(copySeconds(1000)), '~2 h 23 min');
    });
  });

  describe('CPU compatibility', () => {
    const intel = { vendor: 'Intel', model: 'Skylake', arch: 'x86_64' };
    const names = { source: 'compute-01', target: 'compute-03' };

    it('another vendor or architecture excludes the target for live migration', () => {
      const c = compareCpu(intel, { vendor: 'AMD', model: 'EPYC', arch: 'x86_64' }, names);
      assert.equal(c.excludeLive, "CPU vendor AMD differs from compute-01's Intel: excluded for live migration");
      assert.equal(c.warning, null);
      assert.match(compareCpu(intel, { ...intel, arch: 'aarch64' }, names).excludeLive!, /architecture aarch64/);
    });

    it('another model is a warning only; the same CPU, or an unknown one, says nothing', () => {
      const c = compareCpu(intel, { ...intel, model: 'Cascadelake' }, names);
      assert.equal(c.excludeLive, null);
      assert.equal(c.warning, "target compute-03: CPU model Cascadelake differs from compute-01's Skylake: Nova's libvirt driver compares CPUs; a host-passthrough or host-model guest may fail");
      assert.deepEqual(compareCpu(intel, { ...intel }, names), { excludeLive: null, warning: null });
      assert.deepEqual(compareCpu(null, intel, names), { excludeLive: null, warning: null });
      assert.deepEqual(compareCpu(intel, undefined, names), { excludeLive: null, warning: null });
    });

    it('placeAll keeps live instances off an excluded target, cold ones may go there; a live one with no other target is named with the reason', () => {
      const amd = target('compute-03', { liveExcluded: "CPU vendor AMD differs from compute-01's Intel: excluded for live migration" });
      const live: PlaceableInstance = { serverId: 'a', name: 'a', method: 'live', request: { VCPU: 1, MEMORY_MB: 1024 }, availabilityZone: 'nova' };
      const cold: PlaceableInstance = { ...live, serverId: 'b', name: 'b', method: 'cold', request: { VCPU: 1, MEMORY_MB: 2048 } };
      const r = placeAll([live, cold], [target('compute-02'), amd]);
      const byName = new Map(r.plans.map((p) => [p.name, p]));
      assert.equal(byName.get('a')!.target, 'compute-02');
      assert.deepEqual(byName.get('a')!.alternatives, []);
      assert.deepEqual([byName.get('b')!.target, ...byName.get('b')!.alternatives].sort(), ['compute-02', 'compute-03']);
      const alone = placeAll([live], [amd]);
      assert.equal(alone.plans[0]!.fits, false);
      assert.match(alone.plans[0]!.reason!, /no target can take it live: compute-03: CPU vendor AMD differs/);
    });
  });
});
