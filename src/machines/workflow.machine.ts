/**
 * A workflow run (hostmaint run <workflow> <host>) as an xstate v5 machine.
 * Pure: it imports only xstate and the workflow's own types. The steps of the
 * workflow file are grouped into units (planUnits): the four drain steps
 * (disable, preflight, migrate, verify-empty) run as one drain, enable with a
 * following return-instances as one undrain, every other step alone. Each
 * unit is the `runUnit` actor (src/actors/workflow.ts), which returns one
 * StepOutcome per step: data, never an exception.
 *
 *   next ──unit──▶ running ──ok──────────────▶ next (cursor + 1)
 *     │              ├─failed, on-failure continue ─▶ next
 *     │              ├─failed, on-failure stop ────▶ failed
 *     │              ├─failed, on-failure <comp> ──▶ next (compensation's units) ──▶ failed
 *     │              └─cloud unreachable / interrupted ─▶ suspended (resumable)
 *     ├─approve──▶ awaitingApproval ──approve event──▶ next
 *     └─no more units──▶ completed
 *   any state ──interrupt──▶ interrupted
 *
 * A persisted snapshot in `running` re-runs that unit on restore; the unit's
 * actor resumes the inner drain/undrain from its own saved snapshot, and every
 * actor reconciles with the cloud first, so a repeated unit never repeats a
 * migration. A run waiting for approval is saved in `awaitingApproval`; the
 * runner restores it and sends `approve` when `hostmaint continue` was given.
 */
import { assign, emit, enqueueActions, fromPromise, setup } from 'xstate';
import { draft, notProvided, type ProgressEmitted } from './machine-kit.js';
import { EXIT } from './exit-codes.js';
import type { ManifestEntry } from './records.js';

export const WORKFLOW_MACHINE_VERSION = 1;

/** What the machine needs of a step (the full step stays in the workflow file the actor reads). */
export interface StepRef {
  name: string;
  type: string;
  onFailure: string;
  /** An approve step's message. */
  message?: string;
}

export type UnitKind = 'drain' | 'undrain' | 'approve' | 'single';

export interface Unit {
  kind: UnitKind;
  /** Indices into the step list (the workflow's steps, or a compensation's). */
  steps: number[];
}

export interface StepResult {
  name: string;
  type: string;
  status: 'ok' | 'failed' | 'waiting';
  exitCode: number;
  message: string;
  detail: Record<string, unknown>;
  startedAt: string | null;
  finishedAt: string | null;
  /** Set for a compensation's steps. */
  compensation?: string;
}

export type WorkflowOutcome = 'completed' | 'failed' | 'waiting-approval' | 'interrupted' | 'cloud-unreachable' | 'error';

export interface WorkflowContext {
  runId: string;
  host: string;
  workflow: string;
  steps: StepRef[];
  compensations: Record<string, StepRef[]>;
  units: Unit[];
  cursor: number;
  /** A compensation being run after a failed step (then the run ends failed). */
  compensation: { name: string; units: Unit[]; cursor: number } | null;
  results: StepResult[];
  /** What the drain moved (for return-instances). */
  manifest: ManifestEntry[];
  /** The step that failed the run, if any. */
  failure: { step: string; exitCode: number; message: string } | null;
  approval: { step: string; message: string; approvedBy: string | null } | null;
  outcome: WorkflowOutcome | null;
  exitCode: number | null;
  message: string | null;
}

export interface WorkflowInput {
  runId: string;
  host: string;
  workflow: string;
  steps: StepRef[];
  compensations: Record<string, StepRef[]>;
}

export interface RunUnitInput {
  runId: string;
  host: string;
  unit: Unit;
  /** null: the workflow's own steps; else the compensation's name. */
  compensation: string | null;
  manifest: ManifestEntry[];
}

export interface RunUnitOutput {
  /** One per step of the unit that ran, in order; a step after a failed one has none. */
  results: StepResult[];
  /** The drain's manifest, when the unit drained. */
  manifest?: ManifestEntry[];
}

export type WorkflowMachineEvent = { type: 'interrupt'; reason?: string } | { type: 'approve'; by: string; at: string };

