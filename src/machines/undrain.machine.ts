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
import { assign, emit, enqueueActions, setup } from 'xstate';
import { RUN_MACHINE_TOP, placeholders, type EnqueueAction as RunEnqueueAction, type RunMachineEvent, draft, errorPatch, failTo, finalState, finishedDraft, phaseDraft, interruptedError, resolvedOut, resolvingState, unknownHostPatch, type ProgressEmitted } from './machine-kit.js';
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
  ReadServiceInput,
  ResolveOutput,
  SelectReturnsInput,
  SelectReturnsOutput,
  WaitUpInput,
  WaitUpOutput,
} from './actor-io.js';
import type { ServiceRecord } from './records.js';
import type { UndrainActorIO } from './actor-io.js';
import type { UndrainContext, UndrainMachineInput } from './contexts.js';
import type { UndrainOutcome } from './outcome.js';

export const UNDRAIN_MACHINE_VERSION = 2;

export type UndrainMachineEvent = RunMachineEvent;
export type UndrainEmitted = ProgressEmitted;

export const undrainActorPlaceholders = placeholders<UndrainActorIO>('undrainMachine', ['resolveHost', 'poolTick', 'pause', 'waitServiceUp', 'enableService', 'selectReturns', 'readService']);
type Step = PollStep<UndrainContext>;

type EnqueueAction<P> = RunEnqueueAction<UndrainContext, P>;

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
    emitStarted: emit(({ context }) => draft(context, { type: 'run-started', command: 'undrain', dryRun: false })),
    emitPhase: emit(({ context }, p: { phase: DrainPhase }) => phaseDraft(context, p.phase)),
    emitFinished: emit(({ context }) => finishedDraft(context, describeUndrain)),
    applyStep: enqueueActions(({ enqueue }, step: Step) => {
      enqueue.assign(step.patch);
      for (const e of step.emits) enqueue.emit(e);
    }) as EnqueueAction<Step>,
    fail: assign((_, p: { error: unknown }) => errorPatch(p.error)),
    failPolls: assign((_, p: { error: unknown }) => errorPatch(p.error)),
    end: assign({ outcome: (_, p: { outcome: UndrainOutcome }) => p.outcome }),
    interrupt: assign({ outcome: 'interrupted' as UndrainOutcome, error: ({ event }) => interruptedError(event.reason) }),
    refuseUnknownHost: assign(({ context }, p: { out: ResolveOutput }) => unknownHostPatch(context, p.out)),
    resolved: assign(({ context }, p: { out: ResolveOutput }) => ({
      ref: p.out.ref,
      before: p.out.ref!.service,
      markerRun: p.out.markerRun,
      disabledBy: p.out.ref!.service.status === 'disabled' ? identifyDisabler(p.out.ref!.service.disabledReason).description : null,
      warnings: [...context.warnings, ...p.out.warnings],
    })),
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
  ...RUN_MACHINE_TOP,
  output: ({ context }) => context,
  states: {
    resolving: resolvingState([{ target: 'checkingOwnership', actions: { type: 'resolved', params: resolvedOut } }]),

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
        onError: failTo('failed'),
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
        onError: failTo('failed'),
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
        onError: failTo('failed'),
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
        onError: failTo('failed'),
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
    alreadyEnabled: finalState(),
    refused: finalState(),
    lost: finalState(),
    failed: {
      type: 'final',
      entry: [
        assign({ outcome: ({ context }) => context.outcome ?? (context.error ? outcomeForError(context.error) : 'error') }),
        { type: 'emitPhase', params: { phase: 'done' } },
        'emitFinished',
      ],
    },
    interrupted: finalState(),
  },
});
