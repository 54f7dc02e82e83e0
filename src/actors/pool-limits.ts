/** How much one poll reads and requests: the listings it needs, the progress reads, the room for new requests. */
import type { Migration } from '../openstack/types.js';
import { IN_FLIGHT_PHASES, isTerminal } from '../machines/pool.js';
import type { InstanceRun, PoolTickInput, WaitReason } from '../machines/actor-io.js';
import type { MoveBudget } from './move-budget.js';

import { FAILED, LIVE_QUEUED, LIVE_RUNNING, MAX_IN_FLIGHT, PROGRESS_READS_PER_POLL, Tick, attemptMigration, type HostView } from './pool-tick.js';

/**
 * Sources whose servers this poll must list: to reconcile before requesting
 * (when there is room to start more), and to watch what the migration records
 * cannot tell (a request without a record yet, cold migrations, offloads). A
 * live migration queued, running or finished is read from its record alone
 * (a finished one then from its server). A compute working through its queue
 * thus costs one migration listing per poll, plus a progress read.
 */
export function listingNeeded(runs: InstanceRun[], views: Map<string, HostView>, settings: PoolTickInput['settings']): Set<string> {
  const need = new Set<string>();
  let waiting = 0;
  let inFlight = 0;
  const ended = new Map<string, number>();
  for (const run of runs) {
    if (isTerminal(run) || run.phase === 'pending') continue;
    const view = views.get(run.source);
    const mig = run.method === 'live' && view ? attemptMigration(view, run) : null;
    const st = mig?.status.toLowerCase() ?? '';
    if (!mig || (!LIVE_QUEUED.has(st) && !LIVE_RUNNING.has(st) && st !== 'completed' && !FAILED.has(st))) {
      need.add(run.source);
      inFlight++;
      waiting++;
    } else if (LIVE_QUEUED.has(st)) {
      inFlight++;
      waiting++;
    } else if (LIVE_RUNNING.has(st)) {
      inFlight++;
    } else {
      ended.set(run.source, (ended.get(run.source) ?? 0) + 1);
    }
  }
  const pending = runs.filter((r) => r.phase === 'pending');
  if (pending.length > 0) {
    if (hasRoom(settings, { waiting, inFlight, slots: slotsOf(views, ended) })) for (const r of pending) need.add(r.source);
  }
  return need;
}

/**
 * Which running live migrations get a progress read this poll: the one read
 * longest ago (PROGRESS_READS_PER_POLL), plus any not read for a quarter of the
 * stall timeout, so stalls are still seen in time when many run at once.
 */
export function selectProgressReads(t: Tick, runs: InstanceRun[], views: Map<string, HostView>): void {
  const running: InstanceRun[] = [];
  for (const run of runs) {
    if (run.method !== 'live' || isTerminal(run) || run.phase === 'pending') continue;
    // Only those seen holding a slot in an earlier poll: one that finishes within a poll of starting needs no progress read.
    if (run.phase !== 'running' || run.runningSince === null || run.runningSince >= t.now) continue;
    const view = views.get(run.source);
    const mig = view ? attemptMigration(view, run) : null;
    if (mig && mig.status.toLowerCase() === 'running') running.push(run);
  }
  running.sort((a, b) => (a.progressReadAt ?? -Infinity) - (b.progressReadAt ?? -Infinity) || a.serverId.localeCompare(b.serverId));
  const overdueMs = Math.max(1, Math.min(t.settings.stallTimeoutMs, t.settings.migrationTimeoutMs) / 4);
  running.forEach((run, i) => {
    const lastSeen = run.progressReadAt ?? run.runningSince ?? t.now;
    if (i < PROGRESS_READS_PER_POLL || t.now - lastSeen >= overdueMs) t.readProgress.add(run.serverId);
  });
}

/** Holding Nova's attention without a slot: requested, or queued behind the compute's running live migrations. Cold migrations and offloads have no slot in Nova: they count until done. */
export function isWaiting(run: InstanceRun): boolean {
  if (run.phase === 'requested' || run.phase === 'queued') return true;
  return run.method !== 'live' && (run.phase === 'running' || run.phase === 'confirming');
}

/**
 * How many live migrations the source compute runs at once, as this poll
 * shows it. When one is queued, the ones holding a slot are all the slots
 * there are (Nova's max_concurrent_live_migrations). When none is queued,
 * every request got a slot at once and hostmaint, not Nova, was the limit:
 * twice what the compute got through since the last poll (holding a slot now,
 * or ended) is asked next, until Nova's queue gives the exact answer
 * (MAX_IN_FLIGHT bounds it for computes without a limit).
 */
export function slotsSeen(migrations: Migration[], source: string, endedSinceLastPoll = 0): number {
  let holding = 0;
  let queued = 0;
  for (const m of migrations) {
    if (m.sourceCompute !== source || (m.migrationType ?? '').toLowerCase() !== 'live-migration') continue;
    const st = m.status.toLowerCase();
    if (LIVE_RUNNING.has(st)) holding++;
    else if (st === 'queued') queued++;
  }
  return queued > 0 ? holding : 2 * (holding + endedSinceLastPoll);
}

