/**
 * The workflow machine's one actor, `runUnit`: it runs one unit of steps
 * (src/workflow/workflow.machine.ts planUnits) and returns one StepResult per
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
import type { Clock } from '../clock.js';
import { errorText, type ErrorKind } from '../errors.js';
import { exitCodeForKind } from '../cli/exit-codes.js';
import type { Logger } from '../log.js';
import type { ComputeApi, PlacementApi } from '../openstack/api.js';
import type { PersistedRun } from '../drain.js';
import { drainOptionsFrom, undrainOptionsFrom } from '../workflow-file/policies.js';
import type { ExecStep, HttpStep, PlaceholderValues, StepOutcome, WaitForServiceStep, Workflow, WorkflowStep } from '../workflow-file/types.js';
import type { DrainEvent, DrainResult, ManifestEntry, UndrainResult } from '../workflow/types.js';
import type { RunUnitInput, RunUnitOutput, StepResult, Unit } from '../workflow/workflow.machine.js';
import type { ProbeTcpFn, ResolveHostFn } from './deps.js';
import { disableServiceFor, resolveHostRef } from './service.js';
import { verifyEmpty } from './verify.js';

export interface InnerSnapshots {
  /** The nested drain/undrain's last saved snapshot for this unit, if any. */
  load(unitKey: string): unknown;
  save(unitKey: string, p: PersistedRun): void;
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
  resolveHost?: ResolveHostFn;
  probeTcp?: ProbeTcpFn;
  env?: NodeJS.ProcessEnv;
  inner?: InnerSnapshots;
  /** Admin may move locked instances. */
  admin?: boolean;
  /** "alice@ops-laptop": stamped on the service with the reason, as the drain command does. */
  who?: string;
}

export function unitKey(input: { unit: Unit; compensation: string | null }): string {
  return `${input.compensation ?? 'main'}:${input.unit.steps[0]}`;
}

function result(step: WorkflowStep, out: StepOutcome, startedAt: number, clock: Clock): StepResult {
  return { name: step.name, type: step.type, status: out.status, exitCode: out.exitCode, message: out.message, detail: out.detail, startedAt: new Date(startedAt).toISOString(), finishedAt: new Date(clock.now()).toISOString() };
}

const ok = (message: string, detail: Record<string, unknown> = {}): StepOutcome => ({ status: 'ok', exitCode: 0, message, detail });
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

function mapDrain(steps: WorkflowStep[], r: DrainResult, startedAt: number, clock: Clock): StepResult[] {
  if (r.exitCode === 0) {
    const detail = drainSummary(r);
    return steps.map((s, i) => result(s, ok(i === steps.length - 1 ? r.message : `${s.type} done`, i === steps.length - 1 ? detail : {}), startedAt, clock));
  }
  const at = drainFailedAt(r);
  return steps.slice(0, at + 1).map((s, i) => result(s, i < at ? ok(`${s.type} done`) : failed(r.exitCode, r.message, drainSummary(r)), startedAt, clock));
}

function mapUndrain(steps: WorkflowStep[], r: UndrainResult, startedAt: number, clock: Clock): StepResult[] {
  if (r.exitCode === 0) {
    const detail = { outcome: r.outcome, returned: r.returns.filter((x) => x.status === 'moved').length, notReturned: r.notReturned, warnings: r.warnings };
    return steps.map((s) => result(s, ok(r.message, detail), startedAt, clock));
  }
  // Enabled but some instances not moved back: the return failed; else the enable did.
  const at = r.outcome === 'partial' && steps.length > 1 ? 1 : 0;
  return steps.slice(0, at + 1).map((s, i) => result(s, i < at ? ok('enabled') : failed(r.exitCode, r.message, { outcome: r.outcome, notReturned: r.notReturned }), startedAt, clock));
}

export function createWorkflowActors(deps: WorkflowActorDeps) {
  const { workflow, clock, logger } = deps;
  const reason = deps.who ? `${workflow.policies.reason} (by ${deps.who})` : workflow.policies.reason;
  const actorDeps = { compute: deps.compute, placement: deps.placement, logger, clock, emit: deps.emit, resolveHost: deps.resolveHost, probeTcp: deps.probeTcp };
  const runDeps = (key: string, signal: AbortSignal) => ({
    logger,
    clock,
    emit: deps.emit,
    signal,
    resolveHost: deps.resolveHost,
    probeTcp: deps.probeTcp,
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
        return runExecStep(step as ExecStep, { vars: vars(input, step), env: deps.env, signal }, { clock, logger });
      }
      case 'http': {
        const { runHttpStep } = await import('../steps/http.js');
        return runHttpStep(step as HttpStep, { vars: vars(input, step), env: deps.env, signal }, { clock, logger });
      }
      case 'wait-for-service': {
        const { waitForService } = await import('../steps/wait-service.js');
        return waitForService(step as WaitForServiceStep, { host: input.host, signal }, { compute: deps.compute, clock, logger });
      }
      case 'disable': {
        const found = await resolveHostRef(actorDeps, input.host, { signal });
        if (!found.found || !found.ref) return failed(2, `${input.host} has no nova-compute service${found.suggestions.length ? ` (did you mean ${found.suggestions.join(', ')}?)` : ''}`);
        const out = await disableServiceFor(actorDeps, { runId: input.runId, reason, service: found.ref.service }, { signal });
        if (out.ownership === 'foreign') return ok(`already disabled by ${out.disabler ?? 'someone else'}: left as it is (it will not be enabled by this run)`, { ownership: out.ownership, reason: out.after.disabledReason });
        return ok(`nova-compute on ${input.host} disabled: "${out.after.disabledReason ?? ''}"`, { ownership: out.ownership, reason: out.after.disabledReason });
      }
      case 'preflight': {
        const { drainHost } = await import('../drain.js');
        const r = await drainHost(deps, input.host, { ...drainOptionsFrom(workflow.policies), runId: input.runId, dryRun: true, ...(deps.admin !== undefined ? { admin: deps.admin } : {}) }, { logger, clock, emit: deps.emit, signal, resolveHost: deps.resolveHost, probeTcp: deps.probeTcp });
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

  async function runUnit(input: RunUnitInput, signal: AbortSignal): Promise<RunUnitOutput> {
    const list = input.compensation === null ? workflow.steps : (workflow.compensations[input.compensation] ?? []);
    const steps = input.unit.steps.map((i) => list[i]!);
    const startedAt = clock.now();
    const key = unitKey(input);
    try {
      if (input.unit.kind === 'drain') {
        const { drainHost } = await import('../drain.js');
        const r = await drainHost(deps, input.host, { ...drainOptionsFrom(workflow.policies), reason, runId: input.runId, ...(deps.admin !== undefined ? { admin: deps.admin } : {}) }, runDeps(key, signal));
        return { results: mapDrain(steps, r, startedAt, clock), manifest: r.manifest };
      }
      if (input.unit.kind === 'undrain') {
        const { undrainHost } = await import('../drain.js');
        const enable = steps[0]!;
        const returning = steps.length > 1;
        const r = await undrainHost(
          deps,
          input.host,
          { ...undrainOptionsFrom(workflow.policies), runId: input.runId, force: enable.type === 'enable' && enable.force, returnInstances: returning, manifest: returning ? input.manifest : ([] as ManifestEntry[]) },
          runDeps(key, signal),
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
      if (signal.aborted && out.status === 'failed') out = { ...out, exitCode: 130 };
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
