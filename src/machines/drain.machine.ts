/**
 * The drain workflow as an xstate v5 machine. Pure: it imports only xstate and
 * the workflow's own types and helpers. Every side effect is an actor, given
 * with `drainMachine.provide({ actors })` (src/actors/ builds the real ones,
 * tests give fakes). The context is plain JSON so a persisted snapshot can be
 * saved and restored; restoring re-runs the in-flight actor, which is why every
 * actor reconciles with the cloud before it acts.
 *
 *   resolving ──unknown──────────────────────────────▶ refused (unknown-host)
 *     │ (dryRun: straight to preflight, read-only)
 *     ▼
 *   disablingService ─error──▶ restoringService ──▶ failed
 *     ▼
 *   preflight ──refused──▶ restoringService ──▶ refused (preflight-refused)
 *     │ (dryRun: ──▶ planned | refused)
 *     ▼
 *   migrating (polling ⇄ waiting) ─too many poll errors─▶ restoringService ──▶ failed
 *     ▼
 *   verifyingEmpty ──empty──▶ handedOver (drained)
 *                   └─else──▶ partial
 *   any state ──interrupt──▶ interrupted
 *
 * Timers are not xstate `after` delays: xstate does not persist scheduled
 * events in a persisted snapshot, so a restored run would wait forever. The
 * poll interval is a `pause` actor (the injected Clock), which restarts on
 * restore like every other actor.
 */
import { assign, emit, enqueueActions, fromPromise, setup } from 'xstate';
import { draft, notProvided as notProvidedIn, pollsFailed, type ProgressEmitted } from './machine-kit.js';
import { exitCodeFor } from './exit-codes.js';
import { outcomeForError, toErrorInfo } from './outcome.js';
import type { ErrorInfo } from './outcome.js';
import { buildPool, nothingMoved, poolFinished, poolSettings } from './pool.js';
import { describeDrain } from './result.js';
import type { DisableInput, DisableOutput, PauseInput, PoolTickInput, PoolTickOutput, PreflightInput, PreflightReport, ResolveOutput, RestoreInput, RestoreOutput, Verification, VerifyInput } from './actor-io.js';
import type { DrainContext, DrainMachineInput } from './contexts.js';
import type { DrainOutcome } from './outcome.js';
import type { DrainPhase } from './events.js';

export const DRAIN_MACHINE_VERSION = 1;

export type DrainMachineEvent = { type: 'interrupt'; reason?: string };
export type DrainEmitted = ProgressEmitted;

const notProvided = (name: string) => notProvidedIn('drainMachine', name);

export const drainActorPlaceholders = {
  resolveHost: fromPromise<ResolveOutput, { host: string }>(notProvided('resolveHost')),
  disableService: fromPromise<DisableOutput, DisableInput>(notProvided('disableService')),
  preflight: fromPromise<PreflightReport, PreflightInput>(notProvided('preflight')),
  restoreService: fromPromise<RestoreOutput, RestoreInput>(notProvided('restoreService')),
  poolTick: fromPromise<PoolTickOutput, PoolTickInput>(notProvided('poolTick')),
  pause: fromPromise<void, PauseInput>(notProvided('pause')),
  verifyEmpty: fromPromise<Verification, VerifyInput>(notProvided('verifyEmpty')),
};


/** Enable on failure only if nothing moved yet and this run disabled it (the restore actor checks the marker). */
function mayEnable(ctx: DrainContext): boolean {
  if (ctx.options.dryRun) return false;
  if (ctx.service.ownership !== 'ours' && ctx.service.ownership !== 'none') return false;
  return nothingMoved(ctx.pool);
}

function notesFor(ctx: DrainContext): Record<string, string> {
  const notes: Record<string, string> = {};
  for (const c of ctx.preflight?.instances ?? []) {
    if (c.class === 'blocked' || c.class === 'leave' || c.class === 'wait') notes[c.serverId] = c.remedy ? `${c.reason} (remedy: ${c.remedy})` : c.reason;
  }
  for (const r of ctx.pool) {
    if (r.phase === 'failed') notes[r.serverId] = `migration failed after ${r.attempts} attempt(s): ${r.errors[r.errors.length - 1] ?? r.note ?? 'unknown reason'}`;
    else if (r.phase !== 'done') notes[r.serverId] = `migration still ${r.phase}`;
  }
  return notes;
}

function errorOf(e: unknown): ErrorInfo {
  return toErrorInfo(e);
}

