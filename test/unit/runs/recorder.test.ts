import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PersistedRun } from '../../../src/library/drain.js';
import { RunRecorder, newRecord, poolProgress, valueText } from '../../../src/runs/recorder.js';
import { RunStore } from '../../../src/runs/store.js';
import type { DrainResult } from '../../../src/machines/results.js';

function snap(value: unknown, status: PersistedRun['status'] = 'active', pool: unknown[] = []): PersistedRun {
  return { machine: 'drain', machineVersion: 1, runId: 'r1', host: 'compute-01', value, status, snapshot: { status, value, context: { runId: 'r1', host: 'compute-01', pool } } };
}

function entry(phase: string, requestId: string | null = null) {
  return { serverId: 's1', name: 'vm-1', method: 'live', phase, attempts: 1, requestId, pinnedHosts: [] };
}

function result(outcome: string, restored = false): DrainResult {
  return { command: 'drain', outcome, exitCode: outcome === 'interrupted' ? 130 : 0, message: outcome, error: outcome === 'interrupted' ? { kind: 'interrupted', message: 'interrupted by SIGINT' } : null, service: { restored } } as unknown as DrainResult;
}

describe('runs: recorder', () => {
  let dir: string;
  let store: RunStore;
  let clock = 0;
  const read = () => JSON.parse(readFileSync(store.recordFile('r1'), 'utf8')) as { phase: string; state: string; snapshot: { value: unknown } | null; stateReason: string | null };
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hm-rec-'));
    store = new RunStore(dir);
    store.ensureSync();
    clock = Date.parse('2024-01-01T00:00:00Z');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function recorder(): RunRecorder {
    const rec = newRecord({ runId: 'r1', command: 'drain', host: 'compute-01', cloud: 'lab', user: 'admin', who: 'a@b', argv: [], startedAt: new Date(clock).toISOString(), workflowVersion: 1, options: {} });
    store.writeSync(rec);
    return new RunRecorder(store, rec, () => clock);
  }

  it('a new phase is on disk at once; steps within a phase are coalesced, and flush() writes the last', () => {
    const r = recorder();
    r.onSnapshot(snap({ migrating: 'polling' }));
    assert.equal(read().phase, 'migrating.polling', 'the phase change was written synchronously');
    r.onSnapshot(snap({ migrating: 'waiting' }));
    assert.equal(read().phase, 'migrating.polling', 'a step inside the phase waits for the coalesced write');
    r.flush();
    assert.equal(read().phase, 'migrating.waiting');
  });

  it('keeps the last active snapshot, never a restoringService one, and journals each new request id once', async () => {
    const r = recorder();
    r.onSnapshot(snap({ migrating: 'waiting' }, 'active', [entry('requested', 'req-1')]));
    r.onSnapshot(snap({ migrating: 'waiting' }, 'active', [entry('running', 'req-1')]));
    r.onSnapshot(snap('restoringService'));
    r.flush();
    assert.deepEqual(read().snapshot?.value, { migrating: 'waiting' });
    assert.equal(read().phase, 'restoringService');
    const { entries } = await store.readJournal('r1');
    assert.deepEqual(entries.filter((e) => e.kind === 'decision').map((e) => [(e as { decision: string }).decision, ((e as { detail: { requestId?: string } }).detail.requestId)]), [['migration-requested', 'req-1']]);
  });

  it('finish: interrupted is resumable (phase of the saved snapshot); a cloud outage with the service left disabled too; drained and restored are finished', () => {
    let r = recorder();
    r.onSnapshot(snap({ migrating: 'waiting' }));
    r.onSnapshot(snap('interrupted', 'done'));
    let rec = r.finish(result('interrupted'));
    assert.deepEqual([rec.state, rec.phase, rec.stateReason, rec.finishedAt], ['interrupted', 'migrating.waiting', 'interrupted by SIGINT', null]);
    assert.equal(read().state, 'interrupted');

    r = recorder();
    r.onSnapshot(snap({ migrating: 'waiting' }));
    rec = r.finish({ ...result('cloud-unreachable'), error: { kind: 'network', message: '5 polls in a row failed' } } as DrainResult);
    assert.equal(rec.state, 'interrupted');
    assert.match(rec.stateReason ?? '', /5 polls in a row failed/);

    r = recorder();
    r.onSnapshot(snap('disablingService'));
    rec = r.finish(result('error', true));
    assert.equal(rec.state, 'finished', 'service put back: a new run is the same as a resume');

    r = recorder();
    r.onSnapshot(snap('verifyingEmpty'));
    rec = r.finish(result('drained'));
    assert.deepEqual([rec.state, rec.outcome, rec.exitCode], ['finished', 'drained', 0]);
    assert.ok(rec.finishedAt);
  });

  it('markInterrupted saves at once (a signal), abandon keeps the run resumable', () => {
    const r = recorder();
    r.onSnapshot(snap({ migrating: 'polling' }));
    r.onSnapshot(snap({ migrating: 'waiting' }));
    r.markInterrupted('interrupted by SIGTERM');
    assert.deepEqual([read().state, read().phase, read().stateReason], ['interrupted', 'migrating.waiting', 'interrupted by SIGTERM']);
    r.abandon('second SIGTERM');
    assert.deepEqual([read().state, read().stateReason], ['interrupted', 'second SIGTERM']);
  });

  it('valueText and poolProgress', () => {
    assert.equal(valueText({ migrating: 'waiting' }), 'migrating.waiting');
    assert.equal(valueText({ returning: { a: 'b' } }), 'returning.a.b');
    assert.equal(valueText('preflight'), 'preflight');
    assert.equal(valueText(null), null);
    const p = poolProgress({ context: { pool: [entry('done'), entry('failed'), entry('queued'), entry('pending'), entry('running')] } });
    assert.deepEqual(p, { total: 5, done: 1, failed: 1, inFlight: 2, pending: 1 });
    assert.deepEqual(poolProgress(null), { total: 0, done: 0, failed: 0, inFlight: 0, pending: 0 });
  });
});
