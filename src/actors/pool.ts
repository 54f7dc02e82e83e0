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
import { HostmaintError, errorText } from '../core/errors.js';
import type { CallOptions } from '../openstack/api.js';
import { isTerminal } from '../machines/pool.js';
import type { InstanceRun, PoolTickInput, PoolTickOutput } from '../machines/actor-io.js';
import type { ServiceRecord } from '../machines/records.js';
import type { ActorDeps } from './deps.js';
import { readServiceFor } from './service.js';

import { pastDeadline, Tick, type HostView } from './pool-tick.js';
import { watch } from './pool-watch.js';
import { restartLeftBehind } from './pool-stop.js';
import { nextHost, start } from './pool-start.js';
import { listingNeeded, selectProgressReads, StartGate, startLimits } from './pool-limits.js';

export { FINAL_MIGRATION_STATUSES, MAX_IN_FLIGHT, PROGRESS_READS_PER_POLL } from './pool-tick.js';
export { isWaiting, listingNeeded, slotsSeen } from './pool-limits.js';

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
  // Past the drain's deadline: nothing more starts; what has not started is over (the drain reports it).
  if (pastDeadline(t)) {
    for (const run of runs) {
      if (run.phase !== 'pending') continue;
      run.attempts = Math.max(run.attempts, 1);
      t.failAttempt(run, `not started: the drain's deadline (--deadline) passed at ${new Date(t.settings.deadlineAt!).toISOString()}`, false);
    }
  }
  // In the same poll that saw a slot free up, request the next ones.
  // Each one not requested says why (instance-waiting): the source's slots, a destination's limit, a group member moving.
  const limits = startLimits(t, runs, views);
  const gate = new StartGate(runs, t.settings, deps.moves ? { runId: input.runId, shared: deps.moves } : null);
  for (const run of runs) {
    if (run.phase !== 'pending' || t.failedThisTick.has(run.serverId)) continue;
    const why = gate.reason(run, limits.room(), hold, nextHost(run));
    if (why) {
      t.waiting(run, why);
      continue;
    }
    if (!views.get(run.source)?.servers) continue;
    gate.reserve();
    try {
      await guarded(run, () => start(t, run, views.get(run.source)!));
      limits.started(run);
      gate.started(run);
    } finally {
      gate.settle();
    }
  }
  await restartLeftBehind(t, runs);
  return { instances: runs, events: t.events, error: null, at: now, service };
}

