/** What a drain and an undrain report when they end (the CLI prints it, `-f json` is it). */
import type { InstanceClass, InstancePlan } from './plan.js';
import type { DrainOutcome, ErrorInfo, UndrainOutcome } from './outcome.js';
import type { Leftover, ManifestEntry, MoveMethod, ServiceRecord } from './records.js';
import type { PreflightReport, ServiceOwnership, Verification } from './actor-io.js';
import type { ResolvedDrainOptions } from './options.js';

export type InstanceResultStatus =
  /** Moved to another host and back in its original state. */
  | 'moved'
  /** Shelve-offloaded: no longer on any host. */
  | 'offloaded'
  | 'failed'
  /** Blocked and left there (skipBlocked). */
  | 'skipped'
  /** Left there by policy (stopped=leave / shelved=leave). */
  | 'left'
  /** Needed nothing (SHELVED_OFFLOADED) or vanished during the run (deleted). */
  | 'nothing-to-do'
  /** Not reached (refused preflight, plan mode, interrupted). */
  | 'not-moved';

export interface InstanceOutcome {
  serverId: string;
  name: string;
  class: InstanceClass | 'return';
  method: MoveMethod | null;
  status: InstanceResultStatus;
  from: string;
  to: string | null;
  plannedTarget: string | null;
  attempts: number;
  migrationIds: number[];
  adopted: boolean;
  errors: string[];
  /** The --on-timeout steps taken ("attempt 1: force-complete"), and a fallback to cold / stop, in order. */
  escalations: string[];
  reason: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
}

export interface PhaseTiming {
  phase: string;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
}

export interface RunTimings {
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  phases: PhaseTiming[];
}

export interface DrainResult {
  command: 'drain';
  outcome: DrainOutcome;
  /** A resumed run found, before it acted, that the service was changed meanwhile (ownership-lost): nothing of it went on. */
  stale?: boolean;
  exitCode: number;
  /** One sentence for humans. */
  message: string;
  runId: string;
  host: string;
  dryRun: boolean;
  service: {
    id: string | null;
    zone: string | null;
    before: ServiceRecord | null;
    after: ServiceRecord | null;
    ownership: ServiceOwnership;
    adoptedRunId: string | null;
    /** Put back to its prior state after a refused preflight / failure. */
    restored: boolean;
  };
  hypervisor: { id: string; hostname: string } | null;
  provider: { uuid: string; name: string } | null;
  preflight: PreflightReport | null;
  plan: InstancePlan[];
  instances: InstanceOutcome[];
  manifest: ManifestEntry[];
  leftovers: Leftover[];
  verification: Verification | null;
  suggestions: string[];
  timings: RunTimings;
  warnings: string[];
  error: ErrorInfo | null;
  options: ResolvedDrainOptions;
}

export interface UndrainResult {
  command: 'undrain';
  outcome: UndrainOutcome;
  exitCode: number;
  message: string;
  runId: string;
  host: string;
  service: {
    id: string | null;
    before: ServiceRecord | null;
    after: ServiceRecord | null;
    /** Who had disabled it. */
    disabledBy: string | null;
    forced: boolean;
  };
  returns: InstanceOutcome[];
  /** Manifest entries not moved back, with why (moved since, state changed, gone). */
  notReturned: Array<{ serverId: string; name: string | null; reason: string; stranded?: boolean }>;
  suggestions: string[];
  timings: RunTimings;
  warnings: string[];
  error: ErrorInfo | null;
}
