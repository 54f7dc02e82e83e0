/**
 * The instance policy `stop`: stop the server, cold-migrate it, confirm, start it again on its new
 * host. The stop and the start are each asked for once and then watched; each step is reconciled
 * with what Nova shows first, so a resumed run neither stops nor starts a server twice.
 */
import { errorText, isHostmaintError } from '../core/errors.js';
import type { Server } from '../openstack/types.js';
import type { InstanceRun } from '../machines/actor-io.js';
import { Tick, maxMigrationId, secs, type HostView } from './pool-tick.js';

/** A stop-policy run whose server is stopped on its new host, not started yet. */
export function movedStopped(run: InstanceRun, s: Server): boolean {
  return run.stopFirst === true && !!s.host && s.host !== run.source && s.status === 'SHUTOFF' && !s.taskState;
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
  run.stage = 'stopping';
  run.phase = 'requested';
  run.note = 'stopping it before its cold migration (instance policy stop)';
  return true;
}

/** Watch the stop; once SHUTOFF, ask for the cold migration. */
export async function watchStopping(t: Tick, run: InstanceRun, view: HostView, listed: Server | null): Promise<void> {
  const s = listed ?? (await t.getServer(run.serverId));
  if (!s) return t.complete(run, null, 'deleted during the drain');
  if (s.host && s.host !== run.source) {
    run.stage = null;
    return; // moved already (another actor): the cold path watches it
  }
  if (s.status === 'ERROR') return t.failAttempt(run, `stopping it left it in ERROR${s.fault?.message ? ` (${s.fault.message})` : ''}`, false);
  if (s.status !== 'SHUTOFF' || s.taskState) {
    const since = run.requestedAt ?? t.now;
    if (t.now - since >= t.settings.stallTimeoutMs) t.failAttempt(run, `not stopped after ${secs(t.now - since)} (now ${s.status}${s.taskState ? `, ${s.taskState}` : ''})`);
    return;
  }
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

/**
 * A stop-policy run that failed for good with its server stopped on the source: start it again,
 * so the drain never leaves an instance worse than it found it.
 */
export async function restartLeftBehind(t: Tick, runs: InstanceRun[]): Promise<void> {
  for (const run of runs) {
    if (!run.stopFirst || run.phase !== 'failed' || !t.failedThisTick.has(run.serverId)) continue;
    const s = await t.getServer(run.serverId).catch(() => null);
    if (!s || s.host !== run.source || s.status !== 'SHUTOFF' || s.taskState) continue;
    try {
      await t.deps.compute.startServer(run.serverId, t.opts);
      run.note = 'not moved; started again on the source';
    } catch (e) {
      run.note = `not moved, and it could not be started again: openstack server start ${run.serverId} (${errorText(e)})`;
    }
  }
}
