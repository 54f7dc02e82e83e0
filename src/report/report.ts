/**
 * `--report FILE.md|FILE.json`: a report fit for a change ticket. Who ran
 * what, when, on which cloud; the preflight's findings; the plan; what moved
 * where and how long it took; anything left and why; what to do next. Built
 * from the result document and the run's events only (never secrets: the
 * command line is already redacted, the result holds no credentials).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { DrainEvent } from '../machines/events.js';
import type { DrainResult, InstanceOutcome, UndrainResult } from '../machines/results.js';
import { clean } from './ansi.js';
import { describeEvent, stamp } from './progress.js';
import { blockedServer, blockingMessage, nextSteps, projectLabelsOf, projectNamesOf, projectsOf, secs } from './result.js';
import { HOST_HEADERS, STEP_HEADERS, hostRows, rollingNextSteps, stepLabel, stepRows, workflowNextSteps } from './workflow-result.js';
import type { RollingResult } from '../runs/rolling-runner.js';
import type { WorkflowResult } from '../runs/workflow-runner.js';
import { VERSION } from '../version.js';

export const REPORT_SCHEMA_VERSION = 1;

export interface ReportContext {
  command: string;
  argv: string[];
  cloudName: string;
  user: string | null;
  who: string;
}

export interface TimelineEntry {
  time: string;
  type: DrainEvent['type'];
  text: string;
}

export type ReportFormat = 'md' | 'json';

/** The format a report file name asks for, or null when it is neither .md nor .json. */
export function reportFormat(file: string): ReportFormat | null {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.md' || ext === '.markdown') return 'md';
  if (ext === '.json') return 'json';
  return null;
}

/** Events worth a line in the report's timeline (progress samples and classifications are in the tables). */
export function timelineEntry(e: DrainEvent): TimelineEntry | null {
  if (e.type === 'migration-progress' || e.type === 'instance-classified') return null;
  const text = describeEvent(e);
  return text === null ? null : { time: e.time, type: e.type, text: clean(text).trim() };
}

function moves(list: InstanceOutcome[], projects: Map<string, string>, names: Map<string, string>) {
  return list.map((i) => ({
    name: i.name,
    serverId: i.serverId,
    projectId: projects.get(i.serverId) ?? null,
    projectName: names.get(i.serverId) ?? null,
    from: i.from,
    to: i.to,
    method: i.method,
    result: i.status,
    attempts: i.attempts,
    startedAt: i.startedAt,
    finishedAt: i.finishedAt,
    durationMs: i.durationMs,
    note: i.reason ?? i.errors[i.errors.length - 1] ?? null,
  }));
}

/** What every report begins with. */
function reportHead() {
  return { kind: 'hostmaint-report', schemaVersion: REPORT_SCHEMA_VERSION, generatedBy: `hostmaint ${VERSION}` };
}

/** Who ran it, where, with which command line (the report's `run`). */
function whoRan(ctx: ReportContext) {
  return { cloud: ctx.cloudName, keystoneUser: ctx.user, who: ctx.who, commandLine: ['hostmaint', ...ctx.argv].join(' ') };
}

/** When it ran and how it ended (the report's `run`). */
function howItEnded(r: { timings: { startedAt: string; finishedAt: string; durationMs: number }; outcome: string; exitCode: number; message: string }) {
  return { startedAt: r.timings.startedAt, finishedAt: r.timings.finishedAt, durationMs: r.timings.durationMs, outcome: r.outcome, exitCode: r.exitCode, message: r.message };
}

/** The caller's extra facts (apiRequests, the saved run as `savedRun`). */
function savedExtra(extra: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(extra).map(([k, v]) => [k === 'run' ? 'savedRun' : k, v]));
}

