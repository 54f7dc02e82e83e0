/**
 * Watching one instance in flight, each poll: progress, stall and timeout of a live migration;
 * a cold migration to its confirm; an offload; a failed attempt read for its reason and retried.
 */
import { errorText, isHostmaintError } from '../core/errors.js';
import type { Migration, Server, ServerMigration } from '../openstack/types.js';
import type { InstanceRun, PoolSettings } from '../machines/actor-io.js';
import { ladderOf, type TimeoutPolicy } from '../machines/options.js';

import { movedStopped, startAfterMove, watchStopping } from './pool-stop.js';
import { COLD_RUNNING, FAILED, LIVE_QUEUED, LIVE_RUNNING, pastDeadline, Tick, attemptMigration, busyMoving, landed, secs, trackMigration, type HostView } from './pool-tick.js';

/**
 * How much of the guest's memory is across, in percent: total minus what remains. Not
 * processed/total: libvirt skips zero pages, so an idle guest's copy ends with "processed"
 * at a third of its memory. Null until Nova has a report.
 */
export function copiedPercent(total: number | null, remaining: number | null): number | null {
  if (!total || total <= 0 || remaining === null) return null;
  return Math.max(0, Math.min(100, Math.round(((total - remaining) / total) * 100)));
}

/**
 * Take one reading of a running live migration's figures into the instance's run; true when
 * it progressed. Progress is a new low of what remains, as Nova's own progress watermark:
 * a guest dirtying pages faster than the link makes what remains swing up and down for ever
 * without converging, and that is a stall. Nova serves 0 for every figure until libvirt's
 * first report (about 5 s into the copy): no data yet, not "nothing left".
 */
export function noteProgress(
  run: InstanceRun,
  sm: Pick<ServerMigration, 'memoryTotalBytes' | 'memoryProcessedBytes' | 'memoryRemainingBytes' | 'diskTotalBytes' | 'diskRemainingBytes'>,
  now: number,
): boolean {
  const rem = (sm.memoryTotalBytes ?? 0) > 0 ? sm.memoryRemainingBytes : null;
  const disk = (sm.diskTotalBytes ?? 0) > 0 ? sm.diskRemainingBytes : null;
  const lowMem = run.memoryRemainingLowBytes ?? run.memoryRemainingBytes;
  const lowDisk = run.diskRemainingLowBytes ?? run.diskRemainingBytes;
  const progressed = (rem !== null && (lowMem == null || rem < lowMem)) || (disk !== null && (lowDisk == null || disk < lowDisk));
  if (progressed) run.lastProgressAt = now;
  if (rem !== null) run.memoryRemainingLowBytes = lowMem == null ? rem : Math.min(lowMem, rem);
  if (disk !== null) run.diskRemainingLowBytes = lowDisk == null ? disk : Math.min(lowDisk, disk);
  run.memoryTotalBytes = sm.memoryTotalBytes;
  run.memoryProcessedBytes = sm.memoryProcessedBytes;
  run.memoryRemainingBytes = rem;
  run.diskRemainingBytes = disk;
  return progressed;
}

async function progressAndTimeouts(t: Tick, run: InstanceRun, mig: Migration): Promise<void> {
  const { deps, now, settings } = t;
  // Not this poll's turn: the stall and timeout checks wait for the next read of this one (at most a few polls away).
  if (!t.readProgress.has(run.serverId)) return;
  run.progressReadAt = now;
  try {
    const sm = await deps.compute.getServerMigration(run.serverId, mig.id, t.opts);
    noteProgress(run, sm, now);
  } catch (e) {
    // Finished between the two reads (404), or a hiccup: the next poll sees it.
    deps.logger.debug('could not read migration progress', { serverId: run.serverId, migrationId: mig.id, error: errorText(e) });
  }
  // Never negative: a run restored on a machine whose clock is behind starts its timers again.
  const stalledForMs = Math.max(0, now - (run.lastProgressAt ?? run.runningSince ?? now));
  const runningForMs = Math.max(0, now - (run.runningSince ?? now));
  const total = run.memoryTotalBytes;
  const percent = copiedPercent(total, run.memoryRemainingBytes);
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
  const late = pastDeadline(t);
  if (!stalled && !overtime && !late) return;
  const why = stalled
    ? `no memory progress for ${secs(stalledForMs)}`
    : overtime
      ? `running for ${secs(runningForMs)}, over the ${secs(settings.migrationTimeoutMs)} limit`
      : `the drain's deadline (--deadline) passed at ${new Date(settings.deadlineAt!).toISOString()}`;
  const stalledEvent = (action: TimeoutPolicy, step: number, steps: number) =>
    t.emit({ type: 'migration-stalled', serverId: run.serverId, name: run.name, migrationId: mig.id, action, stalledForMs, runningForMs, reason: why, step, steps });

  // The on-timeout ladder: the next step once the one before has had another stall timeout to finish it.
  const ladder = effectiveLadder(settings.onTimeout);
  // A snapshot of an older version has no rungs: the action it took counts as the first step.
  const taken = run.rungs ?? (run.timeoutAction ? [run.timeoutAction] : []);
  if (run.timeoutAction === 'abort') return; // asked already: wait for 'cancelled'
  if (run.timeoutAction !== null && run.timeoutActionAt !== null && now - run.timeoutActionAt < settings.stallTimeoutMs) return;
  const next = ladder[taken.length];
  if (next === undefined) return; // every step taken, the last one waiting: keep watching
  const took = (action: TimeoutPolicy, note: string) => {
    run.timeoutAction = action;
    run.timeoutActionAt = now;
    run.rungs = [...taken, action];
    run.escalations = [...(run.escalations ?? []), `attempt ${run.attempts}: ${action}`];
    run.note = note;
    stalledEvent(action, run.rungs.length, ladder.length);
  };
  if (next === 'wait') return took('wait', `${why}; waiting (on-timeout ${ladder.join(',')}, step ${taken.length + 1})`);
  if (next === 'force-complete') {
    try {
      await deps.compute.forceCompleteMigration(run.serverId, mig.id, t.opts);
      run.lastProgressAt = now;
      took('force-complete', `${why}; forced to complete (the guest pauses briefly)`);
    } catch (e) {
      run.note = `${why}; force-complete refused: ${errorText(e)}`;
    }
    return;
  }
  try {
    await deps.compute.abortMigration(run.serverId, mig.id, t.opts);
    took('abort', taken.length > 0 ? `${why}, even after ${taken.join(', ')}; aborted` : `${why}; aborted`);
  } catch (e) {
    run.note = `${why}; abort refused: ${errorText(e)}`;
  }
}

