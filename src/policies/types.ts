/**
 * The effective policies of a drain, an undrain, a workflow or a rolling run,
 * in model terms (durations in ms), and what resolving them can report.
 */
import type { InstanceOrder, InstancePolicy, ShelvedPolicy, StoppedPolicy, TimeoutLadder } from '../machines/options.js';

export type HostOrder = 'given' | 'emptiest';

/** Effective policies (defaults <- file <- flags), durations in ms. */
export interface WorkflowPolicies {
  reason: string;
  concurrency: number;
  retries: number;
  migrationTimeoutMs: number;
  stallTimeoutMs: number;
  onTimeout: TimeoutLadder;
  pollIntervalMs: number;
  waitTimeoutMs: number;
  stopped: StoppedPolicy;
  shelved: ShelvedPolicy;
  skipBlocked: boolean;
  instanceOrder: InstanceOrder;
  /** Bound of the whole drain (null: none). */
  deadlineMs: number | null;
  /** At most this many moves in flight to one destination (null: no limit). */
  maxIncoming: number | null;
  /** The owners' hostmaint:policy values the operator allows. */
  instancePolicies: InstancePolicy[];
  /** After a failed live migration, fall back to cold / stop where the instance's policy allows it. */
  fallback: boolean;
  targets: string[] | null;
  aggregate: string | null;
  availabilityZone: string | null;
  pinToPlan: boolean;
  allowUnreachableTargets: boolean;
  probePort: number | null;
  probeTimeoutMs: number;
  /** Before enabling: wait for the service to report up (null: do not wait). */
  waitUpTimeoutMs: number | null;
  /** Rolling runs over several hosts. */
  maxParallel: number;
  /** Rolling runs: at most this many moves in flight across all the hosts being worked on (null: no limit). */
  maxTotal: number | null;
  continueOnFailure: boolean;
  order: HostOrder;
}

/** One problem in a workflow file: where, what, and what was expected. */
export interface WorkflowProblem {
  /** JSON pointer into the document ("/steps/2/timeout"), "" for the whole document. */
  path: string;
  /** 1-based line and column in the file when known. */
  line: number | null;
  column: number | null;
  message: string;
  /** What would be valid there ("one of: stop, continue, re-enable"). */
  expected: string | null;
  severity: 'error' | 'warning';
}

/** Overrides from the command line, in file terms (kebab-case keys, raw values as given). */
export type PolicyOverrides = Partial<Record<string, unknown>>;
