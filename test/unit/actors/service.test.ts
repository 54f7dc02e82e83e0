import { strict as assert } from 'node:assert';
import { disableServiceFor, enableServiceFor, resolveHostRef, restoreServiceFor, suggestHosts, waitServiceUp } from '../../../src/actors/service.js';
import { toServiceRecord } from '../../../src/actors/deps.js';
import { HttpError } from '../../../src/core/errors.js';
import type { ComputeApi } from '../../../src/openstack/api.js';
import { actorDeps as deps, closer, emulated, type Emulated, type HostOpts } from '../../support/emulated.js';
import { C, client } from '../../emulator/helpers.js';

const clouds = closer();
const open = async (...hosts: Array<string | HostOpts>) => clouds.track(await emulated({ hosts }));

/** The nova-compute service of `host` as Nova shows it (one GET, before the test counts). */
async function service(c: Emulated, host = 'compute-01') {
  const [svc] = await c.session.compute.listServices({ host, binary: 'nova-compute' });
  assert.ok(svc, host);
  return svc;
}

/** Another operator's `openstack compute service set --disable --disable-reason`. */
async function otherOperatorDisables(c: Emulated, reason: string, host = 'compute-01'): Promise<void> {
  const other = await client(c.emu);
  const r = await other.put(`${C}/os-services/${c.emu.state.host(host)!.serviceId}`, { status: 'disabled', disabled_reason: reason });
  assert.equal(r.status, 200);
}

/**
 * An unknown-outcome error from disableService, at the API seam. Stubbed on
 * purpose: the real client sends this PUT as idempotent and retries it, so it
 * never reports an unknown outcome for it; the actor still reconciles one (a
 * library caller may bring its own ComputeApi). `landed`: Nova applied it.
 */
function unknownOutcomeOnce(c: Emulated, landed: boolean): ComputeApi {
  const api = c.session.compute;
  let fired = false;
  return Object.assign(Object.create(api) as ComputeApi, {
    disableService: async (...args: Parameters<ComputeApi['disableService']>) => {
      if (fired) return api.disableService(...args);
      fired = true;
      if (landed) await api.disableService(...args);
      throw new HttpError('unknown-outcome', 'PUT timed out: outcome unknown', { status: 0, method: 'PUT', url: c.emu.url, service: 'compute' });
    },
  });
}