/**
 * The ladder as applied: a ladder whose last step is force-complete ends with an abort (a forced
 * migration that still does not finish is aborted, never left running unwatched), as before ladders.
 */
export function effectiveLadder(v: PoolSettings['onTimeout']): TimeoutPolicy[] {
  const ladder = ladderOf(v);
  return ladder[ladder.length - 1] === 'force-complete' ? [...ladder, 'abort'] : ladder;
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

/**
 * A requested move with no migration record yet: deleted, or landed without a record seen (the
 * server listing did not have it), still busy, or never started within the grace (failed).
 */
async function withoutRecord(t: Tick, run: InstanceRun, server: Server | null, method: 'live' | 'cold'): Promise<void> {
  if (!server) {
    const s = await t.getServer(run.serverId);
    if (!s) return t.complete(run, null, 'deleted during the drain');
    if (landed(run, s)) return t.complete(run, s.host, 'no migration record seen; the host changed and the status is back');
    return;
  }
  if (busyMoving(server, method)) return;
  if (run.requestedAt !== null && t.now - run.requestedAt >= t.settings.requestGraceMs) {
    t.failAttempt(run, (await t.failureReason(run, server)) ?? `no migration started within ${secs(t.settings.requestGraceMs)} of the request`);
  }
}

/** The phase becomes running (from now, unless it ran before); true when it was not running yet. */
function markRunning(t: Tick, run: InstanceRun): boolean {
  if (run.phase === 'running') return false;
  run.phase = 'running';
  run.runningSince ??= t.now;
  return true;
}

async function abortQueued(t: Tick, run: InstanceRun, mig: Migration): Promise<void> {
  const why = `the drain's deadline (--deadline) passed at ${new Date(t.settings.deadlineAt!).toISOString()} before it started`;
  try {
    await t.deps.compute.abortMigration(run.serverId, mig.id, t.opts);
    run.timeoutAction = 'abort';
    run.timeoutActionAt = t.now;
    run.note = `${why}; aborted`;
    t.emit({ type: 'migration-stalled', serverId: run.serverId, name: run.name, migrationId: mig.id, action: 'abort', stalledForMs: 0, runningForMs: 0, reason: why });
  } catch (e) {
    // Older Nova (before 2.65) cannot abort a queued migration: it gets the on-timeout action once it runs.
    run.note = `${why}; abort refused: ${errorText(e)}`;
  }
}

async function watchLive(t: Tick, run: InstanceRun, view: HostView, server: Server | null, mig: Migration, st: string): Promise<void> {
  if (LIVE_QUEUED.has(st)) {
    if (run.phase !== 'queued') {
      run.phase = 'queued';
      t.emit({ type: 'migration-queued', serverId: run.serverId, name: run.name, attempt: run.attempts, migrationId: mig.id, status: mig.status, to: mig.destCompute ?? null });
    }
    // Past the drain's deadline a queued migration is taken back before it starts (Nova 2.65+ aborts queued ones).
    if (pastDeadline(t) && run.timeoutAction === null) await abortQueued(t, run, mig);
    return;
  }
  if (LIVE_RUNNING.has(st)) {
    if (markRunning(t, run)) run.lastProgressAt ??= t.now;
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

async function watchCold(t: Tick, run: InstanceRun, server: Server | null, mig: Migration, st: string): Promise<void> {
  if (COLD_RUNNING.has(st)) {
    markRunning(t, run);
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
    if (s.status === 'ERROR') return t.failAttempt(run, `its cold migration ended with the instance in ERROR on ${s.host ?? '?'}${s.fault?.message ? ` (${s.fault.message})` : ''}`, false);
    if (movedStopped(run, s)) return startAfterMove(t, run, s);
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

export async function watch(t: Tick, run: InstanceRun, view: HostView): Promise<void> {
  const server = view.servers?.get(run.serverId) ?? null;
  if (run.method === 'offload') return watchOffload(t, run, server);
  if (run.stage === 'stopping') return watchStopping(t, run, view, server);
  // A live or cold move: by its migration record, once Nova has one.
  const mig = attemptMigration(view, run);
  if (!mig) return withoutRecord(t, run, server, run.method);
  trackMigration(run, mig);
  const st = mig.status.toLowerCase();
  return run.method === 'live' ? watchLive(t, run, view, server, mig, st) : watchCold(t, run, server, mig, st);
}

