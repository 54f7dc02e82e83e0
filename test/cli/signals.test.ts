/**
 * Issue 21: SIGTERM and Ctrl-C (SIGINT) end any command promptly, dry-runs
 * included, at several moments: a rolling --dry-run halfway through its
 * hosts, a command whose cloud stops answering (a request hangs 10 s), the first
 * request (Keystone hangs), and a workflow run asleep in wait-for-service.
 * Real processes (node bin/hostmaint.js, needs `npm run build`). What is
 * asserted is what a user sees: the exit code (130), the message, and that
 * nothing was changed; each child must have exited before the test's own
 * (generous) timeout. The times themselves are measured, not asserted:
 * `npx tsx bench/signal-latency.ts`.
 */
import { strict as assert } from 'node:assert';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generateBig } from '../../src/emulator/index.js';
import { tempDir } from './helpers.js';
import { requireBuiltCli, runsScenario, spawnHostmaint, startCloud, whenJournal, type TestCloud } from './runs-helpers.js';

describe('SIGTERM / SIGINT end any command (issue 21)', function () {
  this.timeout(120_000);
  let dir: string;
  let cloud: TestCloud | null = null;
  before(requireBuiltCli);
  beforeEach(() => {
    dir = tempDir('hm-signals-');
  });
  afterEach(async () => {
    await cloud?.stop();
    cloud = null;
    rmSync(dir, { recursive: true, force: true });
  });
  const writes = () => cloud!.emu.requests.records.filter((r) => r.method !== 'GET' && !r.path.includes('/auth/tokens'));
  const until = async (cond: () => boolean | Promise<boolean>) => {
    while (!(await cond())) await new Promise((r) => setTimeout(r, 10));
  };
  /** A one-shot delay fault is gone from the emulator's list once a request took it: that request now hangs. */
  const hanging = async () => ((await (await fetch(`${cloud!.emu.url}/_emulator/faults`)).json()) as { faults: unknown[] }).faults.length === 0;

  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    it(`${sig} halfway through a rolling --dry-run over 120 hosts: exit 130, nothing changed`, async () => {
      cloud = await startCloud(dir, generateBig({ hosts: 120, instances_on_first: 50, instances: 400 }));
      const hosts = path.join(dir, 'hosts.txt');
      writeFileSync(hosts, Array.from({ length: 120 }, (_, i) => `compute-${String(i + 1).padStart(3, '0')}`).join('\n'));
      const wf = path.join(dir, 'wf.yaml');
      writeFileSync(wf, 'version: 1\nname: cycle\nsteps:\n  - type: disable\n  - type: preflight\n  - type: migrate\n  - type: verify-empty\n  - type: enable\n');
      // Halfway: the dry-run has read the services and hypervisors and waits on the cloud-wide migration listing.
      cloud.emu.inject({ kind: 'delay', ms: 500_000, count: 1, match: { method: 'GET', path: '/os-migrations' } });
      const child = spawnHostmaint(['run', wf, '--hosts-file', hosts, '--dry-run', ...cloud.args, '--state-dir', path.join(dir, 'state')], cloud.env);
      await until(hanging);
      child.proc.kill(sig);
      const { code } = await child.exited;
      assert.equal(code, 130, child.stderr());
      assert.match(child.stderr(), new RegExp(`${sig}: stopping`));
      assert.doesNotMatch(child.stdout(), /would run on 120 host/, 'no plan printed as if complete');
      assert.deepEqual(writes(), []);
    });
  }

  it('SIGTERM while the cloud does not answer (a request hangs 10 s): exit 130', async () => {
    cloud = await startCloud(dir, runsScenario());
    cloud.emu.inject({ kind: 'delay', ms: 500_000, count: 1, match: { method: 'GET', path: '/os-hypervisors/**' } });
    const child = spawnHostmaint(['plan', 'compute-01', ...cloud.args, '--state-dir', path.join(dir, 'state')], cloud.env);
    await until(hanging);
    child.proc.kill('SIGTERM');
    const { code } = await child.exited;
    assert.equal(code, 130, child.stderr());
    assert.deepEqual(writes(), []);
  });

  it('SIGINT while Keystone does not answer (the first request hangs 10 s): exit 130', async () => {
    cloud = await startCloud(dir, runsScenario());
    cloud.emu.inject({ kind: 'delay', ms: 500_000, count: 1, match: { service: 'identity' } });
    const child = spawnHostmaint(['plan', 'compute-01', ...cloud.args, '--state-dir', path.join(dir, 'state')], cloud.env);
    await until(hanging);
    child.proc.kill('SIGINT');
    const { code } = await child.exited;
    assert.equal(code, 130, child.stderr());
  });

  it('SIGTERM while a workflow run waits in wait-for-service: exit 130, the run saved with the command that resumes it', async () => {
    cloud = await startCloud(dir, runsScenario({ instances: [] }));
    const state = path.join(dir, 'state');
    const wf = path.join(dir, 'wf.yaml');
    writeFileSync(wf, 'version: 1\nname: waiter\nsteps:\n  - type: wait-for-service\n    timeout: 30m\n    poll-interval: 10m\n    fresh: true\n    expect-restart: true\n');
    const child = spawnHostmaint(['run', wf, 'compute-02', ...cloud.args, '--yes', '--state-dir', state], cloud.env);
    await whenJournal(state, (e) => e.kind === 'decision' && e.decision === 'step-progress' && (e.detail as { progress: { polled: boolean } }).progress.polled === true);
    child.proc.kill('SIGTERM');
    const { code } = await child.exited;
    assert.equal(code, 130, child.stderr());
    assert.match(child.stderr(), /hostmaint resume \S+/);
  });
});
