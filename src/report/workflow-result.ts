/**
 * The final summary of a workflow run (`hostmaint run <workflow> <host>`) and
 * of a rolling run over several hosts, for people: the outcome and exit code
 * in one line, a table of the steps (or hosts), the failure, and what to do
 * next as exact commands. Like result.ts: no colour, no control code
 * (stdout is often a file or a ticket), every string from the cloud or the
 * workflow file cleaned.
 */
import type { RollingResult } from '../runs/rolling-runner.js';
import type { WorkflowResult } from '../runs/workflow-runner.js';
import type { StepResult } from '../machines/workflow.machine.js';
import { clean } from './ansi.js';
import { repeatedFlags, secs, stateDirFlag, shellQuote, table, type ResultContext } from './result.js';

/** Milliseconds between two ISO times, or null. */
function between(from: string | null, to: string | null): number | null {
  if (!from || !to) return null;
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isFinite(ms) && ms >= 0 ? ms : null;
}

/** A step's name as shown: a compensation's steps as "<compensation>/<step>". */
export function stepLabel(s: Pick<StepResult, 'name' | 'compensation'>): string {
  return s.compensation ? `${s.compensation}/${s.name}` : s.name;
}

/** One row per step that ran, plus the approve step the run waits at. */
export function stepRows(r: Pick<WorkflowResult, 'steps' | 'approval' | 'outcome'>): string[][] {
  const rows = r.steps.map((s) => [
    clean(stepLabel(s)),
    clean(s.type),
    s.status === 'failed' ? 'FAILED' : s.status,
    String(s.exitCode),
    secs(between(s.startedAt, s.finishedAt)),
    clean(s.message),
  ]);
  if (r.outcome === 'waiting-approval' && r.approval && !r.steps.some((s) => s.name === r.approval?.step && s.status === 'ok')) {
    rows.push([clean(r.approval.step), 'approve', 'WAITING', '8', '', clean(r.approval.message)]);
  }
  return rows;
}

export const STEP_HEADERS = ['STEP', 'TYPE', 'STATUS', 'EXIT', 'TIME', 'MESSAGE'];

/** What to do next after a workflow run, as lines (explanations end with ':', commands indented under them). */
export function workflowNextSteps(r: WorkflowResult, ctx: ResultContext = {}): string[] {
  const flags = repeatedFlags(ctx);
  const out: string[] = [];
  const say = (text: string, ...commands: string[]) => out.push(text, ...commands.map((c) => `  ${c}`));
  const host = shellQuote(r.host);
  switch (r.outcome) {
    case 'waiting-approval':
      say(`Waiting for approval at step ${clean(r.approval?.step ?? '?')}: ${clean(r.approval?.message ?? '')} When that is done, approve and carry on:`, `${r.next ?? `hostmaint continue ${r.runId}`}${flags}`);
      break;
    case 'interrupted':
    case 'cloud-unreachable':
      say('Stopped; the run is saved. Carry on where it stopped:', ctx.resumeCommand ?? `${r.next ?? `hostmaint resume ${r.runId}`}${flags}`);
      break;
    case 'failed':
    case 'error':
      say(`The run stopped at step ${clean(r.failure?.step ?? '?')}; the steps after it did not run and the host is as that step left it. Every step, and the journal:`, `hostmaint status ${r.runId}${stateDirFlag(ctx)}`);
      if (r.manifest.length > 0) say(`When ${clean(r.host)} may have its instances back, enable it and move the ${r.manifest.length} instance(s) back:`, `hostmaint undrain ${host} --return${flags}`);
      break;
    default:
      break;
  }
  return out;
}

