/**
 * hostmaint as a real process (node bin/hostmaint.js; needs `npm run build`,
 * which npm test does first): SIGKILL mid-drain leaves a run that `status`
 * shows as crashed and that the next drain resumes, taking over the dead
 * process's lock; SIGTERM stops like Ctrl-C (exit 130 with the command that
 * resumes); a second Ctrl-C exits at once with the run saved and the lock
 * released.
 */
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { hostmaint, tempDir } from './helpers.js';
import { requireBuiltCli, isMigrationStarted, runsScenario, spawnHostmaint, startCloud, whenJournal, journalEntries, type TestCloud } from './runs-helpers.js';
import { captureOriginals, checkInvariants } from '../emulator/crash-helpers.js';
import { lockFileFor } from '../../src/runs/lock.js';

describe('hostmaint saved runs (real processes: SIGKILL, SIGTERM, a second Ctrl-C)', function () {
  this.timeout(120_000);
  let dir: string;
  let state: string;
  let cloud: TestCloud | null = null;
  before(requireBuiltCli);
  beforeEach(() => {
    dir = tempDir('hm-proc-');
    state = path.join(dir, 'state');
  });
  afterEach(async () => {
    await cloud?.stop();
    cloud = null;
    rmSync(dir, { recursive: true, force: true });
  });
  const drainArgs = () => ['drain', 'compute-01', ...cloud!.args, '--yes', '--state-dir', state, '--poll-interval', '200ms'];

  it('SIGKILL mid-drain: status says crashed (the process is gone); the next drain takes the dead lock over and finishes, nothing moved twice', async () => {
    cloud = await startCloud(dir, runsScenario({ migration: { bandwidth_mbps: 100 } }));
    const originals = captureOriginals(cloud.emu, 'compute-01');
    const child = spawnHostmaint(drainArgs(), cloud.env);
    await whenJournal(state, isMigrationStarted);
    child.proc.kill('SIGKILL');
    const { signal } = await child.exited;
    assert.equal(signal, 'SIGKILL');
    const runId = String(journalEntries(state).find((e) => e.decision === 'run-created')?.runId);
    assert.ok(existsSync(lockFileFor(path.join(state, 'locks'), 'compute-01')), 'a killed process leaves its lock');

    const st = await hostmaint(['status', '--state-dir', state, '-f', 'json']);
    const run = st.json<{ runs: Array<{ runId: string; state: string; resumable: boolean }> }>().runs[0]!;
    assert.deepEqual([run.runId, run.state, run.resumable], [runId, 'crashed', true]);

    const again = spawnHostmaint([...drainArgs(), '-f', 'json'], cloud.env);
    const { code } = await again.exited;
    assert.equal(code, 0, again.stderr());
    assert.match(again.stderr(), new RegExp(`resuming drain run ${runId} of compute-01 \\(its process died`));
    const result = JSON.parse(again.stdout()) as { outcome: string; runId: string };
    assert.deepEqual([result.outcome, result.runId], ['drained', runId]);
    assert.ok(journalEntries(state).some((e) => e.decision === 'lock-taken-over'), 'the takeover is in the journal');
    assert.deepEqual(checkInvariants(cloud.emu, 'compute-01', originals), []);
    assert.equal(existsSync(lockFileFor(path.join(state, 'locks'), 'compute-01')), false, 'the lock is released at the end');
  });

  it('SIGTERM (a runbook job killed): stops like Ctrl-C, exit 130 with the command that resumes', async () => {
    cloud = await startCloud(dir, runsScenario({ migration: { bandwidth_mbps: 100 } }));
    const child = spawnHostmaint(drainArgs(), cloud.env);
    await whenJournal(state, isMigrationStarted);
    child.proc.kill('SIGTERM');
    const { code } = await child.exited;
    assert.equal(code, 130, child.stderr());
    assert.match(child.stderr(), /SIGTERM: stopping/);
    const m = /Resume it with:\n {2}(hostmaint resume (\S+) --state-dir \S+ --os-cloud emu)/.exec(child.stderr());
    assert.ok(m, child.stderr());
    const rec = JSON.parse(readFileSync(path.join(state, 'runs', m[2]!, 'run.json'), 'utf8')) as { state: string; stateReason: string };
    assert.deepEqual([rec.state, rec.stateReason], ['interrupted', 'interrupted by SIGTERM']);
  });

  it('a second Ctrl-C exits at once: exit 130, the run saved as interrupted, the lock released; resume finishes it', async () => {
    cloud = await startCloud(dir, runsScenario({ migration: { bandwidth_mbps: 50 } }));
    const originals = captureOriginals(cloud.emu, 'compute-01');
    // A cloud that answers slowly, so the first Ctrl-C has something to wait for.
    const child = spawnHostmaint(drainArgs(), cloud.env);
    await whenJournal(state, isMigrationStarted);
    cloud.emu.inject({ kind: 'delay', ms: 60_000, match: { service: 'compute' }, name: 'slow cloud' });
    child.proc.kill('SIGINT');
    await child.waitFor(/SIGINT: stopping/);
    const t0 = Date.now();
    child.proc.kill('SIGINT');
    const { code } = await child.exited;
    assert.equal(code, 130, child.stderr());
    assert.ok(Date.now() - t0 < 2000, 'the second Ctrl-C did not exit at once');
    const runId = String(journalEntries(state).find((e) => e.decision === 'run-created')?.runId);
    assert.ok(/second SIGINT: exiting now|Resume it with/.test(child.stderr()), child.stderr());
    const rec = JSON.parse(readFileSync(path.join(state, 'runs', runId, 'run.json'), 'utf8')) as { state: string };
    assert.equal(rec.state, 'interrupted');
    assert.equal(existsSync(lockFileFor(path.join(state, 'locks'), 'compute-01')), false, 'the lock was released');
    cloud.emu.clearFaults();
    const r = await hostmaint(['resume', runId, '--state-dir', state], cloud.env);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(checkInvariants(cloud.emu, 'compute-01', originals), []);
  });
});
