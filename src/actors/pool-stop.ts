/**
 * The instance policy `stop`: stop the server, cold-migrate it, confirm, start it again on its new
 * host. The stop and the start are each asked for once and then watched; each step is reconciled
 * with what Nova shows first, so a resumed run neither stops nor starts a server twice.
 */
import { errorText, isHostmaintError } from '../core/errors.js';
import type { Server } from '../openstack/types.js';
import type { InstanceRun } from '../machines/actor-io.js';
import { Tick, attemptMigration, busyMoving, maxMigrationId, pastDeadline, secs, type HostView } from './pool-tick.js';

/**
 * A move of a running instance whose server is stopped on its new host: the stop policy's (started
 * again by hostmaint), or a cold move of an ACTIVE server that Nova did not power on again.
 */
export function movedStopped(run: InstanceRun, s: Server): boolean {
  const wasRunning = run.stopFirst === true || run.originalStatus === 'ACTIVE';
  return wasRunning && !!s.host && s.host !== run.source && s.status === 'SHUTOFF' && !s.taskState;
}

/** Ask for the stop (the attempt begins; the cold migration follows once the server is SHUTOFF). */
export async function requestStop(t: Tick, run: InstanceRun): Promise<boolean> {
  try {
    await t.deps.compute.stopServer(run.serverId, t.opts);
  } catch (e) {
    // A lost answer may have been applied: the next poll looks at the server.
    if (!(isHostmaintError(e) && e.kind === 'unknown-outcome')) {
      t.failAttempt(run, `stop request refused: ${errorText(e)}`, !(isHostmaintError(e) && (e.kind === 'forbidden' || e.kind === 'auth')));
      return false;
    }
  }
  markStopping(run);
  return true;
}

/** The attempt waits for the server's stop (asked now, or found under way). */
export function markStopping(run: InstanceRun): void {
  run.stage = 'stopping';
  run.phase = 'requested';
  run.note = 'stopping it before its cold migration (instance policy stop)';
}

/** Read the server until `done` holds or `ms` have passed (the last read; null once it is gone). */
async function readUntil(t: Tick, id: string, first: Server, done: (s: Server) => boolean, ms: number): Promise<Server | null> {
  let s: Server | null = first;
  for (let waited = 0; s && !done(s) && waited < ms; waited += RESTART_POLL_MS) {
    await t.deps.clock.sleep(RESTART_POLL_MS, t.opts.signal);
    s = await t.getServer(id).catch(() => null);
  }
  return s;
}

/** Watch the stop; once SHUTOFF, ask for the cold migration. */
export async function watchStopping(t: Tick, run: InstanceRun, view: HostView, listed: Server | null): Promise<void> {
  const s = listed ?? (await t.getServer(run.serverId));
  if (!s) return t.complete(run, null, 'deleted during the drain');
  // Moving or moved already (our request went through before a crash, or another actor's): the cold path watches it.
  if ((s.host && s.host !== run.source) || busyMoving(s, 'cold') || s.status === 'VERIFY_RESIZE' || attemptMigration(view, run)) {
    run.stage = null;
    return;
  }
  if (s.status === 'ERROR') return t.failAttempt(run, `stopping it left it in ERROR${s.fault?.message ? ` (${s.fault.message})` : ''}`, false);
  if (s.status !== 'SHUTOFF' || s.taskState) {
    // Still powering off: Nova's graceful shutdown ends in SHUTOFF (or ERROR); never give up on it half-way.
    // ACTIVE and idle long after the request: the stop was lost; another attempt asks again.
    const since = run.requestedAt ?? t.now;
    if (!s.taskState && s.status === 'ACTIVE' && t.now - since >= t.settings.requestGraceMs) t.failAttempt(run, `not stopped ${secs(t.now - since)} after the request (still ACTIVE)`);
    return;
  }
  // Stopped, but the drain's deadline passed: no migration any more; it is started again where it is.
  if (pastDeadline(t)) return t.failAttempt(run, `stopped, but the drain's deadline (--deadline) passed at ${new Date(t.settings.deadlineAt!).toISOString()}: not moved`, false);
  const host = run.destination ?? null;
  try {
    const acc = await t.deps.compute.coldMigrate(run.serverId, { host }, t.opts);
    run.requestId = acc.requestId;
  } catch (e) {
    if (!(isHostmaintError(e) && e.kind === 'unknown-outcome')) return t.failAttempt(run, `cold migration request refused: ${errorText(e)}`);
  }
  run.stage = null;
  run.requestedAt = t.now;
  run.baselineMigrationId = maxMigrationId(view, run.serverId);
  run.note = 'stopped; cold migration requested';
}

/** On its new host and stopped: start it (once per grace period), then the cold path sees it ACTIVE and completes. */
export async function startAfterMove(t: Tick, run: InstanceRun, s: Server): Promise<void> {
  run.phase = 'confirming';
  if (run.stage === 'starting' && run.lastProgressAt !== null && t.now - run.lastProgressAt < t.settings.requestGraceMs) return;
  if (run.stage === 'starting' && run.timeoutActionAt !== null && t.now - run.timeoutActionAt >= t.settings.stallTimeoutMs) {
    return t.failAttempt(run, `moved to ${s.host}, but it did not start there within ${secs(t.now - run.timeoutActionAt)}: start it (openstack server start ${run.serverId})`, false);
  }
  if (run.stage !== 'starting') run.timeoutActionAt = t.now;
  run.stage = 'starting';
  run.lastProgressAt = t.now;
  run.note = `on ${s.host}; starting it again (instance policy stop)`;
  try {
    await t.deps.compute.startServer(run.serverId, t.opts);
  } catch (e) {
    t.deps.logger.debug('start refused (reconciling next poll)', { serverId: run.serverId, error: errorText(e) });
  }
}

const RESTART_WAIT_MS = 60_000;
const RESTART_POLL_MS = 2_000;

/**
 * A stop-policy run that failed for good with its server stopped on the source: start it again,
 * so the drain never leaves an instance worse than it found it.
 */
export async function restartLeftBehind(t: Tick, runs: InstanceRun[]): Promise<void> {
  for (const run of runs) {
    if (!run.stopFirst || run.phase !== 'failed' || !t.failedThisTick.has(run.serverId)) continue;
    const first = await t.getServer(run.serverId).catch(() => null);
    // A task still running (a reverted migration settling): wait for it, bounded, before starting.
    const s = first && (await readUntil(t, run.serverId, first, (x) => !x.taskState, RESTART_WAIT_MS));
    if (!s || s.host !== run.source || s.status !== 'SHUTOFF' || s.taskState) {
      if (s && s.status === 'SHUTOFF') run.note = `not moved, and still stopped on ${s.host ?? '?'}: start it (openstack server start ${run.serverId})`;
      continue;
    }
    try {
      await t.deps.compute.startServer(run.serverId, t.opts);
      // Read back (bounded): say what Nova shows, not what was asked.
      const now = (await readUntil(t, run.serverId, s, (x) => x.status === 'ACTIVE' && !x.taskState, RESTART_WAIT_MS)) ?? s;
      run.note = now.status === 'ACTIVE' ? 'not moved; started again on the source' : `not moved; start requested on the source, still ${now.status} after ${RESTART_WAIT_MS / 1000} s`;
    } catch (e) {
      run.note = `not moved, and it could not be started again: openstack server start ${run.serverId} (${errorText(e)})`;
    }
  }
}
