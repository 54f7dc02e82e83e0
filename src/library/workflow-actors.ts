/**
 * The workflow machine's one actor, `runUnit`: it runs one unit of steps
 * (src/machines/workflow.machine.ts planUnits) and returns one StepResult per
 * step, as data.
 *
 * - drain (disable, preflight, migrate, verify-empty): drainHost() with the
 *   workflow's policies, resumed from the unit's own saved snapshot;
 * - undrain (enable [+ return-instances]): undrainHost() with the manifest of
 *   what this run's drain moved;
 * - disable / preflight (read-only plan) / verify-empty alone;
 * - exec, http, wait-for-service: src/steps/.
 *
 * Everything reconciles before acting: the drain and undrain machines resume
 * from their saved snapshot, and a repeated disable or verify only reads.
 */
import { fromPromise } from 'xstate';
import type { Clock } from '../core/clock.js';
import { errorText, type ErrorKind } from '../core/errors.js';
import { EXIT, exitCodeForKind } from '../core/exit-codes.js';
import type { Logger } from '../core/log.js';
import type { ComputeApi, PlacementApi } from '../openstack/api.js';
import type { PersistedRun } from './drain.js';
import { drainOptionsFrom, undrainOptionsFrom } from '../policies/policies.js';
import type { ExecStep, HttpStep, PlaceholderValues, StepOutcome, WaitForServiceStep, Workflow, WorkflowStep } from '../workflow-file/types.js';
import type { DrainEvent } from '../machines/events.js';
import type { DrainResult, RunTimings, UndrainResult } from '../machines/results.js';
import type { ManifestEntry } from '../machines/records.js';
import type { RunUnitInput, RunUnitOutput, StepResult, Unit } from '../machines/workflow.machine.js';
import { disableServiceFor, resolveHostRef } from '../actors/service.js';
import { identifyDisabler } from '../machines/marker.js';
import type { RunLookup } from '../actors/deps.js';
import type { MoveBudget } from '../actors/move-budget.js';
import { drainDecision, holdsService, readService } from '../machines/ownership.js';
import { verifyEmpty } from '../actors/verify.js';

export interface InnerSnapshots {
  /** The nested drain/undrain's last saved snapshot for this unit, if any. */
  load(unitKey: string): unknown;
  save(unitKey: string, p: PersistedRun): void;
  /** A single step's saved progress (wait-for-service), if any. */
  loadStep?(unitKey: string): unknown;
  /** Save a single step's progress, on disk before the step goes on. */
  saveStep?(unitKey: string, machine: string, progress: Record<string, unknown>): void;
}

export interface WorkflowActorDeps {
  compute: ComputeApi;
  placement: PlacementApi;
  workflow: Workflow;
  logger: Logger;
  clock: Clock;
  /** The cloud's name ({cloud} in steps). */
  cloud: string;
  emit?: (e: DrainEvent) => void;
  env?: NodeJS.ProcessEnv;
  inner?: InnerSnapshots;
  /** Admin may move locked instances. */
  admin?: boolean;
  /** "alice@ops-laptop": stamped on the service with the reason, as the drain command does. */
  who?: string;
  /** The cloud's secrets (password, token ...): redacted from what exec and http steps report. */
  secrets?: readonly string[];
  /** Carry on under another hostmaint run's marker (--adopt). */
  adopt?: boolean;
  /** What the saved runs know of a run id (a marker's run). */
  runs?: RunLookup;
  /** A rolling run's --max-total, shared by its hosts' drains in this process. */
  moves?: MoveBudget;
}

export function unitKey(input: { unit: Unit; compensation: string | null }): string {
  return `${input.compensation ?? 'main'}:${input.unit.steps[0]}`;
}

function result(step: WorkflowStep, out: StepOutcome, startedAt: number, clock: Clock): StepResult {
  return { name: step.name, type: step.type, status: out.status, exitCode: out.exitCode, message: out.message, detail: out.detail, startedAt: new Date(startedAt).toISOString(), finishedAt: new Date(clock.now()).toISOString() };
}

const ok = (message: string, detail: Record<string, unknown> = {}): StepOutcome => ({ status: 'ok', exitCode: EXIT.OK, message, detail });
const failed = (exitCode: number, message: string, detail: Record<string, unknown> = {}): StepOutcome => ({ status: 'failed', exitCode, message, detail });

/** The step of the four drain steps where a drain that did not finish stopped. */
function drainFailedAt(r: DrainResult): number {
  switch (r.outcome) {
    case 'preflight-refused':
      return 1;
    case 'partial':
      return 3;
    default: {
      const phases = r.timings.phases.map((p) => p.phase).filter((p) => p !== 'restoringService' && p !== 'done');
      const last = phases[phases.length - 1] ?? 'resolving';
      return { resolving: 0, disablingService: 0, preflight: 1, migrating: 2, verifyingEmpty: 3 }[last] ?? 0;
    }
  }
}

