/**
 * The events of workflow and rolling runs, as really emitted on the emulated
 * cloud, against docs/events.schema.json: a maintenance cycle with an
 * approval gate (waits, is approved, carries on), a failing step, and a
 * rolling run over two hosts. Together they must use every event type of the
 * workflow and rolling runs.
 *
 * RECORD_WORKFLOW_EVENTS=1 also writes the streams and result documents the
 * report tests replay (test/unit/report/fixtures/): review the diff.
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { startEmulator, VirtualClock } from '../../src/emulator/index.js';
import type { Emulator } from '../../src/emulator/index.js';
import { memoryLogger } from '../../src/core/log.js';
import { connect, type HostmaintSession } from '../../src/openstack/session.js';
import { runRolling } from '../../src/runs/rolling-runner.js';
import type { RunnerEnv } from '../../src/runs/runner.js';
import { RunStore } from '../../src/runs/store.js';
import { approveRun, runWorkflow } from '../../src/runs/workflow-runner.js';
import type { DrainEvent } from '../../src/machines/events.js';
import { emulatorCloud } from './helpers.js';
import { emulatorRunner, workflowScenario } from './run-env.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FIXTURES = path.join(root, 'test/unit/report/fixtures');
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

const SCENARIO = workflowScenario('workflow-events');

const POLICIES = `policies:\n  poll-interval: 2s\n  stall-timeout: 1m\n  reason: events test\n`;

const CYCLE = `version: 1
name: cycle
${POLICIES}steps:
  - type: disable
  - type: preflight
  - type: migrate
  - type: verify-empty
  - type: exec
    name: maintenance
    command: ['true']
  - type: approve
    message: Check the firmware version first.
  - type: enable
  - type: return-instances
`;

const FAILING = `version: 1
name: patch
${POLICIES}steps:
  - type: disable
  - type: exec
    name: patch
    command: 'echo patching {host} >&2; exit 3'
    on-failure: re-enable
  - type: exec
    name: never
    command: ['true']
compensations:
  re-enable:
    - type: enable
`;

const ROLLING = `version: 1
name: reboot
${POLICIES}steps:
  - type: disable
  - type: exec
    name: reboot
    command: ['true']
  - type: wait-for-service
    name: wait
    expect-restart: false
  - type: enable
`;

/** Workflow and rolling event types (the drain's are covered by test/unit/report/events-schema.test.ts). */
const NEW_TYPES = ['step-started', 'step-waiting', 'step-finished', 'approval-required', 'workflow-finished', 'host-started', 'host-finished', 'rolling-finished'];

function validator() {
  const schema = JSON.parse(readFileSync(path.join(root, 'docs/events.schema.json'), 'utf8')) as object;
  const ajv = new Ajv({ allErrors: true, strict: true });
  addFormats(ajv);
  return ajv.compile(schema);
}

function record(name: string, events: DrainEvent[], result: unknown): void {
  if (process.env.RECORD_WORKFLOW_EVENTS !== '1') return;
  mkdirSync(FIXTURES, { recursive: true });
  writeFileSync(path.join(FIXTURES, `${name}.ndjson`), events.map((e) => `${JSON.stringify(e)}\n`).join(''));
  writeFileSync(path.join(FIXTURES, `${name}.result.json`), `${JSON.stringify(result, null, 2)}\n`);
}

describe('workflow and rolling events on the emulated cloud: docs/events.schema.json', function () {
  this.timeout(120_000);
  const validate = validator();
  const seen = new Set<string>();
  let emu: Emulator;
  let session: HostmaintSession;
  let dir: string;
  let events: DrainEvent[];
  let runner: (over?: Partial<RunnerEnv>) => RunnerEnv;

  beforeEach(async () => {
    emu = await startEmulator({ scenario: SCENARIO, clock: new VirtualClock() });
    session = await connect(emulatorCloud(emu), { logger: memoryLogger(), clock: emu.clock, timeoutMs: 30_000 });
    dir = mkdtempSync(path.join(os.tmpdir(), 'hm-wfev-'));
    const store = new RunStore(path.join(dir, 'state'));
    events = [];
    runner = (over = {}) => emulatorRunner(emu, store, { emit: (e) => events.push(e), ...over });
  });
  afterEach(async () => {
    await session.close();
    await emu.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const file = (name: string, text: string) => {
    const f = path.join(dir, name);
    writeFileSync(f, text);
    return f;
  };
  const checkAll = () => {
    assert.ok(events.length > 0);
    events.forEach((e, i) => {
      assert.ok(validate(e), `event ${i + 1}: ${JSON.stringify(validate.errors?.slice(0, 3))}\n${JSON.stringify(e)}`);
      seen.add(e.type);
    });
  };

  it('a maintenance cycle with an approval: waits (approval-required), is approved, carries on; every event valid', async () => {
    const wf = file('cycle.yaml', CYCLE);
    const first = await runWorkflow(session, { host: 'compute-01', workflow: wf }, runner());
    assert.equal(first.result.outcome, 'waiting-approval', first.result.message);
    record('workflow-waiting', events, first.result);
    const waitingEvents = events.length;
    await approveRun(runner().store, first.result.runId, 'alice@ops', emu.clock.now());
    const done = await runWorkflow(session, { host: 'compute-01', resumeRunId: first.result.runId }, runner());
    assert.equal(done.result.outcome, 'completed', done.result.message);
    record('workflow-cycle', events, done.result);
    checkAll();
    const after = events.slice(waitingEvents);
    assert.equal(after[0]?.type, 'step-finished', 'the approval is the first thing the continued run reports');
    assert.equal(events.filter((e) => e.type === 'run-started').length, 2, 'a drain and an undrain inside the run');
    assert.equal(events[events.length - 1]?.type, 'workflow-finished');
  });

  it('a failing step with a compensation: step-finished failed, workflow-finished failed (exit 7)', async () => {
    const { result } = await runWorkflow(session, { host: 'compute-02', workflow: file('patch.yaml', FAILING) }, runner());
    assert.equal(result.exitCode, 7);
    record('workflow-failed', events, result);
    checkAll();
    const failed = events.find((e) => e.type === 'step-finished' && e.status === 'failed');
    assert.ok(failed && failed.type === 'step-finished' && failed.exitCode === 7, JSON.stringify(failed));
    assert.ok(events.some((e) => e.type === 'step-finished' && e.step === 're-enable/enable'));
  });

  it('a rolling run over two hosts: host-started, host-finished, rolling-finished (host "*"); every event valid', async () => {
    const { result } = await runRolling(session, { hosts: ['compute-02', 'compute-03'], workflow: file('reboot.yaml', ROLLING) }, runner());
    assert.equal(result.outcome, 'completed', result.message);
    record('rolling-reboot', events, result);
    checkAll();
    const last = events[events.length - 1]!;
    assert.equal(last.type, 'rolling-finished');
    assert.equal(last.host, '*');
    assert.deepEqual(events.filter((e) => e.type === 'host-started').map((e) => e.host), ['compute-02', 'compute-03']);
  });

  it('together they use every workflow and rolling event type', () => {
    assert.deepEqual(NEW_TYPES.filter((t) => !seen.has(t)), []);
  });
});
