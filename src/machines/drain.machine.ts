/**
 * The drain workflow as an xstate v5 machine. Pure: it imports only xstate and
 * the workflow's own types and helpers. Every side effect is an actor, given
 * with `drainMachine.provide({ actors })` (src/actors/ builds the real ones,
 * tests give fakes). The context is plain JSON so a persisted snapshot can be
 * saved and restored; restoring re-runs the in-flight actor, which is why every
 * actor reconciles with the cloud before it acts.
 *
 *   resolving ──unknown──────────────────────────────▶ refused (unknown-host)
 *     │ (one read of the service; dryRun: straight to preflight, read-only)
 *     ▼
 *   checkingOwnership ──another run's marker, no --adopt──▶ refused (host-busy)
 *     ▼            ▲ the service changed since it was read
 *   disablingService (write, read back) ─another actor won─▶ lost (ownership-lost)
 *     │ ─error──▶ restoringService ──▶ failed
 *     ▼
 *   preflight ──refused──▶ restoringService ──▶ refused (preflight-refused)
 *     │ (dryRun: ──▶ planned | refused)
 *     ▼
 *   migrating (polling ⇄ waiting; every poll reads the service first)
 *     │ ─service enabled or taken over──▶ lost (ownership-lost)
 *     │ ─source down for SOURCE_DOWN_POLLS──▶ verifyingEmpty (partial, with the reason)
 *     │ ─too many poll errors─▶ restoringService ──▶ failed
 *     ▼
 *   verifyingEmpty (reads the service back) ──empty──▶ handedOver (drained)
 *                   ├─service not as this run left it──▶ lost (ownership-lost)
 *                   └─else──▶ partial
 *   any state ──interrupt──▶ interrupted
 *
 * Timers are not xstate `after` delays: xstate does not persist scheduled
 * events in a persisted snapshot, so a restored run would wait forever. The
 * poll interval is a `pause` actor (the injected Clock), which restarts on
 * restore like every other actor.
 */
import { assign, emit, enqueueActions, setup } from 'xstate';
import { RUN_MACHINE_TOP, placeholders, type EnqueueAction as RunEnqueueAction, type RunMachineEvent, draft, errorPatch, failTo, finalState, finishedDraft, phaseDraft, interruptedError, resolvedOut, resolvingState, unknownHostPatch, type ProgressEmitted } from './machine-kit.js';
import { identifyDisabler, parseMarker } from './marker.js';
import { drainDecision, holdsService, readService, type DrainDecision } from './ownership.js';
import { pollingGuards, pollingStates, tickStep } from './polling.js';
import { exitCodeFor } from './exit-codes.js';
import { outcomeForError, toErrorInfo } from './outcome.js';
import type { ErrorInfo } from './outcome.js';
import { buildPool, nothingMoved, poolSettings } from './pool.js';
import { describeDrain } from './result.js';
import type { DisableInput, DisableOutput, PoolTickOutput, PreflightInput, PreflightReport, ResolveOutput, RestoreInput, RestoreOutput, Verification, VerifyInput } from './actor-io.js';
import type { DrainActorIO } from './actor-io.js';
import type { DrainContext, DrainMachineInput } from './contexts.js';
import type { DrainOutcome } from './outcome.js';
import type { DrainPhase } from './events.js';
import type { ServiceRecord } from './records.js';

export const DRAIN_MACHINE_VERSION = 2;

export type DrainMachineEvent = RunMachineEvent;
export type DrainEmitted = ProgressEmitted;

export const drainActorPlaceholders = placeholders<DrainActorIO>('drainMachine', ['resolveHost', 'poolTick', 'pause', 'disableService', 'preflight', 'restoreService', 'verifyEmpty']);

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
    draft(ctx, { type: 'instance-classified', serverId: c.serverId, name: c.name, class: c.class, reason: c.reason, blocking: c.blocking, remedy: c.remedy, projectId: c.projectId, projectName: c.projectName ?? null }),
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