/** The report as one JSON document (stable keys, `kind` and `schemaVersion` first). */
export function buildReport(r: DrainResult | UndrainResult, ctx: ReportContext, timeline: TimelineEntry[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  const projects = projectsOf(r);
  const list = r.command === 'drain' ? r.instances : r.returns;
  return {
    ...reportHead(),
    run: {
      runId: r.runId,
      command: r.command,
      dryRun: r.command === 'drain' ? r.dryRun : false,
      host: r.host,
      ...whoRan(ctx),
      reason: r.command === 'drain' ? r.options.reason : null,
      ...howItEnded(r),
      error: r.error,
      ...savedExtra(extra),
    },
    service: r.service,
    preflight: r.command === 'drain' && r.preflight
      ? {
          ok: r.preflight.ok,
          blocking: r.preflight.blocking,
          findings: r.preflight.findings,
          warnings: r.preflight.warnings,
          targets: r.preflight.targets,
          instances: r.preflight.instances.map((c) => ({ name: c.name, serverId: c.serverId, projectId: c.projectId, projectName: c.projectName ?? null, status: c.status, class: c.class, reason: c.reason, blocking: c.blocking, remedy: c.remedy })),
          waitedMs: r.preflight.waitedMs,
        }
      : null,
    plan: r.command === 'drain' ? r.plan : [],
    moves: moves(list, projects, projectNamesOf(r)),
    leftovers: r.command === 'drain' ? r.leftovers : r.notReturned,
    verification: r.command === 'drain' ? r.verification : null,
    phases: r.timings.phases,
    timeline,
    warnings: r.warnings,
    next: nextSteps(r, { argv: ctx.argv }),
  };
}

// ------------------------------------------------------------------ Markdown

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  return clean(String(v)).replace(/\\/g, '\\\\').replace(/\|/g, '\\|');
}

