/**
 * A workflow as `hostmaint workflow show` prints it: the steps with their
 * settings, the compensations, and the effective policies with where each
 * value came from (default, file, flag).
 */
import { formatDuration } from '../core/durations.js';
import { POLICIES, fileValue, type PolicySources } from '../policies/policies.js';
import { DRAIN_STEPS, stepTypeDef } from './steps.js';
import type { Workflow, WorkflowSource, WorkflowStep } from './types.js';

function valueText(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

/** A step's settings in file terms (timeouts as durations), defaults included. */
export function stepSettings(step: WorkflowStep): Array<[string, unknown]> {
  const def = stepTypeDef(step.type);
  const s = step as unknown as Record<string, unknown>;
  return (def?.fields ?? []).map((f) => [f.key, f.kind === 'duration' && typeof s[f.model] === 'number' ? formatDuration(s[f.model] as number, { exact: true }) : s[f.model]]);
}

/** Indexes of the steps that run together as one drain (disable, preflight, migrate, verify-empty in a row). */
export function drainGroups(steps: WorkflowStep[]): Set<number> {
  const out = new Set<number>();
  steps.forEach((s, i) => {
    if (s.type === 'migrate' && i >= 2 && steps.slice(i - 2, i + 2).map((x) => x.type).join(',') === DRAIN_STEPS.join(',')) for (let k = i - 2; k <= i + 1; k++) out.add(k);
  });
  return out;
}

function stepLines(steps: WorkflowStep[], indent: string, drains: Set<number>): string[] {
  const lines: string[] = [];
  const width = String(steps.length).length;
  const titleOf = (step: WorkflowStep) => (step.name === step.type ? step.type : `${step.name} (${step.type})`);
  // The bracket of a drain group lines up after its longest title.
  const bracketAt = Math.max(0, ...steps.filter((_, i) => drains.has(i)).map((s) => titleOf(s).length));
  steps.forEach((step, i) => {
    const n = `${String(i + 1).padStart(width)}.`;
    const title = titleOf(step);
    const drain = drains.has(i) ? `${' '.repeat(bracketAt - title.length)}${step.type === 'disable' ? '  ┐ one drain' : step.type === 'verify-empty' ? '  ┘' : '  │'}` : '';
    lines.push(`${indent}${n} ${title}${drain}`);
    const pad = `${indent}${' '.repeat(width + 2)}`;
    if (step.description) lines.push(`${pad}${step.description}`);
    for (const [k, v] of stepSettings(step)) lines.push(`${pad}${k}: ${valueText(v)}`);
    if (step.onFailure !== 'stop' || !drains.has(i)) lines.push(`${pad}on-failure: ${step.onFailure}${step.onFailure === 'stop' || step.onFailure === 'continue' ? '' : ' (compensation, then stop)'}`);
  });
  return lines;
}

/** Human text of a workflow, with the effective policies and their sources. */
export function formatWorkflow(workflow: Workflow, source: WorkflowSource, sources: PolicySources): string {
  const lines: string[] = [];
  lines.push(`workflow   ${workflow.name}`);
  if (workflow.description) lines.push(`           ${workflow.description}`);
  lines.push(`file       ${source.path ?? `(${source.ref})`}`);
  lines.push(`sha256     ${source.sha256.slice(0, 12)}`);
  lines.push('');
  lines.push('Steps:');
  const drains = drainGroups(workflow.steps);
  lines.push(...stepLines(workflow.steps, '  ', drains));
  if (drains.size > 0) lines.push('  (disable, preflight, migrate and verify-empty run together as one drain: the service is put back when nothing moved, the host is verified empty)');
  const comp = Object.entries(workflow.compensations);
  if (comp.length > 0) {
    lines.push('');
    lines.push('Compensations:');
    for (const [name, steps] of comp) {
      lines.push(`  ${name}:`);
      lines.push(...stepLines(steps, '    ', new Set()));
    }
  }
  lines.push('');
  lines.push('Policies:');
  const pol = workflow.policies as unknown as Record<string, unknown>;
  const width = Math.max(...POLICIES.map((p) => p.key.length));
  for (const p of POLICIES) {
    lines.push(`  ${p.key.padEnd(width)}  ${valueText(fileValue(p, pol[p.model])).padEnd(16)} (${sources[p.key] ?? 'default'})`);
  }
  return `${lines.join('\n')}\n`;
}

/** The JSON of `workflow show --json`. */
export function workflowJson(workflow: Workflow, source: WorkflowSource, sources: PolicySources, warnings: unknown[] = []): Record<string, unknown> {
  return {
    workflow,
    source: { ref: source.ref, path: source.path, sha256: source.sha256, format: source.format },
    policySources: sources,
    drainSteps: [...drainGroups(workflow.steps)].map((i) => workflow.steps[i]?.name),
    warnings,
  };
}