/**
 * A drain stops when its source's nova-compute has been down this long, on at least SOURCE_DOWN_POLLS
 * polls in a row. Nova already calls a service down only after service_down_time (60 s by default)
 * without a heartbeat: this is the time a restart gets to come back.
 */
export const SOURCE_DOWN_GRACE_MS = 60_000;
export const SOURCE_DOWN_POLLS = 3;

/** One poll into the context, and whether the source is up, with an event when that changes. */
function drainTickStep(ctx: DrainContext, out: PoolTickOutput): Step {
  const step = tickStep(ctx, out);
  const svc = out.service;
  if (!svc) return step;
  if (ctx.resumed) step.patch.resumed = false;
  const down = svc.state === 'down';
  const was = ctx.sourceDown;
  const sourceDown = down ? { polls: was.polls + 1, since: was.since ?? new Date(out.at).toISOString() } : { polls: 0, since: null };
  const emits = [...step.emits];
  if (down && was.polls === 0) emits.push(draft(ctx, { type: 'source-down', since: sourceDown.since!, graceMs: SOURCE_DOWN_GRACE_MS }));
  if (!down && was.polls > 0) emits.push(draft(ctx, { type: 'source-up', downForPolls: was.polls }));
  return { patch: { ...step.patch, sourceDown }, emits };
}

/** The ownership decision on the service as last read. */
function decisionOf(ctx: DrainContext): DrainDecision {
  return drainDecision(readService(ctx.ref!.service, ctx.runId, ctx.markerRun), ctx.adopt, ctx.host);
}

/** Nova shows the service as this run holds it (ownership.ts holdsService). */
function holds(ctx: DrainContext, svc: ServiceRecord | null): boolean {
  const { ownership, adoptedRunId } = ctx.service;
  return holdsService(svc, { ownership, runId: ctx.runId, adoptedRunId, reason: (ctx.service.after ?? ctx.service.before)?.disabledReason ?? null });
}

