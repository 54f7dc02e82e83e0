/** Requesting one instance's move, after reconciling it with what the cloud shows: never a second request for a server already moving or gone. */
import { errorText, isHostmaintError } from '../core/errors.js';
import type { InstanceRun } from '../machines/actor-io.js';

import { markStopping, requestStop } from './pool-stop.js';
import { FINAL_MIGRATION_STATUSES, Tick, busyMoving, landed, maxMigrationId, trackMigration, type HostView } from './pool-tick.js';

function startAttemptFields(t: Tick, run: InstanceRun, view: HostView, adopted: boolean): void {
  t.resetAttempt(run);
  run.attempts += 1;
  run.adopted = run.adopted || adopted;
  run.requestedAt = t.now;
  run.firstStartedAt ??= t.now;
  run.baselineMigrationId = maxMigrationId(view, run.serverId);
  run.note = null;
  run.waiting = null;
}

/** The host the next attempt requests (pinned runs), or null: Nova's scheduler chooses. */
export function nextHost(run: InstanceRun): string | null {
  return run.pinnedHosts.length > 0 ? run.pinnedHosts[run.attempts % run.pinnedHosts.length]! : null;
}

/** Reconcile, then act: adopt what already moves, skip what already left, request the rest. */
export async function start(t: Tick, run: InstanceRun, view: HostView): Promise<void> {
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
  // Instance policy stop: stop it first (the cold migration follows once it is SHUTOFF); stopped already, move it.
  const stoppedForMove = run.stopFirst === true && server.status === 'SHUTOFF' && run.originalStatus === 'ACTIVE';
  if (run.stopFirst && server.status === 'ACTIVE' && server.taskState === 'powering-off') {
    // Our stop of an earlier attempt (or before a crash) still under way: watch it, do not ask twice.
    startAttemptFields(t, run, view, true);
    run.destination = nextHost(run);
    markStopping(run);
    return;
  }
  if (run.stopFirst && server.status === 'ACTIVE' && !server.taskState) {
    const host = nextHost(run);
    startAttemptFields(t, run, view, false);
    run.destination = host;
    if (await requestStop(t, run)) t.emit({ type: 'migration-started', serverId: run.serverId, name: run.name, method: run.method, attempt: run.attempts, target: host, adopted: false });
    return;
  }
  if (server.status !== run.originalStatus && !stoppedForMove) {
    if (server.status === 'ERROR') return t.failAttempt(run, `the instance is in ERROR${server.fault?.message ? ` (${server.fault.message})` : ''}; not moved`, false);
    return t.failAttempt(run, `its status changed from ${run.originalStatus} to ${server.status} since the preflight; not moved`, false);
  }

  const host = nextHost(run);
  startAttemptFields(t, run, view, false);
  run.destination = host;
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

