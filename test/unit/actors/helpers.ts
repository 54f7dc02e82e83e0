import { memoryLogger } from '../../../src/log.js';
import type { ActorDeps } from '../../../src/actors/deps.js';
import { poolTick } from '../../../src/actors/pool.js';
import { isTerminal, newRun } from '../../../src/workflow/pool.js';
import type { DrainEventDraft, InstanceRun, MoveMethod, PoolSettings } from '../../../src/workflow/types.js';
import { FakeCloud } from '../../support/fake-cloud.js';

export function deps(cloud: FakeCloud, o: Partial<ActorDeps> = {}): ActorDeps {
  return {
    compute: cloud.compute,
    placement: cloud.placement,
    logger: memoryLogger(),
    clock: cloud.clock,
    resolveHost: async () => true,
    probeTcp: async () => true,
    ...o,
  };
}

/** compute-01 (to drain) + compute-02..N, default inventories. */
export function cloudWith(hosts = 3): FakeCloud {
  const c = new FakeCloud();
  for (let i = 1; i <= hosts; i++) c.addHost(`compute-0${i}`);
  return c;
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

/** Run poll after poll (pollMs apart on the fake clock) until the pool is finished. */
export async function drive(cloud: FakeCloud, instances: InstanceRun[], settings: Partial<PoolSettings> = {}, pollMs = 5000, maxTicks = 500, d = deps(cloud)): Promise<Driven> {
  let pool = instances;
  const events: DrainEventDraft[] = [];
  const callsPerTick: number[] = [];
  for (let tick = 1; tick <= maxTicks; tick++) {
    const before = cloud.count();
    const out = await poolTick(d, { runId: 'r1', host: 'compute-01', instances: pool, settings: { ...SETTINGS, ...settings } });
    callsPerTick.push(cloud.count() - before);
    if (out.error) throw new Error(out.error);
    pool = out.instances;
    events.push(...out.events);
    if (pool.every(isTerminal)) return { instances: pool, events, ticks: tick, callsPerTick };
    cloud.clock.advance(pollMs);
  }
  throw new Error(`pool did not finish: ${JSON.stringify(pool.map((r) => [r.serverId, r.phase]))}`);
}
