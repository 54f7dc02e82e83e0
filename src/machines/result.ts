/**
 * From a finished machine's context to the plain-JSON result the library
 * returns (and the CLI prints). Pure.
 */
import { exitCodeFor } from './exit-codes.js';
import { identifyDisabler } from './marker.js';
import type { DrainContext, UndrainContext } from './contexts.js';
import type { DrainOutcome, UndrainOutcome } from './outcome.js';
import type { DrainResult, InstanceOutcome, RunTimings, UndrainResult } from './results.js';
import type { ManifestEntry } from './records.js';
import type { InstanceRun } from './actor-io.js';
import type { Classification } from './plan.js';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function runOutcome(run: InstanceRun, cls: InstanceOutcome['class']): InstanceOutcome {
  let status: InstanceOutcome['status'];
  if (run.phase === 'done') status = run.method === 'offload' ? 'offloaded' : run.to ? 'moved' : 'nothing-to-do';
  else if (run.phase === 'failed') status = 'failed';
  else status = 'not-moved';
  const durationMs = run.firstStartedAt !== null && run.finishedAt !== null ? run.finishedAt - run.firstStartedAt : null;
  let reason: string | null = run.note;
  if (status === 'failed') reason = run.errors[run.errors.length - 1] ?? run.note ?? 'failed';
  else if (status === 'not-moved') reason = run.note ?? `stopped while ${run.phase}`;
  return {
    serverId: run.serverId,
    name: run.name,
    class: cls,
    method: run.method,
    status,
    from: run.source,
    to: run.to,
    plannedTarget: run.plannedTarget,
    attempts: run.attempts,
    migrationIds: [...run.migrationIds],
    adopted: run.adopted,
    errors: [...run.errors],
    escalations: [...(run.escalations ?? [])],
    reason,
    startedAt: iso(run.firstStartedAt),
    finishedAt: iso(run.finishedAt),
    durationMs,
  };
}

function staticOutcome(c: Classification, host: string, preflightOk: boolean): InstanceOutcome {
  let status: InstanceOutcome['status'];
  switch (c.class) {
    case 'none':
      status = 'nothing-to-do';
      break;
    case 'leave':
      status = 'left';
      break;
    case 'blocked':
      status = c.blocking || !preflightOk ? 'not-moved' : 'skipped';
      break;
    default:
      status = 'not-moved';
  }
  return {
    serverId: c.serverId,
    name: c.name,
    class: c.class,
    method: null,
    status,
    from: host,
    to: null,
    plannedTarget: null,
    attempts: 0,
    migrationIds: [],
    adopted: false,
    errors: [],
    escalations: [],
    reason: c.remedy ? `${c.reason}; remedy: ${c.remedy}` : c.reason,
    startedAt: null,
    finishedAt: null,
    durationMs: null,
  };
}

export function drainInstances(ctx: DrainContext): InstanceOutcome[] {
  const pre = ctx.preflight;
  if (!pre) return [];
  const runs = new Map(ctx.pool.map((r) => [r.serverId, r]));
  const planById = new Map(pre.plan.map((p) => [p.serverId, p]));
  return pre.instances.map((c) => {
    const run = runs.get(c.serverId);
    if (run) return runOutcome(run, c.class);
    const o = staticOutcome(c, ctx.host, pre.ok);
    const p = planById.get(c.serverId);
    if (p) o.plannedTarget = p.target;
    if (o.status === 'not-moved' && (c.class === 'live' || c.class === 'cold' || c.class === 'offload')) {
      o.method = c.class;
      o.reason = ctx.options.dryRun ? `plan: ${c.reason}${p?.target ? ` -> ${p.target}` : ''}` : pre.ok ? c.reason : `not moved: the preflight refused the drain`;
    }
    return o;
  });
}

export function manifestOf(pool: InstanceRun[]): ManifestEntry[] {
  return pool
    .filter((r) => r.phase === 'done' && r.to !== null && (r.method === 'live' || r.method === 'cold'))
    .map((r) => ({ serverId: r.serverId, name: r.name, from: r.source, to: r.to!, method: r.method as 'live' | 'cold', status: r.originalStatus }));
}

export function describeDrain(ctx: DrainContext, outcome: DrainOutcome): string {
  const host = ctx.host;
  const moved = ctx.pool.filter((r) => r.phase === 'done').length;
  const failed = ctx.pool.filter((r) => r.phase === 'failed').length;
  switch (outcome) {
    case 'drained':
      return `${host} is drained: ${moved} instance(s) moved or offloaded, nothing left on the host; the service stays disabled`;
    case 'planned': {
      const n = ctx.preflight?.plan.length ?? 0;
      return `plan for ${host}: ${n} instance(s) to move, preflight passed; nothing was changed`;
    }
    case 'unknown-host':
      return `no nova-compute service named '${host}'${ctx.suggestions.length ? ` (did you mean ${ctx.suggestions.join(', ')}?)` : ''}; nothing was changed`;
    case 'preflight-refused': {
      const groups = ctx.preflight?.blocking.length ?? 0;
      const svc = ctx.options.dryRun ? 'nothing was changed' : ctx.service.restored ? 'the service is back in its prior state' : `the service was left ${ctx.service.after?.status ?? ctx.service.before?.status ?? 'as it was'}`;
      return `preflight refused the drain of ${host} (${groups} blocking problem(s)); ${svc}`;
    }
    case 'partial': {
      const left = ctx.verification?.leftovers.filter((l) => l.kind === 'server').length ?? 0;
      return `${host} is not empty: ${moved} moved, ${failed} failed, ${left} instance(s) still on the host${ctx.stopReason ? ` (${ctx.stopReason})` : ''}; the service stays disabled`;
    }
    case 'ownership-lost':
      return `drain of ${host} stopped: ${ctx.stopReason ?? 'another actor changed the service'}; ${moved} moved by this run; this run changes nothing more`;
    case 'interrupted':
      return `drain of ${host} interrupted: ${moved} moved so far; migrations already requested continue in Nova; resume to continue`;
    case 'bad-input':
      return `drain of ${host} refused: ${ctx.error?.message ?? 'bad input'}; nothing was changed`;
    case 'cloud-unreachable':
    case 'error': {
      const svc = ctx.service.restored ? '; the service is back in its prior state' : ctx.service.ownership !== 'none' ? '; the service stays disabled' : '';
      return `drain of ${host} failed: ${ctx.error?.message ?? 'unknown error'}${svc}`;
    }
    case 'ownership-refused':
    case 'host-busy':
      return `drain of ${host} refused: ${ctx.error?.message ?? outcome}`;
  }
}

