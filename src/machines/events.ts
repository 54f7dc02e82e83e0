/** The progress events (NDJSON lines, docs/events.md): every event carries runId, host and time. */
import type { InstanceClass } from './plan.js';
import type { DrainOutcome, UndrainOutcome } from './outcome.js';
import type { Leftover, MoveMethod } from './records.js';
import type { TimeoutPolicy } from './options.js';

interface EventEnvelope {
  runId: string;
  host: string;
  /** ISO time. */
  time: string;
}

export type DrainPhase =
  | 'resolving'
  | 'disablingService'
  | 'preflight'
  | 'migrating'
  | 'verifyingEmpty'
  | 'restoringService'
  | 'waitingForUp'
  | 'enablingService'
  | 'selectingReturns'
  | 'returning'
  | 'done';

export type DrainEventBody =
  | { type: 'run-started'; command: 'drain' | 'undrain'; dryRun: boolean }
  | { type: 'phase-changed'; phase: DrainPhase }
  | { type: 'service-changed'; action: 'disabled' | 'adopted' | 'foreign' | 'enabled' | 'restored' | 'left'; status: 'enabled' | 'disabled'; reason: string | null; note: string | null }
  | { type: 'instance-classified'; serverId: string; name: string; class: InstanceClass; reason: string; blocking: boolean; remedy: string | null; projectId?: string | null; projectName?: string | null }
  | { type: 'preflight-finished'; ok: boolean; blocking: number; warnings: number; planned: number; unplaced: number }
  | { type: 'migration-queued'; serverId: string; name: string; attempt: number; migrationId: number | null; status: string; to?: string | null }
  | { type: 'instance-waiting'; serverId: string; name: string; waitingFor: 'source-slot' | 'destination' | 'group' | 'source-down' | 'total'; detail: string }
  | { type: 'migration-started'; serverId: string; name: string; method: MoveMethod; attempt: number; target: string | null; adopted: boolean }
  | {
      type: 'migration-progress';
      serverId: string;
      name: string;
      migrationId: number | null;
      status: string;
      memoryTotalBytes: number | null;
      memoryProcessedBytes: number | null;
      memoryRemainingBytes: number | null;
      percent: number | null;
      stalledForMs: number;
      /** The migration's destination host, once Nova has chosen it. */
      to?: string | null;
    }
  | { type: 'migration-stalled'; serverId: string; name: string; migrationId: number | null; action: TimeoutPolicy; stalledForMs: number; runningForMs: number; reason: string; step?: number; steps?: number }
  | { type: 'migration-completed'; serverId: string; name: string; method: MoveMethod; from: string; to: string | null; attempt: number; durationMs: number | null }
  | { type: 'migration-retried'; serverId: string; name: string; attempt: number; error: string }
  | { type: 'migration-fallback'; serverId: string; name: string; to: 'cold' | 'stop'; afterAttempts: number; error: string }
  | { type: 'migration-failed'; serverId: string; name: string; attempts: number; error: string }
  | { type: 'verification'; empty: boolean; leftovers: Leftover[] }
  /** The source's nova-compute reports down (its heartbeat stopped): no new migration is requested; down for `graceMs` the drain stops. */
  | { type: 'source-down'; since: string; graceMs: number }
  | { type: 'source-up'; downForPolls: number }
  | { type: 'run-finished'; outcome: DrainOutcome | UndrainOutcome; exitCode: number; message: string }
  // workflow runs (hostmaint run): a step's start and end, an approval gate, the run's end
  | { type: 'step-started'; workflow: string; step: string; stepType: string; index: number }
  | { type: 'step-waiting'; workflow: string; step: string; stepType: string; index: number; waitingFor: string; deadline: string }
  | { type: 'step-finished'; workflow: string; step: string; stepType: string; index: number; status: 'ok' | 'failed' | 'waiting'; exitCode: number; message: string }
  | { type: 'approval-required'; workflow: string; step: string; message: string }
  | { type: 'workflow-finished'; workflow: string; outcome: string; exitCode: number; message: string }
  // rolling runs over several hosts (host '*' for the rolling run's own events)
  | { type: 'host-started'; childRunId: string; wave: number }
  | { type: 'host-finished'; status: string; exitCode: number | null; message: string | null }
  | { type: 'rolling-finished'; outcome: string; exitCode: number; message: string };

type WithEnvelope<T> = T extends unknown ? T & EventEnvelope : never;
type WithDraftEnvelope<T> = T extends unknown ? T & Omit<EventEnvelope, 'time'> & { time?: string } : never;

/** A progress event (NDJSON line): every event carries runId, host and time. */
export type DrainEvent = WithEnvelope<DrainEventBody>;
/** An event before it is stamped with the time (the machine has no clock). */
export type DrainEventDraft = WithDraftEnvelope<DrainEventBody>;
export type DrainEventType = DrainEvent['type'];
