/**
 * Types of the drain and undrain workflows. Everything in a context is plain
 * JSON (numbers for times, null instead of undefined) so a persisted snapshot
 * survives a JSON round trip.
 */
import type { Classification, InstanceClass, InstancePlan, OverrideHint, ResourceAmounts, BlockCategory } from './plan.js';
import type { DrainOutcome, ErrorInfo, UndrainOutcome } from './outcome.js';

export type { DrainOutcome, UndrainOutcome, ErrorInfo } from './outcome.js';

// ------------------------------------------------------------------ options

export type StoppedPolicy = 'cold' | 'leave' | 'fail';
export type ShelvedPolicy = 'offload' | 'leave' | 'fail';
export type TimeoutPolicy = 'abort' | 'force-complete' | 'wait';

export interface DrainOptions {
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
  /** How long to wait for busy instances (task in progress, BUILD) before calling them blocked. Default 300 000. */
  waitTimeoutMs?: number;
  /** Only these target hosts; the planned one is requested (Nova still validates, never forced). */
  targets?: string[] | null;
  /** Only hosts of this aggregate (name or id). */
  aggregate?: string | null;
  /** Only hosts in this availability zone. */
  availabilityZone?: string | null;
  /** Request the planned host even without `targets`. Default false (Nova's scheduler chooses). */
  pinToPlan?: boolean;
  /** TCP port probed on each target (e.g. 16509 libvirt, 22 ssh). Default null: no probe (a route check). */
  probePort?: number | null;
  /** Use targets this machine cannot reach (neither by name nor by host_ip) instead of refusing. Default false. */
  allowUnreachableTargets?: boolean;
  /** Default 3000. */
  probeTimeoutMs?: number;
  /** Extra attempts after a failed migration. Default 2. */
  retries?: number;
  /** No memory progress for this long: apply onTimeout. Default 300 000 (5 min). */
  stallTimeoutMs?: number;
  /** Running longer than this: apply onTimeout. Default 3 600 000 (1 h). */
  migrationTimeoutMs?: number;
  /** Default 'abort' (the instance stays on the source, then is retried). */
  onTimeout?: TimeoutPolicy;
  /** Default 5000. */
  pollIntervalMs?: number;
  /** A request with no trace (no migration record, no task state) after this long failed. Default 60 000. */
  requestGraceMs?: number;
  /** Consecutive failed polls before the run gives up. Default 5. */
  maxPollErrors?: number;
  /** Admin may move locked instances. Default: the session's roles contain admin (true when unknown). */
  admin?: boolean;
}

export interface ResolvedDrainOptions {
  reason: string;
  dryRun: boolean;
  concurrency: number;
  stopped: StoppedPolicy;
  shelved: ShelvedPolicy;
  skipBlocked: boolean;
  waitTimeoutMs: number;
  targets: string[] | null;
  aggregate: string | null;
  availabilityZone: string | null;
  pinToPlan: boolean;
  probePort: number | null;
  allowUnreachableTargets: boolean;
  probeTimeoutMs: number;
  retries: number;
  stallTimeoutMs: number;
  migrationTimeoutMs: number;
  onTimeout: TimeoutPolicy;
  pollIntervalMs: number;
  requestGraceMs: number;
  maxPollErrors: number;
  admin: boolean;
}

export const DRAIN_DEFAULTS: ResolvedDrainOptions = {
  reason: 'maintenance',
  dryRun: false,
  concurrency: 2,
  stopped: 'cold',
  shelved: 'offload',
  skipBlocked: false,
  waitTimeoutMs: 300_000,
  targets: null,
  aggregate: null,
  availabilityZone: null,
  pinToPlan: false,
  probePort: null,
  allowUnreachableTargets: false,
  probeTimeoutMs: 3_000,
  retries: 2,
  stallTimeoutMs: 300_000,
  migrationTimeoutMs: 3_600_000,
  onTimeout: 'abort',
  pollIntervalMs: 5_000,
  requestGraceMs: 60_000,
  maxPollErrors: 5,
  admin: true,
};