/** Group steps into units: disable+preflight+migrate+verify-empty = one drain; enable (+ return-instances) = one undrain. */
export function planUnits(steps: Array<{ type: string }>): Unit[] {
  const units: Unit[] = [];
  for (let i = 0; i < steps.length; i++) {
    const t = steps[i]!.type;
    const ahead = (k: number) => steps[i + k]?.type;
    if (t === 'disable' && ahead(1) === 'preflight' && ahead(2) === 'migrate' && ahead(3) === 'verify-empty') {
      units.push({ kind: 'drain', steps: [i, i + 1, i + 2, i + 3] });
      i += 3;
    } else if (t === 'enable') {
      if (ahead(1) === 'return-instances') {
        units.push({ kind: 'undrain', steps: [i, i + 1] });
        i += 1;
      } else units.push({ kind: 'undrain', steps: [i] });
    } else if (t === 'approve') units.push({ kind: 'approve', steps: [i] });
    else units.push({ kind: 'single', steps: [i] });
  }
  return units;
}

const SUSPEND_CODES = new Set<number>([EXIT.CLOUD, EXIT.INTERRUPTED]);

function currentUnit(ctx: WorkflowContext): Unit | null {
  if (ctx.compensation) return ctx.compensation.units[ctx.compensation.cursor] ?? null;
  return ctx.units[ctx.cursor] ?? null;
}

function stepsOf(ctx: WorkflowContext): StepRef[] {
  return ctx.compensation ? (ctx.compensations[ctx.compensation.name] ?? []) : ctx.steps;
}

function advance(ctx: WorkflowContext): Partial<WorkflowContext> {
  if (ctx.compensation) return { compensation: { ...ctx.compensation, cursor: ctx.compensation.cursor + 1 } };
  return { cursor: ctx.cursor + 1 };
}

export function describeWorkflow(ctx: WorkflowContext): string {
  const done = ctx.results.filter((r) => r.status === 'ok' && !r.compensation).length;
  const total = ctx.steps.length;
  switch (ctx.outcome) {
    case 'completed':
      return `workflow ${ctx.workflow} on ${ctx.host}: all ${total} step(s) done`;
    case 'waiting-approval':
      return `workflow ${ctx.workflow} on ${ctx.host}: waiting for approval at step ${ctx.approval?.step ?? '?'} (${done} of ${total} step(s) done)`;
    case 'interrupted':
      return `workflow ${ctx.workflow} on ${ctx.host}: interrupted after ${done} of ${total} step(s)`;
    case 'cloud-unreachable':
      return `workflow ${ctx.workflow} on ${ctx.host}: stopped at step ${ctx.failure?.step ?? '?'}: ${ctx.failure?.message ?? 'the cloud could not be reached'}`;
    case 'error':
      return `workflow ${ctx.workflow} on ${ctx.host}: error: ${ctx.failure?.message ?? 'unknown'}`;
    default: {
      const failed = ctx.failure ? `step ${ctx.failure.step} failed (exit ${ctx.failure.exitCode}): ${ctx.failure.message}` : 'failed';
      const comp = ctx.compensation ? `; compensation ${ctx.compensation.name} ran` : '';
      return `workflow ${ctx.workflow} on ${ctx.host}: ${failed} (${done} of ${total} step(s) done${comp})`;
    }
  }
}

function finishedDraft(ctx: WorkflowContext): ProgressEmitted {
  return draft(ctx, { type: 'workflow-finished', workflow: ctx.workflow, outcome: ctx.outcome ?? 'error', exitCode: ctx.exitCode ?? EXIT.UNEXPECTED, message: describeWorkflow(ctx) });
}