export function toDrainResult(ctx: DrainContext, timings: RunTimings): DrainResult {
  const outcome: DrainOutcome = ctx.outcome ?? 'error';
  const instances = drainInstances(ctx);
  const leftovers = ctx.verification?.leftovers ?? [];
  return {
    command: 'drain',
    outcome,
    stale: outcome === 'ownership-lost' && ctx.resumed,
    exitCode: exitCodeFor(outcome),
    message: describeDrain(ctx, outcome),
    runId: ctx.runId,
    host: ctx.host,
    dryRun: ctx.options.dryRun,
    service: {
      id: ctx.ref?.service.id ?? null,
      zone: ctx.ref?.service.zone ?? null,
      before: ctx.service.before,
      after: ctx.service.after ?? ctx.service.before,
      ownership: ctx.service.ownership,
      adoptedRunId: ctx.service.adoptedRunId,
      restored: ctx.service.restored,
    },
    hypervisor: ctx.ref?.hypervisor ?? null,
    provider: ctx.ref?.provider ?? null,
    preflight: ctx.preflight,
    plan: ctx.preflight?.plan ?? [],
    instances,
    manifest: manifestOf(ctx.pool),
    leftovers,
    verification: ctx.verification,
    suggestions: ctx.suggestions,
    timings,
    warnings: [...ctx.warnings, ...(ctx.preflight?.warnings ?? [])],
    error: ctx.error,
    options: ctx.options,
  };
}

export function describeUndrain(ctx: UndrainContext, outcome: UndrainOutcome): string {
  const host = ctx.host;
  const returned = ctx.pool.filter((r) => r.phase === 'done').length;
  const failed = ctx.pool.filter((r) => r.phase === 'failed').length;
  switch (outcome) {
    case 'undrained':
      return `${host} is enabled again${ctx.options.returnInstances ? `; ${returned} instance(s) moved back${ctx.notReturned.length ? `, ${ctx.notReturned.length} not returned (moved or changed since)` : ''}` : ''}`;
    case 'already-enabled':
      return `${host} is already enabled: nothing to do`;
    case 'unknown-host':
      return `no nova-compute service named '${host}'${ctx.suggestions.length ? ` (did you mean ${ctx.suggestions.join(', ')}?)` : ''}; nothing was changed`;
    case 'ownership-refused':
      return `refusing to enable ${host}: ${ctx.error?.message ?? `it was disabled by ${identifyDisabler(ctx.before?.disabledReason ?? null).description}, not by hostmaint`} (use --force to enable it anyway)`;
    case 'ownership-lost':
      return `${host} was enabled by this run, but Nova now shows it ${ctx.after?.status ?? 'changed'}${ctx.after?.disabledReason ? ` ("${ctx.after.disabledReason}")` : ''}: another actor changed it`;
    case 'service-down':
      return `${host}'s nova-compute service is still down after ${Math.round((ctx.options.waitUpTimeoutMs ?? 0) / 1000)}s; it was not enabled`;
    case 'partial':
      return `${host} is enabled again, but ${failed} of ${ctx.pool.length} instance(s) could not be moved back`;
    case 'interrupted':
      return `undrain of ${host} interrupted`;
    case 'bad-input':
      return `undrain of ${host} refused: ${ctx.error?.message ?? 'bad input'}; nothing was changed`;
    case 'cloud-unreachable':
    case 'error':
      return `undrain of ${host} failed: ${ctx.error?.message ?? 'unknown error'}`;
  }
}

export function toUndrainResult(ctx: UndrainContext, timings: RunTimings): UndrainResult {
  const outcome: UndrainOutcome = ctx.outcome ?? 'error';
  return {
    command: 'undrain',
    outcome,
    exitCode: exitCodeFor(outcome),
    message: describeUndrain(ctx, outcome),
    runId: ctx.runId,
    host: ctx.host,
    service: {
      id: ctx.ref?.service.id ?? null,
      before: ctx.before,
      after: ctx.after ?? ctx.before,
      disabledBy: ctx.disabledBy,
      forced: ctx.forced,
    },
    returns: ctx.pool.map((r) => runOutcome(r, 'return')),
    notReturned: ctx.notReturned,
    suggestions: ctx.suggestions,
    timings,
    warnings: [...ctx.warnings],
    error: ctx.error,
  };
}
