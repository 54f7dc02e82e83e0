import { strict as assert } from 'node:assert';
import { createActor, fromPromise, SimulatedClock } from 'xstate';
import { undrainMachine } from '../../../src/machines/undrain.machine.js';
import { toUndrainResult } from '../../../src/machines/result.js';
import { resolveUndrainOptions } from '../../../src/policies/options.js';
import { type DrainEventDraft } from '../../../src/machines/events.js';
import { type EnableInput, type EnableOutput, type PauseInput, type PoolTickInput, type PoolTickOutput, type ReadServiceInput, type ResolveOutput, type SelectReturnsInput, type SelectReturnsOutput, type WaitUpInput, type WaitUpOutput } from '../../../src/machines/actor-io.js';
import { type UndrainOptions } from '../../../src/machines/options.js';
import type { ServiceRecord } from '../../../src/machines/records.js';
import { progressingTick, ref, runs, settle, svc } from './helpers.js';

const timings = { startedAt: '', finishedAt: '', durationMs: 0, phases: [] };

interface Script {
  resolve?: ResolveOutput;
  waitUp?: (i: WaitUpInput) => WaitUpOutput;
  enable?: (i: EnableInput) => EnableOutput;
  select?: (i: SelectReturnsInput) => SelectReturnsOutput;
  tick?: (i: PoolTickInput) => PoolTickOutput;
  read?: (i: ReadServiceInput) => ServiceRecord;
}

/** The drain that disabled the host, as this machine saved it: over. */
const RUN_1 = { runId: 'run-1', command: 'drain', host: 'compute-01', finished: true, state: 'finished', who: 'alice@ops', startedAt: '2024-01-01T09:30:00.000Z' };

function start(script: Script, options: UndrainOptions = {}) {
  const clock = new SimulatedClock();
  const calls: Record<string, unknown[]> = {};
  const log = (n: string, i: unknown) => (calls[n] ??= []).push(structuredClone(i));
  const actors = {
    resolveHost: fromPromise<ResolveOutput, { host: string }>(async ({ input }) => {
      log('resolveHost', input);
      return script.resolve ?? { found: true, ref: ref({ status: 'disabled', disabledReason: 'hostmaint:run-1: maintenance' }), suggestions: [], warnings: [], markerRun: RUN_1 };
    }),
    waitServiceUp: fromPromise<WaitUpOutput, WaitUpInput>(async ({ input }) => {
      log('waitServiceUp', input);
      return script.waitUp ? script.waitUp(input) : { up: true, service: input.service, waitedMs: 0 };
    }),
    enableService: fromPromise<EnableOutput, EnableInput>(async ({ input }) => {
      log('enableService', input);
      return script.enable ? script.enable(input) : { after: { ...input.service, status: 'enabled', disabledReason: null }, changed: true, refused: null };
    }),
    selectReturns: fromPromise<SelectReturnsOutput, SelectReturnsInput>(async ({ input }) => {
      log('selectReturns', input);
      return script.select ? script.select(input) : { pool: [], notReturned: [] };
    }),
    poolTick: fromPromise<PoolTickOutput, PoolTickInput>(async ({ input }) => {
      log('poolTick', input);
      return (script.tick ?? progressingTick)(input);
    }),
    readService: fromPromise<ServiceRecord, ReadServiceInput>(async ({ input }) => {
      log('readService', input);
      return script.read ? script.read(input) : input.service;
    }),
    pause: fromPromise<void, PauseInput>(({ input, signal }) => {
      log('pause', input);
      return new Promise<void>((resolve) => {
        const id = clock.setTimeout(resolve, input.ms);
        signal.addEventListener('abort', () => clock.clearTimeout(id));
      });
    }),
  };
  const actor = createActor(undrainMachine.provide({ actors }), { input: { runId: 'u-1', host: 'compute-01', options: resolveUndrainOptions(options) }, clock });
  const events: DrainEventDraft[] = [];
  actor.on('progress', (e) => events.push(e.event));
  actor.start();
  const finish = async () => {
    for (let i = 0; i < 100; i++) {
      await settle();
      if (actor.getSnapshot().status !== 'active') return actor.getSnapshot();
      clock.increment(5000);
    }
    throw new Error('did not finish');
  };
  return { actor, calls, events, finish };
}

