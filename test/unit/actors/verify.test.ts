import { strict as assert } from 'node:assert';
import { selectReturns } from '../../../src/actors/returns.js';
import { resolveHostRef } from '../../../src/actors/service.js';
import { verifyEmpty } from '../../../src/actors/verify.js';
import { cloudWith, clouds, deps } from './helpers.js';

describe('actors/verify (on the emulator)', () => {
  afterEach(() => clouds.closeAll());

  it('an empty host is empty on all four checks', async () => {
    const cloud = await cloudWith(2, [{ id: 'a', host: 'compute-02' }]);
    const d = deps(cloud);
    const ref = (await resolveHostRef(d, 'compute-01')).ref!;
    const v = await verifyEmpty(d, { ref, notes: {} });
    assert.equal(v.empty, true);
    assert.deepEqual(v.checks, { servers: 0, hypervisorServers: 0, allocations: 0, unfinishedMigrations: 0 });
  });

  it('lists what is left, in any state, with its reason; unconfirmed cold migrations and their allocations count', async () => {
    const cloud = await cloudWith(2, [{ id: 'err', name: 'broken', status: 'ERROR' }, { id: 'off', status: 'SHUTOFF' }]);
    const d = deps(cloud);
    const ref = (await resolveHostRef(d, 'compute-01')).ref!;
    await cloud.session.compute.coldMigrate('off', { host: null });
    await cloud.clock.sleep(60_000); // finished: VERIFY_RESIZE on compute-02, not confirmed
    const mig = cloud.emu.state.migrations({ type: 'migration' })[0]!;
    const v = await verifyEmpty(d, { ref, notes: { err: 'ERROR: remedy: reset state' } });
    assert.equal(v.empty, false);
    const by = Object.fromEntries(v.leftovers.map((l) => [`${l.kind}:${l.id}`, l]));
    assert.equal(by['server:err']!.reason, 'ERROR: remedy: reset state');
    assert.match(by[`migration:${mig.id}`]!.reason, /migration finished \(awaiting resize confirm\) to compute-02/);
    assert.match(by[`allocation:${mig.uuid}`]!.reason, new RegExp(`held by migration ${mig.id} of server off \\(finished\\)`));
    assert.equal(by['server:off'], undefined, 'the server itself is on compute-02 now');
  });

  it('reports an allocation whose consumer is not on the host as orphaned', async () => {
    const cloud = await cloudWith(2);
    const d = deps(cloud);
    const ref = (await resolveHostRef(d, 'compute-01')).ref!;
    // An allocation Placement still holds for a consumer that is no server here (e.g. one deleted while its compute was down).
    const placement = cloud.emu.state.cloud.nova.placement;
    const provider = cloud.emu.state.host('compute-01')!.providerUuid;
    placement.consumers.set('ghost-1', { projectId: 'p', userId: 'u', generation: 1, consumerType: 'INSTANCE', byRp: new Map([[provider, { VCPU: 2, MEMORY_MB: 2048 }]]) });
    placement.byProvider.get(provider)!.set('ghost-1', { VCPU: 2, MEMORY_MB: 2048 });
    const v = await verifyEmpty(d, { ref, notes: {} });
    assert.equal(v.leftovers.length, 1);
    assert.match(v.leftovers[0]!.reason, /consumer ghost-1 holds 2 VCPU, 2048 MEMORY_MB on compute-01 \(no server on the host: an orphaned allocation\?\)/);
  });
});

describe('actors/returns (on the emulator)', () => {
  afterEach(() => clouds.closeAll());

  it('selects only instances still on the host the drain put them, in the state they were moved in', async () => {
    const cloud = await cloudWith(3, [
      { id: 'back', host: 'compute-02' },
      { id: 'moved-on', host: 'compute-03' },
      { id: 'stopped', host: 'compute-02', status: 'SHUTOFF' },
      { id: 'cold', host: 'compute-02', status: 'SHUTOFF' },
    ]);
    const manifest = [
      { serverId: 'back', from: 'compute-01', to: 'compute-02', status: 'ACTIVE' },
      { serverId: 'moved-on', from: 'compute-01', to: 'compute-02', status: 'ACTIVE' },
      { serverId: 'stopped', from: 'compute-01', to: 'compute-02', status: 'ACTIVE' },
      { serverId: 'cold', from: 'compute-01', to: 'compute-02', method: 'cold' as const, status: 'SHUTOFF' },
      { serverId: 'deleted', from: 'compute-01', to: 'compute-02' },
      { serverId: 'other', from: 'compute-09', to: 'compute-02' },
    ];
    const out = await selectReturns(deps(cloud), { host: 'compute-01', since: null, manifest });
    assert.deepEqual(out.pool.map((r) => [r.serverId, r.method, r.source, r.pinnedHosts]), [
      ['back', 'live', 'compute-02', ['compute-01']],
      ['cold', 'cold', 'compute-02', ['compute-01']],
    ]);
    const why = Object.fromEntries(out.notReturned.map((n) => [n.serverId, n.reason]));
    assert.match(why['moved-on']!, /no longer on compute-02.*now ACTIVE on compute-03/);
    assert.match(why.stopped!, /SHUTOFF, not ACTIVE/);
    assert.match(why.deleted!, /deleted since/);
    assert.match(why.other!, /came from compute-09/);
    assert.equal(cloud.count('listServersOnHost'), 1, 'one listing per target host, not one call per instance');
  });
});