function mdTable(headers: string[], rows: unknown[][]): string[] {
  return [`| ${headers.join(' | ')} |`, `|${headers.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)];
}

function amounts(a: Record<string, number> | null | undefined): string {
  if (!a) return '';
  return Object.entries(a).map(([k, v]) => `${k} ${v}`).join(', ');
}

function svcText(s: { status: string; state: string; disabledReason: string | null } | null): string {
  if (!s) return 'unknown';
  return `${s.status}, ${s.state}${s.disabledReason ? ` ("${clean(s.disabledReason)}")` : ''}`;
}

export function renderMarkdown(report: Record<string, unknown>, r: DrainResult | UndrainResult): string {
  const run = report.run as Record<string, unknown>;
  const out: string[] = [];
  const title = `hostmaint ${r.command}${r.command === 'drain' && r.dryRun ? ' (plan)' : ''} ${clean(r.host)}: ${r.outcome}`;
  out.push(`# ${title}`, '');
  out.push(clean(r.message), '');
  out.push(...mdTable(['', ''], [
    ['Outcome', `${r.outcome} (exit ${r.exitCode})`],
    ['Host', r.host],
    ['Cloud', run.cloud],
    ['Run id', r.runId],
    ['Run by', `${String(run.who)}${run.keystoneUser ? ` as Keystone user ${String(run.keystoneUser)}` : ''}`],
    ['Command', String(run.commandLine)],
    ...(run.reason ? [['Reason', run.reason]] : []),
    ['Started', `${stamp(r.timings.startedAt)} (UTC)`],
    ['Finished', `${stamp(r.timings.finishedAt)} (UTC)`],
    ['Duration', secs(r.timings.durationMs)],
    ...(apiRequests(run.apiRequests) ? [['API requests', apiRequests(run.apiRequests)]] : []),
    ['Report by', String(report.generatedBy)],
  ]));
  if (r.error) {
    out.push('', '## Error', '', `${clean(r.error.message)}`);
    const facts = [r.error.kind, r.error.status ? `HTTP ${r.error.status}` : null, r.error.requestId ? `request id ${r.error.requestId}` : null].filter(Boolean).join(', ');
    out.push('', `- why: ${facts}`);
    if (r.error.hint) out.push(`- what to do: ${clean(r.error.hint)}`);
  }

  out.push('', '## Service', '');
  if (r.command === 'drain') {
    out.push(`- before: ${svcText(r.service.before)}`, `- after: ${svcText(r.service.after)}`);
    const own: Record<string, string> = {
      ours: 'this run disabled it (undrain may enable it)',
      adopted: `an earlier hostmaint run (${r.service.adoptedRunId ?? '?'}) had disabled it; this run carried on under that disable`,
      foreign: 'someone else had disabled it; hostmaint drains but never enables it',
      none: 'not touched',
    };
    out.push(`- ownership: ${r.service.ownership}: ${own[r.service.ownership] ?? ''}`);
    if (r.service.restored) out.push('- put back to its prior state after the run stopped early');
  } else {
    out.push(`- before: ${svcText(r.service.before)}`, `- after: ${svcText(r.service.after)}`);
    if (r.service.disabledBy) out.push(`- it had been disabled by: ${clean(r.service.disabledBy)}`);
    if (r.service.forced) out.push('- enabled with --force');
  }

  if (r.command === 'drain') {
    const p = r.preflight;
    out.push('', '## Preflight', '');
    if (!p) out.push('Not reached.');
    else {
      const classes = new Map<string, number>();
      for (const c of p.instances) classes.set(c.class, (classes.get(c.class) ?? 0) + 1);
      const order = ['live', 'cold', 'offload', 'wait', 'blocked', 'leave', 'none'];
      const byClass = [...classes.entries()].sort((a, b) => order.indexOf(a[0]) - order.indexOf(b[0]));
      out.push(`${p.ok ? 'Passed' : '**Refused**'}: ${p.instances.length} instance(s) on the host (${byClass.map(([k, v]) => `${v} ${k}`).join(', ') || 'none'})${p.waitedMs >= r.options.pollIntervalMs ? `; waited ${secs(p.waitedMs)} for busy instances` : ''}.`);
      if (p.blocking.length > 0) {
        out.push('', '### Blocking', '');
        for (const g of p.blocking) {
          out.push(`- ${blockingMessage(g)}`);
          for (const s of g.servers) out.push(`  - ${blockedServer(s)}`);
          for (const h of g.hosts ?? []) out.push(`  - ${h}`);
        }
      }
      const warnings = p.findings.filter((f) => f.severity === 'warning');
      if (warnings.length > 0 || p.warnings.length > 0) {
        out.push('', '### Warnings', '');
        const seen = new Set<string>();
        for (const f of warnings) {
          seen.add(f.message);
          out.push(`- ${clean(f.message)}${f.remedy ? `; ${clean(f.remedy)}` : ''}`);
        }
        for (const w of p.warnings) if (!seen.has(w)) out.push(`- ${clean(w)}`);
      }
      if (p.targets.length > 0) {
        out.push('', '### Targets', '');
        out.push(...mdTable(['Host', 'Zone', 'Usable', 'Free before', 'Free after the plan', 'Why not'], p.targets.map((t) => [
          t.host, t.zone ?? '', t.usable ? 'yes' : 'no', amounts(t.free), amounts(t.freeAfterPlan), t.reasons.join('; '),
        ])));
      }
    }
    if (r.plan.length > 0) {
      const projects = projectLabelsOf(r);
      out.push('', '## Plan', '');
      out.push(...mdTable(['Instance', 'Project', 'Method', 'Planned target', 'Needs', 'Note'], r.plan.map((pl) => [
        pl.name, projects.get(pl.serverId) ?? '', pl.method, pl.target ?? (pl.fits ? '(scheduler)' : 'NOWHERE'), amounts(pl.request), pl.reason ?? '',
      ])));
      if (!r.plan.some((pl) => r.options.targets?.includes(pl.target ?? '')) && !r.options.pinToPlan) {
        out.push('', 'Targets are Nova\'s scheduler\'s choice (the plan checks that every instance fits somewhere); see "What moved" for where each went.');
      }
    }
  }

  const list = r.command === 'drain' ? r.instances : r.returns;
  if (!(r.command === 'drain' && r.dryRun)) {
    const anyMoveTried = list.some((i) => i.status !== 'not-moved');
    out.push('', r.command === 'drain' ? (anyMoveTried ? '## What moved' : '## Instances (none moved)') : '## What moved back', '');
    if (list.length === 0) out.push('Nothing.');
    else {
      const projects = projectLabelsOf(r);
      out.push(...mdTable(['Instance', 'Project', 'From', 'To', 'Method', 'Started (UTC)', 'Duration', 'Result', 'Attempts', 'Note'], list.map((i) => [
        i.name, projects.get(i.serverId) ?? '', i.from, i.to ?? '', i.method ?? '', i.startedAt ? stamp(i.startedAt).slice(11, 19) : '', secs(i.durationMs), i.status, i.attempts, i.reason ?? i.errors[i.errors.length - 1] ?? '',
      ])));
      const durations = list.map((i) => i.durationMs).filter((d): d is number => d !== null);
      if (durations.length > 0) {
        const longest = list.reduce((a, b) => ((b.durationMs ?? -1) > (a.durationMs ?? -1) ? b : a));
        out.push('', `${durations.length} timed move(s): median ${secs(median(durations))}, longest ${secs(longest.durationMs)} (${clean(longest.name)}).`);
      }
    }
  }

  out.push('', r.command === 'drain' ? '## Left on the host' : '## Not moved back', '');
  if (r.command === 'drain') {
    const notMoved = r.instances.filter((i) => i.status === 'not-moved' || i.status === 'failed' || i.status === 'skipped' || i.status === 'left');
    if (r.dryRun) out.push('Plan only: nothing was moved.');
    else if (r.leftovers.length === 0 && !r.verification && notMoved.length > 0) {
      out.push(`Not verified (the run ended before the verification); ${notMoved.length} instance(s) were not moved (see above).`);
    } else if (r.leftovers.length === 0) out.push('Nothing.');
    for (const l of r.leftovers) out.push(`- ${l.kind} ${clean(l.name ?? l.id)}${l.status ? ` [${clean(l.status)}]` : ''}: ${clean(l.reason)}`);
    if (r.verification) {
      const c = r.verification.checks;
      out.push('', `Verification (${r.verification.empty ? 'empty' : 'NOT empty'}): servers ${c.servers}, hypervisor servers ${c.hypervisorServers ?? 'n/a'}, Placement allocations ${c.allocations ?? 'n/a'}, unfinished migrations ${c.unfinishedMigrations}.`);
    }
  } else {
    if (r.notReturned.length === 0) out.push('Nothing.');
    for (const n of r.notReturned) out.push(`- ${clean(n.name ?? n.serverId)}: ${clean(n.reason)}`);
  }

  if (r.warnings.length > 0) {
    out.push('', '## Warnings', '');
    for (const w of r.warnings) out.push(`- ${clean(w)}`);
  }

  out.push('', '## Timeline', '');
  if (r.timings.phases.length > 0) {
    out.push(...mdTable(['Phase', 'Started (UTC)', 'Duration'], r.timings.phases.map((p) => [p.phase, stamp(p.startedAt).slice(11, 19), secs(p.durationMs)])));
  }
  const timeline = (report.timeline as TimelineEntry[]) ?? [];
  if (timeline.length > 0) {
    out.push('', '<details><summary>Events</summary>', '', '```');
    for (const t of timeline) out.push(`${stamp(t.time)} ${t.text.replace(/```/g, "'''")}`);
    out.push('```', '', '</details>');
  }

  out.push(...nextMarkdown(report.next as string[]));
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}

