import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, statSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RunStore, type RunRecord } from '../../src/runs/store.js';
import { HostmaintError } from '../../src/errors.js';

function record(runId: string, host: string, startedAt: string): RunRecord {
  return { schemaVersion: 1, runId, command: 'drain', host, cloud: 'lab', user: 'admin', startedAt, finishedAt: startedAt, outcome: 'drained', exitCode: 0, result: { instances: [] } };
}

describe('run store', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'hm-store-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('saves atomically into a 0700 directory and reads back newest first', async () => {
    const store = new RunStore(path.join(dir, 'state'));
    await store.save(record('r1', 'compute-01', '2026-01-01T00:00:00Z'));
    await store.save(record('r2', 'compute-01', '2026-01-02T00:00:00Z'));
    assert.equal(statSync(path.join(dir, 'state')).mode & 0o777, 0o700);
    const { records } = await store.list();
    assert.deepEqual(records.map((r) => r.runId), ['r2', 'r1']);
    assert.equal((await store.latestForHost('compute-01'))?.runId, 'r2');
    assert.equal(await store.latestForHost('compute-02'), null);
    assert.equal(JSON.parse(readFileSync(path.join(dir, 'state', 'runs', 'r1.json'), 'utf8')).runId, 'r1');
  });

  it('refuses a corrupt record with the file name, and a record of another schema version', async () => {
    const store = new RunStore(dir);
    mkdirSync(path.join(dir, 'runs'), { recursive: true });
    writeFileSync(path.join(dir, 'runs', 'bad.json'), '{not json');
    await assert.rejects(store.load('bad'), (e: unknown) => e instanceof HostmaintError && e.kind === 'config' && e.message.includes('bad.json'));
    writeFileSync(path.join(dir, 'runs', 'old.json'), JSON.stringify({ ...record('old', 'c', 'x'), schemaVersion: 99 }));
    await assert.rejects(store.load('old'), /schema version 99/);
    const { records, problems } = await store.list();
    assert.equal(records.length, 0);
    assert.equal(problems.length, 2);
  });

  it('an unwritable state directory is a config error', async () => {
    const file = path.join(dir, 'file');
    writeFileSync(file, 'x');
    await assert.rejects(new RunStore(path.join(file, 'sub')).save(record('r', 'h', 't')), (e: unknown) => e instanceof HostmaintError && e.kind === 'config' && /state directory/.test(e.message));
  });
});