export const workflowMachine = setup({
  types: {
    context: {} as WorkflowContext,
    input: {} as WorkflowInput,
    events: {} as WorkflowMachineEvent,
    emitted: {} as ProgressEmitted,
    output: {} as WorkflowContext,
  },
  actors: {
    runUnit: fromPromise<RunUnitOutput, RunUnitInput>(notProvided('workflowMachine', 'runUnit')),
  },
  actions: {
    record: enqueueActions(({ context, enqueue }, out: RunUnitOutput) => {
      const comp = context.compensation?.name;
      const unit = currentUnit(context)!;
      const results = out.results.map((r) => (comp ? { ...r, compensation: comp } : r));
      enqueue.assign({ results: [...context.results, ...results], ...(out.manifest ? { manifest: out.manifest } : {}) });
      for (const r of results) {
        const index = unit.steps.find((i) => stepsOf(context)[i]?.name === r.name) ?? -1;
        enqueue.emit(draft(context, { type: 'step-finished', workflow: context.workflow, step: comp ? `${comp}/${r.name}` : r.name, stepType: r.type, index, status: r.status, exitCode: r.exitCode, message: r.message }));
      }
    }),
    fail: assign(({ context }, out: RunUnitOutput) => {
      const r = out.results.find((x) => x.status === 'failed');
      return { failure: r ? { step: r.name, exitCode: r.exitCode, message: r.message } : { step: currentStepName(context), exitCode: EXIT.UNEXPECTED, message: 'failed' } };
    }),
  },
  guards: {
    finishedMain: ({ context }) => context.compensation === null && context.cursor >= context.units.length,
    finishedCompensation: ({ context }) => context.compensation !== null && context.compensation.cursor >= context.compensation.units.length,
    atApproval: ({ context }) => currentUnit(context)?.kind === 'approve',
  },
}).createMachine({
  id: 'workflow',
  context: ({ input }) => ({
    runId: input.runId,
    host: input.host,
    workflow: input.workflow,
    steps: input.steps.map(stepRef),
    compensations: Object.fromEntries(Object.entries(input.compensations).map(([k, v]) => [k, v.map(stepRef)])),
    units: planUnits(input.steps),
    cursor: 0,
    compensation: null,
    results: [],
    manifest: [],
    failure: null,
    approval: null,
    outcome: null,
    exitCode: null,
    message: null,
  }),
  output: ({ context }) => context,
  initial: 'next',
  on: {
    interrupt: {
      target: '.interrupted',
      actions: assign({ outcome: 'interrupted' as WorkflowOutcome, exitCode: EXIT.INTERRUPTED, failure: ({ context, event }) => context.failure ?? { step: currentStepName(context), exitCode: EXIT.INTERRUPTED, message: event.reason ?? 'interrupted' } }),
    },
  },
  states: {
    next: {
      always: [
        { guard: 'finishedCompensation', target: 'failed' },
        { guard: 'finishedMain', target: 'completed' },
        { guard: 'atApproval', target: 'awaitingApproval' },
        { target: 'running' },
      ],
    },
    running: {
      // The unit's first step starts now; the runUnit actor announces a drain's or undrain's later steps as it reaches them.
      entry: enqueueActions(({ context, enqueue }) => {
        const i = currentUnit(context)!.steps[0]!;
        const s = stepsOf(context)[i]!;
        const comp = context.compensation?.name;
        enqueue.emit(draft(context, { type: 'step-started', workflow: context.workflow, step: comp ? `${comp}/${s.name}` : s.name, stepType: s.type, index: i }));
      }),
      invoke: {
        src: 'runUnit',
        input: ({ context }) => ({ runId: context.runId, host: context.host, unit: currentUnit(context)!, compensation: context.compensation?.name ?? null, manifest: context.manifest }),
        onDone: [
          {
            // The cloud could not be reached, or the unit was interrupted: stop here, resumable (the unit runs again).
            guard: ({ event }) => event.output.results.some((r) => r.status === 'failed' && SUSPEND_CODES.has(r.exitCode)),
            target: 'suspended',
            actions: [
              { type: 'record', params: ({ event }) => event.output },
              assign(({ event }) => {
                const r = event.output.results.find((x) => x.status === 'failed')!;
                return { failure: { step: r.name, exitCode: r.exitCode, message: r.message }, outcome: (r.exitCode === EXIT.INTERRUPTED ? 'interrupted' : 'cloud-unreachable') as WorkflowOutcome, exitCode: r.exitCode };
              }),
            ],
          },
          {
            guard: ({ event }) => !event.output.results.some((r) => r.status === 'failed'),
            target: 'next',
            actions: [{ type: 'record', params: ({ event }) => event.output }, assign(({ context }) => advance(context))],
          },
          {
            // A compensation's failed step is recorded; the compensation goes on (it is already the failure path).
            guard: ({ context }) => context.compensation !== null,
            target: 'next',
            actions: [{ type: 'record', params: ({ event }) => event.output }, assign(({ context }) => advance(context))],
          },
          {
            guard: ({ context, event }) => onFailureOf(context, event.output) === 'continue',
            target: 'next',
            actions: [{ type: 'record', params: ({ event }) => event.output }, assign(({ context }) => advance(context))],
          },
          {
            guard: ({ context, event }) => onFailureOf(context, event.output) !== 'stop' && context.compensations[onFailureOf(context, event.output)] !== undefined,
            target: 'next',
            actions: [
              { type: 'record', params: ({ event }) => event.output },
              { type: 'fail', params: ({ event }) => event.output },
              assign(({ context, event }) => {
                const name = onFailureOf(context, event.output);
                return { compensation: { name, units: planUnits(context.compensations[name] ?? []), cursor: 0 } };
              }),
            ],
          },
          {
            target: 'failed',
            actions: [{ type: 'record', params: ({ event }) => event.output }, { type: 'fail', params: ({ event }) => event.output }],
          },
        ],
        onError: {
          target: 'failed',
          actions: assign(({ context, event }) => ({
            failure: { step: currentStepName(context), exitCode: EXIT.UNEXPECTED, message: `unexpected error: ${errorText(event.error)}` },
            outcome: 'error' as WorkflowOutcome,
            exitCode: EXIT.UNEXPECTED,
          })),
        },
      },
    },
    awaitingApproval: {
      entry: enqueueActions(({ context, enqueue }) => {
        const steps = stepsOf(context);
        const i = currentUnit(context)!.steps[0]!;
        const s = steps[i]!;
        const message = s.message ?? 'Approve to continue.';
        enqueue.assign({ approval: { step: s.name, message, approvedBy: null }, outcome: 'waiting-approval', exitCode: EXIT.AWAITING_APPROVAL });
        enqueue.emit(draft(context, { type: 'step-started', workflow: context.workflow, step: s.name, stepType: s.type, index: i }));
        enqueue.emit(draft(context, { type: 'approval-required', workflow: context.workflow, step: s.name, message }));
      }),
      on: {
        approve: {
          target: 'next',
          actions: enqueueActions(({ context, event, enqueue }) => {
            const steps = stepsOf(context);
            const i = currentUnit(context)!.steps[0]!;
            const s = steps[i]!;
            const result: StepResult = { name: s.name, type: s.type, status: 'ok', exitCode: EXIT.OK, message: `approved by ${event.by}`, detail: { approvedBy: event.by, approvedAt: event.at }, startedAt: null, finishedAt: event.at };
            enqueue.assign({ results: [...context.results, result], approval: { step: s.name, message: context.approval?.message ?? '', approvedBy: event.by }, outcome: null, exitCode: null, ...advance(context) });
            enqueue.emit(draft(context, { type: 'step-finished', workflow: context.workflow, step: s.name, stepType: s.type, index: i, status: 'ok', exitCode: EXIT.OK, message: result.message }));
          }),
        },
      },
    },
    completed: {
      type: 'final',
      entry: [assign({ outcome: 'completed' as WorkflowOutcome, exitCode: EXIT.OK }), assign({ message: ({ context }) => describeWorkflow(context) }), emit(({ context }) => finishedDraft(context))],
    },
    failed: {
      type: 'final',
      entry: [
        assign({ outcome: ({ context }) => (context.outcome === 'error' ? 'error' : 'failed') as WorkflowOutcome, exitCode: ({ context }) => context.failure?.exitCode ?? context.exitCode ?? EXIT.UNEXPECTED }),
        assign({ message: ({ context }) => describeWorkflow(context) }),
        emit(({ context }) => finishedDraft(context)),
      ],
    },
    suspended: { type: 'final', entry: [assign({ message: ({ context }) => describeWorkflow(context) }), emit(({ context }) => finishedDraft(context))] },
    interrupted: { type: 'final', entry: [assign({ message: ({ context }) => describeWorkflow(context) }), emit(({ context }) => finishedDraft(context))] },
  },
});

/** Only what the machine needs of a step (a workflow step may carry more). */
export function stepRef(s: StepRef): StepRef {
  return s.message !== undefined ? { name: s.name, type: s.type, onFailure: s.onFailure, message: s.message } : { name: s.name, type: s.type, onFailure: s.onFailure };
}

function currentStepName(ctx: WorkflowContext): string {
  const unit = currentUnit(ctx);
  const steps = stepsOf(ctx);
  return unit ? (steps[unit.steps[0]!]?.name ?? '?') : '?';
}

/** What a failed unit's step says to do next; a failed drain step never lets the run go on (the host may be enabled and full). */
function onFailureOf(ctx: WorkflowContext, out: RunUnitOutput): string {
  const failed = out.results.find((r) => r.status === 'failed');
  const step = stepsOf(ctx).find((s) => s.name === failed?.name);
  const onFailure = step?.onFailure ?? 'stop';
  return onFailure === 'continue' && DRAIN_STEP_TYPES.has(step?.type ?? '') ? 'stop' : onFailure;
}

const DRAIN_STEP_TYPES = new Set(['disable', 'preflight', 'migrate', 'verify-empty']);

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
