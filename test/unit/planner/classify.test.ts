import { strict as assert } from 'node:assert';
import { busyAfterWait, classify, hardwareFeatures } from '../../../src/planner/classify.js';
import type { ClassifyPolicy } from '../../../src/planner/types.js';
import { makeServer } from '../../support/builders.js';

const policy: ClassifyPolicy = { stopped: 'cold', shelved: 'offload', skipBlocked: false, admin: true };

describe('planner/classify', () => {
  // The table: status (+ task/lock/hardware) -> class, blocking, override flag
  const table: Array<{ name: string; spec: Parameters<typeof makeServer>[0]; pol?: Partial<ClassifyPolicy>; cls: string; blocking: boolean; flag?: string | null; category?: string | null }> = [
    { name: 'ACTIVE is live', spec: { status: 'ACTIVE' }, cls: 'live', blocking: false },
    { name: 'PAUSED is live', spec: { status: 'PAUSED' }, cls: 'live', blocking: false },
    { name: 'SHUTOFF is cold by default', spec: { status: 'SHUTOFF' }, cls: 'cold', blocking: false },
    { name: 'SHUTOFF with stopped=leave is left', spec: { status: 'SHUTOFF' }, pol: { stopped: 'leave' }, cls: 'leave', blocking: false },
    { name: 'SHUTOFF with stopped=fail blocks with --stopped', spec: { status: 'SHUTOFF' }, pol: { stopped: 'fail' }, cls: 'blocked', blocking: true, flag: '--stopped=cold|leave', category: 'stopped-policy' },
    { name: 'stopped=fail is not waived by skipBlocked', spec: { status: 'SHUTOFF' }, pol: { stopped: 'fail', skipBlocked: true }, cls: 'blocked', blocking: true },
    { name: 'SHELVED is offloaded by default', spec: { status: 'SHELVED' }, cls: 'offload', blocking: false },
    { name: 'SHELVED with shelved=leave is left', spec: { status: 'SHELVED' }, pol: { shelved: 'leave' }, cls: 'leave', blocking: false },
    { name: 'SHELVED with shelved=fail blocks', spec: { status: 'SHELVED' }, pol: { shelved: 'fail' }, cls: 'blocked', blocking: true, flag: '--shelved=offload|leave' },
    { name: 'SHELVED_OFFLOADED needs nothing', spec: { status: 'SHELVED_OFFLOADED', host: null }, cls: 'none', blocking: false },
    { name: 'SUSPENDED blocks with --skip-blocked', spec: { status: 'SUSPENDED' }, cls: 'blocked', blocking: true, flag: '--skip-blocked', category: 'suspended' },
    { name: 'RESCUE blocks', spec: { status: 'RESCUE' }, cls: 'blocked', blocking: true, category: 'rescue' },
    { name: 'ERROR blocks', spec: { status: 'ERROR', fault: 'disk full' }, cls: 'blocked', blocking: true, category: 'error' },
    { name: 'skipBlocked makes ERROR non-blocking', spec: { status: 'ERROR' }, pol: { skipBlocked: true }, cls: 'blocked', blocking: false },
    { name: 'BUILD waits', spec: { status: 'BUILD' }, cls: 'wait', blocking: false, category: 'busy' },
    { name: 'a busy task waits', spec: { status: 'ACTIVE', taskState: 'rebooting' }, cls: 'wait', blocking: false },
    { name: 'task migrating is adopted as live', spec: { status: 'MIGRATING', taskState: 'migrating' }, cls: 'live', blocking: false },
    { name: 'locked, not admin: blocked', spec: { status: 'ACTIVE', locked: true }, pol: { admin: false }, cls: 'blocked', blocking: true, category: 'locked' },
    { name: 'locked, admin: live with a note', spec: { status: 'ACTIVE', locked: true }, cls: 'live', blocking: false },
    { name: 'PCI passthrough cannot live-migrate', spec: { status: 'ACTIVE', extraSpecs: { 'pci_passthrough:alias': 'gpu:1' } }, cls: 'blocked', blocking: true, category: 'hardware' },
    { name: 'vTPM cannot live-migrate', spec: { status: 'ACTIVE', extraSpecs: { 'hw:tpm_version': '2.0' } }, cls: 'blocked', blocking: true, category: 'hardware' },
    { name: 'SEV cannot live-migrate', spec: { status: 'ACTIVE', extraSpecs: { 'hw:mem_encryption': 'True' } }, cls: 'blocked', blocking: true, category: 'hardware' },
    { name: 'hw:mem_encryption=false is fine', spec: { status: 'ACTIVE', extraSpecs: { 'hw:mem_encryption': 'false' } }, cls: 'live', blocking: false },
    { name: 'accelerators cannot live-migrate', spec: { status: 'ACTIVE', extraSpecs: { 'accel:device_profile': 'fpga' } }, cls: 'blocked', blocking: true },
    { name: 'stopped PCI instance can be cold-migrated', spec: { status: 'SHUTOFF', extraSpecs: { 'pci_passthrough:alias': 'gpu:1' } }, cls: 'cold', blocking: false },
    { name: 'stopped accelerator instance cannot move at all', spec: { status: 'SHUTOFF', extraSpecs: { 'accel:device_profile': 'fpga' } }, cls: 'blocked', blocking: true },
    { name: 'VERIFY_RESIZE blocks with confirm/revert remedy', spec: { status: 'VERIFY_RESIZE' }, cls: 'blocked', blocking: true, category: 'verify-resize' },
    { name: 'SOFT_DELETED blocks', spec: { status: 'SOFT_DELETED' }, cls: 'blocked', blocking: true, category: 'soft-deleted' },
    { name: 'unknown status blocks', spec: { status: 'WEIRD' }, cls: 'blocked', blocking: true, category: 'unsupported-state' },
  ];
  for (const row of table) {
    it(row.name, () => {
      const c = classify(makeServer(row.spec), { ...policy, ...row.pol });
      assert.equal(c.class, row.cls);
      assert.equal(c.blocking, row.blocking);
      if (row.flag !== undefined) assert.equal(c.override?.flag ?? null, row.flag);
      if (row.category !== undefined) assert.equal(c.category, row.category);
      if (c.class === 'blocked') assert.ok(c.remedy && c.remedy.length > 0, 'blocked instances carry a remedy');
    });
  }

  it('names the server id in the remedy', () => {
    const s = makeServer({ id: 'abc-123', status: 'SUSPENDED' });
    assert.match(classify(s, policy).remedy!, /openstack server resume abc-123/);
  });

  it('lists hardware features from extra specs', () => {
    const hw = hardwareFeatures({ 'pci_passthrough:alias': 'a:1', 'hw:tpm_model': 'tpm-crb', 'hw:cpu_policy': 'dedicated' });
    assert.deepEqual(hw.map((h) => h.key).sort(), ['hw:tpm_model', 'pci_passthrough:alias']);
  });

  it('turns a still-busy instance into a blocked one after the wait bound', () => {
    const c = classify(makeServer({ status: 'BUILD' }), policy);
    const after = busyAfterWait(c, 300_000, policy);
    assert.equal(after.class, 'blocked');
    assert.equal(after.blocking, true);
    assert.match(after.reason, /still busy after 300s/);
    assert.equal(after.override?.flag, '--skip-blocked');
    const skipped = busyAfterWait(c, 1000, { ...policy, skipBlocked: true });
    assert.equal(skipped.blocking, false);
  });
});
