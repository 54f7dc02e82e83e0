import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, statSync, writeFileSync, mkdirSync, rmSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RunStore, type RunRecord } from '../../../src/runs/store.js';
import { newRecord } from '../../../src/runs/recorder.js';
import { HostmaintError } from '../../../src/core/errors.js';

function record(runId: string, host: string, startedAt: string, over: Partial<RunRecord> = {}): RunRecord {
  return {
    ...newRecord({ runId, command: 'drain', host, cloud: 'lab', user: 'admin', who: 'ops@box', argv: ['drain', host], startedAt, workflowVersion: 1, options: {} }),
    ...over,
  };
}

describe('runs: store', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hm-store-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('saves atomically into a 0700 directory (files 0600), reads back newest first, no temp files left', async () => {
    const store = new RunStore(path.join(dir, 'state'));
    await store.save(record('r1', 'compute-01', '2026-01-01T00:00:00Z', { state: 'finished', outcome: 'drained', exitCode: 0, result: { manifest: [] } }));
    await store.save(record('r2', 'compute-01', '2026-01-02T00:00:00Z'));
    assert.equal(statSync(path.join(dir, 'state')).mode & 0o777, 0o700);
    assert.equal(statSync(path.join(dir, 'state', 'runs', 'r1')).mode & 0o777, 0o700);
    assert.equal(statSync(store.recordFile('r1')).mode & 0o777, 0o600);
    const { records, problems } = await store.list();
    assert.deepEqual(problems, []);
    assert.deepEqual(records.map((r) => r.runId), ['r2', 'r1']);
    assert.equal((await store.latestForHost('compute-01'))?.runId, 'r2');
    assert.equal((await store.latestForHost('compute-01', 'drain', { withResult: true }))?.runId, 'r1');
    assert.equal(await store.latestForHost('compute-02'), null);
    assert.deepEqual((await store.unfinishedFor('compute-01')).map((r) => r.runId), ['r2']);
    assert.equal(JSON.parse(readFileSync(store.recordFile('r1'), 'utf8')).runId, 'r1');
    assert.deepEqual(readdirSync(path.join(dir, 'state', 'runs', 'r1')).filter((f) => f.endsWith('.tmp')), []);
  });

  it('refuses a corrupt record, one of another schema version, and one that does not validate — naming the file', async () => {
    const store = new RunStore(dir);
    store.ensureSync();
    mkdirSync(path.join(dir, 'runs', 'bad'), { recursive: true });
    writeFileSync(path.join(dir, 'runs', 'bad', 'run.json'), '{not json');
    await assert.rejects(store.load('bad'), (e: unknown) => e instanceof HostmaintError && e.kind === 'config' && e.message.includes(path.join('bad', 'run.json')) && /corrupt/.test(e.message));
    mkdirSync(path.join(dir, 'runs', 'old'), { recursive: true });
    writeFileSync(path.join(dir, 'runs', 'old', 'run.json'), JSON.stringify({ ...record('old', 'c', 'x'), schemaVersion: 1 }));
    await assert.rejects(store.load('old'), /schema version 1; this hostmaint reads version 2/);
    mkdirSync(path.join(dir, 'runs', 'half'), { recursive: true });
    const half = record('half', 'c', 'x') as unknown as Record<string, unknown>;
    delete half.snapshot;
    half.state = 'sleeping';
    writeFileSync(path.join(dir, 'runs', 'half', 'run.json'), JSON.stringify(half));
    await assert.rejects(store.load('half'), /not a valid hostmaint run record: .*snapshot.*|not a valid hostmaint run record: .*state/);
    mkdirSync(path.join(dir, 'runs', 'moved'), { recursive: true });
    writeFileSync(path.join(dir, 'runs', 'moved', 'run.json'), JSON.stringify(record('other', 'c', 'x')));
    await assert.rejects(store.load('moved'), /names run other/);
    writeFileSync(path.join(dir, 'runs', 'legacy.json'), '{}');
    const { records, problems } = await store.list();
    assert.equal(records.length, 0);
    assert.equal(problems.length, 5, problems.join('\n'));
    assert.ok(problems.some((p) => /older hostmaint/.test(p)));
  });

  it('run ids are checked before they become paths', async () => {
    const store = new RunStore(dir);
    await assert.rejects(store.load('../../etc/passwd'), (e: unknown) => e instanceof HostmaintError && e.kind === 'usage' && /not a run id/.test(e.message));
    await assert.rejects(store.load('nope'), (e: unknown) => e instanceof HostmaintError && e.kind === 'usage' && /no run 'nope'/.test(e.message));
  });

  it('an unusable state directory is a config error (exit 2) naming it', async () => {
    const file = path.join(dir, 'file');
    writeFileSync(file, 'x');
    const store = new RunStore(path.join(file, 'sub'));
    assert.throws(() => store.ensureSync(), (e: unknown) => e instanceof HostmaintError && e.kind === 'config' && /cannot use the state directory/.test(e.message));
    await assert.rejects(store.save(record('r', 'h', 't')), (e: unknown) => e instanceof HostmaintError && e.kind === 'config');
  });

  it('journal: append-only NDJSON; a torn last line is reported and skipped', async () => {
    const store = new RunStore(dir);
    store.ensureSync();
    store.appendJournalSync('r1', { kind: 'decision', time: 't1', runId: 'r1', host: 'h', pid: 1, decision: 'run-created', detail: {} });
    store.appendJournalSync('r1', { kind: 'event', pid: 1, type: 'phase-changed', phase: 'resolving' });
    writeFileSync(store.journalFile('r1'), `${readFileSync(store.journalFile('r1'), 'utf8')}{"kind":"ev`);
    const { entries, problems } = await store.readJournal('r1');
    assert.equal(entries.length, 2);
    assert.equal(problems.length, 1);
    assert.deepEqual(await store.readJournal('none'), { entries: [], problems: [] });
  });

  it('secrets in use are scrubbed from every file written', async () => {
    const store = new RunStore(dir);
    store.addSecrets(['S3cret-Passw0rd', 'gAAAAABtoken']);
    await store.save(record('r1', 'h', 't', { stateReason: 'failed with S3cret-Passw0rd in a message' }));
    store.appendJournalSync('r1', { kind: 'event', pid: 1, type: 'x', note: 'token gAAAAABtoken' });
    const text = readFileSync(store.recordFile('r1'), 'utf8') + readFileSync(store.journalFile('r1'), 'utf8');
    assert.ok(!text.includes('S3cret-Passw0rd') && !text.includes('gAAAAABtoken'));
    assert.match(text, /failed with \[REDACTED\] in a message/);
  });

  it('redacts values, never the JSON text: short secrets that are JSON literals or parts of names leave the record intact (issue 15)', async () => {
    const store = new RunStore(dir);
    store.addSecrets(['true', 'compute']);
    await store.save(record('r2', 'compute-02', 't', { stateReason: 'compute', argv: ['drain', 'compute-02', '--os-auth-url', 'http://admin:pw@x/v3'] }));
    const rec = JSON.parse(readFileSync(store.recordFile('r2'), 'utf8')) as { host: string; stateReason: string; argv: string[] };
    assert.equal(rec.host, 'compute-02');
    assert.equal(rec.stateReason, '[REDACTED]', 'a value that is the secret is redacted');
    assert.deepEqual(rec.argv, ['drain', 'compute-02', '--os-auth-url', 'http://x/v3']);
  });
});
