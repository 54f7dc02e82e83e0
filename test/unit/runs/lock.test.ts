import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync, utimesSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { acquireHostLock, holderAlive, lockFileFor, liveHolder, procStartTime, type LockHolder } from '../../../src/runs/lock.js';
import { HostmaintError } from '../../../src/core/errors.js';

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

function holder(over: Partial<LockHolder>): LockHolder {
  return { pid: 1, procStart: null, machine: os.hostname(), runId: 'old-run', command: 'drain', host: 'compute-01', startedAt: '2024-01-01T00:00:00Z', ...over };
}

describe('runs: host lock', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hm-lock-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('one holder per host: the second gets host-busy (exit 5) naming pid, run id and start time; release frees it', async () => {
    const a = await acquireHostLock(dir, { host: 'compute-01', runId: 'run-a', command: 'drain', startedAt: '2024-01-01T10:00:00Z' });
    await assert.rejects(acquireHostLock(dir, { host: 'compute-01', runId: 'run-b', command: 'drain' }), (e: unknown) => {
      assert.ok(e instanceof HostmaintError);
      assert.equal(e.kind, 'host-busy');
      assert.match(e.message, new RegExp(`pid ${process.pid}, run run-a \\(drain\\), started 2024-01-01T10:00:00Z`));
      assert.match(e.hint ?? '', /hostmaint status run-a/);
      return true;
    });
    // Another host is independent.
    const other = await acquireHostLock(dir, { host: 'compute-02', runId: 'run-c', command: 'undrain' });
    assert.equal(liveHolder(dir, 'compute-01')?.runId, 'run-a');
    a.setRunId('run-a2');
    assert.equal(JSON.parse(readFileSync(a.file, 'utf8')).runId, 'run-a2');
    a.release();
    assert.equal(existsSync(a.file), false);
    const b = await acquireHostLock(dir, { host: 'compute-01', runId: 'run-b', command: 'drain' });
    assert.equal(b.tookOverFrom, null);
    b.release();
    other.release();
  });

  it('a lock whose holder died is taken over, and says whose it was', async () => {
    const dead = holder({ pid: deadPid() });
    assert.equal(holderAlive(dead), false);
    writeFileSync(lockFileFor(dir, 'compute-01'), JSON.stringify(dead));
    const l = await acquireHostLock(dir, { host: 'compute-01', runId: 'new-run', command: 'drain' });
    assert.deepEqual(l.tookOverFrom, dead);
    assert.equal(JSON.parse(readFileSync(l.file, 'utf8')).pid, process.pid);
    l.release();
  });

  it('a reused pid (same pid, another process start time) is not the holder', async () => {
    const start = procStartTime(process.pid);
    if (start === null) return; // no /proc here
    const reused = holder({ pid: process.pid, procStart: start + 12345 });
    assert.equal(holderAlive(reused), false);
    writeFileSync(lockFileFor(dir, 'compute-01'), JSON.stringify(reused));
    const l = await acquireHostLock(dir, { host: 'compute-01', runId: 'new-run', command: 'drain' });
    assert.equal(l.tookOverFrom?.runId, 'old-run');
    l.release();
  });

  it('a lock of another machine is never taken over', async () => {
    writeFileSync(lockFileFor(dir, 'compute-01'), JSON.stringify(holder({ machine: 'other-box', pid: deadPid() })));
    await assert.rejects(acquireHostLock(dir, { host: 'compute-01', runId: 'x', command: 'drain' }), (e: unknown) => e instanceof HostmaintError && e.kind === 'host-busy' && /on other-box/.test(e.message));
  });

  it('a torn (unreadable) old lock file is stale after a moment', async () => {
    const f = lockFileFor(dir, 'compute-01');
    writeFileSync(f, '{"pid": 12');
    const old = new Date(Date.now() - 60_000);
    utimesSync(f, old, old);
    const l = await acquireHostLock(dir, { host: 'compute-01', runId: 'x', command: 'drain' });
    assert.equal(JSON.parse(readFileSync(l.file, 'utf8')).runId, 'x', 'the torn file was replaced by our lock');
    l.release();
  });

  it('many processes racing for one dead lock: exactly one wins', async function () {
    this.timeout(30_000);
    writeFileSync(lockFileFor(dir, 'compute-01'), JSON.stringify(holder({ pid: deadPid() })));
    // The compiled module when built (npm test builds first: fast to start), else the source through tsx.
    const built = path.resolve('dist/runs/lock.js');
    const useBuilt = existsSync(built) && statSync(built).mtimeMs >= statSync(path.resolve('src/runs/lock.ts')).mtimeMs;
    const script = `
      import { acquireHostLock } from ${JSON.stringify(useBuilt ? built : path.resolve('src/runs/lock.ts'))};
      try {
        const l = await acquireHostLock(process.argv[2], { host: 'compute-01', runId: 'r' + process.pid, command: 'drain' });
        process.stdout.write('won');
        // Hold it until every racer has tried (a slow machine may start one after a fixed hold ended).
        const { existsSync } = await import('node:fs');
        while (!existsSync(process.argv[2] + '/release')) await new Promise((r) => setTimeout(r, 20));
        l.release();
      } catch (e) { process.stdout.write(e.kind ?? String(e)); }
    `;
    const file = path.join(dir, useBuilt ? 'race.mjs' : 'race.mts');
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, script);
    let answered = 0;
    const runs = Array.from({ length: 6 }, () =>
      new Promise<string>((resolve) => {
        const p = spawn(process.execPath, [...(useBuilt ? [] : ['--import', 'tsx']), file, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        p.stdout.on('data', (d: Buffer) => {
          if (out === '' && ++answered === 6) writeFileSync(path.join(dir, 'release'), '');
          out += d.toString();
        });
        p.on('close', () => resolve(out));
      }),
    );
    const results = await Promise.all(runs);
    assert.equal(results.filter((r) => r === 'won').length, 1, results.join(','));
    assert.equal(results.filter((r) => r === 'host-busy').length, 5, results.join(','));
  });
});
