/**
 * The workflow machine with fake units: how steps are grouped, what each
 * on-failure does, that a cloud failure stops resumable, that an approve step
 * waits for its event, and that a restored snapshot re-runs the unit in flight.
 */
import { strict as assert } from 'node:assert';
import { createActor, fromPromise, type Snapshot } from 'xstate';
import { planUnits, workflowMachine, type RunUnitInput, type RunUnitOutput, type StepRef, type WorkflowContext } from '../../../src/machines/workflow.machine.js';

const step = (name: string, type = 'exec', onFailure = 'stop'): StepRef => ({ name, type, onFailure });

/** Runs the machine with units answered from `codes` (step name -> exit code, default 0). */
async function run(steps: StepRef[], codes: Record<string, number> = {}, opts: { compensations?: Record<string, StepRef[]>; snapshot?: unknown; events?: Array<{ type: 'approve'; by: string; at: string }> } = {}) {
  const calls: RunUnitInput[] = [];
  const runUnit = fromPromise<RunUnitOutput, RunUnitInput>(async ({ input }) => {
    calls.push(input);
    const list = input.compensation ? opts.compensations![input.compensation]! : steps;
    const results = [];
    for (const i of input.unit.steps) {
      const s = list[i]!;
      const code = codes[s.name] ?? 0;
      results.push({ name: s.name, type: s.type, status: code === 0 ? ('ok' as const) : ('failed' as const), exitCode: code, message: `${s.name} ${code}`, detail: {}, startedAt: null, finishedAt: null });
      if (code !== 0) break;
    }
    return { results };
  });
  const actor = createActor(workflowMachine.provide({ actors: { runUnit } }), {
    input: { runId: 'r1', host: 'h1', workflow: 'wf', steps, compensations: opts.compensations ?? {} },
    ...(opts.snapshot ? { snapshot: opts.snapshot as Snapshot<unknown> } : {}),
  });
  const settled = new Promise<void>((resolve) => actor.subscribe((s) => (s.status === 'done' || s.value === 'awaitingApproval' ? resolve() : undefined)));
  actor.start();
  for (const e of opts.events ?? []) actor.send(e);
  await settled;
  const snap = actor.getSnapshot();
  return { ctx: snap.context as WorkflowContext, value: snap.value, calls, persisted: actor.getPersistedSnapshot() };
}

