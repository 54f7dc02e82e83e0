import { strict as assert } from 'node:assert';
import { PassThrough } from 'node:stream';
import { formatEvent, progressSink } from '../../../src/report/progress.js';
import { fixtureNames, readEvents } from './replay.js';
import type { DrainEvent } from '../../../src/workflow/types.js';

describe('plain progress lines (not a terminal)', () => {
  it('one line per event (progress without a percentage aside), stamped with the UTC time and the host, no control code', () => {
    for (const name of fixtureNames()) {
      for (const e of readEvents(name)) {
        const line = formatEvent(e);
        if (line === null) {
          assert.ok((e.type === 'phase-changed' && e.phase === 'done') || (e.type === 'migration-progress' && e.percent === null), `${name}: ${e.type} printed nothing`);
          continue;
        }
        assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ compute-01 +\S/, line);
        assert.doesNotMatch(line, /[\u0000-\u001f\u007f-\u009f]/, line);
      }
    }
  });

  it('says what a queued migration waits for, and which attempt failed', () => {
    const events = readEvents('drain-partial');
    const lines = events.map(formatEvent).filter((l): l is string => l !== null);
    assert.ok(lines.some((l) => /queued \(waiting for the source compute's migration slot; not stuck\)/.test(l)));
    assert.ok(lines.some((l) => /db-1: attempt 1 failed \(aborted by hostmaint/.test(l)));
    assert.ok(lines.some((l) => /web-02: FAILED after 2 attempt\(s\)/.test(l)));
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
