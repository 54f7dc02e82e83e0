/**
 * A read-through cache over the compute and placement clients for read-only
 * work over many hosts (a rolling `--dry-run`): each read (list*, get*,
 * find*) with the same arguments is asked of the cloud once, and every later
 * call gets the same answer. The cloud-wide reads (services, hypervisors,
 * providers, allocation candidates, server groups, flavors) are then one
 * request each for the whole run, not one per host: the requests grow with
 * the hosts, not hosts x hosts. Never for a run that changes anything (the
 * answers would go stale). A failed read is not kept.
 */
import type { ComputeApi, PlacementApi } from './api.js';

const READ = /^(list|get|find)/;

function keyOf(name: string, args: unknown[]): string {
  // CallOptions (an AbortSignal, timeouts) are not part of what is asked.
  const plain = args.map((a) => (a && typeof a === 'object' && !Array.isArray(a) ? Object.fromEntries(Object.entries(a as Record<string, unknown>).filter(([k]) => k !== 'signal' && k !== 'timeoutMs')) : a));
  return `${name}:${JSON.stringify(plain)}`;
}

export interface ReadCacheStats {
  hits: number;
  misses: number;
}

function cached<T extends object>(api: T, stats: ReadCacheStats): T {
  const memo = new Map<string, Promise<unknown>>();
  return new Proxy(api, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof prop !== 'string' || typeof v !== 'function' || !READ.test(prop)) return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      return (...args: unknown[]) => {
        const key = keyOf(prop, args);
        const hit = memo.get(key);
        if (hit) {
          stats.hits++;
          return hit;
        }
        stats.misses++;
        const p = (v as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        memo.set(key, p);
        p.catch(() => memo.delete(key));
        return p;
      };
    },
  });
}

/** The session's clients, each read asked once (see above). */
export function readThroughSession<S extends { compute: ComputeApi; placement: PlacementApi }>(session: S): { compute: ComputeApi; placement: PlacementApi; stats: ReadCacheStats } {
  const stats: ReadCacheStats = { hits: 0, misses: 0 };
  return { compute: cached(session.compute, stats), placement: cached(session.placement, stats), stats };
}
