/** Pieces both workflow machines use: placeholder actors, progress-event drafts, the poll-failure error. */
import type { ErrorInfo } from './outcome.js';
import type { DrainEventBody, DrainEventDraft } from './events.js';

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
