/**
 * What the machines' actors take and give: the host and its service, the
 * preflight, the migration pool, the verification, the undrain's steps.
 * Plain JSON, like everything in a machine's context.
 */
import type { Classification, InstancePlan, OverrideHint, ResourceAmounts, BlockCategory } from './plan.js';
import type { DrainEventDraft } from './events.js';
import type { ResolvedDrainOptions, TimeoutPolicy } from './options.js';
import type { Leftover, ManifestEntry, MoveMethod, ServiceRecord } from './records.js';
import type { KnownRun } from './ownership.js';

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
  /** What this machine's saved runs know of the run a hostmaint marker on the service names. */
  markerRun: KnownRun | null;
}

export interface DisableInput {
  runId: string;
  reason: string;
  /** The service as last read. */
  service: ServiceRecord;
  /** That read is the one the decision was made on, just now (false after a restore: read again first). */
  fresh: boolean;
  /** disable: write this run's marker (the service was enabled); keep: leave it as it is (ours, adopted, foreign). */
  intent: 'disable' | 'keep';
}

/**
 * changed: the service is not as last read (a restored run, or someone in between): decide again.
 * done: written if it had to be, then read back: `after` is what Nova shows now.
 */
export type DisableOutput =
  | { kind: 'changed'; service: ServiceRecord; markerRun: KnownRun | null }
  | { kind: 'done'; before: ServiceRecord; after: ServiceRecord; changed: boolean };

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
  /**
   * Cold migrations off this host left awaiting their resize confirm (a run stopped between the
   * move and the confirm): the drain confirms them. Absent in reports of older versions.
   */
  awaitingConfirm?: Array<{ serverId: string; name: string; migrationId: number; to: string }>;
  /**
   * Server groups with members this drain moves, and the policy that keeps them apart while moving
   * (anti-affinity, soft-anti-affinity: one member in flight at a time). Absent in reports of older versions.
   */
  groups?: MovingGroup[];
  /**
   * The server groups the plan kept (anti-affinity: off hosts holding a member; affinity: onto
   * them), for a rolling wave's joint plan. Absent in reports of older versions.
   */
  placementGroups?: Array<{ id: string; name: string; policy: 'anti-affinity' | 'affinity'; moving: string[]; occupiedHosts: string[] }>;
}

/** A server group some of whose members a drain moves. */
export interface MovingGroup {
  id: string;
  name: string;
  policy: string;
  /** Its members on the host being drained, to be moved. */
  members: string[];
}

/** Why an instance to move has not been requested yet (status, the live view, instance-waiting events). */
export interface WaitReason {
  /**
   * source-slot: the source compute's migration slots (--concurrency ahead of Nova's queue);
   * destination: the planned destination has --max-incoming moves in flight;
   * group: a member of its anti-affinity group is moving; source-down: the source's nova-compute is down;
   * total: the rolling run has --max-total moves in flight across its hosts.
   */
  kind: 'source-slot' | 'destination' | 'group' | 'source-down' | 'total';
  detail: string;
}

export interface PreflightInput {
  runId: string;
  ref: HostRef;
  options: ResolvedDrainOptions;
}

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
  /** Lowest memory / disk remaining seen in this attempt (the progress watermark). Absent in snapshots of older versions. */
  memoryRemainingLowBytes?: number | null;
  diskRemainingLowBytes?: number | null;
  timeoutAction: TimeoutPolicy | null;
  /** The on-timeout steps taken in this attempt, in order. Absent in older snapshots. */
  rungs?: TimeoutPolicy[];
  /** Every on-timeout step taken and fallback made, over all attempts ("attempt 1: force-complete"). Absent in older snapshots. */
  escalations?: string[];
  timeoutActionAt: number | null;
  /** When the running migration's progress was last read (reads are spread over polls). Absent in snapshots of older versions. */
  progressReadAt?: number | null;
  firstStartedAt: number | null;
  finishedAt: number | null;
  to: string | null;
  /** One line per failed attempt. */
  errors: string[];
  note: string | null;
  /** Names of the anti-affinity (and soft-anti-affinity) groups it shares with other instances of the pool: one member moves at a time. Absent in older snapshots. */
  groups?: Array<{ id: string; name: string }>;
  /** Where its current attempt goes, as Nova's migration record says (or the host requested). Absent in older snapshots. */
  destination?: string | null;
  /** Pending: why it is not requested yet (null once requested). Absent in older snapshots. */
  waiting?: WaitReason | null;
  /** Instance policy stop: stopped before its cold migration, started again on its new host. */
  stopFirst?: boolean;
  /** A live move that may fall back to this once its live migration failed for good (--fallback); null once taken. */
  fallback?: 'cold' | 'stop' | null;
  /** Of a stop-policy move: its stop is awaited (before the cold migration), or its start (after). */
  stage?: 'stopping' | 'starting' | null;
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
  /** The on-timeout ladder (a string in snapshots of older versions). */
  onTimeout: TimeoutPolicy | TimeoutPolicy[];
  requestGraceMs: number;
  /** The drain's deadline (ms since the epoch): after it, nothing starts and running moves get onTimeout. */
  deadlineAt?: number | null;
  /** At most this many moves in flight to one destination host (--max-incoming); null: no limit. */
  maxIncoming?: number | null;
}

