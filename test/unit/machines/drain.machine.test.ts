import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { createActor, SimulatedClock, type SnapshotFrom } from 'xstate';
import { drainMachine } from '../../../src/machines/drain.machine.js';
import { exitCodeFor } from '../../../src/machines/exit-codes.js';
import { toDrainResult } from '../../../src/machines/result.js';
import { resolveDrainOptions } from '../../../src/policies/options.js';
import { type DrainEventDraft } from '../../../src/machines/events.js';
import { type DrainOptions } from '../../../src/machines/options.js';
import { type PoolTickInput } from '../../../src/machines/actor-io.js';
import { emptyVerification, fakeDrainActors, progressingTick, ref, report, settle, svc, type FakeScript } from './helpers.js';

const timings = { startedAt: '', finishedAt: '', durationMs: 0, phases: [] };

function start(script: FakeScript = {}, options: DrainOptions = {}, clock = new SimulatedClock()) {
  const { actors, rec } = fakeDrainActors(script, clock);
  const machine = drainMachine.provide({ actors });
  const actor = createActor(machine, { input: { runId: 'run-1', host: 'compute-01', options: resolveDrainOptions({ pollIntervalMs: 5000, ...options }) }, clock });
  const events: DrainEventDraft[] = [];
  actor.on('progress', (e) => events.push(e.event));
  actor.start();
  return { actor, rec, events, clock, machine };
}

type Snap = SnapshotFrom<typeof drainMachine>;

async function runToEnd(actor: ReturnType<typeof start>['actor'], clock: SimulatedClock, step = 5000): Promise<Snap> {
  for (let i = 0; i < 200; i++) {
    await settle();
    if (actor.getSnapshot().status !== 'active') return actor.getSnapshot();
    clock.increment(step);
  }
  throw new Error(`machine did not finish: ${JSON.stringify(actor.getSnapshot().value)}`);
}

