/**
 * One poll of the migration pool: the machine keeps the pool in its context and
 * invokes this once per poll interval. It reconciles every instance with what
 * the cloud shows, applies the stall/timeout policy, reads failure reasons,
 * retries, and requests new migrations in the same poll that saw slots free
 * up. It returns the updated pool and the progress events; it never rejects
 * for one instance.
 *
 * How many it requests (see startLimits): in a drain, `concurrency` bounds the
 * requests *waiting* in Nova, not the running ones. Nova runs
 * max_concurrent_live_migrations per compute and queues the rest; a queued
 * request costs nothing and starts the moment a slot frees, so the compute
 * never idles between polls. Once Nova's queue shows how many slots the
 * compute has, hostmaint keeps a full round of them queued.
 *
 * Requests per poll, whatever the number of waiting instances:
 *   per source host: one listMigrations({host}); one server listing
 *   (GET /servers/detail?host=) only when the poll may request more (reconcile
 *   before acting) or a run cannot be told from its migration record
 *   (listingNeeded)
 *   PROGRESS_READS_PER_POLL progress read(s) (getServerMigration), the running
 *   migration read longest ago first (and any not read for a quarter of the
 *   stall timeout); none for one not yet seen running in an earlier poll
 *   one-off per instance: the POST, a getServer once its migration completed
 *   (where did it land, in which state), the failure reason (instance action)
 *   when an attempt failed.
 *
 * Safe to repeat (a restored run re-runs the tick it crashed in): an instance
 * that already moves (in-progress migration or busy task_state) or already left
 * the host is adopted and watched; a second request is never sent.
 */
import { steadyNow } from '../core/clock.js';
import { HostmaintError, errorText, isHostmaintError } from '../core/errors.js';
import type { CallOptions } from '../openstack/api.js';
import type { InstanceAction, Migration, Server } from '../openstack/types.js';
import { ANY_SETTLED_STATUS, IN_FLIGHT_PHASES, isTerminal } from '../machines/pool.js';
import type { DrainEventBody, DrainEventDraft } from '../machines/events.js';
import type { InstanceRun, PoolTickInput, PoolTickOutput } from '../machines/actor-io.js';
import type { ServiceRecord } from '../machines/records.js';
import type { ActorDeps } from './deps.js';
import { readServiceFor } from './service.js';

/** Migration statuses that are over (nothing left to wait for). 'finished' is not: a cold migration awaits confirm. */
export const FINAL_MIGRATION_STATUSES: ReadonlySet<string> = new Set(['completed', 'confirmed', 'error', 'failed', 'cancelled', 'reverted', 'done']);
/** Waiting for one of the source compute's max_concurrent_live_migrations slots (Nova sets 'preparing' once it has one). */
const LIVE_QUEUED = new Set(['accepted', 'queued', 'pre-migrating']);
/** Holding a slot of the source compute. */
const LIVE_RUNNING = new Set(['preparing', 'running', 'post-migrating']);
/** Progress reads per poll (oldest read first), whatever the number of running migrations. */
export const PROGRESS_READS_PER_POLL = 1;
/** Guard for computes that run any number of live migrations at once (max_concurrent_live_migrations = 0). */
export const MAX_IN_FLIGHT = 16;
const COLD_RUNNING = new Set(['accepted', 'queued', 'preparing', 'pre-migrating', 'migrating', 'running', 'post-migrating']);
const FAILED = new Set(['error', 'failed', 'cancelled', 'reverted']);

function typeMatches(run: InstanceRun, m: Migration): boolean {
  const t = (m.migrationType ?? '').toLowerCase();
  if (run.method === 'live') return t === 'live-migration' || t === '';
  if (run.method === 'cold') return t === 'migration' || t === 'resize' || t === '';
  return false;
}

function secs(ms: number): string {
  if (ms < 120_000) return `${Math.round(ms / 1000)}s`;
  return `${Math.round(ms / 60_000)} min`;
}

interface HostView {
  /** The servers on the source, when this poll listed them (see listingNeeded); null when it did not need to. */
  servers: Map<string, Server> | null;
  migrations: Migration[];
}

