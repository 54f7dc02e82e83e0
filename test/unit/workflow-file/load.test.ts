import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadWorkflow, parseWorkflow, shippedWorkflowsDir, sourceFromText, workflowFromSource } from '../../../src/workflow-file/load.js';
import type { WorkflowProblem } from '../../../src/policies/types.js';
import { HostmaintError } from '../../../src/core/errors.js';

const HEAD = 'version: 1\nname: t\n';
const DRAIN = '  - type: disable\n  - type: preflight\n  - type: migrate\n  - type: verify-empty\n';

function check(text: string): WorkflowProblem[] {
  return parseWorkflow(sourceFromText('t.yaml', '/x/t.yaml', text)).problems;
}
function only(text: string, severity: 'error' | 'warning' = 'error'): WorkflowProblem {
  const ps = check(text).filter((p) => p.severity === severity);
  assert.equal(ps.length, 1, `expected one ${severity}, got: ${JSON.stringify(ps, null, 1)}`);
  return ps[0] as WorkflowProblem;
}
function at(p: WorkflowProblem, pointer: string, line: number, message: RegExp): void {
  assert.equal(p.path, pointer);
  assert.equal(p.line, line, `line of ${p.message}`);
  assert.match(p.message, message);
}

describe('workflow files: shipped workflows', () => {
  const files = readdirSync(shippedWorkflowsDir()).filter((f) => /\.(ya?ml|json)$/.test(f));
  it('ships drain, undrain, maintenance-cycle and the example', () => {
    assert.deepEqual(files.sort(), ['drain.yaml', 'example-webhooks-approval.yaml', 'maintenance-cycle.yaml', 'undrain.yaml']);
  });
  for (const f of files) {
    it(`${f} validates with no errors and no warnings`, async () => {
      const r = await loadWorkflow(path.join(shippedWorkflowsDir(), f));
      assert.deepEqual(r.problems, []);
      assert.equal(r.workflow.name, f.replace(/\.yaml$/, ''));
    });
  }
  it('maintenance-cycle: the drain, the command (1h, on-failure stop), wait 30m fresh, enable, return', async () => {
    const { workflow } = await loadWorkflow('maintenance-cycle');
    assert.deepEqual(workflow.steps.map((s) => s.type), ['disable', 'preflight', 'migrate', 'verify-empty', 'exec', 'wait-for-service', 'enable', 'return-instances']);
    const exec = workflow.steps[4] as unknown as Record<string, unknown>;
    assert.equal(exec.timeoutMs, 3_600_000);
    assert.equal(exec.onFailure, 'stop');
    assert.match(String(exec.command), /HOSTMAINT_MAINTENANCE_COMMAND/);
    const wait = workflow.steps[5] as unknown as Record<string, unknown>;
    assert.equal(wait.timeoutMs, 30 * 60_000);
    assert.equal(wait.fresh, true);
    assert.equal(wait.expectRestart, true, 'the shipped cycle waits to see nova-compute stop (ssh ... reboot returns before the host goes down)');
  });
});

describe('workflow files: normalising', () => {
  it('fills in step defaults and names repeats type-2, type-3', () => {
    const r = parseWorkflow(sourceFromText('t', null, `${HEAD}steps:\n  - type: exec\n    command: [/bin/true]\n  - type: exec\n    command: 'true'\n  - type: http\n    url: https://x\n  - type: wait-for-service\n  - type: approve\n  - type: enable\n`));
    assert.deepEqual(r.problems, []);
    const steps = r.workflow?.steps as unknown as Array<Record<string, unknown>>;
    assert.deepEqual(steps.map((s) => s.name), ['exec', 'exec-2', 'http', 'wait-for-service', 'approve', 'enable']);
    assert.deepEqual(steps[0], { type: 'exec', name: 'exec', description: null, onFailure: 'stop', command: ['/bin/true'], timeoutMs: 1_800_000, retries: 0, env: {}, passEnv: [] });
    assert.deepEqual(steps[2], { type: 'http', name: 'http', description: null, onFailure: 'stop', url: 'https://x', method: 'POST', headers: {}, payload: {}, timeoutMs: 10_000, retries: 3 });
    assert.deepEqual(steps[3], { type: 'wait-for-service', name: 'wait-for-service', description: null, onFailure: 'stop', timeoutMs: 1_200_000, pollIntervalMs: 10_000, fresh: true, expectRestart: false, stallAfterMs: 30_000 });
    assert.equal(steps[4]?.message, 'Approve to continue.');
    assert.equal(steps[5]?.force, false);
  });
  it('reads JSON too, with positions', () => {
    const text = '{\n  "version": 1,\n  "name": "j",\n  "steps": [\n    {"type": "exec"}\n  ]\n}\n';
    const r = parseWorkflow(sourceFromText('j.json', '/x/j.json', text));
    assert.equal(r.workflow, null);
    at(r.problems[0] as WorkflowProblem, '/steps/0', 5, /missing required key "command"/);
  });
  it('workflowFromSource rebuilds the same workflow from recorded text, and throws on a bad one', async () => {
    const loaded = await loadWorkflow('drain');
    assert.deepEqual(workflowFromSource(loaded.source).workflow, loaded.workflow);
    assert.throws(() => workflowFromSource(sourceFromText('x', null, `${HEAD}steps: []\n`)), (e: unknown) => e instanceof HostmaintError && e.kind === 'config' && /x:3:8: \/steps: must not be an empty list/.test(e.message));
  });
});

