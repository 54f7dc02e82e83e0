/**
 * Pure helpers for the migration pool kept in the machine's context: building
 * it from the preflight, and reading it (finished? did anything move?).
 */
import type { InstancePhase, InstanceRun, PoolSettings, PreflightReport } from './actor-io.js';
import type { InstanceOrder, ResolvedDrainOptions } from './options.js';
import type { InstancePlan } from './plan.js';

export const TERMINAL_PHASES: ReadonlySet<InstancePhase> = new Set<InstancePhase>(['done', 'failed']);
export const IN_FLIGHT_PHASES: ReadonlySet<InstancePhase> = new Set<InstancePhase>(['requested', 'queued', 'running', 'confirming']);

export function isTerminal(run: InstanceRun): boolean {
  return TERMINAL_PHASES.has(run.phase);
}

export function poolFinished(pool: InstanceRun[]): boolean {
  return pool.every(isTerminal);
}

export function inFlight(pool: InstanceRun[]): InstanceRun[] {
  return pool.filter((r) => IN_FLIGHT_PHASES.has(r.phase));
}

/**
 * True when no instance has left (or may be leaving) the host: every run is
 * still pending or failed (a failed migration leaves the instance where it was).
 */
export function nothingMoved(pool: InstanceRun[]): boolean {
  return pool.every((r) => r.phase === 'pending' || r.phase === 'failed');
}

export function newRun(args: Pick<InstanceRun, 'serverId' | 'name' | 'method' | 'source' | 'originalStatus' | 'plannedTarget' | 'pinnedHosts'>): InstanceRun {
  return {
    ...args,
    phase: 'pending',
    attempts: 0,
    adopted: false,
    migrationId: null,
    migrationUuid: null,
    migrationStatus: null,
    baselineMigrationId: 0,
    requestId: null,
    migrationIds: [],
    requestedAt: null,
    runningSince: null,
    lastProgressAt: null,
    memoryTotalBytes: null,
    memoryProcessedBytes: null,
    memoryRemainingBytes: null,
    diskRemainingBytes: null,
    memoryRemainingLowBytes: null,
    diskRemainingLowBytes: null,
    timeoutAction: null,
    timeoutActionAt: null,
    progressReadAt: null,
    firstStartedAt: null,
    finishedAt: null,
    to: null,
    errors: [],
    note: null,
  };
}

/**
 * The pool of a drain: live and cold instances in plan order (largest first),
 * then offloads. A host is pinned only when the operator named targets or asked
 * to pin to the plan; otherwise Nova's scheduler chooses.
 */
/** originalStatus of a run whose state before its move is not known (it lands in whichever settled state it had). */
export const ANY_SETTLED_STATUS = '*';

export function buildPool(report: PreflightReport, options: ResolvedDrainOptions, host: string): InstanceRun[] {
  const byId = new Map(report.instances.map((c) => [c.serverId, c]));
  // A limit per destination needs to know each one's destination: --max-incoming pins to the plan.
  const pin = options.targets !== null || options.pinToPlan || (options.maxIncoming ?? null) !== null;
  const groupsOf = new Map<string, Array<{ id: string; name: string }>>();
  for (const g of report.groups ?? []) for (const m of g.members) groupsOf.set(m, [...(groupsOf.get(m) ?? []), { id: g.id, name: g.name }]);
  const pool: InstanceRun[] = [];
  const planned = new Set<string>();
  for (const p of orderPlan(report, options.instanceOrder ?? 'largest-first')) {
    const c = byId.get(p.serverId);
    if (!c || (c.class !== 'live' && c.class !== 'cold')) continue;
    planned.add(p.serverId);
    pool.push(
      newRun({
        serverId: p.serverId,
        name: p.name,
        method: p.method,
        source: host,
        originalStatus: originalStatusOf(c),
        plannedTarget: p.target,
        pinnedHosts: pin && p.target ? [p.target, ...p.alternatives] : [],
      }),
    );
  }
  for (const c of report.instances) {
    if (planned.has(c.serverId)) continue;
    if (c.class === 'live' || c.class === 'cold') {
      // Not in the plan: adopted (already moving) instances need no placement.
      pool.push(newRun({ serverId: c.serverId, name: c.name, method: c.class, source: host, originalStatus: originalStatusOf(c), plannedTarget: null, pinnedHosts: [] }));
    } else if (c.class === 'offload') {
      pool.push(newRun({ serverId: c.serverId, name: c.name, method: 'offload', source: host, originalStatus: c.status, plannedTarget: null, pinnedHosts: [] }));
    }
  }
  // Moved off by a cold migration that was never confirmed: watched and confirmed, in whatever state it had.
  for (const a of report.awaitingConfirm ?? []) {
    pool.push(newRun({ serverId: a.serverId, name: a.name, method: 'cold', source: host, originalStatus: ANY_SETTLED_STATUS, plannedTarget: a.to, pinnedHosts: [] }));
  }
  for (const run of pool) {
    const groups = groupsOf.get(run.serverId);
    if (groups && run.method !== 'offload') run.groups = groups;
    const c = byId.get(run.serverId);
    if (c?.stopFirst && run.method === 'cold') run.stopFirst = true;
    if (options.fallback && c?.fallback && run.method === 'live' && run.originalStatus === 'ACTIVE') run.fallback = c.fallback;
  }
  return pool;
}