class Tick {
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
    run.timeoutAction = null;
    run.timeoutActionAt = null;
    run.progressReadAt = null;
  }

  /** One attempt failed: retry (back to pending) while attempts remain, else failed. */
  failAttempt(run: InstanceRun, reason: string, retry = true): void {
    this.ended(run);
    run.errors.push(`attempt ${run.attempts}: ${reason}`);
    this.resetAttempt(run);
    this.failedThisTick.add(run.serverId);
    if (retry && run.attempts < 1 + this.settings.retries) {
      run.phase = 'pending';
      run.note = null;
      this.emit({ type: 'migration-retried', serverId: run.serverId, name: run.name, attempt: run.attempts, error: reason });
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
function attemptMigration(view: HostView, run: InstanceRun): Migration | null {
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

function maxMigrationId(view: HostView, serverId: string): number {
  return view.migrations.filter((m) => m.serverId === serverId).reduce((max, m) => Math.max(max, m.id), 0);
}

/** Does this server's task state say it is already being moved the way `method` would move it? */
function busyMoving(server: Server, method: InstanceRun['method']): boolean {
  const t = server.taskState ?? '';
  if (!t) return server.status === 'MIGRATING' || server.status === 'RESIZE';
  if (method === 'offload') return t.startsWith('shelving');
  return t === 'migrating' || t.startsWith('resize');
}

function trackMigration(run: InstanceRun, mig: Migration): void {
  if (run.migrationId !== mig.id) {
    run.migrationId = mig.id;
    run.migrationUuid = mig.uuid;
  }
  if (!run.migrationIds.includes(mig.id)) run.migrationIds.push(mig.id);
  run.migrationStatus = mig.status;
}

/** Done means: the host changed AND the status is back to the original (and, for live/cold, the record says completed). */
const SETTLED = new Set(['ACTIVE', 'SHUTOFF', 'PAUSED']);

function landed(run: InstanceRun, s: Server): boolean {
  const status = run.originalStatus === ANY_SETTLED_STATUS ? SETTLED.has(s.status) : s.status === run.originalStatus;
  return !!s.host && s.host !== run.source && status && !s.taskState;
}

async function progressAndTimeouts(t: Tick, run: InstanceRun, mig: Migration): Promise<void> {
  const { deps, now, settings } = t;
  // Not this poll's turn: the stall and timeout checks wait for the next read of this one (at most a few polls away).
  if (!t.readProgress.has(run.serverId)) return;
  run.progressReadAt = now;
  try {
    const sm = await deps.compute.getServerMigration(run.serverId, mig.id, t.opts);
    const rem = sm.memoryRemainingBytes;
    const disk = sm.diskRemainingBytes;
    const progressed =
      (rem !== null && (run.memoryRemainingBytes === null || rem < run.memoryRemainingBytes)) ||
      (disk !== null && (run.diskRemainingBytes === null || disk < run.diskRemainingBytes));
    if (progressed) run.lastProgressAt = now;
    run.memoryTotalBytes = sm.memoryTotalBytes;
    run.memoryProcessedBytes = sm.memoryProcessedBytes;
    run.memoryRemainingBytes = rem;
    run.diskRemainingBytes = disk;
  } catch (e) {
    // Finished between the two reads (404), or a hiccup: the next poll sees it.
    deps.logger.debug('could not read migration progress', { serverId: run.serverId, migrationId: mig.id, error: errorText(e) });
  }
  // Never negative: a run restored on a machine whose clock is behind starts its timers again.
  const stalledForMs = Math.max(0, now - (run.lastProgressAt ?? run.runningSince ?? now));
  const runningForMs = Math.max(0, now - (run.runningSince ?? now));
  const total = run.memoryTotalBytes;
  const percent = total && run.memoryProcessedBytes !== null ? Math.min(100, Math.round((run.memoryProcessedBytes / total) * 100)) : null;
  t.emit({
    type: 'migration-progress',
    serverId: run.serverId,
    name: run.name,
    migrationId: mig.id,
    status: mig.status,
    memoryTotalBytes: run.memoryTotalBytes,
    memoryProcessedBytes: run.memoryProcessedBytes,
    memoryRemainingBytes: run.memoryRemainingBytes,
    percent,
    stalledForMs,
    to: mig.destCompute ?? null,
  });

  const stalled = stalledForMs >= settings.stallTimeoutMs;
  const overtime = runningForMs >= settings.migrationTimeoutMs;
  if (!stalled && !overtime) return;
  const why = stalled ? `no memory progress for ${secs(stalledForMs)}` : `running for ${secs(runningForMs)}, over the ${secs(settings.migrationTimeoutMs)} limit`;
  const stalledEvent = (action: 'abort' | 'force-complete' | 'wait') =>
    t.emit({ type: 'migration-stalled', serverId: run.serverId, name: run.name, migrationId: mig.id, action, stalledForMs, runningForMs, reason: why });

  if (settings.onTimeout === 'wait') {
    if (run.timeoutAction === null) {
      run.timeoutAction = 'wait';
      run.timeoutActionAt = now;
      run.note = `${why}; waiting (onTimeout=wait)`;
      stalledEvent('wait');
    }
    return;
  }
  if (settings.onTimeout === 'force-complete' && run.timeoutAction === null) {
    try {
      await deps.compute.forceCompleteMigration(run.serverId, mig.id, t.opts);
      run.timeoutAction = 'force-complete';
      run.timeoutActionAt = now;
      run.lastProgressAt = now;
      run.note = `${why}; forced to complete (the guest pauses briefly)`;
      stalledEvent('force-complete');
    } catch (e) {
      run.note = `${why}; force-complete refused: ${errorText(e)}`;
    }
    return;
  }
  if (run.timeoutAction === 'abort') return; // asked already: wait for 'cancelled'
  if (run.timeoutAction === 'force-complete' && run.timeoutActionAt !== null && now - run.timeoutActionAt < settings.stallTimeoutMs) return;
  try {
    await deps.compute.abortMigration(run.serverId, mig.id, t.opts);
    run.note = run.timeoutAction === 'force-complete' ? `${why}, even after force-complete; aborted` : `${why}; aborted`;
    run.timeoutAction = 'abort';
    run.timeoutActionAt = now;
    stalledEvent('abort');
  } catch (e) {
    run.note = `${why}; abort refused: ${errorText(e)}`;
  }
}

async function watchFailure(t: Tick, run: InstanceRun, server: Server | null, status: string): Promise<void> {
  const s = server ?? (await t.getServer(run.serverId));
  let reason: string;
  if (run.timeoutAction === 'abort') reason = `aborted by hostmaint: ${run.note ?? 'timeout'}`;
  else reason = (await t.failureReason(run, s)) ?? `migration ${status}`;
  if (!reason.startsWith('migration') && !reason.startsWith('aborted')) reason = `migration ${status}: ${reason}`;
  if (s && s.status === 'ERROR') {
    t.failAttempt(run, `${reason}; the instance is in ERROR${s.fault?.message ? ` (${s.fault.message})` : ''}`, false);
    return;
  }
  if (s && s.host && s.host !== run.source) {
    // Failed record, yet the server moved: believe the server only if it is settled in its original state.
    if (landed(run, s)) {
      t.complete(run, s.host, `migration record says ${status}, but the server is on ${s.host} and ${s.status}`);
      return;
    }
  }
  t.failAttempt(run, reason);
}

async function watchLive(t: Tick, run: InstanceRun, view: HostView, server: Server | null): Promise<void> {
  const mig = attemptMigration(view, run);
  if (mig) trackMigration(run, mig);
  if (!mig) {
    if (!server) {
      const s = await t.getServer(run.serverId);
      if (!s) return t.complete(run, null, 'deleted during the drain');
      if (landed(run, s)) return t.complete(run, s.host, 'no migration record seen; the host changed and the status is back');
      return;
    }
    if (busyMoving(server, 'live')) return;
    if (run.requestedAt !== null && t.now - run.requestedAt >= t.settings.requestGraceMs) {
      const reason = (await t.failureReason(run, server)) ?? `no migration started within ${secs(t.settings.requestGraceMs)} of the request`;
      t.failAttempt(run, reason);
    }
    return;
  }
  const st = mig.status.toLowerCase();
  if (LIVE_QUEUED.has(st)) {
    if (run.phase !== 'queued') {
      run.phase = 'queued';
      t.emit({ type: 'migration-queued', serverId: run.serverId, name: run.name, attempt: run.attempts, migrationId: mig.id, status: mig.status, to: mig.destCompute ?? null });
    }
    return;
  }
  if (LIVE_RUNNING.has(st)) {
    if (run.phase !== 'running') {
      run.phase = 'running';
      run.runningSince ??= t.now;
      run.lastProgressAt ??= t.now;
    }
    if (st === 'running') await progressAndTimeouts(t, run, mig);
    return;
  }
  if (st === 'completed') {
    // Where is the server now? From this poll's listing of the source when there is one, else from the server itself.
    let s: Server | null = null;
    let onSource: boolean;
    if (view.servers) {
      onSource = server !== null;
      if (!onSource) s = await t.getServer(run.serverId);
    } else {
      s = await t.getServer(run.serverId);
      onSource = s !== null && s.host === run.source;
    }
    if (onSource) {
      // Completed, yet still on the source: give Nova the grace period, then call it what it is.
      const since = run.runningSince ?? run.requestedAt ?? t.now;
      if (t.now - since >= t.settings.requestGraceMs) t.failAttempt(run, 'the migration record says completed, but the server is still on the source');
      return;
    }
    if (!s) return t.complete(run, null, 'deleted during the drain');
    if (landed(run, s)) return t.complete(run, s.host);
    if (s.status === 'ERROR') return t.failAttempt(run, `migration completed but the instance is in ERROR on ${s.host}`, false);
    return; // status not back yet (post-migration): next poll
  }
  if (FAILED.has(st)) return watchFailure(t, run, server, st);
}

async function watchCold(t: Tick, run: InstanceRun, view: HostView, server: Server | null): Promise<void> {
  const mig = attemptMigration(view, run);
  if (mig) trackMigration(run, mig);
  if (!mig) {
    if (!server) {
      const s = await t.getServer(run.serverId);
      if (!s) return t.complete(run, null, 'deleted during the drain');
      if (landed(run, s)) return t.complete(run, s.host, 'no migration record seen; the host changed and the status is back');
      return;
    }
    if (busyMoving(server, 'cold')) return;
    if (run.requestedAt !== null && t.now - run.requestedAt >= t.settings.requestGraceMs) {
      t.failAttempt(run, (await t.failureReason(run, server)) ?? `no migration started within ${secs(t.settings.requestGraceMs)} of the request`);
    }
    return;
  }
  const st = mig.status.toLowerCase();
  if (COLD_RUNNING.has(st)) {
    if (run.phase !== 'running') {
      run.phase = 'running';
      run.runningSince ??= t.now;
    }
    const runningForMs = t.now - (run.runningSince ?? t.now);
    if (runningForMs >= t.settings.migrationTimeoutMs && run.timeoutAction === null) {
      run.timeoutAction = 'wait';
      run.timeoutActionAt = t.now;
      run.note = `cold migration running for ${secs(runningForMs)}; a cold migration cannot be aborted: waiting`;
      t.emit({ type: 'migration-stalled', serverId: run.serverId, name: run.name, migrationId: mig.id, action: 'wait', stalledForMs: 0, runningForMs, reason: run.note });
    }
    return;
  }
  if (st === 'finished') {
    // Resized on the target, awaiting confirmation (VERIFY_RESIZE). Confirm once; again only after the grace period.
    const lastConfirm = run.phase === 'confirming' ? run.lastProgressAt : null;
    if (lastConfirm !== null && t.now - lastConfirm < t.settings.requestGraceMs) return;
    run.phase = 'confirming';
    run.lastProgressAt = t.now;
    try {
      await t.deps.compute.confirmResize(run.serverId, t.opts);
    } catch (e) {
      t.deps.logger.debug('confirm resize refused (reconciling next poll)', { serverId: run.serverId, error: errorText(e) });
      // Refused without effect (5xx, 503, connection refused): ask again at the next poll rather than
      // after the grace period. A lost answer (unknown-outcome) may have been applied: keep waiting.
      if (isHostmaintError(e) && e.kind !== 'unknown-outcome' && (e.retryable || e.kind === 'server-error' || e.kind === 'network')) {
        run.lastProgressAt = t.now - t.settings.requestGraceMs;
      }
    }
    return;
  }
  if (st === 'confirming') {
    run.phase = 'confirming';
    return;
  }
  if (st === 'confirmed' || st === 'done' || st === 'completed') {
    const s = server ?? (await t.getServer(run.serverId));
    if (!s) return t.complete(run, null, 'deleted during the drain');
    if (landed(run, s)) return t.complete(run, s.host);
    return;
  }
  if (FAILED.has(st)) return watchFailure(t, run, server, st);
}

async function watchOffload(t: Tick, run: InstanceRun, server: Server | null): Promise<void> {
  if (server) {
    if (server.status === 'ERROR') return t.failAttempt(run, (await t.failureReason(run, server)) ?? 'shelve-offload left the instance in ERROR', false);
    if (server.taskState) {
      run.phase = 'running';
      run.runningSince ??= t.now;
      return;
    }
    if (server.status === 'SHELVED' && run.requestedAt !== null && t.now - run.requestedAt >= t.settings.requestGraceMs) {
      t.failAttempt(run, (await t.failureReason(run, server)) ?? `shelve-offload did not start within ${secs(t.settings.requestGraceMs)}`);
    }
    return;
  }
  const s = await t.getServer(run.serverId);
  if (!s) return t.complete(run, null, 'deleted during the drain');
  if (s.status === 'SHELVED_OFFLOADED') return t.complete(run, null);
  if (s.status === 'ERROR') return t.failAttempt(run, 'shelve-offload left the instance in ERROR', false);
  if (s.host && s.host !== run.source) return t.complete(run, s.host, `left the host on its own (now ${s.status} on ${s.host})`);
}

async function watch(t: Tick, run: InstanceRun, view: HostView): Promise<void> {
  const server = view.servers?.get(run.serverId) ?? null;
  if (run.method === 'live') return watchLive(t, run, view, server);
  if (run.method === 'cold') return watchCold(t, run, view, server);
  return watchOffload(t, run, server);
}

function startAttemptFields(t: Tick, run: InstanceRun, view: HostView, adopted: boolean): void {
  t.resetAttempt(run);
  run.attempts += 1;
  run.adopted = run.adopted || adopted;
  run.requestedAt = t.now;
  run.firstStartedAt ??= t.now;
  run.baselineMigrationId = maxMigrationId(view, run.serverId);
  run.note = null;
}

/** Reconcile, then act: adopt what already moves, skip what already left, request the rest. */
async function start(t: Tick, run: InstanceRun, view: HostView): Promise<void> {
  const { compute } = t.deps;
  if (!view.servers) return; // not listed this poll: never request without looking first (next poll)
  const server = view.servers.get(run.serverId) ?? null;
  if (!server) {
    const s = await t.getServer(run.serverId);
    if (!s) return t.complete(run, null, 'deleted during the drain');
    run.firstStartedAt ??= t.now;
    if (run.method === 'offload' && s.status === 'SHELVED_OFFLOADED') return t.complete(run, null, 'already offloaded');
    if (landed(run, s)) return t.complete(run, s.host, 'already moved');
    if (s.taskState || s.status === 'VERIFY_RESIZE') {
      // Leaving or just left (cold: awaiting confirm): watch it.
      startAttemptFields(t, run, view, true);
      run.baselineMigrationId = 0;
      run.phase = 'requested';
      t.emit({ type: 'migration-started', serverId: run.serverId, name: run.name, method: run.method, attempt: run.attempts, target: null, adopted: true });
      return;
    }
    return t.complete(run, s.host, `left the host on its own (now ${s.status}${s.host ? ` on ${s.host}` : ''})`);
  }

  const inProgress = view.migrations
    .filter((m) => m.serverId === run.serverId && !FINAL_MIGRATION_STATUSES.has(m.status.toLowerCase()) && (m.sourceCompute === run.source || m.sourceCompute === null))
    .sort((a, b) => b.id - a.id)[0];
  if (inProgress || busyMoving(server, run.method)) {
    startAttemptFields(t, run, view, true);
    if (inProgress) {
      run.baselineMigrationId = inProgress.id - 1;
      trackMigration(run, inProgress);
    }
    run.phase = 'requested';
    run.note = 'already moving: watched, not requested again';
    t.emit({ type: 'migration-started', serverId: run.serverId, name: run.name, method: run.method, attempt: run.attempts, target: inProgress?.destCompute ?? null, adopted: true });
    return;
  }
  if (server.status !== run.originalStatus) {
    if (server.status === 'ERROR') return t.failAttempt(run, `the instance is in ERROR${server.fault?.message ? ` (${server.fault.message})` : ''}; not moved`, false);
    return t.failAttempt(run, `its status changed from ${run.originalStatus} to ${server.status} since the preflight; not moved`, false);
  }

  const host = run.pinnedHosts.length > 0 ? run.pinnedHosts[run.attempts % run.pinnedHosts.length]! : null;
  startAttemptFields(t, run, view, false);
  const started = () =>
    t.emit({ type: 'migration-started', serverId: run.serverId, name: run.name, method: run.method, attempt: run.attempts, target: host, adopted: false });
  try {
    const acc =
      run.method === 'live'
        ? await compute.liveMigrate(run.serverId, { host }, t.opts)
        : run.method === 'cold'
          ? await compute.coldMigrate(run.serverId, { host }, t.opts)
          : await compute.shelveOffload(run.serverId, t.opts);
    run.requestId = acc.requestId;
    run.phase = 'requested';
    started();
  } catch (e) {
    const kind = isHostmaintError(e) ? e.kind : 'internal';
    if (kind === 'unknown-outcome') {
      // Maybe it landed: the next poll looks at the server and its migrations before anything is sent again.
      run.phase = 'requested';
      run.note = `request outcome unknown (${errorText(e)}): reconciling`;
      started();
      return;
    }
    if (kind === 'not-found') return t.complete(run, null, 'deleted during the drain');
    if (kind === 'conflict') {
      const s = await t.getServer(run.serverId);
      if (s && busyMoving(s, run.method)) {
        run.phase = 'requested';
        run.adopted = true;
        run.note = 'already moving (409): watched';
        started();
        return;
      }
    }
    const retry = kind !== 'forbidden' && kind !== 'auth';
    t.failAttempt(run, `${run.method === 'offload' ? 'shelve-offload' : `${run.method} migration`} request refused: ${errorText(e)}`, retry);
  }
}

export async function poolTick(deps: ActorDeps, input: PoolTickInput, signal?: AbortSignal): Promise<PoolTickOutput> {
  // Durations and timeouts run on the steady clock: a wall-clock step never aborts a healthy migration.
  const now = steadyNow(deps.clock);
  const opts: CallOptions = { signal };
  const runs: InstanceRun[] = input.instances.map((r) => ({ ...r, migrationIds: [...r.migrationIds], errors: [...r.errors], pinnedHosts: [...r.pinnedHosts] }));
  const active = runs.filter((r) => !isTerminal(r));

  // A drain looks at its service before anything else, and acts only while it still holds it.
  let service: ServiceRecord | null = null;
  if (input.watch) {
    try {
      service = await readServiceFor(deps, { service: input.watch.service }, opts);
    } catch (e) {
      if (signal?.aborted || (e instanceof HostmaintError && e.kind === 'unknown-host')) throw e;
      deps.logger.warn('poll failed; retrying next interval', { error: errorText(e) });
      return { instances: input.instances, events: [], error: errorText(e), at: now, service: null };
    }
    if (service.status !== 'disabled' || service.disabledReason !== input.watch.reason) return { instances: input.instances, events: [], error: null, at: now, service };
  }
  // The source's nova-compute is down (no heartbeat): watch what is in flight, request nothing new.
  const hold = service?.state === 'down';
  if (active.length === 0) return { instances: runs, events: [], error: null, at: now, service };

  const views = new Map<string, HostView>();
  try {
    // The migrations of each source first: they tell whether this poll needs the source's server listing too.
    const sources = [...new Set(active.map((r) => r.source))];
    await Promise.all(sources.map(async (src) => views.set(src, { servers: null, migrations: await deps.compute.listMigrations({ host: src }, opts) })));
    await Promise.all(
      [...listingNeeded(runs, views, input.settings)].map(async (src) => {
        // Soft-deleted servers are the verification's business: one listing of what still runs on the source.
        const servers = await deps.compute.listServers({ allProjects: true, host: src }, opts);
        views.get(src)!.servers = new Map(servers.map((s) => [s.id, s]));
      }),
    );
  } catch (e) {
    if (signal?.aborted) throw e;
    deps.logger.warn('poll failed; retrying next interval', { error: errorText(e) });
    return { instances: input.instances, events: [], error: errorText(e), at: now, service };
  }

  const t = new Tick(deps, input, now, opts);
  selectProgressReads(t, runs, views);
  const guarded = async (run: InstanceRun, fn: () => Promise<void>) => {
    const before = JSON.stringify(run);
    try {
      await fn();
    } catch (e) {
      if (signal?.aborted) throw e;
      // A read for this one instance failed: leave it as it was, look again next poll.
      Object.assign(run, JSON.parse(before) as InstanceRun);
      deps.logger.warn('could not check an instance; retrying next poll', { serverId: run.serverId, error: errorText(e) });
    }
  };
  for (const run of runs) {
    if (isTerminal(run) || run.phase === 'pending') continue;
    await guarded(run, () => watch(t, run, views.get(run.source)!));
  }
  // In the same poll that saw a slot free up, request the next ones.
  const limits = startLimits(t, runs, views);
  for (const run of runs) {
    if (hold || !limits.room()) break;
    if (run.phase !== 'pending' || t.failedThisTick.has(run.serverId) || !views.get(run.source)?.servers) continue;
    await guarded(run, () => start(t, run, views.get(run.source)!));
    limits.started(run);
  }
  return { instances: runs, events: t.events, error: null, at: now, service };
}

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
    let slots = 0;
    for (const [source, view] of views) slots = Math.max(slots, slotsSeen(view.migrations, source, ended.get(source) ?? 0));
    const room =
      settings.bound === 'waiting'
        ? waiting < Math.max(settings.concurrency, slots) && inFlight < Math.max(settings.concurrency, settings.maxInFlight ?? MAX_IN_FLIGHT)
        : inFlight < settings.concurrency;
    if (room) for (const r of pending) need.add(r.source);
  }
  return need;
}

/**
 * Which running live migrations get a progress read this poll: the one read
 * longest ago (PROGRESS_READS_PER_POLL), plus any not read for a quarter of the
 * stall timeout, so stalls are still seen in time when many run at once.
 */
function selectProgressReads(t: Tick, runs: InstanceRun[], views: Map<string, HostView>): void {
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
function startLimits(t: Tick, runs: InstanceRun[], views: Map<string, HostView>) {
  const settings = t.settings;
  const byWaiting = settings.bound === 'waiting';
  const maxInFlight = Math.max(settings.concurrency, settings.maxInFlight ?? MAX_IN_FLIGHT);
  let slots = 0;
  for (const [source, view] of views) slots = Math.max(slots, slotsSeen(view.migrations, source, t.endedThisTick.get(source) ?? 0));
  const waitingTarget = Math.max(settings.concurrency, slots);
  let inFlight = runs.filter((r) => IN_FLIGHT_PHASES.has(r.phase)).length;
  let waiting = runs.filter(isWaiting).length;
  return {
    room: () => (byWaiting ? waiting < waitingTarget && inFlight < maxInFlight : inFlight < settings.concurrency),
    started: (run: InstanceRun) => {
      if (IN_FLIGHT_PHASES.has(run.phase)) inFlight++;
      if (isWaiting(run)) waiting++;
    },
  };
}