function drainSummary(r: DrainResult): Record<string, unknown> {
  const moved = r.instances.filter((i) => i.status === 'moved').length;
  return {
    outcome: r.outcome,
    exitCode: r.exitCode,
    planned: r.plan.length,
    moved,
    notMoved: r.instances.length - moved,
    leftovers: r.leftovers.map((l) => ({ kind: l.kind, id: l.id, name: l.name, reason: l.reason })),
    serviceRestored: r.service.restored,
    warnings: r.warnings,
  };
}

/** Which step of a drain unit (disable, preflight, migrate, verify-empty) or an undrain unit (enable, return-instances) each of the machine's phases belongs to. */
const DRAIN_PHASE_STEP: Record<string, number> = { resolving: 0, disablingService: 0, preflight: 1, migrating: 2, verifyingEmpty: 3 };
const UNDRAIN_PHASE_STEP: Record<string, number> = { resolving: 0, waitingForUp: 0, enablingService: 0, selectingReturns: 1, returning: 1 };

/** Each step's own start and end, from the nested run's phase timings (the unit's when it has none). */
function stepTimes(timings: RunTimings, phaseStep: Record<string, number>, n: number, unitStart: number, unitEnd: number): Array<{ startedAt: string; finishedAt: string }> {
  const out = Array.from({ length: n }, () => ({ startedAt: '', finishedAt: '' }));
  for (const p of timings.phases) {
    const i = phaseStep[p.phase];
    if (i === undefined || i >= n) continue;
    const t = out[i]!;
    if (!t.startedAt || p.startedAt < t.startedAt) t.startedAt = p.startedAt;
    const end = p.finishedAt ?? p.startedAt;
    if (!t.finishedAt || end > t.finishedAt) t.finishedAt = end;
  }
  return out.map((t) => ({ startedAt: t.startedAt || new Date(unitStart).toISOString(), finishedAt: t.finishedAt || new Date(unitEnd).toISOString() }));
}

function timed(step: WorkflowStep, out: StepOutcome, at: { startedAt: string; finishedAt: string }): StepResult {
  return { name: step.name, type: step.type, status: out.status, exitCode: out.exitCode, message: out.message, detail: out.detail, ...at };
}

function drainStepMessages(r: DrainResult): string[] {
  const p = r.preflight;
  const moved = r.instances.filter((i) => i.status === 'moved').length;
  return [
    r.service.after?.status === 'disabled' ? `nova-compute disabled: "${r.service.after.disabledReason ?? ''}"` : `nova-compute ${r.service.after?.status ?? 'unknown'}`,
    p ? `preflight passed: ${p.plan.filter((x) => x.fits).length} instance(s) planned, ${p.warnings.length} warning(s)` : 'preflight done',
    `${moved} of ${r.plan.length} instance(s) moved or offloaded`,
    r.message,
  ];
}

function mapDrain(steps: WorkflowStep[], r: DrainResult, startedAt: number, clock: Clock): StepResult[] {
  const times = stepTimes(r.timings, DRAIN_PHASE_STEP, steps.length, startedAt, clock.now());
  const messages = drainStepMessages(r);
  const at = r.exitCode === 0 ? steps.length : drainFailedAt(r);
  return steps.slice(0, Math.min(at + 1, steps.length)).map((s, i) =>
    timed(s, i < at ? ok(messages[i]!, i === steps.length - 1 ? drainSummary(r) : {}) : failed(r.exitCode, r.message, drainSummary(r)), times[i]!),
  );
}

function mapUndrain(steps: WorkflowStep[], r: UndrainResult, startedAt: number, clock: Clock): StepResult[] {
  const times = stepTimes(r.timings, UNDRAIN_PHASE_STEP, steps.length, startedAt, clock.now());
  const returned = r.returns.filter((x) => x.status === 'moved').length;
  const messages = [r.outcome === 'already-enabled' ? 'nova-compute was already enabled' : `nova-compute enabled${r.service.forced ? ' (forced)' : ''}`, `${returned} instance(s) moved back${r.notReturned.length ? `, ${r.notReturned.length} not (see detail)` : ''}`];
  if (steps.length === 1) messages[0] = r.message;
  const detail = { outcome: r.outcome, returned, notReturned: r.notReturned, warnings: r.warnings };
  // Moved off the host since it was disabled (by any run) and still elsewhere: the host is not done.
  const stranded = steps.length > 1 && r.exitCode === 0 ? r.notReturned.filter((n) => n.stranded === true) : [];
  if (stranded.length > 0) {
    const list = stranded.map((n) => `${n.name ?? n.serverId} (${n.reason})`).join('; ');
    const message = `${stranded.length} instance(s) moved off ${r.host} since it was disabled are not back: ${list}; ${returned} moved back. Move them by hand if they belong on ${r.host}`;
    return [
      timed(steps[0]!, ok(messages[0]!), times[0]!),
      timed(steps[1]!, failed(EXIT.PARTIAL, message, { ...detail, stranded: stranded.map((n) => ({ serverId: n.serverId, name: n.name, reason: n.reason })) }), times[1]!),
    ];
  }
  // Enabled but some instances not moved back: the return failed; else the enable did.
  const at = r.exitCode === 0 ? steps.length : r.outcome === 'partial' && steps.length > 1 ? 1 : 0;
  return steps.slice(0, Math.min(at + 1, steps.length)).map((s, i) =>
    timed(s, i < at ? ok(messages[i]!, i === steps.length - 1 ? detail : {}) : failed(r.exitCode, r.message, { outcome: r.outcome, notReturned: r.notReturned }), times[i]!),
  );
}