/** The summary of `hostmaint run <workflow> <host>`; with `ctx` it ends with the next steps as exact commands. */
export function formatWorkflowResult(r: WorkflowResult, ctx?: ResultContext): string {
  const out: string[] = [`${clean(r.host)}: workflow ${clean(r.workflow)} ${r.outcome} (exit ${r.exitCode}) - ${clean(r.message)}`];
  if (r.workflowFile.changedSinceStart) {
    out.push(`warning: the workflow file ${clean(r.workflowFile.path ?? r.workflowFile.ref)} changed since this run started; it ran the version recorded then (sha256 ${r.workflowFile.sha256.slice(0, 12)}).`);
  }
  const rows = stepRows(r);
  if (rows.length > 0) out.push('', table(STEP_HEADERS, rows).trimEnd());
  for (const c of new Set(r.steps.map((s) => s.compensation).filter((c): c is string => !!c))) {
    out.push(`${clean(c)}/...: the steps of the compensation ${clean(c)}, run because step ${clean(r.failure?.step ?? '?')} failed.`);
  }
  const done = r.steps.filter((s) => s.status === 'ok' && !s.compensation).length;
  out.push(`${done} step(s) done${r.manifest.length > 0 ? `, ${r.manifest.length} instance(s) moved by the drain` : ''}; run ${r.runId} took ${secs(r.timings.durationMs)}.`);
  if (r.failure && r.outcome !== 'completed' && r.outcome !== 'waiting-approval') {
    out.push('', `Failed at step ${clean(r.failure.step)} (exit ${r.failure.exitCode}): ${clean(r.failure.message)}`);
  }
  const next = ctx ? workflowNextSteps(r, ctx) : [];
  if (next.length > 0) out.push('', 'Next:', ...next.map((s) => `  ${s}`));
  return `${out.join('\n')}\n`;
}

// ------------------------------------------------------------------ rolling

export const HOST_HEADERS = ['HOST', 'STATUS', 'EXIT', 'RUN', 'MESSAGE'];

export function hostRows(r: Pick<RollingResult, 'hosts'>): string[][] {
  return r.hosts.map((h) => [clean(h.host), h.status === 'failed' ? 'FAILED' : h.status, h.exitCode === null ? '' : String(h.exitCode), h.childRunId, clean(h.message ?? '')]);
}

export function rollingNextSteps(r: RollingResult, ctx: ResultContext = {}): string[] {
  const flags = repeatedFlags(ctx);
  const out: string[] = [];
  const say = (text: string, ...commands: string[]) => out.push(text, ...commands.map((c) => `  ${c}`));
  const waiting = r.hosts.filter((h) => h.status === 'waiting');
  switch (r.outcome) {
    case 'waiting-approval':
      say(`${waiting.map((h) => clean(h.host)).join(', ') || 'A host'} wait(s) for approval (\`hostmaint status <run>\` shows the step and its message). Approve and carry on with the next hosts:`, `${r.next ?? `hostmaint continue ${r.runId}`}${flags}`);
      break;
    case 'interrupted':
      say('Stopped; the run is saved. Carry on where it stopped (each host where it was):', ctx.resumeCommand ?? `${r.next ?? `hostmaint resume ${r.runId}`}${flags}`);
      break;
    case 'failed':
    case 'error': {
      const bad = r.hosts.filter((h) => h.status === 'failed' || h.status === 'skipped');
      for (const h of bad) say(`${clean(h.host)} ${h.status === 'skipped' ? 'was skipped' : 'failed'}${h.status === 'failed' ? '; its run shows every step' : ''}:`, `hostmaint status ${h.status === 'failed' ? h.childRunId : r.runId}${stateDirFlag(ctx)}`);
      if (bad.length === 0) say('See the error above; every host:', `hostmaint status ${r.runId}${stateDirFlag(ctx)}`);
      break;
    }
    default:
      break;
  }
  return out;
}

/** The summary of a rolling run: one row per host (status, exit, its own run id), the summary, what next. */
export function formatRollingResult(r: RollingResult, ctx?: ResultContext): string {
  const out: string[] = [`rolling ${clean(r.workflow)}: ${r.outcome} (exit ${r.exitCode}) - ${clean(r.message)}`];
  if (r.hosts.length > 0) out.push('', table(HOST_HEADERS, hostRows(r)).trimEnd());
  out.push(`${r.hosts.length} host(s), ${r.maxParallel} at a time, ${r.continueOnFailure ? 'going on after a failure' : 'stopping at the first failure'}; run ${r.runId} took ${secs(r.timings.durationMs)}.`);
  const next = ctx ? rollingNextSteps(r, ctx) : [];
  if (next.length > 0) out.push('', 'Next:', ...next.map((s) => `  ${s}`));
  return `${out.join('\n')}\n`;
}
