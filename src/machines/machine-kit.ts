/** Pieces both workflow machines use: placeholder actors, progress-event drafts, the poll-failure error. */
import { fromPromise, type ActionFunction, type PromiseActorLogic } from 'xstate';
import type { PauseInput, PoolTickInput, PoolTickOutput, ResolveOutput } from './actor-io.js';
import { toErrorInfo, type ErrorInfo } from './outcome.js';
import type { DrainEventBody, DrainEventDraft, DrainPhase } from './events.js';
import { exitCodeFor } from './exit-codes.js';
import type { DrainOutcome, UndrainOutcome } from './outcome.js';

/** What a machine emits: a progress event, stamped with the time by the library entry. */
export interface ProgressEmitted {
  type: 'progress';
  event: DrainEventDraft;
}

/** A placeholder actor implementation: the real ones come through `machine.provide({ actors })`. */
export function notProvided(machine: string, name: string): () => Promise<never> {
  return async () => {
    throw new Error(`actor '${name}' is not provided: use ${machine}.provide({ actors })`);
  };
}

export function draft(ctx: { runId: string; host: string }, body: DrainEventBody): ProgressEmitted {
  return { type: 'progress', event: { ...body, runId: ctx.runId, host: ctx.host } as DrainEventDraft };
}

/** The run gives up after this many failed polls in a row. */
export function pollsFailed(maxPollErrors: number, last: string | null): ErrorInfo {
  return { kind: 'network', message: `${maxPollErrors} polls in a row failed; last: ${last}`, status: null, requestId: null, hint: null };
}

/**
 * The entry of every final state of a drain or undrain: the 'done' phase, then run-finished (the
 * machine's own `emitPhase` and `emitFinished` actions).
 */
export function finalState() {
  return { type: 'final' as const, entry: [{ type: 'emitPhase' as const, params: { phase: 'done' as const } }, 'emitFinished' as const] };
}

/** An actor's error ends the step at `target`, the error kept (the machine's `fail` action). */
export function failTo<T extends string>(target: T) {
  return { target, actions: { type: 'fail' as const, params: ({ event }: { event: { error: unknown } }) => ({ error: event.error }) } };
}


/** The error an interrupted run ends with. */
export function interruptedError(reason: string | undefined): ErrorInfo {
  return { kind: 'interrupted', message: reason ?? 'interrupted', status: null, requestId: null, hint: null };
}

/** What the drain and undrain machines share at their top: they start by resolving the host, and end their run on `interrupt`. */
export const RUN_MACHINE_TOP = {
  initial: 'resolving',
  on: { interrupt: { target: '.interrupted', actions: 'interrupt' } },
} as const;

/** The params of an action given the resolveHost actor's output. */
export const resolvedOut = ({ event }: { event: { output: ResolveOutput } }) => ({ out: event.output });

/**
 * The state that resolves the host (the `resolveHost` actor): an unknown host is refused (the
 * machine's `refuseUnknownHost` action, given `{ out }`), an actor error fails the run; `found` says where a known
 * host goes. Typed by the machine it is spread into, as pollingStates.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function resolvingState(found: ReadonlyArray<Record<string, unknown>>): any {
  return {
    entry: ['emitStarted', { type: 'emitPhase', params: { phase: 'resolving' } }],
    invoke: {
      src: 'resolveHost',
      input: ({ context }: { context: { host: string } }) => ({ host: context.host }),
      onDone: [
        { guard: { type: 'unknownHost', params: resolvedOut }, target: 'refused', actions: { type: 'refuseUnknownHost', params: resolvedOut } },
        ...found,
      ],
      onError: failTo('failed'),
    },
  };
}

/** What the `fail` and `failPolls` actions assign: the error, as data. */
export function errorPatch(error: unknown): { error: ErrorInfo } {
  return { error: toErrorInfo(error) };
}

/** What the `refuseUnknownHost` action assigns: the close names Nova has, the resolver's warnings, the outcome. */
export function unknownHostPatch(ctx: { warnings: string[] }, out: ResolveOutput) {
  return { suggestions: out.suggestions, warnings: [...ctx.warnings, ...out.warnings], outcome: 'unknown-host' as const };
}

/** The `emitPhase` action's event. */
export function phaseDraft(ctx: { runId: string; host: string }, phase: DrainPhase): ProgressEmitted {
  return draft(ctx, { type: 'phase-changed', phase });
}

/** The `emitFinished` action's event: the outcome (error when none), its exit code, and the machine's words for it. */
export function finishedDraft<C extends { runId: string; host: string; outcome: O | null }, O extends DrainOutcome | UndrainOutcome>(
  ctx: C,
  describe: (ctx: C, outcome: O) => string,
): ProgressEmitted {
  const outcome = ctx.outcome ?? ('error' as O);
  return draft(ctx, { type: 'run-finished', outcome, exitCode: exitCodeFor(outcome), message: describe(ctx, outcome) });
}

/** The event both run machines take from outside: stop now (Ctrl-C, SIGTERM, a runbook's timeout). */
export type RunMachineEvent = { type: 'interrupt'; reason?: string };

/**
 * An enqueueActions action, typed for a run machine with context C: inside setup() xstate cannot
 * infer the guard and actor parameters of enqueueActions once the machine has named guards, so its
 * type is given here.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type EnqueueAction<C extends object, P> = ActionFunction<C, RunMachineEvent, RunMachineEvent, P, any, any, any, never, ProgressEmitted>;

/** Placeholder actors for the names given, typed by a map of name -> [input, output]. */
export function placeholders<M extends Record<string, [unknown, unknown]>>(machine: string, names: ReadonlyArray<keyof M & string>) {
  return Object.fromEntries(names.map((n) => [n, fromPromise(notProvided(machine, n))])) as unknown as { [K in keyof M]: PromiseActorLogic<M[K][1], M[K][0]> };
}

