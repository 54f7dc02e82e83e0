/** One poll's working state (Tick), what it knows of a source host (HostView), and the migration-record helpers the pool's parts share. */
import { errorText, isHostmaintError } from '../core/errors.js';
import type { CallOptions } from '../openstack/api.js';
import type { InstanceAction, Migration, Server } from '../openstack/types.js';
import { ANY_SETTLED_STATUS } from '../machines/pool.js';
import type { DrainEventBody, DrainEventDraft } from '../machines/events.js';
import type { InstanceRun, PoolTickInput, WaitReason } from '../machines/actor-io.js';
import type { ActorDeps } from './deps.js';

/** Migration statuses that are over (nothing left to wait for). 'finished' is not: a cold migration awaits confirm. */
export const FINAL_MIGRATION_STATUSES: ReadonlySet<string> = new Set(['completed', 'confirmed', 'error', 'failed', 'cancelled', 'reverted', 'done']);
/** Waiting for one of the source compute's max_concurrent_live_migrations slots (Nova sets 'preparing' once it has one). */
export const LIVE_QUEUED = new Set(['accepted', 'queued', 'pre-migrating']);
/** Holding a slot of the source compute. */
export const LIVE_RUNNING = new Set(['preparing', 'running', 'post-migrating']);
/** Progress reads per poll (oldest read first), whatever the number of running migrations. */
export const PROGRESS_READS_PER_POLL = 1;
/** Guard for computes that run any number of live migrations at once (max_concurrent_live_migrations = 0). */
export const MAX_IN_FLIGHT = 16;
export const COLD_RUNNING = new Set(['accepted', 'queued', 'preparing', 'pre-migrating', 'migrating', 'running', 'post-migrating']);
export const FAILED = new Set(['error', 'failed', 'cancelled', 'reverted']);

export function typeMatches(run: InstanceRun, m: Migration): boolean {
  const t = (m.migrationType ?? '').toLowerCase();
  if (run.method === 'live') return t === 'live-migration' || t === '';
  if (run.method === 'cold') return t === 'migration' || t === 'resize' || t === '';
  return false;
}

export function secs(ms: number): string {
  if (ms < 120_000) return `${Math.round(ms / 1000)}s`;
  return `${Math.round(ms / 60_000)} min`;
}

export interface HostView {
  /** The servers on the source, when this poll listed them (see listingNeeded); null when it did not need to. */
  servers: Map<string, Server> | null;
  migrations: Migration[];
}

/** The drain's deadline has passed (settings.deadlineAt). */
export function pastDeadline(t: { now: number; settings: { deadlineAt?: number | null } }): boolean {
  return t.settings.deadlineAt != null && t.now >= t.settings.deadlineAt;
}

export class Tick {
  readonly events: DrainEventDraft[] = [];
  readonly failedThisTick = new Set<string>();
  /** Running live migrations whose progress is read this poll. */
  readonly readProgress = new Set<string>();
  /** Live migration attempts seen ending this poll (completed or failed), per source: slots they held since the last poll. */
  readonly endedThisTick = new Map<string, number>();
  constructor(
    readonly deps: ActorDeps,
    readonly input: PoolTickInput,
    readonly now: number,
    readonly opts: CallOptions,
  ) {}

  get settings() {
    return this.input.settings;
  }

  emit(body: DrainEventBody): void {
    this.events.push({ ...body, runId: this.input.runId, host: this.input.host, time: new Date(this.now).toISOString() } as DrainEventDraft);
  }

  async getServer(id: string): Promise<Server | null> {
    try {
      return await this.deps.compute.getServer(id, this.opts);
    } catch (e) {
      if (isHostmaintError(e) && e.kind === 'not-found') return null;
      throw e;
    }
  }

  resetAttempt(run: InstanceRun): void {
    run.migrationId = null;
    run.migrationUuid = null;
    run.migrationStatus = null;
    run.requestId = null;
    run.runningSince = null;
    run.lastProgressAt = null;
    run.memoryTotalBytes = null;
    run.memoryProcessedBytes = null;
    run.memoryRemainingBytes = null;
    run.diskRemainingBytes = null;
    run.memoryRemainingLowBytes = null;
    run.diskRemainingLowBytes = null;
    run.timeoutAction = null;
    run.timeoutActionAt = null;
    run.progressReadAt = null;
    run.destination = null;
    run.rungs = [];
    run.stage = null;
  }

  /** A pending instance not requested this poll: say why, once each time the reason changes. */
  waiting(run: InstanceRun, why: WaitReason): void {
    if (run.waiting?.kind === why.kind && run.waiting.detail === why.detail) return;
    run.waiting = why;
    this.emit({ type: 'instance-waiting', serverId: run.serverId, name: run.name, waitingFor: why.kind, detail: why.detail });
  }