interface Step {
  patch: Partial<DrainContext>;
  emits: DrainEmitted[];
}

function preflightStep(ctx: DrainContext, report: PreflightReport): Step {
  const emits: DrainEmitted[] = report.instances.map((c) =>
    draft(ctx, { type: 'instance-classified', serverId: c.serverId, name: c.name, class: c.class, reason: c.reason, blocking: c.blocking, remedy: c.remedy, projectId: c.projectId }),
  );
  emits.push(
    draft(ctx, {
      type: 'preflight-finished',
      ok: report.ok,
      blocking: report.blocking.length,
      warnings: report.warnings.length,
      planned: report.plan.filter((p) => p.fits).length,
      unplaced: report.plan.filter((p) => !p.fits).length,
    }),
  );
  return { patch: { preflight: report }, emits };
}

function tickStep(ctx: DrainContext, out: PoolTickOutput): Step {
  const emits = out.events.map((e) => ({ type: 'progress' as const, event: e }));
  const warnings = out.error !== null ? [...ctx.warnings, `poll failed (${ctx.pollErrors + 1}/${ctx.options.maxPollErrors}): ${out.error}`] : ctx.warnings;
  return {
    patch: { pool: out.instances, ticks: ctx.ticks + 1, pollErrors: out.error !== null ? ctx.pollErrors + 1 : 0, warnings },
    emits,
  };
}

function verificationStep(ctx: DrainContext, v: Verification): Step {
  return { patch: { verification: v }, emits: [draft(ctx, { type: 'verification', empty: v.empty, leftovers: v.leftovers })] };
}

function restoreStep(ctx: DrainContext, out: RestoreOutput): Step {
  // Back in its prior state: we enabled it again, or it was never ours to change (adopted / someone else's) and is as it was.
  const untouched =
    (ctx.service.ownership === 'adopted' || ctx.service.ownership === 'foreign') &&
    out.after?.status === 'disabled' &&
    out.after.disabledReason === ctx.service.before?.disabledReason;
  const restored = out.action === 'enabled' || out.action === 'already-enabled' || untouched;
  const patch: Partial<DrainContext> = {
    service: { ...ctx.service, after: out.after ?? ctx.service.after, restored: ctx.service.restored || restored },
  };
  if (out.note) patch.warnings = [...ctx.warnings, out.note];
  const emits: DrainEmitted[] = [];
  if (out.after) {
    emits.push(
      draft(ctx, {
        type: 'service-changed',
        action: restored ? 'restored' : 'left',
        status: out.after.status,
        reason: out.after.disabledReason,
        note: out.note,
      }),
    );
  }
  return { patch, emits };
}