export interface PoolTickInput {
  runId: string;
  /** The host of the run (for events). */
  host: string;
  instances: InstanceRun[];
  settings: PoolSettings;
  /**
   * A drain reads its source's service first on every poll, and does nothing else unless it is
   * still disabled with `reason` (the marker this run disabled it with, or the one it carries on
   * under): another actor enabling or taking over the host stops the run before it acts.
   */
  watch: { service: ServiceRecord; reason: string | null } | null;
}

export interface PoolTickOutput {
  instances: InstanceRun[];
  events: DrainEventDraft[];
  /** A poll that could not read the cloud: instances unchanged, retried next interval. */
  error: string | null;
  at: number;
  /** The watched service as read this poll (null when not watched or not read). */
  service: ServiceRecord | null;
}

export interface PauseInput {
  ms: number;
}

export interface Verification {
  empty: boolean;
  leftovers: Leftover[];
  /** The service as Nova shows it at the end, read after the run's last write. */
  service: ServiceRecord | null;
  checks: { servers: number; hypervisorServers: number | null; allocations: number | null; unfinishedMigrations: number };
}

export interface VerifyInput {
  ref: HostRef;
  /** Per-server explanations from the run (why it is still there). */
  notes: Record<string, string>;
}

// ------------------------------------------------------------------ the undrain

export interface SelectReturnsInput {
  host: string;
  /** Moved off the host since then (when the host was disabled), by any hostmaint run; null: unknown. */
  since: string | null;
  /** What a local saved drain moved (used when `since` is unknown). */
  manifest: ManifestEntry[];
  /** The manifest is that of the run whose disable this is (this machine ran it): complete, even when empty. */
  manifestOfRun?: boolean;
}

export interface SelectReturnsOutput {
  pool: InstanceRun[];
  notReturned: Array<{ serverId: string; name: string | null; reason: string; stranded?: boolean }>;
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
  /** The service as read when the decision to enable was made. */
  service: ServiceRecord;
}

export interface EnableOutput {
  /** Nova's service, read back after the enable. */
  after: ServiceRecord;
  changed: boolean;
  /** Set when the service changed since the decision (someone else disabled or enabled it): what it shows now. */
  refused: string | null;
}

export interface ReadServiceInput {
  service: ServiceRecord;
}

/** The actors both run machines invoke: name -> [input, output]. */
export type SharedActorIO = {
  resolveHost: [{ host: string }, ResolveOutput];
  poolTick: [PoolTickInput, PoolTickOutput];
  pause: [PauseInput, void];
};

/** The drain machine's actors: name -> [input, output] (src/actors/ builds them, tests give fakes). */
export type DrainActorIO = SharedActorIO & {
  disableService: [DisableInput, DisableOutput];
  preflight: [PreflightInput, PreflightReport];
  restoreService: [RestoreInput, RestoreOutput];
  verifyEmpty: [VerifyInput, Verification];
};

/** The undrain machine's actors: name -> [input, output]. */
export type UndrainActorIO = SharedActorIO & {
  waitServiceUp: [WaitUpInput, WaitUpOutput];
  enableService: [EnableInput, EnableOutput];
  selectReturns: [SelectReturnsInput, SelectReturnsOutput];
  readService: [ReadServiceInput, ServiceRecord];
};
