/**
 * The undrain workflow (xstate v5, pure; actors injected with provide()).
 *
 *   resolving ──unknown──▶ refused (unknown-host)
 *     ▼ (one read of the service)
 *   checkingOwnership ──enabled──────────────────────────────▶ alreadyEnabled (no-op)
 *     │               ──not a disable this machine knows is over, !force─▶ refused (ownership-refused)
 *     ▼ (waitUpTimeoutMs)
 *   waitingForUp ──timeout──▶ refused (service-down)
 *     ▼
 *   enablingService (re-read, enable, read back) ──changed since the decision──▶ refused
 *     ▼ (returnInstances)
 *   selectingReturns (Nova's migration records since the disable) ──▶ returning (polling ⇄ waiting)
 *     ▼                                                                  ▼
 *   done (undrained | partial) ◀── readingBack (Nova still shows it enabled, else lost) ◀──┘
 *   any state ──interrupt──▶ interrupted
 */
import { assign, emit, enqueueActions, fromPromise, setup, type ActionFunction } from 'xstate';
import { draft, notProvided as notProvidedIn, type ProgressEmitted } from './machine-kit.js';
import { identifyDisabler, parseMarker } from './marker.js';
import { exitCodeFor } from './exit-codes.js';
import { outcomeForError, toErrorInfo } from './outcome.js';
import { readService, runIdTime, undrainDecision, type UndrainDecision } from './ownership.js';
import { pollingGuards, pollingStates, type PollStep } from './polling.js';
import { poolSettings } from './pool.js';
import { describeUndrain } from './result.js';
import type { DrainPhase } from './events.js';
import type {
  EnableInput,
  EnableOutput,
  PauseInput,
  PoolTickInput,
  PoolTickOutput,
  ReadServiceInput,
  ResolveOutput,
  SelectReturnsInput,
  SelectReturnsOutput,
  WaitUpInput,
  WaitUpOutput,
} from './actor-io.js';
import type { ServiceRecord } from './records.js';
import type { UndrainContext, UndrainMachineInput } from './contexts.js';
import type { UndrainOutcome } from './outcome.js';

export const UNDRAIN_MACHINE_VERSION = 2;

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
  readService: fromPromise<ServiceRecord, ReadServiceInput>(notProvided('readService')),
};

type Step = PollStep<UndrainContext>;

/** See drain.machine.ts: enqueueActions typed for this machine. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type EnqueueAction<P> = ActionFunction<UndrainContext, UndrainMachineEvent, UndrainMachineEvent, P, any, any, any, never, UndrainEmitted>;

function decisionOf(ctx: UndrainContext): UndrainDecision {
  return undrainDecision(readService(ctx.before!, ctx.runId, ctx.markerRun), ctx.options.force, ctx.host);
}

/**
 * When the host was disabled: its marker's run started then (what this machine saved of it, else
 * its id's time). A run id is stamped with the clock of the machine that started the run: Nova's
 * migration records are compared with it, so the clocks must agree (NTP). No margin is taken: in a
 * rolling run the moves back to the previous host happen just before this host is disabled.
 */
