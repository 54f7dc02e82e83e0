/**
 * Workflow runs (hostmaint run) against the emulated cloud: the maintenance
 * cycle end to end, an exec failure that stops the run (and one that runs a
 * compensation), an approval gate with a resume in between, a run
 * interrupted mid-drain and resumed without a second migration request, and
 * a resume that uses the recorded workflow after the file changed.
 */
import { strict as assert } from 'node:assert';
import path from 'node:path';
import type { Emulator } from '../../src/emulator/index.js';
import { approveRun, runWorkflow } from '../../src/runs/workflow-runner.js';
import { openRunEnv, workflowScenario, type RunEnv } from './run-env.js';
import { writeFileSync } from 'node:fs';
import { captureOriginals, doubleMoves, type OriginalServer } from './crash-helpers.js';


const SCENARIO = workflowScenario('workflow-test');

const POLICIES = `policies:\n  poll-interval: 2s\n  stall-timeout: 1m\n  reason: workflow test\n`;

type Env = RunEnv;
const open = () => openRunEnv(SCENARIO, 'hm-wf-');

function service(emu: Emulator, host: string): { status: string; disabledReason: string | null } {
  const h = emu.state.cloud.hosts.get(host)!;
  return { status: h.disabled ? 'disabled' : 'enabled', disabledReason: h.disabledReason };
}

/** Every original server is back on `host` in its original status, moved exactly twice (out and back). */
function backHome(emu: Emulator, host: string, originals: OriginalServer[]): string[] {
  const problems: string[] = [];
  for (const o of originals) {
    const s = emu.state.server(o.id);
    if (!s || s.deleted) problems.push(`${o.name} is gone`);
    else if (s.host !== host || s.status !== o.status) problems.push(`${o.name} is ${s.status} on ${s.host}, was ${o.status} on ${host}`);
    const moves = [...emu.state.cloud.migrations.values()].filter((m) => m.serverId === o.id && (m.status === 'completed' || m.status === 'confirmed')).length;
    if (moves !== 2) problems.push(`${o.name} completed ${moves} migrations, expected 2`);
  }
  return problems;
}

