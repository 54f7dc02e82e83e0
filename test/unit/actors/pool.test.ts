import { strict as assert } from 'node:assert';
import { MAX_IN_FLIGHT, PROGRESS_READS_PER_POLL, poolTick, slotsSeen } from '../../../src/actors/pool.js';
import type { Migration } from '../../../src/openstack/types.js';
import type { InstanceRun } from '../../../src/machines/actor-io.js';
import type { Emulated } from '../../support/emulated.js';
import { cloudWith, clouds, deps, drive, run, SETTINGS, spyLiveMigrate, unfinished } from './helpers.js';

const types = (events: Array<{ type: string }>) => events.map((e) => e.type);
/** The host each live-migration request asked for (null: the scheduler chooses). */
const requestedHosts = (c: Emulated) => c.calls('liveMigrate').map((r) => (r.body as { 'os-migrateLive': { host: string | null } })['os-migrateLive'].host);
const server = (c: Emulated, id: string) => c.emu.state.server(id)!;
/** Progress reads of one server's migrations. */
const readsOf = (c: Emulated, id: string) => c.calls('getServerMigration').filter((r) => r.path.includes(`/servers/${id}/`)).length;

describe('actors/pool (one poll of the migration pool, on the emulator)', () => {
  afterEach(() => clouds.closeAll());

  it('live-migrates every instance, at most `concurrency` in flight, queued behind the source slot', async () => {
    const cloud = await cloudWith(3, [{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
    let maxInFlight = 0;
    const compute = spyLiveMigrate(cloud, () => (maxInFlight = Math.max(maxInFlight, unfinished(cloud))));
    const out = await drive(cloud, ['a', 'b', 'c'].map((id) => run(id)), {}, 5000, 500, deps(cloud, { compute }));
    assert.equal(maxInFlight, 2);
    for (const r of out.instances) {
      assert.equal(r.phase, 'done', r.serverId);
      assert.equal(r.attempts, 1);
      assert.ok(r.to && r.to !== 'compute-01');
      assert.equal(server(cloud, r.serverId).host, r.to);
      assert.equal(server(cloud, r.serverId).status, 'ACTIVE');
      assert.equal(r.migrationIds.length, 1);
    }
    assert.equal(cloud.count('liveMigrate'), 3);
    assert.deepEqual(requestedHosts(cloud), [null, null, null], 'the scheduler chooses');
    const ev = types(out.events);
    assert.ok(ev.includes('migration-queued'), 'the second waits for the compute slot: shown as queued');
    assert.ok(ev.includes('migration-progress'));
    assert.equal(ev.filter((t) => t === 'migration-completed').length, 3);
    const progress = out.events.filter((e) => e.type === 'migration-progress');
    assert.ok(progress.some((p) => p.type === 'migration-progress' && p.percent !== null && p.percent > 0 && p.memoryRemainingBytes !== null));
  });

  it('polls economically: per poll one listMigrations, the server listing only when a request may follow, per-server calls only for running migrations', async () => {
    const ids = Array.from({ length: 12 }, (_, i) => `vm-${i}`);
    // About 20 s each (512 MB at 200 MB/s while 175 MB/s are dirtied): a migration spans several polls.
    const cloud = await cloudWith(3, ids.map((id) => ({ id, vcpus: 1, ramMb: 512, migration: { dirty_rate_mbps: 175 } })));
    const methods = ['listServers', 'listServersOnHost', 'listMigrations', 'getServerMigration', 'liveMigrate', 'getServer', 'listInstanceActions', 'getInstanceAction'];
    const perTick: Array<Record<string, number>> = [];
    const d = deps(cloud);
    let pool = ids.map((id) => run(id));
    for (let i = 0; i < 400 && !pool.every((r) => r.phase === 'done' || r.phase === 'failed'); i++) {
      const before = Object.fromEntries(methods.map((m) => [m, cloud.count(m)]));
      const all = cloud.count();
      pool = (await poolTick(d, { runId: 'r', host: 'compute-01', instances: pool, settings: { ...SETTINGS, concurrency: 3 }, watch: null })).instances;
      const counts: Record<string, number> = {};
      for (const m of methods) if (cloud.count(m) > before[m]!) counts[m] = cloud.count(m) - before[m]!;
      // Any other request of this poll, under its path (none is expected).
      const named = Object.values(counts).reduce((a, b) => a + b, 0);
      if (cloud.count() - all > named) counts.other = cloud.count() - all - named;
      perTick.push(counts);
      await cloud.clock.sleep(5000);
    }
    assert.ok(pool.every((r) => r.phase === 'done'));
    for (const t of perTick) {
      assert.ok((t.listServers ?? 0) <= 1, 'at most one listing of the servers on the source');
      assert.equal(t.listServersOnHost, undefined, 'not the two-query listing with soft-deleted servers');
      assert.equal(t.listMigrations, 1);
      assert.ok((t.getServerMigration ?? 0) <= 1, 'one compute slot: at most one running migration to read');
      assert.ok((t.liveMigrate ?? 0) <= 3);
    }
    const listings = perTick.filter((t) => t.listServers).length;
    const withStarts = perTick.filter((t) => t.liveMigrate).length;
    assert.ok(listings < perTick.length / 2, `servers listed in ${listings} of ${perTick.length} polls: only when a request may follow (${withStarts} polls requested)`);
    const total = perTick.reduce((n, t) => n + Object.values(t).reduce((a, b) => a + b, 0), 0);
    const perInstance = (total - perTick.length * 2) / ids.length;
    assert.ok(perInstance <= 8, `one-off calls per instance: ${perInstance}`);
  });

  it("bound 'waiting' (drains): keeps `concurrency` requests queued ahead of the running one, so a freed slot is taken at once", async () => {
    const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
    const cloud = await cloudWith(3, ids.map((id) => ({ id })));
    let maxInFlight = 0;
    const compute = spyLiveMigrate(cloud, () => (maxInFlight = Math.max(maxInFlight, unfinished(cloud))));
    // About 28 s per migration, polls every 5 s: the slot frees between polls.
    const out = await drive(cloud, ids.map((id) => run(id)), { bound: 'waiting', concurrency: 2 }, 5000, 500, deps(cloud, { compute }));
    assert.ok(out.instances.every((r) => r.phase === 'done'));
    assert.equal(maxInFlight, 3, 'one running (the source has one slot) + two waiting');
    // A migration takes the source's slot when compute_pre_live_migration starts; it frees it when it is completed.
    const runs = cloud.emu.state
      .migrations({ type: 'live-migration' })
      .map((m) => {
        const action = cloud.emu.state.instanceActions(m.serverId).find((a) => a.action === 'live-migration')!;
        return { start: action.events.find((e) => e.event === 'compute_pre_live_migration')!.startTime, end: m.updatedAt };
      })
      .sort((a, b) => a.start - b.start);
    for (let i = 1; i < runs.length; i++) assert.equal(runs[i]!.start, runs[i - 1]!.end, `migration ${i + 1} starts the moment the slot frees`);
  });

  it("bound 'waiting' never has more than maxInFlight in flight (computes that run any number at once)", async () => {
    // Three sources with a free slot each: whatever is requested runs at once, so nothing ever waits.
    const src = (i: number) => `compute-0${(i % 3) + 1}`;
    const unlimited = { hostDefaults: { max_concurrent_live_migrations: 0 } };
    const cloud = await cloudWith(6, Array.from({ length: 6 }, (_, i) => ({ id: `v${i}`, host: src(i) })), unlimited);
    const runs = Array.from({ length: 6 }, (_, i) => run(`v${i}`, 'live', { source: src(i) }));
    let maxInFlight = 0;
    const compute = spyLiveMigrate(cloud, () => (maxInFlight = Math.max(maxInFlight, unfinished(cloud))));
    const out = await drive(cloud, runs, { bound: 'waiting', concurrency: 1, maxInFlight: 2 }, 5000, 500, deps(cloud, { compute }));
    assert.ok(out.instances.every((r) => r.phase === 'done'));
    assert.equal(maxInFlight, 2);
    assert.equal(MAX_IN_FLIGHT, 16, 'the default guard');
    // maxInFlight is never below concurrency.
    const c2 = await cloudWith(3, ['a', 'b', 'c', 'd'].map((id) => ({ id })));
    await poolTick(deps(c2), { runId: 'r', host: 'compute-01', instances: ['a', 'b', 'c', 'd'].map((id) => run(id)), settings: { ...SETTINGS, bound: 'waiting', concurrency: 4, maxInFlight: 3 }, watch: null });
    assert.equal(c2.count('liveMigrate'), 4);
  });

  it("slotsSeen: Nova's per-compute limit from the migration list (exact when one is queued)", () => {
    const mig = (id: number, status: string, source = 'compute-01', type = 'live-migration'): Migration =>
      ({ id, uuid: `m${id}`, serverId: `s${id}`, migrationType: type, status, sourceCompute: source, destCompute: null, sourceNode: null, destNode: null, destHost: null, projectId: null, userId: null, createdAt: null, updatedAt: null }) as Migration;
    const four = [mig(1, 'preparing'), mig(2, 'running'), mig(3, 'running'), mig(4, 'post-migrating'), mig(5, 'queued'), mig(6, 'queued'), mig(7, 'completed')];
    assert.equal(slotsSeen(four, 'compute-01'), 4);
    assert.equal(slotsSeen(four, 'compute-01', 3), 4, 'a queue is the exact answer, whatever ended');
    assert.equal(slotsSeen([mig(1, 'running'), mig(2, 'completed')], 'compute-01', 2), 6, 'no queue: twice what it got through in one interval');
    assert.equal(slotsSeen([mig(2, 'completed')], 'compute-01', 0), 0);
    assert.equal(slotsSeen([mig(1, 'running', 'compute-02'), mig(2, 'queued', 'compute-02')], 'compute-01'), 0, 'other sources do not count');
    assert.equal(slotsSeen([mig(1, 'migrating', 'compute-01', 'migration'), mig(2, 'queued')], 'compute-01'), 0, 'cold migrations hold no live slot');
  });

  it('reads progress for at most one running migration per poll, oldest read first, and still catches a stall in time', async () => {
    // a and b: busy guests (4096 MB at 200 MB/s while 166 MB/s are dirtied: about two minutes); c stalls once, then moves.
    const busy = { dirty_rate_mbps: 166 };
    const cloud = await cloudWith(4, [{ id: 'a', migration: busy }, { id: 'b', host: 'compute-02', migration: busy }, { id: 'c', host: 'compute-03' }], {
      faults: [{ kind: 'migration-stall', server: 'c', count: 1 }],
    });
    const runs = [run('a'), run('b', 'live', { source: 'compute-02' }), run('c', 'live', { source: 'compute-03' })];
    const out = await drive(cloud, runs, { stallTimeoutMs: 60_000 });
    assert.ok(out.instances.every((r) => r.phase === 'done'));
    const reads = cloud.calls('getServerMigration');
    assert.ok(out.callsPerTick.length > 0);
    // Three running at once for ~24 polls: one read per poll, plus a rare overdue one.
    assert.ok(reads.length <= out.ticks * PROGRESS_READS_PER_POLL + 6, `${reads.length} progress reads in ${out.ticks} polls`);
    const perServer = (id: string) => readsOf(cloud, id);
    assert.ok(perServer('a') >= 5 && perServer('b') >= 5, 'each running migration is read regularly');
    const c = out.instances.find((r) => r.serverId === 'c')!;
    assert.equal(c.attempts, 2, 'the stalled one was aborted and retried');
    const stalled = out.events.find((e) => e.type === 'migration-stalled');
    assert.ok(stalled && stalled.type === 'migration-stalled' && stalled.stalledForMs >= 60_000 && stalled.stalledForMs <= 60_000 + 15_000 + 5_000, `seen within a quarter of the stall timeout: ${stalled && 'stalledForMs' in stalled ? stalled.stalledForMs : ''}`);
  });

  it('stalled migration: aborted after stallTimeoutMs (default policy), then retried and done', async () => {
    const cloud = await cloudWith(3, [{ id: 'a' }], { faults: [{ kind: 'migration-stall', server: 'a', count: 1 }] });
    const out = await drive(cloud, [run('a')], { stallTimeoutMs: 60_000 });
    const r = out.instances[0]!;
    assert.equal(r.phase, 'done');
    assert.equal(r.attempts, 2);
    assert.match(r.errors[0]!, /^attempt 1: aborted by hostmaint: no memory progress for \d+s; aborted$/);
    assert.equal(cloud.count('abortMigration'), 1);
    assert.equal(cloud.count('forceCompleteMigration'), 0);
    const stalled = out.events.find((e) => e.type === 'migration-stalled');
    assert.ok(stalled && stalled.type === 'migration-stalled' && stalled.action === 'abort' && stalled.stalledForMs >= 60_000);
    assert.ok(types(out.events).indexOf('migration-retried') > types(out.events).indexOf('migration-stalled'));
    assert.equal(r.migrationIds.length, 2);
  });

  it('onTimeout=force-complete forces a stalled migration once, and it completes', async () => {
    const cloud = await cloudWith(2, [{ id: 'a' }], { faults: [{ kind: 'migration-stall', server: 'a' }] });
    const out = await drive(cloud, [run('a')], { stallTimeoutMs: 60_000, onTimeout: 'force-complete' });
    assert.equal(out.instances[0]!.phase, 'done');
    assert.equal(out.instances[0]!.attempts, 1);
    assert.equal(cloud.count('forceCompleteMigration'), 1);
    assert.equal(cloud.count('abortMigration'), 0);
    assert.match(out.instances[0]!.note!, /forced to complete/);
  });

  it('onTimeout=wait warns once and keeps waiting', async () => {
    const cloud = await cloudWith(2, [{ id: 'a' }], { faults: [{ kind: 'migration-stall', server: 'a' }] });
    await assert.rejects(drive(cloud, [run('a')], { stallTimeoutMs: 30_000, onTimeout: 'wait' }, 5000, 60), /did not finish/);
    assert.equal(cloud.count('abortMigration') + cloud.count('forceCompleteMigration'), 0);
    assert.equal(cloud.emu.state.migrations()[0]!.status, 'running');
  });

  it('a migration over migrationTimeoutMs is aborted even while progressing', async () => {
    // A busy guest: 4096 MB at 200 MB/s while 195 MB/s are dirtied (progressing, over ten minutes); once aborted, its workload goes quiet.
    const cloud = await cloudWith(2, [{ id: 'a', migration: { dirty_rate_mbps: 195 } }]);
    const api = cloud.session.compute;
    const compute = Object.assign(Object.create(api) as typeof api, {
      abortMigration: async (...args: Parameters<typeof api.abortMigration>) => {
        const r = await api.abortMigration(...args);
        cloud.emu.state.cloud.servers.get('a')!.dirtyRateMbps = 0;
        return r;
      },
    });
    const out = await drive(cloud, [run('a')], { migrationTimeoutMs: 120_000, stallTimeoutMs: 600_000 }, 5000, 500, deps(cloud, { compute }));
    assert.equal(out.instances[0]!.attempts, 2);
    assert.match(out.instances[0]!.errors[0]!, /running for \d+ min, over the 2 min limit; aborted/);
  });

  it('a failed migration is read for its reason, retried `retries` times, then failed; the instance stays where it was', async () => {
    const cloud = await cloudWith(2, [{ id: 'a' }], {
      faults: [{ kind: 'migration-fail', phase: 'precheck', server: 'a', count: 3, message: "Migration pre-check error: CPU doesn't have compatibility." }],
    });
    const out = await drive(cloud, [run('a')], { retries: 2 });
    const r = out.instances[0]!;
    assert.equal(r.phase, 'failed');
    assert.equal(r.attempts, 3);
    assert.equal(r.errors.length, 3);
    assert.match(r.errors[2]!, /attempt 3: migration error: conductor_live_migrate_instance: Migration pre-check error: CPU doesn't have compatibility\./);
    assert.equal(server(cloud, 'a').host, 'compute-01');
    assert.equal(server(cloud, 'a').status, 'ACTIVE');
    assert.equal(types(out.events).filter((t) => t === 'migration-retried').length, 2);
    const failed = out.events.find((e) => e.type === 'migration-failed');
    assert.ok(failed && failed.type === 'migration-failed' && failed.attempts === 3);
  });

  it('does not retry an instance a failure left in ERROR', async () => {
    const cloud = await cloudWith(2, [{ id: 'a' }], { faults: [{ kind: 'migration-error', server: 'a', message: 'libvirtError: internal error' }] });
    const out = await drive(cloud, [run('a')]);
    assert.equal(out.instances[0]!.phase, 'failed');
    assert.equal(out.instances[0]!.attempts, 1);
    assert.match(out.instances[0]!.errors[0]!, /the instance is in ERROR/);
  });

  it('an unknown-outcome POST that landed is reconciled, never sent twice', async () => {
    // The connection drops after Nova accepted the request: the client cannot know it landed.
    const cloud = await cloudWith(2, [{ id: 'a' }], { faults: [{ kind: 'reset', when: 'after', match: { action: 'os-migrateLive' }, count: 1 }] });
    const out = await drive(cloud, [run('a')]);
    assert.equal(out.instances[0]!.phase, 'done');
    assert.equal(out.instances[0]!.attempts, 1);
    assert.equal(cloud.count('liveMigrate'), 1);
  });

  it('an unknown-outcome POST that did not land fails the attempt after the grace period, then retries', async () => {
    // The connection drops once the request was sent, before Nova handled it.
    const cloud = await cloudWith(2, [{ id: 'a' }], { faults: [{ kind: 'reset', when: 'before', match: { action: 'os-migrateLive' }, count: 1 }] });
    const out = await drive(cloud, [run('a')], { requestGraceMs: 30_000 });
    assert.equal(out.instances[0]!.phase, 'done');
    assert.equal(out.instances[0]!.attempts, 2);
    assert.match(out.instances[0]!.errors[0]!, /no migration started within 30s/);
    assert.equal(cloud.count('liveMigrate'), 2);
  });

  it('is safe to repeat: re-running a poll whose output was lost adopts the migration instead of POSTing again', async () => {
    const cloud = await cloudWith(2, [{ id: 'a' }]);
    const d = deps(cloud);
    const input = { runId: 'r', host: 'compute-01', instances: [run('a')], settings: SETTINGS, watch: null };
    await poolTick(d, input); // POSTs; then the process "crashes" before the result is saved
    assert.equal(cloud.count('liveMigrate'), 1);
    const again = await poolTick(d, input); // restored run: same input
    assert.equal(cloud.count('liveMigrate'), 1, 'no second request');
    assert.equal(again.instances[0]!.adopted, true);
    assert.equal(again.instances[0]!.phase, 'requested');
    const out = await drive(cloud, again.instances);
    assert.equal(out.instances[0]!.phase, 'done');
    assert.equal(cloud.count('liveMigrate'), 1);
  });

  it('an instance already gone from the host is done without a request', async () => {
    const cloud = await cloudWith(2, [{ id: 'a', host: 'compute-02' }]);
    const out = await drive(cloud, [run('a')]);
    assert.equal(out.instances[0]!.phase, 'done');
    assert.equal(out.instances[0]!.to, 'compute-02');
    assert.equal(out.instances[0]!.note, 'already moved');
    assert.equal(cloud.count('liveMigrate'), 0);
  });

  it('an instance already moving (task_state migrating) is watched, not requested', async () => {
    const cloud = await cloudWith(2, [{ id: 'a' }]);
    await cloud.session.compute.liveMigrate('a', { host: null }); // someone else started it
    cloud.reset();
    const out = await drive(cloud, [run('a')]);
    assert.equal(out.instances[0]!.phase, 'done');
    assert.equal(out.instances[0]!.adopted, true);
    assert.equal(cloud.count('liveMigrate'), 0);
  });

  it('cold-migrates a SHUTOFF instance, confirms the resize, ends SHUTOFF on the new host', async () => {
    const cloud = await cloudWith(2, [{ id: 'c', status: 'SHUTOFF' }]);
    const out = await drive(cloud, [run('c', 'cold')]);
    assert.equal(out.instances[0]!.phase, 'done');
    assert.equal(server(cloud, 'c').host, 'compute-02');
    assert.equal(server(cloud, 'c').status, 'SHUTOFF');
    assert.equal(cloud.count('coldMigrate'), 1);
    assert.equal(cloud.count('confirmResize'), 1);
    assert.equal(cloud.emu.state.migrations({ type: 'migration' })[0]!.status, 'confirmed');
  });

  it('a confirm-resize refused with a 503 (not applied) is sent again at the next poll, not after the grace period', async () => {
    const elapsed = async (fault: boolean): Promise<{ ms: number; confirms: number; phase: string }> => {
      const cloud = await cloudWith(2, [{ id: 'c', status: 'SHUTOFF' }], fault ? { faults: [{ kind: 'http-error', status: 503, match: { action: 'confirmResize' }, count: 1 }] } : {});
      const start = cloud.clock.now();
      const out = await drive(cloud, [run('c', 'cold')], {}, 5000);
      return { ms: cloud.clock.now() - start, confirms: cloud.count('confirmResize'), phase: out.instances[0]!.phase };
    };
    const clean = await elapsed(false);
    const faulted = await elapsed(true);
    assert.equal(faulted.phase, 'done');
    assert.equal(faulted.confirms, 2);
    // the 503 costs one poll interval, not the grace period
    assert.equal(faulted.ms - clean.ms, 5000, `clean ${clean.ms} ms, with the 503 ${faulted.ms} ms`);
  });

  it('a confirm-resize whose answer was lost is not repeated before the grace period', async () => {
    const cloud = await cloudWith(2, [{ id: 'c', status: 'SHUTOFF' }], { faults: [{ kind: 'reset', when: 'after', match: { action: 'confirmResize' }, count: 1 }] });
    const out = await drive(cloud, [run('c', 'cold')]);
    assert.equal(out.instances[0]!.phase, 'done');
    assert.equal(cloud.count('confirmResize'), 1);
  });

  it('shelve-offloads a SHELVED instance until SHELVED_OFFLOADED', async () => {
    const cloud = await cloudWith(2, [{ id: 's', status: 'SHELVED' }]);
    const out = await drive(cloud, [run('s', 'offload')]);
    assert.equal(out.instances[0]!.phase, 'done');
    assert.equal(out.instances[0]!.to, null);
    assert.equal(server(cloud, 's').status, 'SHELVED_OFFLOADED');
    assert.equal(server(cloud, 's').host, null);
  });

  it('pinned hosts are requested in order, the next one on retry (Nova still validates)', async () => {
    const cloud = await cloudWith(4, [{ id: 'a' }], { faults: [{ kind: 'migration-fail', phase: 'precheck', server: 'a', count: 1 }] });
    const out = await drive(cloud, [run('a', 'live', { pinnedHosts: ['compute-03', 'compute-04'] })]);
    assert.deepEqual(requestedHosts(cloud), ['compute-03', 'compute-04']);
    assert.equal(out.instances[0]!.to, 'compute-04');
  });

  it('does not move an instance whose state changed since the preflight', async () => {
    const cloud = await cloudWith(2, [{ id: 'a', status: 'SHUTOFF' }]);
    const out = await drive(cloud, [run('a')]);
    assert.equal(out.instances[0]!.phase, 'failed');
    assert.match(out.instances[0]!.errors[0]!, /status changed from ACTIVE to SHUTOFF since the preflight; not moved/);
    assert.equal(cloud.count('liveMigrate'), 0);
  });

  it('a 409 from the POST fails that attempt with Nova\'s message, then retries', async () => {
    const cloud = await cloudWith(2, [{ id: 'a' }], { faults: [{ kind: 'http-error', status: 409, message: 'Instance a is locked', match: { action: 'os-migrateLive' }, count: 1 }] });
    const out = await drive(cloud, [run('a')]);
    assert.equal(out.instances[0]!.phase, 'done');
    assert.match(out.instances[0]!.errors[0]!, /live migration request refused: Instance a is locked/);
  });

  it('a failed poll reports the error and leaves the pool as it was', async () => {
    const cloud = await cloudWith(2, [{ id: 'a' }]);
    const d = deps(cloud);
    await cloud.emu.stop(); // the cloud is gone: every request is refused
    const input: InstanceRun[] = [run('a')];
    const out = await poolTick(d, { runId: 'r', host: 'compute-01', instances: input, settings: SETTINGS, watch: null });
    assert.match(out.error!, /ECONNREFUSED/);
    assert.deepEqual(out.instances, input);
    assert.equal(cloud.count('liveMigrate'), 0);
  });

  it('an instance deleted during the drain is done with a note', async () => {
    const cloud = await cloudWith(2, [{ id: 'a' }]);
    const d = deps(cloud);
    const first = await poolTick(d, { runId: 'r', host: 'compute-01', instances: [run('a'), run('gone')], settings: SETTINGS, watch: null });
    const gone = first.instances.find((r) => r.serverId === 'gone')!;
    assert.equal(gone.phase, 'done');
    assert.equal(gone.note, 'deleted during the drain');
  });

  describe('the instance policy stop (issue 19): stop, cold-migrate, confirm, start, reconciled at every step', () => {
    const stopRun = (id: string, o: Partial<InstanceRun> = {}) => run(id, 'cold', { originalStatus: 'ACTIVE', stopFirst: true, ...o });

    it('an ACTIVE server: one stop, one migrate, one confirm, one start; ACTIVE on another host', async () => {
      const cloud = await cloudWith(3, [{ id: 'a' }]);
      const out = await drive(cloud, [stopRun('a')], {}, 2000);
      assert.equal(out.instances[0]!.phase, 'done', JSON.stringify(out.instances[0]));
      assert.deepEqual(['stopServer', 'coldMigrate', 'confirmResize', 'startServer'].map((m) => cloud.count(m)), [1, 1, 1, 1]);
      assert.equal(server(cloud, 'a').status, 'ACTIVE');
      assert.notEqual(server(cloud, 'a').host, 'compute-01');
    });

    it('a resumed run whose stop was already asked (stage stopping) but whose migration is already under way: no second stop, no second migrate', async () => {
      const cloud = await cloudWith(3, [{ id: 'a', status: 'SHUTOFF' }]);
      // Before the crash: stopped, and the migrate request went out; the saved pool still says stopping.
      await cloud.session.compute.coldMigrate('a', { host: null });
      const out = await drive(cloud, [stopRun('a', { phase: 'requested', stage: 'stopping', attempts: 1, requestedAt: 0 })], {}, 2000);
      assert.equal(out.instances[0]!.phase, 'done', JSON.stringify(out.instances[0]));
      assert.equal(cloud.count('stopServer'), 0);
      assert.equal(cloud.count('coldMigrate'), 1, 'only the one from before the crash');
      assert.equal(server(cloud, 'a').status, 'ACTIVE', 'started again on its new host');
    });

    it('a stop still powering off when the run is retried: watched, never asked twice, never migrated half-stopped', async () => {
      const cloud = await cloudWith(3, [{ id: 'a', taskState: 'powering-off' }]);
      const out = await poolTick(deps(cloud), { runId: 'r1', host: 'compute-01', instances: [stopRun('a')], settings: SETTINGS, watch: null });
      assert.equal(out.instances[0]!.stage, 'stopping');
      assert.equal(cloud.count('stopServer') + cloud.count('coldMigrate'), 0);
    });

    it('stopped after the drain\'s deadline: not migrated, started again on its source', async () => {
      const cloud = await cloudWith(3, [{ id: 'a', status: 'SHUTOFF' }]);
      const out = await drive(cloud, [stopRun('a', { phase: 'requested', stage: 'stopping', attempts: 1, requestedAt: 0 })], { deadlineAt: 1 }, 2000);
      assert.equal(out.instances[0]!.phase, 'failed');
      assert.match(out.instances[0]!.errors.join(' '), /deadline \(--deadline\) passed/);
      assert.equal(cloud.count('coldMigrate'), 0);
      assert.equal(server(cloud, 'a').host, 'compute-01');
      assert.equal(server(cloud, 'a').status, 'ACTIVE', 'started again where it was');
    });

    it('its cold migration refused for good (after the stop): the server is started again on its source', async () => {
      const cloud = await cloudWith(3, [{ id: 'a' }], { faults: [{ kind: 'http-error', status: 400, match: { action: 'migrate' }, message: 'No valid host was found.' }] });
      const out = await drive(cloud, [stopRun('a')], { retries: 0 }, 2000);
      assert.equal(out.instances[0]!.phase, 'failed');
      assert.equal(server(cloud, 'a').host, 'compute-01');
      assert.equal(server(cloud, 'a').status, 'ACTIVE', 'started again where it was');
      assert.equal(cloud.count('startServer'), 1);
    });
  });
});
