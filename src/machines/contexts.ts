/** The machines' inputs and contexts: plain JSON, so a persisted snapshot survives a JSON round trip. */
import type { DrainOutcome, ErrorInfo, UndrainOutcome } from './outcome.js';
import type { HostRef, InstanceRun, PreflightReport, ServiceOwnership, Verification } from './actor-io.js';
import type { ServiceRecord } from './records.js';
import type { ResolvedDrainOptions, ResolvedUndrainOptions } from './options.js';
import type { KnownRun } from './ownership.js';

export interface DrainMachineInput {
  runId: string;
  host: string;
  options: ResolvedDrainOptions;
  /** Carry on under another hostmaint run's marker (--adopt). */
  adopt?: boolean;
}

export interface DrainContext {
  runId: string;
  host: string;
  options: ResolvedDrainOptions;
  ref: HostRef | null;
  suggestions: string[];
  adopt: boolean;
  /** What this machine's saved runs know of the run the service's marker names. */
  markerRun: KnownRun | null;
  /** ref.service is the read the next decision may rest on (false once restored from a snapshot). */
  serviceFresh: boolean;
  /** Restored from a snapshot and not yet seen holding its service in this process. */
  resumed: boolean;
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
  /** Consecutive polls that found the source's nova-compute down, and when that was first seen (ISO). */
  sourceDown: { polls: number; since: string | null };
  /** Why the run stopped without finishing its own work: another actor changed the service, or the source went down. */
  stopReason: string | null;
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
  markerRun: KnownRun | null;
  before: ServiceRecord | null;
  after: ServiceRecord | null;
  disabledBy: string | null;
  forced: boolean;
  /** When the host was disabled (the marker's run start), for moving back what left it since. */
  since: string | null;
  pool: InstanceRun[];
  notReturned: Array<{ serverId: string; name: string | null; reason: string; stranded?: boolean }>;
  pollErrors: number;
  ticks: number;
  outcome: UndrainOutcome | null;
  message: string | null;
  error: ErrorInfo | null;
  warnings: string[];
}