/** The "Next" section: explanations as text, their commands in sh blocks. */
function nextMarkdown(next: string[]): string[] {
  if (next.length === 0) return [];
  const out = ['', '## Next', ''];
  let inCode = false;
  for (const n of next) {
    const isCommand = n.startsWith('  ');
    if (isCommand && !inCode) out.push('', '```sh');
    if (!isCommand && inCode) out.push('```', '');
    inCode = isCommand;
    out.push(isCommand ? n.trim() : n);
  }
  if (inCode) out.push('```');
  return out;
}

/** "109 (compute 100, placement 8, identity 1)" from a number or a per-service count. */
function apiRequests(v: unknown): string | null {
  if (typeof v === 'number') return String(v);
  if (!v || typeof v !== 'object') return null;
  const parts = Object.entries(v as Record<string, unknown>).filter((e): e is [string, number] => typeof e[1] === 'number');
  if (parts.length === 0) return null;
  const total = parts.reduce((a, [, n]) => a + n, 0);
  return `${total} (${parts.sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ')})`;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : Math.round(((s[m - 1] as number) + (s[m] as number)) / 2);
}

// ------------------------------------------------------------------ workflow and rolling runs

/** The report of a workflow run or a rolling run: who, when, the outcome, the steps (or hosts), the timeline, what next. */
export function buildRunReport(r: WorkflowResult | RollingResult, ctx: ReportContext, timeline: TimelineEntry[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ...reportHead(),
    run: {
      runId: r.runId,
      command: r.command,
      workflow: r.workflow,
      host: r.command === 'run' ? r.host : null,
      hosts: r.command === 'rolling' ? r.hosts.map((h) => h.host) : null,
      ...whoRan(ctx),
      ...howItEnded(r),
      ...savedExtra(extra),
    },
    ...(r.command === 'run'
      ? {
          workflowFile: { ref: r.workflowFile.ref, path: r.workflowFile.path, sha256: r.workflowFile.sha256, changedSinceStart: r.workflowFile.changedSinceStart },
          steps: r.steps.map((s) => ({ step: stepLabel(s), type: s.type, status: s.status, exitCode: s.exitCode, message: s.message, startedAt: s.startedAt, finishedAt: s.finishedAt, compensation: s.compensation ?? null })),
          failure: r.failure,
          approval: r.approval,
          manifest: r.manifest,
        }
      : { hosts: r.hosts, maxParallel: r.maxParallel, continueOnFailure: r.continueOnFailure }),
    timeline,
    next: r.command === 'run' ? workflowNextSteps(r, { argv: ctx.argv }) : rollingNextSteps(r, { argv: ctx.argv }),
  };
}

