/**
 * Writes docs/workflows.md from the workflow tables (src/workflow-file/) and
 * the shipped workflows/. Run: npm run docs:workflows
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { workflowDocs } from '../src/workflow-file/docs.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const file = path.join(root, 'docs', 'workflows.md');
writeFileSync(file, workflowDocs(path.join(root, 'workflows')));
process.stdout.write(`wrote ${path.relative(root, file)}\n`);
