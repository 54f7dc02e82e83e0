/**
 * The undrain workflow (xstate v5, pure; actors injected with provide()).
 *
 *   resolving ──unknown──▶ refused (unknown-host)
 *     ▼
 *   checkingOwnership ──enabled────────────────▶ alreadyEnabled (no-op)
 *     │               ──not hostmaint's, !force─▶ refused (ownership-refused)
 *     ▼ (waitUpTimeoutMs)
 *   waitingForUp ──timeout──▶ refused (service-down)
 *     ▼
 *   enablingService ──(returnInstances)──▶ selectingReturns ──▶ returning (polling ⇄ waiting)
 *     ▼                                                            ▼
 *   done (undrained | partial) ◀─────────────────────────────────────┘
 *   any state ──interrupt──▶ interrupted
 */
import { assign, emit, enqueueActions, fromPromise, setup } from 'xstate';
import { draft, notProvided as notProvidedIn, pollsFailed, type ProgressEmitted } from './machine-kit.js';
import { identifyDisabler, parseMarker } from './marker.js';
import { exitCodeFor } from './exit-codes.js';
import { outcomeForError, toErrorInfo } from './outcome.js';
import { poolFinished, poolSettings } from './pool.js';
import { describeUndrain } from './result.js';
import type { DrainPhase } from './events.js';
import type { EnableInput, EnableOutput, PauseInput, PoolTickInput, PoolTickOutput, ResolveOutput, SelectReturnsInput, SelectReturnsOutput, WaitUpInput, WaitUpOutput } from './actor-io.js';
import type { UndrainContext, UndrainMachineInput } from './contexts.js';
import type { UndrainOutcome } from './outcome.js';

export const UNDRAIN_MACHINE_VERSION = 1;

export type UndrainMachineEvent = { type: 'interrupt'; reason?: string };
export type UndrainEmitted = ProgressEmitted;

const notProvided = (name: string) => notProvidedIn('undrainMachine', name);

export const undrainActorPlaceholders = {
  resolveHost: fromPromise<ResolveOutput, { host: string }>(notProvided('resolveHost')),
  waitServiceUp: fromPromise<WaitUpOutput, WaitUpInput>(notProvided('waitServiceUp')),
  enableService: fromPromise<EnableOutput, EnableInput>(notProvided('enableService')),
  selectReturns: fromPromise<SelectReturnsOutput, SelectReturnsInput>(notProvided('selectReturns')),
  poolTick: fromPromise<PoolTickOutput, PoolTickInput>(notProvided('poolTick')),
  pause: fromPromise<void, PauseInput>(notProvided('pause')),
};


interface Step {
  patch: Partial<UndrainContext>;
  emits: UndrainEmitted[];
}

function tickStep(ctx: UndrainContext, out: PoolTickOutput): Step {
  const warnings = out.error !== null ? [...ctx.warnings, `poll failed (${ctx.pollErrors + 1}/${ctx.options.maxPollErrors}): ${out.error}`] : ctx.warnings;
  return {
    patch: { pool: out.instances, ticks: ctx.ticks + 1, pollErrors: out.error !== null ? ctx.pollErrors + 1 : 0, warnings },
    emits: out.events.map((e) => ({ type: 'progress' as const, event: e })),
  };
}

function isOurs(ctx: UndrainContext): boolean {
  return parseMarker(ctx.before?.disabledReason ?? null) !== null;
}