export function renderRunMarkdown(report: Record<string, unknown>, r: WorkflowResult | RollingResult): string {
  const run = report.run as Record<string, unknown>;
  const out: string[] = [];
  const where = r.command === 'run' ? clean(r.host) : `${r.hosts.length} host(s)`;
  out.push(`# hostmaint ${r.command === 'run' ? 'run' : 'rolling run'} ${clean(r.workflow)} on ${where}: ${r.outcome}`, '', clean(r.message), '');
  out.push(...mdTable(['', ''], [
    ['Outcome', `${r.outcome} (exit ${r.exitCode})`],
    ['Workflow', r.command === 'run' ? `${r.workflow} (${r.workflowFile.path ?? r.workflowFile.ref}, sha256 ${r.workflowFile.sha256.slice(0, 12)})` : r.workflow],
    [r.command === 'run' ? 'Host' : 'Hosts', r.command === 'run' ? r.host : r.hosts.map((h) => h.host).join(', ')],
    ['Cloud', run.cloud],
    ['Run id', r.runId],
    ['Run by', `${String(run.who)}${run.keystoneUser ? ` as Keystone user ${String(run.keystoneUser)}` : ''}`],
    ['Command', String(run.commandLine)],
    ['Started', `${stamp(r.timings.startedAt)} (UTC)`],
    ['Finished', `${stamp(r.timings.finishedAt)} (UTC)`],
    ['Duration', secs(r.timings.durationMs)],
    ['Report by', String(report.generatedBy)],
  ]));
  if (r.command === 'run') {
    if (r.workflowFile.changedSinceStart) out.push('', `**Warning:** the workflow file changed since the run started; it ran the version recorded then.`);
    out.push('', '## Steps', '');
    const rows = stepRows(r);
    if (rows.length === 0) out.push('None ran.');
    else out.push(...mdTable(STEP_HEADERS.map((h) => h[0] + h.slice(1).toLowerCase()), rows));
    if (r.failure && r.outcome !== 'completed' && r.outcome !== 'waiting-approval') out.push('', `Failed at step ${clean(r.failure.step)} (exit ${r.failure.exitCode}): ${clean(r.failure.message)}`);
    if (r.manifest.length > 0) {
      out.push('', '## What the drain moved', '');
      out.push(...mdTable(['Instance', 'From', 'To', 'Method'], r.manifest.map((m) => [m.name ?? m.serverId, m.from, m.to, m.method ?? ''])));
    }
  } else {
    out.push('', '## Hosts', '');
    out.push(...mdTable(HOST_HEADERS.map((h) => h[0] + h.slice(1).toLowerCase()), hostRows(r)));
    out.push('', `${r.maxParallel} host(s) at a time, ${r.continueOnFailure ? 'going on after a failure' : 'stopping at the first failure'}.`);
  }
  const timeline = (report.timeline as TimelineEntry[]) ?? [];
  if (timeline.length > 0) {
    out.push('', '## Timeline', '', '<details><summary>Events</summary>', '', '```');
    for (const t of timeline) out.push(`${stamp(t.time)} ${t.text.replace(/```/g, "'''")}`);
    out.push('```', '', '</details>');
  }
  out.push(...nextMarkdown(report.next as string[]));
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}

/** Write the report file (0600: it names hosts, users and projects). */
export function writeReport(file: string, r: DrainResult | UndrainResult | WorkflowResult | RollingResult, ctx: ReportContext, timeline: TimelineEntry[], extra: Record<string, unknown> = {}): void {
  let text: string;
  const json = reportFormat(file) === 'json';
  if (r.command === 'run' || r.command === 'rolling') {
    const report = buildRunReport(r, ctx, timeline, extra);
    text = json ? `${JSON.stringify(report, null, 2)}\n` : renderRunMarkdown(report, r);
  } else {
    const report = buildReport(r, ctx, timeline, extra);
    text = json ? `${JSON.stringify(report, null, 2)}\n` : renderMarkdown(report, r);
  }
  writeFileSync(file, text, { mode: 0o600 });
}