describe('workflow machine', () => {
  it('groups the four drain steps into one drain, enable + return-instances into one undrain', () => {
    const units = planUnits(['disable', 'preflight', 'migrate', 'verify-empty', 'exec', 'approve', 'enable', 'return-instances', 'verify-empty', 'enable'].map((type) => ({ type })));
    assert.deepEqual(units, [
      { kind: 'drain', steps: [0, 1, 2, 3] },
      { kind: 'single', steps: [4] },
      { kind: 'approve', steps: [5] },
      { kind: 'undrain', steps: [6, 7] },
      { kind: 'single', steps: [8] },
      { kind: 'undrain', steps: [9] },
    ]);
    assert.deepEqual(planUnits([{ type: 'disable' }, { type: 'preflight' }]), [{ kind: 'single', steps: [0] }, { kind: 'single', steps: [1] }]);
  });

  it('runs every step and completes (exit 0)', async () => {
    const { ctx } = await run([step('a'), step('b')]);
    assert.equal(ctx.outcome, 'completed');
    assert.equal(ctx.exitCode, 0);
    assert.deepEqual(ctx.results.map((r) => r.name), ['a', 'b']);
  });

  it('on-failure stop ends the run with the step\'s exit code; continue goes on; a compensation runs then the run fails', async () => {
    const stop = await run([step('a'), step('b'), step('c')], { b: 7 });
    assert.deepEqual([stop.ctx.outcome, stop.ctx.exitCode, stop.ctx.failure?.step], ['failed', 7, 'b']);
    assert.deepEqual(stop.ctx.results.map((r) => r.name), ['a', 'b']);
    const cont = await run([step('a'), step('b', 'exec', 'continue'), step('c')], { b: 7 });
    assert.equal(cont.ctx.outcome, 'completed');
    assert.deepEqual(cont.ctx.results.map((r) => [r.name, r.status]), [['a', 'ok'], ['b', 'failed'], ['c', 'ok']]);
    const comp = await run([step('a', 'exec', 'undo'), step('b')], { a: 7, x: 3 }, { compensations: { undo: [step('x'), step('y')] } });
    assert.deepEqual([comp.ctx.outcome, comp.ctx.exitCode, comp.ctx.failure?.step], ['failed', 7, 'a']);
    assert.deepEqual(comp.ctx.results.map((r) => [r.name, r.status, r.compensation ?? null]), [['a', 'failed', null], ['x', 'failed', 'undo'], ['y', 'ok', 'undo']]);
  });

  it('a failed drain step never continues, whatever its on-failure says (a saved run from an older file, a library caller)', async () => {
    const r = await run([step('preflight', 'preflight', 'continue'), step('reboot')], { preflight: 3 });
    assert.deepEqual([r.ctx.outcome, r.ctx.exitCode, r.ctx.failure?.step], ['failed', 3, 'preflight']);
    assert.deepEqual(r.calls.map((c) => c.unit.steps[0]), [0], 'the reboot did not run');
  });

  it('a cloud that cannot be reached (6) or an interrupt (130) stops resumable, whatever on-failure says, without compensation', async () => {
    const lost = await run([step('a', 'exec', 'undo'), step('b')], { a: 6 }, { compensations: { undo: [step('x')] } });
    assert.deepEqual([lost.value, lost.ctx.outcome, lost.ctx.exitCode], ['suspended', 'cloud-unreachable', 6]);
    assert.equal(lost.calls.length, 1);
  });

  it('waits at an approve step; the approve event records who and goes on', async () => {
    const steps = [step('a'), { ...step('gate', 'approve'), message: 'look first' }, step('b')];
    const waiting = await run(steps);
    assert.equal(waiting.value, 'awaitingApproval');
    assert.deepEqual([waiting.ctx.outcome, waiting.ctx.exitCode, waiting.ctx.approval?.message], ['waiting-approval', 8, 'look first']);
    const resumed = await run(steps, {}, { snapshot: JSON.parse(JSON.stringify(waiting.persisted)), events: [{ type: 'approve', by: 'alice', at: '2026-01-01T00:00:00Z' }] });
    assert.equal(resumed.ctx.outcome, 'completed');
    assert.deepEqual(resumed.calls.map((c) => c.unit.steps), [[2]], 'only the step after the gate ran');
    assert.match(resumed.ctx.results[1]!.message, /approved by alice/);
  });

  it('a snapshot saved while a unit was in flight re-runs that unit on restore, and only from there', async () => {
    const steps = [step('a'), step('b'), step('c')];
    let saved: unknown = null;
    const runUnit = fromPromise<RunUnitOutput, RunUnitInput>(async ({ input }) => {
      if (input.unit.steps[0] === 1) await new Promise(() => undefined); // never ends: the process "dies" here
      return { results: [{ name: steps[input.unit.steps[0]!]!.name, type: 'exec', status: 'ok', exitCode: 0, message: '', detail: {}, startedAt: null, finishedAt: null }] };
    });
    const actor = createActor(workflowMachine.provide({ actors: { runUnit } }), { input: { runId: 'r', host: 'h', workflow: 'w', steps, compensations: {} } });
    actor.subscribe((s) => {
      if (s.value === 'running' && (s.context as WorkflowContext).cursor === 1) saved = JSON.parse(JSON.stringify(actor.getPersistedSnapshot()));
    });
    actor.start();
    await new Promise((r) => setTimeout(r, 20));
    actor.stop();
    assert.ok(saved);
    const again = await run(steps, {}, { snapshot: saved });
    assert.equal(again.ctx.outcome, 'completed');
    assert.deepEqual(again.calls.map((c) => c.unit.steps[0]), [1, 2]);
  });
});