  /** One attempt failed: retry (back to pending) while attempts remain, else failed. */
  failAttempt(run: InstanceRun, reason: string, retry = true): void {
    this.ended(run);
    run.errors.push(`attempt ${run.attempts}: ${reason}`);
    this.resetAttempt(run);
    this.failedThisTick.add(run.serverId);
    // No retry past the drain's deadline: nothing starts after it.
    if (retry && !pastDeadline(this) && run.attempts < 1 + this.settings.retries) {
      run.phase = 'pending';
      run.note = null;
      this.emit({ type: 'migration-retried', serverId: run.serverId, name: run.name, attempt: run.attempts, error: reason });
    } else if (retry && !pastDeadline(this) && run.method === 'live' && run.fallback) {
      // --fallback: live failed for good; move it cold (or stop, move, start), with its own attempts.
      const to = run.fallback;
      this.emit({ type: 'migration-fallback', serverId: run.serverId, name: run.name, to, afterAttempts: run.attempts, error: reason });
      run.escalations = [...(run.escalations ?? []), `after ${run.attempts} live attempt(s): fallback to ${to === 'stop' ? 'stop, cold-migrate, start' : 'cold migration'}`];
      run.method = 'cold';
      run.stopFirst = to === 'stop';
      run.fallback = null;
      run.attempts = 0;
      run.phase = 'pending';
      run.note = `live migration failed; falling back to ${to}`;
    } else {
      run.phase = 'failed';
      run.finishedAt = this.now;
      run.note = null;
      this.emit({ type: 'migration-failed', serverId: run.serverId, name: run.name, attempts: run.attempts, error: reason });
    }
  }

  ended(run: InstanceRun): void {
    if (run.method === 'live' && run.phase !== 'pending') this.endedThisTick.set(run.source, (this.endedThisTick.get(run.source) ?? 0) + 1);
  }

  complete(run: InstanceRun, to: string | null, note: string | null = null): void {
    this.ended(run);
    run.phase = 'done';
    run.to = to;
    run.finishedAt = this.now;
    run.firstStartedAt ??= this.now;
    if (note) run.note = note;
    this.emit({
      type: 'migration-completed',
      serverId: run.serverId,
      name: run.name,
      method: run.method,
      from: run.source,
      to,
      attempt: run.attempts,
      durationMs: run.finishedAt - run.firstStartedAt,
    });
  }

  /** Why an attempt failed, from the instance action's events (details from 2.84). */
  async failureReason(run: InstanceRun, server: Server | null): Promise<string | null> {
    const parts: string[] = [];
    try {
      let action: InstanceAction | null = null;
      if (run.requestId) {
        action = await this.deps.compute.getInstanceAction(run.serverId, run.requestId, this.opts);
      } else {
        const actions = await this.deps.compute.listInstanceActions(run.serverId, this.opts);
        const latest = actions
          .filter((a) => /migrat|shelve|resize/i.test(a.action))
          .sort((a, b) => (b.startTime ?? '').localeCompare(a.startTime ?? ''))[0];
        if (latest) action = await this.deps.compute.getInstanceAction(run.serverId, latest.requestId, this.opts);
      }
      if (action) {
        for (const e of action.events) {
          if (e.details && e.details.trim()) parts.push(`${e.event}: ${e.details.trim()}`);
          else if (e.result && !/success/i.test(e.result)) parts.push(`${e.event}: ${e.result}`);
        }
        if (parts.length === 0 && action.message) parts.push(action.message);
      }
    } catch (e) {
      this.deps.logger.debug('could not read the instance action', { serverId: run.serverId, error: errorText(e) });
    }
    if (server?.fault?.message && !parts.some((p) => p.includes(server.fault!.message))) parts.push(`fault: ${server.fault.message}`);
    return parts.length > 0 ? parts.join('; ') : null;
  }
}

/** The migration record of the current attempt: newer than the baseline, of the right type, from the source. */
export function attemptMigration(view: HostView, run: InstanceRun): Migration | null {
  const mine = view.migrations.filter(
    (m) => m.serverId === run.serverId && typeMatches(run, m) && (m.sourceCompute === run.source || m.sourceCompute === null),
  );
  if (run.migrationId !== null) {
    const known = mine.find((m) => m.id === run.migrationId);
    if (known) return known;
  }
  const newer = mine.filter((m) => m.id > run.baselineMigrationId).sort((a, b) => b.id - a.id);
  return newer[0] ?? null;
}

export function maxMigrationId(view: HostView, serverId: string): number {
  return view.migrations.filter((m) => m.serverId === serverId).reduce((max, m) => Math.max(max, m.id), 0);
}

/** Does this server's task state say it is already being moved the way `method` would move it? */
export function busyMoving(server: Server, method: InstanceRun['method']): boolean {
  const t = server.taskState ?? '';
  if (!t) return server.status === 'MIGRATING' || server.status === 'RESIZE';
  if (method === 'offload') return t.startsWith('shelving');
  return t === 'migrating' || t.startsWith('resize');
}

export function trackMigration(run: InstanceRun, mig: Migration): void {
  if (run.migrationId !== mig.id) {
    run.migrationId = mig.id;
    run.migrationUuid = mig.uuid;
  }
  if (!run.migrationIds.includes(mig.id)) run.migrationIds.push(mig.id);
  run.migrationStatus = mig.status;
  if (mig.destCompute) run.destination = mig.destCompute;
}

/** Done means: the host changed AND the status is back to the original (and, for live/cold, the record says completed). */
export const SETTLED = new Set(['ACTIVE', 'SHUTOFF', 'PAUSED']);

export function landed(run: InstanceRun, s: Server): boolean {
  const status = run.originalStatus === ANY_SETTLED_STATUS ? SETTLED.has(s.status) : s.status === run.originalStatus;
  return !!s.host && s.host !== run.source && status && !s.taskState;
}

