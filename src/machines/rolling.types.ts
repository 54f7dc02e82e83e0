/**
 * Types of the rolling machine (src/machines/rolling.machine.ts): one
 * maintenance run over several hosts, in waves of `maxParallel`. Everything in
 * the context is plain JSON (null, never undefined) so a persisted snapshot
 * survives a JSON round trip.
 */

/**
 * pending: not reached yet; running: its wave is in flight; done / failed: its
 * child run ended so; waiting: its child run waits at an approval gate;
 * skipped: the gate said it cannot be done (capacity) and the run went on
 * without it (or stopped because of it); not-started: the rolling run stopped
 * before reaching it.
 */
export type RollingHostStatus = 'pending' | 'running' | 'done' | 'failed' | 'skipped' | 'waiting' | 'not-started';

export interface RollingHost {
  host: string;
  /** `${runId}-h${index + 1}`: deterministic, so a resumed wave resumes the same child runs. */
  childRunId: string;
  status: RollingHostStatus;
  exitCode: number | null;
  message: string | null;
}

export type RollingOutcome = 'completed' | 'failed' | 'waiting-approval' | 'interrupted' | 'error';

export interface RollingMachineInput {
  runId: string;
  /** In the order to run them (already resolved, de-duplicated and ordered). */
  hosts: string[];
  maxParallel: number;
  continueOnFailure: boolean;
}

export interface RollingContext {
  runId: string;
  hosts: RollingHost[];
  maxParallel: number;
  continueOnFailure: boolean;
  /** 1-based number of the wave being gated or run (waves are fixed chunks of maxParallel hosts); 0 before the first. */
  wave: number;
  outcome: RollingOutcome | null;
  exitCode: number | null;
  /** The text of an actor's error (outcome 'error'), or the gate's refusal. */
  error: string | null;
}

// ------------------------------------------------------------------ actors

export interface GateInput {
  /** Hosts of the last wave that ran which ended done: they must be back (nova-compute up and enabled). Empty before the first wave. */
  previous: string[];
  /** The hosts of the next wave (capacity is checked for each). */
  next: string[];
}

export interface GateSkip {
  host: string;
  exitCode: number;
  message: string;
}

export interface GateOutput {
  /** false: the previous hosts are not back, or capacity is short for the wave as a whole: the run stops here. */
  ok: boolean;
  exitCode: number;
  message: string;
  /** Hosts of the next wave that cannot be done (capacity): skipped with continueOnFailure, else the run stops. */
  skip?: GateSkip[];
}

export interface WaveInput {
  hosts: Array<{ host: string; childRunId: string }>;
}

export interface WaveHostResult {
  host: string;
  status: 'done' | 'failed' | 'waiting';
  exitCode: number;
  message: string;
}

export interface WaveOutput {
  results: WaveHostResult[];
}

// ------------------------------------------------------------------ events

/** A rolling progress event, without its time (the runner stamps it). `host` is '*' for rolling-level events. */
export type RollingEvent =
  | { type: 'host-started'; runId: string; host: string; childRunId: string; wave: number }
  | { type: 'host-finished'; runId: string; host: string; status: 'done' | 'failed' | 'waiting' | 'skipped'; exitCode: number; message: string }
  | { type: 'rolling-finished'; runId: string; host: '*'; outcome: RollingOutcome; exitCode: number; message: string };

/** What the machine emits (listen with actor.on('progress', ...)). */
export interface RollingEmitted {
  type: 'progress';
  event: RollingEvent;
}
