import { strict as assert } from 'node:assert';
import { disableServiceFor, enableServiceFor, resolveHostRef, restoreServiceFor, suggestHosts, waitServiceUp } from '../../../src/actors/service.js';
import { toServiceRecord } from '../../../src/actors/deps.js';
import { FakeCloud, unknownOutcome } from '../../support/fake-cloud.js';
import { deps } from './helpers.js';

describe('actors/service', () => {
  it('resolves the exact host (compute-1 is not compute-10), its FQDN hypervisor and provider', async () => {
    const cloud = new FakeCloud({ hypervisorName: (h) => `${h}.example.org` });
    cloud.addHost('compute-1').addHost('compute-10');
    const out = await resolveHostRef(deps(cloud), 'compute-1');
    assert.equal(out.found, true);
    assert.equal(out.ref!.service.host, 'compute-1');
    assert.deepEqual(out.ref!.hypervisor, { id: 'hv-compute-1', hostname: 'compute-1.example.org' });
    assert.deepEqual(out.ref!.provider, { uuid: 'rp-compute-1', name: 'compute-1.example.org' });
    assert.deepEqual(out.warnings, []);
  });

  it('an unknown host is not found, with suggestions and no write', async () => {
    const cloud = new FakeCloud({ hypervisorName: (h) => `${h}.example.org` });
    cloud.addHost('compute-01.example.org').addHost('compute-02');
    const out = await resolveHostRef(deps(cloud), 'compute-01');
    assert.equal(out.found, false);
    assert.equal(out.suggestions[0], 'compute-01.example.org', 'the FQDN of the short name first');
    assert.equal(cloud.count('disableService'), 0);
    assert.deepEqual(suggestHosts('cmp-9', ['a', 'b']), []);
  });

  it('disables with the marker, reads it back, and records the prior state: one read before the write, one after', async () => {
    const cloud = new FakeCloud().addHost('compute-01');
    const before = toServiceRecord(cloud.service('compute-01'));
    cloud.reset();
    const out = await disableServiceFor(deps(cloud), { runId: 'r1', reason: 'firmware', service: before, fresh: true, intent: 'disable' });
    assert.equal(out.kind, 'done');
    if (out.kind !== 'done') return;
    assert.equal(out.changed, true);
    assert.deepEqual(out.before, before);
    assert.equal(out.after.disabledReason, 'hostmaint:r1: firmware', 'after is what Nova shows');
    assert.equal(cloud.service('compute-01').status, 'disabled');
    assert.deepEqual([cloud.count('listServices'), cloud.count('disableService')], [1, 1], 'a fresh decision is not read again before the write; read back after it');
  });

  it('keeps an adopted or foreign disable as it is, writing nothing', async () => {
    for (const reason of ['hostmaint:r0: patching', 'AUTO: Connection to libvirt lost: 1', 'Masakari detected host failed.', 'watcher_maintaining', 'bob: RAM swap']) {
      const cloud = new FakeCloud().addHost('compute-01', { status: 'disabled', disabledReason: reason });
      const out = await disableServiceFor(deps(cloud), { runId: 'r1', reason: 'x', service: toServiceRecord(cloud.service('compute-01')), fresh: true, intent: 'keep' });
      assert.equal(out.kind, 'done', reason);
      assert.equal(cloud.count('disableService'), 0);
      assert.equal(cloud.service('compute-01').disabledReason, reason);
    }
  });

  it('a restored run reads first: a service changed since its decision sends it back to decide; its own marker found is the prior state enabled', async () => {
    const cloud = new FakeCloud().addHost('compute-01');
    const seen = toServiceRecord(cloud.service('compute-01'));
    await disableServiceFor(deps(cloud), { runId: 'r1', reason: 'x', service: seen, fresh: true, intent: 'disable' });
    // Restored with its decision made on "enabled": Nova now shows its own marker: decide again.
    const changed = await disableServiceFor(deps(cloud), { runId: 'r1', reason: 'x', service: seen, fresh: false, intent: 'disable' });
    assert.equal(changed.kind, 'changed');
    if (changed.kind !== 'changed') return;
    assert.equal(changed.service.disabledReason, 'hostmaint:r1: x');
    const again = await disableServiceFor(deps(cloud), { runId: 'r1', reason: 'x', service: changed.service, fresh: false, intent: 'keep' });
    assert.equal(again.kind, 'done');
    if (again.kind !== 'done') return;
    assert.equal(again.changed, false);
    assert.equal(again.before.status, 'enabled');
    assert.equal(cloud.count('disableService'), 1, 'never a second write');
  });

  it('the read back shows who won when another writer overwrote the marker', async () => {
    const cloud = new FakeCloud().addHost('compute-01');
    const seen = toServiceRecord(cloud.service('compute-01'));
    cloud.afterCall('disableService', () => {
      const svc = cloud.service('compute-01');
      svc.disabledReason = 'hostmaint:other-run: theirs';
    });
    const out = await disableServiceFor(deps(cloud), { runId: 'r1', reason: 'x', service: seen, fresh: true, intent: 'disable' });
    assert.equal(out.kind === 'done' && out.after.disabledReason, 'hostmaint:other-run: theirs');
  });

  it('reconciles an unknown-outcome disable by reading the service', async () => {
    const cloud = new FakeCloud().addHost('compute-01');
    cloud.fail('disableService', unknownOutcome(), true);
    const out = await disableServiceFor(deps(cloud), { runId: 'r1', reason: 'x', service: toServiceRecord(cloud.service('compute-01')), fresh: true, intent: 'disable' });
    assert.equal(out.kind === 'done' && out.after.status, 'disabled');
    const cloud2 = new FakeCloud().addHost('compute-01');
    cloud2.fail('disableService', unknownOutcome(), false);
    await assert.rejects(disableServiceFor(deps(cloud2), { runId: 'r1', reason: 'x', service: toServiceRecord(cloud2.service('compute-01')), fresh: true, intent: 'disable' }), /outcome unknown/);
  });

  it('restores only our own disable, only when allowed', async () => {
    const cloud = new FakeCloud().addHost('compute-01', { status: 'disabled', disabledReason: 'hostmaint:r1: x' });
    const rec = toServiceRecord(cloud.service('compute-01'));
    assert.equal((await restoreServiceFor(deps(cloud), { runId: 'r1', service: rec, mayEnable: false })).action, 'left-disabled');
    assert.equal(cloud.service('compute-01').status, 'disabled');
    assert.equal((await restoreServiceFor(deps(cloud), { runId: 'r2', service: rec, mayEnable: true })).action, 'left-disabled');
    const ok = await restoreServiceFor(deps(cloud), { runId: 'r1', service: rec, mayEnable: true });
    assert.equal(ok.action, 'enabled');
    assert.equal(cloud.service('compute-01').status, 'enabled');
    assert.equal(cloud.service('compute-01').disabledReason, null);

    const other = new FakeCloud().addHost('compute-01', { status: 'disabled', disabledReason: 'AUTO: libvirt' });
    const r = await restoreServiceFor(deps(other), { runId: 'r1', service: toServiceRecord(other.service('compute-01')), mayEnable: true });
    assert.equal(r.action, 'left-foreign');
    assert.equal(other.count('enableService'), 0);
  });

  it('enable re-reads first and refuses a service changed since the decision; then reads it back', async () => {
    const cloud = new FakeCloud().addHost('compute-01', { status: 'disabled', disabledReason: 'hostmaint:r0: x' });
    const rec = toServiceRecord(cloud.service('compute-01'));
    cloud.service('compute-01').disabledReason = 'watcher_maintaining';
    const no = await enableServiceFor(deps(cloud), { runId: 'u', service: rec });
    assert.match(no.refused!, /Watcher/);
    assert.equal(cloud.service('compute-01').status, 'disabled');
    const now = toServiceRecord(cloud.service('compute-01'));
    const yes = await enableServiceFor(deps(cloud), { runId: 'u', service: now });
    assert.equal(yes.changed, true);
    assert.equal(yes.after.status, 'enabled');
    assert.equal(cloud.service('compute-01').status, 'enabled');
    const again = await enableServiceFor(deps(cloud), { runId: 'u', service: yes.after });
    assert.equal(again.changed, false);
    assert.equal(cloud.count('enableService'), 1);
  });

  it('waits for up, bounded', async () => {
    const cloud = new FakeCloud().addHost('compute-01', { state: 'down' });
    const rec = toServiceRecord(cloud.service('compute-01'));
    const d = deps(cloud);
    const timeout = await waitServiceUp(d, { service: rec, timeoutMs: 30_000, pollIntervalMs: 10_000 });
    assert.equal(timeout.up, false);
    assert.equal(timeout.waitedMs, 30_000);
    // The service comes up during the second wait: found at the third look, 20 s in.
    let sleeps = 0;
    const clock = d.clock;
    const upAfterTwo = {
      ...d,
      clock: {
        now: () => clock.now(),
        sleep: async (ms: number, signal?: AbortSignal) => {
          await clock.sleep(ms, signal);
          if (++sleeps === 2) cloud.service('compute-01').state = 'up';
        },
      },
    };
    const up = await waitServiceUp(upAfterTwo, { service: rec, timeoutMs: 600_000, pollIntervalMs: 10_000 });
    assert.equal(up.up, true);
    assert.equal(up.waitedMs, 20_000);
  });
});

describe('actors/service suggestions', () => {
  it('suggests the closest names first', () => {
    assert.deepEqual(suggestHosts('compute-1', ['compute-02', 'compute-01', 'compute-10', 'ctl-1']), ['compute-10', 'compute-01', 'compute-02']);
  });
});