export const undrainMachine = setup({
  types: {
    context: {} as UndrainContext,
    input: {} as UndrainMachineInput,
    events: {} as UndrainMachineEvent,
    emitted: {} as UndrainEmitted,
    output: {} as UndrainContext,
  },
  actors: undrainActorPlaceholders,
  actions: {
    emitPhase: emit(({ context }, params: { phase: DrainPhase }) => draft(context, { type: 'phase-changed', phase: params.phase })),
    emitFinished: emit(({ context }) => {
      const outcome = context.outcome ?? 'error';
      return draft(context, { type: 'run-finished', outcome, exitCode: exitCodeFor(outcome), message: describeUndrain(context, outcome) });
    }),
    applyStep: enqueueActions(({ enqueue }, step: Step) => {
      enqueue.assign(step.patch);
      for (const e of step.emits) enqueue.emit(e);
    }),
  },
}).createMachine({
  id: 'undrain',
  context: ({ input }) => ({
    runId: input.runId,
    host: input.host,
    options: input.options,
    ref: null,
    suggestions: [],
    before: null,
    after: null,
    disabledBy: null,
    forced: false,
    pool: [],
    notReturned: [],
    pollErrors: 0,
    ticks: 0,
    outcome: null,
    message: null,
    error: null,
    warnings: [],
  }),
  output: ({ context }) => context,
  initial: 'resolving',
  on: {
    interrupt: {
      target: '.interrupted',
      actions: assign({ outcome: 'interrupted' as UndrainOutcome, error: ({ event }) => ({ kind: 'interrupted', message: event.reason ?? 'interrupted', status: null, requestId: null, hint: null }) }),
    },
  },
  states: {
    resolving: {
      entry: [
        enqueueActions(({ context, enqueue }) => {
          enqueue.emit(draft(context, { type: 'run-started', command: 'undrain', dryRun: false }));
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
            actions: assign({ suggestions: ({ event }) => event.output.suggestions, outcome: 'unknown-host' as UndrainOutcome }),
          },
          {
            target: 'checkingOwnership',
            actions: assign({
              ref: ({ event }) => event.output.ref,
              before: ({ event }) => event.output.ref!.service,
              disabledBy: ({ event }) =>
                event.output.ref!.service.status === 'disabled' ? identifyDisabler(event.output.ref!.service.disabledReason).description : null,
              warnings: ({ context, event }) => [...context.warnings, ...event.output.warnings],
            }),
          },
        ],
        onError: { target: 'failed', actions: assign({ error: ({ event }) => toErrorInfo(event.error) }) },
      },
    },

    checkingOwnership: {
      always: [
        { guard: ({ context }) => context.before!.status === 'enabled', target: 'alreadyEnabled', actions: assign({ outcome: 'already-enabled' as UndrainOutcome }) },
        { guard: ({ context }) => !isOurs(context) && !context.options.force, target: 'refused', actions: assign({ outcome: 'ownership-refused' as UndrainOutcome }) },
        {
          guard: ({ context }) => context.options.waitUpTimeoutMs !== null,
          target: 'waitingForUp',
          actions: assign({ forced: ({ context }) => !isOurs(context) }),
        },
        { target: 'enablingService', actions: assign({ forced: ({ context }) => !isOurs(context) }) },
      ],
    },

    waitingForUp: {
      entry: { type: 'emitPhase', params: { phase: 'waitingForUp' } },
      invoke: {
        src: 'waitServiceUp',
        input: ({ context }) => ({ service: context.before!, timeoutMs: context.options.waitUpTimeoutMs ?? 0, pollIntervalMs: context.options.pollIntervalMs }),
        onDone: [
          { guard: ({ event }) => event.output.up, target: 'enablingService' },
          { target: 'refused', actions: assign({ outcome: 'service-down' as UndrainOutcome, after: ({ event }) => event.output.service }) },
        ],
        onError: { target: 'failed', actions: assign({ error: ({ event }) => toErrorInfo(event.error) }) },
      },
    },

    enablingService: {
      entry: { type: 'emitPhase', params: { phase: 'enablingService' } },
      invoke: {
        src: 'enableService',
        input: ({ context }) => ({ runId: context.runId, service: context.before!, force: context.options.force }),
        onDone: [
          {
            guard: ({ event }) => event.output.refused !== null,
            target: 'refused',
            actions: assign({
              outcome: 'ownership-refused' as UndrainOutcome,
              after: ({ event }) => event.output.after,
              disabledBy: ({ event }) => event.output.refused,
            }),
          },
          {
            guard: ({ context }) => context.options.returnInstances && context.options.manifest.length > 0,
            target: 'selectingReturns',
            actions: [
              assign({ after: ({ event }) => event.output.after }),
              enqueueActions(({ context, event, enqueue }) => {
                enqueue.emit(draft(context, { type: 'service-changed', action: 'enabled', status: event.output.after.status, reason: null, note: context.forced ? 'forced' : null }));
              }),
            ],
          },
          {
            target: 'done',
            actions: [
              assign({ after: ({ event }) => event.output.after }),
              enqueueActions(({ context, event, enqueue }) => {
                enqueue.emit(draft(context, { type: 'service-changed', action: 'enabled', status: event.output.after.status, reason: null, note: context.forced ? 'forced' : null }));
              }),
            ],
          },
        ],
        onError: { target: 'failed', actions: assign({ error: ({ event }) => toErrorInfo(event.error) }) },
      },
    },

    selectingReturns: {
      entry: { type: 'emitPhase', params: { phase: 'selectingReturns' } },
      invoke: {
        src: 'selectReturns',
        input: ({ context }) => ({ host: context.host, manifest: context.options.manifest }),
        onDone: [
          {
            guard: ({ event }) => event.output.pool.length === 0,
            target: 'done',
            actions: assign({ notReturned: ({ event }) => event.output.notReturned }),
          },
          { target: 'returning', actions: assign({ pool: ({ event }) => event.output.pool, notReturned: ({ event }) => event.output.notReturned }) },
        ],
        onError: { target: 'failed', actions: assign({ error: ({ event }) => toErrorInfo(event.error) }) },
      },
    },

    returning: {
      entry: { type: 'emitPhase', params: { phase: 'returning' } },
      initial: 'polling',
      states: {
        polling: {
          invoke: {
            src: 'poolTick',
            input: ({ context }) => ({ runId: context.runId, host: context.host, instances: context.pool, settings: poolSettings(context.options) }),
            onDone: [
              {
                guard: ({ context, event }) => event.output.error !== null && context.pollErrors + 1 >= context.options.maxPollErrors,
                target: '#undrain.failed',
                actions: [
                  { type: 'applyStep', params: ({ context, event }) => tickStep(context, event.output) },
                  assign({ error: ({ context, event }) => pollsFailed(context.options.maxPollErrors, event.output.error) }),
                ],
              },
              {
                guard: ({ event }) => event.output.error === null && poolFinished(event.output.instances),
                target: '#undrain.done',
                actions: { type: 'applyStep', params: ({ context, event }) => tickStep(context, event.output) },
              },
              { target: 'waiting', actions: { type: 'applyStep', params: ({ context, event }) => tickStep(context, event.output) } },
            ],
            onError: { target: '#undrain.failed', actions: assign({ error: ({ event }) => toErrorInfo(event.error) }) },
          },
        },
        waiting: {
          invoke: { src: 'pause', input: ({ context }) => ({ ms: context.options.pollIntervalMs }), onDone: 'polling', onError: 'polling' },
        },
      },
    },

    done: {
      type: 'final',
      entry: [
        assign({ outcome: ({ context }) => (context.pool.some((r) => r.phase === 'failed') ? 'partial' : 'undrained') as UndrainOutcome }),
        { type: 'emitPhase', params: { phase: 'done' } },
        'emitFinished',
      ],
    },
    alreadyEnabled: { type: 'final', entry: [{ type: 'emitPhase', params: { phase: 'done' } }, 'emitFinished'] },
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
