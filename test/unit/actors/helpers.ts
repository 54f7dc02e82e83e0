/**
 * The migration pool's tests drive poolTick poll after poll against the
 * emulator (test/support/emulated.ts): hostmaint's real clients over HTTP, the
 * cloud and hostmaint on one VirtualClock, each poll `pollMs` of it apart.
 */
import type { ActorDeps } from '../../../src/actors/deps.js';
import { poolTick } from '../../../src/actors/pool.js';
import { isTerminal, newRun } from '../../../src/machines/pool.js';
import type { DrainEventDraft } from '../../../src/machines/events.js';
import type { InstanceRun, PoolSettings } from '../../../src/machines/actor-io.js';
import type { MoveMethod } from '../../../src/machines/records.js';
import type { ComputeApi } from '../../../src/openstack/api.js';
import { actorDeps, closer, emulated, hostsN, type Emulated, type EmulatedOptions, type ServerOpts } from '../../support/emulated.js';

export { actorDeps as deps };

/**
 * Live migrations of about 27 s for a 4 GiB guest (4096 MB copied at 200 MB/s
 * while 50 MB/s are dirtied), cold ones of 20 s, offloads of 5 s: a poll every
 * 5 s sees each one queued, running and done.
 */
export const POOL_MODEL = { schedule_ms: 300, preparing_ms: 500, post_migrating_ms: 500, bandwidth_mbps: 200, dirty_rate_mbps: 50, cold_migration_ms: 20_000, confirm_ms: 500, action_ms: 5000 };

export const clouds = closer();

/** compute-01 (to drain) + compute-02..N (one live-migration slot each), with `servers` (on compute-01 unless said). */
export async function cloudWith(hosts = 3, servers: ServerOpts[] = [], o: Partial<EmulatedOptions> = {}): Promise<Emulated> {
  return clouds.track(await emulated({ hosts: hostsN(hosts), servers, migration: POOL_MODEL, ...o }));
}

/** Migration statuses that are over (Nova's final ones). */
const OVER = new Set(['completed', 'confirmed', 'error', 'failed', 'cancelled', 'reverted', 'done']);

/** Live migrations Nova has not finished (accepted, queued, preparing, running, post-migrating). */
export function unfinished(c: Emulated): number {
  return c.emu.state.migrations().filter((m) => !OVER.has(m.status)).length;
}

/** The real ComputeApi, with `after` called once each live-migration request returned (a spy: nothing is stubbed). */
export function spyLiveMigrate(c: Emulated, after: () => void): ComputeApi {
  const api = c.session.compute;
  return Object.assign(Object.create(api) as ComputeApi, {
    liveMigrate: async (...args: Parameters<ComputeApi['liveMigrate']>) => {
      const r = await api.liveMigrate(...args);
      after();
      return r;
    },
  });
}

export const SETTINGS: PoolSettings = { concurrency: 2, retries: 2, stallTimeoutMs: 60_000, migrationTimeoutMs: 3_600_000, onTimeout: 'abort', requestGraceMs: 30_000 };

export function run(serverId: string, method: MoveMethod = 'live', o: Partial<InstanceRun> = {}): InstanceRun {
  return { ...newRun({ serverId, name: serverId, method, source: 'compute-01', originalStatus: method === 'cold' ? 'SHUTOFF' : method === 'offload' ? 'SHELVED' : 'ACTIVE', plannedTarget: null, pinnedHosts: [] }), ...o };
}

export interface Driven {
  instances: InstanceRun[];
  events: DrainEventDraft[];
  ticks: number;
  /** API calls per tick. */
  callsPerTick: number[];
}

/** Run poll after poll (pollMs apart on the shared clock) until the pool is finished. */
export async function drive(cloud: Emulated, instances: InstanceRun[], settings: Partial<PoolSettings> = {}, pollMs = 5000, maxTicks = 500, d: ActorDeps = actorDeps(cloud)): Promise<Driven> {
  let pool = instances;
  const events: DrainEventDraft[] = [];
  const callsPerTick: number[] = [];
  for (let tick = 1; tick <= maxTicks; tick++) {
    const before = cloud.count();
    const out = await poolTick(d, { runId: 'r1', host: 'compute-01', instances: pool, settings: { ...SETTINGS, ...settings }, watch: null });
    callsPerTick.push(cloud.count() - before);
    if (out.error) throw new Error(out.error);
    pool = out.instances;
    events.push(...out.events);
    if (pool.every(isTerminal)) return { instances: pool, events, ticks: tick, callsPerTick };
    await cloud.clock.sleep(pollMs);
  }
  throw new Error(`pool did not finish: ${JSON.stringify(pool.map((r) => [r.serverId, r.phase]))}`);
}