export function createWorkflowActors(deps: WorkflowActorDeps) {
  const { workflow, clock, logger } = deps;
  const reason = deps.who ? `${workflow.policies.reason} (by ${deps.who})` : workflow.policies.reason;
  const actorDeps = { compute: deps.compute, placement: deps.placement, logger, clock, emit: deps.emit, runs: deps.runs };
  const runDeps = (key: string, signal: AbortSignal, announce?: (e: DrainEvent) => void) => ({
    logger,
    clock,
    emit: (e: DrainEvent) => {
      deps.emit?.(e);
      announce?.(e);
    },
    signal,
    ...(deps.runs ? { runs: deps.runs } : {}),
    ...(deps.moves ? { moves: deps.moves } : {}),
    snapshot: deps.inner?.load(key),
    onSnapshot: (p: PersistedRun) => deps.inner?.save(key, p),
  });
  const vars = (input: RunUnitInput, step: WorkflowStep): PlaceholderValues => ({
    host: input.host,
    runId: input.runId,
    workflow: workflow.name,
    step: step.name,
    cloud: deps.cloud,
    reason: workflow.policies.reason,
  });

  async function single(input: RunUnitInput, step: WorkflowStep, signal: AbortSignal): Promise<StepOutcome> {
    switch (step.type) {
      case 'exec': {
        const { runExecStep } = await import('../steps/exec.js');
        return runExecStep(step as ExecStep, { vars: vars(input, step), env: deps.env, signal, secrets: deps.secrets ?? [] }, { clock, logger });
      }
      case 'http': {
        const { runHttpStep } = await import('../steps/http.js');
        return runHttpStep(step as HttpStep, { vars: vars(input, step), env: deps.env, signal, secrets: deps.secrets ?? [] }, { clock, logger });
      }
      case 'wait-for-service': {
        const { waitForService, asWaitProgress } = await import('../steps/wait-service.js');
        const key = unitKey(input);
        const progress = asWaitProgress(deps.inner?.loadStep?.(key));
        return waitForService(
          step as WaitForServiceStep,
          {
            host: input.host,
            signal,
            progress,
            onProgress: (p) => deps.inner?.saveStep?.(key, 'wait-for-service', { ...p }),
            onWaiting: (w) =>
              deps.emit?.({ type: 'step-waiting', workflow: workflow.name, step: step.name, stepType: step.type, index: input.unit.steps[0]!, ...w, runId: input.runId, host: input.host, time: new Date(clock.now()).toISOString() }),
          },
          { compute: deps.compute, clock, logger },
        );
      }
      case 'disable': {
        const found = await resolveHostRef(actorDeps, input.host, { signal });
        if (!found.found || !found.ref) return failed(EXIT.USAGE, `${input.host} has no nova-compute service${found.suggestions.length ? ` (did you mean ${found.suggestions.join(', ')}?)` : ''}`);
        const d = drainDecision(readService(found.ref.service, input.runId, found.markerRun), deps.adopt ?? false, input.host);
        if (d.action === 'refuse') return failed(EXIT.CONFLICT, d.message);
        const out = await disableServiceFor(actorDeps, { runId: input.runId, reason, service: found.ref.service, fresh: true, intent: d.action === 'disable' ? 'disable' : 'keep' }, { signal });
        if (out.kind === 'changed') return failed(EXIT.CONFLICT, `the service of ${input.host} changed while this step ran`);
        const ownership = d.action === 'disable' ? 'ours' : d.ownership;
        const holding = { ownership, runId: input.runId, adoptedRunId: d.action === 'keep' ? d.adoptedRunId : null, reason: out.before.disabledReason };
        if (!holdsService(out.after, holding)) return failed(EXIT.CONFLICT, `right after the disable, Nova shows nova-compute on ${input.host} ${out.after.status} ("${out.after.disabledReason ?? ''}"): another actor changed it`);
        if (ownership === 'foreign') return ok(`already disabled by ${identifyDisabler(out.before.disabledReason).description}: left as it is (it will not be enabled by this run)`, { ownership, reason: out.after.disabledReason });
        return ok(`nova-compute on ${input.host} disabled: "${out.after.disabledReason ?? ''}"`, { ownership, reason: out.after.disabledReason });
      }
      case 'preflight': {
        const { drainHost } = await import('./drain.js');
        const r = await drainHost(deps, input.host, { ...drainOptionsFrom(workflow.policies), runId: input.runId, dryRun: true, ...(deps.admin !== undefined ? { admin: deps.admin } : {}) }, { logger, clock, emit: deps.emit, signal });
        return r.exitCode === 0 ? ok(r.message, drainSummary(r)) : failed(r.exitCode, r.message, drainSummary(r));
      }
      case 'verify-empty': {
        const found = await resolveHostRef(actorDeps, input.host, { signal });
        if (!found.found || !found.ref) return failed(2, `${input.host} has no nova-compute service`);
        const v = await verifyEmpty(actorDeps, { ref: found.ref, notes: {} }, signal);
        return v.empty ? ok(`${input.host} is empty (Nova and Placement agree)`) : failed(4, `${input.host} is not empty: ${v.leftovers.length} leftover(s)`, { leftovers: v.leftovers });
      }
      default:
        return failed(1, `step type ${step.type} cannot run alone here`);
    }
  }

  /** The machine announces a unit's first step; the later ones start when the nested drain or undrain reaches their phase. */
  function announcer(input: RunUnitInput, steps: WorkflowStep[], phaseStep: Record<string, number>): (e: DrainEvent) => void {
    let announced = 0;
    return (e) => {
      if (e.type !== 'phase-changed') return;
      const upTo = phaseStep[e.phase];
      if (upTo === undefined) return;
      for (; announced < Math.min(upTo, steps.length - 1); ) {
        announced++;
        const s = steps[announced]!;
        const name = input.compensation ? `${input.compensation}/${s.name}` : s.name;
        deps.emit?.({ type: 'step-started', workflow: workflow.name, step: name, stepType: s.type, index: input.unit.steps[announced]!, runId: input.runId, host: input.host, time: new Date(clock.now()).toISOString() });
      }
    };
  }

  async function runUnit(input: RunUnitInput, signal: AbortSignal): Promise<RunUnitOutput> {
    const list = input.compensation === null ? workflow.steps : (workflow.compensations[input.compensation] ?? []);
    const steps = input.unit.steps.map((i) => list[i]!);
    const startedAt = clock.now();
    const key = unitKey(input);
    try {
      if (input.unit.kind === 'drain') {
        const { drainHost } = await import('./drain.js');
        const r = await drainHost(deps, input.host, { ...drainOptionsFrom(workflow.policies), reason, runId: input.runId, adopt: deps.adopt ?? false, ...(deps.admin !== undefined ? { admin: deps.admin } : {}) }, runDeps(key, signal, announcer(input, steps, DRAIN_PHASE_STEP)));
        return { results: mapDrain(steps, r, startedAt, clock), manifest: r.manifest };
      }
      if (input.unit.kind === 'undrain') {
        const { undrainHost } = await import('./drain.js');
        const enable = steps[0]!;
        const returning = steps.length > 1;
        const r = await undrainHost(
          deps,
          input.host,
          { ...undrainOptionsFrom(workflow.policies), runId: input.runId, force: enable.type === 'enable' && enable.force, returnInstances: returning, manifest: returning ? input.manifest : ([] as ManifestEntry[]) },
          runDeps(key, signal, announcer(input, steps, UNDRAIN_PHASE_STEP)),
        );
        return { results: mapUndrain(steps, r, startedAt, clock) };
      }
      const step = steps[0]!;
      let out: StepOutcome;
      try {
        out = await single(input, step, signal);
      } catch (e) {
        out = failed(exitCodeOfError(e), errorText(e));
      }
      if (signal.aborted && out.status === 'failed') out = { ...out, exitCode: EXIT.INTERRUPTED };
      return { results: [result(step, out, startedAt, clock)] };
    } catch (e) {
      logger.warn(`workflow step ${steps[0]?.name ?? '?'} threw`, { error: errorText(e) });
      return { results: [result(steps[0]!, failed(exitCodeOfError(e), errorText(e)), startedAt, clock)] };
    }
  }

  return {
    runUnit: fromPromise<RunUnitOutput, RunUnitInput>(({ input, signal }) => runUnit(input, signal)),
  };
}

/** A thrown error's exit code, by its kind (cloud errors: 6, so the run stops resumable). */
function exitCodeOfError(e: unknown): number {
  const kind = (e as { kind?: ErrorKind } | null)?.kind;
  return kind ? exitCodeForKind(kind) : 1;
}
