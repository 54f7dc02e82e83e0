import { strict as assert } from 'node:assert';
import { drainHost, undrainHost, type PersistedRun } from '../../../src/library/drain.js';
import { memoryLogger } from '../../../src/core/log.js';
import type { DrainEvent } from '../../../src/machines/events.js';
import { closer, emulated, type Emulated, type ServerOpts } from '../../support/emulated.js';
import { C, client } from '../../emulator/helpers.js';

const clouds = closer();

/** compute-01..03 (hypervisors by FQDN) on the emulator, with `servers` (on compute-01 unless said). */
async function cloud3(servers: ServerOpts[] = [], o: { compute01?: { status: 'disabled'; disabled_reason: string } } = {}): Promise<Emulated> {
  const hosts = ['compute-01', 'compute-02', 'compute-03'].map((name) => ({ name, hypervisor_hostname: `${name}.example.org`, ...(name === 'compute-01' ? o.compute01 : {}) }));
  return clouds.track(await emulated({ hosts, servers }));
}

function deps(cloud: Emulated, events: DrainEvent[] = []) {
  return { logger: memoryLogger(), clock: cloud.clock, emit: (e: DrainEvent) => events.push(e), net: { resolve: async () => '192.0.2.10', routeTo: async () => null, probeTcp: async () => true } };
}

/** What hostmaint changed in the cloud: every request but a read. */
const writes = (cloud: Emulated) => cloud.emu.requests.records.filter((r) => (r.service === 'compute' || r.service === 'placement') && r.method !== 'GET');

