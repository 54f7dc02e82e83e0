/**
 * The migration pool's polling, one state factory for the drain's `migrating`
 * and the undrain's `returning`: poll (the `poolTick` actor), wait (the `pause`
 * actor on the injected clock), again, until every instance is done or failed,
 * or too many polls in a row failed. The guards and actions it names are the
 * machine's own, given in its setup(): `pollsExhausted`, `poolDone`,
 * `applyStep`, `failPolls`, plus whatever `before` adds (the drain watches its
 * service there).
 */
import type { PoolSettings, PoolTickInput, PoolTickOutput } from './actor-io.js';
import type { ErrorInfo } from './outcome.js';
import { pollsFailed, type ProgressEmitted } from './machine-kit.js';
import { poolFinished } from './pool.js';
import type { InstanceRun } from './actor-io.js';

/** What a machine's context needs for the pool to poll. */
export interface PollingContext {
  runId: string;
  host: string;
  pool: InstanceRun[];
  pollErrors: number;
  ticks: number;
  warnings: string[];
  options: { maxPollErrors: number; pollIntervalMs: number };
}

export interface PollStep<C> {
  patch: Partial<C>;
  emits: ProgressEmitted[];
}

/** One poll's result into the context: the pool as it is now, its events, the count of failed polls. */
export function tickStep<C extends PollingContext>(ctx: C, out: PoolTickOutput): PollStep<C> {
  const warnings = out.error !== null ? [...ctx.warnings, `poll failed (${ctx.pollErrors + 1}/${ctx.options.maxPollErrors}): ${out.error}`] : ctx.warnings;
  return {
    patch: { pool: out.instances, ticks: ctx.ticks + 1, pollErrors: out.error !== null ? ctx.pollErrors + 1 : 0, warnings } as Partial<C>,
    emits: out.events.map((e) => ({ type: 'progress' as const, event: e })),
  };
}

/** The guards the polling states name; a machine puts them in its setup(). */
export const pollingGuards = {
  pollsExhausted: (_: unknown, p: { tick: PoolTickOutput; pollErrors: number; maxPollErrors: number }) => p.tick.error !== null && p.pollErrors + 1 >= p.maxPollErrors,
  poolDone: (_: unknown, p: { tick: PoolTickOutput }) => p.tick.error === null && poolFinished(p.tick.instances),
};

/** The error a run ends with when its polls keep failing. */
export function pollsError(ctx: PollingContext, tick: PoolTickOutput): ErrorInfo {
  return pollsFailed(ctx.options.maxPollErrors, tick.error);
}

// The factory's transitions are typed by the machine they are spread into.
/* eslint-disable @typescript-eslint/no-explicit-any */
type Args = { context: any; event: any };

export interface PollingOptions {
  settings: (ctx: any) => PoolSettings;
  watch: (ctx: any) => PoolTickInput['watch'];
  /** A poll's result into the context (default tickStep). */
  step?: (ctx: any, out: PoolTickOutput) => PollStep<any>;
  /** Where the machine goes when every instance is done or failed. */
  done: string;
  /** Where it goes when too many polls failed, or the tick actor threw. */
  failed: string;
  /** Transitions tried first on every poll's result (e.g. the drain's service watch). */
  before?: ReadonlyArray<Record<string, unknown>>;
}

export function pollingStates(o: PollingOptions) {
  const step = o.step ?? tickStep;
  const apply = { type: 'applyStep', params: ({ context, event }: Args) => step(context, event.output) };
  return {
    initial: 'polling' as const,
    states: {
      polling: {
        invoke: {
          src: 'poolTick' as const,
          input: ({ context }: { context: any }): PoolTickInput => ({
            runId: context.runId,
            host: context.host,
            instances: context.pool,
            settings: o.settings(context),
            watch: o.watch(context),
          }),
          onDone: [
            ...(o.before ?? []),
            {
              guard: { type: 'pollsExhausted', params: ({ context, event }: Args) => ({ tick: event.output, pollErrors: context.pollErrors, maxPollErrors: context.options.maxPollErrors }) },
              target: o.failed,
              actions: [apply, { type: 'failPolls', params: ({ context, event }: Args) => ({ error: pollsError(context, event.output) }) }],
            },
            { guard: { type: 'poolDone', params: ({ event }: Args) => ({ tick: event.output }) }, target: o.done, actions: [apply] },
            { target: 'waiting', actions: [apply] },
          ],
          onError: { target: o.failed, actions: [{ type: 'failPolls', params: ({ event }: Args) => ({ error: event.error }) }] },
        },
      },
      waiting: {
        invoke: {
          src: 'pause' as const,
          input: ({ context }: { context: any }) => ({ ms: context.options.pollIntervalMs }),
          onDone: 'polling',
          onError: 'polling',
        },
      },
    },
  } as any;
}
