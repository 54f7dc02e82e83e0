import { strict as assert } from 'node:assert';
import type { DrainEvent, DrainEventBody } from '../../../src/machines/events.js';
import { RunView } from '../../../src/report/view-model.js';
import { renderFrame } from '../../../src/report/live.js';
import { readEvents, viewAfter } from './replay.js';

const T0 = Date.parse('2024-01-01T00:00:00Z');
let clock = T0;
function ev(body: DrainEventBody, atSec?: number): DrainEvent {
  if (atSec !== undefined) clock = T0 + atSec * 1000;
  return { ...body, runId: 'r1', host: 'compute-01', time: new Date(clock).toISOString() } as DrainEvent;
}
const GiB = 1073741824;
const progress = (serverId: string, processed: number, remaining: number, at: number, migrationId = 1) =>
  ev({ type: 'migration-progress', serverId, name: serverId, migrationId, status: 'running', memoryTotalBytes: 4 * GiB, memoryProcessedBytes: processed, memoryRemainingBytes: remaining, percent: Math.round(((4 * GiB - remaining) / (4 * GiB)) * 100), stalledForMs: 0 }, at);

describe('live view model (RunView)', () => {
  it('a wait-for-service step shows what it waits for and how much of its timeout is left (issue 17)', () => {
    const v = new RunView();
    v.apply(ev({ type: 'step-started', workflow: 'maintenance-cycle', step: 'wait-for-service', stepType: 'wait-for-service', index: 5 }, 0));
    const deadline = new Date(T0 + 15 * 60_000).toISOString();
    v.apply(ev({ type: 'step-waiting', workflow: 'maintenance-cycle', step: 'wait-for-service', stepType: 'wait-for-service', index: 5, waitingFor: 'nova-compute on compute-01 to stop (the maintenance restarting it), then to report up with a newer heartbeat', deadline }, 1));
    v.apply(ev({ type: 'step-waiting', workflow: 'maintenance-cycle', step: 'wait-for-service', stepType: 'wait-for-service', index: 5, waitingFor: 'nova-compute on compute-01 to report up with a heartbeat newer than 2024-01-01T00:00:30Z', deadline }, 45));
    const text = renderFrame(v, { width: 200, color: false, cloud: 'demo', now: T0 + 5 * 60_000 }).join('\n');
    assert.match(text, /step 6 wait-for-service \(wait-for-service\) · waiting for nova-compute on compute-01 to report up with a heartbeat newer than 2024-01-01T00:00:30Z · 10:00 left/);
  });

  it('the PROJECT column shows the project\'s name when the events carry it, else its id (issue 17)', () => {
    const v = new RunView();
    v.apply(ev({ type: 'run-started', command: 'drain', dryRun: false }, 0));
    const shop = '6d010770feacb771748ca60a7d213b2e';
    const other = '7d3888ca113f27166505c581c461310c';
    v.apply(ev({ type: 'instance-classified', serverId: 'a', name: 'db-1', class: 'live', reason: '', blocking: false, remedy: null, projectId: shop, projectName: 'shop' }));
    v.apply(ev({ type: 'instance-classified', serverId: 'b', name: 'ci-1', class: 'live', reason: '', blocking: false, remedy: null, projectId: other, projectName: null }));
    v.apply(ev({ type: 'phase-changed', phase: 'migrating' }, 1));
    v.apply(ev({ type: 'migration-started', serverId: 'a', name: 'db-1', method: 'live', attempt: 1, target: null, adopted: false }, 1));
    v.apply(ev({ type: 'migration-started', serverId: 'b', name: 'ci-1', method: 'live', attempt: 1, target: null, adopted: false }, 1));
    const text = renderFrame(v, { width: 120, color: false, cloud: 'demo' }).join('\n');
    assert.match(text, /^ *db-1 +shop\b/m, text);
    assert.match(text, new RegExp(`^ *ci-1 +${other.slice(0, 12)}`, 'm'), 'the id, shortened to fit');
    assert.doesNotMatch(text, new RegExp(shop), 'the id of a named project');
  });

  it('counts moved, failed, in flight, waiting and staying instances', () => {
    const v = new RunView();
    v.apply(ev({ type: 'run-started', command: 'drain', dryRun: false }, 0));
    for (const [id, cls, blocking] of [['a', 'live', false], ['b', 'live', false], ['c', 'cold', false], ['d', 'blocked', false], ['e', 'leave', false]] as const) {
      v.apply(ev({ type: 'instance-classified', serverId: id, name: id, class: cls, reason: '', blocking, remedy: null }));
    }
    v.apply(ev({ type: 'migration-started', serverId: 'a', name: 'a', method: 'live', attempt: 1, target: null, adopted: false }, 1));
    v.apply(ev({ type: 'migration-started', serverId: 'b', name: 'b', method: 'live', attempt: 1, target: 'compute-02', adopted: false }, 1));
    v.apply(ev({ type: 'migration-completed', serverId: 'a', name: 'a', method: 'live', from: 'compute-01', to: 'compute-03', attempt: 1, durationMs: 5000 }, 6));
    v.apply(ev({ type: 'migration-failed', serverId: 'b', name: 'b', attempts: 3, error: 'boom' }, 7));
    assert.deepEqual(v.counts(), { total: 3, moved: 1, failed: 1, inFlight: 0, running: 0, queued: 0, waiting: 1, notMoving: 2 });
    assert.equal(v.instances.get('a')?.to, 'compute-03');
    assert.equal(v.instances.get('b')?.target, 'compute-02');
  });

  it('tells running (copying) from queued in Nova (requested, not copying) from waiting in hostmaint (not requested)', () => {
    const v = new RunView();
    v.apply(ev({ type: 'run-started', command: 'drain', dryRun: false }, 0));
    for (const id of ['a', 'b', 'c', 'd', 'e']) v.apply(ev({ type: 'instance-classified', serverId: id, name: id, class: 'live', reason: '', blocking: false, remedy: null }));
    for (const id of ['a', 'b', 'c']) v.apply(ev({ type: 'migration-started', serverId: id, name: id, method: 'live', attempt: 1, target: null, adopted: false }, 1));
    v.apply(ev({ type: 'migration-queued', serverId: 'b', name: 'b', attempt: 1, migrationId: 2, status: 'queued' }, 2));
    v.apply(progress('a', GiB, 3 * GiB, 3));
    assert.deepEqual(v.counts(), { total: 5, moved: 0, failed: 0, inFlight: 3, running: 1, queued: 2, waiting: 2, notMoving: 0 });
    const text = renderFrame(v, { width: 120 }).join('\n');
    assert.match(text, /0\/5 moved · 1 running · 2 queued in Nova · 2 waiting/);
    assert.doesNotMatch(text, /moving/);
  });

  it('the whole drain\'s ETA: "ETA —" until a rate is measured, then the memory left on every instance over the measured rate, times how many copy at once', () => {
    const v = new RunView();
    v.apply(ev({ type: 'run-started', command: 'drain', dryRun: false }, 0));
    for (const id of ['a', 'b', 'c']) v.apply(ev({ type: 'instance-classified', serverId: id, name: id, class: 'live', reason: '', blocking: false, remedy: null }));
    v.apply(ev({ type: 'phase-changed', phase: 'migrating' }, 0));
    v.apply(ev({ type: 'migration-started', serverId: 'a', name: 'a', method: 'live', attempt: 1, target: null, adopted: false }, 0));
    v.apply(progress('a', GiB, 3 * GiB, 1));
    assert.equal(v.drainEtaMs(v.lastEventAt!), null, 'one sample: no rate');
    assert.match(renderFrame(v, { width: 120 }).join('\n'), /0\/3 moved · ETA — · 1 running · 2 waiting/);
    assert.match(renderFrame(v, { width: 120, unicode: false }).join('\n'), /0\/3 moved \| ETA - \| 1 running/);
    // 1 GiB/s; a has 2 GiB left, b and c have no size yet: the mean of the known ones (a: 4 GiB) each
    v.apply(progress('a', 2 * GiB, 2 * GiB, 2));
    assert.equal(v.drainEtaMs(v.lastEventAt!), 10_000);
    assert.match(renderFrame(v, { width: 120 }).join('\n'), /0\/3 moved · ETA 0:10 · 1 running · 2 waiting/);
    // it ticks down between samples: 1 s later 1 GiB less is left
    assert.match(renderFrame(v, { width: 120, now: v.lastEventAt! + 1000 }).join('\n'), /ETA 0:09/);
    // two copying at once (the source's slots): the rest takes half as long
    v.apply(ev({ type: 'migration-started', serverId: 'b', name: 'b', method: 'live', attempt: 1, target: null, adopted: false }, 2));
    v.apply(progress('b', 0, 4 * GiB, 2));
    v.apply(progress('b', GiB, 3 * GiB, 3));
    v.apply(progress('a', 3 * GiB, GiB, 3));
    // a: 1 GiB, b: 3 GiB, c: 4 GiB = 8 GiB at 1 GiB/s each, two at once: 4 s
    assert.equal(v.peakRunning, 2);
    assert.equal(v.drainEtaMs(v.lastEventAt!), 4000);
    // moved: its rate is kept; no ETA once everything is done
    v.apply(ev({ type: 'migration-completed', serverId: 'a', name: 'a', method: 'live', from: 'compute-01', to: 'compute-02', attempt: 1, durationMs: 3000 }, 4));
    assert.equal(v.completedRates.length, 1);
    assert.ok(v.drainEtaMs(v.lastEventAt!)! > 0);
    v.apply(ev({ type: 'migration-completed', serverId: 'b', name: 'b', method: 'live', from: 'compute-01', to: 'compute-02', attempt: 1, durationMs: 3000 }, 5));
    v.apply(ev({ type: 'migration-failed', serverId: 'c', name: 'c', attempts: 1, error: 'x' }, 6));
    assert.doesNotMatch(renderFrame(v, { width: 120 }).join('\n'), /ETA/);
  });

  it('rate from successive samples, ETA from how fast the remaining memory shrinks', () => {
    const v = new RunView();
    v.apply(ev({ type: 'run-started', command: 'drain', dryRun: false }, 0));
    v.apply(ev({ type: 'migration-started', serverId: 's', name: 's', method: 'live', attempt: 1, target: null, adopted: false }, 0));
    v.apply(ev({ type: 'migration-queued', serverId: 's', name: 's', attempt: 1, migrationId: 1, status: 'queued' }, 2));
    // first sample: how far, not how fast (when the copy began after the queue is unknown)
    v.apply(progress('s', GiB, 3 * GiB, 4));
    const first = v.instances.get('s')!;
    assert.equal(first.percent, 25);
    assert.equal(first.rateBps, null);
    assert.equal(first.etaMs, null);
    // second: 1 GiB more in 1 s, remaining down by 1 GiB: 2 GiB left at 1 GiB/s
    v.apply(progress('s', 2 * GiB, 2 * GiB, 5));
    assert.equal(Math.round(v.instances.get('s')!.rateBps! / 1048576), 1024);
    assert.equal(v.instances.get('s')!.etaMs, 2000);
    // third: 0.5 GiB in 1 s: smoothed rate, half the old and half the new
    v.apply(progress('s', 2.5 * GiB, 1.5 * GiB, 6));
    const s = v.instances.get('s')!;
    assert.equal(Math.round(s.rateBps! / 1048576), 768, 'smoothed: half the old rate, half the new');
    assert.equal(s.etaMs, 3000);
    assert.equal(s.state, 'running');
    // remaining not shrinking: no ETA
    v.apply(progress('s', 3 * GiB, 1.5 * GiB, 7));
    assert.equal(v.instances.get('s')!.etaMs, null);
  });

  it('a retry clears the failed attempt\'s progress; a new migration id restarts the rate', () => {
    const v = new RunView();
    v.apply(ev({ type: 'run-started', command: 'drain', dryRun: false }, 0));
    v.apply(ev({ type: 'migration-started', serverId: 's', name: 's', method: 'live', attempt: 1, target: null, adopted: false }, 0));
    v.apply(progress('s', GiB, 3 * GiB, 2));
    v.apply(ev({ type: 'migration-retried', serverId: 's', name: 's', attempt: 1, error: 'aborted' }, 3));
    const r = v.instances.get('s')!;
    assert.equal(r.state, 'retrying');
    assert.equal(r.percent, null);
    assert.equal(r.rateBps, null);
    v.apply(ev({ type: 'migration-started', serverId: 's', name: 's', method: 'live', attempt: 2, target: null, adopted: false }, 4));
    v.apply(progress('s', GiB / 2, 3.5 * GiB, 5, 2));
    assert.equal(v.instances.get('s')!.migrationId, 2);
    assert.equal(v.inFlight().length, 1);
  });

  it('names from tenants cannot put escape codes on the terminal', () => {
    const v = new RunView();
    v.apply(ev({ type: 'run-started', command: 'drain', dryRun: false }, 0));
    v.apply(ev({ type: 'migration-started', serverId: 's', name: 'evil\u001b[2J\u001b]0;pwned\u0007-1\nx', method: 'live', attempt: 1, target: null, adopted: false }, 0));
    const text = renderFrame(v, { width: 100, color: false }).join('\n');
    assert.doesNotMatch(text, /[\u0000-\u0008\u000b-\u001f\u007f]/);
    assert.match(text, /evil-1 x/);
  });

  it('knows the run: command, phase, verification and the finish', () => {
    const events = readEvents('drain-partial');
    const v = viewAfter(events, events.length);
    assert.equal(v.command, 'drain');
    assert.equal(v.phase, 'done');
    assert.deepEqual(v.verification, { empty: false, leftovers: 2 });
    assert.equal(v.finished?.exitCode, 4);
    assert.ok(v.notable.some((n) => n.kind === 'warn' && /no memory progress/.test(n.text)));
  });
});