/**
 * How many more to request this poll.
 *   bound 'waiting' (drains): requests kept waiting ahead of the source
 *     compute's slots, so a freed slot never waits for the next poll: at
 *     least `concurrency`, and a full round of the compute's slots once Nova's
 *     queue shows how many it runs. Nova's max_concurrent_live_migrations
 *     bounds the running ones (MAX_IN_FLIGHT everything).
 *   bound 'in-flight': at most `concurrency` in flight, running or not.
 */
export function startLimits(t: Tick, runs: InstanceRun[], views: Map<string, HostView>) {
  const slots = slotsOf(views, t.endedThisTick);
  let inFlight = runs.filter((r) => IN_FLIGHT_PHASES.has(r.phase)).length;
  let waiting = runs.filter(isWaiting).length;
  return {
    room: () => hasRoom(t.settings, { waiting, inFlight, slots }),
    started: (run: InstanceRun) => {
      if (IN_FLIGHT_PHASES.has(run.phase)) inFlight++;
      if (isWaiting(run)) waiting++;
    },
  };
}

/** The most slots any source compute shows this poll (see slotsSeen). */
function slotsOf(views: Map<string, HostView>, ended: Map<string, number>): number {
  let slots = 0;
  for (const [source, view] of views) slots = Math.max(slots, slotsSeen(view.migrations, source, ended.get(source) ?? 0));
  return slots;
}

/** The one room rule (see startLimits): may one more be requested, with this many waiting and in flight? */
function hasRoom(settings: PoolTickInput['settings'], n: { waiting: number; inFlight: number; slots: number }): boolean {
  if (settings.bound !== 'waiting') return n.inFlight < settings.concurrency;
  return n.waiting < Math.max(settings.concurrency, n.slots) && n.inFlight < Math.max(settings.concurrency, settings.maxInFlight ?? MAX_IN_FLIGHT);
}

/**
 * The limits beyond the source's slots, as this poll sees them: moves in flight per destination
 * (--max-incoming), and the anti-affinity groups with a member in flight (one member of a group
 * moves at a time: Nova's scheduler does not count a member still migrating to a host, bug 1821755).
 */
export class StartGate {
  private readonly incoming = new Map<string, number>();
  private readonly groupMoving = new Map<string, string>();

  private own = 0;

  constructor(
    runs: InstanceRun[],
    private readonly settings: PoolTickInput['settings'],
    private readonly budget: { runId: string; shared: MoveBudget } | null = null,
  ) {
    for (const run of runs) if (IN_FLIGHT_PHASES.has(run.phase)) this.started(run);
    budget?.shared.set(budget.runId, this.own);
  }

  /** About to request one: hold its place in the rolling run's budget (released by started() or settle()). */
  reserve(): void {
    this.budget?.shared.set(this.budget.runId, this.own + 1);
  }

  /** After a request that did not put a move in flight: give its place back. */
  settle(): void {
    this.budget?.shared.set(this.budget.runId, this.own);
  }

  /** Count a move now in flight. */
  started(run: InstanceRun): void {
    if (!IN_FLIGHT_PHASES.has(run.phase)) return;
    this.own += 1;
    this.budget?.shared.set(this.budget.runId, this.own);
    // Where it goes: Nova's migration record, else the host it requested.
    const dest = run.destination ?? null;
    if (dest) this.incoming.set(dest, (this.incoming.get(dest) ?? 0) + 1);
    for (const g of run.groups ?? []) if (!this.groupMoving.has(g.id)) this.groupMoving.set(g.id, run.name);
  }

  /**
   * Why a pending instance may not be requested now, or null. `room`: the source's slots
   * (startLimits) have room; `hold`: the source's nova-compute is down.
   */
  reason(run: InstanceRun, room: boolean, hold: boolean, nextHost: string | null): WaitReason | null {
    if (hold) return { kind: 'source-down', detail: `${run.source}'s nova-compute is down: nothing new is requested until it is back` };
    for (const g of run.groups ?? []) {
      const other = this.groupMoving.get(g.id);
      if (other !== undefined) return { kind: 'group', detail: `${other}, of its anti-affinity group '${g.name}', is moving: one member at a time` };
    }
    const max = this.settings.maxIncoming ?? null;
    const dest = nextHost ?? run.plannedTarget;
    if (max !== null && dest) {
      const n = this.incoming.get(dest) ?? 0;
      if (n >= max) return { kind: 'destination', detail: `${dest} has ${n} move(s) in flight (--max-incoming ${max})` };
    }
    if (this.budget && this.budget.shared.others(this.budget.runId) + this.own >= this.budget.shared.max) {
      return { kind: 'total', detail: `the rolling run has ${this.budget.shared.max} move(s) in flight across its hosts (--max-total ${this.budget.shared.max})` };
    }
    if (!room) return { kind: 'source-slot', detail: `a migration slot on ${run.source} (hostmaint keeps --concurrency ${this.settings.concurrency} request(s) waiting in Nova ahead of its slots)` };
    return null;
  }
}