export function resolveDrainOptions(o: DrainOptions = {}): ResolvedDrainOptions {
  const pick = <K extends keyof ResolvedDrainOptions>(k: K): ResolvedDrainOptions[K] => {
    const v = (o as Record<string, unknown>)[k];
    return (v === undefined ? DRAIN_DEFAULTS[k] : v) as ResolvedDrainOptions[K];
  };
  const r: ResolvedDrainOptions = {
    reason: pick('reason'),
    dryRun: pick('dryRun'),
    concurrency: Math.max(1, Math.floor(pick('concurrency'))),
    stopped: pick('stopped'),
    shelved: pick('shelved'),
    skipBlocked: pick('skipBlocked'),
    waitTimeoutMs: Math.max(0, pick('waitTimeoutMs')),
    targets: o.targets && o.targets.length > 0 ? [...o.targets] : null,
    aggregate: o.aggregate ?? null,
    availabilityZone: o.availabilityZone ?? null,
    pinToPlan: pick('pinToPlan'),
    probePort: o.probePort ?? null,
    allowUnreachableTargets: pick('allowUnreachableTargets'),
    probeTimeoutMs: pick('probeTimeoutMs'),
    retries: Math.max(0, Math.floor(pick('retries'))),
    stallTimeoutMs: pick('stallTimeoutMs'),
    migrationTimeoutMs: pick('migrationTimeoutMs'),
    onTimeout: pick('onTimeout'),
    pollIntervalMs: Math.max(1, pick('pollIntervalMs')),
    requestGraceMs: pick('requestGraceMs'),
    maxPollErrors: Math.max(1, pick('maxPollErrors')),
    admin: pick('admin'),
  };
  return r;
}

export interface UndrainOptions {
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
  retries?: number;
  stallTimeoutMs?: number;
  migrationTimeoutMs?: number;
  onTimeout?: TimeoutPolicy;
  pollIntervalMs?: number;
  requestGraceMs?: number;
  maxPollErrors?: number;
}

export interface ResolvedUndrainOptions {
  force: boolean;
  waitUpTimeoutMs: number | null;
  returnInstances: boolean;
  manifest: ManifestEntry[];
  concurrency: number;
  retries: number;
  stallTimeoutMs: number;
  migrationTimeoutMs: number;
  onTimeout: TimeoutPolicy;
  pollIntervalMs: number;
  requestGraceMs: number;
  maxPollErrors: number;
}

export function resolveUndrainOptions(o: UndrainOptions = {}): ResolvedUndrainOptions {
  return {
    force: o.force ?? false,
    waitUpTimeoutMs: o.waitUpTimeoutMs && o.waitUpTimeoutMs > 0 ? o.waitUpTimeoutMs : null,
    returnInstances: o.returnInstances ?? false,
    manifest: (o.manifest ?? []).map((m) => ({ ...m })),
    concurrency: Math.max(1, Math.floor(o.concurrency ?? DRAIN_DEFAULTS.concurrency)),
    retries: Math.max(0, Math.floor(o.retries ?? DRAIN_DEFAULTS.retries)),
    stallTimeoutMs: o.stallTimeoutMs ?? DRAIN_DEFAULTS.stallTimeoutMs,
    migrationTimeoutMs: o.migrationTimeoutMs ?? DRAIN_DEFAULTS.migrationTimeoutMs,
    onTimeout: o.onTimeout ?? DRAIN_DEFAULTS.onTimeout,
    pollIntervalMs: Math.max(1, o.pollIntervalMs ?? DRAIN_DEFAULTS.pollIntervalMs),
    requestGraceMs: o.requestGraceMs ?? DRAIN_DEFAULTS.requestGraceMs,
    maxPollErrors: Math.max(1, o.maxPollErrors ?? DRAIN_DEFAULTS.maxPollErrors),
  };
}

// ------------------------------------------------------------------ host and service

/** The service as recorded (before / after). */
export interface ServiceRecord {
  id: string;
  host: string;
  zone: string | null;
  status: 'enabled' | 'disabled';
  state: 'up' | 'down';
  disabledReason: string | null;
  forcedDown: boolean;
}

/**
 * Whose disable it is:
 * - ours: this run disabled it (undrain may enable it; a refused preflight re-enables it);
 * - adopted: an earlier hostmaint run of this host disabled it, and we carry on under it;
 * - foreign: someone else (libvirt AUTO:, Masakari, Watcher, a person) — we drain but never enable it;
 * - none: not touched (plan mode).
 */
export type ServiceOwnership = 'ours' | 'adopted' | 'foreign' | 'none';

export interface HostRef {
  host: string;
  service: ServiceRecord;
  hypervisor: { id: string; hostname: string } | null;
  provider: { uuid: string; name: string } | null;
}

export interface ResolveOutput {
  found: boolean;
  ref: HostRef | null;
  /** Close names when not found ("did you mean compute-01.example.org?"). */
  suggestions: string[];
  warnings: string[];
}

export interface DisableInput {
  runId: string;
  reason: string;
  service: ServiceRecord;
}

