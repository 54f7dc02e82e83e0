/**
 * `hostmaint status` and `history` of workflow runs and rolling runs: saved
 * records made by running workflows on the emulated cloud through the
 * library (runWorkflow / runRolling with a RunStore in the --state-dir), then
 * read by the CLI (which never calls the cloud for these).
 */
import { strict as assert } from 'node:assert';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startEmulator, VirtualClock } from '../../src/emulator/index.js';
import type { Scenario } from '../../src/emulator/index.js';
import { memoryLogger } from '../../src/core/log.js';
import { connect } from '../../src/openstack/session.js';
import { runRolling } from '../../src/runs/rolling-runner.js';
import { RunStore } from '../../src/runs/store.js';
import { runWorkflow } from '../../src/runs/workflow-runner.js';
import { emulatorCloud } from '../emulator/helpers.js';
import { hostmaint, tempDir } from './helpers.js';
import { FAST_MIGRATIONS, emulatorRunner } from '../unit/report/emulator-runs.js';

const SCENARIO = {
  name: 'status-workflow',
  migration: FAST_MIGRATIONS,
  defaults: { host: { vcpus: 32, ram_mb: 65536, disk_gb: 2000, max_concurrent_live_migrations: 2 } },
  hosts: [{ name: 'compute-01' }, { name: 'compute-02' }, { name: 'compute-03' }, { name: 'compute-04' }],
  instances: [{ name: 'web-{i}', flavor: 'm1.small', host: 'compute-01', count: 2 }],
} as Scenario;

const POLICIES = `policies:\n  poll-interval: 2s\n  reason: status test\n`;