/** What Nova shows, in words, when it is not what this run left. */
function lostReason(ctx: DrainContext, svc: ServiceRecord | null, when: string): string {
  if (!svc) return `${when}, Nova lists no nova-compute service for ${ctx.host}`;
  if (svc.status === 'enabled') return `${when}, Nova shows nova-compute on ${ctx.host} enabled (another actor enabled it: an undrain, a person); new instances may land on it`;
  const marker = parseMarker(svc.disabledReason);
  return `${when}, Nova shows nova-compute on ${ctx.host} disabled by ${marker ? `hostmaint run ${marker.runId}` : 'someone else'} ("${svc.disabledReason ?? ''}"), not by this run`;
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

type EnqueueAction<P> = RunEnqueueAction<DrainContext, P>;

export const drainMachine = setup({
  types: {
    context: {} as DrainContext,
    input: {} as DrainMachineInput,
    events: {} as DrainMachineEvent,
    emitted: {} as DrainEmitted,
    output: {} as DrainContext,
  },
  actors: drainActorPlaceholders,
  guards: {
    ...pollingGuards,
    unknownHost: (_, p: { out: ResolveOutput }) => !p.out.found || p.out.ref === null,
    planOnly: ({ context }) => context.options.dryRun,
    refusesOwnership: ({ context }) => decisionOf(context).action === 'refuse',
    serviceChanged: (_, p: { out: DisableOutput }) => p.out.kind === 'changed',
    holdsService: ({ context }, p: { service: ServiceRecord | null }) => holds(context, p.service),
    preflightPassed: (_, p: { report: PreflightReport }) => p.report.ok,
    plannedOk: ({ context }, p: { report: PreflightReport }) => context.options.dryRun && p.report.ok,
    lostService: ({ context }, p: { tick: PoolTickOutput }) => p.tick.service !== null && !holds(context, p.tick.service),
    lostVerification: ({ context }, p: { v: Verification }) => p.v.service !== null && !holds(context, p.v.service),
    refusedPreflightPending: ({ context }) => context.pendingOutcome === 'preflight-refused',
    sourceDownTooLong: ({ context }, p: { tick: PoolTickOutput }) =>
      p.tick.service?.state === 'down' &&
      context.sourceDown.since !== null &&
      context.sourceDown.polls + 1 >= SOURCE_DOWN_POLLS &&
      p.tick.at - Date.parse(context.sourceDown.since) >= SOURCE_DOWN_GRACE_MS,
    empty: (_, p: { v: Verification }) => p.v.empty,
  },
  actions: {
    emitStarted: emit(({ context }) => draft(context, { type: 'run-started', command: 'drain', dryRun: context.options.dryRun })),
    emitPhase: emit(({ context }, p: { phase: DrainPhase }) => phaseDraft(context, p.phase)),
    emitFinished: emit(({ context }) => finishedDraft(context, describeDrain)),
    applyStep: enqueueActions(({ enqueue }, step: Step) => {
      enqueue.assign(step.patch);
      for (const e of step.emits) enqueue.emit(e);
    }) as EnqueueAction<Step>,
    fail: assign((_, p: { error: unknown }) => errorPatch(p.error)),
    failPolls: assign((_, p: { error: unknown }) => errorPatch(p.error)),
    end: assign({ outcome: (_, p: { outcome: DrainOutcome }) => p.outcome }),
    interrupt: assign({ outcome: 'interrupted' as DrainOutcome, error: ({ event }) => interruptedError(event.reason) }),
    refuseUnknownHost: assign(({ context }, p: { out: ResolveOutput }) => unknownHostPatch(context, p.out)),
    /** A plan reads the service, and changes nothing. */
    resolvedForPlan: assign(({ context }, p: { out: ResolveOutput }) => ({
      ref: p.out.ref,
      service: { ...context.service, before: p.out.ref!.service, after: p.out.ref!.service },
      warnings: [...context.warnings, ...p.out.warnings],
    })),
    resolved: assign(({ context }, p: { out: ResolveOutput }) => ({
      ref: p.out.ref,
      markerRun: p.out.markerRun,
      serviceFresh: true,
      service: { ...context.service, before: p.out.ref!.service },
      warnings: [...context.warnings, ...p.out.warnings],
    })),
    /** Another actor changed the service: say what Nova shows, and stop without touching it. */
    lose: assign({
      outcome: 'ownership-lost' as DrainOutcome,
      stopReason: ({ context }, p: { service: ServiceRecord | null; when: string }) => lostReason(context, p.service, p.when),
      service: ({ context }, p: { service: ServiceRecord | null; when: string }) => ({ ...context.service, after: p.service }),
    }),
    /** The decision on the service as read: record whose disable it is (and will be). */
    decide: enqueueActions(({ context, enqueue }) => {
      const d = decisionOf(context);
      if (d.action === 'refuse') {
        enqueue.assign({ outcome: 'host-busy' as DrainOutcome, error: { kind: 'host-busy', message: d.message, status: null, requestId: null, hint: d.hint } });
        return;
      }
      const ownership = d.action === 'disable' ? 'ours' : d.ownership;
      enqueue.assign({
        service: { ...context.service, ownership, adoptedRunId: d.action === 'keep' ? d.adoptedRunId : null },
        warnings: d.action === 'keep' && d.note ? [...context.warnings, d.note] : context.warnings,
      });
    }) as EnqueueAction<undefined>,
  },
}).createMachine({
  id: 'drain',
  context: ({ input }) => ({
    runId: input.runId,
    host: input.host,
    options: input.options,
    ref: null,
    suggestions: [],
    adopt: input.adopt ?? false,
    markerRun: null,
    serviceFresh: false,
    resumed: false,
    service: { before: null, after: null, ownership: 'none', adoptedRunId: null, restored: false },
    preflight: null,
    pool: [],
    pollErrors: 0,
    ticks: 0,
    verification: null,
    sourceDown: { polls: 0, since: null },
    stopReason: null,
    pendingOutcome: null,
    outcome: null,
    error: null,
    warnings: [],
  }),
  ...RUN_MACHINE_TOP,
  output: ({ context }) => context,
  states: {
    resolving: resolvingState([
      { guard: 'planOnly', target: 'preflight', actions: { type: 'resolvedForPlan', params: resolvedOut } },
      { target: 'checkingOwnership', actions: { type: 'resolved', params: resolvedOut } },
    ]),

    checkingOwnership: {
      always: [
        { guard: 'refusesOwnership', target: 'refused', actions: 'decide' },
        { target: 'disablingService', actions: 'decide' },
      ],
    },

    disablingService: {
      entry: { type: 'emitPhase', params: { phase: 'disablingService' } },
      invoke: {
        src: 'disableService',
        input: ({ context }) => ({
          runId: context.runId,
          reason: context.options.reason,
          service: context.ref!.service,
          fresh: context.serviceFresh,
          intent: decisionOf(context).action === 'disable' ? 'disable' : 'keep',
        }),
        onDone: [
          {
            guard: { type: 'serviceChanged', params: ({ event }) => ({ out: event.output }) },
            target: 'checkingOwnership',
            actions: assign(({ context, event }) => {
              const out = event.output as Extract<DisableOutput, { kind: 'changed' }>;
              return { ref: { ...context.ref!, service: out.service }, markerRun: out.markerRun, serviceFresh: true, service: { ...context.service, before: out.service } };
            }),
          },
          {
            guard: { type: 'holdsService', params: ({ event }) => ({ service: event.output.kind === 'done' ? event.output.after : null }) },
            target: 'preflight',
            actions: enqueueActions(({ context, event, enqueue }) => {
              const out = event.output as Extract<DisableOutput, { kind: 'done' }>;
              const own = context.service.ownership;
              enqueue.assign({
                serviceFresh: false,
                service: { ...context.service, before: out.before, after: out.after },
                warnings:
                  own === 'foreign' ? [...context.warnings, `the service was already disabled by ${identifyDisabler(out.before.disabledReason).description}: draining anyway; undrain will not enable it`] : context.warnings,
              });
              const action = own === 'ours' ? 'disabled' : own === 'adopted' ? 'adopted' : 'foreign';
              const d = decisionOf({ ...context, ref: { ...context.ref!, service: out.before } });
              const note = own === 'foreign' ? identifyDisabler(out.before.disabledReason).description : d.action === 'keep' ? d.note : null;
              enqueue.emit(draft(context, { type: 'service-changed', action, status: out.after.status, reason: out.after.disabledReason, note }));
            }),
          },
          {
            target: 'lost',
            actions: { type: 'lose', params: ({ event }) => ({ service: event.output.kind === 'done' ? event.output.after : null, when: 'right after this run disabled it' }) },
          },
        ],
        onError: failTo('restoringService'),
      },
    },

    preflight: {
      entry: { type: 'emitPhase', params: { phase: 'preflight' } },
      invoke: {
        src: 'preflight',
        input: ({ context }) => ({ runId: context.runId, ref: context.ref!, options: context.options }),
        onDone: [
          {
            guard: { type: 'plannedOk', params: ({ event }) => ({ report: event.output }) },
            target: 'planned',
            actions: [{ type: 'applyStep', params: ({ context, event }) => preflightStep(context, event.output) }, { type: 'end', params: { outcome: 'planned' } }],
          },
          {
            guard: 'planOnly',
            target: 'refused',
            actions: [{ type: 'applyStep', params: ({ context, event }) => preflightStep(context, event.output) }, { type: 'end', params: { outcome: 'preflight-refused' } }],
          },
          {
            guard: { type: 'preflightPassed', params: ({ event }) => ({ report: event.output }) },
            target: 'migrating',
            actions: [{ type: 'applyStep', params: ({ context, event }) => preflightStep(context, event.output) }, assign({ pool: ({ context, event }) => buildPool(event.output, context.options, context.host) })],
          },
          {
            target: 'restoringService',
            actions: [{ type: 'applyStep', params: ({ context, event }) => preflightStep(context, event.output) }, assign({ pendingOutcome: 'preflight-refused' as DrainOutcome })],
          },
        ],
        onError: [
          { guard: 'planOnly', ...failTo('failed') },
          failTo('restoringService'),
        ],
      },
    },

    migrating: {
      entry: { type: 'emitPhase', params: { phase: 'migrating' } },
      ...pollingStates({
        settings: (ctx: DrainContext) => poolSettings(ctx.options, 'waiting'),
        watch: (ctx: DrainContext) => ({ service: ctx.service.after ?? ctx.ref!.service, reason: (ctx.service.after ?? ctx.ref!.service).disabledReason }),
        step: drainTickStep,
        done: '#drain.verifyingEmpty',
        failed: '#drain.restoringService',
        before: [
          {
            guard: { type: 'lostService', params: ({ event }: { event: { output: PoolTickOutput } }) => ({ tick: event.output }) },
            target: '#drain.lost',
            actions: { type: 'lose', params: ({ event }: { event: { output: PoolTickOutput } }) => ({ service: event.output.service, when: 'during the drain' }) },
          },
          {
            guard: { type: 'sourceDownTooLong', params: ({ event }: { event: { output: PoolTickOutput } }) => ({ tick: event.output }) },
            target: '#drain.verifyingEmpty',
            actions: [
              { type: 'applyStep', params: ({ context, event }: { context: DrainContext; event: { output: PoolTickOutput } }) => drainTickStep(context, event.output) },
              assign({ stopReason: ({ context }: { context: DrainContext }) => `the source's nova-compute has been down since ${context.sourceDown.since} (${context.sourceDown.polls} polls, over ${SOURCE_DOWN_GRACE_MS / 1000} s): no more migrations were requested` }),
            ],
          },
        ],
      }),
    },

    verifyingEmpty: {
      entry: { type: 'emitPhase', params: { phase: 'verifyingEmpty' } },
      invoke: {
        src: 'verifyEmpty',
        input: ({ context }) => ({ ref: context.ref!, notes: notesFor(context) }),
        onDone: [
          {
            guard: { type: 'lostVerification', params: ({ event }) => ({ v: event.output }) },
            target: 'lost',
            actions: [
              { type: 'applyStep', params: ({ context, event }) => verificationStep(context, event.output) },
              { type: 'lose', params: ({ event }) => ({ service: event.output.service, when: 'at the end of the drain' }) },
            ],
          },
          {
            guard: { type: 'empty', params: ({ event }) => ({ v: event.output }) },
            target: 'handedOver',
            actions: [{ type: 'applyStep', params: ({ context, event }) => verificationStep(context, event.output) }, { type: 'end', params: { outcome: 'drained' } }],
          },
          { target: 'partial', actions: [{ type: 'applyStep', params: ({ context, event }) => verificationStep(context, event.output) }, { type: 'end', params: { outcome: 'partial' } }] },
        ],
        onError: failTo('restoringService'),
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
          {
            guard: 'refusedPreflightPending',
            target: 'refused',
            actions: [{ type: 'applyStep', params: ({ context, event }) => restoreStep(context, event.output) }, { type: 'end', params: { outcome: 'preflight-refused' } }],
          },
          { target: 'failed', actions: { type: 'applyStep', params: ({ context, event }) => restoreStep(context, event.output) } },
        ],
        onError: [
          {
            guard: 'refusedPreflightPending',
            target: 'refused',
            actions: [{ type: 'end', params: { outcome: 'preflight-refused' } }, assign({ warnings: ({ context, event }) => [...context.warnings, `could not put the service back: ${errorOf(event.error).message}`] })],
          },
          { target: 'failed', actions: assign({ warnings: ({ context, event }) => [...context.warnings, `could not put the service back: ${errorOf(event.error).message}`] }) },
        ],
      },
    },

    handedOver: finalState(),
    partial: finalState(),
    planned: finalState(),
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