describe('workflow runs on the emulated cloud', function () {
  this.timeout(60_000);
  let env: Env;
  afterEach(async () => env?.close());

  it('runs the maintenance cycle: drain, exec, wait-for-service, enable, return the instances', async () => {
    env = await open();
    const originals = captureOriginals(env.emu, 'compute-01');
    const marker = path.join(env.dir, 'maintained');
    const wf = env.file(
      'cycle.yaml',
      `version: 1\nname: cycle\n${POLICIES}steps:\n  - type: disable\n  - type: preflight\n  - type: migrate\n  - type: verify-empty\n  - type: exec\n    name: maintain\n    command: ['sh', '-c', 'echo "$HOSTMAINT_HOST {runId}" > ${marker}']\n  - type: wait-for-service\n    fresh: false\n    poll-interval: 1s\n  - type: enable\n  - type: return-instances\n`,
    );
    const { result, record } = await runWorkflow(env.session, { host: 'compute-01', workflow: wf }, env.runner());
    assert.equal(result.outcome, 'completed', result.message);
    assert.equal(result.exitCode, 0);
    assert.deepEqual(result.steps.map((s) => [s.name, s.status]), [
      ['disable', 'ok'], ['preflight', 'ok'], ['migrate', 'ok'], ['verify-empty', 'ok'], ['maintain', 'ok'], ['wait-for-service', 'ok'], ['enable', 'ok'], ['return-instances', 'ok'],
    ]);
    // The exec step ran with the host and run id substituted.
    const { readFileSync } = await import('node:fs');
    assert.equal(readFileSync(marker, 'utf8').trim(), `compute-01 ${result.runId}`);
    // The cloud: the service enabled again, every instance back on compute-01 in its state.
    assert.equal(service(env.emu, 'compute-01').status, 'enabled');
    assert.deepEqual(backHome(env.emu, 'compute-01', originals), []);
    assert.equal(env.emu.state.serversOn('compute-01').length, originals.length);
    assert.deepEqual(doubleMoves(env.emu), []);
    assert.equal(record?.state, 'finished');
    assert.equal(record?.workflowFile?.path, wf);
    // Each step's outcome is in the journal, the exec step's with its exit status.
    const { entries } = await env.store.readJournal(result.runId);
    const stepResults = entries.filter((e) => e.kind === 'decision' && e.decision === 'step-result') as unknown as Array<{ detail: { step: string; detail: { exitCode?: number } } }>;
    assert.deepEqual(stepResults.map((e) => e.detail.step), result.steps.map((s) => s.name));
    assert.equal(stepResults.find((e) => e.detail.step === 'maintain')?.detail.detail.exitCode, 0);
    // Each drain step has its own start: announced when the drain reaches it, timed by the drain's phases.
    const order = env.events.map((e) => (e.type === 'step-started' ? `step:${e.step}` : e.type === 'phase-changed' ? `phase:${e.phase}` : '')).filter(Boolean);
    assert.ok(order.indexOf('step:preflight') > order.indexOf('phase:disablingService'), order.join(' '));
    assert.ok(order.indexOf('step:migrate') > order.indexOf('phase:preflight'), order.join(' '));
    assert.ok(order.indexOf('step:return-instances') > order.lastIndexOf('phase:enablingService'), order.join(' '));
    const at = (name: string) => result.steps.find((s) => s.name === name)!;
    assert.ok(at('migrate').startedAt! >= at('preflight').finishedAt! && at('migrate').finishedAt! > at('migrate').startedAt!, JSON.stringify(result.steps.slice(0, 4)));
    assert.match(at('disable').message, /nova-compute disabled: "hostmaint:/);
    assert.match(at('migrate').message, /4 of 4 instance\(s\) moved/);
    const types = env.events.map((e) => e.type);
    assert.ok(types.includes('step-started') && types.includes('step-finished') && types.includes('workflow-finished'));
  });

  it('stops at a failed exec step (exit 7) and leaves the drained host disabled, later steps not run', async () => {
    env = await open();
    const wf = env.file('fail.yaml', `version: 1\nname: fail\n${POLICIES}steps:\n  - type: disable\n  - type: preflight\n  - type: migrate\n  - type: verify-empty\n  - type: exec\n    name: patch\n    command: 'echo patching {host} >&2; exit 3'\n  - type: enable\n`);
    const { result } = await runWorkflow(env.session, { host: 'compute-01', workflow: wf }, env.runner());
    assert.equal(result.outcome, 'failed');
    assert.equal(result.exitCode, 7);
    assert.equal(result.failure?.step, 'patch');
    assert.match(result.message, /patch failed \(exit 7\)/);
    assert.deepEqual(result.steps.map((s) => s.name), ['disable', 'preflight', 'migrate', 'verify-empty', 'patch']);
    assert.equal(service(env.emu, 'compute-01').status, 'disabled');
    assert.equal(env.emu.state.serversOn('compute-01').length, 0);
  });

  it('runs the named compensation when a step fails with on-failure: <name>', async () => {
    env = await open();
    const wf = env.file(
      'comp.yaml',
      `version: 1\nname: comp\n${POLICIES}steps:\n  - type: disable\n  - type: exec\n    name: check\n    command: ['false']\n    on-failure: re-enable\n  - type: exec\n    name: never\n    command: ['true']\ncompensations:\n  re-enable:\n    - type: enable\n`,
    );
    const { result } = await runWorkflow(env.session, { host: 'compute-02', workflow: wf }, env.runner());
    assert.equal(result.outcome, 'failed');
    assert.equal(result.exitCode, 7);
    assert.deepEqual(result.steps.map((s) => [s.name, s.status, s.compensation ?? null]), [['disable', 'ok', null], ['check', 'failed', null], ['enable', 'ok', 're-enable']]);
    assert.equal(service(env.emu, 'compute-02').status, 'enabled');
  });

  it('waits at an approve step (exit 8, saved), and `continue` carries on from there', async () => {
    env = await open();
    const wf = env.file('gate.yaml', `version: 1\nname: gate\n${POLICIES}steps:\n  - type: disable\n  - type: approve\n    message: Check the host first.\n  - type: enable\n`);
    const first = await runWorkflow(env.session, { host: 'compute-03', workflow: wf }, env.runner());
    assert.equal(first.result.outcome, 'waiting-approval');
    assert.equal(first.result.exitCode, 8);
    assert.equal(first.result.next, `hostmaint continue ${first.result.runId}`);
    assert.equal(first.record?.state, 'waiting');
    assert.equal(service(env.emu, 'compute-03').status, 'disabled');
    assert.ok(env.events.some((e) => e.type === 'approval-required' && e.message === 'Check the host first.'));
    // Resuming without an approval still waits; nothing changes.
    const again = await runWorkflow(env.session, { host: 'compute-03', resumeRunId: first.result.runId }, env.runner());
    assert.equal(again.result.exitCode, 8);
    assert.equal(service(env.emu, 'compute-03').status, 'disabled');
    await approveRun(env.runner().store, first.result.runId, 'alice@ops', env.emu.clock.now());
    const done = await runWorkflow(env.session, { host: 'compute-03', resumeRunId: first.result.runId }, env.runner());
    assert.equal(done.result.outcome, 'completed', done.result.message);
    assert.deepEqual(done.result.steps.map((s) => [s.name, s.status]), [['disable', 'ok'], ['approve', 'ok'], ['enable', 'ok']]);
    assert.match(done.result.steps[1]!.message, /approved by alice@ops/);
    assert.equal(service(env.emu, 'compute-03').status, 'enabled');
  });

  it('resumes an interrupted drain step without a second migration request, with the recorded workflow even after the file changed', async () => {
    env = await open();
    const originals = captureOriginals(env.emu, 'compute-01');
    const text = `version: 1\nname: cycle\n${POLICIES}steps:\n  - type: disable\n  - type: preflight\n  - type: migrate\n  - type: verify-empty\n  - type: enable\n  - type: return-instances\n`;
    const wf = env.file('resume.yaml', text);
    const stop = new AbortController();
    const first = await runWorkflow(env.session, { host: 'compute-01', workflow: wf }, env.runner({
      signal: stop.signal,
      emit: (e) => {
        if (e.type === 'migration-started' && !stop.signal.aborted) stop.abort('test interrupt');
      },
    }));
    assert.equal(first.result.outcome, 'interrupted');
    assert.equal(first.result.exitCode, 130);
    assert.equal(first.record?.state, 'interrupted');
    // The file changes after the run started: the resume must not pick that up.
    writeFileSync(wf, text.replace('  - type: enable\n  - type: return-instances\n', '  - type: exec\n    command: ["false"]\n'));
    const second = await runWorkflow(env.session, { host: 'compute-01', workflow: wf }, env.runner());
    assert.ok(env.notices.some((n) => /changed .*since run/.test(n)), env.notices.join('\n'));
    assert.equal(second.result.runId, first.result.runId);
    assert.equal(second.result.outcome, 'completed', second.result.message);
    assert.equal(second.result.workflowFile.changedSinceStart, true);
    assert.deepEqual(doubleMoves(env.emu), []);
    assert.deepEqual(backHome(env.emu, 'compute-01', originals), []);
    assert.equal(service(env.emu, 'compute-01').status, 'enabled');
  });

  it('refuses an unknown host and changes nothing (exit 2 kind), saving no run', async () => {
    env = await open();
    const wf = env.file('x.yaml', `version: 1\nname: x\nsteps:\n  - type: disable\n`);
    await assert.rejects(runWorkflow(env.session, { host: 'compute-9', workflow: wf }, env.runner()), (e: { kind?: string; message: string }) => e.kind === 'unknown-host' && /compute-9/.test(e.message));
    const writes = env.emu.requests.records.filter((r: { method: string }) => r.method !== 'GET' && r.method !== 'HEAD');
    assert.deepEqual(writes.filter((r: { path: string }) => !r.path.includes('/auth/tokens')), []);
  });

  it('runs disable, preflight (read-only) and verify-empty alone, an http step to a local server; no secret from the environment reaches the saved run', async () => {
    env = await open();
    const { createServer } = await import('node:http');
    const got: Array<{ url: string; auth: string; body: string }> = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        got.push({ url: req.url ?? '', auth: String(req.headers.authorization ?? ''), body });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const secret = 'tok-3f9a7c0d5e1b';
    try {
      const wf = env.file(
        'steps.yaml',
        `version: 1\nname: steps\n${POLICIES}steps:\n  - type: preflight\n  - type: disable\n  - type: http\n    url: 'http://127.0.0.1:${port}/hook/{env:HOOK_TOKEN}'\n    headers: { Authorization: 'Bearer {env:HOOK_TOKEN}' }\n    payload: { text: '{host} is out ({runId})' }\n  - type: verify-empty\n  - type: enable\n`,
      );
      const { result } = await runWorkflow(env.session, { host: 'compute-02', workflow: wf }, env.runner({ processEnv: { ...process.env, HOOK_TOKEN: secret } }));
      assert.equal(result.outcome, 'completed', result.message);
      assert.deepEqual(result.steps.map((s) => [s.name, s.status]), [['preflight', 'ok'], ['disable', 'ok'], ['http', 'ok'], ['verify-empty', 'ok'], ['enable', 'ok']]);
      assert.equal(got.length, 1);
      assert.equal(got[0]!.url, `/hook/${secret}`);
      assert.equal(got[0]!.auth, `Bearer ${secret}`);
      assert.deepEqual(JSON.parse(got[0]!.body), { text: `compute-02 is out (${result.runId})` });
      // The preflight alone changed nothing; the service went disabled then enabled again.
      assert.equal(service(env.emu, 'compute-02').status, 'enabled');
      // verify-empty alone on a host with instances fails (exit 4) and stops the run: the exec after it does not run.
      const wf2 = env.file('verify.yaml', `version: 1\nname: verify\nsteps:\n  - type: verify-empty\n  - type: exec\n    command: ['true']\n`);
      const second = await runWorkflow(env.session, { host: 'compute-01', workflow: wf2 }, env.runner());
      assert.deepEqual(second.result.steps.map((s) => [s.name, s.status, s.exitCode]), [['verify-empty', 'failed', 4]]);
      assert.deepEqual([second.result.outcome, second.result.exitCode], ['failed', 4]);
      // Nothing under the state directory holds the secret.
      const { readdirSync, readFileSync, statSync } = await import('node:fs');
      const walk = (d: string): string[] => readdirSync(d).flatMap((n) => (statSync(path.join(d, n)).isDirectory() ? walk(path.join(d, n)) : [path.join(d, n)]));
      for (const f of walk(path.join(env.dir, 'state'))) assert.ok(!readFileSync(f, 'utf8').includes(secret), `${f} holds the secret`);
    } finally {
      server.close();
    }
  });

  it('a run waiting after its drain whose host was enabled meanwhile is stale: continue refuses (conflict), the reboot never runs', async () => {
    env = await open();
    const marker = path.join(env.dir, 'rebooted');
    const wf = env.file('stale.yaml', `version: 1\nname: stale\n${POLICIES}steps:\n  - type: disable\n  - type: preflight\n  - type: migrate\n  - type: verify-empty\n  - type: approve\n  - type: exec\n    name: reboot\n    command: ['touch', '${marker}']\n  - type: enable\n`);
    const first = await runWorkflow(env.session, { host: 'compute-01', workflow: wf }, env.runner());
    assert.equal(first.result.exitCode, 8);
    // A colleague enables the host while the run waits.
    await env.session.compute.enableService((await env.session.compute.listServices({ host: 'compute-01', binary: 'nova-compute' }))[0]!);
    await approveRun(env.store, first.result.runId, 'alice@ops', env.emu.clock.now());
    await assert.rejects(
      runWorkflow(env.session, { host: 'compute-01', resumeRunId: first.result.runId }, env.runner()),
      (e: { kind?: string; message: string }) => e.kind === 'conflict' && /enabled again after this run disabled it/.test(e.message),
    );
    const { existsSync } = await import('node:fs');
    assert.equal(existsSync(marker), false, 'the reboot did not run');
    assert.equal((await env.store.load(first.result.runId)).state, 'superseded');
  });

  it('a run stopped inside its own enable step resumes (the host it enabled itself is not taken for someone else\'s)', async () => {
    env = await open();
    const wf = env.file('own-enable.yaml', `version: 1\nname: own\n${POLICIES}steps:\n  - type: disable\n  - type: preflight\n  - type: migrate\n  - type: verify-empty\n  - type: enable\n  - type: return-instances\n`);
    const stop = new AbortController();
    const first = await runWorkflow(env.session, { host: 'compute-01', workflow: wf }, env.runner({
      signal: stop.signal,
      emit: (e) => {
        if (e.type === 'service-changed' && e.action === 'enabled' && !stop.signal.aborted) stop.abort('killed right after the enable');
      },
    }));
    assert.equal(first.result.exitCode, 130, first.result.message);
    assert.equal(service(env.emu, 'compute-01').status, 'enabled');
    const again = await runWorkflow(env.session, { host: 'compute-01', resumeRunId: first.result.runId }, env.runner());
    assert.equal(again.result.outcome, 'completed', again.result.message);
    assert.equal(env.emu.state.serversOn('compute-01').length, 4, 'every instance moved back');
  });
});
