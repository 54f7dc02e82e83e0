import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { createActor, fromPromise, type SnapshotFrom } from 'xstate';
import { checkRollingRunId } from '../../../src/rolling/ids.js';
import { childRunId, describeRolling, rollingMachine } from '../../../src/machines/rolling.machine.js';
import type { GateInput, GateOutput, RollingContext, RollingEvent, RollingMachineInput, WaveHostResult, WaveInput, WaveOutput } from '../../../src/machines/rolling.types.js';

type Snap = SnapshotFrom<typeof rollingMachine>;

interface Script {
  /** Per call (0-based) or for every call. */
  gate?: (input: GateInput, call: number) => GateOutput | Promise<GateOutput>;
  /** A host's result; default done/0. */
  host?: (host: string) => Partial<WaveHostResult>;
  wave?: (input: WaveInput, call: number) => WaveOutput | Promise<WaveOutput>;
}

function fakes(script: Script) {
  const calls = { gate: [] as GateInput[], wave: [] as WaveInput[] };
  const actors = {
    gate: fromPromise<GateOutput, GateInput>(async ({ input }) => {
      calls.gate.push(input);
      return script.gate ? script.gate(input, calls.gate.length - 1) : { ok: true, exitCode: 0, message: 'ok' };
    }),
    runWave: fromPromise<WaveOutput, WaveInput>(async ({ input }) => {
      calls.wave.push(input);
      if (script.wave) return script.wave(input, calls.wave.length - 1);
      return { results: input.hosts.map((h) => ({ host: h.host, status: 'done' as const, exitCode: 0, message: 'ok', ...script.host?.(h.host) })) };
    }),
  };
  return { actors, calls };
}

const HOSTS = ['c1', 'c2', 'c3', 'c4', 'c5'];

function input(o: Partial<RollingMachineInput> = {}): RollingMachineInput {
  return { runId: 'roll-1', hosts: HOSTS.slice(0, 3), maxParallel: 1, continueOnFailure: false, ...o };
}

async function run(script: Script, inp: RollingMachineInput, snapshot?: unknown) {
  const { actors, calls } = fakes(script);
  const actor = createActor(rollingMachine.provide({ actors }), { input: inp, ...(snapshot ? { snapshot: snapshot as Snap } : {}) });
  const events: RollingEvent[] = [];
  actor.on('progress', (e) => events.push(e.event));
  const done = new Promise<Snap>((resolve, reject) => {
    actor.subscribe({ next: (s) => s.status !== 'active' && resolve(s), error: reject });
  });
  actor.start();
  const snap = await done;
  return { snap, calls, events, actor };
}

const statuses = (ctx: RollingContext) => ctx.hosts.map((h) => `${h.host}:${h.status}`);