/**
 * The plan in the order its instances are asked to move (--instance-order): by size (memory, then
 * disk: what a live migration copies), Nova's listing order, or the owners' `hostmaint:priority`
 * (highest first, unset as 0; ties by size, largest first). Ties keep Nova's listing order.
 */
export function orderPlan(report: PreflightReport, order: InstanceOrder): InstancePlan[] {
  const listed = new Map(report.instances.map((c, i) => [c.serverId, i]));
  const priority = new Map(report.instances.map((c) => [c.serverId, c.priority ?? 0]));
  const size = (p: InstancePlan): [number, number] => [p.request['MEMORY_MB'] ?? 0, p.request['DISK_GB'] ?? 0];
  const bySize = (a: InstancePlan, b: InstancePlan) => {
    const [am, ad] = size(a);
    const [bm, bd] = size(b);
    return bm - am || bd - ad;
  };
  const byListing = (a: InstancePlan, b: InstancePlan) => (listed.get(a.serverId) ?? 0) - (listed.get(b.serverId) ?? 0);
  const compare: Record<InstanceOrder, (a: InstancePlan, b: InstancePlan) => number> = {
    'largest-first': (a, b) => bySize(a, b) || byListing(a, b),
    'smallest-first': (a, b) => -bySize(a, b) || byListing(a, b),
    listing: byListing,
    priority: (a, b) => (priority.get(b.serverId) ?? 0) - (priority.get(a.serverId) ?? 0) || bySize(a, b) || byListing(a, b),
  };
  return [...report.plan].sort(compare[order] ?? compare['largest-first']);
}

/** The status an instance must end in: for one found mid-migration (status MIGRATING), its vm_state tells. */
export function originalStatusOf(c: { status: string; vmState: string | null; adopt: boolean }): string {
  if (!c.adopt || (c.status !== 'MIGRATING' && c.status !== 'RESIZE')) return c.status;
  if (c.vmState === 'paused') return 'PAUSED';
  if (c.vmState === 'stopped') return 'SHUTOFF';
  return 'ACTIVE';
}

/**
 * The pool's settings from the run's options. A drain bounds the requests
 * *waiting* in Nova (bound 'waiting'): the source compute always has the next
 * migration queued when a slot frees, and Nova's max_concurrent_live_migrations
 * bounds what runs. Returns (undrain) land on one host: they bound everything
 * in flight.
 */
export function poolSettings(
  o: { concurrency: number; retries: number; stallTimeoutMs: number; migrationTimeoutMs: number; onTimeout: PoolSettings['onTimeout']; requestGraceMs: number; deadlineAt?: number | null; maxIncoming?: number | null },
  bound: NonNullable<PoolSettings['bound']> = 'in-flight',
): PoolSettings {
  return {
    concurrency: o.concurrency,
    bound,
    retries: o.retries,
    stallTimeoutMs: o.stallTimeoutMs,
    migrationTimeoutMs: o.migrationTimeoutMs,
    onTimeout: o.onTimeout,
    requestGraceMs: o.requestGraceMs,
    deadlineAt: o.deadlineAt ?? null,
    maxIncoming: o.maxIncoming ?? null,
  };
}

/** Counts for progress lines and status: n/m done. */
export function poolCounts(pool: InstanceRun[]): Record<InstancePhase, number> & { total: number } {
  const counts = { pending: 0, requested: 0, queued: 0, running: 0, confirming: 0, done: 0, failed: 0, total: pool.length };
  for (const r of pool) counts[r.phase]++;
  return counts;
}