describe('workflow files: bad files', () => {
  it('a YAML syntax error, with its line and column', () => {
    const ps = check(`${HEAD}steps:\n  - type: disable\n   oops: [\n`);
    assert.equal(parseWorkflow(sourceFromText('t', null, `${HEAD}steps:\n  - type: disable\n   oops: [\n`)).workflow, null);
    const p = ps[0] as WorkflowProblem;
    assert.equal(p.path, '');
    assert.equal(p.line, 5);
    assert.match(p.message, /^YAML syntax: /);
  });
  it('an unknown step type lists the valid ones', () => {
    const p = only(`${HEAD}steps:\n  - type: enable\n  - type: reboot\n    foo: 1\n`);
    at(p, '/steps/1/type', 5, /unknown step type "reboot"/);
    assert.match(String(p.expected), /one of: disable, preflight, migrate, verify-empty, exec, http, wait-for-service, approve, enable, return-instances/);
  });
  it('a wrong type', () => {
    const p = only(`${HEAD}steps:\n  - type: enable\n    force: 'yes'\n`);
    at(p, '/steps/0/force', 5, /must be a boolean/);
  });
  it('an out-of-range duration (step and policy), and a malformed one', () => {
    at(only(`${HEAD}steps:\n  - type: exec\n    command: x\n    timeout: 3d\n`), '/steps/0/timeout', 6, /"3d" is not a duration/);
    at(only(`${HEAD}steps:\n  - type: exec\n    command: x\n    timeout: 100h\n`), '/steps/0/timeout', 6, /timeout 100h is out of range/);
    const p = only(`${HEAD}policies:\n  migration-timeout: 5s\nsteps:\n  - type: enable\n`);
    at(p, '/policies/migration-timeout', 4, /5s is out of range/);
    assert.match(String(p.expected), /from 10s to 48h/);
  });
  it('an unknown key (points at the key, lists the allowed ones)', () => {
    const p = only(`${HEAD}steps:\n  - type: wait-for-service\n    retries: 2\n`);
    at(p, '/steps/0/retries', 5, /unknown key "retries"/);
    assert.match(String(p.expected), /timeout, poll-interval, fresh/);
    at(only(`${HEAD}policies:\n  poll-intervall: 2s\nsteps:\n  - type: enable\n`), '/policies/poll-intervall', 4, /unknown key/);
  });
  it('an enum policy out of its choices', () => {
    const p = only(`${HEAD}policies:\n  stopped: explode\nsteps:\n  - type: enable\n`);
    at(p, '/policies/stopped', 4, /"explode" is not allowed/);
    assert.equal(p.expected, 'one of: cold, leave, fail');
  });
  it('a list policy (the on-timeout ladder): one value, a comma-separated text or a list; a word out of its choices is one problem', () => {
    const p = only(`${HEAD}policies:\n  on-timeout: wait,explode\nsteps:\n  - type: enable\n`);
    at(p, '/policies/on-timeout', 4, /"explode" is not allowed/);
    assert.equal(p.expected, 'a list of: abort, force-complete, wait');
    const q = only(`${HEAD}policies:\n  on-timeout: [wait, 7]\nsteps:\n  - type: enable\n`);
    assert.equal(q.path.startsWith('/policies/on-timeout'), true, JSON.stringify(q));
  });
  it('step names must be unique', () => {
    at(only(`${HEAD}steps:\n  - type: exec\n    name: a\n    command: x\n  - type: enable\n    name: a\n`), '/steps/1/name', 8, /"a" is used twice/);
  });
  it('on-failure must be stop, continue or a compensation', () => {
    const p = only(`${HEAD}steps:\n  - type: enable\n    on-failure: re-enable\ncompensations:\n  undo:\n    - type: enable\n`);
    at(p, '/steps/0/on-failure', 5, /neither stop, continue nor a compensation/);
    assert.equal(p.expected, 'one of: stop, continue, undo');
  });
  it('migrate must follow preflight and disable, and be followed by verify-empty', () => {
    at(only(`${HEAD}steps:\n  - type: preflight\n  - type: migrate\n  - type: verify-empty\n`), '/steps/1/type', 5, /right after preflight, which comes right after disable/);
    at(only(`${HEAD}steps:\n  - type: disable\n  - type: preflight\n  - type: migrate\n  - type: enable\n`), '/steps/2/type', 6, /followed right away by verify-empty/);
    assert.deepEqual(check(`${HEAD}steps:\n  - type: preflight\n  - type: verify-empty\n  - type: disable\n`), []);
  });
  it('return-instances needs an enable right before and a migrate earlier', () => {
    at(only(`${HEAD}steps:\n${DRAIN}  - type: return-instances\n`), '/steps/4/type', 8, /right after an enable/);
    at(only(`${HEAD}steps:\n  - type: enable\n  - type: return-instances\n`), '/steps/1/type', 5, /needs a migrate step earlier/);
  });
  it('compensations hold only enable, exec, http, wait-for-service', () => {
    at(only(`${HEAD}steps:\n  - type: enable\n    on-failure: undo\ncompensations:\n  undo:\n    - type: approve\n`), '/compensations/undo/0/type', 8, /approve steps cannot be part of a compensation/);
  });
  it('secrets: a literal Authorization header, a payload password, a user:password URL', () => {
    const ps = check(`${HEAD}steps:\n  - type: http\n    url: 'https://u:pw@x.org/h'\n    headers: { Authorization: 'Bearer abc123', X-Api-Key: '{env:K}' }\n    payload: { password: hunter2, note: 'Bearer {env:T}' }\n`);
    assert.deepEqual(ps.map((p) => [p.path, p.line]), [['/steps/0/url', 5], ['/steps/0/headers/Authorization', 6], ['/steps/0/payload/password', 7]]);
    assert.match((ps[1] as WorkflowProblem).message, /move it to an environment variable/);
    assert.match((ps[0] as WorkflowProblem).message, /user and password/);
    assert.deepEqual(check(`${HEAD}steps:\n  - type: http\n    url: '{env:U}'\n    headers: { Authorization: 'Bearer {env:CHAT_TOKEN}' }\n`), []);
    at(only(`${HEAD}steps:\n  - type: exec\n    command: x\n    env: { DB_PASSWORD: s3cret }\n`), '/steps/0/env/DB_PASSWORD', 6, /looks like a secret/);
  });
  it('placeholders: unknown names and bad env names; ${VAR} is the shell\'s', () => {
    at(only(`${HEAD}steps:\n  - type: exec\n    command: 'echo {hots}'\n`), '/steps/0/command', 5, /\{hots\} is not a known placeholder/);
    at(only(`${HEAD}steps:\n  - type: exec\n    command: ['echo', '{env:1X}']\n`), '/steps/0/command/1', 5, /not an environment variable name/);
    assert.deepEqual(check(`${HEAD}steps:\n  - type: exec\n    command: 'echo "\${HOME}" {host} {runId} {env:X} | awk "{print $1}"'\n`), []);
  });
  it('an empty command, a non-http url', () => {
    at(only(`${HEAD}steps:\n  - type: exec\n    command: '   '\n`), '/steps/0/command', 5, /the command is empty/);
    at(only(`${HEAD}steps:\n  - type: http\n    url: ftp://x\n`), '/steps/0/url', 5, /must start with http/);
  });
  it('on-failure: continue on a drain step is an error (the steps after it would run on a full, enabled host); a warning for exec after disable with no verify-empty', () => {
    for (const [i, type] of ['disable', 'preflight', 'migrate', 'verify-empty'].entries()) {
      const steps = ['disable', 'preflight', 'migrate', 'verify-empty'].map((t) => `  - type: ${t}\n${t === type ? '    on-failure: continue\n' : ''}`).join('');
      at(only(`${HEAD}steps:\n${steps}  - type: exec\n    command: x\n`), `/steps/${i}/on-failure`, 5 + i, new RegExp(`continue is not allowed on ${type}.*may be enabled and not empty`));
    }
    at(only(`${HEAD}steps:\n  - type: preflight\n    on-failure: continue\n  - type: exec\n    command: x\n`), '/steps/0/on-failure', 5, /not allowed on preflight/);
    assert.deepEqual(check(`${HEAD}steps:\n  - type: disable\n  - type: preflight\n  - type: migrate\n    on-failure: undo\n  - type: verify-empty\ncompensations:\n  undo:\n    - type: enable\n`), [], 'a compensation is fine: the run stops after it');
    at(only(`${HEAD}steps:\n  - type: disable\n  - type: exec\n    command: x\n`, 'warning'), '/steps/1', 5, /not verified empty/);
    assert.deepEqual(check(`${HEAD}steps:\n  - type: disable\n  - type: verify-empty\n  - type: exec\n    command: x\n`), []);
  });
  it('loadWorkflow lists every error as file:line:col: pointer: message (expected: ...)', async () => {
    const file = path.resolve('test/fixtures/workflows/bad-many.yaml');
    await assert.rejects(loadWorkflow(file), (e: unknown) => {
      assert.ok(e instanceof HostmaintError);
      assert.equal(e.kind, 'config');
      const lines = e.message.split('\n').slice(1);
      assert.equal(lines.length, 15);
      assert.match(e.message, /bad-many\.yaml:4:16: \/policies\/concurrency: concurrency: 100 is out of range \(expected: a whole number from 1 to 64\)/);
      assert.match(e.message, /bad-many\.yaml:17:11: \/steps\/5\/type: unknown step type "reboot"/);
      assert.match(String(e.hint), /workflow validate/);
      return true;
    });
    assert.equal(readFileSync(file, 'utf8').includes('hunter2'), true);
  });
});
