/**
 * The options of a drain and an undrain as the machines keep them (resolved:
 * every value set). Their defaults, bounds and help are the one policy table,
 * src/policies/.
 */
import type { ManifestEntry } from './records.js';

export type StoppedPolicy = 'cold' | 'leave' | 'fail';
export type ShelvedPolicy = 'offload' | 'leave' | 'fail';
export type TimeoutPolicy = 'abort' | 'force-complete' | 'wait';

/**
 * The on-timeout ladder: the actions tried in order on a stalled or overlong migration, each one
 * when the one before has not finished it within another stall timeout. One value is a ladder of
 * one (saved runs of older versions hold a string).
 */
export type TimeoutLadder = TimeoutPolicy[];

export function ladderOf(v: TimeoutPolicy | readonly TimeoutPolicy[] | null | undefined): TimeoutLadder {
  if (Array.isArray(v)) return v.length > 0 ? [...(v as TimeoutPolicy[])] : ['abort'];
  return typeof v === 'string' ? [v as TimeoutPolicy] : ['abort'];
}

/** How the migrations are moved and watched: the same options for a drain and an undrain's return. */
/** The order a drain asks its instances to move in (the pool's order). */
export type InstanceOrder = 'largest-first' | 'smallest-first' | 'listing' | 'priority';

/** How a running instance is moved: live, cold (Nova's migrate of a running server), or stop, cold-migrate and start again. */
export type InstancePolicy = 'live' | 'cold' | 'stop';
export const INSTANCE_POLICIES: readonly InstancePolicy[] = ['live', 'cold', 'stop'];

export interface MoveOptions {
  /** Extra attempts after a failed migration. Default 2. */
  retries?: number;
  /** No memory progress for this long: apply onTimeout. Default 300 000 (5 min). */
  stallTimeoutMs?: number;
  /** Running longer than this: apply onTimeout. Default 3 600 000 (1 h). */
  migrationTimeoutMs?: number;
  /** The ladder (or one action). Default ['abort'] (the instance stays on the source, then is retried). */
  onTimeout?: TimeoutPolicy | TimeoutPolicy[];
  /** Default 2000 (the policy table's). */
  pollIntervalMs?: number;
  /** A request with no trace (no migration record, no task state) after this long failed. Default 60 000. */
  requestGraceMs?: number;
  /** Consecutive failed polls before the run gives up. Default 5. */
  maxPollErrors?: number;
}

