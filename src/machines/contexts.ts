/** The machines' inputs and contexts: plain JSON, so a persisted snapshot survives a JSON round trip. */
import type { DrainOutcome, ErrorInfo, UndrainOutcome } from './outcome.js';
import type { HostRef, InstanceRun, PreflightReport, ServiceOwnership, Verification } from './actor-io.js';
import type { ServiceRecord } from './records.js';
import type { ResolvedDrainOptions, ResolvedUndrainOptions } from './options.js';

export interface DrainMachineInput {
  runId: string;
  host: string;
  options: ResolvedDrainOptions;
}

export interface DrainContext {
  runId: string;
  host: string;
  options: ResolvedDrainOptions;
  ref: HostRef | null;
  suggestions: string[];
  service: {
    before: ServiceRecord | null;
    after: ServiceRecord | null;
    ownership: ServiceOwnership;
    adoptedRunId: string | null;
    restored: boolean;
  };
  preflight: PreflightReport | null;
  pool: InstanceRun[];
  pollErrors: number;
  ticks: number;
  verification: Verification | null;
  /** Where a restoringService leads. */
  pendingOutcome: DrainOutcome | null;
  outcome: DrainOutcome | null;
  error: ErrorInfo | null;
  warnings: string[];
}

export interface UndrainMachineInput {
  runId: string;
  host: string;
  options: ResolvedUndrainOptions;
}

export interface UndrainContext {
  runId: string;
  host: string;
  options: ResolvedUndrainOptions;
  ref: HostRef | null;
  suggestions: string[];
  before: ServiceRecord | null;
  after: ServiceRecord | null;
  disabledBy: string | null;
  forced: boolean;
  pool: InstanceRun[];
  notReturned: Array<{ serverId: string; name: string | null; reason: string }>;
  pollErrors: number;
  ticks: number;
  outcome: UndrainOutcome | null;
  message: string | null;
  error: ErrorInfo | null;
  warnings: string[];
}