describe('workflow/drain.machine', () => {
  it('is pure: imports only xstate and the workflow itself', () => {
    for (const f of ['drain.machine.ts', 'undrain.machine.ts', 'options.ts', 'records.ts', 'events.ts', 'actor-io.ts', 'results.ts', 'contexts.ts', 'plan.ts', 'pool.ts', 'result.ts', 'outcome.ts', 'marker.ts']) {
      const src = readFileSync(new URL(`../../../src/machines/${f}`, import.meta.url), 'utf8');
      const imports = [...src.matchAll(/^import\s+(type\s+)?[^'"]*from\s+'([^']+)'/gm)].map((m) => ({ typeOnly: !!m[1], from: m[2]! }));
      for (const i of imports) {
        const ok = i.from === 'xstate' || i.from.startsWith('./');
        assert.ok(ok, `${f} imports ${i.from}`);
      }
    }
  });

  it('drains: resolving -> disablingService -> preflight -> migrating -> verifyingEmpty -> handedOver', async () => {
    const { actor, rec, events, clock } = start();
    const seen: string[] = [];
    actor.subscribe((s) => {
      const v = JSON.stringify(s.value);
      if (seen[seen.length - 1] !== v) seen.push(v);
    });
    const snap = await runToEnd(actor, clock);
    assert.equal(snap.value, 'handedOver');
    assert.equal(snap.context.outcome, 'drained');
    // resolving is the initial snapshot (before subscribe)
    assert.deepEqual(seen.slice(0, 5), ['"disablingService"', '"preflight"', '{"migrating":"polling"}', '{"migrating":"waiting"}', '{"migrating":"polling"}']);
    assert.deepEqual(seen.slice(-2), ['"verifyingEmpty"', '"handedOver"']);
    assert.equal(rec.calls.disableService!.length, 1);
    assert.equal(rec.calls.restoreService, undefined, 'a successful drain never touches the service again');
    assert.deepEqual(
      snap.context.pool.map((r) => [r.serverId, r.phase, r.to]),
      [
        ['vm-1', 'done', 'compute-02'],
        ['vm-2', 'done', 'compute-02'],
      ],
    );
    const types = events.map((e) => (e.type === 'phase-changed' ? `phase:${e.phase}` : e.type));
    assert.deepEqual(types.slice(0, 4), ['run-started', 'phase:resolving', 'phase:disablingService', 'service-changed']);
    assert.ok(types.includes('instance-classified') && types.includes('preflight-finished') && types.includes('migration-completed') && types.includes('verification'));
    assert.equal(types[types.length - 1], 'run-finished');
    const fin = events[events.length - 1]!;
    assert.ok(fin.type === 'run-finished' && fin.exitCode === 0);
    for (const e of events) assert.ok(e.runId === 'run-1' && e.host === 'compute-01');
    const result = toDrainResult(snap.context, timings);
    assert.deepEqual(result.manifest.map((m) => [m.serverId, m.from, m.to]), [
      ['vm-1', 'compute-01', 'compute-02'],
      ['vm-2', 'compute-01', 'compute-02'],
    ]);
  });

  it('waits pollIntervalMs between polls on the (simulated) clock, not on wall time', async () => {
    const { actor, rec, clock } = start({}, { pollIntervalMs: 60_000 });
    await settle();
    assert.deepEqual(actor.getSnapshot().value, { migrating: 'waiting' });
    assert.equal(rec.calls.poolTick!.length, 1);
    clock.increment(59_999);
    await settle();
    assert.equal(rec.calls.poolTick!.length, 1, 'no poll before the interval');
    clock.increment(1);
    await settle();
    assert.equal(rec.calls.poolTick!.length, 2);
    assert.deepEqual(rec.calls.pause, [{ ms: 60_000 }, { ms: 60_000 }]);
  });

  it('refuses an unknown host without changing anything (exit 2)', async () => {
    const { actor, rec, clock } = start({ resolve: { found: false, ref: null, suggestions: ['compute-01.example.org'], warnings: [], markerRun: null } });
    const snap = await runToEnd(actor, clock);
    assert.equal(snap.value, 'refused');
    assert.equal(snap.context.outcome, 'unknown-host');
    assert.equal(exitCodeFor(snap.context.outcome!), 2);
    assert.equal(rec.calls.disableService, undefined);
    assert.match(toDrainResult(snap.context, timings).message, /did you mean compute-01\.example\.org/);
  });

  it('on a refused preflight puts the service back to exactly its prior state (exit 3)', async () => {
    const { actor, rec, clock, events } = start({ preflight: report(false) });
    const snap = await runToEnd(actor, clock);
    assert.equal(snap.value, 'refused');
    assert.equal(snap.context.outcome, 'preflight-refused');
    assert.equal(exitCodeFor('preflight-refused'), 3);
    assert.equal(rec.calls.restoreService!.length, 1);
    const restoreInput = rec.calls.restoreService![0] as { mayEnable: boolean; runId: string };
    assert.equal(restoreInput.mayEnable, true);
    assert.equal(restoreInput.runId, 'run-1');
    assert.equal(rec.calls.poolTick, undefined, 'nothing moved');
    assert.deepEqual(snap.context.service.after, svc(), 'enabled again with no reason, as before');
    assert.equal(snap.context.service.restored, true);
    assert.ok(events.some((e) => e.type === 'service-changed' && e.action === 'restored'));
    const result = toDrainResult(snap.context, timings);
    assert.equal(result.exitCode, 3);
    assert.match(result.message, /the service is back in its prior state/);
    assert.equal(result.instances.every((i) => i.status === 'not-moved'), true);
  });

  it('adopts a disable by an earlier hostmaint run this machine knows is over, and leaves it in place when refusing', async () => {
    const prior = svc({ status: 'disabled', disabledReason: 'hostmaint:run-0: kernel upgrade' });
    const run0 = { runId: 'run-0', command: 'drain', host: 'compute-01', finished: true, state: 'finished', who: 'alice@ops', startedAt: '2024-01-01T00:00:00.000Z' };
    const { actor, rec, clock } = start({
      resolve: { found: true, ref: ref({ status: 'disabled', disabledReason: prior.disabledReason }), suggestions: [], warnings: [], markerRun: run0 },
      disable: { kind: 'done', before: prior, after: prior, changed: false },
      preflight: report(false),
    });
    const snap = await runToEnd(actor, clock);
    assert.equal(snap.context.service.ownership, 'adopted');
    assert.equal(snap.context.service.adoptedRunId, 'run-0');
    assert.equal((rec.calls.restoreService![0] as { mayEnable: boolean }).mayEnable, false, 'never enables an adopted disable');
    assert.deepEqual(snap.context.service.after, prior);
    assert.equal(snap.context.service.restored, true, 'it is in its prior state: disabled with the earlier marker');
  });

  it("drains under someone else's disable, records it is not ours, and never enables it", async () => {
    const prior = svc({ status: 'disabled', disabledReason: 'AUTO: Connection to libvirt lost: 1' });
    const { actor, rec, clock } = start({
      resolve: { found: true, ref: ref({ status: 'disabled', disabledReason: prior.disabledReason }), suggestions: [], warnings: [], markerRun: null },
      disable: { kind: 'done', before: prior, after: prior, changed: false },
      verify: { empty: false, leftovers: [{ kind: 'server', id: 'vm-9', name: 'vm-9', status: 'ERROR', reason: 'ERROR: still on the host' }], service: null, checks: { servers: 1, hypervisorServers: 1, allocations: 1, unfinishedMigrations: 0 } },
    });
    const snap = await runToEnd(actor, clock);
    assert.equal(snap.value, 'partial');
    assert.equal(snap.context.service.ownership, 'foreign');
    assert.ok(snap.context.warnings.some((w) => /already disabled by Nova's libvirt driver.*undrain will not enable it/.test(w)));
    assert.equal(rec.calls.restoreService, undefined);
    const result = toDrainResult(snap.context, timings);
    assert.equal(result.outcome, 'partial');
    assert.equal(result.exitCode, 4);
    assert.deepEqual(result.leftovers.map((l) => l.id), ['vm-9']);
    assert.match(result.message, /not empty: 2 moved, 0 failed, 1 instance\(s\) still on the host; the service stays disabled/);
  });

  it('plan mode (dryRun) resolves and plans read-only: no disable, no restore', async () => {
    const ok = start({}, { dryRun: true });
    const snap = await runToEnd(ok.actor, ok.clock);
    assert.equal(snap.value, 'planned');
    assert.equal(snap.context.outcome, 'planned');
    assert.equal(ok.rec.calls.disableService, undefined);
    assert.equal(ok.rec.calls.poolTick, undefined);
    const bad = start({ preflight: report(false) }, { dryRun: true });
    const snap2 = await runToEnd(bad.actor, bad.clock);
    assert.equal(snap2.context.outcome, 'preflight-refused');
    assert.equal(bad.rec.calls.disableService, undefined);
    assert.equal(bad.rec.calls.restoreService, undefined);
    assert.match(toDrainResult(snap2.context, timings).message, /nothing was changed/);
  });

  it('goes to verifyingEmpty straight away when there is nothing to move', async () => {
    const { actor, rec, clock } = start({ preflight: report(true, []) });
    const snap = await runToEnd(actor, clock);
    assert.equal(snap.value, 'handedOver');
    assert.equal(rec.calls.poolTick!.length, 1, 'one tick sees an empty pool');
  });

  it('carries per-instance failures as data and ends partial (service stays disabled)', async () => {
    const tick = (input: PoolTickInput) => ({
      instances: input.instances.map((r) => (r.serverId === 'vm-2' ? { ...r, phase: 'failed' as const, attempts: 3, errors: ['attempt 1: x', 'attempt 2: x', 'attempt 3: No valid host'] } : { ...r, phase: 'done' as const, to: 'compute-03' })),
      events: [],
      error: null,
      at: 0,
      service: null,
    });
    const { actor, rec, clock } = start({
      tick,
      verify: { empty: false, leftovers: [{ kind: 'server', id: 'vm-2', name: 'vm-2', status: 'ACTIVE', reason: 'migration failed' }], service: null, checks: { servers: 1, hypervisorServers: 1, allocations: 1, unfinishedMigrations: 0 } },
    });
    const snap = await runToEnd(actor, clock);
    assert.equal(snap.value, 'partial');
    assert.equal(snap.status, 'done', 'a failed instance is not a machine error');
    const notes = (rec.calls.verifyEmpty![0] as { notes: Record<string, string> }).notes;
    assert.match(notes['vm-2']!, /failed after 3 attempt\(s\): attempt 3: No valid host/);
    const result = toDrainResult(snap.context, timings);
    const vm2 = result.instances.find((i) => i.serverId === 'vm-2')!;
    assert.equal(vm2.status, 'failed');
    assert.equal(vm2.attempts, 3);
    assert.equal(result.manifest.length, 1);
    assert.equal(rec.calls.restoreService, undefined);
  });

  it('gives up after maxPollErrors failed polls; re-enables only because nothing moved and it was ours', async () => {
    const { actor, rec, clock } = start({ tick: (input) => ({ instances: input.instances, events: [], error: 'connect ECONNREFUSED', at: 0, service: null }) }, { maxPollErrors: 3 });
    const snap = await runToEnd(actor, clock);
    assert.equal(snap.value, 'failed');
    assert.equal(snap.context.outcome, 'cloud-unreachable');
    assert.equal(exitCodeFor('cloud-unreachable'), 6);
    assert.equal(rec.calls.poolTick!.length, 3);
    assert.equal((rec.calls.restoreService![0] as { mayEnable: boolean }).mayEnable, true);
    assert.equal(snap.context.warnings.filter((w) => /poll failed/.test(w)).length, 3);
  });

  it('does not re-enable after a failure once something moved', async () => {
    let n = 0;
    const { actor, rec, clock } = start({
      tick: (input) => {
        n++;
        if (n === 1) return progressingTick(input);
        return { instances: input.instances, events: [], error: 'HTTP 503', at: 0, service: null };
      },
    }, { maxPollErrors: 2 });
    const snap = await runToEnd(actor, clock);
    assert.equal(snap.value, 'failed');
    assert.equal((rec.calls.restoreService![0] as { mayEnable: boolean }).mayEnable, false, 'vm-1 is running: it may be leaving');
    assert.match(toDrainResult(snap.context, timings).message, /the service stays disabled/);
  });

  it('a resolve error (auth, network) ends cloud-unreachable without touching the service', async () => {
    const { actor, rec, clock } = start({
      resolve: () => {
        throw Object.assign(new Error('The request you have made requires authentication.'), { kind: 'auth', status: 401 });
      },
    });
    const snap = await runToEnd(actor, clock);
    assert.equal(snap.value, 'failed');
    assert.equal(snap.context.outcome, 'cloud-unreachable');
    assert.equal(snap.context.error?.status, 401);
    assert.equal(rec.calls.disableService, undefined);
    assert.equal(rec.calls.restoreService, undefined);
  });

  it('a failed disable goes through restoringService (which reconciles) and fails', async () => {
    const { actor, rec, clock } = start({
      disable: () => {
        throw Object.assign(new Error('boom'), { kind: 'server-error', status: 500 });
      },
    });
    const snap = await runToEnd(actor, clock);
    assert.equal(snap.value, 'failed');
    assert.equal(snap.context.outcome, 'error');
    assert.equal((rec.calls.restoreService![0] as { mayEnable: boolean }).mayEnable, true);
  });

  it('interrupt stops where it is: outcome interrupted (130), service stays disabled', async () => {
    const { actor, rec, clock } = start();
    await settle();
    assert.deepEqual(actor.getSnapshot().value, { migrating: 'waiting' });
    actor.send({ type: 'interrupt', reason: 'SIGINT' });
    const snap = await runToEnd(actor, clock);
    assert.equal(snap.value, 'interrupted');
    assert.equal(exitCodeFor(snap.context.outcome!), 130);
    assert.equal(rec.calls.restoreService, undefined);
    assert.match(toDrainResult(snap.context, timings).message, /interrupted: 0 moved so far/);
  });

  it('a persisted snapshot taken mid-migration survives a JSON round trip and the run continues', async () => {
    const clock = new SimulatedClock();
    const first = start({}, {}, clock);
    await settle();
    clock.increment(5000);
    await settle();
    // vm-1 done or running; now in waiting with a pause in flight
    const live = first.actor.getSnapshot();
    assert.deepEqual(live.value, { migrating: 'waiting' });
    const persisted = JSON.parse(JSON.stringify(first.actor.getPersistedSnapshot()));
    first.actor.stop();

    const clock2 = new SimulatedClock();
    const { actors, rec } = fakeDrainActors({}, clock2);
    const restored = createActor(drainMachine.provide({ actors }), { snapshot: persisted, clock: clock2, input: undefined as never /* ignored: the context comes from the snapshot */ });
    const events: DrainEventDraft[] = [];
    restored.on('progress', (e) => events.push(e.event));
    restored.start();
    assert.deepEqual(restored.getSnapshot().context.pool, live.context.pool, 'the pool (phases, attempts) is restored as it was');
    const snap = await runToEnd(restored, clock2);
    assert.equal(snap.value, 'handedOver');
    assert.equal(rec.calls.resolveHost, undefined, 'no phase before migrating runs again');
    assert.equal(rec.calls.disableService, undefined);
    assert.ok(rec.calls.pause!.length >= 1, 'the in-flight pause actor was restarted on restore');
    assert.ok(!events.some((e) => e.type === 'run-started'));
  });

  it('restoring a snapshot taken while a poll is in flight re-runs that poll with the same input', async () => {
    const clock = new SimulatedClock();
    let release: (() => void) | null = null;
    const first = start(
      {
        tick: (input, n) =>
          n === 0
            ? progressingTick(input)
            : new Promise((resolve) => {
                release = () => resolve(progressingTick(input));
              }),
      },
      {},
      clock,
    );
    await settle();
    clock.increment(5000);
    await settle();
    assert.deepEqual(first.actor.getSnapshot().value, { migrating: 'polling' });
    assert.ok(release, 'second poll in flight');
    const inFlightInput = first.rec.calls.poolTick![1];
    const persisted = JSON.parse(JSON.stringify(first.actor.getPersistedSnapshot()));
    first.actor.stop();

    const clock2 = new SimulatedClock();
    const { actors, rec } = fakeDrainActors({}, clock2);
    const restored = createActor(drainMachine.provide({ actors }), { snapshot: persisted, clock: clock2, input: undefined as never /* ignored: the context comes from the snapshot */ });
    restored.start();
    await settle();
    assert.deepEqual(rec.calls.poolTick![0], inFlightInput, 'the crashed poll is re-run from its persisted input');
    const snap = await runToEnd(restored, clock2);
    assert.equal(snap.value, 'handedOver');
  });

  it('never lets an actor error escape as machine status error', async () => {
    for (const bad of ['preflight', 'tick', 'verify'] as const) {
      const boom = () => {
        throw new Error(`${bad} exploded`);
      };
      const { actor, clock } = start({ [bad]: boom } as FakeScript);
      const snap = await runToEnd(actor, clock);
      assert.equal(snap.status, 'done', bad);
      assert.equal(snap.value, 'failed', bad);
      assert.match(snap.context.error!.message, new RegExp(`${bad} exploded`));
    }
  });

  it('reports phases in order in the event stream of a refused preflight', async () => {
    const { actor, clock, events } = start({ preflight: report(false) });
    await runToEnd(actor, clock);
    const phases = events.filter((e) => e.type === 'phase-changed').map((e) => (e as { phase: string }).phase);
    assert.deepEqual(phases, ['resolving', 'disablingService', 'preflight', 'restoringService', 'done']);
  });

  it('the verify input explains blocked and failed instances', async () => {
    const rep = report(true, ['vm-1']);
    rep.instances.push({ ...rep.instances[0]!, serverId: 'vm-s', name: 'vm-s', class: 'blocked', reason: 'SUSPENDED: cannot be migrated', remedy: 'resume it', blocking: false });
    const { actor, rec, clock } = start({ preflight: rep, verify: emptyVerification });
    await runToEnd(actor, clock);
    const notes = (rec.calls.verifyEmpty![0] as { notes: Record<string, string> }).notes;
    assert.equal(notes['vm-s'], 'SUSPENDED: cannot be migrated (remedy: resume it)');
  });
});