describe('actors/service (on the emulator)', () => {
  afterEach(() => clouds.closeAll());

  it('resolves the exact host (compute-1 is not compute-10), its FQDN hypervisor and provider', async () => {
    const cloud = await open({ name: 'compute-1', hypervisor_hostname: 'compute-1.example.org' }, { name: 'compute-10', hypervisor_hostname: 'compute-10.example.org' });
    const out = await resolveHostRef(deps(cloud), 'compute-1');
    assert.equal(out.found, true);
    assert.equal(out.ref!.service.host, 'compute-1');
    const h = cloud.emu.state.host('compute-1')!;
    assert.deepEqual(out.ref!.hypervisor, { id: h.providerUuid, hostname: 'compute-1.example.org' }, 'the compute node: its uuid is the provider uuid (2.53+)');
    assert.deepEqual(out.ref!.provider, { uuid: h.providerUuid, name: 'compute-1.example.org' });
    assert.deepEqual(out.warnings, []);
  });

  it('an unknown host is not found, with suggestions and no write', async () => {
    const cloud = await open({ name: 'compute-01.example.org' }, { name: 'compute-02', hypervisor_hostname: 'compute-02.example.org' });
    const out = await resolveHostRef(deps(cloud), 'compute-01');
    assert.equal(out.found, false);
    assert.equal(out.suggestions[0], 'compute-01.example.org', 'the FQDN of the short name first');
    assert.equal(cloud.count('disableService'), 0);
    assert.deepEqual(suggestHosts('cmp-9', ['a', 'b']), []);
  });

  it('disables with the marker, reads it back, and records the prior state: one read before the write, one after', async () => {
    const cloud = await open('compute-01');
    const before = toServiceRecord(await service(cloud));
    cloud.reset();
    const out = await disableServiceFor(deps(cloud), { runId: 'r1', reason: 'firmware', service: before, fresh: true, intent: 'disable' });
    assert.equal(out.kind, 'done');
    if (out.kind !== 'done') return;
    assert.equal(out.changed, true);
    assert.deepEqual(out.before, before);
    assert.equal(out.after.disabledReason, 'hostmaint:r1: firmware', 'after is what Nova shows');
    assert.equal(cloud.emu.state.host('compute-01')!.status, 'disabled');
    assert.deepEqual([cloud.count('listServices'), cloud.count('disableService')], [1, 1], 'a fresh decision is not read again before the write; read back after it');
  });

  it('keeps an adopted or foreign disable as it is, writing nothing', async () => {
    for (const reason of ['hostmaint:r0: patching', 'AUTO: Connection to libvirt lost: 1', 'Masakari detected host failed.', 'watcher_maintaining', 'bob: RAM swap']) {
      const cloud = await open({ name: 'compute-01', status: 'disabled', disabled_reason: reason });
      const out = await disableServiceFor(deps(cloud), { runId: 'r1', reason: 'x', service: toServiceRecord(await service(cloud)), fresh: true, intent: 'keep' });
      assert.equal(out.kind, 'done', reason);
      assert.equal(cloud.count('disableService'), 0);
      assert.equal(cloud.emu.state.host('compute-01')!.disabledReason, reason);
    }
  });

  it('a restored run reads first: a service changed since its decision sends it back to decide; its own marker found is the prior state enabled', async () => {
    const cloud = await open('compute-01');
    const seen = toServiceRecord(await service(cloud));
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
    const cloud = await open('compute-01');
    const seen = toServiceRecord(await service(cloud));
    // Another operator's disable lands right after ours, before our read back.
    const api = cloud.session.compute;
    const compute = Object.assign(Object.create(api) as ComputeApi, {
      disableService: async (...args: Parameters<ComputeApi['disableService']>) => {
        const ours = await api.disableService(...args);
        await otherOperatorDisables(cloud, 'hostmaint:other-run: theirs');
        return ours;
      },
    });
    const out = await disableServiceFor(deps(cloud, { compute }), { runId: 'r1', reason: 'x', service: seen, fresh: true, intent: 'disable' });
    assert.equal(out.kind === 'done' && out.after.disabledReason, 'hostmaint:other-run: theirs');
  });

  it('reconciles an unknown-outcome disable by reading the service', async () => {
    const cloud = await open('compute-01');
    const out = await disableServiceFor(deps(cloud, { compute: unknownOutcomeOnce(cloud, true) }), { runId: 'r1', reason: 'x', service: toServiceRecord(await service(cloud)), fresh: true, intent: 'disable' });
    assert.equal(out.kind === 'done' && out.after.status, 'disabled');
    const cloud2 = await open('compute-01');
    await assert.rejects(disableServiceFor(deps(cloud2, { compute: unknownOutcomeOnce(cloud2, false) }), { runId: 'r1', reason: 'x', service: toServiceRecord(await service(cloud2)), fresh: true, intent: 'disable' }), /outcome unknown/);
  });

  it('restores only our own disable, only when allowed', async () => {
    const cloud = await open({ name: 'compute-01', status: 'disabled', disabled_reason: 'hostmaint:r1: x' });
    const rec = toServiceRecord(await service(cloud));
    assert.equal((await restoreServiceFor(deps(cloud), { runId: 'r1', service: rec, mayEnable: false })).action, 'left-disabled');
    assert.equal(cloud.emu.state.host('compute-01')!.status, 'disabled');
    assert.equal((await restoreServiceFor(deps(cloud), { runId: 'r2', service: rec, mayEnable: true })).action, 'left-disabled');
    const ok = await restoreServiceFor(deps(cloud), { runId: 'r1', service: rec, mayEnable: true });
    assert.equal(ok.action, 'enabled');
    assert.equal(cloud.emu.state.host('compute-01')!.status, 'enabled');
    assert.equal(cloud.emu.state.host('compute-01')!.disabledReason, null);

    const other = await open({ name: 'compute-01', status: 'disabled', disabled_reason: 'AUTO: libvirt' });
    const r = await restoreServiceFor(deps(other), { runId: 'r1', service: toServiceRecord(await service(other)), mayEnable: true });
    assert.equal(r.action, 'left-foreign');
    assert.equal(other.count('enableService'), 0);
  });

  it('enable re-reads first and refuses a service changed since the decision; then reads it back', async () => {
    const cloud = await open({ name: 'compute-01', status: 'disabled', disabled_reason: 'hostmaint:r0: x' });
    const rec = toServiceRecord(await service(cloud));
    await otherOperatorDisables(cloud, 'watcher_maintaining');
    const no = await enableServiceFor(deps(cloud), { runId: 'u', service: rec });
    assert.match(no.refused!, /Watcher/);
    assert.equal(cloud.emu.state.host('compute-01')!.status, 'disabled');
    const now = toServiceRecord(await service(cloud));
    const yes = await enableServiceFor(deps(cloud), { runId: 'u', service: now });
    assert.equal(yes.changed, true);
    assert.equal(yes.after.status, 'enabled');
    assert.equal(cloud.emu.state.host('compute-01')!.status, 'enabled');
    const again = await enableServiceFor(deps(cloud), { runId: 'u', service: yes.after });
    assert.equal(again.changed, false);
    assert.equal(cloud.count('enableService'), 1);
  });

  it('waits for up, bounded', async () => {
    const cloud = await open({ name: 'compute-01', state: 'down' });
    const rec = toServiceRecord(await service(cloud));
    const d = deps(cloud);
    const timeout = await waitServiceUp(d, { service: rec, timeoutMs: 30_000, pollIntervalMs: 10_000 });
    assert.equal(timeout.up, false);
    assert.equal(timeout.waitedMs, 30_000);
    // nova-compute restarts: heartbeats resume 20 s into the second wait, found at the third look.
    cloud.emu.inject({ kind: 'host-down', host: 'compute-01', immediate: true, up_after_ms: 20_000 });
    const up = await waitServiceUp(d, { service: rec, timeoutMs: 600_000, pollIntervalMs: 10_000 });
    assert.equal(up.up, true);
    assert.equal(up.waitedMs, 20_000);
  });
});

describe('actors/service suggestions', () => {
  it('suggests the closest names first', () => {
    assert.deepEqual(suggestHosts('compute-1', ['compute-02', 'compute-01', 'compute-10', 'ctl-1']), ['compute-10', 'compute-01', 'compute-02']);
  });
});
