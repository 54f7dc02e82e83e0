import { strict as assert } from 'node:assert';
import { PassThrough } from 'node:stream';
import { formatEvent, progressSink } from '../../../src/report/progress.js';
import { fixtureNames, readEvents, readWorkflowEvents } from './replay.js';
import type { DrainEvent } from '../../../src/machines/events.js';

describe('plain progress lines (not a terminal)', () => {
  it('one line per event (progress without a percentage aside), stamped with the UTC time and the host, no control code', () => {
    for (const name of fixtureNames()) {
      for (const e of readEvents(name)) {
        const line = formatEvent(e);
        if (line === null) {
          assert.ok(
            (e.type === 'phase-changed' && e.phase === 'done') || (e.type === 'migration-progress' && e.percent === null) || (e.type === 'instance-waiting' && e.waitingFor === 'source-slot'),
            `${name}: ${e.type} printed nothing`,
          );
          continue;
        }
        assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ compute-01 +\S/, line);
        assert.doesNotMatch(line, /[\u0000-\u001f\u007f-\u009f]/, line);
      }
    }
  });

  it('says what a queued migration waits for, and which attempt failed', () => {
    const events = readEvents('drain-partial');
    const lines = events.map((e) => formatEvent(e)).filter((l): l is string => l !== null);
    assert.ok(lines.some((l) => /queued \(waiting for the source compute's migration slot; not stuck\)/.test(l)));
    assert.ok(lines.some((l) => /db-1: attempt 1 failed \(aborted by hostmaint/.test(l)));
    assert.ok(lines.some((l) => /web-02: FAILED after 2 attempt\(s\)/.test(l)));
  });

  it("says why an instance waits, but not for the source's slots (the normal queue)", () => {
    const lines = readEvents('drain-source-down')
      .filter((e) => e.type === 'instance-waiting')
      .map((e) => formatEvent(e));
    assert.ok(lines.some((l) => l !== null && /web-0\d: waits, compute-01's nova-compute is down/.test(l)), lines.join('\n'));
    assert.ok(lines.some((l) => l === null), 'source-slot waits print nothing');
  });

  it('cleans tenant-chosen names', () => {
    const e = { type: 'migration-started', serverId: 's', name: 'x\u001b[31mred\u0007', method: 'live', attempt: 1, target: null, adopted: false, runId: 'r', host: 'h', time: '2024-01-01T00:00:00.000Z' } as DrainEvent;
    assert.equal(formatEvent(e), '2024-01-01T00:00:00Z h xred: live migration requested (scheduler chooses)');
  });

  it('the sink writes lines and NDJSON to their streams', () => {
    const lines = new PassThrough();
    const ndjson = new PassThrough();
    let a = '';
    let b = '';
    lines.on('data', (d: Buffer) => (a += d.toString()));
    ndjson.on('data', (d: Buffer) => (b += d.toString()));
    const sink = progressSink({ lines, ndjson: { stream: ndjson } });
    const events = readEvents('drain-refused');
    for (const e of events) sink.emit(e);
    assert.equal(b.trim().split('\n').length, events.length);
    assert.deepEqual(JSON.parse(b.split('\n')[0] as string), events[0]);
    assert.match(a, /preflight REFUSED/);
  });
});

describe('plain progress lines of workflow and rolling runs', () => {
  const lines = (name: string, steps?: number) => readWorkflowEvents(name).map((e) => formatEvent(e, { steps: steps ?? null })).filter((l): l is string => l !== null);

  it('every event of the recorded workflow and rolling runs gives one clean line', () => {
    for (const name of ['workflow-cycle', 'workflow-waiting', 'workflow-failed', 'rolling-reboot']) {
      for (const e of readWorkflowEvents(name)) {
        const line = formatEvent(e);
        if (line === null) {
          assert.ok(
            (e.type === 'phase-changed' && e.phase === 'done') || (e.type === 'migration-progress' && e.percent === null) || (e.type === 'instance-waiting' && e.waitingFor === 'source-slot'),
            `${name}: ${e.type} printed nothing`,
          );
          continue;
        }
        assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (compute-0\d|\*) +\S/, line);
        assert.doesNotMatch(line, /[\u0000-\u001f\u007f-\u009f]/, line);
      }
    }
  });

  it('says which step of how many starts, how each ends, and the run', () => {
    const cycle = lines('workflow-cycle', 8);
    const id = readWorkflowEvents('workflow-cycle')[0]!.runId;
    assert.ok(cycle.some((l) => l.endsWith('compute-01 step 5/8 maintenance (exec) started')), cycle.join('\n'));
    assert.ok(cycle.some((l) => l.endsWith('compute-01 step maintenance: ok - exec maintenance: done in 0ms')));
    assert.ok(cycle.some((l) => l.endsWith(`WAITING FOR APPROVAL at step approve: Check the firmware version first. — run \`hostmaint continue ${id}\``)));
    assert.ok(cycle.some((l) => l.endsWith('workflow cycle: completed (exit 0): all 8 step(s) done')), cycle.join('\n'));
    // Without the number of steps: the step's number alone.
    assert.ok(lines('workflow-cycle').some((l) => l.endsWith('step 5 maintenance (exec) started')));
    const failed = lines('workflow-failed');
    assert.ok(failed.some((l) => /step patch: FAILED \(exit 7\): exec patch: exited 3 after 0ms \(attempt 1\/1\): patching compute-02$/.test(l)), failed.join('\n'));
    assert.ok(failed.some((l) => / step re-enable\/enable: ok/.test(l)));
    assert.ok(failed.some((l) => /workflow patch: failed \(exit 7\): step patch failed/.test(l)));
  });

  it('rolling: each host started (wave, child run) and ended, and the summary', () => {
    const roll = lines('rolling-reboot');
    const child = (readWorkflowEvents('rolling-reboot').find((e) => e.type === 'host-started' && e.host === 'compute-03') as { childRunId: string }).childRunId;
    assert.ok(roll.some((l) => l.endsWith(`compute-03 host compute-03 started (wave 2, run ${child})`)), roll.join('\n'));
    assert.ok(roll.some((l) => l.endsWith('compute-02 host compute-02: done')));
    assert.ok(roll.some((l) => /Z \* rolling run: 2 hosts: 2 done, 0 failed, 0 not started$/.test(l)));
    const e = { type: 'host-finished', host: 'compute-09', status: 'failed', exitCode: 7, message: 'step x\u001b[31m failed', runId: 'r', time: '2024-01-01T00:00:00.000Z' } as DrainEvent;
    assert.equal(formatEvent(e), '2024-01-01T00:00:00Z compute-09 host compute-09: FAILED (exit 7): step x failed');
    const f = { type: 'rolling-finished', host: '*', outcome: 'failed', exitCode: 7, message: '3 hosts: 1 done, 1 failed', runId: 'r', time: '2024-01-01T00:00:00.000Z' } as DrainEvent;
    assert.equal(formatEvent(f), '2024-01-01T00:00:00Z * rolling run: failed (exit 7): 3 hosts: 1 done, 1 failed');
  });
});