export interface DrainOptions extends MoveOptions {
  /** Operator's reason, stamped as `hostmaint:<run-id>: <reason>`. Default "maintenance". */
  reason?: string;
  /** Run id (letters, digits, . _ -). Default: generated from the clock. */
  runId?: string;
  /** Plan mode: resolve + preflight, read-only, then stop with the plan. Default false. */
  dryRun?: boolean;
  /**
   * Migration requests kept waiting in Nova ahead of the source compute's
   * slots, so the compute never idles between polls. Nova runs
   * max_concurrent_live_migrations per compute at once (the rest wait queued);
   * hostmaint keeps at least this many queued (a full round of the compute's
   * slots once it sees them), and never more than 16 in flight. Cold
   * migrations and offloads have no slot in Nova: at most this many at once.
   * Default 2.
   */
  concurrency?: number;
  /** SHUTOFF instances. Default 'cold'. */
  stopped?: StoppedPolicy;
  /** SHELVED (not offloaded) instances. Default 'offload'. */
  shelved?: ShelvedPolicy;
  /** Leave blocked instances on the host instead of refusing the preflight. Default false. */
  skipBlocked?: boolean;
  /**
   * The order the instances are asked to move in: 'largest-first' (default: the shortest
   * makespan measured, docs/performance.md), 'smallest-first' (the first instances gone soonest),
   * 'listing' (Nova's order), 'priority' (the server metadata `hostmaint:priority`, highest first).
   */
  instanceOrder?: InstanceOrder;
  /**
   * Bound the whole drain, from its start: after it no migration is started, those running get
   * onTimeout, and the drain ends with what has not left (partial). Null / 0 / undefined: none.
   */
  deadlineMs?: number | null;
  /**
   * At most this many moves in flight to one destination host; null / undefined: no limit. Setting
   * it pins each instance to its planned host (the limit needs to know where each one goes).
   */
  maxIncoming?: number | null;
  /**
   * The owners' `hostmaint:policy` server metadata values honoured (live, cold, stop). An owner's
   * value outside this list is ignored (the instance moves live, or by the first allowed). Default live, cold.
   */
  instancePolicies?: InstancePolicy[];
  /**
   * After a live migration failed for good, move an ACTIVE instance cold (or stop, cold-migrate,
   * start) when its policy allows it: the owner asked for nothing else and --instance-policies
   * allows cold (or stop). It costs the instance downtime. Default false.
   */
  fallback?: boolean;
  /** How long to wait for busy instances (task in progress, BUILD) before calling them blocked. Default 300 000. */
  waitTimeoutMs?: number;
  /** Only these target hosts; the planned one is requested (Nova still validates, never forced). */
  targets?: string[] | null;
  /** Only hosts of this aggregate (name or id). */
  aggregate?: string | null;
  /** Only hosts in this availability zone. */
  availabilityZone?: string | null;
  /** Request the planned host even without `targets`. Default false (Nova's scheduler chooses). */
  /** Carry on under another hostmaint run's marker on the service (--adopt); not kept in the options a run saves. */
  adopt?: boolean;
  pinToPlan?: boolean;
  /** TCP port probed on each target (e.g. 16509 libvirt, 22 ssh). Default null: no probe (a route check). */
  probePort?: number | null;
  /** Use targets this machine cannot reach (neither by name nor by host_ip) instead of refusing. Default false. */
  allowUnreachableTargets?: boolean;
  /** Default 3000. */
  probeTimeoutMs?: number;
  /** Admin may move locked instances. Default: the session's roles contain admin (true when unknown). */
  admin?: boolean;
}

/** The resolved move options (MoveOptions) both drain and undrain carry. */
export interface ResolvedMoveOptions {
  retries: number;
  stallTimeoutMs: number;
  migrationTimeoutMs: number;
  onTimeout: TimeoutLadder;
  pollIntervalMs: number;
  requestGraceMs: number;
  maxPollErrors: number;
}

export interface ResolvedDrainOptions extends ResolvedMoveOptions {
  reason: string;
  dryRun: boolean;
  concurrency: number;
  stopped: StoppedPolicy;
  shelved: ShelvedPolicy;
  skipBlocked: boolean;
  instanceOrder: InstanceOrder;
  deadlineMs: number | null;
  /** deadlineMs from the run's start, as a time (ms since the epoch); kept by a resumed run. */
  deadlineAt: number | null;
  maxIncoming: number | null;
  instancePolicies: InstancePolicy[];
  fallback: boolean;
  waitTimeoutMs: number;
  targets: string[] | null;
  aggregate: string | null;
  availabilityZone: string | null;
  pinToPlan: boolean;
  probePort: number | null;
  allowUnreachableTargets: boolean;
  probeTimeoutMs: number;
  admin: boolean;
}

export interface UndrainOptions extends MoveOptions {
  runId?: string;
  /** Enable even when the disable is not hostmaint's. Default false. */
  force?: boolean;
  /** Wait until the service reports `up` before enabling (0 / undefined: do not wait). */
  waitUpTimeoutMs?: number | null;
  /** Move back the instances listed in `manifest` that are still where the drain put them. Default false. */
  returnInstances?: boolean;
  /** The `manifest` of the drain's result. */
  manifest?: ManifestEntry[];
  concurrency?: number;
}

export interface ResolvedUndrainOptions extends ResolvedMoveOptions {
  force: boolean;
  waitUpTimeoutMs: number | null;
  returnInstances: boolean;
  manifest: ManifestEntry[];
  concurrency: number;
}