export const drainMachine = setup({
  types: {
    context: {} as DrainContext,
    input: {} as DrainMachineInput,
    events: {} as DrainMachineEvent,
    emitted: {} as DrainEmitted,
    output: {} as DrainContext,
  },
  actors: drainActorPlaceholders,
  actions: {
    emitPhase: emit(({ context }, params: { phase: DrainPhase }) => draft(context, { type: 'phase-changed', phase: params.phase })),
    emitFinished: emit(({ context }) => {
      const outcome = context.outcome ?? 'error';
      return draft(context, { type: 'run-finished', outcome, exitCode: exitCodeFor(outcome), message: describeDrain(context, outcome) });
    }),
    applyStep: enqueueActions(({ enqueue }, step: Step) => {
      enqueue.assign(step.patch);
      for (const e of step.emits) enqueue.emit(e);
    }),
  },
}).createMachine({
  id: 'drain',
  context: ({ input }) => ({
    runId: input.runId,
    host: input.host,
    options: input.options,
    ref: null,
    suggestions: [],
    service: { before: null, after: null, ownership: 'none', adoptedRunId: null, restored: false },
    preflight: null,
    pool: [],
    pollErrors: 0,
    ticks: 0,
    verification: null,
    pendingOutcome: null,
    outcome: null,
    error: null,
    warnings: [],
  }),
  output: ({ context }) => context,
  initial: 'resolving',
  on: {
    interrupt: {
      target: '.interrupted',
      actions: assign({ outcome: 'interrupted' as DrainOutcome, error: ({ event }) => ({ kind: 'interrupted', message: event.reason ?? 'interrupted', status: null, requestId: null, hint: null }) }),
    },
  },
  states: {
    resolving: {
      entry: [
        enqueueActions(({ context, enqueue }) => {
          enqueue.emit(draft(context, { type: 'run-started', command: 'drain', dryRun: context.options.dryRun }));
        }),
        { type: 'emitPhase', params: { phase: 'resolving' } },
      ],
      invoke: {
        src: 'resolveHost',
        input: ({ context }) => ({ host: context.host }),
        onDone: [
          {
            guard: ({ event }) => !event.output.found || event.output.ref === null,
            target: 'refused',
            actions: assign({
              suggestions: ({ event }) => event.output.suggestions,
              warnings: ({ context, event }) => [...context.warnings, ...event.output.warnings],
              outcome: 'unknown-host' as DrainOutcome,
            }),
          },
          {
            guard: ({ context }) => context.options.dryRun,
            target: 'preflight',
            actions: assign({
              ref: ({ event }) => event.output.ref,
              service: ({ context, event }) => ({ ...context.service, before: event.output.ref!.service, after: event.output.ref!.service }),
              warnings: ({ context, event }) => [...context.warnings, ...event.output.warnings],
            }),
          },
          {
            target: 'disablingService',
            actions: assign({
              ref: ({ event }) => event.output.ref,
              service: ({ context, event }) => ({ ...context.service, before: event.output.ref!.service }),
              warnings: ({ context, event }) => [...context.warnings, ...event.output.warnings],
            }),
          },
        ],
        onError: {
          target: 'failed',
          actions: assign({ error: ({ event }) => errorOf(event.error) }),
        },
      },
    },

    disablingService: {
      entry: { type: 'emitPhase', params: { phase: 'disablingService' } },
      invoke: {
        src: 'disableService',
        input: ({ context }) => ({ runId: context.runId, reason: context.options.reason, service: context.ref!.service }),
        onDone: {
          target: 'preflight',
          actions: enqueueActions(({ context, event, enqueue }) => {
            const out = event.output;
            enqueue.assign({
              service: { before: out.before, after: out.after, ownership: out.ownership, adoptedRunId: out.adoptedRunId, restored: false },
              warnings:
                out.ownership === 'foreign'
                  ? [...context.warnings, `the service was already disabled by ${out.disabler ?? 'someone else'}: draining anyway; undrain will not enable it`]
                  : context.warnings,
            });
            const action = out.ownership === 'ours' ? 'disabled' : out.ownership === 'adopted' ? 'adopted' : 'foreign';
            enqueue.emit(draft(context, { type: 'service-changed', action, status: out.after.status, reason: out.after.disabledReason, note: out.disabler }));
          }),
        },
        onError: {
          target: 'restoringService',
          actions: assign({ error: ({ event }) => errorOf(event.error) }),
        },
      },
    },

    preflight: {
      entry: { type: 'emitPhase', params: { phase: 'preflight' } },
      invoke: {
        src: 'preflight',
        input: ({ context }) => ({ runId: context.runId, ref: context.ref!, options: context.options }),
        onDone: [
          {
            guard: ({ context, event }) => context.options.dryRun && event.output.ok,
            target: 'planned',
            actions: [{ type: 'applyStep', params: ({ context, event }) => preflightStep(context, event.output) }, assign({ outcome: 'planned' as DrainOutcome })],
          },
          {
            guard: ({ context }) => context.options.dryRun,
            target: 'refused',
            actions: [{ type: 'applyStep', params: ({ context, event }) => preflightStep(context, event.output) }, assign({ outcome: 'preflight-refused' as DrainOutcome })],
          },
          {
            guard: ({ event }) => event.output.ok,
            target: 'migrating',
            actions: [{ type: 'applyStep', params: ({ context, event }) => preflightStep(context, event.output) }, assign({ pool: ({ context, event }) => buildPool(event.output, context.options, context.host) })],
          },
          {
            target: 'restoringService',
            actions: [{ type: 'applyStep', params: ({ context, event }) => preflightStep(context, event.output) }, assign({ pendingOutcome: 'preflight-refused' as DrainOutcome })],
          },
        ],
        onError: [
          { guard: ({ context }) => context.options.dryRun, target: 'failed', actions: assign({ error: ({ event }) => errorOf(event.error) }) },
          { target: 'restoringService', actions: assign({ error: ({ event }) => errorOf(event.error) }) },
        ],
      },
    },

    migrating: {
      entry: { type: 'emitPhase', params: { phase: 'migrating' } },
      initial: 'polling',
      states: {
        polling: {
          invoke: {
            src: 'poolTick',
            input: ({ context }) => ({
              runId: context.runId,
              host: context.host,
              instances: context.pool,
              settings: poolSettings(context.options, 'waiting'),
            }),
            onDone: [
              {
                guard: ({ context, event }) => event.output.error !== null && context.pollErrors + 1 >= context.options.maxPollErrors,
                target: '#drain.restoringService',
                actions: [{ type: 'applyStep', params: ({ context, event }) => tickStep(context, event.output) }, assign({ error: ({ context, event }) => pollsFailed(context.options.maxPollErrors, event.output.error) })],
              },
              { guard: ({ event }) => event.output.error === null && poolFinished(event.output.instances), target: '#drain.verifyingEmpty', actions: { type: 'applyStep', params: ({ context, event }) => tickStep(context, event.output) } },
              { target: 'waiting', actions: { type: 'applyStep', params: ({ context, event }) => tickStep(context, event.output) } },
            ],
            onError: { target: '#drain.restoringService', actions: assign({ error: ({ event }) => errorOf(event.error) }) },
          },
        },
        waiting: {
          invoke: {
            src: 'pause',
            input: ({ context }) => ({ ms: context.options.pollIntervalMs }),
            onDone: 'polling',
            onError: 'polling',
          },
        },
      },
    },

    verifyingEmpty: {
      entry: { type: 'emitPhase', params: { phase: 'verifyingEmpty' } },
      invoke: {
        src: 'verifyEmpty',
        input: ({ context }) => ({ ref: context.ref!, notes: notesFor(context) }),
        onDone: [
          {
            guard: ({ event }) => event.output.empty,
            target: 'handedOver',
            actions: [{ type: 'applyStep', params: ({ context, event }) => verificationStep(context, event.output) }, assign({ outcome: 'drained' as DrainOutcome })],
          },
          { target: 'partial', actions: [{ type: 'applyStep', params: ({ context, event }) => verificationStep(context, event.output) }, assign({ outcome: 'partial' as DrainOutcome })] },
        ],
        onError: { target: 'restoringService', actions: assign({ error: ({ event }) => errorOf(event.error) }) },
      },
    },

    restoringService: {
      entry: { type: 'emitPhase', params: { phase: 'restoringService' } },
      invoke: {
        src: 'restoreService',
        input: ({ context }) => ({
          runId: context.runId,
          service: context.service.after ?? context.service.before ?? context.ref!.service,
          mayEnable: mayEnable(context),
        }),
        onDone: [
          { guard: ({ context }) => context.pendingOutcome === 'preflight-refused', target: 'refused', actions: [{ type: 'applyStep', params: ({ context, event }) => restoreStep(context, event.output) }, assign({ outcome: 'preflight-refused' as DrainOutcome })] },
          { target: 'failed', actions: { type: 'applyStep', params: ({ context, event }) => restoreStep(context, event.output) } },
        ],
        onError: [
          {
            guard: ({ context }) => context.pendingOutcome === 'preflight-refused',
            target: 'refused',
            actions: assign({
              outcome: 'preflight-refused' as DrainOutcome,
              warnings: ({ context, event }) => [...context.warnings, `could not put the service back: ${errorOf(event.error).message}`],
            }),
          },
          {
            target: 'failed',
            actions: assign({ warnings: ({ context, event }) => [...context.warnings, `could not put the service back: ${errorOf(event.error).message}`] }),
          },
        ],
      },
    },

    handedOver: { type: 'final', entry: [{ type: 'emitPhase', params: { phase: 'done' } }, 'emitFinished'] },
    partial: { type: 'final', entry: [{ type: 'emitPhase', params: { phase: 'done' } }, 'emitFinished'] },
    planned: { type: 'final', entry: [{ type: 'emitPhase', params: { phase: 'done' } }, 'emitFinished'] },
    refused: { type: 'final', entry: [{ type: 'emitPhase', params: { phase: 'done' } }, 'emitFinished'] },
    failed: {
      type: 'final',
      entry: [
        assign({ outcome: ({ context }) => context.outcome ?? (context.error ? outcomeForError(context.error) : 'error') }),
        { type: 'emitPhase', params: { phase: 'done' } },
        'emitFinished',
      ],
    },
    interrupted: { type: 'final', entry: [{ type: 'emitPhase', params: { phase: 'done' } }, 'emitFinished'] },
  },
});