describe('hostmaint status / history of workflow and rolling runs', function () {
  this.timeout(120_000);
  let dir: string;
  let state: string;
  const ids: Record<string, string> = {};

  before(async () => {
    dir = tempDir('hm-st-wf-');
    state = path.join(dir, 'state');
    const emu = await startEmulator({ scenario: SCENARIO, clock: new VirtualClock() });
    const session = await connect(emulatorCloud(emu), { logger: memoryLogger(), clock: emu.clock, timeoutMs: 30_000 });
    const env = emulatorRunner(emu, new RunStore(state));
    const file = (name: string, text: string) => {
      const f = path.join(dir, name);
      writeFileSync(f, text);
      return f;
    };
    try {
      const gate = await runWorkflow(session, { host: 'compute-01', workflow: file('gate.yaml', `version: 1\nname: gate\n${POLICIES}steps:\n  - type: disable\n  - type: preflight\n  - type: migrate\n  - type: verify-empty\n  - type: approve\n    message: Swap the disk first.\n  - type: enable\n`) }, env);
      assert.equal(gate.result.outcome, 'waiting-approval');
      ids.waiting = gate.result.runId;
      const failed = await runWorkflow(session, { host: 'compute-02', workflow: file('patch.yaml', `version: 1\nname: patch\n${POLICIES}steps:\n  - type: disable\n  - type: exec\n    name: patch\n    command: 'echo no \\\\033[31mluck >&2; exit 3'\n  - type: enable\n`) }, env);
      assert.equal(failed.result.exitCode, 7);
      ids.failed = failed.result.runId;
      const rolling = await runRolling(session, { hosts: ['compute-03', 'compute-04'], workflow: file('reboot.yaml', `version: 1\nname: reboot\n${POLICIES}steps:\n  - type: disable\n  - type: exec\n    name: reboot\n    command: ['true']\n  - type: enable\n`) }, env);
      assert.equal(rolling.result.outcome, 'completed', rolling.result.message);
      ids.rolling = rolling.result.runId;
      ids.child = rolling.result.hosts[1]!.childRunId;
    } finally {
      await session.close();
      await emu.stop();
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('status lists them: run <workflow>, rolling <workflow> (N hosts) with the hosts abbreviated, the approval a waiting run waits for', async () => {
    const r = await hostmaint(['status', '--state-dir', state]);
    assert.equal(r.code, 0, r.stderr);
    const line = (id: string) => r.stdout.split('\n').find((l) => l.startsWith(`${id} `)) ?? '';
    assert.match(line(ids.waiting!), / run gate +compute-01 +waiting +waiting for approval at approve: hostmaint continue \S+ +4\/6 steps /);
    assert.match(line(ids.failed!), / run patch +compute-02 +finished +failed \(exit 7\) +1\/3 steps /);
    assert.match(line(ids.rolling!), / rolling reboot \(2 hosts\) +compute-03, compute-04 +finished +completed \(exit 0\) +2\/2 hosts /);
    assert.match(r.stdout, /1 run\(s\) wait for approval: hostmaint continue <run>/);
    assert.doesNotMatch(r.stdout, /\u001b/);
  });

  it('status <run-id> of a waiting run: its steps (from the snapshot), the approve step waiting, how to continue', async () => {
    const r = await hostmaint(['status', ids.waiting!, '--state-dir', state, '--journal', '0']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^command +run gate compute-01$/m);
    assert.match(r.stdout, /^state +waiting for approval at approve: hostmaint continue /m);
    assert.match(r.stdout, /^STEP +TYPE +STATUS +EXIT +MESSAGE$/m);
    assert.match(r.stdout, /^verify-empty +verify-empty +ok +0 /m);
    assert.match(r.stdout, /^approve +approve +waiting +8 +Swap the disk first\.$/m);
    assert.match(r.stdout, new RegExp(`Approve it and carry on with: hostmaint continue ${ids.waiting}`));
  });

  it('status <run-id> of a finished run: its steps from the result, output cleaned', async () => {
    const r = await hostmaint(['status', ids.failed!, '--state-dir', state, '--journal', '0']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^patch +exec +FAILED +7 +exec patch: exited 3/m);
    assert.doesNotMatch(r.stdout, /\u001b/);
  });

  it('status <rolling-id>: every host with its own run id; status <child-id>: its steps and its rolling run', async () => {
    const r = await hostmaint(['status', ids.rolling!, '--state-dir', state, '--journal', '0']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^command +rolling reboot \(2 hosts\) compute-03 compute-04$/m);
    assert.match(r.stdout, /^HOST +STATUS +EXIT +RUN +MESSAGE$/m);
    assert.match(r.stdout, new RegExp(`^compute-04 +done +0 +${ids.child} +workflow reboot on compute-04`, 'm'));
    const kid = await hostmaint(['status', ids.child!, '--state-dir', state, '--journal', '0']);
    assert.match(kid.stdout, new RegExp(`^part of +rolling run ${ids.rolling}$`, 'm'));
    assert.match(kid.stdout, /^reboot +exec +ok +0 /m);
    const json = await hostmaint(['status', ids.rolling!, '--state-dir', state, '-f', 'json']);
    const doc = json.json<{ command: string; workflow: string; hosts: string[]; steps: string }>();
    assert.deepEqual([doc.command, doc.workflow, doc.hosts, doc.steps], ['rolling', 'reboot', ['compute-03', 'compute-04'], '2/2 hosts']);
  });

  it('history lists them, and `history <host>` includes the rolling runs over that host', async () => {
    const r = await hostmaint(['history', '--state-dir', state]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /run gate +compute-01 +waiting for approval at approve: hostmaint continue \S+ +8 /);
    assert.match(r.stdout, /rolling reboot \(2 hosts\) +compute-03, compute-04 +completed +0 /);
    const one = await hostmaint(['history', 'compute-04', '--state-dir', state, '-f', 'json']);
    const runs = one.json<{ runs: Array<{ runId: string; command: string; workflow?: string; hosts?: string[] }> }>().runs;
    assert.deepEqual(runs.map((x) => x.runId).sort(), [ids.rolling, ids.child].sort());
    assert.deepEqual(runs.find((x) => x.runId === ids.rolling)?.hosts, ['compute-03', 'compute-04']);
  });

  it('history --report of a workflow run writes its steps', async () => {
    const file = path.join(dir, 'r.md');
    const r = await hostmaint(['history', 'compute-02', '--state-dir', state, '--report', file]);
    assert.equal(r.code, 0, r.stderr);
    const { readFileSync } = await import('node:fs');
    assert.match(readFileSync(file, 'utf8'), /^\| patch \| exec \| FAILED \| 7 \|/m);
  });
});
