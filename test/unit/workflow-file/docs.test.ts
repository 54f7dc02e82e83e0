import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { workflowDocs } from '../../../src/workflow-file/docs.js';
import { POLICIES } from '../../../src/policies/policies.js';
import { STEP_TYPES } from '../../../src/workflow-file/steps.js';

describe('workflow files: docs/workflows.md', () => {
  const text = workflowDocs(path.resolve('workflows'));
  it('is up to date with the schema, the policies and the shipped workflows', () => {
    const onDisk = readFileSync(path.resolve('docs/workflows.md'), 'utf8');
    assert.ok(onDisk === text, 'docs/workflows.md is out of date: run `npm run docs:workflows` and commit it');
  });
  it('documents every step type, every policy with its flag, and every shipped workflow', () => {
    for (const t of STEP_TYPES) assert.ok(text.includes(`### \`${t.type}\``), t.type);
    for (const p of POLICIES) assert.ok(text.includes(`| \`${p.key}\` | \`--${p.key}\` |`), p.key);
    for (const n of ['drain', 'undrain', 'maintenance-cycle', 'example-webhooks-approval']) assert.ok(text.includes(`[\`${n}\`]`), n);
    assert.match(text, /run together as one|runs as one/);
  });
});
