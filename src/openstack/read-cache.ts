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

/**
 * For a read-only run over many hosts (a rolling `--dry-run`): the per-host
 * reads that have a cloud-wide listing are answered from that listing,
 * filtered in memory as the API filters, so each listing is one request for
 * the whole run (with readThroughSession over it):
 *   listServices({host, binary})          <- listServices({binary}), by host
 *   findHypervisors(host)                  <- listHypervisors(), hostname containing host (hypervisor_hostname_pattern)
 *   listProviders({name})                  <- listProviders({}), by name
 *   listMigrations({sourceCompute, status}) <- listMigrations({status}), by source compute
 *   listServersOnHost(host)                <- listServers({allProjects}) + the soft-deleted ones, by host
 * Other calls go to the client. Never for a run that changes anything.
 */
export function bulkViews<S extends { compute: ComputeApi; placement: PlacementApi }>(session: S): { compute: ComputeApi; placement: PlacementApi } {
  const compute = session.compute;
  const placement = session.placement;
  const onlyKeys = (q: object, keys: string[]): boolean => Object.keys(q).every((k) => keys.includes(k));
  const c: ComputeApi = Object.create(compute) as ComputeApi;
  c.listServices = async (query, opts) => {
    if (query.host === undefined || query.binary === undefined) return compute.listServices(query, opts);
    return (await compute.listServices({ binary: query.binary }, opts)).filter((s) => s.host === query.host);
  };
  c.findHypervisors = async (host, opts) => {
    if (opts?.withServers === true) return compute.findHypervisors(host, opts);
    return (await compute.listHypervisors(opts)).filter((h) => h.hostname.includes(host));
  };
  c.listMigrations = async (query, opts) => {
    const q = query as unknown as Record<string, unknown>;
    if (typeof q.sourceCompute !== 'string' || typeof q.status !== 'string' || !onlyKeys(q, ['sourceCompute', 'status'])) return compute.listMigrations(query, opts);
    return (await compute.listMigrations({ status: q.status } as typeof query, opts)).filter((m) => m.sourceCompute === q.sourceCompute);
  };
  c.listServersOnHost = async (host, opts) => {
    // As listServersOnHost asks: every project's live servers, then the soft-deleted ones, each listing once for all hosts.
    const [live, soft] = await Promise.all([compute.listServers({ allProjects: true }, opts), compute.listServers({ allProjects: true, status: 'SOFT_DELETED', deleted: true }, opts)]);
    const here = live.filter((s) => s.host === host);
    const ids = new Set(here.map((s) => s.id));
    return [...here, ...soft.filter((s) => s.host === host && !ids.has(s.id))];
  };
  const p: PlacementApi = Object.create(placement) as PlacementApi;
  p.listProviders = async (query, opts) => {
    if (query.name === undefined || !onlyKeys(query, ['name'])) return placement.listProviders(query, opts);
    return (await placement.listProviders({}, opts)).filter((x) => x.name === query.name);
  };
  return { compute: c, placement: p };
}