describe('drainHost / undrainHost (library, on the emulator)', () => {
  afterEach(() => clouds.closeAll());

  it('drains a host: every instance off it, service disabled with our marker, exit 0, JSON result and NDJSON events', async () => {
    const cloud = await cloud3([
      ...['a1', 'a2', 'a3'].map((id) => ({ id, name: `web-${id}` })),
      { id: 'p1', status: 'PAUSED' },
      { id: 's1', status: 'SHUTOFF' },
      { id: 'h1', status: 'SHELVED' },
      { id: 'o1', status: 'SHELVED_OFFLOADED', host: null },
    ]);
    const events: DrainEvent[] = [];
    const result = await drainHost(cloud.session, 'compute-01', { runId: 'run-42', reason: 'BIOS update', pollIntervalMs: 5000 }, deps(cloud, events));

    assert.equal(result.outcome, 'drained', result.message);
    assert.equal(result.exitCode, 0);
    assert.equal(cloud.emu.state.host('compute-01')!.status, 'disabled');
    assert.equal(cloud.emu.state.host('compute-01')!.disabledReason, 'hostmaint:run-42: BIOS update');
    assert.equal(cloud.emu.state.serversOn('compute-01').length, 0);
    assert.equal(cloud.emu.state.server('p1')!.status, 'PAUSED');
    assert.equal(cloud.emu.state.server('s1')!.status, 'SHUTOFF');
    assert.equal(cloud.emu.state.server('h1')!.status, 'SHELVED_OFFLOADED');

    assert.deepEqual(JSON.parse(JSON.stringify(result)), result, 'plain JSON');
    assert.equal(result.service.ownership, 'ours');
    assert.equal(result.service.before?.status, 'enabled');
    assert.equal(result.service.after?.status, 'disabled');
    assert.deepEqual(result.hypervisor, { id: cloud.emu.state.host('compute-01')!.providerUuid, hostname: 'compute-01.example.org' }, 'the compute node (its uuid is the provider uuid)');
    const by = Object.fromEntries(result.instances.map((i) => [i.serverId, i]));
    assert.equal(by.a1!.status, 'moved');
    assert.equal(by.a1!.method, 'live');
    assert.equal(by.s1!.method, 'cold');
    assert.equal(by.h1!.status, 'offloaded');
    assert.equal(by.o1, undefined, 'SHELVED_OFFLOADED has no host: not on the host at all');
    assert.ok(by.a1!.durationMs! > 0 && by.a1!.migrationIds.length === 1 && by.a1!.startedAt);
    assert.deepEqual(result.manifest.map((m) => m.serverId).sort(), ['a1', 'a2', 'a3', 'p1', 's1']);
    assert.equal(result.verification?.empty, true);
    assert.deepEqual(result.timings.phases.map((p) => p.phase), ['resolving', 'disablingService', 'preflight', 'migrating', 'verifyingEmpty']);
    assert.ok(result.timings.durationMs > 0);

    assert.equal(events[0]!.type, 'run-started');
    assert.equal(events[events.length - 1]!.type, 'run-finished');
    for (const e of events) {
      assert.equal(e.runId, 'run-42');
      assert.equal(e.host, 'compute-01');
      assert.ok(!Number.isNaN(Date.parse(e.time)), 'ISO time');
      assert.deepEqual(JSON.parse(JSON.stringify(e)), e, `plain JSON: ${e.type}`);
    }
  });

  it('undrain with returnInstances moves back exactly what the drain moved, then enables', async () => {
    const cloud = await cloud3([{ id: 'a1' }, { id: 'a2' }, { id: 's1', status: 'SHUTOFF' }]);
    const drained = await drainHost(cloud.session, 'compute-01', { runId: 'd1', pollIntervalMs: 5000 }, deps(cloud));
    assert.equal(drained.outcome, 'drained');
    // Its owner stopped it meanwhile: stays where it is.
    assert.equal((await (await client(cloud.emu)).post(`${C}/servers/a2/action`, { 'os-stop': null })).status, 202);
    await cloud.clock.sleep(10_000);
    assert.equal(cloud.emu.state.server('a2')!.status, 'SHUTOFF');
    const events: DrainEvent[] = [];
    // A runbook that drained and undrains says which of its runs are over (the CLI's saved runs do it); an unknown marker is refused.
    const refused = await undrainHost(cloud.session, 'compute-01', { pollIntervalMs: 5000 }, deps(cloud));
    assert.equal(refused.outcome, 'ownership-refused');
    assert.match(refused.message, /hostmaint run d1 .*this machine has no record of it/);
    const runs = { lookup: async (id: string) => (id === 'd1' ? { runId: 'd1', command: 'drain', host: 'compute-01', finished: true, state: 'finished', who: 'runbook', startedAt: drained.timings.startedAt } : null) };
    const undrained = await undrainHost(cloud.session, 'compute-01', { returnInstances: true, manifest: drained.manifest, pollIntervalMs: 5000 }, { ...deps(cloud, events), runs });
    assert.equal(undrained.outcome, 'undrained', undrained.message);
    assert.equal(undrained.exitCode, 0);
    assert.equal(cloud.emu.state.host('compute-01')!.status, 'enabled');
    assert.equal(cloud.emu.state.server('a1')!.host, 'compute-01');
    assert.equal(cloud.emu.state.server('s1')!.host, 'compute-01');
    assert.equal(cloud.emu.state.server('s1')!.status, 'SHUTOFF');
    assert.notEqual(cloud.emu.state.server('a2')!.host, 'compute-01');
    assert.deepEqual(undrained.returns.map((r) => [r.serverId, r.status]).sort(), [
      ['a1', 'moved'],
      ['s1', 'moved'],
    ]);
    assert.deepEqual(undrained.notReturned.map((n) => n.serverId), ['a2']);
    assert.equal(undrained.service.before?.disabledReason, 'hostmaint:d1: maintenance');
    assert.ok(events.some((e) => e.type === 'migration-completed'));
  });

  it('resumes from a persisted snapshot (JSON) taken mid-migration: no second request, same result', async () => {
    const cloud = await cloud3(['a1', 'a2', 'a3', 'a4'].map((id) => ({ id })));
    const box: { saved: PersistedRun | null } = { saved: null };
    const stop = new AbortController();
    const first = await drainHost(cloud.session, 'compute-01', { runId: 'r-crash', pollIntervalMs: 5000 }, {
      ...deps(cloud),
      signal: stop.signal,
      onSnapshot: (p) => {
        const pool = (p.snapshot as { context: { pool: Array<{ phase: string }> } }).context.pool;
        if (!box.saved && pool.some((r) => r.phase === 'running')) {
          box.saved = JSON.parse(JSON.stringify(p)) as PersistedRun;
          stop.abort(new Error('SIGKILL'));
        }
      },
    });
    assert.equal(first.outcome, 'interrupted');
    assert.equal(first.exitCode, 130);
    assert.ok(box.saved, 'a snapshot was saved mid-migration');
    const requestsBefore = cloud.count('liveMigrate');
    assert.ok(requestsBefore >= 1 && requestsBefore < 4);
    const resumed = await drainHost(cloud.session, 'compute-01', {}, { ...deps(cloud), snapshot: box.saved.snapshot });
    assert.equal(resumed.outcome, 'drained', resumed.message);
    assert.equal(resumed.runId, 'r-crash');
    assert.equal(cloud.count('liveMigrate'), 4, 'each instance requested exactly once across both processes');
    assert.equal(cloud.count('disableService'), 1);
    await assert.rejects(drainHost(cloud.session, 'compute-02', {}, { ...deps(cloud), snapshot: box.saved.snapshot }), /is for host compute-01, not compute-02/);
  });

  it('plan mode is read-only', async () => {
    const cloud = await cloud3([{ id: 'a1' }]);
    const r = await drainHost(cloud.session, 'compute-01', { dryRun: true }, deps(cloud));
    assert.equal(r.outcome, 'planned');
    assert.equal(r.exitCode, 0);
    assert.equal(r.plan.length, 1);
    assert.deepEqual(writes(cloud), []);
    assert.equal(r.instances[0]!.status, 'not-moved');
    assert.match(r.instances[0]!.reason!, /^plan: ACTIVE: live migration -> compute-0[23]$/);
  });

  it('a refused preflight changes nothing and puts the service back exactly (exit 3)', async () => {
    const cloud = await cloud3([{ id: 'a1' }, { id: 'x', name: 'suspended-db', status: 'SUSPENDED' }]);
    const r = await drainHost(cloud.session, 'compute-01', {}, deps(cloud));
    assert.equal(r.outcome, 'preflight-refused');
    assert.equal(r.exitCode, 3);
    assert.equal(cloud.emu.state.host('compute-01')!.status, 'enabled');
    assert.equal(cloud.emu.state.host('compute-01')!.disabledReason, null);
    assert.equal(cloud.count('liveMigrate'), 0);
    assert.equal(r.service.restored, true);
    assert.match(r.preflight!.blocking[0]!.message, /SUSPENDED instances cannot be migrated: suspended-db \(override: --skip-blocked\)/);
    const skipped = await drainHost(cloud.session, 'compute-01', { skipBlocked: true }, deps(cloud));
    assert.equal(skipped.outcome, 'partial');
    assert.equal(skipped.exitCode, 4);
    assert.deepEqual(skipped.leftovers.map((l) => l.id), ['x']);
    assert.match(skipped.leftovers[0]!.reason, /SUSPENDED: cannot be migrated \(remedy: resume it/);
    assert.equal(skipped.instances.find((i) => i.serverId === 'x')!.status, 'skipped');
  });

  it("drains under someone else's disable, keeps their reason, and undrain refuses it (exit 5)", async () => {
    const cloud = await cloud3([{ id: 'a1' }], { compute01: { status: 'disabled', disabled_reason: 'AUTO: Connection to libvirt lost: 1' } });
    const r = await drainHost(cloud.session, 'compute-01', {}, deps(cloud));
    assert.equal(r.outcome, 'drained');
    assert.equal(r.service.ownership, 'foreign');
    assert.equal(cloud.emu.state.host('compute-01')!.disabledReason, 'AUTO: Connection to libvirt lost: 1');
    const u = await undrainHost(cloud.session, 'compute-01', {}, deps(cloud));
    assert.equal(u.outcome, 'ownership-refused');
    assert.equal(u.exitCode, 5);
    assert.equal(cloud.emu.state.host('compute-01')!.status, 'disabled');
    const forced = await undrainHost(cloud.session, 'compute-01', { force: true }, deps(cloud));
    assert.equal(forced.outcome, 'undrained');
    assert.equal(forced.service.forced, true);
    const again = await undrainHost(cloud.session, 'compute-01', {}, deps(cloud));
    assert.equal(again.outcome, 'already-enabled');
  });

  it('an unknown host exits 2 and a throwing progress handler does not break the run', async () => {
    const cloud = await cloud3();
    const r = await drainHost(cloud.session, 'compute-1', {}, { ...deps(cloud), emit: () => { throw new Error('broken pipe'); } });
    assert.equal(r.outcome, 'unknown-host');
    assert.equal(r.exitCode, 2);
    assert.match(r.message, /did you mean compute-01/);
    assert.equal(cloud.count('disableService'), 0);
  });

  it('locks out non-admins from locked instances (admin from the session roles)', async () => {
    const cloud = await cloud3([{ id: 'l1', locked: true }]);
    // The admin's clients, with the roles of a project member: whether hostmaint acts as admin is read from the session's roles.
    const session = { ...cloud.session, identity: { ...cloud.session.identity, roles: ['member'] } };
    const r = await drainHost(session as never, 'compute-01', { dryRun: true }, deps(cloud));
    assert.equal(r.outcome, 'preflight-refused');
    assert.equal(r.preflight!.blocking[0]!.category, 'locked');
    const admin = await drainHost(cloud.session, 'compute-01', { dryRun: true }, deps(cloud));
    assert.equal(admin.outcome, 'planned');
    assert.ok(admin.warnings.some((w) => /locked.*moved as admin/.test(w)));
  });
});
