import { memoryLogger } from '../../../src/core/log.js';
import type { ActorDeps } from '../../../src/actors/deps.js';
import { poolTick } from '../../../src/actors/pool.js';
import { isTerminal, newRun } from '../../../src/machines/pool.js';
import type { AllocationCandidates } from '../../../src/openstack/types.js';
import type { DrainEventDraft } from '../../../src/machines/events.js';
import type { InstanceRun, PoolSettings } from '../../../src/machines/actor-io.js';
import type { MoveMethod } from '../../../src/machines/records.js';
import { FakeCloud } from '../../support/fake-cloud.js';

const realistic = new WeakSet<FakeCloud>();

/**
 * Give the fake cloud Placement's allocation candidates (the shared fake
 * answers none): every enabled provider where the request fits (capacity,
 * max_unit, min_unit, step_size), with summaries of all its resource classes,
 * as Placement 1.27+ answers. Calls are recorded like the fake's own.
 */
export function withAllocationCandidates(cloud: FakeCloud): FakeCloud {
  if (realistic.has(cloud)) return cloud;
  realistic.add(cloud);
  const inner = cloud as unknown as { call<T>(m: string, a: unknown[], fn: () => T): Promise<T>; usedOn(h: string): Record<string, number> };
  cloud.placement.getAllocationCandidates = (q) =>
    inner.call('getAllocationCandidates', [q], (): AllocationCandidates => {
      const allocationRequests: AllocationCandidates['allocationRequests'] = [];
      const providerSummaries: AllocationCandidates['providerSummaries'] = {};
      const forbidDisabled = (q.required ?? []).includes('!COMPUTE_STATUS_DISABLED');
      for (const svc of cloud.services) {
        const inv = cloud.inventories.get(svc.host);
        if (!inv || (forbidDisabled && svc.status === 'disabled')) continue;
        const used = inner.usedOn(svc.host);
        const cap = (rc: string) => Math.trunc((inv[rc]!.total - inv[rc]!.reserved) * inv[rc]!.allocationRatio);
        const fits = Object.entries(q.resources).every(([rc, n]) => {
          const i = inv[rc];
          return !!i && n <= i.maxUnit && n >= i.minUnit && n % i.stepSize === 0 && (used[rc] ?? 0) + n <= cap(rc);
        });
        if (!fits) continue;
        const uuid = `rp-${svc.host}`;
        allocationRequests.push({ [uuid]: { ...q.resources } });
        const resources: Record<string, { capacity: number; used: number }> = {};
        for (const rc of Object.keys(inv)) resources[rc] = { capacity: cap(rc), used: used[rc] ?? 0 };
        providerSummaries[uuid] = { resources, traits: [], rootProviderUuid: uuid, parentProviderUuid: null };
      }
      return { allocationRequests, providerSummaries };
    });
  return cloud;
}

export function deps(cloud: FakeCloud, o: Partial<ActorDeps> = {}): ActorDeps {
  withAllocationCandidates(cloud);
  return {
    compute: cloud.compute,
    placement: cloud.placement,
    logger: memoryLogger(),
    clock: cloud.clock,
    net: { resolve: async () => '192.0.2.10', routeTo: async () => null, probeTcp: async () => true },
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
    const out = await poolTick(d, { runId: 'r1', host: 'compute-01', instances: pool, settings: { ...SETTINGS, ...settings }, watch: null });
    callsPerTick.push(cloud.count() - before);
    if (out.error) throw new Error(out.error);
    pool = out.instances;
    events.push(...out.events);
    if (pool.every(isTerminal)) return { instances: pool, events, ticks: tick, callsPerTick };
    cloud.clock.advance(pollMs);
  }
  throw new Error(`pool did not finish: ${JSON.stringify(pool.map((r) => [r.serverId, r.phase]))}`);
}