function disabledSince(ctx: UndrainContext): string | null {
  const marker = parseMarker(ctx.before?.disabledReason ?? null);
  if (!marker) return null;
  return (ctx.markerRun?.runId === marker.runId ? ctx.markerRun.startedAt : null) ?? runIdTime(marker.runId);
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
  guards: {
    ...pollingGuards,
    unknownHost: (_, p: { out: ResolveOutput }) => !p.out.found || p.out.ref === null,
    alreadyEnabled: ({ context }) => decisionOf(context).action === 'nothing',
    refusesOwnership: ({ context }) => decisionOf(context).action === 'refuse',
    waitsForUp: ({ context }) => context.options.waitUpTimeoutMs !== null,
    isUp: (_, p: { out: WaitUpOutput }) => p.out.up,
    enableRefused: (_, p: { out: EnableOutput }) => p.out.refused !== null,
    returnsWanted: ({ context }) => context.options.returnInstances,
    nothingToReturn: (_, p: { out: SelectReturnsOutput }) => p.out.pool.length === 0,
    stillEnabled: (_, p: { service: ServiceRecord }) => p.service.status === 'enabled',
  },
  actions: {
    emitPhase: emit(({ context }, params: { phase: DrainPhase }) => draft(context, { type: 'phase-changed', phase: params.phase })),
    emitFinished: emit(({ context }) => {
      const outcome = context.outcome ?? 'error';
      return draft(context, { type: 'run-finished', outcome, exitCode: exitCodeFor(outcome), message: describeUndrain(context, outcome) });
    }),
    applyStep: enqueueActions(({ enqueue }, step: Step) => {
      enqueue.assign(step.patch);
      for (const e of step.emits) enqueue.emit(e);
    }) as EnqueueAction<Step>,
    fail: assign({ error: (_, p: { error: unknown }) => toErrorInfo(p.error) }),
    failPolls: assign({ error: (_, p: { error: unknown }) => toErrorInfo(p.error) }),
    end: assign({ outcome: (_, p: { outcome: UndrainOutcome }) => p.outcome }),
    /** Refuse to enable: say whose disable it is (run, who, when), and how to go on. */
    refuse: assign(({ context }) => {
      const d = decisionOf(context) as Extract<UndrainDecision, { action: 'refuse' }>;
      return { outcome: 'ownership-refused' as UndrainOutcome, disabledBy: d.disabledBy, error: { kind: 'ownership', message: d.message, status: null, requestId: null, hint: d.hint } };
    }),
    decide: assign(({ context }) => ({ forced: (decisionOf(context) as Extract<UndrainDecision, { action: 'enable' }>).forced, since: disabledSince(context) })),
    enabled: enqueueActions(({ context, enqueue }, p: { out: EnableOutput }) => {
      enqueue.assign({ after: p.out.after });
      enqueue.emit(draft(context, { type: 'service-changed', action: 'enabled', status: p.out.after.status, reason: p.out.after.disabledReason, note: context.forced ? 'forced' : null }));
    }) as EnqueueAction<{ out: EnableOutput }>,
  },
}).createMachine({
  id: 'undrain',
  context: ({ input }) => ({
    runId: input.runId,
    host: input.host,
    options: input.options,
    ref: null,
    suggestions: [],
    markerRun: null,
    before: null,
    after: null,
    disabledBy: null,
    forced: false,
    since: null,
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
            guard: { type: 'unknownHost', params: ({ event }) => ({ out: event.output }) },
            target: 'refused',
            actions: assign({ suggestions: ({ event }) => event.output.suggestions, outcome: 'unknown-host' as UndrainOutcome }),
          },
          {
            target: 'checkingOwnership',
            actions: assign({
              ref: ({ event }) => event.output.ref,
              before: ({ event }) => event.output.ref!.service,
              markerRun: ({ event }) => event.output.markerRun,
              disabledBy: ({ event }) => (event.output.ref!.service.status === 'disabled' ? identifyDisabler(event.output.ref!.service.disabledReason).description : null),
              warnings: ({ context, event }) => [...context.warnings, ...event.output.warnings],
            }),
          },
        ],
        onError: { target: 'failed', actions: { type: 'fail', params: ({ event }) => ({ error: event.error }) } },
      },
    },

    checkingOwnership: {
      always: [
        { guard: 'alreadyEnabled', target: 'alreadyEnabled', actions: { type: 'end', params: { outcome: 'already-enabled' } } },
        { guard: 'refusesOwnership', target: 'refused', actions: 'refuse' },
        { guard: 'waitsForUp', target: 'waitingForUp', actions: 'decide' },
        { target: 'enablingService', actions: 'decide' },
      ],
    },

    waitingForUp: {
      entry: { type: 'emitPhase', params: { phase: 'waitingForUp' } },
      invoke: {
        src: 'waitServiceUp',
        input: ({ context }) => ({ service: context.before!, timeoutMs: context.options.waitUpTimeoutMs ?? 0, pollIntervalMs: context.options.pollIntervalMs }),
        onDone: [
          { guard: { type: 'isUp', params: ({ event }) => ({ out: event.output }) }, target: 'enablingService' },
          { target: 'refused', actions: [{ type: 'end', params: { outcome: 'service-down' } }, assign({ after: ({ event }) => event.output.service })] },
        ],
        onError: { target: 'failed', actions: { type: 'fail', params: ({ event }) => ({ error: event.error }) } },
      },
    },

    enablingService: {
      entry: { type: 'emitPhase', params: { phase: 'enablingService' } },
      invoke: {
        src: 'enableService',
        input: ({ context }) => ({ runId: context.runId, service: context.before! }),
        onDone: [
          {
            guard: { type: 'enableRefused', params: ({ event }) => ({ out: event.output }) },
            target: 'refused',
            actions: assign({
              outcome: 'ownership-refused' as UndrainOutcome,
              after: ({ event }) => event.output.after,
              disabledBy: ({ event }) => event.output.refused,
              error: ({ context, event }) => ({ kind: 'ownership', message: `the service changed since this run read it: now ${event.output.refused}`, status: null, requestId: null, hint: `Look again: hostmaint undrain ${context.host} --dry-run.` }),
            }),
          },
          { guard: 'returnsWanted', target: 'selectingReturns', actions: { type: 'enabled', params: ({ event }) => ({ out: event.output }) } },
          { target: 'done', actions: { type: 'enabled', params: ({ event }) => ({ out: event.output }) } },
        ],
        onError: { target: 'failed', actions: { type: 'fail', params: ({ event }) => ({ error: event.error }) } },
      },
    },

    selectingReturns: {
      entry: { type: 'emitPhase', params: { phase: 'selectingReturns' } },
      invoke: {
        src: 'selectReturns',
        input: ({ context }) => ({ host: context.host, since: context.since, manifest: context.options.manifest, manifestOfRun: parseMarker(context.before?.disabledReason ?? null)?.runId === context.runId }),
        onDone: [
          {
            guard: { type: 'nothingToReturn', params: ({ event }) => ({ out: event.output }) },
            target: 'done',
            actions: assign({ notReturned: ({ event }) => event.output.notReturned }),
          },
          { target: 'returning', actions: assign({ pool: ({ event }) => event.output.pool, notReturned: ({ event }) => event.output.notReturned }) },
        ],
        onError: { target: 'failed', actions: { type: 'fail', params: ({ event }) => ({ error: event.error }) } },
      },
    },

    returning: {
      entry: { type: 'emitPhase', params: { phase: 'returning' } },
      ...pollingStates({
        settings: (ctx: UndrainContext) => poolSettings(ctx.options),
        watch: () => null,
        done: '#undrain.readingBack',
        failed: '#undrain.failed',
      }),
    },

    readingBack: {
      invoke: {
        src: 'readService',
        input: ({ context }) => ({ service: context.after ?? context.before! }),
        onDone: [
          { guard: { type: 'stillEnabled', params: ({ event }) => ({ service: event.output }) }, target: 'done', actions: assign({ after: ({ event }) => event.output }) },
          { target: 'lost', actions: [assign({ after: ({ event }) => event.output }), { type: 'end', params: { outcome: 'ownership-lost' } }] },
        ],
        onError: { target: 'failed', actions: { type: 'fail', params: ({ event }) => ({ error: event.error }) } },
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
    lost: { type: 'final', entry: [{ type: 'emitPhase', params: { phase: 'done' } }, 'emitFinished'] },
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