export interface DisableOutput {
  before: ServiceRecord;
  after: ServiceRecord;
  ownership: Exclude<ServiceOwnership, 'none'>;
  /** Run id of the hostmaint marker we adopted. */
  adoptedRunId: string | null;
  /** True when this call changed the service. */
  changed: boolean;
  /** Who disabled it, for foreign disables. */
  disabler: string | null;
}

export interface RestoreInput {
  runId: string;
  service: ServiceRecord;
  /** Enable only when true: we disabled it and nothing moved. */
  mayEnable: boolean;
}

export interface RestoreOutput {
  after: ServiceRecord | null;
  action: 'enabled' | 'already-enabled' | 'left-disabled' | 'left-foreign' | 'none';
  note: string | null;
}

// ------------------------------------------------------------------ preflight

export type FindingKind = 'instance' | 'capacity' | 'target' | 'anti-affinity' | 'affinity' | 'no-targets' | 'aggregate' | 'unreachable';

export interface Finding {
  severity: 'error' | 'warning';
  kind: FindingKind;
  category: BlockCategory | null;
  serverId: string | null;
  serverName: string | null;
  host: string | null;
  message: string;
  remedy: string | null;
  override: OverrideHint | null;
}

/** Blocking findings grouped kubectl style: one line per class, with the flag that overrides it. */
export interface BlockingGroup {
  kind: FindingKind;
  category: BlockCategory | null;
  message: string;
  override: OverrideHint | null;
  servers: Array<{ id: string; name: string; reason: string; remedy: string | null }>;
  /** Targets this group is about (unreachable: "host: every check that failed"). */
  hosts: string[];
}

export interface TargetReport {
  host: string;
  zone: string | null;
  usable: boolean;
  reasons: string[];
  providerUuid: string | null;
  /** Free resources per class (Placement numbers) before the plan. */
  free: ResourceAmounts;
  /** Free after the plan's placements. */
  freeAfterPlan: ResourceAmounts | null;
  /** The address it was reached at: its name's, or Nova's host_ip for it. */
  address: string | null;
  reachedVia: 'name' | 'host_ip' | null;
}

export interface PreflightReport {
  ok: boolean;
  instances: Classification[];
  targets: TargetReport[];
  plan: InstancePlan[];
  findings: Finding[];
  blocking: BlockingGroup[];
  warnings: string[];
  /** ms spent waiting for busy instances. */
  waitedMs: number;
}

export interface PreflightInput {
  runId: string;
  ref: HostRef;
  options: ResolvedDrainOptions;
}

// ------------------------------------------------------------------ the migration pool

export type MoveMethod = 'live' | 'cold' | 'offload';

export type InstancePhase =
  /** Not requested yet (or waiting for a retry). */
  | 'pending'
  /** Request sent (or its outcome unknown); no migration record seen yet. */
  | 'requested'
  /** Accepted / queued / preparing: waiting for the compute's migration slot. Not stuck. */
  | 'queued'
  /** Running (memory being copied), or a cold migration / offload in progress. */
  | 'running'
  /** Cold migration finished; resize confirmed, waiting for confirmed. */
  | 'confirming'
  | 'done'
  | 'failed';

export interface InstanceRun {
  serverId: string;
  name: string;
  method: MoveMethod;
  /** Host it leaves. */
  source: string;
  /** ACTIVE, PAUSED, SHUTOFF, SHELVED: where it must end up again. */
  originalStatus: string;
  plannedTarget: string | null;
  /** Hosts to request, in order of attempts; empty: Nova's scheduler chooses. */
  pinnedHosts: string[];
  phase: InstancePhase;
  attempts: number;
  /** Found already moving (or moved) and watched instead of requested. */
  adopted: boolean;
  migrationId: number | null;
  migrationUuid: string | null;
  migrationStatus: string | null;
  /** Highest migration id of this server before our request: the attempt's record is newer. */
  baselineMigrationId: number;
  requestId: string | null;
  migrationIds: number[];
  requestedAt: number | null;
  runningSince: number | null;
  lastProgressAt: number | null;
  memoryTotalBytes: number | null;
  memoryProcessedBytes: number | null;
  memoryRemainingBytes: number | null;
  diskRemainingBytes: number | null;
  timeoutAction: TimeoutPolicy | null;
  timeoutActionAt: number | null;
  /** When the running migration's progress was last read (reads are spread over polls). Absent in snapshots of older versions. */
  progressReadAt?: number | null;
  firstStartedAt: number | null;
  finishedAt: number | null;
  to: string | null;
  /** One line per failed attempt. */
  errors: string[];
  note: string | null;
}