describe('workflow/rolling.machine', () => {
  it('is pure: imports only xstate, its own types, the machine kit and the exit codes', () => {
    for (const f of ['rolling.machine.ts', 'rolling.types.ts']) {
      const src = readFileSync(new URL(`../../../src/machines/${f}`, import.meta.url), 'utf8');
      const imports = [...src.matchAll(/^import\s+(type\s+)?[^'"]*from\s+'([^']+)'/gm)].map((m) => ({ typeOnly: !!m[1], from: m[2]! }));
      for (const i of imports) assert.ok(i.from === 'xstate' || i.from === './machine-kit.js' || i.from === './exit-codes.js' || (i.typeOnly && i.from === './rolling.types.js'), `${f} imports ${i.from}`);
    }
  });

  it('waves of 1: gate then wave for each host, previous = the last wave done; completed exit 0', async () => {
    const { snap, calls, events } = await run({}, input());
    assert.equal(snap.value, 'completed');
    assert.equal(snap.context.outcome, 'completed');
    assert.equal(snap.context.exitCode, 0);
    assert.deepEqual(calls.gate, [
      { previous: [], next: ['c1'] },
      { previous: ['c1'], next: ['c2'] },
      { previous: ['c2'], next: ['c3'] },
    ]);
    assert.deepEqual(calls.wave, [{ hosts: [{ host: 'c1', childRunId: 'roll-1-h1' }] }, { hosts: [{ host: 'c2', childRunId: 'roll-1-h2' }] }, { hosts: [{ host: 'c3', childRunId: 'roll-1-h3' }] }]);
    assert.deepEqual(
      events.map((e) => `${e.type}:${e.host}`),
      ['host-started:c1', 'host-finished:c1', 'host-started:c2', 'host-finished:c2', 'host-started:c3', 'host-finished:c3', 'rolling-finished:*'],
    );
    assert.ok(events.every((e) => e.runId === 'roll-1' && !('time' in e)));
    const started = events.find((e) => e.type === 'host-started' && e.host === 'c2');
    assert.deepEqual(started, { type: 'host-started', runId: 'roll-1', host: 'c2', childRunId: 'roll-1-h2', wave: 2 });
    const fin = events[events.length - 1]!;
    assert.ok(fin.type === 'rolling-finished' && fin.exitCode === 0 && fin.message === '3 hosts: 3 done, 0 failed, 0 not started');
  });

  it('waves of 2: hosts in fixed chunks, the gate gets the whole previous wave', async () => {
    const { snap, calls } = await run({}, input({ hosts: HOSTS, maxParallel: 2 }));
    assert.equal(snap.value, 'completed');
    assert.deepEqual(calls.gate, [
      { previous: [], next: ['c1', 'c2'] },
      { previous: ['c1', 'c2'], next: ['c3', 'c4'] },
      { previous: ['c3', 'c4'], next: ['c5'] },
    ]);
    assert.deepEqual(
      calls.wave.map((w) => w.hosts.map((h) => h.childRunId)),
      [['roll-1-h1', 'roll-1-h2'], ['roll-1-h3', 'roll-1-h4'], ['roll-1-h5']],
    );
    assert.equal(snap.context.wave, 3);
  });

  it('a failure stops the run: the rest not-started, exit = the failed host code', async () => {
    const { snap, calls, events } = await run({ host: (h) => (h === 'c2' ? { status: 'failed', exitCode: 4, message: 'partial: 1 instance left' } : {}) }, input({ hosts: HOSTS, maxParallel: 2 }));
    assert.equal(snap.value, 'stopped');
    assert.equal(snap.context.outcome, 'failed');
    assert.equal(snap.context.exitCode, 4);
    assert.deepEqual(statuses(snap.context), ['c1:done', 'c2:failed', 'c3:not-started', 'c4:not-started', 'c5:not-started']);
    assert.equal(calls.wave.length, 1);
    const fin = events[events.length - 1]!;
    assert.ok(fin.type === 'rolling-finished' && fin.outcome === 'failed' && fin.exitCode === 4);
    assert.equal(describeRolling(snap.context), '5 hosts: 1 done, 1 failed (c2: exit 4 partial: 1 instance left), 3 not started');
  });

  it('continue-on-failure: every host runs; a failed host is not expected back; outcome failed with the first failure code', async () => {
    const { snap, calls } = await run(
      { host: (h) => (h === 'c1' ? { status: 'failed', exitCode: 7, message: 'exec failed' } : h === 'c3' ? { status: 'failed', exitCode: 4, message: 'partial' } : {}) },
      input({ hosts: HOSTS.slice(0, 4), continueOnFailure: true }),
    );
    assert.equal(snap.value, 'completed');
    assert.equal(snap.context.outcome, 'failed');
    assert.equal(snap.context.exitCode, 7);
    assert.deepEqual(statuses(snap.context), ['c1:failed', 'c2:done', 'c3:failed', 'c4:done']);
    assert.deepEqual(
      calls.gate.map((g) => g.previous),
      [[], [], ['c2'], []],
    );
  });

  it('gate refusal: stops before the wave, the wave and the rest not-started, exit = the gate code', async () => {
    const { snap, calls } = await run(
      { gate: (_i, n) => (n === 1 ? { ok: false, exitCode: 5, message: 'c1 is not back: nova-compute down' } : { ok: true, exitCode: 0, message: 'ok' }) },
      input(),
    );
    assert.equal(snap.value, 'stopped');
    assert.equal(snap.context.exitCode, 5);
    assert.equal(snap.context.error, 'c1 is not back: nova-compute down');
    assert.deepEqual(statuses(snap.context), ['c1:done', 'c2:not-started', 'c3:not-started']);
    assert.equal(snap.context.hosts[1]!.message, 'not started: c1 is not back: nova-compute down');
    assert.equal(calls.wave.length, 1);
    assert.match(describeRolling(snap.context), /^3 hosts: 1 done, 0 failed, 2 not started \(stopped: c1 is not back/);
  });

  it('skip with continue-on-failure: the skipped host is marked, the rest of the wave runs', async () => {
    const { snap, calls, events } = await run(
      { gate: (i) => ({ ok: true, exitCode: 0, message: 'room for c2 only', skip: i.next.includes('c1') ? [{ host: 'c1', exitCode: 3, message: 'no room for db-1' }] : [] }) },
      input({ hosts: HOSTS.slice(0, 3), maxParallel: 2, continueOnFailure: true }),
    );
    assert.equal(snap.value, 'completed');
    assert.equal(snap.context.outcome, 'failed');
    assert.equal(snap.context.exitCode, 3);
    assert.deepEqual(statuses(snap.context), ['c1:skipped', 'c2:done', 'c3:done']);
    assert.deepEqual(calls.wave[0]!.hosts.map((h) => h.host), ['c2']);
    assert.deepEqual(calls.gate[1], { previous: ['c2'], next: ['c3'] });
    assert.ok(events.some((e) => e.type === 'host-finished' && e.host === 'c1' && e.status === 'skipped' && e.exitCode === 3));
    assert.match(describeRolling(snap.context), /1 skipped \(c1: exit 3 no room for db-1\)/);
  });

  it('skip of a whole wave goes on to the next gate; skip without continue-on-failure stops', async () => {
    const all = await run({ gate: (i) => ({ ok: true, exitCode: 0, message: '', skip: i.next.includes('c1') ? [{ host: 'c1', exitCode: 3, message: 'no room' }] : [] }) }, input({ continueOnFailure: true }));
    assert.deepEqual(statuses(all.snap.context), ['c1:skipped', 'c2:done', 'c3:done']);
    assert.deepEqual(all.calls.gate[1], { previous: [], next: ['c2'] });

    const stop = await run({ gate: () => ({ ok: true, exitCode: 0, message: 'capacity short', skip: [{ host: 'c1', exitCode: 3, message: 'no room' }] }) }, input({ maxParallel: 2 }));
    assert.equal(stop.snap.value, 'stopped');
    assert.equal(stop.snap.context.exitCode, 3);
    assert.deepEqual(statuses(stop.snap.context), ['c1:skipped', 'c2:not-started', 'c3:not-started']);
    assert.equal(stop.calls.wave.length, 0);
  });

  it('waiting for approval pauses (exit 8); the rest stay pending', async () => {
    const { snap, events } = await run({ host: (h) => (h === 'c2' ? { status: 'waiting', exitCode: 8, message: 'approve: check the BIOS' } : {}) }, input());
    assert.equal(snap.value, 'paused');
    assert.equal(snap.context.outcome, 'waiting-approval');
    assert.equal(snap.context.exitCode, 8);
    assert.deepEqual(statuses(snap.context), ['c1:done', 'c2:waiting', 'c3:pending']);
    const fin = events[events.length - 1]!;
    assert.ok(fin.type === 'rolling-finished' && fin.exitCode === 8);
    assert.equal(describeRolling(snap.context), '3 hosts: 1 done, 0 failed, 1 waiting for approval (c2), 1 not started');
  });

  it('an actor error ends in failed (outcome error, exit 1) with the text', async () => {
    const { snap } = await run({ wave: () => Promise.reject(new Error('state dir not writable')) }, input());
    assert.equal(snap.value, 'failed');
    assert.equal(snap.context.outcome, 'error');
    assert.equal(snap.context.exitCode, 1);
    assert.equal(snap.context.error, 'state dir not writable');
    assert.equal(snap.status, 'done', 'outcomes are data: never xstate error');
  });

  it('interrupt from a running wave ends in interrupted (130)', async () => {
    const { actors } = fakes({ wave: () => new Promise<WaveOutput>(() => {}) });
    const actor = createActor(rollingMachine.provide({ actors }), { input: input() });
    const events: RollingEvent[] = [];
    actor.on('progress', (e) => events.push(e.event));
    actor.start();
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    assert.equal(actor.getSnapshot().value, 'wave');
    actor.send({ type: 'interrupt', reason: 'SIGINT' });
    const snap = actor.getSnapshot();
    assert.equal(snap.value, 'interrupted');
    assert.equal(snap.context.exitCode, 130);
    assert.equal(snap.context.outcome, 'interrupted');
    assert.deepEqual(statuses(snap.context), ['c1:running', 'c2:pending', 'c3:pending']);
    const fin = events[events.length - 1]!;
    assert.ok(fin.type === 'rolling-finished' && fin.outcome === 'interrupted' && fin.exitCode === 130);
  });

  it('restore mid-wave (JSON round trip): the wave actor runs again with the same input, no host started twice', async () => {
    const { actors, calls } = fakes({ wave: (_i, n) => (n === 1 ? new Promise<WaveOutput>(() => {}) : { results: _i.hosts.map((h) => ({ host: h.host, status: 'done' as const, exitCode: 0, message: 'ok' })) }) });
    const first = createActor(rollingMachine.provide({ actors }), { input: input({ hosts: HOSTS.slice(0, 4), maxParallel: 2 }) });
    first.start();
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
    assert.equal(first.getSnapshot().value, 'wave');
    assert.equal(first.getSnapshot().context.wave, 2);
    const persisted = JSON.parse(JSON.stringify(first.getPersistedSnapshot()));
    first.stop();
    const inFlight = calls.wave[1]!;

    const { snap, calls: again, events } = await run({}, input({ runId: 'ignored', hosts: ['x'] }), persisted);
    assert.equal(snap.value, 'completed');
    assert.equal(again.gate.length, 0, 'the gate of wave 2 already passed');
    assert.deepEqual(again.wave, [inFlight]);
    assert.deepEqual(inFlight, { hosts: [{ host: 'c3', childRunId: 'roll-1-h3' }, { host: 'c4', childRunId: 'roll-1-h4' }] });
    assert.ok(!events.some((e) => e.type === 'host-started'));
    assert.deepEqual(statuses(snap.context), ['c1:done', 'c2:done', 'c3:done', 'c4:done']);
  });

  it('restore in the gate re-runs the gate with the same input', async () => {
    const { actors, calls } = fakes({ gate: (i, n) => (n === 1 ? new Promise<GateOutput>(() => {}) : { ok: true, exitCode: 0, message: 'ok' }) });
    const first = createActor(rollingMachine.provide({ actors }), { input: input() });
    first.start();
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
    assert.equal(first.getSnapshot().value, 'gate');
    const persisted = JSON.parse(JSON.stringify(first.getPersistedSnapshot()));
    first.stop();
    const { snap, calls: again } = await run({}, input(), persisted);
    assert.equal(snap.value, 'completed');
    assert.deepEqual(again.gate[0], calls.gate[1]);
    assert.deepEqual(again.gate[0], { previous: ['c1'], next: ['c2'] });
  });

  it('child run ids are deterministic; duplicate hosts are dropped keeping the first', async () => {
    assert.equal(childRunId('20240101T000000Z-3f2a', 11), '20240101T000000Z-3f2a-h12');
    checkRollingRunId('20240101T000000Z-3f2a', 500);
    checkRollingRunId('x'.repeat(60), 99);
    assert.throws(() => checkRollingRunId('x'.repeat(60), 100), /'x{60}-h100' has at most 64 characters/);
    assert.throws(() => checkRollingRunId('bad id', 1), /invalid rolling run id/);
    const { snap } = await run({}, input({ hosts: ['c1', 'c2', 'c1'] }));
    assert.deepEqual(snap.context.hosts.map((h) => h.childRunId), ['roll-1-h1', 'roll-1-h2']);
  });
});
