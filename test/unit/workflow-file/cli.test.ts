import assert from 'node:assert/strict';
import { hostmaintWorkflow } from './cli-helper.js';

describe('hostmaint workflow', () => {
  it('validate: "<file>: valid" for good files, exit 0', async () => {
    const r = await hostmaintWorkflow(['workflow', 'validate', 'drain', 'workflows/maintenance-cycle.yaml']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'workflows/drain.yaml: valid\nworkflows/maintenance-cycle.yaml: valid\n');
  });
  it('validate: every problem with file:line:col, exit 2; a missing one too', async () => {
    const r = await hostmaintWorkflow(['workflow', 'validate', 'test/fixtures/workflows/bad-many.yaml', 'drain', 'nope']);
    assert.equal(r.code, 2);
    assert.match(r.stdout, /^test\/fixtures\/workflows\/bad-many\.yaml: 15 errors\n/);
    assert.match(r.stdout, /\n {2}test\/fixtures\/workflows\/bad-many\.yaml:27:5: \/steps\/8\/retries: unknown key "retries"/);
    assert.match(r.stdout, /\nworkflows\/drain\.yaml: valid\n/);
    assert.match(r.stdout, /\nnope: no workflow named 'nope'/);
  });
  it('validate --json: the problems as JSON', async () => {
    const r = await hostmaintWorkflow(['workflow', 'validate', 'test/fixtures/workflows/bad-many.yaml', '--json']);
    assert.equal(r.code, 2);
    const doc = JSON.parse(r.stdout) as { valid: boolean; files: Array<{ problems: Array<{ path: string; line: number }> }> };
    assert.equal(doc.valid, false);
    assert.deepEqual(doc.files[0]?.problems[0], { path: '/policies/concurrency', line: 4, column: 16, message: 'concurrency: 100 is out of range', expected: 'a whole number from 1 to 64', severity: 'error' });
  });
  it('show: steps, the drain marked as one, policies with their sources (flag over file over default)', async () => {
    const r = await hostmaintWorkflow(['workflow', 'show', 'example-webhooks-approval', '--concurrency', '4', '--migration-timeout', '2h']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^workflow {3}example-webhooks-approval\n/);
    assert.match(r.stdout, /\n {3}3\. disable {7}┐ one drain\n {3}4\. preflight {5}│\n {3}5\. migrate {7}│\n {3}6\. verify-empty  ┘\n/, "the bracket lines up after the longest drain step");
    assert.match(r.stdout, /\n {6}on-failure: tell-chat \(compensation, then stop\)\n/);
    assert.match(r.stdout, /\n {2}concurrency +4 +\(flag\)\n/);
    assert.match(r.stdout, /\n {2}migration-timeout +2h +\(flag\)\n/);
    assert.match(r.stdout, /\n {2}wait-up +10m +\(file\)\n/);
    assert.match(r.stdout, /\n {2}retries +2 +\(default\)\n/);
    assert.match(r.stdout, /\nCompensations:\n {2}tell-chat:\n/);
  });
  it('show --json; a bad flag is a usage error', async () => {
    const r = await hostmaintWorkflow(['workflow', 'show', 'drain', '--json', '--stopped', 'leave']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { workflow: { policies: { stopped: string } }; policySources: Record<string, string>; drainSteps: string[] };
    assert.equal(doc.workflow.policies.stopped, 'leave');
    assert.equal(doc.policySources.stopped, 'flag');
    assert.deepEqual(doc.drainSteps, ['disable', 'preflight', 'migrate', 'verify-empty']);
    const bad = await hostmaintWorkflow(['workflow', 'show', 'drain', '--concurrency', '100']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--concurrency 100 is not allowed/);
  });
  it('list: name, where, description', async () => {
    const r = await hostmaintWorkflow(['workflow', 'list'], { HOME: '/nonexistent' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\nmaintenance-cycle +shipped +Drain the host/);
  });
  it('--help has examples and the policy flags', async () => {
    const r = await hostmaintWorkflow(['workflow', 'show', '--help']);
    assert.match(r.stdout, /Policies \(override the workflow file\):/);
    assert.match(r.stdout, /--migration-timeout/);
    assert.match(r.stdout, /Examples:/);
  });
});
