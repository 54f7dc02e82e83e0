/**
 * The order of a rolling run's hosts: as given, or the emptiest first (the
 * fewest instances to move, so the first waves are quick and leave room).
 *
 * How instances are counted, with as few requests as possible:
 * - hypervisor stats (`running_vms`) are gone from microversion 2.88, and
 *   hostmaint's Hypervisor model does not carry them anyway;
 * - listServersOnHost costs two requests per host (the live servers, then the
 *   soft-deleted ones);
 * - so: ONE server listing of every project (`GET /servers/detail?all_tenants=1`,
 *   paged at 1000), counted by the server's host. That is one request for a
 *   cloud of up to 1000 servers whatever the number of hosts, and
 *   ceil(servers / 1000) for bigger ones (the per-host way would be 2 × hosts).
 *   Soft-deleted servers (not listed without a filter) are not counted: fine
 *   for an ordering.
 * 'given' and a single host make no request.
 */
import type { HostOrder } from '../policies/types.js';
import type { ComputeApi } from '../openstack/api.js';

export interface OrderedHosts {
  hosts: string[];
  /** Instances per host ('emptiest' only; {} for 'given'). */
  sizes: Record<string, number>;
}

export async function orderHosts(compute: ComputeApi, hosts: string[], order: HostOrder): Promise<OrderedHosts> {
  if (order === 'given' || hosts.length < 2) return { hosts: [...hosts], sizes: {} };
  const wanted = new Set(hosts);
  const sizes: Record<string, number> = Object.fromEntries(hosts.map((h) => [h, 0]));
  for (const s of await compute.listServers({ allProjects: true })) {
    if (s.host !== null && wanted.has(s.host)) sizes[s.host] = sizes[s.host]! + 1;
  }
  // Array.prototype.sort is stable: ties keep the given order.
  return { hosts: [...hosts].sort((a, b) => sizes[a]! - sizes[b]!), sizes };
}