export interface PoolSettings {
  /** See `bound`. */
  concurrency: number;
  /**
   * What `concurrency` bounds. 'in-flight' (default): migrations requested and
   * not finished. 'waiting': requests not yet running (requested, or queued
   * behind the source compute's max_concurrent_live_migrations slots), so the
   * compute always has the next one queued; running ones are bounded by Nova
   * (and by maxInFlight).
   */
  bound?: 'in-flight' | 'waiting';
  /** With bound 'waiting': at most this many in flight in all (default 16). */
  maxInFlight?: number;
  retries: number;
  stallTimeoutMs: number;
  migrationTimeoutMs: number;
  onTimeout: TimeoutPolicy;
  requestGraceMs: number;
}

export interface PoolTickInput {
  runId: string;
  /** The host of the run (for events). */
  host: string;
  instances: InstanceRun[];
  settings: PoolSettings;
}

export interface PoolTickOutput {
  instances: InstanceRun[];
  events: DrainEventDraft[];
  /** A poll that could not read the cloud: instances unchanged, retried next interval. */
  error: string | null;
  at: number;
}

export interface PauseInput {
  ms: number;
}

// ------------------------------------------------------------------ verification

export interface Leftover {
  kind: 'server' | 'hypervisor-server' | 'allocation' | 'migration';
  id: string;
  name: string | null;
  status: string | null;
  reason: string;
}

export interface Verification {
  empty: boolean;
  leftovers: Leftover[];
  checks: { servers: number; hypervisorServers: number | null; allocations: number | null; unfinishedMigrations: number };
}

export interface VerifyInput {
  ref: HostRef;
  /** Per-server explanations from the run (why it is still there). */
  notes: Record<string, string>;
}

// ------------------------------------------------------------------ results

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
  reason: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
}

/** What a drain moved where: the input of undrain's returnInstances. */
export interface ManifestEntry {
  serverId: string;
  name?: string;
  from: string;
  to: string;
  method?: 'live' | 'cold';
  /** Status it was moved in (ACTIVE, PAUSED, SHUTOFF). */
  status?: string;
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
  notReturned: Array<{ serverId: string; name: string | null; reason: string }>;
  suggestions: string[];
  timings: RunTimings;
  warnings: string[];
  error: ErrorInfo | null;
}

// ------------------------------------------------------------------ events

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
  | { type: 'instance-classified'; serverId: string; name: string; class: InstanceClass; reason: string; blocking: boolean; remedy: string | null; projectId?: string | null }
  | { type: 'preflight-finished'; ok: boolean; blocking: number; warnings: number; planned: number; unplaced: number }
  | { type: 'migration-queued'; serverId: string; name: string; attempt: number; migrationId: number | null; status: string; to?: string | null }
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
  | { type: 'migration-stalled'; serverId: string; name: string; migrationId: number | null; action: TimeoutPolicy; stalledForMs: number; runningForMs: number; reason: string }
  | { type: 'migration-completed'; serverId: string; name: string; method: MoveMethod; from: string; to: string | null; attempt: number; durationMs: number | null }
  | { type: 'migration-retried'; serverId: string; name: string; attempt: number; error: string }
  | { type: 'migration-failed'; serverId: string; name: string; attempts: number; error: string }
  | { type: 'verification'; empty: boolean; leftovers: Leftover[] }
  | { type: 'run-finished'; outcome: DrainOutcome | UndrainOutcome; exitCode: number; message: string }
  // workflow runs (hostmaint run): a step's start and end, an approval gate, the run's end
  | { type: 'step-started'; workflow: string; step: string; stepType: string; index: number }
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

// ------------------------------------------------------------------ machine context

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

export interface SelectReturnsInput {
  host: string;
  manifest: ManifestEntry[];
}

export interface SelectReturnsOutput {
  pool: InstanceRun[];
  notReturned: Array<{ serverId: string; name: string | null; reason: string }>;
}

export interface WaitUpInput {
  service: ServiceRecord;
  timeoutMs: number;
  pollIntervalMs: number;
}

export interface WaitUpOutput {
  up: boolean;
  service: ServiceRecord;
  waitedMs: number;
}

export interface EnableInput {
  runId: string;
  service: ServiceRecord;
  force: boolean;
}

export interface EnableOutput {
  after: ServiceRecord;
  changed: boolean;
  /** Set when the disable turned out not to be hostmaint's (and force is off): who disabled it. */
  refused: string | null;
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