describe('workflow/undrain.machine', () => {
  it("enables a service hostmaint disabled (exit 0)", async () => {
    const { calls, finish, events } = start({});
    const snap = await finish();
    assert.equal(snap.value, 'done');
    assert.equal(snap.context.outcome, 'undrained');
    assert.equal(calls.enableService!.length, 1);
    assert.equal(snap.context.after?.status, 'enabled');
    assert.equal(snap.context.forced, false);
    assert.ok(events.some((e) => e.type === 'service-changed' && e.action === 'enabled'));
    assert.equal(toUndrainResult(snap.context, timings).exitCode, 0);
  });

  it('an enabled host is a no-op that says so', async () => {
    const { calls, finish } = start({ resolve: { found: true, ref: ref(), suggestions: [], warnings: [], markerRun: null } }, { returnInstances: true, manifest: [{ serverId: 'a', from: 'compute-01', to: 'compute-02' }] });
    const snap = await finish();
    assert.equal(snap.value, 'alreadyEnabled');
    assert.equal(calls.enableService, undefined);
    assert.equal(calls.selectReturns, undefined);
    const r = toUndrainResult(snap.context, timings);
    assert.equal(r.outcome, 'already-enabled');
    assert.equal(r.exitCode, 0);
    assert.match(r.message, /already enabled: nothing to do/);
  });

  it("refuses someone else's disable (exit 5) unless forced", async () => {
    const foreign = { found: true, ref: ref({ status: 'disabled', disabledReason: 'Masakari detected host failed.' }), suggestions: [], warnings: [], markerRun: null };
    const refused = start({ resolve: foreign });
    const snap = await refused.finish();
    assert.equal(snap.value, 'refused');
    assert.equal(refused.calls.enableService, undefined);
    const r = toUndrainResult(snap.context, timings);
    assert.equal(r.outcome, 'ownership-refused');
    assert.equal(r.exitCode, 5);
    assert.match(r.message, /Masakari host monitoring/);
    assert.match(r.service.disabledBy!, /Masakari/);

    const forced = start({ resolve: foreign }, { force: true });
    const snap2 = await forced.finish();
    assert.equal(snap2.context.outcome, 'undrained');
    assert.equal(snap2.context.forced, true);
    assert.equal((forced.calls.enableService![0] as EnableInput).service.disabledReason, 'Masakari detected host failed.', 'it enables what it decided on');
  });

  it('refuses when the enable actor finds the disable changed hands meanwhile', async () => {
    const { finish } = start({ enable: (i) => ({ after: { ...i.service, disabledReason: 'watcher_maintaining' }, changed: false, refused: 'OpenStack Watcher' }) });
    const snap = await finish();
    assert.equal(snap.context.outcome, 'ownership-refused');
    assert.equal(snap.context.disabledBy, 'OpenStack Watcher');
  });

  it('waits for the service to be up, and refuses (service-down) on timeout without enabling', async () => {
    const up = start({}, { waitUpTimeoutMs: 60_000 });
    const s1 = await up.finish();
    assert.equal(s1.context.outcome, 'undrained');
    assert.equal((up.calls.waitServiceUp![0] as WaitUpInput).timeoutMs, 60_000);

    const down = start({ waitUp: (i) => ({ up: false, service: { ...i.service, state: 'down' }, waitedMs: 60_000 }) }, { waitUpTimeoutMs: 60_000 });
    const s2 = await down.finish();
    assert.equal(s2.value, 'refused');
    assert.equal(down.calls.enableService, undefined);
    const r = toUndrainResult(s2.context, timings);
    assert.equal(r.outcome, 'service-down');
    assert.match(r.message, /still down after 60s; it was not enabled/);
  });

  it('returnInstances: selects from the manifest, moves them back through the pool, lists what it left', async () => {
    const manifest = [
      { serverId: 'vm-1', from: 'compute-01', to: 'compute-02' },
      { serverId: 'vm-2', from: 'compute-01', to: 'compute-03' },
      { serverId: 'vm-3', from: 'compute-01', to: 'compute-02' },
    ];
    const { calls, finish } = start(
      {
        select: () => ({ pool: runs(['vm-1', 'vm-2']), notReturned: [{ serverId: 'vm-3', name: 'vm-3', reason: 'no longer on compute-02' }] }),
      },
      { returnInstances: true, manifest },
    );
    const snap = await finish();
    assert.equal(snap.value, 'done');
    assert.deepEqual((calls.selectReturns![0] as SelectReturnsInput).manifest, manifest);
    assert.ok(calls.poolTick!.length >= 4);
    const r = toUndrainResult(snap.context, timings);
    assert.equal(r.outcome, 'undrained');
    assert.deepEqual(r.returns.map((x) => [x.serverId, x.status]), [
      ['vm-1', 'moved'],
      ['vm-2', 'moved'],
    ]);
    assert.deepEqual(r.notReturned.map((x) => x.serverId), ['vm-3']);
    assert.match(r.message, /2 instance\(s\) moved back, 1 not returned/);
  });

  it('ends partial (exit 4) when a return fails', async () => {
    const { finish } = start(
      {
        select: () => ({ pool: runs(['vm-1']), notReturned: [] }),
        tick: (i) => ({ instances: i.instances.map((r) => ({ ...r, phase: 'failed' as const, attempts: 3, errors: ['attempt 3: No valid host'] })), events: [], error: null, at: 0, service: null }),
      },
      { returnInstances: true, manifest: [{ serverId: 'vm-1', from: 'compute-01', to: 'compute-02' }] },
    );
    const snap = await finish();
    const r = toUndrainResult(snap.context, timings);
    assert.equal(r.outcome, 'partial');
    assert.equal(r.exitCode, 4);
    assert.equal(r.service.after?.status, 'enabled');
  });

  it('unknown host: exit 2, nothing changed', async () => {
    const { calls, finish } = start({ resolve: { found: false, ref: null, suggestions: [], warnings: [], markerRun: null } });
    const snap = await finish();
    assert.equal(snap.context.outcome, 'unknown-host');
    assert.equal(calls.enableService, undefined);
  });

  it('a JSON round trip of a persisted snapshot mid-return restores and finishes', async () => {
    const first = start({ select: () => ({ pool: runs(['vm-1', 'vm-2']), notReturned: [] }) }, { returnInstances: true, manifest: [{ serverId: 'vm-1', from: 'compute-01', to: 'compute-02' }] });
    await settle();
    assert.deepEqual(first.actor.getSnapshot().value, { returning: 'waiting' });
    const persisted = JSON.parse(JSON.stringify(first.actor.getPersistedSnapshot()));
    first.actor.stop();
    const clock = new SimulatedClock();
    const actors = {
      resolveHost: fromPromise<ResolveOutput, { host: string }>(async () => {
        throw new Error('must not run again');
      }),
      waitServiceUp: fromPromise<WaitUpOutput, WaitUpInput>(async () => {
        throw new Error('must not run again');
      }),
      enableService: fromPromise<EnableOutput, EnableInput>(async () => {
        throw new Error('must not run again');
      }),
      selectReturns: fromPromise<SelectReturnsOutput, SelectReturnsInput>(async () => {
        throw new Error('must not run again');
      }),
      poolTick: fromPromise<PoolTickOutput, PoolTickInput>(async ({ input }) => progressingTick(input)),
      pause: fromPromise<void, PauseInput>(({ input }) => new Promise<void>((r) => clock.setTimeout(r, input.ms))),
      readService: fromPromise<ServiceRecord, ReadServiceInput>(async ({ input }) => input.service),
    };
    const restored = createActor(undrainMachine.provide({ actors }), { snapshot: persisted, clock, input: undefined as never });
    restored.start();
    for (let i = 0; i < 50 && restored.getSnapshot().status === 'active'; i++) {
      await settle();
      clock.increment(5000);
    }
    assert.equal(restored.getSnapshot().value, 'done');
    assert.equal(restored.getSnapshot().context.outcome, 'undrained');
    assert.equal(svc().host, 'compute-01');
  });
});
