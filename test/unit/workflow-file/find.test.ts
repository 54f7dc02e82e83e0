import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { findWorkflow, listWorkflows, shippedWorkflowsDir } from '../../../src/workflow-file/load.js';
import { HostmaintError } from '../../../src/core/errors.js';

const wf = (name: string): string => `version: 1\nname: ${name}\ndescription: from ${name}\nsteps:\n  - type: enable\n`;

describe('workflow files: finding', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'hm-wf-'));
  const given = path.join(root, 'given');
  const envA = path.join(root, 'envA');
  const envB = path.join(root, 'envB');
  const xdg = path.join(root, 'xdg');
  const user = path.join(xdg, 'hostmaint', 'workflows');
  for (const d of [given, envA, envB, user]) mkdirSync(d, { recursive: true });
  writeFileSync(path.join(given, 'a.yaml'), wf('given-a'));
  writeFileSync(path.join(envA, 'a.yml'), wf('env-a'));
  writeFileSync(path.join(envA, 'b.json'), JSON.stringify({ version: 1, name: 'env-b', steps: [{ type: 'enable' }] }));
  writeFileSync(path.join(envB, 'c.yaml'), wf('env-c'));
  writeFileSync(path.join(user, 'c.yaml'), wf('user-c'));
  writeFileSync(path.join(user, 'drain.yaml'), wf('user-drain'));
  const env = { HOSTMAINT_WORKFLOWS_DIR: `${envA}:${envB}`, XDG_CONFIG_HOME: xdg, HOME: root };

  it('looks in the given dirs, then $HOSTMAINT_WORKFLOWS_DIR, then the user dir, then the shipped ones', async () => {
    assert.equal((await findWorkflow('a', { dirs: [given], env })).path, path.join(given, 'a.yaml'));
    assert.equal((await findWorkflow('a', { env })).path, path.join(envA, 'a.yml'));
    assert.equal((await findWorkflow('c', { env })).path, path.join(envB, 'c.yaml'));
    assert.equal((await findWorkflow('c', { env: { ...env, HOSTMAINT_WORKFLOWS_DIR: '' } })).path, path.join(user, 'c.yaml'));
    assert.equal((await findWorkflow('drain', { env })).path, path.join(user, 'drain.yaml'));
    assert.equal((await findWorkflow('drain', { env: { HOME: root } })).path, path.join(shippedWorkflowsDir(), 'drain.yaml'));
    assert.equal((await findWorkflow('b', { env })).format, 'json');
  });
  it('a ref with / or a workflow extension is a path (relative to cwd), with its sha256', async () => {
    const s = await findWorkflow('given/a.yaml', { cwd: root, env });
    assert.equal(s.path, path.join(given, 'a.yaml'));
    assert.equal(s.ref, 'given/a.yaml');
    assert.equal(s.sha256, createHash('sha256').update(wf('given-a')).digest('hex'));
    assert.equal(s.format, 'yaml');
    await assert.rejects(findWorkflow('a.yaml', { cwd: root, env }), /does not exist/);
  });
  it('not found: a usage error naming where it looked and the shipped workflows', async () => {
    await assert.rejects(findWorkflow('nope', { dirs: [given], env }), (e: unknown) => {
      assert.ok(e instanceof HostmaintError);
      assert.equal(e.kind, 'usage');
      assert.ok(e.message.includes(given) && e.message.includes(envB) && e.message.includes(user) && e.message.includes(shippedWorkflowsDir()));
      assert.match(String(e.hint), /drain, example-webhooks-approval, maintenance-cycle, undrain/);
      return true;
    });
  });
  it('shippedWorkflowsDir is the workflows/ of the package', () => {
    assert.equal(shippedWorkflowsDir(), path.resolve('workflows'));
  });
  it('listWorkflows: in lookup order, later ones of the same name hidden', async () => {
    const list = await listWorkflows({ env });
    const names = list.map((w) => `${w.name}:${w.where}${w.shadowed ? ':hidden' : ''}`);
    assert.deepEqual(names.slice(0, 5), ['a:env', 'b:env', 'c:env', 'c:user:hidden', 'drain:user']);
    assert.ok(names.includes('drain:shipped:hidden'));
    assert.equal(list[0]?.description, 'from env-a');
  });
});
