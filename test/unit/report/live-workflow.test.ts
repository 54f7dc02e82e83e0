/**
 * The live view of a workflow run and of a rolling run, replayed from runs on
 * the emulated cloud (test/unit/report/fixtures/): the current step (n/total)
 * in the header, the drain's phases and table inside the drain unit, a fresh
 * table for the undrain (reset at its run-started), the approval gate, and
 * for a rolling run which host of how many is running.
 */
import { strict as assert } from 'node:assert';
import { displayWidth, stripAnsi } from '../../../src/report/ansi.js';
import { renderFrame } from '../../../src/report/live.js';
import { RunView } from '../../../src/report/view-model.js';
import type { DrainEvent } from '../../../src/machines/events.js';
import { WORKFLOW_FIXTURES, readWorkflowEvents } from './replay.js';
import { matchSnapshot } from './snapshot.js';
import path from 'node:path';

const SNAPS = path.join(WORKFLOW_FIXTURES, 'snapshots');

function view(events: DrainEvent[], n: number, opts: { steps?: number; hosts?: string[] } = {}): RunView {
  const v = new RunView();
  v.stepTotal = opts.steps ?? null;
  v.hostList = opts.hosts ?? null;
  for (const e of events.slice(0, n)) v.apply(e);
  return v;
}

const at = (events: DrainEvent[], pred: (e: DrainEvent) => boolean) => events.findIndex(pred) + 1;

/** The moments worth a frame in a workflow stream: in the drain, after it, at the gate, in the undrain, the end. */
function moments(events: DrainEvent[]): number[] {
  const out = new Set<number>([
    at(events, (e) => e.type === 'phase-changed' && e.phase === 'migrating') + 2,
    at(events, (e) => e.type === 'step-started' && e.stepType === 'exec'),
    at(events, (e) => e.type === 'approval-required'),
    at(events, (e) => e.type === 'phase-changed' && e.phase === 'returning') + 2,
    events.length,
  ]);
  return [...out].filter((n) => n > 0 && n <= events.length).sort((a, b) => a - b);
}

function frames(events: DrainEvent[], width: number, opts: { steps?: number; hosts?: string[] }, points: number[]): string {
  return points.map((n) => `── after ${n} of ${events.length} events, ${width} columns ${'─'.repeat(20)}\n${renderFrame(view(events, n, opts), { width, cloud: 'lab' }).join('\n')}`).join('\n');
}

describe('live view of workflow and rolling runs', () => {
  const cycle = readWorkflowEvents('workflow-cycle');
  const rolling = readWorkflowEvents('rolling-reboot');

  it('workflow-cycle at 100 columns (snapshot)', () => matchSnapshot('live.workflow-cycle.w100', frames(cycle, 100, { steps: 8 }, moments(cycle)), SNAPS));
  it('rolling-reboot at 80 columns (snapshot)', () => {
    const points = [at(rolling, (e) => e.type === 'host-started' && e.host === 'compute-03') + 1, rolling.length];
    matchSnapshot('live.rolling-reboot.w80', frames(rolling, 80, { hosts: ['compute-02', 'compute-03'] }, points), SNAPS);
  });

  it('the header names the run; the step line says which step of how many; the drain table inside the drain unit', () => {
    const n = at(cycle, (e) => e.type === 'phase-changed' && e.phase === 'migrating') + 2;
    const text = renderFrame(view(cycle, n, { steps: 8 }), { width: 120 }).join('\n');
    assert.match(text, /^hostmaint run cycle compute-01/);
    assert.match(text, /▶ steps 1-4\/8 disable … verify-empty \(drain\)/);
    assert.match(text, /▶ migrate/);
    assert.match(text, /INSTANCE/);
  });

  it('between units: the step alone, no stale table; at the gate: waiting for approval with the command', () => {
    const exec = renderFrame(view(cycle, at(cycle, (e) => e.type === 'step-started' && e.stepType === 'exec'), { steps: 8 }), { width: 120 }).join('\n');
    assert.match(exec, /▶ step 5\/8 maintenance \(exec\)/);
    assert.doesNotMatch(exec, /INSTANCE|▶ migrate/);
    const gate = renderFrame(view(cycle, at(cycle, (e) => e.type === 'approval-required'), { steps: 8 }), { width: 160 }).join('\n');
    assert.match(gate, new RegExp(`step 6/8 approve \\(approve\\): WAITING FOR APPROVAL: hostmaint continue ${cycle[0]!.runId}$`, 'm'));
    assert.match(gate, /! waiting for approval at approve: Check the firmware version first\.$/m);
  });

  it('the undrain inside the same run starts a fresh table (reset per run-started): only the instances it moves back', () => {
    const n = at(cycle, (e) => e.type === 'phase-changed' && e.phase === 'returning') + 2;
    const v = view(cycle, n, { steps: 8 });
    assert.equal(v.command, 'undrain');
    assert.ok(v.counts().total <= 4 && v.counts().moved < 4, JSON.stringify(v.counts()));
    const end = view(cycle, cycle.length, { steps: 8 });
    assert.equal(end.finished?.outcome, 'completed');
    assert.match(renderFrame(end, { width: 100 }).join('\n'), /✓ completed \(exit 0\)/);
  });

  it('rolling: which host of how many, and the summary at the end', () => {
    const n = at(rolling, (e) => e.type === 'host-started' && e.host === 'compute-03') + 1;
    const text = renderFrame(view(rolling, n, { hosts: ['compute-02', 'compute-03'] }), { width: 100 }).join('\n');
    assert.match(text, /^hostmaint rolling reboot/);
    assert.match(text, /host 2\/2 compute-03 \(wave 2\) · 1 done/);
    const end = renderFrame(view(rolling, rolling.length), { width: 100 }).join('\n');
    assert.match(end, /✓ completed \(exit 0\): 2 hosts: 2 done/);
  });

  it('no line wider than the terminal, no escape without colour, at every event, 20..132 columns', () => {
    const cases: Array<[DrainEvent[], { steps?: number; hosts?: string[] }]> = [[cycle, { steps: 8 }], [readWorkflowEvents('workflow-failed'), {}], [rolling, { hosts: ['compute-02', 'compute-03'] }]];
    for (const [events, opts] of cases) {
      for (let n = 1; n <= events.length; n++) {
        const v = view(events, n, opts);
        for (const width of [20, 33, 47, 64, 80, 132]) {
          for (const color of [false, true]) {
            for (const l of renderFrame(v, { width, color, cloud: 'lab' })) {
              assert.ok(displayWidth(l) <= width, `after ${n} at ${width}: ${JSON.stringify(l)}`);
              if (!color) assert.equal(l, stripAnsi(l));
            }
          }
        }
      }
    }
  });
});
