/**
 * Workflow and rolling runs as real processes (node bin/hostmaint.js; needs `npm run
 * build`, which npm test does first), killed with SIGKILL while its second
 * host drains: the same command again continues that host's run where it was
 * (no migration requested twice, the first host not redone) and finishes the
 * rest.
 */
import { strict as assert } from 'node:assert';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from './helpers.js';
import { requireBuiltCli, runsScenario, spawnHostmaint, startCloud, whenJournal, journalEntries, type TestCloud } from './runs-helpers.js';
import { doubleMoves } from '../emulator/crash-helpers.js';

/** The hosts disabled by the runs, in order (an event is in its host's journal and the rolling run's: counted once). */
function disabledHosts(state: string): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const e of journalEntries(state)) {
    if (e.type !== 'service-changed' || e.action !== 'disabled') continue;
    const key = JSON.stringify(e);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(String(e.host));
  }
  return out;
}

describe('workflow and rolling runs as real processes (SIGKILL or SIGTERM mid-run, then again)', function () {
  this.timeout(180_000);
  let dir: string;
  let cloud: TestCloud | null = null;
  before(requireBuiltCli);
  beforeEach(() => {
    dir = tempDir('hm-rollproc-');
  });
  afterEach(async () => {
    await cloud?.stop();
    cloud = null;
    rmSync(dir, { recursive: true, force: true });
  });

  it('continues with the host it was on, without redoing the hosts before it or moving an instance twice at once', async () => {
    cloud = await startCloud(dir, runsScenario({
      migration: { bandwidth_mbps: 100 },
      hosts: [{ name: 'compute-01' }, { name: 'compute-02' }, { name: 'compute-03' }, { name: 'compute-04' }],
      instances: [
        { name: 'a-{i}', count: 2, project: 'tenant-a', flavor: 'm1.small', host: 'compute-01' },
        { name: 'b-{i}', count: 3, project: 'tenant-a', flavor: 'm1.small', host: 'compute-02' },
        { name: 'c-{i}', count: 2, project: 'tenant-a', flavor: 'm1.small', host: 'compute-03' },
      ],
    }));
    const state = path.join(dir, 'state');
    const wf = path.join(dir, 'cycle.yaml');
    writeFileSync(wf, 'version: 1\nname: cycle\nsteps:\n  - type: disable\n  - type: preflight\n  - type: migrate\n  - type: verify-empty\n  - type: exec\n    command: ["true"]\n  - type: enable\n  - type: return-instances\n');
    const args = ['run', wf, 'compute-01', 'compute-02', 'compute-03', ...cloud.args, '--yes', '--state-dir', state, '--poll-interval', '200ms'];
    const child = spawnHostmaint(args, cloud.env);
    // Killed once compute-02's drain has a migration running.
    await whenJournal(state, (e) => e.kind === 'event' && e.type === 'migration-started' && e.host === 'compute-02', 60_000);
    child.proc.kill('SIGKILL');
    assert.equal((await child.exited).signal, 'SIGKILL');
    assert.deepEqual(disabledHosts(state), ['compute-01', 'compute-02']);

    const again = spawnHostmaint([...args, '-f', 'json'], cloud.env);
    const { code } = await again.exited;
    assert.equal(code, 0, again.stderr());
    assert.match(again.stderr(), /resuming rolling run \S+ \(cycle over 3 hosts; its process died/);
    const result = JSON.parse(again.stdout()) as { outcome: string; hosts: Array<{ host: string; status: string }> };
    assert.equal(result.outcome, 'completed');
    assert.deepEqual(result.hosts.map((h) => h.status), ['done', 'done', 'done']);
    assert.deepEqual(disabledHosts(state), ['compute-01', 'compute-02', 'compute-03'], 'compute-01 not drained again; compute-02 resumed under its own marker');
    assert.deepEqual(doubleMoves(cloud.emu), []);
    for (const [h, n] of [['compute-01', 2], ['compute-02', 3], ['compute-03', 2]] as const) {
      assert.equal(cloud.emu.state.host(h)?.status, 'enabled', `${h} enabled`);
      assert.equal(cloud.emu.state.serversOn(h).length, n, `${h} has its ${n} instances back`);
    }
  });

  it('SIGTERM stops a workflow run like Ctrl-C: exit 130 with the command that resumes it; `resume <id>` finishes it', async () => {
    cloud = await startCloud(dir, runsScenario({ migration: { bandwidth_mbps: 100 } }));
    const state = path.join(dir, 'state');
    const wf = path.join(dir, 'cycle.yaml');
    writeFileSync(wf, 'version: 1\nname: cycle\nsteps:\n  - type: disable\n  - type: preflight\n  - type: migrate\n  - type: verify-empty\n  - type: enable\n  - type: return-instances\n');
    const child = spawnHostmaint(['run', wf, 'compute-01', ...cloud.args, '--yes', '--state-dir', state, '--poll-interval', '200ms'], cloud.env);
    await whenJournal(state, (e) => e.kind === 'event' && e.type === 'migration-started', 60_000);
    child.proc.kill('SIGTERM');
    const { code } = await child.exited;
    assert.equal(code, 130, child.stderr());
    const m = /Resume it with:\n {2}(hostmaint resume (\S+) --state-dir \S+ --os-cloud emu)/.exec(child.stderr());
    assert.ok(m, child.stderr());
    const again = spawnHostmaint(['resume', m[2]!, ...cloud.args, '--state-dir', state, '-f', 'json'], cloud.env);
    const done = await again.exited;
    assert.equal(done.code, 0, again.stderr());
    const result = JSON.parse(again.stdout()) as { outcome: string; runId: string };
    assert.deepEqual([result.outcome, result.runId], ['completed', m[2]]);
    assert.deepEqual(doubleMoves(cloud.emu), []);
    assert.equal(cloud.emu.state.host('compute-01')?.status, 'enabled');
    assert.equal(cloud.emu.state.serversOn('compute-01').length, 5);
  });

  it('SIGKILL right after an exec step finished: the step is not run again (the record is saved before the journal says it finished)', async () => {
    cloud = await startCloud(dir, runsScenario({ instances: [{ name: 'a-1', project: 'tenant-a', flavor: 'm1.small', host: 'compute-01' }] }), { speed: 20 });
    const state = path.join(dir, 'state');
    const log = path.join(dir, 'exec.log');
    const wf = path.join(dir, 'wf.yaml');
    writeFileSync(wf, `version: 1\nname: cycle\nsteps:\n  - type: disable\n  - type: preflight\n  - type: migrate\n  - type: verify-empty\n  - type: exec\n    command: 'echo "$HOSTMAINT_HOST" >> ${log}'\n  - type: enable\n  - type: return-instances\n`);
    const args = ['run', wf, 'compute-01', ...cloud.args, '--yes', '--state-dir', state, '--poll-interval', '200ms'];
    const child = spawnHostmaint(args, cloud.env);
    await whenJournal(state, (e) => e.kind === 'event' && e.type === 'step-finished' && e.step === 'exec', 60_000);
    child.proc.kill('SIGKILL');
    await child.exited;
    const again = spawnHostmaint(args, cloud.env);
    assert.equal((await again.exited).code, 0, again.stderr());
    assert.deepEqual(readFileSync(log, 'utf8').trim().split('\n'), ['compute-01'], 'the exec step ran once');
  });
});
